use serde_json::{Value, json};

use super::Events;

/// Chat SSE from its chunks' JSON (and `[DONE]`).
fn chat(chunks: &[Value], done: bool) -> String {
    let mut s: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        s.push_str("data: [DONE]\n\n");
    }
    s
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 7, "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn usage() -> Value {
    json!({"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": [],
           "usage": {"prompt_tokens": 50, "completion_tokens": 3, "total_tokens": 53, "cost": 0.5,
                     "prompt_tokens_details": {"cached_tokens": 30, "cache_write_tokens": 15}}})
}

/// A tool-call delta: the first of a call carries its id and name.
fn call(index: u64, first: Option<(&str, &str)>, args: &str) -> Value {
    let mut c = json!({"index": index, "function": {"arguments": args}});
    if let Some((id, name)) = first {
        c["id"] = json!(id);
        c["type"] = json!("function");
        c["function"]["name"] = json!(name);
    }
    chunk(json!({"tool_calls": [c]}), None)
}

/// The events' data, in order, pings left out; each checked to name its type in its data,
/// and the whole to keep the Messages order: `message_start` first, blocks one at a time with
/// increasing indexes, and after them `message_delta` then `message_stop`, or an `error` last.
fn events(out: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(out);
    let mut all = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut lines = block.lines();
        let name = lines.next().and_then(|l| l.strip_prefix("event: ")).unwrap_or_else(|| panic!("{block}"));
        let data = lines.next().and_then(|l| l.strip_prefix("data: ")).unwrap_or_else(|| panic!("{block}"));
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
        assert_eq!(v["type"], json!(name), "{block}");
        if name != "ping" {
            all.push(v);
        }
    }
    let (mut open, mut next) = (None, 0);
    for (n, e) in all.iter().enumerate() {
        let last = n + 1 == all.len();
        match e["type"].as_str().unwrap_or_default() {
            "message_start" => assert_eq!(n, 0, "{all:?}"),
            "content_block_start" => {
                assert_eq!((open, &e["index"]), (None, &json!(next)), "{all:?}");
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => {
                assert_eq!(open.map(|o| json!(o)).as_ref(), Some(&e["index"]), "{all:?}")
            }
            "content_block_stop" => {
                assert_eq!(open.take().map(|o| json!(o)).as_ref(), Some(&e["index"]), "{all:?}")
            }
            "message_delta" => assert!(open.is_none() && n + 2 == all.len(), "{all:?}"),
            "message_stop" | "error" => assert!(last, "{all:?}"),
            other => panic!("unknown event {other}"),
        }
    }
    all
}

fn types(all: &[Value]) -> Vec<&str> {
    all.iter().map(|e| e["type"].as_str().unwrap_or_default()).collect()
}

fn whole(body: &str) -> Vec<Value> {
    events(&Events::new("chatcmpl-fallback").feed(body.as_bytes(), true))
}

/// The message the events build, as the SDKs accumulate it: blocks from their starts and
/// deltas (a tool's input parsed from its `partial_json`), then the message delta's members.
fn message(all: &[Value]) -> Value {
    let mut m = all.first().map(|e| e["message"].clone()).unwrap_or_default();
    let mut json_of = Vec::new();
    for e in all {
        let at = e["index"].as_u64().unwrap_or_default() as usize;
        match e["type"].as_str().unwrap_or_default() {
            "content_block_start" => {
                m["content"].as_array_mut().into_iter().for_each(|c| c.push(e["content_block"].clone()));
                json_of.push(String::new());
            }
            "content_block_delta" => {
                let (d, block) = (&e["delta"], &mut m["content"][at]);
                let mut append = |k: &str| {
                    let text = format!("{}{}", block[k].as_str().unwrap_or(""), d[k].as_str().unwrap_or(""));
                    block[k] = json!(text);
                };
                match d["type"].as_str().unwrap_or_default() {
                    "text_delta" => append("text"),
                    "thinking_delta" => append("thinking"),
                    "input_json_delta" => {
                        json_of[at].push_str(d["partial_json"].as_str().unwrap_or_default());
                        block["input"] = serde_json::from_str(&json_of[at]).unwrap_or(Value::Null);
                    }
                    other => panic!("unknown delta {other}"),
                }
            }
            "message_delta" => {
                m["stop_reason"] = e["delta"]["stop_reason"].clone();
                m["usage"] = e["usage"].clone();
            }
            _ => {}
        }
    }
    m
}

