//! Answers that are none: a redirect, a 200 without a body, a 200 holding an error object, a
//! stream ended before its last event. Each is the provider's failure (its health, and the next
//! candidate), and none is charged as an answer.

use super::native::{
    ANTHROPIC_DELTA, ANTHROPIC_START, at_the_last_fallback, at_the_last_fallback_of, config_with, request,
};
use super::*;

/// The provider's health record's errors.
/// The errors `provider`'s health record holds.
pub(super) fn errors(host: &Fake, provider: &str) -> u32 {
    host.shared
        .borrow()
        .get(&model_router_scorer::health::provider_key(provider))
        .and_then(|(v, _)| model_router_scorer::health::Health::decode(v))
        .map_or(0, |h| h.window_errors)
}

/// What the request was charged, nano-USD, by the attempts' cost counters.
pub(super) fn charged(host: &Fake) -> u64 {
    host.counters.borrow().iter().filter(|(k, _)| k.starts_with("cost_nanousd")).map(|(_, v)| *v).sum()
}

/// A request allowed `attempts`, its first attempt's 200 headers held: its body next. With the
/// provider's cluster.
fn held_200(attempts: u32) -> (Fake, Request, String) {
    let mut host = chat(HELLO);
    let extra = format!(r#","resilience":{{"max_attempts":{attempts}}}"#);
    let mut req = Request::new(Some(config(&extra)));
    let provider = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    (host, req, provider)
}

/// A redirect, or a 200 that ends at its headers, moves on to the next candidate; a fallback's
/// 200 holding an error object, or nothing, moves on again; when none is left, the router's
/// 502, with no provider's `location`, and nothing charged.
#[test]
fn what_is_no_answer_fails_over_and_is_not_charged() {
    type First = (&'static str, Vec<(String, String)>, bool);
    let firsts: [First; 2] = [
        ("redirect", pairs(&[(":status", "308"), ("location", "https://elsewhere.example/v1")]), false),
        ("empty 200", pairs(&[(":status", "200"), ("content-type", "application/json")]), true),
    ];
    let fallbacks: [(&str, &[u8]); 2] =
        [("error object", br#"{"error":{"message":"Upstream overloaded","code":502}}"#), ("nothing", b"")];
    for (name, headers, end) in firsts {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
        let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.response_headers = headers;
        let mut step = req.on(&host, Event::ResponseHeaders { end_of_stream: end });
        let mut tried = vec![first];
        for (what, body) in fallbacks {
            let Some(Effect::Call { cluster, .. }) = step.effects.last() else {
                panic!("{name}, then {what}: no fallback called in {step:?}")
            };
            tried.push(cluster.clone());
            assert_eq!(req.on(&host, Event::Dispatched { sent: true }), Step::just(Verdict::Pause));
            host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
            host.call_body = body.to_vec();
            step = req.on(&host, Event::CallResponse { body_size: body.len() });
        }
        let (status, json, reply) = respond(&step).unwrap_or_else(|| panic!("{name}: {step:?}"));
        assert_eq!(
            (status, json["error"]["code"].as_str()),
            (502, Some("upstream_failed")),
            "{name}: {json}"
        );
        assert!(!reply.iter().any(|(k, _)| k == "location"), "{name}: {reply:?}");
        req.on(&host, Event::Log);
        assert_eq!(charged(&host), 0, "{name}");
        for p in &tried {
            assert!(errors(&host, p) >= 1, "{name}: {p} not counted failed ({tried:?})");
        }
    }
}

/// A held 200 whose body is an error object: the provider's failure, and the next candidate's
/// turn while its headers are held; with none left, the router's 502. Nothing is charged.
/// Passed on, the client's SDK read a malformed completion and the provider stayed healthy.
#[test]
fn a_held_200_holding_an_error_object_fails_over_and_is_the_providers_failure() {
    for attempts in [1, 3] {
        let (mut host, mut req, provider) = held_200(attempts);
        host.response_body = br#"{"error":{"message":"Upstream overloaded","code":502}}"#.to_vec();
        let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        assert_eq!(step.verdict, Verdict::Pause, "{attempts}: {step:?}");
        if attempts == 1 {
            let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
            assert_eq!((status, json["error"]["code"].as_str()), (502, Some("upstream_failed")), "{json}");
        } else {
            let Some(Effect::Call { cluster, .. }) = step.effects.last() else {
                panic!("no fallback: {step:?}")
            };
            assert_ne!(cluster, &provider);
            continue;
        }
        req.on(&host, Event::Log);
        assert_eq!((errors(&host, &provider), charged(&host)), (1, 0));
    }
}

/// A 200 error object that reports usage (a failure after generation began) is charged what it
/// reports: the provider billed it.
#[test]
fn a_200_error_object_that_reports_usage_is_charged_it() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body =
        br#"{"error":{"message":"generation failed"},"usage":{"prompt_tokens":1000,"completion_tokens":0}}"#
            .to_vec();
    let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    assert_eq!(respond(&step).map(|r| r.0), Some(502));
    req.on(&host, Event::Log);
    // 1,000 input tokens at $1 per million.
    assert_eq!(charged(&host), 1_000_000);
}

/// A fallback's stream that ended before its last event (cut, no error event) was served to the
/// client with a truncation error, its provider recorded healthy; nothing of it had reached
/// the client, so the next candidate answers instead.
#[test]
fn a_fallback_stream_cut_short_moves_on_to_the_next_candidate() {
    let mut host = chat(STREAM_HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let Some(Effect::Call { cluster: second, .. }) = step.effects.last().cloned() else { panic!("{step:?}") };
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
    host.call_body = cut.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: cut.len() });
    let Some(Effect::Call { cluster: third, .. }) = step.effects.last() else {
        panic!("no third attempt: {step:?}")
    };
    assert_ne!(third, &second);
    assert_eq!(errors(&host, &second), 1);
    req.on(&host, Event::Dispatched { sent: true });
    let whole = format!("{cut}data: [DONE]\n\n");
    host.call_body = whole.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: whole.len() });
    let (status, _, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 200);
    assert!(headers.iter().any(|(k, v)| k == "x-model-router-attempts" && v == "3"), "{headers:?}");
}

