//! The Grafana dashboard (`deploy/grafana/model-router.json`) against a real Prometheus: the
//! demo Envoy serves mixed traffic (tiers, `auto`, several providers, a failover that ends in
//! an open breaker, clients with budgets, a ladder step and a refusal) while Prometheus scrapes
//! its `/stats/prometheus`; then every panel's query, Grafana's variables filled in, must
//! return series carrying the labels its legend names, with a value above zero.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use model_router_scorer::Config;
use model_router_tests::envoy::{Stack, StackOptions, repo_root};
use model_router_tests::http::{self, Response};
use model_router_tests::prometheus::{self, Prometheus, SCRAPE_SECS};
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

/// Served by three providers: the first choice for `prefer: cheap` is made to fail.
const SHARED: &str =
    r#"{"model":"gpt-oss-120b","prefer":"cheap","messages":[{"role":"user","content":"hello"}]}"#;
/// A premium request, large enough for a small client's limit to step it down.
const PREMIUM: &str =
    r#"{"model":"premium","max_tokens":2000,"messages":[{"role":"user","content":"hello"}]}"#;
/// Consecutive failures that open a breaker.
const FAILURES: u32 = 3;

/// Grafana's variables as the test fills them: the built-in intervals, and each dashboard
/// variable's "All" value (or its current value for a custom one).
fn variables(dash: &Value) -> Vec<(String, String)> {
    let mut vars = vec![
        ("__rate_interval".to_string(), "1m".to_string()),
        ("__interval".to_string(), "15s".to_string()),
        ("__range".to_string(), "5m".to_string()),
    ];
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_else(|| panic!("a variable without a name: {v}"));
        let value = match v["type"].as_str() {
            Some("query") => v["allValue"].as_str(),
            Some("custom") => v["current"]["value"].as_str(),
            other => panic!("variable {name}: type {other:?} not handled by the test"),
        };
        vars.push((
            name.to_string(),
            value.unwrap_or_else(|| panic!("variable {name}: no value")).to_string(),
        ));
    }
    // Longest first, so `$client` never eats the start of a longer name.
    vars.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    vars
}

fn substitute(expr: &str, vars: &[(String, String)]) -> String {
    let mut out = expr.to_string();
    for (name, value) in vars {
        out = out.replace(&format!("${{{name}}}"), value).replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "a variable the test does not know in {expr}");
    out
}

/// The labels a legend shows (`{{provider}} / {{model}}`): a series must carry them.
fn legend_labels(legend: &str) -> Vec<String> {
    legend
        .split("{{")
        .skip(1)
        .filter_map(|s| s.split_once("}}").map(|(name, _)| name.trim().to_string()))
        .collect()
}

/// Every value of `label` among `series`.
fn label_values(series: &[Value], label: &str) -> BTreeSet<String> {
    series.iter().filter_map(|s| s["metric"][label].as_str().map(str::to_string)).collect()
}

