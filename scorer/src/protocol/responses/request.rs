//! The client's chat-completions body to a Responses request body.
//!
//! Every top-level chat field is one of: translated (moved or reshaped), passed through under
//! the same name, dropped (it cannot change the answer), or refused with a 400 when it asks
//! for something Responses cannot do. A field this translator does not know is refused too:
//! forwarding it could fail upstream, and dropping it could change what the client gets.

use serde_json::{Map, Value, json};

use super::input::input_items;
use super::invalid::wrong_type;
use super::options::{reasoning_object, reasoning_options, response_format, tool_choice, tools, tools_text};
use crate::catalog::DROPS_EFFORT_NONE;
use crate::error::{ApiError, echo};
use crate::parse::chat::ROUTER_FIELDS;
use crate::protocol::Native;
use crate::protocol::canonical::minified;
use crate::protocol::raw::{chat_members, integer, invalid_json, object_at};
use crate::protocol::tools::{write_body, written};

pub use crate::catalog::MIN_OUTPUT_TOKENS;

/// What `include` asks for: each reasoning item's encrypted content.
const ENCRYPTED_REASONING: &str = "reasoning.encrypted_content";

/// Fields copied as they are: Responses has each under the same name and meaning.
pub(crate) const PASSED: [&str; 10] = [
    "moderation",
    "parallel_tool_calls",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "safety_identifier",
    "service_tier",
    "temperature",
    "top_p",
    "user",
];

/// Fields left out: `store` (always `false` here), `stream_options` (usage always comes in
/// `response.completed`), `seed` (best effort in chat; Responses has none) and `prediction`
/// (a latency hint that never changes the answer), `metadata` (for stored responses: as on
/// the chat path, none is sent) and `extra_body` (Gemini's own, as on the chat path).
const DROPPED: [&str; 6] = ["extra_body", "metadata", "prediction", "seed", "store", "stream_options"];

/// Fields Responses has no equivalent for: each is accepted only when its value means "not
/// used" (the test beside it) and refused otherwise, with what to send instead.
const REFUSED: [Refused; 11] = [
    ("audio", is_null, "audio output is not available on this model: leave it out"),
    ("frequency_penalty", is_zero, "this model takes no penalties: send 0 or leave it out"),
    ("function_call", is_null, "functions are deprecated: use tools and tool_choice"),
    ("functions", is_empty, "functions are deprecated: use tools"),
    ("logit_bias", is_empty, "this model takes no logit bias: leave it out"),
    ("logprobs", is_false, "log probabilities are not available through this model: leave it out"),
    ("n", is_one, "this model returns one choice: send 1 or leave it out"),
    ("presence_penalty", is_zero, "this model takes no penalties: send 0 or leave it out"),
    ("stop", is_empty, "this model takes no stop sequences: leave it out"),
    ("top_logprobs", is_zero, "log probabilities are not available through this model: leave it out"),
    ("web_search_options", is_null, "web search is not available through this model: leave it out"),
];

/// A refused field: its name, the test for a value that asks for nothing, and what to send.
type Refused = (&'static str, fn(&Value) -> bool, &'static str);

/// The request path: `{base}/responses`, whatever the model or streaming.
pub fn path(base: &str, _upstream_model: &str, _stream: bool) -> String {
    format!("{}/responses", base.trim_end_matches('/'))
}

