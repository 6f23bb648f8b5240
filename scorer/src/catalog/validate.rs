//! From the file's shape to the validated catalog: names safe in headers and cluster names,
//! known providers, one tier per model, finite prices, dates that parse, a model in every tier.

use super::error::CatalogError;
use super::quirks::{ASKS_BIAS, DROPS_EFFORT_NONE, Quirks, droppable_bit, effort_bit, refusable_bit};
use super::types::{
    Api, Catalog, Deployment, EmbeddingModel, Provider, RESERVED_IDS, RawCatalog, RawProvider, RawTier, Tier,
};

/// The most a catalog price may be, USD per million tokens.
const MOST_PRICE: f64 = 10_000.0;

/// True for names that are safe in a header value and an Envoy cluster name (Istio's cluster
/// names look like `outbound|443||api.openai.com`).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+|".contains(&b))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian), or `None`.
pub fn parse_day(s: &str) -> Option<i64> {
    let mut it = s.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) =
        (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    if s.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn validate_provider(name: String, p: RawProvider) -> Result<Provider, CatalogError> {
    if !is_token(&name) {
        return Err(CatalogError::BadName { what: "provider name", value: name });
    }
    let cluster = p.cluster.unwrap_or_else(|| name.clone());
    if !is_token(&cluster) {
        return Err(CatalogError::BadName { what: "cluster name", value: cluster });
    }
    // Empty means the API sits at the host's root (Bedrock InvokeModel).
    let path_ok = p.base_path.is_empty()
        || p.base_path.starts_with('/')
            && !p.base_path.ends_with('/')
            && p.base_path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
            && !p.base_path.contains("..");
    if !path_ok {
        return Err(CatalogError::BadName { what: "base_path", value: p.base_path });
    }
    if let Some(a) = &p.auth {
        let header_ok = !a.header.is_empty() && a.header.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        let env_ok = !a.env.is_empty() && a.env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !header_ok || !env_ok || a.prefix.chars().any(char::is_control) {
            let value = format!("header {}, env {}", a.header, a.env);
            return Err(CatalogError::BadName { what: "auth", value });
        }
    }
    let host_is_cluster = p.host.is_none();
    let host = p.host.unwrap_or_else(|| cluster.clone());
    if !valid_host(&host) {
        return Err(CatalogError::BadName { what: "host", value: host });
    }
    Ok(Provider { name, cluster, host, host_is_cluster, base_path: p.base_path, auth: p.auth })
}

/// The bits of a model's `list` (of efforts, refusals or drops), each by `bit`; an entry it
/// does not know is refused, `what` saying what the list may hold.
fn mask<'a, B: Copy + Default + std::ops::BitOr<Output = B>>(
    model: &str,
    list: impl IntoIterator<Item = &'a String>,
    bit: fn(&str) -> Option<B>,
    what: &'static str,
) -> Result<B, CatalogError> {
    list.into_iter().try_fold(B::default(), |bits, e| {
        bit(e).map(|b| bits | b).ok_or_else(|| CatalogError::Unsupported { model: model.to_string(), what })
    })
}

/// A host name a fallback's `:authority` may carry: letters, digits, `-`, `.` and `:`.
pub(crate) fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
}

impl TryFrom<RawCatalog> for Catalog {
    type Error = CatalogError;

