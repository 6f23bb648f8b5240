//! `tool_choice` in chat's shape: the modes as they are, a function as
//! `{"type":"function","function":{"name"}}`, and `allowed_tools` as chat's
//! `{"type":"allowed_tools","allowed_tools":{"mode","tools"}}`, each function named as chat
//! knows it (a namespace's by its joined name).

use serde_json::Value;

use super::fields::{in_namespace, kind, missing, unsupported, wrong_type};
use super::tools::Declared;
use super::tree::{Node, object};
use crate::error::{ApiError, echo};

const AT: &str = "tool_choice";

/// `tool_choice`, its functions named as the client wrote them (joined where a `namespace` is
/// given); [`resolve`] names the rest once the tools are read. An `allowed_tools` entry of a
/// type in `drop` is left out, as the tool is.
pub(super) fn tool_choice(value: Node, drop: &[String]) -> Result<Option<Node>, ApiError> {
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
            // A custom tool is a function to chat (`tools::custom`).
            Some("function" | "custom") => Ok(Some(function_choice(&mut o, &at)?)),
            Some("allowed_tools") => allowed_tools(o, drop).map(Some),
            None => Err(missing("tool_choice.type", "send function or allowed_tools")),
            Some(other) => Err(unsupported(
                "tool_choice.type",
                format!(
                    "tool_choice type {} is not supported: the router serves function and custom tools; use \
                     none, auto, required, a function, a custom tool or allowed_tools",
                    echo(other)
                ),
            )),
        },
        other => Err(wrong_type(AT, "a string or an object", &other)),
    }
}

/// `allowed_tools`: its functions, and each namespace as a marker [`resolve`] replaces with
/// the namespace's functions. Allowed tools of which none is left (each of a type left out)
/// allow no call: `none` in `auto` mode, a 400 in `required` mode.
fn allowed_tools(mut o: Node, drop: &[String]) -> Result<Node, ApiError> {
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
    let empty = list.is_empty();
    let mut allowed = Vec::with_capacity(list.len());
    for (i, mut t) in list.into_iter().enumerate() {
        let at = || format!("{AT}.tools[{i}]");
        match kind(&t, &at)?.as_deref() {
            // Where the client wrote it, for an error [`resolve`] finds (`at`, taken out there).
            Some("function" | "custom") => {
                let mut f = function_choice(&mut t, &at)?;
                if let Node::Object(members) = &mut f {
                    members.push(("at".into(), at().into()));
                }
                allowed.push(f);
            }
            Some("namespace") => {
                let ns = super::fields::name(&mut t, "name", &at)?;
                allowed.push(object([
                    ("type", "namespace".into()),
                    ("name", ns.into()),
                    ("at", at().into()),
                ]));
            }
            Some(hosted) if drop.iter().any(|d| d == hosted) => {}
            _ => {
                let why = "only function tools can be allowed: the router serves no hosted tools";
                return Err(unsupported(&format!("{}.type", at()), why));
            }
        }
    }
    if allowed.is_empty() && !empty {
        if mode == "auto" {
            return Ok("none".into());
        }
        return Err(ApiError::invalid(
            "invalid_value",
            Some("tool_choice.tools"),
            "tool_choice requires a call of an allowed tool, but every tool it allows is left out by this \
             gateway (responses.drop_tools): allow a function, or send auto or none",
        ));
    }
    let inner = object([("mode", mode.into()), ("tools", Node::Array(allowed))]);
    Ok(object([("type", "allowed_tools".into()), ("allowed_tools", inner)]))
}

/// `{"type":"function","name"}` as `{"type":"function","function":{"name"}}`; with a
/// `namespace`, named as chat knows that namespace's function.
fn function_choice(o: &mut Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let name = super::fields::name(o, "name", at)?;
    let spaced = o.get("namespace").and_then(Node::as_str).is_some_and(|ns| !ns.is_empty());
    let name = in_namespace(o, name, at)?;
    let mut f = object([("type", "function".into()), ("function", object([("name", name.into())]))]);
    // Named in a namespace: [`resolve`] checks the tools declare it (and takes the mark out).
    if let (true, Node::Object(members)) = (spaced, &mut f) {
        members.push((SPACED.into(), true.into()));
    }
    Ok(f)
}

