//! Claude's signed thinking, round trip: Anthropic's answer (whole or streamed) to chat to a
//! Messages client, and that client's next turn back through chat to Anthropic, which then
//! thinks on a turn that continues its tool calls. Every other API goes without it.

use serde_json::{Value, json};

use super::{TO, meta};
use crate::parse::request::parse_chat;
use crate::protocol::anthropic::{request, response, stream};
use crate::protocol::inbound_messages::{answer, events::Events, request as messages};

const SIGNATURE: &str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgx+/=";

/// An answer that thinks (signed), carries a redacted block, and calls `f`.
fn anthropic_message() -> Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "call f", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5}})
}

/// The same answer as Anthropic streams it: the signature comes as the thinking block ends.
fn anthropic_events() -> String {
    let events = [
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "call"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": " f"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": SIGNATURE}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":1}"}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}}),
        json!({"type": "message_stop"}),
    ];
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or_default()))
        .collect()
}

/// A `message`'s content blocks rebuilt from Messages events, as the SDKs accumulate them.
fn accumulated(sse: &[u8]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut inputs: Vec<String> = Vec::new();
    for data in String::from_utf8_lossy(sse).lines().filter_map(|l| l.strip_prefix("data: ")) {
        let e: Value = serde_json::from_str(data).unwrap_or_default();
        let at = e["index"].as_u64().unwrap_or_default() as usize;
        match e["type"].as_str().unwrap_or_default() {
            "content_block_start" => {
                blocks.push(e["content_block"].clone());
                inputs.push(String::new());
            }
            "content_block_delta" => {
                let (Some(block), Some(input)) = (blocks.get_mut(at), inputs.get_mut(at)) else { continue };
                let d = &e["delta"];
                match d["type"].as_str().unwrap_or_default() {
                    "thinking_delta" => {
                        let text = format!(
                            "{}{}",
                            block["thinking"].as_str().unwrap_or_default(),
                            d["thinking"].as_str().unwrap_or_default()
                        );
                        block["thinking"] = json!(text);
                    }
                    "signature_delta" => block["signature"] = d["signature"].clone(),
                    "input_json_delta" => input.push_str(d["partial_json"].as_str().unwrap_or_default()),
                    _ => {}
                }
            }
            "error" => panic!("the stream failed: {data}"),
            _ => {}
        }
    }
    for (block, input) in blocks.iter_mut().zip(inputs) {
        if block["type"] == "tool_use" && !input.is_empty() {
            block["input"] = serde_json::from_str(&input).unwrap_or_default();
        }
    }
    blocks
}

/// Anthropic's blocks as the client gets them: each signature (a redacted block's data)
/// tagged with the model that wrote it.
fn as_client_gets(content: &Value) -> Value {
    let mut content = content.clone();
    for b in content.as_array_mut().into_iter().flatten() {
        for key in ["signature", "data"] {
            if let Some(Value::String(s)) = b.get_mut(key) {
                *s = crate::protocol::signed::tagged(crate::protocol::signed::Family::Claude, TO.model, s);
            }
        }
    }
    content
}

/// The Anthropic body `to` is sent for a Messages client's turn of `messages` (after the first
/// user message), thinking on or not.
fn sent_to(messages: &[Value], thinking: bool, to: &crate::protocol::Native<'_>) -> Value {
    let mut all = vec![json!({"role": "user", "content": "go"})];
    all.extend_from_slice(messages);
    let mut body = json!({"model": "claude-sonnet-4-6", "max_tokens": 32000,
        "tools": [{"name": "f", "input_schema": {"type": "object"}}], "messages": all});
    if thinking {
        body["thinking"] = json!({"type": "enabled", "budget_tokens": 10000});
    }
    let chat = messages::to_chat(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    let sent = request::translate(&chat, to).unwrap_or_else(|e| panic!("{e:?}"));
    serde_json::from_slice(&sent).unwrap_or_default()
}

fn result(id: &str) -> Value {
    json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "done"}]})
}

/// The Anthropic body for a Messages client's next turn, its assistant turn `said`.
fn next_turn(said: &[Value], thinking: bool) -> Value {
    sent_to(&[json!({"role": "assistant", "content": said}), result("toolu_1")], thinking, &TO)
}

