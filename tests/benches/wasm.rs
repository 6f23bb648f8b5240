//! Per request inside wasm: the built `plugin.wasm` in wasmtime, one whole request per
//! iteration (request headers, body, response headers, response body, log), as Envoy drives
//! it. wasmtime compiles with Cranelift where Envoy runs V8, and its host calls are cheaper
//! than Envoy's, so this measures the filter's own work per request; `make bench` measures it
//! inside Envoy. It also counts the VM boundary crossings of each callback, which cost the
//! same whatever the code on either side does, and writes them to
//! `$CARGO_TARGET_DIR/criterion/crossings.json` for `BENCHMARKS.md`.

// A benchmark that cannot build its input should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model_router_scorer::resume::PREFIX_KEY_PREFIX;
use model_router_tests::envoy::wasm_path;
use model_router_tests::wasm_host::{Crossings, Outcome, Plugin};
use serde_json::{Value, json};

const RESPONSE: &[u8] = br#"{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Done."},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":2,"total_tokens":252}}"#;

/// A chat body of about `size` bytes: a system prompt, turns of plain prose, a short ask.
fn body(size: usize, model: &str) -> String {
    let words = ["router", "envoy", "latency", "token", "provider", "model", "the", "of", "and", "with"];
    let mut prose = String::new();
    let mut i = 7usize;
    let turns = (size / 2000).clamp(1, 8);
    // Each turn is a user message of `per` bytes and an assistant one of a quarter of that.
    let per = size.saturating_sub(200) * 4 / (turns * 5 + 4);
    let mut text = |n: usize| {
        prose.clear();
        while prose.len() < n {
            i = (i * 1_103_515_245 + 12_345) % (1 << 31);
            prose.push_str(words[i % words.len()]);
            prose.push(' ');
        }
        prose.clone()
    };
    let mut messages = vec![json!({"role": "system", "content": text(per)})];
    for _ in 0..turns {
        messages.push(json!({"role": "user", "content": text(per)}));
        messages.push(json!({"role": "assistant", "content": text(per / 4)}));
    }
    messages.push(json!({"role": "user", "content": "Summarise the above."}));
    json!({"model": model, "messages": messages, "max_tokens": 256}).to_string()
}

/// An agent's turn as coding harnesses send it, pinned to an Anthropic model: a short
/// conversation and 16 tools (about 18 KB of descriptions and JSON Schemas), resent every turn.
const AGENT_TURN_WITH_TOOLS: &str = include_str!("../../testdata/bench/agent_turn_with_tools.json");

/// Crossings of each step of one request.
struct Steps {
    request: Crossings,
    response_headers: Crossings,
    response_body: Crossings,
    log: Crossings,
}

