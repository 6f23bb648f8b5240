//! A Converse answer to an OpenAI `chat.completion`, and a Bedrock error to the OpenAI error.

use serde_json::{Value, json};

use crate::parse::json::whole_number;
use crate::protocol::reply::{self, Meta, Tokens};

/// Phrases of Bedrock's (and its models') messages for an input longer than the context
/// window, lower-cased. Bedrock answers them as a `ValidationException` (400).
pub(crate) const CONTEXT_PHRASES: &[&str] = &[
    // Bedrock's own: "Input is too long for requested model."
    "input is too long",
    // Claude via Bedrock: "input length and `max_tokens` exceed context limit: 142422 + 64000 > 204658".
    "exceed context limit",
    // Bedrock for Claude by text size: "too many total text bytes".
    "too many total text bytes",
    // Claude via Bedrock: "prompt is too long: 903884 tokens > 200000 maximum".
    "prompt is too long",
    // Open-weight models served the OpenAI way: "This model's maximum context length is 202752 tokens".
    "maximum context length",
    // Amazon Nova: "Input Tokens Exceeded: Number of input tokens exceeds maximum length".
    "input tokens exceeds maximum length",
    "too many input tokens",
    "exceeds the context window",
    "context window exceeded",
    "model_context_window_exceeded",
];

/// The OpenAI finish reason for a Converse `stopReason`, given whether the answer carries tool
/// calls: some of Bedrock's models end a turn of tool calls with `end_turn`, or say `tool_use`
/// with none, and agents branch on `finish_reason`, so the calls decide between `tool_calls`
/// and `stop`.
pub(super) fn finish_reason(stop: &str, calls: bool) -> &'static str {
    match stop {
        "max_tokens" => "length",
        // The output ran into the end of the window: cut short, as `length` says.
        "model_context_window_exceeded" => "length",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ if calls => "tool_calls",
        // end_turn, stop_sequence, tool_use without a call and any future one.
        _ => "stop",
    }
}

/// Why an answer that ended with `stop` failed: Bedrock could not parse what the model wrote
/// (`malformed_model_output`, `malformed_tool_use`). What came is a fragment, often none, and
/// passed on as `stop` an agent took it as its final answer: the provider failed.
pub(super) fn malformed(stop: &str) -> Option<String> {
    stop.starts_with("malformed_").then(|| format!("Bedrock could not parse the model's output ({stop})"))
}

/// A Converse `usage` as [`Tokens`]: Bedrock's `inputTokens` counts only the uncached input
/// (total input = inputTokens + cacheReadInputTokens + cacheWriteInputTokens), so they are
/// added up for `prompt`.
///
/// `None` when it holds no input count, or a count that is not one (`"1000"`, `-1`, `12.5`;
/// `1000.0` is one): the answer is kept and charged as one without usage (its estimate).
pub(super) fn tokens(usage: &Value) -> Option<Tokens> {
    let count = |v: &Value| v.as_u64().or_else(|| v.is_f64().then(|| whole_number(&v.to_string())).flatten());
    let n = |k: &str| match usage.get(k) {
        None | Some(Value::Null) => Some(0),
        Some(v) => count(v),
    };
    let prompt = usage.get("inputTokens").and_then(count)?;
    let (cache_read, cache_write) = (n("cacheReadInputTokens")?, n("cacheWriteInputTokens")?);
    Some(Tokens {
        prompt: prompt.saturating_add(cache_read).saturating_add(cache_write),
        completion: n("outputTokens")?,
        cache_read,
        cache_write,
        cache_write_1h: 0,
        reasoning: 0,
    })
}

/// A native success body -> an OpenAI `chat.completion` (via reply::completion). Err: a message
/// for the log when the body is not the documented shape (the glue answers 502).
pub fn translate(body: &[u8], meta: &Meta) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("Converse response is not JSON: {e}"))?;
    let content = v
        .get("output")
        .and_then(|o| o.get("message"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .ok_or("Converse response has no output.message.content array")?;
    let stop = v.get("stopReason").and_then(Value::as_str).ok_or("Converse response has no stopReason")?;
    if let Some(why) = malformed(stop) {
        return Err(why);
    }
    let (mut text, mut reasoning, mut calls) = (String::new(), String::new(), Vec::new());
    for block in content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(tool) = block.get("toolUse") {
            let id = tool
                .get("toolUseId")
                .and_then(Value::as_str)
                .ok_or("Converse toolUse block has no toolUseId")?;
            let name =
                tool.get("name").and_then(Value::as_str).ok_or("Converse toolUse block has no name")?;
            let input = tool.get("input").cloned().unwrap_or_else(|| json!({}));
            calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": input.to_string() },
            }));
        } else if let Some(t) = block
            .get("reasoningContent")
            .and_then(|r| r.get("reasoningText"))
            .and_then(|r| r.get("text"))
            .and_then(Value::as_str)
        {
            reasoning.push_str(t);
        }
    }
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() { Value::Null } else { Value::String(text) },
        "refusal": null,
    });
    if let Some(obj) = message.as_object_mut() {
        if !calls.is_empty() {
            obj.insert("tool_calls".into(), Value::Array(calls));
        }
        if meta.reasoning && !reasoning.is_empty() {
            obj.insert("reasoning_content".into(), Value::String(reasoning));
        }
    }
    // Usage it cannot read leaves the answer whole (it was dropped, a 502, and its
    // provider's breaker fed, for a count written `"1000"`).
    let usage = v.get("usage").and_then(tokens);
    let calls = message.get("tool_calls").is_some();
    Ok(reply::completion(meta, message, finish_reason(stop, calls), usage))
}

/// The message of a Bedrock error body: `{"message"}` (`{"Message"}` from some front ends), or
/// the OpenAI-shaped `{"error":{"message"}}` of models served the OpenAI way.
fn message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let m = v.get("message").or_else(|| v.get("Message")).or_else(|| v.get("error")?.get("message"))?;
    m.as_str().map(str::to_string)
}

/// A native error body (any status >= 400) -> the OpenAI error body (via reply::provider_error), the provider's message kept.
pub fn error(status: u16, body: &[u8]) -> Vec<u8> {
    let said = message(body);
    reply::provider_error(status, said.as_deref(), is_context(status, said.as_deref()))
}

/// The provider said the input overflows the model's context window (so the router may
/// retry on a model with a larger window).
pub fn is_context_error(status: u16, body: &[u8]) -> bool {
    is_context(status, message(body).as_deref())
}

pub(super) fn is_context(status: u16, message: Option<&str>) -> bool {
    let Some(m) = message.filter(|_| (400..500).contains(&status)) else { return false };
    let m = m.to_lowercase();
    CONTEXT_PHRASES.iter().any(|p| m.contains(p))
}

#[cfg(test)]
mod tests;