#[test]
fn claudes_signed_thinking_goes_back_and_keeps_claude_thinking_through_a_tool_loop() {
    let want = anthropic_message()["content"].clone();
    let gets = as_client_gets(&want);
    // Whole: Anthropic's message, chat's completion, the client's message.
    let chat =
        response::translate(anthropic_message().to_string().as_bytes(), &meta(true)).unwrap_or_default();
    let whole: Value =
        serde_json::from_slice(&answer::to_message(&chat).unwrap_or_default()).unwrap_or_default();
    assert_eq!(whole["content"], gets, "{whole}");
    // Its thinking asked omitted, a signed block keeps its text: Anthropic refuses one changed.
    let hidden = answer::to_message_shown(&chat, &shown(true)).unwrap_or_default();
    let hidden: Value = serde_json::from_slice(&hidden).unwrap_or_default();
    assert_eq!(hidden["content"], gets, "{hidden}");
    // Streamed: Anthropic's events, chat's chunks, the client's events, as an SDK adds them up;
    // hidden or shown alike.
    let chunks = stream::Stream::new(meta(true)).feed(anthropic_events().as_bytes(), true);
    for hide in [false, true] {
        let events = Events::new("chatcmpl-1").shown(shown(hide)).feed(&chunks, true);
        assert_eq!(Value::Array(accumulated(&events)), gets, "{hide}: {}", String::from_utf8_lossy(&events));
    }

    // The client sends its turn back: Claude's thinking starts it, as Anthropic wrote it, and
    // Claude thinks on.
    let sent = next_turn(gets.as_array().map_or(&[][..], Vec::as_slice), true);
    assert_eq!(sent["thinking"]["type"], "enabled", "{sent}");
    assert_eq!(sent["messages"][1]["content"], want, "{sent}");
    // A turn without Claude's signatures (another model's, the router's unsigned thinking):
    // no thinking on the turn that continues its calls, as before.
    let unsigned = [json!({"type": "thinking", "thinking": "call f", "signature": ""}), want[2].clone()];
    let sent = next_turn(&unsigned, true);
    assert!(sent.get("thinking").is_none(), "{sent}");
    assert_eq!(sent["messages"][1]["content"], json!([want[2]]), "{sent}");
}

/// Claude's signed thinking goes back to the model that wrote it only: another Claude (`auto`
/// moved up a tier, a failover) answers a signature not its own with a 400, so its turn goes
/// without the blocks, as an unsigned turn (no thinking through that tool loop).
#[test]
fn another_model_gets_no_thinking_signed_for_another() {
    let gets = as_client_gets(&anthropic_message()["content"]);
    let turn = [json!({"role": "assistant", "content": gets}), result("toolu_1")];
    let opus = crate::protocol::Native { model: "claude-opus-4-7", upstream_model: "claude-opus-4-7", ..TO };
    let sent = sent_to(&turn, true, &opus);
    assert!(sent.get("thinking").is_none(), "{sent}");
    assert_eq!(sent["messages"][1]["content"], json!([anthropic_message()["content"][2]]), "{sent}");
    assert!(!sent.to_string().contains("model-router:"), "{sent}");
}

/// The last step of a tool loop decides: Anthropic refuses thinking on a conversation whose
/// last assistant turn called tools without signed thinking first, and another model may have
/// answered that step (`auto`, a failover: back on the first Claude, the request was a 400),
/// which nothing tells apart from a step a Claude answered without thinking. A step that
/// starts with its signed thinking keeps thinking on.
#[test]
fn the_last_step_of_a_tool_loop_decides_whether_it_goes_on_thinking() {
    let gets = as_client_gets(&anthropic_message()["content"]);
    let call = |id: &str| json!({"type": "tool_use", "id": id, "name": "f", "input": {}});
    let unsigned = json!({"role": "assistant", "content": [call("toolu_2")]});
    let turn = [
        json!({"role": "assistant", "content": gets.clone()}),
        result("toolu_1"),
        unsigned,
        result("toolu_2"),
    ];
    let sent = sent_to(&turn, true, &TO);
    assert!(sent.get("thinking").is_none(), "{sent}");
    let mut signed_step = vec![gets[0].clone()];
    signed_step.push(call("toolu_2"));
    let signed = json!({"role": "assistant", "content": signed_step});
    let turn = [json!({"role": "assistant", "content": gets}), result("toolu_1"), signed, result("toolu_2")];
    let sent = sent_to(&turn, true, &TO);
    assert_eq!(sent["thinking"]["type"], "enabled", "{sent}");
    assert_eq!(sent["messages"][3]["content"][0]["type"], "thinking", "{sent}");
    // A new request of the client's (text, no tool results) starts a turn of its own.
    let fresh = [
        json!({"role": "assistant", "content": [{"type": "text", "text": "done"}]}),
        json!({"role": "user", "content": "and now?"}),
    ];
    assert_eq!(sent_to(&fresh, true, &TO)["thinking"]["type"], "enabled");
}

