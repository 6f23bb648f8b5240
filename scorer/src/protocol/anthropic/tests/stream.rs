//! Tests of the stream half: splits, truncation, garbage, errors, usage.

use serde_json::{Value, json};

use super::{dir, meta};
use crate::protocol::anthropic::stream::{MAX_BLOCKS, MAX_EVENT_BYTES, Stream};
use crate::protocol::reply::Tokens;

fn samples() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir("stream"))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".in.sse"));
    names.sort();
    names
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(dir("stream").join(&n)).unwrap_or_default()))
        .collect()
}

fn whole(input: &[u8], reasoning: bool) -> Vec<u8> {
    Stream::new(meta(reasoning)).feed(input, true)
}

/// `input` fed in two chunks, split at `at`.
fn in_two(input: &[u8], at: usize, reasoning: bool) -> Vec<u8> {
    let (a, b) = input.split_at(at);
    let mut s = Stream::new(meta(reasoning));
    let mut got = s.feed(a, false);
    got.extend(s.feed(b, true));
    got
}

/// The JSON of each `data:` event, `[DONE]` as a string.
fn events(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| json!(d)))
        .collect()
}

const EVENT_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\n";

#[test]
fn every_split_gives_the_output_of_one_whole_call() {
    for (name, input) in samples() {
        let reasoning = name.starts_with("reasoning");
        let want = whole(&input, reasoning);
        assert!(!want.is_empty(), "{name}");
        for at in 0..=input.len() {
            assert_eq!(in_two(&input, at, reasoning), want, "{name} split at {at}");
        }
        let mut s = Stream::new(meta(reasoning));
        let mut got = Vec::new();
        for byte in &input {
            got.extend(s.feed(std::slice::from_ref(byte), false));
        }
        got.extend(s.feed(b"", true));
        assert_eq!(got, want, "{name} byte by byte");
    }
}

#[test]
fn a_truncated_stream_never_says_done() {
    let (_, input) = samples().into_iter().find(|(n, _)| n.starts_with("tool_call")).unwrap_or_default();
    let full = whole(&input, false);
    assert!(full.ends_with(b"data: [DONE]\n\n"));
    // The last event ends with the input's last two bytes (its line end and blank line): cut
    // before its data is whole, no prefix has it.
    assert!(input.ends_with(b"}\n\n"));
    // Once `message_delta` said why the answer stopped (and its usage), the answer is whole,
    // `message_stop` or not.
    let text = String::from_utf8_lossy(&input).into_owned();
    let delta = text.find("event: message_delta").unwrap_or_default();
    let said = delta + text.get(delta..).and_then(|t| t.find("}\n")).unwrap_or_default() + 1;
    assert!(delta > 0 && said < input.len() - 2, "{text}");
    for cut in 0..input.len().saturating_sub(2) {
        let mut s = Stream::new(meta(false));
        let out = s.feed(input.get(..cut).unwrap_or_default(), true);
        if cut >= said {
            assert_eq!(out, full, "cut at {cut}, after message_delta");
            continue;
        }
        assert!(!String::from_utf8_lossy(&out).contains("[DONE]"), "cut at {cut}");
        assert!(!s.failed(), "cut at {cut}");
        assert!(full.starts_with(&out), "cut at {cut}: output is a prefix of the whole");
    }
    // Whole but for the last line end (a proxy dropped it): the answer is whole.
    let mut s = Stream::new(meta(false));
    assert_eq!(s.feed(input.get(..input.len() - 2).unwrap_or_default(), true), full);
    let mut s = Stream::new(meta(false));
    assert_eq!(s.feed(input.get(..input.len() - 1).unwrap_or_default(), true), full);
}

