//! The routing decision: which endpoint a request is, and for chat requests which model and
//! provider serve it and what body they receive.

use crate::account::budget::BudgetView;
use crate::catalog::{Deployment, Tier};
use crate::config::Config;
use crate::decide::auto::{self, AutoScore, Remembered};
use crate::decide::carry::{Carried, carried};
use crate::decide::held::{all_open, unladdered};
use crate::decide::liveness::Liveness;
use crate::decide::memo::Memo;
use crate::decide::models::{aliased, named_alias, unknown_model};
use crate::decide::rank::{cheapest, cheapest_down, rank};
use crate::decide::resume::{self, PrefixMemory, Read, Resumed};
use crate::decide::select::{self, estimate_of};
use crate::error::{ApiError, echo};
use crate::health::{Admit, Live};
use crate::parse::features;
use crate::parse::request::{ChatRequest, Layout, parse_chat_with};
use crate::vocab::{Estimate, Policy, Prefer};

// Parts of the decision that have their own rooms, still reachable as `route::…`.
pub use crate::decide::endpoint::{CHAT_PATH, EMBEDDINGS_PATH, Endpoint, MODELS_PATH, endpoint, model_id};
pub use crate::decide::sticky::{Memory, STICKY_KEY_PREFIX};
pub use crate::decide::upstream::{Fallback, Target, Upstream};

/// How the model was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// The client named a tier.
    Tier,
    /// The client named a catalog model id.
    Pinned,
    /// `model: "auto"`: the router scored the conversation.
    Auto,
}

impl Selection {
    /// `tier`, `pinned` or `auto`, as reported to clients.
    pub fn as_str(self) -> &'static str {
        match self {
            Selection::Tier => "tier",
            Selection::Pinned => "pinned",
            Selection::Auto => "auto",
        }
    }
}

/// What `auto` decided, for the response headers.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoReport {
    /// The scored tier (before stickiness or a client-fixed `tier`).
    pub tier: Tier,
    /// Score, rounded to 3 decimals.
    pub score: f64,
    /// The features that decided.
    pub reasons: Vec<String>,
    /// Set when stickiness kept the conversation above the scored tier.
    pub sticky: bool,
}

/// A routed chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Where it goes and what it carries.
    pub target: Target,
    /// Tier of the chosen model.
    pub tier: Tier,
    /// The effective `prefer`.
    pub prefer: Prefer,
    /// Tier, pinned or auto.
    pub selection: Selection,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// The client asked for a stream's usage itself.
    pub usage_requested: bool,
    /// The choices the client asked for (`n`, at least 1): a stream is whole once each
    /// finished.
    pub choices: u64,
    /// The output each choice may write as the client capped it (`max_tokens`,
    /// `max_completion_tokens`, a Messages client's `max_tokens`), which no translation
    /// raises: what a provider reports past twice it is a runaway count
    /// ([`crate::usage::Usage::beyond`]).
    pub output_cap: Option<u64>,
    /// The client asked for reasoning (`reasoning_effort`, `reasoning`, or as a hint,
    /// `reasoning_effort_hint`): a translated answer shows the model's thinking as
    /// `reasoning_content`.
    pub reasoning: bool,
    /// The client asked for JSON output (`response_format` `json_object` or `json_schema`).
    pub structured: bool,
    /// `context`, `capability`, `policy`, ... when the requested tier had no fitting model and
    /// a higher one answers; `lowered` when `auto`'s tier and those above had none and a lower
    /// one answers.
    pub escalated: Option<&'static str>,
    /// The auto decision, for `model: "auto"`.
    pub auto: Option<AutoReport>,
    /// The model name the client sent, when it was an alias (`model_aliases`).
    pub alias: Option<String>,
    /// What to remember for stickiness, for `model: "auto"` without a fixed tier.
    pub memory: Option<Memory>,
    /// The other candidates, best first: where failover goes, each checked again against
    /// live health before it is tried. Most requests never fail over, so an [`Upstream`] is
    /// built only for the one that is tried ([`Fallback::upstream`]).
    pub fallbacks: Vec<Fallback>,
    /// The client body's layout: a fallback's body is `layout.rewrite(client_body, model)`,
    /// spliced without a second parse.
    pub layout: Layout,
    /// With budgets: `ok`, `limited:TIER` (a cheaper model of the tier), `downgraded:A->B`
    /// or `free` (the ladder's steps).
    pub budget: Option<String>,
    /// The expected price of the chosen model, USD: what the glue reserves (the worst case with
    /// `budgets.reserve_max_output` and no output cap asked).
    pub estimate_usd: f64,
    /// The token counts it was priced from, which price a fallback's attempt too.
    pub estimate: Estimate,
    /// Every candidate's breaker was open and the route failed open (see
    /// [`ResilienceConfig::fail_open`](crate::health::ResilienceConfig::fail_open)).
    pub fail_open: bool,
    /// The chosen deployment's breaker has cooled down (or is probing): the glue takes a probe
    /// slot before it sends ([`Health::claim_probe`](crate::health::Health::claim_probe)), so
    /// this attempt's outcome closes the breaker or opens it again.
    pub probe: bool,
}

/// A parsed, scored request waiting for the glue's remembered state.
pub struct Analysis<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) req: ChatRequest<'a>,
    auto: Option<AutoScore>,
    resumed: Resumed,
    /// The model name the client sent, when it was an alias (`model_aliases`).
    alias: Option<String>,
    /// Routed to count its tokens ([`Analysis::counting`]).
    pub(crate) counting: bool,
}

/// Parses and, for `model: "auto"`, scores a chat completions body, scanning it whole.
pub fn analyze<'a>(config: &Config, body: &'a [u8]) -> Result<Analysis<'a>, ApiError> {
    analyze_resuming(config, body, None, 0)
}

/// [`analyze`], resuming `auto`'s scan from a remembered earlier turn that `read` finds in
/// shared data (at `now`, seconds since the epoch); the decision is the one a whole scan makes.
pub fn analyze_resuming<'a>(
    config: &Config,
    body: &'a [u8],
    read: Option<Read<'_>>,
    now: u64,
) -> Result<Analysis<'a>, ApiError> {
    analyze_with_memo(config, body, read, now, None)
}

/// [`analyze_resuming`], the messages a worker's `memo` remembers from an earlier turn not
/// parsed again (`decide::memo`): the same analysis.
pub fn analyze_with_memo<'a>(
    config: &Config,
    body: &'a [u8],
    read: Option<Read<'_>>,
    now: u64,
    memo: Option<&Memo>,
) -> Result<Analysis<'a>, ApiError> {
    let memo = Memo::for_body(memo, &config.prefix_cache, body.len()).map(|m| &m.parses);
    let mut req = parse_chat_with(body, memo)?;
    let alias = aliased(config, &mut req);
    let mut resumed = Resumed::default();
    let auto = (req.model == "auto").then(|| {
        resumed = resume::scan(&mut req, body, &config.prefix_cache, read, now);
        if let Some(memo) = memo {
            memo.borrow_mut().complete(&req.chain);
        }
        auto::score(&req.features, &config.auto)
    });
    Ok(Analysis { body, req, auto, resumed, alias, counting: false })
}

impl Analysis<'_> {
    /// Messages whose scan was taken from a remembered earlier turn.
    pub fn resumed(&self) -> Option<usize> {
        self.resumed.messages
    }

    /// The scan's state after this request's messages, for the glue to write to shared data.
    pub fn prefix_memory(&self) -> Option<&PrefixMemory> {
        self.resumed.memory.as_ref()
    }

    /// The auto score, when the request asked for `auto`.
    pub fn auto(&self) -> Option<&AutoScore> {
        self.auto.as_ref()
    }

    /// Where this conversation's remembered tier lives: (shared-data key, conversation hash),
    /// for `client` (the configured client header's value). The key is the client and the
    /// conversation's opening up to its first answer, so there is none:
    /// - without `auto`, or with a client-fixed `tier`;
    /// - for a first turn (no assistant message yet): it cannot be told from another
    ///   conversation that opens with the same prompt, so it neither reads nor writes;
    /// - without a client id, unless `sticky.without_client`.
    pub fn sticky_slot(&self, config: &Config, client: Option<&str>) -> Option<(String, u64)> {
        let f = &self.req.features;
        let fixed = self.auto.is_none() || self.req.tier.is_some();
        if fixed || config.sticky.slots == 0 || f.assistant_turns == 0 {
            return None;
        }
        let hash = match client.filter(|c| !c.is_empty()) {
            Some(c) => features::fnv(features::fnv(f.start_hash, &[0xfe]), c.as_bytes()),
            None if config.sticky.without_client => f.start_hash,
            None => return None,
        };
        Some((crate::decide::sticky::slot_key(config, hash), hash))
    }

    /// Chooses model and provider under the caller's policy, the request's needs, live health
    /// and the budget left.
    pub fn route(&self, config: &Config, ctx: &Context<'_>) -> Result<Route, ApiError> {
        self.decide(config, ctx).map_err(|e| named_alias(e, self.alias.as_deref(), &self.req.model))
    }

    fn decide(&self, config: &Config, ctx: &Context<'_>) -> Result<Route, ApiError> {
        let req = &self.req;
        let model = req.model.as_ref();
        let now = ctx.now;
        let policy = request_policy(config, ctx.client, req.provider_policy.as_ref())?;
        let needs = self.needs(config);
        let mut prefer = req.prefer.unwrap_or(config.default_prefer);
        let mut report = None;
        let mut memory = None;
        let mut escalated = None;

        let (selection, mut cands): (Selection, Vec<&Deployment>) = if let Some(auto) = &self.auto {
            let tier = match (req.tier, self.sticky_slot(config, ctx.client)) {
                (Some(fixed), _) => fixed,
                (None, Some((key, hash))) => {
                    let prior = ctx.remembered.and_then(|v| Remembered::decode(v, hash));
                    let (tier, keep) = auto::sticky(auto.tier, prior, now, config.sticky.ttl_secs);
                    // Economy, the floor, raises no later turn: not remembered (it takes a slot).
                    memory = (tier > Tier::Economy).then_some(Memory { key, hash, remembered: keep, now });
                    tier
                }
                (None, None) => auto.tier,
            };
            prefer = if req.prefer.is_none() && auto.code { Prefer::Coding } else { prefer };
            let found = select::for_auto(config, tier, req.tier.is_some(), &needs, &policy, now)?;
            // Sticky: served above its scored tier by memory (a lowered tier may not be).
            let sticky = req.tier.is_none() && tier > auto.tier && found.tier > auto.tier;
            report = Some(AutoReport {
                tier: auto.tier,
                score: auto.score,
                reasons: auto.reasons.clone(),
                sticky,
            });
            escalated = found.escalated;
            (Selection::Auto, found.cands)
        } else if let Some(tier) = Tier::parse(model) {
            if let Some(t) = req.tier.filter(|t| *t != tier) {
                return Err(ApiError::invalid(
                    "tier_conflict",
                    Some("tier"),
                    format!("tier '{t}' contradicts model '{tier}': send one of them"),
                ));
            }
            let found = select::in_tiers(config, tier, &needs, &policy, now)?;
            escalated = found.escalated;
            (Selection::Tier, found.cands)
        } else {
            if !config.catalog.has_model(model) {
                return Err(unknown_model(config, model, &policy, now));
            }
            let pinned_tier = config.catalog.deployments.iter().find(|d| d.id == model).map(|d| d.tier);
            if let Some(t) = req.tier.filter(|t| pinned_tier.is_some_and(|p| p != *t)) {
                return Err(ApiError::invalid(
                    "tier_conflict",
                    Some("tier"),
                    format!(
                        "tier '{t}' contradicts model {}, a model of another tier: send one of them",
                        echo(model)
                    ),
                ));
            }
            (Selection::Pinned, select::pinned(config, model, &needs, &policy, now)?)
        };

        let est = estimate_of(config, req, ctx.budget.map(|_| self.body));
        let live = Liveness::of(config, ctx.live, ctx.now);
        let latency = |d: &Deployment| live.latency(d);
        rank(&mut cands, prefer, &est, &latency);
        // Skip open breakers. Only the first candidate that admits is needed now (fallbacks
        // are admitted again when they are tried), so health records are read in rank order
        // and no further: each read is a call out of the VM.
        // Before breakers (see `refused`): they heal, and a price judged past one open would
        // tell a client its request never fits.
        let least = cheapest(cands.iter().copied(), &est);
        let top = cands.first().copied();
        let mut fail_open = false;
        // The first that admits, and whether it does as a probe.
        let mut first_admitted = None;
        let admitted = cands.iter().enumerate().find_map(|(i, d)| {
            let a = live.admission(d);
            (a != Admit::No).then_some((i, *d, a))
        });
        match admitted {
            Some((first, d, a)) => {
                first_admitted = Some((d, a));
                drop(cands.drain(..first));
            }
            // Every breaker open: fail open (all candidates, as ranked), or refuse.
            None if config.resilience.fail_open => fail_open = !cands.is_empty(),
            None if cands.is_empty() => {}
            None => return Err(all_open(cands.iter().map(|d| live.refuses_for(d)).min().unwrap_or(0))),
        }
        let mut budget = None;
        if let Some(b) = ctx.budget {
            let fits = |d: &Deployment| est.reserve_price(d) <= b.left_usd;
            // A pinned model's other provider that fits is no step down (taken below, if it admits).
            let pinned_fits = selection == Selection::Pinned && cands.iter().any(|d| fits(d));
            if pinned_fits || cands.first().is_some_and(|d| fits(d)) {
                budget = Some("ok".to_string());
            } else if selection == Selection::Pinned || !config.budgets.ladder {
                // Without the ladder the tier's first is what would be sent.
                let first = top.map(|d| est.reserve_price(d));
                let price = if selection == Selection::Pinned { least } else { first };
                return Err(unladdered(b, now, &live, top.filter(|d| fits(d)), price));
            } else {
                // The ladder: a cheaper model of the tier, then each tier down, then free models.
                // Free models are the last step, not part of a tier's.
                let free = |d: &Deployment| d.price_in == 0.0 && d.price_out == 0.0;
                let usable = |d: &&Deployment| {
                    fits(d) && live.admits(d) && select::check(d, &needs, &policy, now).is_ok()
                };
                let from = cands.first().map_or(Tier::Premium, |d| d.tier);
                let mut step: Option<(Vec<&Deployment>, String)> = None;
                // Unread past the first admitted: skip open breakers (unless all are, failing open).
                let same: Vec<&Deployment> = cands
                    .iter()
                    .copied()
                    .filter(|d| fits(d) && !free(d) && (fail_open || live.admits(d)))
                    .collect();
                if !same.is_empty() {
                    step = Some((same, format!("limited:{from}")));
                }
                let mut down = from.down();
                while let (None, Some(t)) = (&step, down) {
                    let c: Vec<&Deployment> = config
                        .catalog
                        .deployments
                        .iter()
                        .filter(|d| d.tier == t && !free(d))
                        .filter(usable)
                        .collect();
                    if !c.is_empty() {
                        step = Some((c, format!("downgraded:{from}->{t}")));
                    }
                    down = t.down();
                }
                if step.is_none() {
                    let c: Vec<&Deployment> =
                        config.catalog.deployments.iter().filter(|d| free(d)).filter(usable).collect();
                    if !c.is_empty() {
                        step = Some((c, "free".to_string()));
                    }
                }
                let Some((mut c, note)) = step else {
                    let carries = |d: &Deployment| select::check(d, &needs, &policy, now).is_ok();
                    return Err(b.refused(now, cheapest_down(config, from, &est, carries)));
                };
                rank(&mut c, prefer, &est, &latency);
                cands = c;
                budget = Some(note);
            }
        }
        let memo = Memo::for_body(ctx.memo, &config.prefix_cache, self.body.len()).map(|m| &m.translations);
        let fits = |d: &Deployment| ctx.budget.is_none_or(|b| est.reserve_price(d) <= b.left_usd);
        let admits = |d: &Deployment| fail_open || live.admits(d);
        let (first, target) = match carried(config, &cands, (req, &needs), self.body, memo, (fits, admits)) {
            Ok(chosen) => chosen,
            // A candidate past the budget might have carried it.
            Err(Carried { unaffordable: true, .. }) if let Some(b) = ctx.budget => {
                return Err(b.refused(now, least));
            }
            Err(Carried { refused: Some(e), .. }) => return Err(e),
            Err(_) => return Err(unknown_model(config, model, &policy, now)),
        };
        cands.drain(..first);
        // Health is read once per candidate: the chosen one is usually the first admitted.
        let probe = !fail_open
            && cands.first().is_some_and(|d| match first_admitted {
                Some((p, a)) if std::ptr::eq(p, *d) => a == Admit::Probe,
                _ => live.admission(d) == Admit::Probe,
            });
        let estimate_usd = cands.first().map_or(0.0, |d| est.reserve_price(d));
        let Some(tier) = cands.first().map(|d| d.tier) else {
            return Err(unknown_model(config, model, &policy, now));
        };
        let all = &config.catalog.deployments;
        // Under a budget a fallback must fit what is left, as the first did: a failover does
        // not spend past the limit.
        let affordable = |d: &&&Deployment| ctx.budget.is_none_or(|b| est.reserve_price(d) <= b.left_usd);
        let at = |d: &&Deployment| all.iter().position(|x| std::ptr::eq(x, *d));
        let fallbacks =
            cands.iter().skip(1).filter(affordable).filter_map(|d| Some(needs.fallback(at(d)?, d))).collect();
        Ok(Route {
            target,
            tier,
            prefer,
            selection,
            stream: req.stream,
            usage_requested: req.usage_requested,
            choices: req.choices.unwrap_or(1).max(1),
            output_cap: req.max_output_tokens,
            reasoning: req.asks_reasoning(),
            structured: req.json_output,
            escalated,
            auto: report,
            alias: self.alias.clone(),
            memory,
            fallbacks,
            layout: req.layout().clone(),
            budget,
            estimate_usd,
            estimate: est,
            fail_open,
            probe,
        })
    }
}

