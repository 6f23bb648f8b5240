//! Every plugin configuration shipped in `envoy/` and `deploy/` is read by the filter's own
//! configuration code, and every Kubernetes manifest in `deploy/` is validated against its
//! platform's CRD schemas, so examples cannot rot.

use std::fs;
use std::path::Path;

use model_router_scorer::Config;
use model_router_tests::envoy::{Stack, StackOptions, envoy_bin, repo_root, wasm_path};
use model_router_tests::http;
use serde_json::Value;

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
    // demo.yaml, providers.yaml, the Istio EnvoyFilter and the Envoy Gateway policy.
    assert!(checked >= 4, "only {checked} configurations found");
}

#[test]
fn platform_manifests_name_a_cluster_for_every_provider() {
    for (file, prefix) in [
        ("deploy/istio/filter.yaml", "outbound|443||"),
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

/// Envoy Gateway's `env.hostKeys` lets the router read variables of the Envoy process, which
/// its pods did not have: every key it names is given to the Envoy container, from the Secret.
#[test]
fn envoy_gateway_pods_get_every_key_the_router_reads() {
    let read = |f: &str| fs::read_to_string(repo_root().join("deploy/envoy-gateway").join(f)).expect("read");
    let policy = read("extension-policy.yaml");
    let keys = policy.lines().find_map(|l| l.trim().strip_prefix("hostKeys: [")).expect("hostKeys");
    let keys: Vec<&str> = keys.trim_end_matches(']').split(',').map(str::trim).collect();
    assert!(keys.len() >= 7, "{keys:?}");
    let proxy = read("envoy-proxy.yaml");
    for key in keys {
        let entry =
            format!("- {{name: {key}, valueFrom: {{secretKeyRef: {{name: model-router-keys, key: {key},");
        assert!(proxy.contains(&entry), "{key} is not given to the Envoy container");
    }
}

/// The lines of each Wasm HTTP filter's config in a YAML Envoy config: from its `@type` line
/// to the next line indented no deeper than the filter's `typed_config`.
fn wasm_filter_blocks(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let col = |l: &str| l.len() - l.trim_start().len();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.contains("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm") {
            continue;
        }
        // `"@type"` sits one level below `typed_config`: the block ends at that level or above.
        let level = col(l).saturating_sub(2);
        let block: Vec<&str> =
            lines.iter().skip(i + 1).take_while(|b| b.trim().is_empty() || col(b) > level).copied().collect();
        out.push(block.join("\n"));
    }
    out
}

/// Every Wasm filter the Envoy configs in `envoy/` ship reloads a crashed VM (FAIL_RELOAD):
/// under the default, FAIL_CLOSED, one trap failed every later request on that worker until
/// Envoy restarted, and the budget reservations of the requests in flight stayed held.
#[test]
fn shipped_envoy_configs_reload_a_crashed_vm() {
    let mut files = Vec::new();
    yaml_files(&repo_root().join("envoy"), &mut files);
    let mut checked = 0;
    for f in &files {
        let text = fs::read_to_string(f).expect("read");
        for block in wasm_filter_blocks(&text) {
            assert!(block.contains("allow_on_headers_stop_iteration: true"), "{}: {block}", f.display());
            assert!(
                block.lines().any(|l| l.trim() == "failure_policy: FAIL_RELOAD"),
                "{}: a Wasm filter without failure_policy: FAIL_RELOAD:\n{block}",
                f.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "demo.yaml and providers.yaml: {checked}");
}

/// The listener README.md's "Add it to an existing Envoy" gives operators to copy is valid
/// Envoy configuration (Envoy itself validates it, the filter's module in place of its path)
/// and carries what the router relies on: without `auto_host_rewrite` each provider's front
/// end saw the client's Host, with Envoy's default `stream_idle_timeout` (300 s) a fallback
/// chain was cut after providers had billed it, and with the default 1 MiB buffer held
/// answers failed.
#[test]
fn the_readmes_listener_is_valid_envoy_config_with_what_the_router_needs() {
    let readme = fs::read_to_string(repo_root().join("README.md")).expect("README");
    let section = readme.split("## Add it to an existing Envoy").nth(1).expect("the section");
    let yaml = section.split("```yaml\n").nth(1).and_then(|s| s.split("\n```").next()).expect("its YAML");
    for needed in [
        "allow_on_headers_stop_iteration: true",
        "failure_policy: FAIL_RELOAD",
        "auto_host_rewrite: true",
        "timeout: 0s",
        "stream_idle_timeout: 900s",
        "per_connection_buffer_limit_bytes: 8388608",
        "retry_policy: {num_retries: 0",
        "request_headers_to_remove: [x-model-router-cluster]",
    ] {
        assert!(yaml.lines().any(|l| l.trim_start().starts_with(needed)), "README's listener lacks {needed}");
    }
    let wasm = wasm_path().display().to_string();
    let listener: String =
        yaml.replace("/etc/envoy/model_router.wasm", &wasm).lines().map(|l| format!("  {l}\n")).collect();
    let bootstrap = format!(
        "static_resources:\n  listeners:\n{listener}  clusters:\n  - name: my_openai_cluster\n    \
         load_assignment: {{cluster_name: my_openai_cluster, endpoints: [{{lb_endpoints: [{{endpoint: \
         {{address: {{socket_address: {{address: 127.0.0.1, port_value: 9}}}}}}}}]}}]}}\n"
    );
    let file = std::env::temp_dir().join(format!("model-router-readme-{}.yaml", std::process::id()));
    fs::write(&file, &bootstrap).expect("written");
    let run = std::process::Command::new(envoy_bin())
        .args(["--mode", "validate", "--log-level", "warn", "-c"])
        .arg(&file)
        .output()
        .expect("envoy runs");
    let _ = fs::remove_file(&file);
    assert!(run.status.success(), "{}\n{bootstrap}", String::from_utf8_lossy(&run.stderr));
}

/// What `tests/manifests/validate.mjs` found and assembled: the manifests as JSON, the reference
/// `envoy/providers.yaml` as JSON, and each platform's Envoy bootstrap as the manifests make it
/// (its listener and clusters, its stats_config with the manifests' merged in), which Envoy has
/// validated.
struct Patched {
    docs: Vec<Value>,
    envoy: Value,
    istio: Value,
    envoy_gateway: Value,
}

impl Patched {
    /// Each platform's bootstrap, with the name of the listener the manifests patch on it.
    fn platforms(&self) -> [(&'static str, &Value); 2] {
        [("istio", &self.istio), ("llm/llm/http", &self.envoy_gateway)]
    }
}

/// `tests/manifests/validate.mjs` with the Istio and Envoy Gateway CRD schemas that `make test`
/// installs from npm into `build/k8s-models`; then Envoy itself validates the configuration the
/// manifests carry (clusters, routes, wasm settings, connection manager settings, stats_config).
/// Once for all the tests here: it takes seconds.
fn patched() -> &'static Patched {
    static PATCHED: std::sync::OnceLock<Patched> = std::sync::OnceLock::new();
    PATCHED.get_or_init(assemble)
}

fn assemble() -> Patched {
    let root = repo_root();
    let out = std::env::temp_dir().join(format!("model-router-patches-{}", std::process::id()));
    let file = |suffix: &str| {
        let mut f = out.clone().into_os_string();
        f.push(suffix);
        std::path::PathBuf::from(f)
    };
    let run = std::process::Command::new("node")
        .arg(root.join("tests/manifests/validate.mjs"))
        .arg(root.join("build/k8s-models/node_modules"))
        .arg(root.join("deploy"))
        .arg(&out)
        .arg(wasm_path())
        .arg(root.join("envoy/providers.yaml"))
        .output()
        .expect("node runs (make test installs the schemas)");
    let text = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{text}");
    let n: usize = text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(n >= 20, "{text}");

    let read = |p: &Path| -> Value {
        let v = serde_json::from_slice(&fs::read(p).expect("written")).expect("json");
        let _ = fs::remove_file(p);
        v
    };
    let validated = |suffix: &str| -> Value {
        let bootstrap = file(suffix);
        let run = std::process::Command::new(envoy_bin())
            .args(["--mode", "validate", "--log-level", "warn", "-c"])
            .arg(&bootstrap)
            .output()
            .expect("envoy runs");
        assert!(run.status.success(), "{suffix}: {}", String::from_utf8_lossy(&run.stderr));
        read(&bootstrap)
    };
    let istio = validated(".istio.json");
    let envoy_gateway = validated(".envoy-gateway.json");
    let extra = read(&file(".docs.json"));
    Patched {
        docs: extra["docs"].as_array().cloned().unwrap_or_default(),
        envoy: extra["envoy"].clone(),
        istio,
        envoy_gateway,
    }
}

/// The HTTP connection manager of a listener (by name) in a bootstrap.
fn hcm<'a>(bootstrap: &'a Value, listener: &str) -> &'a Value {
    let listeners = bootstrap["static_resources"]["listeners"].as_array().expect("listeners");
    let l =
        listeners.iter().find(|l| l["name"] == listener).unwrap_or_else(|| panic!("no listener {listener}"));
    let chain = if l["default_filter_chain"].is_object() {
        &l["default_filter_chain"]
    } else {
        &l["filter_chains"][0]
    };
    let filters = chain["filters"].as_array().expect("filters");
    let f =
        filters.iter().find(|f| f["name"] == "envoy.filters.network.http_connection_manager").expect("hcm");
    &f["typed_config"]
}

fn seconds(d: &Value) -> f64 {
    d.as_str().and_then(|s| s.strip_suffix('s')).and_then(|s| s.parse().ok()).unwrap_or(0.0)
}

#[test]
fn platform_manifests_match_their_crd_schemas_and_their_patches_are_valid_envoy_config() {
    let p = patched();
    for (platform, bootstrap) in p.platforms() {
        let text = bootstrap.to_string();
        assert!(text.contains("\"cluster_header\""), "{platform}'s routes: {text}");
    }
    assert!(!p.docs.is_empty() && p.envoy.is_object());
}

/// Istio: the filter reaches the gateway with `allow_on_headers_stop_iteration` (without it
/// every chat request hangs) as a whole Wasm config an EnvoyFilter ADDs as an extension config
/// (Istio applies no other operation to one, and its WasmPlugin API cannot set the field),
/// named by an HTTP filter inserted before the router; its code is the OCI image istio-agent
/// pulls, its keys come from the gateway's environment, and a crashed VM is reloaded.
#[test]
fn istio_delivers_the_whole_wasm_filter_with_allow_on_headers_stop_iteration() {
    let p = patched();
    let filters = hcm(&p.istio, "istio")["http_filters"].as_array().expect("filters").clone();
    let names: Vec<&str> = filters.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(names.last(), Some(&"envoy.filters.http.router"), "{names:?}");
    let wasm: Vec<&Value> = filters
        .iter()
        .filter(|f| {
            f["typed_config"]["@type"] == "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
        })
        .collect();
    let [wasm] = wasm[..] else { panic!("one Wasm filter on the Istio gateway: {names:?}") };
    let config = &wasm["typed_config"]["config"];
    assert_eq!(config["allow_on_headers_stop_iteration"], true, "{config}");
    assert_eq!(config["failure_policy"], "FAIL_RELOAD", "{config}");
    assert_eq!(config["root_id"], "model_router", "{config}");
    let keys = &config["vm_config"]["environment_variables"]["host_env_keys"];
    assert!(keys.as_array().is_some_and(|k| k.iter().any(|k| k == "OPENAI_API_KEY")), "{config}");
    Config::from_json(config["configuration"]["value"].as_str().unwrap_or_default().as_bytes())
        .expect("the plugin configuration");

    // In the manifest: no WasmPlugin (it would add a second copy without the field), and the
    // extension config's code is the OCI image.
    let kinds: Vec<&str> = p.docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert!(!kinds.contains(&"WasmPlugin"), "{kinds:?}");
    let ext = p
        .docs
        .iter()
        .filter(|d| d["kind"] == "EnvoyFilter")
        .flat_map(|d| d["spec"]["configPatches"].as_array().cloned().unwrap_or_default())
        .find(|c| c["applyTo"] == "EXTENSION_CONFIG")
        .expect("an EXTENSION_CONFIG patch");
    assert_eq!(ext["patch"]["operation"], "ADD");
    assert_eq!(ext["patch"]["value"]["name"], wasm["name"]);
    let uri =
        &ext["patch"]["value"]["typed_config"]["config"]["vm_config"]["code"]["remote"]["http_uri"]["uri"];
    assert!(uri.as_str().is_some_and(|u| u.starts_with("oci://")), "{uri}");
}

/// Both platforms' gateways get the connection manager settings `envoy/providers.yaml` has and
/// explains: a stream idle timeout above resilience.fallback_timeout_ms (300 s, otherwise a
/// slow fallback races the client's idle timer), a request headers timeout (slowloris), and
/// Envoy's own replies in the OpenAI error shape.
#[test]
fn platform_gateways_have_the_connection_settings_of_providers_yaml() {
    let p = patched();
    let reference = hcm(&p.envoy, "llm");
    assert!(reference["local_reply_config"]["mappers"].is_array(), "{reference}");
    for (platform, bootstrap) in p.platforms() {
        let got = hcm(bootstrap, platform);
        // Above the default chain of fallbacks, (max_attempts - 1) x fallback_timeout_ms.
        assert!(seconds(&got["stream_idle_timeout"]) > 600.0, "{platform}: {}", got["stream_idle_timeout"]);
        assert!(
            seconds(&got["request_headers_timeout"]) > 0.0,
            "{platform}: {}",
            got["request_headers_timeout"]
        );
        assert!(seconds(&reference["request_timeout"]) > 0.0, "{}", reference["request_timeout"]);
        assert_eq!(got["request_timeout"], reference["request_timeout"], "{platform}");
        assert_eq!(got["local_reply_config"], reference["local_reply_config"], "{platform}");
    }
}

/// `envoy/providers.yaml` is what operators copy to the edge: it bounds what clients can make
/// it hold (bodies are buffered whole for routing; found attacking the demo: 40 slow 8 MB
/// uploads took 300 MB, growing linearly) and trusts no client's word about itself. Envoy's
/// defaults are neither: no heap bound, 2^31 - 1 streams per HTTP/2 connection, a client's
/// `x-forwarded-for` and `x-request-id` kept.
#[test]
fn the_production_config_bounds_what_clients_hold_and_trusts_none_of_their_words() {
    let p = patched();
    let overload = &p.envoy["overload_manager"];
    let action = |name: &str| {
        overload["actions"].as_array().into_iter().flatten().any(|a| {
            a["name"] == name
                && a["triggers"][0]["name"] == "envoy.resource_monitors.fixed_heap"
                && a["triggers"][0]["threshold"]["value"].as_f64().is_some_and(|v| v > 0.5 && v < 1.0)
        })
    };
    assert!(action("envoy.overload_actions.stop_accepting_requests"), "{overload}");
    let monitors: Vec<&str> = overload["resource_monitors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(monitors.contains(&"envoy.resource_monitors.global_downstream_max_connections"), "{monitors:?}");
    let llm = hcm(&p.envoy, "llm");
    assert_eq!(llm["use_remote_address"], true, "{llm}");
    let streams = llm["http2_protocol_options"]["max_concurrent_streams"].as_u64();
    assert!(streams.is_some_and(|n| n <= 1000), "{streams:?}");
    // The overload manager's 503 reaches clients in the OpenAI error shape, as Envoy's others.
    let mappers = llm["local_reply_config"]["mappers"].as_array().cloned().unwrap_or_default();
    let overloaded = mappers.iter().find(|m| {
        m["filter"]["response_flag_filter"]["flags"].as_array().is_some_and(|f| f.iter().any(|x| x == "OM"))
    });
    let code = overloaded.map(|m| m["body_format_override"]["json_format"]["error"]["code"].clone());
    assert_eq!(code, Some(Value::from("overloaded")), "{mappers:?}");
}

/// The provider clusters Envoy Gateway gets resolve IPv4 first, as `envoy/providers.yaml`'s
/// do: Envoy's default asks for AAAA first, and a node without IPv6 egress failed to connect.
#[test]
fn envoy_gateway_provider_clusters_resolve_as_providers_yaml_does() {
    let p = patched();
    let clusters = |v: &Value| v["static_resources"]["clusters"].as_array().cloned().unwrap_or_default();
    let family = |c: &Value| c["dns_lookup_family"].as_str().unwrap_or("(default)").to_string();
    let reference: Vec<String> =
        clusters(&p.envoy).iter().filter(|c| c["type"] == "LOGICAL_DNS").map(family).collect();
    assert!(!reference.is_empty() && reference.iter().all(|f| f == "V4_PREFERRED"), "{reference:?}");
    let eg: Vec<Value> = clusters(&p.envoy_gateway)
        .into_iter()
        .filter(|c| c["name"].as_str().is_some_and(|n| n.starts_with("model-router-")))
        .collect();
    assert!(eg.len() >= 8, "{} clusters", eg.len());
    for c in &eg {
        assert_eq!(family(c), "V4_PREFERRED", "{}", c["name"]);
    }
}

/// Both platforms' gateways label the router's metrics and bucket `auto_score` as
/// `envoy/providers.yaml` does: its stats_tags and histogram_bucket_settings, merged into the
/// bootstrap each platform generates (Istio: the ConfigMap a gateway pod names in
/// `sidecar.istio.io/bootstrapOverride`; Envoy Gateway: the EnvoyProxy the Gateway names). The
/// manifests had none: each label value stayed in the metric's name
/// (`model_router_rejected_code_model_not_found`), every router panel of the Grafana dashboard
/// was empty, and `auto_score` fell into Envoy's millisecond buckets.
#[test]
fn platform_gateways_have_the_stats_config_of_providers_yaml() {
    let p = patched();
    let reference = &p.envoy["stats_config"];
    assert!(reference["stats_tags"].as_array().is_some_and(|t| t.len() >= 9), "{reference}");
    for (platform, bootstrap) in p.platforms() {
        let got = &bootstrap["stats_config"];
        assert_eq!(got["stats_tags"], reference["stats_tags"], "{platform}");
        assert_eq!(got["histogram_bucket_settings"], reference["histogram_bucket_settings"], "{platform}");
    }
}

/// `envoy/demo.yaml` carries the stats_config of `envoy/providers.yaml`, to the line: the
/// dashboard test scrapes the demo, and the platforms' manifests are checked against
/// providers.yaml.
#[test]
fn demo_yaml_has_the_stats_config_of_providers_yaml() {
    let block = |file: &str| -> String {
        let text = fs::read_to_string(repo_root().join(file)).expect("read");
        let lines: Vec<&str> = text.lines().skip_while(|l| *l != "stats_config:").collect();
        let end = lines.iter().skip(1).position(|l| !l.is_empty() && !l.starts_with([' ', '#'])).unwrap_or(0);
        lines.get(..=end).unwrap_or_default().join("\n")
    };
    let reference = block("envoy/providers.yaml");
    assert!(reference.contains("histogram_bucket_settings"), "{reference}");
    assert_eq!(block("envoy/demo.yaml"), reference);
}

/// The router's metrics as Prometheus scrapes them from each platform's Envoy, started on the
/// bootstrap the manifests make (Istio's stats inclusion list and no default tags; Envoy
/// Gateway's default tags): a refusal, and an `auto` request whose attempts all fail (no provider
/// is reachable from here), come out labelled as the dashboard queries them, with `auto_score`
/// in providers.yaml's buckets.
#[test]
fn platform_gateways_export_the_router_metrics_as_the_dashboard_reads_them() {
    use model_router_tests::envoy::Envoy;
    use model_router_tests::http;

    let p = patched();
    let buckets: Vec<String> = p.envoy["stats_config"]["histogram_bucket_settings"][0]["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(Value::to_string)
        .collect();
    for (platform, bootstrap) in p.platforms() {
        let config = |listen: u16, admin: u16| {
            let mut config = bootstrap.clone();
            config["admin"] = serde_json::json!({"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}});
            config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] =
                listen.into();
            // The providers' clusters would reach the internet: without them every attempt fails here.
            config["static_resources"]["clusters"] = serde_json::json!([]);
            Ok(config.to_string())
        };
        let envoy = Envoy::start_on_free_ports(config).unwrap_or_else(|e| panic!("{platform}: {e}"));
        for model in ["no-such-model", "auto"] {
            let body = format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello"}}]}}"#);
            let req = format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: llm.example.com\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            http::send_raw(envoy.addr, req.as_bytes()).unwrap_or_else(|e| panic!("{platform}: {e}"));
        }
        // The router counts a request when Envoy logs it, which can follow the answer by a moment.
        let scrape = || envoy.admin_get("/stats/prometheus").expect("scrape");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut text = scrape();
        while !(text.contains("model_router_requests{") && text.contains("model_router_rejected{"))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(100));
            text = scrape();
        }
        let series: Vec<&str> = text.lines().filter(|l| l.starts_with("model_router_")).collect();
        let all = series.join("\n");
        assert!(
            series.iter().any(|l| l.starts_with(r#"model_router_rejected{code="model_not_found"}"#)),
            "{platform}: {all}"
        );
        let labels = ["tier=", "prefer=", "provider=", "model=", "outcome="];
        assert!(
            series.iter().any(|l| l
                .strip_prefix("model_router_requests{")
                .is_some_and(|r| labels.iter().all(|k| r.contains(k)))),
            "{platform}: {all}"
        );
        let le: Vec<String> = series
            .iter()
            .filter_map(|l| l.strip_prefix(r#"model_router_auto_score_bucket{le=""#)?.split_once('"'))
            .map(|(le, _)| le.to_string())
            .filter(|le| le != "+Inf")
            .collect();
        assert_eq!(le, buckets, "{platform}: {all}");
    }
}

/// Envoy Gateway: the EnvoyPatchPolicy selects by name what it patches, so it lands where it
/// must on the listener and routes Envoy Gateway generates even with a JWT filter ahead of the
/// Wasm filter (a SecurityPolicy) and another HTTPRoute's route first on the listener. By
/// position, the Wasm settings went to the JWT filter (the filter hung every request) and the
/// cluster-header route replaced the other app's route (any client could pick any cluster).
#[test]
fn envoy_gateway_patches_select_the_wasm_filter_and_the_llm_routes_by_name() {
    let p = patched();
    let hcm = hcm(&p.envoy_gateway, "llm/llm/http");
    let filters = hcm["http_filters"].as_array().expect("filters");
    let wasm: Vec<&Value> = filters
        .iter()
        .filter(|f| f["name"].as_str().is_some_and(|n| n.starts_with("envoy.filters.http.wasm/")))
        .collect();
    let [wasm] = wasm[..] else { panic!("one Wasm filter: {hcm}") };
    let config = &wasm["typed_config"]["config"];
    assert_eq!(config["allow_on_headers_stop_iteration"], true, "{config}");
    assert_eq!(config["failure_policy"], "FAIL_RELOAD", "{config}");
    for f in filters
        .iter()
        .filter(|f| !f["name"].as_str().is_some_and(|n| n.starts_with("envoy.filters.http.wasm/")))
    {
        assert!(f["typed_config"].get("config").is_none(), "patched the wrong filter: {f}");
    }
    let mut llm = 0;
    for vh in hcm["route_config"]["virtual_hosts"].as_array().expect("virtual hosts") {
        for r in vh["routes"].as_array().expect("routes") {
            let ours = r["name"].as_str().is_some_and(|n| n.starts_with("httproute/llm/llm/"));
            assert_eq!(r["route"]["cluster_header"] == "x-model-router-cluster", ours, "{r}");
            assert_eq!(
                r["request_headers_to_remove"] == serde_json::json!(["x-model-router-cluster"]),
                ours,
                "{r}"
            );
            llm += usize::from(ours);
        }
    }
    assert_eq!(llm, 1);
}

/// Istio: everything model-router puts on a gateway selects the dedicated LLM gateway, never
/// the shared `istio: ingressgateway`, where the filter would route every host's
/// `/v1/chat/completions` (and set provider keys on it); the Gateway and VirtualService serve
/// that gateway. The providers' ServiceEntries and DestinationRules are exported to the
/// gateway's namespace only: mesh-wide, every sidecar took the providers' port 443 for plain
/// HTTP.
#[test]
fn istio_manifests_are_scoped_to_the_llm_gateway() {
    let p = patched();
    let llm = serde_json::json!({"istio": "llm-gateway"});
    let istio = |kind: &str| -> Vec<&Value> {
        p.docs
            .iter()
            .filter(|d| d["kind"] == kind && d["apiVersion"].as_str().is_some_and(|a| a.contains("istio.io")))
            .collect()
    };
    let filters = istio("EnvoyFilter");
    assert!(filters.len() >= 2);
    for f in filters {
        assert_eq!(f["spec"]["workloadSelector"]["labels"], llm, "{}", f["metadata"]["name"]);
    }
    let gateways = istio("Gateway");
    let [gateway] = gateways[..] else { panic!("one Gateway: {}", gateways.len()) };
    assert_eq!(gateway["spec"]["selector"], llm);
    let name = format!(
        "{}/{}",
        gateway["metadata"]["namespace"].as_str().unwrap_or_default(),
        gateway["metadata"]["name"].as_str().unwrap_or_default()
    );
    let providers = [istio("ServiceEntry"), istio("DestinationRule")].concat();
    assert!(providers.len() >= 16, "{}", providers.len());
    for d in providers {
        assert_eq!(
            d["spec"]["exportTo"],
            serde_json::json!(["."]),
            "{} {}",
            d["kind"],
            d["metadata"]["name"]
        );
    }
    for vs in istio("VirtualService") {
        assert_eq!(vs["spec"]["gateways"], serde_json::json!([name]), "{}", vs["metadata"]["name"]);
    }
}

/// Every `client_header` in the plugin configurations a document carries (JSON strings or
/// objects anywhere in it).
fn client_headers(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("client_header") => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                client_headers(&inner, out);
            }
        }
        Value::Object(m) => {
            if let Some(h) = m.get("client_header").and_then(Value::as_str) {
                out.push(h.to_string());
            }
            m.values().for_each(|x| client_headers(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| client_headers(x, out)),
        _ => {}
    }
}

/// Both platforms name their callers as `envoy/providers.yaml` does: a JWT from the same issuer
/// for the same audience, checked against the same JWKS, whose `sub` becomes the header every
/// shipped plugin configuration reads as `client_header`; on Istio an AuthorizationPolicy
/// refuses requests without one (its RequestAuthentication alone lets them through with
/// their own x-client-id).
#[test]
fn every_platform_names_its_callers_as_providers_yaml_does() {
    let p = patched();
    let filters = hcm(&p.envoy, "llm")["http_filters"].as_array().cloned().unwrap_or_default();
    let position = |name: &str| filters.iter().position(|f| f["name"] == name);
    let jwt = position("envoy.filters.http.jwt_authn").and_then(|i| filters.get(i)).expect("jwt_authn");
    assert!(position("envoy.filters.http.jwt_authn") < position("model_router"), "authenticated first");
    let provider = &jwt["typed_config"]["providers"]["clients"];
    assert_eq!(jwt["typed_config"]["rules"][0]["requires"]["provider_name"], "clients", "{jwt}");
    let issuer = provider["issuer"].as_str().expect("issuer");
    let audiences = &provider["audiences"];
    let header = provider["claim_to_headers"][0]["header_name"].as_str().expect("claim_to_headers");
    let claim = &provider["claim_to_headers"][0]["claim_name"];
    assert_eq!(provider["forward"], false, "{provider}");
    let jwks_file = provider["local_jwks"]["filename"].as_str().expect("local_jwks");
    let jwks: Value =
        serde_json::from_slice(&fs::read(repo_root().join(jwks_file)).expect("jwks")).expect("json");
    let parsed =
        |s: &Value| serde_json::from_str::<Value>(s.as_str().unwrap_or_default()).unwrap_or_default();

    let mut headers = Vec::new();
    client_headers(&p.envoy, &mut headers);
    for d in &p.docs {
        client_headers(d, &mut headers);
    }
    assert!(headers.len() >= 3, "{headers:?}");
    assert!(headers.iter().all(|h| h == header), "{headers:?}");

    let doc = |kind: &str| -> &Value {
        let found: Vec<&Value> = p.docs.iter().filter(|d| d["kind"] == kind).collect();
        let [d] = found[..] else { panic!("one {kind}: {}", found.len()) };
        d
    };
    let llm = serde_json::json!({"istio": "llm-gateway"});
    let ra = &doc("RequestAuthentication")["spec"];
    assert_eq!(ra["selector"]["matchLabels"], llm, "{ra}");
    let rule = &ra["jwtRules"][0];
    assert_eq!(rule["issuer"], issuer, "{rule}");
    assert_eq!(&rule["audiences"], audiences, "{rule}");
    assert_eq!(
        rule["outputClaimToHeaders"],
        serde_json::json!([{"header": header, "claim": claim}]),
        "{rule}"
    );
    assert_eq!(parsed(&rule["jwks"]), jwks, "{rule}");
    let ap = &doc("AuthorizationPolicy")["spec"];
    assert_eq!(ap["selector"]["matchLabels"], llm, "{ap}");
    assert_eq!(ap["action"], "ALLOW", "{ap}");
    let principals = serde_json::json!([format!("{issuer}/*")]);
    let rule = &ap["rules"][0];
    assert_eq!(rule["from"], serde_json::json!([{"source": {"requestPrincipals": principals}}]), "{ap}");
    // A token without the claim names no client: refused, not let past every client's limit.
    let claim_name = claim.as_str().unwrap_or_default();
    let when = serde_json::json!([{"key": format!("request.auth.claims[{claim_name}]"), "values": ["*"]}]);
    assert_eq!(rule["when"], when, "{ap}");

    let sp = &doc("SecurityPolicy")["spec"];
    assert_eq!(sp["targetRefs"], doc("EnvoyExtensionPolicy")["spec"]["targetRefs"], "{sp}");
    let eg = &sp["jwt"]["providers"][0];
    assert_eq!(eg["issuer"], issuer, "{eg}");
    assert_eq!(&eg["audiences"], audiences, "{eg}");
    assert_eq!(eg["claimToHeaders"], serde_json::json!([{"header": header, "claim": claim}]), "{eg}");
    let map = &eg["localJWKS"]["valueRef"];
    assert_eq!(map["kind"], "ConfigMap", "{eg}");
    let maps: Vec<&Value> =
        p.docs.iter().filter(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == map["name"]).collect();
    let [map] = maps[..] else { panic!("the JWKS ConfigMap: {}", maps.len()) };
    assert_eq!(map["metadata"]["namespace"], doc("SecurityPolicy")["metadata"]["namespace"]);
    assert_eq!(parsed(&map["data"]["jwks"]), jwks, "{map}");
}

/// An HTTP filter of the shipped `envoy/providers.yaml` (its YAML block without comments,
/// re-indented to `indent`), so a test runs exactly what ships.
fn shipped_filter(name: &str, indent: usize) -> String {
    let text = fs::read_to_string(repo_root().join("envoy/providers.yaml")).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("providers.yaml has no filter {name}"));
    let col = |l: &str| l.len() - l.trim_start().len();
    let base = col(lines.get(start).copied().unwrap_or_default());
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate().skip(start) {
        if i > start && !l.trim().is_empty() && col(l) <= base {
            break;
        }
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        out.push_str(&format!("{}{}\n", " ".repeat(indent), l.get(base..).unwrap_or_default()));
    }
    out
}

/// The shipped signing filter with inline test credentials added: the test signs with exactly
/// what ships.
fn shipped_signing_filter(indent: usize) -> String {
    let mut out = shipped_filter("envoy.filters.http.aws_request_signing", indent);
    let field = " ".repeat(indent + 4);
    out.push_str(&format!(
        "{field}credential_provider:\n{field}  inline_credential:\n{field}    access_key_id: AKIDEXAMPLE\n{field}    secret_access_key: {SECRET}\n"
    ));
    out
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const BEDROCK_HOST: &str = "bedrock-runtime.us-east-1.amazonaws.com";

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use model_router_tests::mock::native::sha256::digest;
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let mut inner = pad(0x36);
    inner.extend_from_slice(msg);
    let mut outer = pad(0x5c);
    outer.extend_from_slice(&digest(&inner));
    digest(&outer)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether the request's SigV4 signature is right for the headers it arrived with (the
/// canonical request AWS recomputes from what it received); the error says what was signed.
fn sigv4_valid(head: &model_router_tests::http::Head) -> Result<(), String> {
    let auth = head.header("authorization").ok_or("no authorization")?;
    let part = |k: &str| auth.split(k).nth(1).and_then(|r| r.split(',').next()).map(str::trim);
    let signed = part("SignedHeaders=").ok_or(auth)?;
    let signature = part("Signature=").ok_or(auth)?;
    let scope = part("Credential=").and_then(|c| c.split_once('/')).map(|(_, s)| s).ok_or(auth)?;
    if !signed.split(';').any(|h| h == "host") {
        return Err(format!("host is not signed: {auth}"));
    }
    let canonical_headers: String =
        signed.split(';').map(|h| format!("{h}:{}\n", head.header(h).unwrap_or_default().trim())).collect();
    let (path, query) = head.second.split_once('?').unwrap_or((&head.second, ""));
    let payload = head.header("x-amz-content-sha256").ok_or("no payload hash")?;
    let canonical = format!("{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload}", head.first);
    let date = head.header("x-amz-date").ok_or("no x-amz-date")?;
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&model_router_tests::mock::native::sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{SECRET}").into_bytes().to_vec();
    for step in scope.split('/') {
        key = hmac(&key, step.as_bytes()).to_vec();
    }
    if hex(&hmac(&key, to_sign.as_bytes())) == signature {
        Ok(())
    } else {
        Err(format!("signature does not match what arrived (host {:?}): {auth}", head.header("host")))
    }
}

/// The shipped SigV4 signing (envoy/providers.yaml) signs the Host Bedrock receives, on a new
/// upstream connection too. The route's `auto_host_rewrite` is applied when the connection
/// pool hands over a connection, which for a new connection is after the upstream filters ran:
/// without the signer's own `host_rewrite`, the first request on each new connection was
/// signed over the client's Host and then sent with Bedrock's (SignatureDoesNotMatch). The
/// endpoint carries Bedrock's hostname, as a LOGICAL_DNS endpoint does, so the rewrite happens
/// here as in production; concurrent requests force new connections.
#[test]
fn the_shipped_sigv4_signer_signs_the_host_bedrock_receives_on_new_connections() {
    use std::io::{BufReader, Write};
    use std::sync::{Arc, Mutex};

    use model_router_tests::envoy::Envoy;
    use model_router_tests::http::{self, Head};

    let upstream = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream_port = upstream.local_addr().expect("addr").port();
    let got: Arc<Mutex<Vec<Head>>> = Arc::default();
    let sink = Arc::clone(&got);
    std::thread::spawn(move || {
        for conn in upstream.incoming().flatten() {
            let sink = Arc::clone(&sink);
            std::thread::spawn(move || {
                let mut w = conn.try_clone().expect("clone");
                let mut r = BufReader::new(conn);
                while let Ok(Some(head)) = http::read_head(&mut r) {
                    let Ok(_) = http::read_body(&mut r, &head, false) else { return };
                    sink.lock().expect("lock").push(head);
                    // Held a moment, so concurrent requests cannot share a connection.
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let _ = w.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
                    );
                }
            });
        }
    });

    let signer = shipped_signing_filter(8);
    let config = |listen: u16, admin: u16| {
        Ok(format!(
            r#"admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}}}
static_resources:
  listeners:
  - name: llm
    address: {{socket_address: {{address: 127.0.0.1, port_value: {listen}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: llm
          route_config:
            virtual_hosts:
            - name: llm
              domains: ["*"]
              routes:
              - match: {{prefix: /}}
                route: {{cluster: aws-bedrock-runtime, auto_host_rewrite: true, timeout: 0s}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
  clusters:
  - name: aws-bedrock-runtime
    connect_timeout: 2s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http_protocol_options: {{}}}}
        http_filters:
{signer}        - name: envoy.filters.http.upstream_codec
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec
    load_assignment:
      cluster_name: aws-bedrock-runtime
      endpoints:
      - lb_endpoints:
        - endpoint:
            hostname: {BEDROCK_HOST}
            address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream_port}}}}}
"#
        ))
    };
    let envoy = Envoy::start_on_free_ports(config).unwrap_or_else(|e| panic!("envoy: {e}"));
    let send = move || {
        let body = r#"{"messages":[{"role":"user","content":[{"text":"hello"}]}]}"#;
        let req = format!(
            "POST /model/m/converse HTTP/1.1\r\nhost: llm.example.com\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let addr = envoy.addr;
        http::send_raw(addr, req.as_bytes()).expect("request").status
    };
    // A cold pool (a new connection), then the pooled one, then three at once (two new).
    let mut statuses = vec![send(), send()];
    let burst: Vec<_> = (0..3).map(|_| std::thread::spawn(send)).collect();
    statuses.extend(burst.into_iter().map(|t| t.join().expect("request thread")));
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}\n{}", envoy.log_tail());

    let got = got.lock().expect("lock");
    assert_eq!(got.len(), 5);
    let bad: Vec<String> = got
        .iter()
        .filter_map(|h| {
            let host = h.header("host").unwrap_or_default();
            if host != BEDROCK_HOST {
                return Some(format!("arrived with host {host}"));
            }
            sigv4_valid(h).err()
        })
        .collect();
    assert!(bad.is_empty(), "{} of 5 requests Bedrock would refuse:\n{}", bad.len(), bad.join("\n"));
}

fn base64url(bytes: &[u8]) -> String {
    let standard = model_router_tests::mock::reply::base64_encode(bytes);
    standard.trim_end_matches('=').replace('+', "-").replace('/', "_")
}

/// A JWT signed with HS256 under `key`.
fn token(claims: &str, key: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        base64url(br#"{"alg":"HS256","typ":"JWT","kid":"test"}"#),
        base64url(claims.as_bytes())
    );
    format!("{signed}.{}", base64url(&hmac(key, signed.as_bytes())))
}

/// The shipped client authentication (`envoy/providers.yaml`'s jwt_authn, a test key in place
/// of the shipped JWKS) in front of the router: the token's `sub` is the client whose policy
/// the router applies, whatever `x-client-id` the client sends; a request without a valid
/// token is a 401 in the OpenAI error shape that reaches no provider, and the token itself
/// reaches no provider either.
#[test]
fn the_shipped_client_authentication_names_the_client_and_refuses_the_rest() {
    const KEY: &[u8] = b"model-router-test-client-key-0123456789";
    let jwks = format!(r#"{{"keys":[{{"kty":"oct","alg":"HS256","kid":"test","k":"{}"}}]}}"#, base64url(KEY));
    let shipped_jwks = "local_jwks: {filename: envoy/secrets/client-jwks.json}";
    let filter = shipped_filter("envoy.filters.http.jwt_authn", 10);
    assert!(filter.contains(shipped_jwks), "{filter}");
    let filter = filter.replace(shipped_jwks, &format!("local_jwks: {{inline_string: '{jwks}'}}"));
    let at = "          http_filters:\n          - name: model_router\n";
    let with = format!("          http_filters:\n{filter}          - name: model_router\n");
    // team-b may use groq only, which does not serve the pinned model.
    let cfg = r#"{"client_header":"x-client-id","clients":{"team-b":{"only_providers":["groq"]}}}"#;
    let options = StackOptions { plugin_config: Some(cfg), swaps: &[(at, &with)], ..StackOptions::default() };
    let s = Stack::start_with(&options).unwrap_or_else(|e| panic!("cannot start the stack: {e}"));
    let body = r#"{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"hello"}]}"#;
    let send = |token: Option<&str>, client: Option<&str>| {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(bearer.as_deref().map(|b| ("authorization", b)));
        headers.extend(client.map(|c| ("x-client-id", c)));
        http::request(s.envoy.addr, "POST", "/v1/chat/completions", &headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let claims =
        |sub: &str, aud: &str| format!(r#"{{"iss":"model-router-clients","aud":"{aud}","sub":"{sub}"}}"#);
    let team_a = token(&claims("team-a", "model-router"), KEY);
    let team_b = token(&claims("team-b", "model-router"), KEY);

    let r = send(Some(&team_a), Some("team-b"));
    assert_eq!(r.status, 200, "team-a's token names team-a, not the header: {}", r.text());
    assert_eq!(r.header("x-model-router-provider"), Some("google-gemini"), "{:?}", r.head.headers);
    let got = s.take_received();
    assert_eq!(got.len(), 1, "{got:?}");
    for r in &got {
        for (k, v) in &r.headers {
            assert!(!v.contains(&team_a), "{} received the client's token in {k}", r.provider);
        }
    }
    let r = send(Some(&team_b), Some("team-a"));
    assert_eq!(r.status, 403, "team-b's policy applies: {}", r.text());
    assert_eq!(r.json()["error"]["code"], "provider_blocked", "{}", r.text());

    let other_key = token(&claims("team-a", "model-router"), b"another key");
    let other_audience = token(&claims("team-a", "another-service"), KEY);
    // A token for another service is Envoy's 403 (jwt_authn refuses its audience), the rest 401s.
    let cases = [
        ("no token", None, 401, "invalid_api_key"),
        ("another key", Some(other_key), 401, "invalid_api_key"),
        ("another audience", Some(other_audience), 403, "permission_denied"),
    ];
    for (name, t, status, code) in cases {
        let r = send(t.as_deref(), Some("team-a"));
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{name}");
        let e = r.json()["error"].clone();
        assert_eq!(e["code"], code, "{name}: {}", r.text());
        assert_eq!(e["type"], "invalid_request_error", "{name}: {}", r.text());
        assert!(e.get("param").is_some() && e["message"].is_string(), "{name}: {}", r.text());
    }
    // Only from the header: a token in the query (jwt_authn's default) stayed in the path.
    let path = format!("/v1/chat/completions?access_token={team_a}");
    let r =
        http::request(s.envoy.addr, "POST", &path, &[("content-type", "application/json")], body.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status, 401, "a token in the query: {}", r.text());
    assert!(s.take_received().is_empty(), "a refused request reached a provider");
}