#[test]
fn garbage_never_panics_and_never_says_done() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    for round in 0..300 {
        let len = next() % 2_000;
        let mut input: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        if round % 3 == 0 {
            // Garbage inside well-formed SSE framing: one data line (a `\r` ends a line too),
            // not blank (an event with empty data asks nothing).
            input.retain(|b| *b != b'\r' && *b != b'\n');
            input = [b"data: ~".as_slice(), &input, b"\n\n"].concat();
        }
        let mut s = Stream::new(meta(true));
        let mut out = Vec::new();
        let mut rest = input.as_slice();
        while !rest.is_empty() {
            let (a, b) = rest.split_at((next() % 64).min(rest.len()));
            out.extend(s.feed(a, false));
            rest = b;
        }
        out.extend(s.feed(b"", true));
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("[DONE]"), "round {round}");
        assert!(out.len() <= 4 * input.len() + 1_024, "round {round}: unbounded output");
        if round % 3 == 0 {
            assert!(s.failed(), "round {round}: garbage data must fail the stream");
        }
    }
}

#[test]
fn malformed_events_fail_the_stream_once() {
    let cases: [&str; 5] = [
        "data: not json\n\n",
        "data: {\"no\":\"type\"}\n\n",
        "data: {\"type\":\"content_block_start\",\"content_block\":{\"type\":\"text\"}}\n\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0}\n\n",
        "data: {\"type\":\"message_start\"\ndata: ,}\n\n",
    ];
    for case in cases {
        let mut s = Stream::new(meta(false));
        let mut out = s.feed(EVENT_START.as_bytes(), false);
        out.extend(s.feed(case.as_bytes(), false));
        out.extend(s.feed(b"data: {\"type\":\"message_stop\"}\n\n", true));
        let ev = events(&out);
        assert!(s.failed(), "{case}");
        assert_eq!(ev.len(), 2, "{case}: the role chunk and one error, nothing after: {ev:?}");
        assert_eq!(
            ev.last().map(|e| e["error"]["code"].clone()),
            Some(json!("bad_upstream_response")),
            "{case}"
        );
    }
}

#[test]
fn error_events_become_one_openai_error() {
    let cases = [
        ("overloaded_error", "server_error", "overloaded"),
        ("rate_limit_error", "rate_limit_error", "rate_limit_exceeded"),
        ("api_error", "server_error", "upstream_failed"),
        // The request's own (a content filter's): the client's, as its 400 is.
        ("invalid_request_error", "invalid_request_error", "provider_rejected_request"),
    ];
    for (native, kind, code) in cases {
        let mut s = Stream::new(meta(false));
        let input = format!(
            "{EVENT_START}event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"{native}\",\"message\":\"said {native}\"}}}}\n\n\
             data: {{\"type\":\"message_stop\"}}\n\n"
        );
        let ev = events(&s.feed(input.as_bytes(), true));
        assert!(s.failed(), "{native}");
        assert_eq!(ev.len(), 2, "{native}: {ev:?}");
        let e = ev.last().map(|e| e["error"].clone()).unwrap_or_default();
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some(kind), Some(code)), "{native}");
        assert!(e["message"].as_str().is_some_and(|m| m.contains(&format!("said {native}"))), "{e}");
    }
}

#[test]
fn an_event_over_the_cap_fails_the_stream() {
    let long_line = vec![b'x'; MAX_EVENT_BYTES + 1];
    let data_lines = format!("data: {}\n", "y".repeat(1 << 20)).repeat(5);
    for input in [[b"data: ".as_slice(), &long_line].concat(), data_lines.into_bytes()] {
        let mut s = Stream::new(meta(false));
        let out = s.feed(&input, false);
        assert!(s.failed());
        assert!(String::from_utf8_lossy(&out).contains("bad_upstream_response"));
        assert!(s.feed(b"\n\ndata: {\"type\":\"message_stop\"}\n\n", true).is_empty());
    }
}

