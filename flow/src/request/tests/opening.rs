//! A native stream's headers held until its answer begins: a stream that opens with the
//! provider's error is a failed attempt, failed over; the request's own error and an answer
//! pass.

use model_router_scorer::protocol::bedrock::eventstream::encode;

use super::native::{
    ANTHROPIC_DELTA, ANTHROPIC_START, anthropic_stream, config, config_with, converse_stream, message_start,
    replaced, request,
};
use super::{chat, pairs, respond, respond_text, route, set_response};
use crate::io::{Effect, Event, Step, Verdict};
use crate::request::Request;

/// A native stream's headers wait for its first chunk: one that opens with an error the
/// provider caused (Bedrock's throttlingException) is failed over as a 5xx is, the client
/// seeing none of it; one the request caused (a validationException) is the client's 400, or
/// a larger window's turn when it overflowed; a stream that opens with its answer flows on.
#[test]
fn a_native_stream_that_opens_with_a_provider_error_is_failed_over() {
    let exception = |kind: &str, message: &str| {
        let headers = [
            (":message-type", "exception"),
            (":exception-type", kind),
            (":content-type", "application/json"),
        ];
        encode(&headers, format!(r#"{{"message":"{message}"}}"#).as_bytes())
    };
    let opened_with = |shared, first: Vec<u8>| {
        let mut host = chat(&request(true));
        let mut req = Request::new(Some(shared));
        route(&mut req, &host);
        host.response_headers =
            pairs(&[(":status", "200"), ("content-type", "application/vnd.amazon.eventstream")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(step.verdict, Verdict::Pause, "the headers wait for the first chunk");
        assert_eq!(set_response(&step, "content-type").as_deref(), Some("text/event-stream"));
        host.response_body = first;
        let step =
            req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
        (host, req, step)
    };
    let opened = |first: Vec<u8>| opened_with(config(), first);
    // Throttled: the next candidate is called, the failed chunk dropped.
    let (mut host, mut req, step) = opened(exception("throttlingException", "Too many requests"));
    assert_eq!(step.verdict, Verdict::Pause);
    assert!(step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
    assert!(
        step.effects
            .iter()
            .any(|e| matches!(e, Effect::ReplaceResponseBody { bytes, .. } if bytes.is_empty()))
    );
    assert_eq!(req.on(&host, Event::Dispatched { sent: true }), Step::just(Verdict::Pause));
    let answer =
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = answer.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: answer.len() });
    let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!((status, get("x-model-router-fallback-from").as_deref()), (200, Some("br/nemo")));
    // The provider's health took the failure.
    let errors = |key: &str| {
        let shared = host.shared.borrow();
        shared
            .get(key)
            .and_then(|(v, _)| model_router_scorer::health::Health::decode(v))
            .map(|h| h.window_errors)
    };
    assert_eq!(errors(&model_router_scorer::health::provider_key("br")), Some(1));
    assert_eq!(errors(&model_router_scorer::health::deployment_key("br", "nemo")), Some(1));

    // The request's own fault: answered as OpenAI answers a bad request, a 400 with the JSON
    // error (it was a 200 stream holding an error event, which the SDKs raise with no status),
    // at once, the stream dropped; no other candidate, not charged nor the provider's.
    let (host, mut req, step) = opened(exception("validationException", "bad input"));
    assert!(!step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
    let (status, error, headers) = respond(&step).unwrap_or_else(|| panic!("no answer: {step:?}"));
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("provider_rejected_request")));
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "application/json"), "{headers:?}");
    req.on(&host, Event::Log);
    assert!(
        host.counters.borrow().keys().any(|k| k.ends_with("outcome.client_error")),
        "{:?}",
        host.counters
    );
    // A context-window error moves to a larger window, as its 400 twin does; with no attempt
    // left for one, it is the client's 400 too (it was a 200 with an empty body).
    let overflow = || exception("validationException", "Input is too long for requested model.");
    let (mut host, mut req, step) = opened(overflow());
    assert!(
        step.effects.iter().any(|e| matches!(e, Effect::Call { cluster, .. } if cluster == "an")),
        "{step:?}"
    );
    // The larger window answers: its stream is served and charged, not the first one's 400
    // (which the fallback carried, and answered in its place).
    req.on(&host, Event::Dispatched { sent: true });
    let stop = "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let answer = format!("{ANTHROPIC_START}{ANTHROPIC_DELTA}{stop}");
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = answer.into_bytes();
    let step = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (status, body) = respond_text(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"Hi\"") && body.contains("[DONE]"), "{body}");
    req.on(&host, Event::Log);
    assert!(
        host.counters.borrow().keys().any(|k| k.starts_with("cost_nanousd.provider.an")),
        "{:?}",
        host.counters
    );
    let (_, _, step) = opened_with(config_with(r#","resilience":{"max_attempts":1}"#), overflow());
    let (status, error, _) = respond(&step).unwrap_or_else(|| panic!("no answer: {step:?}"));
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("context_length_exceeded")), "{error}");

    // Ended before any answer, with no error: the provider failed.
    let (mut host, mut req, _) = opened(Vec::new());
    host.response_body = Vec::new();
    let step = req.on(&host, Event::ResponseBody { size: 0, end_of_stream: true });
    assert!(step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");

    // An answer: it flows, the first chunk translated once.
    let (_, _, step) = opened(converse_stream());
    assert_eq!(step.verdict, Verdict::Continue);
    let out = replaced(&step);
    assert_eq!(out.matches("\"role\":\"assistant\"").count(), 1, "{out}");
    assert!(out.contains("Hi "), "{out}");
}

