//! The gauges a configuration sets as it loads, from the records in shared data: a new module's
//! VMs start with none (Envoy drops the gauges of the VMs it replaced), and a limit changed by
//! a push is drawn at once.

use model_router_scorer::health::{Breaker, Health, deployment_key, provider_key};

use super::{Fake, config};
use crate::io::Host;

/// Each budget's spend and limit are set from its record, before any request settles.
#[test]
fn every_budget_gauge_is_set_as_a_configuration_loads() {
    let shared = config(r#","client_header":"x-team","budgets":{"daily_usd":2,"clients":{"a":1}}"#);
    let host = Fake::default();
    crate::spend::set_all_gauges(&host, &shared.config, 1_700_000_000);
    let gauges = host.counters.borrow();
    let get = |k: &str| gauges.get(k).copied();
    assert_eq!(get("budget_limit_nanousd.scope.client.a"), Some(1_000_000_000), "{gauges:?}");
    assert_eq!(get("budget_limit_nanousd.scope.global"), Some(2_000_000_000));
    assert_eq!(get("budget_spent_nanousd.scope.client.a"), Some(0));
}

/// A breaker whose record says open has its gauge set; a closed one's is left unset (no series
/// for every deployment of the catalog).
#[test]
fn open_breakers_gauges_are_set_as_a_configuration_loads() {
    let shared = config("");
    let host = Fake::default();
    let d = shared.config.catalog.deployments.first().map(|d| (d.provider.clone(), d.id.clone()));
    let (p, model) = d.unwrap_or_default();
    let open = Health { breaker: Breaker::Open { since: 1_700_000_000 }, ..Health::default() };
    let _ = host.shared_set(&provider_key(&p), open.encode().as_bytes(), 0);
    let _ = host.shared_set(&deployment_key(&p, &model), open.encode().as_bytes(), 0);
    crate::live::set_breaker_gauges(&host, &shared.config);
    let gauges = host.counters.borrow();
    let seg = crate::metrics::stat_segment;
    assert_eq!(gauges.get(&format!("breaker_state.provider.{}", seg(&p))), Some(&1), "{gauges:?}");
    let deployment = format!("breaker_state.provider.{}.model.{}", seg(&p), seg(&model));
    assert_eq!(gauges.get(&deployment), Some(&1), "{gauges:?}");
    assert_eq!(gauges.keys().filter(|k| k.starts_with("breaker_state")).count(), 2, "{gauges:?}");
}
