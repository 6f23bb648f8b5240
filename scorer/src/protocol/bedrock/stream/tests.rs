use serde_json::{Value, json};

use super::*;
use crate::protocol::bedrock::eventstream::encode;

fn meta() -> Meta {
    Meta { id: "chatcmpl-1".into(), model: "m".into(), created: 1, reasoning: false, structured: false }
}

fn event(kind: &str, payload: Value) -> Vec<u8> {
    encode(
        &[(":event-type", kind), (":content-type", "application/json"), (":message-type", "event")],
        payload.to_string().as_bytes(),
    )
}

fn exception_frame(kind: &str, message: &str) -> Vec<u8> {
    encode(
        &[(":exception-type", kind), (":content-type", "application/json"), (":message-type", "exception")],
        json!({ "message": message }).to_string().as_bytes(),
    )
}

/// The SSE `data:` payloads of `out`, parsed (`[DONE]` as the string "[DONE]").
fn events(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.to_string())))
        .collect()
}

fn start() -> Vec<u8> {
    event("messageStart", json!({"role": "assistant"}))
}

fn stop(reason: &str) -> Vec<u8> {
    event("messageStop", json!({"stopReason": reason}))
}

fn metadata() -> Vec<u8> {
    event(
        "metadata",
        json!({"usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6}, "metrics": {"latencyMs": 1}}),
    )
}

fn run(parts: &[Vec<u8>]) -> (Vec<Value>, Stream) {
    let mut s = Stream::new(meta());
    let bytes = parts.concat();
    let out = s.feed(&bytes, true);
    (events(&out), s)
}

#[test]
fn each_exception_becomes_one_error_event_with_a_fitting_code() {
    let cases = [
        ("throttlingException", "Too many tokens", 429, "rate_limit_exceeded"),
        ("serviceQuotaExceededException", "quota", 429, "rate_limit_exceeded"),
        ("validationException", "Input is too long for requested model.", 400, "context_length_exceeded"),
        ("validationException", "bad field", 400, "provider_rejected_request"),
        ("serviceUnavailableException", "down", 503, "upstream_unavailable"),
        ("modelTimeoutException", "slow", 504, "upstream_timeout"),
        ("internalServerException", "oops", 502, "upstream_failed"),
        ("modelStreamErrorException", "broke", 502, "upstream_failed"),
        ("somethingNewException", "new", 502, "upstream_failed"),
    ];
    for (kind, message, status, code) in cases {
        let (ev, s) = run(&[start(), exception_frame(kind, message), stop("end_turn"), metadata()]);
        assert!(s.failed(), "{kind}");
        assert_eq!(ev.len(), 2, "{kind}: {ev:?}");
        assert_eq!(ev[1]["error"]["code"], code, "{kind}");
        assert!(ev[1]["error"]["message"].as_str().is_some_and(|m| m.contains(message)), "{kind}");
        let e = exception_error(kind, message);
        assert_eq!(e.status, status, "{kind}");
    }
}

fn exception_error(kind: &str, message: &str) -> ApiError {
    let frame = Frame {
        headers: vec![(":exception-type".into(), kind.into()), (":message-type".into(), "exception".into())],
        payload: json!({ "message": message }).to_string().into_bytes(),
    };
    exception(&frame)
}

#[test]
fn malformed_streams_fail_once_with_502_and_no_done() {
    let mut bad_prelude = start();
    bad_prelude[9] ^= 0x55;
    let mut bad_message = start();
    let last = bad_message.len() - 1;
    bad_message[last] ^= 0x55;
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("prelude crc", vec![start(), bad_prelude, stop("end_turn"), metadata()]),
        ("malformed tool use", vec![start(), stop("malformed_tool_use"), metadata()]),
        ("malformed model output", vec![start(), stop("malformed_model_output"), metadata()]),
        ("message crc", vec![start(), bad_message, stop("end_turn"), metadata()]),
        ("garbage", vec![b"HTTP/1.1 500 oops\r\n\r\n".to_vec()]),
        (
            "payload not json",
            vec![encode(&[(":message-type", "event"), (":event-type", "messageStart")], b"{oops")],
        ),
        ("no message type", vec![encode(&[(":event-type", "messageStart")], b"{}")]),
        ("no event type", vec![encode(&[(":message-type", "event")], b"{}")]),
        (
            "framing error",
            vec![encode(
                &[(":message-type", "error"), (":error-code", "InternalFailure"), (":error-message", "boom")],
                b"",
            )],
        ),
        ("delta without index", vec![start(), event("contentBlockDelta", json!({"delta": {"text": "x"}}))]),
        ("delta without delta", vec![start(), event("contentBlockDelta", json!({"contentBlockIndex": 0}))]),
        (
            "tool delta without start",
            vec![
                start(),
                event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{}"}}}),
                ),
            ],
        ),
        (
            "tool start without name",
            vec![
                start(),
                event(
                    "contentBlockStart",
                    json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t"}}}),
                ),
            ],
        ),
        (
            "tool start repeated",
            vec![
                start(),
                event(
                    "contentBlockStart",
                    json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}}),
                ),
                event(
                    "contentBlockStart",
                    json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "u", "name": "g"}}}),
                ),
            ],
        ),
        ("stop without reason", vec![start(), event("messageStop", json!({}))]),
        ("metadata before stop", vec![start(), metadata()]),
        (
            "delta after stop",
            vec![
                start(),
                stop("end_turn"),
                event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "x"}})),
            ],
        ),
    ];
    for (name, parts) in cases {
        let (ev, s) = run(&parts);
        assert!(s.failed(), "{name}");
        let errors: Vec<&Value> = ev.iter().filter(|e| e.get("error").is_some()).collect();
        assert_eq!(errors.len(), 1, "{name}: {ev:?}");
        assert!(ev.last().is_some_and(|e| e.get("error").is_some()), "{name}: the error is last");
        assert!(!ev.contains(&json!("[DONE]")), "{name}");
        // Everything fed after the failure is ignored.
        let mut s = s;
        assert!(s.feed(&[start(), stop("end_turn"), metadata()].concat(), true).is_empty(), "{name}");
    }
}

