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

use serde_json::{Map, Value};

use super::content::refuse;
use crate::error::ApiError;
use crate::protocol::canonical::minified;
use crate::protocol::raw::{Json, elements, members, object_at};

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

/// `output_config.format`'s JSON text for the request's `response_format`: `None` for none (or
/// `text`). `body` is the chat body the request was read from, whose text keeps the schema's
/// order.
pub(super) fn format(req: &Map<String, Value>, body: &[u8]) -> Result<Option<String>, ApiError> {
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
    walk.acyclic()?;
    Ok(Some(format!(r#"{{"schema":{out},"type":"json_schema"}}"#)))
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

/// What the walk over a schema saw of its references: each local `$ref`'s target and where it
/// stands, both as param paths (`response_format.json_schema.schema.$defs.a`).
#[derive(Default)]
struct Walk {
    refs: Vec<(String, String)>,
}

impl Walk {
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
                "properties" | "$defs" | "definitions" => self.map(v, &here(), out)?,
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
        let mut path = SCHEMA_PARAM.to_string();
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
