//! Ranking the candidates of a tier by the client's `prefer`.
//!
//! Every order is total and deterministic: the primary key, then the expected price, then the
//! model id, then the provider name. Arithmetic is plain IEEE (no libm), so native and wasm32
//! builds rank identically.

use std::cmp::Ordering;

use crate::catalog::{Deployment, Tier};
use crate::config::Config;
use crate::numeric::log2;
use crate::vocab::{Estimate, Prefer};

/// Quality points a model must gain for each doubling of price to rank equal under `balanced`.
pub const BALANCED_POINTS_PER_DOUBLING: f64 = 5.0;

/// Prices below this (USD per request) count as this, so free models have a finite ratio.
const PRICE_FLOOR: f64 = 1e-7;

/// `balanced`: `quality − 5 · log2(price / cheapest price among the candidates)`.
/// A model twice the price of the cheapest must be 5 quality points (25 arena Elo on the
/// catalog's scale) better to tie with it.
pub fn balanced_score(quality: f64, price: f64, cheapest: f64) -> f64 {
    let ratio = price.max(PRICE_FLOOR) / cheapest.max(PRICE_FLOOR);
    quality - BALANCED_POINTS_PER_DOUBLING * log2(ratio)
}

/// Added to the static speed of a deployment `fast` has not observed enough, so it ranks
/// ahead of every observed one and gets observed (a few requests each, then by latency).
const UNOBSERVED: f64 = 1e12;

/// Sorts `cands` best first for `prefer`. `latency` is a deployment's observed latency (ms)
/// once it has enough fresh observations: `fast` ranks by it, and by the static prior (tokens/s)
/// among deployments not yet observed, which it tries first.
pub fn rank(
    cands: &mut [&Deployment],
    prefer: Prefer,
    est: &Estimate,
    latency: &dyn Fn(&Deployment) -> Option<f64>,
) {
    // Under `balanced` a free candidate (a `free` deployment) counts as half the cheapest priced
    // one: one doubling cheaper, 5 points. At the price floor it was a million times cheaper,
    // about 100 points, and won every balanced request whatever its quality.
    let priced = cands.iter().map(|d| est.price(d)).filter(|p| *p > 0.0).fold(f64::INFINITY, f64::min);
    let floor = if priced.is_finite() { priced / 2.0 } else { PRICE_FLOOR };
    let cheapest = cands.iter().map(|d| est.price(d).max(floor)).fold(f64::INFINITY, f64::min);
    let key = |d: &Deployment| -> f64 {
        match prefer {
            Prefer::Cheap => -est.price(d),
            Prefer::Fast => latency(d).map_or(UNOBSERVED + d.speed_tps, |ms| -ms),
            Prefer::Quality => d.quality,
            Prefer::Coding => d.coding,
            Prefer::Balanced => balanced_score(d.quality, est.price(d).max(floor), cheapest),
        }
    };
    // Each key once (balanced takes a log2), not once per comparison.
    let mut keyed: Vec<(f64, &Deployment)> = cands.iter().map(|d| (key(d), *d)).collect();
    keyed.sort_by(|(ka, a), (kb, b)| kb.total_cmp(ka).then_with(|| tie_break(a, b, est)));
    for (slot, (_, d)) in cands.iter_mut().zip(keyed) {
        *slot = d;
    }
}

/// The ordering used for ties: cheaper first, then cheaper to read from its prompt cache (the
/// same model at the same list price from two providers, one of which discounts cached input:
/// an agent's conversation, mostly cached, went by provider name to the one that does not, at
/// up to five times the cost a turn), then model id, then provider name.
pub fn tie_break(a: &Deployment, b: &Deployment, est: &Estimate) -> Ordering {
    let cached = |d: &Deployment| d.price_cache_read.unwrap_or(d.price_in);
    est.price(a)
        .total_cmp(&est.price(b))
        .then_with(|| cached(a).total_cmp(&cached(b)))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.provider.cmp(&b.provider))
}

/// The least any of `ds` would cost: a refusal tells a request no wait lets it fit.
pub(crate) fn cheapest<'d>(ds: impl Iterator<Item = &'d Deployment>, est: &Estimate) -> Option<f64> {
    ds.map(|d| est.reserve_price(d)).reduce(f64::min)
}

