//! Bedrock Converse and ConverseStream (`POST /model/{modelId}/converse[-stream]`), with the
//! members, unions and limits of botocore's `bedrock-runtime` service model, and errors as
//! `{"message"}` with the exception's name in `x-amzn-errortype`.

mod validate;

use std::io::{self, Write};
use std::net::TcpStream;
use std::thread;

use serde_json::{Value, json};

use super::{
    Answer, Pace, eventstream, percent_decode, pieces, retry_header, sha256, write_reply, write_stream,
};
use crate::mock::Received;
use validate::validate;

const REQUEST_ID: &str = "x-amzn-requestid: mock-request-id\r\n";

pub(super) fn respond(w: &mut TcpStream, req: &Received, stream: bool, pace: Pace) -> io::Result<()> {
    let provider = req.provider.as_str();
    let deny = |w: &mut TcpStream, kind: &str, message: &str| {
        let extra = format!("x-amzn-errortype: {kind}\r\n{REQUEST_ID}");
        write_reply(w, 403, provider, &json!({"message": message}), &extra)
    };
    let signed_query = req.path.contains("X-Amz-Signature=");
    if req.header("authorization").is_none() && !signed_query {
        return deny(w, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    // What Envoy's signing filter hashed must be the body that arrived.
    if let Some(hash) = req.header("x-amz-content-sha256")
        && hash != "UNSIGNED-PAYLOAD"
        && !hash.eq_ignore_ascii_case(&sha256::hex(&req.body))
    {
        let message = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
        return deny(w, "InvalidSignatureException", message);
    }
    let invalid = |w: &mut TcpStream, message: &str| {
        let extra = format!("x-amzn-errortype: ValidationException\r\n{REQUEST_ID}");
        write_reply(w, 400, provider, &json!({"message": message}), &extra)
    };
    let path = req.path.split('?').next().unwrap_or_default();
    let encoded = path.strip_prefix("/model/").and_then(|r| r.rsplit_once('/')).map_or("", |(id, _)| id);
    let model = match percent_decode(encoded) {
        Some(m) if !m.is_empty() && m.len() <= 2048 => m,
        _ => {
            return invalid(
                w,
                "1 validation error detected: Value at 'modelId' failed to satisfy constraint",
            );
        }
    };
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid(w, "Malformed input request, please reformat your input and try again.");
    };
    let ask = match validate(&body, req.body.len()) {
        Ok(ask) => ask,
        Err(message) => return invalid(w, &message),
    };
    let Some(answer) = Answer::plan(provider, &ask) else {
        return write_overflow(w, 400, provider);
    };
    let cached = has_cache_point(&body);
    let extra = format!("{REQUEST_ID}x-mock-model: {model}\r\n");
    if stream {
        let frames = stream_events(&answer, cached);
        return write_stream(w, provider, "application/vnd.amazon.eventstream", &extra, &frames, pace);
    }
    thread::sleep(pace.delay);
    let out = json!({
        "output": {"message": {"role": "assistant", "content": content(&answer)}},
        "stopReason": stop_reason(&answer),
        "usage": usage(&answer, cached),
        "metrics": {"latencyMs": pace.delay.as_millis() as u64},
    });
    write_reply(w, 200, provider, &out, &extra)
}

/// Bedrock's context-length error: a `ValidationException` saying the input is too long.
pub(super) fn write_overflow(w: &mut impl Write, status: u16, provider: &str) -> io::Result<()> {
    let extra = format!("x-amzn-errortype: ValidationException\r\n{REQUEST_ID}");
    let body = json!({"message": "Input is too long for requested model."});
    write_reply(w, status, provider, &body, &extra)
}

/// A fault in Bedrock's shape: the exception that status stands for.
pub(super) fn write_fault(
    w: &mut impl Write,
    status: u16,
    retry_after: Option<u64>,
    provider: &str,
) -> io::Result<()> {
    let (kind, message) = fault(status, provider);
    let extra = format!("x-amzn-errortype: {kind}\r\n{}", retry_header(status, retry_after));
    write_reply(w, status, provider, &json!({"message": message}), &extra)
}

/// The exception frame a stream that began carries for a fault `status` (its type named as
/// the event stream names it, `validationException`); `overflow`: the input-too-long one.
pub(super) fn exception_frame(status: u16, overflow: bool, provider: &str) -> Vec<u8> {
    let (kind, message) = fault(status, provider);
    let message = if overflow { "Input is too long for requested model.".to_string() } else { message };
    let mut kind = kind.to_string();
    if let Some(first) = kind.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    let headers = [
        (":message-type", "exception"),
        (":exception-type", kind.as_str()),
        (":content-type", "application/json"),
    ];
    eventstream::frame(&headers, json!({"message": message}).to_string().as_bytes())
}

/// The exception a fault status stands for, and its message.
fn fault(status: u16, provider: &str) -> (&'static str, String) {
    let kind = match status {
        400 => "ValidationException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        424 => "ModelErrorException",
        429 => "ThrottlingException",
        503 => "ServiceUnavailableException",
        500..=599 => "InternalServerException",
        _ => "ValidationException",
    };
    let message = match status {
        429 => format!("Too many requests, please wait before trying again. (mock {provider})"),
        _ => format!("mock {provider}: {kind} (status {status})"),
    };
    (kind, message)
}

fn stop_reason(a: &Answer) -> &'static str {
    if a.tool.is_some() { "tool_use" } else { "end_turn" }
}

