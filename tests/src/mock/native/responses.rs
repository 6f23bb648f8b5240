//! OpenAI Responses (`POST /v1/responses`): the `response` object and its streaming events
//! (each with `type` and `sequence_number`), errors in OpenAI's shape.

use std::io::{self, Write};
use std::net::TcpStream;
use std::thread;

use serde_json::{Value, json};

use super::{Answer, Ask, Pace, Tool, pieces, sse, write_reply, write_stream};
use crate::mock::reply::{CREATED, error, tokens};
use crate::mock::validate::responses::ENCRYPTED_REASONING;
use crate::mock::{Received, validate};

pub(super) fn respond(w: &mut TcpStream, req: &Received, pace: Pace) -> io::Result<()> {
    let provider = req.provider.as_str();
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        let e = error(
            "We could not parse the JSON body of your request. [mock]",
            "invalid_request_error",
            None,
            None,
        );
        return write_reply(w, 400, provider, &e, "");
    };
    let conversation = match validate::responses::responses(&body) {
        Ok(c) => c,
        Err(e) => {
            let body = error(&e.message, "invalid_request_error", e.param.as_deref(), e.code);
            return write_reply(w, 400, provider, &body, "");
        }
    };
    let ask = Ask {
        last_user_text: conversation.last_user_text,
        tool_result_of: conversation.tool_result_of,
        first_tool: conversation.first_tool.map(|(name, schema)| Tool { name, schema }),
        request_bytes: req.body.len(),
    };
    let Some(answer) = Answer::plan(provider, &ask) else {
        return write_overflow(w, 400, provider);
    };
    let cached = body.get("prompt_cache_key").is_some();
    let encrypted =
        body["include"].as_array().is_some_and(|i| i.iter().any(|v| v == "reasoning.encrypted_content"));
    let done = response(&body, "completed", output(&answer, encrypted), usage(&answer, cached));
    if body["stream"].as_bool() == Some(true) {
        let frames: Vec<Vec<u8>> = stream_events(&body, &answer, encrypted, done).iter().map(sse).collect();
        return write_stream(w, provider, "text/event-stream", "", &frames, pace);
    }
    thread::sleep(pace.delay);
    write_reply(w, 200, provider, &done, "")
}

/// The Responses API's context-length error, in OpenAI's shape with its code.
pub(super) fn write_overflow(w: &mut impl Write, status: u16, provider: &str) -> io::Result<()> {
    let message =
        "Your input exceeds the context window of this model. Please adjust your input and try again.";
    let e = error(message, "invalid_request_error", Some("input"), Some("context_length_exceeded"));
    write_reply(w, status, provider, &e, "")
}

const MESSAGE_ID: &str = "msg_mock0001";
const CALL_ITEM_ID: &str = "fc_mock0001";
const CALL_ID: &str = "call_mock0001";
const REASONING_ID: &str = "rs_mock0001";

/// `usage`: with a `prompt_cache_key`, half the input is reported cached.
fn usage(a: &Answer, cached: bool) -> Value {
    let reasoning = a.reasoning.as_deref().map_or(0, |r| r.split_whitespace().count());
    json!({
        "input_tokens": a.input_tokens,
        "input_tokens_details": {"cached_tokens": if cached { a.input_tokens / 2 } else { 0 }},
        "output_tokens": a.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": a.input_tokens + a.output_tokens,
    })
}

/// The `response` object, with the request's settings echoed as the API echoes them.
fn response(body: &Value, status: &str, output: Vec<Value>, usage: Value) -> Value {
    let or = |key: &str, default: Value| body.get(key).cloned().unwrap_or(default);
    json!({
        "id": "resp_mock0001",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "instructions": or("instructions", Value::Null),
        "max_output_tokens": or("max_output_tokens", Value::Null),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": or("parallel_tool_calls", json!(true)),
        "previous_response_id": or("previous_response_id", Value::Null),
        "reasoning": or("reasoning", json!({"effort": null, "summary": null})),
        "store": or("store", json!(true)),
        "temperature": or("temperature", json!(1.0)),
        "text": or("text", json!({"format": {"type": "text"}})),
        "tool_choice": or("tool_choice", json!("auto")),
        "tools": or("tools", json!([])),
        "top_p": or("top_p", json!(1.0)),
        "truncation": or("truncation", json!("disabled")),
        "usage": if status == "completed" { usage } else { Value::Null },
        "user": or("user", Value::Null),
        "metadata": or("metadata", json!({})),
    })
}

