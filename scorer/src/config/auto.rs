//! `auto`'s configuration: the contribution weights and the tier thresholds, set directly or as
//! shares of typical traffic. It lives with the configuration (not with the score in
//! `decide::auto`) so the configuration never imports the decision that reads it.

use std::fmt;

use serde::Deserialize;

use crate::catalog::Tier;

/// The distribution of the default score on the training prompts (`../shared/train`), written
/// by `scripts/auto_quantiles.py`: it maps `premium_share` / `economy_share` to thresholds.
pub const BUILTIN_SCORE_TABLE: &str = include_str!("../../auto_quantiles.json");

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
    /// Code asked for in prose, with none written in the conversation: the ask is code for
    /// ranking and reasons; what it adds to the score is chosen on the training data (see
    /// docs/auto.md), since "write a Python script" is not by itself a hard request.
    pub code_ask: f64,
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
            code_ask: 0.0,
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

/// `auto` as written: thresholds, or the share of typical traffic wanted in a tier (each share
/// replaces the threshold it sets; giving both for one boundary is refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAutoConfig {
    /// Contribution weights.
    pub weights: AutoWeights,
    /// Scores at or above this are standard (default 0.38).
    pub standard_at: Option<f64>,
    /// Scores at or above this are premium (default 0.76).
    pub premium_at: Option<f64>,
    /// Share of typical traffic to send to premium, in (0, 1): sets `premium_at`.
    pub premium_share: Option<f64>,
    /// Share of typical traffic to send to economy, in (0, 1): sets `standard_at`.
    pub economy_share: Option<f64>,
}

/// Why an `auto` section was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoError {
    /// Thresholds not ordered inside (0, 1] (after shares are mapped), or a weight not finite.
    Thresholds,
    /// A share outside (0, 1), or `premium_share + economy_share` not below 1.
    ShareRange,
    /// A share and the threshold it sets were both given.
    ShareAndThreshold(&'static str),
    /// Shares with changed weights: the score table describes the default score only.
    ShareWithCustomWeights,
    /// The built-in score table does not parse (a build defect; a test guards it).
    Table,
}

impl fmt::Display for AutoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AutoError::Thresholds => {
                f.write_str(
                    "auto: need 0 < standard_at <= premium_at <= 1 (a share sets its boundary from the score's distribution: premium_share premium_at, economy_share standard_at) and finite weights",
                )
            }
            AutoError::ShareRange => {
                f.write_str("auto: premium_share and economy_share must be in (0, 1) and sum to less than 1")
            }
            AutoError::ShareAndThreshold(which) => write!(f, "auto: {which}: set one of the two"),
            AutoError::ShareWithCustomWeights => f.write_str(
                "auto: premium_share/economy_share map through the default score's distribution; \
                 with custom weights set standard_at/premium_at",
            ),
            AutoError::Table => f.write_str("auto: the built-in score table is invalid"),
        }
    }
}

/// Scores of typical traffic: for each score the table saw, the share of rows at or above it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScoreTable {
    /// What the table was computed on.
    pub source: String,
    /// Rows it was computed on.
    pub rows: u64,
    /// `[score, share of rows scoring at or above it]`, scores ascending.
    pub at_or_above: Vec<(f64, f64)>,
}

impl ScoreTable {
    /// The built-in table.
    pub fn builtin() -> Result<ScoreTable, AutoError> {
        let t: ScoreTable = serde_json::from_str(BUILTIN_SCORE_TABLE).map_err(|_| AutoError::Table)?;
        let ordered = t.at_or_above.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0 && a.1 >= b.1));
        if t.at_or_above.is_empty() || !ordered {
            return Err(AutoError::Table);
        }
        Ok(t)
    }

    /// The score whose at-or-above share is nearest `share` (ties: the higher score, the fewer
    /// rows): scores come in steps of 0.001, so a share falling inside a step of tied scores
    /// lands on the nearer side of it.
    pub fn threshold_at_or_above(&self, share: f64) -> f64 {
        let mut best = (f64::INFINITY, 1.0);
        for &(score, at) in &self.at_or_above {
            let gap = (at - share).abs();
            if gap <= best.0 {
                best = (gap, score);
            }
        }
        best.1
    }
}

/// `auto` configuration, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
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

impl TryFrom<RawAutoConfig> for AutoConfig {
    type Error = AutoError;

