//! The request's option objects in their chat shapes: `tools` (nested under `function`),
//! `tool_choice`, `text` (`response_format` and `verbosity`), `reasoning` (its effort) and
//! `include`. A member of these objects the translation does not know is refused, as at the
//! top level: each asks something of the answer.

use serde_json::Value;

use super::fields::{kind, missing, optional_string, unknown, unsupported, unsupported_member, wrong_type};
use super::tree::{Node, object};
use crate::error::{ApiError, echo};

/// `include` names the log probabilities of the answer's text: chat's `logprobs`.
const LOGPROBS: &str = "message.output_text.logprobs";

/// `tools`: each `{"type":"function","name",...}` as `{"type":"function","function":{...}}`,
/// its members in the client's order (`null` ones left out). Hosted tools (web search, file
/// search, code interpreter, MCP, computer use, shell, custom grammars) run at OpenAI: refused.
/// An empty list is left out (chat refuses `tools: []`).
///
/// A tool without `strict` stays without: Responses then makes the schema strict when it can,
/// which chat has no way to ask; sending `strict: true` would have schemas strict mode cannot
/// take refused, so chat's non-strict default is the nearer.
pub(super) fn tools(value: Node) -> Result<Option<Node>, ApiError> {
    let list = match value {
        v if v.is_null() => return Ok(None),
        Node::Array(list) => list,
        other => return Err(wrong_type("tools", "an array of tools", &other)),
    };
    if list.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        out.push(tool(t, &|| format!("tools[{i}]"))?);
    }
    Ok(Some(Node::Array(out)))
}

fn tool(t: Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let member = |key: &str| format!("{}.{key}", at());
    match kind(&t, at)?.as_deref() {
        Some("function") => {}
        None if !t.is_object() => return Err(wrong_type(&at(), "an object", &t)),
        None => return Err(missing(&member("type"), "send function")),
        Some(other) => {
            return Err(unsupported(
                &member("type"),
                format!(
                    "tools of type {} are not supported: the router serves function tools (hosted tools run \
                     at OpenAI only; run it in the client and declare it as a function)",
                    echo(other)
                ),
            ));
        }
    }
    let Node::Object(members) = t else { return Err(wrong_type(&at(), "an object", &t)) };
    let mut function = Vec::with_capacity(members.len());
    for (key, v) in members {
        let param = || member(&key);
        match (key.as_str(), &v) {
            ("type", _) | (_, Node::Leaf(Value::Null)) => continue,
            ("name", Node::Leaf(Value::String(s))) if !s.is_empty() => {}
            ("description", Node::Leaf(Value::String(_))) => {}
            ("parameters", Node::Object(_)) => {}
            ("strict", Node::Leaf(Value::Bool(_))) => {}
            ("name", Node::Leaf(Value::String(_))) => {
                return Err(missing(&param(), "send the function's name"));
            }
            ("name" | "description", _) => return Err(wrong_type(&param(), "a string", &v)),
            ("parameters", _) => return Err(wrong_type(&param(), "a JSON Schema object", &v)),
            ("strict", _) => return Err(wrong_type(&param(), "a boolean", &v)),
            // Tool search's deferred loading, off, and no programmatic callers ask nothing; the
            // schema of what the function returns is a hint chat has no place for.
            ("defer_loading", Node::Leaf(Value::Bool(false))) | ("output_schema", _) => continue,
            ("allowed_callers", Node::Array(callers)) if callers.is_empty() => continue,
            ("defer_loading" | "allowed_callers", _) => {
                let why = "the router sends plain function tools: leave it out";
                return Err(unsupported_member(&param(), why));
            }
            _ => {
                return Err(unknown(
                    &param(),
                    "a function tool takes name, description, parameters and strict",
                ));
            }
        }
        function.push((key, v));
    }
    if !function.iter().any(|(k, _)| k == "name") {
        return Err(missing(&member("name"), "send the function's name"));
    }
    Ok(object([("type", "function".into()), ("function", Node::Object(function))]))
}

