//! Tool call ids Converse refuses, rewritten in pairs.

use serde_json::json;

use super::tests::{ok, user};

/// Ids Converse refuses (`^[a-zA-Z0-9_-]{1,64}$`) are rewritten the same way in the call and in
/// its result; conforming ids pass as they are.
#[test]
fn tool_call_ids_outside_conveses_pattern_are_rewritten_in_pairs() {
    let long = "c".repeat(65);
    for (id, kept) in [("call_abc-1", true), ("functions.f:0", false), (long.as_str(), false)] {
        let body = json!({"messages": [
            user("u"),
            {"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": id, "content": "r"},
        ], "tools": [{"type": "function", "function": {"name": "f"}}]});
        let v = ok(body);
        let used =
            v["messages"][1]["content"][0]["toolUse"]["toolUseId"].as_str().unwrap_or_default().to_string();
        let answered = v["messages"][2]["content"][0]["toolResult"]["toolUseId"].as_str().unwrap_or_default();
        assert_eq!(used, answered, "{v}");
        assert!(
            (1..=64).contains(&used.len())
                && used.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        assert_eq!(used == id, kept, "{id} -> {used}");
    }
}
