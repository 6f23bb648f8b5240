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
