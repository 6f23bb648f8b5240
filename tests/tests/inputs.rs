//! Issue 15's input handling through the real Envoy: stickiness per client and conversation,
//! integers written as floats, duplicates inside `stream_options`, null function results,
//! output limits, audio, embeddings' `dimensions` and router fields, Titan answers,
//! `models.retrieve`, `Allow` on 405s and what a 404 suggests. Each test is named after what
//! was wrong.

use std::collections::BTreeSet;

use model_router_scorer::catalog::Api;
use model_router_tests::catalog::{live_model, now};
use model_router_tests::envoy::Stack;
use model_router_tests::http::{self, Response};
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";
const EMBEDDINGS: &str = "/v1/embeddings";
const MSG: &str = r#"[{"role":"user","content":"hello"}]"#;

fn chat(s: &Stack, body: &str) -> Response {
    http::post_json(s.envoy.addr, CHAT, body).expect("request")
}

fn error_of(r: &Response) -> (u16, Option<String>, Option<String>) {
    let v = r.json();
    let text = |k: &str| v["error"][k].as_str().map(str::to_string);
    (r.status, text("code"), text("param"))
}

fn refused(r: &Response, status: u16, code: &str, param: Option<&str>) {
    assert_eq!(error_of(r), (status, Some(code.to_string()), param.map(str::to_string)), "{}", r.text());
}

/// The body the one provider request received.
fn upstream_body(s: &Stack) -> Value {
    let got = s.take_received();
    assert_eq!(got.len(), 1, "{} provider requests", got.len());
    got[0].json()
}

#[test]
fn one_clients_hard_conversation_never_makes_another_clients_sticky() {
    let s = Stack::start(Some(r#"{"client_header":"x-client-id"}"#)).expect("stack");
    let post = |client: Option<&str>, body: &str| {
        let mut h = vec![("content-type", "application/json")];
        h.extend(client.map(|c| ("x-client-id", c)));
        http::request(s.envoy.addr, "POST", CHAT, &h, body.as_bytes()).expect("request")
    };
    let ask = "What would be the long-term consequences for monetary policy, bank solvency and public debt \
               markets if a large eurozone member left the currency union during a recession?";
    let system = r#"{"role":"system","content":"You are a helpful assistant."}"#;
    let opening =
        format!(r#"{system},{{"role":"user","content":"hello"}},{{"role":"assistant","content":"Hi!"}}"#);
    let hard = format!(r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}}]}}"#);
    let follow_up = format!(
        r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}},{{"role":"assistant","content":"It depends."}},{{"role":"user","content":"thanks!"}}]}}"#
    );
    let hello = format!(r#"{{"model":"auto","messages":[{system},{{"role":"user","content":"hello"}}]}}"#);

    // Alice's conversation gets hard, and stays up on her follow-up.
    let r = post(Some("alice"), &hard);
    assert_eq!(r.header("x-model-router-tier"), Some("standard"), "{}", r.text());
    let r = post(Some("alice"), &follow_up);
    assert_eq!(
        (r.header("x-model-router-tier"), r.header("x-model-router-auto-sticky")),
        (Some("standard"), Some("true"))
    );
    // Bob opens with the same system prompt and "hello": a new conversation, not Alice's.
    let r = post(Some("bob"), &hello);
    assert_eq!((r.status, r.header("x-model-router-tier")), (200, Some("economy")), "{}", r.text());
    assert_eq!(r.header("x-model-router-auto-sticky"), None);
    // Even Bob's copy of Alice's whole conversation is his own, and so is an anonymous one.
    for client in [Some("bob"), None] {
        let r = post(client, &follow_up);
        assert_eq!(r.header("x-model-router-auto-tier"), Some("economy"));
        assert_eq!(r.header("x-model-router-auto-sticky"), None, "{client:?}");
        assert_eq!(r.header("x-model-router-tier"), Some("economy"), "{client:?}");
    }
}

