//! Structured output (`response_format` `json_schema`) as the Messages API's
//! `output_config.format`, the schema Claude's constrained decoding follows.
//!
//! Claude takes a documented subset of JSON Schema. The schema is rewritten from the body's
//! text, member by member, so its `properties` keep their order (the order the model writes
//! an answer's members in: "reasoning" before "answer"); each object schema that does not say
//! whether it is open is closed (`additionalProperties: false`, which Claude requires, as
//! Anthropic's SDKs write it), and `oneOf` is said as `anyOf` (as they do: Claude takes only
//! `anyOf`, and a schema's alternatives rarely overlap). Anything else outside the subset (a
//! keyword it does not take, a numeric bound, a string length, an array bounded beyond
//! `minItems` 0 or 1, an unsupported string format, an open object, a recursive or external
//! `$ref`) is refused naming where it stands, so a tier routes the request to a model that
//! takes the whole schema and a pinned request hears why. `json_object` has no equivalent
//! (Claude's JSON always follows a schema): refused.
//!
//! A function tool that asks to be `strict` (the OpenAI Agents SDK's default, the OpenAI
//! SDK's `pydantic_function_tool`, a Messages client's own `strict`) goes strict, its schema
//! closed the same way ([`strict_tools`]), so Claude's arguments follow it as OpenAI's would.
//! One whose schema Claude could not decode strictly, or all of them when they pass
//! Anthropic's documented limits, go as before: not strict, which every Claude takes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::content::refuse;
use crate::error::ApiError;
use crate::protocol::canonical::{self, minified};
use crate::protocol::raw::{Json, Raw, elements, members, object_at};
use crate::protocol::tools::EMPTY_SCHEMA;

/// Where the schema stands in a chat body.
const SCHEMA_PARAM: &str = "response_format.json_schema.schema";

/// The keywords Claude's structured outputs take (Anthropic's documented subset, and the
/// annotations that ask nothing of the answer).
const TAKEN: [&str; 23] = [
    "type",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "oneOf",
    "$ref",
    "$defs",
    "definitions",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "format",
    "pattern",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$id",
    "$comment",
];

/// The string formats Claude's structured outputs take.
const FORMATS: [&str; 10] =
    ["date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"];

/// Anthropic's documented limits on the strict schemas of one request, counted across all of
/// them (a request past one is a 400): strict tools, optional parameters (each property its
/// object does not require), and parameters of union types (`anyOf`, a list of types).
const STRICT_TOOLS: usize = 20;
const OPTIONAL: usize = 24;
const UNIONS: usize = 16;

/// What Anthropic's limits count in a strict schema ([`OPTIONAL`], [`UNIONS`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    optional: usize,
    unions: usize,
}

impl Tally {
    #[cfg(test)]
    pub(super) fn with(optional: usize, unions: usize) -> Tally {
        Tally { optional, unions }
    }

    fn add(self, other: Tally) -> Tally {
        Tally { optional: self.optional + other.optional, unions: self.unions + other.unions }
    }
}

