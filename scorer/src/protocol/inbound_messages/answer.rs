//! A chat answer in the Messages API's shapes: a `chat.completion` as a `message` object, any
//! error body as Anthropic's error object, and the parts the stream's events repeat (blocks,
//! stop reason, usage, a tool call's input).
//!
//! Choice 0 is the answer: its reasoning becomes a `thinking` block, its text and its refusal
//! a `text` block each, each tool call a `tool_use` block, in that order (as a stream tells
//! them), a call Gemini 3 signed after a `redacted_thinking` block carrying its signature
//! ([`signed_block`]). Chat's `prompt_tokens` counts the cache's reads and writes and Anthropic's
//! `input_tokens` does not, so they are taken out of it; the router's `cost` is dropped (the
//! router reports cost in a header).

use serde_json::{Value, json};

use crate::protocol::anthropic::response::THINKING_BLOCKS;
use crate::protocol::inbound::answer::Ids;
use crate::protocol::inbound::signature;
use crate::protocol::reply::STOP_REASON;

use super::Shown;

/// A `chat.completion` as a Messages `message` object; `None` for any other body.
pub fn to_message(chat: &[u8]) -> Option<Vec<u8>> {
    to_message_shown(chat, &Shown::default())
}

/// [`to_message`], shown as its request said ([`Shown`]).
pub fn to_message_shown(chat: &[u8], shown: &Shown) -> Option<Vec<u8>> {
    let hide_thinking = shown.hide_thinking;
    let v: Value = serde_json::from_slice(chat).ok()?;
    // Some OpenAI-compatible providers leave `object` out of a completion.
    match v.get("object").and_then(Value::as_str) {
        Some("chat.completion") => {}
        None if v.get("choices").is_some_and(Value::is_array) => {}
        _ => return None,
    }
    let ids = Ids::of(v.get("id").and_then(Value::as_str).unwrap_or_default());
    let choice = v.get("choices").and_then(Value::as_array).and_then(|c| c.iter().find(|c| first(c)));
    let message = choice.and_then(|c| c.get("message"));
    let text = |k: &str| message.and_then(|m| m.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut content = Vec::new();
    let signed = message.and_then(|m| m.get(THINKING_BLOCKS)).and_then(Value::as_array);
    let signed = signed.map_or(&[][..], Vec::as_slice);
    // Claude's signed blocks hold its thinking's text; beside carried reasoning of another
    // kind (an OpenAI model's, encrypted), or none, the text is the reasoning the answer said.
    if !signed.iter().any(|b| b.get("type").and_then(Value::as_str) == Some("thinking"))
        && let Some(r) = text("reasoning_content").or_else(|| text("reasoning")).filter(|_| !hide_thinking)
    {
        content.push(thinking_block(r));
    }
    content.extend(signed.iter().filter_map(signed_thinking));
    let said = content_text(message);
    content.extend([said.as_deref(), text("refusal")].into_iter().flatten().map(text_block));
    let calls = message.and_then(|m| m.get("tool_calls")).and_then(Value::as_array);
    for (n, call) in calls.into_iter().flatten().enumerate() {
        fn s<'a>(v: Option<&'a Value>, k: &str) -> Option<&'a str> {
            v.and_then(|v| v.get(k)).and_then(Value::as_str)
        }
        let f = call.get("function");
        let id = s(Some(call), "id")
            .filter(|id| !id.is_empty())
            .map_or_else(|| tool_use_id(&ids, n), str::to_string);
        let input = input(s(f, "arguments").unwrap_or_default());
        if let Some(signature) = signature::of_call(call) {
            content.push(signed_block(&id, signature));
        }
        content.push(tool_use_block(&id, s(f, "name").unwrap_or_default(), input));
    }
    let finish = choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str);
    let said = choice.and_then(|c| c.get(STOP_REASON)).and_then(Value::as_str);
    let calls = calls.is_some_and(|c| !c.is_empty());
    let (stop_reason, stop_sequence) = stopped(finish, said, calls, text("refusal").is_some());
    let object = json!({
        "id": message_id(&ids),
        "type": "message",
        "role": "assistant",
        "model": named(&shown.model, &v),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage(v.get("usage").unwrap_or(&Value::Null)),
    });
    serde_json::to_vec(&object).ok()
}

