//! The router's metric names, in one place. The host prefixes each with
//! `wasmcustom.model_router.`; a label is a `.<label>.<value>` segment that a `stats_tags`
//! rule in `envoy/*.yaml` turns into a Prometheus label, and `deploy/grafana/model-router.json`
//! queries them by these names (`tests/tests/dashboard.rs` checks every panel against a real
//! Prometheus). Renaming one here breaks the dashboard: change both.

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
/// Counter: requests routed on static data because live data could not be read.
pub const FAIL_OPEN: &str = "fail_open";
/// Counter: providers that refused the router's key, `{provider}`.
pub const AUTH_FAILED: &str = "auth_failed";
/// Gauge: the linear memory of the router's VMs (one per worker), bytes, summed: each VM adds
/// its growth. It never shrinks, so it is the high-water mark of what requests held at once.
pub const VM_MEMORY: &str = "vm_memory_bytes";
/// Counter: routed requests whose body was too large to keep for a cross-provider fallback
/// (`resilience.failover_body_bytes`); Envoy's own retries still apply to them.
pub const FAILOVER_UNKEPT: &str = "failover_unkept";

/// `name` with its labels as `.<label>.<value>` segments. Values must already be single
/// segments ([`crate::live::stat_segment`]), except a client's budget scope, `client.<name>`,
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
