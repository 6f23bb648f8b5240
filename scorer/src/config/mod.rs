//! Plugin configuration: the JSON in Envoy's wasm `configuration`, read in two stages:
//! [`RawConfig`] (serde, unknown fields refused) and the validated [`Config`].
//!
//! It gathers each stage's settings and validates them together; it may import `catalog`,
//! `health`, `account` (budget settings) and `vocab`, never `decide` or `parse`, so the
//! decision can read the configuration without a cycle. `auto`'s settings live in
//! [`auto`] for that reason.

mod aliases;
pub mod auto;
mod labels;
mod remembered;
mod responses;
mod sanity;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

pub use self::aliases::ModelAliases;
use self::auto::{AutoConfig, AutoError, RawAutoConfig};
pub use self::labels::metric_segment;
pub use self::remembered::{PrefixCacheConfig, StickyConfig};
pub use self::responses::ResponsesConfig;
use crate::account::budget::BudgetConfig;
use crate::catalog::{BUILTIN_CATALOG, Catalog, CatalogError, RawCatalog, is_token};
use crate::health::ResilienceConfig;
use crate::vocab::{Policy, Prefer, RawPolicy};

/// The request header the filter sets and the Envoy route reads with `cluster_header`.
pub const DEFAULT_CLUSTER_HEADER: &str = "x-model-router-cluster";

/// Request headers carrying a client's own credentials or session: never a `client_header`,
/// whose value names metrics, filter state and spend keys (and the glue removes them from every
/// routed request, so a client key or cookie never reaches a provider).
pub const CREDENTIAL_HEADERS: [&str; 6] =
    ["authorization", "x-api-key", "api-key", "x-goog-api-key", "proxy-authorization", "cookie"];

/// Headers that carry the request itself: never a `cluster_header`, which the router strips
/// from every client request.
const RESERVED_HEADERS: [&str; 8] = [
    "authorization",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "te",
    "transfer-encoding",
    "x-api-key",
];

/// Output tokens assumed when a request sets no `max_tokens` / `max_completion_tokens`.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 512;

/// The configuration as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Request header carrying the chosen cluster to Envoy's route.
    pub cluster_header: Option<String>,
    /// `prefer` used when the request names none.
    pub default_prefer: Option<String>,
    /// Output tokens assumed for price estimates when the request sets no limit.
    pub default_output_tokens: Option<u64>,
    /// Provider name -> Envoy cluster, overriding the catalog's clusters.
    #[serde(default)]
    pub clusters: BTreeMap<String, String>,
    /// A catalog replacing the built-in one.
    pub catalog: Option<RawCatalog>,
    /// `auto` weights and thresholds (or shares).
    #[serde(default)]
    pub auto: RawAutoConfig,
    /// Stickiness of `auto` tiers within a conversation.
    #[serde(default)]
    pub sticky: StickyConfig,
    /// `auto`'s scan of earlier turns, remembered for the next turn.
    #[serde(default)]
    pub prefix_cache: PrefixCacheConfig,
    /// Providers no request may reach.
    #[serde(default)]
    pub blocked_providers: Vec<String>,
    /// Request header naming the caller (set by an auth filter in front), for `clients`.
    pub client_header: Option<String>,
    /// Per-client provider policies, by the value of `client_header`.
    #[serde(default)]
    pub clients: BTreeMap<String, RawPolicy>,
    /// `provider/model` deployments to price at zero (free tiers): they win `prefer: cheap`.
    #[serde(default)]
    pub free: Vec<String>,
    /// Failover and circuit breakers.
    #[serde(default)]
    pub resilience: ResilienceConfig,
    /// Daily spend limits.
    #[serde(default)]
    pub budgets: BudgetConfig,
    /// Write what ran as filter state (`wasm.model_router.*`) for access logs (default true).
    pub filter_state: Option<bool>,
    /// Ask Anthropic to cache a conversation the client marked no breakpoints in (default true).
    pub anthropic_auto_cache: Option<bool>,
    /// How Responses API requests (`/v1/responses`) are served.
    #[serde(default)]
    pub responses: ResponsesConfig,
    /// Model names the catalog does not have -> `auto`, a tier or a catalog model (a name
    /// ending in `*` is a prefix).
    #[serde(default)]
    pub model_aliases: BTreeMap<String, String>,
}

