//! The official OpenAI SDKs (Python and Node), and Anthropic's Python SDK, as clients of the
//! router in the real Envoy. `make test` installs them (`openai` and `anthropic` from PyPI into
//! `.venv`, `openai` from npm into `build/sdk-node`).

use std::path::PathBuf;
use std::process::Command;

use model_router_scorer::catalog::Api;
use model_router_tests::catalog::live_model;
use model_router_tests::envoy::{Stack, repo_root};

fn run(program: PathBuf, args: &[PathBuf], env: &[(&str, String)]) {
    let out = Command::new(&program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} {:?} failed:\n{text}", program.display(), args);
    assert!(text.contains("all checks passed"), "{text}");
}

/// A Python SDK's script in `tests/sdk` against the router in Envoy, its base URL the router's
/// address and `path`.
fn python_sdk(script: &str, path: &str) {
    let s = Stack::start(None).expect("stack");
    let python = repo_root().join(".venv/bin/python");
    let script = repo_root().join("tests/sdk").join(script);
    run(python, &[script], &env(&s, path));
}

/// The scripts' environment: `BASE_URL`, the router's address and `path`; `RESPONSES_MODEL`,
/// today's model reached through the Responses API.
fn env(s: &Stack, path: &str) -> [(&'static str, String); 2] {
    [("BASE_URL", format!("http://{}{path}", s.envoy.addr)), ("RESPONSES_MODEL", live_model(Api::Responses))]
}

#[test]
fn the_official_python_sdk_works_unchanged() {
    python_sdk("test_openai_python.py", "/v1");
}

#[test]
fn anthropics_python_sdk_works_unchanged_against_the_messages_api() {
    python_sdk("test_anthropic_python.py", "");
}

#[test]
fn the_official_node_sdk_works_unchanged() {
    let s = Stack::start(None).expect("stack");
    let script = repo_root().join("tests/sdk/test_openai_node.mjs");
    let modules = repo_root().join("build/sdk-node/node_modules");
    // ES modules resolve packages from the script's ancestors, so link node_modules beside it.
    let link = repo_root().join("tests/sdk/node_modules");
    if !link.exists() {
        std::os::unix::fs::symlink(&modules, &link).expect("link node_modules");
    }
    run(PathBuf::from("node"), &[script], &env(&s, "/v1"));
}
