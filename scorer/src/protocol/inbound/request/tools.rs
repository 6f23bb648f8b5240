//! The request's tools in their chat shapes: `tools` (each function nested under `function`,
//! a namespace's functions each under one name joining the namespace's and its own) and
//! `tool_choice`. A member of these objects the translation does not know is refused, as at
//! the top level: each asks something of the answer.

use serde_json::Value;

use super::fields::{kind, missing, name, unknown, unsupported, unsupported_member, wrong_type};
use super::tree::{Node, object};
use crate::error::{ApiError, echo};
use crate::protocol::inbound::echo::{MAX_NAME, joined};

/// The tools a request declares, as chat takes them.
#[derive(Debug, Default)]
pub(super) struct Tools {
    /// Chat's `tools` (`None`: none are left).
    pub(super) list: Option<Node>,
    /// The types of the hosted tools left out (the configuration's `responses.drop_tools`),
    /// each once, in the request's order.
    pub(super) dropped: Vec<String>,
}

/// `tools`: each `{"type":"function","name",...}` as `{"type":"function","function":{...}}`,
/// its members in the client's order (`null` ones left out); a namespace's functions each
/// named `{namespace}__{name}` (the Codex CLI declares its sub-agent tools in one). Hosted
/// tools (web search, file search, code interpreter, MCP, computer use, shell, custom
/// grammars) run at OpenAI: refused, or left out where their type is in `drop`. An empty list
/// is left out (chat refuses `tools: []`).
///
/// A tool without `strict` stays without: Responses then makes the schema strict when it can,
/// which chat has no way to ask; sending `strict: true` would have schemas strict mode cannot
/// take refused, so chat's non-strict default is the nearer.
pub(super) fn tools(value: Node, drop: &[String]) -> Result<Tools, ApiError> {
    let list = match value {
        v if v.is_null() => return Ok(Tools::default()),
        Node::Array(list) => list,
        other => return Err(wrong_type("tools", "an array of tools", &other)),
    };
    let mut out = Tools::default();
    let mut functions = Vec::with_capacity(list.len());
    // Each name chat is given, whether it joins a namespace's, and where it was declared.
    let mut names: Vec<(String, bool, String)> = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let at = || format!("tools[{i}]");
        match kind(&t, &at)?.as_deref() {
            Some("namespace") => namespace(t, &at, &mut functions, &mut names)?,
            Some(hosted) if drop.iter().any(|d| d == hosted) => {
                if !out.dropped.iter().any(|d| d == hosted) {
                    out.dropped.push(hosted.to_string());
                }
            }
            _ => {
                let f = tool(t, &at)?;
                names.push((function_name(&f).to_string(), false, format!("{}.name", at())));
                functions.push(f);
            }
        }
    }
    for (n, (name, joins, at)) in names.iter().enumerate() {
        let earlier = names.iter().take(n).find(|(other, j, _)| other == name && (*j || *joins));
        if let Some((_, _, first)) = earlier {
            return Err(ApiError::invalid(
                "invalid_value",
                Some(at),
                format!(
                    "two tools are both named {} as chat-completions models see them (a namespace's \
                     functions are named namespace__name), here and at {first}: rename one",
                    echo(name)
                ),
            ));
        }
    }
    out.list = (!functions.is_empty()).then_some(Node::Array(functions));
    Ok(out)
}

/// A `namespace` tool: its functions, each named `{namespace}__{name}` and described by the
/// namespace's description and then its own.
fn namespace(
    mut t: Node,
    at: &dyn Fn() -> String,
    out: &mut Vec<Node>,
    names: &mut Vec<(String, bool, String)>,
) -> Result<(), ApiError> {
    let member = |key: &str| format!("{}.{key}", at());
    let ns = name(&mut t, "name", at)?;
    if !ns.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&member("name")),
            format!("namespace name {} may hold only letters, digits, _ and -", echo(&ns)),
        ));
    }
    let about = match t.take("description") {
        None => String::new(),
        Some(Node::Leaf(Value::String(s))) => s,
        Some(other) => return Err(wrong_type(&member("description"), "a string", &other)),
    };
    let list = match t.take("tools") {
        Some(Node::Array(list)) if !list.is_empty() => list,
        None | Some(Node::Array(_)) => {
            return Err(missing(&member("tools"), "send the namespace's function tools"));
        }
        Some(other) => return Err(wrong_type(&member("tools"), "an array of tools", &other)),
    };
    if let Node::Object(members) = &t
        && let Some((key, _)) = members.iter().find(|(k, v)| k != "type" && !v.is_null())
    {
        return Err(unknown(&member(key), "a namespace takes name, description and tools"));
    }
    for (j, f) in list.into_iter().enumerate() {
        let at = || format!("{}.tools[{j}]", at());
        let mut f = tool(f, &at)?;
        let full = joined(&ns, function_name(&f));
        if full.len() > MAX_NAME {
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&format!("{}.name", at())),
                format!(
                    "namespace {} and this function's name together ({}) are longer than the {MAX_NAME} \
                     characters a chat-completions tool name may have: shorten one",
                    echo(&ns),
                    echo(&full)
                ),
            ));
        }
        if let Some(Node::Object(members)) = f.get_mut("function") {
            rename(members, &full, &about);
        }
        names.push((full, true, format!("{}.name", at())));
        out.push(f);
    }
    Ok(())
}

/// A namespaced function's chat members: its joined `name`, and the namespace's description
/// before its own.
fn rename(members: &mut Vec<(String, Node)>, full: &str, about: &str) {
    let own = members.iter().position(|(k, _)| k == "description");
    match own.and_then(|at| members.get_mut(at)) {
        Some((_, v)) if !about.is_empty() => {
            let text = v
                .as_str()
                .filter(|s| !s.is_empty())
                .map_or_else(|| about.to_string(), |s| format!("{about}\n\n{s}"));
            *v = text.into();
        }
        Some(_) => {}
        None if !about.is_empty() => {
            let after = members.iter().position(|(k, _)| k == "name").map_or(0, |n| n + 1);
            members.insert(after, ("description".into(), about.into()));
        }
        None => {}
    }
    if let Some((_, v)) = members.iter_mut().find(|(k, _)| k == "name") {
        *v = full.into();
    }
}

/// The name of a function as [`tool`] wrote it.
fn function_name(f: &Node) -> &str {
    f.get("function").and_then(|f| f.get("name")).and_then(Node::as_str).unwrap_or_default()
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

/// A client value for a message: a string quoted, anything else as JSON.
fn short(v: &Node) -> String {
    v.as_str().map_or_else(|| echo(&serde_json::to_string(v).unwrap_or_default()), echo)
}
