//! The chat request's option objects in their Responses shapes: `tools` (flattened),
//! `tool_choice`, `response_format` (under `text.format`) and the reasoning options.

use serde_json::{Map, Value, json};

use super::invalid::{missing, wrong_type};
use crate::error::{ApiError, echo};
use crate::parse::options::says_nothing;
use crate::protocol::canonical::write_literal;
use crate::protocol::raw::Json;
use crate::protocol::tools::{FunctionTool, function_tools, literal, schema_value, write_schema};

/// `tools`: each chat `{"type":"function","function":{...}}` becomes a flat Responses function
/// tool. `strict` is always sent: Responses takes a missing `strict` as `true`, chat as
/// `false`, and the client wrote chat. A tool without `parameters` takes no arguments.
pub(super) fn tools(value: Value) -> Result<Option<Value>, ApiError> {
    let list = match value {
        Value::Null => return Ok(None),
        Value::Array(list) if list.is_empty() => return Ok(None),
        Value::Array(list) => list,
        _ => return Err(wrong_type("tools", "an array of tools")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, mut tool) in list.into_iter().enumerate() {
        let at = format!("tools[{i}]");
        let kind = tool.get("type").and_then(Value::as_str);
        if kind != Some("function") {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{at}.type")),
                format!("tool type {} is not supported on this model: use function tools", quote(kind)),
            ));
        }
        let Some(mut f) = tool.get_mut("function").map(Value::take).filter(Value::is_object) else {
            return Err(missing(&format!("{at}.function"), "a function tool needs its function object"));
        };
        let name = name_in(f.get("name"), &format!("{at}.function.name"))?;
        let mut t = Map::new();
        t.insert("type".into(), json!("function"));
        t.insert("name".into(), json!(name));
        match f.get_mut("description").map(Value::take) {
            None | Some(Value::Null) => {}
            Some(d @ Value::String(_)) => {
                t.insert("description".into(), d);
            }
            Some(_) => return Err(wrong_type(&format!("{at}.function.description"), "a string")),
        }
        let strict = match f.get("strict") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(wrong_type(&format!("{at}.function.strict"), "a boolean")),
        };
        let Some(parameters) = schema_value(f.get_mut("parameters").map(Value::take), strict) else {
            return Err(wrong_type(&format!("{at}.function.parameters"), "a JSON schema object"));
        };
        t.insert("parameters".into(), parameters);
        t.insert("strict".into(), json!(strict));
        out.push(Value::Object(t));
    }
    Ok(Some(Value::Array(out)))
}

/// The tools written from the body's text as [`tools`] writes them, for plain function tools
/// with a name, an object or no `parameters`, a string or no `description` and a boolean or no
/// `strict` (`protocol::tools`); `None` leaves them to [`tools`].
pub(super) fn tools_text(raw: Json<'_>) -> Option<Vec<u8>> {
    let list = function_tools(raw)?;
    let mut out = Vec::with_capacity(raw.get().len());
    out.push(b'[');
    for FunctionTool { function, .. } in &list {
        if out.len() > 1 {
            out.push(b',');
        }
        let name = literal(function.get("name")).filter(|n| !n.is_empty())?;
        // Members in name order, as the map of JSON values is written.
        out.push(b'{');
        match function.get("description") {
            None => {}
            Some(d) if d.get() == "null" => {}
            d => {
                out.extend_from_slice(br#""description":"#);
                write_literal(literal(d)?, &mut out)?;
                out.push(b',');
            }
        }
        out.extend_from_slice(br#""name":"#);
        write_literal(name, &mut out)?;
        out.extend_from_slice(br#","parameters":"#);
        let strict: &[u8] = match function.get("strict").map(Json::get) {
            None | Some("null" | "false") => b"false",
            Some("true") => b"true",
            Some(_) => return None,
        };
        write_schema(function.get("parameters"), &mut out, strict == b"true")?;
        out.extend_from_slice(br#","strict":"#);
        out.extend_from_slice(strict);
        out.extend_from_slice(br#","type":"function"}"#);
    }
    out.push(b']');
    Some(out)
}

/// `tool_choice`: the three modes as they are, a named function as `{"type":"function","name"}`,
/// and `allowed_tools` with its function names flattened the same way.
pub(super) fn tool_choice(value: &Value) -> Result<Option<Value>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(mode) if ["none", "auto", "required"].contains(&mode.as_str()) => {
            Ok(Some(value.clone()))
        }
        Value::String(mode) => Err(ApiError::invalid(
            "invalid_value",
            Some("tool_choice"),
            format!("tool_choice {} is not valid: use none, auto, required or a function", echo(mode)),
        )),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name =
                    name_in(o.get("function").and_then(|f| f.get("name")), "tool_choice.function.name")?;
                Ok(Some(json!({"type": "function", "name": name})))
            }
            Some("allowed_tools") => allowed_tools(o.get("allowed_tools")).map(Some),
            kind => Err(ApiError::invalid(
                "unsupported_value",
                Some("tool_choice.type"),
                format!("tool_choice type {} is not supported on this model: use function", quote(kind)),
            )),
        },
        _ => Err(wrong_type("tool_choice", "a string or an object")),
    }
}

/// `{"type":"allowed_tools","allowed_tools":{"mode","tools"}}` to Responses'
/// `{"type":"allowed_tools","mode","tools":[{"type":"function","name"}]}`.
fn allowed_tools(value: Option<&Value>) -> Result<Value, ApiError> {
    const AT: &str = "tool_choice.allowed_tools";
    let Some(o) = value.and_then(Value::as_object) else {
        return Err(missing(AT, "send the mode and the tools allowed"));
    };
    let mode = o.get("mode").and_then(Value::as_str).unwrap_or_default();
    if mode != "auto" && mode != "required" {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&format!("{AT}.mode")),
            format!("{AT}.mode {} is not valid: use auto or required", echo(mode)),
        ));
    }
    let Some(list) = o.get("tools").and_then(Value::as_array) else {
        return Err(wrong_type(&format!("{AT}.tools"), "an array of tools"));
    };
    let mut names = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        if t.get("type").and_then(Value::as_str) != Some("function") {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{AT}.tools[{i}].type")),
                "only function tools can be allowed on this model",
            ));
        }
        let name = name_in(
            t.get("function").and_then(|f| f.get("name")),
            &format!("{AT}.tools[{i}].function.name"),
        )?;
        names.push(json!({"type": "function", "name": name}));
    }
    Ok(json!({"type": "allowed_tools", "mode": mode, "tools": names}))
}