    /// Validates the catalog. Unknown signals are decided here, once: an unknown quality,
    /// coding or speed figure counts as the lowest known figure of the same tier (0 if none is
    /// known), so a model never wins a ranking on a guess.
    fn try_from(raw: RawCatalog) -> Result<Self, CatalogError> {
        let mut providers = Vec::with_capacity(raw.providers.len());
        for (name, p) in raw.providers {
            providers.push(validate_provider(name, p)?);
        }
        if providers.is_empty() {
            return Err(CatalogError::NoProviders);
        }

        let mut deployments: Vec<Deployment> = Vec::with_capacity(raw.models.len());
        let mut embeddings: Vec<EmbeddingModel> = Vec::new();
        for m in &raw.models {
            if !is_token(&m.id) {
                return Err(CatalogError::BadName { what: "model id", value: m.id.clone() });
            }
            if RESERVED_IDS.contains(&m.id.as_str()) {
                return Err(CatalogError::ReservedModelId(m.id.clone()));
            }
            let Some(provider) = providers.iter().find(|p| p.name == m.provider) else {
                return Err(CatalogError::UnknownProvider {
                    model: m.id.clone(),
                    provider: m.provider.clone(),
                });
            };
            let dup_chat = deployments.iter().any(|d| d.id == m.id && d.provider == provider.name);
            let dup_emb = embeddings.iter().any(|d| d.id == m.id && d.provider == provider.name);
            if dup_chat || dup_emb {
                return Err(CatalogError::DuplicateModel {
                    model: m.id.clone(),
                    provider: m.provider.clone(),
                });
            }
            let upstream_id = m.upstream_id.clone().unwrap_or_else(|| m.id.clone());
            if upstream_id.is_empty() || upstream_id.chars().any(char::is_control) || upstream_id.len() > 256
            {
                return Err(CatalogError::BadName { what: "upstream model id", value: upstream_id });
            }
            let finite = |v: f64| v.is_finite() && v >= 0.0;
            // A price past $10,000 a million tokens is another unit (the dearest model lists
            // $600): one answer's cost ran to 300 digits, then `inf` in its usage chunk.
            let price = |v: f64| finite(v) && v <= MOST_PRICE;
            // Scores are 0 to 100: an arena's Elo (1350) won every tier it was listed in.
            let score = |v: f64| finite(v) && v <= 100.0;
            // A long-context rate starts inside the window (above it, it never applies).
            let long_ok = m.long_context.is_none_or(|l| {
                price(l.price_in) && price(l.price_out) && l.above > 0 && l.above < m.context_window
            });
            let prices = [Some(m.price_in), Some(m.price_out), m.price_cache_read, m.price_audio_in];
            let bad = if !prices.into_iter().flatten().all(price) || !long_ok {
                Some(
                    "a price (price_in, price_out, price_cache_read, price_audio_in, long_context) is negative, not finite or above 10000 USD per million tokens, or long_context.above is not inside the window",
                )
            } else if ![m.quality, m.coding].into_iter().flatten().all(score)
                || !m.speed_tps.is_none_or(finite)
            {
                Some("quality and coding are scores from 0 to 100, speed_tps is not negative")
            } else if m.context_window == 0 || m.max_output.is_some_and(|o| o > m.context_window) {
                Some("context_window is above 0, and max_output (part of it) not above it")
            } else if m.dimensions == Some(0) {
                // An embedding model of no dimensions refuses every `dimensions`.
                Some("dimensions is above 0")
            } else {
                None
            };
            if let Some(what) = bad {
                return Err(CatalogError::BadNumber { model: m.id.clone(), what });
            }
            let retires = match &m.retires {
                None => None,
                Some(text) => Some(
                    parse_day(text)
                        .ok_or_else(|| CatalogError::BadDate { model: m.id.clone(), value: text.clone() })?,
                ),
            };
            if m.alias.is_some() && m.tier != RawTier::Embedding {
                return Err(CatalogError::Unsupported {
                    model: m.id.clone(),
                    what: "alias is for embedding models (a chat model is pinned by its id)",
                });
            }
            if let Some(alias) = &m.alias {
                let taken = RESERVED_IDS.contains(&alias.as_str())
                    || raw.models.iter().any(|o| o.id == *alias)
                    || embeddings.iter().any(|e| e.alias.as_ref() == Some(alias) && e.id != m.id);
                if !is_token(alias) {
                    return Err(CatalogError::BadName { what: "alias", value: alias.clone() });
                }
                if taken {
                    return Err(CatalogError::Unsupported {
                        model: m.id.clone(),
                        what: "its alias is taken: a routing keyword (economy, standard, premium, auto), a model id or another model's alias",
                    });
                }
            }
            let tier = match m.tier {
                RawTier::Embedding => {
                    let e = EmbeddingModel {
                        id: m.id.clone(),
                        alias: m.alias.clone(),
                        provider: provider.name.clone(),
                        cluster: provider.cluster.clone(),
                        api: m.api.unwrap_or(Api::Embeddings),
                        upstream_id,
                        context_window: m.context_window,
                        price_in: m.price_in,
                        dimensions: m.dimensions,
                        retires,
                        retires_text: m.retires.clone(),
                    };
                    if e.wire().is_none() {
                        return Err(CatalogError::Unsupported {
                            model: m.id.clone(),
                            what: "the router reaches embedding models through api embeddings, or bedrock-invoke for Titan text embeddings",
                        });
                    }
                    embeddings.push(e);
                    continue;
                }
                RawTier::Economy => Tier::Economy,
                RawTier::Standard => Tier::Standard,
                RawTier::Premium => Tier::Premium,
            };
            if let Some(d) = deployments.iter().find(|d| d.id == m.id && d.tier != tier) {
                return Err(CatalogError::TierMismatch { model: m.id.clone(), tiers: (d.tier, tier) });
            }
            let max_output = m.max_output.filter(|v| *v > 0).ok_or_else(|| CatalogError::BadNumber {
                model: m.id.clone(),
                what: "a chat model has a max_output above 0",
            })?;
            let efforts = mask(
                &m.id,
                m.reasoning_efforts.iter().flatten(),
                effort_bit,
                "reasoning_efforts lists none, minimal, low, medium, high, xhigh or max",
            )?;
            let mut refuses = mask(
                &m.id,
                &m.refuses,
                refusable_bit,
                "refuses lists logprobs, name, n, logit_bias, penalties, stop, input_audio, file, tool_names, odd_tool_names, web_search, custom_tools, many_tools or json_with_tools",
            )?;
            // `logprobs` covered `logit_bias` before it had an entry of its own: a catalog
            // written then still keeps it from such a provider (none known takes one of the
            // two and refuses the other).
            if m.refuses.iter().any(|r| r == "logprobs") {
                refuses |= ASKS_BIAS;
            }
            let drops = mask(
                &m.id,
                &m.drops,
                droppable_bit,
                "drops lists echoes, nulls, openai_only, cache_marks, prediction or verbosity",
            )?;
            let default_effort = match (&m.default_reasoning_effort, m.reasoning) {
                (Some(e), true) => effort_bit(e).ok_or_else(|| CatalogError::Unsupported {
                    model: m.id.clone(),
                    what: "default_reasoning_effort is one of none, minimal, low, medium, high, xhigh or max",
                })?,
                (Some(_), false) => {
                    return Err(CatalogError::Unsupported {
                        model: m.id.clone(),
                        what: "default_reasoning_effort is a reasoning model's",
                    });
                }
                (None, true) if m.api != Some(Api::Messages) => effort_bit("medium").unwrap_or(0),
                (None, _) => 0,
            };
            if m.reasoning_efforts.as_ref().is_some_and(|l| l.is_empty() || !m.reasoning) {
                return Err(CatalogError::Unsupported {
                    model: m.id.clone(),
                    what: "reasoning_efforts lists the efforts of a reasoning model (at least one)",
                });
            }
            deployments.push(Deployment {
                id: m.id.clone(),
                tier,
                provider: provider.name.clone(),
                cluster: provider.cluster.clone(),
                api: m.api.unwrap_or(Api::Chat),
                upstream_id,
                context_window: m.context_window,
                max_output,
                price_in: m.price_in,
                price_out: m.price_out,
                price_cache_read: m.price_cache_read,
                price_audio_in: m.price_audio_in,
                quality: m.quality.unwrap_or(f64::NAN),
                coding: m.coding.unwrap_or(f64::NAN),
                speed_tps: m.speed_tps.unwrap_or(f64::NAN),
                tools: m.tools,
                vision: m.vision,
                reasoning: m.reasoning,
                structured_output: m.structured_output,
                audio_output: m.audio_output,
                quirks: Quirks {
                    fixed_sampling: m.fixed_sampling,
                    adaptive_thinking: m.adaptive_thinking,
                    no_prefill: m.no_prefill,
                    thought_signatures: m.thought_signatures,
                    no_effort_with_tools: m.no_effort_with_tools,
                    indexless_calls: m.indexless_calls,
                    auto_cache: false,
                    image_request_bytes: m.max_image_request_bytes.unwrap_or(0),
                    max_images: m.max_images.unwrap_or(0),
                    efforts,
                    default_effort,
                    refuses,
                    drops: drops | if m.reasoning { 0 } else { DROPS_EFFORT_NONE },
                    strict_tools: m.structured_output,
                },
                long_context: m.long_context,
                retires,
                retires_text: m.retires.clone(),
            });
        }
        for tier in Tier::ALL {
            if !deployments.iter().any(|d| d.tier == tier && d.api.routable()) {
                return Err(CatalogError::EmptyTier(tier));
            }
        }
        fill_unknown(&mut deployments, |d| &mut d.quality);
        fill_unknown(&mut deployments, |d| &mut d.coding);
        fill_unknown(&mut deployments, |d| &mut d.speed_tps);
        Ok(Catalog { providers, deployments, embeddings })
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

impl Catalog {
    /// Moves `provider` to Envoy's `cluster` (a configuration's `clusters`): its chat and
    /// embedding models (these kept the old cluster: both shipped deployments rename them, and
    /// every embedding failed), and its host where the catalog left that to the cluster name
    /// (the README's default: the old name reached no provider's front end on a fallback). A
    /// cluster that is no host name (Istio's `outbound|443||api.example.com`) is not taken.
    pub(crate) fn move_to_cluster(&mut self, provider: &str, cluster: &str) {
        for p in self.providers.iter_mut().filter(|p| p.name == provider) {
            if p.host_is_cluster && valid_host(cluster) {
                p.host = cluster.to_string();
            }
            p.cluster = cluster.to_string();
        }
        let chat = self.deployments.iter_mut().filter(|d| d.provider == provider).map(|d| &mut d.cluster);
        let embeddings =
            self.embeddings.iter_mut().filter(|e| e.provider == provider).map(|e| &mut e.cluster);
        for c in chat.chain(embeddings) {
            *c = cluster.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::types::*;
    use crate::config::ConfigError;

    fn load(json: &str) -> Result<Catalog, ConfigError> {
        let raw: RawCatalog = serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        Ok(Catalog::try_from(raw)?)
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
    fn builtin_catalog_is_valid_with_two_providers_per_tier() {
        let c = load(BUILTIN_CATALOG).unwrap_or_else(|e| panic!("{e}"));
        let today = 20_414 * 86_400; // 2025-11-22: before every retirement in the catalog
        for tier in Tier::ALL {
            let providers: std::collections::BTreeSet<_> = c
                .deployments
                .iter()
                .filter(|d| d.tier == tier && d.api.routable() && !d.retired(today))
                .map(|d| d.provider.as_str())
                .collect();
            assert!(providers.len() >= 2, "{tier} needs two providers");
        }
        assert_eq!(c.embeddings.len(), 3);
        assert!(c.embeddings.iter().all(|e| e.wire().is_some()));
        let gemini = c.provider("google-gemini").map(|p| p.base_path.as_str());
        assert_eq!(gemini, Some("/v1beta/openai"));
    }

    #[test]
    fn days_from_civil() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2000-03-01"), Some(11_017));
        assert_eq!(parse_day("2026-11-22"), Some(20_779));
        assert_eq!(parse_day("2026-13-01"), None);
        assert_eq!(parse_day("26-1-1"), None);
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
            (
                three_tiers("").replace(r#""price_in":1"#, r#""price_in":1,"price_cache_read":-0.1"#),
                "BadNumber",
            ),
            (
                three_tiers("").replace(
                    r#""price_in":1"#,
                    r#""price_in":1,"long_context":{"above":0,"price_in":2,"price_out":4}"#,
                ),
                "BadNumber",
            ),
            // A long-context rate above the window, an output past it.
            (
                three_tiers("").replacen(
                    r#""price_in":1"#,
                    r#""price_in":1,"long_context":{"above":5000,"price_in":2,"price_out":4}"#,
                    1,
                ),
                "BadNumber",
            ),
            (three_tiers("").replacen(r#""max_output":100"#, r#""max_output":50000"#, 1), "BadNumber"),
            // A price in another unit; an arena's Elo for a score.
            (three_tiers("").replacen(r#""price_in":1"#, r#""price_in":1e303"#, 1), "BadNumber"),
            (three_tiers("").replacen(r#""quality":50"#, r#""quality":1350"#, 1), "BadNumber"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"cluster":"bad cluster"}"#), "BadName"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"base_path":"/v1/../x"}"#), "BadName"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"auth":{"header":"Auth","env":"K"}}"#), "BadName"),
            (three_tiers("").replace(r#""p":{}"#, r#""p":{"clutser":"x"}"#), "Json"),
            (
                three_tiers("").replacen(r#""quality":50"#, r#""quality":50,"retires":"2026-02-30x""#, 1),
                "BadDate",
            ),
            (
                three_tiers(
                    r#",{"id":"em","tier":"embedding","provider":"p","alias":"auto","context_window":8,"price_in":1,"price_out":0}"#,
                ),
                "Unsupported { model: \"em\", what: \"its alias is taken",
            ),
            (
                three_tiers(
                    r#",{"id":"em","tier":"embedding","provider":"p","alias":"a b","context_window":8,"price_in":1,"price_out":0}"#,
                ),
                "BadName",
            ),
            // Fields the router would not act on are refused, not dropped.
            (
                three_tiers("").replacen(r#""quality":50"#, r#""quality":50,"alias":"fast-one""#, 1),
                "Unsupported",
            ),
            (
                three_tiers(
                    r#",{"id":"em","tier":"embedding","provider":"p","api":"chat","context_window":8,"price_in":1,"price_out":0}"#,
                ),
                "Unsupported",
            ),
            (
                three_tiers(
                    r#",{"id":"em","tier":"embedding","provider":"p","api":"bedrock-invoke","upstream_id":"cohere.embed-v4","context_window":8,"price_in":1,"price_out":0}"#,
                ),
                "Unsupported",
            ),
            // A chat model on the Embeddings API serves no chat.
            (
                three_tiers("").replacen(r#""quality":50"#, r#""quality":50,"api":"embeddings""#, 1),
                "EmptyTier",
            ),
            (
                three_tiers("").replacen(r#""quality":50"#, r#""quality":50,"api":"bedrock-invoke""#, 1),
                "EmptyTier",
            ),
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

    #[test]
    fn retirement_starts_on_its_day() {
        let json = three_tiers("").replacen(r#""quality":50"#, r#""quality":50,"retires":"2026-05-27""#, 1);
        let c = load(&json).unwrap_or_else(|e| panic!("{e}"));
        let d = &c.deployments[0];
        let day = 20_600 * 86_400; // 2026-05-27
        assert!(!d.retired(day - 1));
        assert!(d.retired(day));
    }
}