/// An Anthropic stream opens with `message_start` before anything of its answer, and an
/// overload arrives after it: the headers stay held until the answer begins, so the overload is
/// the provider's failure (here with no other candidate: the router's 502), not a 200 carrying
/// an error event.
#[test]
fn an_overload_after_message_start_is_a_failed_attempt_not_a_200() {
    let (mut host, mut req) = anthropic_stream(config());
    let first = format!("{}event: ping\ndata: {{\"type\":\"ping\"}}\n\n", message_start(10));
    host.response_body = first.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: first.len(), end_of_stream: false });
    assert_eq!(step, Step::just(Verdict::Pause), "held: nothing of the answer yet");
    // Envoy holds what came: the next callback sees it all.
    let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let all = format!("{first}event: error\ndata: {error}\n\n");
    host.response_body = all.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: all.len(), end_of_stream: true });
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, json["error"]["code"].as_str()), (502, Some("upstream_failed")), "{json}");
}

/// The same overload after the answer began, in the one chunk that carries both: the answer
/// is served and ends with the error event, as when the overload comes in a later chunk. It
/// was failed over (another provider called, the client told 502) and charged nothing, though
/// the provider billed the input and what it wrote.
#[test]
fn an_overload_in_the_chunk_where_the_answer_began_is_served_not_failed_over() {
    let (mut host, mut req) = anthropic_stream(config());
    let delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi there"}}"#;
    let block = r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
    let error = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let all = format!(
        "{}event: content_block_start\ndata: {block}\n\nevent: content_block_delta\ndata: {delta}\n\nevent: error\ndata: {error}\n\n",
        message_start(10)
    );
    host.response_body = all.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: all.len(), end_of_stream: true });
    assert!(respond(&step).is_none(), "{step:?}");
    assert!(!step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
    let out = replaced(&step);
    assert!(out.contains("Hi there") && out.contains("\"error\""), "{out}");
}

/// A stream cut after Anthropic's message_start (which reports the input) and before its
/// answer is failed over, and what it reported is charged: the provider billed that input. It
/// was charged nothing. (A stream the provider ends with its own error is not charged.)
#[test]
fn a_stream_cut_after_it_reported_its_input_is_charged_what_it_reported() {
    let (mut host, mut req) = anthropic_stream(config_with(r#","budgets":{"daily_usd":100}"#));
    let cut = message_start(1000);
    host.response_body = cut.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: cut.len(), end_of_stream: true });
    assert_eq!(respond(&step).map(|(s, _, _)| s), Some(502), "{step:?}");
    req.on(&host, Event::Log);
    // 1,000 input and 1 output token at 3 USD per million.
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
    assert_eq!(spent, Some(3_003_000));
}

/// A stream cut before any count came (inside the first event: Anthropic's message_start
/// half sent; Converse and Responses report only at the end) is charged the attempt's input
/// estimate: the provider had the request and read it. It was charged nothing, while a cut
/// chat stream was charged.
#[test]
fn a_stream_cut_before_it_reported_anything_is_charged_its_input_estimate() {
    let (mut host, mut req) = anthropic_stream(config_with(r#","budgets":{"daily_usd":100}"#));
    let whole = message_start(1000);
    let cut = whole.get(..whole.len() / 2).unwrap_or_default().to_string();
    host.response_body = cut.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: cut.len(), end_of_stream: true });
    assert_eq!(respond(&step).map(|(s, _, _)| s), Some(502), "{step:?}");
    req.on(&host, Event::Log);
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
    // The input estimate of the one-message request at 3 USD per million, no output.
    assert!(spent.is_some_and(|s| s > 0 && s % 3_000 == 0), "{spent:?}");
}

