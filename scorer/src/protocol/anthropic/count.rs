//! Token counting (`POST {base}/messages/count_tokens`): the Messages body a request would
//! send, less what only generating takes. Anthropic counts it free of charge, with the
//! tokenizer of the model it names, so the count is exact where the estimate is not.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// What the counting endpoint takes of a Messages body (the SDKs' `MessageCountTokensParams`);
/// it refuses the rest (`max_tokens`, `stream`, sampling, `stop_sequences`, `metadata`: "Extra
/// inputs are not permitted").
const COUNTED: [&str; 8] =
    ["model", "messages", "system", "tools", "tool_choice", "thinking", "output_config", "cache_control"];

/// The counting path beside a Messages path (`{base}/messages`): `{base}/messages/count_tokens`.
pub fn path(messages_path: &str) -> String {
    format!("{}/count_tokens", messages_path.trim_end_matches('/'))
}

/// A Messages body, as [`super::request::translate`] writes it, as the counting endpoint takes
/// it: the members it counts, as they were.
pub fn body(messages: &[u8]) -> Result<Vec<u8>, ApiError> {
    let unwritable =
        || ApiError::server(500, "router_internal_error", "the router could not write the count request");
    let mut out: Map<String, Value> = serde_json::from_slice(messages).map_err(|_| unwritable())?;
    out.retain(|k, _| COUNTED.contains(&k.as_str()));
    serde_json::to_vec(&out).map_err(|_| unwritable())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_what_the_endpoint_counts_goes() {
        let sent = json!({
            "model": "claude-sonnet-4-6", "max_tokens": 64000, "stream": true, "temperature": 0.2,
            "stop_sequences": ["x"], "system": [{"type": "text", "text": "be brief"}],
            "messages": [{"role": "user", "content": "hello"}],
            "tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": {"type": "auto"},
            "thinking": {"type": "adaptive", "display": "summarized"}, "output_config": {"effort": "high"},
            "cache_control": {"type": "ephemeral"},
        });
        let out: Value = serde_json::from_slice(&body(sent.to_string().as_bytes()).unwrap_or_default())
            .unwrap_or(Value::Null);
        let mut want = sent.clone();
        for gone in ["max_tokens", "stream", "temperature", "stop_sequences"] {
            want.as_object_mut().map(|o| o.remove(gone));
        }
        assert_eq!(out, want);
        assert_eq!(body(b"[1]").map_err(|e| e.status), Err(500));
    }

    #[test]
    fn the_count_path_is_beside_the_messages_path() {
        assert_eq!(path("/v1/messages"), "/v1/messages/count_tokens");
        assert_eq!(path("/anthropic/v1/messages/"), "/anthropic/v1/messages/count_tokens");
    }
}
