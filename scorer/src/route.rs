//! The routing decision: which endpoint a request is, and for chat requests which model and
//! provider serve it and what body they receive.

use crate::auto::{self, AutoScore, Remembered};
use crate::catalog::{Deployment, Tier};
use crate::config::Config;
use crate::error::{ApiError, echo};
use crate::rank::{Prefer, rank};
use crate::request::{ChatRequest, parse_chat};

/// The chat completions path.
pub const CHAT_PATH: &str = "/v1/chat/completions";

/// What the router does with a request, known from its method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`: buffer the body and route it.
    Chat,
    /// Anything else: the router leaves it alone.
    NotRouted,
}

/// Classifies a request from its `:method` and `:path` (query string ignored).
pub fn endpoint(method: &str, path: &str) -> Result<Endpoint, ApiError> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path != CHAT_PATH {
        return Ok(Endpoint::NotRouted);
    }
    if method == "POST" {
        Ok(Endpoint::Chat)
    } else {
        Err(ApiError {
            status: 405,
            message: format!("method {} is not allowed on {CHAT_PATH}: use POST", echo(method)),
            kind: "invalid_request_error",
            param: None,
            code: "method_not_allowed",
        })
    }
}

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

/// A shared-data write the glue performs after routing: the conversation's remembered tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Shared-data key (one of a bounded number of slots).
    pub key: String,
    /// The conversation's hash (guards the slot against collisions).
    pub hash: u64,
    /// What to remember.
    pub remembered: Remembered,
}

impl Memory {
    /// The value to store, joined with what another worker may have stored meanwhile
    /// (`current` is the slot's value at the time of writing).
    pub fn value(&self, current: Option<&[u8]>) -> String {
        let other = current.and_then(|v| Remembered::decode(v, self.hash));
        self.remembered.merge(other).encode(self.hash)
    }
}

/// A routed request: where it goes and the body it carries there.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The body for the provider.
    pub body: Vec<u8>,
    /// Catalog model id (what a client can pin).
    pub model: String,
    /// Provider name.
    pub provider: String,
    /// Envoy cluster to send to.
    pub cluster: String,
    /// Model id written into the body.
    pub upstream_model: String,
    /// Tier of the chosen model.
    pub tier: Tier,
    /// The effective `prefer`.
    pub prefer: Prefer,
    /// Tier, pinned or auto.
    pub selection: Selection,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// The auto decision, for `model: "auto"`.
    pub auto: Option<AutoReport>,
    /// What to remember for stickiness, for `model: "auto"` without a fixed tier.
    pub memory: Option<Memory>,
}

/// A parsed, scored request waiting for the glue's remembered state.
pub struct Analysis<'a> {
    body: &'a [u8],
    req: ChatRequest<'a>,
    auto: Option<AutoScore>,
}

/// Shared-data key prefix of the stickiness slots.
pub const STICKY_KEY_PREFIX: &str = "model_router.sticky.";

/// Parses and, for `model: "auto"`, scores a chat completions body.
pub fn analyze<'a>(config: &Config, body: &'a [u8]) -> Result<Analysis<'a>, ApiError> {
    let req = parse_chat(body)?;
    let auto = (req.model == "auto").then(|| auto::score(&req.features, &config.auto));
    Ok(Analysis { body, req, auto })
}

