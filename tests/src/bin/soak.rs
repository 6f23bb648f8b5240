//! `make soak`: mixed traffic through the real Envoy for SOAK_SECONDS (default 60): every
//! request kind, streams, provider faults (every candidate failing: the router's 502 for 500s,
//! 429 for rate limits), bad input. Checks that no request was lost or answered wrongly, the VM never failed,
//! and Envoy's memory stayed bounded; prints the figures.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use model_router_tests::envoy::Stack;
use model_router_tests::http;
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

/// One request and what a correct answer looks like.
struct Case {
    path: &'static str,
    method: &'static str,
    body: String,
    headers: Vec<(&'static str, &'static str)>,
    status: u16,
}

fn case(i: u64) -> Case {
    let tiers = ["economy", "standard", "premium"];
    let prefers = ["cheap", "fast", "balanced", "quality", "coding"];
    let tier = tiers[(i % 3) as usize];
    let prefer = prefers[((i / 3) % 5) as usize];
    let msg = r#"[{"role":"user","content":"hello there"}]"#;
    let chat = |body: String, headers: Vec<(&'static str, &'static str)>, status: u16| Case {
        path: CHAT,
        method: "POST",
        body,
        headers,
        status,
    };
    match i % 10 {
        0..=2 => chat(format!(r#"{{"model":"{tier}","prefer":"{prefer}","messages":{msg}}}"#), vec![], 200),
        3 => chat(
            format!(
                r#"{{"model":"auto","messages":[{{"role":"user","content":"Fix this:\n```rust\nfn main(){{}}\n``` {i}"}}]}}"#
            ),
            vec![],
            200,
        ),
        4 => chat(
            format!(r#"{{"model":"{tier}","stream":true,"messages":{msg}}}"#),
            vec![("x-mock-delay-ms", "5")],
            200,
        ),
        5 => Case {
            path: "/v1/embeddings",
            method: "POST",
            body: format!(
                r#"{{"model":"{}","input":"x","dimensions":256}}"#,
                ["embed-small", "embed-large", "embed-titan"][(i / 10 % 3) as usize]
            ),
            headers: vec![],
            status: 200,
        },
        6 => Case { path: "/v1/models", method: "GET", body: String::new(), headers: vec![], status: 200 },
        7 => chat(format!(r#"{{"model":"{tier}","messages":{msg}}}"#), vec![("x-mock-status", "500")], 502),
        8 => chat(format!(r#"{{"model":"{tier}","messages":{msg}}}"#), vec![("x-mock-status", "429")], 429),
        _ => chat(format!(r#"{{"model":"{tier}","prefer":"fastest","messages":{msg}}}"#), vec![], 400),
    }
}

/// True when a successful answer is the right one: the model the router reported is what the
/// provider received (through its upstream id) and the body is complete.
fn correct(c: &Case, r: &http::Response) -> bool {
    if c.path == "/v1/models" {
        return r.json()["data"].as_array().is_some_and(|d| d.len() > 10);
    }
    if c.path == "/v1/embeddings" {
        return r.json()["data"][0]["embedding"].as_array().is_some_and(|e| !e.is_empty());
    }
    if c.body.contains(r#""stream":true"#) {
        return r.text().trim_end().ends_with("data: [DONE]") && r.header("x-model-router-model").is_some();
    }
    let v: Value = r.json();
    let received: Value =
        serde_json::from_str(v["mock"]["received_body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    r.header("x-model-router-model").is_some()
        && received["model"].is_string()
        && v["model"] == received["model"]
}

fn main() {
    let seconds: u64 = std::env::var("SOAK_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let workers: u64 = std::env::var("SOAK_WORKERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let stack = Stack::start(None).unwrap_or_else(|e| {
        eprintln!("soak: cannot start: {e}");
        std::process::exit(2)
    });
    let addr = stack.envoy.addr;
    let rss_start = stack.envoy.rss_kib().unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, wrong, lost) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let problems = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let (stop, sent, wrong, lost, problems) =
            (stop.clone(), sent.clone(), wrong.clone(), lost.clone(), problems.clone());
        handles.push(thread::spawn(move || {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let c = case(i);
                i += workers;
                sent.fetch_add(1, Ordering::Relaxed);
                let mut h = vec![("content-type", "application/json")];
                h.extend(c.headers.iter().copied());
                match http::request(addr, c.method, c.path, &h, c.body.as_bytes()) {
                    Err(e) => {
                        lost.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut p) = problems.lock() {
                            p.push(format!("lost {} {}: {e}", c.path, c.body));
                        }
                    }
                    Ok(r) if r.status != c.status || (r.status == 200 && !correct(&c, &r)) => {
                        wrong.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut p) = problems.lock() {
                            p.push(format!("wrong {} {} -> {} {}", c.path, c.body, r.status, r.text()));
                        }
                    }
                    Ok(_) => {}
                }
            }
        }));
    }
    let mut rss_max = rss_start;
    while started.elapsed() < Duration::from_secs(seconds) {
        thread::sleep(Duration::from_secs(1));
        rss_max = rss_max.max(stack.envoy.rss_kib().unwrap_or(0));
        stack.take_received();
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let rss_end = stack.envoy.rss_kib().unwrap_or(0);
    let stats = stack.envoy.admin_get("/stats?filter=wasm").unwrap_or_default();
    let vm_failures: u64 = stats
        .lines()
        .filter(|l| l.contains("vm_reload_failure") || l.contains("vm_reload:"))
        .filter_map(|l| l.rsplit(": ").next()?.parse::<u64>().ok())
        .sum();
    let panicked = stack.envoy.log().contains("panic");
    let (n, bad, gone) =
        (sent.load(Ordering::Relaxed), wrong.load(Ordering::Relaxed), lost.load(Ordering::Relaxed));
    let secs = started.elapsed().as_secs_f64();
    println!(
        "soak: {secs:.0} s, {workers} workers, {n} requests ({:.0}/s), {bad} wrong, {gone} lost, {vm_failures} VM failures, \
         panic in log: {panicked}; Envoy RSS start {} MiB, max {} MiB, end {} MiB",
        n as f64 / secs,
        rss_start / 1024,
        rss_max / 1024,
        rss_end / 1024
    );
    for p in problems.lock().map(|p| p.iter().take(5).cloned().collect::<Vec<_>>()).unwrap_or_default() {
        println!("  {}", p.chars().take(300).collect::<String>());
    }
    // Memory bound: Envoy may grow while pools and caches warm up, not without limit.
    let bounded = rss_end <= rss_start * 2 + 64 * 1024;
    if bad > 0 || gone > 0 || vm_failures > 0 || panicked || !bounded {
        println!("soak: FAILED");
        std::process::exit(1);
    }
    println!("soak: passed");
}