#[test]
fn usage_is_cumulative_and_counts_the_cache() {
    let delta = |usage: &str| {
        format!(
            "data: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":null}},\"usage\":{usage}}}\n\n"
        )
    };
    let mut s = Stream::new(meta(false));
    assert_eq!(s.tokens(), None);
    s.feed(EVENT_START.as_bytes(), false);
    assert_eq!(
        s.tokens(),
        Some(Tokens {
            prompt: 15,
            completion: 1,
            cache_read: 5,
            cache_write: 0,
            cache_write_1h: 0,
            reasoning: 0
        })
    );
    s.feed(delta("{\"output_tokens\":10}").as_bytes(), false);
    s.feed(delta("{\"output_tokens\":25,\"cache_creation_input_tokens\":7}").as_bytes(), false);
    assert_eq!(
        s.tokens(),
        Some(Tokens {
            prompt: 22,
            completion: 25,
            cache_read: 5,
            cache_write: 7,
            cache_write_1h: 0,
            reasoning: 0
        })
    );
    // The thinking's share of the output: OpenAI's reasoning_tokens.
    s.feed(
        delta("{\"output_tokens\":30,\"output_tokens_details\":{\"thinking_tokens\":12}}").as_bytes(),
        false,
    );
    assert_eq!(s.tokens().map(|t| (t.completion, t.reasoning)), Some((30, 12)));
    let ev = events(&s.feed(b"data: {\"type\":\"message_stop\"}\n\n", true));
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert_eq!(ev.first().map(|e| e["choices"][0]["finish_reason"].clone()), Some(json!("stop")));
    assert_eq!(ev.get(1).map(|e| e["usage"]["completion_tokens"].clone()), Some(json!(30)));
    let details = ev.get(1).map(|e| e["usage"]["completion_tokens_details"].clone());
    assert_eq!(details, Some(json!({"reasoning_tokens": 12})));
    // No `message_delta` counted the output (empty, null or no usage, or none at all): only
    // `message_start`'s placeholder was read, and no usage chunk is written for it.
    for last in [delta("{}"), delta("null"), delta("{\"output_tokens\":\"many\"}"), String::new()] {
        let mut s = Stream::new(meta(false));
        let ev = events(
            &s.feed(format!("{EVENT_START}{last}data: {{\"type\":\"message_stop\"}}\n\n").as_bytes(), true),
        );
        assert!(ev.iter().all(|e| e.get("usage").is_none_or(Value::is_null)), "{last}: {ev:?}");
        // The role chunk, the finish chunk, `[DONE]`.
        assert_eq!(ev.len(), 3, "{last}: {ev:?}");
        assert_eq!(
            ev.get(1).map(|e| e["choices"][0]["finish_reason"].clone()),
            Some(json!("stop")),
            "{last}"
        );
    }
}

#[test]
fn tool_arguments_reassemble_and_thinking_shows_only_when_asked() {
    for (name, input) in samples() {
        for reasoning in [false, true] {
            let ev = events(&whole(&input, reasoning));
            let mut args: Vec<String> = Vec::new();
            let mut thinking = false;
            for e in &ev {
                let delta = &e["choices"][0]["delta"];
                thinking |= delta.get("reasoning_content").is_some();
                for call in delta["tool_calls"].as_array().into_iter().flatten() {
                    let i = call["index"].as_u64().unwrap_or(99) as usize;
                    if args.len() <= i {
                        args.resize(i + 1, String::new());
                    }
                    if let Some(slot) = args.get_mut(i) {
                        slot.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
                    }
                }
            }
            for a in &args {
                assert!(serde_json::from_str::<Value>(a).is_ok_and(|v| v.is_object()), "{name}: {a}");
            }
            assert_eq!(thinking, reasoning && name.contains("thinking"), "{name} reasoning={reasoning}");
        }
    }
}

