//! Live provider health in shared data (every worker sees it), and how values become stat
//! name segments. The records and their transitions are the scorer's ([`health`]); this module reads
//! and writes them with compare-and-swap, so concurrent workers never lose an update.

use std::cell::RefCell;
use std::collections::HashMap;

use model_router_scorer::health::{self, Admit, Health, Live, Outcome, ResilienceConfig};
use model_router_scorer::route::{Route, Upstream};

use crate::io::{Host, HostError, Level, Swap};
use crate::metrics as m;

/// Reads health records for one routing decision, each key at most once.
pub struct Snapshot<'h> {
    host: &'h dyn Host,
    seen: RefCell<HashMap<String, Option<Health>>>,
}

impl<'h> Snapshot<'h> {
    /// A snapshot read through `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Snapshot { host, seen: RefCell::default() }
    }
}

impl Live for Snapshot<'_> {
    fn health(&self, key: &str) -> Option<Health> {
        if let Some(h) = self.seen.borrow().get(key) {
            return *h;
        }
        // Unreadable shared data counts as no record: routing goes on with static data.
        let h = self.host.shared_get(key).ok().and_then(|(v, _)| Health::decode(&v?));
        self.seen.borrow_mut().insert(key.to_string(), h);
        h
    }
}

/// Tries to change the record under `key` with `change` (compare-and-swap, three tries).
/// Returns what `change` returned on the write that landed, or `None` after three lost races.
/// A change that changed nothing is not written: a closed breaker's admission rewrote its
/// record on every request, a race every other worker's outcome then lost.
fn update<R>(
    host: &dyn Host,
    key: &str,
    mut change: impl FnMut(&mut Health) -> R,
) -> Result<Option<R>, HostError> {
    for _ in 0..3 {
        let (bytes, cas) = host.shared_get(key)?;
        let before = bytes.as_deref().and_then(Health::decode).unwrap_or_default();
        let mut h = before;
        let out = change(&mut h);
        if h == before || host.shared_set(key, h.encode().as_bytes(), cas)? == Swap::Done {
            return Ok(Some(out));
        }
    }
    host.log(Level::Warn, &format!("model-router: lost three updates of {key} in a row"));
    Ok(None)
}

/// The probe slots an attempt took: its provider's breaker's, its deployment's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Probes(pub [bool; 2]);

/// Gives back the probe slots of an attempt that will never report (its client left).
pub fn release(host: &dyn Host, to: &Upstream, probes: Probes) {
    for (key, took) in to.health_keys().into_iter().zip(probes.0) {
        if took && let Err(e) = update(host, &key, Health::release_probe) {
            host.log(Level::Warn, &format!("model-router: {e}"));
        }
    }
}

/// The probe slots of a route's first attempt, when its breaker has cooled down (its outcome
/// then closes or reopens the breaker): `Some(None)` when it probes nothing. The route reads
/// the slots, and the last one may be taken by another worker before this claim (or the claim
/// lose its compare-and-swap three times): `None` then, when `again`, to route again with the
/// breakers read anew (sent all the same, it was a probe more than `probes` to a failing
/// provider); without `again`, or when shared data cannot be written, it is sent without one.
pub fn claim(
    host: &dyn Host,
    route: &Route,
    now: u64,
    cfg: &ResilienceConfig,
    again: bool,
) -> Option<Option<Probes>> {
    if !route.probe {
        return Some(None);
    }
    match admit(host, &route.target.to, now, cfg) {
        Ok(None) if again => None,
        Ok(probes) => Some(probes),
        Err(e) => {
            host.log(Level::Warn, &format!("model-router: {e}"));
            Some(None)
        }
    }
}