/// A stream that fails in its first bytes is failed over; its provider then resetting the
/// connection makes Envoy answer the client in the router's place while the fallback is out.
/// The request counted as `client_closed`, blaming a client that never left: it is an
/// `upstream_error`. A client that does leave while a fallback is out is still `client_closed`.
#[test]
fn a_request_envoy_ends_while_a_fallback_is_out_is_no_client_closed() {
    let exception = encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
        ],
        br#"{"message":"slow down"}"#,
    );
    for (details, outcome) in [
        ("upstream_reset_after_response_started{remote_reset}", "upstream_error"),
        ("downstream_remote_disconnect", "client_closed"),
    ] {
        let mut host = chat(&request(true));
        let mut req = Request::new(Some(config()));
        route(&mut req, &host);
        host.response_headers =
            pairs(&[(":status", "200"), ("content-type", "application/vnd.amazon.eventstream")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body = exception.clone();
        let step = req.on(&host, Event::ResponseBody { size: exception.len(), end_of_stream: false });
        assert!(step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
        req.on(&host, Event::Dispatched { sent: true });
        host.details = Some(details.into());
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        let ended: Vec<&String> =
            counters.keys().filter(|k| k.starts_with("requests.") && k.contains(".outcome.")).collect();
        assert!(
            ended.len() == 1 && ended.iter().all(|k| k.ends_with(&format!(".outcome.{outcome}"))),
            "{details}: {ended:?}"
        );
    }
}

/// A stream its provider resets after its `message_start` reported the input, before or after
/// its answer began, is charged that input in place of the input's estimate (with the
/// estimate's output): a conversation read from the cache was charged its whole size at the
/// full input price. Two such streams reporting 1,000 input tokens apart differ by those.
#[test]
fn a_stream_reset_after_it_reported_its_input_is_charged_that_input() {
    let spent = |input: u64, answer_began: bool| {
        let (mut host, mut req) = anthropic_stream(config_with(r#","budgets":{"daily_usd":100}"#));
        let first = format!("{}{}", message_start(input), if answer_began { ANTHROPIC_DELTA } else { "" });
        host.response_body = first.clone().into_bytes();
        req.on(&host, Event::ResponseBody { size: first.len(), end_of_stream: false });
        host.details = Some("upstream_reset_after_response_started{remote_reset}".into());
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
        spent.unwrap_or_else(|| panic!("{:?}", host.counters))
    };
    for began in [false, true] {
        // 1,000 tokens at 3 USD per million.
        assert_eq!(spent(3000, began) - spent(2000, began), 3_000_000, "answer began: {began}");
    }
}

/// A stream its provider ends with an error after its answer began (Anthropic's overload), or
/// without its last event, is charged the input its `message_start` reported in place of the
/// input's estimate, as a stream cut or left is: it was charged the estimate at the full input
/// price (a conversation read from the cache, ten times its bill). Here one reported token
/// against some 380 estimated.
#[test]
fn a_stream_ended_by_its_providers_error_is_charged_the_input_it_reported() {
    let text = "word ".repeat(300);
    let body =
        format!(r#"{{"model":"claude","stream":true,"messages":[{{"role":"user","content":"{text}"}}]}}"#);
    let error = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let spent = |input: &str, end: &str| {
        let mut host = super::chat(&body);
        let mut req = Request::new(Some(config_with(r#","budgets":{"daily_usd":100}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let start = ANTHROPIC_START.replace(r#""input_tokens":10"#, input);
        let all = format!("{start}{ANTHROPIC_DELTA}{end}");
        host.response_body = all.clone().into_bytes();
        req.on(&host, Event::ResponseBody { size: all.len(), end_of_stream: true });
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
        spent.unwrap_or_else(|| panic!("{:?}", host.counters))
    };
    for end in [error, ""] {
        let (one, none) = (spent(r#""input_tokens":1"#, end), spent(r#""input_tokens":0"#, end));
        // The estimate's input, some 380 tokens at 3 USD per million, less the one token.
        assert!(one + 1_000_000 < none, "{one} against {none}: {end:?}");
    }
}

/// Anthropic's content filter ends a stream with an `invalid_request_error` ("Output blocked by
/// content filtering policy"): before the answer, the client's 400, no other provider asked (the
/// blocked request was answered by another); after it, the stream's end; neither counts against
/// Anthropic's health (five opened its breaker for every client).
#[test]
fn a_content_filters_error_event_is_the_requests_not_the_providers() {
    let filtered = r#"{"type":"error","error":{"type":"invalid_request_error","message":"Output blocked by content filtering policy"}}"#;
    let (mut host, mut req) = anthropic_stream(config());
    let all = format!("{}event: error\ndata: {filtered}\n\n", message_start(10));
    host.response_body = all.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: all.len(), end_of_stream: true });
    assert!(!step.effects.iter().any(|e| matches!(e, Effect::Call { .. })), "{step:?}");
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 400, "{json}");
    assert!(json["error"]["message"].as_str().is_some_and(|m| m.contains("content filtering")), "{json}");
    req.on(&host, Event::Log);
    assert_eq!(super::no_answer::errors(&host, "an"), 0);
    // After its answer began: served, ended by the error, and still not Anthropic's failure.
    let (mut host, mut req) = anthropic_stream(config());
    let delta = r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#;
    let block = r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#;
    let all = format!(
        "{}event: content_block_start\ndata: {block}\n\nevent: content_block_delta\ndata: {delta}\n\nevent: error\ndata: {filtered}\n\n",
        message_start(10)
    );
    host.response_body = all.clone().into_bytes();
    let step = req.on(&host, Event::ResponseBody { size: all.len(), end_of_stream: true });
    assert!(respond(&step).is_none() && replaced(&step).contains("content filtering"), "{step:?}");
    req.on(&host, Event::Log);
    assert_eq!(super::no_answer::errors(&host, "an"), 0);
}
