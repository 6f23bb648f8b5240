//! `model: "auto"`: a score in [0, 1] from the conversation's features, a tier by thresholds,
//! and the reasons that decided it.
//!
//! The score is a sum of bounded, documented contributions starting from a base. The base is
//! the decision for "no signal": a plain request with nothing that marks it easy or hard lands
//! in the middle of the standard band's lower edge rather than at 0, so hard questions asked
//! in plain words are not sent to the cheapest tier by accident; short small talk earns its way
//! down explicitly.

use crate::catalog::Tier;
pub use crate::config::auto::{AutoConfig, AutoWeights};
use crate::numeric::log2;
use crate::parse::features::Features;

/// The auto decision for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoScore {
    /// Score in [0, 1]; higher needs a stronger model.
    pub score: f64,
    /// Tier by thresholds.
    pub tier: Tier,
    /// The few features that decided, as short tokens; code first when there is code.
    pub reasons: Vec<String>,
    /// The conversation is clearly about code (auto then ranks by coding signal).
    pub code: bool,
}

/// Most reasons reported.
pub const MAX_REASONS: usize = 4;

/// The ask length (bytes of the last user message) that contributes nothing.
pub const ASK_PIVOT_BYTES: f64 = 150.0;

/// Doublings of ask length that count: past about 850 bytes it is pasted material, and
/// length alone (with long context) stays below the premium threshold.
pub const MAX_ASK_DOUBLINGS: f64 = 2.5;

/// Tokens of context above which `long_context` counts.
pub const LONG_CONTEXT_TOKENS: u64 = 32_000;

/// Maps a contribution sum onto [0, 1] without flattening the ends: `0.5 + 0.5·x/(1+|x|)`
/// with `x = 4·(sum − 0.5)`. Monotonic, so scores keep ranking requests whose sums exceed the
/// thresholds; rational, so it is bit-identical on every target.
pub fn squash(sum: f64) -> f64 {
    let x = 4.0 * (sum - 0.5);
    0.5 + 0.5 * x / (1.0 + x.abs())
}

/// Doublings of `n` relative to `pivot`, within ±`cap`.
fn doublings(n: f64, pivot: f64, cap: f64) -> f64 {
    (log2(1.0 + n) - log2(1.0 + pivot)).clamp(-cap, cap)
}

/// Scores a conversation.
pub fn score(f: &Features, cfg: &AutoConfig) -> AutoScore {
    let parts = contributions(f, cfg);
    let code = f.code();
    let sum: f64 = cfg.weights.base + parts.iter().map(|p| p.1).sum::<f64>();
    let score = (squash(sum) * 1000.0).round() / 1000.0;

    // Reasons: code first when present, then the largest contributions; tiny ones say nothing.
    // Code says so even when its weight is small (`code_ask` defaults to 0): it decides ranking.
    let mut ordered: Vec<(String, f64)> =
        parts.into_iter().filter(|p| p.1.abs() >= 0.01 || p.0.starts_with("code")).collect();
    ordered.sort_by(|a, b| {
        let code_a = a.0.starts_with("code");
        let code_b = b.0.starts_with("code");
        code_b.cmp(&code_a).then_with(|| b.1.abs().total_cmp(&a.1.abs())).then_with(|| a.0.cmp(&b.0))
    });
    let mut reasons: Vec<String> = ordered.into_iter().take(MAX_REASONS).map(|p| p.0).collect();
    if reasons.is_empty() {
        reasons.push("no_signal".to_string());
    }
    let clearly_code =
        code.present && (code.blocks > 0 || code.lines >= 5 || code.diff || code.trace || code.ask);
    AutoScore { score, tier: cfg.tier(score), reasons, code: clearly_code }
}

