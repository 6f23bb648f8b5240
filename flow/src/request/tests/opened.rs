//! An OpenAI-compatible stream's headers held until its first event: one that opens with the
//! provider's error is a failed attempt, failed over; the request's own error is the client's
//! 400; an answer flows on from its first event. A fallback's stream likewise.

use super::no_answer::{charged, errors};
use super::*;

const STREAM: &str = STREAM_HELLO;
const ANSWER: &str =
    "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";

/// A stream request of up to three attempts, its first attempt's 200 event-stream headers
/// held. With the provider's cluster.
fn opening() -> (Fake, Request, String) {
    let mut host = chat(STREAM);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    let provider = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(step.verdict, Verdict::Pause, "held until its first event: {step:?}");
    (host, req, provider)
}

/// The held body so far is `held` (Envoy keeps what came before).
fn chunk(req: &mut Request, host: &mut Fake, held: &str, end_of_stream: bool) -> Step {
    host.response_body = held.as_bytes().to_vec();
    req.on(host, Event::ResponseBody { size: held.len(), end_of_stream })
}

fn called(step: &Step) -> Option<String> {
    step.effects.iter().find_map(|e| match e {
        Effect::Call { cluster, .. } => Some(cluster.clone()),
        _ => None,
    })
}

/// An OpenAI-compatible stream that opens with the provider's error (OpenRouter-style
/// gateways and vLLM send a 200 and then an error event; a numeric 429 is a rate limit) was
/// passed on as a 200 holding it, the provider recorded healthy until the end, no other
/// candidate tried. It is a failed attempt: the next candidate answers, the client sees none
/// of it, and the provider's error is not charged. Comments before it are not its first event.
#[test]
fn a_stream_that_opens_with_the_providers_error_is_failed_over() {
    let errors_first = [
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
        "event: error\r\ndata: {\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}\r\n\r\n",
    ];
    for error in errors_first {
        let (mut host, mut req, first) = opening();
        let step = chunk(&mut req, &mut host, ": PROCESSING\n\n", false);
        assert_eq!((step.verdict, called(&step)), (Verdict::Pause, None), "a comment is not an event");
        let held = format!(": PROCESSING\n\n{error}");
        let step = chunk(&mut req, &mut host, &held, false);
        let second = called(&step).unwrap_or_else(|| panic!("not failed over: {step:?}"));
        assert_ne!(second, first);
        assert!(step.effects.contains(&Effect::ReplaceResponseBody { size: held.len(), bytes: Vec::new() }));
        assert_eq!(errors(&host, &first), 1, "{error}");
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        host.call_body = ANSWER.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: ANSWER.len() });
        let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!((status, get("x-model-router-attempts").as_deref()), (200, Some("2")));
        req.on(&host, Event::Log);
        assert_eq!(charged(&host), charged_after(None), "{error}: the error is not charged");
    }
}

/// A stream request of up to three attempts whose first failed with a 503: its second is
/// out, about to answer a 200 event stream. With the second's cluster.
fn at_the_second() -> (Fake, Request, String) {
    let mut host = chat(STREAM);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let second = called(&step).unwrap_or_else(|| panic!("{step:?}"));
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    (host, req, second)
}

/// What a stream request is charged when its first attempt fails with a 503, its second (if
/// any) answers `second`, and the next answers whole.
fn charged_after(second: Option<&str>) -> u64 {
    let (mut host, mut req, _) = at_the_second();
    if let Some(second) = second {
        host.call_body = second.as_bytes().to_vec();
        req.on(&host, Event::CallResponse { body_size: second.len() });
        req.on(&host, Event::Dispatched { sent: true });
    }
    host.call_body = ANSWER.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: ANSWER.len() });
    assert!(respond(&step).is_some(), "{step:?}");
    req.on(&host, Event::Log);
    let charged = charged(&host);
    assert!(charged > 0, "the answer is charged");
    charged
}

/// One that opens with an error the request caused (`invalid_request_error`, as Groq's
/// `tool_use_failed`) is answered as OpenAI answers a bad request: the client's 400 with the
/// provider's error, at once, not a 200 holding an error event; no other candidate, and not
/// against the provider's health.
#[test]
fn a_stream_that_opens_with_the_requests_error_is_the_clients_400() {
    let (mut host, mut req, first) = opening();
    let error = "data: {\"error\":{\"message\":\"Failed to call a function\",\"type\":\"invalid_request_error\",\"code\":\"tool_use_failed\"}}\n\n";
    let step = chunk(&mut req, &mut host, error, false);
    assert_eq!(called(&step), None, "{step:?}");
    let (status, body, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("tool_use_failed")));
    assert_eq!(errors(&host, &first), 0);
}

const ROLE: &str = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
const OVERLOADED: &str = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";

