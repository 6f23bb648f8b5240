//! End-to-end: the real Envoy with the shipped `envoy/demo.yaml`, the built filter and mock
//! providers on loopback. Assertions are on what the mocks received, not on the router's own
//! headers alone.

use std::time::Duration;

use model_router_tests::envoy::{Envoy, Ports, Stack, free_ports, render_demo, wasm_path};
use model_router_tests::http::{self, Response};
use model_router_tests::mock::Received;
use model_router_tests::mock::native::{Protocol, requested_model};
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

fn stack() -> Stack {
    Stack::start(None).unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}

fn chat(s: &Stack, body: &str) -> Response {
    http::post_json(s.envoy.addr, CHAT, body).unwrap_or_else(|e| panic!("request failed: {e}"))
}

/// The golden routing table's cases (`testdata/routing/builtin_catalog.json`).
fn golden_cases() -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(include_str!("../../testdata/routing/builtin_catalog.json")).unwrap_or_default();
    doc["cases"].as_array().cloned().unwrap_or_default()
}

/// The golden case for `model` with `prefer` (`None`: the default).
fn golden(model: &str, prefer: Option<&str>) -> Value {
    golden_cases()
        .into_iter()
        .find(|c| c["model"] == model && c["prefer"].as_str() == prefer)
        .unwrap_or_else(|| panic!("no golden case for {model} {prefer:?}"))
}

/// The single request the mocks received since the last call.
fn one_received(s: &Stack) -> Received {
    let mut got = s.take_received();
    assert_eq!(got.len(), 1, "mocks received {got:?}");
    got.remove(0)
}

