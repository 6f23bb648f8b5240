//! What admitting an attempt, a stream left waiting and an embeddings request write to the
//! shared health records.

use model_router_scorer::health::{Breaker, Health};
use model_router_scorer::route::Upstream;

use super::{Fake, HELLO, STREAM_HELLO, chat, cluster_of, config, pairs, route};
use crate::io::Event;
use crate::live;
use crate::request::Request;

/// A closed breaker's admission changes nothing, and writes nothing: it rewrote its record on
/// every request, a compare-and-swap race that every other worker's outcome then lost (three
/// lost in a row drop the outcome). A cooled breaker's admission still takes its probe slot.
#[test]
fn admitting_to_a_closed_breaker_writes_nothing() {
    let shared = config("");
    let host = chat(HELLO);
    let d = shared.config.catalog.deployments.iter().find(|d| d.provider == "a" && d.id == "m");
    let to = Upstream::chat(&shared.config, d.unwrap_or_else(|| panic!("no m at a")), false);
    let now = host.now_ns / 1_000_000_000;
    let closed = Health { window_total: 3, ..Health::default() };
    for key in to.health_keys() {
        host.shared.borrow_mut().insert(key, (closed.encode().into_bytes(), 7));
    }
    let cfg = &shared.config.resilience;
    assert_eq!(live::admit(&host, &to, now, cfg), Ok(Some(live::Probes::default())));
    for key in to.health_keys() {
        assert_eq!(host.shared.borrow().get(&key).map(|(_, cas)| *cas), Some(7), "{key} was written");
    }
    let [provider, _] = to.health_keys();
    let cooled =
        Health { breaker: Breaker::Open { since: now - 1 - cfg.cooldown_secs }, ..Health::default() };
    host.shared.borrow_mut().insert(provider.clone(), (cooled.encode().into_bytes(), 7));
    assert_eq!(live::admit(&host, &to, now, cfg), Ok(Some(live::Probes([true, false]))));
    let stored = host.shared.borrow().get(&provider).and_then(|(v, _)| Health::decode(v));
    assert!(matches!(stored.map(|h| h.breaker), Some(Breaker::HalfOpen { started: 1, .. })), "{stored:?}");
}

/// A stream its client left before its first answer, two seconds after it was sent (nothing
/// back yet, or only its role-only chunk): its deployment's first answer is at least that late,
/// a wait for `prefer: fast` (a deployment slower than its clients' patience never gave a
/// sample, and ranked first; timed from the first answer, one left after its role chunk was
/// neither a sample nor a wait).
#[test]
fn a_stream_left_before_its_first_answer_is_a_wait() {
    use model_router_scorer::health::deployment_key;
    for role_chunk in [false, true] {
        let shared = config("");
        let mut host = chat(STREAM_HELLO);
        let mut req = Request::new(Some(shared.clone()));
        let provider = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        if role_chunk {
            host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
            req.on(&host, Event::ResponseHeaders { end_of_stream: false });
            let role = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
            host.response_body = format!("{role}\n\n").into_bytes();
            req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
            host.details = Some("downstream_remote_disconnect".into());
        }
        host.now_ns += 2_000_000_000;
        req.on(&host, Event::Log);
        let model =
            shared.config.catalog.deployments.iter().find(|d| d.provider == provider).map(|d| d.id.clone());
        let key = deployment_key(&provider, &model.unwrap_or_default());
        let stored = host.shared.borrow().get(&key).and_then(|(v, _)| Health::decode(v)).unwrap_or_default();
        assert_eq!((stored.first_byte_ms, stored.samples), (2_000.0, 1), "{role_chunk}: {key}: {stored:?}");
    }
}

