//! Circuit breakers across requests: one worker's requests share the host's health records.

use std::rc::Rc;

use model_router_scorer::health::{Breaker, Health};
use model_router_scorer::route::Upstream;

use super::{Fake, HELLO, STREAM_HELLO, chat, cluster_of, config, pairs, route};
use crate::io::Event;
use crate::live;
use crate::request::Request;
use crate::shared::Shared;

/// Routes a new request and answers its first attempt with `status`: where that attempt went.
pub(super) fn first_attempt(shared: &Rc<Shared>, host: &mut Fake, status: u16) -> String {
    let mut req = Request::new(Some(shared.clone()));
    let cluster = cluster_of(&route(&mut req, host)).unwrap_or_default();
    answer(&mut req, host, status);
    if status == 200 {
        req.on(host, Event::Log);
    }
    cluster
}

/// Answers a routed request's attempt with `status`, a whole empty answer for a 200 (a whole
/// answer is judged when its body ends).
fn answer(req: &mut Request, host: &mut Fake, status: u16) {
    host.response_headers = pairs(&[(":status", &status.to_string())]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    if status == 200 {
        host.response_body = br#"{"choices":[]}"#.to_vec();
        req.on(host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    }
}

/// A streamed [`HELLO`].
const STREAM: &str = STREAM_HELLO;
/// A stream its provider fails after its first chunk, with its error event.
const FAILING: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";

/// Routes a [`STREAM`] request; its provider fails it mid-way ([`FAILING`]), or (`leaves`) its
/// client leaves after the headers. Returns where it went.
fn failed_or_left_stream(shared: &Rc<Shared>, host: &mut Fake, leaves: bool) -> String {
    let mut req = Request::new(Some(shared.clone()));
    let to = cluster_of(&route(&mut req, host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    if leaves {
        host.details = Some("downstream_remote_disconnect".into());
    } else {
        host.details = None;
        host.response_body = FAILING.as_bytes().to_vec();
        req.on(host, Event::ResponseBody { size: FAILING.len(), end_of_stream: true });
    }
    req.on(host, Event::Log);
    to
}

/// A breaker of two failures, a 10 s cooldown and one probe, opened by two 503s of its
/// provider: the configuration, the host, and the provider.
fn opened_breaker() -> (Rc<Shared>, Fake, String) {
    let shared = config(r#","resilience":{"failures":2,"cooldown_secs":10,"probes":1}"#);
    let mut host = chat(HELLO);
    let p = first_attempt(&shared, &mut host, 503);
    assert_eq!(first_attempt(&shared, &mut host, 503), p);
    (shared, host, p)
}

#[test]
fn a_cooled_breaker_lets_one_probe_through_then_opens_again_or_closes() {
    let (shared, mut host, p) = opened_breaker();
    let state = |host: &Fake| host.counters.borrow().get(&format!("breaker_state.provider.{p}")).copied();
    assert_eq!(state(&host), Some(1), "open");
    assert_ne!(first_attempt(&shared, &mut host, 200), p, "an open breaker is passed over");
    // Cooled down: one request is its probe. It fails, and the breaker opens again for
    // another cooldown: the requests after it do not pay a failed attempt at it.
    host.now_ns += 11_000_000_000;
    assert_eq!(first_attempt(&shared, &mut host, 503), p, "the probe");
    assert_eq!(state(&host), Some(1), "open again");
    for i in 0..3 {
        assert_ne!(first_attempt(&shared, &mut host, 200), p, "request {i} after the failed probe");
    }
    // Cooled down again: the probe succeeds and the breaker closes.
    host.now_ns += 11_000_000_000;
    let mut probe = Request::new(Some(shared.clone()));
    assert_eq!(cluster_of(&route(&mut probe, &host)).as_deref(), Some(p.as_str()), "the second probe");
    // Half-open while it probes (the gauge said open until the probe ended).
    assert_eq!(state(&host), Some(2), "half-open");
    host.response_headers = pairs(&[(":status", "200")]);
    probe.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(state(&host), Some(2), "still half-open until its answer ends");
    host.response_body = br#"{"choices":[]}"#.to_vec();
    probe.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    probe.on(&host, Event::Log);
    assert_eq!(state(&host), Some(0), "closed");
    let closed = format!("circuit closed for provider {p}");
    assert_eq!(
        host.logs.borrow().iter().filter(|l| l.ends_with(&closed)).count(),
        1,
        "{:?}",
        host.logs.borrow()
    );
    assert_eq!(first_attempt(&shared, &mut host, 200), p);
}

#[test]
fn no_probe_slot_is_taken_on_the_provider_when_the_deployment_refuses() {
    let shared = config("");
    let host = chat(HELLO);
    let d = shared.config.catalog.deployments.iter().find(|d| d.provider == "a" && d.id == "m");
    let to = Upstream::chat(&shared.config, d.unwrap_or_else(|| panic!("no m at a")), false);
    let [provider, deployment] = to.health_keys();
    let now = host.now_ns / 1_000_000_000;
    // The provider's breaker has cooled down; the deployment's is still open.
    let cooldown = shared.config.resilience.cooldown_secs;
    let cooled = Health { breaker: Breaker::Open { since: now - 1 - cooldown }, ..Health::default() };
    let open = Health { breaker: Breaker::Open { since: now }, ..Health::default() };
    for (key, h) in [(&provider, cooled), (&deployment, open)] {
        host.shared.borrow_mut().insert(key.clone(), (h.encode().into_bytes(), 1));
    }
    assert_eq!(live::admit(&host, &to, now, &shared.config.resilience), Ok(None));
    let stored = host.shared.borrow().get(&provider).and_then(|(v, _)| Health::decode(v));
    assert_eq!(stored.map(|h| h.breaker), Some(cooled.breaker), "the provider's probe slot was taken");
}

/// A cooled-down breaker whose last probe slot another worker takes between this request's
/// route and its claim: the request was sent to the failing provider all the same, a probe
/// more than `probes` (seen across four workers). It is routed again, to another provider.
#[test]
fn a_probe_slot_taken_by_another_worker_routes_the_request_again() {
    let shared = config("");
    let mut host = chat(HELLO);
    let p = first_attempt(&shared, &mut host, 200);
    let d = shared.config.catalog.deployments.iter().find(|d| d.provider == p && d.id == "m");
    let to = Upstream::chat(&shared.config, d.unwrap_or_else(|| panic!("no m at {p}")), false);
    let [provider, _] = to.health_keys();
    let now = host.now_ns / 1_000_000_000;
    let cooldown = shared.config.resilience.cooldown_secs;
    let cooled = Health { breaker: Breaker::Open { since: now - 1 - cooldown }, ..Health::default() };
    host.shared.borrow_mut().insert(provider.clone(), (cooled.encode().into_bytes(), 1));
    // Another worker's claim lands first: its probes are all out.
    let probes = shared.config.resilience.probes;
    let taken =
        Health { breaker: Breaker::HalfOpen { started: probes, passed: 0, since: now }, ..Health::default() };
    *host.racing.borrow_mut() = Some((provider, taken.encode().into_bytes()));
    let mut req = Request::new(Some(shared.clone()));
    let sent = cluster_of(&route(&mut req, &host));
    assert!(sent.as_ref().is_some_and(|c| *c != p), "sent to {sent:?}, the provider probed by another");
}

/// A model's own failure (a 404 for a model the provider does not serve there, Bedrock's model
/// timeout or model error) counts against that deployment only: the provider answered, so its
/// record takes a success and its other models keep their breaker closed.
#[test]
fn a_models_own_failure_counts_against_its_deployment_not_its_provider() {
    use model_router_scorer::health::{deployment_key, provider_key};
    for status in ["404", "408", "424", "503"] {
        let mut host = super::chat(super::HELLO);
        let mut req = Request::new(Some(super::config(r#","resilience":{"max_attempts":2}"#)));
        super::route(&mut req, &host);
        host.response_headers = super::pairs(&[(":status", status)]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(
            step.effects.iter().any(|e| matches!(e, crate::io::Effect::Call { .. })),
            "{status}: {step:?}"
        );
        let shared = host.shared.borrow();
        let first = ["a", "b"].into_iter().find(|p| shared.contains_key(&deployment_key(p, "m")));
        let Some(first) = first else { panic!("{status}: no deployment record in {:?}", shared.keys()) };
        let errors =
            |key: &str| shared.get(key).and_then(|(v, _)| Health::decode(v)).map(|h| h.window_errors);
        assert_eq!(errors(&deployment_key(first, "m")), Some(1), "{status}");
        assert_eq!(errors(&provider_key(first)), Some(u32::from(status == "503")), "{status}");
    }
}

/// [`HELLO`], streamed or not.
fn hello(stream: bool) -> String {
    if stream { HELLO.replacen('{', r#"{"stream":true,"#, 1) } else { HELLO.to_string() }
}

/// The route's timeout ending a whole answer still generating is its model's time, which the
/// request's length decides: it opened the provider's breaker for every client and every model
/// of the provider (found attacking the demo: five long answers). It now counts against the
/// deployment only; a stream silent that long still counts against its provider.
#[test]
fn a_whole_answer_the_routes_timeout_ends_fails_its_deployment_only() {
    let shared = config("");
    for (stream, provider_errors) in [(false, 0), (true, 1)] {
        let mut host = chat(&hello(stream));
        host.details = Some("upstream_per_try_idle_timeout".into());
        let mut req = Request::new(Some(shared.clone()));
        let p = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        let m = if p == "c" { "big" } else { "m" };
        host.response_headers = pairs(&[(":status", "504")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let records = host.shared.borrow();
        let errors =
            |key: &str| records.get(key).and_then(|(v, _)| Health::decode(v)).map(|h| h.window_errors);
        let provider = model_router_scorer::health::provider_key(&p);
        let deployment = model_router_scorer::health::deployment_key(&p, m);
        assert_eq!(
            (errors(&provider).unwrap_or(0), errors(&deployment)),
            (provider_errors, Some(1)),
            "stream {stream}"
        );
    }
}

/// A provider that fails every stream mid-way (its error event after the first chunk) never
/// opened its breaker: each stream was a success at its headers, which reset the consecutive
/// failures its error then counted. A stream is judged when it ends.
#[test]
fn a_provider_failing_every_stream_midway_opens_its_breaker() {
    let shared = config(r#","resilience":{"failures":3}"#);
    let mut host = chat(STREAM);
    let mut first = None;
    for i in 0..3 {
        let to = failed_or_left_stream(&shared, &mut host, false);
        assert_eq!(first.get_or_insert_with(|| to.clone()), &to, "request {i}");
        host.now_ns += 1_000_000_000;
    }
    let p = first.unwrap_or_default();
    assert_eq!(host.counters.borrow().get(&format!("breaker_state.provider.{p}")).copied(), Some(1), "open");
    let mut req = Request::new(Some(shared.clone()));
    assert_ne!(cluster_of(&route(&mut req, &host)).as_deref(), Some(p.as_str()), "passed over");
}

/// A probe whose client left before it was answered never reported, and its slot was held
/// until the next cooldown: a client leaving each probe kept a recovered provider out, one
/// cooldown after another (found attacking the demo: 62 s, four cooldowns). The slot is given
/// back, and the next request probes.
#[test]
fn a_probe_its_client_left_gives_its_slot_back() {
    let (shared, mut host, p) = opened_breaker();
    host.now_ns += 11_000_000_000;
    // The probe goes; its client leaves before the answer.
    let mut left = Request::new(Some(shared.clone()));
    assert_eq!(cluster_of(&route(&mut left, &host)).as_deref(), Some(p.as_str()), "the probe");
    left.on(&host, Event::Log);
    // The next request is the probe, not passed over for the rest of a cooldown.
    assert_eq!(first_attempt(&shared, &mut host, 200), p, "the next probe");
    let state = host.counters.borrow().get(&format!("breaker_state.provider.{p}")).copied();
    assert_eq!(state, Some(0), "closed");
}

/// An answer sent before its provider's breaker opened, ending while the breaker's probe is
/// out, does not decide the probe: taken as the probe's, its success closed the breaker (and
/// the probe's failure then found it closed) and its failure reopened it (found reviewing the
/// breaker's life).
#[test]
fn an_answer_sent_before_the_breaker_opened_does_not_decide_its_probe() {
    let answer = |req: &mut Request, host: &mut Fake, status: u16| {
        answer(req, host, status);
        req.on(host, Event::Log);
    };
    for (late, probed, then) in [(200, 503, 1), (503, 200, 0)] {
        let shared = config(r#","resilience":{"failures":2,"cooldown_secs":10,"probes":1}"#);
        let mut host = chat(HELLO);
        let state = |host: &Fake, p: &str| {
            host.counters.borrow().get(&format!("breaker_state.provider.{p}")).copied()
        };
        let mut early = Request::new(Some(shared.clone()));
        let p = cluster_of(&route(&mut early, &host)).unwrap_or_default();
        for _ in 0..2 {
            assert_eq!(first_attempt(&shared, &mut host, 503), p);
        }
        host.now_ns += 11_000_000_000;
        let mut probe = Request::new(Some(shared.clone()));
        assert_eq!(cluster_of(&route(&mut probe, &host)).as_deref(), Some(p.as_str()), "the probe");
        answer(&mut early, &mut host, late);
        assert_eq!(state(&host, &p), Some(2), "{late} from before the opening: still probing");
        answer(&mut probe, &mut host, probed);
        assert_eq!(state(&host, &p), Some(then), "the probe's {probed} decides");
    }
}

/// A stream its client leaves says nothing of its provider: counted whole, a client leaving
/// each stream of a provider that fails them mid-way kept resetting its consecutive failures
/// (found reviewing the diff). And a whole answer its provider resets mid-body is a failure.
#[test]
fn a_stream_its_client_leaves_is_neutral_and_a_reset_answer_fails() {
    let shared = config(r#","resilience":{"failures":2}"#);
    let mut host = chat(STREAM);
    let state =
        |host: &Fake, p: &str| host.counters.borrow().get(&format!("breaker_state.provider.{p}")).copied();
    let mut first = None;
    // (the client leaves after the headers, instead of the stream failing)
    for leaves in [false, true, false] {
        let to = failed_or_left_stream(&shared, &mut host, leaves);
        assert_eq!(first.get_or_insert_with(|| to.clone()), &to);
    }
    let p = first.unwrap_or_default();
    assert_eq!(state(&host, &p), Some(1), "two failures, the left stream between them neutral");

    // Whole answers (held for their cost) their provider resets mid-body: each is judged at
    // its end, so two open a breaker of two failures (a success at each one's headers reset
    // the failure its cut then counted).
    let shared = config(r#","resilience":{"failures":2}"#);
    let mut host = chat(HELLO);
    let mut first = None;
    for _ in 0..2 {
        let mut req = Request::new(Some(shared.clone()));
        let to = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        assert_eq!(first.get_or_insert_with(|| to.clone()), &to);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        host.response_body = br#"{"choices":[{"mess"#.to_vec();
        host.details = None;
        req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: false });
        host.details = Some("upstream_reset_after_response_started{remote_reset}".into());
        req.on(&host, Event::Log);
    }
    let p = first.unwrap_or_default();
    assert_eq!(state(&host, &p), Some(1), "open");
    let counters = host.counters.borrow();
    assert!(counters.keys().any(|k| k.ends_with("outcome.upstream_error")), "{counters:?}");
}

/// Envoy answers a request its cluster has no room for (circuit-breaker thresholds) with its own
/// 503: the provider never saw it. Counted as the provider's failure, one tenant holding the
/// cluster's connections opened the provider's breaker for every other. It now moves on without
/// touching the provider's health, on the first attempt (told by Envoy's details) and on a
/// fallback (Envoy's `x-envoy-overloaded` on a reply no upstream sent). A provider's own 503 so
/// marked (one behind its own Envoy) still counts: a provider cannot keep its breaker shut.
#[test]
fn envoys_own_overflow_503_opens_no_providers_breaker() {
    let shared = config(r#","resilience":{"failures":2,"cooldown_secs":10,"probes":1}"#);
    let mut host = chat(HELLO);
    let overflow = pairs(&[(":status", "503"), ("x-envoy-overloaded", "true")]);
    let mut first = None;
    for _ in 0..4 {
        let mut req = Request::new(Some(shared.clone()));
        let to = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        assert_eq!(*first.get_or_insert_with(|| to.clone()), to, "the provider was passed over");
        host.response_headers = overflow.clone();
        host.details = Some("upstream_reset_before_response_started{overflow}".into());
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert!(cluster_of(&step).is_some_and(|next| next != to), "no fallback: {step:?}");
        // The fallback finds its cluster full too.
        req.on(&host, Event::Dispatched { sent: true });
        host.call_headers = overflow.clone();
        host.call_body = Vec::new();
        req.on(&host, Event::CallResponse { body_size: 0 });
        req.on(&host, Event::Log);
    }
    let opened = |host: &Fake| {
        host.counters.borrow().iter().filter(|(k, v)| k.starts_with("breaker_state") && **v == 1).count()
    };
    assert_eq!(opened(&host), 0, "{:?}", host.counters.borrow());
    // Never sent, the first provider did not fail over either.
    let failover = format!("failover.provider.{}", first.clone().unwrap_or_default());
    assert_eq!(host.counters.borrow().get(&failover), None, "{:?}", host.counters.borrow());
    // The provider's own: marked, but through its upstream (details; Envoy's time on a call).
    host.details = Some("via_upstream".into());
    let p = first.unwrap_or_default();
    let mut req = Request::new(Some(shared.clone()));
    assert_eq!(cluster_of(&route(&mut req, &host)).as_deref(), Some(p.as_str()));
    host.response_headers = overflow.clone();
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let next = cluster_of(&step).unwrap_or_else(|| panic!("no fallback: {step:?}"));
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers =
        pairs(&[(":status", "503"), ("x-envoy-overloaded", "true"), ("x-envoy-upstream-service-time", "3")]);
    req.on(&host, Event::CallResponse { body_size: 0 });
    req.on(&host, Event::Log);
    host.response_headers = overflow;
    assert_eq!(first_attempt(&shared, &mut host, 503), p);
    let state = |c: &str| host.counters.borrow().get(&format!("breaker_state.provider.{c}")).copied();
    assert_eq!(state(&p), Some(1), "the provider's own 503 counts");
    // The fallback's own, once: in its provider's window.
    let key = model_router_scorer::health::provider_key(&next);
    let errors = host.shared.borrow().get(&key).and_then(|(v, _)| Health::decode(v)).map(|h| h.window_errors);
    assert_eq!(errors, Some(1), "{next}");
}

/// A stream the provider reset after its first chunks (Envoy's details say so) looked healthy:
/// its attempt was a success at its headers, its request `ok`, and nothing counted the failure.
/// It now counts as a failed stream against the provider's health, and a client that leaves
/// mid-stream as `client_closed`. The route's idle timeout mid-stream is the provider's too,
/// unless more of the stream passed than the buffers on the way hold: then it may be its
/// client's (a client that stops reading stops Envoy reading from the provider, and one such
/// client per cooldown kept a provider's breaker open for every other, found attacking the
/// demo), `upstream_error` against neither.
#[test]
fn a_stream_the_provider_resets_counts_against_it_and_one_the_client_leaves_does_not() {
    let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word \"}}]}\n\n";
    let long = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
        "w".repeat(9_500_000)
    );
    // (Envoy's details at the end, the stream passed, provider failed, an upstream error)
    for (details, event, failed, upstream) in [
        ("upstream_reset_after_response_started{remote_reset}", event, true, true),
        ("upstream_reset_after_response_started{connection_termination}", event, true, true),
        ("upstream_per_try_idle_timeout", event, true, true),
        ("upstream_per_try_idle_timeout", long.as_str(), false, true),
        ("downstream_remote_disconnect", event, false, false),
    ] {
        let mut host = chat(STREAM_HELLO);
        let shared = config(r#","resilience":{"failures":1}"#);
        let mut req = Request::new(Some(shared.clone()));
        let provider = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        super::broken_off::streamed_then_ended(&mut host, &mut req, event, details);
        let counters = host.counters.borrow();
        let outcome = if upstream { "upstream_error" } else { "client_closed" };
        let key =
            format!("requests.tier.economy.prefer.balanced.provider.{provider}.model.m.outcome.{outcome}");
        assert_eq!(counters.get(&key).copied(), Some(1), "{details}: {counters:?}");
        assert_eq!(counters.get("stream_failed").copied(), failed.then_some(1), "{details}");
        // One failure opens this breaker: the provider's is open after a reset only.
        let open = counters.get(&format!("breaker_state.provider.{provider}")).copied();
        assert_eq!(open, failed.then_some(1), "{details}: {counters:?}");
    }
}
