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
           "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "cost": 0.5}})
}

/// The events' data, in order (comments and `event:` lines checked to agree).
fn events(out: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(out);
    let mut all = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty() && !b.starts_with(':')) {
        let mut lines = block.lines();
        let name = lines.next().and_then(|l| l.strip_prefix("event: ")).unwrap_or_else(|| panic!("{block}"));
        let data = lines.next().and_then(|l| l.strip_prefix("data: ")).unwrap_or_else(|| panic!("{block}"));
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
        assert_eq!(v["type"], json!(name), "{block}");
        all.push(v);
    }
    for (n, e) in all.iter().enumerate() {
        assert_eq!(e["sequence_number"], json!(n), "{e}");
    }
    all
}

fn types(all: &[Value]) -> Vec<&str> {
    all.iter().map(|e| e["type"].as_str().unwrap_or_default()).collect()
}

fn whole(body: &str) -> Vec<Value> {
    events(&Events::new(Default::default(), "chatcmpl-fallback").feed(body.as_bytes(), true))
}

#[test]
fn a_text_stream_is_created_deltas_and_completed_with_usage() {
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
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(
        (&all[0]["response"]["id"], &all[0]["response"]["status"]),
        (&json!("resp_s1"), &json!("in_progress"))
    );
    assert_eq!(
        (&all[4]["delta"], &all[4]["item_id"], &all[4]["output_index"]),
        (&json!("Hel"), &json!("msg_s1"), &json!(0))
    );
    assert_eq!(all[6]["text"], json!("Hello"));
    assert_eq!(all[8]["item"]["content"][0]["text"], json!("Hello"));
    let done = &all[9]["response"];
    assert_eq!(
        (&done["status"], &done["output"][0]["content"][0]["text"]),
        (&json!("completed"), &json!("Hello"))
    );
    assert_eq!(
        (&done["usage"]["input_tokens"], &done["usage"]["output_tokens"], &done["usage"]["cost"]),
        (&json!(5), &json!(3), &json!(0.5))
    );
}

