//! `model: "auto"` through the real Envoy: tiers, stickiness across turns, and agreement with
//! the `model-router-auto` CLI.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use model_router_tests::envoy::Stack;
use model_router_tests::http;
use model_router_tests::mock::native::requested_model;
use serde_json::Value;

const CHAT: &str = "/v1/chat/completions";

fn golden() -> Vec<Value> {
    let doc: Value =
        serde_json::from_str(include_str!("../../testdata/auto/golden.json")).expect("golden.json");
    doc["cases"].as_array().cloned().expect("cases")
}

fn case(name: &str) -> Value {
    golden().into_iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no case {name}"))
}

fn tier_of(model: &str) -> &'static str {
    let doc: Value = serde_json::from_str(model_router_scorer::catalog::BUILTIN_CATALOG).expect("catalog");
    let tier = doc["models"]
        .as_array()
        .expect("models")
        .iter()
        // The mock sees the provider's id; the catalog knows it as `upstream_id` or `id`.
        .find(|m| m["id"] == model || m["upstream_id"] == model)
        .map(|m| m["tier"].clone());
    match tier.as_ref().and_then(Value::as_str) {
        Some("economy") => "economy",
        Some("standard") => "standard",
        Some("premium") => "premium",
        _ => panic!("{model} is not in the catalog"),
    }
}

#[test]
fn auto_picks_different_tiers_for_a_greeting_a_refactoring_and_a_proof() {
    let s = Stack::start(None).expect("stack");
    let mut tiers = Vec::new();
    for name in ["greeting", "refactoring with tools and code", "long multi-step proof"] {
        let c = case(name);
        let r = http::post_json(s.envoy.addr, CHAT, &c["request"].to_string()).expect("request");
        assert_eq!(r.status, 200, "{name}: {}", r.text());
        let got = s.take_received();
        assert_eq!(got.len(), 1);
        // What the provider received is a model of the expected tier (in the body, or in
        // the path for Converse).
        let model = requested_model(&got[0]).unwrap_or_default();
        assert_eq!(tier_of(&model), c["expect_tier"], "{name}: {model}");
        assert_eq!(r.header("x-model-router-auto-tier"), c["expect_tier"].as_str());
        assert_eq!(r.header("x-model-router-selection"), Some("auto"));
        let score: f64 = r.header("x-model-router-auto-score").and_then(|v| v.parse().ok()).expect("score");
        assert!((0.0..=1.0).contains(&score));
        assert_eq!(
            r.header("x-model-router-auto-score").map(|v| v.split('.').nth(1).map(str::len)),
            Some(Some(3))
        );
        tiers.push(tier_of(&model));
    }
    assert_ne!(tiers[0], tiers[1]);
    assert_ne!(tiers[0], tiers[2]);
    // The refactoring conversation is code: without a prefer, auto ranks by coding signal.
    let r =
        http::post_json(s.envoy.addr, CHAT, &case("refactoring with tools and code")["request"].to_string())
            .expect("request");
    assert_eq!(r.header("x-model-router-prefer"), Some("coding"));
    assert!(r.header("x-model-router-auto-reasons").is_some_and(|v| v.starts_with("code")));
}

