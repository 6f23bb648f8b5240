//! The router's metric names, in one place. The host prefixes each with
//! `wasmcustom.model_router.`; a label is a `.<label>.<value>` segment that a `stats_tags`
//! rule in `envoy/*.yaml` turns into a Prometheus label, and `deploy/grafana/model-router.json`
//! queries them by these names (`tests/tests/dashboard.rs` checks every panel against a real
//! Prometheus). Renaming one here breaks the dashboard: change both.

use std::collections::HashSet;

use model_router_scorer::Config;

/// Counter: requests that reached a provider, `{tier, prefer, provider, model, outcome}`.
pub const REQUESTS: &str = "requests";
/// Counters: tokens a provider reported, `{provider, model}`.
pub const TOKENS_IN: &str = "tokens_in";
/// See [`TOKENS_IN`].
pub const TOKENS_OUT: &str = "tokens_out";
/// Counter: what answers cost, nano-USD, `{provider, model}`.
pub const COST: &str = "cost_nanousd";
/// Counter: what answers cost, nano-USD, `{client}` (only with a `client_header`).
pub const CLIENT_COST: &str = "client_cost_nanousd";
/// Histogram: `auto`'s score in thousandths (Envoy histograms take integers).
pub const AUTO_SCORE: &str = "auto_score";
/// Counter: the tier `auto` scored (before stickiness or a fixed tier), `{tier}`.
pub const AUTO_TIER: &str = "auto_tier";
/// Counter: `auto` requests large enough for the prefix cache, `{outcome}`: `hit` (the scan
/// resumed from an earlier turn) or `miss` (scanned whole).
pub const AUTO_PREFIX: &str = "auto_prefix";
/// Counter: fallbacks sent away from a failed provider, `{provider}`.
pub const FAILOVER: &str = "failover";
/// Gauge: a breaker's state (0 closed, 1 open, 2 half-open), `{provider[, model]}`.
pub const BREAKER_STATE: &str = "breaker_state";
/// Counter: breakers that opened, `{provider[, model]}`.
pub const BREAKER_OPENED: &str = "breaker_opened";
/// Counter: budget decisions, `{step}` (ok, limited, downgraded, free, exhausted).
pub const BUDGET: &str = "budget";
/// Gauge: the day's settled spend, nano-USD, `{scope}` (`global`) or `{scope, client}`
/// (`scope.client.<name>`: the `client` rule reads the name).
pub const BUDGET_SPENT: &str = "budget_spent_nanousd";
/// Gauge: the daily limit of a scope, nano-USD, `{scope}`, set beside [`BUDGET_SPENT`].
pub const BUDGET_LIMIT: &str = "budget_limit_nanousd";
/// Counter: the router's own refusals, `{code}`.
pub const REJECTED: &str = "rejected";
/// Counter: streams that ended early.
pub const STREAM_TRUNCATED: &str = "stream_truncated";
/// Counter: streams the provider failed mid-way.
pub const STREAM_FAILED: &str = "stream_failed";
/// Counter: requests routed past open breakers, every candidate's being open
/// (`resilience.fail_open`).
pub const FAIL_OPEN: &str = "fail_open";
/// Counter: providers that refused the router's key, `{provider}`.
pub const AUTH_FAILED: &str = "auth_failed";
/// Gauge: the linear memory of the router's VMs (one per worker), bytes, summed: each VM adds
/// its growth. It never shrinks, so it is the high-water mark of what requests held at once.
pub const VM_MEMORY: &str = "vm_memory_bytes";
/// Counter: routed requests whose body was too large to keep for a cross-provider fallback
/// (`resilience.failover_body_bytes`); Envoy's own retries still apply to them.
pub const FAILOVER_UNKEPT: &str = "failover_unkept";

/// Shared-data key listing the gauges this Envoy's VMs have set, a name a line: a new
/// configuration zeroes those that describe nothing it has ([`sweep`]).
pub const GAUGES_KEY: &str = "model_router.gauges";

/// Whether gauge `name` describes something a configuration may remove (a breaker, a budget
/// scope): only those are listed for [`sweep`].
pub fn swept(name: &str) -> bool {
    [BREAKER_STATE, BUDGET_SPENT, BUDGET_LIMIT].iter().any(|g| name.starts_with(g))
}

/// What of a configuration its gauges describe, as their names' labels: its providers' and
/// deployments' breakers, its named clients with a limit of their own (`clients` or
/// `budgets.clients`), its global limit. Read once for a sweep of the whole list: judged gauge
/// by gauge, each walked every client (two gauges a client: a push of 5,000 clients held every
/// worker 6 s, of 10,000 for 21 s).
struct Described {
    providers: HashSet<String>,
    /// `<provider>.model.<model>`, as a deployment's breaker gauge ends.
    deployments: HashSet<String>,
    clients: HashSet<String>,
    global: bool,
}