/// The chat body carries the thinking as `thinking_blocks`, which every chat body (the
/// client's bytes, spliced) goes without, for any provider; other translations ignore it.
#[test]
fn every_other_api_goes_without_claudes_thinking() {
    let want = anthropic_message()["content"].clone();
    let body = json!({"model": "auto", "max_tokens": 100, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": want},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"}]}]});
    let chat = messages::to_chat(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e:?}"));
    let carried: Value = serde_json::from_slice(&chat).unwrap_or_default();
    assert_eq!(carried["messages"][1]["thinking_blocks"], json!([want[0], want[1]]), "{carried}");
    let req = parse_chat(&chat).unwrap_or_else(|e| panic!("{e}"));
    // Nor do the estimate and the context guards count it.
    let mut bare = carried.clone();
    if let Some(m) = bare["messages"][1].as_object_mut() {
        m.remove("thinking_blocks");
    }
    let bare = bare.to_string();
    let plain = parse_chat(bare.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(req.estimate(100).input_tokens, plain.estimate(100).input_tokens);
    for quirks in
        [crate::catalog::Quirks::NONE, crate::catalog::Quirks { drops: 0xF, ..crate::catalog::Quirks::NONE }]
    {
        let sent = req.layout.rewrite_for(&chat, "m", &quirks);
        let text = String::from_utf8_lossy(&sent);
        let v: Value = serde_json::from_slice(&sent).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(!text.contains("thinking_blocks") && !text.contains(SIGNATURE), "{text}");
        assert_eq!(v["messages"][1]["tool_calls"], carried["messages"][1]["tool_calls"], "{text}");
    }
    for translated in [
        crate::protocol::bedrock::request::translate(&chat, &TO),
        crate::protocol::responses::request::translate(&chat, &TO),
    ] {
        let text = String::from_utf8(translated.unwrap_or_else(|e| panic!("{e:?}"))).unwrap_or_default();
        assert!(!text.contains("thinking_blocks") && !text.contains(SIGNATURE), "{text}");
    }
}

/// A conversation that ends on Claude's turn (a prefill) is sent without thinking, and then
/// the API refuses thinking blocks in that turn: they go, the rest stays.
#[test]
fn a_prefill_goes_without_its_thinking() {
    let body = json!({"model": "auto", "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "Sure:",
         "thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": SIGNATURE}]}]});
    let sent = request::translate(body.to_string().as_bytes(), &TO).unwrap_or_else(|e| panic!("{e:?}"));
    let sent: Value = serde_json::from_slice(&sent).unwrap_or_default();
    assert_eq!(sent["messages"][1]["content"], json!([{"type": "text", "text": "Sure:"}]), "{sent}");
}

/// Two assistant messages in a row are one Anthropic turn, and a turn's thinking comes first:
/// a later message's signed thinking goes before the earlier one's text.
#[test]
fn a_merged_turn_starts_with_its_thinking() {
    let thinking = json!({"type": "thinking", "thinking": "t", "signature": SIGNATURE});
    let body = json!({"model": "auto", "tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "Looking."},
        {"role": "assistant", "content": null, "thinking_blocks": [thinking],
         "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "done"}]});
    let sent = request::translate(body.to_string().as_bytes(), &TO).unwrap_or_else(|e| panic!("{e:?}"));
    let sent: Value = serde_json::from_slice(&sent).unwrap_or_default();
    let kinds: Vec<&str> = sent["messages"][1]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert_eq!(kinds, ["thinking", "text", "tool_use"], "{sent}");
}

/// A Messages client's answer shown with its thinking hidden or not.
fn shown(hide_thinking: bool) -> crate::protocol::inbound_messages::Shown {
    crate::protocol::inbound_messages::Shown { hide_thinking, model: String::new() }
}
