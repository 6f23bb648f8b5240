//! Candidate selection under constraints: retired models, APIs the router does not translate,
//! provider policy, capabilities (tools, images, JSON schema, reasoning parameters) and the
//! context window. A tier with no fitting model escalates to the next tier up, and says why.

use crate::catalog::{Api, Deployment, Tier};
use crate::config::Config;
use crate::decide::images::Images;
use crate::decide::upstream::{Fallback, Upstream};
use crate::error::{ApiError, echo};
use crate::parse::chat::IMAGE_TOKENS;
use crate::parse::request::{ChatRequest, MaxPrice};
use crate::vocab::{Estimate, Policy};

/// Bytes per token for the context guard: deliberately fewer than the ~4 of English text, so
/// the estimate errs on the large side and a request is not sent to a window it overflows.
pub const GUARD_BYTES_PER_TOKEN: u64 = 3;

/// What a request needs from a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Needs {
    /// Tool definitions were sent.
    pub tools: bool,
    /// Image parts were sent.
    pub vision: bool,
    /// `response_format` with a JSON schema.
    pub json_schema: bool,
    /// Reasoning parameters were sent.
    pub reasoning: bool,
    /// `modalities` asks for audio output.
    pub audio_output: bool,
    /// Conservative input estimate: `ceil(bytes / 3) + 4 per message`, and `IMAGE_TOKENS` per
    /// image.
    pub input_tokens: u64,
    /// Output tokens the client asked for, if it did.
    pub output_requested: Option<u64>,
    /// The field that asked for them (`max_tokens` or `max_completion_tokens`).
    pub output_param: &'static str,
    /// They are a ceiling (`max_tokens_ceiling`), not a size the answer needs: no model is
    /// left out for a smaller output limit.
    pub output_ceiling: bool,
    /// Output assumed when it did not.
    pub output_default: u64,
    /// The request's price ceiling.
    pub max_price: Option<MaxPrice>,
    /// Its images: some APIs refuse some numbers and sizes of them.
    pub images: Images,
    /// It carries audio (an `input_audio` part), which some providers bill apart.
    pub audio: bool,
}

impl Needs {
    /// From a parsed request and its body's size.
    pub fn of(req: &ChatRequest<'_>, default_output: u64, body_len: usize) -> Needs {
        let f = &req.features;
        Needs {
            tools: f.tools_declared > 0,
            vision: f.images > 0,
            json_schema: f.json_schema,
            reasoning: f.reasoning_param,
            audio_output: req.audio_output,
            input_tokens: (req.text_bytes as u64).div_ceil(GUARD_BYTES_PER_TOKEN)
                + 4 * req.messages as u64
                + IMAGE_TOKENS * u64::from(f.images),
            output_requested: req.max_output_tokens,
            output_param: req.max_output_param,
            output_ceiling: req.output_ceiling,
            output_default: default_output,
            max_price: req.max_price,
            images: Images {
                count: f.images,
                side: req.image_side,
                request_bytes: if f.images > 0 { body_len } else { 0 },
            },
            audio: req.layout().asks() & crate::catalog::ASKS_AUDIO != 0,
        }
    }

    /// The output cap `d` may be sent: its limit, and under a ceiling, or where the client set
    /// no cap to a model of the Messages API (which requires one: the router then sends the
    /// model's limit), no more than its window leaves beside the input: Anthropic refuses input
    /// and `max_tokens` past the window ("input length and `max_tokens` exceed context
    /// limit"), and a request that fits would move to another model. (Other APIs are sent no
    /// cap the client did not set, and may write to their limit: what a stream without usage
    /// is charged and a worst case reserves.) Never less than what [`Needs::tokens_on`]
    /// checked fits.
    pub fn output_room(&self, d: &Deployment) -> u64 {
        if self.output_ceiling || (self.output_requested.is_none() && d.api == Api::Messages) {
            d.max_output.min(d.context_window.saturating_sub(self.input_tokens))
        } else {
            d.max_output
        }
    }

    /// The attempt at `d` for this request: its output room, its audio.
    pub fn upstream(&self, config: &Config, d: &Deployment, stream: bool) -> Upstream {
        Upstream {
            max_output: self.output_room(d),
            audio_input: self.audio,
            ..Upstream::chat(config, d, stream)
        }
    }

    /// `d`, the `deployment`th of the catalog, kept for failover.
    pub fn fallback(&self, deployment: usize, d: &Deployment) -> Fallback {
        Fallback {
            deployment,
            context_window: d.context_window,
            max_output: self.output_room(d),
            audio: self.audio,
        }
    }

