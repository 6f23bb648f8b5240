//! Reading a member, or the 400 naming it by its Responses path (`input[2].content[0].type`),
//! never by the chat member it would have become.

use serde_json::Value;

use super::tree::Node;
use crate::error::{ApiError, echo};
use crate::protocol::inbound::names::checked;
pub(crate) use crate::protocol::responses::invalid::missing;

/// A 400 `invalid_type`: `param` is not `want`.
pub(crate) fn wrong_type(param: &str, want: &str, got: &Node) -> ApiError {
    let got = match got {
        Node::Object(_) => "object",
        Node::Array(_) => "array",
        Node::Leaf(v) if v.is_string() => "string",
        Node::Leaf(v) if v.is_number() => "number",
        Node::Leaf(v) if v.is_boolean() => "boolean",
        Node::Leaf(_) => "null",
    };
    ApiError::invalid("invalid_type", Some(param), format!("'{param}' must be {want}, got {got}"))
}

/// A 400 `unsupported_value`: the value at `param` (a type, mostly) asks what the router
/// cannot give.
pub(crate) fn unsupported(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid("unsupported_value", Some(param), message)
}

/// A 400 `unsupported_parameter`: the member `param` asks what the router cannot give.
pub(crate) fn unsupported_member(param: &str, why: &str) -> ApiError {
    ApiError::invalid("unsupported_parameter", Some(param), format!("'{param}' is not supported: {why}"))
}

/// A 400 `unknown_parameter` for a member the translation does not know.
pub(crate) fn unknown(param: &str, hint: &str) -> ApiError {
    ApiError::invalid(
        "unknown_parameter",
        Some(param),
        format!("unrecognized request argument {}: {hint}", echo(param)),
    )
}

/// A string member, required.
pub(crate) fn string(item: &mut Node, key: &str, at: &dyn Fn() -> String) -> Result<String, ApiError> {
    match item.take(key) {
        Some(Node::Leaf(Value::String(s))) => Ok(s),
        None => Err(missing(&format!("{}.{key}", at()), "send a string")),
        Some(other) => Err(wrong_type(&format!("{}.{key}", at()), "a string", &other)),
    }
}

/// A string member, required and not empty (an id, a name).
pub(crate) fn name(item: &mut Node, key: &str, at: &dyn Fn() -> String) -> Result<String, ApiError> {
    let s = string(item, key, at)?;
    if s.is_empty() {
        return Err(missing(&format!("{}.{key}", at()), "send a non-empty string"));
    }
    Ok(s)
}

/// An optional member that must be a string (`None`: absent or `null`).
pub(crate) fn optional_string(v: Option<Node>, param: &dyn Fn() -> String) -> Result<Option<Node>, ApiError> {
    match v {
        None => Ok(None),
        Some(s @ Node::Leaf(Value::String(_))) => Ok(Some(s)),
        Some(other) => Err(wrong_type(&param(), "a string", &other)),
    }
}

/// The type member of an item, part or tool, owned (`None`: absent or `null`).
pub(crate) fn kind(item: &Node, at: &dyn Fn() -> String) -> Result<Option<String>, ApiError> {
    match item.get("type") {
        None => Ok(None),
        Some(t) if t.is_null() => Ok(None),
        Some(t) => match t.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(wrong_type(&format!("{}.type", at()), "a string", t)),
        },
    }
}

/// `name` as chat knows it: joined with the item's `namespace` member (a function call's, a
/// choice's), when it names one.
pub(crate) fn in_namespace(
    item: &mut Node,
    name: String,
    at: &dyn Fn() -> String,
) -> Result<String, ApiError> {
    let param = || format!("{}.namespace", at());
    match item.take("namespace") {
        None => Ok(name),
        Some(Node::Leaf(Value::String(ns))) if ns.is_empty() => Ok(name),
        Some(Node::Leaf(Value::String(ns))) => checked(&ns, &name, &param()),
        Some(other) => Err(wrong_type(&param(), "a string", &other)),
    }
}