#[test]
fn every_tier_and_prefer_reaches_the_documented_model_and_provider() {
    let s = stack();
    let cases = golden_cases();
    assert!(cases.len() >= 20, "golden table missing");
    for case in cases {
        let model = case["model"].as_str().unwrap_or_default();
        let prefer = case["prefer"].as_str().map(|p| format!(r#","prefer":"{p}""#)).unwrap_or_default();
        let body =
            format!(r#"{{"model":"{model}"{prefer},"messages":[{{"role":"user","content":"hello"}}]}}"#);
        let r = chat(&s, &body);
        assert_eq!(r.status, 200, "{case}: {}", r.text());
        let got = one_received(&s);
        let want_model = case["expect_model"].as_str().unwrap_or_default();
        let want_provider = case["expect_provider"].as_str().unwrap_or_default();
        assert_eq!(got.provider, want_provider, "{case}");
        assert_eq!(got.path, case["expect_path"].as_str().unwrap_or_default(), "{case}");
        let want_upstream = case["expect_upstream_id"].as_str().unwrap_or_default();
        if let Some(Protocol::Bedrock { .. }) = Protocol::of(&got.path) {
            // Converse names the model in the path only; the mock says which id it decoded.
            assert_eq!(got.json().get("model"), None, "{case}");
            assert_eq!(r.header("x-mock-model"), Some(want_upstream), "{case}");
        }
        assert_eq!(requested_model(&got).as_deref(), Some(want_upstream), "{case}");
        // What the client is told matches what ran.
        assert_eq!(r.header("x-model-router-model"), Some(want_model));
        assert_eq!(r.header("x-model-router-provider"), Some(want_provider));
        assert_eq!(r.header("x-model-router-selection"), case["expect_selection"].as_str());
        let want_prefer = case["prefer"].as_str().unwrap_or("balanced");
        assert_eq!(r.header("x-model-router-prefer"), Some(want_prefer));
        assert_eq!(r.header("x-mock-provider"), Some(want_provider));
    }
}

#[test]
fn every_other_body_byte_arrives_unchanged() {
    // Bytes are spliced only on the way to an OpenAI-compatible provider (a native protocol
    // gets a body built afresh): with the native ones blocked, and those that refuse OpenAI's
    // own members (`metadata`, catalog `drops`), economy+cheap is GPT-4.1 mini, in chat.
    let cfg = r#"{"blocked_providers":["aws-bedrock-runtime","anthropic","groq","cerebras","google-gemini","aws-bedrock"]}"#;
    let s = Stack::start(Some(cfg)).unwrap_or_else(|e| panic!("cannot start the stack: {e}"));
    // Odd spacing, escapes, unicode, numbers in every form, nested unknown fields.
    let body = "{ \"temperature\" : 0.25e0,\n  \"model\" : \"economy\" , \"prefer\":\"cheap\",\t\"messages\": [ {\"role\":\"user\",\"content\":\"h\\u00e9llo \\\"w\\u00f6rld\\\" \u{1f600}\\n\"} ], \"tier\" : null ,\"extra\":{\"a\":[1,-2,3.5E+2,true,null]},\"user\":\"\u{00e9}\" }";
    let r = chat(&s, body);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = one_received(&s);
    assert_eq!(
        (got.provider.as_str(), got.path.as_str()),
        ("openai", "/v1/chat/completions"),
        "{}",
        String::from_utf8_lossy(&got.body)
    );
    // Router-owned members (prefer, tier) leave with their separators; nothing else changes.
    let want = "{ \"temperature\" : 0.25e0,\n  \"model\" : \"gpt-4.1-mini\",\"messages\": [ {\"role\":\"user\",\"content\":\"h\\u00e9llo \\\"w\\u00f6rld\\\" \u{1f600}\\n\"} ],\"extra\":{\"a\":[1,-2,3.5E+2,true,null]},\"user\":\"\u{00e9}\" }";
    assert_eq!(String::from_utf8_lossy(&got.body), want);
    assert_eq!(got.header("content-length"), Some(want.len().to_string().as_str()));
}

/// A conversation as an OpenAI SDK client sends it after answers from other providers (it
/// appends each answer's message as it came: `refusal`, `annotations`, another provider's
/// `reasoning_content`, Gemini's signed call) reaches Groq and Cerebras without the members
/// their schemas refuse, and Gemini without the members sent as null; their mocks refuse
/// what the real ones do, so without the router's drops each was a 400.
#[test]
fn answers_sent_back_reach_strict_providers_without_what_they_refuse() {
    let history = r#"[{"role":"user","content":"list files"},
        {"role":"assistant","content":null,"refusal":null,"annotations":[],"reasoning_content":"call ls","tool_calls":[{"id":"c1","type":"function","function":{"name":"ls","arguments":"{}"},"extra_content":{"google":{"thought_signature":"sig"}}}]},
        {"role":"tool","tool_call_id":"c1","content":"a.txt"},
        {"role":"assistant","content":"One file.","refusal":null,"annotations":[],"audio":null},
        {"role":"user","content":"thanks"}]"#;
    let tools =
        r#"[{"type":"function","function":{"name":"ls","parameters":{"type":"object","properties":{}}}}]"#;
    // OpenAI's own members as its SDKs' users set them (the Agents SDK's `store` and
    // `metadata`, a prompt cache key), which the three refuse as unknown.
    let openai = r#""store":false,"metadata":{"run":"r1"},"prompt_cache_key":"k","verbosity":"low""#;
    let body = |model: &str| {
        format!(
            r#"{{"model":"{model}","messages":{history},"tools":{tools},"stop":null,"user":null,{openai}}}"#
        )
    };
    let echoes = [
        "\"refusal\"",
        "\"annotations\"",
        "\"reasoning_content\"",
        "\"audio\"",
        "\"extra_content\"",
        "\"store\"",
        "\"metadata\"",
        "\"prompt_cache_key\"",
        "\"verbosity\"",
    ];
    let nulls = [
        "\"refusal\":",
        "\"audio\":",
        "\"stop\":",
        "\"user\":",
        "\"store\"",
        "\"metadata\"",
        "\"prompt_cache_key\"",
    ];
    let cases: [(Option<&str>, &str, &str, &[&str]); 3] = [
        (None, "meta-llama/llama-4-scout-17b-16e-instruct", "groq", &echoes),
        (None, "gemini-2.5-flash", "google-gemini", &nulls),
        (Some(r#"{"blocked_providers":["groq","aws-bedrock"]}"#), "gpt-oss-120b", "cerebras", &echoes),
    ];
    let mut s = stack();
    for (cfg, model, provider, gone) in cases {
        if cfg.is_some() {
            s = Stack::start(cfg).unwrap_or_else(|e| panic!("cannot start the stack: {e}"));
        }
        let r = chat(&s, &body(model));
        assert_eq!(r.status, 200, "{provider}: {}", r.text());
        let got = one_received(&s);
        assert_eq!(got.provider, provider);
        let sent = String::from_utf8_lossy(&got.body);
        for key in gone {
            assert!(!sent.contains(key), "{provider} got {key}: {sent}");
        }
        assert!(
            sent.contains(r#""content":"One file.""#) && sent.contains(r#""tool_call_id":"c1""#),
            "{sent}"
        );
    }
    // OpenAI itself gets its prompt cache key; no provider the stored completions (the
    // gateway's account would keep them), nor GPT-4.1 a verbosity (its 400 for any but medium).
    let r = chat(&s, &body("gpt-4.1-mini"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = one_received(&s);
    let sent = String::from_utf8_lossy(&got.body);
    assert!(sent.contains(r#""prompt_cache_key":"k""#), "{sent}");
    for gone in ["\"store\"", "\"metadata\"", "\"verbosity\""] {
        assert!(!sent.contains(gone), "{gone}: {sent}");
    }
}

/// Gemini's OpenAI layer wraps its errors in an array (`[{"error":{...}}]`), where the OpenAI
/// SDKs find no `error` and report a 400 with no body: the client gets the error object.
#[test]
fn a_gemini_400_reaches_the_client_in_the_shape_the_sdks_read() {
    let s = stack();
    let r =
        chat(&s, r#"{"model":"gemini-2.5-flash","seed":"x","messages":[{"role":"user","content":"hi"}]}"#);
    assert_eq!(r.status, 400, "{}", r.text());
    let json = r.json();
    // In OpenAI's shape, as the spec has it (the contract test checks every answer).
    assert_eq!(
        (json["error"]["code"].as_str(), json["error"]["type"].as_str()),
        (Some("INVALID_ARGUMENT"), Some("invalid_request_error")),
        "{json}"
    );
    assert!(json["error"]["message"].as_str().is_some_and(|m| m.contains("seed")), "{json}");
}

#[test]
fn pinned_model_reaches_its_provider_whatever_the_prefer() {
    let s = stack();
    let r = chat(
        &s,
        r#"{"model":"claude-sonnet-4-6","prefer":"cheap","messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = one_received(&s);
    assert_eq!(
        (got.provider.as_str(), got.json()["model"].as_str()),
        ("anthropic", Some("claude-sonnet-4-6"))
    );
    assert_eq!(r.header("x-model-router-selection"), Some("pinned"));
    assert_eq!(r.header("x-model-router-tier"), Some("standard"));
}

#[test]
fn sse_stream_arrives_incrementally() {
    let s = stack();
    let cheap = golden("economy", Some("cheap"));
    let scout = golden("meta-llama/llama-4-scout-17b-16e-instruct", None);
    // The golden economy+cheap route (a native stream, translated event by event) and a
    // chat-API model on groq (the provider's SSE passed on).
    for (model, case) in [
        ("\"economy\",\"prefer\":\"cheap\"", &cheap),
        ("\"meta-llama/llama-4-scout-17b-16e-instruct\"", &scout),
    ] {
        let body = format!(
            r#"{{"model":{model},"stream":true,"stream_options":{{"include_usage":true}},"messages":[{{"role":"user","content":"hi"}}]}}"#
        );
        let r = http::request(
            s.envoy.addr,
            "POST",
            CHAT,
            &[("content-type", "application/json"), ("x-mock-delay-ms", "250")],
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("text/event-stream"));
        assert_eq!(r.header("x-model-router-provider"), case["expect_provider"].as_str(), "{case}");
        let text = r.text();
        let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert!(events.len() >= 6, "{text}");
        assert_eq!(events.last().copied(), Some("data: [DONE]"));
        assert!(text.contains(r#""usage":{"#), "usage chunk missing: {text}");
        // With 250 ms between events the first must arrive long before the last.
        let (first, last) = match (r.chunks.first(), r.chunks.last()) {
            (Some(f), Some(l)) => (f.0, l.0),
            _ => panic!("no chunks"),
        };
        assert!(r.chunks.len() >= 4, "{case}: stream arrived in {} chunks", r.chunks.len());
        assert!(
            last.saturating_sub(first) >= Duration::from_millis(1000),
            "{case}: first chunk at {first:?}, last at {last:?}: the stream was buffered"
        );
        let got = one_received(&s);
        assert_eq!(got.provider, case["expect_provider"].as_str().unwrap_or_default());
        assert_eq!(requested_model(&got).as_deref(), case["expect_upstream_id"].as_str(), "{case}");
    }
}

#[test]
fn client_sent_cluster_header_is_ignored() {
    let s = stack();
    // On a routed request the router's choice wins...
    let r = http::request(
        s.envoy.addr,
        "POST",
        CHAT,
        &[("content-type", "application/json"), ("x-model-router-cluster", "openai")],
        br#"{"model":"economy","prefer":"cheap","messages":[{"role":"user","content":"x"}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 200);
    let routed = golden("economy", Some("cheap"));
    assert_ne!(routed["expect_provider"], "openai");
    assert_eq!(one_received(&s).provider, routed["expect_provider"].as_str().unwrap_or_default());
    // ...and a request the router does not route cannot pick a cluster either.
    let r = http::request(s.envoy.addr, "GET", "/v1/files", &[("x-model-router-cluster", "openai")], b"")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(s.take_received().is_empty(), "a client-chosen cluster received traffic");
    // A rejected request with the header does not reach a provider.
    let r = http::request(
        s.envoy.addr,
        "POST",
        CHAT,
        &[("content-type", "application/json"), ("x-model-router-cluster", "openai")],
        br#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 404);
    assert!(s.take_received().is_empty());
}

/// (name, raw request, expected status, expected code or None for Envoy's own answer)
fn bad_requests() -> Vec<(&'static str, Vec<u8>, u16, Option<&'static str>)> {
    let post = |body: &str| -> Vec<u8> {
        format!(
            "POST {CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let ok_msgs = r#"[{"role":"user","content":"x"}]"#;
    let mut invalid_utf8 = post(r#"{"model":"economy","messages":[{"role":"user","content":"xx"}]}"#);
    let at = invalid_utf8.len() - 5;
    invalid_utf8[at] = 0xff;
    vec![
        ("malformed json", post(r#"{"model":"economy","#), 400, Some("invalid_json")),
        ("not an object", post(r#"["model","economy"]"#), 400, Some("invalid_body")),
        ("empty body", post(""), 400, Some("missing_body")),
        ("invalid utf-8", invalid_utf8, 400, Some("invalid_utf8")),
        (
            "missing model",
            post(&format!(r#"{{"messages":{ok_msgs}}}"#)),
            400,
            Some("missing_required_parameter"),
        ),
        ("empty model", post(&format!(r#"{{"model":"","messages":{ok_msgs}}}"#)), 400, Some("invalid_value")),
        (
            "model not a string",
            post(&format!(r#"{{"model":3,"messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_type"),
        ),
        ("missing messages", post(r#"{"model":"economy"}"#), 400, Some("missing_required_parameter")),
        ("empty messages", post(r#"{"model":"economy","messages":[]}"#), 400, Some("invalid_value")),
        ("messages not an array", post(r#"{"model":"economy","messages":"hi"}"#), 400, Some("invalid_type")),
        ("message not an object", post(r#"{"model":"economy","messages":[1]}"#), 400, Some("invalid_type")),
        (
            "bad role",
            post(r#"{"model":"economy","messages":[{"role":"boss","content":"x"}]}"#),
            400,
            Some("invalid_role"),
        ),
        (
            "content wrong type",
            post(r#"{"model":"economy","messages":[{"role":"user","content":{}}]}"#),
            400,
            Some("invalid_type"),
        ),
        (
            "unknown model",
            post(&format!(r#"{{"model":"gpt-99","messages":{ok_msgs}}}"#)),
            404,
            Some("model_not_found"),
        ),
        (
            "unknown tier",
            post(&format!(r#"{{"model":"economy","tier":"gold","messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_tier"),
        ),
        (
            "unknown prefer",
            post(&format!(r#"{{"model":"economy","prefer":"fastest","messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_prefer"),
        ),
        (
            "prefer wrong type",
            post(&format!(r#"{{"model":"economy","prefer":true,"messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_type"),
        ),
        (
            "stream wrong type",
            post(&format!(r#"{{"model":"economy","stream":"yes","messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_type"),
        ),
        (
            "max_tokens negative",
            post(&format!(r#"{{"model":"economy","max_tokens":-5,"messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_value"),
        ),
        (
            "duplicate model",
            post(&format!(r#"{{"model":"economy","messages":{ok_msgs},"model":"premium"}}"#)),
            400,
            Some("duplicate_key"),
        ),
        (
            "duplicate other key",
            post(&format!(r#"{{"model":"economy","n":1,"messages":{ok_msgs},"n":2}}"#)),
            400,
            Some("duplicate_key"),
        ),
        (
            "duplicate key in a message",
            post(r#"{"model":"economy","messages":[{"role":"user","content":"a","content":"b"}]}"#),
            400,
            Some("duplicate_key"),
        ),
        (
            "auto with a bad tier",
            post(&format!(r#"{{"model":"auto","tier":"gold","messages":{ok_msgs}}}"#)),
            400,
            Some("invalid_tier"),
        ),
        (
            "tier contradicts model",
            post(&format!(r#"{{"model":"economy","tier":"premium","messages":{ok_msgs}}}"#)),
            400,
            Some("tier_conflict"),
        ),
        (
            "wrong method",
            format!("GET {CHAT} HTTP/1.1\r\nhost: x\r\n\r\n").into_bytes(),
            405,
            Some("method_not_allowed"),
        ),
        (
            "compressed body",
            format!(
                "POST {CHAT} HTTP/1.1\r\nhost: x\r\ncontent-encoding: gzip\r\ncontent-length: 4\r\n\r\nabcd"
            )
            .into_bytes(),
            415,
            Some("unsupported_content_encoding"),
        ),
    ]
}

#[test]
fn bad_input_gets_an_openai_error_and_the_next_request_is_served() {
    let s = stack();
    let premium = golden("premium", None);
    let premium = premium["expect_provider"].as_str().unwrap_or_default();
    for (name, raw, status, code) in bad_requests() {
        let r = http::send_raw(s.envoy.addr, &raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.status, status, "{name}: {}", r.text());
        let v = r.json();
        if let Some(code) = code {
            assert_eq!(v["error"]["code"], code, "{name}: {}", r.text());
            assert_eq!(v["error"]["type"], "invalid_request_error", "{name}");
            let message = v["error"]["message"].as_str().unwrap_or_default();
            assert!(message.len() > 10, "{name}: message {message:?}");
            assert!(v["error"].get("param").is_some(), "{name}: no param field");
            assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        }
        assert!(s.take_received().is_empty(), "{name}: a provider received a rejected request");
        // The next request, on a new connection, is served normally.
        let ok = chat(&s, r#"{"model":"premium","messages":[{"role":"user","content":"after"}]}"#);
        assert_eq!(ok.status, 200, "after {name}: {}", ok.text());
        assert_eq!(one_received(&s).provider, premium, "after {name}");
    }
}

#[test]
fn chunked_upload_is_buffered_and_routed() {
    let s = stack();
    let body = r#"{"model":"standard","prefer":"coding","messages":[{"role":"user","content":"chunked"}]}"#;
    let (a, b) = body.split_at(20);
    let raw = format!(
        "POST {CHAT} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    let r = http::send_raw(s.envoy.addr, raw.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let got = one_received(&s);
    assert_eq!(
        (got.provider.as_str(), got.json()["model"].as_str()),
        ("anthropic", Some("claude-sonnet-4-6"))
    );
}

#[test]
fn a_bad_plugin_configuration_is_refused_with_one_clear_line() {
    let ports = free_ports(2).map(|p| Ports { listen: p[0], admin: p[1], providers: vec![] }).expect("ports");
    let config = render_demo(&ports, &wasm_path(), Some(r#"{"default_prefer":"fastest"}"#))
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, log) = Envoy::wait_exit(&config, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(code, Some(0), "envoy accepted a bad plugin configuration");
    assert!(code.is_some(), "envoy did not exit on a bad plugin configuration");
    assert!(
        log.contains("model-router: configuration rejected: default_prefer 'fastest' is invalid"),
        "{log}"
    );
}
