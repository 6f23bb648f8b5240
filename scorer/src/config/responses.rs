//! How Responses API requests (`/v1/responses`) are served.

use serde::Deserialize;

/// How Responses API requests are served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsesConfig {
    /// Types of hosted tools (`web_search`, ...) left out of a request rather than refused:
    /// the model answers without them (and the answer's `x-model-router-dropped-tools` says
    /// so). The Codex CLI declares `web_search` unless told not to.
    pub drop_tools: Vec<String>,
}

impl ResponsesConfig {
    /// Types that name a tool type, once each, and not one the router serves.
    pub(super) fn validate(&self) -> Result<(), String> {
        for (n, t) in self.drop_tools.iter().enumerate() {
            let name_ok = !t.is_empty()
                && t.len() <= 64
                && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !name_ok {
                return Err(format!(
                    "responses.drop_tools: {t:?} is not a tool type: use 1-64 characters of a-z 0-9 _"
                ));
            }
            if t == "function" || t == "namespace" {
                return Err(format!(
                    "responses.drop_tools: {t:?} tools are served, never left out: name hosted tool types only"
                ));
            }
            if self.drop_tools.iter().take(n).any(|e| e == t) {
                return Err(format!("responses.drop_tools: {t:?} is named twice"));
            }
        }
        Ok(())
    }
}