/// A fallback's stream that ended cleanly once its choice finished, without the usage chunk or
/// `[DONE]` (a provider that leaves them out, or closed just before them), is whole: served with
/// `[DONE]` and counted ok. Judged cut, it was thrown away for the next candidate's answer, and
/// both were billed; `n: 2` with one choice finished is still cut.
#[test]
fn a_fallback_stream_ended_cleanly_after_its_finish_is_served() {
    let finished =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n";
    for (n, served) in [(1, true), (2, false)] {
        let body = STREAM_HELLO.replacen('{', &format!(r#"{{"n":{n},"#), 1);
        let mut host = chat(&body);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "503")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(matches!(step.effects.last(), Some(Effect::Call { .. })), "n {n}: {step:?}");
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        host.call_body = finished.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: finished.len() });
        if !served {
            assert!(matches!(step.effects.last(), Some(Effect::Call { .. })), "n {n}: {step:?}");
            continue;
        }
        let (status, text) = respond_text(&step).unwrap_or_else(|| panic!("n {n}: {step:?}"));
        assert_eq!(status, 200);
        assert!(text.contains("\"hi\"") && text.ends_with("data: [DONE]\n\n"), "{text}");
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        assert!(
            counters.keys().any(|k| k.starts_with("requests.") && k.ends_with("outcome.ok")),
            "{counters:?}"
        );
    }
}