/// The contributions of a conversation's features, as (reason token, value) in the order they
/// were found; the score is `squash(base + their sum)`.
pub fn contributions(f: &Features, cfg: &AutoConfig) -> Vec<(String, f64)> {
    let w = &cfg.weights;
    let mut parts: Vec<(String, f64)> = Vec::with_capacity(12);

    let code = f.code();
    if code.present {
        let extra = f64::from(code.blocks.saturating_sub(1).min(3)) * w.code_block;
        let token = if code.blocks > 0 {
            format!("code_blocks={}", code.blocks)
        } else if code.diff {
            "code_diff".to_string()
        } else if code.trace {
            "code_trace".to_string()
        } else if code.error && code.lines < 3 {
            "code_error".to_string()
        } else if code.ask && code.lines < 3 {
            "code_ask".to_string()
        } else {
            format!("code_lines={}", code.lines)
        };
        // Asked for in prose only (a verb aimed at code, a pasted error): code for ranking and
        // reasons, scored by its own weight; a language named next to programming words keeps
        // the full code weight it always had.
        let v = if code.written || code.named { w.code + extra } else { w.code_ask };
        parts.push((token, v));
    }
    let steps = f.tool_calls.max(f.tool_results);
    if steps > 0 {
        let mut v = w.agentic + w.agentic_step * doublings(f64::from(steps), 0.0, 4.0);
        if code.present {
            v += w.agentic_code;
        }
        parts.push((format!("agentic={steps}"), v));
    }
    if f.tools_declared > 0 || f.tool_choice_forced {
        parts.push(("tools".to_string(), w.tools));
    }
    let reasoning = f.user.reasoning.min(3);
    if reasoning > 0 {
        parts.push(("reasoning".to_string(), f64::from(reasoning) * w.reasoning));
    }
    if f.user.math > 0 {
        parts.push(("math".to_string(), w.math * doublings(f64::from(f.user.math), 0.0, 4.0)));
    }
    if f.reasoning_param {
        parts.push(("reasoning_param".to_string(), w.reasoning_param));
    }
    if f.json_schema {
        parts.push(("json_schema".to_string(), w.structured));
    }
    if f.images > 0 {
        parts.push(("images".to_string(), w.images));
    }
    if f.assistant_turns >= 2 {
        parts.push((format!("turns={}", f.user_turns + f.assistant_turns), w.multi_turn));
    }
    let context_tokens = (f.system.bytes + f.user.bytes + f.assistant.bytes + f.tool_result_bytes) / 4;
    if context_tokens > LONG_CONTEXT_TOKENS {
        parts.push(("long_context".to_string(), w.long_context));
    }
    // Length of what the user asked, in doublings around 150 bytes (about 24 words). Bytes,
    // not words: numbers, formulas and identifiers lengthen a hard ask as much as prose does.
    let len = doublings(f.last_user.bytes as f64, ASK_PIVOT_BYTES, MAX_ASK_DOUBLINGS).max(-2.0);
    let token = if len >= 1.0 {
        "long_ask"
    } else if len <= -1.0 {
        "short_ask"
    } else {
        "ask"
    };
    parts.push((token.to_string(), if len > 0.0 { len * w.length } else { len * w.short }));
    let small_talk = f.last_user.small_talk > 0
        && f.last_user.words <= 8
        && parts.iter().all(|p| p.0 == token || p.1 <= 0.0);
    if small_talk {
        parts.push(("small_talk".to_string(), w.small_talk));
    }
    // After small talk: "Thanks, congratulations!" is still small talk.
    let long_words = f.last_user.long_words;
    if long_words > 0 {
        let v = w.vocabulary * doublings(f64::from(long_words), 0.0, 4.0);
        parts.push((format!("long_words={long_words}"), v));
    }
    parts
}

/// What the glue remembers about a conversation for stickiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    /// The highest tier auto chose for this conversation.
    pub tier: Tier,
    /// Seconds since the epoch after which the memory is void.
    pub expires_at: u64,
}

impl Remembered {
    /// Encodes as the shared-data value: `<hash hex> <tier> <expiry>`; the hash guards against
    /// a slot collision.
    pub fn encode(&self, hash: u64) -> String {
        format!("{hash:016x} {} {}", self.tier, self.expires_at)
    }