fn post(s: &Stack, client: Option<&str>, body: &str) -> Response {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(c) = client {
        headers.push(("x-team", c));
    }
    http::request(s.envoy.addr, "POST", CHAT, &headers, body.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// The cheapest estimate of a tier for `body` (what the budget ladder weighs).
fn estimate(cfg: &str, tier: &str, body: &str) -> f64 {
    let config = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let body = body.replace("\"model\":\"premium\"", &format!("\"model\":\"{tier}\",\"prefer\":\"cheap\""));
    let now = now_secs() as u64;
    model_router_scorer::route_chat(&config, body.as_bytes(), now).map_or(0.0, |r| r.estimate_usd)
}

/// One round of mixed traffic: two clients across the tiers, `auto` (a greeting, a coding
/// task, and two turns of a conversation new in round `n`, its bodies too large to keep for a
/// fallback), the shared model whose first choice fails, a client stepped down by its limit,
/// one refused by it, and an unknown model. Returns how many answers each status had.
fn round(s: &Stack, n: usize) -> Vec<(u16, usize)> {
    let auto_code = r#"{"model":"auto","messages":[{"role":"user","content":"Write a Rust function that parses an RFC 3339 timestamp, explain the borrow checker errors you hit, and prove its complexity. ```fn parse(s: &str) -> Result<u64, String> { todo!() }```"}]}"#;
    let auto_hi = r#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#;
    let tier = |t: &str| {
        format!(r#"{{"model":"{t}","max_tokens":200,"messages":[{{"role":"user","content":"hello"}}]}}"#)
    };
    let mut statuses = std::collections::BTreeMap::new();
    let mut send = |client: Option<&str>, body: &str| {
        *statuses.entry(post(s, client, body).status).or_insert(0) += 1;
    };
    for client in ["alpha", "beta"] {
        for t in ["economy", "standard", "premium"] {
            send(Some(client), &tier(t));
        }
        send(Some(client), auto_hi);
        send(Some(client), auto_code);
        send(Some(client), SHARED);
    }
    // A conversation new in each round, then its next turn: a prefix-cache miss, then a hit.
    let turn = |k: usize| {
        let mut messages = vec![format!(
            r#"{{"role":"user","content":"Round {n}: fix the date parser. {}"}}"#,
            "def parse(value): return value. ".repeat(10)
        )];
        for t in 0..k {
            messages.push(format!(
                r#"{{"role":"assistant","content":"Reading file {t}."}},{{"role":"user","content":"{}"}}"#,
                "x = parse(y) ".repeat(20)
            ));
        }
        format!(r#"{{"model":"auto","messages":[{}]}}"#, messages.join(","))
    };
    send(Some("alpha"), &turn(1));
    send(Some("alpha"), &turn(2));
    send(Some("small"), PREMIUM);
    send(
        Some("pinned"),
        r#"{"model":"claude-opus-4-7","max_tokens":2000,"messages":[{"role":"user","content":"x"}]}"#,
    );
    send(None, r#"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#);
    statuses.into_iter().collect()
}

#[test]
fn every_dashboard_query_returns_labelled_data_from_a_real_prometheus() {
    let started = Instant::now();
    let path = repo_root().join("deploy/grafana/model-router.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dash: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Importable: one Prometheus input, and every panel reads through it.
    assert_eq!(dash["__inputs"][0]["name"], "DS_PROMETHEUS", "{}", dash["__inputs"]);
    assert_eq!(dash["__inputs"][0]["pluginId"], "prometheus");
    let panels: Vec<&Value> =
        dash["panels"].as_array().into_iter().flatten().filter(|p| p["type"] != "row").collect();
    assert!(panels.len() >= 12, "only {} panels", panels.len());
    for p in &panels {
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "panel {}", p["title"]);
        assert!(p["gridPos"]["w"].as_u64().is_some(), "panel {} has no place", p["title"]);
    }

    let base = r#""client_header":"x-team""#;
    let premium = estimate(&format!("{{{base}}}"), "premium", PREMIUM);
    let standard = estimate(&format!("{{{base}}}"), "standard", PREMIUM);
    assert!(premium > standard && standard > 0.0, "{premium} {standard}");
    // `small` can afford the cheapest standard answer but not a premium one: its premium
    // request steps down. `pinned` can afford nothing: its pinned model is refused.
    let cfg = format!(
        r#"{{{base},"resilience":{{"failures":{FAILURES},"cooldown_secs":600,"failover_body_bytes":200}},
        "prefix_cache":{{"min_bytes":256}},
        "budgets":{{"daily_usd":100,"clients":{{"alpha":10,"beta":10,"small":{},"pinned":0.0001}}}}}}"#,
        (premium + standard) / 2.0
    );
    let s = Stack::start_with(&StackOptions {
        plugin_config: Some(&cfg),
        // Histograms reach /stats/prometheus when Envoy flushes stats (every 5 s by default).
        swaps: &[("\nstats_config:\n", "\nstats_flush_interval: 1s\nstats_config:\n")],
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the stack: {e}"));
    let prom = Prometheus::start(s.envoy.admin).unwrap_or_else(|e| panic!("{e}"));
    let up = Instant::now();

    let first = post(&s, None, SHARED);
    assert_eq!(first.status, 200, "{}", first.text());
    let failing = first.header("x-model-router-provider").unwrap_or_default().to_string();
    // Rounds a few scrapes apart, so every counter rises while Prometheus watches (a series
    // born between two scrapes with its final value shows no rate). In each, the shared
    // model's first choice fails once: one failover per round, its breaker still closed.
    let mut seen = Vec::new();
    for _ in 0..3 {
        s.fault(&failing, Some(r#"{"status":503,"count":1}"#)).unwrap_or_else(|e| panic!("{e}"));
        seen.push(round(&s, seen.len()));
        std::thread::sleep(Duration::from_secs(3 * SCRAPE_SECS));
    }
    // One refused key and one stream cut short, for "Answers that failed" (totals: no rate).
    s.fault(&failing, Some(r#"{"status":401,"count":1}"#)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(post(&s, Some("alpha"), SHARED).status, 200);
    // Cut after its first text (in its third event, the role-only one and the first text's
    // about 810 bytes; one cut before its text fails over: nothing had reached the client).
    s.fault(&failing, Some(r#"{"cut_after":950,"count":1}"#)).unwrap_or_else(|e| panic!("{e}"));
    let streamed = SHARED.replacen('{', r#"{"stream":true,"#, 1);
    let cut = post(&s, Some("alpha"), &streamed);
    assert!(cut.status == 200 && cut.text().contains("stream_truncated"), "{}", cut.text());
    // Reset inside its first event: the provider failed the stream (`stream_failed`).
    s.fault(&failing, Some(r#"{"reset_after":30,"count":1}"#)).unwrap_or_else(|e| panic!("{e}"));
    let reset = post(&s, Some("alpha"), &streamed);
    assert!(reset.status == 502 && reset.text().contains("broke off"), "{}", reset.text());
    // Then it fails for good: its breakers (the provider's and the deployment's) open.
    s.fault(&failing, Some(r#"{"status":503}"#)).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..FAILURES {
        assert_eq!(post(&s, Some("alpha"), SHARED).status, 200);
    }
    // A model only the failing provider serves: every candidate's breaker is open, and the
    // router fails open (routes to it all the same), for "Routed past open breakers".
    let config = Config::from_json(cfg.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let deployments = &config.catalog.deployments;
    let alone = deployments
        .iter()
        .filter(|d| d.api.routable() && d.provider == failing && d.retires.is_none())
        .find(|d| deployments.iter().filter(|e| e.id == d.id).count() == 1)
        .unwrap_or_else(|| panic!("no model served by {failing} alone"));
    let pinned = format!(r#"{{"model":"{}","messages":[{{"role":"user","content":"x"}}]}}"#, alone.id);
    let failed_open = post(&s, None, &pinned);
    assert_eq!(failed_open.status, 502, "{}", failed_open.text());
    // Envoy flushes within a second; wait for a scrape after that.
    let done = now_secs() + 1.5;
    std::thread::sleep(Duration::from_millis(1500));
    prom.wait_scraped_after(done).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("traffic {:?} (statuses per round {seen:?}), failing provider {failing}", up.elapsed());

    // What particular panels must show, beyond labelled data: (title, label, values).
    let musts: &[(&str, &str, &[&str])] = &[
        ("Failovers by provider", "provider", &[&failing]),
        ("Router refusals by code", "code", &["budget_exceeded", "model_not_found"]),
        ("Budget steps", "step", &["ok", "downgraded", "exhausted"]),
        ("Cost per hour by client", "client", &["alpha", "beta", "small"]),
        ("Spend today against the daily limit", "scope", &["global", "client"]),
        ("Spend today against the daily limit", "client", &["alpha", "small"]),
        ("Budget used", "client", &["beta"]),
        ("Tier mix of all requests", "tier", &["economy", "standard", "premium"]),
        ("Upstream latency by provider cluster", "envoy_cluster_name", &[&failing]),
        ("auto prefix cache", "outcome", &["hit", "miss"]),
        ("Answers that failed", "provider", &[&failing]),
    ];
    let vars = variables(&dash);
    let mut checked = 0;
    let mut failures = Vec::new();
    for p in &panels {
        let title = p["title"].as_str().unwrap_or_default();
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        assert!(!targets.is_empty(), "panel {title} has no query");
        let mut all = Vec::new();
        for t in targets {
            let expr = substitute(t["expr"].as_str().unwrap_or_default(), &vars);
            let series = prom.query(&expr).unwrap_or_else(|e| panic!("panel {title}: {e}"));
            checked += 1;
            let legend = t["legendFormat"].as_str().unwrap_or_default();
            let problem = if series.is_empty() {
                Some("no data".to_string())
            } else if let Some(l) = legend_labels(legend).iter().find(|l| label_values(&series, l).is_empty())
            {
                Some(format!("no series has label {l}"))
            } else if !series.iter().filter_map(prometheus::value).any(|v| v.is_finite() && v > 0.0) {
                Some("no value above zero".to_string())
            } else {
                None
            };
            if let Some(problem) = problem {
                failures.push(format!("{title}: {expr}: {problem}: {series:?}"));
            }
            all.extend(series);
        }
        for (_, label, want) in musts.iter().filter(|(t, _, _)| *t == title) {
            let got = label_values(&all, label);
            for w in *want {
                if !got.contains(*w) {
                    failures.push(format!("{title}: no {label}={w} among {got:?}"));
                }
            }
        }
    }
    for (title, _, _) in musts {
        assert!(panels.iter().any(|p| p["title"] == *title), "no panel {title}");
    }
    // The failing provider's breaker shows open (1).
    let breaker = panels
        .iter()
        .find(|p| p["title"] == "Breaker state by provider")
        .and_then(|p| p["targets"][0]["expr"].as_str())
        .unwrap_or_else(|| panic!("no breaker panel"));
    let series = prom.query(&substitute(breaker, &vars)).unwrap_or_else(|e| panic!("{e}"));
    let open =
        series.iter().find(|s| s["metric"]["provider"] == failing.as_str()).and_then(prometheus::value);
    if open != Some(1.0) {
        failures.push(format!("breaker of {failing}: {open:?} in {series:?}"));
    }
    // The variables' own queries (`label_values(metric, label)`) find their label.
    for v in dash["templating"]["list"].as_array().into_iter().flatten().filter(|v| v["type"] == "query") {
        let def = v["definition"].as_str().unwrap_or_default();
        let inner = def.strip_prefix("label_values(").and_then(|d| d.strip_suffix(')'));
        let (metric, label) = inner.and_then(|i| i.split_once(',')).unwrap_or_else(|| panic!("{def}"));
        let series = prom.query(metric.trim()).unwrap_or_else(|e| panic!("{e}"));
        if label_values(&series, label.trim()).is_empty() {
            failures.push(format!("variable {}: {def} finds nothing", v["name"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} queries or checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{checked} panel queries checked in {:?} (whole test)", started.elapsed());
}
