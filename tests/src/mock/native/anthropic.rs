//! Anthropic Messages (`POST /v1/messages`), with the request params and content blocks of the
//! official SDK's types and the API's documented rules (tool pairs, thinking budgets), and
//! errors as `{"type":"error","error":{"type","message"}}` with a `request-id` header.

mod validate;

use std::io::{self, Write};
use std::net::TcpStream;
use std::thread;

use serde_json::{Value, json};

use super::{Answer, Pace, pieces, retry_header, sse, write_reply, write_stream};
use crate::mock::Received;
use validate::validate;

const REQUEST_ID: &str = "request-id: req_mock0001\r\n";

/// Token counting, beside the Messages path.
pub const COUNT_PATH: &str = "/v1/messages/count_tokens";

fn error(
    w: &mut impl Write,
    status: u16,
    kind: &str,
    message: &str,
    provider: &str,
    extra: &str,
) -> io::Result<()> {
    let body =
        json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mock0001"});
    write_reply(w, status, provider, &body, &format!("{REQUEST_ID}{extra}"))
}

pub(super) fn respond(w: &mut TcpStream, req: &Received, pace: Pace) -> io::Result<()> {
    let provider = req.provider.as_str();
    if req.header("x-api-key").is_none() && req.header("authorization").is_none() {
        return error(w, 401, "authentication_error", "x-api-key header is required", provider, "");
    }
    let invalid =
        |w: &mut TcpStream, message: &str| error(w, 400, "invalid_request_error", message, provider, "");
    if req.header("anthropic-version").is_none() {
        return invalid(w, "anthropic-version: header is required");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid(w, "There was an issue with your request body: it is not valid JSON.");
    };
    let counting = req.path.split('?').next().is_some_and(|p| p.ends_with(COUNT_PATH));
    let ask = match validate(&body, req.body.len(), counting) {
        Ok(ask) => ask,
        Err(message) => return invalid(w, &message),
    };
    if counting {
        // Counted as a generation's input is ([`Answer::plan`]): a token per four bytes.
        return write_reply(w, 200, provider, &json!({"input_tokens": req.body.len() / 4}), REQUEST_ID);
    }
    let Some(mut answer) = Answer::plan(provider, &ask) else {
        return write_overflow(w, 400, provider);
    };
    // Structured output: the text is JSON following the schema (its first property set).
    if let (Some(schema), Some(_)) = (body.pointer("/output_config/format/schema"), &answer.text) {
        answer.text = Some(super::tool_arguments(schema).to_string());
    }
    // Thinking on (`enabled` or `adaptive`): Claude thinks before it answers.
    if matches!(body["thinking"]["type"].as_str(), Some("enabled" | "adaptive")) && answer.reasoning.is_none()
    {
        answer.reasoning = Some(format!("mock thinking from {provider}"));
        answer.output_tokens += 4;
    }
    let model = body["model"].as_str().unwrap_or_default();
    let text = body.to_string();
    let usage = usage(&answer, text.contains("\"cache_control\""), text.contains("\"ttl\":\"1h\""));
    if body["stream"].as_bool() == Some(true) {
        let frames: Vec<Vec<u8>> = stream_events(&answer, model, &usage).iter().map(sse).collect();
        return write_stream(w, provider, "text/event-stream", REQUEST_ID, &frames, pace);
    }
    thread::sleep(pace.delay);
    let out = json!({
        "id": "msg_mock0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content(&answer),
        "stop_reason": stop_reason(&answer),
        "stop_sequence": null,
        "usage": usage,
    });
    write_reply(w, 200, provider, &out, REQUEST_ID)
}

/// Anthropic's context-length error: the prompt is over the model's window.
pub(super) fn write_overflow(w: &mut impl Write, status: u16, provider: &str) -> io::Result<()> {
    let message = "prompt is too long: 250000 tokens > 200000 maximum";
    error(w, status, "invalid_request_error", message, provider, "")
}

