use serde_json::{Value, json};

use super::*;

fn meta(reasoning: bool) -> Meta {
    Meta { id: "chatcmpl-1".into(), model: "m".into(), created: 1, reasoning, structured: false }
}

fn answer(content: Value, stop: &str) -> Vec<u8> {
    json!({"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
        "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}, "metrics": {"latencyMs": 1}})
    .to_string()
    .into_bytes()
}

fn parsed(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_default()
}

#[test]
fn each_stop_reason_has_its_finish_reason() {
    let cases = [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        // No call in the answer: nothing for the client to run.
        ("tool_use", "stop"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("something_new", "stop"),
    ];
    for (stop, want) in cases {
        assert_eq!(finish_reason(stop, false), want);
        let out = translate(&answer(json!([{"text": "x"}]), stop), &meta(false)).unwrap_or_default();
        assert_eq!(parsed(&out)["choices"][0]["finish_reason"], want, "{stop}");
    }
    // Output Bedrock could not parse is the provider's failure, not an answer that stopped.
    for stop in ["malformed_model_output", "malformed_tool_use"] {
        let out = translate(&answer(json!([{"text": "{\"na"}]), stop), &meta(false));
        assert!(out.as_ref().is_err_and(|why| why.contains(stop)), "{stop}: {out:?}");
    }
    // With a call, the calls decide, unless the answer was cut short or filtered.
    let call = json!([{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]);
    for (stop, want) in [
        ("tool_use", "tool_calls"),
        ("end_turn", "tool_calls"),
        ("max_tokens", "length"),
        ("content_filtered", "content_filter"),
    ] {
        let out = translate(&answer(call.clone(), stop), &meta(false)).unwrap_or_default();
        assert_eq!(parsed(&out)["choices"][0]["finish_reason"], want, "{stop}");
    }
}

#[test]
fn the_message_shape_follows_the_blocks() {
    let r = |t: &str| json!({"reasoningContent": {"reasoningText": {"text": t}}});
    let call = json!({"toolUse": {"toolUseId": "t", "name": "f", "input": {"a": [1, "x"]}}});
    let cases = [
        (json!([]), false, json!({"role": "assistant", "content": null, "refusal": null})),
        (
            json!([{"text": "a"}, {"text": "b"}]),
            false,
            json!({"role": "assistant", "content": "ab", "refusal": null}),
        ),
        (
            json!([call.clone()]),
            false,
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{\"a\":[1,\"x\"]}"}}]}),
        ),
        (
            json!([{"toolUse": {"toolUseId": "t", "name": "f"}}]),
            false,
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
        ),
        (
            json!([r("think"), {"text": "a"}]),
            true,
            json!({"role": "assistant", "content": "a", "refusal": null, "reasoning_content": "think"}),
        ),
        (
            json!([r("think"), {"text": "a"}]),
            false,
            json!({"role": "assistant", "content": "a", "refusal": null}),
        ),
        (json!([r(""), {"text": "a"}]), true, json!({"role": "assistant", "content": "a", "refusal": null})),
        // Blocks with no OpenAI counterpart are left out.
        (
            json!([{"citationsContent": {}}, {"text": "a"}]),
            false,
            json!({"role": "assistant", "content": "a", "refusal": null}),
        ),
    ];
    for (content, reasoning, want) in cases {
        let out = translate(&answer(content.clone(), "end_turn"), &meta(reasoning)).unwrap_or_default();
        assert_eq!(parsed(&out)["choices"][0]["message"], want, "{content}");
    }
}

#[test]
fn usage_adds_cached_input_back_into_prompt() {
    let cases = [
        (
            json!({"inputTokens": 3, "outputTokens": 2}),
            Some(Tokens {
                prompt: 3,
                completion: 2,
                cache_read: 0,
                cache_write: 0,
                cache_write_1h: 0,
                reasoning: 0,
            }),
        ),
        (
            json!({"inputTokens": 3, "outputTokens": 2, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 7}),
            Some(Tokens {
                prompt: 110,
                completion: 2,
                cache_read: 100,
                cache_write: 7,
                cache_write_1h: 0,
                reasoning: 0,
            }),
        ),
        (json!({"outputTokens": 2}), None),
    ];
    for (usage, want) in cases {
        assert_eq!(tokens(&usage), want, "{usage}");
    }
    let body = json!({"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": "end_turn"});
    let out = translate(body.to_string().as_bytes(), &meta(false)).unwrap_or_default();
    assert!(parsed(&out).get("usage").is_none(), "no usage reported, none invented");
}