/// The model an answer names: the one its client asked for, else the completion's.
pub(super) fn named<'a>(asked: &'a str, completion: &'a Value) -> &'a str {
    match asked {
        "" => completion.get("model").and_then(Value::as_str).unwrap_or_default(),
        asked => asked,
    }
}

/// The choice that is the answer: index 0 (a choice without an index is taken for it).
pub(super) fn first(choice: &Value) -> bool {
    choice.get("index").and_then(Value::as_u64).unwrap_or(0) == 0
}

/// The `message`'s id, from the completion's (`chatcmpl-X` → `msg_X`).
pub(super) fn message_id(ids: &Ids) -> String {
    format!("msg_{}", ids.stem())
}

/// An id for the `n`th tool call when the provider gave none: the client answers it by it.
pub(super) fn tool_use_id(ids: &Ids, n: usize) -> String {
    format!("toolu_{}_{n}", ids.stem())
}

/// A `thinking` block. Its `signature` is empty: the reasoning is not Anthropic's, so there is
/// nothing to sign, and the SDKs' thinking block requires the member.
pub(super) fn thinking_block(thinking: &str) -> Value {
    json!({"type": "thinking", "thinking": thinking, "signature": ""})
}

/// A block of Claude's signed thinking ([`THINKING_BLOCKS`]) as Anthropic wrote it, and an
/// OpenAI model's encrypted reasoning as a `redacted_thinking` block carrying it (a Messages
/// client sends such a block back as it came, and the request reads it back); `None` for
/// anything else. A signed block's text stays when the client asked its thinking omitted: the
/// router asked Anthropic for it (summarized), and Anthropic refuses a signed block sent back
/// changed ("blocks must remain as they were in the original response").
pub(super) fn signed_thinking(block: &Value) -> Option<Value> {
    let s = |k: &str| block.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match s("type")? {
        "reasoning" => {
            s("encrypted_content")?;
            let entry = signature::without_index(block);
            Some(json!({"type": "redacted_thinking", "data": signature::thinking_carried(&[entry])}))
        }
        "thinking" => {
            let thinking = s("thinking").unwrap_or_default();
            Some(json!({"type": "thinking", "thinking": thinking, "signature": s("signature")?}))
        }
        "redacted_thinking" => Some(json!({"type": "redacted_thinking", "data": s("data")?})),
        _ => None,
    }
}

/// A `redacted_thinking` block carrying the thought signature Gemini 3 put on the call `id`:
/// the model wants it back with the call, and a Messages client sends such a block back as it
/// came (the request puts it on its call again). Without it the router's stand-in passes
/// Gemini's check but carries none of the model's reasoning.
pub(super) fn signed_block(id: &str, signature: &str) -> Value {
    json!({"type": "redacted_thinking", "data": signature::carried(id, signature)})
}

pub(super) fn text_block(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

pub(super) fn tool_use_block(id: &str, name: &str, input: Value) -> Value {
    json!({"type": "tool_use", "id": id, "name": name, "input": input})
}

/// A tool call's `arguments` as the `input` object Anthropic requires. Empty arguments (a call
/// with no parameters, as some providers send it) are `{}`; a JSON string holding an object
/// (arguments encoded twice) is that object. Anything else (not JSON, or not an object) is
/// `{"invalid_arguments": <the text as sent>}` rather than `{}`: an empty input could run a
/// tool whose parameters are all optional as if the model had asked for that, while this one
/// fails the tool's validation with the model's text in the error it reads back.
pub(super) fn input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    let parsed = serde_json::from_str::<Value>(arguments).ok();
    let parsed = match parsed {
        Some(Value::String(inner)) => serde_json::from_str(&inner).ok(),
        other => other,
    };
    match parsed {
        Some(object @ Value::Object(_)) => object,
        _ => json!({"invalid_arguments": arguments}),
    }
}