/// The role-only chunk a provider sends at once opens nothing: its error after it, before the
/// model wrote, is a failed attempt the next candidate answers (it reached the client midway,
/// a 200 stream holding an error, with two candidates left).
#[test]
fn an_error_after_the_role_only_chunk_is_failed_over() {
    let (mut host, mut req, first) = opening();
    let step = chunk(&mut req, &mut host, ROLE, false);
    assert_eq!(step.verdict, Verdict::Pause, "{step:?}");
    let held = format!("{ROLE}{OVERLOADED}");
    let step = chunk(&mut req, &mut host, &held, false);
    assert!(called(&step).is_some_and(|c| c != first), "{step:?}");
    assert_eq!(errors(&host, &first), 1);
}

/// An answer flows on from its first event that carries some of it, whole once it is: an
/// event split across chunks waits for its end; an error after it is the stream's, passed on.
#[test]
fn a_stream_flows_on_from_its_first_event() {
    let (mut host, mut req, first) = opening();
    let text = format!(
        "{ROLE}data: {{\"id\":\"c\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n"
    );
    let (half, _) = text.split_at(ROLE.len() + 30);
    let step = chunk(&mut req, &mut host, half, false);
    assert_eq!(step.verdict, Verdict::Pause, "{step:?}");
    let held = format!("{text}{OVERLOADED}");
    let step = chunk(&mut req, &mut host, &held, false);
    assert_eq!((step.verdict, called(&step)), (Verdict::Continue, None), "{step:?}");
    host.response_body = Vec::new();
    let step = req.on(&host, Event::ResponseBody { size: 0, end_of_stream: true });
    assert_eq!(step.verdict, Verdict::Continue);
    req.on(&host, Event::Log);
    assert_eq!(errors(&host, &first), 1, "its error event counts against it at its end");
    assert!(host.counters.borrow().contains_key("stream_failed"));
}

/// A stream that ends at `data: [DONE]` with nothing before it, or with nothing at all, holds
/// no answer: the provider's failure, the next candidate's turn.
#[test]
fn a_stream_with_nothing_in_it_is_failed_over() {
    for empty in ["data: [DONE]\n\n", ": keep-alive\n\n"] {
        let (mut host, mut req, first) = opening();
        let step = chunk(&mut req, &mut host, empty, true);
        assert!(called(&step).is_some_and(|c| c != first), "{empty:?}: {step:?}");
        assert_eq!(errors(&host, &first), 1, "{empty:?}");
    }
}

/// A fallback's stream that opens with its provider's error, or holds nothing but `[DONE]`,
/// was served (recorded answered, the error event or an empty answer the client's): the next
/// candidate answers instead, the provider's health takes the failure.
#[test]
fn a_fallback_stream_that_opens_with_an_error_or_is_empty_moves_on() {
    let (role_error, role_done) = (format!("{ROLE}{OVERLOADED}"), format!("{ROLE}data: [DONE]\n\n"));
    for bad in [OVERLOADED, "data: [DONE]\n\n", &role_error, &role_done] {
        let (mut host, mut req, second) = at_the_second();
        host.call_body = bad.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: bad.len() });
        let third = called(&step).unwrap_or_else(|| panic!("{bad:?} served: {step:?}"));
        assert_ne!(third, second);
        assert_eq!(errors(&host, &second), 1, "{bad:?}");
        req.on(&host, Event::Dispatched { sent: true });
        host.call_body = ANSWER.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: ANSWER.len() });
        let (status, _, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
        assert_eq!(status, 200);
    }
    // Opening with the request's own error: the client's 400, at once.
    let (mut host, mut req, _) = at_the_second();
    let refused = "data: {\"error\":{\"message\":\"bad tool\",\"type\":\"invalid_request_error\"}}\n\n";
    host.call_body = refused.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: refused.len() });
    assert_eq!(called(&step), None, "{step:?}");
    let (status, body, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, body["error"]["message"].as_str()), (400, Some("bad tool")));
}

/// Keep-alive comments before a slow first event hold the headers no longer than the hold's
/// time bound: then they pass on, as they keep the proxies and the client on the way from
/// timing the request out.
#[test]
fn a_stream_that_only_keeps_alive_is_passed_on_after_the_hold() {
    let (mut host, mut req, first) = opening();
    let step = chunk(&mut req, &mut host, ": keep-alive\n\n", false);
    assert_eq!(step.verdict, Verdict::Pause);
    host.now_ns += 16_000_000_000;
    let held = ": keep-alive\n\n: keep-alive\n\n";
    let step = chunk(&mut req, &mut host, held, false);
    assert_eq!((step.verdict, called(&step)), (Verdict::Continue, None), "{step:?}");
    assert_eq!(errors(&host, &first), 0);
}