#[test]
fn parallel_tool_calls_are_function_call_items_closed_at_the_end() {
    let call = |index: u64, id: Option<&str>, name: Option<&str>, args: &str| {
        let mut c = json!({"index": index, "function": {"arguments": args}});
        if let (Some(id), Some(name)) = (id, name) {
            c["id"] = json!(id);
            c["type"] = json!("function");
            c["function"]["name"] = json!(name);
        }
        chunk(json!({"tool_calls": [c]}), None)
    };
    let body = chat(
        &[
            chunk(json!({"role": "assistant", "content": "Let me look."}), None),
            call(0, Some("call_a"), Some("weather"), ""),
            call(0, None, None, "{\"city\":"),
            call(1, Some("call_b"), Some("time"), "{}"),
            call(0, None, None, "\"Oslo\"}"),
            chunk(json!({}), Some("tool_calls")),
        ],
        true,
    );
    let all = whole(&body);
    let done = all.last().cloned().unwrap_or_default();
    assert_eq!(done["type"], json!("response.completed"));
    let out = &done["response"]["output"];
    assert_eq!(out[0]["content"][0]["text"], json!("Let me look."));
    assert_eq!(
        out[1],
        json!({"id": "fc_s1_0", "type": "function_call", "status": "completed", "call_id": "call_a",
               "name": "weather", "arguments": "{\"city\":\"Oslo\"}"})
    );
    assert_eq!(
        (&out[2]["call_id"], &out[2]["name"], &out[2]["arguments"]),
        (&json!("call_b"), &json!("time"), &json!("{}"))
    );
    // Every item added is done before the response completes, each once.
    let added: Vec<&Value> = all
        .iter()
        .filter(|e| e["type"] == "response.output_item.added")
        .map(|e| &e["output_index"])
        .collect();
    let closed: Vec<&Value> =
        all.iter().filter(|e| e["type"] == "response.output_item.done").map(|e| &e["output_index"]).collect();
    assert_eq!((added.len(), &added, &closed), (3, &closed, &added));
    let args: String = all
        .iter()
        .filter(|e| e["type"] == "response.function_call_arguments.delta" && e["output_index"] == 1)
        .map(|e| e["delta"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(args, "{\"city\":\"Oslo\"}");
}

#[test]
fn reasoning_comes_as_its_own_item_before_the_text() {
    let body = chat(
        &[chunk(json!({"reasoning_content": "hmm"}), None), chunk(json!({"content": "ok"}), Some("stop"))],
        true,
    );
    let all = whole(&body);
    assert!(types(&all).contains(&"response.reasoning_text.delta"), "{all:?}");
    let out = &all.last().map(|e| e["response"]["output"].clone()).unwrap_or_default();
    assert_eq!((&out[0]["type"], &out[0]["content"][0]["text"]), (&json!("reasoning"), &json!("hmm")));
    assert_eq!(out[1]["content"][0]["text"], json!("ok"));
}

/// A request that asked for reasoning summaries (`reasoning.summary`) gets the reasoning as its
/// item's summary, with the summary's events (what the AI SDK and LangChain read), whole and
/// streamed; an item that only carries thinking has no summary part.
#[test]
fn reasoning_asked_as_a_summary_comes_as_the_summary() {
    let request = json!({"model": "m", "input": "hi", "stream": true, "include": ["reasoning.encrypted_content"],
        "reasoning": {"effort": "low", "summary": "auto"}});
    let echo = crate::protocol::inbound::request::to_chat(request.to_string().as_bytes(), &[])
        .map(|c| c.echo)
        .unwrap_or_default();
    let body = chat(
        &[
            chunk(json!({"reasoning_content": "hm"}), None),
            chunk(json!({"reasoning_content": "m"}), None),
            chunk(json!({"content": "ok"}), None),
            chunk(json!({"thinking_blocks": [{"type": "redacted_thinking", "data": "abc"}]}), None),
            chunk(json!({"content": "!"}), Some("stop")),
        ],
        true,
    );
    let all = events(&Events::new(echo.clone(), "chatcmpl-x").feed(body.as_bytes(), true));
    let of = |t: &str| all.iter().filter(|e| e["type"] == t).cloned().collect::<Vec<_>>();
    assert!(!types(&all).iter().any(|t| t.starts_with("response.reasoning_text")), "{all:?}");
    let deltas: Vec<Value> =
        of("response.reasoning_summary_text.delta").iter().map(|e| e["delta"].clone()).collect();
    assert_eq!(deltas, [json!("hm"), json!("m")]);
    let output = &of("response.completed")[0]["response"]["output"];
    let added = of("response.reasoning_summary_part.added");
    assert_eq!(
        (added.len(), &added[0]["summary_index"], &added[0]["item_id"]),
        (1, &json!(0), &output[0]["id"]),
        "{added:?}"
    );
    assert_eq!(of("response.reasoning_summary_text.done")[0]["text"], json!("hmm"));
    assert_eq!(
        of("response.reasoning_summary_part.done")[0]["part"],
        json!({"type": "summary_text", "text": "hmm"})
    );
    assert_eq!(output[0]["summary"], json!([{"type": "summary_text", "text": "hmm"}]), "{output}");
    assert!(output[0].get("content").is_none(), "{output}");
    // The thinking-only item carries its block and has no summary.
    assert_eq!((&output[2]["type"], &output[2]["summary"]), (&json!("reasoning"), &json!([])), "{output}");
    assert_eq!(of("response.reasoning_summary_part.done").len(), 1);
    // Whole, alike.
    let completion = json!({"id": "chatcmpl-x", "object": "chat.completion", "created": 7, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "reasoning_content": "hmm"}, "finish_reason": "stop"}]});
    let whole = crate::protocol::inbound::answer::to_response(completion.to_string().as_bytes(), &echo)
        .unwrap_or_default();
    let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
    assert_eq!(whole["output"][0]["summary"], json!([{"type": "summary_text", "text": "hmm"}]), "{whole}");
    // The older name, beside a null summary, asks the same.
    let older =
        json!({"model": "m", "input": "hi", "reasoning": {"summary": null, "generate_summary": "concise"}});
    let echo = crate::protocol::inbound::request::to_chat(older.to_string().as_bytes(), &[])
        .map(|c| c.echo)
        .unwrap_or_default();
    let whole = crate::protocol::inbound::answer::to_response(completion.to_string().as_bytes(), &echo)
        .unwrap_or_default();
    let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
    assert_eq!(whole["output"][0]["summary"][0]["text"], json!("hmm"), "{whole}");
}

