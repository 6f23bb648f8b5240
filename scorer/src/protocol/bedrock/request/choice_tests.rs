//! `tool_choice` and tools in the history: what each choice becomes, which models may be
//! forced to call a tool, and a history no tool may be called in.

use serde_json::{Value, json};

use super::tests::{ok, user};
use super::*;

/// One of the open-weight models the catalog routes through Converse.
const OPEN: Native<'static> = Native {
    model: "deepseek.v3.2",
    upstream_model: "deepseek.v3.2",
    max_output: 8000,
    quirks: crate::catalog::Quirks::NONE,
};

#[test]
fn tool_choice_maps_and_a_history_no_tool_may_be_called_in_is_told_as_text() {
    let tools = json!([{"type": "function", "function": {"name": "f", "description": "does f"}}]);
    let cases = [
        (json!("auto"), json!({"auto": {}})),
        (json!("required"), json!({"any": {}})),
        (json!({"type": "function", "function": {"name": "f"}}), json!({"tool": {"name": "f"}})),
        (Value::Null, Value::Null),
    ];
    for (choice, want) in cases {
        let v = ok(json!({"messages": [user("u")], "tools": tools, "tool_choice": choice}));
        assert_eq!(v["toolConfig"]["toolChoice"], want, "{choice}");
        assert_eq!(v["toolConfig"]["tools"][0]["toolSpec"]["description"], "does f");
    }
    // Bedrock documents a forced choice for Anthropic's and Nova's models only: an open-weight
    // model's is refused, so a tier moves on (it was sent, and Bedrock answered a
    // ValidationException the client got).
    for choice in [json!("required"), json!({"type": "function", "function": {"name": "f"}})] {
        let body = json!({"messages": [user("u")], "tools": tools, "tool_choice": choice});
        let e = translate(body.to_string().as_bytes(), &OPEN).err().map(|e| (e.code, e.param));
        assert_eq!(e, Some(("unsupported_for_provider", Some("tool_choice".into()))), "{choice}");
    }
    let auto = json!({"messages": [user("u")], "tools": tools, "tool_choice": "auto"});
    assert!(translate(auto.to_string().as_bytes(), &OPEN).is_ok());
    // none without tool history: no toolConfig at all.
    let v = ok(json!({"messages": [user("u")], "tools": tools, "tool_choice": "none"}));
    assert!(v.get("toolConfig").is_none(), "{v}");
    // no tools and no history: none either.
    assert!(ok(json!({"messages": [user("u")], "tool_choice": "auto"})).get("toolConfig").is_none());
    // none, or no tools, with tool calls in the history: Converse takes tool blocks only beside
    // a toolConfig, whose toolChoice has no "none"; the history goes as text and no tool is
    // declared (it was refused, or stubs of the history's tools were declared).
    let history = json!([user("u"), {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}, {"role": "tool", "tool_call_id": "c", "content": "r"}, user("now?")]);
    let told = json!([{"role": "user", "content": [{"text": "u"}]},
        {"role": "assistant", "content": [{"text": "[tool call c: f {\"a\":1}]"}]},
        {"role": "user", "content": [{"text": "[tool result c]"}, {"text": "r"}, {"text": "[end of tool result c]"}, {"text": "now?"}]}]);
    for choice in [json!({"tools": tools, "tool_choice": "none"}), json!({"tool_choice": "none"}), json!({})]
    {
        let mut body = choice.clone();
        body["messages"] = history.clone();
        let v = ok(body);
        assert!(v.get("toolConfig").is_none() && v["messages"] == told, "{choice} -> {v}");
    }
    let v = ok(json!({"messages": history, "tools": tools}));
    assert!(v["toolConfig"]["tools"].is_array() && v["toolConfig"].get("toolChoice").is_none(), "{v}");
    // only tool results and no tools: told as text too.
    let v = ok(json!({"messages": [user("u"), {"role": "tool", "tool_call_id": "x", "content": "r"}]}));
    assert!(v.get("toolConfig").is_none() && v["messages"][0]["content"][0]["text"] == "[tool result x]");
}