#[test]
fn a_text_stream_is_started_one_text_block_and_stopped_with_usage() {
    let body = chat(
        &[
            chunk(json!({"role": "assistant", "content": ""}), None),
            chunk(json!({"content": "Hel"}), None),
            chunk(json!({"content": "lo"}), None),
            chunk(json!({}), Some("stop")),
            usage(),
        ],
        true,
    );
    let all = whole(&body);
    assert_eq!(
        types(&all),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        all[0]["message"],
        json!({"id": "msg_s1", "type": "message", "role": "assistant", "model": "m", "content": [],
               "stop_reason": null, "stop_sequence": null,
               "usage": {"input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}})
    );
    assert_eq!(all[1]["content_block"], json!({"type": "text", "text": ""}));
    assert_eq!(all[2]["delta"], json!({"type": "text_delta", "text": "Hel"}));
    // The usage chunk's counts, the cache's reads and writes out of the input; no cost.
    assert_eq!(
        all[5],
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"input_tokens": 5, "output_tokens": 3, "cache_read_input_tokens": 30, "cache_creation_input_tokens": 15}})
    );
    assert_eq!(message(&all)["content"], json!([{"type": "text", "text": "Hello"}]));
}

/// A provider's stream of `[DONE]` alone still opens its message before it ends it: the SDKs
/// raise on a `message_delta` with no `message_start` before it.
#[test]
fn a_stream_of_done_alone_opens_its_message_first() {
    let all = whole("data: [DONE]\n\n");
    assert_eq!(types(&all), ["message_start", "message_delta", "message_stop"]);
}

#[test]
fn reasoning_is_a_thinking_block_stopped_before_the_text() {
    let body = chat(
        &[
            chunk(json!({"reasoning_content": "hm"}), None),
            chunk(json!({"reasoning": "m"}), None),
            chunk(json!({"content": "ok"}), Some("stop")),
        ],
        true,
    );
    let all = whole(&body);
    assert_eq!(all[1]["content_block"], json!({"type": "thinking", "thinking": "", "signature": ""}));
    assert_eq!(all[2]["delta"], json!({"type": "thinking_delta", "thinking": "hm"}));
    assert_eq!(
        message(&all)["content"],
        json!([{"type": "thinking", "thinking": "hmm", "signature": ""}, {"type": "text", "text": "ok"}])
    );
}

/// A client that asked for its thinking omitted (`display: "omitted"`) gets none, a fallback's
/// answer too; the text's block is then the first.
#[test]
fn thinking_a_client_asked_omitted_is_not_written() {
    let body = chat(
        &[chunk(json!({"reasoning_content": "hm"}), None), chunk(json!({"content": "ok"}), Some("stop"))],
        true,
    );
    let first = Events::new("chatcmpl-x").shown(super::Shown { hide_thinking: true, model: String::new() });
    for mut translation in [first.fresh(), first] {
        let out = translation.feed(body.as_bytes(), true);
        assert!(!String::from_utf8_lossy(&out).contains("thinking"));
        assert_eq!(message(&events(&out))["content"], json!([{"type": "text", "text": "ok"}]));
    }
}

/// A stream's `message_start` names the model its client asked for, a fallback's too.
#[test]
fn a_stream_names_the_model_its_client_asked_for() {
    let body = chat(&[chunk(json!({"content": "ok"}), Some("stop"))], true);
    let first = Events::new("chatcmpl-x").shown(super::Shown { hide_thinking: false, model: "auto".into() });
    for mut translation in [first.fresh(), first] {
        let out = translation.feed(body.as_bytes(), true);
        assert_eq!(message(&events(&out))["model"], json!("auto"));
    }
}

