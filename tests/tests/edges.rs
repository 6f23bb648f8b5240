//! Issue 15's findings, each through the real Envoy: answers larger than the listener's buffer,
//! streams cut inside an event, the one final-error shape, providers rejecting the gateway's
//! credentials, every breaker open, and the smaller edges (client headers, 429s, Envoy's own
//! replies, fallback reports, translated answers' cost).

use std::process::Command;

use model_router_tests::envoy::{Envoy, Ports, Stack, StackOptions, render_demo, repo_root, wasm_path};
use model_router_tests::http::{self, Response};
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

/// Served by three providers (aws-bedrock, cerebras, groq).
const SHARED_MODEL: &str = "gpt-oss-120b";
/// Served by one provider (google-gemini).
const SINGLE_MODEL: &str = "gemini-2.5-flash";

fn start(opts: &StackOptions<'_>) -> Stack {
    Stack::start_with(opts).unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}

fn post(s: &Stack, path: &str, body: &str) -> Response {
    http::post_json(s.envoy.addr, path, body).unwrap_or_else(|e| panic!("request failed: {e}"))
}

fn pinned(model: &str) -> String {
    format!(r#"{{"model":"{model}","prefer":"cheap","messages":[{{"role":"user","content":"hello"}}]}}"#)
}

fn fault(s: &Stack, provider: &str, plan: &str) {
    s.fault(provider, Some(plan)).unwrap_or_else(|e| panic!("{e}"));
}

fn stat(s: &Stack, name: &str) -> u64 {
    let stats = s.envoy.admin_get(&format!("/stats?filter={name}")).unwrap_or_default();
    stats
        .lines()
        .filter(|l| l.starts_with(&format!("wasmcustom.model_router.{name}")))
        .filter_map(|l| l.rsplit(": ").next()?.trim().parse::<u64>().ok())
        .sum()
}

/// The error object of an OpenAI-shaped error body, checked for its four members.
fn error_of(r: &Response) -> Value {
    let v = r.json();
    let e = v["error"].clone();
    assert!(e["message"].is_string() && e["type"].is_string(), "not the OpenAI error shape: {}", r.text());
    assert!(e.get("param").is_some() && e.get("code").is_some(), "not the OpenAI error shape: {}", r.text());
    e
}

/// Finding 1: an answer twice the listener's buffer limit is passed on whole, the provider is
/// called once, and its cost still reaches the logs and the budget.
#[test]
fn an_answer_twice_the_buffer_limit_passes_whole_and_its_spend_counts() {
    const LIMIT: usize = 1024 * 1024;
    let swap = ("per_connection_buffer_limit_bytes: 8388608", "per_connection_buffer_limit_bytes: 1048576");
    let cfg = r#"{"budgets":{"daily_usd":100}}"#;
    let s = start(&StackOptions { plugin_config: Some(cfg), swaps: &[swap], ..StackOptions::default() });
    // 180 inputs x 3072 dimensions of "0.5," (or base64): over 2 MiB of answer.
    let inputs: Vec<String> = (0..180).map(|i| format!("\"text {i}\"")).collect();
    let body = format!(r#"{{"model":"embed-large","dimensions":3072,"input":[{}]}}"#, inputs.join(","));
    let r = post(&s, "/v1/embeddings", &body);
    assert_eq!(r.status, 200, "{}", r.text().chars().take(300).collect::<String>());
    assert!(r.body.len() > 2 * LIMIT, "the answer is only {} bytes", r.body.len());
    let v = r.json();
    let data = v["data"].as_array().unwrap_or_else(|| panic!("no data"));
    assert_eq!(data.len(), 180);
    assert!(data.iter().all(|d| d["embedding"].as_array().map(Vec::len) == Some(3072)));
    assert_eq!(s.take_received().len(), 1, "the provider was called more than once");
    // Too large to hold for the cost headers: its spend is settled from the usage read on the
    // way (the budget gauge and the access log's filter state).
    let stats = s.envoy.admin_get("/stats?filter=budget_spent").unwrap_or_default();
    let spent = stats
        .lines()
        .find_map(|l| l.strip_prefix("wasmcustom.model_router.budget_spent_nanousd.scope.global: "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(spent > 0, "no spend settled: {stats}");
    let log = s.envoy.log();
    let line =
        log.lines().find(|l| l.contains("/v1/embeddings")).unwrap_or_else(|| panic!("no access log:\n{log}"));
    let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert!(entry["cost"].as_str().is_some_and(|c| c.parse::<f64>().is_ok_and(|c| c > 0.0)), "{line}");
    assert!(entry["tokens_in"].as_str().is_some_and(|t| t != "-" && !t.is_empty()), "{line}");
    // A small answer is still held and carries its cost in its headers.
    let small = post(&s, "/v1/embeddings", r#"{"model":"embed-large","input":"hi"}"#);
    assert_eq!(small.status, 200);
    assert!(small.header("x-model-router-cost").is_some(), "{:?}", small.head.headers);
}

/// Finding 3: a stream cut at any byte is read by the official Python SDK as an `APIError`,
/// never as broken JSON (the half event is dropped before the `stream_truncated` event).
#[test]
fn a_stream_cut_at_any_byte_raises_the_sdks_api_error() {
    let s = start(&StackOptions::default());
    let python = repo_root().join(".venv/bin/python");
    let script = repo_root().join("tests/sdk/stream_cuts.py");
    let mock = s.mock("google-gemini").unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(&python)
        .arg(&script)
        .env("BASE_URL", format!("http://{}/v1", s.envoy.addr))
        .env("MOCK_URL", format!("http://{mock}"))
        .env("MODEL", SINGLE_MODEL)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

/// Finding 4: the only candidate fails; the client gets the router's 502 in the OpenAI shape,
/// not the provider's body.
#[test]
fn the_last_failure_is_the_routers_502_not_the_providers_body() {
    let s = start(&StackOptions::default());
    fault(&s, "google-gemini", r#"{"status":500}"#);
    let r = post(&s, CHAT, &pinned(SINGLE_MODEL));
    assert_eq!(r.status, 502, "{}", r.text());
    let e = error_of(&r);
    assert_eq!((e["code"].as_str(), e["type"].as_str()), (Some("upstream_failed"), Some("server_error")));
    assert!(e["message"].as_str().is_some_and(|m| m.contains("google-gemini/gemini-2.5-flash 500")), "{e}");
    assert!(!r.text().contains("mock"), "the provider's body reached the client: {}", r.text());
    assert_eq!(r.header("x-model-router-attempts"), Some("1"));
}

/// Finding 5: a provider rejecting the gateway's key is failed over, counted and logged once;
/// when every provider rejects it, the client gets 502 `provider_auth_failed`.
#[test]
fn a_provider_rejecting_the_gateways_key_is_failed_over_and_never_shown() {
    let s = start(&StackOptions::default());
    let first = post(&s, CHAT, &pinned(SHARED_MODEL));
    assert_eq!(first.status, 200);
    let provider = first.header("x-model-router-provider").unwrap_or_default().to_string();
    s.take_received();
    fault(&s, &provider, r#"{"status":401,"code":"invalid_api_key"}"#);
    for _ in 0..3 {
        let r = post(&s, CHAT, &pinned(SHARED_MODEL));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_ne!(r.header("x-model-router-provider"), Some(provider.as_str()));
        assert_eq!(r.header("x-model-router-attempts"), Some("2"));
        assert_eq!(
            r.header("x-model-router-fallback-from"),
            Some(format!("{provider}/{SHARED_MODEL}").as_str())
        );
    }
    let line = format!("credentials rejected by {provider}");
    assert_eq!(s.envoy.log().matches(&line).count(), 1, "logged not exactly once:\n{}", s.envoy.log());
    assert!(stat(&s, "auth_failed") >= 3);

    for p in ["aws-bedrock", "groq", "cerebras"] {
        fault(&s, p, r#"{"status":403,"code":"invalid_api_key"}"#);
    }
    let r = post(&s, CHAT, &pinned(SHARED_MODEL));
    assert_eq!(r.status, 502, "{}", r.text());
    let e = error_of(&r);
    assert_eq!(e["code"].as_str(), Some("provider_auth_failed"), "{e}");
    assert!(!r.text().contains("mock"), "a provider's auth error body reached the client: {}", r.text());
}

/// Smaller items: all attempts rate limited gives 429 `rate_limit_error` with the smallest
/// `retry-after`; a fallback after two failures names both.
#[test]
fn exhausted_rate_limits_keep_the_smallest_retry_after_and_fallbacks_name_every_failure() {
    let s = start(&StackOptions::default());
    for (p, after) in [("aws-bedrock", 7), ("groq", 3), ("cerebras", 5)] {
        fault(&s, p, &format!(r#"{{"status":429,"retry_after":{after}}}"#));
    }
    let r = post(&s, CHAT, &pinned(SHARED_MODEL));
    assert_eq!(r.status, 429, "{}", r.text());
    let e = error_of(&r);
    assert_eq!(
        (e["code"].as_str(), e["type"].as_str()),
        (Some("rate_limit_exceeded"), Some("rate_limit_error"))
    );
    assert_eq!(r.header("retry-after"), Some("3"));

    let order: Vec<String> = {
        for p in ["aws-bedrock", "groq", "cerebras"] {
            s.fault(p, None).unwrap_or_else(|e| panic!("{e}"));
        }
        s.take_received();
        // Two failures in a row, then the third candidate answers.
        fault(&s, "aws-bedrock", r#"{"status":503,"count":1}"#);
        fault(&s, "groq", r#"{"status":503,"count":1}"#);
        fault(&s, "cerebras", r#"{"status":503,"count":1}"#);
        let r = post(&s, CHAT, &pinned(SHARED_MODEL));
        // Whichever two came first failed; with three faults of one each, all three fail.
        assert_eq!(r.status, 502, "{}", r.text());
        s.take_received().iter().map(|x| x.provider.clone()).collect()
    };
    assert_eq!(order.len(), 3);
    fault(&s, &order[0], r#"{"status":503,"count":1}"#);
    fault(&s, &order[1], r#"{"status":500,"count":1}"#);
    let r = post(&s, CHAT, &pinned(SHARED_MODEL));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-model-router-attempts"), Some("3"));
    let want = format!("{}/{SHARED_MODEL}, {}/{SHARED_MODEL}", order[0], order[1]);
    assert_eq!(r.header("x-model-router-fallback-from"), Some(want.as_str()));
}

/// Finding 6: after a blip that opened every breaker, requests are served (fail open) and
/// counted; with `fail_open: false` they get the 503 as before.
#[test]
fn with_every_breaker_open_requests_fail_open() {
    for fail_open in [true, false] {
        let cfg = format!(r#"{{"resilience":{{"failures":1,"cooldown_secs":300,"fail_open":{fail_open}}}}}"#);
        let s = start(&StackOptions { plugin_config: Some(&cfg), ..StackOptions::default() });
        for p in ["aws-bedrock", "groq", "cerebras"] {
            fault(&s, p, r#"{"status":503,"count":1}"#);
        }
        let blip = post(&s, CHAT, &pinned(SHARED_MODEL));
        assert_eq!(blip.status, 502, "{}", blip.text());
        // Every provider is back; every breaker is open for 300 s.
        let r = post(&s, CHAT, &pinned(SHARED_MODEL));
        if fail_open {
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(stat(&s, "fail_open"), 1);
        } else {
            assert_eq!(r.status, 503, "{}", r.text());
            assert_eq!(error_of(&r)["code"].as_str(), Some("providers_unavailable"));
            // Asked again when the first breaker cools down; five minutes is no wait for an
            // SDK to sleep through.
            let wait: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
            assert!((290..=301).contains(&wait), "retry-after {wait}");
            assert_eq!(r.header("x-should-retry"), Some("false"));
        }
    }
}

/// Smaller item: client `proxy-authorization`, `cookie`, `x-model-router-*` and `x-envoy-*`
/// headers never reach a provider, on the first attempt or a fallback, nor a header named with
/// `_` (`x_api_key` passes name checks; a backend reading `_` as `-` would take it).
#[test]
fn client_session_and_router_headers_never_reach_a_provider() {
    let s = start(&StackOptions::default());
    let first = post(&s, CHAT, &pinned(SHARED_MODEL));
    let provider = first.header("x-model-router-provider").unwrap_or_default().to_string();
    s.take_received();
    let send = |s: &Stack| {
        http::request(
            s.envoy.addr,
            "POST",
            CHAT,
            &[
                ("content-type", "application/json"),
                ("proxy-authorization", "Basic c2VjcmV0"),
                ("cookie", "session=secret"),
                ("x-model-router-tier", "premium"),
                ("x-model-router-whatever", "x"),
                ("x-envoy-retry-on", "5xx,reset"),
                ("x-envoy-max-retries", "5"),
                ("x_api_key", "sk-forged"),
            ],
            pinned(SHARED_MODEL).as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(send(&s).status, 200);
    fault(&s, &provider, r#"{"status":503,"count":1}"#);
    assert_eq!(send(&s).status, 200);
    let got = s.take_received();
    assert_eq!(got.len(), 3, "first attempt, then a failed one and its fallback");
    for r in &got {
        for (k, _) in &r.headers {
            assert!(
                !matches!(
                    k.as_str(),
                    "proxy-authorization"
                        | "cookie"
                        | "x-envoy-retry-on"
                        | "x-envoy-max-retries"
                        | "x_api_key"
                ) && !k.starts_with("x-model-router-"),
                "{} received {k}",
                r.provider
            );
        }
    }
}

/// Smaller item: Envoy's own replies to malformed HTTP are in the OpenAI error shape too.
#[test]
fn envoys_own_replies_to_bad_http_are_json() {
    let s = start(&StackOptions::default());
    let huge = "a".repeat(100 * 1024);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("HTTP/1.0", b"GET /v1/models HTTP/1.0\r\n\r\n".to_vec(), 426),
        ("headers too large", format!("GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: {huge}\r\n\r\n").into_bytes(), 431),
        ("malformed request line", b"GET /v1/models HTTP/9.9 nonsense\r\n\r\n".to_vec(), 400),
        (
            "an upgrade the listener does not take",
            b"GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n".to_vec(),
            403,
        ),
        (
            "unknown transfer-encoding",
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n".to_vec(),
            501,
        ),
    ];
    for (name, raw, status) in cases {
        let r = http::send_raw(s.envoy.addr, &raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert!(
            r.header("content-type").is_some_and(|c| c.starts_with("application/json")),
            "{name}: {:?} {}",
            r.head.headers,
            r.text()
        );
        let e = error_of(&r);
        assert!(e["code"].is_string(), "{name}: {e}");
    }
}

/// Smaller item: a translated answer (Titan through Bedrock InvokeModel) carries its cost and
/// tokens like any other.
#[test]
fn titan_answers_carry_cost_and_tokens() {
    let s = start(&StackOptions::default());
    let r = post(&s, "/v1/embeddings", r#"{"model":"embed-titan","input":"three words here"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("x-model-router-cost").is_some(), "{:?}", r.head.headers);
    assert!(r.header("x-model-router-tokens-in").is_some_and(|t| t != "0"), "{:?}", r.head.headers);
    // Its errors are translated too: Bedrock's 400 reaches the client in the OpenAI shape.
    let provider = r.header("x-model-router-provider").unwrap_or_default().to_string();
    fault(&s, &provider, r#"{"status":400,"count":1}"#);
    let r = post(&s, "/v1/embeddings", r#"{"model":"embed-titan","input":"three words here"}"#);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(error_of(&r)["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.text());
}

/// Smaller item: when no OTLP collector runs, the exporters' connection errors do not fill
/// Envoy's log.
#[test]
fn without_a_collector_the_log_stays_quiet() {
    let s = start(&StackOptions::default());
    for _ in 0..20 {
        assert_eq!(post(&s, CHAT, &pinned(SINGLE_MODEL)).status, 200);
    }
    // Exporters flush on a timer (5 s for traces by default).
    std::thread::sleep(std::time::Duration::from_secs(6));
    let log = s.envoy.log();
    let noisy: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[warning]") || l.contains("[error]"))
        .filter(|l| l.to_lowercase().contains("otel") || l.contains("opentelemetry") || l.contains("otlp"))
        .collect();
    assert!(noisy.len() <= 1, "{} exporter lines:\n{}", noisy.len(), noisy.join("\n"));
}

/// Embeddings count against the spend limits: each reserves its input's estimate (a token per
/// four bytes of `input`), so a batch past the whole limit is refused before any provider sees
/// it (a 400: no wait makes room for it), and once spent, the next is refused with 429.
#[test]
fn embeddings_spend_counts_against_the_daily_limit() {
    let catalog = model_router_scorer::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")).catalog;
    let price = catalog
        .embeddings
        .iter()
        .find(|e| e.alias.as_deref() == Some("embed-small"))
        .map_or(0.0, |e| e.price_in);
    assert!(price > 0.0);
    let body = r#"{"model":"embed-small","input":"a text long enough to cost more than a nano-dollar"}"#;
    // Its input is 52 bytes (13 tokens estimated); the mock reports a token per four bytes of
    // the whole body (23): room for 20 tokens lets it in and is spent by it.
    let cfg = format!(r#"{{"budgets":{{"daily_usd":{},"ladder":false}}}}"#, 20.0 * price / 1e6);
    let s = start(&StackOptions { plugin_config: Some(&cfg), ..StackOptions::default() });
    let batch = format!(r#"{{"model":"embed-small","input":["{}"]}}"#, "word ".repeat(40));
    let r = post(&s, "/v1/embeddings", &batch);
    assert_eq!(r.status, 400, "a batch past the whole limit: {}", r.text());
    assert_eq!(error_of(&r)["code"].as_str(), Some("request_over_budget"));
    assert_eq!(post(&s, "/v1/embeddings", body).status, 200);
    let r = post(&s, "/v1/embeddings", body);
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(error_of(&r)["code"].as_str(), Some("budget_exceeded"));
    assert!(r.header("retry-after").is_some());
    assert_eq!(s.take_received().len(), 1, "the refused request reached a provider");
}

/// Found driving the demo: a client that stalls gets Envoy's 408, which was text
/// (`stream timeout`), and a connection trickling its headers was held for the stream's 600 s.
/// The headers now have `request_headers_timeout` (10 s; 1 s here) and the 408 is JSON.
#[test]
fn a_request_that_stalls_gets_a_json_408() {
    // The demo's config on these ports, one setting changed.
    let demo = |from: &'static str, to: &'static str| {
        move |listen, admin| {
            let ports = Ports { listen, admin, providers: vec![] };
            let config = render_demo(&ports, &wasm_path(), None)?;
            assert!(config.contains(from), "the demo has no {from}");
            Ok(config.replace(from, to))
        }
    };
    let config = demo("request_headers_timeout: 10s", "request_headers_timeout: 1s");
    let envoy = Envoy::start_on_free_ports(config).unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let r =
        http::send_raw(envoy.addr, b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: appl")
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(r.status, 408, "{}", r.text());
    assert!(
        r.header("content-type").is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        r.head.headers
    );
    assert_eq!(error_of(&r)["code"], "request_timeout", "{}", r.text());

    // A body that stalls after its first bytes: Envoy held it (up to the listener's buffer
    // limit) for the stream's 600 s, or for good if a byte trickled in now and then. The whole
    // request now has `request_timeout` (120 s; 2 s here).
    drop(envoy);
    let config = demo("request_timeout: 120s", "request_timeout: 2s");
    let envoy = Envoy::start_on_free_ports(config).unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let r = http::send_raw(
        envoy.addr,
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"model\":\"economy\",",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(r.status, 408, "{}", r.text());
    assert_eq!(error_of(&r)["code"], "request_timeout", "{}", r.text());

    // Without `allow_on_headers_stop_iteration` Envoy holds every body back from the filter:
    // each request hung to its timeout, and nothing said why. The router now names the setting.
    drop(envoy);
    let flag = "allow_on_headers_stop_iteration: true";
    let config = |listen, admin| {
        let config = demo("request_timeout: 120s", "request_timeout: 2s")(listen, admin)?;
        assert!(config.contains(flag), "the demo has no {flag}");
        Ok(config.replace(flag, "allow_on_headers_stop_iteration: false"))
    };
    let envoy = Envoy::start_on_free_ports(config).unwrap_or_else(|e| panic!("{e}"));
    let body = r#"{"model":"economy","messages":[{"role":"user","content":"hi"}]}"#;
    let r = http::post_json(envoy.addr, CHAT, body).unwrap_or_else(|e| panic!("{e}"));
    // Envoy's timeout (a 504 once the whole body is in), not an answer.
    assert_eq!(r.status, 504, "{}", r.text());
    let named = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(&envoy.log_path)
            .is_ok_and(|l| l.contains("lacks `allow_on_headers_stop_iteration"))
    });
    assert!(named, "{}", std::fs::read_to_string(&envoy.log_path).unwrap_or_default());
}

/// Found attacking the demo: a body under the listener's buffer limit that the router's
/// translation (to Converse or Messages, about a third larger for many short messages) took
/// over it. Envoy answered 413 before any provider saw it, and the client was told the provider
/// refused its request, with no failover. The next candidate now answers; with none left the
/// error is the router's own 413.
#[test]
fn a_body_the_translation_takes_over_the_buffer_limit_fails_over_to_one_that_fits() {
    let swap = ("per_connection_buffer_limit_bytes: 8388608", "per_connection_buffer_limit_bytes: 1572864");
    let s = start(&StackOptions { swaps: &[swap], ..StackOptions::default() });
    // 1.3 MB of alternating one-word turns.
    let turns: Vec<&str> = (0..40_000)
        .map(|i| {
            if i % 2 == 0 {
                r#"{"role":"user","content":"x"}"#
            } else {
                r#"{"role":"assistant","content":"x"}"#
            }
        })
        .collect();
    let messages = format!("[{},{}]", turns.join(","), r#"{"role":"user","content":"x"}"#);
    // standard, coding: Claude first (Messages), then the tier's other candidates.
    let body = format!(r#"{{"model":"standard","prefer":"coding","messages":{messages}}}"#);
    let r = post(&s, CHAT, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    // The first candidate's body was Envoy's 413, never sent (no attempt); a fallback (a call,
    // its body made again) answered, its Fallback-From naming the first.
    assert_eq!(r.header("x-model-router-attempts"), Some("1"), "{:?}", r.head.headers);
    assert!(r.header("x-model-router-fallback-from").is_some(), "{:?}", r.head.headers);
    // Pinned to a model only Bedrock's Converse serves: nothing else to try.
    s.take_received();
    let body = format!(r#"{{"model":"us.meta.llama4-scout-17b-instruct-v1:0","messages":{messages}}}"#);
    let r = post(&s, CHAT, &body);
    assert_eq!(r.status, 413, "{}", r.text());
    let e = error_of(&r);
    assert_eq!(e["code"], "request_too_large", "{}", r.text());
    // The router's own, naming what it tried (not Envoy's text, whose limit the client kept).
    assert!(e["message"].as_str().is_some_and(|m| m.contains("as made for each model tried")), "{e}");
    assert!(s.take_received().iter().all(|x| x.provider != "aws-bedrock-runtime"), "a provider saw it");
}
