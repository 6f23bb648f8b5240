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

/// A few large bodies (images) in flight took the whole of `failover_body_bytes`, and every
/// other request lost its fallback (found attacking the demo: six 8 MB images from one client).
/// A large body (over a sixteenth of the limit) may take three quarters of it; the rest is
/// left to small ones.
#[test]
fn large_bodies_leave_a_quarter_of_the_room_to_small_ones() {
    use crate::request::flight::Kept;
    let ledger = std::rc::Rc::new(std::cell::Cell::new(0));
    let limit = 1600;
    let large = |n| Kept::within(vec![0; n], &ledger, limit);
    let first = large(700).unwrap_or_else(|| panic!("room for the first"));
    let second = large(600);
    assert!(second.is_none(), "two large bodies would pass three quarters");
    let small: Vec<Kept> = (0..9).filter_map(|_| Kept::within(vec![0; 100], &ledger, limit)).collect();
    assert_eq!((small.len(), ledger.get()), (9, 1600));
    // A large body fits beside small ones within three quarters only.
    drop(small);
    assert!(large(500).is_some_and(|k| k.len() == 500));
    drop(first);
    assert_eq!(ledger.get(), 0);
}