impl Analysis<'_> {
    /// The auto score, when the request asked for `auto`.
    pub fn auto(&self) -> Option<&AutoScore> {
        self.auto.as_ref()
    }

    /// Where this conversation's remembered tier lives: (shared-data key, conversation hash).
    /// Only for `auto` without a client-fixed `tier`.
    pub fn sticky_slot(&self, config: &Config) -> Option<(String, u64)> {
        if self.auto.is_none() || self.req.tier.is_some() || config.sticky.slots == 0 {
            return None;
        }
        let hash = self.req.features.start_hash;
        Some((format!("{STICKY_KEY_PREFIX}{}", hash % config.sticky.slots), hash))
    }

    /// Chooses model and provider. `remembered` is the conversation's stored state (decoded by
    /// the caller from [`Analysis::sticky_slot`]), `now` seconds since the epoch.
    pub fn route(self, config: &Config, remembered: Option<&[u8]>, now: u64) -> Result<Route, ApiError> {
        let req = &self.req;
        let model = req.model.as_ref();
        let deployments = &config.catalog.deployments;
        let mut prefer = req.prefer.unwrap_or(config.default_prefer);
        let mut report = None;
        let mut memory = None;

        let (selection, mut cands): (Selection, Vec<&Deployment>) = if let Some(auto) = &self.auto {
            let tier = match (req.tier, self.sticky_slot(config)) {
                (Some(fixed), _) => fixed,
                (None, Some((key, hash))) => {
                    let prior = remembered.and_then(|v| Remembered::decode(v, hash));
                    let (tier, keep) = auto::sticky(auto.tier, prior, now, config.sticky.ttl_secs);
                    memory = Some(Memory { key, hash, remembered: keep });
                    tier
                }
                (None, None) => auto.tier,
            };
            if req.prefer.is_none() && auto.code {
                prefer = Prefer::Coding;
            }
            report = Some(AutoReport {
                tier: auto.tier,
                score: auto.score,
                reasons: auto.reasons.clone(),
                sticky: req.tier.is_none() && tier > auto.tier,
            });
            (Selection::Auto, deployments.iter().filter(|d| d.tier == tier).collect())
        } else if let Some(tier) = Tier::parse(model) {
            if let Some(t) = req.tier.filter(|t| *t != tier) {
                return Err(ApiError::invalid(
                    "tier_conflict",
                    Some("tier"),
                    format!("tier '{t}' contradicts model '{tier}': send one of them"),
                ));
            }
            (Selection::Tier, deployments.iter().filter(|d| d.tier == tier).collect())
        } else {
            let pinned: Vec<&Deployment> = deployments.iter().filter(|d| d.id == model).collect();
            if pinned.is_empty() {
                return Err(unknown_model(config, model));
            }
            (Selection::Pinned, pinned)
        };

        let est = req.estimate(config.default_output_tokens);
        rank(&mut cands, prefer, &est);
        let Some(best) = cands.first() else {
            return Err(unknown_model(config, model));
        };
        Ok(Route {
            body: req.rewrite(self.body, &best.upstream_id),
            model: best.id.clone(),
            provider: best.provider.clone(),
            cluster: best.cluster.clone(),
            upstream_model: best.upstream_id.clone(),
            tier: best.tier,
            prefer,
            selection,
            stream: req.stream,
            auto: report,
            memory,
        })
    }
}

/// Routes a chat completions body with no remembered state (tests, the CLI).
pub fn route_chat(config: &Config, body: &[u8]) -> Result<Route, ApiError> {
    analyze(config, body)?.route(config, None, 0)
}

/// Most model ids listed in an unknown-model error.
const MAX_LISTED: usize = 50;

