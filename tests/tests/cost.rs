//! Cost, spend limits and observability through the real Envoy: what each answer cost (from
//! the catalog price and the usage the mock reported), daily limits under concurrency, the
//! ladder, `max_price`, Prometheus labels, and OTLP logs and spans at a real receiver.

use std::time::{Duration, Instant};

use model_router_scorer::Config;
use model_router_scorer::catalog::Api;
use model_router_scorer::usage::format_usd;
use model_router_tests::catalog::{live_model, now};
use model_router_tests::envoy::{Stack, StackOptions};
use model_router_tests::http::{self, Response};
use model_router_tests::mock::Received;
use model_router_tests::mock::native::Protocol;
use model_router_tests::otlp::Receiver;
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

fn start(opts: &StackOptions<'_>) -> Stack {
    Stack::start_with(opts).unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}

fn chat(s: &Stack, body: &str) -> Response {
    http::post_json(s.envoy.addr, CHAT, body).unwrap_or_else(|e| panic!("request failed: {e}"))
}

fn chat_as(s: &Stack, client: &str, body: &str) -> Response {
    http::request(
        s.envoy.addr,
        "POST",
        CHAT,
        &[("content-type", "application/json"), ("x-team", client)],
        body.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("request failed: {e}"))
}

/// Catalog prices (USD per million in, out) of a model at a provider.
fn prices(model: &str, provider: &str) -> (f64, f64) {
    let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
    let d = c.catalog.deployments.iter().find(|d| d.id == model && d.provider == provider);
    d.map(|d| (d.price_in, d.price_out)).unwrap_or_else(|| panic!("{model} at {provider} not in the catalog"))
}

fn served(r: &Response) -> (String, String) {
    let h = |n: &str| r.header(n).unwrap_or_default().to_string();
    (h("x-model-router-model"), h("x-model-router-provider"))
}

fn usd(u: &Value, p: (f64, f64)) -> f64 {
    (u["prompt_tokens"].as_f64().unwrap_or(-1.0) * p.0
        + u["completion_tokens"].as_f64().unwrap_or(-1.0) * p.1)
        / 1e6
}

/// The usage a mock reports for the request it received (docs/mocks.md): input is the
/// request's bytes / 4; output is the whole `max_tokens` allowance on the chat API, and on the
/// native APIs the words of the reply they send (`mock reply from PROVIDER`).
fn reported_usage(got: &Received, max_tokens: u64) -> (u64, u64) {
    let input = (got.body.len() / 4) as u64;
    match Protocol::of(&got.path) {
        Some(_) => (input, format!("mock reply from {}", got.provider).split_whitespace().count() as u64),
        None => (input, max_tokens),
    }
}

#[test]
fn the_cost_header_is_the_catalog_price_times_the_reported_usage() {
    let s = start(&StackOptions::default());
    // Tiers and pins across the four APIs: chat (economy, standard, gpt-oss-120b), Converse
    // (premium), Messages (claude-haiku-4-5), Responses (today's model reached through it).
    let mut protocols = std::collections::BTreeSet::new();
    let responses = live_model(Api::Responses);
    for model in ["economy", "standard", "premium", "gpt-oss-120b", "claude-haiku-4-5", &responses] {
        let body = format!(
            r#"{{"model":"{model}","max_tokens":300,"messages":[{{"role":"user","content":"hello there"}}]}}"#
        );
        let r = chat(&s, &body);
        assert_eq!(r.status, 200, "{}", r.text());
        let (m, p) = served(&r);
        let got = s.take_received();
        assert_eq!(got.len(), 1, "{model}");
        protocols.insert(format!("{:?}", Protocol::of(&got[0].path)));
        let usage = &r.json()["usage"];
        let want = usd(usage, prices(&m, &p));
        assert!(want > 0.0);
        assert_eq!(r.header("x-model-router-cost"), Some(format_usd(want).as_str()), "{model}: {m} at {p}");
        // The usage the client is told is the one the provider reported, translated or not.
        let (tokens_in, tokens_out) = reported_usage(&got[0], 300);
        assert_eq!(
            (&usage["prompt_tokens"], &usage["completion_tokens"]),
            (&tokens_in.into(), &tokens_out.into()),
            "{model}: {m} at {p}"
        );
        assert_eq!(r.header("x-model-router-tokens-in"), Some(tokens_in.to_string().as_str()), "{model}");
        assert_eq!(r.header("x-model-router-tokens-out"), Some(tokens_out.to_string().as_str()), "{model}");
    }
    assert_eq!(protocols.len(), 4, "{protocols:?}");
}