/// `response_format` to `text.format`: `text` and `json_object` as they are, `json_schema`
/// with its `json_schema` members lifted beside `type`.
pub(super) fn response_format(value: &Value) -> Result<Option<Value>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    let Some(o) = value.as_object() else {
        return Err(wrong_type("response_format", "an object"));
    };
    match o.get("type").and_then(Value::as_str) {
        Some("text") => Ok(Some(json!({"type": "text"}))),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            const AT: &str = "response_format.json_schema";
            let Some(s) = o.get("json_schema").and_then(Value::as_object) else {
                return Err(missing(AT, "send the schema's name and schema"));
            };
            let mut f = Map::new();
            f.insert("type".into(), json!("json_schema"));
            f.insert("name".into(), json!(name_in(s.get("name"), &format!("{AT}.name"))?));
            match s.get("schema") {
                Some(schema @ Value::Object(_)) => f.insert("schema".into(), schema.clone()),
                _ => return Err(missing(&format!("{AT}.schema"), "send the JSON schema object")),
            };
            for key in ["description", "strict"] {
                if let Some(v) = s.get(key).filter(|v| !v.is_null()) {
                    f.insert(key.into(), v.clone());
                }
            }
            Ok(Some(Value::Object(f)))
        }
        kind => Err(ApiError::invalid(
            "invalid_value",
            Some("response_format.type"),
            format!(
                "response_format type {} is not valid: use text, json_object or json_schema",
                quote(kind)
            ),
        )),
    }
}

/// An OpenRouter-style `reasoning` object: its `effort` and `summary`, which Responses' own
/// `reasoning` takes under the same names. `reasoning_effort`, read after it (keys are read in
/// order), wins over its `effort`.
pub(super) fn reasoning_object(value: &Value, reasoning: &mut Map<String, Value>) -> Result<(), ApiError> {
    let o = match value {
        Value::Null => return Ok(()),
        Value::Object(o) => o,
        _ => return Err(wrong_type("reasoning", "an object")),
    };
    let effort = o.get("effort").is_some_and(|e| !e.is_null());
    for (key, v) in o {
        match (key.as_str(), v) {
            ("effort" | "summary", Value::String(_)) => {
                reasoning.insert(key.clone(), v.clone());
            }
            (_, v) if says_nothing(key, v, effort) && (key != "effort" || v.is_null()) => {}
            ("effort" | "summary", _) => return Err(wrong_type(&format!("reasoning.{key}"), "a string")),
            _ => {
                return Err(ApiError::invalid(
                    "unsupported_parameter",
                    Some(&format!("reasoning.{key}")),
                    format!("reasoning.{} is not supported on this model: use effort", echo(key)),
                ));
            }
        }
    }
    Ok(())
}

/// Asks for a reasoning summary when the client asked for reasoning: Responses returns no
/// reasoning text without one, and `reasoning_content` is made from it.
pub(super) fn reasoning_options(reasoning: &mut Map<String, Value>) {
    let thinks = reasoning.get("effort").and_then(Value::as_str).is_some_and(|e| e != "none");
    if thinks && !reasoning.contains_key("summary") {
        reasoning.insert("summary".into(), json!("auto"));
    }
}

/// A `name` member's non-empty string, or a 400 naming `param`.
fn name_in<'v>(name: Option<&'v Value>, param: &str) -> Result<&'v str, ApiError> {
    match name {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(missing(param, "send the function's name")),
        Some(_) => Err(wrong_type(param, "a string")),
    }
}

/// A client string for a message, or `none` when absent.
fn quote(s: Option<&str>) -> String {
    s.map_or_else(|| "none".to_string(), echo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tools::check;

    #[test]
    fn tools_written_from_the_text_are_the_tools_written_from_values() {
        check::text_path_agrees(9, tools_text, |v| serde_json::to_vec(&tools(v).ok()??).ok());
    }
}