#[test]
fn parallel_tool_calls_are_tool_use_blocks_written_whole_at_the_end() {
    // In order, as OpenAI streams them, and interleaved: the same blocks.
    for order in [[0, 2, 1, 3], [0, 1, 2, 3]] {
        let pieces = [
            call(0, None, "{\"city\":"),
            call(1, Some(("call_b", "time")), "{\"tz\":"),
            call(0, None, "\"Oslo\"}"),
            call(1, None, "\"UTC\"}"),
        ];
        let mut chunks = vec![
            chunk(json!({"role": "assistant", "content": "Let me look."}), None),
            call(0, Some(("call_a", "weather")), ""),
        ];
        chunks.extend(order.iter().map(|&n| pieces[n].clone()));
        chunks.push(chunk(json!({}), Some("tool_calls")));
        let all = whole(&chat(&chunks, true));
        let m = message(&all);
        assert_eq!(
            m["content"],
            json!([{"type": "text", "text": "Let me look."},
                   {"type": "tool_use", "id": "call_a", "name": "weather", "input": {"city": "Oslo"}},
                   {"type": "tool_use", "id": "call_b", "name": "time", "input": {"tz": "UTC"}}]),
            "{order:?}"
        );
        assert_eq!(m["stop_reason"], json!("tool_use"));
        // Each call's input in one piece.
        let first: Vec<&Value> = all
            .iter()
            .filter(|e| e["type"] == "content_block_delta" && e["index"] == 1)
            .map(|e| &e["delta"]["partial_json"])
            .collect();
        assert_eq!(first, [&json!("{\"city\":\"Oslo\"}")]);
    }
}

#[test]
fn parallel_calls_under_one_index_or_none_are_told_apart_by_their_ids() {
    // Gemini's OpenAI layer: each parallel call whole, under index 0 or with no index.
    for index in [Some(0), None] {
        let call = |id: &str, name: &str, args: &str| {
            let mut c = json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}});
            if let Some(i) = index {
                c["index"] = json!(i);
            }
            chunk(json!({"tool_calls": [c]}), None)
        };
        let body = chat(
            &[
                call("call_A", "fa", "{\"x\":1}"),
                call("call_B", "fb", "{\"y\":2}"),
                chunk(json!({}), Some("stop")),
            ],
            true,
        );
        let m = message(&whole(&body));
        let calls: Vec<(&Value, &Value)> =
            m["content"].as_array().into_iter().flatten().map(|b| (&b["name"], &b["input"])).collect();
        assert_eq!(calls, [(&json!("fa"), &json!({"x": 1})), (&json!("fb"), &json!({"y": 2}))], "{index:?}");
        // A call finished with `stop` still stops for its tool.
        assert_eq!(m["stop_reason"], json!("tool_use"));
    }
}

#[test]
fn a_call_streams_once_named_and_a_stream_without_ids_takes_the_routers() {
    let c = |v: Value| json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [v]}}]});
    let body = chat(
        &[
            c(json!({"index": 0, "function": {"arguments": "{\"a\""}})),
            c(json!({"index": 0, "id": "call_late", "function": {"name": "f", "arguments": ":1}"}})),
            json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ],
        true,
    );
    let all = whole(&body);
    assert_eq!(all[0]["message"]["id"], json!("msg_fallback"));
    assert_eq!(
        message(&all)["content"],
        json!([{"type": "tool_use", "id": "call_late", "name": "f", "input": {"a": 1}}])
    );
    // Never named, never given an id: written at the end all the same.
    let body = chat(
        &[c(json!({"index": 0, "function": {"arguments": "{}"}})), chunk(json!({}), Some("tool_calls"))],
        true,
    );
    let content = &message(&whole(&body))["content"];
    assert_eq!((&content[0]["id"], &content[0]["name"]), (&json!("toolu_fallback_0"), &json!("")));
}