/// Embeddings route past no breaker, and their failures feed none: an embeddings endpoint
/// failing opened its provider's breaker, taking every chat model of it out, while embeddings
/// went on to it.
#[test]
fn an_embeddings_failure_opens_no_breaker() {
    use model_router_scorer::health::{deployment_key, provider_key};
    let catalog = r#"{"providers":{"a":{}},"models":[{"id":"m","tier":"economy","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},{"id":"s","tier":"standard","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},{"id":"x","tier":"premium","provider":"a","context_window":1000,"max_output":100,"price_in":1,"price_out":2},{"id":"emb","tier":"embedding","provider":"a","api":"embeddings","context_window":100,"dimensions":8,"price_in":1,"price_out":0}]}"#;
    let config = format!(r#"{{"catalog":{catalog},"resilience":{{"failures":2}}}}"#);
    let config = model_router_scorer::Config::from_json(config.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let shared = std::rc::Rc::new(crate::shared::Shared::new(config, std::collections::HashMap::new()));
    let mut host = chat(r#"{"model":"emb","input":"a"}"#);
    host.request_headers =
        pairs(&[(":method", "POST"), (":path", "/v1/embeddings"), ("content-type", "application/json")]);
    for status in ["503", "503", "200"] {
        let mut req = Request::new(Some(shared.clone()));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", status), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body =
            br#"{"object":"list","data":[],"usage":{"prompt_tokens":1,"total_tokens":1}}"#.to_vec();
        req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        req.on(&host, Event::Log);
    }
    for key in [provider_key("a"), deployment_key("a", "emb")] {
        assert!(!host.shared.borrow().contains_key(&key), "{key} written");
    }
}

/// `prefer: fast` ranks by the time to a stream's answer. A non-streamed answer's time is its
/// whole generation, which the request's length decides: it was a latency observation, so one
/// client's long answers made a deployment slow for every client's `fast` (found attacking the
/// demo: five slow answers moved all `fast` traffic off a deployment). It still counts as an
/// answer for the breaker.
#[test]
fn only_a_streams_time_is_a_latency_observation() {
    let shared = config("");
    for (stream, samples) in [(false, 0), (true, 1)] {
        let body = if stream { HELLO.replacen('{', r#"{"stream":true,"#, 1) } else { HELLO.to_string() };
        let mut host = chat(&body);
        let mut req = Request::new(Some(shared.clone()));
        let cluster = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.now_ns += 20_000_000_000;
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let health = |host: &Fake, key: String| {
            host.shared.borrow().get(&key).and_then(|(v, _)| Health::decode(v)).unwrap_or_default()
        };
        let provider = model_router_scorer::health::provider_key(&cluster);
        let deployment = model_router_scorer::health::deployment_key(&cluster, "m");
        // A stream's headers are no sample (a client closing streams right after them made a
        // slow deployment look fast); its first byte is, for its deployment. (An answer counts
        // in the window when it ends.)
        for key in [&provider, &deployment] {
            let h = health(&host, key.clone());
            assert_eq!((h.samples, h.window_total), (0, 0), "stream {stream}: {key}: {h:?}");
        }
        // Nor is a role-only chunk, which some providers send at once: the first answer is (one
        // that kept its first token three seconds ranked the fastest).
        let role = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        host.response_body = format!("{role}\n\n").into_bytes();
        req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
        assert_eq!(health(&host, deployment.clone()).samples, 0, "stream {stream}: a role-only chunk");
        host.now_ns += 3_000_000_000;
        host.response_body =
            b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n".to_vec();
        req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
        let h = health(&host, deployment);
        assert_eq!(h.samples, samples, "stream {stream}: {h:?}");
        assert!(!stream || h.first_byte_ms >= 23_000.0, "{h:?}");
    }
}

/// Requests that end before Envoy passed their bodies (a misconfigured route, or clients that
/// leave before sending them) are said once a minute, not each with a 400-byte warning.
#[test]
fn a_body_never_passed_is_said_once_a_minute() {
    let mut host = chat(HELLO);
    for minute in [0, 0, 0, 61] {
        host.now_ns += minute * 1_000_000_000;
        let mut req = Request::new(Some(config("")));
        req.on(&host, Event::RequestHeaders { end_of_stream: false });
        req.on(&host, Event::Log);
    }
    let said = host.logs.borrow().iter().filter(|l| l.contains("before Envoy passed its body")).count();
    assert_eq!(said, 2, "{:?}", host.logs.borrow());
}
