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
pub(super) use super::schema::Tally;
use super::schema::Walk;
use crate::error::ApiError;
use crate::protocol::canonical;
use crate::protocol::raw::{Json, Raw, object_at};
use crate::protocol::tools::{referred, schema_text};

/// Where the schema stands in a chat body.
const SCHEMA_PARAM: &str = "response_format.json_schema.schema";

/// Anthropic's documented limits on the strict schemas of one request, counted across all of
/// them (a request past one is a 400): strict tools, optional parameters (each property its
/// object does not require), and parameters of union types (`anyOf`, a list of types).
const STRICT_TOOLS: usize = 20;
const OPTIONAL: usize = 24;
const UNIONS: usize = 16;

/// The schemas the tools go with, strict: for each tool, `None` when it goes as it would
/// without structured outputs, or its schema closed for Claude ([`Walk`]), its members in the
/// order `parameters` has them, as an unstrict tool's are written. `asked` holds, for each
/// tool, whether it asked to be strict (`Some`) and its `parameters` as the body has them;
/// `format` is the tally of the request's structured output, which the limits count with the
/// tools.
pub(super) fn strict_tools(asked: &[Option<Raw<'_>>], format: Tally) -> Vec<Option<Vec<u8>>> {
    let mut total = format;
    let mut schemas = Vec::with_capacity(asked.len());
    for (k, parameters) in asked.iter().enumerate() {
        let Some(parameters) = parameters else {
            schemas.push(None);
            continue;
        };
        match strict_schema(*parameters, k) {
            Some((schema, tally)) => {
                total = total.add(tally);
                schemas.push(Some(schema));
            }
            None => schemas.push(None),
        }
    }
    let strict = schemas.iter().flatten().count();
    if strict > STRICT_TOOLS || total.optional > OPTIONAL || total.unions > UNIONS {
        schemas.iter_mut().for_each(|s| *s = None);
    }
    schemas
}

/// Tool `k`'s schema `parameters` closed for Claude, in its order, and its tally; `None` when
/// Claude could not decode it strictly, or serde_json would read it otherwise (a number it
/// refuses: [`canonical::ordered`]), which the value path then decides as for `parameters`.
/// A root that is a reference (zod's `{"$ref":…,"definitions":…}`) goes unstrict: closed
/// beside its `$ref`, it would take no member at all.
fn strict_schema(parameters: Raw<'_>, k: usize) -> Option<(Vec<u8>, Tally)> {
    let text = schema_text(parameters)?;
    if referred(&text) {
        return None;
    }
    let mut walk = Walk::new(format!("tools[{k}].function.parameters"));
    let mut closed = String::with_capacity(text.len() + 64);
    walk.close(Json::of(&text), &mut closed).ok()?;
    walk.resolve().ok()?;
    canonical::ordered(&closed)?;
    Some((closed.into_bytes(), walk.tally))
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
    let mut walk = Walk::new(SCHEMA_PARAM.to_string());
    let mut out = String::with_capacity(raw.get().len() + 64);
    walk.close(raw, &mut out)?;
    walk.resolve()?;
    let tally = walk.tally;
    if tally.optional > OPTIONAL || tally.unions > UNIONS {
        // Anthropic counts a format's schema against its limits as a strict tool's: past them
        // its 400 would end the request, where this one lets a tier route on.
        return Err(refuse(
            SCHEMA_PARAM,
            format!(
                "this model's structured output takes at most {OPTIONAL} optional properties and {UNIONS} of union types (this schema has {} and {}): require more of them, or use a tier",
                tally.optional, tally.unions
            ),
        ));
    }
    Ok(Some((format!(r#"{{"schema":{out},"type":"json_schema"}}"#), tally)))
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
