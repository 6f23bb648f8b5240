//! The words a request, the configuration and the decision share: `prefer`, the token
//! estimate, and provider policies (the configured block list, a client's policy, and a
//! request's own OpenRouter-style `provider: {"only": [...], "ignore": [...]}`; a provider any
//! of them excludes is never chosen, also not as a fallback).
//!
//! It sits below `parse`, `config` and `decide` so each can name these without importing the
//! others. Imports only the catalog's deployment type.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;

use crate::catalog::{Deployment, Quirks};

/// The direction inside a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefer {
    /// Lowest expected price of this request.
    Cheap,
    /// Highest speed (the static prior until live latency is observed).
    Fast,
    /// Best quality per price: see [`balanced_score`](crate::decide::rank::balanced_score).
    Balanced,
    /// Highest quality signal.
    Quality,
    /// Highest coding signal.
    Coding,
}

impl Prefer {
    /// Valid names, in documentation order.
    pub const NAMES: [&'static str; 5] = ["cheap", "fast", "balanced", "quality", "coding"];

    /// The name clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefer::Cheap => "cheap",
            Prefer::Fast => "fast",
            Prefer::Balanced => "balanced",
            Prefer::Quality => "quality",
            Prefer::Coding => "coding",
        }
    }

    /// Parses an exact, lower-case name.
    pub fn parse(s: &str) -> Option<Prefer> {
        [Prefer::Cheap, Prefer::Fast, Prefer::Balanced, Prefer::Quality, Prefer::Coding]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Prefer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Token counts a request is expected to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// Estimated input tokens.
    pub input_tokens: u64,
    /// Requested or assumed output tokens.
    pub output_tokens: u64,
    /// A request that names no effort and caps no output: the effort it hints
    /// (`reasoning_effort_hint`, an effort bit; 0: none) and the choices each model thinks
    /// for. A model that takes efforts is sent the nearest to the hint; one sent none thinks at
    /// its default ([`crate::catalog::Quirks::default_effort`]). That thinking is output
    /// ([`Estimate::output_on`]).
    pub thinking: Option<(u8, u64)>,
    /// The request carries audio, which a model with an audio rate prices apart
    /// ([`crate::catalog::Deployment::price_audio_in`]).
    pub audio: bool,
    /// The budgets reserve the worst case (`budgets.reserve_max_output`) of a request with no
    /// output cap, or with a ceiling (`max_tokens_ceiling`): this many choices of each model's
    /// whole `max_output`, each at most the ceiling (`u64::MAX`: none).
    pub worst_case: Option<(u64, u64)>,
    /// Input tokens the budgets hold beyond `input_tokens` for text outside ASCII
    /// ([`crate::parse::chat::wide_tokens`]); 0 where no budget applies.
    pub wide_input: u64,
}

impl Estimate {
    /// Expected price in USD of this request on a deployment, as the ranking weighs it (a
    /// hinted effort's thinking aside: a hint chooses no model; the budgets hold it,
    /// [`Estimate::reserve_price`]).
    pub fn price(&self, d: &Deployment) -> f64 {
        let (input, output) = d.rates_with(self.input_tokens, self.audio);
        (self.input_tokens as f64 * input + self.output_tokens as f64 * output) / 1e6
    }

    /// The output expected on a model of `quirks` writing at most `max_output`: with
    /// [`Estimate::thinking`], the thinking of the effort a hint sends it, or else of its
    /// default effort, within its output limit (a model that takes no effort is sent no hint,
    /// and an abandoned request to one that does not think was charged thinking it never did).
    pub fn output_on(&self, quirks: &Quirks, max_output: u64) -> u64 {
        let Some((hint, choices)) = self.thinking else { return self.output_tokens };
        let hinted =
            Some(hint).filter(|&h| h != 0).and_then(|h| crate::catalog::nearest_effort(h, quirks.efforts));
        let Some(effort) = hinted.or(Some(quirks.default_effort).filter(|&e| e != 0)) else {
            return self.output_tokens;
        };
        let thinking = crate::catalog::thinking_tokens(effort).saturating_mul(choices);
        self.output_tokens.saturating_add(thinking).min(self.output_tokens.max(max_output))
    }

    /// What the budgets hold for this request on a deployment: its expected price, or with
    /// [`Estimate::worst_case`] the price of its choices each writing the model's whole
    /// `max_output`.
    pub fn reserve_price(&self, d: &Deployment) -> f64 {
        let output_tokens = self.reserved_output(d.max_output, &d.quirks);
        let input_tokens = self.input_tokens.saturating_add(self.wide_input);
        Estimate { input_tokens, output_tokens, thinking: None, worst_case: None, ..*self }.price(d)
    }

    /// The output the budgets hold for on a model of `max_output` and `quirks`: the
    /// estimate's ([`Estimate::output_on`]), or its choices' whole `max_output` with
    /// [`Estimate::worst_case`].
    pub fn reserved_output(&self, max_output: u64, quirks: &Quirks) -> u64 {
        match self.worst_case {
            Some((n, cap)) => max_output.min(cap).saturating_mul(n),
            None => self.output_on(quirks, max_output),
        }
    }
}

/// A policy as configured (globally or per client).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Providers never to use.
    #[serde(default)]
    pub blocked_providers: Vec<String>,
    /// When set, the only providers to use.
    pub only_providers: Option<Vec<String>>,
}

/// Allowed providers, as an exclusion set and an optional allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Never these.
    pub blocked: BTreeSet<String>,
    /// Only these, when set.
    pub only: Option<BTreeSet<String>>,
}

impl Policy {
    /// From configuration.
    pub fn from_raw(raw: RawPolicy) -> Policy {
        Policy {
            blocked: raw.blocked_providers.into_iter().collect(),
            only: raw.only_providers.map(|v| v.into_iter().collect()),
        }
    }

    /// True when the provider may be used.
    pub fn allows(&self, provider: &str) -> bool {
        !self.blocked.contains(provider) && self.only.as_ref().is_none_or(|o| o.contains(provider))
    }

    /// Both policies at once: blocked by either, and only what both allow.
    pub fn and(&self, other: &Policy) -> Policy {
        let only = match (&self.only, &other.only) {
            (Some(a), Some(b)) => Some(a.intersection(b).cloned().collect()),
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (None, None) => None,
        };
        Policy { blocked: self.blocked.union(&other.blocked).cloned().collect(), only }
    }

    /// Every provider name the policy mentions.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.blocked.iter().chain(self.only.iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(blocked: &[&str], only: Option<&[&str]>) -> Policy {
        Policy {
            blocked: blocked.iter().map(|s| s.to_string()).collect(),
            only: only.map(|o| o.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn combined_policies_block_everything_either_blocks() {
        let global = p(&["xai"], None);
        let client = p(&["openai"], Some(&["openai", "anthropic", "groq"]));
        let request = p(&[], Some(&["anthropic", "groq", "xai"]));
        let all = global.and(&client).and(&request);
        let allowed: Vec<&str> = ["openai", "anthropic", "groq", "xai", "cerebras"]
            .into_iter()
            .filter(|n| all.allows(n))
            .collect();
        assert_eq!(allowed, ["anthropic", "groq"]);
        assert!(Policy::default().allows("anything"));
    }
}