    /// Tokens the request may occupy on `d`: input plus the requested (or default, capped at
    /// the model's limit) output; under a ceiling, the default under it.
    pub fn tokens_on(&self, d: &Deployment) -> u64 {
        let usual = self.output_default.min(d.max_output);
        let out = match self.output_requested {
            Some(cap) if self.output_ceiling => cap.min(usual),
            Some(cap) => cap,
            None => usual,
        };
        self.input_tokens.saturating_add(out)
    }
}

/// Why a deployment cannot take a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Past its retirement day.
    Retired,
    /// Reachable only through an API the router does not translate.
    Untranslated,
    /// Its provider is excluded by policy.
    Blocked,
    /// It lacks a capability the request needs.
    Capability(&'static str),
    /// The request does not fit its context window.
    Context,
    /// The requested output is above its output limit.
    Output,
    /// Its price is above the request's `max_price`.
    Price,
}

impl Miss {
    /// A stable name for the reason (`retired`, `untranslated`, `policy`, `capability`,
    /// `context_window`, `output_limit`, `max_price`), for explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Miss::Retired => "retired",
            Miss::Untranslated => "untranslated",
            Miss::Blocked => "policy",
            Miss::Capability(_) => "capability",
            Miss::Context => "context_window",
            Miss::Output => "output_limit",
            Miss::Price => "max_price",
        }
    }
}

/// Checks one deployment against a request.
pub fn check(d: &Deployment, needs: &Needs, policy: &Policy, now: u64) -> Result<(), Miss> {
    // Retirement first: it is final, whatever the API.
    if d.retired(now) {
        return Err(Miss::Retired);
    }
    if !d.api.routable() {
        return Err(Miss::Untranslated);
    }
    if !policy.allows(&d.provider) {
        return Err(Miss::Blocked);
    }
    let missing = [
        (needs.tools && !d.tools, "tools"),
        (needs.vision && !d.vision, "images"),
        (needs.json_schema && !d.structured_output, "json_schema"),
        (needs.reasoning && !d.reasoning, "reasoning"),
        (needs.audio_output && !d.audio_output, "audio output"),
    ];
    if let Some((_, what)) = missing.into_iter().find(|(miss, _)| *miss) {
        return Err(Miss::Capability(what));
    }
    if let Some(what) = needs.images.miss(d) {
        return Err(Miss::Capability(what));
    }
    if !needs.output_ceiling && needs.output_requested.is_some_and(|o| o > d.max_output) {
        return Err(Miss::Output);
    }
    if needs.tokens_on(d) > d.context_window {
        return Err(Miss::Context);
    }
    let (price_in, price_out) = d.rates_with(needs.input_tokens, needs.audio);
    if let Some(max) = needs.max_price
        && (max.prompt.is_some_and(|p| price_in > p) || max.completion.is_some_and(|p| price_out > p))
    {
        return Err(Miss::Price);
    }
    Ok(())
}

/// Candidates found for a tier request.
#[derive(Debug)]
pub struct Selected<'c> {
    /// Deployments that fit, unranked.
    pub cands: Vec<&'c Deployment>,
    /// The tier they are in.
    pub tier: Tier,
    /// Why the requested tier had no fit: `context` or `capability` (the request's needs), or
    /// `policy`, `retired`, `unavailable` (an API the router does not speak) or `max_price`
    /// (every model of the tier excluded).
    pub escalated: Option<&'static str>,
}

/// Deployments of `from` (or, when none fits, of the first tier above it that has one).
pub fn in_tiers<'c>(
    config: &'c Config,
    from: Tier,
    needs: &Needs,
    policy: &Policy,
    now: u64,
) -> Result<Selected<'c>, ApiError> {
    let mut tier = Some(from);
    let mut why: Option<&'static str> = None;
    let mut last_miss = None;
    let mut priced_out = false;
    while let Some(t) = tier {
        let mut cands = Vec::new();
        // What excluded the tier's models when no need did: the escalation still says so.
        let mut excluded = None;
        for d in config.catalog.deployments.iter().filter(|d| d.tier == t) {
            match check(d, needs, policy, now) {
                Ok(()) => cands.push(d),
                Err(m @ (Miss::Capability(_) | Miss::Context | Miss::Output)) => last_miss = Some(m),
                Err(Miss::Price) => {
                    priced_out = true;
                    excluded = Some("max_price");
                }
                Err(Miss::Blocked) => excluded = excluded.or(Some("policy")),
                Err(Miss::Retired) => excluded = excluded.or(Some("retired")),
                Err(Miss::Untranslated) => excluded = excluded.or(Some("unavailable")),
            }
        }
        if !cands.is_empty() {
            return Ok(Selected { cands, tier: t, escalated: why });
        }
        why = why.or(match last_miss {
            Some(Miss::Context | Miss::Output) => Some("context"),
            Some(Miss::Capability(_)) => Some("capability"),
            _ => excluded,
        });
        tier = t.up();
    }
    if priced_out {
        return Err(over_max_price(needs));
    }
    Err(nothing_fits(config, from, needs, policy, now, last_miss))
}