/// The Messages `stop_reason` for a chat `finish_reason`. An answer with tool calls stops for
/// them unless it was cut or filtered (some providers finish a call with `stop`); one that
/// refused (a chat `refusal`, OpenAI's under structured outputs, which finishes with `stop`)
/// stops for that, Anthropic's own signal: a client that asked for JSON parsed the refusal.
pub(super) fn stop_reason(finish: Option<&str>, calls: bool, refused: bool) -> &'static str {
    match crate::account::openai_finish(finish) {
        Some("length") => "max_tokens",
        Some("content_filter") => "refusal",
        _ if refused && !calls => "refusal",
        Some("tool_calls" | "function_call") => "tool_use",
        _ if calls => "tool_use",
        _ => "end_turn",
    }
}

/// The Messages `stop_reason` and `stop_sequence`: a stop sequence the provider said ended the
/// answer (`said`: vLLM's choice `stop_reason`, as the router's own translations write it) when
/// it ended as a turn does.
pub(super) fn stopped<'a>(
    finish: Option<&str>,
    said: Option<&'a str>,
    calls: bool,
    refused: bool,
) -> (&'static str, Option<&'a str>) {
    match (stop_reason(finish, calls, refused), said) {
        ("end_turn", Some(s)) => ("stop_sequence", Some(s)),
        (reason, _) => (reason, None),
    }
}

/// Chat usage in Messages terms (zeros for what it lacks): `input_tokens` without the cache's
/// reads (`prompt_tokens_details.cached_tokens`) and writes (`cache_write_tokens`, or its older
/// name `cache_creation_tokens`, where the router's translations write them: in
/// `prompt_tokens_details`, or at the top as some providers do).
pub(super) fn usage(chat: &Value) -> Value {
    let n = |at: Option<&Value>, k: &str| at.and_then(|v| v.get(k)).and_then(Value::as_u64);
    let details = chat.get("prompt_tokens_details");
    let read = n(details, "cached_tokens").unwrap_or(0);
    let write = ["cache_write_tokens", "cache_creation_tokens"]
        .iter()
        .find_map(|k| n(details, k).or_else(|| n(Some(chat), k)))
        .unwrap_or(0);
    let prompt = n(Some(chat), "prompt_tokens").unwrap_or(0);
    // Reasoning a provider counts outside `completion_tokens` (xAI's, Gemini's) is in the
    // total: output, as Anthropic counts its thinking.
    let total = n(Some(chat), "total_tokens").unwrap_or(0);
    json!({
        "input_tokens": prompt.saturating_sub(read).saturating_sub(write),
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "output_tokens": n(Some(chat), "completion_tokens").unwrap_or(0).max(total.saturating_sub(prompt)),
    })
}

/// The text of a message's (or a delta's) `content`: a string, or a list of text parts a
/// provider sent in its place; `None` when there is none.
pub(super) fn content_text(message: Option<&Value>) -> Option<std::borrow::Cow<'_, str>> {
    let text = match message?.get("content")? {
        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
        Value::Array(parts) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect(),
        _ => return None,
    };
    Some(text).filter(|t| !t.is_empty())
}

/// Any error answer (an OpenAI error body, the router's or a provider's, or any other text) as
/// Anthropic's error object, its `type` by `status` ([`kind`]). The message is the OpenAI
/// error's ([`said`]), else the body's text, else one naming the status. `translated`: the
/// request was made a chat body, whose members the error names by chat's names (the
/// translation's own refusals name the client's).
pub fn to_error(status: u16, body: &[u8], translated: bool) -> Vec<u8> {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let message = match v.as_ref().and_then(|v| v.get("error")) {
        Some(error @ Value::Object(_)) => said(error, translated),
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        _ => v.as_ref().and_then(|v| v.get("message")).and_then(Value::as_str).map(str::to_string),
    };
    let message = message
        .or_else(|| body_text(body))
        .unwrap_or_else(|| format!("the answer had status {status} and no error message"));
    error_object(kind(status), &message).to_string().into_bytes()
}

