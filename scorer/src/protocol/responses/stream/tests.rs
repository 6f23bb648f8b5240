use serde_json::{Value, json};

use super::*;
use crate::protocol::responses::golden::{STREAMS, meta, stream_input};
use crate::protocol::responses::sse::MAX_EVENT;

/// One event as Responses frames it.
fn ev(v: Value) -> String {
    let kind = v["type"].as_str().unwrap_or("x").to_string();
    format!("event: {kind}\ndata: {v}\n\n")
}

fn run(input: &str, reasoning: bool) -> (String, Stream) {
    let mut s = Stream::new(meta(reasoning));
    let out = s.feed(input.as_bytes(), true);
    (String::from_utf8(out).unwrap(), s)
}

/// The JSON of each `data:` event in `out` (`[DONE]` as the string "[DONE]").
fn events(out: &str) -> Vec<Value> {
    out.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| json!(d)))
        .collect()
}

fn deltas(out: &str) -> Vec<Value> {
    events(out).iter().filter_map(|e| e.pointer("/choices/0/delta").cloned()).collect()
}

fn completed(usage: Value) -> String {
    ev(json!({"type": "response.completed", "response": {"status": "completed", "usage": usage}}))
}

#[test]
fn every_split_gives_the_same_output_as_one_call() {
    for (case, reasoning) in STREAMS {
        let input = stream_input(case);
        let mut whole = Stream::new(meta(reasoning));
        let want = whole.feed(&input, true);
        for at in 0..=input.len() {
            let (a, b) = input.split_at(at);
            let mut s = Stream::new(meta(reasoning));
            let mut got = s.feed(a, false);
            got.extend(s.feed(b, true));
            assert!(got == want, "{case} split at {at}:\n{}", String::from_utf8_lossy(&got));
            assert_eq!((s.failed(), s.tokens()), (whole.failed(), whole.tokens()), "{case} split at {at}");
        }
        let mut s = Stream::new(meta(reasoning));
        let mut got = Vec::new();
        for (i, b) in input.iter().enumerate() {
            got.extend(s.feed(std::slice::from_ref(b), i + 1 == input.len()));
        }
        assert!(got == want, "{case} byte by byte:\n{}", String::from_utf8_lossy(&got));
    }
}

/// Events with empty data (`data:`, or `data` without its colon) ask nothing: the stream reads
/// on as without them (they failed it).
#[test]
fn events_with_empty_data_are_skipped() {
    for (case, reasoning) in STREAMS {
        let input = String::from_utf8_lossy(&stream_input(case)).into_owned();
        let (want, whole) = run(&input, reasoning);
        let padded = input.replacen("\n\n", "\n\ndata:\n\ndata\n\n", 2);
        let (got, s) = run(&padded, reasoning);
        assert!(s.failed() == whole.failed() && got == want, "{case}:\n{got}");
    }
}

#[test]
fn a_cut_stream_ends_without_done_and_without_an_error_of_its_own() {
    for (case, reasoning) in STREAMS {
        let input = stream_input(case);
        let full = String::from_utf8(input.clone()).unwrap();
        // The last event's start: any cut before its end loses the terminal event.
        let last = full.trim_end().rfind("event: ").unwrap();
        for at in 0..last {
            let mut s = Stream::new(meta(reasoning));
            let out = String::from_utf8(s.feed(&input[..at], true)).unwrap();
            assert!(!out.contains("[DONE]"), "{case} cut at {at}: {out}");
            let errors = events(&out).iter().filter(|e| e.get("error").is_some()).count();
            let failing = matches!(case, "failed" | "error");
            assert!(errors == 0 || failing, "{case} cut at {at}: {out}");
            assert_eq!(s.failed(), errors > 0, "{case} cut at {at}");
        }
    }
}

/// Bytes random SSE-looking garbage is made of.
const SSE_BYTES: &[u8] = b"data: {}\n\r:x\"[]";