/// Whether an attempt may go to `to` now (`Some`, with the probe slots it took if its breaker
/// is cooling down).
pub fn admit(
    host: &dyn Host,
    to: &Upstream,
    now: u64,
    cfg: &ResilienceConfig,
) -> Result<Option<Probes>, HostError> {
    let keys = to.health_keys();
    // Both read first: a probe slot taken on the provider's breaker while the deployment's
    // refuses would be held, unanswered, until the next cooldown. (A worker that takes the
    // deployment's last slot between this read and the claim below still leaves it so, for
    // that one cooldown.)
    for key in &keys {
        let (bytes, _) = host.shared_get(key)?;
        if bytes.as_deref().and_then(Health::decode).is_some_and(|h| h.admit(now, cfg) == Admit::No) {
            return Ok(None);
        }
    }
    let mut probes = Probes::default();
    for (i, (key, scope)) in keys.into_iter().zip([Scope::Provider, Scope::Deployment]).enumerate() {
        // (admitted, took a probe slot, that claim turned an open breaker half-open)
        let allowed = update(host, &key, |h| match h.admit(now, cfg) {
            Admit::Yes => (true, false, false),
            Admit::No => (false, false, false),
            Admit::Probe => {
                let before = h.breaker.gauge();
                h.claim_probe(now, cfg);
                (true, true, h.breaker.gauge() != before)
            }
        });
        // A slot taken on the provider's breaker is given back if the deployment's refuses or
        // cannot be read.
        let (probe, opened_probing) = match allowed {
            Ok(Some((true, probe, opened))) => (probe, opened),
            refused => {
                release(host, to, probes);
                return refused.map(|_| None);
            }
        };
        if let Some(took) = probes.0.get_mut(i) {
            *took = probe;
        }
        // The gauge says half-open while the breaker probes (it said open until the probe
        // ended, however many were sent).
        if opened_probing {
            host.gauge(&m::labelled(m::BREAKER_STATE, &scope.labels(to)), 2);
        }
    }
    Ok(Some(probes))
}

/// Records an attempt's outcome for its provider and its deployment, with the probe slots it
/// took (a breaker that probes is decided by its probes only: [`Health::record_attempt`]).
pub fn record(
    host: &dyn Host,
    to: &Upstream,
    outcome: Outcome,
    probes: Probes,
    now: u64,
    cfg: &ResilienceConfig,
) {
    record_in(host, to, [outcome, outcome], probes, now, cfg);
}

/// [`record`] for a failure of the model alone (a 404 for a model the provider does not serve
/// there, a model's timeout or error): its deployment failed, its provider answered (`answered`,
/// the attempt's latency), so one broken model does not take the provider's others out, and a
/// provider probe it carried is finished.
pub fn record_model(
    host: &dyn Host,
    to: &Upstream,
    answered: Outcome,
    probes: Probes,
    now: u64,
    cfg: &ResilienceConfig,
) {
    record_in(host, to, [answered, Outcome::Failed], probes, now, cfg);
}

/// Records `outcomes[0]` for the provider and `outcomes[1]` for the deployment.
fn record_in(
    host: &dyn Host,
    to: &Upstream,
    outcomes: [Outcome; 2],
    probes: Probes,
    now: u64,
    cfg: &ResilienceConfig,
) {
    let scopes =
        to.health_keys().into_iter().zip([Scope::Provider, Scope::Deployment]).zip(outcomes).zip(probes.0);
    for (((key, scope), outcome), probed) in scopes {
        let key = &key;
        let change = |h: &mut Health| {
            let before = h.breaker.gauge();
            (h.record_attempt(outcome, probed, now, cfg), before, h.breaker.gauge())
        };
        match update(host, key, change) {
            Ok(Some((opened, before, after))) => {
                if opened {
                    host.log(Level::Warn, &format!("model-router: circuit opened for {}", scope.label(to)));
                    host.count(&m::labelled(m::BREAKER_OPENED, &scope.labels(to)), 1);
                } else if after == 0 && before != 0 {
                    // Its probes passed: said as its opening was, so a log shows both ends.
                    host.log(Level::Info, &format!("model-router: circuit closed for {}", scope.label(to)));
                }
                // Only on a change (a gauge starts at 0, closed): one call fewer per response.
                if after != before {
                    host.gauge(&m::labelled(m::BREAKER_STATE, &scope.labels(to)), after);
                }
            }
            Ok(None) => {}
            Err(e) => host.log(Level::Warn, &format!("model-router: {e}")),
        }
    }
}

