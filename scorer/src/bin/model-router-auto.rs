//! Explains `auto`: reads chat requests as JSON Lines on stdin and prints, per line,
//! `{"id":…,"tier":…,"score":…,"reasons":[…],"model":…,"provider":…}` through the same
//! parse, score and route code the filter runs (without stickiness: each line stands alone).
//!
//! `model-router-auto [--config PLUGIN_CONFIG.json] [--date YYYY-MM-DD] < requests.jsonl`
//! (`--date` fixes "today" for retirements; the default is the system clock, as in Envoy).

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use model_router_scorer::catalog::parse_day;
use model_router_scorer::{ApiError, Config, route_chat};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut config_bytes = Vec::new();
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
            _ => {
                return fail(
                    "usage: model-router-auto [--config PLUGIN_CONFIG.json] [--date YYYY-MM-DD] < requests.jsonl",
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
        let result = decide(&config, &line, now);
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

fn fail(message: &str) -> ExitCode {
    eprintln!("model-router-auto: {message}");
    ExitCode::from(2)
}
