//! The catalog: which models exist, in which tier, served by which provider, at what price.
//!
//! It is data (`catalog.json`, compiled in and replaceable from the plugin configuration),
//! read in two stages: [`RawCatalog`] is the file's shape, [`Catalog`] the validated form.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::config::ConfigError;

/// The catalog compiled into the filter.
pub const BUILTIN_CATALOG: &str = include_str!("../catalog.json");

/// A capability tier, ordered from cheapest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Cheap, fast models for simple requests.
    Economy,
    /// Mid-priced general models.
    Standard,
    /// The strongest models.
    Premium,
}

impl Tier {
    /// All tiers, cheapest first.
    pub const ALL: [Tier; 3] = [Tier::Economy, Tier::Standard, Tier::Premium];

    /// The name clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Economy => "economy",
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }

    /// Parses a tier name; exact and lower-case, like every routing keyword.
    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider as the catalog file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// The Envoy cluster that reaches this provider; defaults to the provider's name.
    pub cluster: Option<String>,
}

/// One model served by one provider, as the catalog file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The catalog id clients pin (`gpt-4.1-mini`).
    pub id: String,
    /// The tier it serves.
    pub tier: Tier,
    /// A key of `providers`.
    pub provider: String,
    /// The id this provider expects in the body; defaults to `id`.
    pub upstream_id: Option<String>,
    /// Input plus output tokens the model accepts.
    pub context_window: u64,
    /// Most output tokens per response.
    pub max_output: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
    /// General quality, 0-100; unknown when absent.
    pub quality: Option<f64>,
    /// Coding strength, 0-100; unknown when absent.
    pub coding: Option<f64>,
    /// Output tokens per second; unknown when absent.
    pub speed_tps: Option<f64>,
    /// Accepts tool definitions.
    #[serde(default)]
    pub tools: bool,
    /// Accepts image parts.
    #[serde(default)]
    pub vision: bool,
    /// Where the figures come from.
    #[serde(default)]
    pub source: String,
}

/// The catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// Providers by name.
    pub providers: BTreeMap<String, RawProvider>,
    /// Every (model, provider) pair that can be routed to.
    pub models: Vec<RawModel>,
}

/// A provider after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// Its name, as in the catalog.
    pub name: String,
    /// The Envoy cluster the filter selects for it.
    pub cluster: String,
}

/// One routable (model, provider) pair after validation; signals are filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Catalog model id.
    pub id: String,
    /// Tier.
    pub tier: Tier,
    /// Provider name.
    pub provider: String,
    /// The provider's Envoy cluster.
    pub cluster: String,
    /// Model id sent to the provider.
    pub upstream_id: String,
    /// Context window in tokens.
    pub context_window: u64,
    /// Output limit in tokens.
    pub max_output: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
    /// Quality signal, 0-100 (see [`Catalog::try_from`] for unknowns).
    pub quality: f64,
    /// Coding signal, 0-100.
    pub coding: f64,
    /// Static speed prior in output tokens per second.
    pub speed_tps: f64,
    /// Accepts tools.
    pub tools: bool,
    /// Accepts images.
    pub vision: bool,
}

/// The validated catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Providers, sorted by name.
    pub providers: Vec<Provider>,
    /// Deployments in file order.
    pub deployments: Vec<Deployment>,
}

/// Ids that would be read as routing keywords, not as a pinned model.
pub const RESERVED_IDS: [&str; 4] = ["economy", "standard", "premium", "auto"];

/// True for names that are safe in a header value and an Envoy cluster name.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+".contains(&b))
}

impl Catalog {
    /// True when some deployment has this model id.
    pub fn has_model(&self, id: &str) -> bool {
        self.deployments.iter().any(|d| d.id == id)
    }
}

impl TryFrom<RawCatalog> for Catalog {
    type Error = ConfigError;

