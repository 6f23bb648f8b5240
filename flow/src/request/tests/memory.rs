//! What a request keeps in the VM while it is in flight: the client's body, for fallbacks, up
//! to the VM's `resilience.failover_body_bytes` across all requests.

use super::{HELLO, chat, config, pairs, route};
use crate::io::{Effect, Event};
use crate::request::Request;

#[test]
fn bodies_kept_for_fallbacks_stay_within_the_vms_limit_and_are_given_back_at_the_end() {
    let room = HELLO.len() + HELLO.len() / 2;
    let shared = config(&format!(r#","resilience":{{"failover_body_bytes":{room}}}"#));
    let mut host = chat(HELLO);
    let mut first = Request::new(Some(shared.clone()));
    route(&mut first, &host);
    assert_eq!(shared.kept.get(), HELLO.len());
    // The second body does not fit beside the first: sent without a kept copy, and counted.
    let mut second = Request::new(Some(shared.clone()));
    route(&mut second, &host);
    assert_eq!(shared.kept.get(), HELLO.len());
    assert_eq!(host.counters.borrow().get("failover_unkept"), Some(&1));
    host.response_headers = pairs(&[(":status", "503")]);
    let calls = |step: &crate::io::Step| step.effects.iter().any(|e| matches!(e, Effect::Call { .. }));
    // Its provider fails: no other provider can be tried; the first one still fails over.
    let step = second.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(!calls(&step), "{step:?}");
    let step = first.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(calls(&step), "{step:?}");
    drop(second);
    assert_eq!(shared.kept.get(), HELLO.len());
    drop(first);
    assert_eq!(shared.kept.get(), 0);
    // With the room given back, the next request keeps its body again.
    let mut third = Request::new(Some(shared.clone()));
    route(&mut third, &host);
    assert_eq!(shared.kept.get(), HELLO.len());
}

/// A conversation's tier was remembered when its turn was routed: a client that left before
/// the answer (or a turn every provider failed) stuck its next turns to that tier all the same,
/// at its price (found attacking the demo: "thanks!" went to premium after a premium-scoring
/// turn the client had cancelled). It is remembered once a provider answers.
#[test]
fn a_conversations_tier_is_remembered_once_a_provider_answers() {
    let ask = "What would be the long-term consequences for monetary policy, bank solvency and public debt \
               markets if a large eurozone member left the currency union during a recession?";
    let body = format!(
        r#"{{"model":"auto","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":"Hello!"}},{{"role":"user","content":"{ask}"}}]}}"#
    );
    let shared = config(r#","sticky":{"without_client":true}"#);
    let remembered =
        |host: &super::Fake| host.shared.borrow().keys().any(|k| k.starts_with("model_router.sticky."));
    // (the answer's status, or none: the client left first; remembered)
    for (status, kept) in [(None, false), (Some("503"), false), (Some("200"), true)] {
        let mut host = chat(&body);
        let shared = if status == Some("503") {
            config(r#","sticky":{"without_client":true},"resilience":{"max_attempts":1}"#)
        } else {
            shared.clone()
        };
        let mut req = Request::new(Some(shared));
        route(&mut req, &host);
        if let Some(status) = status {
            host.response_headers = pairs(&[(":status", status)]);
            req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        }
        req.on(&host, Event::Log);
        assert_eq!(
            remembered(&host),
            kept,
            "{status:?}: {:?}",
            host.shared.borrow().keys().collect::<Vec<_>>()
        );
    }
}
