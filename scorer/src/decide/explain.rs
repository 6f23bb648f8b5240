//! Why a request went where it did, for people (the playground, tooling): every chat
//! deployment's verdict on the request, and the route's candidates ranked under every
//! `prefer` with their expected prices.
//!
//! It runs the route's own guards ([`select::check`]), candidate sets ([`select::in_tiers`],
//! [`select::pinned`]) and order ([`rank`]) on the same parsed request, so it cannot disagree
//! with the decision; the route never calls it (it costs a check of every deployment).

use crate::catalog::Deployment;
use crate::config::Config;
use crate::decide::liveness::Liveness;
use crate::decide::rank::rank;
use crate::decide::route::{Analysis, Context, Route, Selection, request_policy};
use crate::decide::select::estimate_of;
use crate::decide::select::{self, Miss, Needs};
use crate::error::ApiError;
use crate::vocab::Prefer;

/// What a request's decision looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation<'c> {
    /// What the request needs (capabilities, tokens, price ceiling), as the guards saw it.
    pub needs: Needs,
    /// Every chat deployment of the catalog, in catalog order, with why it cannot take the
    /// request (`None`: it can).
    pub verdicts: Vec<(&'c Deployment, Option<Miss>)>,
    /// The route's candidates (the chosen tier's deployments that fit, or the pinned model's),
    /// best first under each `prefer` (in [`Prefer::NAMES`] order), each with the request's
    /// expected price in USD. Empty without a route.
    pub ranked: Vec<(Prefer, Vec<(&'c Deployment, f64)>)>,
}

impl Analysis<'_> {
    /// Routed only to count its tokens (Anthropic's `count_tokens`): no model is ruled out by
    /// the guard's input estimate, which errs large (a third more than English text has), so a
    /// conversation that fits was refused its count as too long, the count a client asks for to
    /// learn whether it fits.
    pub fn counting(mut self) -> Self {
        self.counting = true;
        self
    }

    /// What the request needs from a model, as the route's guards see it.
    pub(crate) fn needs(&self, config: &Config) -> Needs {
        let needs = Needs::of(&self.req, config.default_output_tokens, self.body.len());
        if self.counting { Needs { input_tokens: 0, ..needs } } else { needs }
    }

    /// Explains the decision `route` (what [`Analysis::route`] returned for the same `ctx`, or
    /// `None` when it refused). Fails only where the route fails before looking at a model: a
    /// request policy naming an unknown provider.
    pub fn explain<'c>(
        &self,
        config: &'c Config,
        ctx: &Context<'_>,
        route: Option<&Route>,
    ) -> Result<Explanation<'c>, ApiError> {
        let req = &self.req;
        let policy = request_policy(config, ctx.client, req.provider_policy.as_ref())?;
        let needs = self.needs(config);
        let verdicts = config
            .catalog
            .deployments
            .iter()
            .map(|d| (d, select::check(d, &needs, &policy, ctx.now).err()))
            .collect();
        let Some(route) = route else { return Ok(Explanation { needs, verdicts, ranked: Vec::new() }) };
        let cands = match route.selection {
            Selection::Pinned => select::pinned(config, req.model.as_ref(), &needs, &policy, ctx.now)?,
            Selection::Tier | Selection::Auto => {
                select::in_tiers(config, route.tier, &needs, &policy, ctx.now)?.cands
            }
        };
        let est = estimate_of(config, req, ctx.budget.map(|_| self.body));
        let live = Liveness::of(config, ctx.live, ctx.now);
        let latency = |d: &Deployment| live.latency(d);
        let ranked = Prefer::NAMES
            .into_iter()
            .filter_map(Prefer::parse)
            .map(|prefer| {
                let mut order = cands.clone();
                rank(&mut order, prefer, &est, &latency);
                // What the route holds for each (its worst case with reserve_max_output).
                (prefer, order.into_iter().map(|d| (d, est.reserve_price(d))).collect())
            })
            .collect();
        Ok(Explanation { needs, verdicts, ranked })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Tier;
    use crate::decide::route::analyze;

    /// 2026-11-22, the catalog's reference day.
    const TODAY: u64 = 20_779 * 86_400;

    fn config(json: &str) -> Config {
        Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn chat(model: &str, extra: &str) -> String {
        format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]{extra}}}"#)
    }

    /// The route and its explanation, for one body.
    fn both<'c>(c: &'c Config, body: &str) -> (Result<Route, ApiError>, Explanation<'c>) {
        let a = analyze(c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let ctx = Context { now: TODAY, ..Context::default() };
        let route = a.route(c, &ctx);
        let why = a.explain(c, &ctx, route.as_ref().ok()).unwrap_or_else(|e| panic!("{e}"));
        (route, why)
    }

    fn miss_of(why: &Explanation<'_>, id: &str, provider: &str) -> Option<Miss> {
        let found = why.verdicts.iter().find(|(d, _)| d.id == id && d.provider == provider);
        found.unwrap_or_else(|| panic!("{provider}/{id} not explained")).1
    }

    #[test]
    fn the_first_candidate_for_the_routes_prefer_is_the_route() {
        let c = config("");
        for tier in Tier::ALL.map(Tier::as_str).into_iter().chain(["auto", "gpt-oss-120b"]) {
            for prefer in Prefer::NAMES {
                let (route, why) = both(&c, &chat(tier, &format!(r#","prefer":"{prefer}""#)));
                let route = route.unwrap_or_else(|e| panic!("{tier}/{prefer}: {e}"));
                assert_eq!(why.ranked.len(), Prefer::NAMES.len());
                let (_, order) = why.ranked.iter().find(|(p, _)| *p == route.prefer).unwrap_or_else(|| {
                    panic!("{tier}/{prefer}: no ranking for {}", route.prefer);
                });
                let first = order.first().map(|(d, _)| (d.id.as_str(), d.provider.as_str()));
                assert_eq!(
                    first,
                    Some((route.target.to.model.as_str(), route.target.to.provider.as_str())),
                    "{tier}/{prefer}"
                );
                assert_eq!(order.first().map(|(_, usd)| *usd), Some(route.estimate_usd), "{tier}/{prefer}");
                // Fallbacks are the rest of the same order.
                assert_eq!(order.len(), route.fallbacks.len() + 1, "{tier}/{prefer}");
            }
        }
    }

    #[test]
    fn a_tiers_candidates_are_its_deployments_that_fit() {
        let c = config("");
        let (route, why) = both(&c, &chat("standard", ""));
        let tier = route.map(|r| r.tier).unwrap_or_else(|e| panic!("{e}"));
        let mut fit: Vec<_> =
            why.verdicts.iter().filter(|(d, m)| d.tier == tier && m.is_none()).map(|(d, _)| *d).collect();
        for (_, order) in &why.ranked {
            let mut got: Vec<_> = order.iter().map(|(d, _)| *d).collect();
            let key = |d: &&Deployment| (d.id.clone(), d.provider.clone());
            got.sort_by_key(key);
            fit.sort_by_key(key);
            assert_eq!(got, fit);
        }
        assert_eq!(why.verdicts.len(), c.catalog.deployments.len());
    }

    #[test]
    fn each_guard_names_its_reason() {
        let c = config(r#"{"blocked_providers":["google-gemini"]}"#);
        let (_, why) = both(&c, &chat("economy", ""));
        assert_eq!(miss_of(&why, "gemini-2.5-flash", "google-gemini"), Some(Miss::Blocked));
        assert_eq!(miss_of(&why, "llama3.1-8b", "cerebras"), Some(Miss::Retired));
        assert_eq!(miss_of(&why, "gpt-4.1-mini", "openai"), None);

        let image = r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        let (_, why) = both(&c, image);
        assert_eq!(miss_of(&why, "gpt-oss-120b", "cerebras"), Some(Miss::Capability("images")));
        let (_, why) = both(&c, &chat("economy", r#","max_tokens":100000"#));
        assert!(why.verdicts.iter().any(|(_, m)| *m == Some(Miss::Output)));
        let big = chat("economy", "").replace("hello", &"x".repeat(600_000));
        let (_, why) = both(&c, &big);
        let small = why.verdicts.iter().filter(|(d, _)| d.context_window < 200_000 && !d.retired(TODAY));
        assert!(small.clone().count() > 0);
        assert!(small.clone().all(|(d, m)| *m == Some(Miss::Context) || d.provider == "google-gemini"));

        let (_, why) = both(&c, &chat("premium", r#","max_price":{"prompt":0.5}"#));
        let dear = why.verdicts.iter().filter(|(d, _)| {
            d.price_in > 0.5 && !d.retired(TODAY) && d.api.routable() && d.provider != "google-gemini"
        });
        assert!(dear.clone().count() > 0 && dear.clone().all(|(_, m)| *m == Some(Miss::Price)));
        assert_eq!(miss_of(&why, "gpt-4.1", "openai"), Some(Miss::Price));
        let names: Vec<_> = [
            Miss::Retired,
            Miss::Untranslated,
            Miss::Blocked,
            Miss::Capability("tools"),
            Miss::Context,
            Miss::Output,
            Miss::Price,
        ]
        .map(Miss::as_str)
        .to_vec();
        assert_eq!(
            names,
            [
                "retired",
                "untranslated",
                "policy",
                "capability",
                "context_window",
                "output_limit",
                "max_price"
            ]
        );
    }

    #[test]
    fn a_refused_request_is_still_explained_without_a_ranking() {
        let c = config("");
        let huge = chat("economy", "").replace("hello", &"x".repeat(36_000_000));
        let (route, why) = both(&c, &huge);
        assert_eq!(route.err().map(|e| e.code), Some("context_length_exceeded"));
        assert!(why.ranked.is_empty());
        assert!(why.verdicts.iter().all(|(_, m)| m.is_some()));
    }

    #[test]
    fn a_pinned_model_ranks_its_own_deployments() {
        let c = config("");
        let (route, why) = both(&c, &chat("gpt-oss-120b", r#","prefer":"cheap""#));
        assert_eq!(route.map(|r| r.selection), Ok(Selection::Pinned));
        for (_, order) in &why.ranked {
            assert!(order.len() >= 2 && order.iter().all(|(d, _)| d.id == "gpt-oss-120b"));
        }
        let (_, cheap) = &why.ranked[0];
        assert!(cheap.windows(2).all(|w| w[0].1 <= w[1].1), "cheap is ordered by price");
    }

    #[test]
    fn an_unknown_provider_in_the_request_fails_as_the_route_does() {
        let c = config("");
        let body = chat("economy", r#","provider":{"only":["nope"]}"#);
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let ctx = Context { now: TODAY, ..Context::default() };
        let route = a.route(&c, &ctx).err();
        let why = a.explain(&c, &ctx, None).err();
        assert_eq!(route.map(|e| e.code), Some("unknown_provider"));
        assert_eq!(why.map(|e| e.code), Some("unknown_provider"));
    }
}
