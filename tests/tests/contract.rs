//! The contract test: the official OpenAI spec (`../shared/openai-openapi/openapi.yaml`, beside
//! the repository) drives generated requests against the router in the real Envoy, in front of
//! the mock providers, for a bounded time: `scripts/contract.py` (schemathesis from `.venv`,
//! installed by `make sdks`) says what it generates and checks, for `/chat/completions`,
//! `/responses` (each whole and streamed), `/embeddings` and `/models`. No 5xx; every 2xx body,
//! stream chunk or Responses event and 4xx error valid against the spec (a Responses stream's
//! sequence numbers rising from 0, one terminal event, last); spec-valid chat requests not
//! refused as malformed, and spec-valid Responses requests not refused at all but for the
//! listed refusals (what the router stores or runs not: `previous_response_id`, hosted tools,
//! `file_id` parts, ...), which must be 400s naming the member.
//! Skipped, saying so, where the spec is not beside the repository (it is not ours to vendor).

use std::path::PathBuf;
use std::process::Command;

use model_router_tests::envoy::{Stack, repo_root};

/// Seconds of generated requests (`MODEL_ROUTER_CONTRACT_SECONDS` overrides).
const SECONDS: &str = "70";

fn spec() -> PathBuf {
    std::env::var_os("MODEL_ROUTER_OPENAPI")
        .map_or_else(|| repo_root().join("../shared/openai-openapi/openapi.yaml"), PathBuf::from)
}

#[test]
fn generated_requests_from_the_openai_spec_get_answers_the_spec_allows() {
    let spec = spec();
    if !spec.exists() {
        eprintln!("SKIPPED: no OpenAI spec at {} (set MODEL_ROUTER_OPENAPI)", spec.display());
        return;
    }
    let python = repo_root().join(".venv/bin/python");
    let s = Stack::start(None).expect("stack");
    let seconds = std::env::var("MODEL_ROUTER_CONTRACT_SECONDS").unwrap_or_else(|_| SECONDS.to_string());
    let out = Command::new(&python)
        .arg(repo_root().join("scripts/contract.py"))
        .arg("--spec")
        .arg(&spec)
        .args(["--base-url", &format!("http://{}/v1", s.envoy.addr), "--seconds", &seconds])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (make sdks installs it): {e}", python.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    // The filter's own log lines, if any (the VM failing would show there).
    let log = s.envoy.log();
    let vm: Vec<&str> =
        log.lines().filter(|l| l.contains("wasm") && !l.contains("[info]")).take(20).collect();
    assert!(
        out.status.success(),
        "contract checks failed (the requests are listed above)\n{}",
        vm.join("\n")
    );
    assert!(text.contains("contract: all checks passed"), "no closing line from the contract run");
}