/// Sets the gauge of every breaker of `config`'s catalog that its health record says is not
/// closed, as a configuration loads: a new module's VMs start with no gauges (Envoy drops the
/// gauges of the VMs it replaced, and an alert on an open breaker cleared while it stayed
/// open), and a provider removed (its gauges swept to 0) and added back within its cooldown
/// read closed. A closed breaker's gauge is left as it is: 0, or never set.
pub fn set_breaker_gauges(host: &dyn Host, config: &model_router_scorer::Config) {
    let state = |key: &str| {
        let (bytes, _) = host.shared_get(key).ok()?;
        Some(Health::decode(&bytes?)?.breaker.gauge()).filter(|g| *g != 0)
    };
    let mut providers: Vec<(&str, &str)> =
        config.catalog.deployments.iter().map(|d| (d.provider.as_str(), d.cluster.as_str())).collect();
    providers.sort_unstable();
    providers.dedup();
    for (p, cluster) in providers {
        if let Some(g) = state(&health::provider_key(&health::reached(p, cluster))) {
            host.gauge(&m::labelled(m::BREAKER_STATE, &[("provider", m::stat_segment(p))]), g);
        }
    }
    for d in &config.catalog.deployments {
        if let Some(g) = state(&health::deployment_key(&health::reached(&d.provider, &d.cluster), &d.id)) {
            let labels = [("provider", m::stat_segment(&d.provider)), ("model", m::stat_segment(&d.id))];
            host.gauge(&m::labelled(m::BREAKER_STATE, &labels), g);
        }
    }
}

/// True for the first caller, across every worker, in each minute of `key`: a condition worth a
/// log line is then logged once a minute, not once per request (the clock is read only here,
/// when such a condition holds).
pub fn once_a_minute(host: &dyn Host, key: &str) -> bool {
    let Ok(now_ns) = host.now_ns() else { return false };
    let now = now_ns / 1_000_000_000;
    let Ok((last, cas)) = host.shared_get(key) else { return false };
    let last = last.as_deref().and_then(|b| std::str::from_utf8(b).ok()?.parse::<u64>().ok());
    if last.is_some_and(|at| now < at.saturating_add(60)) {
        return false;
    }
    host.shared_set(key, now.to_string().as_bytes(), cas) == Ok(Swap::Done)
}

/// Records a stream's time to first byte for its deployment: its latency sample.
pub fn record_first_byte(host: &dyn Host, to: &Upstream, ms: f64, now: u64, cfg: &ResilienceConfig) {
    update_deployment(host, to, |h| h.record_first_byte(ms, now, cfg.fast_stale_secs));
}

/// Records that a stream waited `ms` for its first byte without it ([`Health::record_wait`]).
pub fn record_wait(host: &dyn Host, to: &Upstream, ms: f64, now: u64, cfg: &ResilienceConfig) {
    update_deployment(host, to, |h| h.record_wait(ms, now, cfg.fast_stale_secs));
}

/// Changes the health record of `to`'s deployment with `change` (a latency's, which only the
/// deployment keeps), a failure logged.
fn update_deployment(host: &dyn Host, to: &Upstream, change: impl FnMut(&mut Health)) {
    let key = health::deployment_key(&health::reached(&to.provider, &to.cluster), &to.model);
    if let Err(e) = update(host, &key, change) {
        host.log(Level::Warn, &format!("model-router: {e}"));
    }
}

#[derive(Clone, Copy)]
enum Scope {
    Provider,
    Deployment,
}

impl Scope {
    fn label(self, to: &Upstream) -> String {
        match self {
            Scope::Provider => format!("provider {}", health::reached(&to.provider, &to.cluster)),
            Scope::Deployment => {
                format!("model {} at {}", to.model, health::reached(&to.provider, &to.cluster))
            }
        }
    }

    /// The metric labels of the scope: its provider, and its model for a deployment.
    fn labels(self, to: &Upstream) -> Vec<(&'static str, String)> {
        let mut out = vec![("provider", m::stat_segment(&to.provider))];
        if let Scope::Deployment = self {
            out.push(("model", m::stat_segment(&to.model)));
        }
        out
    }
}