#[test]
fn split_anywhere_the_events_are_the_same() {
    let body = chat(
        &[
            chunk(json!({"reasoning_content": "r"}), None),
            chunk(json!({"content": "a\u{e9}b"}), None),
            call(0, Some(("c", "f")), "{\"k\":"),
            call(0, None, "\"\u{e9}\"}"),
            chunk(json!({}), Some("length")),
            usage(),
        ],
        true,
    );
    let want = whole(&body);
    assert_eq!(message(&want)["stop_reason"], json!("max_tokens"));
    let bytes = body.as_bytes();
    let fed = |parts: &mut dyn Iterator<Item = &[u8]>| {
        let mut e = Events::new("chatcmpl-fallback");
        let parts: Vec<&[u8]> = parts.collect();
        let mut out = Vec::new();
        for (n, p) in parts.iter().enumerate() {
            out.extend(e.feed(p, n + 1 == parts.len()));
        }
        assert!(e.ended());
        events(&out)
    };
    assert_eq!(fed(&mut bytes.chunks(1)), want, "byte by byte");
    for at in 1..bytes.len() {
        let (a, b) = bytes.split_at(at);
        assert_eq!(fed(&mut [a, b].into_iter()), want, "split at {at}");
    }
}

#[test]
fn a_cut_stream_or_an_error_line_ends_in_an_error_event_not_a_message_stop() {
    let err = json!({"error": {"message": "overloaded", "type": "server_error", "param": null, "code": "overloaded"}});
    let limited =
        json!({"error": {"message": "slow down", "type": "rate_limit_error", "param": null, "code": null}});
    let text = chunk(json!({"content": "par"}), None);
    let cut = json!({"type": "error", "error": {"type": "api_error", "message": "the provider's stream ended before its answer did"}});
    let cases = [
        // Ended with neither [DONE] nor an error.
        (chat(std::slice::from_ref(&text), false), cut.clone()),
        // A finish_reason but no [DONE] (the usage chunk may still have been coming).
        (chat(&[text.clone(), chunk(json!({}), Some("stop"))], false), cut),
        (
            chat(&[text.clone(), err], false),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "overloaded"}}),
        ),
        (
            chat(&[text.clone(), limited], true),
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}),
        ),
    ];
    for (body, want) in cases {
        let mut e = Events::new("chatcmpl-fallback");
        let all = events(&e.feed(body.as_bytes(), true));
        assert_eq!(all.last(), Some(&want), "{body}");
        assert!(!types(&all).contains(&"message_stop") && !e.ended(), "{body}");
        assert_eq!(types(&all).iter().filter(|t| **t == "error").count(), 1, "{body}");
        // Nothing after the end.
        assert_eq!(e.feed(b"data: [DONE]\n\n", true), Vec::<u8>::new());
    }
}

/// `[DONE]` ends the answer as the router's accounting and a chat client take it: without a
/// `finish_reason` too, and with text between one call's pieces (the call written whole after
/// it, its input read as a whole answer's).
#[test]
fn done_ends_the_message_whatever_came_before_it() {
    let body = chat(
        &[
            call(0, Some(("c", "f")), "{\"a\":"),
            chunk(json!({"content": "x"}), None),
            call(0, None, "1}"),
            call(1, Some(("d", "g")), "not json"),
        ],
        true,
    );
    let all = whole(&body);
    let m = message(&all);
    assert_eq!(
        m["content"],
        json!([{"type": "text", "text": "x"},
               {"type": "tool_use", "id": "c", "name": "f", "input": {"a": 1}},
               {"type": "tool_use", "id": "d", "name": "g", "input": {"invalid_arguments": "not json"}}])
    );
    assert_eq!((&m["stop_reason"], types(&all).last()), (&json!("tool_use"), Some(&"message_stop")));
    let text = chat(&[chunk(json!({"content": "done"}), None)], true);
    let all = whole(&text);
    assert_eq!(message(&all)["stop_reason"], json!("end_turn"), "{text}");
}

#[test]
fn only_choice_zero_is_the_answer_and_extra_members_are_dropped() {
    let mut two = chunk(json!({"content": "zero"}), Some("stop"));
    two["choices"] = json!([{"index": 1, "delta": {"content": "one"}, "finish_reason": "stop"},
                           {"index": 0, "delta": {"content": "zero"}, "finish_reason": "stop"}]);
    let mut u = usage();
    u["usage"]["x_provider"] = json!(1);
    let m = message(&whole(&chat(&[two, u], true)));
    assert_eq!(m["content"], json!([{"type": "text", "text": "zero"}]));
    let keys: Vec<&String> = m["usage"].as_object().into_iter().flat_map(|o| o.keys()).collect();
    assert_eq!(
        keys,
        ["cache_creation_input_tokens", "cache_read_input_tokens", "input_tokens", "output_tokens"]
    );
}