/// [`cheapest`] of what the budget ladder could have stepped to from `from`, room or not: the
/// models of that tier and below, and the free ones, that `carries` the request.
pub(crate) fn cheapest_down(
    config: &Config,
    from: Tier,
    est: &Estimate,
    carries: impl Fn(&Deployment) -> bool,
) -> Option<f64> {
    let free = |d: &Deployment| d.price_in == 0.0 && d.price_out == 0.0;
    cheapest(config.catalog.deployments.iter().filter(|d| (d.tier <= from || free(d)) && carries(d)), est)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An estimate of `input` and `output` tokens, nothing else asked.
    fn est(input_tokens: u64, output_tokens: u64) -> Estimate {
        Estimate {
            input_tokens,
            output_tokens,
            thinking: None,
            audio: false,
            worst_case: None,
            wide_input: 0,
        }
    }
    use crate::catalog::Tier;

    fn dep(id: &str, provider: &str, price_in: f64, price_out: f64, quality: f64) -> Deployment {
        Deployment {
            id: id.into(),
            tier: Tier::Economy,
            provider: provider.into(),
            cluster: provider.into(),
            upstream_id: id.into(),
            context_window: 100_000,
            max_output: 10_000,
            price_in,
            price_out,
            quality,
            coding: 0.0,
            speed_tps: 0.0,
            tools: true,
            vision: false,
            reasoning: false,
            structured_output: false,
            audio_output: false,
            api: crate::catalog::Api::Chat,
            quirks: crate::catalog::Quirks::NONE,
            price_cache_read: None,
            price_audio_in: None,
            long_context: None,
            retires: None,
            retires_text: None,
        }
    }

    #[test]
    fn balanced_trades_five_points_per_doubling() {
        assert_eq!(balanced_score(80.0, 2.0, 2.0), 80.0);
        assert!((balanced_score(80.0, 4.0, 2.0) - 75.0).abs() < 1e-12);
        assert!((balanced_score(80.0, 0.0, 0.0) - 80.0).abs() < 1e-12);
    }

    /// A free deployment counts as one doubling cheaper than the cheapest priced candidate: it
    /// wins `balanced` within 5 quality points of the best, not whatever its quality.
    #[test]
    fn a_free_candidate_is_one_doubling_cheaper_under_balanced() {
        let est = est(1000, 1000);
        let good = dep("good", "p", 1.0, 1.0, 80.0);
        for (quality, free_wins) in [(60.0, false), (74.0, false), (76.0, true)] {
            let free = dep("free", "p", 0.0, 0.0, quality);
            let mut cands = vec![&good, &free];
            rank(&mut cands, Prefer::Balanced, &est, &|_| None);
            assert_eq!(cands[0].id == "free", free_wins, "{quality}");
        }
        // All free: quality decides.
        let (a, b) = (dep("a", "p", 0.0, 0.0, 70.0), dep("b", "p", 0.0, 0.0, 75.0));
        let mut cands = vec![&a, &b];
        rank(&mut cands, Prefer::Balanced, &est, &|_| None);
        assert_eq!(cands[0].id, "b");
    }

    #[test]
    fn ties_break_by_price_then_id_then_provider() {
        let est = est(1000, 1000);
        let a = dep("m", "b-prov", 1.0, 1.0, 50.0);
        let b = dep("m", "a-prov", 1.0, 1.0, 50.0);
        let c = dep("a", "z", 1.0, 1.0, 50.0);
        let d = dep("z", "z", 0.5, 1.0, 50.0);
        let mut cands = vec![&a, &b, &c, &d];
        rank(&mut cands, Prefer::Quality, &est, &|_| None);
        let order: Vec<_> = cands.iter().map(|d| (d.id.as_str(), d.provider.as_str())).collect();
        assert_eq!(order, [("z", "z"), ("a", "z"), ("m", "a-prov"), ("m", "b-prov")]);
        assert_eq!(tie_break(&a, &b, &est), Ordering::Greater);
        // At one list price, the provider that discounts cached input first (an agent's turns
        // are mostly cached), whatever its name.
        let cached = Deployment { price_cache_read: Some(0.1), ..dep("m", "z-prov", 1.0, 1.0, 50.0) };
        let mut cands = vec![&a, &b, &cached];
        rank(&mut cands, Prefer::Quality, &est, &|_| None);
        assert_eq!(cands[0].provider, "z-prov");
    }

    #[test]
    fn cheap_uses_this_requests_token_mix() {
        // Input-heavy requests favour cheap input; output-heavy ones cheap output.
        let cheap_in = dep("cheap-in", "p", 0.1, 10.0, 50.0);
        let cheap_out = dep("cheap-out", "p", 10.0, 0.1, 50.0);
        let mut cands = vec![&cheap_in, &cheap_out];
        rank(&mut cands, Prefer::Cheap, &est(10_000, 10), &|_| None);
        assert_eq!(cands[0].id, "cheap-in");
        rank(&mut cands, Prefer::Cheap, &est(10, 10_000), &|_| None);
        assert_eq!(cands[0].id, "cheap-out");
    }

    #[test]
    fn fast_explores_unobserved_then_ranks_by_latency() {
        let est = est(10, 10);
        let mut a = dep("m", "a", 1.0, 1.0, 50.0);
        a.speed_tps = 500.0;
        let mut b = dep("m", "b", 1.0, 1.0, 50.0);
        b.speed_tps = 100.0;
        let mut c = dep("m", "c", 1.0, 1.0, 50.0);
        c.speed_tps = 300.0;
        let order = |cands: &[&Deployment]| cands.iter().map(|d| d.provider.clone()).collect::<Vec<_>>();
        let mut cands = vec![&a, &b, &c];
        // Nothing observed: the static prior.
        rank(&mut cands, Prefer::Fast, &est, &|_| None);
        assert_eq!(order(&cands), ["a", "c", "b"]);
        // a and b observed (a slow): unobserved c first, then the faster observed.
        let seen = |d: &Deployment| match d.provider.as_str() {
            "a" => Some(900.0),
            "b" => Some(40.0),
            _ => None,
        };
        rank(&mut cands, Prefer::Fast, &est, &seen);
        assert_eq!(order(&cands), ["c", "b", "a"]);
    }

    #[test]
    fn prefer_names_round_trip() {
        for name in Prefer::NAMES {
            assert_eq!(Prefer::parse(name).map(Prefer::as_str), Some(name));
        }
        assert_eq!(Prefer::parse("Cheap"), None);
    }
}