#[test]
fn split_at_every_byte_the_events_are_the_same() {
    let body =
        chat(&[chunk(json!({"content": "a\u{e9}b"}), None), chunk(json!({}), Some("length")), usage()], true);
    let want = whole(&body);
    assert_eq!(
        want.last().map(|e| e["response"]["incomplete_details"].clone()),
        Some(json!({"reason": "max_output_tokens"}))
    );
    let mut e = Events::new(Default::default(), "chatcmpl-fallback");
    let mut out = Vec::new();
    let bytes = body.as_bytes();
    for (n, b) in bytes.iter().enumerate() {
        out.extend(e.feed(std::slice::from_ref(b), n + 1 == bytes.len()));
    }
    assert_eq!(events(&out), want);
    assert!(e.ended());
}

#[test]
fn an_error_event_or_a_cut_stream_fails_the_response() {
    let err = json!({"error": {"message": "overloaded", "type": "server_error", "param": null, "code": "overloaded"}});
    let all = whole(&chat(&[chunk(json!({"content": "par"}), None), err], false));
    let n = all.len();
    assert_eq!(types(&all).get(n - 2..), Some(&["error", "response.failed"][..]));
    assert_eq!((&all[n - 2]["code"], &all[n - 2]["message"]), (&json!("overloaded"), &json!("overloaded")));
    let failed = &all[n - 1]["response"];
    // The API's shape nested, the spec's flat; the Response's code one of the spec's.
    assert_eq!(
        (&all[n - 2]["error"]["code"], &all[n - 2]["error"]["type"]),
        (&json!("overloaded"), &json!("server_error"))
    );
    assert_eq!((&failed["status"], &failed["error"]["code"]), (&json!("failed"), &json!("server_error")));
    assert_eq!(failed["output"][0]["status"], json!("incomplete"), "the text it cut: {failed}");
    // Ended with neither [DONE] nor an error: the client is told, once.
    let all = whole(&chat(&[chunk(json!({"content": "par"}), None)], false));
    let n = all.len();
    assert_eq!(all[n - 2]["code"], json!("stream_truncated"));
    assert_eq!(all[n - 1]["response"]["error"]["code"], json!("server_error"));
    assert_eq!(types(&all).iter().filter(|t| **t == "response.failed").count(), 1);
    // Nothing after the end.
    let mut e = Events::new(Default::default(), "chatcmpl-fallback");
    let _ = e.feed(chat(&[chunk(json!({"content": "x"}), Some("stop"))], true).as_bytes(), false);
    assert!(e.ended());
    assert_eq!(e.feed(b"data: {\"error\":{}}\n\n", true), Vec::<u8>::new());
}

#[test]
fn an_error_object_passes_as_it_is_and_waiting_bytes_keep_the_client_alive() {
    let body = br#" {"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}}"#;
    let mut e = Events::new(Default::default(), "chatcmpl-fallback");
    let (a, b) = body.split_at(20);
    assert_eq!([e.feed(a, false), e.feed(b, true)].concat(), body.to_vec());
    let mut e = Events::new(Default::default(), "chatcmpl-fallback");
    assert_eq!(e.feed(b": ping\n\n", false), b": keep-alive\n\n".to_vec());
    assert_eq!(e.feed(b"data: {\"id\":\"chatcmpl-", false), b": keep-alive\n\n".to_vec());
}

