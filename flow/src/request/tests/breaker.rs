//! Circuit breakers across requests: one worker's requests share the host's health records.

use std::rc::Rc;

use super::{Fake, HELLO, chat, cluster_of, config, pairs, route};
use crate::io::Event;
use crate::request::Request;
use crate::shared::Shared;

/// Routes a new request and answers its first attempt with `status`: where that attempt went.
fn first_attempt(shared: &Rc<Shared>, host: &mut Fake, status: u16) -> String {
    let mut req = Request::new(Some(shared.clone()));
    let cluster = cluster_of(&route(&mut req, host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", &status.to_string())]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    cluster
}

#[test]
fn a_cooled_breaker_lets_one_probe_through_then_opens_again_or_closes() {
    let shared = config(r#","resilience":{"failures":2,"cooldown_secs":10,"probes":1}"#);
    let mut host = chat(HELLO);
    let p = first_attempt(&shared, &mut host, 503);
    assert_eq!(first_attempt(&shared, &mut host, 503), p);
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
    assert_eq!(first_attempt(&shared, &mut host, 200), p, "the second probe");
    assert_eq!(state(&host), Some(0), "closed");
    assert_eq!(first_attempt(&shared, &mut host, 200), p);
}
