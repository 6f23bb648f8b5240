//! The playground decides as the router does: on every golden request of `testdata/`, what it
//! returns equals the `model-router-auto` CLI's decision, the golden routing table, and what
//! the built filter (in the wasmtime host) sends upstream or answers. The browser half of the
//! playground's tests is `playground/tests/browser.test.mjs` (`make playground-test`).

use std::io::Write;
use std::process::{Command, Stdio};

use model_router_playground::decision::{Inputs, decide, setup};
use model_router_playground::examples;
use model_router_tests::envoy::wasm_path;
use model_router_tests::wasm_host::{Outcome, Plugin, header};
use serde_json::Value;

/// The catalog's reference day, as the golden tests use it.
const DATE: &str = "2026-11-22";
const TODAY: u64 = 20_779 * 86_400;

fn golden(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{}/../testdata/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("golden json");
    doc["cases"].as_array().cloned().expect("cases")
}

/// Every request the golden files hold: the auto cases, then the routing table's.
fn golden_requests() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = golden("auto/golden.json")
        .iter()
        .map(|c| (c["name"].to_string(), c["request"].to_string()))
        .collect();
    for c in golden("routing/builtin_catalog.json") {
        let body = examples::routing_request(c["model"].as_str().expect("model"), c["prefer"].as_str());
        out.push((format!("{} {}", c["model"], c["prefer"]), body));
    }
    out
}

fn playground(request: &str, config: &str) -> Value {
    decide(&Inputs { request: request.as_bytes(), config: config.as_bytes(), date: DATE, client: "" })
}