/// The mark of a choice named with its `namespace`.
const SPACED: &str = "in_namespace";

/// Names the choice's functions as chat knows them, once the tools are read: a name no
/// function has but one namespace's function does (`spawn_agent` for
/// `multi_agent__spawn_agent`) is that function (several namespaces' is a 400); a namespace
/// allowed is its functions.
pub(super) fn resolve(choice: &mut Node, declared: &[Declared]) -> Result<(), ApiError> {
    if choice.get("type").and_then(Node::as_str) == Some("function") {
        return rename(choice, declared, "tool_choice.name");
    }
    let Some(Node::Array(list)) = choice.get_mut("allowed_tools").and_then(|a| a.get_mut("tools")) else {
        return Ok(());
    };
    let mut out = Vec::with_capacity(list.len());
    for mut t in std::mem::take(list) {
        let at = match &mut t {
            Node::Object(members) => members.iter().position(|(k, _)| k == "at").map(|n| members.remove(n).1),
            _ => None,
        };
        let at = at.and_then(|at| at.as_str().map(str::to_string)).unwrap_or_else(|| AT.to_string());
        if t.get("type").and_then(Node::as_str) != Some("namespace") {
            rename(&mut t, declared, &format!("{at}.name"))?;
            out.push(t);
            continue;
        }
        let ns = t.get("name").and_then(Node::as_str).unwrap_or_default();
        let functions: Vec<Node> = declared
            .iter()
            .filter(|d| d.namespaced.as_ref().is_some_and(|(n, _)| n == ns))
            .map(|d| {
                object([
                    ("type", "function".into()),
                    ("function", object([("name", d.chat.as_str().into())])),
                ])
            })
            .collect();
        if functions.is_empty() {
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&format!("{at}.name")),
                format!(
                    "no function of namespace {} is left to allow: tools declares none (or each is of a \
                     type this gateway leaves out)",
                    echo(ns)
                ),
            ));
        }
        out.extend(functions);
    }
    *list = out;
    Ok(())
}

/// A function choice's name as chat knows it: as written when a function has it, else the
/// one namespace's function of that name (a 400 naming `param` when several namespaces have
/// one).
fn rename(f: &mut Node, declared: &[Declared], param: &str) -> Result<(), ApiError> {
    let spaced = match f {
        Node::Object(members) => {
            members.iter().position(|(k, _)| k == SPACED).map(|n| members.remove(n)).is_some()
        }
        _ => false,
    };
    let Some(Node::Leaf(Value::String(name))) = f.get_mut("function").and_then(|f| f.get_mut("name")) else {
        return Ok(());
    };
    if declared.iter().any(|d| d.chat == *name) {
        return Ok(());
    }
    if spaced {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(param),
            format!("tool_choice names function {} of a namespace, which tools does not declare", echo(name)),
        ));
    }
    let mut found = declared.iter().filter(|d| d.namespaced.as_ref().is_some_and(|(_, own)| own == name));
    match (found.next(), found.next()) {
        (Some(d), None) => *name = d.chat.clone(),
        (Some(a), Some(b)) => {
            let ns = |d: &Declared| d.namespaced.as_ref().map_or_else(String::new, |(ns, _)| echo(ns));
            return Err(ApiError::invalid(
                "invalid_value",
                Some(param),
                format!(
                    "function {} is in namespaces {} and {}: send the namespace with its name",
                    echo(name),
                    ns(a),
                    ns(b)
                ),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The choice asks for a call: `required`, a function, or tools allowed in `required` mode.
pub(super) fn forces(choice: &Node) -> bool {
    match choice {
        Node::Leaf(Value::String(mode)) => mode == "required",
        o => match o.get("type").and_then(Node::as_str) {
            Some("function") => true,
            Some("allowed_tools") => {
                o.get("allowed_tools").and_then(|a| a.get("mode")).and_then(Node::as_str) == Some("required")
            }
            _ => false,
        },
    }
}

/// A client value for a message: a string quoted, anything else as JSON.
fn short(v: &Node) -> String {
    v.as_str().map_or_else(|| echo(&serde_json::to_string(v).unwrap_or_default()), echo)
}