#[test]
fn a_max_tokens_no_model_can_produce_is_named_not_blamed_on_the_context() {
    let s = Stack::start(None).expect("stack");
    for (field, model) in
        [("max_tokens", "economy"), ("max_completion_tokens", "auto"), ("max_tokens", "gpt-4.1-mini")]
    {
        let r = chat(&s, &format!(r#"{{"model":"{model}","{field}":50000000,"messages":{MSG}}}"#));
        refused(&r, 400, "invalid_value", Some(field));
        let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.starts_with(&format!("{field} is 50000000, but ")), "{message}");
    }
    assert!(s.take_received().is_empty());
}

#[test]
fn a_key_twice_in_stream_options_is_refused_not_sent_twice() {
    let s = Stack::start(None).expect("stack");
    let r = chat(
        &s,
        &format!(
            r#"{{"model":"economy","stream":true,"stream_options":{{"include_usage":true,"include_usage":false}},"messages":{MSG}}}"#
        ),
    );
    refused(&r, 400, "duplicate_key", Some("stream_options.include_usage"));
    assert!(s.take_received().is_empty());
}

#[test]
fn whole_number_floats_are_integers_and_reach_the_provider_as_sent() {
    let s = Stack::start(None).expect("stack");
    for extra in [r#""max_completion_tokens":16.0,"n":1.0"#, r#""max_tokens":1e3"#] {
        let r = chat(&s, &format!(r#"{{"model":"economy",{extra},"messages":{MSG}}}"#));
        assert_eq!(r.status, 200, "{extra}: {}", r.text());
        let got = s.take_received();
        assert!(String::from_utf8_lossy(&got[0].body).contains(extra), "{extra}");
    }
    let r = http::post_json(
        s.envoy.addr,
        EMBEDDINGS,
        r#"{"model":"embed-small","input":"x","dimensions":1297.0}"#,
    )
    .expect("request");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(upstream_body(&s)["dimensions"], 1297.0);
    // Fractions are still refused.
    refused(
        &chat(&s, &format!(r#"{{"model":"economy","max_tokens":16.5,"messages":{MSG}}}"#)),
        400,
        "invalid_value",
        Some("max_tokens"),
    );
    assert!(s.take_received().is_empty());
}

#[test]
fn a_function_message_with_null_content_is_served() {
    let s = Stack::start(None).expect("stack");
    let r = chat(
        &s,
        r#"{"model":"economy","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}},{"role":"function","name":"f","content":null}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(upstream_body(&s)["messages"][2]["content"], Value::Null);
}

#[test]
fn audio_output_is_refused_when_no_model_speaks() {
    let s = Stack::start(None).expect("stack");
    for model in ["economy", "auto", "gpt-4.1-mini"] {
        let r = chat(&s, &format!(r#"{{"model":"{model}","modalities":["text","audio"],"messages":{MSG}}}"#));
        refused(&r, 400, "unsupported_capability", Some("modalities"));
    }
    assert!(s.take_received().is_empty());
    let r = chat(&s, &format!(r#"{{"model":"economy","modalities":["text"],"messages":{MSG}}}"#));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn embeddings_check_dimensions_and_keep_router_fields_from_the_provider() {
    let s = Stack::start(None).expect("stack");
    let post = |body: &str| http::post_json(s.envoy.addr, EMBEDDINGS, body).expect("request");
    for (model, too_many) in [("embed-small", 1537), ("embed-large", 3073), ("embed-titan", 2048)] {
        let r = post(&format!(r#"{{"model":"{model}","input":"x","dimensions":{too_many}}}"#));
        refused(&r, 400, "invalid_value", Some("dimensions"));
    }
    assert!(s.take_received().is_empty());
    let r = post(r#"{"model":"embed-small","prefer":"cheap","input":"x","tier":"economy","dimensions":64}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = s.take_received();
    assert_eq!(
        String::from_utf8_lossy(&got[0].body),
        r#"{"model":"text-embedding-3-small","input":"x","dimensions":64}"#
    );
}

#[test]
fn titan_answers_name_the_model_that_ran_and_carry_usage() {
    let s = Stack::start(None).expect("stack");
    let r =
        http::post_json(s.envoy.addr, EMBEDDINGS, r#"{"model":"embed-titan","input":"three small words"}"#)
            .expect("request");
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["model"], "amazon.titan-embed-text-v2:0");
    assert_eq!(r.header("x-model-router-model"), Some("amazon.titan-embed-text-v2:0"));
    assert_eq!(
        (v["usage"]["prompt_tokens"].as_u64(), v["usage"]["total_tokens"].as_u64()),
        (Some(3), Some(3))
    );
}

#[test]
fn models_retrieve_answers_one_model_or_404() {
    let s = Stack::start(None).expect("stack");
    let get = |path: &str| http::request(s.envoy.addr, "GET", path, &[], b"").expect("request");
    let list = get("/v1/models").json();
    for (path, id) in [
        ("/v1/models/gpt-4.1-mini", "gpt-4.1-mini"),
        ("/v1/models/auto", "auto"),
        ("/v1/models/amazon.titan-embed-text-v2%3A0", "amazon.titan-embed-text-v2:0"),
        // Models the router reaches through a translated protocol too.
        ("/v1/models/zai.glm-5", "zai.glm-5"),
        ("/v1/models/claude-haiku-4-5", "claude-haiku-4-5"),
        ("/v1/models/us.meta.llama4-scout-17b-instruct-v1%3A0", "us.meta.llama4-scout-17b-instruct-v1:0"),
    ]
    .map(|(p, id)| (p.to_string(), id.to_string()))
    .into_iter()
    .chain([live_model(Api::Responses)].map(|id| (format!("/v1/models/{id}"), id)))
    {
        let r = get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(r.json()["id"], id, "{path}");
        let entry = list["data"].as_array().and_then(|a| a.iter().find(|m| m["id"] == id).cloned());
        assert_eq!(Some(r.json()), entry, "{path}");
    }
    for retired_or_unknown in ["/v1/models/llama3.1-8b", "/v1/models/gpt-5.1-codex-mini", "/v1/models/gpt-9"]
    {
        refused(&get(retired_or_unknown), 404, "model_not_found", Some("model"));
    }
    assert!(s.take_received().is_empty());
}

#[test]
fn a_405_says_which_method_is_allowed() {
    let s = Stack::start(None).expect("stack");
    for (method, path, allow) in [
        ("GET", CHAT, "POST"),
        ("PUT", EMBEDDINGS, "POST"),
        ("POST", "/v1/models", "GET"),
        ("DELETE", "/v1/models/gpt-4.1-mini", "GET"),
    ] {
        let r = http::request(s.envoy.addr, method, path, &[("content-type", "application/json")], b"{}")
            .expect("request");
        refused(&r, 405, "method_not_allowed", None);
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
}

#[test]
fn a_404_suggests_only_models_that_can_be_pinned() {
    let s = Stack::start(None).expect("stack");
    let r = chat(&s, &format!(r#"{{"model":"gpt-9","messages":{MSG}}}"#));
    refused(&r, 404, "model_not_found", Some("model"));
    let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    let suggested: BTreeSet<&str> =
        message.split_once("one of: ").map_or("", |(_, list)| list).split(", ").collect();
    // Every chat model that is current today, whatever API reaches it; nothing retired.
    let now = now();
    let catalog = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")).catalog;
    let current: BTreeSet<&str> =
        catalog.deployments.iter().filter(|d| !d.retired(now)).map(|d| d.id.as_str()).collect();
    assert_eq!(suggested, current, "{message}");
    for pinnable in ["gpt-4.1-mini", "zai.glm-5", &live_model(Api::Responses), "claude-haiku-4-5"] {
        assert!(suggested.contains(pinnable), "{pinnable} not suggested: {message}");
    }
    for retired in ["llama3.1-8b", "grok-3-beta", "o4-mini", "gpt-5.1-codex-mini"] {
        assert!(!suggested.contains(retired), "{retired} suggested: {message}");
    }
}