#[test]
fn a_tool_input_given_at_the_block_start_is_sent_whole() {
    let input = format!(
        "{EVENT_START}data: {{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"f\",\"input\":{{\"a\":1}}}}}}\n\n\
         data: {{\"type\":\"content_block_stop\",\"index\":0}}\n\n"
    );
    let ev = events(&Stream::new(meta(false)).feed(input.as_bytes(), false));
    let calls: Vec<Value> = ev
        .iter()
        .map(|e| e["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].clone())
        .collect();
    assert_eq!(calls, vec![Value::Null, json!("{\"a\":1}")], "{ev:?}");
    // A turn that ends with the call in it, as `end_turn`, called tools.
    let end = "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\ndata: {\"type\":\"message_stop\"}\n\n";
    let ev = events(&Stream::new(meta(false)).feed(format!("{input}{end}").as_bytes(), true));
    let finishes: Vec<&Value> =
        ev.iter().map(|e| &e["choices"][0]["finish_reason"]).filter(|f| !f.is_null()).collect();
    assert_eq!(finishes, [&json!("tool_calls")], "{ev:?}");
}

#[test]
fn a_stream_of_endless_content_blocks_is_cut_off() {
    let block = |i: usize| {
        format!(
            "event: content_block_start\ndata: {{\"type\":\"content_block_start\",\"index\":{i},\"content_block\":{{\"type\":\"tool_use\",\"id\":\"t{i}\",\"name\":\"f\",\"input\":{{}}}}}}\n\n"
        )
    };
    for (blocks, cut) in [(MAX_BLOCKS, false), (MAX_BLOCKS + 1, true)] {
        let input: String = std::iter::once(EVENT_START.to_string()).chain((0..blocks).map(block)).collect();
        let mut s = Stream::new(meta(false));
        let out = s.feed(input.as_bytes(), false);
        assert_eq!(s.failed(), cut, "{blocks} blocks");
        let last = events(&out).pop().unwrap_or_default();
        assert_eq!(last["error"]["code"] == "bad_upstream_response", cut, "{blocks} blocks: {last}");
    }
}

/// The answer ended, by the provider's word, at `message_stop`, or before it at a
/// `message_delta` with its stop reason and its final usage; `message_start`'s placeholder
/// usage is not that.
#[test]
fn the_end_is_the_stop_reason_with_its_final_usage() {
    let stop = |usage: &str| {
        format!(
            "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}}{usage}}}\n\n"
        )
    };
    for (events, ended) in [
        (EVENT_START.to_string(), false),
        (format!("{EVENT_START}{}", stop("")), false),
        (format!("{EVENT_START}{}", stop(r#","usage":{}"#)), false),
        (format!("{EVENT_START}{}", stop(r#","usage":{"output_tokens":7}"#)), true),
    ] {
        let mut s = Stream::new(meta(false));
        s.feed(events.as_bytes(), false);
        assert_eq!(s.ended(), ended, "{events}");
    }
}

/// The stop sequence that ended a stream rides its finish chunk, as vLLM's `stop_reason`.
#[test]
fn a_stop_sequence_rides_the_finish_chunk() {
    let delta = |reason: &str| {
        format!(
            "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{reason}\",\"stop_sequence\":\"END\"}},\"usage\":{{\"output_tokens\":3}}}}\n\n"
        )
    };
    let stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    for (reason, said) in [("stop_sequence", json!("END")), ("end_turn", Value::Null)] {
        let out = whole(format!("{EVENT_START}{}{stop}", delta(reason)).as_bytes(), false);
        let finish = events(&out).into_iter().find(|e| e["choices"][0]["finish_reason"] == json!("stop"));
        let choice = finish.map(|e| e["choices"][0].clone()).unwrap_or_default();
        assert_eq!(choice.get("stop_reason").cloned().unwrap_or(Value::Null), said, "{reason}: {choice}");
    }
}

/// SSE's other legal framings read as `\n` does: lines ended by a lone `\r` or `\r\n` (split
/// between the two too), a byte-order mark before the first line, and events with empty data
/// between (which ask nothing). A lone `\r` lost the whole answer (a 502 after three providers
/// each wrote it), a mark lost `message_start` and its usage, an empty event failed the stream.
#[test]
fn other_legal_framings_read_as_lf_does() {
    for (name, input) in samples() {
        let reasoning = name.starts_with("reasoning");
        let want = whole(&input, reasoning);
        let text = String::from_utf8_lossy(&input).into_owned();
        let framings = [
            text.replace('\n', "\r"),
            text.replace('\n', "\r\n"),
            format!("\u{feff}{}", text.replacen("\n\n", "\n\ndata:\n\ndata: \n\n", 2)),
        ];
        for framed in framings {
            let framed = framed.as_bytes();
            assert_eq!(whole(framed, reasoning), want, "{name}: {framed:?}");
            for at in 0..=framed.len() {
                assert_eq!(in_two(framed, at, reasoning), want, "{name} split at {at}");
            }
        }
    }
}
