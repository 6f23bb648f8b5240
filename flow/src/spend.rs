//! Spend limits in shared data: read what is left, reserve a request's estimate, settle it
//! with the real cost. Every write is compare-and-swap, so workers never lose an amount.

use crate::io::{Host, HostError, Level, Swap};
use crate::metrics as m;
use model_router_scorer::Config;
use model_router_scorer::budget::{BudgetView, Scope, Spend};

/// A request's reservation, settled when it ends.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The scopes reserved in.
    pub scopes: Vec<Scope>,
    /// nano-USD reserved in each.
    pub amount: u64,
    /// The window it is held in, scope by scope (at midnight one scope may already be another
    /// worker's new day while the next is still the old one: a window names its hold on
    /// either, as holds cross midnight).
    pub held: Vec<u64>,
    /// When it was made, seconds since the epoch: the earliest it is settled at (settling reads
    /// the clock, so a request that ends past UTC midnight spends on the new day).
    pub at: u64,
}

/// A scope's record as it stands at `now`, and its compare-and-swap token. A scope without
/// one yet starts from the previous module's record (after an upgrade, the day's spend so far).
fn read(host: &dyn Host, s: &Scope, now: u64) -> Result<(Spend, u32), HostError> {
    let (bytes, cas) = host.shared_get(&s.key)?;
    let bytes = match bytes {
        Some(b) => Some(b),
        None => host.shared_get(&s.previous_key())?.0,
    };
    let spend = bytes.as_deref().and_then(Spend::decode).unwrap_or_default();
    Ok((s.at(&spend, now), cas))
}

/// What is left in the tightest of `scopes` now.
pub fn view(host: &dyn Host, scopes: &[Scope], now: u64) -> Result<Option<BudgetView>, HostError> {
    let mut recs = Vec::with_capacity(scopes.len());
    for s in scopes {
        recs.push((s.clone(), read(host, s, now)?.0));
    }
    Ok(BudgetView::of(&recs, now))
}

/// Reserves `amount` nano-USD in every scope, or in none (returns `None` when one is full).
pub fn reserve(
    host: &dyn Host,
    scopes: Vec<Scope>,
    amount: u64,
    now: u64,
) -> Result<Option<Reservation>, HostError> {
    // Each scope's amount is reserved on its record's day (a record another worker already
    // rolled past midnight keeps its new day), in a window settling finds on any day.
    let mut done =
        Reservation { scopes: Vec::with_capacity(scopes.len()), amount, held: Vec::new(), at: now };
    for s in scopes {
        let reserved = reserve_in(host, &s, amount, now);
        let Ok(Some(on)) = reserved else {
            // What the scopes before hold is given back, whether this one was full or the host
            // failed: a reservation never settled would hold its amount all day.
            settle(host, &done, 0, now);
            return reserved.map(|_| None);
        };
        done.scopes.push(s);
        done.held.push(on);
    }
    Ok(Some(done))
}

/// Reserves `amount` in one scope and returns the window it is held in; `None` when it is full
/// (or keeps changing under us).
fn reserve_in(host: &dyn Host, s: &Scope, amount: u64, now: u64) -> Result<Option<u64>, HostError> {
    for _ in 0..8 {
        let (mut spend, cas) = read(host, s, now)?;
        let Some(since) = spend.reserve(amount, s.limit, now, s.ttl) else { return Ok(None) };
        if host.shared_set(&s.key, spend.encode().as_bytes(), cas)? == Swap::Done {
            return Ok(Some(since));
        }
    }
    Ok(None)
}

/// Replaces a reservation with the real spend (nano-USD) at `now`. Returns each scope with its
/// settled spend of the day as written (for the metric).
pub fn settle<'r>(host: &dyn Host, r: &'r Reservation, spent: u64, now: u64) -> Vec<(&'r Scope, u64)> {
    let mut out = Vec::with_capacity(r.scopes.len());
    for (scope, since) in r.scopes.iter().zip(r.held.iter().copied()) {
        let mut landed = None;
        for _ in 0..8 {
            let Ok((mut spend, cas)) = read(host, scope, now) else { break };
            spend.settle(since, r.amount, spent);
            if host.shared_set(&scope.key, spend.encode().as_bytes(), cas) == Ok(Swap::Done) {
                landed = Some(spend.spent);
                break;
            }
        }
        match landed {
            Some(today) => out.push((scope, today)),
            None => host.log(Level::Error, &format!("model-router: could not settle spend in {}", scope.key)),
        }
    }
    out
}

/// The metric labels of `scope`'s gauges, or `None` for a client the configuration does not
/// name ([`Config::names_client`]).
pub(crate) fn gauge_label(scope: &Scope, config: &Config) -> Option<String> {
    match scope.label.strip_prefix("client ") {
        Some(c) if !config.names_client(c) => None,
        Some(c) => Some(format!("client.{}", m::stat_segment(c))),
        None => Some("global".to_string()),
    }
}

/// Sets `scope`'s gauges: its spend of the day, and its limit beside it (a dashboard draws one
/// against the other).
pub(crate) fn set_gauges(host: &dyn Host, config: &Config, scope: &Scope, today: u64) {
    let Some(label) = gauge_label(scope, config) else { return };
    let labels = [("scope", label.as_str())];
    host.gauge(&m::labelled(m::BUDGET_SPENT, &labels), today);
    host.gauge(&m::labelled(m::BUDGET_LIMIT, &labels), scope.limit);
}

/// Sets the spend gauge of the global limit and of every client the configuration names from
/// their records as they stand at `now` (the root context's tick, once a minute): a gauge is
/// otherwise set when a request of its scope settles, and past UTC midnight it showed the day
/// before's spend until that scope's next request (a dashboard drew a limit nearly spent, and
/// its alert fired, all morning). Only the gauges `listed` (the VMs' list of the gauges they
/// set, which a configuration pushed sweeps of what it no longer has): a configuration a push
/// replaced still ticks until Envoy is done with it, and set a removed client's gauge back.
/// The limits are left to the requests that settle: the replaced configuration's would flip
/// a changed one back and forth.
pub fn refresh_gauges(host: &dyn Host, config: &Config, now: u64, listed: &dyn Fn(&str) -> bool) {
    for s in &gauged(config) {
        let Some(label) = gauge_label(s, config) else { continue };
        let name = m::labelled(m::BUDGET_SPENT, &[("scope", label.as_str())]);
        if listed(&name)
            && let Ok((spend, _)) = read(host, s, now)
        {
            host.gauge(&name, spend.spent);
        }
    }
}

/// Sets every gauged scope's spend and limit from its record, as a configuration loads: a
/// lowered limit showed the one before until that client's next request (a dashboard drew
/// 1.6% used while the client was refused), and a new module's VMs start with none (Envoy drops
/// the gauges of the VMs it replaced).
pub fn set_all_gauges(host: &dyn Host, config: &Config, now: u64) {
    for s in &gauged(config) {
        if let Ok((spend, _)) = read(host, s, now) {
            set_gauges(host, config, s, spend.spent);
        }
    }
}

/// The scopes that have gauges: the global limit, and the clients the configuration names
/// that have a limit of their own or the default one.
pub fn gauged(config: &Config) -> Vec<Scope> {
    let b = &config.budgets;
    let mut scopes = b.scopes(None);
    for c in b.clients.keys().chain(config.clients.keys()) {
        scopes.extend(b.scopes(Some(c)).into_iter().filter(|s| s.label != "global"));
    }
    scopes.sort_by(|a, b| a.key.cmp(&b.key));
    scopes.dedup_by(|a, b| a.key == b.key);
    scopes
}
