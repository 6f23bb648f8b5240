//! What admitting an attempt writes to the shared health records.

use model_router_scorer::health::{Breaker, Health};
use model_router_scorer::route::Upstream;

use super::{HELLO, chat, config};
use crate::live;

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
