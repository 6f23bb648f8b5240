//! The request's option objects in their chat shapes: `text` (`response_format` and
//! `verbosity`), `reasoning` (its effort) and `include` (`tools` are in `tools`, `tool_choice`
//! in `choice`). A member of these objects the translation does not know is refused, as at the
//! top level: each asks something of the answer.

use serde_json::Value;

use super::fields::{kind, missing, optional_string, unknown, unsupported_member, wrong_type};
use super::tree::{Node, object};
use crate::error::{ApiError, echo};

/// `include` names the log probabilities of the answer's text: chat's `logprobs`.
const LOGPROBS: &str = "message.output_text.logprobs";

/// `include` names reasoning's encrypted content.
const ENCRYPTED: &str = "reasoning.encrypted_content";

/// `text`: its `format` as `response_format` (`text` asks nothing and is left out) and its
/// `verbosity` as `verbosity`, pushed onto `out`.
pub(super) fn text(value: Node, out: &mut Vec<(String, Node)>) -> Result<(), ApiError> {
    let members = match value {
        v if v.is_null() => return Ok(()),
        Node::Object(members) => members,
        other => return Err(wrong_type("text", "an object", &other)),
    };
    for (key, v) in members {
        match key.as_str() {
            "format" => {
                if let Some(format) = response_format(v)? {
                    out.push(("response_format".into(), format));
                }
            }
            "verbosity" => {
                if let Some(v) =
                    optional_string(Some(v).filter(|v| !v.is_null()), &|| "text.verbosity".into())?
                {
                    out.push(("verbosity".into(), v));
                }
            }
            _ => return Err(unknown(&format!("text.{key}"), "text takes format and verbosity")),
        }
    }
    Ok(())
}

/// `text.format` as chat's `response_format`: `json_object` as it is, `json_schema` with its
/// `name`, `schema`, `strict` and `description` under `json_schema`.
fn response_format(value: Node) -> Result<Option<Node>, ApiError> {
    const AT: &str = "text.format";
    let at = || AT.to_string();
    if value.is_null() {
        return Ok(None);
    }
    let kind = kind(&value, &at)?;
    let Node::Object(members) = value else { return Err(wrong_type(AT, "an object", &value)) };
    match kind.as_deref() {
        Some("text") => return Ok(None),
        Some("json_object") => return Ok(Some(object([("type", "json_object".into())]))),
        Some("json_schema") => {}
        None => return Err(missing("text.format.type", "use text, json_object or json_schema")),
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some("text.format.type"),
                format!(
                    "text.format type {} is not valid: use text, json_object or json_schema",
                    echo(other)
                ),
            ));
        }
    }
    let mut schema = Vec::with_capacity(members.len());
    for (key, v) in members {
        let param = || format!("{AT}.{key}");
        match (key.as_str(), &v) {
            // A required member sent as null is found missing below.
            ("type", _) | (_, Node::Leaf(Value::Null)) => continue,
            ("name", Node::Leaf(Value::String(s))) if !s.is_empty() => {}
            ("description", Node::Leaf(Value::String(_))) => {}
            ("schema", Node::Object(_)) => {}
            ("strict", Node::Leaf(Value::Bool(_))) => {}
            ("name", Node::Leaf(Value::String(_))) => {
                return Err(missing(&param(), "send the format's name"));
            }
            ("name" | "description", _) => return Err(wrong_type(&param(), "a string", &v)),
            ("schema", _) => return Err(wrong_type(&param(), "a JSON Schema object", &v)),
            ("strict", _) => return Err(wrong_type(&param(), "a boolean", &v)),
            _ => {
                return Err(unknown(
                    &param(),
                    "a json_schema format takes name, schema, strict and description",
                ));
            }
        }
        schema.push((key, v));
    }
    for (key, what) in [("name", "send the format's name"), ("schema", "send the JSON Schema object")] {
        if !schema.iter().any(|(k, _)| k == key) {
            return Err(missing(&format!("{AT}.{key}"), what));
        }
    }
    Ok(Some(object([("type", "json_schema".into()), ("json_schema", Node::Object(schema))])))
}

/// `reasoning`: its `effort` (chat's `reasoning_effort`). Its `summary` (and the deprecated
/// `generate_summary`) is dropped: chat has no summaries to ask for; so is `context` (which
/// reasoning items a later turn shows the model: the router carries none between turns but
/// Gemini's thought signatures).
/// `mode` is taken when it asks the standard mode, and refused otherwise (`pro` runs at
/// OpenAI).
pub(super) fn effort(value: Node) -> Result<Option<Node>, ApiError> {
    let members = match value {
        v if v.is_null() => return Ok(None),
        Node::Object(members) => members,
        other => return Err(wrong_type("reasoning", "an object", &other)),
    };
    let mut effort = None;
    for (key, v) in members {
        match key.as_str() {
            "effort" => {
                effort = optional_string(Some(v).filter(|v| !v.is_null()), &|| "reasoning.effort".into())?
            }
            "summary" | "generate_summary" => {
                // What the answer's reasoning items say ([`crate::protocol::inbound::echo`]):
                // one of OpenAI's values, or null.
                let param = format!("reasoning.{key}");
                match v.as_str() {
                    _ if v.is_null() => {}
                    None => return Err(wrong_type(&param, "a string", &v)),
                    Some("auto" | "concise" | "detailed") => {}
                    Some(other) => {
                        return Err(ApiError::invalid(
                            "invalid_value",
                            Some(&param),
                            format!("{param} {} is not valid: use auto, concise or detailed", echo(other)),
                        ));
                    }
                }
            }
            "context" => {}
            "mode" if v.is_null() || v.as_str() == Some("standard") => {}
            "mode" => {
                return Err(unsupported_member(
                    "reasoning.mode",
                    "the router's models reason in their standard mode: send standard or leave it out",
                ));
            }
            _ => {
                return Err(unknown(
                    &format!("reasoning.{key}"),
                    "reasoning takes effort, summary, context and mode",
                ));
            }
        }
    }
    Ok(effort)
}

/// `include`: whether it asks for the answer's log probabilities, and for reasoning's
/// encrypted content (which carries Gemini's thought signatures: the router carries no other
/// reasoning between turns). What else it names is the output of hosted tools (refused where
/// asked for) or input echoed back.
pub(super) fn include(value: &Node) -> Result<Include, ApiError> {
    let list = match value {
        v if v.is_null() => return Ok(Include::default()),
        Node::Array(list) => list,
        other => return Err(wrong_type("include", "an array of strings", other)),
    };
    let mut asked = Include::default();
    for (i, v) in list.iter().enumerate() {
        match v.as_str() {
            Some(s) => {
                asked.logprobs |= s == LOGPROBS;
                asked.encrypted |= s == ENCRYPTED;
            }
            None => return Err(wrong_type(&format!("include[{i}]"), "a string", v)),
        }
    }
    Ok(asked)
}

/// What `include` asks that the router gives.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Include {
    /// The answer's log probabilities.
    pub(super) logprobs: bool,
    /// Reasoning's encrypted content: what carries a call's thought signature.
    pub(super) encrypted: bool,
}
