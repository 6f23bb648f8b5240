//! A chat request's function tools and `tool_choice` as the Messages API takes them.

use serde_json::{Map, Value, json};

use super::content::refuse;
use super::format::{self, Tally};
use crate::error::{ApiError, echo};
use crate::parse::fields::plain_tool_name;
use crate::protocol::canonical::{self, write_literal};
use crate::protocol::raw::Json;
use crate::protocol::tools::{
    FunctionTool, function_tools, literal, schema_value, tool_name_refused, write_schema,
};

use crate::protocol::tools::MESSAGES_TOOL_NAME as MAX_TOOL_NAME;

/// The tools written from the body's text as [`tools`] writes them, for plain function tools
/// with a name and an object or no `parameters` (`protocol::tools`); `None` leaves them to
/// [`tools`]. `strict`: the model takes strict tools, and the request's structured output
/// counts `format` toward Anthropic's limits ([`format::strict_tools`]).
pub(super) fn tools_text(raw: Json<'_>, strict: Option<Tally>) -> Option<Vec<u8>> {
    let list = function_tools(raw)?;
    let asked: Vec<_> = list
        .iter()
        .map(|t| {
            (t.function.get("strict").map(Json::get) == Some("true")).then(|| t.function.get("parameters"))
        })
        .collect();
    let mut strict = match strict {
        Some(format) => format::strict_tools(&asked, format),
        None => Vec::new(),
    }
    .into_iter();
    let mut out = Vec::with_capacity(raw.get().len());
    out.push(b'[');
    for FunctionTool { tool, function } in &list {
        let closed = strict.next().flatten();
        if out.len() > 1 {
            out.push(b',');
        }
        // A name the API refuses (or one in escapes) is the value path's to refuse.
        let name = literal(function.get("name")).filter(|n| plain_tool_name(n, MAX_TOOL_NAME))?;
        // Members in name order, as the map of JSON values is written (a schema's own, in the
        // client's: `write_schema`).
        out.push(b'{');
        if let Some(cache) = tool.get("cache_control").filter(|c| c.get().starts_with('{')) {
            out.extend_from_slice(br#""cache_control":"#);
            canonical::write(cache.get(), &mut out).then_some(())?;
            out.push(b',');
        }
        if let Some(description) = literal(function.get("description")) {
            out.extend_from_slice(br#""description":"#);
            write_literal(description, &mut out)?;
            out.push(b',');
        }
        out.extend_from_slice(br#""input_schema":"#);
        // A union at the root is the value path's to rewrite ([`joined_union`]), strict or not.
        if union_root(function.get("parameters")) {
            return None;
        }
        match &closed {
            Some(schema) => out.extend_from_slice(schema),
            None => write_schema(function.get("parameters"), &mut out, false)?,
        }
        out.extend_from_slice(br#","name":"#);
        write_literal(name, &mut out)?;
        if closed.is_some() {
            out.extend_from_slice(br#","strict":true"#);
        }
        out.push(b'}');
    }
    out.push(b']');
    Some(out)
}

/// The combinators a tool's schema may not have at its root on Claude ("input_schema does not
/// support oneOf, allOf, or anyOf at the top level", its 400), which OpenAI takes.
const ROOT_UNIONS: [&str; 3] = ["oneOf", "anyOf", "allOf"];

/// Whether `parameters` has one of [`ROOT_UNIONS`] at its root.
fn union_root(parameters: Option<Json<'_>>) -> bool {
    let members = parameters.and_then(|p| crate::protocol::raw::members(p).ok());
    members.is_some_and(|m| ROOT_UNIONS.iter().any(|k| m.get(k).is_some()))
}

/// A tool schema with a union at its root (an MCP server's zod union: one of `yaml` or `dir`)
/// as Claude takes it: the branches (a local `$ref` to `$defs` or `definitions` read where it
/// points) join their properties to the root's, a name two branches describe apart taking
/// either (`anyOf` of them: a discriminated union's `{"const": "create"}` and
/// `{"const": "delete"}` both stay choices), the root's own kept; required what an `allOf`'s
/// branches require (each must hold), or what every branch of a `oneOf` or `anyOf` does. The
/// tool's server still checks what it is sent. It was Claude's 400 on every turn of an agent
/// whose tool list held one, and no other candidate tried.
fn joined_union(schema: &mut Value) {
    let Some(root) = schema.as_object_mut() else { return };
    for key in ROOT_UNIONS {
        let Some(Value::Array(branches)) = root.remove(key) else { continue };
        let branches: Vec<Value> = branches.into_iter().map(|b| resolved(b, root)).collect();
        let mut described: Vec<(String, Vec<Value>)> = Vec::new();
        let mut required: Option<Vec<Value>> = None;
        for branch in branches {
            // A branch that is no object schema (`true`) requires nothing of the others.
            let Value::Object(mut branch) = branch else {
                required = required.filter(|_| key == "allOf").or(Some(Vec::new()));
                continue;
            };
            if let Some(Value::Object(props)) = branch.remove("properties") {
                for (name, prop) in props {
                    match described.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, seen)) if !seen.contains(&prop) => seen.push(prop),
                        Some(_) => {}
                        None => described.push((name, vec![prop])),
                    }
                }
            }
            let needed = match branch.remove("required") {
                Some(Value::Array(needed)) => needed,
                _ => Vec::new(),
            };
            required = Some(match required {
                // Each of an `allOf` holds: all it requires; one of the others: what all do.
                Some(mut all) if key == "allOf" => {
                    all.extend(needed.into_iter().filter(|n| !all.contains(n)).collect::<Vec<_>>());
                    all
                }
                Some(all) => all.into_iter().filter(|n| needed.contains(n)).collect(),
                None => needed,
            });
        }
        if let Value::Object(joined) = root.entry("properties").or_insert_with(|| json!({})) {
            for (name, mut seen) in described {
                let prop = if seen.len() == 1 { seen.remove(0) } else { json!({ "anyOf": seen }) };
                joined.entry(name).or_insert(prop);
            }
        }
        let needed = required.unwrap_or_default();
        if !needed.is_empty()
            && let Value::Array(all) = root.entry("required").or_insert_with(|| json!([]))
        {
            for name in needed {
                if !all.contains(&name) {
                    all.push(name);
                }
            }
        }
    }
}

/// A union's branch, a local `$ref` (`#/$defs/A`, `#/definitions/A`) read where it points in
/// `root`; any other branch as it is.
fn resolved(branch: Value, root: &Map<String, Value>) -> Value {
    let target = branch.get("$ref").and_then(Value::as_str).and_then(|r| {
        let (defs, name) = r
            .strip_prefix("#/$defs/")
            .map(|n| ("$defs", n))
            .or_else(|| r.strip_prefix("#/definitions/").map(|n| ("definitions", n)))?;
        root.get(defs)?.get(name).filter(|d| d.is_object()).cloned()
    });
    target.unwrap_or(branch)
}

/// `tools` as `{name, description, input_schema}` (and `strict`, as [`tools_text`] writes it);
/// whether there are any. The tools are moved out of `req`, not copied: an agent's schemas
/// are tens of kilobytes on every turn.
pub(super) fn tools(
    req: &mut Map<String, Value>,
    out: &mut Map<String, Value>,
    strict: Option<Tally>,
) -> Result<bool, ApiError> {
    let list = match req.remove("tools") {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Array(list)) if list.is_empty() => return Ok(false),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(refuse("tools", "tools must be an array")),
    };
    let mut strict = strict_values(&list, strict).into_iter();
    let mut native = Vec::with_capacity(list.len());
    for (k, mut t) in list.into_iter().enumerate() {
        let closed = strict.next().flatten();
        if t.get("type").and_then(Value::as_str) != Some("function") {
            return Err(refuse(&format!("tools[{k}].type"), "only function tools are supported"));
        }
        let mut f = match t.get_mut("function").map(Value::take) {
            Some(Value::Object(f)) => f,
            _ => Map::new(),
        };
        let name = match f.remove("name") {
            Some(Value::String(name)) if !plain_tool_name(&name, MAX_TOOL_NAME) => {
                return Err(tool_name_refused(&name, MAX_TOOL_NAME, &format!("tools[{k}].function.name")));
            }
            Some(name @ Value::String(_)) => name,
            _ => return Err(refuse(&format!("tools[{k}].function.name"), "a function tool needs a name")),
        };
        let mut tool = Map::new();
        tool.insert("name".into(), name);
        if let Some(d @ Value::String(_)) = f.remove("description") {
            tool.insert("description".into(), d);
        }
        let Some(mut schema) = schema_value(f.remove("parameters"), false) else {
            return Err(refuse(
                &format!("tools[{k}].function.parameters"),
                "parameters must be a JSON Schema object",
            ));
        };
        joined_union(&mut schema);
        match closed {
            Some(closed) => {
                tool.insert("input_schema".into(), closed);
                tool.insert("strict".into(), json!(true));
            }
            None => {
                tool.insert("input_schema".into(), schema);
            }
        }
        if let Some(cache) = t.get_mut("cache_control").filter(|c| c.is_object()) {
            tool.insert("cache_control".into(), cache.take());
        }
        native.push(Value::Object(tool));
    }
    out.insert("tools".into(), Value::Array(native));
    Ok(true)
}

/// [`format::strict_tools`] for tools read as JSON values: each closed schema as a value.
fn strict_values(list: &[Value], strict: Option<Tally>) -> Vec<Option<Value>> {
    let Some(format) = strict else { return Vec::new() };
    let texts: Vec<Option<Option<String>>> = list
        .iter()
        .map(|t| {
            let f = t.get("function")?;
            // Closed as Claude takes it: a union at its root joined first (strict, it kept it).
            let schema = || {
                let mut schema = schema_value(f.get("parameters").cloned(), false)?;
                joined_union(&mut schema);
                Some(schema.to_string())
            };
            (f.get("strict") == Some(&Value::Bool(true))).then(schema)
        })
        .collect();
    let asked: Vec<_> = texts.iter().map(|t| t.as_ref().map(|p| p.as_deref().map(Json::of))).collect();
    format::strict_tools(&asked, format)
        .into_iter()
        .map(|s| s.and_then(|s| serde_json::from_slice(&s).ok()))
        .collect()
}

/// `tool_choice` and `parallel_tool_calls`, when there are tools: without them there is
/// nothing to choose, and `tool_choice` is left out.
pub(super) fn tool_choice(req: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), ApiError> {
    let mut choice = match req.get("tool_choice") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "none" => Some(json!({"type": "none"})),
            "required" => Some(json!({"type": "any"})),
            _ => {
                return Err(refuse(
                    "tool_choice",
                    "tool_choice must be none, auto, required or a named function",
                ));
            }
        },
        Some(c) => match c.get("function").and_then(|f| f.get("name")).and_then(Value::as_str) {
            Some(name) if c.get("type").and_then(Value::as_str) == Some("function") => {
                Some(json!({"type": "tool", "name": name}))
            }
            _ => {
                let message = match c.get("type").and_then(Value::as_str) {
                    Some(kind) if kind != "function" => format!(
                        "tool_choice type {} is not supported by this model's API: use none, auto, required or a named function",
                        echo(kind)
                    ),
                    _ => "a named tool_choice is {\"type\":\"function\",\"function\":{\"name\":...}}".into(),
                };
                return Err(refuse("tool_choice", message));
            }
        },
    };
    match req.get("parallel_tool_calls") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => {
            let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
            // `none` calls no tool, so there is nothing to serialise.
            if let Some(obj) = c.as_object_mut().filter(|o| o.get("type") != Some(&json!("none"))) {
                obj.insert("disable_parallel_tool_use".into(), json!(true));
            }
        }
        Some(_) => return Err(refuse("parallel_tool_calls", "parallel_tool_calls must be a boolean")),
    }
    if let Some(c) = choice {
        out.insert("tool_choice".into(), c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::tools::check;

    #[test]
    fn tools_written_from_the_text_are_the_tools_written_from_values() {
        // Without strict tools, and with them (a format's tally counted or not).
        for strict in [None, Some(Tally::default()), Some(Tally::with(20, 16))] {
            check::text_path_agrees(
                5,
                |raw| tools_text(raw, strict),
                |v| {
                    let mut req = Map::new();
                    req.insert("tools".into(), v);
                    let mut out = Map::new();
                    (tools(&mut req, &mut out, strict) == Ok(true)).then_some(())?;
                    serde_json::to_vec(out.get("tools")?).ok()
                },
            );
        }
    }
}
