//! Requests whose candidates speak native protocols: translated on the way out, translated
//! back (whole, streamed, as errors), and failing over across protocols, always from the
//! client's own body.

use std::collections::HashMap;
use std::rc::Rc;

use model_router_scorer::Config;
use model_router_scorer::protocol::bedrock::eventstream::encode;
use serde_json::Value;

use super::{Fake, chat, pairs, respond, route, set_response};
use crate::io::{Effect, Event, Step, Verdict};
use crate::request::Request;
use crate::shared::Shared;

/// Economy, cheapest first under `prefer: cheap`: `nemo` on Bedrock Converse, `gpt` on an
/// OpenAI-compatible provider, `claude` on Anthropic Messages (the only large window).
pub(super) fn config() -> Rc<Shared> {
    config_with("")
}

/// [`config`] with more top-level members (`extra` starts with a comma).
pub(super) fn config_with(extra: &str) -> Rc<Shared> {
    let model = |id: &str, tier: &str, p: &str, api: &str, window: u64, price: f64| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","api":"{api}","context_window":{window},"max_output":100,"price_in":{price},"price_out":{price},"quality":50}}"#
        )
    };
    let catalog = format!(
        r#"{{"providers":{{"br":{{"base_path":""}},"oa":{{}},"an":{{"auth":{{"header":"authorization","prefix":"Bearer ","env":"AN_KEY"}}}}}},"models":[{},{},{},{},{}]}}"#,
        model("nemo", "economy", "br", "bedrock-converse", 1000, 0.1),
        model("gpt", "economy", "oa", "chat", 1000, 1.0),
        model("claude", "economy", "an", "messages", 100_000, 3.0),
        model("s", "standard", "oa", "chat", 1000, 1.0),
        model("x", "premium", "oa", "chat", 1000, 1.0),
    );
    // Three attempts, unless `extra` sets its own resilience.
    let resilience =
        if extra.contains(r#""resilience""#) { "" } else { r#","resilience":{"max_attempts":3}"# };
    let json = format!(r#"{{"catalog":{catalog}{resilience}{extra}}}"#);
    let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let keys = HashMap::from([("AN_KEY".to_string(), "sk-an".to_string())]);
    Rc::new(Shared::new(config, keys))
}

pub(super) fn request(stream: bool) -> String {
    let options = if stream { r#","stream":true,"stream_options":{"include_usage":true}"# } else { "" };
    format!(
        r#"{{"model":"economy","prefer":"cheap"{options},"messages":[{{"role":"user","content":"hello"}}]}}"#
    )
}

fn frame(event: &str, payload: &str) -> Vec<u8> {
    let headers = [(":message-type", "event"), (":event-type", event), (":content-type", "application/json")];
    encode(&headers, payload.as_bytes())
}

/// A ConverseStream answer: "Hi there", then its end and usage.
pub(super) fn converse_stream() -> Vec<u8> {
    [
        frame("messageStart", r#"{"role":"assistant"}"#),
        frame("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Hi "}}"#),
        frame("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"there"}}"#),
        frame("contentBlockStop", r#"{"contentBlockIndex":0}"#),
        frame("messageStop", r#"{"stopReason":"end_turn"}"#),
        frame(
            "metadata",
            r#"{"usage":{"inputTokens":10,"outputTokens":2,"totalTokens":12},"metrics":{"latencyMs":5}}"#,
        ),
    ]
    .concat()
}

const ANTHROPIC_ANSWER: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hello from Claude"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":0,"cache_creation_input_tokens":0}}"#;

/// A stream request to the Anthropic model, routed under `shared`, its 200 event-stream
/// headers in (held: the answer has not begun).
pub(super) fn anthropic_stream(shared: Rc<Shared>) -> (Fake, Request) {
    let body = r#"{"model":"claude","stream":true,"messages":[{"role":"user","content":"hello"}]}"#;
    let mut host = chat(body);
    let mut req = Request::new(Some(shared));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    (host, req)
}

/// Anthropic's `message_start` event reporting `input` tokens (and the first output token).
pub(super) fn message_start(input: u64) -> String {
    format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{{\"input_tokens\":{input},\"output_tokens\":1}}}}}}\n\n"
    )
}

pub(super) fn replaced(step: &Step) -> String {
    step.effects
        .iter()
        .filter_map(|e| match e {
            Effect::ReplaceResponseBody { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        })
        .collect()
}

fn sent_headers(step: &Step) -> Vec<(String, String)> {
    step.effects
        .iter()
        .find_map(|e| match e {
            Effect::SetRequestHeaders(h) | Effect::Call { headers: h, .. } => Some(h.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn sent_body(step: &Step) -> Value {
    let bytes = step.effects.iter().find_map(|e| match e {
        Effect::ReplaceRequestBody { bytes, .. } | Effect::Call { body: bytes, .. } => Some(bytes.clone()),
        _ => None,
    });
    serde_json::from_slice(&bytes.unwrap_or_default()).unwrap_or(Value::Null)
}

#[test]
fn a_bedrock_stream_is_translated_event_by_event_and_priced() {
    let body = request(true);
    let mut host = chat(&body);
    let mut req = Request::new(Some(config()));
    let step = route(&mut req, &host);
    let path = sent_headers(&step).into_iter().find(|(k, _)| k == ":path").map(|(_, v)| v);
    assert_eq!(path.as_deref(), Some("/model/nemo/converse-stream"));
    let converse = sent_body(&step);
    assert!(
        converse.get("model").is_none() && converse["messages"][0]["content"][0]["text"] == "hello",
        "{converse}"
    );
    host.response_headers =
        pairs(&[(":status", "200"), ("content-type", "application/vnd.amazon.eventstream")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    // Held until the first chunk shows the stream does not open with an error.
    assert_eq!(step.verdict, Verdict::Pause);
    assert_eq!(set_response(&step, "content-type").as_deref(), Some("text/event-stream"));
    assert!(step.effects.contains(&Effect::RemoveResponseHeader("content-length".into())));
    // The frames arrive split mid-frame: each chunk becomes the chunks it completes.
    let bytes = converse_stream();
    let (a, b) = bytes.split_at(bytes.len() / 2 + 3);
    let mut out = String::new();
    for (part, end) in [(a, false), (b, true)] {
        host.response_body = part.to_vec();
        let step = req.on(&host, Event::ResponseBody { size: part.len(), end_of_stream: end });
        assert!(step.effects.iter().any(|e| matches!(e, Effect::ReplaceResponseBody { .. })), "{step:?}");
        out.push_str(&replaced(&step));
    }
    let content: String = out
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(content, "Hi there", "{out}");
    assert!(out.contains("\"cost\"") && out.ends_with("data: [DONE]\n\n"), "{out}");
    assert_eq!(host.notes.borrow().get("tokens_in").map(String::as_str), Some("10"));
}

#[test]
fn an_anthropic_answer_is_translated_whole_and_its_key_goes_as_x_api_key() {
    let body = r#"{"model":"claude","messages":[{"role":"user","content":"hello"}]}"#;
    let mut host = chat(body);
    let mut req = Request::new(Some(config()));
    let step = route(&mut req, &host);
    let headers = sent_headers(&step);
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!((get(":path"), get("anthropic-version")), (Some("/v1/messages"), Some("2023-06-01")));
    assert_eq!((get("x-api-key"), get("authorization")), (Some("sk-an"), None));
    assert!(sent_body(&step)["max_tokens"].as_u64().is_some());
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    host.response_body = ANTHROPIC_ANSWER.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: ANTHROPIC_ANSWER.len(), end_of_stream: true });
    let v: Value = serde_json::from_str(&replaced(&step)).unwrap_or(Value::Null);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Claude");
    assert_eq!(set_response(&step, "x-model-router-tokens-in").as_deref(), Some("10"));
}

#[test]
fn a_native_error_reaches_the_client_in_the_openai_shape_with_its_message() {
    let mut host = chat(&request(false));
    let mut req = Request::new(Some(config()));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "400"), ("x-amzn-errortype", "ValidationException")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    let native = br#"{"message":"The model does not support tool use."}"#;
    host.response_body = native.to_vec();
    let step = req.on(&host, Event::ResponseBody { size: native.len(), end_of_stream: true });
    let v: Value = serde_json::from_str(&replaced(&step)).unwrap_or(Value::Null);
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("does not support tool use")), "{v}");
}

/// Cross-protocol failover: each fallback is built from the client's body in its own API,
/// and its answer comes back in the OpenAI shape (whole or streamed).
#[test]
fn failover_crosses_protocols_streamed_or_not() {
    for stream in [false, true] {
        let body = request(stream);
        let mut host = chat(&body);
        let mut req = Request::new(Some(config()));
        route(&mut req, &host);
        // Bedrock fails: the OpenAI-compatible candidate gets the client's bytes, spliced.
        host.response_headers = pairs(&[(":status", "503")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let spliced = sent_body(&step);
        assert_eq!(
            (spliced["model"].as_str(), spliced["messages"][0]["content"].as_str()),
            (Some("gpt"), Some("hello"))
        );
        assert!(spliced.get("prefer").is_none());
        assert_eq!(req.on(&host, Event::Dispatched { sent: true }), Step::just(Verdict::Pause));
        // It fails too: Anthropic gets a Messages body, translated from the client's body.
        host.call_headers = pairs(&[(":status", "500")]);
        let step = req.on(&host, Event::CallResponse { body_size: 0 });
        let messages = sent_body(&step);
        assert_eq!(messages["model"], "claude");
        assert!(messages["max_tokens"].as_u64().is_some() && messages.get("prefer").is_none(), "{messages}");
        assert!(sent_headers(&step).iter().any(|(k, v)| k == "anthropic-version" && v == "2023-06-01"));
        req.on(&host, Event::Dispatched { sent: true });
        // Anthropic answers natively; the client gets OpenAI's shape.
        let answer = if stream {
            concat!(
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello from Claude\"}}\n\n",
                "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n",
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            )
        } else {
            ANTHROPIC_ANSWER
        };
        host.call_headers = pairs(&[
            (":status", "200"),
            ("content-type", if stream { "text/event-stream" } else { "application/json" }),
        ]);
        host.call_body = answer.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: answer.len() });
        let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!((status, get("x-model-router-model").as_deref()), (200, Some("claude")));
        assert_eq!(get("x-model-router-fallback-from").as_deref(), Some("br/nemo, oa/gpt"));
        let text = step
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::Respond { body, .. } => Some(String::from_utf8_lossy(body).into_owned()),
                _ => None,
            })
            .unwrap_or_default();
        if stream {
            assert_eq!(get("content-type").as_deref(), Some("text/event-stream"));
            assert!(text.contains("Hello from Claude") && text.ends_with("data: [DONE]\n\n"), "{text}");
            assert!(text.contains("\"cost\""), "{text}");
        } else {
            assert_eq!(get("content-type").as_deref(), Some("application/json"));
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert_eq!(v["choices"][0]["message"]["content"], "Hello from Claude", "{text}");
            assert_eq!(get("x-model-router-tokens-out").as_deref(), Some("5"));
        }
    }
}

/// Bedrock answers the first attempt with its context-length 400; returns the step that read it.
fn overflowed() -> (Fake, Request, Step) {
    let mut host = chat(&request(false));
    let mut req = Request::new(Some(config()));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "400")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let native = br#"{"message":"Input is too long for requested model."}"#;
    host.response_body = native.to_vec();
    let step = req.on(&host, Event::ResponseBody { size: native.len(), end_of_stream: true });
    (host, req, step)
}

#[test]
fn a_native_context_length_error_moves_to_a_larger_window() {
    let (_, _, step) = overflowed();
    assert_eq!(step.verdict, Verdict::Pause);
    assert_eq!(sent_body(&step)["model"], "claude", "{step:?}");
}

/// A larger window's fallback that cannot be sent (its cluster unknown to Envoy) leaves the
/// first 400 to answer: it reached the client in Bedrock's own shape (the held body, let go
/// untranslated), not OpenAI's.
#[test]
fn a_native_context_length_error_whose_fallback_cannot_be_sent_is_answered_translated() {
    let (host, mut req, _) = overflowed();
    let step = req.on(&host, Event::Dispatched { sent: false });
    let (status, v, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("context_length_exceeded")), "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("Input is too long")), "{v}");
}

/// The worker's memo (`Shared::memo`): the next turn of an agent's conversation pinned to a
/// model on the Messages API is parsed and translated from what the worker remembers of the
/// turn before, and sends the bytes a worker that remembers nothing sends.
#[test]
fn a_turn_parsed_and_translated_from_the_workers_memo_sends_what_a_fresh_worker_sends() {
    let conversation = |turns: usize| {
        let mut messages = vec![serde_json::json!({"role": "user", "content": "Fix the date parser."})];
        for t in 0..turns {
            let code: String =
                (0..40).map(|l| format!("def parse_{t}_{l}(v):\n    return v  # {l}\n")).collect();
            messages.push(serde_json::json!({"role": "assistant", "content": format!("Reading file {t}.")}));
            messages.push(serde_json::json!({"role": "user", "content": code}));
        }
        serde_json::json!({"model": "claude", "messages": messages}).to_string()
    };
    let sent = |step: &Step| {
        step.effects.iter().find_map(|e| match e {
            Effect::ReplaceRequestBody { bytes, .. } => Some(bytes.clone()),
            _ => None,
        })
    };
    let (earlier, later) = (conversation(12), conversation(13));
    assert!(earlier.len() > 16_384, "above the prefix cache's min_bytes");
    let shared = config();
    let mut host = chat(&earlier);
    route(&mut Request::new(Some(shared.clone())), &host);
    assert_eq!(shared.memo.hits(), (0, 0));
    host.request_body = later.clone().into_bytes();
    let resumed = sent(&route(&mut Request::new(Some(shared.clone())), &host));
    assert_eq!(shared.memo.hits(), (1, 1));
    let fresh = config();
    let whole = sent(&route(&mut Request::new(Some(fresh.clone())), &chat(&later)));
    assert_eq!(fresh.memo.hits(), (0, 0));
    assert!(resumed.as_ref().is_some_and(|b| b.starts_with(b"{") && b.len() > later.len() / 2));
    assert_eq!(resumed, whole);
}

/// Anthropic's stream's first event (10 input tokens) and a text delta.
pub(super) const ANTHROPIC_START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n";
/// See [`ANTHROPIC_START`].
pub(super) const ANTHROPIC_DELTA: &str = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n";

/// A request (`stream` or not) whose first attempt answered 503 and whose first fallback
/// answered 500: the second fallback (Anthropic's `claude`) is out, its answer next.
pub(super) fn at_the_last_fallback(stream: bool) -> (Fake, Request) {
    at_the_last_fallback_of(&request(stream))
}

/// [`at_the_last_fallback`] of a request of this `body`.
pub(super) fn at_the_last_fallback_of(body: &str) -> (Fake, Request) {
    let mut host = chat(body);
    let mut req = Request::new(Some(config_with(r#","budgets":{"daily_usd":100}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "503")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "500")]);
    req.on(&host, Event::CallResponse { body_size: 0 });
    req.on(&host, Event::Dispatched { sent: true });
    (host, req)
}

#[test]
fn a_fallback_answer_that_cannot_be_translated_or_fails_midway_is_answered_as_a_failure() {
    let (start, delta) = (ANTHROPIC_START, ANTHROPIC_DELTA);
    let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let midway = format!("{start}{delta}{error}");
    let before = format!("{start}{error}");
    // (name, streamed, Anthropic's 200 answer, status to the client)
    let cases = [
        ("not a message", false, r#"{"type":"completion","completion":"hi"}"#, 502),
        // Midway too: none of it reached the client (a fallback is held whole), and it was
        // served with its error event while a candidate was left.
        ("a stream that fails midway", true, midway.as_str(), 502),
        // Before its answer began: the fallback's failure, as on the first attempt's path.
        ("a stream that fails before its answer", true, before.as_str(), 502),
    ];
    for (name, stream, answer, want) in cases {
        let (mut host, mut req) = at_the_last_fallback(stream);
        host.call_headers = pairs(&[
            (":status", "200"),
            ("content-type", if stream { "text/event-stream" } else { "application/json" }),
        ]);
        host.call_body = answer.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: answer.len() });
        let text = step
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::Respond { status, body, .. } => {
                    Some((*status, String::from_utf8_lossy(body).into_owned()))
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name}: {step:?}"));
        assert_eq!(text.0, want, "{name}: {}", text.1);
        if stream && want == 502 {
            let v: Value = serde_json::from_str(&text.1).unwrap_or(Value::Null);
            assert_eq!(v["error"]["code"], "upstream_failed", "{name}: {}", text.1);
            assert!(text.1.contains("an/claude 502"), "{name}: {}", text.1);
            // The provider failed: nothing charged before its answer began, what it wrote after.
            req.on(&host, Event::Log);
            let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
            assert_eq!(spent.is_some_and(|s| s > 0), answer == midway, "{name}: {spent:?}");
            continue;
        }
        if stream {
            // One error event, the translator's: not a second one for a missing [DONE].
            assert_eq!(text.1.matches("\"error\"").count(), 1, "{name}: {}", text.1);
            assert!(text.1.contains("Overloaded") && !text.1.contains("[DONE]"), "{name}: {}", text.1);
            let counters = host.counters.borrow();
            assert!(
                counters.contains_key("stream_failed") && !counters.contains_key("stream_truncated"),
                "{name}"
            );
        } else {
            // Not an answer: the fallback's failure, as a 502 is (another candidate would be
            // tried), so the router's own 502.
            let v: Value = serde_json::from_str(&text.1).unwrap_or(Value::Null);
            assert_eq!(v["error"]["code"], "upstream_failed", "{name}: {}", text.1);
        }
        // Either way the provider answered, and billed: its estimate is charged, and the
        // request is counted as the provider's failure or as answered.
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        let spent = counters.get("budget_spent_nanousd.scope.global").copied().unwrap_or_default();
        assert!(spent > 0, "{name}: {counters:?}");
        // The failed stream's counts (its message_start's) are reported, not lost.
        let tokens_in = host.notes.borrow().get("tokens_in").cloned();
        assert_eq!(tokens_in.as_deref(), stream.then_some("10"), "{name}");
        // A stream its provider failed is `upstream_error` though its client got a 200.
        let outcome = if want == 502 || stream { "upstream_error" } else { "ok" };
        assert!(counters.keys().any(|k| k.ends_with(&format!("outcome.{outcome}"))), "{name}: {counters:?}");
    }
}

/// A native stream that fails midway sends no usage chunk, but its translator read the
/// provider's counts: they are reported, and charged at least the estimate (an Anthropic
/// stream's `message_start` counts only the input and the first output token).
#[test]
fn a_failed_native_stream_reports_the_counts_it_read_and_is_charged_at_least_the_estimate() {
    let run = |input_tokens: u64| {
        let (mut host, mut req) = anthropic_stream(config_with(r#","budgets":{"daily_usd":2}"#));
        let start = message_start(input_tokens);
        let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        // It opens with its answer (so it flows), then fails.
        let delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
        host.response_body = format!("{start}event: content_block_delta\ndata: {delta}\n\n").into_bytes();
        let step =
            req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
        assert_eq!(step.verdict, Verdict::Continue);
        host.response_body = format!("event: error\ndata: {error}\n\n").into_bytes();
        let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        assert!(replaced(&step).contains("Overloaded"), "{step:?}");
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
        let tokens_in = host.notes.borrow().get("tokens_in").cloned();
        (spent.unwrap_or(0), tokens_in)
    };
    // Eleven tokens at 3 USD per million (33,000 nano-USD) cost less than the estimate: the
    // estimate.
    let (small, tokens) = run(10);
    assert_eq!(tokens.as_deref(), Some("10"));
    assert!(small > 33_000, "{small}");
    // 90,000 input tokens at 3 USD per million: 0.27 USD, past the estimate.
    let (large, tokens) = run(90_000);
    assert_eq!(tokens.as_deref(), Some("90000"));
    assert_eq!(large, 270_003_000);
}
