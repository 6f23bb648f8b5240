//! Table tests of the response half and the error mapping.

use serde_json::{Value, json};

use super::meta;
use crate::protocol::anthropic::response::{error, is_context_error, translate};

fn message(content: Value, stop_reason: Value, usage: Value) -> Vec<u8> {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": content,
           "stop_reason": stop_reason, "stop_sequence": null, "usage": usage})
    .to_string()
    .into_bytes()
}

fn parsed(body: &[u8], reasoning: bool) -> Value {
    translate(body, &meta(reasoning))
        .map(|b| serde_json::from_slice(&b).unwrap_or_default())
        .unwrap_or_default()
}

#[test]
fn every_stop_reason_has_a_finish_reason() {
    let cases = [
        (json!("end_turn"), "stop"),
        (json!("stop_sequence"), "stop"),
        (json!("pause_turn"), "stop"),
        (json!("max_tokens"), "length"),
        (json!("model_context_window_exceeded"), "length"),
        (json!("tool_use"), "tool_calls"),
        (json!("refusal"), "content_filter"),
        (json!("a_reason_added_later"), "stop"),
        (Value::Null, "stop"),
    ];
    for (stop, want) in cases {
        let body = message(
            json!([{"type": "text", "text": "x"}]),
            stop.clone(),
            json!({"input_tokens": 1, "output_tokens": 1}),
        );
        assert_eq!(parsed(&body, false)["choices"][0]["finish_reason"], want, "{stop}");
    }
    // A turn that ended with calls in it, whatever it says, called tools (as Converse's does).
    let call = json!([{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]);
    for stop in ["end_turn", "stop_sequence", "pause_turn"] {
        let body = message(call.clone(), json!(stop), json!({"input_tokens": 1, "output_tokens": 1}));
        assert_eq!(parsed(&body, false)["choices"][0]["finish_reason"], "tool_calls", "{stop}");
    }
    // The stop sequence that ended it, in the choice's `stop_reason` (vLLM's member).
    let mut v: Value =
        serde_json::from_slice(&message(json!([]), json!("stop_sequence"), json!({}))).unwrap_or_default();
    v["stop_sequence"] = json!("END");
    let choice = parsed(v.to_string().as_bytes(), false)["choices"][0].clone();
    assert_eq!((&choice["finish_reason"], &choice["stop_reason"]), (&json!("stop"), &json!("END")));
    let plain = parsed(&message(json!([]), json!("end_turn"), json!({})), false);
    assert!(plain["choices"][0].get("stop_reason").is_none(), "{plain}");
}

#[test]
fn usage_counts_cache_reads_and_writes_in_the_prompt() {
    let cases = [
        (
            json!({"input_tokens": 10, "output_tokens": 3}),
            json!({"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 0}}),
        ),
        (
            json!({"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20, "output_tokens": 3}),
            json!({"prompt_tokens": 130, "completion_tokens": 3, "total_tokens": 133, "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 20, "cache_creation_tokens": 20}}),
        ),
        // The thinking's share of the output, as OpenAI reports reasoning (at most the output).
        (
            json!({"input_tokens": 10, "output_tokens": 900, "output_tokens_details": {"thinking_tokens": 700}}),
            json!({"prompt_tokens": 10, "completion_tokens": 900, "total_tokens": 910, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 700}}),
        ),
        (
            json!({"input_tokens": 10, "output_tokens": 5, "output_tokens_details": {"thinking_tokens": 700}}),
            json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 5}}),
        ),
        (json!({"output_tokens": 3}), Value::Null),
        (Value::Null, Value::Null),
        // Counts no provider sends add up without overflowing.
        (
            json!({"input_tokens": u64::MAX, "cache_read_input_tokens": 5, "output_tokens": u64::MAX}),
            json!({"prompt_tokens": u64::MAX, "completion_tokens": u64::MAX, "total_tokens": u64::MAX, "prompt_tokens_details": {"cached_tokens": 5}}),
        ),
    ];
    for (usage, want) in cases {
        let body = message(json!([{"type": "text", "text": "x"}]), json!("end_turn"), usage.clone());
        assert_eq!(parsed(&body, false)["usage"], want, "{usage}");
    }
}

#[test]
fn the_message_keeps_text_tools_and_only_asked_for_thinking() {
    let content = json!([
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "secret"},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, 2]}},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
    ]);
    let body = message(content, json!("tool_use"), json!({"input_tokens": 1, "output_tokens": 1}));
    let want = |reasoning: Option<&str>| {
        let mut m = json!({"role": "assistant", "content": null, "refusal": null,
            "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":[1,2]}"}}]});
        if let (Some(r), Some(obj)) = (reasoning, m.as_object_mut()) {
            obj.insert("reasoning_content".into(), json!(r));
            // The signed thinking, redacted too, as Anthropic wrote it, bound to the model that
            // wrote it: for the next turn.
            obj.insert(
                "thinking_blocks".into(),
                json!([
                {"type": "thinking", "thinking": "hmm", "signature": "model-router:claude:claude-sonnet-4-5:sig"},
                {"type": "redacted_thinking", "data": "model-router:claude:claude-sonnet-4-5:secret"}]),
            );
        }
        m
    };
    assert_eq!(parsed(&body, false)["choices"][0]["message"], want(None));
    assert_eq!(parsed(&body, true)["choices"][0]["message"], want(Some("hmm")));
    assert!(!String::from_utf8_lossy(&translate(&body, &meta(false)).unwrap_or_default()).contains("secret"));
    // A thinking block with no text (only its signature) shows no reasoning, as in a stream.
    let silent = message(
        json!([{"type": "thinking", "thinking": "", "signature": "sig"}, {"type": "text", "text": "4"}]),
        json!("end_turn"),
        json!({"input_tokens": 1, "output_tokens": 1}),
    );
    let shown = &parsed(&silent, true)["choices"][0]["message"];
    assert!(shown.get("reasoning_content").is_none(), "{shown}");
    // Its signature still goes back (Opus 4.7 omits the text unless asked).
    let signature = "model-router:claude:claude-sonnet-4-5:sig";
    assert_eq!(
        shown["thinking_blocks"],
        json!([{"type": "thinking", "thinking": "", "signature": signature}])
    );
}

