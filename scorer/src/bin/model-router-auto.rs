//! Explains `auto`: reads chat requests as JSON Lines on stdin and prints, per line,
//! `{"id":…,"tier":…,"score":…,"reasons":[…],"model":…,"provider":…}` through the same
//! parse, score and route code the filter runs (without stickiness: each line stands alone).
//!
//! `model-router-auto [--config PLUGIN_CONFIG.json] [--date YYYY-MM-DD] < requests.jsonl`
//! (`--date` fixes "today" for retirements; the default is the system clock, as in Envoy).
//!
//! `--features BITS` prints what a learned layer is trained on instead of the decision:
//! `{"id":…,"base":…,"parts":[[token,value],…],"ngrams":[bucket,…]}`: the hand-written
//! contributions (the score is `squash(base + their sum)`) and the hashed n-grams of the last
//! user message in `2^BITS` buckets (`parse::ngrams`), so `scripts/train_auto.py` never
//! tokenises or hashes on its own.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use model_router_scorer::catalog::parse_day;
use model_router_scorer::parse::ngrams;
use model_router_scorer::request::parse_chat;
use model_router_scorer::{ApiError, Config, auto, route_chat};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config_bytes = Vec::new();
    let mut feature_bits = None;
    let mut now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--config", Some(path)) => match std::fs::read(&path) {
                Ok(b) => config_bytes = b,
                Err(e) => return fail(&format!("cannot read {path}: {e}")),
            },
            ("--date", Some(date)) => match parse_day(&date) {
                Some(day) => now = (day.max(0) as u64) * 86_400,
                None => return fail(&format!("--date {date:?}: use YYYY-MM-DD")),
            },
            ("--features", Some(bits)) => match bits.parse::<u32>() {
                Ok(b) if (1..=24).contains(&b) => feature_bits = Some(b),
                _ => return fail(&format!("--features {bits:?}: use a bucket count exponent in 1..=24")),
            },
            _ => {
                return fail(
                    "usage: model-router-auto [--config PLUGIN_CONFIG.json] [--date YYYY-MM-DD] [--features BITS] < requests.jsonl",
                );
            }
        }
    }
    let config = match Config::from_json(&config_bytes) {
        Ok(c) => c,
        Err(e) => return fail(&format!("configuration rejected: {e}")),
    };
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.split(b'\n') {
        let line = match line {
            Ok(l) => l,
            Err(e) => return fail(&format!("reading stdin: {e}")),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = match feature_bits {
            Some(bits) => features(&config, &line, bits),
            None => decide(&config, &line, now),
        };
        if writeln!(out, "{result}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn decide(config: &Config, line: &[u8], now: u64) -> Value {
    let id = serde_json::from_slice::<Value>(line)
        .ok()
        .and_then(|v| v.get("id").filter(|i| i.is_string()).cloned());
    let error = |e: &ApiError| {
        let body: Value = serde_json::from_str(&e.body()).unwrap_or(Value::Null);
        json!({"id": id, "error": body.get("error").cloned().unwrap_or(Value::Null)})
    };
    match route_chat(config, line, now) {
        Err(e) => error(&e),
        Ok(route) => match route.auto {
            None => error(&ApiError::invalid(
                "not_auto",
                Some("model"),
                "this tool explains auto decisions: send requests with model 'auto'",
            )),
            Some(a) => json!({
                "id": id,
                "tier": a.tier.as_str(),
                "score": a.score,
                "reasons": a.reasons,
                "model": route.target.to.model,
                "provider": route.target.to.provider,
            }),
        },
    }
}

/// The learned layer's inputs for one request (see the module docs).
fn features(config: &Config, line: &[u8], bits: u32) -> Value {
    let value = serde_json::from_slice::<Value>(line).unwrap_or(Value::Null);
    let id = value.get("id").filter(|i| i.is_string()).cloned();
    let req = match parse_chat(line) {
        Ok(r) => r,
        Err(e) => {
            let body: Value = serde_json::from_str(&e.body()).unwrap_or(Value::Null);
            return json!({"id": id, "error": body.get("error").cloned().unwrap_or(Value::Null)});
        }
    };
    let parts: Vec<Value> =
        auto::contributions(&req.features, &config.auto).into_iter().map(|(t, v)| json!([t, v])).collect();
    // The last user message's texts as JSON string content, as the parser hands them over.
    let last_user = value
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")))
        .and_then(|m| m.get("content"));
    let texts: Vec<&str> = match last_user {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(parts)) => {
            parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect()
        }
        _ => Vec::new(),
    };
    let mut grams: Vec<u32> = texts
        .iter()
        .flat_map(|t| {
            let quoted = serde_json::to_string(t).unwrap_or_default();
            ngrams::hashed(quoted.as_bytes().get(1..quoted.len().saturating_sub(1)).unwrap_or_default(), bits)
        })
        .collect();
    grams.sort_unstable();
    grams.dedup();
    json!({"id": id, "base": config.auto.weights.base, "parts": parts, "ngrams": grams})
}

fn fail(message: &str) -> ExitCode {
    eprintln!("model-router-auto: {message}");
    ExitCode::from(2)
}