    fn try_from(raw: RawAutoConfig) -> Result<AutoConfig, AutoError> {
        let default = AutoConfig::default();
        let mut cfg = AutoConfig {
            weights: raw.weights,
            standard_at: raw.standard_at.unwrap_or(default.standard_at),
            premium_at: raw.premium_at.unwrap_or(default.premium_at),
        };
        if raw.premium_share.is_some() || raw.economy_share.is_some() {
            if raw.premium_share.is_some() && raw.premium_at.is_some() {
                return Err(AutoError::ShareAndThreshold("premium_share and premium_at"));
            }
            if raw.economy_share.is_some() && raw.standard_at.is_some() {
                return Err(AutoError::ShareAndThreshold("economy_share and standard_at"));
            }
            let inside = |v: Option<f64>| v.is_none_or(|v| v > 0.0 && v < 1.0);
            let sum = raw.premium_share.unwrap_or(0.0) + raw.economy_share.unwrap_or(0.0);
            if !inside(raw.premium_share) || !inside(raw.economy_share) || sum >= 1.0 {
                return Err(AutoError::ShareRange);
            }
            if raw.weights != AutoWeights::default() {
                return Err(AutoError::ShareWithCustomWeights);
            }
            let table = ScoreTable::builtin()?;
            if let Some(p) = raw.premium_share {
                cfg.premium_at = table.threshold_at_or_above(p);
            }
            if let Some(e) = raw.economy_share {
                cfg.standard_at = table.threshold_at_or_above(1.0 - e);
            }
            // A share past the other boundary's default (premium_share 0.9 sets premium_at below
            // the default standard_at): the boundary no one set gives way, its band empty (it
            // was refused as thresholds out of order, which the operator never set).
            if cfg.standard_at > cfg.premium_at {
                if raw.premium_share.is_some() && raw.standard_at.is_none() && raw.economy_share.is_none() {
                    cfg.standard_at = cfg.premium_at;
                } else if raw.economy_share.is_some()
                    && raw.premium_at.is_none()
                    && raw.premium_share.is_none()
                {
                    cfg.premium_at = cfg.standard_at;
                }
            }
        }
        if cfg.is_valid() { Ok(cfg) } else { Err(AutoError::Thresholds) }
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
            w.code_ask,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(json: &str) -> Result<AutoConfig, AutoError> {
        let raw: RawAutoConfig = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        AutoConfig::try_from(raw)
    }

    #[test]
    fn the_builtin_table_parses_and_covers_every_row() {
        let t = ScoreTable::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(t.rows > 1000, "{}", t.rows);
        // The lowest score seen has every row at or above it.
        assert_eq!(t.at_or_above.first().map(|p| p.1), Some(1.0));
    }

    #[test]
    fn shares_set_thresholds_and_thresholds_stay_available() {
        let d = AutoConfig::default();
        assert_eq!(compile("{}"), Ok(d));
        assert_eq!(compile(r#"{"premium_at":0.9}"#).map(|c| c.premium_at), Ok(0.9));
        let t = ScoreTable::builtin().unwrap_or_else(|e| panic!("{e}"));
        let c = compile(r#"{"premium_share":0.2,"economy_share":0.3}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (c.premium_at, c.standard_at),
            (t.threshold_at_or_above(0.2), t.threshold_at_or_above(0.7))
        );
        assert!(c.standard_at < c.premium_at);
        // More premium wanted, a lower bar.
        let more = compile(r#"{"premium_share":0.4}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(more.premium_at < c.premium_at && more.standard_at == d.standard_at);
        // One share with the other boundary fixed.
        let mixed = compile(r#"{"economy_share":0.2,"premium_at":0.9}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mixed.premium_at, 0.9);
        // A large share alone passes the other boundary's default, which gives way: no band
        // between them (these were refused as thresholds out of order).
        let most = compile(r#"{"premium_share":0.9}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (most.premium_at, most.standard_at),
            (t.threshold_at_or_above(0.9), t.threshold_at_or_above(0.9))
        );
        assert!(most.premium_at < d.standard_at, "{most:?}");
        let cheap = compile(r#"{"economy_share":0.95}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cheap.standard_at, cheap.premium_at);
        assert!(cheap.standard_at > d.premium_at, "{cheap:?}");
    }

    #[test]
    fn auto_errors() {
        let cases: &[(&str, AutoError)] = &[
            (r#"{"standard_at":0.9,"premium_at":0.5}"#, AutoError::Thresholds),
            (r#"{"premium_share":0}"#, AutoError::ShareRange),
            (r#"{"premium_share":1}"#, AutoError::ShareRange),
            (r#"{"economy_share":-0.1}"#, AutoError::ShareRange),
            (r#"{"premium_share":0.6,"economy_share":0.4}"#, AutoError::ShareRange),
            (
                r#"{"premium_share":0.2,"premium_at":0.7}"#,
                AutoError::ShareAndThreshold("premium_share and premium_at"),
            ),
            (
                r#"{"economy_share":0.2,"standard_at":0.3}"#,
                AutoError::ShareAndThreshold("economy_share and standard_at"),
            ),
            (r#"{"premium_share":0.2,"weights":{"code":0.3}}"#, AutoError::ShareWithCustomWeights),
            // The economy share's threshold above a fixed premium threshold.
            (r#"{"economy_share":0.95,"premium_at":0.4}"#, AutoError::Thresholds),
        ];
        for (json, want) in cases {
            assert_eq!(compile(json), Err(*want), "{json}");
        }
    }
}
