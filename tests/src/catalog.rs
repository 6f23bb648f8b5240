//! The built-in catalog as of today: the router under test reads the clock, and a model whose
//! retirement date has come is retired for it. Tests that need a model reached through one
//! protocol take it here rather than by a name that one day retires (a pinned name failed the
//! day its model did).

use model_router_scorer::catalog::Api;

/// Now, in seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Today, UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    model_router_scorer::budget::utc_iso(now()).chars().take(10).collect()
}

/// The first chat model of the built-in catalog (in its order) that a provider reaches through
/// `api` and has not retired today. Panics when there is none: the built-in catalog is then
/// stale, and that protocol would go untested.
pub fn live_model(api: Api) -> String {
    let catalog = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")).catalog;
    let found = catalog.deployments.iter().find(|d| d.api == api && !d.retired(now()));
    match found {
        Some(d) => d.id.clone(),
        None => panic!(
            "the built-in catalog has no current chat model reached through `{}` as of {}: refresh \
             scorer/catalog.json (scripts/catalog.py) from the shared catalog",
            api.as_str(),
            today()
        ),
    }
}
