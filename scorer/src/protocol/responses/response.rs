//! A Responses answer to the chat client: a Response object to a `chat.completion`, an error
//! body to the OpenAI error body, and what the stream half shares with them (finish reason,
//! usage, a failed response's error).

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::reply::{self, Meta, Tokens};
use crate::protocol::signed::{self, Family};

/// What the client reads of one answer's `output` items.
#[derive(Debug, Default)]
struct Said {
    /// Each assistant `message` item's `output_text` parts, joined.
    texts: Vec<String>,
    /// `refusal` parts, joined.
    refusal: String,
    /// `function_call` items as chat tool calls.
    tool_calls: Vec<Value>,
    /// Reasoning summary and reasoning text parts, in order.
    reasoning: Vec<String>,
    /// Reasoning items with their encrypted content, as `thinking_blocks` entries.
    thinking: Vec<Value>,
}

/// A native success body -> an OpenAI `chat.completion` (via reply::completion). Err: a message
/// for the log when the body is not the documented shape (the glue answers 502).
pub fn translate(body: &[u8], meta: &Meta) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("Responses answer is not JSON: {e}"))?;
    let status = v.get("status").and_then(Value::as_str).ok_or("Responses answer has no status")?;
    match status {
        "completed" | "incomplete" => {}
        "failed" => {
            let e = failure(v.get("error"));
            return Err(format!("Responses answer failed: {}", e.message));
        }
        other => return Err(format!("Responses answer has status '{other}', not completed or incomplete")),
    }
    let output = v.get("output").and_then(Value::as_array).ok_or("Responses answer has no output array")?;
    let said = read_output(output, meta)?;
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    let text = said.texts.join("\n\n");
    message.insert("content".into(), if said.texts.is_empty() { Value::Null } else { json!(text) });
    message.insert("refusal".into(), if said.refusal.is_empty() { Value::Null } else { json!(said.refusal) });
    if !said.tool_calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(said.tool_calls.clone()));
    }
    if meta.reasoning && !said.reasoning.is_empty() {
        message.insert("reasoning_content".into(), json!(said.reasoning.join("\n\n")));
    }
    if !said.thinking.is_empty() {
        message.insert(THINKING_BLOCKS.into(), Value::Array(said.thinking));
    }
    let finish = finish_reason(status == "incomplete", &v, !said.tool_calls.is_empty());
    Ok(reply::completion(meta, Value::Object(message), finish, tokens(&v)))
}

/// Reads the `output` items the client can see; built-in tool items (never requested) and
/// item types added later are skipped. A message a model labels `commentary` (`phase`; the
/// final one is `final_answer`) is not the answer when the client asked for JSON output
/// (`structured`: a schema, or `json_object`): it is reasoning then, as its words would make `content` unparseable.
fn read_output(output: &[Value], meta: &Meta) -> Result<Said, String> {
    let structured = meta.structured;
    let mut said = Said::default();
    // Reasoning entries not yet followed by the item they led to.
    let mut leading = 0;
    for item in output {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                leading = lead_to(&mut said.thinking, leading, "message");
                let parts =
                    item.get("content").and_then(Value::as_array).ok_or("a message item has no content")?;
                let mut text = String::new();
                for p in parts {
                    match p.get("type").and_then(Value::as_str) {
                        Some("output_text") => text.push_str(string(p, "text")?),
                        Some("refusal") => said.refusal.push_str(string(p, "refusal")?),
                        _ => {}
                    }
                }
                if !text.is_empty() {
                    let to =
                        if structured && is_commentary(item) { &mut said.reasoning } else { &mut said.texts };
                    to.push(text);
                }
            }
            Some("function_call") => {
                let (id, name) = (string(item, "call_id")?, string(item, "name")?);
                leading = lead_to(&mut said.thinking, leading, &format!("call:{id}"));
                let arguments = item.get("arguments").and_then(Value::as_str).filter(|a| !a.is_empty());
                said.tool_calls.push(json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments.unwrap_or("{}")},
                }));
            }
            Some("reasoning") => {
                said.thinking.extend(carried(item, &meta.model));
                for key in ["summary", "content"] {
                    for p in item.get(key).and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                        let t = string(p, "text")?;
                        if !t.is_empty() {
                            said.reasoning.push(t.to_string());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(said)
}

/// A reasoning item as the `thinking_blocks` entry a chat client sends back
/// ([`THINKING_BLOCKS`]): its id, summary and encrypted content, tagged with `model`
/// ([`crate::protocol::signed`]); `None` without encrypted content or an id.
pub(super) fn carried(item: &Value, model: &str) -> Option<Value> {
    let s = |k: &str| item.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (id, encrypted) = (s("id")?, s("encrypted_content")?);
    let summary = item.get("summary").filter(|s| s.is_array()).cloned().unwrap_or_else(|| json!([]));
    Some(json!({
        "type": "reasoning",
        "id": id,
        "summary": summary,
        "encrypted_content": signed::tagged(Family::OpenAi, model, encrypted),
    }))
}

/// Notes on the reasoning entries from `from` on the item they led to (`before`: `message`,
/// or `call:<call_id>`): OpenAI takes a reasoning item back only directly before that item
/// ([`super::input`]). Returns where the entries not yet followed start.
pub(super) fn lead_to(entries: &mut [Value], from: usize, before: &str) -> usize {
    for e in entries.iter_mut().skip(from) {
        if let Some(o) = e.as_object_mut() {
            o.insert("before".into(), json!(before));
        }
    }
    entries.len()
}

/// A message item the model labelled commentary, not its final answer.
pub(super) fn is_commentary(item: &Value) -> bool {
    item.get("phase").and_then(Value::as_str) == Some("commentary")
}

/// The string member `key` of `v`, or why the answer is not the documented shape.
fn string<'v>(v: &'v Value, key: &str) -> Result<&'v str, String> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| format!("an output part has no string '{key}'"))
}