/// The CLI binary built next to this test (`cargo build --workspace --bins` in `make test`).
fn cli(lines: &[String], config: Option<&str>) -> Vec<Value> {
    let exe = std::env::current_exe().expect("exe");
    let cli = exe.parent().and_then(|d| d.parent()).expect("target dir").join("model-router-auto");
    assert!(cli.exists(), "{} missing: run `cargo build --workspace --bins`", cli.display());
    let mut cmd = Command::new(cli);
    cmd.args(["--date", DATE]);
    let file = std::env::temp_dir().join(format!("playground-config-{}.json", std::process::id()));
    if let Some(c) = config {
        std::fs::write(&file, c).expect("config file");
        cmd.arg("--config").arg(&file);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("cli");
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("cli output");
    let _ = std::fs::remove_file(&file);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// The CLI's fields, as the playground reports them.
fn as_cli(d: &Value) -> Value {
    if d["status"] != 200 {
        return serde_json::json!({"id": null, "error": d["error"]});
    }
    serde_json::json!({
        "id": null,
        "tier": d["auto"]["tier"],
        "score": d["auto"]["score"],
        "reasons": d["auto"]["reasons"],
        "model": d["model"],
        "provider": d["provider"],
    })
}

#[test]
fn the_playground_decides_as_the_cli_on_every_golden_auto_request() {
    let cases = golden("auto/golden.json");
    let bodies: Vec<String> = cases.iter().map(|c| c["request"].to_string()).collect();
    // The defaults, and a configuration that changes both the tiers and the providers.
    let edited = r#"{"blocked_providers":["google-gemini"],"auto":{"premium_share":0.3,"economy_share":0.3},
        "default_prefer":"cheap","free":["cerebras/gpt-oss-120b"]}"#;
    for config in [None, Some(edited)] {
        let want = cli(&bodies, config);
        assert_eq!(want.len(), cases.len());
        for ((c, body), want) in cases.iter().zip(&bodies).zip(&want) {
            let got = playground(body, config.unwrap_or(""));
            assert_eq!(as_cli(&got), *want, "{} under {config:?}", c["name"]);
            if config.is_none() {
                assert_eq!(got["auto"]["tier"], c["expect_tier"], "{}", c["name"]);
            }
        }
    }
}

#[test]
fn the_playground_routes_the_golden_table() {
    for c in golden("routing/builtin_catalog.json") {
        let body = examples::routing_request(c["model"].as_str().expect("model"), c["prefer"].as_str());
        let d = playground(&body, "");
        assert_eq!(d["status"], 200, "{c}: {d}");
        let got = [
            &d["model"],
            &d["provider"],
            &d["upstream"]["upstream_model"],
            &d["upstream"]["path"],
            &d["selection"],
        ];
        let want = [
            &c["expect_model"],
            &c["expect_provider"],
            &c["expect_upstream_id"],
            &c["expect_path"],
            &c["expect_selection"],
        ];
        assert_eq!(got, want, "{c}");
        // Every candidate ranking starts where the route went, for the prefer it used.
        let used = d["ranked"]
            .as_array()
            .expect("ranked")
            .iter()
            .find(|r| r["prefer"] == d["prefer"])
            .expect("used");
        assert_eq!(used["candidates"][0]["model"], d["model"], "{c}");
        assert_eq!(used["candidates"][0]["provider"], d["provider"], "{c}");
    }
}

/// What the filter does with a body at the reference day: forwarded (headers, body) or
/// answered (status, body).
fn filter(p: &mut Plugin, body: &str) -> Outcome {
    let len = body.len().to_string();
    let headers = [
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        (":authority", "router"),
        ("content-type", "application/json"),
        ("content-length", len.as_str()),
    ];
    let (_, out) = p.request(&headers, &[body.as_bytes()]).unwrap_or_else(|e| panic!("{e}"));
    out
}

#[test]
fn the_playground_shows_what_the_filter_sends_and_answers() {
    let (config, _) = setup(b"", DATE).expect("defaults");
    // A key for every provider, so the credential header is compared too.
    let keys: Vec<(String, String)> = config
        .catalog
        .providers
        .iter()
        .filter_map(|p| p.auth.as_ref())
        .map(|a| (a.env.clone(), format!("key-{}", a.env)))
        .collect();
    let env: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut p = Plugin::load_with_env(&wasm_path(), "{}", &env).unwrap_or_else(|e| panic!("load: {e}"));
    p.set_now_secs(TODAY);
    for (name, body) in golden_requests() {
        let d = playground(&body, "{}");
        let Outcome::Forwarded { headers, body: sent } = filter(&mut p, &body) else {
            panic!("{name}: the filter did not forward it");
        };
        assert_eq!(d["upstream"]["body"].as_str(), Some(String::from_utf8_lossy(&sent).as_ref()), "{name}");
        for pair in d["upstream"]["headers"].as_array().expect("headers") {
            let (k, v) = (pair[0].as_str().expect("name"), pair[1].as_str().expect("value"));
            let v = keys.iter().fold(v.to_string(), |v, (env, key)| v.replace(&format!("${{{env}}}"), key));
            assert_eq!(header(&headers, k), Some(v.as_str()), "{name}: {k}");
        }
    }
    let refused = [
        "{\"model\":",
        r#"{"model":"auto"}"#,
        r#"{"model":"auto","prefer":"cheapest","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"gpt-0","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"llama3.1-8b","messages":[{"role":"user","content":"hi"}]}"#,
        r#"{"model":"economy","messages":[{"role":"user","content":"hi"}],"provider":{"only":["nope"]}}"#,
        r#"{"model":"premium","messages":[{"role":"user","content":"hi"}],"max_price":{"prompt":0.01}}"#,
    ];
    for body in refused {
        let d = playground(body, "{}");
        let Outcome::Local(reply) = filter(&mut p, body) else { panic!("{body}: the filter forwarded it") };
        assert_eq!(d["status"], reply.status, "{body}");
        assert_eq!(d["body"].as_str(), Some(String::from_utf8_lossy(&reply.body).as_ref()), "{body}");
    }
}

#[test]
fn every_example_is_decided_and_the_refused_ones_are_refused() {
    let all = examples::all();
    assert_eq!(all.len(), golden_requests().len() + 3);
    for e in &all {
        let d = playground(&e.request, "");
        assert_eq!(d["status"] == 200, e.group != "refused", "{}: {d}", e.name);
        assert!(d.get("config_error").is_none());
    }
    let bad =
        decide(&Inputs { request: b"{}", config: br#"{"default_prefer":"x"}"#, date: DATE, client: "" });
    assert!(
        bad["config_error"].as_str().is_some_and(|e| e.starts_with("configuration rejected: default_prefer"))
    );
    let bad = decide(&Inputs { request: b"{}", config: b"", date: "22/11/2026", client: "" });
    assert!(bad["config_error"].as_str().is_some_and(|e| e.contains("use YYYY-MM-DD")), "{bad}");
}

#[test]
fn a_client_policy_applies_to_its_client_only() {
    let config = r#"{"client_header":"x-client","clients":{"team-a":{"only_providers":["openai"]}}}"#;
    let body = r#"{"model":"standard","messages":[{"role":"user","content":"hi"}]}"#;
    let run =
        |client| decide(&Inputs { request: body.as_bytes(), config: config.as_bytes(), date: DATE, client });
    assert_eq!(run("team-a")["provider"], "openai");
    // Without a client header configured the filter knows no client, and neither does the page.
    let unnamed = config.replace(r#""client_header":"x-client","#, "");
    let d = decide(&Inputs {
        request: body.as_bytes(),
        config: unnamed.as_bytes(),
        date: DATE,
        client: "team-a",
    });
    assert_ne!(d["provider"], "openai", "{d}");
    let anyone = run("");
    let excluded = anyone["excluded"].as_array().expect("excluded");
    assert!(!excluded.iter().any(|x| x["reason"] == "policy"), "{excluded:?}");
    let team = run("team-a");
    let excluded = team["excluded"].as_array().expect("excluded");
    assert!(excluded.iter().any(|x| x["reason"] == "policy" && x["provider"] == "anthropic"));
    // The catalog view shows where each model's figures come from.
    let view = model_router_playground::catalog::view(b"", DATE);
    let models = view["models"].as_array().expect("models");
    assert!(models.iter().all(|m| m["source"].is_string()), "every built-in model has a source");
}