/// [`in_tiers`] for `auto`'s tier `from`. When the router chose it (`fixed`: the client did,
/// with `tier`) and nothing at or above it carries the request (a window, a capability, the
/// caller's policy): the first tier below that does, marked `lowered` (an agent's history past
/// the largest premium window was a 400 `context_length_exceeded` while a standard model's 10M
/// window took it). Its models still meet every need, the client's `max_price` too.
pub fn for_auto<'c>(
    config: &'c Config,
    from: Tier,
    fixed: bool,
    needs: &Needs,
    policy: &Policy,
    now: u64,
) -> Result<Selected<'c>, ApiError> {
    match in_tiers(config, from, needs, policy, now) {
        // Nothing below either: the error of a search of every tier (its largest window is
        // the largest of all, not of those above `from`).
        Err(e) if !fixed => below(config, from, needs, policy, now)
            .ok_or_else(|| in_tiers(config, Tier::Economy, needs, policy, now).err().unwrap_or(e)),
        found => found,
    }
}

/// The first tier below `from` with a model that carries the request ([`for_auto`]).
fn below<'c>(
    config: &'c Config,
    from: Tier,
    needs: &Needs,
    policy: &Policy,
    now: u64,
) -> Option<Selected<'c>> {
    let mut tier = from.down();
    while let Some(t) = tier {
        let cands: Vec<&Deployment> = config
            .catalog
            .deployments
            .iter()
            .filter(|d| d.tier == t && check(d, needs, policy, now).is_ok())
            .collect();
        if !cands.is_empty() {
            return Some(Selected { cands, tier: t, escalated: Some("lowered") });
        }
        tier = t.down();
    }
    None
}

fn over_max_price(needs: &Needs) -> ApiError {
    let show = |v: Option<f64>| v.map_or_else(|| "any".to_string(), |p| format!("${p}"));
    let (prompt, completion) = needs.max_price.map_or((None, None), |m| (m.prompt, m.completion));
    ApiError::invalid(
        "no_model_within_max_price",
        Some("max_price"),
        format!(
            "no model that fits this request costs at most {} per million input tokens and {} per million output tokens: raise max_price or choose another tier",
            show(prompt),
            show(completion)
        ),
    )
}

/// Deployments of a pinned model that can take the request, or why none can.
pub fn pinned<'c>(
    config: &'c Config,
    id: &str,
    needs: &Needs,
    policy: &Policy,
    now: u64,
) -> Result<Vec<&'c Deployment>, ApiError> {
    let all: Vec<&Deployment> = config.catalog.deployments.iter().filter(|d| d.id == id).collect();
    let mut cands = Vec::new();
    let mut misses = Vec::new();
    for d in &all {
        match check(d, needs, policy, now) {
            Ok(()) => cands.push(*d),
            Err(m) => misses.push((m, *d)),
        }
    }
    if !cands.is_empty() {
        return Ok(cands);
    }
    // Report the most specific reason: what the request asked for beats what the catalog says.
    let pick = |want: fn(&Miss) -> bool| misses.iter().find(|(m, _)| want(m));
    let model = echo(id);
    let err = if pick(|m| *m == Miss::Price).is_some() && misses.iter().all(|(m, _)| *m == Miss::Price) {
        over_max_price(needs)
    } else if let Some((Miss::Output, d)) = pick(|m| *m == Miss::Output) {
        let (param, asked) = (needs.output_param, needs.output_requested.unwrap_or(0));
        ApiError::invalid(
            "invalid_value",
            Some(param),
            format!(
                "{param} is {asked}, but model {model} produces at most {} output tokens: lower {param}, \
                 or use a tier to get a model that produces more",
                d.max_output
            ),
        )
    } else if let Some((Miss::Context, d)) = pick(|m| *m == Miss::Context) {
        ApiError::invalid(
            "context_length_exceeded",
            Some("messages"),
            format!(
                "model {model} holds {} tokens; this request needs about {} (input estimate plus output): \
                 shorten it, lower max_tokens, or use a tier to get a larger model",
                d.context_window,
                needs.tokens_on(d)
            ),
        )
    } else if let Some((Miss::Capability(what), _)) = pick(|m| matches!(m, Miss::Capability(_))) {
        ApiError::invalid(
            "unsupported_capability",
            Some(if *what == "audio output" { "modalities" } else { "model" }),
            format!("model {model} does not support {what}: use a tier to get a model that does"),
        )
    } else if pick(|m| *m == Miss::Blocked).is_some() {
        // Every one the policy excludes, not the first.
        let blocked: Vec<&str> =
            misses.iter().filter(|(m, _)| *m == Miss::Blocked).map(|(_, d)| d.provider.as_str()).collect();
        ApiError::invalid(
            "provider_blocked",
            Some("provider"),
            format!(
                "model {model} is served only by providers your policy excludes ({})",
                blocked.join(", ")
            ),
        )
        .with_status(403)
    } else if let Some((_, d)) = pick(|m| *m == Miss::Retired) {
        ApiError::invalid(
            "model_retired",
            Some("model"),
            format!(
                "model {model} was retired on {}: use model '{}' (or auto) for a current model of its tier",
                d.retires_text.as_deref().unwrap_or("an earlier date"),
                d.tier
            ),
        )
    } else {
        let (api, tier) = all.first().map_or(("unknown", "standard"), |d| (d.api.as_str(), d.tier.as_str()));
        ApiError::invalid(
            "model_not_routable",
            Some("model"),
            format!(
                "model {model} is served only through the {api} API, which this version does not \
                 translate: use model '{tier}' (or auto)"
            ),
        )
    };
    Err(err)
}