    /// Joins two memories of one conversation (concurrent writers): the higher tier and the
    /// later expiry win.
    pub fn merge(self, other: Option<Remembered>) -> Remembered {
        match other {
            None => self,
            Some(o) => {
                Remembered { tier: self.tier.max(o.tier), expires_at: self.expires_at.max(o.expires_at) }
            }
        }
    }

    /// Decodes a value written by [`Remembered::encode`] for `hash`; `None` if it belongs to
    /// another conversation or is garbled.
    pub fn decode(value: &[u8], hash: u64) -> Option<Remembered> {
        Remembered::decode_any(value).filter(|(h, _)| *h == hash).map(|(_, r)| r)
    }

    /// Decodes a value written by [`Remembered::encode`], with the hash of the conversation
    /// it belongs to; `None` if garbled.
    pub fn decode_any(value: &[u8]) -> Option<(u64, Remembered)> {
        let text = std::str::from_utf8(value).ok()?;
        let mut it = text.split(' ');
        let h = u64::from_str_radix(it.next()?, 16).ok()?;
        let tier = Tier::parse(it.next()?)?;
        let expires_at = it.next()?.parse().ok()?;
        Some((h, Remembered { tier, expires_at }))
    }
}

/// Applies stickiness: within one conversation the auto tier only escalates. Returns the tier
/// to use and what to remember (refreshed expiry).
pub fn sticky(scored: Tier, remembered: Option<Remembered>, now: u64, ttl: u64) -> (Tier, Remembered) {
    let live = remembered.filter(|r| r.expires_at > now).map(|r| r.tier);
    let tier = live.map_or(scored, |t| t.max(scored));
    (tier, Remembered { tier, expires_at: now.saturating_add(ttl) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_map_scores_to_tiers() {
        let c = AutoConfig::default();
        assert_eq!(c.tier(0.0), Tier::Economy);
        assert_eq!(c.tier(c.standard_at), Tier::Standard);
        assert_eq!(c.tier(c.premium_at), Tier::Premium);
        assert!(c.is_valid());
        let bad = AutoConfig { standard_at: 0.8, premium_at: 0.5, ..c };
        assert!(!bad.is_valid());
    }

    #[test]
    fn harder_vocabulary_raises_an_ask_of_the_same_length_within_a_cap() {
        let ask = |long_words: u32| {
            let mut f = Features::default();
            f.last_user.bytes = 150;
            f.last_user.words = 20;
            f.last_user.long_words = long_words;
            score(&f, &AutoConfig::default())
        };
        let (plain, hard) = (ask(0), ask(6));
        assert!(hard.score > plain.score, "{plain:?} {hard:?}");
        assert!(hard.reasons.contains(&"long_words=6".to_string()), "{hard:?}");
        // Four doublings at most: a pasted glossary does not keep climbing.
        assert_eq!(ask(15).score, ask(5000).score);
        assert_eq!(ask(5000).tier, Tier::Standard);
    }

    /// The operating point on the training distribution (`../shared/train`, or
    /// `$MODEL_ROUTER_TRAIN`): asking for a share of premium (or economy) puts that share of
    /// the rows there, within 3 points. Fails when `scorer/auto_quantiles.json` is stale (rerun
    /// `scripts/auto_quantiles.py`); skipped, saying so, where the data is not beside the
    /// repository (it is not ours to vendor).
    #[test]
    fn shares_pick_the_asked_share_of_the_training_rows() {
        let beside = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/train/train.jsonl");
        let path = std::env::var("MODEL_ROUTER_TRAIN").unwrap_or_else(|_| beside.to_string());
        let Ok(data) = std::fs::read_to_string(&path) else {
            eprintln!("SKIPPED: no training data at {path} (set MODEL_ROUTER_TRAIN)");
            return;
        };
        let requests: Vec<String> = data
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_default()["request"].to_string())
            .collect();
        assert!(requests.len() > 1000, "{path}: {} rows", requests.len());
        for (json, tier, want) in [
            (r#"{"auto":{"premium_share":0.2}}"#, Tier::Premium, 0.2),
            (r#"{"auto":{"premium_share":0.1,"economy_share":0.3}}"#, Tier::Premium, 0.1),
            (r#"{"auto":{"premium_share":0.1,"economy_share":0.3}}"#, Tier::Economy, 0.3),
            (r#"{"auto":{"premium_share":0.4,"economy_share":0.2}}"#, Tier::Economy, 0.2),
        ] {
            let config = crate::Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let hits = requests
                .iter()
                .filter(|r| {
                    let route =
                        crate::route_chat(&config, r.as_bytes(), 0).unwrap_or_else(|e| panic!("{e:?}"));
                    route.auto.is_some_and(|a| a.tier == tier)
                })
                .count();
            let share = hits as f64 / requests.len() as f64;
            assert!((share - want).abs() <= 0.03, "{json}: {tier:?} {share:.3}, asked {want}");
        }
    }

    #[test]
    fn a_pasted_error_message_is_code_and_says_so() {
        let mut f = Features::new();
        let text = "Why do I get KeyError: 'id' here?";
        f.begin_message(crate::parse::features::Role::User);
        f.add_text(crate::parse::features::Role::User, text);
        f.end_message(crate::parse::features::Role::User, 0);
        let s = score(&f, &AutoConfig::default());
        assert!(s.code && s.reasons.first().is_some_and(|r| r == "code_error"), "{s:?}");
    }

    #[test]
    fn code_asked_in_prose_ranks_as_code_and_scores_by_its_own_weight() {
        let ask = |text: &str, cfg: &AutoConfig| {
            let mut f = Features::new();
            let role = crate::parse::features::Role::User;
            f.begin_message(role);
            f.add_text(role, text);
            f.end_message(role, 0);
            score(&f, cfg)
        };
        let plain =
            ask("Write a short note that finds the best order for the guests", &AutoConfig::default());
        let aimed =
            ask("Write a short code that finds the best order for the guests", &AutoConfig::default());
        assert!(!plain.code && aimed.code, "{plain:?} {aimed:?}");
        assert_eq!(aimed.reasons.first().map(String::as_str), Some("code_ask"));
        assert_eq!(aimed.score, plain.score, "code_ask weighs 0 by default");
        let mut cfg = AutoConfig::default();
        cfg.weights.code_ask = 0.1;
        let text = "Write a short code that finds the best order for the guests";
        assert!(ask(text, &cfg).score > aimed.score);
    }

    #[test]
    fn stickiness_only_escalates_and_expires() {
        let r = Some(Remembered { tier: Tier::Premium, expires_at: 100 });
        assert_eq!(sticky(Tier::Economy, r, 50, 10).0, Tier::Premium);
        assert_eq!(sticky(Tier::Economy, r, 100, 10).0, Tier::Economy);
        assert_eq!(
            sticky(Tier::Standard, None, 0, 10),
            (Tier::Standard, Remembered { tier: Tier::Standard, expires_at: 10 })
        );
        let low = Some(Remembered { tier: Tier::Economy, expires_at: 100 });
        assert_eq!(sticky(Tier::Premium, low, 50, 10).0, Tier::Premium);
    }

    #[test]
    fn merge_keeps_the_higher_tier_and_later_expiry() {
        let a = Remembered { tier: Tier::Premium, expires_at: 10 };
        let b = Remembered { tier: Tier::Economy, expires_at: 20 };
        assert_eq!(b.merge(Some(a)), Remembered { tier: Tier::Premium, expires_at: 20 });
        assert_eq!(a.merge(None), a);
    }

    #[test]
    fn remembered_round_trips_and_rejects_other_conversations() {
        let r = Remembered { tier: Tier::Standard, expires_at: 1234 };
        let v = r.encode(42);
        assert_eq!(Remembered::decode(v.as_bytes(), 42), Some(r));
        assert_eq!(Remembered::decode(v.as_bytes(), 43), None);
        assert_eq!(Remembered::decode(b"garbage", 42), None);
    }
}