/// Anthropic's error `type` for an HTTP status: its documented ones; 502 (a provider failed)
/// is `api_error`, 503 (no deployment can serve now, or the provider is overloaded: the router
/// answers a provider's 529 with it) `overloaded_error`, 504 `timeout_error` (in the SDKs'
/// error types). The SDKs retry by status (408, 409, 429, 5xx), not by type, so the type
/// only tells the client what happened.
pub(super) fn kind(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        400..500 => "invalid_request_error",
        _ => "api_error",
    }
}

/// A chat error object that came in a stream, as an `error` event's data: its kind from its
/// `type` or `code` (no status to go by).
pub(super) fn stream_error(error: &Value) -> Value {
    let s = |k: &str| error.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let (kind, code) = (s("type").unwrap_or_default(), s("code").unwrap_or_default());
    let said_of = |word: &str| kind.contains(word) || code.contains(word);
    let kind = if said_of("rate_limit") || code == "429" {
        "rate_limit_error"
    } else if said_of("overloaded") || code == "529" {
        "overloaded_error"
    } else if kind == "invalid_request_error" {
        "invalid_request_error"
    } else {
        "api_error"
    };
    let message = said(error, true).unwrap_or_else(|| "the provider's stream failed".to_string());
    error_object(kind, &message)
}

/// Anthropic's error object.
pub(super) fn error_object(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// An OpenAI error object's message (else its code). Anthropic's error has no `param` or
/// `code`, and names the member at the head of its message (`messages.0.content: …`), so a
/// `param` the message does not already name is put there. A context overflow
/// (`context_length_exceeded`) is said in Anthropic's words, "prompt is too long", which
/// clients match to compact the conversation.
fn said(error: &Value, translated: bool) -> Option<String> {
    let s = |k: &str| error.get(k).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    let message = s("message").or_else(|| s("code"))?;
    // Named as the Messages client wrote them, not as the chat body they became.
    let mut message = message.to_string();
    let names = if translated { &MESSAGES_NAMES[..] } else { &[] };
    for (chat, theirs) in names.iter().filter(|(chat, _)| *chat != "stop") {
        message = renamed_word(&message, chat, theirs);
    }
    let renamed = s("param").map(|p| {
        // The first name the param starts with, whole (the longer names come first).
        let starts =
            |chat: &str| p.strip_prefix(chat).is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']));
        match names.iter().find(|(chat, _)| starts(chat)) {
            Some((chat, theirs)) => p.replacen(chat, theirs, 1),
            None => p.to_string(),
        }
    });
    let message = message.as_str();
    if s("code") == Some("context_length_exceeded") {
        if message.to_lowercase().contains("prompt is too long") {
            return Some(message.to_string());
        }
        return Some(format!("prompt is too long: {message}"));
    }
    Some(match renamed {
        Some(param) if !message.contains(&param) => format!("{param}: {message}"),
        _ => message.to_string(),
    })
}

/// `text` with `from` as a whole name (not inside a longer one) said `to`.
fn renamed_word(text: &str, from: &str, to: &str) -> String {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let (before, after) =
            (rest.get(..at).unwrap_or_default(), rest.get(at + from.len()..).unwrap_or_default());
        let whole = !part(before.chars().next_back()) && !part(after.chars().next());
        out.push_str(before);
        out.push_str(if whole { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Chat's names for the members a Messages request sends otherwise.
const MESSAGES_NAMES: [(&str, &str); 5] = [
    ("max_completion_tokens", "max_tokens"),
    ("reasoning_effort", "thinking"),
    // The chat body names the schema under `json_schema`; the Messages body, beside its type.
    ("response_format.json_schema.schema", "output_config.format.schema"),
    ("response_format", "output_config.format"),
    ("stop", "stop_sequences"),
];

/// Most of a body's text kept as a message, 1,000 characters: an HTML error page says what it
/// is in far fewer.
const MAX_TEXT: usize = 1_000;

/// A body's text, trimmed and cut at [`MAX_TEXT`]; `None` when it has none.
pub(super) fn body_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_TEXT).collect())
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