/// A reasoning item, with its encrypted content when the request asked for it (`include`).
fn reasoning_item(text: &str, encrypted: bool) -> Value {
    let mut item =
        json!({"id": REASONING_ID, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]});
    if encrypted {
        item["encrypted_content"] = json!(ENCRYPTED_REASONING);
    }
    item
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

fn message_item(status: &str, content: Vec<Value>) -> Value {
    json!({"id": MESSAGE_ID, "type": "message", "status": status, "role": "assistant", "content": content})
}

fn call_item(status: &str, name: &str, arguments: &str) -> Value {
    json!({"id": CALL_ITEM_ID, "type": "function_call", "status": status, "call_id": CALL_ID, "name": name, "arguments": arguments})
}

fn output(a: &Answer, encrypted: bool) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = &a.reasoning {
        out.push(reasoning_item(r, encrypted));
    }
    if let Some(t) = &a.text {
        out.push(message_item("completed", vec![text_part(t)]));
    }
    if let Some((name, args)) = &a.tool {
        out.push(call_item("completed", name, args));
    }
    out
}

/// The events of a streamed response: created, in_progress, each output item (added, its
/// deltas, done), completed with the whole response.
fn stream_events(body: &Value, a: &Answer, encrypted: bool, done: Value) -> Vec<Value> {
    let in_flight = |status: &str| response(body, status, Vec::new(), Value::Null);
    let mut events = vec![
        json!({"type": "response.created", "response": in_flight("in_progress")}),
        json!({"type": "response.in_progress", "response": in_flight("in_progress")}),
    ];
    let mut index = 0;
    if let Some(r) = &a.reasoning {
        let (id, at) = (REASONING_ID, index);
        let empty = json!({"id": id, "type": "reasoning", "summary": []});
        events.push(json!({"type": "response.output_item.added", "output_index": at, "item": empty}));
        let part = json!({"type": "summary_text", "text": ""});
        events.push(json!({"type": "response.reasoning_summary_part.added", "item_id": id, "output_index": at, "summary_index": 0, "part": part}));
        for t in tokens(r) {
            events.push(json!({"type": "response.reasoning_summary_text.delta", "item_id": id, "output_index": at, "summary_index": 0, "delta": t}));
        }
        events.push(json!({"type": "response.reasoning_summary_text.done", "item_id": id, "output_index": at, "summary_index": 0, "text": r}));
        let part = json!({"type": "summary_text", "text": r});
        events.push(json!({"type": "response.reasoning_summary_part.done", "item_id": id, "output_index": at, "summary_index": 0, "part": part}));
        events.push(
            json!({"type": "response.output_item.done", "output_index": at, "item": reasoning_item(r, encrypted)}),
        );
        index += 1;
    }
    if let Some(text) = &a.text {
        let (id, at) = (MESSAGE_ID, index);
        let item = message_item("in_progress", Vec::new());
        events.push(json!({"type": "response.output_item.added", "output_index": at, "item": item}));
        events.push(json!({"type": "response.content_part.added", "item_id": id, "output_index": at, "content_index": 0, "part": text_part("")}));
        for t in tokens(text) {
            events.push(json!({"type": "response.output_text.delta", "item_id": id, "output_index": at, "content_index": 0, "delta": t, "logprobs": []}));
        }
        events.push(json!({"type": "response.output_text.done", "item_id": id, "output_index": at, "content_index": 0, "text": text, "logprobs": []}));
        events.push(json!({"type": "response.content_part.done", "item_id": id, "output_index": at, "content_index": 0, "part": text_part(text)}));
        let item = message_item("completed", vec![text_part(text)]);
        events.push(json!({"type": "response.output_item.done", "output_index": at, "item": item}));
        index += 1;
    }
    if let Some((name, args)) = &a.tool {
        let (id, at) = (CALL_ITEM_ID, index);
        let item = call_item("in_progress", name, "");
        events.push(json!({"type": "response.output_item.added", "output_index": at, "item": item}));
        for p in pieces(args) {
            events.push(json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": at, "delta": p}));
        }
        events.push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": at, "name": name, "arguments": args}));
        events.push(json!({"type": "response.output_item.done", "output_index": at, "item": call_item("completed", name, args)}));
    }
    events.push(json!({"type": "response.completed", "response": done}));
    for (n, e) in events.iter_mut().enumerate() {
        e["sequence_number"] = json!(n);
    }
    events
}