#[test]
fn a_whole_body_is_told_as_events_or_an_error_and_waiting_bytes_are_pings() {
    let completion = json!({
        "id": "chatcmpl-w", "object": "chat.completion", "created": 7, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "ok",
            "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
    });
    let body = completion.to_string();
    let mut e = Events::new("chatcmpl-fallback").fresh();
    let (a, b) = body.as_bytes().split_at(9);
    assert_eq!(e.feed(a, false), Vec::<u8>::new());
    let m = message(&events(&e.feed(b, true)));
    assert_eq!((&m["id"], &m["stop_reason"]), (&json!("msg_w"), &json!("tool_use")));
    assert_eq!(m["content"][1], json!({"type": "tool_use", "id": "call_x", "name": "f", "input": {}}));
    assert!(e.ended());
    let error = br#" {"error":{"message":"not served here","type":"invalid_request_error","param":"model","code":null}}"#;
    assert_eq!(
        whole(&String::from_utf8_lossy(error)),
        [
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "model: not served here"}})
        ]
    );
    // Without `object`, and with its text (or a delta's) as a list of parts: the same text.
    let parts = json!([{"type": "text", "text": "o"}, {"type": "text", "text": "k"}]);
    let mut bare = completion.clone();
    bare.as_object_mut().map(|o| o.remove("object"));
    bare["choices"][0]["message"]["content"] = parts.clone();
    let m = message(&whole(&bare.to_string()));
    assert_eq!(m["content"][0], json!({"type": "text", "text": "ok"}), "{m}");
    let streamed = chat(&[chunk(json!({"content": parts}), Some("stop"))], true);
    assert_eq!(message(&whole(&streamed))["content"], json!([{"type": "text", "text": "ok"}]));
    let mut e = Events::new("chatcmpl-fallback");
    let ping = b"event: ping\ndata: {\"type\":\"ping\"}\n\n".to_vec();
    assert_eq!(e.feed(b": keep-alive\n\n", false), ping);
    assert_eq!(e.feed(b"data: {\"id\":\"chatcmpl-", false), ping);
}

/// A stop sequence the provider named in its finish chunk (vLLM's `stop_reason`, the router's
/// Claude translation) is the message delta's `stop_sequence`.
#[test]
fn a_stop_sequence_the_provider_named_is_said() {
    let mut finish = chunk(json!({}), Some("stop"));
    finish["choices"][0]["stop_reason"] = json!("END");
    let all = whole(&chat(&[chunk(json!({"content": "hi"}), None), finish, usage()], true));
    let delta = all.iter().find(|e| e["type"] == json!("message_delta")).map(|e| e["delta"].clone());
    assert_eq!(delta, Some(json!({"stop_reason": "stop_sequence", "stop_sequence": "END"})));
}

/// An event whose data is not JSON (a chunk cut inside) ends the answer with an error, not
/// as if whole without it; an event without data asks nothing.
#[test]
fn a_chunk_that_is_not_json_fails_the_answer() {
    use crate::protocol::inbound::events::tests::with_a_broken_chunk;
    let all = whole(&with_a_broken_chunk(false));
    assert_eq!(types(&all).last(), Some(&"error"), "{all:?}");
    let empty = whole(&with_a_broken_chunk(true));
    assert_eq!(types(&empty).last(), Some(&"message_stop"), "{empty:?}");
}

/// A streamed refusal (`delta.refusal`, which OpenAI finishes with `stop`) stops the message
/// for it, as a whole answer does: it read as an ordinary turn's text.
#[test]
fn a_streamed_refusal_stops_the_message_for_it() {
    let body = chat(
        &[chunk(json!({"role": "assistant", "refusal": "I'm sorry"}), None), chunk(json!({}), Some("stop"))],
        true,
    );
    let all = whole(&body);
    let m = message(&all);
    assert_eq!((&m["content"][0]["text"], &m["stop_reason"]), (&json!("I'm sorry"), &json!("refusal")));
    let plain = message(&whole(&chat(&[chunk(json!({"content": "hi"}), Some("stop"))], true)));
    assert_eq!(plain["stop_reason"], json!("end_turn"));
}