#[test]
fn a_whole_completion_for_a_stream_is_told_as_events() {
    let completion = json!({
        "id": "chatcmpl-w", "object": "chat.completion", "created": 7, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "ok",
            "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
    });
    let body = completion.to_string();
    let mut e = Events::new(Default::default(), "chatcmpl-fallback");
    let (a, b) = body.as_bytes().split_at(9);
    assert_eq!(e.feed(a, false), Vec::<u8>::new());
    let all = events(&e.feed(b, true));
    let done = &all.last().cloned().unwrap_or_default()["response"];
    assert_eq!((&done["status"], &done["id"]), (&json!("completed"), &json!("resp_w")));
    assert_eq!(done["output"][0]["content"][0]["text"], json!("ok"));
    assert_eq!(
        (&done["output"][1]["call_id"], &done["output"][1]["arguments"]),
        (&json!("call_x"), &json!("{}"))
    );
    assert_eq!(done["usage"]["input_tokens"], json!(2));
}

#[test]
fn token_log_probabilities_ride_on_the_text_deltas_and_the_done_part() {
    let lp = |t: &str| json!([{"token": t, "logprob": -0.1, "bytes": [], "top_logprobs": []}]);
    let mut a = chunk(json!({"content": "a"}), None);
    a["choices"][0]["logprobs"] = json!({"content": lp("a")});
    let mut b = chunk(json!({"content": "b"}), Some("stop"));
    b["choices"][0]["logprobs"] = json!({"content": lp("b")});
    let all = whole(&chat(&[a, b], true));
    let deltas: Vec<&Value> =
        all.iter().filter(|e| e["type"] == "response.output_text.delta").map(|e| &e["logprobs"]).collect();
    assert_eq!(deltas, [&lp("a"), &lp("b")]);
    let both = json!([lp("a")[0], lp("b")[0]]);
    let done = all.iter().find(|e| e["type"] == "response.output_text.done").cloned().unwrap_or_default();
    assert_eq!(done["logprobs"], both);
    assert_eq!(all.last().map(|e| e["response"]["output"][0]["content"][0]["logprobs"].clone()), Some(both));
}

/// The items of the final response, as (type, id, status) and their texts.
fn output(all: &[Value]) -> Vec<(String, String, String, String)> {
    let done = all.last().cloned().unwrap_or_default();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    done["response"]["output"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let text = match s(&i["type"]).as_str() {
                "function_call" => format!("{}{}", s(&i["name"]), s(&i["arguments"])),
                _ => s(&i["content"][0]["text"]) + &s(&i["content"][0]["refusal"]),
            };
            (s(&i["type"]), s(&i["id"]), s(&i["status"]), text)
        })
        .collect()
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
                chunk(json!({}), Some("tool_calls")),
            ],
            true,
        );
        let all = whole(&body);
        let out = output(&all);
        assert_eq!(
            out.iter().map(|o| o.3.as_str()).collect::<Vec<_>>(),
            ["fa{\"x\":1}", "fb{\"y\":2}"],
            "{index:?}: {out:?}"
        );
        let done: Vec<&Value> = all
            .iter()
            .filter(|e| e["type"] == "response.function_call_arguments.done")
            .map(|e| &e["name"])
            .collect();
        assert_eq!(done, [&json!("fa"), &json!("fb")], "the spec's done event names the function");
    }
}