/// What the glue knows about a request besides its body.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// Live provider health (shared data), when the glue has it.
    pub live: Option<&'a dyn Live>,
    /// What is left of the budgets that apply, when any do.
    pub budget: Option<&'a BudgetView>,
    /// The conversation's remembered state, read from [`Analysis::sticky_slot`].
    pub remembered: Option<&'a [u8]>,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// The caller, from the configured client header.
    pub client: Option<&'a str>,
    /// The worker's memo of conversations (`decide::memo`), which the route translates from
    /// when the prefix cache is on and the body is at least its `min_bytes`.
    pub memo: Option<&'a Memo>,
}

/// The caller's policy combined with the request's own, whose provider names must exist.
pub(crate) fn request_policy(
    config: &Config,
    client: Option<&str>,
    own: Option<&Policy>,
) -> Result<Policy, ApiError> {
    let base = config.policy_for(client);
    let Some(own) = own else { return Ok(base.clone()) };
    if let Some(bad) = own.names().find(|n| config.catalog.provider(n).is_none()) {
        let known: Vec<&str> = config.catalog.providers.iter().map(|p| p.name.as_str()).collect();
        return Err(ApiError::invalid(
            "unknown_provider",
            Some("provider"),
            format!("provider {} is not known: use one of {}", echo(bad), known.join(", ")),
        ));
    }
    Ok(base.and(own))
}

