//! Every plugin configuration shipped in `envoy/` and `deploy/` is read by the filter's own
//! configuration code, and every Kubernetes manifest in `deploy/` is validated against its
//! platform's CRD schemas, so examples cannot rot.

use std::fs;
use std::path::Path;

use model_router_scorer::Config;
use model_router_tests::envoy::{envoy_bin, repo_root, wasm_path};

/// The JSON configurations in a manifest: the line after a `# model-router-config` marker
/// (`pluginConfig: {...}` / `config: {...}`), and Envoy's `value: '{...}'` plugin strings.
fn configs(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "# model-router-config" {
            let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
            let json = next.split_once(": ").map(|(_, v)| v).unwrap_or_default();
            out.push(json.to_string());
        } else if let Some(v) = t.strip_prefix("value: '").and_then(|v| v.strip_suffix('\'')) {
            out.push(v.replace("''", "'"));
        }
    }
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn shipped_plugin_configurations_parse() {
    let mut files = Vec::new();
    yaml_files(&repo_root().join("deploy"), &mut files);
    yaml_files(&repo_root().join("envoy"), &mut files);
    let mut checked = 0;
    for f in &files {
        let text = fs::read_to_string(f).expect("read");
        for cfg in configs(&text) {
            let config = Config::from_json(cfg.as_bytes())
                .unwrap_or_else(|e| panic!("{}: configuration rejected: {e}\n{cfg}", f.display()));
            // Every provider of the catalog has a cluster named in the manifest's config.
            assert!(!config.catalog.providers.is_empty());
            checked += 1;
        }
    }
    // demo.yaml, providers.yaml, the Istio WasmPlugin and the Envoy Gateway policy.
    assert!(checked >= 4, "only {checked} configurations found");
}

#[test]
fn platform_manifests_name_a_cluster_for_every_provider() {
    for (file, prefix) in [
        ("deploy/istio/wasmplugin.yaml", "outbound|443||"),
        ("deploy/envoy-gateway/extension-policy.yaml", "model-router-"),
    ] {
        let text = fs::read_to_string(repo_root().join(file)).expect("read");
        let cfg = configs(&text).pop().expect("config");
        let config = Config::from_json(cfg.as_bytes()).expect("config");
        for p in &config.catalog.providers {
            assert!(p.cluster.starts_with(prefix), "{file}: {} -> {}", p.name, p.cluster);
        }
    }
}

/// `tests/manifests/validate.mjs` with the Istio and Envoy Gateway CRD schemas that `make test`
/// installs from npm into `build/k8s-models`; then Envoy itself validates the configuration the
/// manifests' patches carry (clusters, routes, wasm settings).
#[test]
fn platform_manifests_match_their_crd_schemas_and_their_patches_are_valid_envoy_config() {
    let root = repo_root();
    let bootstrap = std::env::temp_dir().join(format!("model-router-patches-{}.json", std::process::id()));
    let out = std::process::Command::new("node")
        .arg(root.join("tests/manifests/validate.mjs"))
        .arg(root.join("build/k8s-models/node_modules"))
        .arg(root.join("deploy"))
        .arg(&bootstrap)
        .arg(wasm_path())
        .output()
        .expect("node runs (make test installs the schemas)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let n: usize = text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(n >= 20, "{text}");

    let patched = fs::read_to_string(&bootstrap).expect("bootstrap written");
    assert!(patched.matches("\"cluster_header\"").count() >= 2, "both platforms' routes: {patched}");
    assert!(patched.contains("allow_on_headers_stop_iteration"), "{patched}");
    let out = std::process::Command::new(envoy_bin())
        .args(["--mode", "validate", "--log-level", "warn", "-c"])
        .arg(&bootstrap)
        .output()
        .expect("envoy runs");
    let _ = fs::remove_file(&bootstrap);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