/// The validated configuration the router runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Lower-case request header name read by the route's `cluster_header`.
    pub cluster_header: String,
    /// `prefer` when the request has none.
    pub default_prefer: Prefer,
    /// Output tokens assumed when the request sets no limit.
    pub default_output_tokens: u64,
    /// Models and providers.
    pub catalog: Catalog,
    /// `auto` weights and thresholds.
    pub auto: AutoConfig,
    /// Stickiness of `auto` tiers.
    pub sticky: StickyConfig,
    /// `auto`'s remembered scans of earlier turns.
    pub prefix_cache: PrefixCacheConfig,
    /// Policy for every request.
    pub policy: Policy,
    /// Lower-case header naming the caller, when client policies are used.
    pub client_header: Option<String>,
    /// Client policies (already combined with `policy`).
    pub clients: BTreeMap<String, Policy>,
    /// Failover and circuit breakers.
    pub resilience: ResilienceConfig,
    /// Daily spend limits.
    pub budgets: BudgetConfig,
    /// Write what ran as filter state for access logs: eleven host calls per request, which
    /// a gateway whose access log does not read them can skip.
    pub filter_state: bool,
    /// A request to Anthropic's Messages API that holds tool calls or results (an agent's
    /// next step) and marks no cache breakpoint asks Anthropic to cache it (the top-level
    /// `cache_control`, which puts the breakpoint on the last block and moves it as the
    /// conversation grows): OpenAI's and Google's caches are automatic, Anthropic's is not,
    /// and an agent resends its conversation on every step.
    pub anthropic_auto_cache: bool,
    /// How Responses API requests are served.
    pub responses: ResponsesConfig,
    /// Client model names routed as another (`model_aliases`).
    pub model_aliases: ModelAliases,
}

impl Config {
    /// The policy for a caller (`None`: no or unknown client header).
    pub fn policy_for(&self, client: Option<&str>) -> &Policy {
        client.and_then(|c| self.clients.get(c)).unwrap_or(&self.policy)
    }

    /// The configuration names this client id (in `clients` or `budgets.clients`): its metrics
    /// carry it. Other ids are the caller's to choose, and each would be a metric Envoy keeps
    /// for good.
    pub fn names_client(&self, id: &str) -> bool {
        self.clients.contains_key(id) || self.budgets.clients.contains_key(id)
    }
}