/// What a fallback's stream of nothing but `[DONE]` is charged: its input's estimate, as the
/// first attempt's stream that never opened is, not its whole estimate (its output priced
/// as if written). One that is an error object is charged nothing, as on the first attempt.
#[test]
fn a_fallback_stream_of_nothing_is_charged_its_input() {
    let error = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
    let nothing = charged_after(Some("data: [DONE]\n\n")) - charged_after(Some(error));
    // An error object with the stream's content type is judged whole: no model wrote it. Any
    // other object is no stream either, and the next candidate streams (`charged_after` checks
    // that it answers).
    assert_eq!(charged_after(Some(r#"{"error":{"message":"overloaded"}}"#)), charged_after(Some(error)));
    let whole = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}"#;
    assert!(charged_after(Some(whole)) > charged_after(Some(error)));
    // "hello" is a few tokens at $1 per million (1,000 nano-USD each); 512 output tokens at $2
    // would add 1,024,000.
    assert!(nothing > 0 && nothing < 100_000, "{nothing}");
}

/// A model whose provider streams its tool calls without their `index` (Gemini's OpenAI layer):
/// the OpenAI SDK's stream helper raised on the first call, and merged parallel calls into one;
/// agent loops stopped at its `stop`. Each call is numbered by its id, the finish said as
/// `tool_calls`; another model's stream passes as it came.
#[test]
fn an_indexless_providers_calls_are_numbered_and_their_finish_said() {
    let calls = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}}]}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}}]}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    for quirk in [true, false] {
        let stream = r#"{"model":"economy","stream":true,"messages":[{"role":"user","content":"hello"}]}"#;
        let (mut req, mut host) = indexless(quirk, stream, "text/event-stream");
        host.response_body = calls.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: calls.len(), end_of_stream: true });
        let out = step.effects.iter().find_map(|e| match e {
            Effect::ReplaceResponseBody { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        });
        let out = out.unwrap_or_else(|| calls.to_string());
        let events: Vec<serde_json::Value> = out
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter_map(|j| serde_json::from_str(j).ok())
            .collect();
        let index = |n: usize| {
            events.get(n).and_then(|e| e["choices"][0]["delta"]["tool_calls"][0]["index"].as_u64())
        };
        let finish = events.get(2).and_then(|e| e["choices"][0]["finish_reason"].as_str());
        let want = if quirk { (Some(0), Some(1), Some("tool_calls")) } else { (None, None, Some("stop")) };
        assert_eq!((index(0), index(1), finish), want, "{quirk}: {out}");
    }
}

/// A request to a model that does or does not stream its calls without their index (`quirk`),
/// routed, its provider's 200 (`content_type`) headers read.
fn indexless(quirk: bool, body: &str, content_type: &str) -> (Request, Fake) {
    let model = |id: &str, tier: &str| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60,"indexless_calls":{quirk}}}"#
        )
    };
    let json = format!(
        r#"{{"catalog":{{"providers":{{"a":{{}}}},"models":[{},{},{}]}}}}"#,
        model("g", "economy"),
        model("s", "standard"),
        model("p", "premium")
    );
    let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mut req = Request::new(Some(Rc::new(Shared::new(config, HashMap::new()))));
    let mut host = chat(body);
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", content_type)]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    (req, host)
}

/// Such a model's whole answer likewise (Gemini's): a call's `stop` said as `tool_calls`, its
/// own `SAFETY` as `content_filter` (a filtered answer read as a complete one, an agent's
/// calls not run); another model's passes as it came.
#[test]
fn an_indexless_providers_whole_answer_says_its_finish_as_openai_does() {
    let call = r#"{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"w","arguments":"{}"}}]}"#;
    let text = r#"{"role":"assistant","content":""}"#;
    for quirk in [true, false] {
        for (message, said, want) in [(call, "stop", "tool_calls"), (text, "SAFETY", "content_filter")] {
            let (mut req, mut host) = indexless(quirk, HELLO, "application/json");
            let body = format!(
                r#"{{"id":"x","choices":[{{"index":0,"message":{message},"finish_reason":"{said}"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1}}}}"#
            );
            host.response_body = body.clone().into_bytes();
            let step = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
            let out = step.effects.iter().find_map(|e| match e {
                Effect::ReplaceResponseBody { bytes, .. } => {
                    serde_json::from_slice::<serde_json::Value>(bytes).ok()
                }
                _ => None,
            });
            let finish = out.as_ref().map(|v| v["choices"][0]["finish_reason"].clone());
            assert_eq!(finish, quirk.then(|| want.into()), "{quirk} {said}: {step:?}");
            let framed = step
                .effects
                .iter()
                .any(|e| matches!(e, Effect::RemoveResponseHeader(k) if k == "content-length"));
            assert_eq!(framed, quirk, "{step:?}");
        }
    }
}

/// A stream cut after its role-only chunk with no candidate left is the router's 502, and, its
/// attempt charged (the provider had the request), tells the client's SDK not to retry (each of
/// its two retries asked the provider again); one refused before any was charged leaves that
/// to the SDK.
#[test]
fn a_stream_lost_after_its_role_chunk_is_not_for_the_sdk_to_retry() {
    for (body, told) in [(ROLE, Some("false")), ("", None)] {
        let mut host = chat(STREAM);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
        route(&mut req, &host);
        let status = if body.is_empty() { "503" } else { "200" };
        host.response_headers = pairs(&[(":status", status), ("content-type", "text/event-stream")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let step = if body.is_empty() { step } else { chunk(&mut req, &mut host, body, true) };
        let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
        let should = headers.iter().find(|(k, _)| k == "x-should-retry").map(|(_, v)| v.as_str());
        assert_eq!((status, should), (502, told), "{body:?}");
    }
}
