//! The request's `tools` in their chat shapes: each function nested under `function`, and a
//! namespace's functions each under one name joining the namespace's and its own
//! ([`names`](super::super::names)). A member of these objects the translation does not know
//! is refused, as at the top level: each asks something of the answer.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::{kind, missing, name, unknown, unsupported, unsupported_member, wrong_type};
use super::tree::{Node, object};
use crate::error::{ApiError, echo};
use crate::parse::fields::plain_tool_name;
use crate::protocol::inbound::names::{MAX_NAME, checked, namespace_name};

/// The tools a request declares, as chat takes them.
#[derive(Debug, Default)]
pub(super) struct Tools {
    /// Chat's `tools` (`None`: none are left).
    pub(super) list: Option<Node>,
    /// The types of the hosted tools left out (the configuration's `responses.drop_tools`),
    /// each once, in the request's order.
    pub(super) dropped: Vec<String>,
    /// Each chat tool's place in the request (`tools[1]`, `tools[0].tools[2]`), for errors
    /// about one; empty when every chat tool stands where the request has it.
    pub(super) paths: Vec<String>,
    /// The functions declared, in chat's order.
    pub(super) declared: Vec<Declared>,
}

/// A function the request declares.
#[derive(Debug)]
pub(super) struct Declared {
    /// Its chat name.
    pub(super) chat: String,
    /// Its namespace and own name, when it is a namespace's.
    pub(super) namespaced: Option<(String, String)>,
    /// A custom tool's, which chat calls with its input in one string ([`custom`]).
    pub(super) custom: bool,
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
    for (i, t) in list.into_iter().enumerate() {
        let at = || format!("tools[{i}]");
        match kind(&t, &at)?.as_deref() {
            Some("namespace") => namespace(t, &at, drop, &mut out, &mut functions)?,
            Some(hosted) if drop.iter().any(|d| d == hosted) => out.drop(hosted),
            Some("custom") => {
                let f = custom(t, &at)?;
                out.declare(function_name(&f).to_string(), None, at());
                if let Some(d) = out.declared.last_mut() {
                    d.custom = true;
                }
                functions.push(f);
            }
            _ => {
                let f = tool(t, &at)?;
                out.declare(function_name(&f).to_string(), None, at());
                functions.push(f);
            }
        }
    }
    out.refuse_collisions()?;
    if out.paths.iter().enumerate().all(|(n, p)| *p == format!("tools[{n}]")) {
        out.paths = Vec::new();
    }
    out.list = (!functions.is_empty()).then_some(Node::Array(functions));
    Ok(out)
}

impl Tools {
    fn drop(&mut self, kind: &str) {
        if !self.dropped.iter().any(|d| d == kind) {
            self.dropped.push(kind.to_string());
        }
    }

    fn declare(&mut self, chat: String, namespaced: Option<(String, String)>, path: String) {
        self.declared.push(Declared { chat, namespaced, custom: false });
        self.paths.push(path);
    }

    /// Two functions chat would call by one name, one of them a namespace's (two plain ones
    /// of one name are the provider's to judge, as on chat): a 400 naming the second.
    fn refuse_collisions(&self) -> Result<(), ApiError> {
        let mut first: HashMap<&str, usize> = HashMap::with_capacity(self.declared.len());
        for (n, d) in self.declared.iter().enumerate() {
            let Some(&m) = first.get(d.chat.as_str()) else {
                first.insert(&d.chat, n);
                continue;
            };
            let other = self.declared.get(m).is_some_and(|o| o.namespaced.is_some());
            if d.namespaced.is_none() && !other {
                continue;
            }
            let (here, there) = (self.path(n), self.path(m));
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&format!("{here}.name")),
                format!(
                    "two tools are both named {} as chat-completions models see them (a namespace's \
                     functions are named namespace__name), here and at {there}.name: rename one",
                    echo(&d.chat)
                ),
            ));
        }
        Ok(())
    }

    fn path(&self, n: usize) -> &str {
        self.paths.get(n).map_or("tools", String::as_str)
    }
}

