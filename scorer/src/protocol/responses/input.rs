//! Chat `messages` to Responses `input` items, one or more per message, in order.
//!
//! User, system and developer messages become `message` items whose content is a list of
//! `input_text`, `input_image` and `input_file` parts. An assistant message becomes a
//! `message` item with plain-string content (the `EasyInputMessage` form, which needs no
//! output-item ids) followed by one `function_call` item per tool call; a tool message
//! becomes a `function_call_output` item. A message's `name` has no Responses equivalent and
//! is dropped.

use serde_json::{Map, Value, json};

use super::invalid::{missing, wrong_type};
use crate::error::{ApiError, echo};

/// `messages` as Responses `input` items.
pub(super) fn input_items(messages: &Value) -> Result<Value, ApiError> {
    let Some(list) = messages.as_array() else {
        return Err(wrong_type("messages", "an array of messages"));
    };
    if list.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("messages"),
            "'messages' is empty: send at least one message",
        ));
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages[{i}]");
        let Some(m) = m.as_object() else {
            return Err(wrong_type(&at, "an object"));
        };
        match m.get("role").and_then(Value::as_str) {
            Some(role @ ("system" | "developer" | "user")) => {
                let content = parts(m.get("content"), &at)?;
                items.push(json!({"type": "message", "role": role, "content": content}));
            }
            Some("assistant") => assistant(m, &at, &mut items)?,
            Some("tool") => items.push(tool_result(m, &at)?),
            Some("function") => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&format!("{at}.role")),
                    "role 'function' is deprecated and not supported on this model: use tool messages",
                ));
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    "invalid_role",
                    Some(&format!("{at}.role")),
                    format!(
                        "role {} is not valid: use system, developer, user, assistant or tool",
                        echo(other)
                    ),
                ));
            }
            None => {
                return Err(missing(&format!("{at}.role"), "use system, developer, user, assistant or tool"));
            }
        }
    }
    Ok(Value::Array(items))
}

/// A user, system or developer message's content as input parts.
fn parts(content: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let list = match content {
        Some(Value::String(s)) => return Ok(json!([{"type": "input_text", "text": s}])),
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => {
            return Err(missing(&format!("{at}.content"), "send text or content parts"));
        }
        Some(_) => return Err(wrong_type(&format!("{at}.content"), "a string or an array of parts")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (j, p) in list.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        out.push(part(p, &at)?);
    }
    Ok(Value::Array(out))
}

/// One content part: `text`, `image_url` and `file` have Responses equivalents; audio and
/// anything else are refused.
fn part(p: &Value, at: &str) -> Result<Value, ApiError> {
    match p.get("type").and_then(Value::as_str) {
        Some("text") => Ok(json!({"type": "input_text", "text": text(p, at)?})),
        Some("image_url") => image(p.get("image_url"), &format!("{at}.image_url")),
        Some("file") => file(p.get("file"), &format!("{at}.file")),
        Some("input_audio") => Err(ApiError::invalid(
            "unsupported_value",
            Some(&format!("{at}.type")),
            "audio input is not supported on this model: send text, images or files",
        )),
        kind => Err(ApiError::invalid(
            "unsupported_value",
            Some(&format!("{at}.type")),
            format!(
                "content part type {} is not supported: use text, image_url or file",
                kind.map_or_else(|| "none".to_string(), echo)
            ),
        )),
    }
}

/// `{"url","detail"}` to `{"type":"input_image","image_url","detail"}`. Responses takes an
/// http(s) URL or a base64 data URL; `detail` is required there and defaults to `auto` in chat.
fn image(image_url: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let Some(o) = image_url.and_then(Value::as_object) else {
        return Err(missing(at, "send {\"url\": ...}"));
    };
    let param = format!("{at}.url");
    let url = match o.get("url") {
        Some(Value::String(u)) => u,
        None | Some(Value::Null) => return Err(missing(&param, "send an https URL or a data URL")),
        Some(_) => return Err(wrong_type(&param, "a string")),
    };
    let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
    let ok = match scheme.as_str() {
        "http" | "https" => {
            url.get(scheme.len()..).is_some_and(|rest| rest.len() > 3 && rest.starts_with("://"))
        }
        "data" => url.contains(";base64,"),
        _ => false,
    };
    if !ok {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&param),
            format!("image URL {} is not usable: send an http(s) URL or a base64 data URL", echo(url)),
        ));
    }
    let detail = match o.get("detail") {
        None | Some(Value::Null) => json!("auto"),
        Some(d @ Value::String(_)) => d.clone(),
        Some(_) => return Err(wrong_type(&format!("{at}.detail"), "a string")),
    };
    Ok(json!({"type": "input_image", "image_url": url, "detail": detail}))
}