/// Why no tier from `from` up had a model for the request.
fn nothing_fits(
    config: &Config,
    from: Tier,
    needs: &Needs,
    policy: &Policy,
    now: u64,
    last: Option<Miss>,
) -> ApiError {
    let current = || {
        config
            .catalog
            .deployments
            .iter()
            .filter(|d| d.api.routable() && !d.retired(now) && policy.allows(&d.provider))
    };
    let most_output = current().filter(|d| d.tier >= from).map(|d| d.max_output).max().unwrap_or(0);
    match last {
        // Blame the output limit only when no current model could produce that much.
        Some(Miss::Context | Miss::Output) if needs.output_requested.is_some_and(|o| o > most_output) => {
            let (param, asked) = (needs.output_param, needs.output_requested.unwrap_or(0));
            ApiError::invalid(
                "invalid_value",
                Some(param),
                format!(
                    "{param} is {asked}, but no available model produces more than {most_output} output \
                     tokens: lower {param}"
                ),
            )
        }
        Some(Miss::Context | Miss::Output) => {
            // Of the tiers searched: a larger window below them is no answer to this request.
            let largest = current().filter(|d| d.tier >= from).map(|d| d.context_window).max().unwrap_or(0);
            ApiError::invalid(
                "context_length_exceeded",
                Some("messages"),
                format!(
                    "this request needs about {} input tokens (a conservative estimate) plus its output; \
                     the largest context window available is {largest} tokens",
                    needs.input_tokens
                ),
            )
        }
        Some(Miss::Capability(what)) => ApiError::invalid(
            "unsupported_capability",
            (what == "audio output").then_some("modalities"),
            format!("no available model supports {what} with the other features this request uses"),
        ),
        // Every model from that tier up has passed its `retires` day, whatever the policy: the
        // catalog's to mend, not the policy's (it was a 403 blaming the policy). Where current
        // models are there but the policy leaves them out, the policy is to blame.
        _ if !(config.catalog.deployments.iter())
            .any(|d| d.tier >= from && d.api.routable() && !d.retired(now)) =>
        {
            ApiError::server(
                503,
                "no_current_model",
                format!(
                    "every model of tier {} and above has retired: the gateway's catalog needs a current one",
                    from.as_str()
                ),
            )
        }
        _ => ApiError::invalid(
            "no_allowed_provider",
            Some("provider"),
            "no provider allowed for this request serves a current model: check the provider policy",
        )
        .with_status(403),
    }
}

/// `req`'s estimate under `config`, marked for its worst case ([`Estimate::worst_case`]) under
/// a ceiling, and with `budgets.reserve_max_output` without an output cap; with its `body`
/// when budgets hold it, what they hold for its text outside ASCII
/// ([`crate::parse::chat::wide_tokens`]).
pub(crate) fn estimate_of(config: &Config, req: &ChatRequest<'_>, body: Option<&[u8]>) -> Estimate {
    let mut est = req.estimate(config.default_output_tokens);
    est.wide_input = body.map_or(0, crate::parse::chat::wide_tokens);
    let choices = req.choices.unwrap_or(1).max(1);
    match req.max_output_tokens {
        // The worst case of a ceiling: each model's whole output, up to the ceiling. It is the
        // client's cap, as a chat `max_tokens` is, and reserves what it may be billed: on the
        // usual output, 20 concurrent Messages requests of Claude Code's 32,000 ran a $0.10
        // limit to $5.64.
        Some(cap) if req.output_ceiling => est.worst_case = Some((choices, cap)),
        _ if !config.budgets.reserve_max_output => {}
        None => est.worst_case = Some((choices, u64::MAX)),
        Some(_) => {}
    }
    est
}