/// The chat finish reason of a Response object: an `incomplete` one says why in
/// `incomplete_details` (`content_filter`, or `length` for the output limit and any reason not
/// given), a finished answer that called tools `tool_calls`, else `stop`.
pub(super) fn finish_reason(incomplete: bool, response: &Value, tool_calls: bool) -> &'static str {
    if incomplete {
        let reason = response.get("incomplete_details").and_then(|d| d.get("reason")).and_then(Value::as_str);
        return if reason == Some("content_filter") { "content_filter" } else { "length" };
    }
    if tool_calls { "tool_calls" } else { "stop" }
}

/// A Response object's `usage` as [`Tokens`]: `input_tokens` already counts the cached ones.
pub(super) fn tokens(response: &Value) -> Option<Tokens> {
    let u = response.get("usage")?;
    let detail = |group: &str, key: &str| u.get(group).and_then(|d| d.get(key)).and_then(Value::as_u64);
    Some(Tokens {
        prompt: u.get("input_tokens")?.as_u64()?,
        completion: u.get("output_tokens")?.as_u64()?,
        cache_read: detail("input_tokens_details", "cached_tokens").unwrap_or(0),
        cache_write: detail("input_tokens_details", "cache_write_tokens").unwrap_or(0),
        cache_write_1h: 0,
        reasoning: detail("output_tokens_details", "reasoning_tokens").unwrap_or(0),
    })
}

/// Response error codes that blame the request (the rest of the documented list,
/// `server_error` and `vector_store_timeout`, blame the provider).
const REQUEST_CODES: [&str; 4] =
    ["bio_policy", "data_residency_mismatch", "empty_image_file", "failed_to_download_image"];

/// A failed response's `error` (`{"code","message"}`, also the shape of the stream's `error`
/// event) as the error the client gets: rate limits as 429s, context overflow and the
/// request's faults as 400s, the rest as the provider's failure. The code is kept in the
/// message.
pub(super) fn failure(error: Option<&Value>) -> ApiError {
    let field = |k: &str| error.and_then(|e| e.get(k)).and_then(Value::as_str);
    let code = field("code").unwrap_or("no code");
    let said: String = field("message").unwrap_or("no message").chars().take(500).collect();
    if code.contains("rate_limit") {
        ApiError::rate_limited(format!("the provider is rate limited: {said}"))
    } else if code == "context_length_exceeded" || says_context(&said) {
        ApiError::invalid(
            "context_length_exceeded",
            Some("messages"),
            format!("the provider refused the request: {said}"),
        )
    } else if code.starts_with("invalid_")
        || code.starts_with("image_")
        || code.starts_with("unsupported_")
        || REQUEST_CODES.contains(&code)
    {
        ApiError::invalid(
            "provider_rejected_request",
            None,
            format!("the provider refused the request ({code}): {said}"),
        )
    } else {
        ApiError::server(502, "upstream_failed", format!("the provider failed ({code}): {said}"))
    }
}

/// A native error body (any status >= 400) -> the OpenAI error body (via reply::provider_error), the provider's message kept.
pub fn error(status: u16, body: &[u8]) -> Vec<u8> {
    let said = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("error").and_then(|e| e.get("message")).and_then(Value::as_str).map(str::to_string)
    });
    // Another shape (a proxy's page, a gateway's JSON): its text says more than nothing.
    let message =
        said.or_else(|| Some(String::from_utf8_lossy(body).trim().to_string()).filter(|s| !s.is_empty()));
    reply::provider_error(status, message.as_deref(), is_context_error(status, body))
}

/// The provider said the input overflows the model's context window (so the router may
/// retry on a model with a larger window).
pub fn is_context_error(status: u16, body: &[u8]) -> bool {
    if !(400..500).contains(&status) {
        return false;
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let e = v.get("error");
    let field = |k: &str| e.and_then(|e| e.get(k)).and_then(Value::as_str).unwrap_or_default();
    field("code") == "context_length_exceeded" || says_context(field("message"))
}

/// OpenAI's wordings for an input over the window: "Your input exceeds the context window of
/// this model" (Responses) and "This model's maximum context length is ..." (chat).
pub(crate) const CONTEXT_PHRASES: [&str; 2] = ["exceeds the context window", "maximum context length"];

fn says_context(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    CONTEXT_PHRASES.iter().any(|p| m.contains(p))
}

#[cfg(test)]
mod tests;
