//! OpenAI `messages` to Converse `system` blocks and alternating `messages` turns.
//!
//! Converse wants the system prompt apart, turns that alternate between `user` and `assistant`
//! starting with `user`, no empty text, and tool results as `toolResult` blocks of a user turn
//! (before any other block of that turn, as Claude on Bedrock requires).

use serde_json::{Map, Value, json};

use crate::error::{ApiError, echo};

/// The translated conversation.
#[derive(Debug, Default)]
pub(super) struct Conversation {
    /// `system` blocks, `[{"text"}]`, from `system` and `developer` messages wherever they were.
    pub system: Vec<Value>,
    /// `messages`: `{"role","content"}` turns, alternating, non-empty.
    pub turns: Vec<Value>,
    /// Names of the tools the history's `toolUse` blocks call, in order of first use.
    pub used_tools: Vec<String>,
    /// The history carries `toolUse` or `toolResult` blocks (Converse then needs `toolConfig`).
    pub has_tool_blocks: bool,
}

/// A turn being built: consecutive messages of one role merge into it.
struct Turn {
    user: bool,
    /// The index of the first client message in it, for errors.
    first: usize,
    blocks: Vec<Value>,
}

/// Translates `messages` (already known to be present).
pub(super) fn translate(messages: &Value) -> Result<Conversation, ApiError> {
    let Some(list) = messages.as_array() else {
        return Err(invalid_type("messages", "an array of messages"));
    };
    let mut out = Conversation::default();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages[{i}]");
        let role = m.get("role").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid(
                "missing_required_parameter",
                Some(&format!("{at}.role")),
                format!("{at}.role is required: use system, developer, user, assistant or tool"),
            )
        })?;
        let (user, blocks) = match role {
            "system" | "developer" => {
                for text in texts(m.get("content"), &at, false)? {
                    out.system.push(json!({ "text": text }));
                }
                continue;
            }
            "user" => (true, user_blocks(m.get("content"), &at)?),
            "assistant" => (false, assistant_blocks(m, &at, &mut out)?),
            "tool" => (true, vec![tool_result(m, &at)?]),
            other => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&format!("{at}.role")),
                    format!(
                        "role {} is not supported by this model's API: use system, developer, user, assistant or tool",
                        echo(other)
                    ),
                ));
            }
        };
        out.has_tool_blocks |=
            blocks.iter().any(|b| b.get("toolUse").is_some() || b.get("toolResult").is_some());
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(t) if t.user == user => merge(t, blocks),
            _ => {
                let mut t = Turn { user, first: i, blocks: Vec::new() };
                merge(&mut t, blocks);
                turns.push(t);
            }
        }
    }
    match turns.first() {
        None => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some("messages"),
                "'messages' has no user or assistant content: send at least one non-empty user message",
            ));
        }
        Some(t) if !t.user => {
            let at = format!("messages[{}]", t.first);
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&at),
                format!(
                    "{at} is the first turn and comes from the assistant: this model's API needs the conversation to start with a user message"
                ),
            ));
        }
        Some(_) => {}
    }
    out.turns = turns
        .into_iter()
        .map(|t| json!({ "role": if t.user { "user" } else { "assistant" }, "content": t.blocks }))
        .collect();
    Ok(out)
}

/// Adds `blocks` to a turn, keeping its `toolResult` blocks ahead of the others.
fn merge(turn: &mut Turn, blocks: Vec<Value>) {
    for b in blocks {
        if b.get("toolResult").is_some() {
            let at = turn.blocks.iter().take_while(|x| x.get("toolResult").is_some()).count();
            turn.blocks.insert(at, b);
        } else {
            turn.blocks.push(b);
        }
    }
}

/// The non-empty texts of a `string | [{"type":"text","text"}]` content (`refusal` parts too,
/// when `refusals`: an assistant's earlier refusal is what it said).
fn texts(content: Option<&Value>, at: &str, refusals: bool) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    match content {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Array(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                let here = format!("{at}.content[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => out.push(str_field(p, "text", &here)?.to_string()),
                    Some("refusal") if refusals => out.push(str_field(p, "refusal", &here)?.to_string()),
                    other => return Err(unsupported_part(&here, other, "text")),
                }
            }
        }
        Some(_) => return Err(invalid_type(&format!("{at}.content"), "a string or an array of text parts")),
    }
    out.retain(|t| !t.is_empty());
    Ok(out)
}

