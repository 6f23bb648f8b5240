use serde_json::{Value, json};

use super::{Shown, input, to_error, to_message, to_message_shown};

fn message(chat: &Value) -> Value {
    let out = to_message(chat.to_string().as_bytes()).unwrap_or_else(|| panic!("not converted: {chat}"));
    serde_json::from_slice(&out).unwrap_or_default()
}

fn completion(message: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-abc", "object": "chat.completion", "created": 1_700_000_000u64, "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 4, "total_tokens": 104, "cost": 0.25,
                  "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30, "cache_creation_tokens": 30}},
    })
}

/// A client that asked for its thinking omitted gets no thinking block.
#[test]
fn thinking_a_client_asked_omitted_is_left_out() {
    let m = json!({"role": "assistant", "content": "ok", "reasoning_content": "think"});
    let out = to_message_shown(
        completion(m, Some("stop")).to_string().as_bytes(),
        &Shown { hide_thinking: true, model: String::new() },
    )
    .unwrap_or_default();
    let v: Value = serde_json::from_slice(&out).unwrap_or_default();
    assert_eq!(v["content"], json!([{"type": "text", "text": "ok"}]));
}

/// The answer names the model its client asked for (a tier, `auto`, an alias): Claude Code
/// dropped a turn's thinking from its history when the answer named another (the catalog
/// model that ran, which `X-Model-Router-Model` says); no name asked keeps the completion's.
#[test]
fn the_answer_names_the_model_its_client_asked_for() {
    let m = json!({"role": "assistant", "content": "ok"});
    let body = completion(m, Some("stop")).to_string();
    let named = |model: &str| {
        let shown = Shown { hide_thinking: false, model: model.into() };
        let out = to_message_shown(body.as_bytes(), &shown).unwrap_or_default();
        serde_json::from_slice::<Value>(&out).unwrap_or_default()["model"].clone()
    };
    assert_eq!(named("premium"), json!("premium"));
    assert_eq!(named(""), json!("m"));
}

#[test]
fn a_completion_with_reasoning_text_and_tool_calls_is_a_message() {
    let m = json!({"role": "assistant", "content": "checking", "reasoning_content": "think", "refusal": null,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}},
            {"type": "function", "function": {"name": "b", "arguments": ""}}]});
    assert_eq!(
        message(&completion(m, Some("tool_calls"))),
        json!({
            "id": "msg_abc", "type": "message", "role": "assistant", "model": "m",
            "content": [
                {"type": "thinking", "thinking": "think", "signature": ""},
                {"type": "text", "text": "checking"},
                {"type": "tool_use", "id": "call_1", "name": "a", "input": {"x": 1}},
                // No call id from the provider: one is made, the client answers the call by it.
                {"type": "tool_use", "id": "toolu_abc_1", "name": "b", "input": {}},
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            // The cache's reads and writes out of the input; the router's cost dropped.
            "usage": {"input_tokens": 10, "cache_creation_input_tokens": 30, "cache_read_input_tokens": 60,
                      "output_tokens": 4},
        })
    );
}

