//! Tool call ids the Messages API refuses, rewritten in pairs.

use serde_json::json;

use super::request::{call, tools, tr, user};

/// Ids the Messages API refuses (another provider's `functions.f:0`, a client's own form) are
/// rewritten the same way in the call and in its result; conforming ids pass as they are.
#[test]
fn tool_call_ids_outside_the_apis_pattern_are_rewritten_in_pairs() {
    for (id, kept) in [("call_abc-1", true), ("functions.f:0", false), ("", false)] {
        let body = tools(json!({"messages": [user("u"), call(id, "{}"),
            {"role": "tool", "tool_call_id": id, "content": "r"}, user("again")]}));
        let v = tr(&body).unwrap_or_else(|e| panic!("{id}: {e}"));
        let used = v["messages"][1]["content"][0]["id"].as_str().unwrap_or_default().to_string();
        let answered = v["messages"][2]["content"][0]["tool_use_id"].as_str().unwrap_or_default();
        assert_eq!(used, answered, "{v}");
        assert!(
            !used.is_empty() && used.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
        assert_eq!(used == id, kept, "{id} -> {used}");
    }
}
