//! Envoy's own answers for an attempt the provider never saw (no cluster, no route, a body over
//! the buffer limit): the next candidate is tried, no provider blamed, the cause logged.

use super::{Fake, HELLO, chat, cluster_of, config, pairs, respond_text, route};
use crate::io::{Event, Verdict};
use crate::request::Request;

/// Envoy's 404 for an attempt the provider never saw: a catalog `clusters` entry naming a
/// cluster the Envoy configuration lacks (`cluster_not_found`; or a route that reads another
/// header than the configuration's `cluster_header`), or a route table narrower than `/` (a
/// Gateway API `PathPrefix: /v1`, another app's route for `/openai/`: the router's headers
/// clear the route cache, Envoy chooses again on the provider's path and finds none,
/// `route_not_found`). Each counted as the provider not serving the model, opened its breaker
/// (nine opened Gemini's) and said nothing of the cause. It moves on to the next candidate
/// without blaming the provider, and the log names the cause, once a minute.
#[test]
fn a_missing_cluster_or_route_is_named_in_the_log_and_blames_no_provider() {
    for (details, named_as, saying) in [
        ("cluster_not_found", "Envoy found no cluster", "cluster_header (x-model-router-cluster)"),
        ("route_not_found", "Envoy did not route", "must match every provider's path"),
        ("direct_response", "Envoy did not route", "(direct_response)"),
    ] {
        let host = moves_on_without_blaming_the_provider("404", details);
        let logs = host.logs.borrow();
        let named: Vec<&String> = logs.iter().filter(|l| l.contains(named_as)).collect();
        assert_eq!(named.len(), 1, "{details}: once a minute: {logs:?}");
        assert!(named.iter().all(|l| l.contains(saying)), "{named:?}");
    }
}

/// A body the router made too large for the listener's buffer (a translation grows one of many
/// short messages by about a third): Envoy answers 413 before the provider sees it, which
/// reached the client as the provider's refusal, with no failover. The next candidate is
/// tried, and the provider is not blamed.
#[test]
fn a_body_the_translation_made_too_large_moves_on_without_blaming_the_provider() {
    moves_on_without_blaming_the_provider("413", "request_payload_too_large");
}

/// Three requests whose first attempt gets Envoy's own `status` (`details`), which the
/// provider never saw: each tries another candidate, and no breaker opens (one failure would
/// open it). Returns the host, for what it logged.
fn moves_on_without_blaming_the_provider(status: &str, details: &str) -> Fake {
    let shared = config(r#","resilience":{"failures":1,"cooldown_secs":10,"probes":1}"#);
    let mut host = chat(HELLO);
    for _ in 0..3 {
        let mut req = Request::new(Some(shared.clone()));
        let to = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.response_headers = pairs(&[(":status", status)]);
        host.details = Some(details.into());
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(cluster_of(&step).is_some_and(|next| next != to), "{details}: no fallback: {step:?}");
        req.on(&host, Event::Log);
    }
    let opened =
        host.counters.borrow().iter().filter(|(k, v)| k.starts_with("breaker_state") && **v == 1).count();
    assert_eq!(opened, 0, "{details}: {:?}", host.counters.borrow());
    host
}

/// A cluster Envoy lacks, with no other candidate to try: the router's own 502, which says
/// the gateway's configuration is at fault, not that a retry might do.
#[test]
fn a_cluster_envoy_lacks_for_every_candidate_is_not_to_be_retried() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "404")]);
    host.details = Some("cluster_not_found".into());
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let (status, body) = respond_text(&step).unwrap_or_else(|| panic!("no reply: {step:?}"));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("no cluster") && !body.contains("retry later"), "{body}");
}

/// A body the translation made too large, with no other candidate to try: the
/// router's own 413 `request_too_large`, not the provider's refusal.
#[test]
fn a_body_too_large_for_every_candidate_is_the_routers_413() {
    let mut host = chat(HELLO);
    // No fallback: one attempt only.
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
    let routed = route(&mut req, &host);
    assert!(cluster_of(&routed).is_some(), "{routed:?}");
    host.response_headers = pairs(&[(":status", "413")]);
    host.details = Some("request_payload_too_large".into());
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let (status, body) = respond_text(&step).unwrap_or_else(|| panic!("no reply: {step:?}"));
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"code\":\"request_too_large\""), "{body}");
}

