//! Token counting (`POST {base}/messages/count_tokens`): the Messages body a request would
//! send, less what only generating takes. Anthropic counts it free of charge, with the
//! tokenizer of the model it names, so the count is exact where the estimate is not.

use serde_json::Value;

use crate::error::ApiError;
use crate::protocol::raw::{Json, members};

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
/// it: the members it counts, their text as it was (a structured output's schema keeps its
/// order, as the request it counts sends it).
pub fn body(messages: &[u8]) -> Result<Vec<u8>, ApiError> {
    let unwritable =
        || ApiError::server(500, "router_internal_error", "the router could not write the count request");
    let text = std::str::from_utf8(messages).map_err(|_| unwritable())?;
    let m = members(Json::of(text.trim())).map_err(|_| unwritable())?;
    if !m.object {
        return Err(unwritable());
    }
    let mut out = Vec::with_capacity(messages.len());
    out.push(b'{');
    for (name, v) in m.iter().filter(|(name, _)| COUNTED.contains(name)) {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(Value::from(name).to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(v.get().as_bytes());
    }
    out.push(b'}');
    Ok(out)
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
        // The text as it was: a schema's members in their order.
        let ordered = br#"{"max_tokens":5,"messages":[],"model":"m","output_config":{"format":{"schema":{"properties":{"z":{},"a":{}}},"type":"json_schema"}}}"#;
        let out = String::from_utf8(body(ordered).unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            out,
            r#"{"messages":[],"model":"m","output_config":{"format":{"schema":{"properties":{"z":{},"a":{}}},"type":"json_schema"}}}"#
        );
    }

    #[test]
    fn the_count_path_is_beside_the_messages_path() {
        assert_eq!(path("/v1/messages"), "/v1/messages/count_tokens");
        assert_eq!(path("/anthropic/v1/messages/"), "/anthropic/v1/messages/count_tokens");
    }
}
