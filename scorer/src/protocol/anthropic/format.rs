//! Structured output (`response_format` `json_schema`) as the Messages API's
//! `output_config.format`, the schema Claude's constrained decoding follows. Claude takes a
//! subset of JSON Schema: what it cannot take (numeric bounds, string lengths, an array's
//! upper bound or a lower one above 1, an object open to members it does not name) is refused
//! naming where it stands, so a tier routes the request to a model that can and a pinned
//! request hears why; an object that does not say whether it is open is closed
//! (`additionalProperties: false`, as Anthropic's SDKs write it), which a model that names
//! no other members obeys anyway. `json_object` has no equivalent (Claude's JSON always
//! follows a schema): refused.

use serde_json::{Map, Value, json};

use super::content::refuse;
use crate::error::ApiError;

/// Where the schema stands in a chat body.
const SCHEMA_PARAM: &str = "response_format.json_schema.schema";

/// Keywords Claude's structured outputs refuse wherever they stand in a schema.
const BOUNDS: [&str; 7] =
    ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength"];

/// Keywords whose value is one subschema.
const ONE: [&str; 5] = ["items", "not", "if", "then", "else"];
/// Keywords whose value is a list of subschemas.
const LISTS: [&str; 4] = ["anyOf", "allOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to subschemas.
const MAPS: [&str; 3] = ["properties", "$defs", "definitions"];

/// `output_config.format` for the request's `response_format`: `None` for none (or `text`).
pub(super) fn format(req: &Map<String, Value>) -> Result<Option<Value>, ApiError> {
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
    let mut schema = match rf.get("json_schema").and_then(|s| s.get("schema")) {
        Some(s @ Value::Object(_)) => s.clone(),
        Some(_) => return Err(refuse(SCHEMA_PARAM, "the schema must be a JSON Schema object")),
        None => return Err(refuse(SCHEMA_PARAM, "send the JSON Schema the answer must follow")),
    };
    closed(&mut schema, SCHEMA_PARAM)?;
    Ok(Some(json!({"type": "json_schema", "schema": schema})))
}

/// Checks one schema at `at` and its subschemas, closing each object schema that does not say
/// whether it is open.
fn closed(schema: &mut Value, at: &str) -> Result<(), ApiError> {
    let Value::Object(o) = schema else { return Ok(()) };
    let cannot = |key: &str, why: &str| {
        refuse(
            &format!("{at}.{key}"),
            format!("this model's structured output {why}: leave {key} out, or use a tier"),
        )
    };
    if let Some(key) = BOUNDS.iter().find(|k| o.contains_key(**k)) {
        return Err(cannot(key, "takes no numeric bounds or string lengths"));
    }
    if o.contains_key("maxItems") || o.get("minItems").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        let key = if o.contains_key("maxItems") { "maxItems" } else { "minItems" };
        return Err(cannot(key, "bounds an array only by minItems 0 or 1"));
    }
    match o.get("additionalProperties") {
        Some(Value::Bool(false)) => {}
        Some(_) => {
            return Err(cannot(
                "additionalProperties",
                "takes only objects closed to unnamed members (false)",
            ));
        }
        None if is_object(o) => {
            o.insert("additionalProperties".into(), Value::Bool(false));
        }
        None => {}
    }
    for key in ONE {
        match o.get_mut(key) {
            // `items` as a list: an older draft's tuple.
            Some(Value::Array(list)) => each(list, &format!("{at}.{key}"))?,
            Some(s) => closed(s, &format!("{at}.{key}"))?,
            None => {}
        }
    }
    for key in LISTS {
        if let Some(Value::Array(list)) = o.get_mut(key) {
            each(list, &format!("{at}.{key}"))?;
        }
    }
    for key in MAPS {
        if let Some(Value::Object(map)) = o.get_mut(key) {
            for (name, s) in map.iter_mut() {
                closed(s, &format!("{at}.{key}.{name}"))?;
            }
        }
    }
    Ok(())
}

fn each(list: &mut [Value], at: &str) -> Result<(), ApiError> {
    for (i, s) in list.iter_mut().enumerate() {
        closed(s, &format!("{at}[{i}]"))?;
    }
    Ok(())
}

/// A schema for objects: `type` `object` (or a list holding it), or properties named.
fn is_object(o: &Map<String, Value>) -> bool {
    match o.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => o.contains_key("properties"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(response_format: Value) -> Result<Option<Value>, (String, String)> {
        let req = json!({ "response_format": response_format });
        let req = req.as_object().cloned().unwrap_or_default();
        format(&req).map_err(|e| (e.param.unwrap_or_default(), e.message))
    }

    #[test]
    fn a_json_schema_is_claudes_format_its_objects_closed() {
        let schema = json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "format": "date"},
                "stops": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {"at": {"type": "string"}}}},
                "kind": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/kind"}]},
            },
            "required": ["city"],
            "$defs": {"kind": {"type": ["object", "null"], "properties": {"minimum": {"type": "integer"}}}},
        });
        let got = of(
            json!({"type": "json_schema", "json_schema": {"name": "p", "strict": true, "schema": schema}}),
        );
        let mut want = schema.clone();
        for at in ["", "/properties/stops/items", "/$defs/kind"] {
            if let Some(o) = want.pointer_mut(at).and_then(Value::as_object_mut) {
                o.insert("additionalProperties".into(), json!(false));
            }
        }
        assert_eq!(got, Ok(Some(json!({"type": "json_schema", "schema": want}))));
        assert_eq!(of(json!({"type": "text"})), Ok(None));
        assert_eq!(of(Value::Null), Ok(None));
    }

    #[test]
    fn what_claude_cannot_decode_is_refused_where_it_stands() {
        let schema = |inner: Value| json!({"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object", "properties": {"x": inner}}}});
        let at = |rest: &str| format!("{SCHEMA_PARAM}.properties.x{rest}");
        for (inner, param) in [
            (json!({"type": "integer", "minimum": 1}), at(".minimum")),
            (json!({"type": "string", "maxLength": 9}), at(".maxLength")),
            (json!({"type": "array", "minItems": 2}), at(".minItems")),
            (json!({"type": "array", "items": {"type": "number", "multipleOf": 2}}), at(".items.multipleOf")),
            (
                json!({"type": "object", "additionalProperties": {"type": "string"}}),
                at(".additionalProperties"),
            ),
            (
                json!({"anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": true}]}),
                at(".anyOf[1].additionalProperties"),
            ),
        ] {
            assert_eq!(of(schema(inner.clone())).map_err(|e| e.0), Err(param), "{inner}");
        }
        assert_eq!(
            of(json!({"type": "json_object"})).map_err(|e| e.0),
            Err("response_format.type".to_string())
        );
        assert_eq!(
            of(json!({"type": "json_schema", "json_schema": {"name": "p"}})).map_err(|e| e.0),
            Err(SCHEMA_PARAM.to_string())
        );
    }
}