/// The client's OpenAI chat-completions body (bytes as received; it has been validated as
/// JSON and its `model`/router members like `prefer`, `tier` may be present: ignore router
/// members `prefer`, `tier`, and `model`) -> the provider's native request body.
pub fn translate(body: &[u8], to: &Native<'_>) -> Result<Vec<u8>, ApiError> {
    // `messages` holds its place: the members are handled in name order.
    let (mut chat, mut messages, tools_raw) = chat_members(body, true, Some("tools"))?;
    // Plain function tools are written from the body's text; others, and every error, go
    // through JSON values in name order.
    let tools_written = written(&mut chat, tools_raw, tools_text)?;
    let mut input = None;
    let mut out = Map::new();
    let mut text = Map::new();
    let mut reasoning = Map::new();
    out.insert("model".into(), json!(to.upstream_model));
    out.insert("store".into(), json!(false));
    // With nothing stored, the reasoning of a tool loop's earlier steps reaches the model only
    // as the encrypted content the client sends back (`thinking_blocks`).
    out.insert("include".into(), json!([ENCRYPTED_REASONING]));
    // Values are moved out, not copied (an agent's tools are tens of kilobytes every turn).
    let max_completion_tokens = chat.get("max_completion_tokens").is_some_and(|v| !v.is_null());
    for (key, mut owned) in chat {
        let key = key.as_str();
        let value = &owned;
        if key == "model" || ROUTER_FIELDS.contains(&key) || DROPPED.contains(&key) {
            continue;
        }
        if PASSED.contains(&key) {
            // A model of fixed sampling got only defaults (the route refused the rest), and
            // refuses the members themselves.
            let fixed = to.quirks.fixed_sampling && matches!(key, "temperature" | "top_p");
            if !value.is_null() && !fixed {
                out.insert(key.into(), owned);
            }
            continue;
        }
        if let Some((_, ok, why)) = REFUSED.iter().find(|(name, _, _)| *name == key) {
            if ok(value) {
                continue;
            }
            return Err(ApiError::invalid(
                "unsupported_parameter",
                Some(key),
                format!("'{key}' is not supported on {}: {why}", to.upstream_model),
            ));
        }
        match key {
            "messages" => input = Some(input_items(messages.take().flatten(), to.model)?),
            "modalities" if asks_audio(value) => {
                return Err(ApiError::invalid(
                    "unsupported_parameter",
                    Some("modalities"),
                    format!("audio output is not available on {}: ask for text only", to.upstream_model),
                ));
            }
            "modalities" => {}
            "stream" => match value {
                Value::Bool(true) => {
                    out.insert("stream".into(), json!(true));
                }
                Value::Bool(false) | Value::Null => {}
                _ => return Err(wrong_type("stream", "a boolean")),
            },
            "max_tokens" if max_completion_tokens => {}
            "max_tokens" | "max_completion_tokens" => {
                if let Some(n) = max_output(key, value, to.max_output)? {
                    out.insert("max_output_tokens".into(), json!(n));
                }
            }
            "tools" => {
                if let Some(t) = tools(owned.take())? {
                    out.insert("tools".into(), t);
                }
            }
            "tool_choice" => {
                if let Some(c) = tool_choice(value)? {
                    out.insert("tool_choice".into(), c);
                }
            }
            "reasoning" => reasoning_object(value, &mut reasoning)?,
            "reasoning_effort" => match value {
                Value::String(_) => {
                    reasoning.insert("effort".into(), value.clone());
                }
                Value::Null => {}
                _ => return Err(wrong_type("reasoning_effort", "a string")),
            },
            "response_format" => {
                if let Some(f) = response_format(value)? {
                    text.insert("format".into(), f);
                }
            }
            "verbosity" => match value {
                Value::String(_) => {
                    text.insert("verbosity".into(), value.clone());
                }
                Value::Null => {}
                _ => return Err(wrong_type("verbosity", "a string")),
            },
            other => {
                return Err(ApiError::invalid(
                    "unsupported_parameter",
                    Some(other),
                    format!(
                        "{} is not a chat-completions field this router can send to {}: leave it out",
                        echo(other),
                        to.upstream_model
                    ),
                ));
            }
        }
    }
    let Some(input) = input else {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some("messages"),
            "'messages' is required: send a non-empty array of messages",
        ));
    };
    reasoning_options(&mut reasoning);
    // `none` to a model that does not reason: no reasoning to ask about.
    if to.quirks.drops & DROPS_EFFORT_NONE != 0 && reasoning.get("effort").is_some_and(|e| e == "none") {
        reasoning.clear();
    }
    if !reasoning.is_empty() {
        out.insert("reasoning".into(), Value::Object(reasoning));
    }
    // The schema goes as the client wrote it, its members in the client's order (the order the
    // model writes the answer's members in); a JSON value would have put them in name order.
    let has_schema = text.get("format").and_then(|f| f.get("schema")).is_some_and(Value::is_object);
    let schema = has_schema.then(|| object_at(body, &["response_format", "json_schema", "schema"])).flatten();
    let mut text_raw = Vec::new();
    match schema {
        Some(schema) => write_replacing(&text, &["format", "schema"], &minified(schema.get()), &mut text_raw)
            .map_err(invalid_json)?,
        None if !text.is_empty() => {
            out.insert("text".into(), Value::Object(text));
        }
        None => {}
    }
    let raw: Vec<(&str, &[u8])> = [("tools", tools_written.as_deref()), ("text", Some(&text_raw[..]))]
        .into_iter()
        .filter_map(|(name, t)| Some((name, t.filter(|t| !t.is_empty())?)))
        .collect();
    write_body(&out, "input", &raw, body.len(), |w| serde_json::to_writer(w, &input))
}

/// Writes `map` as serde_json would, but the member at `path` (a member of a member of ...)
/// as the JSON text `raw`.
fn write_replacing(
    map: &Map<String, Value>,
    path: &[&str],
    raw: &str,
    w: &mut Vec<u8>,
) -> serde_json::Result<()> {
    w.push(b'{');
    for (i, (name, v)) in map.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        serde_json::to_writer(&mut *w, name)?;
        w.push(b':');
        match (path, v) {
            ([first], _) if first == name => w.extend_from_slice(raw.as_bytes()),
            ([first, rest @ ..], Value::Object(inner)) if first == name => {
                write_replacing(inner, rest, raw, w)?
            }
            _ => serde_json::to_writer(&mut *w, v)?,
        }
    }
    w.push(b'}');
    Ok(())
}

/// The output limit to send: the client's, capped at the model's limit and raised to the
/// API's minimum.
fn max_output(param: &str, value: &Value, model_limit: u64) -> Result<Option<u64>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    let n = integer(value).ok_or_else(|| {
        ApiError::invalid("invalid_value", Some(param), format!("'{param}' must be a non-negative integer"))
    })?;
    let capped = if model_limit > 0 { n.min(model_limit) } else { n };
    Ok(Some(capped.max(MIN_OUTPUT_TOKENS)))
}

/// `modalities` lists `audio`.
fn asks_audio(v: &Value) -> bool {
    v.as_array().is_some_and(|a| a.iter().any(|m| m == "audio"))
}

fn is_null(v: &Value) -> bool {
    v.is_null()
}

fn is_zero(v: &Value) -> bool {
    v.is_null() || v.as_f64() == Some(0.0)
}

fn is_false(v: &Value) -> bool {
    v.is_null() || *v == Value::Bool(false)
}

fn is_one(v: &Value) -> bool {
    v.is_null() || integer(v) == Some(1)
}

/// `null`, `""`, `[]` or `{}`.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