/// `{"file_data","file_id","filename"}` to an `input_file` part with the same members.
fn file(file: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let Some(o) = file.and_then(Value::as_object) else {
        return Err(missing(at, "send file_data or file_id"));
    };
    let mut out = Map::new();
    out.insert("type".into(), json!("input_file"));
    for key in ["file_data", "file_id", "filename"] {
        match o.get(key) {
            None | Some(Value::Null) => {}
            Some(v @ Value::String(_)) => {
                out.insert(key.into(), v.clone());
            }
            Some(_) => return Err(wrong_type(&format!("{at}.{key}"), "a string")),
        }
    }
    if !out.contains_key("file_data") && !out.contains_key("file_id") {
        return Err(missing(&format!("{at}.file_data"), "send file_data or file_id"));
    }
    Ok(Value::Object(out))
}

/// An assistant turn: its text as one `message` item (left out when empty and the turn only
/// calls tools), then one `function_call` item per tool call.
fn assistant(m: &Map<String, Value>, at: &str, items: &mut Vec<Value>) -> Result<(), ApiError> {
    if m.get("function_call").is_some_and(|f| !f.is_null()) {
        return Err(ApiError::invalid(
            "unsupported_parameter",
            Some(&format!("{at}.function_call")),
            "function_call is deprecated and not supported on this model: use tool_calls",
        ));
    }
    let said = joined_text(m.get("content"), at)?;
    let calls = match m.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(_) => return Err(wrong_type(&format!("{at}.tool_calls"), "an array")),
    };
    if !said.is_empty() || calls.is_empty() {
        items.push(json!({"type": "message", "role": "assistant", "content": said}));
    }
    for (k, call) in calls.iter().enumerate() {
        let at = format!("{at}.tool_calls[{k}]");
        if call.get("type").and_then(Value::as_str).is_some_and(|t| t != "function") {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{at}.type")),
                "only function tool calls are supported on this model",
            ));
        }
        let id = required_string(call.get("id"), &format!("{at}.id"))?;
        let f = call.get("function");
        let name = required_string(f.and_then(|f| f.get("name")), &format!("{at}.function.name"))?;
        let arguments = match f.and_then(|f| f.get("arguments")) {
            None | Some(Value::Null) => "{}",
            Some(Value::String(a)) => a.as_str(),
            Some(_) => return Err(wrong_type(&format!("{at}.function.arguments"), "a JSON string")),
        };
        items.push(json!({"type": "function_call", "call_id": id, "name": name, "arguments": arguments}));
    }
    Ok(())
}

/// A tool message: the output of the call it names.
fn tool_result(m: &Map<String, Value>, at: &str) -> Result<Value, ApiError> {
    let call_id = required_string(m.get("tool_call_id"), &format!("{at}.tool_call_id"))?;
    let output = joined_text(m.get("content"), at)?;
    Ok(json!({"type": "function_call_output", "call_id": call_id, "output": output}))
}

/// Content that can only be text (assistant and tool turns): a string, or its text parts
/// joined; refusal parts are the model's earlier words about refusing and carry no text.
fn joined_text(content: Option<&Value>, at: &str) -> Result<String, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(list)) => {
            let mut out = String::new();
            for (j, p) in list.iter().enumerate() {
                let at = format!("{at}.content[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => out.push_str(text(p, &at)?),
                    Some("refusal") => {}
                    _ => {
                        return Err(ApiError::invalid(
                            "unsupported_value",
                            Some(&format!("{at}.type")),
                            "this message's content can only be text parts",
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(_) => Err(wrong_type(&format!("{at}.content"), "a string or an array of text parts")),
    }
}

/// A text part's `text`.
fn text<'v>(p: &'v Value, at: &str) -> Result<&'v str, ApiError> {
    match p.get("text") {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(missing(&format!("{at}.text"), "send the part's text")),
        Some(_) => Err(wrong_type(&format!("{at}.text"), "a string")),
    }
}

/// A required non-empty string member.
fn required_string<'v>(v: Option<&'v Value>, param: &str) -> Result<&'v str, ApiError> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(missing(param, "send a non-empty string")),
        Some(_) => Err(wrong_type(param, "a string")),
    }
}