#[test]
fn garbage_never_panics_stays_bounded_and_never_ends_with_done() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as u8
    };
    let samples: Vec<Vec<u8>> = vec![
        (0..4096).map(|_| next()).collect(),
        (0..4096).map(|_| SSE_BYTES[usize::from(next()) % SSE_BYTES.len()]).collect(),
        b"data: {\"type\":\"response.output_text.delta\"\n\n".to_vec(),
        b"data: {\"type\":\"response.completed\"}\n\n".to_vec(),
        b"data: not json\n\n".to_vec(),
        b"data: {\"no\":\"type\"}\n\n".to_vec(),
        b"data: \xff\xfe\n\n".to_vec(),
        b"<!DOCTYPE html><html>502 Bad Gateway</html>\n".to_vec(),
    ];
    for input in samples {
        for chunk in [1, 7, 4096] {
            let mut s = Stream::new(meta(true));
            let mut out = Vec::new();
            let parts: Vec<&[u8]> = input.chunks(chunk).collect();
            for (i, p) in parts.iter().enumerate() {
                out.extend(s.feed(p, i + 1 == parts.len()));
            }
            let text = String::from_utf8_lossy(&out);
            assert!(out.len() <= 4 * input.len() + 1024, "unbounded output for {input:?}");
            assert!(!text.contains("[DONE]"), "{text}");
            let errors = text.matches("\"error\"").count();
            assert!(errors <= 1, "{text}");
            assert_eq!(s.failed(), errors == 1, "{text}");
            if errors == 1 {
                assert!(text.trim_end().ends_with('}') && text.contains("bad_upstream_response"), "{text}");
            }
        }
    }
}

#[test]
fn malformed_events_fail_once_and_what_follows_is_ignored() {
    let text = |d: &str| ev(json!({"type": "response.output_text.delta", "item_id": "m", "delta": d}));
    let cases = [
        format!("{}data: {{oops\n\n{}", text("a"), text("b")),
        format!("{}data: {{\"delta\":\"x\"}}\n\n{}", text("a"), text("b")),
        format!(
            "{}{}{}",
            text("a"),
            ev(json!({"type": "response.output_text.delta", "item_id": "m"})),
            text("b")
        ),
        format!("{}{}", ev(json!({"type": "response.output_item.added"})), text("b")),
        format!("{}{}", ev(json!({"type": "response.completed"})), text("b")),
        format!(
            "{}{}",
            ev(json!({"type": "response.output_item.added", "item": {"type": "function_call", "name": "f"}})),
            text("b")
        ),
    ];
    for input in cases {
        let (out, s) = run(&input, false);
        let evs = events(&out);
        assert!(s.failed(), "{input}");
        assert_eq!(
            evs.last().and_then(|e| e.pointer("/error/code")),
            Some(&json!("bad_upstream_response")),
            "{out}"
        );
        assert!(!out.contains("\"b\"") && !out.contains("[DONE]"), "{out}");
        let mut s = s;
        assert!(s.feed(text("c").as_bytes(), true).is_empty(), "after a failure nothing is sent");
    }
}

#[test]
fn an_event_over_the_cap_fails_the_stream() {
    let mut s = Stream::new(meta(false));
    let mut out = s.feed(b"data: {\"type\":\"response.output_text.delta\",\"delta\":\"", false);
    let block = vec![b'a'; 1 << 20];
    for _ in 0..=(MAX_EVENT >> 20) {
        out.extend(s.feed(&block, false));
    }
    let text = String::from_utf8_lossy(&out);
    assert!(s.failed() && text.contains("larger than 16 MiB"), "{text}");
    assert_eq!(text.matches("\"error\"").count(), 1);
}

#[test]
fn provider_errors_become_one_error_event_with_their_message() {
    let cases = [
        (
            ev(
                json!({"type": "error", "code": "rate_limit_exceeded", "message": "Slow down", "param": null}),
            ),
            "rate_limit_exceeded",
            "rate_limit_error",
            "Slow down",
        ),
        (
            ev(
                json!({"type": "error", "error": {"type": "invalid_request_error", "code": "context_length_exceeded",
                "message": "Your input exceeds the context window of this model."}}),
            ),
            "context_length_exceeded",
            "invalid_request_error",
            "context window",
        ),
        (
            ev(json!({"type": "response.failed", "response": {"status": "failed",
                "error": {"code": "invalid_prompt", "message": "Flagged"}}})),
            "provider_rejected_request",
            "invalid_request_error",
            "invalid_prompt",
        ),
        (
            ev(json!({"type": "response.failed", "response": {"status": "failed", "error": null}})),
            "upstream_failed",
            "server_error",
            "no message",
        ),
    ];
    for (input, code, kind, says) in cases {
        let (out, s) =
            run(&format!("{input}{}", completed(json!({"input_tokens": 1, "output_tokens": 1}))), false);
        let evs = events(&out);
        assert_eq!(evs.len(), 1, "{out}");
        let e = &evs[0]["error"];
        assert_eq!((e["code"].as_str(), e["type"].as_str()), (Some(code), Some(kind)), "{out}");
        assert!(e["message"].as_str().is_some_and(|m| m.contains(says)), "{out}");
        assert!(s.failed());
    }
}