/// Why a configuration was refused. The plugin logs it and does not load.
#[derive(Clone, PartialEq)]
pub enum ConfigError {
    /// Not JSON, or not of the documented shape (the message names the field).
    Json(String),
    /// The catalog (built in or configured) is invalid.
    Catalog(CatalogError),
    /// A name that is empty, too long, or has characters unsafe in headers or cluster names.
    BadName {
        /// Which kind of name.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// `clusters` names a provider the catalog does not have.
    UnknownClusterOverride(String),
    /// `default_prefer` is not a valid `prefer` value.
    BadDefaultPrefer(String),
    /// `default_output_tokens` is zero.
    ZeroOutputTokens,
    /// A memory's `ttl_secs` is zero: it would keep nothing (`slots: 0` turns it off).
    ZeroTtl(&'static str),
    /// `auto` thresholds are not ordered inside (0, 1], or a weight is not finite.
    BadAutoThresholds,
    /// `auto.premium_share` / `auto.economy_share` refused (the variant says why).
    BadAutoShares(AutoError),
    /// A policy names a provider the catalog does not have.
    UnknownPolicyProvider(String),
    /// A `free` entry names no deployment of the catalog.
    UnknownFree(String),
    /// Two client ids the configuration names would share one metric label
    /// ([`metric_segment`]): their spend and limits would be drawn as one.
    ClientsShareLabel(String, String),
    /// A client whose metric label is `other`, every unnamed client's.
    ReservedClient(String),
    /// A `resilience` or `budgets` setting out of range (the message names it).
    BadResilience(String),
    /// A `responses` setting refused (the message names it).
    BadResponses(String),
    /// A `model_aliases` entry refused (the message names it).
    BadModelAliases(String),
    /// A per-client setting (named) without `client_header`: no request would have a client.
    NeedsClientHeader(&'static str),
    /// A header name the router cannot use for this (named), and why.
    BadHeader {
        /// Which setting.
        what: &'static str,
        /// The header.
        value: String,
        /// Why not.
        why: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Json(e) => write!(f, "configuration is not valid: {e}"),
            ConfigError::Catalog(e) => e.fmt(f),
            ConfigError::BadName { what, value } => {
                write!(f, "{what} {value:?} is invalid: {}", crate::catalog::name_rule(what))
            }
            ConfigError::UnknownClusterOverride(p) => {
                write!(f, "clusters: provider '{p}' is not in the catalog")
            }
            ConfigError::BadDefaultPrefer(p) => {
                write!(f, "default_prefer '{p}' is invalid: use one of {}", Prefer::NAMES.join(", "))
            }
            ConfigError::ZeroOutputTokens => write!(f, "default_output_tokens must be at least 1"),
            ConfigError::ZeroTtl(what) => {
                write!(f, "{what}.ttl_secs must be at least 1: it would keep nothing (slots 0 turns it off)")
            }
            ConfigError::UnknownPolicyProvider(p) => {
                write!(f, "policy names provider '{p}', which is not in the catalog")
            }
            ConfigError::UnknownFree(e) => {
                write!(
                    f,
                    "free entry {e:?} names no deployment in the catalog: use provider/model as the catalog lists it"
                )
            }
            ConfigError::ClientsShareLabel(a, b) => write!(
                f,
                "clients {a:?} and {b:?} would share the metric label {:?} (anything but A-Z a-z 0-9 - _ reads as _): rename one",
                metric_segment(a)
            ),
            ConfigError::ReservedClient(id) => write!(
                f,
                "client {id:?} would read as \"other\" in the metrics, the label of every client the configuration does not name: rename it"
            ),
            ConfigError::BadResilience(why)
            | ConfigError::BadResponses(why)
            | ConfigError::BadModelAliases(why) => f.write_str(why),
            ConfigError::NeedsClientHeader(what) => write!(
                f,
                "{what} is set but client_header is not: no request would have a client, so it would never apply"
            ),
            ConfigError::BadHeader { what, value, why } => {
                write!(f, "{what} {value:?} cannot be used: {why}")
            }
            ConfigError::BadAutoThresholds => AutoError::Thresholds.fmt(f),
            ConfigError::BadAutoShares(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Catalog(e) => Some(e),
            _ => None,
        }
    }
}

/// Transparent for catalog errors, derived-style for the rest: a catalog error is named the
/// same (`NoProviders`, `EmptyTier(..)`) whether the catalog was loaded alone or in a config.
impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Json(e) => f.debug_tuple("Json").field(e).finish(),
            ConfigError::Catalog(e) => fmt::Debug::fmt(e, f),
            ConfigError::BadName { what, value } => {
                f.debug_struct("BadName").field("what", what).field("value", value).finish()
            }
            ConfigError::UnknownClusterOverride(p) => {
                f.debug_tuple("UnknownClusterOverride").field(p).finish()
            }
            ConfigError::BadDefaultPrefer(p) => f.debug_tuple("BadDefaultPrefer").field(p).finish(),
            ConfigError::ZeroOutputTokens => f.write_str("ZeroOutputTokens"),
            ConfigError::ZeroTtl(what) => f.debug_tuple("ZeroTtl").field(what).finish(),
            ConfigError::BadAutoThresholds => f.write_str("BadAutoThresholds"),
            ConfigError::BadAutoShares(e) => f.debug_tuple("BadAutoShares").field(e).finish(),
            ConfigError::UnknownPolicyProvider(p) => f.debug_tuple("UnknownPolicyProvider").field(p).finish(),
            ConfigError::UnknownFree(e) => f.debug_tuple("UnknownFree").field(e).finish(),
            ConfigError::ClientsShareLabel(a, b) => {
                f.debug_tuple("ClientsShareLabel").field(a).field(b).finish()
            }
            ConfigError::ReservedClient(id) => f.debug_tuple("ReservedClient").field(id).finish(),
            ConfigError::BadResilience(why) => f.debug_tuple("BadResilience").field(why).finish(),
            ConfigError::BadResponses(why) => f.debug_tuple("BadResponses").field(why).finish(),
            ConfigError::BadModelAliases(why) => f.debug_tuple("BadModelAliases").field(why).finish(),
            ConfigError::NeedsClientHeader(what) => f.debug_tuple("NeedsClientHeader").field(what).finish(),
            ConfigError::BadHeader { what, value, .. } => {
                f.debug_struct("BadHeader").field("what", what).field("value", value).finish()
            }
        }
    }
}