/// The schemas the tools go with, strict: for each tool, `None` when it goes as it would
/// without structured outputs, or its schema closed for Claude ([`Walk`]), in name order as
/// the tools' other members are written. `asked` holds, for each tool, whether it asked to be
/// strict (`Some`) and its `parameters` as the body has them; `format` is the tally of the
/// request's structured output, which the limits count with the tools.
pub(super) fn strict_tools(asked: &[Option<Raw<'_>>], format: Tally) -> Vec<Option<Vec<u8>>> {
    let mut total = format;
    let mut schemas: Vec<Option<Vec<u8>>> = asked
        .iter()
        .enumerate()
        .map(|(k, parameters)| {
            let (schema, tally) = strict_schema((*parameters)?, k)?;
            total = total.add(tally);
            Some(schema)
        })
        .collect();
    let strict = schemas.iter().flatten().count();
    if strict > STRICT_TOOLS || total.optional > OPTIONAL || total.unions > UNIONS {
        schemas.iter_mut().for_each(|s| *s = None);
    }
    schemas
}

/// Tool `k`'s schema `parameters` closed for Claude, in name order, and its tally; `None` when
/// Claude could not decode it strictly.
fn strict_schema(parameters: Raw<'_>, k: usize) -> Option<(Vec<u8>, Tally)> {
    let empty = std::str::from_utf8(EMPTY_SCHEMA).unwrap_or_default();
    let text = match parameters.map(Json::get) {
        None | Some("null") => empty,
        Some(p) if minified(p) == "{}" => empty,
        Some(p) if p.starts_with('{') => p,
        Some(_) => return None,
    };
    let at = format!("tools[{k}].function.parameters");
    let mut walk = Walk::default();
    let mut closed = String::with_capacity(text.len() + 64);
    walk.close(Json::of(text), &at, &mut closed).ok()?;
    walk.resolve().ok()?;
    let mut out = Vec::with_capacity(closed.len());
    canonical::write(&closed, &mut out).then_some((out, walk.tally))
}

/// `output_config.format`'s JSON text for the request's `response_format`, and what Anthropic's
/// limits count in it: `None` for none (or `text`). `body` is the chat body the request was
/// read from, whose text keeps the schema's order.
pub(super) fn format(req: &Map<String, Value>, body: &[u8]) -> Result<Option<(String, Tally)>, ApiError> {
    let Some(rf) = req.get("response_format").filter(|v| !v.is_null()) else { return Ok(None) };
    match rf.get("type").and_then(Value::as_str) {
        Some("text") => return Ok(None),
        Some("json_schema") => {}
        Some("json_object") => {
            return Err(refuse(
                "response_format.type",
                "this model's API takes structured output as a JSON Schema, not json_object: send json_schema, or describe the format in the prompt",
            ));
        }
        _ => {
            return Err(refuse(
                "response_format.type",
                "response_format.type must be text, json_object or json_schema",
            ));
        }
    }
    let schema = match rf.get("json_schema").and_then(|s| s.get("schema")) {
        Some(s @ Value::Object(_)) => s,
        Some(_) => return Err(refuse(SCHEMA_PARAM, "the schema must be a JSON Schema object")),
        None => return Err(refuse(SCHEMA_PARAM, "send the JSON Schema the answer must follow")),
    };
    // The body's text; a body whose path to the schema names a member twice was read as its
    // value (which kept one of them), written in name order.
    let written;
    let raw = match object_at(body, &["response_format", "json_schema", "schema"]) {
        Some(raw) => raw,
        None => {
            written = schema.to_string();
            Json::of(&written)
        }
    };
    let mut walk = Walk::default();
    let mut out = String::with_capacity(raw.get().len() + 64);
    walk.close(raw, SCHEMA_PARAM, &mut out)?;
    walk.resolve()?;
    Ok(Some((format!(r#"{{"schema":{out},"type":"json_schema"}}"#), walk.tally)))
}

/// Annotations that ask nothing of the answer and Claude's subset does not name: left out
/// (pydantic writes `discriminator` beside every tagged union's `oneOf`).
const LEFT_OUT: [&str; 7] = [
    "discriminator",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
    "nullable",
];

/// What the walk over a schema saw: each schema in it, by the JSON pointer naming it from the
/// schema's root (`""`, `/properties/a`, `/$defs/k/anyOf/1`: what a local `$ref` names) and
/// by the schema it stands in; each local `$ref`; and what Anthropic's limits count.
#[derive(Default)]
struct Walk {
    /// The pointer of each schema walked, to its index.
    pointers: HashMap<String, usize>,
    /// The schema each one stands in (the root in none).
    parents: Vec<Option<usize>>,
    /// Each `$ref`: the schema holding it, the pointer it names, and where it stands (a param
    /// path, for the refusal).
    refs: Vec<Ref>,
    /// The pointer of the schema being walked, and its index.
    pointer: String,
    current: Option<usize>,
    tally: Tally,
}

/// A local `$ref`, as [`Walk`] saw it.
struct Ref {
    holder: usize,
    target: String,
    at: String,
}

impl Walk {
    /// Walks the schema `segment` names inside the one being walked (`f` with the pointer
    /// moved to it), escaping the segment as a JSON pointer does.
    fn child<T>(&mut self, segment: &str, f: impl FnOnce(&mut Walk) -> T) -> T {
        let len = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        let out = f(self);
        self.pointer.truncate(len);
        out
    }

    /// Writes the schema `raw` (standing at `at`) to `out`, closed, refusing what Claude cannot
    /// decode.
    fn close(&mut self, raw: Json<'_>, at: &str, out: &mut String) -> Result<(), ApiError> {
        let parent = self.current;
        let node = self.parents.len();
        self.parents.push(parent);
        self.pointers.insert(self.pointer.clone(), node);
        self.current = Some(node);
        let closed = self.close_node(raw, at, out);
        self.current = parent;
        closed
    }

    /// [`Walk::close`] for the schema the walk stands in.
    fn close_node(&mut self, raw: Json<'_>, at: &str, out: &mut String) -> Result<(), ApiError> {
        let text = raw.get().trim();
        if matches!(text, "true" | "false") {
            // A schema of anything or of nothing.
            out.push_str(text);
            return Ok(());
        }
        if !text.starts_with('{') {
            return Err(refuse(at, "a schema must be an object, true or false"));
        }
        let m = members(raw)?;
        if let Some(twice) = m.repeated() {
            return Err(refuse(&format!("{at}.{twice}"), "a schema names this member twice"));
        }
        let cannot = |key: &str, why: &str| {
            refuse(
                &format!("{at}.{key}"),
                format!("this model's structured output {why}: leave {key} out, or use a tier"),
            )
        };
        if m.get("oneOf").is_some() && m.get("anyOf").is_some() {
            return Err(cannot("oneOf", "takes anyOf, and oneOf beside it"));
        }
        let types = m.get("type").map_or(String::new(), |t| minified(t.get()).into_owned());
        let object = types.contains("\"object\"") || m.get("properties").is_some();
        if types.starts_with('[') || m.get("anyOf").is_some() || m.get("oneOf").is_some() {
            self.tally.unions += 1;
        }
        let mut closed = false;
        out.push('{');
        let mut first = true;
        for (key, v) in m.iter() {
            if LEFT_OUT.contains(&key) {
                continue;
            }
            if !TAKEN.contains(&key) {
                return Err(cannot(
                    key,
                    "takes no such keyword (numeric bounds, string lengths and most array and object constraints are beyond it)",
                ));
            }
            if !first {
                out.push(',');
            }
            first = false;
            let written = if key == "oneOf" { "anyOf" } else { key };
            out.push_str(&Value::from(written).to_string());
            out.push(':');
            // Where the member stands, built only for what walks into it.
            let here = || format!("{at}.{key}");
            match key {
                "properties" => {
                    self.tally.optional += optional(v, m.get("required"));
                    self.child(key, |w| w.map(v, &here(), out))?;
                }
                "$defs" | "definitions" => self.child(key, |w| w.map(v, &here(), out))?,
                "allOf"
                    if elements(v)?
                        .unwrap_or_default()
                        .iter()
                        .any(|b| members(*b).is_ok_and(|b| b.get("$ref").is_some())) =>
                {
                    return Err(cannot(key, "takes no $ref inside allOf"));
                }
                // Under the name it is written with: a `$ref` into a `oneOf` names nothing.
                "anyOf" | "oneOf" | "allOf" => self.child(written, |w| w.list(v, &here(), out))?,
                "items" if v.get().trim_start().starts_with('[') => {
                    return Err(cannot(key, "takes items as one schema, not a tuple"));
                }
                "items" => self.child(key, |w| w.close(v, &here(), out))?,
                "additionalProperties" if minified(v.get()) == "false" => {
                    closed = true;
                    out.push_str("false");
                }
                "additionalProperties" => {
                    return Err(cannot(key, "takes only objects closed to unnamed members (false)"));
                }
                "minItems" => match serde_json::from_str::<f64>(v.get()) {
                    Ok(n) if n == 0.0 || n == 1.0 => out.push_str(if n == 0.0 { "0" } else { "1" }),
                    _ => return Err(cannot(key, "bounds an array only by minItems 0 or 1")),
                },
                "format" => {
                    let said = serde_json::from_str::<String>(v.get()).unwrap_or_default();
                    if !FORMATS.contains(&said.as_str()) {
                        return Err(cannot(
                            key,
                            "takes only the string formats date-time, time, date, duration, email, hostname, uri, ipv4, ipv6 and uuid",
                        ));
                    }
                    out.push_str(&minified(v.get()));
                }
                "enum" => {
                    let scalar = |e: &Json<'_>| !e.get().trim_start().starts_with(['{', '[']);
                    if !elements(v)?.is_some_and(|list| list.iter().all(scalar)) {
                        return Err(cannot(
                            key,
                            "takes an enum as a list of strings, numbers, booleans and null",
                        ));
                    }
                    out.push_str(&minified(v.get()));
                }
                "const" if v.get().trim_start().starts_with(['{', '[']) => {
                    return Err(cannot(key, "takes a const string, number, boolean or null"));
                }
                "$ref" => {
                    let target = serde_json::from_str::<String>(v.get()).unwrap_or_default();
                    self.reference(&target, &here())?;
                    out.push_str(&minified(v.get()));
                }
                _ => out.push_str(&minified(v.get())),
            }
        }
        if object && !closed {
            if !first {
                out.push(',');
            }
            out.push_str(r#""additionalProperties":false"#);
        }
        out.push('}');
        Ok(())
    }

    /// A map of names to schemas (`properties`, `$defs`, `definitions`).
    fn map(&mut self, raw: Json<'_>, at: &str, out: &mut String) -> Result<(), ApiError> {
        let m = members(raw)?;
        if !m.object {
            return Err(refuse(at, "must map names to schemas"));
        }
        if let Some(twice) = m.repeated() {
            return Err(refuse(&format!("{at}.{twice}"), "a schema names this member twice"));
        }
        out.push('{');
        for (n, (name, s)) in m.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&Value::from(name).to_string());
            out.push(':');
            self.child(name, |w| w.close(s, &format!("{at}.{name}"), out))?;
        }
        out.push('}');
        Ok(())
    }

    /// A list of schemas.
    fn list(&mut self, raw: Json<'_>, at: &str, out: &mut String) -> Result<(), ApiError> {
        let Some(list) = elements(raw)? else { return Err(refuse(at, "must be a list of schemas")) };
        out.push('[');
        for (n, one) in list.into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            self.child(&n.to_string(), |w| w.close(one, &format!("{at}[{n}]"), out))?;
        }
        out.push(']');
        Ok(())
    }

    /// A `$ref` standing at `at`: a local one (`#`, `#/$defs/a`, `#/properties/t`), its pointer
    /// as written, is noted for [`Walk::resolve`]; any other is external. A pointer
    /// percent-encoded (`#/%24defs/a`) is refused: whether Claude's decoding reads it as the
    /// schema it names is not known here.
    fn reference(&mut self, target: &str, at: &str) -> Result<(), ApiError> {
        let Some(pointer) = target.strip_prefix('#') else {
            return Err(refuse(at, "this model's structured output takes no external $ref: use a tier"));
        };
        if pointer.contains('%') {
            return Err(refuse(
                at,
                "this model's structured output takes a $ref as a plain JSON pointer: use a tier",
            ));
        }
        let holder = self.current.unwrap_or_default();
        self.refs.push(Ref { holder, target: pointer.to_string(), at: at.to_string() });
        Ok(())
    }

    /// Refuses a `$ref` naming no schema of this one, and a recursive schema: a `$ref` inside
    /// the schema it names, directly or through the references inside that one (`#`, a
    /// definition naming itself or another that names it, a property referring to one of its
    /// ancestors). That is a cycle in the graph whose edges lead from each schema to those
    /// standing in it and from each `$ref` to the schema it names: one depth-first search,
    /// linear in the schemas and references.
    fn resolve(&self) -> Result<(), ApiError> {
        let nodes = self.parents.len();
        // Each schema's edges: (the schema it leads to, the reference it is, if one).
        let mut edges: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); nodes];
        for (child, parent) in self.parents.iter().enumerate() {
            if let Some(list) = parent.and_then(|p| edges.get_mut(p)) {
                list.push((child, None));
            }
        }
        for (n, r) in self.refs.iter().enumerate() {
            let Some(&target) = self.pointers.get(&r.target) else {
                return Err(refuse(
                    &r.at,
                    "this model's structured output takes a $ref only to a schema inside this one",
                ));
            };
            if let Some(list) = edges.get_mut(r.holder) {
                list.push((target, Some(n)));
            }
        }
        let recursive = |r: Option<usize>| {
            let at = r.and_then(|r| self.refs.get(r)).map_or("", |r| r.at.as_str());
            refuse(at, "this model's structured output takes no recursive schema: use a tier")
        };
        // 0: not reached; 1: on the search's path; 2: done.
        let mut state = vec![0_u8; nodes];
        for start in 0..nodes {
            if state.get(start) != Some(&0) {
                continue;
            }
            // The path: each schema, the next of its edges to follow, the edge it came by.
            let mut path: Vec<(usize, usize, Option<usize>)> = vec![(start, 0, None)];
            if let Some(s) = state.get_mut(start) {
                *s = 1;
            }
            while let Some(top) = path.last_mut() {
                let (node, next) = (top.0, top.1);
                let Some(&(to, by)) = edges.get(node).and_then(|e| e.get(next)) else {
                    if let Some(s) = state.get_mut(node) {
                        *s = 2;
                    }
                    path.pop();
                    continue;
                };
                top.1 += 1;
                match state.get(to) {
                    Some(0) => {
                        if let Some(s) = state.get_mut(to) {
                            *s = 1;
                        }
                        path.push((to, 0, by));
                    }
                    Some(1) => {
                        // Back on the path: the cycle's reference is this edge, or the last
                        // one taken since `to`.
                        let since = path.iter().rev().take_while(|(n, _, _)| *n != to).find_map(|p| p.2);
                        return Err(recursive(by.or(since)));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// How many of the properties `properties` names `required` leaves out (all of them when it is
/// not a list of names).
fn optional(properties: Json<'_>, required: Raw<'_>) -> usize {
    let names: Vec<String> = required
        .and_then(|r| elements(r).ok().flatten())
        .map(|list| list.iter().filter_map(|n| serde_json::from_str(n.get()).ok()).collect())
        .unwrap_or_default();
    members(properties).map_or(0, |p| p.iter().filter(|(name, _)| !names.iter().any(|n| n == name)).count())
}

/// `output_config`'s text: the format's (`format`, in the client's order) beside the effort
/// `out` holds.
pub(super) fn config(out: &Map<String, Value>, format: &str) -> String {
    match out.get("output_config").and_then(|c| c.get("effort")) {
        Some(effort) => format!(r#"{{"effort":{effort},"format":{format}}}"#),
        None => format!(r#"{{"format":{format}}}"#),
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
