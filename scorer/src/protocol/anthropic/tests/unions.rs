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