impl From<CatalogError> for ConfigError {
    fn from(e: CatalogError) -> Self {
        ConfigError::Catalog(e)
    }
}

impl Config {
    /// Parses and validates plugin configuration bytes; empty input means all defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        let raw: RawConfig = if bytes.iter().all(u8::is_ascii_whitespace) {
            RawConfig::default()
        } else {
            sanity::object_only(bytes)?;
            // A key named twice anywhere: a map kept its last without a word (two `clusters`
            // for one provider, an alias twice, a client's limit twice).
            if let Some(twice) = crate::parse::fields::named_twice(bytes) {
                return Err(ConfigError::Json(twice));
            }
            serde_json::from_slice(bytes).map_err(|e| ConfigError::Json(e.to_string()))?
        };
        Config::try_from(raw)
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Config, ConfigError> {
        let raw_catalog = match raw.catalog {
            Some(c) => c,
            None => serde_json::from_str(BUILTIN_CATALOG)
                .map_err(|e| ConfigError::Json(format!("built-in catalog: {e}")))?,
        };
        let mut catalog = Catalog::try_from(raw_catalog)?;
        for (provider, cluster) in raw.clusters {
            if !catalog.providers.iter().any(|p| p.name == provider) {
                return Err(ConfigError::UnknownClusterOverride(provider));
            }
            if !is_token(&cluster) {
                return Err(ConfigError::BadName { what: "cluster name", value: cluster });
            }
            catalog.move_to_cluster(&provider, &cluster);
        }
        let cluster_header =
            raw.cluster_header.unwrap_or_else(|| DEFAULT_CLUSTER_HEADER.to_string()).to_ascii_lowercase();
        let header_ok = !cluster_header.is_empty()
            && cluster_header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !header_ok {
            return Err(ConfigError::BadName { what: "cluster_header", value: cluster_header });
        }
        if RESERVED_HEADERS.contains(&cluster_header.as_str()) {
            return Err(ConfigError::BadHeader {
                what: "cluster_header",
                value: cluster_header,
                why: "the router strips the cluster header from every client request, and this one carries the request itself",
            });
        }
        let default_prefer = match raw.default_prefer {
            None => Prefer::Balanced,
            Some(p) => Prefer::parse(&p).ok_or(ConfigError::BadDefaultPrefer(p))?,
        };
        let default_output_tokens = raw.default_output_tokens.unwrap_or(DEFAULT_OUTPUT_TOKENS);
        if default_output_tokens == 0 {
            return Err(ConfigError::ZeroOutputTokens);
        }
        let memories = [
            ("sticky", raw.sticky.ttl_secs, raw.sticky.slots),
            ("prefix_cache", raw.prefix_cache.ttl_secs, raw.prefix_cache.slots),
        ];
        for (what, ttl, slots) in memories {
            if ttl == 0 && slots > 0 {
                return Err(ConfigError::ZeroTtl(what));
            }
        }
        let auto = AutoConfig::try_from(raw.auto).map_err(|e| match e {
            AutoError::Thresholds => ConfigError::BadAutoThresholds,
            other => ConfigError::BadAutoShares(other),
        })?;
        raw.resilience.validate().map_err(ConfigError::BadResilience)?;
        raw.budgets.validate().map_err(ConfigError::BadResilience)?;
        raw.responses.validate().map_err(ConfigError::BadResponses)?;
        let model_aliases =
            ModelAliases::from_raw(raw.model_aliases, &catalog).map_err(ConfigError::BadModelAliases)?;
        for entry in &raw.free {
            let (provider, model) = entry.split_once('/').unwrap_or(("", entry));
            let mut found = false;
            for d in catalog.deployments.iter_mut().filter(|d| d.provider == provider && d.id == model) {
                d.price_in = 0.0;
                d.price_out = 0.0;
                d.price_cache_read = None;
                d.long_context = None;
                found = true;
            }
            if !found {
                return Err(ConfigError::UnknownFree(entry.clone()));
            }
        }
        let known = |p: &String| catalog.providers.iter().any(|k| k.name == *p);
        let policy =
            Policy::from_raw(RawPolicy { blocked_providers: raw.blocked_providers, only_providers: None });
        let mut clients = BTreeMap::new();
        for (client, raw_policy) in raw.clients {
            let p = Policy::from_raw(raw_policy);
            if let Some(bad) = p.names().find(|n| !known(n)) {
                return Err(ConfigError::UnknownPolicyProvider(bad.clone()));
            }
            clients.insert(client, policy.and(&p));
        }
        if let Some(bad) = policy.names().find(|n| !known(n)) {
            return Err(ConfigError::UnknownPolicyProvider(bad.clone()));
        }
        let client_header = match raw.client_header {
            None => None,
            Some(h) => {
                let h = h.to_ascii_lowercase();
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                    return Err(ConfigError::BadName { what: "client_header", value: h });
                }
                Some(h)
            }
        };
        if let Some(h) = client_header.as_deref().filter(|h| CREDENTIAL_HEADERS.contains(h)) {
            return Err(ConfigError::BadHeader {
                what: "client_header",
                value: h.to_string(),
                why: "it carries a credential, which would be written into metric names, filter state and spend keys: have an auth filter set a client id header instead",
            });
        }
        if client_header.as_deref() == Some(cluster_header.as_str()) {
            return Err(ConfigError::BadHeader {
                what: "client_header",
                value: cluster_header,
                why: "it is the cluster_header, which the router strips from every client request",
            });
        }
        match labels::clash(clients.keys().chain(raw.budgets.clients.keys())) {
            Some((Some(other), id)) => return Err(ConfigError::ClientsShareLabel(other, id)),
            Some((None, id)) => return Err(ConfigError::ReservedClient(id)),
            None => {}
        }
        if client_header.is_none() {
            let per_client = [
                ("clients", !clients.is_empty()),
                ("budgets.clients", !raw.budgets.clients.is_empty()),
                ("budgets.client_default_usd", raw.budgets.client_default_usd.is_some()),
            ];
            if let Some((what, _)) = per_client.iter().find(|(_, set)| *set) {
                return Err(ConfigError::NeedsClientHeader(what));
            }
        }
        Ok(Config {
            policy,
            client_header,
            clients,
            cluster_header,
            default_prefer,
            default_output_tokens,
            catalog,
            auto,
            sticky: raw.sticky,
            prefix_cache: raw.prefix_cache,
            resilience: raw.resilience,
            budgets: raw.budgets,
            filter_state: raw.filter_state.unwrap_or(true),
            anthropic_auto_cache: raw.anthropic_auto_cache.unwrap_or(true),
            responses: raw.responses,
            model_aliases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_uses_defaults() {
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.cluster_header, DEFAULT_CLUSTER_HEADER);
        assert_eq!(c.default_prefer, Prefer::Balanced);
        assert_eq!(c.default_output_tokens, DEFAULT_OUTPUT_TOKENS);
        assert_eq!(Config::from_json(b"{}"), Ok(c));
    }

    /// A `clusters` override moves every deployment and embedding model of the provider, and
    /// its host where the catalog left that to the cluster name.
    #[test]
    fn cluster_overrides_apply_to_every_deployment() {
        let c = Config::from_json(br#"{"clusters":{"openai":"egress_openai"}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        let openai: Vec<_> = c.catalog.deployments.iter().filter(|d| d.provider == "openai").collect();
        assert!(!openai.is_empty());
        assert!(openai.iter().all(|d| d.cluster == "egress_openai"));
        let embeddings: Vec<_> = c.catalog.embeddings.iter().filter(|e| e.provider == "openai").collect();
        assert!(!embeddings.is_empty());
        assert!(embeddings.iter().all(|e| e.cluster == "egress_openai"), "{embeddings:?}");
        // The built-in provider names its host: an override of its cluster keeps it.
        let host =
            |c: &Config, p: &str| c.catalog.providers.iter().find(|x| x.name == p).map(|x| x.host.clone());
        assert_eq!(host(&c, "openai").as_deref(), Some("api.openai.com"));
        // A provider whose host is its cluster's name (none given) follows the override: the
        // old name was the `:authority` of every fallback to it.
        let model = |id: &str, tier: &str| {
            format!(
                r#"{{"id":"{id}","tier":"{tier}","provider":"mistral","context_window":1000,"max_output":10,"price_in":1,"price_out":1}}"#
            )
        };
        let catalog = |host: &str| {
            format!(
                r#"{{"clusters":{{"mistral":"api.mistral.ai"}},"catalog":{{"providers":{{"mistral":{{{host}}}}},"models":[{},{},{}]}}}}"#,
                model("e", "economy"),
                model("s", "standard"),
                model("p", "premium")
            )
        };
        let c = Config::from_json(catalog("").as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(host(&c, "mistral").as_deref(), Some("api.mistral.ai"));
        let c = Config::from_json(catalog(r#""host":"eu.mistral.ai""#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(host(&c, "mistral").as_deref(), Some("eu.mistral.ai"));
        // A cluster named as no host is (Istio's) leaves the host as it was.
        let istio = catalog("").replace("api.mistral.ai", "outbound|443||api.mistral.ai");
        let c = Config::from_json(istio.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(host(&c, "mistral").as_deref(), Some("mistral"));
    }

    #[test]
    fn config_errors() {
        let cases: &[(&str, &str)] = &[
            ("not json", "Json(\"the configuration must be a JSON object"),
            ("[]", "Json(\"the configuration must be a JSON object"),
            ("\u{feff}{}", "Json(\"the configuration must be a JSON object"),
            (r#"{"unknown_field":1}"#, "Json"),
            (r#"{"default_prefer":"fastest"}"#, "BadDefaultPrefer"),
            (r#"{"default_output_tokens":0}"#, "ZeroOutputTokens"),
            (r#"{"default_output_tokens":-1}"#, "Json"),
            (r#"{"clusters":{"nope":"c"}}"#, "UnknownClusterOverride"),
            (r#"{"clusters":{"openai":"bad\ncluster"}}"#, "BadName"),
            (r#"{"cluster_header":"x y"}"#, "BadName"),
            (r#"{"catalog":{"providers":{},"models":[]}}"#, "NoProviders"),
            (r#"{"auto":{"standard_at":0.9,"premium_at":0.5}}"#, "BadAutoThresholds"),
            (r#"{"auto":{"weights":{"nope":1}}}"#, "Json"),
            (r#"{"auto":{"premium_share":1.5}}"#, "BadAutoShares(ShareRange"),
            (r#"{"auto":{"premium_share":0.2,"premium_at":0.7}}"#, "BadAutoShares(ShareAndThreshold"),
            (r#"{"sticky":{"ttl":5}}"#, "Json"),
            (r#"{"sticky":{"ttl_secs":0}}"#, "ZeroTtl(\"sticky\")"),
            (r#"{"prefix_cache":{"ttl_secs":0}}"#, "ZeroTtl(\"prefix_cache\")"),
            // Per-client settings without a client header would never apply.
            (r#"{"clients":{"team-a":{"blocked_providers":["openai"]}}}"#, "NeedsClientHeader(\"clients\")"),
            (r#"{"client_header":"x-client","clients":{"other":{}}}"#, "ReservedClient(\"other\")"),
            (r#"{"budgets":{"clients":{"team-a":1}}}"#, "NeedsClientHeader(\"budgets.clients\")"),
            (r#"{"budgets":{"client_default_usd":1}}"#, "NeedsClientHeader(\"budgets.client_default_usd\")"),
            (r#"{"client_header":"x-model-router-cluster"}"#, "BadHeader"),
            (r#"{"client_header":"x-team","cluster_header":"X-Team"}"#, "BadHeader"),
            (r#"{"cluster_header":"content-type"}"#, "BadHeader"),
            (r#"{"client_header":"Authorization"}"#, "BadHeader"),
            (r#"{"free":["openai/gpt-4.1-nano"]}"#, "UnknownFree"),
            (r#"{"free":["gpt-4.1-mini"]}"#, "UnknownFree"),
            // One metric label for two clients: their spend drawn as one, the limit flipping.
            (
                r#"{"client_header":"x-team","budgets":{"clients":{"team.a":1,"team_a":2}}}"#,
                "ClientsShareLabel",
            ),
            (
                r#"{"client_header":"x-team","clients":{"team a":{}},"budgets":{"clients":{"team_a":2}}}"#,
                "ClientsShareLabel",
            ),
            // Tools the router serves are never left out; a type is a type, named once.
            (r#"{"responses":{"drop_tools":["function"]}}"#, "BadResponses"),
            (r#"{"responses":{"drop_tools":["namespace"]}}"#, "BadResponses"),
            (r#"{"responses":{"drop_tools":["Web Search"]}}"#, "BadResponses"),
            (r#"{"responses":{"drop_tools":[""]}}"#, "BadResponses"),
            (r#"{"responses":{"drop_tools":["web_search","web_search"]}}"#, "BadResponses"),
            (r#"{"responses":{"drop_hosted":["web_search"]}}"#, "Json"),
            // A key twice inside a map: its last won without a word.
            (
                r#"{"clusters":{"openai":"openai","openai":"nope"}}"#,
                "Json(\"key 'openai' appears more than once in clusters",
            ),
            (
                r#"{"model_aliases":{"a":"premium","a":"economy"}}"#,
                "Json(\"key 'a' appears more than once in model_aliases",
            ),
        ];
        for (json, want) in cases {
            let got = format!("{:?}", Config::from_json(json.as_bytes()));
            assert!(got.starts_with(&format!("Err({want}")), "{json}: {got}");
        }
    }

    /// A refused name is told the rule it broke: a header name was told it may hold `.`, `:`
    /// and `/`, which the header check refuses; a base path without its leading `/`, that it
    /// had a character it may not; an auth header, `"x bad/K"`.
    #[test]
    fn a_refused_name_is_told_its_own_rule() {
        let message =
            |json: &str| Config::from_json(json.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
        let header = message(r#"{"client_header":"x.team"}"#);
        assert!(header.ends_with("use a header name of A-Z a-z 0-9 - _"), "{header}");
        let provider = |p: &str| {
            let model = |id: &str, tier: &str| {
                format!(
                    r#"{{"id":"{id}","tier":"{tier}","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1}}"#
                )
            };
            let models = [model("e", "economy"), model("s", "standard"), model("x", "premium")].join(",");
            format!(r#"{{"catalog":{{"providers":{{"p":{{{p}}}}},"models":[{models}]}}}}"#)
        };
        let path = message(&provider(r#""base_path":"v1""#));
        assert!(path.contains("starts with /"), "{path}");
        let auth = message(&provider(r#""auth":{"header":"x bad","env":"K"}"#));
        assert!(auth.contains("header x bad, env K") && auth.contains("a-z and -"), "{auth}");
    }

    #[test]
    fn hosted_tool_types_can_be_left_out_of_responses_requests() {
        let c = Config::from_json(br#"{"responses":{"drop_tools":["web_search","file_search"]}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.responses.drop_tools, ["web_search", "file_search"]);
        assert!(Config::from_json(b"{}").is_ok_and(|c| c.responses.drop_tools.is_empty()));
    }

    #[test]
    fn errors_read_as_one_line() {
        let e = Config::from_json(br#"{"default_prefer":"fastest"}"#).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("default_prefer 'fastest' is invalid: use one of cheap, fast, balanced, quality, coding")
        );
    }
}