/// A filter after the router answered (an `ext_authz` denying, a local rate limit): the
/// gateway's answer, passed on as it is. Failed over, a denied request was answered by a
/// fallback (the router's own call passes no filter after it), and each rate-limited request
/// fed a healthy provider's breaker.
#[test]
fn a_reply_a_filter_after_the_router_made_is_passed_on_and_blames_no_provider() {
    let shared =
        config(r#","resilience":{"failures":1,"cooldown_secs":10,"probes":1},"budgets":{"daily_usd":1}"#);
    let mut host = chat(HELLO);
    for (status, details) in [
        ("403", "ext_authz_denied"),
        // A login redirect; a JWT refused; an external processor down (a guardrail a
        // fallback would have skipped); a rate limit service failing closed.
        ("302", "ext_authz_denied"),
        ("401", "jwt_authn_access_denied{Jwt_is_missing}"),
        ("500", "ext_proc_error_gRPC_error_14{unavailable}"),
        ("500", "rate_limiter_error"),
        ("429", "local_rate_limited"),
        ("403", "rbac_access_denied_matched_policy[none]"),
    ] {
        let mut req = Request::new(Some(shared.clone()));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", status)]);
        host.details = Some(details.into());
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(cluster_of(&step).is_none(), "{details}: failed over: {step:?}");
        assert_eq!(step.verdict, Verdict::Continue, "{details}");
        // Not the provider's failure: no fallback named, no credentials blamed, no model named
        // that never answered.
        assert_eq!(super::set_response(&step, "x-model-router-fallback-from"), None, "{details}");
        assert_eq!(super::set_response(&step, "x-model-router-model"), None, "{details}");
        req.on(&host, Event::Log);
    }
    let opened =
        host.counters.borrow().iter().filter(|(k, v)| k.starts_with("breaker_state") && **v == 1).count();
    assert_eq!(opened, 0, "{:?}", host.counters.borrow());
    assert!(
        !host.counters.borrow().keys().any(|k| k.starts_with("auth_failed")),
        "{:?}",
        host.counters.borrow()
    );
    // Nothing charged: a 302 was charged the estimate, as a 3xx answer without usage is.
    let spent = host.counters.borrow().get("budget_spent_nanousd.scope.global").copied().unwrap_or(0);
    assert_eq!(spent, 0, "{:?}", host.counters.borrow());
    assert!(host.logs.borrow().iter().any(|l| l.contains("a filter after the router answered 403")));
}

/// An answer compressed though the router asked for none (a filter after it asking for gzip):
/// a fallback's went to its client without its `content-encoding`, bytes the OpenAI SDK could
/// not read (`UnicodeDecodeError`). It keeps it, and the log names the cause.
#[test]
fn a_fallbacks_compressed_answer_keeps_its_encoding_and_is_logged() {
    // A whole answer, and a stream (read as one that never opened, it was the router's 502).
    for (asked, kind) in [(HELLO, "application/json"), (super::STREAM_HELLO, "text/event-stream")] {
        let mut host = chat(asked);
        let mut req = Request::new(Some(config("")));
        super::failed_over(&mut req, &mut host);
        host.call_headers =
            pairs(&[(":status", "200"), ("content-type", kind), ("content-encoding", "gzip")]);
        host.call_body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3];
        let step = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
        let sent = step.effects.iter().find_map(|e| match e {
            crate::io::Effect::Respond { status, headers, body, .. } => {
                Some((*status, headers.clone(), body.clone()))
            }
            _ => None,
        });
        let (status, headers, body) = sent.unwrap_or_else(|| panic!("{kind}: no answer: {step:?}"));
        assert_eq!((status, body), (200, host.call_body.clone()), "{kind}");
        assert!(headers.iter().any(|(k, v)| k == "content-encoding" && v == "gzip"), "{kind}: {headers:?}");
        assert!(
            host.logs.borrow().iter().any(|l| l.contains("answered compressed (content-encoding: gzip)"))
        );
    }
}

/// A compressed answer the router must translate (a native API's) is none it can read: the
/// next candidate answers (it was judged a stream that never opened, or a body not JSON, a
/// 502, and its provider's breaker fed).
#[test]
fn a_compressed_answer_the_router_must_translate_moves_on() {
    for stream in [false, true] {
        let body = format!(
            r#"{{"model":"economy","prefer":"cheap","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
        );
        let mut host = chat(&body);
        let mut req = Request::new(Some(super::native::config()));
        let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.response_headers = pairs(&[(":status", "200"), ("content-encoding", "gzip")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(cluster_of(&step).is_some_and(|next| next != first), "stream {stream}: {step:?}");
    }
}
