use serde_json::{Value, json};

use super::*;

fn meta(reasoning: bool) -> Meta {
    Meta { id: "chatcmpl-1".into(), model: "gpt-5.3-codex".into(), created: 7, reasoning, structured: false }
}

/// A Response object with `status`, `output` and `extra` members.
fn response(status: &str, output: Value, extra: Value) -> Vec<u8> {
    let mut v = json!({"id": "resp_1", "object": "response", "status": status, "output": output});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v.to_string().into_bytes()
}

fn chat(body: &[u8], reasoning: bool) -> Value {
    let out = translate(body, &meta(reasoning)).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&out).unwrap()
}

fn text_item(id: &str, text: &str) -> Value {
    json!({"type": "message", "id": id, "role": "assistant", "content": [{"type": "output_text", "text": text, "annotations": []}]})
}

#[test]
fn finish_reasons() {
    let call = json!({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"});
    let cases = [
        ("completed", json!([text_item("m", "hi")]), json!({}), "stop"),
        ("completed", json!([call.clone()]), json!({}), "tool_calls"),
        ("incomplete", json!([]), json!({"incomplete_details": {"reason": "max_output_tokens"}}), "length"),
        (
            "incomplete",
            json!([]),
            json!({"incomplete_details": {"reason": "content_filter"}}),
            "content_filter",
        ),
        ("incomplete", json!([]), json!({"incomplete_details": null}), "length"),
        (
            "incomplete",
            json!([call]),
            json!({"incomplete_details": {"reason": "max_output_tokens"}}),
            "length",
        ),
    ];
    for (status, output, extra, want) in cases {
        let v = chat(&response(status, output, extra.clone()), false);
        assert_eq!(v["choices"][0]["finish_reason"], want, "{status} {extra}");
    }
}

#[test]
fn the_message_carries_text_refusal_tool_calls_and_reasoning_when_asked() {
    let output = json!([
        {"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": "plan"}, {"type": "summary_text", "text": ""}],
         "content": [{"type": "reasoning_text", "text": "raw"}]},
        text_item("m1", "one"),
        {"type": "web_search_call", "id": "ws", "status": "completed"},
        {"type": "message", "id": "m2", "role": "assistant", "content": [
            {"type": "output_text", "text": "two", "annotations": []},
            {"type": "refusal", "refusal": "no"}]},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"},
    ]);
    let body = response("completed", output, json!({}));
    let v = chat(&body, true);
    let m = &v["choices"][0]["message"];
    assert_eq!(m["content"], "one\n\ntwo");
    assert_eq!(m["refusal"], "no");
    assert_eq!(m["reasoning_content"], "plan\n\nraw");
    assert_eq!(
        m["tool_calls"],
        json!([{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}])
    );
    let hidden = chat(&body, false);
    assert!(hidden["choices"][0]["message"].get("reasoning_content").is_none(), "{hidden}");
    let none = chat(&response("completed", json!([]), json!({})), true);
    assert_eq!(none["choices"][0]["message"], json!({"role": "assistant", "content": null, "refusal": null}));
}

#[test]
fn usage_counts_cached_tokens_inside_the_prompt() {
    let cases = [
        (
            json!({"input_tokens": 100, "output_tokens": 5}),
            Some(Tokens { prompt: 100, completion: 5, ..Tokens::default() }),
        ),
        (
            json!({"input_tokens": 100, "output_tokens": 5, "total_tokens": 105,
                   "input_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30},
                   "output_tokens_details": {"reasoning_tokens": 4}}),
            Some(Tokens {
                prompt: 100,
                completion: 5,
                cache_read: 60,
                cache_write: 30,
                cache_write_1h: 0,
                reasoning: 4,
            }),
        ),
        (json!(null), None),
        (json!({"input_tokens": 1}), None),
    ];
    for (usage, want) in cases {
        assert_eq!(tokens(&json!({ "usage": usage })), want, "{usage}");
    }
    let v = chat(
        &response(
            "completed",
            json!([]),
            json!({"usage": {"input_tokens": 9, "output_tokens": 2,
        "input_tokens_details": {"cached_tokens": 4}}}),
        ),
        false,
    );
    assert_eq!(v["usage"]["prompt_tokens"], 9);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert!(chat(&response("completed", json!([]), json!({})), false).get("usage").is_none());
}