/// A fault in Anthropic's shape: the error type that status stands for.
pub(super) fn write_fault(
    w: &mut impl Write,
    status: u16,
    retry_after: Option<u64>,
    provider: &str,
) -> io::Result<()> {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    let message = match status {
        529 => format!("Overloaded (mock {provider})"),
        _ => format!("mock {provider}: {kind} (status {status})"),
    };
    error(w, status, kind, &message, provider, &retry_header(status, retry_after))
}

fn stop_reason(a: &Answer) -> &'static str {
    if a.tool.is_some() { "tool_use" } else { "end_turn" }
}

/// Usage; with `cache_control` in the request, part of the input is reported as cache
/// writes and reads (input_tokens counts only the rest, as the API counts it), the writes
/// split by cache lifetime in `cache_creation` (all to the one-hour cache when the request
/// asks for it anywhere).
fn usage(a: &Answer, cached: bool, hour: bool) -> Value {
    let (read, write) = if cached { (a.input_tokens / 2, a.input_tokens / 4) } else { (0, 0) };
    let (five, one) = if hour { (0, write) } else { (write, 0) };
    json!({
        "input_tokens": a.input_tokens - read - write,
        "output_tokens": a.output_tokens,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": one},
    })
}

/// The signature of every thinking block the mock writes, and the only one it takes back.
const SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";
const TOOL_USE_ID: &str = "toolu_mock0001";

fn content(a: &Answer) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = &a.reasoning {
        out.push(json!({"type": "thinking", "thinking": r, "signature": SIGNATURE}));
    }
    if let Some(t) = &a.text {
        out.push(json!({"type": "text", "text": t}));
    }
    if let Some((name, args)) = &a.tool {
        let input: Value = serde_json::from_str(args).unwrap_or_else(|_| json!({}));
        out.push(json!({"type": "tool_use", "id": TOOL_USE_ID, "name": name, "input": input}));
    }
    out
}

/// The SSE events of `a`: message_start, each block (start, ping after the first, deltas,
/// stop), message_delta with the stop reason and cumulative output tokens, message_stop.
fn stream_events(a: &Answer, model: &str, usage: &Value) -> Vec<Value> {
    let mut start_usage = usage.clone();
    start_usage["output_tokens"] = json!(1);
    let message = json!({
        "id": "msg_mock0001", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null, "usage": start_usage,
    });
    let mut events = vec![json!({"type": "message_start", "message": message})];
    let mut blocks: Vec<(Value, Vec<Value>)> = Vec::new();
    if let Some(r) = &a.reasoning {
        let mut deltas: Vec<Value> =
            crate::mock::reply::tokens(r).map(|t| json!({"type": "thinking_delta", "thinking": t})).collect();
        deltas.push(json!({"type": "signature_delta", "signature": SIGNATURE}));
        blocks.push((json!({"type": "thinking", "thinking": "", "signature": ""}), deltas));
    }
    if let Some(t) = &a.text {
        let deltas =
            crate::mock::reply::tokens(t).map(|t| json!({"type": "text_delta", "text": t})).collect();
        blocks.push((json!({"type": "text", "text": ""}), deltas));
    }
    if let Some((name, args)) = &a.tool {
        let deltas = pieces(args).into_iter().map(|p| json!({"type": "input_json_delta", "partial_json": p}));
        let block = json!({"type": "tool_use", "id": TOOL_USE_ID, "name": name, "input": {}});
        blocks.push((block, deltas.collect()));
    }
    for (index, (block, deltas)) in blocks.into_iter().enumerate() {
        events.push(json!({"type": "content_block_start", "index": index, "content_block": block}));
        if index == 0 {
            events.push(json!({"type": "ping"}));
        }
        for d in deltas {
            events.push(json!({"type": "content_block_delta", "index": index, "delta": d}));
        }
        events.push(json!({"type": "content_block_stop", "index": index}));
    }
    let delta = json!({"stop_reason": stop_reason(a), "stop_sequence": null});
    events
        .push(json!({"type": "message_delta", "delta": delta, "usage": {"output_tokens": a.output_tokens}}));
    events.push(json!({"type": "message_stop"}));
    events
}
