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
    hostile(c, &config);

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

/// A Responses client's side (`/v1/responses`): its body made a chat body, and a chat stream
/// told as Responses events, per byte.
fn inbound(c: &mut Criterion) {
    use model_router_scorer::protocol::inbound::{events::Events, request::to_chat};
    let mut group = c.benchmark_group("inbound");
    let chat: serde_json::Value = serde_json::from_str(&conversation(250)).expect("json");
    let messages = chat.get("messages").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    let body = serde_json::json!({"model": "auto", "instructions": "You are a helpful assistant.",
        "input": messages.get(1..).unwrap_or_default(), "stream": true})
    .to_string();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("to_chat long_100KB ({} bytes)", body.len()), |b| {
        b.iter(|| to_chat(body.as_bytes(), &[]).expect("translates"))
    });
    let chunk = r#"data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a few words of text"},"finish_reason":null}]}"#;
    let stream = format!("{}data: [DONE]\n\n", format!("{chunk}\n\n").repeat(500));
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function(format!("events 500 chunks ({} bytes)", stream.len()), |b| {
        b.iter(|| {
            let mut e = Events::new(Default::default(), "chatcmpl-b");
            stream.as_bytes().chunks(4096).map(|c| e.feed(c, false).len()).sum::<usize>()
                + e.feed(b"", true).len()
        })
    });
    group.finish();
}

/// An Anthropic Messages client's side (`/v1/messages`): its body made a chat body, and a chat
/// stream told as Messages events, per byte.
fn inbound_messages(c: &mut Criterion) {
    use model_router_scorer::protocol::inbound_messages::{events::Events, request::to_chat};
    let mut group = c.benchmark_group("inbound_messages");
    let chat: serde_json::Value = serde_json::from_str(&conversation(250)).expect("json");
    let messages = chat.get("messages").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    let body = serde_json::json!({"model": "auto", "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are a helpful assistant.", "cache_control": {"type": "ephemeral"}}],
        "messages": messages.get(1..).unwrap_or_default()})
    .to_string();
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("to_chat long_100KB ({} bytes)", body.len()), |b| {
        b.iter(|| to_chat(body.as_bytes()).expect("translates"))
    });
    // Routed pinned to Opus, as Claude Code's adaptive thinking asks (its effort a hint the
    // route writes into the body) and without it: what the hint costs.
    let config = Config::from_json(b"").expect("default config");
    for (name, thinking) in
        [("hinted", r#","thinking":{"type":"adaptive"},"output_config":{"effort":"high"}"#), ("plain", "")]
    {
        let asked = body.replacen(r#""model":"auto""#, &format!(r#""model":"claude-opus-4-7"{thinking}"#), 1);
        let chat = to_chat(asked.as_bytes()).expect("translates");
        group.throughput(Throughput::Bytes(chat.len() as u64));
        group.bench_function(format!("route {name} long_100KB"), |b| {
            b.iter(|| route_chat(&config, &chat, NOW).expect("routes"))
        });
    }
    let chunk = r#"data: {"id":"chatcmpl-b","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a few words of text"},"finish_reason":null}]}"#;
    let stream = format!("{}data: [DONE]\n\n", format!("{chunk}\n\n").repeat(500));
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function(format!("events 500 chunks ({} bytes)", stream.len()), |b| {
        b.iter(|| {
            let mut e = Events::new("chatcmpl-b");
            stream.as_bytes().chunks(4096).map(|c| e.feed(c, false).len()).sum::<usize>()
                + e.feed(b"", true).len()
        })
    });
    group.finish();
}

/// Shapes a client can send to make a translation's work grow faster than its body: same-role
/// messages merged into one Messages turn, and tool results each put ahead of a turn's other
/// blocks (each took time quadratic in the messages: 200,000 one-word messages to Claude held
/// an Envoy worker 24 s, 100,000 tool results to Converse 5 s). Linear, these are of the order
/// of the long conversations' MB/s above.
fn hostile(c: &mut Criterion, config: &Config) {
    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    let user = vec![r#"{"role":"user","content":"h"}"#; 50_000].join(",");
    let results = vec![r#"{"role":"tool","tool_call_id":"c0","content":"r"}"#; 50_000].join(",");
    let call = r#"{"role":"user","content":"go"},{"role":"assistant","content":null,"tool_calls":[{"id":"c0","type":"function","function":{"name":"f","arguments":"{}"}}]}"#;
    let tools = r#""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]"#;
    for (name, model, messages) in [
        ("50,000 user messages, to Anthropic", "claude-sonnet-4-6", user.clone()),
        ("50,000 tool results, to Anthropic", "claude-sonnet-4-6", format!("{call},{results}")),
        (
            "50,000 tool results, to Converse",
            "us.meta.llama4-scout-17b-instruct-v1:0",
            format!("{call},{results}"),
        ),
    ] {
        let body = format!(r#"{{"model":"{model}",{tools},"messages":[{messages}]}}"#);
        let routed = route_chat(config, body.as_bytes(), NOW).expect("routes");
        assert!(routed.target.body.len() > 100_000, "{name}: translated whole");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{name} ({} bytes)", body.len()), |b| {
            b.iter(|| route_chat(config, body.as_bytes(), NOW).expect("routes"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench, inbound, inbound_messages);
criterion_main!(benches);
