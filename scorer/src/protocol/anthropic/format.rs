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
    let mut walk = Walk::at(at.clone());
    let mut closed = String::with_capacity(text.len() + 64);
    walk.close(Json::of(text), &at, &mut closed).ok()?;
    walk.acyclic().ok()?;
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
    let mut walk = Walk::at(SCHEMA_PARAM.to_string());
    let mut out = String::with_capacity(raw.get().len() + 64);
    walk.close(raw, SCHEMA_PARAM, &mut out)?;
    walk.acyclic()?;
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

/// What the walk over a schema saw: each local `$ref`'s target and where it stands, both as
/// param paths (`response_format.json_schema.schema.$defs.a`), and what Anthropic's limits
/// count.
struct Walk {
    /// Where the schema stands: the param path a `#` reference names.
    root: String,
    refs: Vec<(String, String)>,
    tally: Tally,
}

impl Walk {
    fn at(root: String) -> Walk {
        Walk { root, refs: Vec::new(), tally: Tally::default() }
    }

    /// Writes the schema `raw` (standing at `at`) to `out`, closed, refusing what Claude cannot
    /// decode.
    fn close(&mut self, raw: Json<'_>, at: &str, out: &mut String) -> Result<(), ApiError> {
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
                    self.map(v, &here(), out)?;
                }
                "$defs" | "definitions" => self.map(v, &here(), out)?,
                "allOf"
                    if elements(v)?
                        .unwrap_or_default()
                        .iter()
                        .any(|b| members(*b).is_ok_and(|b| b.get("$ref").is_some())) =>
                {
                    return Err(cannot(key, "takes no $ref inside allOf"));
                }
                "anyOf" | "oneOf" | "allOf" => self.list(v, &here(), out)?,
                "items" if v.get().trim_start().starts_with('[') => {
                    return Err(cannot(key, "takes items as one schema, not a tuple"));
                }
                "items" => self.close(v, &here(), out)?,
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
            self.close(s, &format!("{at}.{name}"), out)?;
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
            self.close(one, &format!("{at}[{n}]"), out)?;
        }
        out.push(']');
        Ok(())
    }

    /// A `$ref` standing at `at`: a local one (`#`, `#/$defs/a`, `#/properties/t`) is noted,
    /// its target as the param path it names, for [`Walk::acyclic`]; any other is external.
    fn reference(&mut self, target: &str, at: &str) -> Result<(), ApiError> {
        let Some(pointer) = target.strip_prefix('#') else {
            return Err(refuse(at, "this model's structured output takes no external $ref: use a tier"));
        };
        let mut path = self.root.clone();
        for segment in pointer.split('/').skip(1) {
            path.push('.');
            path.push_str(&segment.replace("~1", "/").replace("~0", "~"));
        }
        self.refs.push((path, at.to_string()));
        Ok(())
    }

    /// Refuses a recursive schema: a `$ref` inside the schema it names, directly or through
    /// the references inside that one (`#`, a definition naming itself or another that names
    /// it, a property referring to one of its ancestors).
    fn acyclic(&self) -> Result<(), ApiError> {
        let inside = |at: &str, target: &str| {
            at.strip_prefix(target).is_some_and(|r| r.is_empty() || r.starts_with('.'))
        };
        for (start, (target, at)) in self.refs.iter().enumerate() {
            // The references the walk reaches from this one, each once.
            let mut seen = vec![start];
            let mut next = vec![target.as_str()];
            while let Some(t) = next.pop() {
                if inside(at, t) {
                    return Err(refuse(
                        at,
                        "this model's structured output takes no recursive schema: use a tier",
                    ));
                }
                for (n, (further, from)) in self.refs.iter().enumerate() {
                    if inside(from, t) && !seen.contains(&n) {
                        seen.push(n);
                        next.push(further.as_str());
                    }
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
