//! Claude's signed thinking through a Responses client (the Codex CLI): carried in the
//! reasoning item's encrypted content when the client asks for it, whole and streamed, and
//! back on the assistant message after it as `thinking_blocks` on the next turn.

use serde_json::{Value, json};

use super::answer::to_response;
use super::events::Events;
use super::request::to_chat;

const SIGNATURE: &str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgx+/=";

fn blocks() -> Value {
    json!([{"type": "thinking", "thinking": "call f", "signature": SIGNATURE},
           {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}])
}

fn request(input: Value, include: bool) -> Vec<u8> {
    let mut r = json!({"model": "claude-sonnet-4-6", "input": input, "reasoning": {"effort": "high"},
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]});
    if include {
        r["include"] = json!(["reasoning.encrypted_content"]);
    }
    r.to_string().into_bytes()
}

fn completion() -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "reasoning_content": "call f", "thinking_blocks": blocks(),
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]})
}

fn streamed(echo: super::answer::Echo) -> Vec<Value> {
    let chunk = |delta: Value| {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
    };
    let chunks = [
        chunk(json!({"reasoning_content": "call"})),
        chunk(json!({"reasoning_content": " f"})),
        chunk(json!({"thinking_blocks": [{"type": "thinking", "signature": SIGNATURE}]})),
        chunk(json!({"thinking_blocks": [{"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}]})),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
        ),
    ];
    let sse: String =
        chunks.iter().map(|c| format!("data: {c}\n\n")).collect::<String>() + "data: [DONE]\n\n";
    let out = Events::new(echo, "chatcmpl-1").feed(sse.as_bytes(), true);
    String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

#[test]
fn claudes_signed_thinking_rides_in_the_reasoning_item_and_comes_back_on_its_turn() {
    let first = json!([{"role": "user", "content": "go"}]);
    let chat = to_chat(&request(first.clone(), true), &[]).unwrap_or_else(|e| panic!("{e}"));
    let whole = to_response(completion().to_string().as_bytes(), &chat.echo).unwrap_or_default();
    let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
    let reasoning = &whole["output"][0];
    assert_eq!(reasoning["type"], "reasoning", "{whole}");
    assert!(reasoning["encrypted_content"].as_str().is_some_and(|e| e.contains(SIGNATURE)), "{whole}");
    // Streamed, the item is the same, whole as it is done and in the completed Response.
    let events = streamed(chat.echo.clone());
    let done = events.iter().find(|e| e["type"] == "response.output_item.done").cloned().unwrap_or_default();
    assert_eq!(done["item"]["encrypted_content"], reasoning["encrypted_content"], "{events:?}");
    let completed = events.iter().find(|e| e["type"] == "response.completed").cloned().unwrap_or_default();
    assert_eq!(completed["response"]["output"], whole["output"], "{events:?}");

    // The next turn: the items sent back as they came, Claude's thinking on its turn again.
    let mut input = first.as_array().cloned().unwrap_or_default();
    input.extend(whole["output"].as_array().cloned().unwrap_or_default());
    input.push(json!({"type": "function_call_output", "call_id": "call_1", "output": "ok"}));
    let next = to_chat(&request(Value::Array(input.clone()), true), &[]).unwrap_or_else(|e| panic!("{e}"));
    let next: Value = serde_json::from_slice(&next.body).unwrap_or_default();
    let turn = &next["messages"][1];
    assert_eq!((&turn["role"], &turn["thinking_blocks"]), (&json!("assistant"), &blocks()), "{next}");
    assert_eq!(turn["tool_calls"][0]["id"], "call_1", "{next}");

    // Thinking no assistant item followed (an answer cut while it thought) stays its own: the
    // next turn's assistant message goes without it.
    let cut = [
        json!({"role": "user", "content": "go"}),
        whole["output"][0].clone(),
        json!({"role": "user", "content": "continue"}),
        json!({"type": "function_call", "call_id": "call_2", "name": "f", "arguments": "{}"}),
        json!({"type": "function_call_output", "call_id": "call_2", "output": "ok"}),
    ];
    let next = to_chat(&request(Value::Array(cut.to_vec()), true), &[]).unwrap_or_else(|e| panic!("{e}"));
    let next: Value = serde_json::from_slice(&next.body).unwrap_or_default();
    assert_eq!(next["messages"][2]["tool_calls"][0]["id"], "call_2", "{next}");
    assert!(next["messages"][2].get("thinking_blocks").is_none(), "{next}");

    // Not asked for: no encrypted content, nothing carried (the answer itself comes).
    let plain = to_chat(&request(first, false), &[]).unwrap_or_else(|e| panic!("{e}"));
    let whole = to_response(completion().to_string().as_bytes(), &plain.echo).unwrap_or_default();
    let whole_text = String::from_utf8_lossy(&whole);
    assert!(whole_text.contains("call_1") && !whole_text.contains(SIGNATURE), "{whole_text}");
    let events = streamed(plain.echo);
    assert!(events.iter().any(|e| e["type"] == "response.completed"), "{events:?}");
    assert!(!events.iter().any(|e| e.to_string().contains(SIGNATURE)));
}