#[test]
fn a_body_that_is_not_a_message_is_an_error_for_the_log() {
    for body in [
        &b"not json"[..],
        br#"{"type":"error","error":{"type":"api_error","message":"x"}}"#,
        br#"{"type":"message"}"#,
        b"[]",
    ] {
        assert!(translate(body, &meta(false)).is_err(), "{}", String::from_utf8_lossy(body));
    }
}

fn anthropic_error(kind: &str, message: &str) -> Vec<u8> {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"})
        .to_string()
        .into_bytes()
}

#[test]
fn each_error_shape_keeps_the_message() {
    let cases: Vec<(u16, Vec<u8>, &str, &str, &str)> = vec![
        (
            400,
            anthropic_error("invalid_request_error", "messages: text content blocks must be non-empty"),
            "invalid_request_error",
            "provider_rejected_request",
            "text content blocks must be non-empty",
        ),
        (
            400,
            anthropic_error("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
            "invalid_request_error",
            "context_length_exceeded",
            "208310 tokens",
        ),
        (
            401,
            anthropic_error("authentication_error", "invalid x-api-key"),
            "invalid_request_error",
            "provider_rejected_request",
            "authentication_error: invalid x-api-key",
        ),
        (
            403,
            anthropic_error("permission_error", "no access"),
            "invalid_request_error",
            "provider_rejected_request",
            "permission_error",
        ),
        (
            404,
            anthropic_error("not_found_error", "model: claude-9"),
            "invalid_request_error",
            "provider_rejected_request",
            "model: claude-9",
        ),
        (
            413,
            anthropic_error("request_too_large", "Request exceeds the maximum allowed number of bytes."),
            "invalid_request_error",
            "provider_rejected_request",
            "maximum allowed number of bytes",
        ),
        (
            429,
            anthropic_error(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
            "rate_limit_error",
            "rate_limit_exceeded",
            "rate_limit_error",
        ),
        (
            500,
            anthropic_error("api_error", "Internal server error"),
            "server_error",
            "upstream_failed",
            "api_error: Internal server error",
        ),
        (
            529,
            anthropic_error("overloaded_error", "Overloaded"),
            "server_error",
            "overloaded",
            "overloaded_error: Overloaded",
        ),
        (502, b"<html>bad gateway</html>".to_vec(), "server_error", "upstream_failed", "no message"),
    ];
    for (status, body, kind, code, said) in cases {
        let v: Value = serde_json::from_slice(&error(status, &body)).unwrap_or_default();
        assert_eq!(
            (v["error"]["type"].as_str(), v["error"]["code"].as_str()),
            (Some(kind), Some(code)),
            "{status}: {v}"
        );
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(said)), "{status}: {v}");
    }
}

#[test]
fn context_overflow_is_recognised_in_its_phrasings_only() {
    let cases: Vec<(u16, Vec<u8>, bool)> = vec![
        (
            400,
            anthropic_error("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"),
            true,
        ),
        (400, anthropic_error("invalid_request_error", "Prompt is too long"), true),
        (
            400,
            anthropic_error(
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 197824 + 21333 > 200000, decrease input length or `max_tokens` and try again",
            ),
            true,
        ),
        (
            400,
            anthropic_error("invalid_request_error", "The request exceeds the context window of this model"),
            true,
        ),
        (
            400,
            anthropic_error(
                "invalid_request_error",
                "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5",
            ),
            false,
        ),
        (
            400,
            anthropic_error("invalid_request_error", "messages.0.content: Input should be a valid list"),
            false,
        ),
        (400, anthropic_error("api_error", "prompt is too long"), false),
        (
            413,
            anthropic_error("request_too_large", "Request exceeds the maximum allowed number of bytes."),
            false,
        ),
        (500, anthropic_error("invalid_request_error", "prompt is too long: 1 tokens > 0 maximum"), false),
        (400, b"prompt is too long".to_vec(), false),
    ];
    for (status, body, want) in cases {
        assert_eq!(is_context_error(status, &body), want, "{status} {}", String::from_utf8_lossy(&body));
    }
}