/// The `data:` events of an SSE body, parsed.
fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|e| e.trim().strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap_or(Value::Null))
        .collect()
}

#[test]
fn a_stream_carries_its_cost_in_the_usage_chunk_and_only_when_asked() {
    let s = start(&StackOptions::default());
    let asked = r#"{"model":"economy","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let r = chat(&s, asked);
    assert_eq!(r.status, 200);
    let (m, p) = served(&r);
    let text = r.text();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let usage: Vec<Value> = events(&text).into_iter().filter(|e| e["usage"].is_object()).collect();
    assert_eq!(usage.len(), 1, "{text}");
    let cost = usage[0]["usage"]["cost"].as_f64().unwrap_or(-1.0);
    let want = usd(&usage[0]["usage"], prices(&m, &p));
    assert!((cost - want).abs() < 1e-8, "cost {cost}, want {want}: {text}");
    s.take_received();

    // A client that did not ask: the provider is asked (for the price), the client sees
    // exactly the stream it asked for.
    let plain = r#"{"model":"economy","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let r = chat(&s, plain);
    let got = s.take_received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["stream_options"]["include_usage"], true);
    let text = r.text();
    assert!(!text.contains("usage\":{"), "{text}");
    assert!(events(&text).iter().all(|e| !e["choices"].as_array().is_some_and(Vec::is_empty)), "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");

    // A provider that frames its stream with content-length: the edited stream is still
    // delivered whole (the length would be wrong, so it is dropped).
    let r = http::request(
        s.envoy.addr,
        "POST",
        CHAT,
        &[("content-type", "application/json"), ("x-mock-sse-length", "1")],
        plain.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let text = r.text();
    assert_eq!(r.status, 200, "{text}");
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(!text.contains("usage\":{"), "{text}");
    assert_eq!(r.header("content-length"), None);
}

/// A settled spend gauge from Envoy's stats.
fn spent_gauge(s: &Stack, scope: &str) -> f64 {
    let stats = s.envoy.admin_get("/stats?filter=budget_spent").unwrap_or_default();
    let name = format!("wasmcustom.model_router.budget_spent_nanousd.scope.{scope}: ");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&name))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1e9
}

