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

/// Mistral's models take nine letters or digits (Converse answered `toolu_…` with a 400 "Tool
/// call id was … but must be a-z, A-Z, 0-9, with a length of 9", and a tier with it first
/// tried no other model): any other id is rewritten, the same in the call and its result,
/// distinct ids staying distinct; other models keep theirs.
#[test]
fn mistrals_models_get_nine_character_ids_in_pairs() {
    let body = |ids: [&str; 2]| {
        json!({"messages": [
            user("u"),
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": ids[0], "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": ids[1], "type": "function", "function": {"name": "f", "arguments": "{}"}},
            ]},
            {"role": "tool", "tool_call_id": ids[0], "content": "r"},
            {"role": "tool", "tool_call_id": ids[1], "content": "s"},
        ], "tools": [{"type": "function", "function": {"name": "f"}}]})
    };
    let to = |model| super::Native { model, upstream_model: model, ..super::tests::TO };
    for model in
        ["mistral.mistral-large-3-675b-instruct", "us.mistral.pixtral-large-2502-v1:0", "deepseek.v3.2"]
    {
        let mistral = model.contains("mistral");
        for ids in
            [["toolu_01A09q90qw90lq917835lq9", "call_abc123DEF456ghi789jkl0"], ["abc123XYZ", "tooluse_Ab-1"]]
        {
            let out = super::translate(body(ids).to_string().as_bytes(), &to(model))
                .unwrap_or_else(|e| panic!("{e}"));
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
            let id = |turn: usize, n: usize, block: &str| {
                v["messages"][turn]["content"][n][block]["toolUseId"].as_str().unwrap_or_default().to_string()
            };
            let (calls, results) = (
                [id(1, 0, "toolUse"), id(1, 1, "toolUse")],
                [id(2, 0, "toolResult"), id(2, 1, "toolResult")],
            );
            assert_eq!(calls, results, "{model}: {v}");
            assert_ne!(calls[0], calls[1], "{model}: {v}");
            for (sent, was) in calls.iter().zip(ids) {
                let nine = sent.len() == 9 && sent.bytes().all(|b| b.is_ascii_alphanumeric());
                assert_eq!(nine, mistral || was == "abc123XYZ", "{model}: {was} -> {sent}");
                assert_eq!(sent == was, !mistral || was == "abc123XYZ", "{model}: {was} -> {sent}");
            }
        }
    }
}