/// `tool_choice`: the modes as they are, a function as `{"type":"function","function":{"name"}}`,
/// and `allowed_tools` as chat's `{"type":"allowed_tools","allowed_tools":{"mode","tools"}}`.
pub(super) fn tool_choice(value: Node) -> Result<Option<Node>, ApiError> {
    const AT: &str = "tool_choice";
    let at = || AT.to_string();
    match value {
        v if v.is_null() => Ok(None),
        Node::Leaf(Value::String(mode)) => match mode.as_str() {
            "none" | "auto" | "required" => Ok(Some(mode.into())),
            _ => Err(ApiError::invalid(
                "invalid_value",
                Some(AT),
                format!("tool_choice {} is not valid: use none, auto, required or an object", echo(&mode)),
            )),
        },
        mut o @ Node::Object(_) => match kind(&o, &at)?.as_deref() {
            Some("function") => Ok(Some(function_choice(&mut o, &at)?)),
            Some("allowed_tools") => {
                let mode = match o.take("mode") {
                    Some(Node::Leaf(Value::String(m))) if m == "auto" || m == "required" => m,
                    Some(other) => {
                        return Err(ApiError::invalid(
                            "invalid_value",
                            Some("tool_choice.mode"),
                            format!("tool_choice.mode {} is not valid: use auto or required", short(&other)),
                        ));
                    }
                    None => return Err(missing("tool_choice.mode", "use auto or required")),
                };
                let list = match o.take("tools") {
                    Some(Node::Array(list)) => list,
                    None => return Err(missing("tool_choice.tools", "send the tools allowed")),
                    Some(other) => return Err(wrong_type("tool_choice.tools", "an array of tools", &other)),
                };
                let mut allowed = Vec::with_capacity(list.len());
                for (i, mut t) in list.into_iter().enumerate() {
                    let at = || format!("{AT}.tools[{i}]");
                    if kind(&t, &at)?.as_deref() != Some("function") {
                        let why = "only function tools can be allowed: the router serves no hosted tools";
                        return Err(unsupported(&format!("{}.type", at()), why));
                    }
                    allowed.push(function_choice(&mut t, &at)?);
                }
                let inner = object([("mode", mode.into()), ("tools", Node::Array(allowed))]);
                Ok(Some(object([("type", "allowed_tools".into()), ("allowed_tools", inner)])))
            }
            None => Err(missing("tool_choice.type", "send function or allowed_tools")),
            Some(other) => Err(unsupported(
                "tool_choice.type",
                format!(
                    "tool_choice type {} is not supported: the router serves function tools; use none, auto, \
                     required, a function or allowed_tools",
                    echo(other)
                ),
            )),
        },
        other => Err(wrong_type(AT, "a string or an object", &other)),
    }
}

/// `{"type":"function","name"}` as `{"type":"function","function":{"name"}}`.
fn function_choice(o: &mut Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let name = super::fields::name(o, "name", at)?;
    Ok(object([("type", "function".into()), ("function", object([("name", name.into())]))]))
}

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
/// reasoning items a later turn shows the model: the router carries none between turns).
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
            "summary" | "generate_summary" | "context" => {}
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

/// `include`: whether it asks for the answer's log probabilities. What else it names is the
/// output of hosted tools (refused where asked for), input echoed back, or reasoning's encrypted
/// content (none: the router carries no reasoning between turns).
pub(super) fn include(value: &Node) -> Result<bool, ApiError> {
    let list = match value {
        v if v.is_null() => return Ok(false),
        Node::Array(list) => list,
        other => return Err(wrong_type("include", "an array of strings", other)),
    };
    let mut logprobs = false;
    for (i, v) in list.iter().enumerate() {
        match v.as_str() {
            Some(s) => logprobs |= s == LOGPROBS,
            None => return Err(wrong_type(&format!("include[{i}]"), "a string", v)),
        }
    }
    Ok(logprobs)
}

/// A client value for a message: a string quoted, anything else as JSON.
fn short(v: &Node) -> String {
    v.as_str().map_or_else(|| echo(&serde_json::to_string(v).unwrap_or_default()), echo)
}