#[test]
fn answers_not_in_the_documented_shape_are_errors_for_the_log() {
    let cases: [(&[u8], &str); 9] = [
        (b"not json", "not JSON"),
        (br#"{"output":[]}"#, "no status"),
        (br#"{"status":"in_progress","output":[]}"#, "in_progress"),
        (br#"{"status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}"#, "boom"),
        (br#"{"status":"completed"}"#, "no output"),
        (br#"{"status":"completed","output":[{"type":"message"}]}"#, "no content"),
        (
            br#"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text"}]}]}"#,
            "'text'",
        ),
        (br#"{"status":"completed","output":[{"type":"function_call","name":"f"}]}"#, "'call_id'"),
        (
            br#"{"status":"completed","output":[{"type":"reasoning","summary":[{"type":"summary_text"}]}]}"#,
            "'text'",
        ),
    ];
    for (body, says) in cases {
        match translate(body, &meta(true)) {
            Ok(v) => panic!("accepted {}: {}", String::from_utf8_lossy(body), String::from_utf8_lossy(&v)),
            Err(e) => assert!(e.contains(says), "{e} should say {says}"),
        }
    }
}

#[test]
fn errors_keep_the_provider_message_and_status() {
    let context = br#"{"error":{"message":"Your input exceeds the context window of this model. Please adjust your input and try again.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}"#;
    let cases: [(u16, &[u8], &str, &str, &str); 7] = [
        (400, context, "context_length_exceeded", "invalid_request_error", "exceeds the context window"),
        (
            400,
            br#"{"error":{"message":"Invalid 'max_output_tokens': integer below minimum value.","type":"invalid_request_error","param":"max_output_tokens","code":"integer_below_min_value"}}"#,
            "provider_rejected_request",
            "invalid_request_error",
            "integer below minimum",
        ),
        (
            429,
            br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
            "rate_limit_exceeded",
            "rate_limit_error",
            "Rate limit reached",
        ),
        (500, br#"{"error":{"message":"The server had an error","type":"server_error"}}"#, "upstream_failed", "server_error", "The server had an error"),
        (502, b"<html>Bad Gateway</html>", "upstream_failed", "server_error", "Bad Gateway"),
        (503, b"", "upstream_failed", "server_error", "no message"),
        (404, br#"{"detail":"Not Found"}"#, "provider_rejected_request", "invalid_request_error", "Not Found"),
    ];
    for (status, body, code, kind, says) in cases {
        let v: Value = serde_json::from_slice(&error(status, body)).unwrap();
        assert_eq!(
            (v["error"]["code"].as_str(), v["error"]["type"].as_str()),
            (Some(code), Some(kind)),
            "{v}"
        );
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(says)), "{v}");
    }
}

#[test]
fn context_overflow_is_recognised_by_code_or_wording() {
    let cases: [(u16, &[u8], bool); 7] = [
        (400, br#"{"error":{"message":"x","code":"context_length_exceeded"}}"#, true),
        (400, br#"{"error":{"message":"Your input exceeds the context window of this model.","code":null}}"#, true),
        (
            400,
            br#"{"error":{"message":"This model's maximum context length is 272000 tokens. However, you requested 300000 tokens.","code":null}}"#,
            true,
        ),
        (400, br#"{"error":{"message":"Invalid value for 'tool_choice'","code":"invalid_value"}}"#, false),
        (500, br#"{"error":{"message":"x","code":"context_length_exceeded"}}"#, false),
        (400, b"context_length_exceeded", false),
        (400, b"{}", false),
    ];
    for (status, body, want) in cases {
        assert_eq!(is_context_error(status, body), want, "{status} {}", String::from_utf8_lossy(body));
    }
}

#[test]
fn failures_map_to_the_error_a_client_can_act_on() {
    // (code, message, status, error code)
    let cases = [
        (json!("rate_limit_exceeded"), "slow down", 429, "rate_limit_exceeded"),
        (json!("context_length_exceeded"), "too long", 400, "context_length_exceeded"),
        (json!(null), "Your input exceeds the context window of this model.", 400, "context_length_exceeded"),
        (json!("invalid_prompt"), "flagged", 400, "provider_rejected_request"),
        (json!("image_too_large"), "big", 400, "provider_rejected_request"),
        (json!("bio_policy"), "no", 400, "provider_rejected_request"),
        (json!("server_error"), "boom", 502, "upstream_failed"),
        (json!("vector_store_timeout"), "slow", 502, "upstream_failed"),
        (json!(null), "what", 502, "upstream_failed"),
    ];
    for (code, message, status, want) in cases {
        let e = failure(Some(&json!({"code": code, "message": message})));
        assert_eq!((e.status, e.code), (status, want), "{code}");
        assert!(e.message.contains(message), "{}", e.message);
    }
    assert_eq!(failure(None).code, "upstream_failed");
}
