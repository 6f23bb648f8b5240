//! `tools` and `tool_choice` as chat's.

use serde_json::Value;

use super::blocks::{SERVER_SIDE, cached};
use crate::error::{ApiError, echo};
use crate::protocol::inbound::request::fields::{missing, name, unknown, unsupported, wrong_type};
use crate::protocol::inbound::request::tree::{Node, object};

/// A tool as chat declares it, and its name when it is deferred (`defer_loading`: declared to
/// the model only once the conversation names it).
pub(super) type Tool = (Node, Option<String>);

/// `tools`: each custom tool as a chat function (`input_schema` its `parameters`, a
/// `cache_control` kept on the tool); Anthropic's server tools are refused. A deferred tool is
/// declared only once the conversation names it (a tool search's `tool_reference`, a call):
/// until then Anthropic keeps it from the model, and so does the router.
pub(super) fn tools(value: Node) -> Result<Vec<Tool>, ApiError> {
    let Node::Array(list) = value else {
        return Err(wrong_type("tools", "an array of tools", &value));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, mut tool) in list.into_iter().enumerate() {
        let at = || format!("tools[{i}]");
        if !tool.is_object() {
            return Err(wrong_type(&at(), "an object", &tool));
        }
        match tool.take("type").as_ref().map(|t| t.as_str().ok_or(t)) {
            None | Some(Ok("custom")) => {}
            Some(Ok(other)) => {
                let why = format!("the server tool {} is not supported: {SERVER_SIDE}", echo(other));
                return Err(unsupported(&format!("{}.type", at()), why));
            }
            Some(Err(t)) => return Err(wrong_type(&format!("{}.type", at()), "a string", t)),
        }
        let tool_name = name(&mut tool, "name", &at)?;
        let deferred = match tool.take("defer_loading") {
            None | Some(Node::Leaf(Value::Bool(false))) => None,
            Some(Node::Leaf(Value::Bool(true))) => Some(tool_name.clone()),
            Some(other) => return Err(wrong_type(&format!("{}.defer_loading", at()), "a boolean", &other)),
        };
        let mut function = vec![("name".to_string(), Node::from(tool_name))];
        match tool.take("description") {
            None => {}
            Some(d @ Node::Leaf(Value::String(_))) => function.push(("description".into(), d)),
            Some(other) => return Err(wrong_type(&format!("{}.description", at()), "a string", &other)),
        }
        let schema = match tool.take("input_schema") {
            Some(s) if s.is_object() => s,
            Some(other) => {
                return Err(wrong_type(&format!("{}.input_schema", at()), "a JSON Schema object", &other));
            }
            None => {
                return Err(missing(&format!("{}.input_schema", at()), "send the tool's input JSON Schema"));
            }
        };
        // Strict only when OpenAI's strict mode takes the schema as it is, as a format is
        // ([`super::strict_as_is`]): Anthropic's strict tools take optional members and objects
        // it closes itself, which OpenAI's strict mode refuses with a 400 no failover answers.
        let strict = match tool.take("strict") {
            None => None,
            Some(Node::Leaf(Value::Bool(s))) => Some(s && super::strict_as_is(&schema)),
            Some(other) => return Err(wrong_type(&format!("{}.strict", at()), "a boolean", &other)),
        };
        function.push(("parameters".into(), schema));
        if let Some(strict) = strict {
            function.push(("strict".into(), Node::from(strict)));
        }
        let mut chat = vec![
            ("type".to_string(), Node::from("function")),
            ("function".to_string(), Node::Object(function)),
        ];
        if let Some(cache) = cached(&mut tool, &at)? {
            chat.push(("cache_control".to_string(), cache));
        }
        if let Node::Object(rest) = &tool {
            // Hints for Anthropic's own tool runner, which change no call a model writes.
            let hints = ["eager_input_streaming", "input_examples"];
            if let Some((k, _)) = rest.iter().find(|(k, v)| !v.is_null() && !hints.contains(&k.as_str())) {
                return Err(unknown(
                    &format!("{}.{k}", at()),
                    "a tool has name, description and input_schema",
                ));
            }
        }
        out.push((Node::Object(chat), deferred));
    }
    Ok(out)
}

/// `tool_choice` as chat's (`any` is `required`), and `disable_parallel_tool_use` as
/// `parallel_tool_calls: false`.
pub(super) fn tool_choice(mut value: Node, out: &mut Vec<(String, Node)>) -> Result<(), ApiError> {
    if !value.is_object() {
        return Err(wrong_type("tool_choice", "an object", &value));
    }
    let choice = match value.take("type").as_ref().and_then(Node::as_str) {
        Some("auto") => Node::from("auto"),
        Some("any") => Node::from("required"),
        Some("none") => Node::from("none"),
        Some("tool") => {
            let function = name(&mut value, "name", &|| "tool_choice".to_string())?;
            object([("type", "function".into()), ("function", object([("name", function.into())]))])
        }
        _ => return Err(unsupported("tool_choice.type", "tool_choice's type is auto, any, tool or none")),
    };
    out.push(("tool_choice".into(), choice));
    match value.take("disable_parallel_tool_use") {
        None | Some(Node::Leaf(Value::Bool(false))) => {}
        Some(Node::Leaf(Value::Bool(true))) => out.push(("parallel_tool_calls".into(), false.into())),
        Some(other) => return Err(wrong_type("tool_choice.disable_parallel_tool_use", "a boolean", &other)),
    }
    Ok(())
}