#[test]
fn a_later_turn_never_drops_below_an_earlier_one() {
    // Stickiness is per client: the client header names the caller.
    let s = Stack::start(Some(r#"{"client_header":"x-client-id"}"#)).expect("stack");
    let post = |body: &str| {
        http::request(
            s.envoy.addr,
            "POST",
            CHAT,
            &[("content-type", "application/json"), ("x-client-id", "team-a")],
            body.as_bytes(),
        )
        .expect("request")
    };
    let ask = "What would be the long-term consequences for monetary policy, bank solvency and public debt \
               markets if a large eurozone member left the currency union during a recession?";
    // The hard ask comes in turn 2: a first turn is never remembered (it cannot be told from
    // another conversation opening the same way).
    let opening = r#"{"role":"user","content":"hi"},{"role":"assistant","content":"Hello!"}"#;
    let turn2 = format!(r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}}]}}"#);
    let turn3 = format!(
        r#"{{"model":"auto","messages":[{opening},{{"role":"user","content":"{ask}"}},{{"role":"assistant","content":"It depends."}},{{"role":"user","content":"thanks!"}}]}}"#
    );
    // On its own (a different conversation start), the last message is economy material.
    let alone = r#"{"model":"auto","messages":[{"role":"user","content":"thanks!"}]}"#;
    let r = post(alone);
    assert_eq!(r.header("x-model-router-tier"), Some("economy"));

    let r2 = post(&turn2);
    let t2 = r2.header("x-model-router-tier").map(str::to_string).expect("tier");
    assert_eq!(t2, "standard", "{}", r2.text());
    // Several turn-3 requests, each on a new connection (and so possibly another worker).
    for _ in 0..6 {
        let r3 = post(&turn3);
        assert_eq!(r3.status, 200);
        assert_eq!(r3.header("x-model-router-auto-tier"), Some("economy"), "turn 3 scores economy alone");
        assert_eq!(r3.header("x-model-router-tier"), Some(t2.as_str()), "turn 3 dropped below turn 2");
        assert_eq!(r3.header("x-model-router-auto-sticky"), Some("true"));
    }
    let received = s.take_received();
    let last = received.last().expect("received");
    assert_eq!(tier_of(&requested_model(last).unwrap_or_default()), "standard");
}

/// The CLI binary built next to this test (`cargo build --workspace --bins` in `make test`).
fn cli_path() -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let cli = dir.join("model-router-auto");
    assert!(cli.exists(), "{} missing: run `cargo build --workspace --bins`", cli.display());
    cli
}

/// Runs the CLI with `args` over the golden requests; one JSON value per case.
fn run_cli(args: &[&str]) -> Vec<Value> {
    let cases = golden();
    let mut input = String::new();
    for c in &cases {
        let mut req = c["request"].clone();
        req["id"] = c["name"].clone();
        input.push_str(&req.to_string());
        input.push('\n');
    }
    let mut child = Command::new(cli_path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cli");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("cli output");
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), cases.len());
    lines
}

/// What `--features` prints is what the score is made of: the base plus the contributions,
/// squashed and rounded, is the CLI's score for every golden case (a trainer reading them
/// trains on the scorer's own arithmetic), and the n-gram buckets are sorted, distinct and in range.
#[test]
fn the_cli_features_add_up_to_its_score() {
    let decided = run_cli(&[]);
    let features = run_cli(&["--features", "12"]);
    for (d, f) in decided.iter().zip(&features) {
        assert_eq!(d["id"], f["id"]);
        let parts = f["parts"].as_array().expect("parts");
        let sum = f["base"].as_f64().expect("base")
            + parts.iter().map(|p| p[1].as_f64().expect("value")).sum::<f64>();
        let score = (model_router_scorer::auto::squash(sum) * 1000.0).round() / 1000.0;
        assert_eq!(Some(score), d["score"].as_f64(), "{}: {parts:?}", d["id"]);
        let grams: Vec<u64> =
            f["ngrams"].as_array().expect("ngrams").iter().filter_map(Value::as_u64).collect();
        assert!(grams.windows(2).all(|w| w[0] < w[1]) && grams.iter().all(|&g| g < 4096), "{}", d["id"]);
    }
    assert!(features.iter().any(|f| f["ngrams"].as_array().is_some_and(|g| !g.is_empty())));
}