/// A coding agent's conversation at about `size` bytes: a task, then turns of an assistant
/// tool call and its result (code read from files), as an agent harness resends it every turn.
/// Returns the turn before the last one and the last one: the last adds one tool call and its
/// result.
fn agent_loop(size: usize) -> (String, String) {
    let mut messages = vec![
        json!({"role": "system", "content": "You are a coding agent. Use the tools to read and edit files."}),
        json!({"role": "user", "content": "The test test_parse_dates fails with KeyError: 'tz'. Find the bug and fix it."}),
    ];
    let mut turn = 0;
    while messages.iter().map(|m| m.to_string().len()).sum::<usize>() < size {
        let call = format!("call_{turn}");
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [{"id": call, "type": "function",
            "function": {"name": "read_file", "arguments": format!("{{\"path\":\"src/dates_{turn}.py\"}}")}}]}));
        let code: String = (0..40)
            .map(|l| format!("def parse_{turn}_{l}(value, tz=None):\n    return normalise(value, tz or DEFAULT_TZ)  # line {l}\n"))
            .collect();
        messages.push(json!({"role": "tool", "tool_call_id": call, "content": code}));
        turn += 1;
    }
    let turn = |messages: &[Value]| {
        json!({"model": "auto", "messages": messages, "tools": [{"type": "function", "function": {"name": "read_file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]})
        .to_string()
    };
    (turn(&messages[..messages.len() - 2]), turn(&messages))
}

/// The provider's answer in its own protocol, chosen by the path the request left for.
const ANTHROPIC_RESPONSE: &[u8] = br#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","usage":{"input_tokens":250,"output_tokens":2}}"#;
const CONVERSE_RESPONSE: &[u8] = br#"{"output":{"message":{"role":"assistant","content":[{"text":"Done."}]}},"stopReason":"end_turn","usage":{"inputTokens":250,"outputTokens":2,"totalTokens":252}}"#;

fn one_request(p: &mut Plugin, body: &[u8]) -> Steps {
    one_request_as(p, body, None)
}

fn one_request_as(p: &mut Plugin, body: &[u8], client: Option<&str>) -> Steps {
    let len = body.len().to_string();
    let mut headers = vec![
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        (":authority", "router"),
        ("content-type", "application/json"),
        ("content-length", len.as_str()),
    ];
    headers.extend(client.map(|c| ("x-client", c)));
    let t0 = p.crossings();
    let (id, out) = p.request(&headers, &[body]).expect("request");
    let Outcome::Forwarded { headers: sent, .. } = &out else { panic!("{out:?}") };
    let path = sent.iter().find(|(k, _)| k == ":path").map_or("", |(_, v)| v.as_str());
    let answer = if path.ends_with("/messages") {
        ANTHROPIC_RESPONSE
    } else if path.ends_with("/converse") {
        CONVERSE_RESPONSE
    } else {
        RESPONSE
    };
    let t1 = p.crossings();
    p.response(id, &[(":status", "200"), ("content-type", "application/json")]).expect("headers");
    let t2 = p.crossings();
    let seen = p.response_body(id, answer).expect("body");
    assert!(seen.iter().any(|(k, _)| k == "x-model-router-cost"), "{seen:?}");
    let t3 = p.crossings();
    p.finish(id).expect("finish");
    let t4 = p.crossings();
    Steps { request: t1 - t0, response_headers: t2 - t1, response_body: t3 - t2, log: t4 - t3 }
}

fn bench(c: &mut Criterion) {
    let wasm = wasm_path();
    // Each case resends one body, which auto's prefix cache would answer without scanning:
    // off here, so auto pays a whole scan as a conversation's first turn does (the agent loop
    // below measures the cache).
    let mut plugin =
        Plugin::load(&wasm, r#"{"prefix_cache": {"slots": 0}}"#).expect("plugin loads (make wasm first)");
    plugin.set_now_secs(20_779 * 86_400);
    let mut report = serde_json::Map::new();
    let mut group = c.benchmark_group("wasm_request");
    for (name, body) in [
        ("tier 1KB", body(1_000, "standard")),
        ("auto 1KB", body(1_000, "auto")),
        ("tier 100KB", body(100_000, "standard")),
        ("auto 100KB", body(100_000, "auto")),
        ("agent turn with 16 tools, to Anthropic", AGENT_TURN_WITH_TOOLS.trim().to_string()),
    ] {
        // Warm: the first request defines metrics and creates shared-data records.
        one_request(&mut plugin, body.as_bytes());
        let s = one_request(&mut plugin, body.as_bytes());
        let step = |c: Crossings| json!({"host_calls": c.host_calls, "vm_entries": c.vm_entries});
        report.insert(
            name.to_string(),
            json!({
                "request": step(s.request),
                "response_headers": step(s.response_headers),
                "response_body": step(s.response_body),
                "log": step(s.log),
            }),
        );
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| b.iter(|| one_request(&mut plugin, body.as_bytes())));
        if let Some(Value::Object(case)) = report.get_mut(name) {
            // Linear memory after every iteration: it stays flat when nothing leaks.
            case.insert("memory_bytes".to_string(), json!(plugin.memory_bytes()));
            case.insert("body_bytes".to_string(), json!(body.len()));
        }
    }
    group.finish();

    // An agent loop under `auto`, sticky per client, at 10 KB, 100 KB and 400 KB: each
    // iteration is one new turn (a tool call and its result) after the turn before it was
    // routed, the scan of the turn before remembered as Envoy's shared data would hold it.
    // Each turn's cost against the 10 KB turn's is what an agent pays per step as its context
    // grows.
    let mut sticky = Plugin::load(&wasm, r#"{"client_header": "x-client"}"#).expect("plugin loads");
    sticky.set_now_secs(20_779 * 86_400);
    let mut group = c.benchmark_group("wasm_agent_loop");
    for (name, size) in [("turn at 10KB", 10_000), ("turn at 100KB", 100_000), ("turn at 400KB", 400_000)] {
        let (before, body) = agent_loop(size);
        one_request_as(&mut sticky, body.as_bytes(), Some("agent"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    // Untimed: the turn before is routed, its scan remembered, nothing else.
                    sticky.forget_shared(PREFIX_KEY_PREFIX);
                    one_request_as(&mut sticky, before.as_bytes(), Some("agent"));
                    let start = Instant::now();
                    one_request_as(&mut sticky, body.as_bytes(), Some("agent"));
                    spent += start.elapsed();
                }
                spent
            });
        });
    }
    group.finish();
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let path = dir.join("criterion").join("crossings.json");
    std::fs::create_dir_all(dir.join("criterion")).expect("criterion dir");
    std::fs::write(&path, Value::Object(report).to_string()).expect("write crossings");
}

criterion_group!(benches, bench);
criterion_main!(benches);