#[test]
fn a_stream_cut_before_metadata_ends_without_done_or_failure() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("nothing", Vec::new()),
        ("after start", start()),
        ("after stop", [start(), stop("end_turn")].concat()),
        ("inside a frame", [start(), stop("end_turn"), metadata()].concat()[..40].to_vec()),
        ("inside the last frame", {
            let all = [start(), stop("end_turn"), metadata()].concat();
            all[..all.len() - 1].to_vec()
        }),
    ];
    for (name, bytes) in cases {
        let mut s = Stream::new(meta());
        let out = s.feed(&bytes, true);
        assert!(!s.failed(), "{name}");
        assert!(!String::from_utf8_lossy(&out).contains("[DONE]"), "{name}");
    }
}

#[test]
fn a_tool_without_input_gets_empty_object_arguments_even_without_block_stop() {
    let tool = event(
        "contentBlockStart",
        json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}}),
    );
    let (ev, s) = run(&[start(), tool.clone(), stop("tool_use"), metadata()]);
    assert!(!s.failed());
    assert_eq!(
        ev[2]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "function": {"arguments": "{}"}})
    );
    assert_eq!(ev[3]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        s.tokens(),
        Some(Tokens {
            prompt: 5,
            completion: 1,
            cache_read: 0,
            cache_write: 0,
            cache_write_1h: 0,
            reasoning: 0
        })
    );
    assert_eq!(ev.last(), Some(&json!("[DONE]")));
    // A model that ends its turn of calls with end_turn: the calls still say tool_calls; one
    // that says tool_use with no call says stop.
    let (ev, _) = run(&[start(), tool, stop("end_turn"), metadata()]);
    assert_eq!(ev[3]["choices"][0]["finish_reason"], "tool_calls");
    let (ev, _) = run(&[start(), stop("tool_use"), metadata()]);
    let finish: Vec<&Value> =
        ev.iter().map(|e| &e["choices"][0]["finish_reason"]).filter(|f| f.is_string()).collect();
    assert_eq!(finish, [&json!("stop")]);
}

#[test]
fn usage_is_absent_until_reported_and_no_usage_chunk_without_it() {
    let mut s = Stream::new(meta());
    // An event type this translator does not know is skipped, even after messageStop.
    let later = event("somethingNew", json!({}));
    let out = events(&s.feed(&[start(), later.clone(), stop("end_turn"), later].concat(), false));
    assert!(!s.failed());
    assert_eq!(s.tokens(), None);
    assert_eq!(out.len(), 2);
    let rest = events(&s.feed(&event("metadata", json!({"metrics": {"latencyMs": 1}})), true));
    assert_eq!(rest, vec![json!("[DONE]")]);
    assert_eq!(s.tokens(), None);
}

#[test]
fn garbage_and_truncations_never_panic_and_stay_bounded() {
    let good = [
        start(),
        event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"text": "hello"}})),
        stop("end_turn"),
        metadata(),
    ]
    .concat();
    // A tiny deterministic generator: the scorer has no randomness, neither do its tests.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut bytes = good.clone();
        match round % 3 {
            0 => bytes = (0..(next() % 512)).map(|_| next() as u8).collect(),
            1 => {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= (next() as u8) | 1;
            }
            _ => bytes.truncate((next() as usize) % bytes.len()),
        }
        let mut s = Stream::new(meta());
        let out = s.feed(&bytes, true);
        let text = String::from_utf8_lossy(&out);
        assert!(out.len() < 8 * 1024, "round {round}: {} bytes out", out.len());
        assert!(s.failed() || !text.contains("[DONE]") || bytes == good, "round {round}: {text}");
        assert!(!(s.failed() && text.contains("[DONE]")), "round {round}");
    }
}

#[test]
fn tool_calls_past_the_cap_fail_the_stream() {
    let tool = |i: usize| {
        event(
            "contentBlockStart",
            json!({"contentBlockIndex": i, "start": {"toolUse": {"toolUseId": format!("t{i}"), "name": "f"}}}),
        )
    };
    let under: Vec<Vec<u8>> = std::iter::once(start()).chain((0..MAX_TOOL_CALLS).map(tool)).collect();
    let (_, s) = run(&under);
    assert!(!s.failed());
    let over: Vec<Vec<u8>> = std::iter::once(start()).chain((0..=MAX_TOOL_CALLS).map(tool)).collect();
    let (ev, s) = run(&over);
    assert!(s.failed());
    assert_eq!(ev.last().map(|e| e["error"]["code"].clone()), Some(json!("bad_upstream_response")));
}
