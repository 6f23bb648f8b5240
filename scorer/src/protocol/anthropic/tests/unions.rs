//! A tool schema with a union at its root, which Claude refuses and OpenAI takes.

use serde_json::{Value, json};

use super::TO;
use crate::protocol::anthropic::request::translate;

/// An MCP server's zod union (one of `yaml` or `dir`) was Claude's 400 ("input_schema does not
/// support oneOf, allOf, or anyOf at the top level") on every turn, no other candidate tried:
/// the branches' properties join the root's, from the text and from values (a member named
/// twice takes the value path); an `allOf`'s requirements hold, a `oneOf`'s are no one's.
#[test]
fn a_union_at_a_schemas_root_is_joined_into_its_properties() {
    let cases = [
        (
            r#""properties": {"yaml": {"type": "string"}}, "oneOf": [{"required": ["yaml"]}, {"properties": {"dir": {"type": "string"}, "yaml": {"type": "number"}}, "required": ["dir"]}]"#,
            json!({"type": "object", "properties": {"yaml": {"type": "string"}, "dir": {"type": "string"}}}),
        ),
        (
            r#""anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"properties": {"b": {}}}]"#,
            json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}}}),
        ),
        (
            r#""required": ["a"], "allOf": [{"properties": {"b": {"type": "integer"}}, "required": ["b", "a"]}]"#,
            json!({"type": "object", "properties": {"b": {"type": "integer"}}, "required": ["a", "b"]}),
        ),
        // A discriminated union: each branch's `action` stays a choice; what every branch
        // requires is required.
        (
            r#""anyOf": [{"type": "object", "properties": {"action": {"const": "create"}, "name": {"type": "string"}}, "required": ["action", "name"]}, {"type": "object", "properties": {"action": {"const": "delete"}, "id": {"type": "string"}}, "required": ["action", "id"]}]"#,
            json!({"type": "object", "required": ["action"], "properties": {
                "action": {"anyOf": [{"const": "create"}, {"const": "delete"}]},
                "name": {"type": "string"}, "id": {"type": "string"}}}),
        ),
        // Branches by reference, read where they point.
        (
            r##""anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/definitions/B"}], "$defs": {"A": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}, "definitions": {"B": {"properties": {"b": {}}, "required": ["b"]}}"##,
            json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {}},
                "$defs": {"A": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}},
                "definitions": {"B": {"properties": {"b": {}}, "required": ["b"]}}}),
        ),
        // A branch that allows anything leaves nothing required.
        (
            r#""anyOf": [true, {"properties": {"a": {"type": "string"}}, "required": ["a"]}]"#,
            json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        ),
        // Below the root a union stays (Claude takes it there).
        (
            r#""properties": {"v": {"anyOf": [{"type": "string"}, {"type": "null"}]}}"#,
            json!({"type": "object", "properties": {"v": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}),
        ),
    ];
    for (schema, want) in cases {
        for twice in ["", r#""x": 0, "x": 1, "#] {
            let body = format!(
                r#"{{"model": "auto", "messages": [{{"role": "user", "content": "hi"}}], "tools": [{{"type": "function", "function": {{"name": "f", "parameters": {{{twice}{schema}}}}}}}]}}"#
            );
            let out = translate(body.as_bytes(), &TO).unwrap_or_else(|e| panic!("{e}"));
            let v: Value = serde_json::from_slice(&out).unwrap_or_default();
            let mut want = want.clone();
            if !twice.is_empty() {
                want["x"] = json!(1);
            }
            assert_eq!(v["tools"][0]["input_schema"], want, "{twice}{schema}");
        }
    }
}

/// A strict tool's union at its root is joined before it is closed (Claude refused it strict
/// too).
#[test]
fn a_strict_tools_union_is_joined_before_it_is_closed() {
    let to = crate::protocol::Native {
        quirks: crate::catalog::Quirks { strict_tools: true, ..crate::catalog::Quirks::NONE },
        ..TO
    };
    let body = r#"{"model": "auto", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "f", "strict": true, "parameters": {"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]}]}}}]}"#;
    let out = translate(body.as_bytes(), &to).unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&out).unwrap_or_default();
    let schema = &v["tools"][0]["input_schema"];
    assert!(schema.get("anyOf").is_none(), "{schema}");
    assert_eq!(schema["properties"]["b"], json!({"type": "string"}), "{schema}");
    assert_eq!(v["tools"][0]["strict"], json!(true), "{v}");
}
