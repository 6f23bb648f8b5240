//! `auto`'s configuration: the contribution weights and the tier thresholds. It lives with the
//! configuration (not with the score in `decide::auto`) so the configuration never imports the
//! decision that reads it.

use serde::Deserialize;

use crate::catalog::Tier;

/// Contribution weights; every field has a tested default (see [`AutoWeights::default`]).
/// Contributions add to `base`; the sum is squashed into [0, 1] (see [`squash`](crate::decide::auto::squash)).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoWeights {
    /// Sum for a request with no signal at all.
    pub base: f64,
    /// Per doubling of the last user message's bytes above 150, up to 2.5 doublings (past
    /// that it is pasted material, not a harder ask).
    pub length: f64,
    /// Per doubling of long words (see [`crate::parse::features::LONG_WORD_CHARS`]) in the last user
    /// message, up to 4 doublings: the same length written in harder vocabulary asks more.
    pub vocabulary: f64,
    /// Per halving of the last user message below 150 bytes, up to 2 halvings (subtracted):
    /// shortness is weak evidence, so a short hard question is not sent to economy by it.
    pub short: f64,
    /// Code anywhere the user or assistant wrote.
    pub code: f64,
    /// Per fenced block after the first, up to three.
    pub code_block: f64,
    /// Tools declared.
    pub tools: f64,
    /// An agent loop: tool calls or results already in the history.
    pub agentic: f64,
    /// Per doubling of agent steps (tool results), up to 4 doublings.
    pub agentic_step: f64,
    /// An agent loop that works on code.
    pub agentic_code: f64,
    /// Per reasoning marker in user text, up to three.
    pub reasoning: f64,
    /// Per doubling of math signals in user text, up to 4 doublings. Default 0: on the
    /// calibration data it lowered MMLU's APGR (see docs/auto.md); the feature is still reported.
    pub math: f64,
    /// Two or more assistant turns in the history.
    pub multi_turn: f64,
    /// A JSON schema for the answer.
    pub structured: f64,
    /// Image inputs.
    pub images: f64,
    /// Reasoning parameters (`reasoning_effort`) in the request.
    pub reasoning_param: f64,
    /// Over 32k tokens of context.
    pub long_context: f64,
    /// A short greeting or thanks with nothing else (negative).
    pub small_talk: f64,
}

impl Default for AutoWeights {
    fn default() -> Self {
        AutoWeights {
            base: 0.45,
            length: 0.10,
            vocabulary: 0.01,
            short: 0.04,
            code: 0.12,
            code_block: 0.02,
            tools: 0.04,
            agentic: 0.06,
            agentic_step: 0.04,
            agentic_code: 0.10,
            reasoning: 0.07,
            math: 0.0,
            multi_turn: 0.02,
            structured: 0.04,
            images: 0.05,
            reasoning_param: 0.10,
            long_context: 0.02,
            small_talk: -0.35,
        }
    }
}

/// `auto` configuration.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AutoConfig {
    /// Contribution weights.
    pub weights: AutoWeights,
    /// Scores at or above this are standard.
    pub standard_at: f64,
    /// Scores at or above this are premium.
    pub premium_at: f64,
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig { weights: AutoWeights::default(), standard_at: 0.38, premium_at: 0.76 }
    }
}

impl AutoConfig {
    /// The tier of a score.
    pub fn tier(&self, score: f64) -> Tier {
        if score >= self.premium_at {
            Tier::Premium
        } else if score >= self.standard_at {
            Tier::Standard
        } else {
            Tier::Economy
        }
    }

    /// True when thresholds are ordered inside (0, 1] and weights are finite.
    pub fn is_valid(&self) -> bool {
        let w = self.weights;
        let all = [
            w.base,
            w.length,
            w.vocabulary,
            w.short,
            w.code,
            w.code_block,
            w.tools,
            w.agentic,
            w.agentic_step,
            w.agentic_code,
            w.reasoning,
            w.math,
            w.multi_turn,
            w.structured,
            w.images,
            w.reasoning_param,
            w.long_context,
            w.small_talk,
        ];
        all.iter().all(|v| v.is_finite())
            && 0.0 < self.standard_at
            && self.standard_at <= self.premium_at
            && self.premium_at <= 1.0
    }
}