/// A held 200 that is not an answer (an HTML page, `null`, an object without `choices`) was
/// passed on as the answer and charged; it is no answer: the next candidate, or the router's
/// 502. Not a JSON object: charged nothing (no model wrote it); an object: its estimate (what
/// it billed cannot be told). Usage alone (Gemini's OpenAI layer, when it blocked a prompt) is
/// passed on and charged as reported, as before: the request may be its cause.
#[test]
fn a_held_200_with_no_answer_in_it_fails_over() {
    let cases = [
        ("<html>gateway ok</html>", Some(false)),
        ("null", Some(false)),
        (r#"{"id":"x","object":"chat.completion"}"#, Some(true)),
        (r#"{"object":"chat.completion","usage":{"prompt_tokens":1000,"completion_tokens":0}}"#, None),
    ];
    for (body, failed_charged) in cases {
        for attempts in [1, 3] {
            let (mut host, mut req, provider) = held_200(attempts);
            host.response_body = body.as_bytes().to_vec();
            let step = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
            let Some(estimate) = failed_charged else {
                // Served: its cost (1,000 input tokens at $1 per million) in its headers.
                assert_eq!(
                    set_response(&step, "x-model-router-cost").as_deref(),
                    Some("0.00100000"),
                    "{step:?}"
                );
                assert_eq!(errors(&host, &provider), 0);
                continue;
            };
            if attempts == 3 {
                assert!(matches!(step.effects.last(), Some(Effect::Call { .. })), "{body}: {step:?}");
                continue;
            }
            assert_eq!(respond(&step).map(|r| r.0), Some(502), "{body}: {step:?}");
            req.on(&host, Event::Log);
            assert_eq!(charged(&host) > 0, estimate, "{body}");
        }
    }
}

/// A fallback that answers a streamed request with a JSON error object (or a non-streamed one
/// with an event stream) is no answer either: the next candidate answers.
#[test]
fn a_fallbacks_answer_in_the_wrong_shape_moves_on() {
    let cases = [
        (true, "application/json", r#"{"error":{"message":"request refused"}}"#),
        (false, "text/event-stream", "data: {\"choices\":[]}\n\ndata: [DONE]\n\n"),
    ];
    for (stream, kind, answer) in cases {
        let body = format!(
            r#"{{"model":"economy","stream":{stream},"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let mut host = chat(&body);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "503")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = pairs(&[(":status", "200"), ("content-type", kind)]);
        host.call_body = answer.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: answer.len() });
        assert!(matches!(step.effects.last(), Some(Effect::Call { .. })), "{kind}: {step:?}");
    }
}

/// A native 200 the router cannot translate, on the first attempt: its headers are still held,
/// so the next candidate answers (it was the router's 502, the provider recorded healthy), and
/// the attempt is charged its estimate (the provider may have billed what it answered).
#[test]
fn a_first_answer_that_cannot_be_translated_moves_on_to_the_next_candidate() {
    let mut host = chat(&request(false));
    let mut req = Request::new(Some(config_with(r#","budgets":{"daily_usd":100}"#)));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    host.response_body = br#"{"unexpected":"shape"}"#.to_vec();
    let step = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    let Some(Effect::Call { cluster, .. }) = step.effects.last() else { panic!("no fallback: {step:?}") };
    assert_ne!(cluster, &first);
    assert_eq!(errors(&host, &first), 1);
    assert!(charged(&host) > 0);
}

/// A native stream request answered with the provider's error object instead of a stream
/// (Anthropic's, behind a byte order mark too) is a failed attempt charged nothing, as the same
/// error is without a stream (it was charged the input estimate).
#[test]
fn a_stream_request_answered_with_an_error_object_is_not_charged() {
    // (Bedrock's `{"message"}` is refused by its stream's framing first, charged nothing there.)
    let errors = [
        ("claude", r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
        (
            "claude",
            "\u{feff}{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Internal\"}}",
        ),
    ];
    for (model, error) in errors {
        let body = format!(
            r#"{{"model":"{model}","stream":true,"messages":[{{"role":"user","content":"hello"}}]}}"#
        );
        let mut host = chat(&body);
        let mut req = Request::new(Some(config_with(r#","budgets":{"daily_usd":100}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
        host.response_body = error.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: error.len(), end_of_stream: true });
        assert!(
            step.effects.iter().any(|e| matches!(e, Effect::Respond { status: 502, .. })),
            "{model}: {step:?}"
        );
        req.on(&host, Event::Log);
        let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied();
        assert_eq!(spent, Some(0), "{model}");
    }
}

/// A native fallback stream cut after its answer began (Anthropic's, with no message_stop) was
/// served cut and its provider recorded healthy; nothing of it had reached the client, so it is
/// no answer, as a cut OpenAI-compatible fallback stream is: the router's 502 here, with no
/// candidate left. It is charged as the first attempt's cut stream is, at least its estimate:
/// it was charged its message_start's counts (10 in, 1 out), however long it ran.
#[test]
fn a_native_fallback_stream_cut_after_its_answer_began_is_no_answer() {
    let cut = format!("{ANTHROPIC_START}{ANTHROPIC_DELTA}");
    let (mut host, mut req) = at_the_last_fallback(true);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = cut.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: cut.len() });
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, json["error"]["code"].as_str()), (502, Some("upstream_failed")), "{json}");
    assert_eq!(errors(&host, "an"), 1);
    // Its estimate holds its model's whole output: 100 tokens at 3 USD per million.
    assert!(charged(&host) > 300_000, "{}", charged(&host));
}

/// A native fallback stream cut after its `message_start` reported the input is charged that
/// input in place of the input's estimate, as the first attempt's cut stream is: one read from
/// the cache (a tenth of the input price) was charged the estimate at the full price, 5.8 times
/// its provider's bill (helper). Here the provider reports one token of input where the
/// estimate holds some 380: the charge is the estimate's output and that one token.
#[test]
fn a_native_fallback_stream_cut_after_it_reported_its_input_is_charged_that_input() {
    let text = "word ".repeat(300);
    let body = request(true).replace("\"hello\"", &format!("\"{text}\""));
    let charged_for = |input: &str| {
        let start = ANTHROPIC_START.replace(r#""input_tokens":10"#, input);
        let cut = format!("{start}{ANTHROPIC_DELTA}");
        let (mut host, mut req) = at_the_last_fallback_of(&body);
        host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        host.call_body = cut.as_bytes().to_vec();
        let step = req.on(&host, Event::CallResponse { body_size: cut.len() });
        assert_eq!(respond(&step).map(|(s, _, _)| s), Some(502), "{step:?}");
        charged(&host)
    };
    let (one, none) = (charged_for(r#""input_tokens":1"#), charged_for(r#""input_tokens":0"#));
    // Nothing reported: the estimate, its input at 3 USD per million (over a million).
    assert!(none > 1_000_000, "{none}");
    // One token reported: the estimate's output and 3,000 for that token.
    let output = none - 375 * 3_000;
    assert!(one < output && one + 200_000 > output, "{one} against {none}");
}

/// A native fallback stream cut inside its first event, before any count came (Converse and
/// Responses report theirs at the end), was charged nothing; the provider read the request,
/// and it is charged its input's estimate, as on the first attempt's path.
#[test]
fn a_native_fallback_stream_cut_before_any_count_is_charged_its_input() {
    let cut = ANTHROPIC_START.get(..40).unwrap_or_default();
    let (mut host, mut req) = at_the_last_fallback(true);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = cut.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: cut.len() });
    let (status, _, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 502);
    // "hello" and its message: a few tokens at 3 USD per million, none of the output.
    let input = charged(&host);
    assert!(input > 0 && input < 100_000, "{input}");
}

/// A fallback's stream whose answer is complete (its last event reported the usage after the
/// finish) but that lacks `data: [DONE]`: thrown away as cut, the client got a 502 and was
/// charged the whole answer it never read. It is served, ended with the `[DONE]` it lacked.
#[test]
fn a_fallbacks_complete_stream_without_done_is_served() {
    let mut host = chat(STREAM_HELLO);
    let mut req = Request::new(Some(config("")));
    failed_over(&mut req, &mut host);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500}}\n\n",
    )
    .as_bytes()
    .to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (status, out) = respond_text(&step).unwrap_or_else(|| panic!("no answer: {step:?}"));
    assert_eq!(status, 200, "{out}");
    assert!(out.contains("\"content\":\"hi\"") && out.ends_with("data: [DONE]\n\n"), "{out}");
    req.on(&host, Event::Log);
    // 1000 in + 500 out at 1 and 2 USD per million: what the answer cost, nothing lost.
    assert_eq!(charged(&host), 2_000_000);
}

/// A provider that answers a stream request with one JSON body (it ignored `stream`): the
/// answer is held and priced whole, not read as a stream that never ends its events (the
/// client got only a truncation error, and the answer was lost).
#[test]
fn a_stream_request_answered_with_json_is_priced_as_a_whole_answer() {
    let mut host = chat(STREAM_HELLO);
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(step.verdict, Verdict::Pause);
    let answer = r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#;
    host.response_body = answer.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: answer.len(), end_of_stream: true });
    assert_eq!(set_response(&step, "x-model-router-cost").as_deref(), Some("0.00200000"), "{step:?}");
    assert!(!step.effects.iter().any(|e| matches!(e, Effect::ReplaceResponseBody { .. })), "{step:?}");
}