#[test]
fn tool_calls_are_numbered_in_order_and_always_end_with_arguments() {
    let added = |i: u64, id: &str, call: &str, name: &str| {
        ev(json!({"type": "response.output_item.added", "output_index": i,
            "item": {"type": "function_call", "id": id, "call_id": call, "name": name, "arguments": ""}}))
    };
    let input = [
        ev(json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "reasoning", "id": "rs"}})),
        added(1, "fc_a", "call_a", "a"),
        // Named by output index only.
        ev(json!({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{\"x\":"})),
        ev(json!({"type": "response.function_call_arguments.delta", "item_id": "fc_a", "output_index": 1, "delta": "1}"})),
        // Done repeats what the deltas sent: nothing more.
        ev(json!({"type": "response.function_call_arguments.done", "item_id": "fc_a", "output_index": 1, "arguments": "{\"x\":1}"})),
        ev(json!({"type": "response.output_item.done", "output_index": 1,
            "item": {"type": "function_call", "id": "fc_a", "call_id": "call_a", "name": "a", "arguments": "{\"x\":1}"}})),
        // A call with no argument events at all.
        added(2, "fc_b", "call_b", "b"),
        // A call seen only when done, arguments with it.
        ev(json!({"type": "response.output_item.done", "output_index": 3,
            "item": {"type": "function_call", "id": "fc_c", "call_id": "call_c", "name": "c", "arguments": "{\"y\":2}"}})),
        // Deltas for an item never announced are dropped.
        ev(json!({"type": "response.function_call_arguments.delta", "item_id": "fc_zzz", "output_index": 9, "delta": "junk"})),
        completed(json!({"input_tokens": 3, "output_tokens": 4})),
    ]
    .concat();
    let (out, s) = run(&input, false);
    let want = vec![
        json!({"role": "assistant", "content": ""}),
        json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "a", "arguments": ""}}]}),
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]}),
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}),
        json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "b", "arguments": ""}}]}),
        json!({"tool_calls": [{"index": 2, "id": "call_c", "type": "function", "function": {"name": "c", "arguments": ""}}]}),
        json!({"tool_calls": [{"index": 2, "function": {"arguments": "{\"y\":2}"}}]}),
        json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
        json!({}),
    ];
    assert_eq!(deltas(&out), want, "{out}");
    let evs = events(&out);
    assert_eq!(evs[evs.len() - 3]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(evs[evs.len() - 2]["usage"]["total_tokens"], 7);
    assert_eq!(evs[evs.len() - 1], json!("[DONE]"));
    assert_eq!(s.tokens(), Some(Tokens { prompt: 3, completion: 4, ..Tokens::default() }));
    assert!(!s.failed());
}

#[test]
fn reasoning_is_sent_only_when_asked_and_parts_are_paragraphs() {
    let r = |kind: &str, item: &str, index: &str, i: u64, d: &str| {
        let mut v = json!({"type": kind, "item_id": item, "delta": d});
        v[index] = json!(i);
        ev(v)
    };
    let input = [
        r("response.reasoning_summary_text.delta", "rs1", "summary_index", 0, "a"),
        r("response.reasoning_summary_text.delta", "rs1", "summary_index", 0, "b"),
        r("response.reasoning_summary_text.delta", "rs1", "summary_index", 1, ""),
        r("response.reasoning_summary_text.delta", "rs1", "summary_index", 1, "c"),
        r("response.reasoning_text.delta", "rs1", "content_index", 0, "d"),
        r("response.reasoning_summary_text.delta", "rs2", "summary_index", 0, "e"),
        r("response.output_text.delta", "m1", "content_index", 0, "x"),
        r("response.output_text.delta", "m1", "content_index", 1, "y"),
        r("response.output_text.delta", "m2", "content_index", 0, ""),
        r("response.output_text.delta", "m2", "content_index", 0, "z"),
        completed(json!(null)),
    ]
    .concat();
    let (out, _) = run(&input, true);
    let reasoning: String = deltas(&out).iter().filter_map(|d| d["reasoning_content"].as_str()).collect();
    let content: String = deltas(&out).iter().filter_map(|d| d["content"].as_str()).collect();
    assert_eq!((reasoning.as_str(), content.as_str()), ("ab\n\nc\n\nd\n\ne", "xy\n\nz"));
    let (out, s) = run(&input, false);
    assert!(!out.contains("reasoning_content"), "{out}");
    // No usage reported: no usage chunk, still a finish and [DONE].
    assert_eq!(s.tokens(), None);
    assert!(!out.contains("\"usage\"") && out.ends_with("data: [DONE]\n\n"), "{out}");
}