#[test]
fn the_cli_and_the_filter_decide_the_same() {
    let cases = golden();
    let lines = run_cli(&[]);

    let s = Stack::start(None).expect("stack");
    for (c, cli) in cases.iter().zip(&lines) {
        assert_eq!(cli["id"], c["name"]);
        let mut req = c["request"].clone();
        req["id"] = c["name"].clone();
        let r = http::post_json(s.envoy.addr, CHAT, &req.to_string()).expect("request");
        assert_eq!(r.status, 200, "{}: {}", c["name"], r.text());
        let reasons: Vec<&str> =
            cli["reasons"].as_array().expect("reasons").iter().filter_map(Value::as_str).collect();
        assert_eq!(r.header("x-model-router-auto-tier"), cli["tier"].as_str(), "{}", c["name"]);
        assert_eq!(
            r.header("x-model-router-auto-score").and_then(|v| v.parse::<f64>().ok()),
            cli["score"].as_f64(),
            "{}",
            c["name"]
        );
        assert_eq!(
            r.header("x-model-router-auto-reasons"),
            Some(reasons.join(",").as_str()),
            "{}",
            c["name"]
        );
        assert_eq!(r.header("x-model-router-model"), cli["model"].as_str(), "{}", c["name"]);
        let got = s.take_received();
        assert_eq!(got[0].provider, cli["provider"].as_str().unwrap_or_default());
    }
}

/// The calibration data (`../shared/eval`, or `$MODEL_ROUTER_EVAL`): the CLI scores every row
/// and the data's own `evaluate.py` compares it with the length baseline. Skipped, saying so,
/// where the data is not beside the repository (it is not ours to vendor).
#[test]
fn on_the_calibration_set_auto_beats_the_length_baseline_on_every_labelled_source() {
    // cargo runs tests in the package's directory (`tests/`): the data sits beside the repository.
    let beside = std::env::current_dir().expect("cwd").join("../../shared/eval");
    let eval = std::env::var_os("MODEL_ROUTER_EVAL").map_or(beside, PathBuf::from);
    let rows = eval.join("calibration.jsonl");
    if !rows.exists() {
        eprintln!("SKIPPED: no calibration data at {} (set MODEL_ROUTER_EVAL)", rows.display());
        return;
    }
    let data = std::fs::read_to_string(&rows).expect("calibration rows");
    let input: String = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("row")["request"].to_string() + "\n")
        .collect();
    let mut child =
        Command::new(cli_path()).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("cli");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("cli output");
    feeder.join().expect("feeder").expect("write");
    assert!(out.status.success());
    let dir = std::env::temp_dir().join(format!("model-router-calibration-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (pred, report) = (dir.join("pred.jsonl"), dir.join("report.json"));
    std::fs::write(&pred, &out.stdout).expect("predictions");
    let status = Command::new("python3")
        .arg(eval.join("evaluate.py"))
        .args([&rows, &pred])
        .arg("--json")
        .arg(&report)
        .stdout(Stdio::null())
        .status()
        .expect("python3 evaluate.py");
    assert!(status.success());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let _ = std::fs::remove_dir_all(&dir);

    let groups = doc["groups"].as_array().expect("groups");
    let metric = |name: &str, policy: &str, key: &str| {
        let g = groups.iter().find(|g| g["name"] == name).unwrap_or_else(|| panic!("no group {name}"));
        g["policies"][policy][key].as_f64().unwrap_or_else(|| panic!("{name} {policy} {key}"))
    };
    // Each labelled source by the measure its labels support: APGR where there are quality
    // scores, AUROC where there is `needs_strong`; uncommonroute pooled over its workloads.
    for (group, key) in [
        ("arena_bench_v1/arena", "apgr"),
        ("arena_bench_v1/arena", "auroc"),
        ("routellm/gsm8k", "apgr"),
        ("routellm/gsm8k", "auroc"),
        ("routellm/mmlu", "apgr"),
        ("routellm/mmlu", "auroc"),
        ("uncommonroute/ALL (pooled)", "auroc"),
    ] {
        let (ours, length) = (metric(group, "predictor", key), metric(group, "length", key));
        assert!(ours > length, "{group} {key}: ours {ours:.3} vs length {length:.3}");
    }
}
