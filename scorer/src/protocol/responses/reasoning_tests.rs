//! An OpenAI model's encrypted reasoning through a chat client's tool loop: asked for
//! (`include`), given to the client tagged in `thinking_blocks` (whole and streamed), and sent
//! back as `reasoning` items before the turn it led to, to the model that wrote it only.

use serde_json::{Value, json};

use super::{request, response, stream};
use crate::protocol::Native;
use crate::protocol::reply::Meta;

const MODEL: &str = "gpt-5.3-codex";
const SECRET: &str = "gAAAAABo_x-Yz=";

fn to(model: &'static str) -> Native<'static> {
    Native { model, upstream_model: model, max_output: 128_000, quirks: crate::catalog::Quirks::NONE }
}

fn meta(reasoning: bool) -> Meta {
    Meta { id: "chatcmpl-1".into(), model: MODEL.into(), created: 7, reasoning, structured: false }
}

fn reasoning_item(encrypted: Option<&str>) -> Value {
    let mut item =
        json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Plan."}]});
    if let Some(e) = encrypted {
        item["encrypted_content"] = json!(e);
    }
    item
}

fn call_item() -> Value {
    json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"})
}

/// The chat answer to a Response whose output is `output`.
fn answer(output: Value, reasoning: bool) -> Value {
    let body = json!({"id": "resp_1", "status": "completed", "output": output}).to_string();
    let out = response::translate(body.as_bytes(), &meta(reasoning)).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// The Responses body for a chat conversation whose assistant turn is `assistant`.
fn sent(assistant: &Value, model: &'static str) -> Value {
    let body = json!({"model": "auto", "messages": [
        {"role": "user", "content": "go"},
        assistant,
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
    ]});
    let out = request::translate(body.to_string().as_bytes(), &to(model)).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn every_request_asks_for_the_encrypted_reasoning() {
    let body = br#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#;
    let out: Value = serde_json::from_slice(&request::translate(body, &to(MODEL)).unwrap()).unwrap();
    assert_eq!(out["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(out["store"], json!(false));
}

#[test]
fn a_whole_answer_carries_the_reasoning_tagged_and_the_next_step_sends_it_back_first() {
    let chat = answer(json!([reasoning_item(Some(SECRET)), call_item()]), false);
    let message = &chat["choices"][0]["message"];
    let blocks = message["thinking_blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["type"], "reasoning");
    assert_eq!(blocks[0]["id"], "rs_1");
    assert_eq!(blocks[0]["encrypted_content"], format!("model-router:openai:{MODEL}:{SECRET}"));
    // The client did not ask for reasoning: no text, but the reasoning still goes on.
    assert!(message.get("reasoning_content").is_none());

    let input = sent(message, MODEL)["input"].as_array().unwrap().clone();
    let kinds: Vec<&str> = input.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message", "reasoning", "function_call", "function_call_output"]);
    assert_eq!(
        input[1],
        json!({"type": "reasoning", "id": "rs_1", "encrypted_content": SECRET,
            "summary": [{"type": "summary_text", "text": "Plan."}]})
    );
}

#[test]
fn another_models_reasoning_and_claudes_thinking_stay_behind() {
    let chat = answer(json!([reasoning_item(Some(SECRET)), call_item()]), true);
    let mut message = chat["choices"][0]["message"].clone();
    let input = sent(&message, "gpt-5.5")["input"].as_array().unwrap().clone();
    assert!(input.iter().all(|i| i["type"] != "reasoning"), "{input:?}");
    // Claude's thinking is not an OpenAI model's to read; a client's own untagged value is.
    message["thinking_blocks"] = json!([
        {"type": "thinking", "thinking": "t", "signature": "c2ln"},
        {"type": "reasoning", "id": "rs_9", "summary": [], "encrypted_content": "gAAAAOwn"},
        {"type": "reasoning", "id": "", "encrypted_content": "gAAAAOwn"},
        {"type": "reasoning", "id": "rs_8"},
        // Naming an item the turn lacks, or tagged by no family of the router's: left out.
        {"type": "reasoning", "id": "rs_7", "summary": [], "encrypted_content": "gAAAAOwn", "before": "call:nope"},
        {"type": "reasoning", "id": "rs_6", "summary": [], "encrypted_content": "model-router:anthropic:gpt-5.3-codex:gAAAA"},
    ]);
    let input = sent(&message, MODEL)["input"].as_array().unwrap().clone();
    let reasoning: Vec<&Value> = input.iter().filter(|i| i["type"] == "reasoning").collect();
    assert_eq!(
        reasoning,
        [&json!({"type": "reasoning", "id": "rs_9", "summary": [], "encrypted_content": "gAAAAOwn"})]
    );
}

#[test]
fn a_reasoning_item_without_encrypted_content_carries_nothing() {
    let chat = answer(json!([reasoning_item(None), call_item()]), true);
    let message = &chat["choices"][0]["message"];
    assert!(message.get("thinking_blocks").is_none());
    assert_eq!(message["reasoning_content"], "Plan.");
}

#[test]
fn a_stream_sends_each_done_reasoning_item_whole_with_its_index() {
    let ev = |v: Value| format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap());
    let partial = json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAApart"});
    let second = json!({"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "gAAAAtwo"});
    let input = [
        ev(json!({"type": "response.created", "response": {}})),
        ev(json!({"type": "response.output_item.added", "output_index": 0, "item": partial})),
        ev(json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning_item(Some(SECRET))})),
        ev(json!({"type": "response.output_item.done", "output_index": 1, "item": reasoning_item(None)})),
        ev(json!({"type": "response.output_item.done", "output_index": 2, "item": second})),
        ev(json!({"type": "response.completed", "response": {"status": "completed", "usage": {"input_tokens": 3, "output_tokens": 2}}})),
    ]
    .concat();
    let mut s = stream::Stream::new(meta(false));
    let out = String::from_utf8(s.feed(input.as_bytes(), true)).unwrap();
    let blocks: Vec<Value> = out
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|e| e.pointer("/choices/0/delta/thinking_blocks").cloned())
        .collect();
    let tagged = |v: &str| format!("model-router:openai:{MODEL}:{v}");
    assert_eq!(
        blocks,
        [
            json!([{"index": 0, "type": "reasoning", "id": "rs_1", "encrypted_content": tagged(SECRET),
                "summary": [{"type": "summary_text", "text": "Plan."}]}]),
            json!([{"index": 1, "type": "reasoning", "id": "rs_2", "encrypted_content": tagged("gAAAAtwo"),
                "summary": []}]),
        ]
    );
}

/// The chat answer streamed: the Responses events of `output` (each item done whole) as chat
/// SSE.
fn chat_stream(output: &[Value]) -> Vec<u8> {
    let ev = |v: Value| format!("event: x\ndata: {v}\n\n");
    let mut input = ev(json!({"type": "response.created", "response": {}}));
    for (i, item) in output.iter().enumerate() {
        input += &ev(json!({"type": "response.output_item.added", "output_index": i, "item": item}));
        for p in item["content"].as_array().into_iter().flatten() {
            let delta = json!({"type": "response.output_text.delta", "item_id": item["id"], "output_index": i,
                "content_index": 0, "delta": p["text"]});
            input += &ev(delta);
        }
        input += &ev(json!({"type": "response.output_item.done", "output_index": i, "item": item}));
    }
    let usage = json!({"input_tokens": 3, "output_tokens": 2});
    input += &ev(json!({"type": "response.completed", "response": {"status": "completed", "usage": usage}}));
    stream::Stream::new(meta(true)).feed(input.as_bytes(), true)
}

/// The items of the Responses body a chat body (a client's next step) becomes, after the
/// user's first message, as (type, reasoning id or encrypted content).
fn turn_sent(chat_body: &[u8]) -> Vec<(String, String)> {
    let out = request::translate(chat_body, &to(MODEL)).unwrap_or_else(|e| panic!("{e}"));
    let out: Value = serde_json::from_slice(&out).unwrap();
    let items = out["input"].as_array().unwrap().iter().skip(1);
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    items.map(|i| (s(&i["type"]), s(&i["id"]) + &s(&i["encrypted_content"]))).collect()
}

fn data_events(sse: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(sse)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect()
}

fn second_reasoning() -> Value {
    json!({"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "gAAAAtwo"})
}

fn commentary() -> Value {
    json!({"type": "message", "id": "msg_1", "role": "assistant", "phase": "commentary",
        "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}]})
}

/// Answers a loop's step may give, and the items the next step sends for that turn: each
/// reasoning item directly before the item it led to (OpenAI refuses one without its item
/// after it, two in a row included), of several before one item the last.
fn loops() -> Vec<(Vec<Value>, Vec<Sent>)> {
    let r = |id: &str, e: &str| ("reasoning", format!("{id}{e}"));
    let call = ("function_call", String::new());
    vec![
        (vec![reasoning_item(Some(SECRET)), call_item()], vec![r("rs_1", SECRET), call.clone()]),
        (
            vec![reasoning_item(Some(SECRET)), commentary(), second_reasoning(), call_item()],
            vec![r("rs_1", SECRET), ("message", String::new()), r("rs_2", "gAAAAtwo"), call.clone()],
        ),
        (
            vec![reasoning_item(Some(SECRET)), second_reasoning(), call_item()],
            vec![r("rs_2", "gAAAAtwo"), call],
        ),
    ]
}

/// An item sent: its type, and a reasoning item's id and encrypted content.
type Sent = (&'static str, String);

fn assert_sent(sent: &[(String, String)], want: &[Sent], case: &str) {
    let want: Vec<(String, String)> = want
        .iter()
        .cloned()
        .map(|(k, v)| (k.to_string(), v))
        .chain([("function_call_output".to_string(), String::new())])
        .collect();
    assert_eq!(sent, want, "{case}");
}

/// A chat client (the OpenAI SDK appending the message as it came), whole and streamed.
#[test]
fn a_chat_client_sends_each_reasoning_item_back_before_the_item_it_led_to() {
    for (output, want) in loops() {
        let whole = answer(Value::Array(output.clone()), true)["choices"][0]["message"].clone();
        let mut streamed =
            json!({"role": "assistant", "content": null, "tool_calls": [], "thinking_blocks": []});
        let mut text = String::new();
        for e in data_events(&chat_stream(&output)) {
            let d = &e["choices"][0]["delta"];
            text += d["content"].as_str().unwrap_or_default();
            for b in d["thinking_blocks"].as_array().into_iter().flatten() {
                let mut b = b.clone();
                b.as_object_mut().unwrap().remove("index");
                streamed["thinking_blocks"].as_array_mut().unwrap().push(b);
            }
            for c in d["tool_calls"].as_array().into_iter().flatten().filter(|c| c["id"].is_string()) {
                let call = json!({"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": "{}"}});
                streamed["tool_calls"].as_array_mut().unwrap().push(call);
            }
        }
        if !text.is_empty() {
            streamed["content"] = json!(text);
        }
        for message in [whole, streamed] {
            let next = json!({"model": "auto", "messages": [{"role": "user", "content": "go"}, message,
                {"role": "tool", "tool_call_id": "call_1", "content": "done"}]});
            assert_sent(&turn_sent(next.to_string().as_bytes()), &want, &format!("{output:?} {message}"));
        }
    }
}

/// The Codex CLI's loop: its reasoning items, sent back as they came, carry the model's
/// encrypted reasoning to its next step, whether the answer came whole or streamed.
#[test]
fn a_responses_client_keeps_the_models_reasoning_through_its_loop() {
    use crate::protocol::inbound::{answer::to_response, events::Events, request::to_chat};
    let request = |input: Value| {
        json!({"model": MODEL, "input": input, "reasoning": {"effort": "high"}, "include": ["reasoning.encrypted_content"],
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}]})
        .to_string()
    };
    for (output, want) in loops() {
        let first = json!([{"role": "user", "content": "go"}]);
        let chat = to_chat(request(first.clone()).as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
        let whole = answer(Value::Array(output.clone()), true);
        let whole = to_response(whole.to_string().as_bytes(), &chat.echo).unwrap();
        let whole: Value = serde_json::from_slice(&whole).unwrap();
        let streamed = Events::new(chat.echo.clone(), "chatcmpl-1").feed(&chat_stream(&output), true);
        let streamed = data_events(&streamed);
        let completed = streamed.iter().find(|e| e["type"] == "response.completed").unwrap();
        for answer_output in [&whole["output"], &completed["response"]["output"]] {
            let mut input = first.as_array().unwrap().clone();
            input.extend(answer_output.as_array().unwrap().iter().cloned());
            input.push(json!({"type": "function_call_output", "call_id": "call_1", "output": "ok"}));
            let next =
                to_chat(request(Value::Array(input)).as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
            assert_sent(&turn_sent(&next.body), &want, &format!("{answer_output}"));
        }
    }
}

/// Claude Code's loop: the reasoning rides in `redacted_thinking` blocks it sends back as
/// they came, whether the answer came whole or streamed; its thinking's text shows beside them.
#[test]
fn a_messages_client_keeps_the_models_reasoning_through_its_loop() {
    use crate::protocol::inbound_messages::{answer::to_message, events::Events, request::to_chat};
    for (output, want) in loops() {
        let whole = to_message(answer(Value::Array(output.clone()), true).to_string().as_bytes()).unwrap();
        let whole: Value = serde_json::from_slice(&whole).unwrap();
        assert_eq!(
            whole["content"][0],
            json!({"type": "thinking", "thinking": "Plan.", "signature": ""}),
            "{whole}"
        );
        let streamed = data_events(&Events::new("msg_1").feed(&chat_stream(&output), true));
        // The blocks a client builds from the stream: each started block, its text deltas applied.
        let mut built: Vec<Value> = Vec::new();
        for e in &streamed {
            match e["type"].as_str() {
                Some("content_block_start") => built.push(e["content_block"].clone()),
                Some("content_block_delta") if e["delta"]["type"] == "text_delta" => {
                    let b = built.last_mut().unwrap();
                    b["text"] = json!(format!(
                        "{}{}",
                        b["text"].as_str().unwrap_or_default(),
                        e["delta"]["text"].as_str().unwrap()
                    ));
                }
                _ => {}
            }
        }
        for content in [whole["content"].clone(), Value::Array(built)] {
            let mut content = content.clone();
            for b in content.as_array_mut().unwrap() {
                if b["type"] == "tool_use" {
                    b["input"] = json!({});
                }
            }
            let next = json!({"model": MODEL, "max_tokens": 100, "messages": [
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": content},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "ok"}]},
            ]});
            let chat = to_chat(next.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            assert_sent(&turn_sent(&chat), &want, &format!("{content}"));
        }
    }
}