/// Routes a chat completions body at time `now` (seconds since the epoch) with no remembered
/// state and no client identity (tests, the CLI).
pub fn route_chat(config: &Config, body: &[u8], now: u64) -> Result<Route, ApiError> {
    analyze(config, body)?.route(config, &Context { now, ..Context::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        ASKS_AUDIO, ASKS_CUSTOM_TOOL, ASKS_FILE, ASKS_JSON_WITH_TOOLS, ASKS_MANY_TOOLS, ASKS_STOP,
    };
    use crate::decide::endpoint::is_messages_api;
    use crate::health::{self, Health};

    /// 2026-11-22, the catalog's reference day.
    const TODAY: u64 = 20_779 * 86_400;

    /// What routing sees of a global limit of 100 USD with `left` USD left.
    /// A catalog model entry: `window` tokens of context, 1,000 of output, `price` USD per
    /// million both ways, `extra` members appended (`,"refuses":[...]`).
    fn entry(id: &str, tier: &str, provider: &str, window: u32, price: u32, extra: &str) -> String {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{provider}","context_window":{window},"max_output":1000,"price_in":{price},"price_out":{price}{extra}}}"#
        )
    }

    fn budget_left(left: f64) -> BudgetView {
        BudgetView {
            left_usd: left,
            scope: "global".into(),
            limit_usd: 100.0,
            resets_at: TODAY,
            held: false,
            smallest: ("global".into(), 100.0),
        }
    }

    fn config() -> Config {
        Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"))
    }

    fn chat(model: &str, extra: &str) -> String {
        format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]{extra}}}"#)
    }

    /// The model a [`chat`] request for `model` is routed to, or its error's status, code and
    /// param.
    fn routed_model(
        cfg: &Config,
        model: &str,
        extra: &str,
    ) -> Result<String, (u16, &'static str, Option<String>)> {
        route_chat(cfg, chat(model, extra).as_bytes(), TODAY)
            .map(|r| r.target.to.model)
            .map_err(|e| (e.status, e.code, e.param))
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("POST", "/v1/chat/completions"), Ok(Endpoint::Chat));
        assert_eq!(endpoint("POST", "/v1/chat/completions?x=1"), Ok(Endpoint::Chat));
        assert_eq!(endpoint("POST", "/v1/responses"), Ok(Endpoint::Responses));
        assert_eq!(
            endpoint("GET", "/v1/responses/resp_1").map_err(|e| (e.status, e.code)),
            Err((404, "not_served"))
        );
        assert_eq!(endpoint("POST", "/v1/responses/input_tokens").map_err(|e| e.status), Err(404));
        assert_eq!(endpoint("GET", "/v1/responses").map_err(|e| e.status), Err(405));
        assert_eq!(endpoint("POST", "/v1/messages?beta=true"), Ok(Endpoint::Messages));
        assert_eq!(endpoint("POST", "/v1/messages/count_tokens?beta=true"), Ok(Endpoint::CountTokens));
        assert_eq!(
            endpoint("GET", "/v1/messages/count_tokens").map_err(|e| (e.status, e.allow)),
            Err((405, Some("POST")))
        );
        assert_eq!(
            endpoint("POST", "/v1/messages/batches").map_err(|e| (e.status, e.code)),
            Err((404, "not_served"))
        );
        assert_eq!(endpoint("POST", "/v1/messagesX"), Ok(Endpoint::NotRouted));
        assert!(is_messages_api("/v1/messages?beta=true") && is_messages_api("/v1/messages/batches"));
        assert!(!is_messages_api("/v1/messagesX") && !is_messages_api("/v1/chat/completions"));
        assert_eq!(endpoint("GET", "/healthz"), Ok(Endpoint::NotRouted));
        assert_eq!(endpoint("POST", "/v1/chat/completions/"), Ok(Endpoint::NotRouted));
        assert_eq!(endpoint("GET", "/v1/chat/completions").map_err(|e| e.status), Err(405));
        assert_eq!(endpoint("GET", "/v1/models/gpt-4.1-mini?x=1"), Ok(Endpoint::Model));
        assert_eq!(endpoint("GET", "/v1/models/"), Ok(Endpoint::NotRouted));
    }

    /// Issue 15: a 405 carried no `Allow` header.
    #[test]
    fn method_not_allowed_says_which_method_is() {
        for (method, path, allow) in [
            ("GET", "/v1/chat/completions", "POST"),
            ("PUT", "/v1/embeddings", "POST"),
            ("POST", "/v1/models", "GET"),
            ("DELETE", "/v1/models/gpt-4.1-mini", "GET"),
        ] {
            let e = endpoint(method, path).err().unwrap_or_else(|| panic!("{method} {path} allowed"));
            assert_eq!((e.status, e.code, e.allow), (405, "method_not_allowed", Some(allow)), "{path}");
        }
    }

    #[test]
    fn model_ids_are_read_from_the_path() {
        assert_eq!(model_id("/v1/models/gpt-4.1-mini").as_deref(), Some("gpt-4.1-mini"));
        assert_eq!(
            model_id("/v1/models/amazon.titan-embed-text-v2%3A0?x").as_deref(),
            Some("amazon.titan-embed-text-v2:0")
        );
        assert_eq!(model_id("/v1/models/a%2Fb%zz").as_deref(), Some("a/b%zz"));
        assert_eq!(model_id("/v1/models"), None);
        assert_eq!(model_id("/v1/models/"), None);
        assert_eq!(model_id("/v1/models/%FF"), None);
    }

    /// The golden routing table (`testdata/routing/builtin_catalog.json`), shared with the
    /// real-Envoy tests and the README. `UPDATE_GOLDEN=1` rewrites its expectations from what
    /// the router does (review the diff: it is the contract).
    #[test]
    fn golden_routing_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/routing/builtin_catalog.json");
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or_default();
        let update = std::env::var_os("UPDATE_GOLDEN").is_some();
        let c = config();
        let cases = doc["cases"].as_array_mut().map(std::mem::take).unwrap_or_default();
        assert!(cases.len() >= 20);
        let mut out = Vec::new();
        for mut case in cases {
            let model = case["model"].as_str().unwrap_or_default().to_string();
            let extra = case["prefer"].as_str().map(|p| format!(r#","prefer":"{p}""#)).unwrap_or_default();
            let r = route_chat(&c, chat(&model, &extra).as_bytes(), TODAY)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            let got = serde_json::json!({
                "expect_model": r.target.to.model,
                "expect_provider": r.target.to.provider,
                "expect_upstream_id": r.target.to.upstream_model,
                "expect_path": r.target.to.path,
                "expect_selection": r.selection.as_str(),
            });
            let body: serde_json::Value = serde_json::from_slice(&r.target.body).unwrap_or_default();
            assert!(body.get("prefer").is_none(), "{case}");
            // Bedrock Converse names the model in the path, every other API in the body.
            if r.target.to.api != crate::catalog::Api::BedrockConverse {
                assert_eq!(body["model"], r.target.to.upstream_model.as_str(), "{case}");
            }
            for (k, v) in got.as_object().into_iter().flatten() {
                if update {
                    case[k] = v.clone();
                } else {
                    assert_eq!(&case[k], v, "{k} of {case}");
                }
            }
            out.push(case);
        }
        if update {
            doc["cases"] = serde_json::Value::Array(out);
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            std::fs::write(path, text + "\n").unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Claude 4.6 and later answer a conversation ending on an assistant turn (a prefill) with
    /// a 400 the client took for the provider's: such a request moves on to the next candidate,
    /// and one pinned to such a model is refused by the router, naming why.
    #[test]
    fn a_prefill_moves_past_the_models_that_refuse_it() {
        let prefill = |model: &str| {
            format!(
                r#"{{"model":"{model}","prefer":"coding","messages":[{{"role":"user","content":"hi"}},{{"role":"assistant","content":"Sure:"}}]}}"#
            )
        };
        for (tier, refused) in [("standard", "claude-sonnet-4-6"), ("premium", "claude-opus-4-7")] {
            let first = route_chat(&config(), chat(tier, r#","prefer":"coding""#).as_bytes(), TODAY);
            assert_eq!(first.map(|r| r.target.to.model).as_deref(), Ok(refused));
            let r = route_chat(&config(), prefill(tier).as_bytes(), TODAY).map(|r| r.target.to.model);
            assert!(
                r.as_ref().is_ok_and(|m| !m.starts_with("claude-") || m == "claude-haiku-4-5"),
                "{tier}: {r:?}"
            );
        }
        let pinned =
            route_chat(&config(), prefill("claude-opus-4-6").as_bytes(), TODAY).map(|r| r.target.to.model);
        let e = pinned.err().unwrap_or_else(|| panic!("a pinned prefill was sent"));
        assert_eq!((e.status, e.code), (400, "unsupported_for_provider"), "{e:?}");
        // A model that takes a prefill still gets it.
        let kept =
            route_chat(&config(), prefill("claude-haiku-4-5").as_bytes(), TODAY).map(|r| r.target.to.model);
        assert_eq!(kept.as_deref(), Ok("claude-haiku-4-5"));
    }

    /// A dotted tool name (an MCP client's) went to Claude, Converse or OpenAI, whose 400 ended
    /// the request: their translations, and OpenAI's catalog entries (`refuses: tool_names`),
    /// refuse it, so a tier moves on to a model that takes it (Gemini's), and a pinned request
    /// gets the router's 400 naming the tool.
    #[test]
    fn a_tool_name_claude_refuses_moves_the_tier_on() {
        let tools = r#","prefer":"coding","tools":[{"type":"function","function":{"name":"github.create_issue","parameters":{"type":"object"}}}]"#;
        for tier in ["standard", "premium"] {
            let first = route_chat(&config(), chat(tier, r#","prefer":"coding""#).as_bytes(), TODAY);
            assert!(first.is_ok_and(|r| r.target.to.model.starts_with("claude-")), "{tier}");
            let r = route_chat(&config(), chat(tier, tools).as_bytes(), TODAY).map(|r| r.target.to);
            let r = r.unwrap_or_else(|e| panic!("{tier}: {e}"));
            let refusing =
                matches!(r.api, crate::catalog::Api::Messages | crate::catalog::Api::BedrockConverse);
            assert!(!refusing && r.provider != "openai", "{tier}: {} {:?}", r.model, r.api);
        }
        let pinned = route_chat(&config(), chat("claude-haiku-4-5", tools).as_bytes(), TODAY);
        let e = pinned.err().map(|e| (e.status, e.param));
        assert_eq!(e, Some((400, Some("tools[0].function.name".into()))));
        let pinned = route_chat(&config(), chat("gpt-4.1", tools).as_bytes(), TODAY);
        let e = pinned.err().map(|e| (e.status, e.code, e.param));
        assert_eq!(e, Some((400, "unsupported_for_model", Some("tools[].function.name".into()))));
        // A name Gemini's API takes none of either (longer than 64, a leading digit): nor
        // Gemini; a dotted one it takes.
        for (name, gemini) in
            [("a".repeat(65), false), ("1tool".to_string(), false), ("a.b:c".to_string(), true)]
        {
            let body = chat(
                "gemini-2.5-flash",
                &format!(r#","tools":[{{"type":"function","function":{{"name":"{name}"}}}}]"#),
            );
            let r = route_chat(&config(), body.as_bytes(), TODAY).map(|r| r.target.to.model);
            assert_eq!(r.is_ok(), gemini, "{name}: {r:?}");
        }
        // A custom tool's name alike.
        let custom =
            chat("o3", r#","tools":[{"type":"custom","custom":{"name":"mcp.github.create_issue"}}]"#);
        let e = route_chat(&config(), custom.as_bytes(), TODAY).err().map(|e| e.code);
        assert_eq!(e, Some("unsupported_for_model"));
        // A plain name goes to OpenAI as before.
        let plain = chat("gpt-4.1", r#","tools":[{"type":"function","function":{"name":"create-issue_2"}}]"#);
        assert!(route_chat(&config(), plain.as_bytes(), TODAY).is_ok());
    }

    /// A hinted effort's thinking is held for a model that reasons (gpt-5.4: 45 times a limit
    /// spent past a 512-token hold), and not for one sent no effort (gpt-4.1: a request its
    /// client left was charged 66,048 tokens of thinking, twice its output limit).
    #[test]
    fn a_hints_thinking_is_held_only_where_it_is_sent() {
        let held = |model: &str, hint: &str| {
            let body = chat(model, &format!(r#","reasoning_effort_hint":"{hint}""#));
            route_chat(&config(), body.as_bytes(), TODAY).map_or(0.0, |r| r.estimate_usd)
        };
        // Models sent no effort: one that does not reason, and ones that reason but whose catalog
        // entry lists no efforts (the hint goes to neither).
        for model in ["gpt-4.1", "zai.glm-5", "deepseek.v3.2"] {
            assert_eq!(held(model, "max"), held(model, "none"), "{model}");
        }
        assert!(held("gpt-5.4", "xhigh") > 20.0 * held("gpt-5.4", "none"), "{}", held("gpt-5.4", "xhigh"));
    }

    /// A request with audio reaches Gemini 2.5 Flash priced at its audio rate ($1.00 against
    /// $0.30 for text), its fallbacks too; one without audio at the text rate.
    #[test]
    fn audio_is_priced_at_the_models_audio_rate() {
        let audio = r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#;
        let r = route_chat(&config(), audio.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let price = r.target.to.price();
        assert_eq!((price.input, price.audio, price.audio_unreported), (0.3, 1.0, true));
        assert!(r.fallbacks.iter().all(|f| f.audio));
        let text = route_chat(&config(), chat("gemini-2.5-flash", "").as_bytes(), TODAY)
            .map(|r| r.target.to.price());
        assert_eq!(text.map(|p| p.audio_unreported).ok(), Some(false));
        // The route holds it at that rate too (the flight charged it so, past what was held),
        // and a client's input price cap reads it.
        let text_only = audio.replace(
            r#"{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}"#,
            r#"{"type":"text","text":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
        );
        let est = |body: &str| route_chat(&config(), body.as_bytes(), TODAY).map_or(0.0, |r| r.estimate_usd);
        assert!(est(audio) > est(&text_only), "{} against {}", est(audio), est(&text_only));
        let capped = audio.replace(
            r#""model":"gemini-2.5-flash","#,
            r#""model":"gemini-2.5-flash","max_price":{"prompt":0.5},"#,
        );
        let e = route_chat(&config(), capped.as_bytes(), TODAY).err().map(|e| e.code);
        assert_eq!(e, Some("no_model_within_max_price"));
    }

    /// More than 100 images went to Claude, whose API takes 100 a request: a tier moves on,
    /// a pinned Claude gets the router's 400.
    #[test]
    fn more_images_than_claude_takes_move_the_tier_on() {
        let image = r#"{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}"#;
        let body = |model: &str, n: usize| {
            let parts = vec![image; n].join(",");
            format!(
                r#"{{"model":"{model}","prefer":"coding","messages":[{{"role":"user","content":[{parts}]}}]}}"#
            )
        };
        let claude =
            |n: usize| route_chat(&config(), body("standard", n).as_bytes(), TODAY).map(|r| r.target.to.api);
        assert_eq!(claude(100).ok(), Some(crate::catalog::Api::Messages));
        let moved = claude(101);
        assert!(moved.as_ref().is_ok_and(|api| *api != crate::catalog::Api::Messages), "{moved:?}");
        let pinned = route_chat(&config(), body("claude-haiku-4-5", 101).as_bytes(), TODAY).err();
        assert_eq!(pinned.map(|e| (e.status, e.code)), Some((400, "unsupported_capability")));
    }

    /// An image over 8,000 pixels on a side (a full-page screenshot) went to Claude and to
    /// Converse, and more than 20 images with one over 2,000 to Claude: their 400 ended the
    /// request, and an agent's every later turn, which resends the image. A tier moves on (its
    /// size read from the image's header), a pinned model gets the router's 400.
    #[test]
    fn image_sizes_claude_and_converse_refuse_move_the_tier_on() {
        let png = |w: u32, h: u32| {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&h.to_be_bytes());
            let b64 = crate::parse::base64::encode(&b);
            format!(r#"{{"type":"image_url","image_url":{{"url":"data:image/png;base64,{b64}"}}}}"#)
        };
        let body = |model: &str, images: &[String]| {
            let parts = images.join(",");
            format!(
                r#"{{"model":"{model}","prefer":"coding","messages":[{{"role":"user","content":[{parts}]}}]}}"#
            )
        };
        let api = |model: &str, images: &[String]| {
            route_chat(&config(), body(model, images).as_bytes(), TODAY).map(|r| r.target.to.api)
        };
        use crate::catalog::Api::{BedrockConverse, Messages};
        assert_eq!(api("standard", &[png(1280, 8000)]).ok(), Some(Messages));
        let moved = api("standard", &[png(1280, 8001)]);
        assert!(moved.as_ref().is_ok_and(|a| *a != Messages && *a != BedrockConverse), "{moved:?}");
        let mut many = vec![png(1200, 2000); 20];
        many.push(png(2000, 800));
        assert_eq!(api("standard", &many).ok(), Some(Messages));
        many.push(png(2001, 800));
        let moved = api("standard", &many);
        assert!(moved.as_ref().is_ok_and(|a| *a != Messages), "{moved:?}");
        // Twenty images, one of them large: Claude takes it.
        assert_eq!(
            api("standard", &[vec![png(640, 480); 19], vec![png(7000, 300)]].concat()).ok(),
            Some(Messages)
        );
        for pinned in ["claude-haiku-4-5", "us.meta.llama4-maverick-17b-instruct-v1:0"] {
            let refused = route_chat(&config(), body(pinned, &[png(9000, 9000)]).as_bytes(), TODAY).err();
            assert_eq!(
                refused.map(|e| (e.status, e.code)),
                Some((400, "unsupported_capability")),
                "{pinned}"
            );
        }
    }

    /// A reasoning effort a model does not take (OpenAI answers `minimal` to a Codex model, or
    /// `low` to gpt-5.1-codex-mini, with a 400 the client took for the provider's) is not sent
    /// to it: a tier moves on, a pinned request gets the router's 400 naming what it takes. A
    /// value the catalog does not know is left to the provider.
    #[test]
    fn a_reasoning_effort_goes_only_to_models_that_take_it() {
        let c = config();
        let route = |model: &str, extra: &str| route_chat(&c, chat(model, extra).as_bytes(), TODAY);
        let refused =
            |model: &str, extra: &str| route(model, extra).err().map(|e| (e.status, e.code, e.param));
        let param = |p: &str| Some((400, "unsupported_for_model", Some(p.to_string())));
        assert_eq!(refused("gpt-oss-120b", r#","reasoning_effort":"none""#), param("reasoning_effort"));
        assert_eq!(
            refused("gpt-oss-120b", r#","reasoning":{"effort":"minimal"}"#),
            param("reasoning.effort")
        );
        assert_eq!(refused("o3", r#","reasoning_effort":"none""#), param("reasoning_effort"));
        let message = route("gpt-5.3-codex", r#","reasoning_effort":"minimal""#).err().map(|e| e.message);
        assert!(message.is_some_and(|m| m.contains("none, low, medium, high, xhigh")));
        // `max` (the spec's highest) is known too: it was sent to o3, whose 400 ended the
        // request where another model of the tier takes it.
        assert_eq!(refused("o3", r#","reasoning_effort":"max""#), param("reasoning_effort"));
        let message = route("gpt-oss-120b", r#","reasoning_effort":"none""#).err().map(|e| e.message);
        assert!(message.is_some_and(|m| m.contains("takes a reasoning effort of low, medium, high only")));
        // `reasoning_effort` is read before `reasoning.effort`, whatever their order; a null
        // member asks nothing.
        for both in [
            r#","reasoning_effort":"none","reasoning":null"#,
            r#","reasoning":{"effort":"none"},"reasoning_effort":null"#,
            r#","reasoning_effort":"none","reasoning":{"summary":"auto"}"#,
            r#","reasoning_effort":"none","reasoning":{"effort":"high"}"#,
        ] {
            assert_eq!(refused("gpt-oss-120b", both).map(|e| e.0), Some(400), "{both}");
        }
        for fine in [
            r#","reasoning_effort":"high""#,
            r#","reasoning_effort":"ultra""#,
            r#","reasoning":{"summary":"auto"}"#,
            r#","reasoning":{"effort":"none"},"reasoning_effort":"high""#,
        ] {
            assert!(route("gpt-oss-120b", fine).is_ok(), "{fine}");
        }
        // Every tier and preference: the model a request for each effort goes to takes it.
        for tier in ["economy", "standard", "premium"] {
            for prefer in ["cheap", "fast", "balanced", "quality", "coding"] {
                for effort in crate::catalog::EFFORTS {
                    let extra = format!(r#","prefer":"{prefer}","reasoning_effort":"{effort}""#);
                    let r = route(tier, &extra).unwrap_or_else(|e| panic!("{tier} {extra}: {e}"));
                    let mask = r.target.to.native().quirks.efforts;
                    let bit = crate::catalog::effort_bit(effort).unwrap_or_default();
                    assert!(mask == 0 || mask & bit != 0, "{tier} {extra}: {}", r.target.to.model);
                }
            }
        }
    }

    /// `none` asks for no reasoning, which a model that does not reason gives too: pinned to
    /// one (Codex always sends an effort), it is served without the member, which OpenAI's
    /// non-reasoning models refuse (it was the router's 400); an effort that asks for reasoning
    /// still needs a model that reasons.
    #[test]
    fn an_effort_of_none_reaches_models_that_do_not_reason_without_the_member() {
        let c = config();
        let route = |model: &str, extra: &str| route_chat(&c, chat(model, extra).as_bytes(), TODAY);
        for model in [
            "gpt-4.1-mini",
            "meta-llama/llama-4-scout-17b-16e-instruct",
            "us.meta.llama4-scout-17b-instruct-v1:0",
        ] {
            for extra in [
                r#","reasoning_effort":"none""#,
                r#","reasoning":{"effort":"none"}"#,
                r#","reasoning":{"effort":"none","summary":"auto"},"stream":true"#,
            ] {
                let r = route(model, extra).unwrap_or_else(|e| panic!("{model} {extra}: {e}"));
                let body: serde_json::Value = serde_json::from_slice(&r.target.body).unwrap_or_default();
                assert!(body.get("reasoning_effort").is_none() && body.get("reasoning").is_none(), "{body}");
                assert!(!r.reasoning, "{model} {extra}");
            }
            assert!(route(model, r#","reasoning_effort":"low""#).is_err(), "{model}");
        }
        // A model that reasons and can stop gets it as it came.
        let r = route("gpt-5.4", r#","reasoning_effort":"none""#).unwrap_or_else(|e| panic!("{e}"));
        let body: serde_json::Value = serde_json::from_slice(&r.target.body).unwrap_or_default();
        assert_eq!(body["reasoning_effort"], "none", "{body}");
    }

    #[test]
    fn default_prefer_is_balanced() {
        let r = route_chat(&config(), chat("economy", "").as_bytes(), TODAY);
        assert_eq!(
            r.map(|r| (r.target.to.model, r.prefer)),
            Ok(("gemini-2.5-flash".into(), Prefer::Balanced))
        );
    }

    #[test]
    fn pinned_model_routes_directly() {
        let r = route_chat(&config(), chat("gpt-4.1", r#","prefer":"cheap""#).as_bytes(), TODAY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.target.to.model.as_str(), r.target.to.provider.as_str(), r.selection),
            ("gpt-4.1", "openai", Selection::Pinned)
        );
        // An OpenAI-compatible provider gets the client's bytes, the router's members cut.
        assert_eq!(
            String::from_utf8_lossy(&r.target.body),
            r#"{"model":"gpt-4.1","messages":[{"role":"user","content":"hello"}]}"#
        );
    }

    /// Issue 17: models of the native protocols are routed, translated, to their own paths.
    #[test]
    fn pinned_native_models_are_translated_for_their_api() {
        let cases = [
            ("claude-opus-4-7", "anthropic", "/v1/messages", "max_tokens"),
            ("deepseek.v3.2", "aws-bedrock-runtime", "/model/deepseek.v3.2/converse", "messages"),
            ("gpt-5.3-codex", "openai", "/v1/responses", "input"),
            (
                "us.meta.llama4-scout-17b-instruct-v1:0",
                "aws-bedrock-runtime",
                "/model/us.meta.llama4-scout-17b-instruct-v1%3A0/converse",
                "messages",
            ),
        ];
        for (model, provider, path, member) in cases {
            let r = route_chat(&config(), chat(model, "").as_bytes(), TODAY)
                .unwrap_or_else(|e| panic!("{model}: {e}"));
            assert_eq!(
                (r.target.to.provider.as_str(), r.target.to.path.as_str()),
                (provider, path),
                "{model}"
            );
            let body: serde_json::Value = serde_json::from_slice(&r.target.body).unwrap_or_default();
            assert!(body.get(member).is_some() && body.get("prefer").is_none(), "{model}: {body}");
        }
        let stream = route_chat(&config(), chat("deepseek.v3.2", r#","stream":true"#).as_bytes(), TODAY);
        assert_eq!(stream.map(|r| r.target.to.path), Ok("/model/deepseek.v3.2/converse-stream".to_string()));
        // Anthropic's native API takes the key as x-api-key.
        let r = route_chat(&config(), chat("claude-opus-4-7", "").as_bytes(), TODAY);
        let auth = r.ok().and_then(|r| r.target.to.auth).map(|a| (a.header, a.prefix));
        assert_eq!(auth, Some(("x-api-key".to_string(), String::new())));
    }

    /// A request one API cannot carry goes to a candidate whose API can, and is refused only
    /// when none can: a remote image is no request for Bedrock, which cannot fetch it.
    #[test]
    fn a_request_one_protocol_refuses_goes_to_a_candidate_that_takes_it() {
        let image = r#"{"model":"economy","prefer":"cheap","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#;
        let r = with(b"", image, None).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(r.target.to.provider, "aws-bedrock-runtime");
        let only_bedrock = br#"{"clients":{},"blocked_providers":["google-gemini","openai","anthropic","xai","aws-bedrock","groq","cerebras"]}"#;
        let e = with(only_bedrock, image, None).err().map(|e| (e.status, e.param));
        assert_eq!(e, Some((400, Some("messages[0].content[1].image_url.url".to_string()))));
    }

    /// A candidate past the first that admitted is sent the request only if its breaker admits
    /// it too: when the first could not carry the request (a remote image for Converse), the
    /// next, its breaker open, was sent it all the same.
    #[test]
    fn a_candidate_carried_past_the_first_is_one_whose_breaker_admits() {
        let m = |p: &str, price: u32, api: &str| {
            entry("m", "economy", p, 100_000, price, &format!(r#","api":"{api}","vision":true"#))
        };
        let json = format!(
            r#"{{"catalog":{{"providers":{{"b":{{}},"c":{{}},"d":{{}}}},"models":[{},{},{},{},{}]}}}}"#,
            m("b", 1, "bedrock-converse"),
            m("c", 2, "chat"),
            m("d", 3, "chat"),
            entry("s", "standard", "c", 100_000, 4, ""),
            entry("p", "premium", "c", 100_000, 5, ""),
        );
        let c = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let image = r#"{"model":"m","prefer":"cheap","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#;
        let route = |live: &Fixed| {
            let ctx = Context { now: TODAY, live: Some(live), ..Context::default() };
            analyze(&c, image.as_bytes()).and_then(|a| a.route(&c, &ctx)).unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(route(&Fixed(Vec::new())).target.to.provider, "c");
        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let r = route(&Fixed(vec![(health::provider_key("c"), open)]));
        assert_eq!((r.target.to.provider.as_str(), r.probe), ("d", false));
    }

    /// Groq answers `logprobs`, `top_logprobs`, `logit_bias`, a message's `name` and `n` above 1
    /// with a 400 (its compatibility page), which reached the client though another provider of
    /// the model could answer: such a request goes to one, and one only Groq could carry is
    /// refused naming the field.
    #[test]
    fn what_groq_refuses_goes_to_another_provider() {
        let m = |p: &str, tier: &str, price, refuses: &str| {
            entry(&format!("m-{tier}"), tier, p, 100_000, price, refuses)
        };
        let groq = r#","refuses":["logprobs","logit_bias","name","n"]"#;
        let cfg_refusing = |blocked: &str, refuses: &str| {
            format!(
                r#"{{"blocked_providers":[{blocked}],"catalog":{{"providers":{{"g":{{}},"h":{{}}}},"models":[{},{},{},{}]}}}}"#,
                m("g", "economy", 1, refuses),
                m("h", "economy", 2, ""),
                m("h", "standard", 3, ""),
                m("h", "premium", 4, ""),
            )
        };
        let cfg = |blocked: &str| cfg_refusing(blocked, groq);
        let ask = |extra: &str, name: &str| {
            format!(
                r#"{{"model":"m-economy","prefer":"cheap"{extra},"messages":[{{"role":"user"{name},"content":"hello"}}]}}"#
            )
        };
        for (body, field) in [
            (ask(r#","logprobs":true"#, ""), "logprobs"),
            (ask(r#","top_logprobs":2"#, ""), "top_logprobs"),
            (ask(r#","logit_bias":{"12":5}"#, ""), "logit_bias"),
            (ask(r#","n":2"#, ""), "n"),
            (ask("", r#","name":"ann""#), "messages[].name"),
        ] {
            let r = with(cfg("").as_bytes(), &body, None).unwrap_or_else(|e| panic!("{field}: {e}"));
            assert_eq!(r.target.to.provider, "h", "{field}");
            let e = with(cfg(r#""h""#).as_bytes(), &body, None).err();
            assert_eq!(
                e.map(|e| (e.status, e.code, e.param)),
                Some((400, "unsupported_for_model", Some(field.to_string()))),
                "{field}"
            );
        }
        // A catalog written before logit_bias had its own entry keeps it from Groq.
        let old = r#","refuses":["logprobs","name","n"]"#;
        let r = with(cfg_refusing("", old).as_bytes(), &ask(r#","logit_bias":{"12":5}"#, ""), None);
        assert_eq!(r.map(|r| r.target.to.provider).ok().as_deref(), Some("h"));
        // What asks nothing goes to the cheaper one.
        let quiet = ask(r#","logprobs":false,"top_logprobs":0,"n":1,"logit_bias":{}"#, r#","name":null"#);
        let r = with(cfg("").as_bytes(), &quiet, None);
        assert_eq!(r.map(|r| r.target.to.provider).ok().as_deref(), Some("g"));
        // Penalties (Cerebras and Gemini refuse them; Groq takes them): a provider refusing
        // them alone still takes log probabilities.
        let penalties = r#","refuses":["penalties"]"#;
        for (extra, field, to) in [
            (r#","presence_penalty":0.5"#, "presence_penalty", "h"),
            (r#","frequency_penalty":-1"#, "frequency_penalty", "h"),
            (r#","presence_penalty":0,"frequency_penalty":0"#, "", "g"),
            (r#","logprobs":true"#, "", "g"),
        ] {
            let r = with(cfg_refusing("", penalties).as_bytes(), &ask(extra, ""), None);
            assert_eq!(r.map(|r| r.target.to.provider).ok().as_deref(), Some(to), "{extra}");
            if !field.is_empty() {
                let e = with(cfg_refusing(r#""h""#, penalties).as_bytes(), &ask(extra, ""), None).err();
                assert_eq!(e.and_then(|e| e.param).as_deref(), Some(field), "{extra}");
            }
        }
        // The built-in catalog marks every Groq model so, and Cerebras's and Gemini's with
        // what their compatibility pages say they refuse (Groq and Cerebras audio and file
        // parts too: 64 + 128; Groq system and tool contents of parts: 16384; Gemini odd tool
        // names, token biases and log probabilities: 512 + 8 + 1), and every chat model web
        // search (1024) and, off OpenAI, custom tools (2048).
        let c = config();
        let of = |p: &str| -> Vec<u16> {
            c.catalog.deployments.iter().filter(|d| d.provider == p).map(|d| d.quirks.refuses).collect()
        };
        for (provider, mask) in [
            ("groq", 15 + 192 + 3072 + 16384),
            ("cerebras", 24 + 192 + 3072),
            ("google-gemini", 25 + 512 + 3072),
        ] {
            let on = of(provider);
            assert!(
                !on.is_empty() && on.iter().all(|r| *r & !ASKS_JSON_WITH_TOOLS == mask),
                "{provider}: {on:?}"
            );
        }
        // A system or tool message of text parts (a Messages client's system prompt, its
        // cache marks dropped on the chat APIs) reaches Groq as one string; one holding
        // another part goes to no Groq model; a user's parts go as they are.
        let scout = "meta-llama/llama-4-scout-17b-16e-instruct";
        let sent = |messages: &str| {
            let body = format!(r#"{{"model":"{scout}","messages":{messages}}}"#);
            route_chat(&c, body.as_bytes(), TODAY)
                .map(|r| String::from_utf8_lossy(&r.target.body).into_owned())
                .map_err(|e| e.param)
        };
        let parts = r#"[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}},{"type":"text","text":"\"and\" kind"}]"#;
        let one = r#""content":"be brief\n\n\"and\" kind""#;
        let call = r#"{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}"#;
        for listed in [
            format!(r#"[{{"role":"system","content":{parts}}},{{"role":"user","content":"hi"}}]"#),
            format!(
                r#"[{{"role":"user","content":"hi"}},{call},{{"role":"tool","tool_call_id":"c","content":{parts}}}]"#
            ),
        ] {
            let body = sent(&listed);
            assert!(
                body.as_ref().is_ok_and(|b| b.contains(one) && !b.contains("cache_control")),
                "{listed}: {body:?}"
            );
        }
        let image =
            r#"[{"type":"text","text":"shot:"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]"#;
        let listed = format!(
            r#"[{{"role":"user","content":"hi"}},{call},{{"role":"tool","tool_call_id":"c","content":{image}}}]"#
        );
        assert_eq!(sent(&listed), Err(Some("messages[].content".into())), "{listed}");
        let user =
            format!(r#"[{{"role":"system","content":"be brief"}},{{"role":"user","content":{parts}}}]"#);
        assert!(sent(&user).is_ok_and(|b| b.contains(r#""content":[{"type":"text","text":"be brief""#)));
    }

    /// `web_search_options` reached Gemini, Groq and OpenAI's non-search models, whose 400
    /// ended the request (Gemini: 'Unknown name "web_search_options"'): no model here searches
    /// over the chat API, so it is the router's 400 naming it, on a tier or a pin; `null` asks
    /// nothing. Token biases go to no Gemini or Qwen model, whose vocabularies differ.
    #[test]
    fn web_search_and_foreign_token_biases_are_refused_not_forwarded() {
        let c = config();
        let refused = Err((400, "unsupported_for_model", Some("web_search_options".to_string())));
        for model in ["economy", "premium", "auto", "gpt-4.1", "gemini-2.5-flash"] {
            let e = routed_model(&c, model, r#","web_search_options":{}"#).map_err(|(s, _, p)| (s, p));
            assert_eq!(e, refused.clone().map_err(|(s, _, p)| (s, p)), "{model}");
        }
        assert!(routed_model(&c, "economy", r#","web_search_options":null"#).is_ok());
        for model in ["gemini-2.5-flash", "qwen.qwen3-32b-v1:0"] {
            let e = routed_model(&c, model, r#","logit_bias":{"1234":-100}"#).map_err(|(s, _, p)| (s, p));
            assert_eq!(e, Err((400, Some("logit_bias".to_string()))), "{model}");
        }
        assert_eq!(
            routed_model(&c, "gpt-4.1", r#","logit_bias":{"1234":-100}"#).ok().as_deref(),
            Some("gpt-4.1")
        );
    }

    /// Tools a chat API refuses go to one that takes them, and pinned are the router's 400
    /// naming them: JSON output beside tools on Gemini 2.5 (the OpenAI Agents SDK's output type
    /// with tools landed there, and Gemini's 400 ended it), more than 128 functions on OpenAI's
    /// chat API, a free-form `custom` tool off OpenAI (Groq was sent one as it came).
    #[test]
    fn tools_a_chat_api_refuses_go_to_one_that_takes_them() {
        let c = config();
        let function =
            |i: usize| format!(r#"{{"type":"function","function":{{"name":"f{i}","parameters":{{}}}}}}"#);
        let tools =
            |n: usize| format!(r#","tools":[{}]"#, (0..n).map(function).collect::<Vec<_>>().join(","));
        let schema = r#","response_format":{"type":"json_schema","json_schema":{"name":"x","strict":true,"schema":{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}}}"#;
        let json_tools = format!("{}{schema}", tools(1));
        let custom =
            r#","tools":[{"type":"custom","custom":{"name":"apply_patch","format":{"type":"text"}}}]"#;
        let many = tools(129);
        for (extra, pinned, param, bit) in [
            (json_tools.as_str(), "gemini-2.5-flash", "response_format", ASKS_JSON_WITH_TOOLS),
            (json_tools.as_str(), "gemini-2.5-pro", "response_format", ASKS_JSON_WITH_TOOLS),
            (many.as_str(), "gpt-4.1-mini", "tools", ASKS_MANY_TOOLS),
            (custom, "meta-llama/llama-4-scout-17b-16e-instruct", "tools[].type", ASKS_CUSTOM_TOOL),
            (custom, "gemini-2.5-flash", "tools[].type", ASKS_CUSTOM_TOOL),
        ] {
            let e = routed_model(&c, pinned, extra);
            assert_eq!(e, Err((400, "unsupported_for_model", Some(param.to_string()))), "{pinned} {param}");
            for tier in ["economy", "standard", "premium", "auto"] {
                for prefer in ["cheap", "balanced", "quality", "coding"] {
                    let asked = format!(r#"{extra},"prefer":"{prefer}""#);
                    let r = route_chat(&c, chat(tier, &asked).as_bytes(), TODAY);
                    let r = r.unwrap_or_else(|e| panic!("{tier} {prefer} {param}: {e:?}"));
                    let refuses = r.target.to.native().quirks.refuses;
                    assert_eq!(refuses & bit, 0, "{tier} {prefer} {param}: {}", r.target.to.model);
                }
            }
        }
        // Apart, each goes where it went.
        assert_eq!(routed_model(&c, "gemini-2.5-flash", &tools(1)).as_deref(), Ok("gemini-2.5-flash"));
        assert_eq!(routed_model(&c, "gemini-2.5-flash", schema).as_deref(), Ok("gemini-2.5-flash"));
        assert_eq!(routed_model(&c, "gpt-4.1-mini", &tools(128)).as_deref(), Ok("gpt-4.1-mini"));
        assert_eq!(routed_model(&c, "gpt-4.1-mini", custom).as_deref(), Ok("gpt-4.1-mini"));
    }

    /// Members beside the conversation past 1 MiB are not decoded for a translation (an 8 MB
    /// list of numbers in an unknown member took a worker's VM to 209 MB on its way to Claude,
    /// and a larger one trapped it): pinned to a translated model, a 413 naming the member; a
    /// tier goes to a model the body reaches as it is.
    #[test]
    fn members_too_large_to_translate_go_where_the_body_goes_as_it_is() {
        let c = config();
        let numbers = format!(r#","zzz":[{}]"#, vec!["1"; 600_000].join(","));
        for pinned in ["claude-haiku-4-5", "us.meta.llama4-scout-17b-instruct-v1:0"] {
            let e = routed_model(&c, pinned, &numbers).err();
            assert_eq!(e, Some((413, "request_too_large", Some("zzz".to_string()))), "{pinned}");
        }
        let to = routed_model(&c, "economy", &format!(r#"{numbers},"prefer":"cheap""#));
        let api = |id: &str| c.catalog.deployments.iter().find(|d| d.id == id).map(|d| d.api);
        assert_eq!(to.as_deref().ok().and_then(api), Some(crate::catalog::Api::Chat), "{to:?}");
        assert!(routed_model(&c, "claude-haiku-4-5", r#","zzz":[1,2,3]"#).is_ok());
    }

    /// Audio and file parts reach only a model whose API takes them: Groq, Cerebras, xAI and
    /// Bedrock's chat API take neither, OpenAI's chat API audio only on its audio models.
    /// Pinned to one that refuses, the router says so naming the part; a tier goes on to one
    /// that takes it (Gemini hears audio; Claude reads a PDF as a document).
    #[test]
    fn audio_and_file_parts_go_to_a_model_that_takes_them() {
        let cfg = config();
        let with = |model: &str, part: &str, extra: &str| {
            let body = format!(
                r#"{{"model":"{model}","messages":[{{"role":"user","content":[{{"type":"text","text":"what is in it"}},{part}]}}]{extra}}}"#
            );
            route_chat(&cfg, body.as_bytes(), TODAY)
                .map(|r| (r.target.to.provider, r.target.to.model))
                .map_err(|e| (e.status, e.code, e.param))
        };
        let audio = r#"{"type":"input_audio","input_audio":{"data":"UklGRiQAAABXQVZF","format":"wav"}}"#;
        let pdf = r#"{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}"#;
        let refused = |param: &str| Err((400, "unsupported_for_model", Some(param.to_string())));
        assert_eq!(
            with("meta-llama/llama-4-scout-17b-16e-instruct", pdf, ""),
            refused("messages[].content[].file")
        );
        assert_eq!(with("gpt-4.1", audio, ""), refused("messages[].content[].input_audio"));
        assert!(with("gpt-4.1", pdf, "").is_ok());
        let refusing = |provider: &str, model: &str, part: &str| {
            cfg.catalog.deployments.iter().any(|d| {
                d.provider == provider
                    && d.id == model
                    && d.quirks.refuses & if part == audio { ASKS_AUDIO } else { ASKS_FILE } != 0
            })
        };
        for part in [audio, pdf] {
            for tier in ["economy", "standard", "premium"] {
                for prefer in ["cheap", "fast", "balanced", "quality", "coding"] {
                    let extra = format!(r#","prefer":"{prefer}""#);
                    let (provider, model) =
                        with(tier, part, &extra).unwrap_or_else(|e| panic!("{tier} {prefer}: {e:?}"));
                    assert!(!refusing(&provider, &model, part), "{tier} {prefer}: {provider} {model}");
                }
            }
        }
    }

    /// OpenAI's reasoning models answer `stop` with a 400 ("Unsupported parameter: 'stop' is
    /// not supported with this model"), which LangChain's and crewAI's ReAct agents send on
    /// every call: pinned, the router refuses it naming `stop`; a tier goes to a model that
    /// takes it (Claude as `stop_sequences`). A null `stop` asks nothing.
    #[test]
    fn stop_sequences_go_to_a_model_that_takes_them() {
        let cfg = config();
        let routed = |model: &str, extra: &str| routed_model(&cfg, model, extra);
        let stop = r#","stop":["\nObservation:"]"#;
        for model in ["o3", "gpt-5.4", "gpt-5.3-codex"] {
            assert_eq!(
                routed(model, stop),
                Err((400, "unsupported_for_model", Some("stop".into()))),
                "{model}"
            );
            // Null or empty asks for no sequence (the Responses translation leaves it out).
            for none in [r#","stop":null"#, r#","stop":[]"#, r#","stop":"""#, r#","stop":[ ]"#] {
                assert_eq!(routed(model, none), Ok(model.to_string()), "{model} {none}");
            }
        }
        assert_eq!(routed("gpt-4.1", stop), Ok("gpt-4.1".into()));
        assert_eq!(routed("claude-opus-4-7", r#","stop":"END""#), Ok("claude-opus-4-7".into()));
        let refusing =
            |m: &str| cfg.catalog.deployments.iter().any(|d| d.id == m && d.quirks.refuses & ASKS_STOP != 0);
        for tier in ["economy", "standard", "premium"] {
            for prefer in ["cheap", "balanced", "quality", "coding"] {
                let extra = format!(r#"{stop},"prefer":"{prefer}""#);
                let model = routed(tier, &extra).unwrap_or_else(|e| panic!("{tier} {prefer}: {e:?}"));
                assert!(!refusing(&model), "{tier} {prefer}: {model}");
            }
        }
        assert!(refusing("o3") && !refusing("gpt-4.1"));
    }

    /// OpenRouter's `reasoning` object holding more than an effort (`max_tokens`, `enabled`,
    /// `exclude`) went on to a chat provider, which answered its own 400 ("Unrecognized request
    /// argument supplied: reasoning"; Gemini "Unknown name"), never failed over. Every API the
    /// router speaks refuses it now, naming the member; its effort alone still goes.
    #[test]
    fn a_reasoning_object_no_api_takes_is_refused_naming_its_member() {
        let cfg = config();
        let routed = |model: &str, extra: &str| routed_model(&cfg, model, extra);
        for (extra, param) in [
            (r#","reasoning":{"max_tokens":2000}"#, "reasoning.max_tokens"),
            (r#","reasoning":{"enabled":true}"#, "reasoning.enabled"),
            (r#","reasoning":{"effort":"high","exclude":true}"#, "reasoning.exclude"),
        ] {
            for model in
                ["gemini-2.5-flash", "gpt-5.4", "gpt-oss-120b", "claude-sonnet-4-6", "auto", "premium"]
            {
                // Claude's translation says `unsupported_for_provider`, the others
                // `unsupported_parameter`.
                let got = routed(model, extra).map_err(|(status, _, p)| (status, p));
                assert_eq!(got, Err((400, Some(param.to_string()))), "{model} {extra}");
                // Named once, quoted once (it said ''reasoning.max_tokens'').
                let message = route_chat(&cfg, chat(model, extra).as_bytes(), TODAY).err().map(|e| e.message);
                assert!(message.as_deref().is_some_and(|m| !m.contains("''")), "{model}: {message:?}");
            }
        }
        assert_eq!(
            routed("gpt-5.4", r#","reasoning":{"effort":"high","exclude":false}"#),
            Ok("gpt-5.4".into())
        );
    }

    /// Reasoning models that take only their default sampling (OpenAI's o3 and GPT-5.4, Claude
    /// Opus 4.7) answered a tuned request with a 400, and OpenAI's answered `max_tokens` with
    /// one: a tuned request goes to a candidate that takes it, a pinned one is refused naming
    /// the member, and `max_tokens` reaches OpenAI's as `max_completion_tokens`.
    #[test]
    fn models_of_fixed_sampling_get_no_tuning_and_their_own_output_cap() {
        let body = |model: &str, extra: &str| {
            let r = route_chat(&config(), chat(model, extra).as_bytes(), TODAY);
            r.map(|r| (r.target.to.model, String::from_utf8_lossy(&r.target.body).into_owned()))
                .map_err(|e| (e.status, e.code, e.param))
        };
        for (model, tuned) in [
            ("o3", r#","temperature":0.2"#),
            ("gpt-5.4", r#","top_p":0.9,"reasoning_effort":"low""#),
            ("gpt-5.4", r#","logit_bias":{"12":5}"#),
            ("gpt-5.4", r#","temperature":0.2,"reasoning_effort_hint":"high""#),
            ("gpt-5.3-codex", r#","frequency_penalty":0.5"#),
            ("claude-opus-4-7", r#","temperature":0"#),
        ] {
            let field = tuned.split('"').nth(1).map(str::to_string);
            assert_eq!(body(model, tuned).err(), Some((400, "unsupported_for_model", field)), "{model}");
        }
        // Defaults are no tuning; Opus 4.7 and the codex models refuse even those members, so
        // they are left out of what those get.
        let defaults =
            r#","temperature":1,"top_p":1.0,"presence_penalty":0,"logit_bias":{},"logprobs":false"#;
        assert!(body("o3", defaults).is_ok());
        for model in ["claude-opus-4-7", "gpt-5.3-codex"] {
            let sent = body(model, r#","temperature":1,"top_p":1"#).map(|(_, b)| b).unwrap_or_default();
            assert!(sent.contains("messages") || sent.contains("input"), "{model}: {sent}");
            assert!(!sent.contains("temperature") && !sent.contains("top_p"), "{model}: {sent}");
        }
        // GPT-5.4 thinks only when asked (effort `none`, its default), and then samples as
        // asked: temperature, top_p, log probabilities (not a penalty, above); also where a
        // hint goes unsent beside tools (its chat API refuses an effort there).
        let tools =
            r#","tools":[{"type":"function","function":{"name":"f"}}],"reasoning_effort_hint":"high""#;
        for tuned in [
            r#","temperature":0.2"#.to_string(),
            r#","top_p":0.5,"logprobs":true,"top_logprobs":2,"reasoning_effort":"none""#.into(),
            format!(r#","temperature":0.3{tools}"#),
        ] {
            let sent = body("gpt-5.4", &tuned).map(|(_, b)| b);
            assert!(sent.as_ref().is_ok_and(|b| b.contains(&tuned[..12])), "{tuned}: {sent:?}");
        }
        // Refused, a model that samples where it does not think says so; o3, which always
        // thinks, and a penalty, never taken, do not.
        let said = |model: &str, extra: &str| {
            route_chat(&config(), chat(model, extra).as_bytes(), TODAY).err().map(|e| e.message)
        };
        let none = "unless it does not think (reasoning_effort none)";
        assert!(
            said("gpt-5.4", r#","temperature":0.2,"reasoning_effort":"low""#)
                .is_some_and(|m| m.contains(none))
        );
        assert!(said("gpt-5.4", r#","presence_penalty":1"#).is_some_and(|m| !m.contains(none)));
        assert!(said("o3", r#","temperature":0.2"#).is_some_and(|m| !m.contains(none)));
        let o3 = |extra: &str| body("o3", extra).map(|(_, b)| b);
        assert_eq!(
            o3(r#","max_tokens":50"#),
            Ok(r#"{"model":"o3","messages":[{"role":"user","content":"hello"}],"max_completion_tokens":50}"#
                .into())
        );
        assert_eq!(
            o3(r#", "max\u005ftokens" : 50,"n":1"#),
            Ok(r#"{"model":"o3","messages":[{"role":"user","content":"hello"}], "max_completion_tokens" : 50,"n":1}"#.into())
        );
        // A null `max_completion_tokens` caps nothing: `max_tokens` stays the cap, renamed.
        assert_eq!(
            o3(r#","max_tokens":50,"max_completion_tokens":null"#),
            Ok(r#"{"model":"o3","messages":[{"role":"user","content":"hello"}],"max_completion_tokens":50}"#
                .into())
        );
        // With both, the client's `max_completion_tokens` is the one that counts.
        assert_eq!(
            o3(r#","max_tokens":50,"max_completion_tokens":70"#),
            Ok(r#"{"model":"o3","messages":[{"role":"user","content":"hello"}],"max_completion_tokens":70}"#
                .into())
        );
        let gpt41 = body("gpt-4.1", r#","max_tokens":50,"temperature":0.2"#).map(|(_, b)| b);
        assert!(gpt41.is_ok_and(|b| b.contains(r#""max_tokens":50,"temperature":0.2"#)));
        // A tier passes them over: premium for code ranks Opus 4.7 first.
        let coding = |extra: &str| body("premium", &format!(r#","prefer":"coding"{extra}"#)).map(|(m, _)| m);
        assert_eq!(coding(""), Ok("claude-opus-4-7".into()));
        let tuned = coding(r#","temperature":0.2"#).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(!["claude-opus-4-7", "gpt-5.4"].contains(&tuned.as_str()), "{tuned}");
    }

    /// A prompt past a model's long-context threshold is estimated, and held to `max_price`, at
    /// its long-context rates (Gemini 2.5 Pro: 2.50/15 above 200,000 tokens, not 1.25/10).
    #[test]
    fn a_long_prompt_is_estimated_at_the_long_context_rates() {
        let text = "word ".repeat(250_000); // 1.25 MB: about 312,500 tokens estimated
        let route = |extra: &str| {
            let body = chat("gemini-2.5-pro", extra).replace("hello", &text);
            route_chat(&config(), body.as_bytes(), TODAY).map(|r| r.estimate_usd).map_err(|e| e.code)
        };
        let input = (text.len() as f64 / 4.0).ceil() + 4.0;
        // Its output: the default 512 tokens and the thinking it does unasked (medium's).
        let want = (input * 2.5 + (512.0 + 8_192.0) * 15.0) / 1e6;
        let got = route("").unwrap_or_else(|e| panic!("{e}"));
        assert!((got - want).abs() < 1e-9, "{got} against {want}");
        // Within the flat rate's ceiling, not within the long one's.
        assert_eq!(route(r#","max_price":{"prompt":2}"#).err(), Some("no_model_within_max_price"));
        let short =
            route_chat(&config(), chat("gemini-2.5-pro", r#","max_price":{"prompt":2}"#).as_bytes(), TODAY);
        assert!(short.is_ok());
    }

    /// Text outside ASCII is held by its characters' UTF-8 length, four-byte ones at a token a
    /// byte (a tokenizer's byte fallback), beyond the estimate's quarter: 100,000 hieroglyphs
    /// (400 KB) were billed 400,004 tokens where a quarter was held, and eight at once spent 3.6
    /// times a limit. Cyrillic holds a token a character, CJK two. A `\u` escape holds two.
    /// Without a budget nothing is held, and the estimate is as before.
    #[test]
    fn text_outside_ascii_is_held_at_a_token_a_byte() {
        let c = Config::from_json(br#"{"budgets":{"daily_usd":100}}"#).unwrap_or_else(|e| panic!("{e}"));
        let held = |text: &str, budget: bool| {
            let body = format!(
                r#"{{"model":"gpt-4.1","max_tokens":1,"messages":[{{"role":"user","content":"{text}"}}]}}"#
            );
            let view = budget_left(100.0);
            let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let ctx = Context { now: TODAY, budget: budget.then_some(&view), ..Context::default() };
            a.route(&c, &ctx).map_or(0.0, |r| r.estimate_usd)
        };
        let ascii = "a".repeat(400_000);
        let hieroglyphs = "\u{13000}".repeat(100_000);
        let escaped = "\\ud80c\\udc00".repeat(100_000);
        let ratio = held(&hieroglyphs, true) / held(&ascii, true);
        assert!((3.9..4.1).contains(&ratio), "{ratio}");
        assert!(held(&escaped, true) >= held(&hieroglyphs, true));
        let wide = crate::parse::chat::wide_tokens;
        // A character each: Cyrillic (2 bytes, counted a half) one token, CJK (3) two.
        assert_eq!((wide("яя".as_bytes()), wide("中中".as_bytes())), (1, 3));
        // Escapes of ASCII (Go writes `<` so) and escaped backslashes before a `u` hold nothing.
        assert_eq!(wide(br#"\u003c \\usepackage \u00e9 \\\u4e2d"#), 4);
        assert_eq!(held(&hieroglyphs, false), held(&ascii, false));
    }

    /// With `budgets.reserve_max_output`, a request without an output cap reserves its model's
    /// whole output (Claude Opus 4.7 may write 128,000 tokens, and the router asks Anthropic
    /// for that much when the client sets none), so a limit holds however long the answers:
    /// a pinned request whose worst case is past what is left is refused, a tier steps to a
    /// model whose worst case fits, and one with `max_tokens` reserves as before.
    #[test]
    fn the_worst_case_of_an_uncapped_request_is_what_a_budget_holds() {
        let worst = Config::from_json(br#"{"budgets":{"daily_usd":100,"reserve_max_output":true}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let opus = worst.catalog.deployments.iter().find(|d| d.id == "claude-opus-4-7").cloned();
        let Some(opus) = opus else { panic!("no Opus 4.7") };
        let route = |c: &Config, body: &str, left: f64| {
            let view = budget_left(left);
            let a = analyze(c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            a.route(c, &Context { now: TODAY, budget: Some(&view), ..Context::default() })
                .map(|r| (r.target.to.model, r.estimate_usd))
                .map_err(|e| (e.status, e.code))
        };
        let uncapped = chat("claude-opus-4-7", "");
        let est = analyze(&worst, uncapped.as_bytes()).map(|a| a.req.estimate(worst.default_output_tokens));
        let est = est.unwrap_or_else(|e| panic!("{e}"));
        let whole = Estimate { output_tokens: opus.max_output, ..est }.price(&opus);
        let (model, held) = route(&worst, &uncapped, 100.0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(model, "claude-opus-4-7");
        assert!((held - whole).abs() < 1e-12 && held > 1.0, "{held} against {whole}");
        // Two choices: each its whole output.
        let held = |extra: &str| route(&worst, &chat("gpt-4.1", extra), 100.0).map(|(_, h)| h).unwrap_or(0.0);
        assert!(held(r#","n":2"#) > 1.9 * held(""), "{} against {}", held(r#","n":2"#), held(""));
        // Past what is left: refused, pinned; a capped request fits and holds its estimate.
        assert_eq!(route(&worst, &uncapped, whole / 2.0), Err((429, "budget_exceeded")));
        let capped = route(&worst, &chat("claude-opus-4-7", r#","max_tokens":100"#), whole / 2.0);
        assert!(capped.as_ref().is_ok_and(|(_, h)| *h < 0.1), "{capped:?}");
        // A tier steps down to a model whose whole output fits.
        let (model, held) =
            route(&worst, &chat("premium", ""), whole / 2.0).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(held <= whole / 2.0 && model != "claude-opus-4-7", "{model}: {held}");
        // Off (the default), the same request holds its estimate.
        let (_, estimate) = route(&config(), &uncapped, 100.0).unwrap_or_else(|e| panic!("{e:?}"));
        assert!((estimate - est.price(&opus)).abs() < 1e-12 && estimate < 0.1, "{estimate}");
        // A ceiling holds each model's whole output up to the ceiling: above Opus's limit, as
        // uncapped; under it, the ceiling.
        let ceiling =
            |n: u64| chat("claude-opus-4-7", &format!(r#","max_tokens":{n},"max_tokens_ceiling":true"#));
        let (_, held) = route(&worst, &ceiling(10_000_000), 100.0).unwrap_or_else(|e| panic!("{e:?}"));
        assert!((held - whole).abs() < 1e-12, "{held} against {whole}");
        let (_, held) = route(&worst, &ceiling(1000), 100.0).unwrap_or_else(|e| panic!("{e:?}"));
        let thousand = Estimate { output_tokens: 1000, ..est }.price(&opus);
        assert!((held - thousand).abs() < 1e-12, "{held} against {thousand}");
        // So it does off: a ceiling is the client's cap (a Messages client's `max_tokens`, which
        // Claude Code sets to 32,000), and what the client may be billed.
        for n in [10_000_000, 1000] {
            let (_, off) = route(&config(), &ceiling(n), 100.0).unwrap_or_else(|e| panic!("{e:?}"));
            let (_, on) = route(&worst, &ceiling(n), 100.0).unwrap_or_else(|e| panic!("{e:?}"));
            assert!((off - on).abs() < 1e-12, "{n}: {off} against {on}");
        }
        // Past what is left, a pinned ceiling is refused rather than run past the limit.
        let thirty_two = Estimate { output_tokens: 32_000, ..est }.price(&opus);
        assert_eq!(route(&config(), &ceiling(32_000), thirty_two / 2.0), Err((429, "budget_exceeded")));
    }

    /// Under a ceiling a model is sent no more output than its window leaves beside the input
    /// (providers refuse input and cap past the window), and no less than the route checked.
    #[test]
    fn a_ceiling_is_lowered_to_what_the_window_leaves() {
        let c = config();
        let d = c.catalog.deployments.iter().find(|d| d.id == "gpt-4.1").cloned();
        let Some(d) = d else { panic!("no gpt-4.1") };
        // Input (at the guard's 3 bytes a token) leaving half the model's output limit.
        let text = "a".repeat(3 * (d.context_window - d.max_output / 2) as usize);
        let body = format!(
            r#"{{"model":"gpt-4.1","messages":[{{"role":"user","content":"{text}"}}],"max_tokens":10000000,"max_tokens_ceiling":true}}"#
        );
        let route = route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
        let cap = sent["max_tokens"].as_u64().unwrap_or(0);
        assert!(cap < d.max_output && cap >= c.default_output_tokens, "{cap}");
        let input = (text.len() as u64).div_ceil(3) + 4;
        assert_eq!(cap, d.context_window - input);
    }

    /// Without a cap from the client, the `max_tokens` the Messages API requires is the
    /// model's limit only while the window leaves it beside the input: Anthropic refuses a
    /// request whose input and `max_tokens` pass its window, which fits with less.
    #[test]
    fn a_default_output_cap_is_what_the_window_leaves() {
        let c = config();
        let d = c.catalog.deployments.iter().find(|d| d.id == "claude-haiku-4-5").cloned();
        let Some(d) = d else { panic!("no claude-haiku-4-5") };
        let input_for = |text: &str| (text.len() as u64).div_ceil(3) + 4;
        for (stream, room) in [(true, d.max_output / 2), (false, 1_000)] {
            let text = "a".repeat(3 * (d.context_window - room) as usize);
            let body = format!(
                r#"{{"model":"claude-haiku-4-5","stream":{stream},"messages":[{{"role":"user","content":"{text}"}}]}}"#
            );
            let route = route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
            let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
            assert_eq!(sent["max_tokens"].as_u64(), Some(d.context_window - input_for(&text)), "{stream}");
        }
        // A short conversation is sent the model's limit when streamed, as before.
        let body =
            br#"{"model":"claude-haiku-4-5","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let route = route_chat(&c, body, TODAY).unwrap_or_else(|e| panic!("{e}"));
        let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
        assert_eq!(sent["max_tokens"].as_u64(), Some(d.max_output));
        // Thinking inside that room leaves the answer its own (it took all but one token).
        let text = "a".repeat(3 * (d.context_window - 13_000) as usize);
        let body = format!(
            r#"{{"model":"claude-haiku-4-5","stream":true,"reasoning_effort":"high","messages":[{{"role":"user","content":"{text}"}}]}}"#
        );
        let route = route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
        let cap = sent["max_tokens"].as_u64().unwrap_or(0);
        let budget = sent["thinking"]["budget_tokens"].as_u64().unwrap_or(u64::MAX);
        assert_eq!(cap, d.context_window - input_for(&text));
        assert!(budget >= 1_024 && budget + 4_096 <= cap, "{budget} of {cap}: {}", sent["thinking"]);
    }

    /// Under a budget, a candidate taken because the first's API refused the request must fit
    /// what is left as the first did: the dearer one next in rank would fail its reservation
    /// (a 429) while a cheaper one could answer.
    #[test]
    fn a_candidate_taken_past_a_refusal_fits_the_budget() {
        let m = |id: &str, tier: &str, p: &str, api: &str, quality: u32, price: f64| {
            format!(
                r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","api":"{api}","context_window":100000,"max_output":1000,"price_in":{price},"price_out":{price},"quality":{quality},"vision":true}}"#
            )
        };
        let cfg = format!(
            r#"{{"clients":{{}},"catalog":{{"providers":{{"b":{{}},"o":{{}}}},"models":[{},{},{},{},{}]}}}}"#,
            m("conv", "economy", "b", "bedrock-converse", 90, 0.1),
            m("dear", "economy", "o", "chat", 80, 50.0),
            m("cheap", "economy", "o", "chat", 70, 0.2),
            m("s", "standard", "o", "chat", 50, 1.0),
            m("x", "premium", "o", "chat", 50, 2.0),
        );
        let c = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let image = r#"{"model":"economy","prefer":"quality","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}"#;
        let a = analyze(&c, image.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let free =
            a.route(&c, &Context { now: TODAY, ..Context::default() }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(free.target.to.model, "dear", "with no budget the next in rank answers");
        let est = a.req.estimate(c.default_output_tokens);
        let price =
            |id: &str| c.catalog.deployments.iter().find(|d| d.id == id).map_or(f64::MAX, |d| est.price(d));
        let left = (price("cheap") + price("dear")) / 2.0;
        assert!(price("conv") < left, "the first fits");
        let view = budget_left(left);
        let ctx = Context { now: TODAY, budget: Some(&view), ..Context::default() };
        let r = a.route(&c, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.target.to.model.as_str(), r.budget.as_deref()), ("cheap", Some("ok")));
        assert!(r.estimate_usd <= left);
        // Nothing that can carry it fits: the budget is what refuses it, not the translation.
        let tight = BudgetView { left_usd: price("conv"), ..view.clone() };
        let e = a.route(&c, &Context { budget: Some(&tight), ..ctx }).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((429, "budget_exceeded")));
    }

    /// A request whose estimate is more than the whole limit on every model that could carry
    /// it is told so, a 400: told the limit was reached, it retried at midnight and failed the
    /// same way. One the limit could carry on another day is still the 429.
    #[test]
    fn a_request_over_a_whole_limit_is_told_no_wait_helps() {
        let m = |id: &str, tier: &str, price| entry(id, tier, "p", 100_000, price, "");
        let cfg = format!(
            r#"{{"catalog":{{"providers":{{"p":{{}}}},"models":[{},{},{}]}}}}"#,
            m("small", "economy", 1),
            m("mid", "standard", 2),
            m("big", "premium", 3),
        );
        let c = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        for model in ["premium", "big"] {
            let body = chat(model, "");
            let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let est = a.req.estimate(c.default_output_tokens);
            let price =
                |id: &str| c.catalog.deployments.iter().find(|d| d.id == id).map_or(0.0, |d| est.price(d));
            // The cheapest a pinned request could take is its model; a tier's, the ladder's last.
            let least = if model == "big" { price("big") } else { price("small") };
            for (limit, want) in
                [(least * 0.9, (400, "request_over_budget")), (least * 1.1, (429, "budget_exceeded"))]
            {
                let view = BudgetView { limit_usd: limit, ..budget_left(0.0) };
                let e = a.route(&c, &Context { now: TODAY, budget: Some(&view), ..Context::default() }).err();
                assert_eq!(e.as_ref().map(|e| (e.status, e.code)), Some(want), "{model} {limit}: {e:?}");
            }
        }
        // A limit of 0 allows no paid request: the 400, saying so, not a wait until midnight.
        let body = chat("big", "");
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let zero = BudgetView { limit_usd: 0.0, ..budget_left(0.0) };
        let e = a.route(&c, &Context { now: TODAY, budget: Some(&zero), ..Context::default() }).err();
        assert!(e.is_some_and(|e| e.code == "request_over_budget" && e.message.contains("allows no paid request")));
        // A model on two providers, the cheaper one's breaker open: its price still fits a day
        // of the limit once it heals, so the refusal is the 429, not "no wait helps".
        let two = cfg.replace(r#"{"p":{}}"#, r#"{"p":{},"q":{}}"#).replace(
            &m("big", "premium", 3),
            &format!("{},{}", m("big", "premium", 3), m("big", "premium", 9).replace(r#""p""#, r#""q""#)),
        );
        let c = Config::from_json(two.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let body = chat("big", "");
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let est = a.req.estimate(c.default_output_tokens);
        let on = |p: &str| {
            c.catalog.deployments.iter().find(|d| d.provider == p && d.id == "big").map(|d| est.price(d))
        };
        let (cheap, dear) = (on("p").unwrap_or(0.0), on("q").unwrap_or(0.0));
        assert!(cheap < dear);
        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let live = Fixed(vec![(health::provider_key("p"), open)]);
        let view = BudgetView { limit_usd: (cheap + dear) / 2.0, ..budget_left(0.0) };
        let ctx = Context { now: TODAY, budget: Some(&view), live: Some(&live), ..Context::default() };
        let e = a.route(&c, &ctx).err().map(|e| (e.status, e.code));
        assert_eq!(e, Some((429, "budget_exceeded")));
    }

    /// `auto` chose premium, and no premium model carries the request (a window here; a
    /// capability or the caller's policy likewise): a tier below that does answers it, marked
    /// `lowered`, where it was a 400 whose "largest window available" was the lower tier's. A
    /// tier the client named is not lowered, and its 400 gives the largest window it searched.
    #[test]
    fn auto_lowers_the_tier_when_nothing_at_or_above_carries_it() {
        let m = |id: &str, tier: &str, window| entry(id, tier, "p", window, 1, "");
        let cfg = format!(
            r#"{{"auto":{{"standard_at":0.0001,"premium_at":0.0002}},"catalog":{{"providers":{{"p":{{}}}},"models":[{},{},{}]}}}}"#,
            m("small", "economy", 2_000),
            m("wide", "standard", 100_000),
            m("big", "premium", 2_000),
        );
        let long = "word ".repeat(4_000);
        let body = |model: &str| {
            format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"Prove it. {long}"}}]}}"#)
        };
        let r = with(cfg.as_bytes(), &body("auto"), None).unwrap_or_else(|e| panic!("{e}"));
        let auto = r.auto.as_ref().map(|a| a.tier);
        assert_eq!(
            (auto, r.tier, r.target.to.model.as_str(), r.escalated),
            (Some(Tier::Premium), Tier::Standard, "wide", Some("lowered"))
        );
        let e = with(cfg.as_bytes(), &body("premium"), None).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some("context_length_exceeded"));
        assert!(e.is_some_and(|e| e.message.ends_with("is 2000 tokens")), "the premium tier's window");
        let fixed = body("auto").replace(r#""model":"auto""#, r#""model":"auto","tier":"premium""#);
        assert!(with(cfg.as_bytes(), &fixed, None).is_err());
        // Too long for every tier: the 400 names the largest window of all, the lower tier's.
        let huge = body("auto").replace(&long, &"word ".repeat(100_000));
        let e = with(cfg.as_bytes(), &huge, None).err();
        assert!(e.is_some_and(|e| e.message.ends_with("is 100000 tokens")), "the largest window of all");
    }

    /// A tier every model of which a policy excludes escalates as a tier with no fit does, and
    /// says why: the client is billed at the higher tier.
    #[test]
    fn an_escalation_says_when_a_policy_emptied_the_tier() {
        let cfg = br#"{"client_header":"x-team","clients":{"a":{"blocked_providers":["p"]}},"catalog":{"providers":{"p":{},"q":{}},"models":[
            {"id":"small","tier":"economy","provider":"p","context_window":1000,"max_output":10,"price_in":0,"price_out":0},
            {"id":"mid","tier":"standard","provider":"q","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"big","tier":"premium","provider":"q","context_window":1000,"max_output":10,"price_in":2,"price_out":2}]}}"#;
        let r = with(cfg, &chat("economy", ""), Some("a")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.target.to.model.as_str(), r.tier, r.escalated),
            ("mid", Tier::Standard, Some("policy"))
        );
        let r = with(cfg, &chat("economy", ""), Some("b")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.target.to.model.as_str(), r.escalated), ("small", None));
    }

    #[test]
    fn upstream_id_and_cluster_come_from_the_catalog() {
        let cfg = br#"{"clusters":{"cerebras":"egress-cerebras"},"catalog":{"providers":{"cerebras":{},"p":{}},"models":[
            {"id":"small","tier":"economy","provider":"cerebras","upstream_id":"vendor/small-v2","context_window":1000,"max_output":10,"price_in":0,"price_out":0},
            {"id":"mid","tier":"standard","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"big","tier":"premium","provider":"p","context_window":1000,"max_output":10,"price_in":2,"price_out":2}]}}"#;
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        let r = route_chat(&c, chat("economy", "").as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.target.to.model.as_str(), r.target.to.cluster.as_str(), r.target.to.upstream_model.as_str()),
            ("small", "egress-cerebras", "vendor/small-v2")
        );
        assert!(String::from_utf8_lossy(&r.target.body).starts_with(r#"{"model":"vendor/small-v2","#));
    }

    #[test]
    fn routing_errors() {
        let c = config();
        let cases: [(String, u16, &str); 6] = [
            (chat("gpt-9", ""), 404, "model_not_found"),
            (chat("economy", r#","tier":"premium""#), 400, "tier_conflict"),
            // A pinned model of another tier: the tier was ignored.
            (chat("gpt-4.1", r#","tier":"premium""#), 400, "tier_conflict"),
            // An embedding model, by id or alias: it was "not a known model", a 404.
            (chat("text-embedding-3-small", ""), 400, "model_not_routable"),
            (chat("embed-small", ""), 400, "model_not_routable"),
            (chat("Economy", ""), 404, "model_not_found"),
        ];
        for (body, status, code) in cases {
            let e = route_chat(&c, body.as_bytes(), TODAY).err();
            assert_eq!(e.map(|e| (e.status, e.code)), Some((status, code)), "{body}");
        }
    }

    /// A name the catalog does not have is routed as its alias's target: a tier, `auto` (scored
    /// as any `auto` request) or a pinned model, the name it came by reported. The router's own
    /// names are never aliased, and a name no alias covers is still a 404.
    #[test]
    fn a_configured_alias_routes_as_its_target() {
        let c = Config::from_json(
            br#"{"model_aliases":{"claude-opus-*":"premium","claude-*":"economy","claude-sonnet-5-5":"claude-sonnet-4-6","my-agent":"auto","text-*":"economy"}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let routed = |model: &str| {
            route_chat(&c, chat(model, "").as_bytes(), TODAY)
                .map(|r| (r.selection, r.tier, r.target.to.model.clone(), r.alias.clone(), r.auto.is_some()))
        };
        let alias = |s: &str| Some(s.to_string());
        let premium = routed("premium").map(|r| r.2).unwrap_or_default();
        assert_eq!(
            routed("claude-opus-5-5"),
            Ok((Selection::Tier, Tier::Premium, premium, alias("claude-opus-5-5"), false))
        );
        assert_eq!(
            routed("claude-haiku-5").map(|r| (r.1, r.3)),
            Ok((Tier::Economy, alias("claude-haiku-5")))
        );
        assert_eq!(
            routed("claude-sonnet-5-5").map(|r| (r.0, r.2, r.3)),
            Ok((Selection::Pinned, "claude-sonnet-4-6".into(), alias("claude-sonnet-5-5")))
        );
        assert_eq!(
            routed("my-agent").map(|r| (r.0, r.3, r.4)),
            Ok((Selection::Auto, alias("my-agent"), true))
        );
        // The catalog's own names, under a pattern that covers them: served as themselves.
        assert_eq!(
            routed("claude-opus-4-7").map(|r| (r.0, r.2, r.3)),
            Ok((Selection::Pinned, "claude-opus-4-7".into(), None))
        );
        let code = |model: &str| route_chat(&c, chat(model, "").as_bytes(), TODAY).err().map(|e| e.code);
        assert_eq!(code("text-embedding-3-small"), Some("model_not_routable"));
        // A refusal names the alias and what it was served as.
        let e = route_chat(&c, chat("claude-sonnet-5-5", r#","logit_bias":{"1":1}"#).as_bytes(), TODAY).err();
        let message = e.map(|e| e.message).unwrap_or_default();
        assert!(
            message.starts_with("model 'claude-sonnet-5-5' is served as 'claude-sonnet-4-6'"),
            "{message}"
        );
        // Not one about its provider policy.
        let e =
            route_chat(&c, chat("claude-sonnet-5-5", r#","provider":{"only":["nope"]}"#).as_bytes(), TODAY)
                .err();
        let message = e.map(|e| e.message).unwrap_or_default();
        assert!(!message.contains("model_aliases"), "{message}");
        assert_eq!(code("gpt-9"), Some("model_not_found"));
    }

    #[test]
    fn unknown_model_lists_valid_choices() {
        let e = route_chat(&config(), chat("gpt-9", "").as_bytes(), TODAY).err();
        let msg = e.map(|e| e.message).unwrap_or_default();
        assert!(msg.contains("'gpt-9'") && msg.contains("economy") && msg.contains("gpt-4.1-mini"), "{msg}");
    }

    /// Issue 15: the 404 suggested retired, untranslated and policy-excluded models.
    #[test]
    fn unknown_model_suggests_only_models_the_caller_can_pin() {
        let c = Config::from_json(
            br#"{"client_header":"x-client","clients":{"a":{"blocked_providers":["anthropic"]}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let msg = |client: Option<&str>| {
            let ctx = Context { now: TODAY, client, ..Context::default() };
            let e = analyze(&c, chat("gpt-9", "").as_bytes()).and_then(|a| a.route(&c, &ctx)).err();
            e.map(|e| (e.status, e.code, e.message)).unwrap_or_else(|| panic!("routed"))
        };
        let (status, code, all) = msg(None);
        assert_eq!((status, code), (404, "model_not_found"));
        for listed in ["gpt-4.1-mini", "claude-opus-4-7", "gpt-oss-120b", "zai.glm-5", "gpt-5.3-codex"] {
            assert!(all.contains(listed), "{listed} missing: {all}");
        }
        for gone in ["llama3.1-8b", "o4-mini", "grok-3-beta"] {
            assert!(!all.contains(&format!(" {gone},")) && !all.ends_with(gone), "{gone} suggested: {all}");
        }
        let (_, _, theirs) = msg(Some("a"));
        assert!(!theirs.contains("claude-"), "{theirs}");
    }

    /// An Anthropic client's `max_tokens` is a ceiling (`max_tokens_ceiling`): no model is left
    /// out for a smaller output limit, each is sent its own limit where the ceiling is above
    /// it (the key's name as the model takes it), and the estimate is the usual output under it.
    #[test]
    fn a_ceiling_leaves_no_model_out_and_each_is_sent_its_own_limit() {
        let c = config();
        let ceiling = r#","max_completion_tokens":10000000,"max_tokens_ceiling":true"#;
        for model in ["economy", "standard", "premium", "auto", "gpt-oss-120b", "gpt-4.1"] {
            let route = route_chat(&c, chat(model, ceiling).as_bytes(), TODAY)
                .unwrap_or_else(|e| panic!("{model}: {e}"));
            let plain = route_chat(&c, chat(model, "").as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(route.target.to.model, plain.target.to.model, "{model}");
            assert_eq!(route.estimate.output_tokens, plain.estimate.output_tokens, "{model}");
            let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
            let limit = serde_json::json!(route.target.to.max_output);
            let sent_cap = ["max_completion_tokens", "max_tokens", "max_output_tokens"]
                .iter()
                .find_map(|k| sent.get(*k))
                .or_else(|| sent.get("inferenceConfig").and_then(|i| i.get("maxTokens")));
            assert_eq!(sent_cap, Some(&limit), "{model}: {sent}");
            assert!(sent.get("max_tokens_ceiling").is_none(), "{model}: {sent}");
        }
        // Under the model's limit the client's cap goes as it is, and is the estimate.
        let small = r#","max_completion_tokens":100,"max_tokens_ceiling":true"#;
        let route =
            route_chat(&c, chat("gpt-4.1", small).as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let sent: serde_json::Value = serde_json::from_slice(&route.target.body).unwrap_or_default();
        assert_eq!(
            (&sent["max_completion_tokens"], route.estimate.output_tokens),
            (&serde_json::json!(100), 100)
        );
        // Not a boolean: refused by name.
        let e = route_chat(&c, chat("economy", r#","max_tokens_ceiling":"yes""#).as_bytes(), TODAY).err();
        assert_eq!(
            e.map(|e| (e.code, e.param)),
            Some(("invalid_type", Some("max_tokens_ceiling".to_string())))
        );
    }

    /// A hinted effort (`reasoning_effort_hint`: adaptive thinking's effort from an Anthropic
    /// client) leaves no model out, and goes to each model that takes efforts as the nearest one
    /// it takes, in its API's shape; a model that takes none is sent none. An effort the client
    /// names itself wins; a hint that is no effort is refused by name.
    #[test]
    fn a_hinted_effort_goes_where_it_is_taken_and_leaves_no_model_out() {
        use serde_json::{Value, json};
        let c = config();
        let sent = |model: &str, extra: &str| {
            let r = route_chat(&c, chat(model, extra).as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
            let body: Value = serde_json::from_slice(&r.target.body).unwrap_or_default();
            assert!(body.get("reasoning_effort_hint").is_none(), "{model}: {body}");
            (r.target.to.model, body)
        };
        // The effort as each API carries it: chat's member, the Responses API's object, the
        // Messages API's adaptive effort or the budget of a model without it.
        let effort = |body: &Value| -> Option<String> {
            let budget = body["thinking"]["budget_tokens"].as_u64();
            let named = crate::catalog::THINKING_BUDGETS.iter().find(|(_, b)| Some(*b) == budget);
            [&body["reasoning_effort"], &body["reasoning"]["effort"], &body["output_config"]["effort"]]
                .into_iter()
                .find_map(|v| v.as_str().map(str::to_string))
                .or_else(|| named.map(|(e, _)| e.to_string()))
        };
        for (model, hint, want) in [
            ("gpt-4.1", "xhigh", None),
            ("o3", "xhigh", Some("high")),
            ("gpt-5.4", "max", Some("xhigh")),
            ("gemini-2.5-pro", "none", Some("low")),
            ("gpt-5.4", "minimal", Some("none")),
            ("gpt-5.3-codex", "xhigh", Some("xhigh")),
            ("claude-opus-4-7", "xhigh", Some("xhigh")),
            ("claude-sonnet-4-6", "xhigh", Some("high")),
            // Reasons, but its catalog entry lists no efforts: none is sent.
            ("qwen.qwen3-32b-v1:0", "high", None),
        ] {
            let (_, body) = sent(model, &format!(r#","reasoning_effort_hint":"{hint}""#));
            assert_eq!(effort(&body).as_deref(), want, "{model} {hint}: {body}");
            if model == "claude-opus-4-7" {
                assert_eq!(body["thinking"]["type"], json!("adaptive"), "{body}");
            }
        }
        // No model is left out for it, and none is chosen for it.
        for model in ["economy", "standard", "premium", "auto"] {
            for hint in crate::catalog::EFFORTS {
                let (hinted, _) = sent(model, &format!(r#","reasoning_effort_hint":"{hint}""#));
                assert_eq!(hinted, sent(model, "").0, "{model} {hint}");
            }
        }
        // A null effort asks nothing: the hint's is the one member sent.
        let null = chat("o3", r#","reasoning_effort":null,"reasoning_effort_hint":"high""#);
        let raw = route_chat(&c, null.as_bytes(), TODAY).map(|r| r.target.body).unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        assert_eq!(text.matches(r#""reasoning_effort""#).count(), 1, "{text}");
        assert!(text.contains(r#""reasoning_effort":"high""#), "{text}");
        // The client's own effort wins, whichever comes first.
        for extra in [
            r#","reasoning_effort_hint":"high","reasoning_effort":"low""#,
            r#","reasoning":{"effort":"low"},"reasoning_effort_hint":"high""#,
        ] {
            assert_eq!(effort(&sent("o3", extra).1).as_deref(), Some("low"), "{extra}");
        }
        for (extra, code) in [
            (r#","reasoning_effort_hint":"ultra""#, "invalid_value"),
            (r#","reasoning_effort_hint":3"#, "invalid_type"),
        ] {
            let e = route_chat(&c, chat("o3", extra).as_bytes(), TODAY).err();
            assert_eq!(e.map(|e| (e.code, e.param)), Some((code, Some("reasoning_effort_hint".into()))));
        }
    }

    /// OpenAI's chat API answers GPT-5.4 a thinking effort beside function tools with a 400:
    /// such a request goes to another candidate (a pinned one on that API is the router's 400
    /// naming the effort), `none` goes as it is, and a hinted effort is not sent with tools.
    #[test]
    fn an_effort_beside_tools_is_not_sent_where_the_chat_api_refuses_it() {
        use serde_json::Value;
        let c = config();
        let tools =
            r#","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#;
        let openai = r#","provider":{"only":["openai"]}"#;
        let route = |model: &str, extra: &str| route_chat(&c, chat(model, extra).as_bytes(), TODAY);
        let e = route("gpt-5.4", &format!(r#"{tools}{openai},"reasoning_effort":"high""#)).err();
        assert_eq!(
            e.map(|e| (e.code, e.param)),
            Some(("unsupported_for_model", Some("reasoning_effort".to_string())))
        );
        // Deprecated functions are tools too; an empty list is none.
        let functions = r#","functions":[{"name":"f","parameters":{"type":"object"}}]"#;
        let e = route("gpt-5.4", &format!(r#"{functions}{openai},"reasoning_effort":"high""#)).err();
        assert_eq!(e.map(|e| e.code), Some("unsupported_for_model"));
        for ok in [
            format!(r#"{tools}{openai},"reasoning_effort":"none""#),
            format!(r#"{openai},"reasoning_effort":"high""#),
            format!(r#","functions":[ ]{openai},"reasoning_effort":"high""#),
        ] {
            assert!(route("gpt-5.4", &ok).is_ok(), "{ok}");
        }
        // Under a policy that leaves it first in its tier (as one preference does without
        // tools), another candidate takes the request, or the router refuses it: never sent.
        let picks = |extra: &str| route("premium", extra).map(|r| r.target.to.quirks.no_effort_with_tools);
        let prefers = ["cheap", "balanced", "quality", "coding"];
        let effort = |p: &str| format!(r#"{openai},"prefer":"{p}","reasoning_effort":"high""#);
        assert!(prefers.iter().any(|p| picks(&effort(p)) == Ok(true)));
        for p in prefers {
            match route("premium", &format!("{tools}{}", effort(p))) {
                Ok(r) => assert!(!r.target.to.quirks.no_effort_with_tools, "{p}: {}", r.target.to.model),
                Err(e) => assert_eq!(
                    (e.code, e.param.as_deref()),
                    ("unsupported_for_model", Some("reasoning_effort"))
                ),
            }
        }
        // A hint is not sent beside tools; without them it is.
        let sent = |extra: &str| {
            let r = route("gpt-5.4", extra).unwrap_or_else(|e| panic!("{e}"));
            serde_json::from_slice::<Value>(&r.target.body).unwrap_or_default()["reasoning_effort"].clone()
        };
        assert_eq!(sent(&format!(r#"{tools}{openai},"reasoning_effort_hint":"high""#)), Value::Null);
        assert_eq!(sent(&format!(r#"{openai},"reasoning_effort_hint":"high""#)), Value::from("high"));
    }

    /// Issue 15: a max_tokens above a model's output limit was a context_length_exceeded that
    /// blamed the messages.
    #[test]
    fn an_output_limit_beyond_every_model_names_max_tokens() {
        let c = config();
        for (extra, param) in [
            (r#","max_tokens":10000000"#, "max_tokens"),
            (r#","max_completion_tokens":10000000,"max_tokens":5"#, "max_completion_tokens"),
        ] {
            for model in ["economy", "premium", "auto"] {
                let e = route_chat(&c, chat(model, extra).as_bytes(), TODAY).err();
                let e = e.unwrap_or_else(|| panic!("{model} {extra} routed"));
                assert_eq!(
                    (e.status, e.code, e.param.as_deref()),
                    (400, "invalid_value", Some(param)),
                    "{e}"
                );
                assert!(
                    e.message.starts_with(&format!("{param} is 10000000, but no available model")),
                    "{e}"
                );
            }
            // A pinned model: its own limit, and where to find more.
            let e = route_chat(&c, chat("gpt-oss-120b", extra).as_bytes(), TODAY).err();
            let e = e.unwrap_or_else(|| panic!("routed"));
            assert_eq!((e.code, e.param.as_deref()), ("invalid_value", Some(param)), "{e}");
            assert!(e.message.contains("produces at most"), "{e}");
        }
        // Some model gives that much: routed there, not refused.
        let most = c.catalog.deployments.iter().filter(|d| !d.retired(TODAY)).map(|d| d.max_output).max();
        let most = most.unwrap_or_default();
        let r = route_chat(&c, chat("economy", &format!(r#","max_tokens":{most}"#)).as_bytes(), TODAY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.catalog.deployments.iter().any(|d| d.id == r.target.to.model && d.max_output >= most));
        // An input too long for any window is still a context error.
        let huge = chat("economy", r#","max_tokens":5"#).replace("hello", &"x".repeat(36_000_000));
        let e = route_chat(&c, huge.as_bytes(), TODAY).err().map(|e| e.code);
        assert_eq!(e, Some("context_length_exceeded"));
    }

    /// Issue 15: `modalities: ["text","audio"]` went to models that cannot speak.
    #[test]
    fn audio_output_needs_an_audio_model() {
        let audio = r#","modalities":["text","audio"]"#;
        for model in ["economy", "auto", "gpt-4.1-mini"] {
            let e = route_chat(&config(), chat(model, audio).as_bytes(), TODAY).err();
            let e = e.unwrap_or_else(|| panic!("{model} routed"));
            assert_eq!(
                (e.status, e.code, e.param.as_deref()),
                (400, "unsupported_capability", Some("modalities"))
            );
            assert!(e.message.contains("audio output"), "{e}");
        }
        assert!(
            route_chat(&config(), chat("economy", r#","modalities":["text"]"#).as_bytes(), TODAY).is_ok()
        );
        // A catalog with an audio model routes there, escalating if it must.
        let cfg = br#"{"catalog":{"providers":{"p":{}},"models":[
            {"id":"small","tier":"economy","provider":"p","context_window":1000,"max_output":10,"price_in":0,"price_out":0},
            {"id":"mid","tier":"standard","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1,"audio_output":true},
            {"id":"big","tier":"premium","provider":"p","context_window":1000,"max_output":10,"price_in":2,"price_out":2}]}}"#;
        let r = with(cfg, &chat("economy", audio), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.target.to.model.as_str(), r.escalated), ("mid", Some("capability")));
    }

    /// `testdata/auto/golden.json`: every feature and pitfall, through `route_chat` (the code
    /// path the filter and the CLI share).
    #[test]
    fn auto_golden_cases() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../testdata/auto/golden.json")).unwrap_or_default();
        let cases = doc["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() >= 15);
        let c = config();
        for case in cases {
            let body = case["request"].to_string();
            let r =
                route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
            let auto = r.auto.clone().unwrap_or_else(|| panic!("no auto report"));
            assert_eq!(r.selection, Selection::Auto);
            assert_eq!(auto.tier.as_str(), case["expect_tier"], "{}: {auto:?}", case["name"]);
            assert_eq!(r.tier, auto.tier, "{}", case["name"]);
            let want: Vec<String> = case["expect_reasons_prefix"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            assert!(
                auto.reasons.starts_with(&want),
                "{}: {:?} does not start with {want:?}",
                case["name"],
                auto.reasons
            );
            assert!((0.0..=1.0).contains(&auto.score));
        }
    }

    fn auto_chat(user: &str, extra: &str) -> String {
        format!(
            r#"{{"model":"auto","messages":[{{"role":"system","content":"sys"}},{{"role":"user","content":"{user}"}}]{extra}}}"#
        )
    }

    const HARD_ASK: &str = "What would be the long-term consequences for monetary policy, bank solvency and \
                            public debt markets if a large eurozone member left the currency union during a recession?";

    /// An auto conversation: system prompt, then `turns` as (user, assistant) pairs, then `last`.
    fn conversation(turns: &[(&str, &str)], last: &str) -> String {
        let mut m = vec![r#"{"role":"system","content":"sys"}"#.to_string()];
        for (u, a) in turns {
            m.push(format!(r#"{{"role":"user","content":"{u}"}},{{"role":"assistant","content":"{a}"}}"#));
        }
        m.push(format!(r#"{{"role":"user","content":"{last}"}}"#));
        format!(r#"{{"model":"auto","messages":[{}]}}"#, m.join(","))
    }

    fn routed(c: &Config, body: &str, client: Option<&str>, remembered: Option<&str>, now: u64) -> Route {
        let ctx = Context { remembered: remembered.map(str::as_bytes), now, client, ..Context::default() };
        analyze(c, body.as_bytes()).and_then(|a| a.route(c, &ctx)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn auto_tier_only_escalates_within_a_conversation() {
        let c = config();
        let me = Some("team-a");
        // Turn 2 asks the hard question: standard, remembered under this conversation's key.
        let turn2 = conversation(&[("hi", "Hello!")], HARD_ASK);
        let a = analyze(&c, turn2.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let (key, _) = a.sticky_slot(&c, me).unwrap_or_else(|| panic!("no slot"));
        let r2 = routed(&c, &turn2, me, None, 1000);
        assert_eq!(r2.tier, Tier::Standard);
        let memory = r2.memory.unwrap_or_else(|| panic!("nothing to remember"));
        assert_eq!(memory.key, key);
        let stored = memory.value(None).unwrap_or_default();

        // Turn 3 of the same conversation scores low on its own...
        let turn3 = conversation(&[("hi", "Hello!"), (HARD_ASK, "Done.")], "thanks!");
        let a = analyze(&c, turn3.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.sticky_slot(&c, me).map(|s| s.0), Some(key));
        let alone = routed(&c, &turn3, me, None, 1000);
        // Economy, the floor, is not remembered: a write would only take a slot.
        assert_eq!((alone.tier, alone.memory.is_some()), (Tier::Economy, false));
        // ...but with the remembered tier it stays where turn 2 was, and says why.
        let r3 = routed(&c, &turn3, me, Some(&stored), 1100);
        assert_eq!(r3.tier, Tier::Standard);
        let report = r3.auto.unwrap_or_else(|| panic!("no report"));
        assert_eq!((report.tier, report.sticky), (Tier::Economy, true));
        // After the TTL the memory no longer holds.
        let late = routed(&c, &turn3, me, Some(&stored), 1000 + c.sticky.ttl_secs + 1);
        assert_eq!(late.tier, Tier::Economy);
    }

    /// Issue 15: one client's hard conversation made another client's new `[system, "hello"]`
    /// premium (`auto-sticky: true`) for an hour: the key was the system prompt and first ask.
    #[test]
    fn stickiness_never_crosses_clients_or_conversations() {
        let c = config();
        let hard = conversation(&[("hello", "Hi! How can I help?")], HARD_ASK);
        let stored = routed(&c, &hard, Some("alice"), None, 1000)
            .memory
            .unwrap_or_else(|| panic!("nothing to remember"))
            .value(None)
            .unwrap_or_default();
        let slot = |body: &str, client: Option<&str>| {
            analyze(&c, body.as_bytes()).map(|a| a.sticky_slot(&c, client)).unwrap_or_else(|e| panic!("{e}"))
        };
        let alice = slot(&hard, Some("alice")).map(|s| s.1);
        // Another client with the very same conversation has another key.
        assert!(slot(&hard, Some("bob")).is_some_and(|s| Some(s.1) != alice));
        // A first turn has no key: it neither reads nor writes memory, whoever sends it.
        let first = conversation(&[], "hello");
        assert_eq!(slot(&first, Some("alice")), None);
        let r = routed(&c, &first, Some("alice"), Some(&stored), 1001);
        let report = r.auto.clone().unwrap_or_else(|| panic!("no report"));
        assert_eq!((r.tier, report.sticky, r.memory.is_some()), (Tier::Economy, false, false));
        // Same opening, another first answer: another conversation.
        let other = conversation(&[("hello", "Hey.")], "thanks!");
        let r = routed(&c, &other, Some("alice"), Some(&stored), 1001);
        assert_eq!((r.tier, r.auto.map(|a| a.sticky)), (Tier::Economy, Some(false)));
        // Without a client id nothing is remembered, unless configured.
        assert_eq!(slot(&hard, None), None);
        assert_eq!(slot(&hard, Some("")), None);
        assert!(routed(&c, &hard, None, None, 1000).memory.is_none());
        let shared =
            Config::from_json(br#"{"sticky":{"without_client":true}}"#).unwrap_or_else(|e| panic!("{e}"));
        let a = analyze(&shared, hard.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.sticky_slot(&shared, None).is_some());
        assert_ne!(a.sticky_slot(&shared, None), a.sticky_slot(&shared, Some("alice")));
    }

    /// The sticky slot was the conversation's plain hash modulo the slots: a client could
    /// compute, offline, a conversation landing in another client's slot and evict its memory
    /// with one request (found attacking the demo). The slot is now drawn under the Envoy's
    /// secret: another key puts the same conversations in other slots, which the entry's own
    /// hash (kept whole) still verifies.
    #[test]
    fn the_sticky_slot_follows_the_envoys_secret() {
        let mut c = config();
        let slots = |c: &Config| -> Vec<(String, u64)> {
            (0..64)
                .filter_map(|i| {
                    let body = conversation(&[("hi", "Hello!")], &format!("question {i}"));
                    analyze(c, body.as_bytes()).ok()?.sticky_slot(c, Some("alice"))
                })
                .collect()
        };
        let plain = slots(&c);
        assert_eq!(plain.len(), 64);
        c.prefix_cache.key = crate::parse::prefix::Digest(7, 11);
        let keyed = slots(&c);
        let moved = plain.iter().zip(&keyed).filter(|(p, k)| p.0 != k.0).count();
        assert!(moved > 60, "{moved} of 64 moved");
        assert!(plain.iter().zip(&keyed).all(|(p, k)| p.1 == k.1), "the entry's hash is the key's");
        // Not the plain hash's residue under any key.
        let residue = |(_, hash): &(String, u64)| format!("{STICKY_KEY_PREFIX}{}", hash % c.sticky.slots);
        assert!(keyed.iter().filter(|s| s.0 == residue(s)).count() < 4);
    }

    #[test]
    fn fixed_tier_beside_auto_wins_and_auto_is_still_reported() {
        let c = config();
        let body = auto_chat("hi", r#","tier":"premium","prefer":"cheap""#);
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.sticky_slot(&c, Some("x")).is_none(), "a fixed tier needs no memory");
        let r = a.route(&c, &Context { now: 0, ..Context::default() }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.tier, r.prefer, r.selection), (Tier::Premium, Prefer::Cheap, Selection::Auto));
        assert_eq!(r.auto.map(|a| a.tier), Some(Tier::Economy));
        assert!(r.memory.is_none());
        let body = String::from_utf8_lossy(&r.target.body).into_owned();
        assert!(!body.contains("tier") && !body.contains("prefer"), "{body}");
    }

    #[test]
    fn code_conversations_rank_by_coding_unless_prefer_is_given() {
        let c = config();
        let code = auto_chat(r#"Fix this:\n```rust\nfn main() { let x: i32 = \"a\"; }\n```"#, "");
        let r = route_chat(&c, code.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Coding);
        assert_eq!(r.target.to.model, "claude-sonnet-4-6");
        let r = route_chat(
            &c,
            auto_chat(r#"Fix this:\n```rust\nfn main() {}\n```"#, r#","prefer":"cheap""#).as_bytes(),
            TODAY,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Cheap);
        let r = route_chat(&c, auto_chat("What is the capital of France?", "").as_bytes(), TODAY)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Balanced);
    }

    #[test]
    fn stickiness_can_be_turned_off() {
        let c = Config::from_json(br#"{"sticky":{"slots":0}}"#).unwrap_or_else(|e| panic!("{e}"));
        let body = auto_chat("hello", "");
        let r = route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.memory.is_none());
    }

    fn with(cfg: &[u8], body: &str, client: Option<&str>) -> Result<Route, ApiError> {
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        analyze(&c, body.as_bytes())?.route(&c, &Context { now: TODAY, client, ..Context::default() })
    }

    /// Groq answers a request over 4 MB holding an image with a 413, which ended it: such a
    /// request goes to a model that takes it, and one pinned to Groq's is refused saying why.
    #[test]
    fn a_request_with_an_image_too_large_for_a_model_goes_to_another() {
        let vision = r#","vision":true"#;
        let capped = r#","vision":true,"max_image_request_bytes":1000"#;
        let cfg = format!(
            r#"{{"catalog":{{"providers":{{"g":{{}},"h":{{}}}},"models":[{},{},{},{}]}}}}"#,
            entry("small", "economy", "g", 100_000, 1, capped),
            entry("big", "economy", "h", 100_000, 2, vision),
            entry("s", "standard", "h", 100_000, 3, vision),
            entry("p", "premium", "h", 100_000, 4, vision),
        );
        let ask = |model: &str, image: usize| {
            let url = format!("data:image/png;base64,{}", "A".repeat(image));
            format!(
                r#"{{"model":"{model}","prefer":"cheap","messages":[{{"role":"user","content":[{{"type":"image_url","image_url":{{"url":"{url}"}}}}]}}]}}"#
            )
        };
        let to = |body: &str| with(cfg.as_bytes(), body, None).map(|r| r.target.to.model);
        assert_eq!(to(&ask("economy", 100)).as_deref(), Ok("small"));
        assert_eq!(to(&ask("economy", 2000)).as_deref(), Ok("big"));
        let e = with(cfg.as_bytes(), &ask("small", 2000), None).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((400, "unsupported_capability")));
    }

    /// A pinned model's other provider that fits what is left is no step down: under a limit
    /// the first in rank order (`fast`: Cerebras, the dearest) does not fit, a cheaper provider
    /// of the model answers (it was refused, the day's limit "reached"); past every one, the
    /// limit is reached.
    #[test]
    fn a_pinned_model_is_served_by_its_provider_that_fits_the_budget() {
        let c = config();
        let body = chat("gpt-oss-120b", r#","prefer":"fast""#);
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let est = a.req.estimate(c.default_output_tokens);
        let price = |p: &str| {
            let d = c.catalog.deployments.iter().find(|d| d.id == "gpt-oss-120b" && d.provider == p);
            d.map_or(0.0, |d| est.reserve_price(d))
        };
        let served = |left: f64| {
            let view = budget_left(left);
            let ctx = Context { now: TODAY, budget: Some(&view), ..Context::default() };
            a.route(&c, &ctx).map(|r| r.target.to.provider).map_err(|e| (e.status, e.code))
        };
        assert!(price("groq") < price("cerebras"));
        assert_eq!(served(price("cerebras")).as_deref(), Ok("cerebras"));
        let cheaper = served((price("groq") + price("cerebras")) / 2.0);
        assert!(cheaper.as_deref().is_ok_and(|p| p != "cerebras"), "{cheaper:?}");
        assert_eq!(served(price("groq") / 2.0), Err((429, "budget_exceeded")));
    }

    /// Groq's Llama 4 Scout takes 5 images a request and answers more with a 400, which ended
    /// the request: six go to a model that takes them, and one pinned to it is refused.
    #[test]
    fn a_request_with_more_images_than_a_model_takes_goes_to_another() {
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let image = r#"{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}"#;
        let ask = |model: &str, n: usize| {
            let images = vec![image; n].join(",");
            format!(
                r#"{{"model":"{model}","prefer":"cheap","messages":[{{"role":"user","content":[{images}]}}]}}"#
            )
        };
        let scout = "meta-llama/llama-4-scout-17b-16e-instruct";
        let to = |body: &str| {
            analyze(&c, body.as_bytes())?.route(&c, &Context { now: TODAY, ..Context::default() })
        };
        let model = |body: &str| to(body).map(|r| r.target.to.model);
        assert_eq!(model(&ask("economy", 5)).as_deref(), Ok(scout));
        let six = model(&ask("economy", 6));
        assert!(six.as_deref().is_ok_and(|m| m != scout), "{six:?}");
        assert_eq!(model(&ask(scout, 5)).as_deref(), Ok(scout));
        let e = to(&ask(scout, 6)).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((400, "unsupported_capability")));
    }

    #[test]
    fn long_requests_skip_small_windows_and_escalate_when_needed() {
        // ~200k tokens (600 KB / 3): economy has 1M-window models, so no escalation.
        let big = "x".repeat(600_000);
        let r =
            with(b"", &chat("economy", "").replace("hello", &big), None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            r.target.to.model == "gemini-2.5-flash" || r.target.to.model == "gpt-4.1-mini",
            "{}",
            r.target.to.model
        );
        assert_eq!(r.escalated, None);
        // Block the economy providers with windows over 200k: the tier has nothing left that fits.
        let cfg = br#"{"blocked_providers":["google-gemini","openai","anthropic","aws-bedrock-runtime"]}"#;
        let r =
            with(cfg, &chat("economy", "").replace("hello", &big), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.tier, r.escalated), (Tier::Standard, Some("context")));
        let c = config();
        let window =
            c.catalog.deployments.iter().find(|d| d.id == r.target.to.model).map_or(0, |d| d.context_window);
        assert!(window >= 200_516, "{} holds only {window}", r.target.to.model);
        // Nothing holds 12M tokens at all.
        let huge = "x".repeat(36_000_000);
        let e = with(b"", &chat("economy", "").replace("hello", &huge), None).err();
        let e = e.unwrap_or_else(|| panic!("routed"));
        assert_eq!((e.status, e.code), (400, "context_length_exceeded"));
        assert!(e.message.contains("largest context window available is 10000000"), "{}", e.message);
        // A requested output beyond a model's limit skips it too.
        let r = with(b"", &chat("economy", r#","prefer":"cheap","max_tokens":100000"#), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.target.to.model != "meta-llama/llama-4-scout-17b-16e-instruct", "{}", r.target.to.model);
    }

    #[test]
    fn capabilities_are_required_not_guessed() {
        let tools = r#","prefer":"cheap","tools":[{"type":"function","function":{"name":"f"}}]"#;
        assert!(
            with(b"", &chat("economy", tools), None)
                .is_ok_and(|r| r.target.to.model == "nvidia.nemotron-nano-9b-v2")
        );
        let image = r#"{"model":"economy","prefer":"fast","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        // The fastest economy model (gpt-oss on cerebras) has no vision: a vision model is chosen.
        let r = with(b"", image, None).unwrap_or_else(|e| panic!("{e}"));
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            c.catalog.deployments.iter().any(|d| d.id == r.target.to.model && d.vision),
            "{}",
            r.target.to.model
        );
        let schema = r#","prefer":"cheap","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}"#;
        let r = with(b"", &chat("economy", schema), None).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            r.target.to.provider == "openai" || r.target.to.provider == "google-gemini",
            "{}",
            r.target.to.provider
        );
        let e = with(b"", &chat("llama-4-scout", ""), None).err().map(|e| e.code);
        assert_eq!(e, Some("model_not_found"));
        let e = with(b"", &chat("gpt-oss-120b", r#","response_format":{"type":"json_schema"}"#), None).err();
        assert_eq!(e.map(|e| e.code), Some("unsupported_capability"));
    }

    #[test]
    fn blocked_providers_never_receive_traffic() {
        let cfg = br#"{"blocked_providers":["google-gemini"],"client_header":"x-client",
            "clients":{"team-a":{"blocked_providers":["anthropic"]},"team-b":{"only_providers":["openai"]}}}"#;
        for prefer in Prefer::NAMES {
            for tier in Tier::ALL {
                let body = chat(tier.as_str(), &format!(r#","prefer":"{prefer}""#));
                let r = with(cfg, &body, None).unwrap_or_else(|e| panic!("{e}"));
                assert_ne!(r.target.to.provider, "google-gemini");
                let a = with(cfg, &body, Some("team-a")).unwrap_or_else(|e| panic!("{e}"));
                assert!(a.target.to.provider != "google-gemini" && a.target.to.provider != "anthropic");
                let b = with(cfg, &body, Some("team-b")).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(b.target.to.provider, "openai");
                let own = with(
                    cfg,
                    &chat(
                        tier.as_str(),
                        &format!(r#","prefer":"{prefer}","provider":{{"ignore":["openai","aws-bedrock"]}}"#),
                    ),
                    None,
                )
                .unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    !["google-gemini", "openai", "aws-bedrock"].contains(&own.target.to.provider.as_str())
                );
            }
        }
        // Pinning a blocked provider's only model is refused, not rerouted.
        let e = with(cfg, &chat("gemini-2.5-pro", ""), None).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((403, "provider_blocked")));
        // A model of several providers, all excluded: each is named.
        let e = with(b"", &chat("gpt-oss-120b", r#","provider":{"only":["openai"]}"#), None).err();
        let message = e.map(|e| e.message).unwrap_or_default();
        assert!(message.ends_with("excludes (aws-bedrock, groq, cerebras)"), "{message}");
        let e = with(b"", &chat("economy", r#","provider":{"only":["nope"]}"#), None).err();
        assert_eq!(e.map(|e| e.code), Some("unknown_provider"));
        let e = with(b"", &chat("economy", r#","provider":{"order":["openai"]}"#), None).err();
        assert_eq!(e.map(|e| e.code), Some("invalid_value"));
    }

    #[test]
    fn retired_and_untranslated_models_are_never_chosen() {
        let c = config();
        for d in c.catalog.deployments.iter().filter(|d| d.retired(TODAY) || !d.api.routable()) {
            let e = route_chat(&c, chat(&d.id, "").as_bytes(), TODAY);
            if c.catalog.deployments.iter().any(|o| o.id == d.id && !o.retired(TODAY) && o.api.routable()) {
                continue;
            }
            let e = e.err().unwrap_or_else(|| panic!("{} was routed", d.id));
            assert!(e.code == "model_retired" || e.code == "model_not_routable", "{}: {}", d.id, e.code);
            assert!(e.message.contains(d.tier.as_str()), "{}", e.message);
        }
        for tier in Tier::ALL {
            for prefer in Prefer::NAMES {
                let r = route_chat(
                    &c,
                    chat(tier.as_str(), &format!(r#","prefer":"{prefer}""#)).as_bytes(),
                    TODAY,
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let d = c
                    .catalog
                    .deployments
                    .iter()
                    .find(|d| d.id == r.target.to.model && d.provider == r.target.to.provider);
                assert!(d.is_some_and(|d| !d.retired(TODAY) && d.api.routable()));
            }
        }
        let e = route_chat(&c, chat("llama3.1-8b", "").as_bytes(), TODAY).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some(
                "model 'llama3.1-8b' was retired on 2026-05-27: use model 'economy' (or auto) for a current model of its tier"
            )
        );
    }

    #[test]
    fn free_models_win_cheap() {
        let r =
            with(br#"{"free":["cerebras/gpt-oss-120b"]}"#, &chat("economy", r#","prefer":"cheap""#), None)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.target.to.model.as_str(), r.target.to.provider.as_str()), ("gpt-oss-120b", "cerebras"));
        assert!(Config::from_json(br#"{"free":["cerebras/nope"]}"#).is_err());
    }

    /// Health records by key, for routing tests.
    struct Fixed(Vec<(String, Health)>);

    impl Live for Fixed {
        fn health(&self, key: &str) -> Option<Health> {
            self.0.iter().find(|(k, _)| k == key).map(|(_, h)| *h)
        }
    }

    #[test]
    fn the_budget_ladder_passes_over_open_breakers() {
        let c = config();
        // A tier whose first choice is not its cheapest model.
        let found = ["premium", "standard", "economy"].into_iter().find_map(|tier| {
            ["quality", "balanced", "coding", "fast"].into_iter().find_map(|prefer| {
                let body = chat(tier, &format!(r#","prefer":"{prefer}""#));
                let a = analyze(&c, body.as_bytes()).ok()?;
                let est = a.req.estimate(c.default_output_tokens);
                let r = a.route(&c, &Context { now: TODAY, ..Context::default() }).ok()?;
                let cheapest = r
                    .fallbacks
                    .iter()
                    .filter_map(|f| c.catalog.deployments.get(f.deployment))
                    .filter(|d| d.tier.as_str() == tier)
                    .map(|d| est.price(d))
                    .fold(f64::MAX, f64::min);
                (cheapest < r.estimate_usd).then_some((body, tier, r.estimate_usd, cheapest))
            })
        });
        let Some((body, tier, first, cheapest)) = found else {
            panic!("every first choice is its tier's cheapest")
        };
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        // Room for a cheaper model of the tier, not for the first.
        let view = BudgetView { left_usd: (cheapest + first) / 2.0, ..budget_left(0.0) };
        let ctx = Context { now: TODAY, budget: Some(&view), ..Context::default() };
        let limited = a.route(&c, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(limited.budget, Some(format!("limited:{tier}")));
        let picked = limited.target.to;
        // Its breaker open: the ladder takes another step.
        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let live = Fixed(vec![(health::deployment_key(&picked.provider, &picked.model), open)]);
        let ctx = Context { live: Some(&live), ..ctx };
        let r = a.route(&c, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!((&r.target.to.provider, &r.target.to.model), (&picked.provider, &picked.model));
    }

    #[test]
    fn open_breakers_are_skipped_and_the_rest_are_fallbacks() {
        let c = config();
        let body = chat("gpt-oss-120b", r#","prefer":"cheap""#);
        let all = route_chat(&c, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let first = all.target.to.provider.clone();
        let fallbacks: Vec<Upstream> = all.fallbacks.iter().filter_map(|f| f.upstream(&c, false)).collect();
        let rest: Vec<&str> = fallbacks.iter().map(|u| u.provider.as_str()).collect();
        assert_eq!(rest.len(), 2, "{rest:?}");
        assert!(!rest.contains(&first.as_str()));
        assert!(fallbacks.iter().all(|u| u.model == "gpt-oss-120b"));
        assert!(all.fallbacks.iter().zip(&fallbacks).all(|(f, u)| f.context_window == u.context_window));

        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let live = Fixed(vec![(health::provider_key(&first), open)]);
        let ctx = Context { now: TODAY, live: Some(&live), ..Context::default() };
        let r =
            analyze(&c, body.as_bytes()).and_then(|a| a.route(&c, &ctx)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.target.to.provider, rest[0]);
        assert_eq!(r.fallbacks.len(), 1);
        // Cooled down: a probe may go again.
        let later =
            Context { now: TODAY + c.resilience.cooldown_secs + 1, live: Some(&live), ..Context::default() };
        let r =
            analyze(&c, body.as_bytes()).and_then(|a| a.route(&c, &later)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.target.to.provider, first);

        // Every deployment open (here by model): by default the route fails open, in rank
        // order, with every candidate kept; without fail-open, a 503 that says so.
        let keys =
            [first.as_str(), rest[0], rest[1]].map(|p| (health::deployment_key(p, "gpt-oss-120b"), open));
        let live = Fixed(keys.to_vec());
        let ctx = Context { now: TODAY, live: Some(&live), ..Context::default() };
        let r =
            analyze(&c, body.as_bytes()).and_then(|a| a.route(&c, &ctx)).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.fail_open);
        assert_eq!((r.target.to.provider.as_str(), r.fallbacks.len()), (first.as_str(), 2));
        let closed =
            Config::from_json(br#"{"resilience":{"fail_open":false}}"#).unwrap_or_else(|e| panic!("{e}"));
        let e = analyze(&closed, body.as_bytes()).and_then(|a| a.route(&closed, &ctx)).err();
        // Asked again when the first cools down: the second after its cooldown.
        let wait = u32::try_from(closed.resilience.cooldown_secs + 1).ok();
        assert_eq!(e.map(|e| (e.status, e.code, e.retry_after)), Some((503, "providers_unavailable", wait)));
    }

    /// Without the ladder, a tier's first choice priced past the whole limit is a 400 that says
    /// so, though a cheaper model of the tier would fit: no midnight lets it through. Priced
    /// within the limit, it waits for room as before.
    #[test]
    fn without_the_ladder_a_first_choice_past_the_whole_limit_is_over_budget() {
        let c = Config::from_json(br#"{"budgets":{"ladder":false}}"#).unwrap_or_else(|e| panic!("{e}"));
        let body = chat("premium", r#","prefer":"coding""#);
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let est = a.req.estimate(c.default_output_tokens);
        let first =
            a.route(&c, &Context { now: TODAY, ..Context::default() }).unwrap_or_else(|e| panic!("{e}"));
        let first = c
            .catalog
            .deployments
            .iter()
            .find(|d| d.id == first.target.to.model && d.provider == first.target.to.provider);
        let price = first.map_or(0.0, |d| est.reserve_price(d));
        let least =
            cheapest(c.catalog.deployments.iter().filter(|d| d.tier == Tier::Premium), &est).unwrap_or(0.0);
        assert!(least < price, "{least} {price}");
        let refused = |limit: f64, left: f64| {
            let view =
                BudgetView { limit_usd: limit, smallest: ("global".into(), limit), ..budget_left(left) };
            let ctx = Context { now: TODAY, budget: Some(&view), ..Context::default() };
            a.route(&c, &ctx).err().map(|e| (e.status, e.code))
        };
        let between = (least + price) / 2.0;
        assert_eq!(refused(between, between), Some((400, "request_over_budget")));
        assert_eq!(refused(price * 2.0, price / 2.0), Some((429, "budget_exceeded")));
        // The first choice's breaker open, the next (dearer) past what is left: the breaker holds
        // it back, and the client is told to wait for its cooldown, not that the request never
        // fits (a 400) nor that the day's limit is reached (a wait for midnight). Past what is
        // left on the first choice too, the limit is reached.
        let cheap = chat("premium", r#","prefer":"cheap""#);
        let a = analyze(&c, cheap.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let top = a.route(&c, &Context { now: TODAY, ..Context::default() }).map(|r| r.target.to);
        let top = top.unwrap_or_else(|e| panic!("{e}"));
        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let live = Fixed(vec![(health::deployment_key(&top.provider, &top.model), open)]);
        let room =
            c.catalog.deployments.iter().find(|d| d.id == top.model).map_or(0.0, |d| est.reserve_price(d));
        let refused = |left: f64| {
            let view = BudgetView { limit_usd: room, smallest: ("global".into(), room), ..budget_left(left) };
            let ctx = Context { now: TODAY, budget: Some(&view), live: Some(&live), ..Context::default() };
            a.route(&c, &ctx).err().map(|e| (e.status, e.code, e.retry_after))
        };
        let cooled = u32::try_from(c.resilience.cooldown_secs + 1).ok();
        assert_eq!(refused(room), Some((503, "providers_unavailable", cooled)));
        assert_eq!(refused(room / 2.0), Some((429, "budget_exceeded", None)));
    }

    /// Health is kept for a provider as its requests reach it: a configuration that sends the
    /// provider's requests to another cluster (another listener's, in the same VM) neither
    /// reads nor is read by the records of one that sends them to the provider's own.
    #[test]
    fn a_breaker_is_the_providers_as_reached_through_its_cluster() {
        let c = config();
        let body = chat("gpt-oss-120b", r#","prefer":"cheap""#);
        let first = route_chat(&c, body.as_bytes(), TODAY).map(|r| r.target.to.provider);
        let first = first.unwrap_or_else(|e| panic!("{e}"));
        let json = format!(r#"{{"clusters":{{"{first}":"partner-egress"}}}}"#);
        let moved = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let open = Health { breaker: health::Breaker::Open { since: TODAY }, ..Health::default() };
        let to = |c: &Config, key: String| {
            let live = Fixed(vec![(key, open)]);
            let ctx = Context { now: TODAY, live: Some(&live), ..Context::default() };
            let r = analyze(c, body.as_bytes()).and_then(|a| a.route(c, &ctx));
            r.map(|r| r.target.to.provider).unwrap_or_else(|e| panic!("{e}"))
        };
        let own = health::provider_key(&first);
        let partner = health::provider_key(&health::reached(&first, "partner-egress"));
        assert_eq!(partner, format!("model_router.health.p.{first}>partner-egress"));
        // Where the moved configuration's attempts report.
        let sent = route_chat(&moved, body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sent.target.to.health_keys()[0], partner);
        assert_ne!(to(&c, own.clone()), first);
        assert_eq!(to(&moved, own), first);
        assert_ne!(to(&moved, partner.clone()), first);
        assert_eq!(to(&c, partner), first);
    }

    #[test]
    fn under_a_budget_every_fallback_fits_what_is_left_as_the_first_does() {
        let c = config();
        let body = chat("premium", "");
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let est = a.req.estimate(c.default_output_tokens);
        let price = |f: &crate::decide::upstream::Fallback| {
            c.catalog.deployments.get(f.deployment).map_or(f64::MAX, |d| est.reserve_price(d))
        };
        let free =
            a.route(&c, &Context { now: TODAY, ..Context::default() }).unwrap_or_else(|e| panic!("{e}"));
        let dearest = free.fallbacks.iter().map(price).fold(0.0, f64::max);
        assert!(dearest > free.estimate_usd, "no fallback dearer than the first: {dearest}");
        // Room for the first and not for the dearest fallback.
        let left = (free.estimate_usd + dearest) / 2.0;
        let view = budget_left(left);
        let ctx = Context { now: TODAY, budget: Some(&view), ..Context::default() };
        let r = a.route(&c, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.budget.as_deref(), r.estimate_usd), (Some("ok"), free.estimate_usd));
        assert!(
            r.fallbacks.len() < free.fallbacks.len(),
            "{} of {}",
            r.fallbacks.len(),
            free.fallbacks.len()
        );
        assert!(r.fallbacks.iter().all(|f| price(f) <= left), "a fallback past the budget");
    }

    #[test]
    fn health_is_read_in_rank_order_up_to_the_first_candidate_that_admits() {
        // Every read is a call out of the VM in Envoy.
        struct Counting(std::cell::Cell<usize>);
        impl Live for Counting {
            fn health(&self, _key: &str) -> Option<Health> {
                self.0.set(self.0.get() + 1);
                None
            }
        }
        let c = config();
        let reads = |extra: &str| {
            let live = Counting(std::cell::Cell::new(0));
            let ctx = Context { now: TODAY, live: Some(&live), ..Context::default() };
            let body = chat("standard", extra);
            let r = analyze(&c, body.as_bytes())
                .and_then(|a| a.route(&c, &ctx))
                .unwrap_or_else(|e| panic!("{e}"));
            (live.0.get(), r.fallbacks.len())
        };
        let (n, fallbacks) = reads("");
        assert!(fallbacks >= 2, "{fallbacks}");
        assert_eq!(n, 2, "the first candidate's provider and deployment records only");
        // `fast` ranks by observed latency, so it reads every deployment.
        let (n, fallbacks) = reads(r#","prefer":"fast""#);
        assert!(n > fallbacks + 2, "{n} reads for {fallbacks} fallbacks");
    }

    #[test]
    fn a_fallback_body_carries_the_fallbacks_model_id_and_nothing_else_changes() {
        let body = r#"{"model":"gpt-oss-120b","prefer":"cheap","temperature":0.5,"messages":[{"role":"user","content":"x"}]}"#;
        let route = route_chat(&config(), body.as_bytes(), TODAY).unwrap_or_else(|e| panic!("{e}"));
        let out = route.layout.rewrite(body.as_bytes(), "openai/gpt-oss-120b");
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"model":"openai/gpt-oss-120b","temperature":0.5,"messages":[{"role":"user","content":"x"}]}"#
        );
    }
}
