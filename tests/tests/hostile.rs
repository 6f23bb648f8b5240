//! Hostile input through the real Envoy: each case gets its documented status and an
//! OpenAI-style error (or is served, where that is the documented answer), nothing reaches a
//! provider that should not, the next normal request is served, and the VM never fails.

use std::process::Command;

use model_router_tests::envoy::Stack;
use model_router_tests::envoy::demo_key as gateway_key;
use model_router_tests::http::{self, Response};

const CHAT: &str = "/v1/chat/completions";
const MSG: &str = r#"[{"role":"user","content":"x"}]"#;

/// Where the golden routing table (`testdata/routing/builtin_catalog.json`) sends
/// economy+cheap: (model, provider).
fn economy_cheap() -> (String, String) {
    let doc: serde_json::Value =
        serde_json::from_str(include_str!("../../testdata/routing/builtin_catalog.json")).expect("golden");
    let case = doc["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["model"] == "economy" && c["prefer"] == "cheap"))
        .cloned()
        .expect("economy+cheap in the golden table");
    let text = |k: &str| case[k].as_str().unwrap_or_default().to_string();
    (text("expect_model"), text("expect_provider"))
}

fn post_raw(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("POST {path} HTTP/1.1\r\nhost: x\r\n{headers}content-length: {}\r\n\r\n", body.len())
        .into_bytes();
    r.extend_from_slice(body);
    r
}

fn json_post(body: &str) -> Vec<u8> {
    post_raw(CHAT, "content-type: application/json\r\n", body.as_bytes())
}

/// (name, raw request, status, error code; None when served or when only the status matters)
fn cases() -> Vec<(&'static str, Vec<u8>, u16, Option<&'static str>)> {
    let nested = format!(
        r#"{{"model":"economy","messages":{MSG},"metadata":{}1{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let nested_msg = format!(
        r#"{{"model":"economy","messages":[{{"role":"user","content":"x","extra":{}0{}}}]}}"#,
        "{\"a\":".repeat(150),
        "}".repeat(150)
    );
    let many: Vec<String> = (0..20_000).map(|i| format!(r#"{{"role":"user","content":"m{i}"}}"#)).collect();
    let many = format!(r#"{{"model":"economy","messages":[{}]}}"#, many.join(","));
    let long_model = format!(r#"{{"model":"{}","messages":{MSG}}}"#, "m".repeat(100_000));
    let big_array = format!("[{}]", vec!["0"; 100_000].join(","));
    let mut invalid_utf8 = json_post(r#"{"model":"economy","messages":[{"role":"user","content":"ab"}]}"#);
    let n = invalid_utf8.len();
    invalid_utf8[n - 6] = 0xc3; // a lead byte with no continuation
    vec![
        ("invalid UTF-8", invalid_utf8, 400, Some("invalid_utf8")),
        ("deeply nested unknown field", json_post(&nested), 400, Some("json_too_deep")),
        ("deeply nested inside a message", json_post(&nested_msg), 400, Some("json_too_deep")),
        ("20,000 messages (served)", json_post(&many), 200, None),
        (
            "huge float token limit",
            json_post(&format!(r#"{{"model":"economy","max_tokens":1e400,"messages":{MSG}}}"#)),
            400,
            Some("invalid_value"),
        ),
        (
            "huge integer token limit",
            json_post(&format!(
                r#"{{"model":"economy","max_tokens":1000000000000000000000000000000,"messages":{MSG}}}"#
            )),
            400,
            Some("invalid_value"),
        ),
        (
            "NaN",
            json_post(&format!(r#"{{"model":"economy","temperature":NaN,"messages":{MSG}}}"#)),
            400,
            Some("invalid_json"),
        ),
        (
            "Infinity",
            json_post(&format!(r#"{{"model":"economy","temperature":Infinity,"messages":{MSG}}}"#)),
            400,
            Some("invalid_json"),
        ),
        (
            "null model",
            json_post(&format!(r#"{{"model":null,"messages":{MSG}}}"#)),
            400,
            Some("invalid_type"),
        ),
        ("null messages", json_post(r#"{"model":"economy","messages":null}"#), 400, Some("invalid_type")),
        ("null message", json_post(r#"{"model":"economy","messages":[null]}"#), 400, Some("invalid_type")),
        (
            "wrong types everywhere",
            json_post(r#"{"model":["economy"],"messages":"x","stream":1,"tools":"t"}"#),
            400,
            Some("invalid_type"),
        ),
        (
            "content as parts (served)",
            json_post(
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}"#,
            ),
            200,
            None,
        ),
        (
            "part that is not an object",
            json_post(r#"{"model":"economy","messages":[{"role":"user","content":[7]}]}"#),
            400,
            Some("invalid_type"),
        ),
        (
            "part text null",
            json_post(
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"text","text":null}]}]}"#,
            ),
            400,
            Some("invalid_type"),
        ),
        (
            "duplicate key in a part",
            json_post(
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}"#,
            ),
            400,
            Some("duplicate_key"),
        ),
        (
            "duplicate key in provider",
            json_post(&format!(
                r#"{{"model":"economy","provider":{{"only":["openai"],"only":["groq"]}},"messages":{MSG}}}"#
            )),
            400,
            Some("duplicate_key"),
        ),
        (
            "duplicate model",
            json_post(&format!(r#"{{"model":"economy","model":"premium","messages":{MSG}}}"#)),
            400,
            Some("duplicate_key"),
        ),
        (
            "model with CR/LF",
            json_post(&format!(r#"{{"model":"economy\r\nx-evil: 1","messages":{MSG}}}"#)),
            404,
            Some("model_not_found"),
        ),
        (
            "model with slashes and ..",
            json_post(&format!(r#"{{"model":"../../etc/passwd","messages":{MSG}}}"#)),
            404,
            Some("model_not_found"),
        ),
        (
            "percent-encoded model",
            json_post(&format!(r#"{{"model":"%65conomy","messages":{MSG}}}"#)),
            404,
            Some("model_not_found"),
        ),
        ("100 KB model name", json_post(&long_model), 404, Some("model_not_found")),
        (
            "prefer with CR/LF",
            json_post(&format!(r#"{{"model":"economy","prefer":"cheap\r\nx","messages":{MSG}}}"#)),
            400,
            Some("invalid_prefer"),
        ),
        (
            "lone surrogate",
            json_post(r#"{"model":"economy","messages":[{"role":"user","content":"\ud800"}]}"#),
            400,
            Some("invalid_json"),
        ),
        (
            "raw control character",
            json_post("{\"model\":\"economy\",\"messages\":[{\"role\":\"user\",\"content\":\"a\u{1}b\"}]}"),
            400,
            Some("invalid_json"),
        ),
        ("top-level array of 100k", json_post(&big_array), 400, Some("invalid_body")),
        ("empty object", json_post("{}"), 400, Some("missing_required_parameter")),
        (
            "wrong content-type",
            post_raw(
                CHAT,
                "content-type: text/plain\r\n",
                format!(r#"{{"model":"economy","messages":{MSG}}}"#).as_bytes(),
            ),
            415,
            Some("unsupported_media_type"),
        ),
        (
            "missing content-type",
            post_raw(CHAT, "", format!(r#"{{"model":"economy","messages":{MSG}}}"#).as_bytes()),
            415,
            Some("unsupported_media_type"),
        ),
        (
            "form content-type (curl -d without -H)",
            post_raw(
                CHAT,
                "content-type: application/x-www-form-urlencoded\r\n",
                format!(r#"{{"model":"economy","messages":{MSG}}}"#).as_bytes(),
            ),
            415,
            Some("unsupported_media_type"),
        ),
        (
            "json content-type with a charset (served)",
            post_raw(
                CHAT,
                "content-type: Application/JSON; charset=utf-8\r\n",
                format!(r#"{{"model":"economy","messages":{MSG}}}"#).as_bytes(),
            ),
            200,
            None,
        ),
        (
            "compressed body",
            post_raw(CHAT, "content-encoding: gzip\r\n", b"\x1f\x8b\x08\x00"),
            415,
            Some("unsupported_content_encoding"),
        ),
        (
            "body over the limit",
            post_raw(CHAT, "content-type: application/json\r\n", &vec![b'a'; 9 * 1024 * 1024]),
            413,
            Some("request_too_large"),
        ),
        (
            "GET on chat",
            b"GET /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
            405,
            Some("method_not_allowed"),
        ),
        (
            "DELETE on embeddings",
            b"DELETE /v1/embeddings HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(),
            405,
            Some("method_not_allowed"),
        ),
        ("POST on models", post_raw("/v1/models", "", b"{}"), 405, Some("method_not_allowed")),
        ("unknown path", b"GET /admin HTTP/1.1\r\nhost: x\r\n\r\n".to_vec(), 404, Some("not_found")),
        (
            "embeddings with a bad body",
            post_raw("/v1/embeddings", "content-type: application/json\r\n", b"{\"model\":"),
            400,
            Some("invalid_json"),
        ),
    ]
}

fn normal(s: &Stack) -> Response {
    http::post_json(s.envoy.addr, CHAT, &format!(r#"{{"model":"premium","messages":{MSG}}}"#))
        .expect("normal")
}

#[test]
fn hostile_input_is_answered_and_the_router_keeps_serving() {
    let s = Stack::start(None).expect("stack");
    let cases = cases();
    assert!(cases.len() >= 30);
    for (name, raw, status, code) in cases {
        let r = http::send_raw(s.envoy.addr, &raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.status, status, "{name}: {}", r.text().chars().take(300).collect::<String>());
        if let Some(code) = code {
            let v = r.json();
            assert_eq!(
                v["error"]["code"],
                code,
                "{name}: {}",
                r.text().chars().take(300).collect::<String>()
            );
            assert!(
                v["error"]["message"].as_str().is_some_and(|m| !m.is_empty() && m.len() < 2000),
                "{name}"
            );
            assert!(v["error"]["type"].is_string(), "{name}");
        }
        assert!(r.header("x-evil").is_none(), "{name}: a header was injected");
        let received = s.take_received();
        if status == 200 {
            assert_eq!(received.len(), 1, "{name}");
        } else {
            assert!(received.is_empty(), "{name}: a provider received a rejected request");
        }
        let ok = normal(&s);
        assert_eq!(ok.status, 200, "after {name}: {}", ok.text());
        s.take_received();
    }
    // No VM failure, no panic, no reload.
    let stats = s.envoy.admin_get("/stats?filter=wasm").expect("stats");
    for line in stats.lines().filter(|l| l.contains("vm_reload") || l.contains("failed")) {
        assert!(line.ends_with(": 0"), "{line}");
    }
    let log = s.envoy.log();
    assert!(!log.contains("panic"), "the filter panicked:\n{log}");
    assert!(
        !log.to_lowercase().contains("vm failed") && !log.contains("Function: proxy_on"),
        "VM failure:\n{log}"
    );
}

#[test]
fn client_sent_router_headers_and_keys_do_not_steer_anything() {
    let s = Stack::start(None).expect("stack");
    let body = format!(r#"{{"model":"economy","prefer":"cheap","messages":{MSG}}}"#);
    let r = http::request(
        s.envoy.addr,
        "POST",
        CHAT,
        &[
            ("content-type", "application/json"),
            ("x-model-router-cluster", "openai"),
            ("x-model-router-model", "claude-opus-4-7"),
            ("x-model-router-tier", "premium"),
            ("authorization", "Bearer sk-client-own-key"),
            ("x-api-key", "client-key"),
        ],
        body.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 200);
    let (model, provider) = economy_cheap();
    assert_eq!(r.header("x-model-router-model"), Some(model.as_str()));
    assert_eq!(r.header("x-model-router-tier"), Some("economy"));
    let got = s.take_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].provider, provider);
    // The gateway's key in its provider's header; the client's keys in neither.
    let (header, key) = gateway_key(&provider);
    assert_eq!(got[0].header(header), Some(key));
    let other = if header == "authorization" { "x-api-key" } else { "authorization" };
    assert!(got[0].header(other).is_none());
}

#[test]
fn http2_clients_are_routed_too() {
    let s = Stack::start(None).expect("stack");
    let url = format!("http://{}{CHAT}", s.envoy.addr);
    let out = Command::new("curl")
        .args(["-s", "-i", "--http2-prior-knowledge", &url, "-H", "content-type: application/json", "-d"])
        .arg(format!(r#"{{"model":"economy","prefer":"cheap","messages":{MSG}}}"#))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("HTTP/2 200"), "{text}");
    let (_, provider) = economy_cheap();
    assert!(text.contains(&format!("x-model-router-provider: {provider}\r\n")), "{text}");
    let bad = Command::new("curl")
        .args(["-sS", "-i", "--http2-prior-knowledge", &url, "-d", r#"{"model":"gpt-0","messages":[]}"#])
        .output()
        .expect("curl");
    let said = format!(
        "{}{} ({})",
        String::from_utf8_lossy(&bad.stdout),
        String::from_utf8_lossy(&bad.stderr),
        bad.status
    );
    assert!(said.contains(r#""type":"invalid_request_error""#), "{said}");
    assert_eq!(s.take_received().len(), 1);
}

#[test]
fn provider_keys_never_appear_in_logs_metrics_errors_or_responses() {
    let s = Stack::start(None).expect("stack");
    let mut seen = String::new();
    let requests: Vec<(&str, &str, String)> = vec![
        ("POST", CHAT, format!(r#"{{"model":"economy","messages":{MSG}}}"#)),
        ("POST", CHAT, format!(r#"{{"model":"auto","stream":true,"messages":{MSG}}}"#)),
        ("POST", CHAT, format!(r#"{{"model":"nope","messages":{MSG}}}"#)),
        ("POST", CHAT, "{bad json".to_string()),
        ("POST", "/v1/embeddings", r#"{"model":"embed-titan","input":"x"}"#.to_string()),
        ("GET", "/v1/models", String::new()),
        ("POST", CHAT, format!(r#"{{"model":"economy","prefer":"cheap","messages":{MSG}}}"#)),
    ];
    for (method, path, body) in &requests {
        let r = http::request(
            s.envoy.addr,
            method,
            path,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .expect("request");
        for (k, v) in &r.head.headers {
            seen.push_str(&format!("{k}: {v}\n"));
        }
        seen.push_str(&r.text());
    }
    let got = s.take_received();
    assert!(
        got.iter().any(|g| g.header("authorization").is_some_and(|a| a.contains("demo-key-"))),
        "keys were used"
    );
    seen.push_str(&s.envoy.admin_get("/stats").expect("stats"));
    seen.push_str(&s.envoy.admin_get("/stats/prometheus").expect("prometheus"));
    seen.push_str(&s.envoy.log());
    for secret in ["demo-key-", "demo-injected-anthropic"] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
}