fn user_blocks(content: Option<&Value>, at: &str) -> Result<Vec<Value>, ApiError> {
    let parts = match content {
        Some(Value::Array(parts)) => parts,
        Some(Value::String(_)) => {
            return Ok(texts(content, at, false)?.into_iter().map(|t| json!({ "text": t })).collect());
        }
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "missing_required_parameter",
                Some(&format!("{at}.content")),
                format!("{at}.content is required for role 'user'"),
            ));
        }
        Some(_) => {
            return Err(invalid_type(&format!("{at}.content"), "a string or an array of content parts"));
        }
    };
    let mut out = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        let here = format!("{at}.content[{j}]");
        match p.get("type").and_then(Value::as_str) {
            Some("text") => {
                let t = str_field(p, "text", &here)?;
                if !t.is_empty() {
                    out.push(json!({ "text": t }));
                }
            }
            Some("image_url") => out.push(image(p, &here)?),
            other => return Err(unsupported_part(&here, other, "text or image_url")),
        }
    }
    Ok(out)
}

/// An `image_url` part with a base64 data URL as a Converse `image` block.
fn image(part: &Value, at: &str) -> Result<Value, ApiError> {
    let param = format!("{at}.image_url.url");
    let url = part.get("image_url").and_then(|u| u.get("url")).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid("missing_required_parameter", Some(&param), format!("{param} is required"))
    })?;
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&param),
            format!(
                "{param} must be a base64 data URL (data:image/png;base64,...): this model's API cannot fetch {}",
                echo(url)
            ),
        ));
    };
    let (mime, data) = rest.split_once(";base64,").unwrap_or(("", ""));
    let format = match mime.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&param),
                format!(
                    "{param} must be a base64 data URL of a png, jpeg, gif or webp image, not {}",
                    echo(rest.split(',').next().unwrap_or_default())
                ),
            ));
        }
    };
    if data.is_empty() {
        return Err(ApiError::invalid("invalid_value", Some(&param), format!("{param} has no image data")));
    }
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

fn assistant_blocks(m: &Value, at: &str, conv: &mut Conversation) -> Result<Vec<Value>, ApiError> {
    let mut out: Vec<Value> =
        texts(m.get("content"), at, true)?.into_iter().map(|t| json!({ "text": t })).collect();
    if m.get("function_call").is_some_and(|f| !f.is_null()) {
        return Err(ApiError::invalid(
            "unsupported_parameter",
            Some(&format!("{at}.function_call")),
            format!("{at}.function_call is the deprecated form of tool calls: send tool_calls"),
        ));
    }
    let calls = match m.get("tool_calls") {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(calls)) => calls,
        Some(_) => return Err(invalid_type(&format!("{at}.tool_calls"), "an array of tool calls")),
    };
    for (k, call) in calls.iter().enumerate() {
        let here = format!("{at}.tool_calls[{k}]");
        let id = str_field(call, "id", &here)?;
        let function = call.get("function").unwrap_or(&Value::Null);
        let name = str_field(function, "name", &format!("{here}.function"))?;
        let input = arguments(function.get("arguments"), &format!("{here}.function.arguments"))?;
        if !conv.used_tools.iter().any(|n| n == name) {
            conv.used_tools.push(name.to_string());
        }
        out.push(json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } }));
    }
    Ok(out)
}

/// A tool call's `arguments` string as the JSON object Converse takes as `input`. An empty
/// string is a call with no arguments (some clients send it for tools without parameters).
fn arguments(args: Option<&Value>, param: &str) -> Result<Value, ApiError> {
    let text = match args {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => "",
        Some(_) => return Err(invalid_type(param, "a string of JSON")),
    };
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(ApiError::invalid(
            "invalid_value",
            Some(param),
            format!(
                "{param} must be a JSON object (this model's API takes tool input as an object), not {}",
                echo(text)
            ),
        )),
    }
}

fn tool_result(m: &Value, at: &str) -> Result<Value, ApiError> {
    let id = m.get("tool_call_id").and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{at}.tool_call_id")),
            format!("{at}.tool_call_id is required for role 'tool'"),
        )
    })?;
    let content: Vec<Value> =
        texts(m.get("content"), at, false)?.into_iter().map(|t| json!({ "text": t })).collect();
    Ok(json!({ "toolResult": { "toolUseId": id, "content": content } }))
}

/// The string member `key` of `v`, or a 400 naming `at.key`.
pub(super) fn str_field<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, ApiError> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{at}.{key}")),
            format!("{at}.{key} is required"),
        )),
        Some(_) => Err(invalid_type(&format!("{at}.{key}"), "a string")),
    }
}

/// A 400 `invalid_type` for `param`, saying what it must be.
pub(super) fn invalid_type(param: &str, what: &str) -> ApiError {
    ApiError::invalid("invalid_type", Some(param), format!("'{param}' must be {what}"))
}

fn unsupported_part(at: &str, kind: Option<&str>, valid: &str) -> ApiError {
    let param = format!("{at}.type");
    ApiError::invalid(
        "unsupported_value",
        Some(&param),
        format!(
            "content part type {} is not supported here by this model's API: use {valid}",
            echo(kind.unwrap_or("(none)"))
        ),
    )
}
