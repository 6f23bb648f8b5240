//! A Messages client's strict tools: strict on to chat only where OpenAI's strict mode takes
//! the schema as it is.

use serde_json::{Value, json};

use super::to_chat;

/// The `strict` a Messages tool of this input schema, asking to be strict, has in chat.
fn strict_of(schema: &str) -> Value {
    let body = format!(
        r#"{{"model":"auto","max_tokens":100,"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"name":"f","strict":true,"input_schema":{schema}}}]}}"#
    );
    let out: Value = serde_json::from_slice(&to_chat(body.as_bytes()).unwrap()).unwrap();
    out["tools"][0]["function"]["strict"].clone()
}

/// A strict tool, as a strict format: strict on to chat only when OpenAI's strict mode takes
/// its schema as it is (closed, every property required, typed, its references defined, a
/// format OpenAI has), so a tier that routes it to OpenAI is not refused.
#[test]
fn a_strict_tool_stays_strict_only_where_openai_takes_its_schema() {
    let closed = r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}"#;
    assert_eq!(strict_of(closed), json!(true));
    for refused in [
        r#"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}"#,
        r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#,
        r#"{"type":"object","properties":{"a":{}},"required":["a"],"additionalProperties":false}"#,
        r##"{"type":"object","properties":{"a":{"$ref":"#/$defs/nope"}},"required":["a"],"additionalProperties":false}"##,
        r#"{"type":"object","properties":{"a":{"type":"string","format":"foo"}},"required":["a"],"additionalProperties":false}"#,
    ] {
        assert_eq!(strict_of(refused), json!(false), "{refused}");
    }
    let defined = r##"{"type":"object","properties":{"a":{"$ref":"#/$defs/s"}},"required":["a"],"additionalProperties":false,"$defs":{"s":{"type":"string"}}}"##;
    assert_eq!(strict_of(defined), json!(true));
}

/// The strict check reads each reference against the definitions read once (40,000 references
/// to 40,000 definitions each scanned them all, 8 seconds of a worker), and asks an array its
/// items, an enum at most 1,000 values and a pattern nothing constrained decoding cannot follow.
#[test]
fn the_strict_check_is_one_pass_and_knows_openais_other_limits() {
    let n = 40_000;
    let refs: Vec<String> = (0..n).map(|_| format!(r##"{{"$ref":"#/$defs/d{}"}}"##, n - 1)).collect();
    let defs: Vec<String> = (0..n).map(|i| format!(r#""d{i}":{{"type":"string"}}"#)).collect();
    let wide = format!(
        r#"{{"type":"object","properties":{{"a":{{"anyOf":[{}]}}}},"required":["a"],"additionalProperties":false,"$defs":{{{}}}}}"#,
        refs.join(","),
        defs.join(",")
    );
    assert_eq!(strict_of(&wide), json!(true));
    let closed = |property: &str| {
        format!(
            r#"{{"type":"object","properties":{{"a":{property}}},"required":["a"],"additionalProperties":false}}"#
        )
    };
    let values: Vec<String> = (0..1_001).map(|i| format!("\"v{i}\"")).collect();
    for refused in [
        closed(r#"{"type":"array"}"#),
        closed(&format!(r#"{{"type":"string","enum":[{}]}}"#, values.join(","))),
        closed(r#"{"type":"string","pattern":"^(?!admin)"}"#),
    ] {
        assert_eq!(strict_of(&refused), json!(false), "{} bytes", refused.len());
    }
    assert_eq!(strict_of(&closed(r#"{"type":"array","items":{"type":"string"}}"#)), json!(true));
}
