//! The response half: a Messages `message` to a `chat.completion`, an Anthropic error body to
//! the OpenAI one.

use serde_json::{Map, Value, json};

use super::{finish_reason, matched};
use crate::protocol::reply::{self, Meta, Tokens};
use crate::protocol::signed::{Family, tagged};

pub use crate::parse::messages::THINKING_BLOCKS;

/// Anthropic usage in OpenAI's terms. Anthropic's `input_tokens` leaves out the tokens read
/// from and written to the cache, so the prompt is their sum. Of the writes, those to the
/// one-hour cache (`cache_control.ttl: "1h"`, priced at twice the input) are in
/// `cache_creation.ephemeral_1h_input_tokens`. Of the output, the thinking is in
/// `output_tokens_details.thinking_tokens` (OpenAI's `reasoning_tokens`). `None` without
/// `input_tokens` or `output_tokens`.
pub(super) fn tokens(usage: &Value) -> Option<Tokens> {
    let n = |name: &str| usage.get(name).and_then(Value::as_u64);
    let cache_read = n("cache_read_input_tokens").unwrap_or(0);
    let cache_write = n("cache_creation_input_tokens").unwrap_or(0);
    let cache_write_1h = usage
        .get("cache_creation")
        .and_then(|c| c.get("ephemeral_1h_input_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(cache_write);
    let completion = n("output_tokens")?;
    let reasoning = usage
        .get("output_tokens_details")
        .and_then(|d| d.get("thinking_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(completion);
    Some(Tokens {
        prompt: n("input_tokens")?.saturating_add(cache_read).saturating_add(cache_write),
        completion,
        cache_read,
        cache_write,
        cache_write_1h,
        reasoning,
    })
}

/// A Messages success body -> an OpenAI `chat.completion`. Err (for the log) when the body
/// is not a `message` with a `content` list.
pub fn translate(body: &[u8], meta: &Meta) -> Result<Vec<u8>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("Anthropic response is not JSON: {e}"))?;
    if v.get("type").and_then(Value::as_str) != Some("message") {
        return Err("Anthropic response is not a message (no \"type\":\"message\")".into());
    }
    let Some(blocks) = v.get("content").and_then(Value::as_array) else {
        return Err("Anthropic message has no content list".into());
    };
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut calls = Vec::new();
    let mut signed = Vec::new();
    for b in blocks {
        let s = |name: &str| b.get(name).and_then(Value::as_str).unwrap_or_default();
        match s("type") {
            "text" => text.get_or_insert_with(String::new).push_str(s("text")),
            "thinking" => {
                reasoning.get_or_insert_with(String::new).push_str(s("thinking"));
                if !s("signature").is_empty() {
                    let signature = tagged(Family::Claude, &meta.model, s("signature"));
                    signed
                        .push(json!({"type": "thinking", "thinking": s("thinking"), "signature": signature}));
                }
            }
            "redacted_thinking" if !s("data").is_empty() => {
                signed.push(json!({"type": "redacted_thinking", "data": tagged(Family::Claude, &meta.model, s("data"))}));
            }
            "tool_use" => {
                let input = b.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(json!({
                    "id": s("id"),
                    "type": "function",
                    "function": {"name": s("name"), "arguments": input.to_string()},
                }));
            }
            // Server tool blocks have no OpenAI form.
            _ => {}
        }
    }
    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    message.insert("content".into(), json!(text));
    message.insert("refusal".into(), Value::Null);
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    // An empty thinking block says nothing (the stream sends nothing for it either).
    if let Some(r) = reasoning.filter(|r| meta.reasoning && !r.is_empty()) {
        message.insert("reasoning_content".into(), json!(r));
    }
    // The signed thinking, for a client to send back on a turn that continues the tool calls
    // (see [`THINKING_BLOCKS`]).
    if meta.reasoning && !signed.is_empty() {
        message.insert(THINKING_BLOCKS.into(), Value::Array(signed));
    }
    let finish =
        finish_reason(v.get("stop_reason").and_then(Value::as_str), message.contains_key("tool_calls"));
    let usage = v.get("usage").and_then(tokens);
    Ok(reply::completion_stopped(meta, Value::Object(message), finish, matched(&v), usage))
}

/// The `error.type` and `error.message` of an Anthropic error body
/// (`{"type":"error","error":{"type","message"}}`).
pub(super) fn error_parts(body: &[u8]) -> (Option<String>, Option<String>) {
    let v: Value = serde_json::from_slice(body).unwrap_or_default();
    let e = v.get("error");
    let s = |name: &str| e.and_then(|e| e.get(name)).and_then(Value::as_str).map(str::to_string);
    (s("type"), s("message"))
}

/// Phrasings of Anthropic's context-window overflow (lower case): "prompt is too long: 208310
/// tokens > 200000 maximum", and "input length and `max_tokens` exceed context limit: 180000
/// + 64000 > 200000, decrease input length or `max_tokens` and try again".
pub(crate) const CONTEXT_PHRASES: [&str; 4] =
    ["prompt is too long", "exceed context limit", "exceeds the context window", "context window exceeded"];

/// A native error body (status >= 400) -> the OpenAI error body, the provider's message kept
/// (its error type in front, so `overloaded_error` reads as such).
pub fn error(status: u16, body: &[u8]) -> Vec<u8> {
    let (kind, message) = error_parts(body);
    let said = match (kind, message) {
        (Some(k), Some(m)) => Some(format!("{k}: {m}")),
        (None, Some(m)) => Some(m),
        (Some(k), None) => Some(k),
        (None, None) => None,
    };
    reply::provider_error(status, said.as_deref(), is_context_error(status, body))
}

/// The provider said the input overflows the model's context window: a 400
/// `invalid_request_error` in one of its phrasings ([`CONTEXT_PHRASES`]).
pub fn is_context_error(status: u16, body: &[u8]) -> bool {
    if status != 400 {
        return false;
    }
    let (kind, message) = error_parts(body);
    let message = message.unwrap_or_default().to_lowercase();
    kind.as_deref() == Some("invalid_request_error") && CONTEXT_PHRASES.iter().any(|p| message.contains(p))
}