#[test]
fn the_role_chunk_comes_first_once_and_ignored_events_send_nothing() {
    let input = [
        ev(json!({"type": "response.queued", "response": {}})),
        ev(json!({"type": "response.created", "response": {}})),
        ev(json!({"type": "response.in_progress", "response": {}})),
        ev(json!({"type": "response.web_search_call.searching", "item_id": "ws"})),
        ev(json!({"type": "response.some_future_event", "x": 1})),
        ev(json!({"type": "response.output_text.done", "item_id": "m", "text": "whole"})),
        "data: [DONE]\n\n".to_string(),
        ": keep-alive\n\n".to_string(),
    ]
    .concat();
    let (out, s) = run(&input, false);
    assert_eq!(deltas(&out), vec![json!({"role": "assistant", "content": ""})], "{out}");
    assert!(!s.failed() && !out.contains("[DONE]"));
    // A delta with no opening event still gets the role chunk before it.
    let (out, _) =
        run(&ev(json!({"type": "response.output_text.delta", "item_id": "m", "delta": "hi"})), false);
    assert_eq!(deltas(&out), vec![json!({"role": "assistant", "content": ""}), json!({"content": "hi"})]);
    // Without item ids (some compatible servers) text still flows, as one paragraph.
    let input = [
        ev(json!({"type": "response.output_text.delta", "delta": "a"})),
        ev(json!({"type": "response.output_text.delta", "delta": "b"})),
    ]
    .concat();
    let (out, s) = run(&input, false);
    let content: String = deltas(&out).iter().filter_map(|d| d["content"].as_str()).collect();
    assert_eq!(content, "ab");
    assert!(!s.failed());
}

#[test]
fn the_final_event_decides_the_finish_reason_and_nothing_follows_done() {
    let cases = [
        (ev(json!({"type": "response.completed", "response": {}})), "stop"),
        (
            ev(
                json!({"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"}}}),
            ),
            "length",
        ),
        (
            ev(
                json!({"type": "response.incomplete", "response": {"incomplete_details": {"reason": "content_filter"}}}),
            ),
            "content_filter",
        ),
        (ev(json!({"type": "response.incomplete", "response": {"status": "completed"}})), "length"),
    ];
    for (input, want) in cases {
        let after = ev(json!({"type": "response.output_text.delta", "item_id": "m", "delta": "late"}));
        let (out, mut s) = run(&format!("{input}{after}"), false);
        let evs = events(&out);
        assert_eq!(evs[evs.len() - 2]["choices"][0]["finish_reason"], want, "{out}");
        assert!(!out.contains("late") && out.ends_with("data: [DONE]\n\n"), "{out}");
        assert!(s.feed(after.as_bytes(), true).is_empty());
    }
}

#[test]
fn a_whole_last_event_without_its_blank_line_is_read() {
    let input = completed(json!({"input_tokens": 1, "output_tokens": 2}));
    let (out, s) = run(input.trim_end(), false);
    assert!(out.ends_with("data: [DONE]\n\n"), "{out}");
    assert_eq!(s.tokens().map(|t| t.completion), Some(2));
}

#[test]
fn a_failed_response_keeps_its_usage() {
    let input = ev(json!({"type": "response.failed", "response": {"status": "failed",
        "error": {"code": "server_error", "message": "boom"}, "usage": {"input_tokens": 5, "output_tokens": 1}}}));
    let (_, s) = run(&input, false);
    assert!(s.failed());
    assert_eq!(s.tokens(), Some(Tokens { prompt: 5, completion: 1, ..Tokens::default() }));
}

#[test]
fn a_stream_of_endless_function_calls_is_cut_off() {
    let call = |i: usize| {
        ev(json!({"type": "response.output_item.added", "output_index": i,
            "item": {"type": "function_call", "id": format!("fc{i}"), "call_id": format!("c{i}"), "name": "f", "arguments": ""}}))
    };
    for (calls, cut) in [(MAX_CALLS, false), (MAX_CALLS + 1, true)] {
        let input: String = (0..calls).map(call).collect();
        let mut s = Stream::new(meta(false));
        let out = String::from_utf8(s.feed(input.as_bytes(), false)).unwrap();
        assert_eq!(s.failed(), cut, "{calls} calls");
        let last = events(&out).pop().unwrap_or_default();
        assert_eq!(last["error"]["code"] == "bad_upstream_response", cut, "{calls} calls: {last}");
    }
}