impl Described {
    fn of(config: &Config) -> Described {
        let (mut providers, mut deployments) = (HashSet::new(), HashSet::new());
        for d in &config.catalog.deployments {
            let provider = stat_segment(&d.provider);
            deployments.insert(format!("{provider}.model.{}", stat_segment(&d.id)));
            providers.insert(provider);
        }
        let budgeted = |c: &&String| config.budgets.scopes(Some(c)).iter().any(|s| s.label != "global");
        let named = config.clients.keys().chain(config.budgets.clients.keys());
        let clients = named.filter(budgeted).map(|c| stat_segment(c)).collect();
        Described { providers, deployments, clients, global: config.budgets.daily_usd.is_some() }
    }

    /// Whether gauge `name` still describes something the configuration has. Gauges of any
    /// other kind always do.
    fn has(&self, name: &str) -> bool {
        if let Some(rest) = name.strip_prefix(BREAKER_STATE).and_then(|r| r.strip_prefix(".provider.")) {
            return match rest.split_once(".model.") {
                Some(_) => self.deployments.contains(rest),
                None => self.providers.contains(rest),
            };
        }
        let scope = [BUDGET_SPENT, BUDGET_LIMIT]
            .iter()
            .find_map(|g| name.strip_prefix(g).and_then(|r| r.strip_prefix(".scope.")));
        match scope {
            Some("global") => self.global,
            Some(scope) => scope.strip_prefix("client.").is_some_and(|client| self.clients.contains(client)),
            None => true,
        }
    }
}

/// Splits the gauge list kept at [`GAUGES_KEY`] into the names `config` no longer describes
/// (to be set to 0: a removed provider's breaker left at 1, open, fired its alert for good)
/// and the list to keep.
pub fn sweep<'a>(list: &'a str, config: &Config) -> (Vec<&'a str>, String) {
    let (mut stale, mut kept) = (Vec::new(), String::with_capacity(list.len()));
    let described = Described::of(config);
    for name in list.lines().filter(|n| !n.is_empty()) {
        if described.has(name) {
            kept.push_str(name);
            kept.push('\n');
        } else {
            stale.push(name);
        }
    }
    (stale, kept)
}

/// A value as one segment of a stat name ([`model_router_scorer::config::metric_segment`]).
pub fn stat_segment(v: &str) -> String {
    model_router_scorer::config::metric_segment(v)
}

/// `name` with its labels as `.<label>.<value>` segments. Values must already be single
/// segments ([`stat_segment`]), except a client's budget scope, `client.<name>`,
/// two labels at once (`scope` and `client`).
pub fn labelled<V: AsRef<str>>(name: &str, labels: &[(&str, V)]) -> String {
    let mut out = String::with_capacity(name.len() + labels.len() * 24);
    out.push_str(name);
    for (label, value) in labels {
        out.push('.');
        out.push_str(label);
        out.push('.');
        out.push_str(value.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After a reload a removed provider's `breaker_state` stayed at 1 (open), so an "open
    /// breaker" alert fired for good; a removed client's budget gauges stayed at its last spend.
    #[test]
    fn a_new_configuration_sweeps_the_gauges_it_no_longer_describes() {
        let model = |p: &str, tier: &str, id: &str| {
            format!(
                r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60}}"#
            )
        };
        let json = format!(
            r#"{{"catalog":{{"providers":{{"a":{{}},"b.x":{{}}}},"models":[{},{},{},{}]}},"client_header":"x-team","clients":{{"plain":{{}}}},"budgets":{{"clients":{{"team.a":1}}}}}}"#,
            model("a", "economy", "m.1"),
            model("b.x", "economy", "m.1"),
            model("a", "standard", "s"),
            model("a", "premium", "x"),
        );
        let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let list = [
            "breaker_state.provider.a",
            "breaker_state.provider.a.model.m_1",
            "breaker_state.provider.b_x.model.m_1",
            "breaker_state.provider.gone",
            "breaker_state.provider.a.model.gone",
            "budget_spent_nanousd.scope.client.team_a",
            "budget_limit_nanousd.scope.client.team_a",
            "budget_spent_nanousd.scope.client.old",
            "budget_spent_nanousd.scope.client.plain",
            "budget_limit_nanousd.scope.global",
            "vm_memory_bytes",
            "",
        ]
        .join("\n");
        let (stale, kept) = sweep(&list, &config);
        assert_eq!(
            stale,
            [
                "breaker_state.provider.gone",
                "breaker_state.provider.a.model.gone",
                "budget_spent_nanousd.scope.client.old",
                // Named, but without a limit of its own.
                "budget_spent_nanousd.scope.client.plain",
                // No global limit any more.
                "budget_limit_nanousd.scope.global",
            ]
        );
        assert_eq!(kept.lines().count(), 6, "{kept}");
        assert!(kept.lines().all(|n| !stale.contains(&n)) && kept.contains("vm_memory_bytes"));
    }

    #[test]
    fn labels_become_name_segments_in_order() {
        assert_eq!(labelled::<&str>(FAIL_OPEN, &[]), "fail_open");
        assert_eq!(labelled(FAILOVER, &[("provider", "groq")]), "failover.provider.groq");
        assert_eq!(
            labelled(BUDGET_LIMIT, &[("scope", "client.team-a")]),
            "budget_limit_nanousd.scope.client.team-a"
        );
    }
}