fn usage(a: &Answer, cached: bool) -> Value {
    let mut u = json!({
        "inputTokens": a.input_tokens,
        "outputTokens": a.output_tokens,
        "totalTokens": a.input_tokens + a.output_tokens,
    });
    if cached {
        u["cacheReadInputTokens"] = json!(a.input_tokens / 2);
        u["cacheWriteInputTokens"] = json!(a.input_tokens / 4);
    }
    u
}

const SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";
const TOOL_USE_ID: &str = "tooluse_mock0001";

fn content(a: &Answer) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = &a.reasoning {
        out.push(json!({"reasoningContent": {"reasoningText": {"text": r, "signature": SIGNATURE}}}));
    }
    if let Some(t) = &a.text {
        out.push(json!({"text": t}));
    }
    if let Some((name, args)) = &a.tool {
        let input: Value = serde_json::from_str(args).unwrap_or_else(|_| json!({}));
        out.push(json!({"toolUse": {"toolUseId": TOOL_USE_ID, "name": name, "input": input}}));
    }
    out
}

/// The ConverseStream events of `a`, encoded: messageStart, each block (reasoning and text as
/// deltas; a tool use opened by contentBlockStart, its input in pieces), messageStop, metadata.
fn stream_events(a: &Answer, cached: bool) -> Vec<Vec<u8>> {
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    let mut index = 0;
    let delta = |i: usize, d: Value| ("contentBlockDelta", json!({"contentBlockIndex": i, "delta": d}));
    if let Some(r) = &a.reasoning {
        for word in crate::mock::reply::tokens(r) {
            events.push(delta(index, json!({"reasoningContent": {"text": word}})));
        }
        events.push(delta(index, json!({"reasoningContent": {"signature": SIGNATURE}})));
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    if let Some(t) = &a.text {
        for word in crate::mock::reply::tokens(t) {
            events.push(delta(index, json!({"text": word})));
        }
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
        index += 1;
    }
    if let Some((name, args)) = &a.tool {
        let start = json!({"toolUse": {"toolUseId": TOOL_USE_ID, "name": name}});
        events.push(("contentBlockStart", json!({"contentBlockIndex": index, "start": start})));
        for piece in pieces(args) {
            events.push(delta(index, json!({"toolUse": {"input": piece}})));
        }
        events.push(("contentBlockStop", json!({"contentBlockIndex": index})));
    }
    events.push(("messageStop", json!({"stopReason": stop_reason(a)})));
    events.push(("metadata", json!({"usage": usage(a, cached), "metrics": {"latencyMs": 1}})));
    events.iter().map(|(kind, payload)| eventstream::event(kind, payload)).collect()
}

/// Whether the request marks a prompt cache point anywhere.
fn has_cache_point(body: &Value) -> bool {
    body.to_string().contains("\"cachePoint\"")
}