#[test]
fn concurrent_requests_cannot_spend_past_the_limit() {
    const LIMIT: f64 = 0.05;
    let cfg = format!(r#"{{"budgets":{{"daily_usd":{LIMIT},"ladder":false}}}}"#);
    let s = start(&StackOptions { plugin_config: Some(&cfg), ..StackOptions::default() });
    let body = r#"{"model":"standard","max_tokens":400,"messages":[{"role":"user","content":"hello"}]}"#;
    // What one request reserves (the router's estimate) and what it really costs differ only
    // by the input estimate; the bound below is that difference times the concurrency.
    let config = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let estimate =
        model_router_scorer::route_chat(&config, body.as_bytes(), now()).map_or(0.0, |r| r.estimate_usd);
    const THREADS: usize = 16;
    let addr = s.envoy.addr;
    let results: Vec<Response> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(move || {
                    (0..20).filter_map(|_| http::post_json(addr, CHAT, body).ok()).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    let ok: Vec<&Response> = results.iter().filter(|r| r.status == 200).collect();
    let refused: Vec<&Response> = results.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok.len() + refused.len(), THREADS * 20, "only 200 and 429 expected");
    assert!(!ok.is_empty() && !refused.is_empty(), "{} ok, {} refused", ok.len(), refused.len());
    let costs: Vec<f64> = ok
        .iter()
        .map(|r| r.header("x-model-router-cost").and_then(|c| c.parse().ok()).unwrap_or(f64::MAX))
        .collect();
    let total: f64 = costs.iter().sum();
    let worst_over = costs.iter().map(|c| (c - estimate).max(0.0)).fold(0.0, f64::max);
    let bound = THREADS as f64 * worst_over;
    assert!(total <= LIMIT + bound + 1e-9, "spent {total} > limit {LIMIT} + bound {bound}");
    // Envoy's own record of the settled spend agrees.
    let gauge = spent_gauge(&s, "global");
    assert!((gauge - total).abs() < 1e-6, "gauge {gauge} vs sum of cost headers {total}");
    // Each 429 says which limit, and when it resets, or, while requests in flight hold the
    // rest of it, to retry in a few seconds.
    for r in &refused {
        assert_eq!(r.json()["error"]["code"], "budget_exceeded");
        let msg = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        let retry: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
        let held = msg.contains("requests in flight hold the rest");
        assert!(msg.contains("global") && (held || msg.contains("T00:00:00Z")), "{msg}");
        assert!(if held { retry == 5 } else { retry > 0 && retry <= 86_400 }, "{msg}: retry-after {retry}");
        assert_eq!(r.header("x-model-router-budget"), Some("exhausted"));
        // Until midnight is no wait for an SDK to sleep through (Anthropic's did, hours).
        let sdk_retries = if retry > 60 { "false" } else { "true" };
        assert_eq!(r.header("x-should-retry"), Some(sdk_retries), "{msg}");
    }
    eprintln!(
        "limit ${LIMIT}: {} answered, {} refused, spent ${total:.6} (bound ${bound:.6})",
        ok.len(),
        refused.len()
    );
}

/// The cheapest estimate of a tier for `body` under the plugin configuration `cfg` (what the
/// ladder compares with what is left).
fn cheapest(cfg: &str, tier: &str, body: &str) -> f64 {
    let config = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let body = body.replace("\"model\":\"premium\"", &format!("\"model\":\"{tier}\",\"prefer\":\"cheap\""));
    model_router_scorer::route_chat(&config, body.as_bytes(), now()).map_or(0.0, |r| r.estimate_usd)
}

#[test]
fn the_ladder_steps_down_tier_by_tier_then_to_free_models_and_pinned_models_are_refused() {
    let body = r#"{"model":"premium","max_tokens":2000,"messages":[{"role":"user","content":"hello"}]}"#;
    // The day is spent by what answers report. The chat-API mocks use the whole `max_tokens`
    // allowance, the Converse mock answers its four words whatever it is: with Bedrock's
    // Converse pool (the cheapest premium and standard models) blocked, each answer costs
    // what the ladder expects and the client below reaches the free models.
    let blocked = r#""blocked_providers":["aws-bedrock-runtime"]"#;
    let routing = format!("{{{blocked}}}");
    let (premium, standard, economy) = (
        cheapest(&routing, "premium", body),
        cheapest(&routing, "standard", body),
        cheapest(&routing, "economy", body),
    );
    assert!(premium > standard && standard > economy && economy > 0.0, "{premium} {standard} {economy}");
    // One client per step: each limit sits just below the cheapest model of a tier.
    let cfg = format!(
        r#"{{{blocked},"client_header":"x-team","free":["groq/meta-llama/llama-4-scout-17b-16e-instruct"],
        "budgets":{{"clients":{{"team":0.3,"to-standard":{},"to-economy":{},"to-free":{},"pinned":0.01}}}}}}"#,
        premium * 0.95,
        standard * 0.95,
        economy * 0.5
    );
    let s = start(&StackOptions { plugin_config: Some(&cfg), ..StackOptions::default() });
    for (client, step, tier) in [
        ("to-standard", "downgraded:premium->standard", "standard"),
        ("to-economy", "downgraded:premium->economy", "economy"),
        ("to-free", "free", "economy"),
    ] {
        let r = chat_as(&s, client, body);
        assert_eq!(r.status, 200, "{client}: {}", r.text());
        assert_eq!(r.header("x-model-router-budget"), Some(step), "{client}");
        assert_eq!(r.header("x-model-router-tier"), Some(tier), "{client}");
        if step == "free" {
            assert_eq!(r.header("x-model-router-cost"), Some("0.00000000"));
        }
    }
    // One client spending its day: the steps only ever go down, and end at the free models.
    let order =
        ["ok", "limited:premium", "downgraded:premium->standard", "downgraded:premium->economy", "free"];
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..400 {
        let r = chat_as(&s, "team", body);
        assert_eq!(r.status, 200, "{}", r.text());
        let step = r.header("x-model-router-budget").unwrap_or_default().to_string();
        if seen.last() != Some(&step) {
            seen.push(step.clone());
        }
        if step == "free" {
            break;
        }
    }
    let rank = |s: &str| order.iter().position(|o| *o == s).unwrap_or(usize::MAX);
    assert!(seen.windows(2).all(|w| rank(&w[0]) < rank(&w[1])), "not a ladder: {seen:?}");
    assert_eq!(seen.first().map(String::as_str), Some("ok"), "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("free"), "{seen:?}");
    // A pinned model is never swapped for another: over the whole limit it is refused, a 400
    // (no wait makes room for it; one over what is left is a 429, as the route's tests show).
    let r = chat_as(
        &s,
        "pinned",
        r#"{"model":"claude-opus-4-7","max_tokens":2000,"messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "request_over_budget", "{}", r.text());
    assert_eq!((r.header("x-model-router-budget"), r.header("retry-after")), (Some("over_limit"), None));
    assert!(r.text().contains("client pinned"), "{}", r.text());
}

#[test]
fn max_price_excludes_models_above_it() {
    let s = start(&StackOptions::default());
    let r = chat(
        &s,
        r#"{"model":"standard","max_price":{"prompt":1,"completion":2},"messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (m, p) = served(&r);
    let (pi, po) = prices(&m, &p);
    assert!(pi <= 1.0 && po <= 2.0, "{m} at {p}: {pi}/{po}");
    let r = chat(
        &s,
        r#"{"model":"premium","max_price":{"completion":0.01},"messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "no_model_within_max_price");
    assert!(s.take_received().len() == 1, "the refused request reached a provider");
}

#[test]
fn prometheus_shows_the_routers_metrics_with_labels() {
    let s = start(&StackOptions::default());
    for body in [
        r#"{"model":"economy","prefer":"cheap","messages":[{"role":"user","content":"x"}]}"#,
        r#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#,
    ] {
        chat(&s, body);
    }
    let text = s.envoy.admin_get("/stats/prometheus").unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.starts_with("model_router_requests{") && l.contains("prefer=\"cheap\""))
        .unwrap_or_else(|| panic!("no labelled requests metric:\n{}", grep(&text, "model_router")));
    for label in ["tier=\"economy\"", "provider=\"", "model=\"", "outcome=\"ok\""] {
        assert!(line.contains(label), "{line}");
    }
    assert!(line.trim_end().ends_with(" 1"), "{line}");
    for name in [
        "model_router_tokens_in{",
        "model_router_cost_nanousd{",
        "model_router_rejected{code=\"model_not_found\"}",
    ] {
        assert!(text.contains(name), "{name} missing:\n{}", grep(&text, "model_router"));
    }
    assert!(text.contains("model_router_auto_score_bucket"), "{}", grep(&text, "model_router"));
}

fn grep(text: &str, what: &str) -> String {
    text.lines().filter(|l| l.contains(what)).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_otlp_receiver_gets_log_records_and_spans_with_the_routers_attributes() {
    let rx = Receiver::start().unwrap_or_else(|e| panic!("{e}"));
    let port = format!("socket_address: {{address: 127.0.0.1, port_value: {}}}", rx.addr.port());
    let s = start(&StackOptions {
        swaps: &[("socket_address: {address: 127.0.0.1, port_value: 4318}", &port)],
        ..StackOptions::default()
    });
    let r =
        chat(&s, r#"{"model":"standard","max_tokens":50,"messages":[{"role":"user","content":"hello"}]}"#);
    assert_eq!(r.status, 200);
    let (model, provider) = served(&r);
    let deadline = Instant::now() + Duration::from_secs(15);
    let (mut log, mut span) = (None, None);
    while Instant::now() < deadline && (log.is_none() || span.is_none()) {
        std::thread::sleep(Duration::from_millis(200));
        let got = rx.records();
        log = got
            .iter()
            .find(|r| r.kind == "log" && r.attr("gen_ai.request.model").is_some_and(|m| !m.is_empty()))
            .cloned();
        span = got
            .iter()
            .find(|r| r.kind == "span" && r.attr("gen_ai.request.model").is_some_and(|m| !m.is_empty()))
            .cloned();
    }
    let cost = r.header("x-model-router-cost").unwrap_or_default();
    for rec in [
        log.expect("no log record with the router's attributes"),
        span.expect("no span with the router's attributes"),
    ] {
        assert_eq!(rec.attr("gen_ai.request.model"), Some(model.as_str()), "{rec:?}");
        assert_eq!(rec.attr("gen_ai.provider.name"), Some(provider.as_str()), "{rec:?}");
        assert_eq!(rec.attr("gen_ai.usage.output_tokens"), Some("50"), "{rec:?}");
        assert_eq!(rec.attr("gen_ai.usage.input_tokens"), r.header("x-model-router-tokens-in"), "{rec:?}");
        assert_eq!(rec.attr("model_router.tier"), Some("standard"), "{rec:?}");
        assert_eq!(rec.attr("model_router.cost_usd"), Some(cost), "{rec:?}");
        assert_eq!(rec.attr("model_router.attempts"), Some("1"), "{rec:?}");
        assert_eq!(rec.attr("gen_ai.operation.name"), Some("chat"), "{rec:?}");
    }
    // An embeddings request is the GenAI conventions' `embeddings` operation, not `chat`.
    let e = http::post_json(s.envoy.addr, "/v1/embeddings", r#"{"model":"embed-small","input":"hello"}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.status, 200, "{}", e.text());
    let (embedder, _) = served(&e);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut kinds = Vec::new();
    while Instant::now() < deadline && kinds.len() < 2 {
        std::thread::sleep(Duration::from_millis(200));
        kinds = rx
            .records()
            .into_iter()
            .filter(|r| r.attr("gen_ai.request.model") == Some(embedder.as_str()))
            .map(|r| (r.kind, r.attr("gen_ai.operation.name").map(str::to_string)))
            .collect();
    }
    kinds.sort();
    let embeddings = Some("embeddings".to_string());
    assert_eq!(kinds, [("log", embeddings.clone()), ("span", embeddings)]);
    // The access log line on stdout (Envoy's log file here) carries the same.
    let logged = s.envoy.log();
    assert!(logged.contains(&format!("\"model\":\"{model}\"")), "{}", grep(&logged, "\"model\""));
    // With what an operator reads first when a request went wrong: Envoy's response flags
    // (none here), its details, and the cluster that answered.
    let line = logged.lines().find(|l| l.contains(&format!("\"model\":\"{model}\""))).unwrap_or_default();
    let line: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(line["flags"], "-", "{line}");
    assert_eq!(line["details"], "via_upstream", "{line}");
    assert_eq!(line["upstream_cluster"], provider.as_str(), "{line}");
    assert!(line["request_id"].as_str().is_some_and(|id| id.len() >= 32), "{line}");
}