fn unknown_model(config: &Config, model: &str) -> ApiError {
    let mut ids: Vec<&str> = config.catalog.deployments.iter().map(|d| d.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let more = ids.len().saturating_sub(MAX_LISTED);
    ids.truncate(MAX_LISTED);
    let mut list = ids.join(", ");
    if more > 0 {
        list.push_str(&format!(" (and {more} more)"));
    }
    ApiError::invalid(
        "model_not_found",
        Some("model"),
        format!(
            "model {} is not a tier or a known model: use auto, economy, standard, premium, or one of: {list}",
            echo(model)
        ),
    )
    .with_status(404)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"))
    }

    fn chat(model: &str, extra: &str) -> String {
        format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]{extra}}}"#)
    }

    #[test]
    fn endpoints() {
        assert_eq!(endpoint("POST", "/v1/chat/completions"), Ok(Endpoint::Chat));
        assert_eq!(endpoint("POST", "/v1/chat/completions?x=1"), Ok(Endpoint::Chat));
        assert_eq!(endpoint("GET", "/healthz"), Ok(Endpoint::NotRouted));
        assert_eq!(endpoint("POST", "/v1/chat/completions/"), Ok(Endpoint::NotRouted));
        assert_eq!(endpoint("GET", "/v1/chat/completions").map_err(|e| e.status), Err(405));
    }

    /// The golden routing table (`testdata/routing/builtin_catalog.json`), shared with the
    /// real-Envoy tests and the README.
    #[test]
    fn golden_routing_table() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../testdata/routing/builtin_catalog.json"))
                .unwrap_or_default();
        let cases = doc["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() >= 20);
        let c = config();
        for case in cases {
            let model = case["model"].as_str().unwrap_or_default();
            let extra = case["prefer"].as_str().map(|p| format!(r#","prefer":"{p}""#)).unwrap_or_default();
            let r = route_chat(&c, chat(model, &extra).as_bytes()).unwrap_or_else(|e| panic!("{case}: {e}"));
            let selection = r.selection.as_str();
            assert_eq!(
                (r.model.as_str(), r.provider.as_str(), selection),
                (
                    case["expect_model"].as_str().unwrap_or_default(),
                    case["expect_provider"].as_str().unwrap_or_default(),
                    case["expect_selection"].as_str().unwrap_or_default()
                ),
                "{case}"
            );
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            assert_eq!(body["model"], r.upstream_model.as_str());
            assert!(body.get("prefer").is_none());
        }
    }

    #[test]
    fn default_prefer_is_balanced() {
        let r = route_chat(&config(), chat("economy", "").as_bytes());
        assert_eq!(r.map(|r| (r.model, r.prefer)), Ok(("gemini-2.5-flash".into(), Prefer::Balanced)));
    }

    #[test]
    fn pinned_model_routes_directly() {
        let r = route_chat(&config(), chat("claude-opus-4-7", r#","prefer":"cheap""#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.model.as_str(), r.provider.as_str(), r.selection),
            ("claude-opus-4-7", "anthropic", Selection::Pinned)
        );
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            r#"{"model":"claude-opus-4-7","messages":[{"role":"user","content":"hello"}]}"#
        );
    }

    #[test]
    fn upstream_id_and_cluster_come_from_the_catalog() {
        let cfg = br#"{"clusters":{"cerebras":"egress-cerebras"},"catalog":{"providers":{"cerebras":{},"p":{}},"models":[
            {"id":"small","tier":"economy","provider":"cerebras","upstream_id":"vendor/small-v2","context_window":1000,"max_output":10,"price_in":0,"price_out":0},
            {"id":"mid","tier":"standard","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"big","tier":"premium","provider":"p","context_window":1000,"max_output":10,"price_in":2,"price_out":2}]}}"#;
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        let r = route_chat(&c, chat("economy", "").as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.model.as_str(), r.cluster.as_str(), r.upstream_model.as_str()),
            ("small", "egress-cerebras", "vendor/small-v2")
        );
        assert!(String::from_utf8_lossy(&r.body).starts_with(r#"{"model":"vendor/small-v2","#));
    }

    #[test]
    fn routing_errors() {
        let c = config();
        let cases: [(String, u16, &str); 3] = [
            (chat("gpt-9", ""), 404, "model_not_found"),
            (chat("economy", r#","tier":"premium""#), 400, "tier_conflict"),
            (chat("Economy", ""), 404, "model_not_found"),
        ];
        for (body, status, code) in cases {
            let e = route_chat(&c, body.as_bytes()).err();
            assert_eq!(e.map(|e| (e.status, e.code)), Some((status, code)), "{body}");
        }
    }

    #[test]
    fn unknown_model_lists_valid_choices() {
        let e = route_chat(&config(), chat("gpt-9", "").as_bytes()).err();
        let msg = e.map(|e| e.message).unwrap_or_default();
        assert!(msg.contains("'gpt-9'") && msg.contains("economy") && msg.contains("gpt-4.1-mini"), "{msg}");
    }

    /// `testdata/auto/golden.json`: every feature and pitfall, through `route_chat` (the code
    /// path the filter and the CLI share).
    #[test]
    fn auto_golden_cases() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../testdata/auto/golden.json")).unwrap_or_default();
        let cases = doc["cases"].as_array().cloned().unwrap_or_default();
        assert!(cases.len() >= 15);
        let c = config();
        for case in cases {
            let body = case["request"].to_string();
            let r = route_chat(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
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

    #[test]
    fn auto_tier_only_escalates_within_a_conversation() {
        let c = config();
        let ask = "What would be the long-term consequences for monetary policy, bank solvency and public \
                   debt markets if a large eurozone member left the currency union during a recession?";
        let hard = auto_chat(ask, "");
        let turn1 = analyze(&c, hard.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let (key, _) = turn1.sticky_slot(&c).unwrap_or_else(|| panic!("no slot"));
        let r1 = turn1.route(&c, None, 1000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r1.tier, Tier::Standard);
        let memory = r1.memory.unwrap_or_else(|| panic!("nothing to remember"));
        assert_eq!(memory.key, key);
        let stored = memory.value(None);

        // Turn 2 of the same conversation (same start) scores low on its own...
        let easy = format!(
            r#"{{"model":"auto","messages":[{{"role":"system","content":"sys"}},{{"role":"user","content":"{ask}"}},
            {{"role":"assistant","content":"Done."}},{{"role":"user","content":"thanks!"}}]}}"#
        );
        let turn2 = analyze(&c, easy.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(turn2.sticky_slot(&c).map(|s| s.0), Some(key));
        let alone = analyze(&c, easy.as_bytes()).and_then(|a| a.route(&c, None, 1000));
        assert_eq!(alone.map(|r| r.tier), Ok(Tier::Economy));
        // ...but with the remembered tier it stays where turn 1 was, and says why.
        let r2 = turn2.route(&c, Some(stored.as_bytes()), 1100).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r2.tier, Tier::Standard);
        let report = r2.auto.unwrap_or_else(|| panic!("no report"));
        assert_eq!((report.tier, report.sticky), (Tier::Economy, true));
        // After the TTL the memory no longer holds.
        let turn2 = analyze(&c, easy.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let late = turn2.route(&c, Some(stored.as_bytes()), 1000 + c.sticky.ttl_secs + 1);
        assert_eq!(late.map(|r| r.tier), Ok(Tier::Economy));
    }

    #[test]
    fn fixed_tier_beside_auto_wins_and_auto_is_still_reported() {
        let c = config();
        let body = auto_chat("hi", r#","tier":"premium","prefer":"cheap""#);
        let a = analyze(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.sticky_slot(&c).is_none(), "a fixed tier needs no memory");
        let r = a.route(&c, None, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.tier, r.prefer, r.selection), (Tier::Premium, Prefer::Cheap, Selection::Auto));
        assert_eq!(r.auto.map(|a| a.tier), Some(Tier::Economy));
        assert!(r.memory.is_none());
        let body = String::from_utf8_lossy(&r.body).into_owned();
        assert!(!body.contains("tier") && !body.contains("prefer"), "{body}");
    }

    #[test]
    fn code_conversations_rank_by_coding_unless_prefer_is_given() {
        let c = config();
        let code = auto_chat(r#"Fix this:\n```rust\nfn main() { let x: i32 = \"a\"; }\n```"#, "");
        let r = route_chat(&c, code.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Coding);
        assert_eq!(r.model, "claude-sonnet-4-6");
        let r = route_chat(
            &c,
            auto_chat(r#"Fix this:\n```rust\nfn main() {}\n```"#, r#","prefer":"cheap""#).as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Cheap);
        let r = route_chat(&c, auto_chat("What is the capital of France?", "").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.prefer, Prefer::Balanced);
    }

    #[test]
    fn stickiness_can_be_turned_off() {
        let c = Config::from_json(br#"{"sticky":{"slots":0}}"#).unwrap_or_else(|e| panic!("{e}"));
        let body = auto_chat("hello", "");
        let r = route_chat(&c, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.memory.is_none());
    }
}
