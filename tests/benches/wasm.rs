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

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

/// Crossings of each step of one request.
struct Steps {
    request: Crossings,
    response_headers: Crossings,
    response_body: Crossings,
    log: Crossings,
}

fn one_request(p: &mut Plugin, body: &[u8]) -> Steps {
    let len = body.len().to_string();
    let headers = [
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        (":authority", "router"),
        ("content-type", "application/json"),
        ("content-length", len.as_str()),
    ];
    let t0 = p.crossings();
    let (id, out) = p.request(&headers, &[body]).expect("request");
    assert!(matches!(out, Outcome::Forwarded { .. }), "{out:?}");
    let t1 = p.crossings();
    p.response(id, &[(":status", "200"), ("content-type", "application/json")]).expect("headers");
    let t2 = p.crossings();
    let seen = p.response_body(id, RESPONSE).expect("body");
    assert!(seen.iter().any(|(k, _)| k == "x-model-router-cost"), "{seen:?}");
    let t3 = p.crossings();
    p.finish(id).expect("finish");
    let t4 = p.crossings();
    Steps { request: t1 - t0, response_headers: t2 - t1, response_body: t3 - t2, log: t4 - t3 }
}

fn bench(c: &mut Criterion) {
    let wasm = wasm_path();
    let mut plugin = Plugin::load(&wasm, "{}").expect("plugin loads (make wasm first)");
    plugin.set_now_secs(20_779 * 86_400);
    let mut report = serde_json::Map::new();
    let mut group = c.benchmark_group("wasm_request");
    for (name, size, model) in [
        ("tier 1KB", 1_000, "standard"),
        ("auto 1KB", 1_000, "auto"),
        ("tier 100KB", 100_000, "standard"),
        ("auto 100KB", 100_000, "auto"),
    ] {
        let body = body(size, model);
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
    let dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let path = dir.join("criterion").join("crossings.json");
    std::fs::create_dir_all(dir.join("criterion")).expect("criterion dir");
    std::fs::write(&path, Value::Object(report).to_string()).expect("write crossings");
}

criterion_group!(benches, bench);
criterion_main!(benches);
