//! Parse + features + auto score + rank + rewrite, per request, natively. Reports MB/s of
//! request body on short and long conversations (`make bench`).

// A benchmark that cannot build its input should stop loudly.
#![allow(clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use model_router_scorer::{Config, analyze, route_chat};

/// 2026-11-22, the catalog's reference day.
const NOW: u64 = 20_779 * 86_400;

fn conversation(turns: usize) -> String {
    let mut msgs =
        vec![r#"{"role":"system","content":"You are a helpful assistant. Answer precisely."}"#.to_string()];
    for i in 0..turns {
        msgs.push(format!(
            r#"{{"role":"user","content":"Question {i}: here is some code.\n```python\ndef f(x):\n    return x * {i}\n```\nWhy does it fail when x is None? Please analyse step by step."}}"#
        ));
        msgs.push(format!(
            r#"{{"role":"assistant","content":"Answer {i}: because None cannot be multiplied. Check the input first, or use a default value; here is a version that handles it:\n```python\ndef f(x=0):\n    return (x or 0) * {i}\n```"}}"#
        ));
    }
    msgs.push(r#"{"role":"user","content":"Thanks, and how would you test it?"}"#.to_string());
    format!(r#"{{"model":"auto","temperature":0.2,"messages":[{}]}}"#, msgs.join(","))
}

/// An agent's turn as coding harnesses send it: a short conversation and 16 tools whose
/// descriptions and JSON Schemas make about 18 KB, resent on every turn (also the wasm bench's).
const AGENT_TURN_WITH_TOOLS: &str = include_str!("../../testdata/bench/agent_turn_with_tools.json");

fn bench(c: &mut Criterion) {
    let config = Config::from_json(b"").expect("default config");
    let mut group = c.benchmark_group("route_chat");
    for (name, turns, model) in [
        ("auto short_1KB", 2, "auto"),
        ("auto long_100KB", 250, "auto"),
        ("tier short_1KB", 2, "economy"),
        ("tier long_100KB", 250, "economy"),
    ] {
        let body = conversation(turns).replacen(r#""model":"auto""#, &format!(r#""model":"{model}""#), 1);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name} ({} bytes)", body.len()), |b| {
            b.iter(|| route_chat(&config, body.as_bytes(), NOW).expect("routes"))
        });
    }
    // Translated to the Messages API: the tools are most of the body and of the work.
    let body = AGENT_TURN_WITH_TOOLS.trim();
    let to = route_chat(&config, body.as_bytes(), NOW).expect("routes").target.to;
    assert!(to.path.ends_with("/messages"), "{} via {}", to.path, to.provider);
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("agent turn with 16 tools, to Anthropic ({} bytes)", body.len()), |b| {
        b.iter(|| route_chat(&config, body.as_bytes(), NOW).expect("routes"))
    });
    group.finish();

    // The one pass alone (parse, features, auto score): what the issue calls the feature scan,
    // without ranking and the provider's translation.
    let mut group = c.benchmark_group("analyze");
    for (name, turns) in [("auto short_1KB", 2), ("auto long_100KB", 250)] {
        let body = conversation(turns);
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name} ({} bytes)", body.len()), |b| {
            b.iter(|| analyze(&config, body.as_bytes()).expect("parses").auto().map(|a| a.score))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