#[test]
fn items_follow_one_another_with_their_own_ids() {
    let body = chat(
        &[
            chunk(json!({"reasoning_content": "think"}), None),
            chunk(json!({"content": "first"}), None),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}),
                None,
            ),
            chunk(json!({"content": "after"}), None),
            chunk(json!({"refusal": "no"}), Some("stop")),
        ],
        true,
    );
    let all = whole(&body);
    let out = output(&all);
    let ids: Vec<&str> = out.iter().map(|o| o.1.as_str()).collect();
    assert_eq!(ids, ["rs_s1", "msg_s1", "fc_s1_0", "msg_s1_1", "msg_s1_2"], "{out:?}");
    let texts: Vec<&str> = out.iter().map(|o| o.3.as_str()).collect();
    assert_eq!(texts, ["think", "first", "f{}", "after", "no"]);
    // The reasoning is done before the text begins, as the API streams it.
    let at = |t: &str, i: u64| all.iter().position(|e| e["type"] == t && e["output_index"] == i);
    assert!(at("response.output_item.done", 0) < at("response.output_item.added", 1), "{all:?}");
    assert!(at("response.output_item.done", 1) < at("response.output_item.added", 2), "{all:?}");
}

#[test]
fn an_incomplete_responses_items_are_incomplete() {
    let all = whole(&chat(&[chunk(json!({"content": "cut"}), Some("length"))], true));
    let out = output(&all);
    assert_eq!(
        (out[0].2.as_str(), all.last().map(|e| e["type"].clone())),
        ("incomplete", Some(json!("response.incomplete")))
    );
}

#[test]
fn a_late_name_or_id_continues_its_call_and_a_stream_without_ids_takes_the_routers() {
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
    let out = output(&all);
    assert_eq!(out.len(), 1, "one call, not two: {out:?}");
    assert_eq!((out[0].1.as_str(), out[0].3.as_str()), ("fc_fallback_0", "f{\"a\":1}"));
    assert_eq!(all[0]["response"]["id"], json!("resp_fallback"));
}

#[test]
fn a_streamed_call_of_a_namespaced_function_names_its_namespace() {
    let request = json!({"model": "m", "input": "hi", "stream": true, "tools": [
        {"type": "namespace", "name": "crm", "description": "d", "tools": [{"type": "function", "name": "lookup"}]}]});
    let echo = crate::protocol::inbound::request::to_chat(request.to_string().as_bytes(), &[])
        .map(|c| c.echo)
        .unwrap_or_default();
    let body = chat(
        &[
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "crm__lookup", "arguments": "{}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
        ],
        true,
    );
    let all = events(&Events::new(echo, "chatcmpl-x").feed(body.as_bytes(), true));
    let find = |t: &str| all.iter().find(|e| e["type"] == t).cloned().unwrap_or_default();
    for item in [
        &find("response.output_item.added")["item"],
        &find("response.output_item.done")["item"],
        &find("response.completed")["response"]["output"][0],
    ] {
        assert_eq!((&item["namespace"], &item["name"]), (&json!("crm"), &json!("lookup")), "{item}");
    }
    assert_eq!(find("response.function_call_arguments.done")["name"], json!("lookup"));
}

/// A chat stream with, between its first chunk and its finish, an event whose data is not
/// JSON (a chunk cut inside) or (`empty`) an event without data.
pub(crate) fn with_a_broken_chunk(empty: bool) -> String {
    let head = chat(&[chunk(json!({"role": "assistant", "content": "The answer is "}), None)], false);
    let tail = chat(&[chunk(json!({"content": "42."}), Some("stop")), usage()], true);
    let broken =
        if empty { "data: \n\n" } else { "data: {\"choices\":[{\"delta\":{\"content\":\"NOT \"}\n\n" };
    format!("{head}{broken}{tail}")
}

/// An event whose data is not JSON (a chunk cut inside) ends the answer with an error, not
/// as if whole without it; an event without data asks nothing.
#[test]
fn a_chunk_that_is_not_json_fails_the_answer() {
    let all = whole(&with_a_broken_chunk(false));
    let n = all.len();
    assert_eq!(types(&all).get(n - 2..), Some(&["error", "response.failed"][..]), "{all:?}");
    assert_eq!(all[n - 2]["error"]["code"], "bad_upstream_response");
    let empty = whole(&with_a_broken_chunk(true));
    assert_eq!(types(&empty).last(), Some(&"response.completed"), "{empty:?}");
}