/// Usage it cannot read leaves the answer whole, without usage (charged its estimate): the
/// answer was dropped (a 502, its provider's breaker fed) for a count written `"1000"`.
#[test]
fn an_unreadable_usage_keeps_the_answer() {
    let answer = |usage: &str| {
        let body = format!(
            r#"{{"output":{{"message":{{"role":"assistant","content":[{{"text":"hello"}}]}}}},"stopReason":"end_turn","usage":{usage}}}"#
        );
        translate(body.as_bytes(), &meta(false)).map(|out| parsed(&out))
    };
    for usage in [
        "{}",
        "null",
        r#"{"inputTokens":"1000","outputTokens":5}"#,
        r#"{"inputTokens":-1000,"outputTokens":5}"#,
        r#"{"inputTokens":12.5,"outputTokens":5}"#,
        r#"{"inputTokens":1e20,"outputTokens":5}"#,
        r#"{"inputTokens":10,"outputTokens":"5"}"#,
        r#"{"inputTokens":10,"outputTokens":5,"cacheReadInputTokens":-2}"#,
    ] {
        let v = answer(usage);
        let text =
            v.as_ref().ok().and_then(|v| v["choices"][0]["message"]["content"].as_str().map(str::to_string));
        assert_eq!(text.as_deref(), Some("hello"), "{usage}: {v:?}");
        assert!(v.is_ok_and(|v| v.get("usage").is_none()), "{usage}");
    }
    let v = answer(r#"{"inputTokens":1000.0,"outputTokens":5,"cacheReadInputTokens":null}"#);
    let counts = v.map(|v| (v["usage"]["prompt_tokens"].as_u64(), v["usage"]["completion_tokens"].as_u64()));
    assert_eq!(counts.ok(), Some((Some(1000), Some(5))));
}

#[test]
fn a_body_not_in_the_documented_shape_is_an_error() {
    let cases: [&[u8]; 7] = [
        b"not json",
        b"{}",
        br#"{"output":{"message":{"content":"text"}},"stopReason":"end_turn"}"#,
        br#"{"output":{"message":{"content":[]}}}"#,
        br#"{"output":{"message":{"content":[]}},"stopReason":7}"#,
        br#"{"output":{"message":{"content":[{"toolUse":{"name":"f"}}]}},"stopReason":"tool_use"}"#,
        br#"{"output":{"message":{"content":[{"toolUse":{"toolUseId":"t"}}]}},"stopReason":"tool_use"}"#,
    ];
    for body in cases {
        let got = translate(body, &meta(false));
        assert!(
            got.as_ref().is_err_and(|m| m.contains("Converse")),
            "{}: {got:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn errors_keep_the_message_and_recognise_context_overflow() {
    // (status, body, code, context)
    let cases: [(u16, &[u8], &str, bool); 12] = [
        (400, br#"{"message":"Input is too long for requested model."}"#, "context_length_exceeded", true),
        (400, br#"{"message":"The model returned the following errors: input length and `max_tokens` exceed context limit: 142422 + 64000 > 204658"}"#, "context_length_exceeded", true),
        (400, br#"{"message":"too many total text bytes: 9000000 > 8000000"}"#, "context_length_exceeded", true),
        (400, br#"{"message":"The model returned the following errors: prompt is too long: 903884 tokens > 200000 maximum"}"#, "context_length_exceeded", true),
        (400, br#"{"message":"This model's maximum context length is 202752 tokens. However, you requested 65536 output tokens"}"#, "context_length_exceeded", true),
        (400, br#"{"message":"Input Tokens Exceeded: Number of input tokens exceeds maximum length"}"#, "context_length_exceeded", true),
        (400, br#"{"error":{"message":"This model's maximum context length is 8192 tokens"}}"#, "context_length_exceeded", true),
        (400, br#"{"Message":"The toolConfig field must be defined when using toolUse and toolResult content blocks."}"#, "provider_rejected_request", false),
        (403, br#"{"message":"You don't have access to the model with the specified model ID."}"#, "provider_rejected_request", false),
        (429, br#"{"message":"Too many requests, please wait before trying again."}"#, "rate_limit_exceeded", false),
        // A 5xx is never the request's length, whatever it says.
        (500, br#"{"message":"Input is too long"}"#, "upstream_failed", false),
        (503, b"<html>unavailable</html>", "upstream_failed", false),
    ];
    for (status, body, code, context) in cases {
        assert_eq!(is_context_error(status, body), context, "{}", String::from_utf8_lossy(body));
        let v = parsed(&error(status, body));
        assert_eq!(v["error"]["code"], code, "{v}");
        let said = serde_json::from_slice::<Value>(body).ok();
        let said =
            said.as_ref().and_then(|b| b.get("message").or(b.get("Message")).or(b["error"].get("message")));
        let message = v["error"]["message"].as_str().unwrap_or_default();
        match said.and_then(Value::as_str) {
            Some(s) => assert!(message.contains(s), "{message}"),
            None => assert!(message.contains("no message"), "{message}"),
        }
    }
}

#[test]
fn token_counts_no_provider_sends_add_up_without_overflowing() {
    let usage = json!({"inputTokens": u64::MAX, "cacheReadInputTokens": 1, "cacheWriteInputTokens": 1, "outputTokens": 2});
    let t = tokens(&usage).unwrap_or_default();
    assert_eq!((t.prompt, t.completion, t.cache_read, t.cache_write), (u64::MAX, 2, 1, 1));
    assert_eq!(t.to_json()["total_tokens"], u64::MAX);
}