/// A request that ends waiting for a body Envoy never passed (the filter's configuration lacks
/// `allow_on_headers_stop_iteration`, and every request hangs) says so in the log; one that got
/// part of its body, or its whole body, does not.
#[test]
fn a_request_ended_before_envoy_passed_its_body_says_why_it_may_have_hung() {
    let withheld =
        |host: &Fake| host.logs.borrow().iter().any(|l| l.contains("allow_on_headers_stop_iteration"));
    let host = chat(HELLO);
    let mut req = Request::new(Some(config("")));
    req.on(&host, Event::RequestHeaders { end_of_stream: false });
    req.on(&host, Event::Log);
    assert!(withheld(&host), "{:?}", host.logs.borrow());

    let host = chat(HELLO);
    let mut req = Request::new(Some(config("")));
    req.on(&host, Event::RequestHeaders { end_of_stream: false });
    req.on(&host, Event::RequestBody { size: 3, end_of_stream: false });
    req.on(&host, Event::Log);
    let host2 = chat(HELLO);
    let mut routed = Request::new(Some(config("")));
    route(&mut routed, &host2);
    routed.on(&host2, Event::Log);
    assert!(!withheld(&host) && !withheld(&host2), "{:?} {:?}", host.logs.borrow(), host2.logs.borrow());
}