#[test]
fn finish_reasons_are_stop_reasons_and_a_refusal_is_text() {
    let cases = [
        (Some("stop"), "end_turn"),
        (Some("length"), "max_tokens"),
        (Some("tool_calls"), "tool_use"),
        (Some("function_call"), "tool_use"),
        (Some("content_filter"), "refusal"),
        // Gemini's own names, as its OpenAI layer passes them on.
        (Some("SAFETY"), "refusal"),
        (Some("PROHIBITED_CONTENT"), "refusal"),
        (Some("MAX_TOKENS"), "max_tokens"),
        (Some("other"), "end_turn"),
        (None, "end_turn"),
    ];
    for (finish, want) in cases {
        let m = message(&completion(json!({"role": "assistant", "content": "hi"}), finish));
        assert_eq!(m["stop_reason"], json!(want), "{finish:?}");
    }
    // A stop sequence the provider named (the router's Claude translation, vLLM) is said.
    let mut said = completion(json!({"role": "assistant", "content": "hi"}), Some("stop"));
    said["choices"][0]["stop_reason"] = json!("END");
    let m = message(&said);
    assert_eq!((&m["stop_reason"], &m["stop_sequence"]), (&json!("stop_sequence"), &json!("END")));
    said["choices"][0]["finish_reason"] = json!("length");
    assert_eq!(message(&said)["stop_sequence"], Value::Null);
    let m =
        message(&completion(json!({"role": "assistant", "content": null, "refusal": "no"}), Some("stop")));
    assert_eq!(m["content"], json!([{"type": "text", "text": "no"}]));
    // It stops for the refusal (OpenAI finishes one with `stop`): a client that asked for JSON
    // parsed "I'm sorry" as its answer.
    assert_eq!(m["stop_reason"], json!("refusal"));
    // No usage, and an id a client could have sent: zeros, and only the id's safe characters.
    let mut c = completion(json!({"role": "assistant", "content": ""}), Some("stop"));
    c["usage"] = Value::Null;
    c["id"] = json!("chatcmpl-a\"b<c>");
    let m = message(&c);
    assert_eq!((&m["id"], &m["content"]), (&json!("msg_abc"), &json!([])));
    assert_eq!(
        m["usage"],
        json!({"input_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

#[test]
fn arguments_that_are_not_an_object_are_kept_as_text() {
    let cases = [
        ("{\"a\":[1,2]}", json!({"a": [1, 2]})),
        ("", json!({})),
        ("  ", json!({})),
        // Encoded twice.
        ("\"{\\\"a\\\":1}\"", json!({"a": 1})),
        ("{\"a\":", json!({"invalid_arguments": "{\"a\":"})),
        ("[1]", json!({"invalid_arguments": "[1]"})),
        ("\"text\"", json!({"invalid_arguments": "\"text\""})),
        ("null", json!({"invalid_arguments": "null"})),
    ];
    for (arguments, want) in cases {
        assert_eq!(input(arguments), want, "{arguments}");
    }
}

#[test]
fn anything_but_a_completion_is_not_a_message() {
    for body in [
        r#"{"error":{"message":"m","type":"invalid_request_error"}}"#,
        r#"{"object":"chat.completion.chunk","choices":[]}"#,
        "not json",
        "[]",
        "",
    ] {
        assert_eq!(to_message(body.as_bytes()), None, "{body}");
    }
}

/// A completion without `object` (some OpenAI-compatible providers leave it out), and content
/// sent as a list of text parts, are still the answer.
#[test]
fn a_completion_without_its_object_or_with_content_parts_is_a_message() {
    let body = r#"{"id":"chatcmpl-9","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"text","text":"he"},{"type":"text","text":"llo"}]},"finish_reason":"stop"}]}"#;
    let m: Value =
        serde_json::from_slice(&to_message(body.as_bytes()).unwrap_or_default()).unwrap_or_default();
    assert_eq!((&m["type"], &m["content"]), (&json!("message"), &json!([{"type": "text", "text": "hello"}])));
}

#[test]
fn errors_are_anthropics_typed_by_status() {
    let openai = |message: &str, param: Option<&str>, code: Option<&str>| {
        json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}})
            .to_string()
    };
    let cases: [(u16, String, &str, &str); 20] = [
        // Chat's names are the client's.
        (
            400,
            openai(
                "max_completion_tokens is 900000, but no available model produces that many",
                Some("max_completion_tokens"),
                None,
            ),
            "invalid_request_error",
            "max_tokens is 900000, but no available model produces that many",
        ),
        (400, openai("too many", Some("stop"), None), "invalid_request_error", "stop_sequences: too many"),
        (
            400,
            openai("bad part", Some("messages[2].content"), None),
            "invalid_request_error",
            "messages[2].content: bad part",
        ),
        // A message that names its member already is kept as it is.
        (
            400,
            openai("temperature must be at most 2", Some("temperature"), None),
            "invalid_request_error",
            "temperature must be at most 2",
        ),
        (
            400,
            openai("too many tokens", Some("messages"), Some("context_length_exceeded")),
            "invalid_request_error",
            "prompt is too long: too many tokens",
        ),
        (401, openai("bad key", None, None), "authentication_error", "bad key"),
        (402, openai("pay", None, None), "billing_error", "pay"),
        (403, openai("no", None, None), "permission_error", "no"),
        (404, openai("no such model", None, None), "not_found_error", "no such model"),
        (409, openai("busy", None, None), "invalid_request_error", "busy"),
        (413, openai("big", None, None), "request_too_large", "big"),
        (422, openai("odd", None, None), "invalid_request_error", "odd"),
        (
            429,
            openai("daily budget spent", None, Some("budget_exceeded")),
            "rate_limit_error",
            "daily budget spent",
        ),
        (500, String::new(), "api_error", "the answer had status 500 and no error message"),
        (501, "  not implemented \n".into(), "api_error", "not implemented"),
        (502, openai("the provider failed: boom", None, None), "api_error", "the provider failed: boom"),
        (503, openai("no deployment can serve", None, None), "overloaded_error", "no deployment can serve"),
        (504, "<html>gateway timeout</html>".into(), "timeout_error", "<html>gateway timeout</html>"),
        (529, r#"{"error":"overloaded"}"#.into(), "overloaded_error", "overloaded"),
        (500, r#"{"message":"flat"}"#.into(), "api_error", "flat"),
    ];
    for (status, body, kind, said) in cases {
        let v: Value = serde_json::from_slice(&to_error(status, body.as_bytes(), true)).unwrap_or_default();
        assert_eq!(v, json!({"type": "error", "error": {"type": kind, "message": said}}), "{status} {body}");
    }
    let long = "x".repeat(5_000);
    let v: Value = serde_json::from_slice(&to_error(502, long.as_bytes(), true)).unwrap_or_default();
    assert_eq!(v["error"]["message"].as_str().map(str::len), Some(1_000));
}

/// Chat's names are renamed only in errors about the chat body the request became, and only as
/// whole names: the translation's own refusal of a chat member names what the client sent.
#[test]
fn only_errors_about_the_chat_body_rename_its_members() {
    let error = |message: &str, param: &str| {
        json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": null}})
            .to_string()
    };
    let said = |body: &str, translated: bool| {
        let v: Value =
            serde_json::from_slice(&to_error(400, body.as_bytes(), translated)).unwrap_or_default();
        v["error"]["message"].as_str().unwrap_or_default().to_string()
    };
    let theirs = error(
        "unrecognized request argument 'max_completion_tokens': a Messages request sends max_tokens",
        "max_completion_tokens",
    );
    assert_eq!(
        said(&theirs, false),
        "unrecognized request argument 'max_completion_tokens': a Messages request sends max_tokens"
    );
    let ours = error("reasoning_effort_x is not reasoning_effort", "reasoning_effort");
    assert_eq!(said(&ours, true), "reasoning_effort_x is not thinking");
}

/// Reasoning a provider counts outside `completion_tokens`, in the total only (xAI's), is
/// output, as Anthropic counts its thinking.
#[test]
fn reasoning_outside_the_completion_count_is_output() {
    let mut c = completion(json!({"role": "assistant", "content": "hi"}), Some("stop"));
    c["usage"] = json!({"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 2256,
                        "completion_tokens_details": {"reasoning_tokens": 1206}});
    assert_eq!(message(&c)["usage"]["output_tokens"], 1256);
}