/// A `namespace` tool: its functions, each named `{namespace}__{name}` and described by the
/// namespace's description and then its own; those of a type in `drop` are left out.
fn namespace(
    mut t: Node,
    at: &dyn Fn() -> String,
    drop: &[String],
    out: &mut Tools,
    functions: &mut Vec<Node>,
) -> Result<(), ApiError> {
    let member = |key: &str| format!("{}.{key}", at());
    let ns = name(&mut t, "name", at)?;
    namespace_name(&ns, &member("name"))?;
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
        if let Some(hosted) = kind(&f, &at)?.filter(|k| drop.contains(k)) {
            out.drop(&hosted);
            continue;
        }
        let mut f = tool(f, &at)?;
        let own = function_name(&f).to_string();
        let full = checked(&ns, &own, &format!("{}.name", at()))?;
        if let Some(Node::Object(members)) = f.get_mut("function") {
            rename(members, &full, &about);
        }
        out.declare(full, Some((ns.clone(), own)), at());
        functions.push(f);
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
                    "tools of type {} are not supported: the router serves function and custom tools (run it in \
                     the client and declare it as one)",
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
            ("name", Node::Leaf(Value::String(s))) if plain_tool_name(s, MAX_NAME) => {}
            ("description", Node::Leaf(Value::String(_))) => {}
            ("parameters", Node::Object(_)) => {}
            ("strict", Node::Leaf(Value::Bool(_))) => {}
            ("name", Node::Leaf(Value::String(s))) if s.is_empty() => {
                return Err(missing(&param(), "send the function's name"));
            }
            ("name", Node::Leaf(Value::String(s))) => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&param()),
                    format!(
                        "function name {} may hold only letters, digits, _ and -, {MAX_NAME} at most (as the API \
                         takes it)",
                        echo(s)
                    ),
                ));
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

/// What a custom tool's function says of its one parameter.
const CUSTOM_INPUT: &str = "The tool's input, as free-form text.";

/// A `custom` tool (the Codex CLI's `apply_patch`: its input free-form text, perhaps in a
/// grammar) as the function chat calls with that text as its one `input` string; the text's
/// format (plain, or a Lark or regex grammar, which chat cannot enforce) is said in the
/// description. A call of it comes back as a `custom_tool_call` (`answer`).
fn custom(t: Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let member = |key: &str| format!("{}.{key}", at());
    let Node::Object(members) = t else { return Err(wrong_type(&at(), "an object", &t)) };
    let (mut tool_name, mut about, mut format) = (None, String::new(), ".".to_string());
    for (key, v) in members {
        match (key.as_str(), v) {
            ("type", _) | (_, Node::Leaf(Value::Null)) => {}
            ("name", Node::Leaf(Value::String(s))) if plain_tool_name(&s, MAX_NAME) => tool_name = Some(s),
            ("name", Node::Leaf(Value::String(s))) => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&member("name")),
                    format!(
                        "tool name {} may hold only letters, digits, _ and -, {MAX_NAME} at most (as the API takes it)",
                        echo(&s)
                    ),
                ));
            }
            ("description", Node::Leaf(Value::String(s))) => about = s,
            ("format", f @ Node::Object(_)) => format = custom_format(f, &|| member("format"))?,
            ("name" | "description", v) => return Err(wrong_type(&member(&key), "a string", &v)),
            ("format", v) => return Err(wrong_type(&member("format"), "an object", &v)),
            _ => return Err(unknown(&member(&key), "a custom tool takes name, description and format")),
        }
    }
    let Some(tool_name) = tool_name else { return Err(missing(&member("name"), "send the tool's name")) };
    let said = "Its input is free-form text, sent as the `input` string".to_string() + &format;
    let description = if about.is_empty() { said } else { format!("{about}\n\n{said}") };
    let input = object([("type", "string".into()), ("description", CUSTOM_INPUT.into())]);
    let parameters = object([
        ("type", "object".into()),
        ("properties", object([("input", input)])),
        ("required", Node::Array(vec!["input".into()])),
        ("additionalProperties", false.into()),
    ]);
    let function =
        object([("name", tool_name.into()), ("description", description.into()), ("parameters", parameters)]);
    Ok(object([("type", "function".into()), ("function", function)]))
}

/// A custom tool's `format` as the end of its description's sentence: nothing for plain text,
/// the grammar its input must match for a grammar.
fn custom_format(mut f: Node, at: &dyn Fn() -> String) -> Result<String, ApiError> {
    let member = |key: &str| format!("{}.{key}", at());
    match kind(&f, at)?.as_deref() {
        Some("text") => Ok(".".to_string()),
        Some("grammar") => {
            let syntax = name(&mut f, "syntax", at)?;
            if syntax != "lark" && syntax != "regex" {
                return Err(unsupported(&member("syntax"), "a grammar's syntax is lark or regex"));
            }
            let definition = name(&mut f, "definition", at)?;
            Ok(format!(", and must match this {syntax} grammar:\n{definition}"))
        }
        Some(_) => Err(unsupported(&member("type"), "a custom tool's format is text or grammar")),
        None => Err(missing(&member("type"), "send text or grammar")),
    }
}