    /// Validates the catalog. Unknown signals are decided here, once: an unknown quality,
    /// coding or speed figure counts as the lowest known figure of the same tier (0 if none is
    /// known), so a model never wins a ranking on a guess.
    fn try_from(raw: RawCatalog) -> Result<Self, ConfigError> {
        let mut providers = Vec::with_capacity(raw.providers.len());
        for (name, p) in raw.providers {
            if !is_token(&name) {
                return Err(ConfigError::BadName { what: "provider name", value: name });
            }
            let cluster = p.cluster.unwrap_or_else(|| name.clone());
            if !is_token(&cluster) {
                return Err(ConfigError::BadName { what: "cluster name", value: cluster });
            }
            providers.push(Provider { name, cluster });
        }
        if providers.is_empty() {
            return Err(ConfigError::NoProviders);
        }

        let mut deployments: Vec<Deployment> = Vec::with_capacity(raw.models.len());
        for m in &raw.models {
            if !is_token(&m.id) {
                return Err(ConfigError::BadName { what: "model id", value: m.id.clone() });
            }
            if RESERVED_IDS.contains(&m.id.as_str()) {
                return Err(ConfigError::ReservedModelId(m.id.clone()));
            }
            let Some(provider) = providers.iter().find(|p| p.name == m.provider) else {
                return Err(ConfigError::UnknownProvider {
                    model: m.id.clone(),
                    provider: m.provider.clone(),
                });
            };
            if deployments.iter().any(|d| d.id == m.id && d.provider == provider.name) {
                return Err(ConfigError::DuplicateModel {
                    model: m.id.clone(),
                    provider: m.provider.clone(),
                });
            }
            if let Some(d) = deployments.iter().find(|d| d.id == m.id && d.tier != m.tier) {
                return Err(ConfigError::TierMismatch { model: m.id.clone(), tiers: (d.tier, m.tier) });
            }
            let upstream_id = m.upstream_id.clone().unwrap_or_else(|| m.id.clone());
            if upstream_id.is_empty() || upstream_id.chars().any(char::is_control) {
                return Err(ConfigError::BadName { what: "upstream model id", value: upstream_id });
            }
            let finite = |v: f64| v.is_finite() && v >= 0.0;
            let signals_ok = [m.quality, m.coding, m.speed_tps].into_iter().flatten().all(finite);
            if !finite(m.price_in) || !finite(m.price_out) || !signals_ok {
                return Err(ConfigError::BadNumber { model: m.id.clone() });
            }
            if m.context_window == 0 || m.max_output == 0 {
                return Err(ConfigError::BadNumber { model: m.id.clone() });
            }
            deployments.push(Deployment {
                id: m.id.clone(),
                tier: m.tier,
                provider: provider.name.clone(),
                cluster: provider.cluster.clone(),
                upstream_id,
                context_window: m.context_window,
                max_output: m.max_output,
                price_in: m.price_in,
                price_out: m.price_out,
                quality: m.quality.unwrap_or(f64::NAN),
                coding: m.coding.unwrap_or(f64::NAN),
                speed_tps: m.speed_tps.unwrap_or(f64::NAN),
                tools: m.tools,
                vision: m.vision,
            });
        }
        for tier in Tier::ALL {
            if !deployments.iter().any(|d| d.tier == tier) {
                return Err(ConfigError::EmptyTier(tier));
            }
        }
        fill_unknown(&mut deployments, |d| &mut d.quality);
        fill_unknown(&mut deployments, |d| &mut d.coding);
        fill_unknown(&mut deployments, |d| &mut d.speed_tps);
        Ok(Catalog { providers, deployments })
    }
}

/// Replaces NaN (unknown) in one signal by the lowest known value of the same tier.
fn fill_unknown(deps: &mut [Deployment], field: impl Fn(&mut Deployment) -> &mut f64) {
    for tier in Tier::ALL {
        let mut floor = f64::INFINITY;
        for d in deps.iter_mut().filter(|d| d.tier == tier) {
            let v = *field(d);
            if !v.is_nan() {
                floor = floor.min(v);
            }
        }
        if floor.is_infinite() {
            floor = 0.0;
        }
        for d in deps.iter_mut().filter(|d| d.tier == tier) {
            let v = field(d);
            if v.is_nan() {
                *v = floor;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &str) -> Result<Catalog, ConfigError> {
        let raw: RawCatalog = serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        Catalog::try_from(raw)
    }

    fn model(id: &str, tier: &str, provider: &str) -> String {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{provider}","context_window":1000,
               "max_output":100,"price_in":1,"price_out":2,"quality":50}}"#
        )
    }

    fn three_tiers(extra: &str) -> String {
        format!(
            r#"{{"providers":{{"p":{{}}}},"models":[{},{},{}{extra}]}}"#,
            model("e", "economy", "p"),
            model("s", "standard", "p"),
            model("x", "premium", "p")
        )
    }

    #[test]
    fn builtin_catalog_is_valid() {
        let c = load(BUILTIN_CATALOG);
        assert!(c.is_ok(), "{c:?}");
        let c = c.unwrap_or_else(|_| unreachable!());
        for tier in Tier::ALL {
            let providers: std::collections::BTreeSet<_> =
                c.deployments.iter().filter(|d| d.tier == tier).map(|d| d.provider.as_str()).collect();
            assert!(providers.len() >= 2, "{tier} needs two providers");
        }
    }

    #[test]
    fn catalog_errors() {
        let cases: Vec<(String, &str)> = vec![
            (r#"{"providers":{},"models":[]}"#.into(), "NoProviders"),
            (r#"{"providers":{"p":{}},"models":[]}"#.into(), "EmptyTier"),
            (three_tiers(&format!(",{}", model("y", "premium", "q"))), "UnknownProvider"),
            (three_tiers(&format!(",{}", model("x", "premium", "p"))), "DuplicateModel"),
            (three_tiers(&format!(",{}", model("auto", "premium", "p"))), "ReservedModelId"),
            (three_tiers(&format!(",{}", model("a b", "premium", "p"))), "BadName"),
            (
                three_tiers(&format!(",{}", model("e", "premium", "q")))
                    .replace(r#""p":{}"#, r#""p":{},"q":{}"#),
                "TierMismatch",
            ),
            (three_tiers("").replace(r#""price_in":1"#, r#""price_in":-1"#), "BadNumber"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"cluster":"bad cluster"}"#), "BadName"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"clutser":"x"}"#), "Json"),
        ];
        for (json, want) in cases {
            let got = load(&json);
            let name = format!("{got:?}");
            assert!(name.starts_with(&format!("Err({want}")), "{want}: got {name}");
        }
    }

    #[test]
    fn unknown_signals_take_the_tier_floor() {
        let json = three_tiers(&format!(",{}", model("e2", "economy", "p").replace(r#","quality":50"#, "")))
            .replacen(r#""quality":50"#, r#""quality":40"#, 1);
        let c = load(&json).unwrap_or_else(|e| panic!("{e}"));
        let e2 = c.deployments.iter().find(|d| d.id == "e2").map(|d| d.quality);
        assert_eq!(e2, Some(40.0));
        let speeds: Vec<f64> = c.deployments.iter().map(|d| d.speed_tps).collect();
        assert!(speeds.iter().all(|s| *s == 0.0));
    }
}
