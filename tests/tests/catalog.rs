//! The real catalog through the real Envoy: context and capability guards, provider policies,
//! embeddings, `/v1/models`, retired models, and credentials, asserted at the mock providers.

use model_router_scorer::catalog::Api;
use model_router_tests::catalog::{live_model, today};
use model_router_tests::envoy::Stack;
use model_router_tests::envoy::demo_key as gateway_key;
use model_router_tests::http::{self, Response};
use model_router_tests::mock::Received;
use model_router_tests::mock::native::requested_model;
use serde_json::{Value, json};

const CHAT: &str = "/v1/chat/completions";

fn post(s: &Stack, path: &str, body: &str, headers: &[(&str, &str)]) -> Response {
    let mut h = vec![("content-type", "application/json")];
    h.extend_from_slice(headers);
    http::request(s.envoy.addr, "POST", path, &h, body.as_bytes()).expect("request")
}

fn chat(model: &str, extra: &str, content: &str) -> String {
    json!({"model": model, "messages": [{"role": "user", "content": content}]}).to_string().replacen(
        '{',
        &format!("{{{extra}"),
        1,
    )
}

fn only(s: &Stack) -> Received {
    let mut got = s.take_received();
    assert_eq!(got.len(), 1, "{got:?}");
    got.remove(0)
}

fn catalog() -> Value {
    serde_json::from_str(model_router_scorer::catalog::BUILTIN_CATALOG).expect("catalog")
}

#[test]
fn long_requests_skip_small_windows_and_escalate_when_no_tier_model_fits() {
    let s = Stack::start(None).expect("stack");
    // ~150k tokens by the guard's estimate: economy's cheapest (a 128k window) is skipped.
    let long = "word ".repeat(90_000);
    let r = post(&s, CHAT, &chat("economy", r#""prefer":"cheap","#, &long), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = only(&s);
    // In the body, or in the path for Converse.
    let model = requested_model(&got).unwrap_or_default();
    let window = catalog()["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["upstream_id"] == model.as_str() || m["id"] == model.as_str())
        .and_then(|m| m["context_window"].as_u64())
        .expect("window");
    assert!(window >= 150_000, "{model} holds {window}");
    assert_eq!(r.header("x-model-router-tier"), Some("economy"));
    assert_eq!(r.header("x-model-router-escalated"), None);

    // With the 1M-window providers blocked, nothing in economy holds a request just over the
    // largest economy window left (256k on Bedrock now; the guard counts 3 bytes a token, a
    // word is 5): standard.
    let blocked = ["google-gemini", "openai"];
    let largest = catalog()["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter(|m| m["tier"] == "economy" && m["retires"].as_str().is_none_or(|d| d > today().as_str()))
        .filter(|m| !blocked.iter().any(|b| m["provider"] == *b))
        .filter_map(|m| m["context_window"].as_u64())
        .max()
        .expect("an economy model");
    assert!(largest < 1_000_000, "{largest}");
    let cfg = json!({ "blocked_providers": blocked }).to_string();
    let s = Stack::start(Some(&cfg)).expect("stack");
    let longer = "word ".repeat((largest * 3 / 5 + 1_000) as usize);
    let r = post(&s, CHAT, &chat("economy", "", &longer), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-model-router-tier"), Some("standard"));
    assert_eq!(r.header("x-model-router-escalated"), Some("context"));
    only(&s);
}

#[test]
fn capability_guards_send_tools_and_images_where_they_work() {
    // A catalog whose cheapest economy model has no tools and no vision.
    let cfg = json!({"catalog": {"providers": {"groq": {}, "openai": {}}, "models": [
        {"id": "tiny", "tier": "economy", "provider": "groq", "context_window": 8000, "max_output": 1000,
         "price_in": 0.01, "price_out": 0.01, "tools": false, "vision": false},
        {"id": "able", "tier": "economy", "provider": "openai", "context_window": 8000, "max_output": 1000,
         "price_in": 1, "price_out": 1, "tools": true, "vision": true},
        {"id": "mid", "tier": "standard", "provider": "openai", "context_window": 8000, "max_output": 1000,
         "price_in": 2, "price_out": 2, "tools": true},
        {"id": "top", "tier": "premium", "provider": "openai", "context_window": 8000, "max_output": 1000,
         "price_in": 3, "price_out": 3, "tools": true}]}})
    .to_string();
    let s = Stack::start(Some(&cfg)).expect("stack");
    let r = post(&s, CHAT, &chat("economy", r#""prefer":"cheap","#, "hi"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(only(&s).json()["model"], "tiny");
    let tools = r#""prefer":"cheap","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"#;
    let r = post(&s, CHAT, &chat("economy", tools, "hi"), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = only(&s);
    assert_eq!((got.provider.as_str(), got.json()["model"].as_str()), ("openai", Some("able")));
    let image = json!({"model": "economy", "prefer": "cheap", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}]});
    let r = post(&s, CHAT, &image.to_string(), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(only(&s).json()["model"], "able");
    // Pinning the tool-less model with tools is refused, not silently rerouted.
    let r = post(&s, CHAT, &chat("tiny", tools, "hi"), &[]);
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (400, Some("unsupported_capability")));
    assert!(s.take_received().is_empty());
}

#[test]
fn an_image_request_reaches_a_vision_model_in_the_builtin_catalog() {
    let s = Stack::start(None).expect("stack");
    // economy + fast is gpt-oss on cerebras, which has no vision.
    let image = json!({"model": "economy", "prefer": "fast", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}]});
    let r = post(&s, CHAT, &image.to_string(), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let got = only(&s);
    let model = got.json()["model"].as_str().unwrap_or_default().to_string();
    let vision = catalog()["models"].as_array().expect("models").iter().any(|m| {
        (m["upstream_id"] == model.as_str() || m["id"] == model.as_str())
            && m["provider"] == got.provider.as_str()
            && m["vision"] == true
    });
    assert!(vision, "{model} on {} has no vision", got.provider);
}

#[test]
fn blocked_providers_never_receive_traffic() {
    let cfg = r#"{"blocked_providers":["google-gemini"],"client_header":"x-team",
        "clients":{"a":{"blocked_providers":["anthropic"]},"b":{"only_providers":["openai"]}}}"#;
    let s = Stack::start(Some(cfg)).expect("stack");
    let mut seen = std::collections::BTreeSet::new();
    for tier in ["economy", "standard", "premium"] {
        for prefer in ["cheap", "fast", "balanced", "quality", "coding"] {
            let body = chat(tier, &format!(r#""prefer":"{prefer}","#), "hi");
            assert_eq!(post(&s, CHAT, &body, &[]).status, 200);
            assert_ne!(only(&s).provider, "google-gemini", "config block");
            assert_eq!(post(&s, CHAT, &body, &[("x-team", "a")]).status, 200);
            let got = only(&s);
            assert!(
                got.provider != "google-gemini" && got.provider != "anthropic",
                "client a: {}",
                got.provider
            );
            assert_eq!(post(&s, CHAT, &body, &[("x-team", "b")]).status, 200);
            assert_eq!(only(&s).provider, "openai", "client b");
            let own = chat(
                tier,
                &format!(r#""prefer":"{prefer}","provider":{{"ignore":["openai","aws-bedrock"]}},"#),
                "hi",
            );
            let r = post(&s, CHAT, &own, &[]);
            assert_eq!(r.status, 200, "{}", r.text());
            let got = only(&s);
            assert!(!["google-gemini", "openai", "aws-bedrock"].contains(&got.provider.as_str()));
            // The router's own field never reaches the provider.
            assert!(got.json().get("provider").is_none());
            seen.insert(got.provider);
        }
    }
    assert!(seen.len() >= 2, "{seen:?}");
    // Pinning a model only a blocked provider serves is refused.
    let r = post(&s, CHAT, &chat("gemini-2.5-pro", "", "hi"), &[]);
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (403, Some("provider_blocked")));
    assert!(s.take_received().is_empty());
}

#[test]
fn embeddings_aliases_reach_their_provider_model() {
    let s = Stack::start(None).expect("stack");
    for (alias, model) in
        [("embed-small", "text-embedding-3-small"), ("embed-large", "text-embedding-3-large")]
    {
        let body = json!({"model": alias, "input": ["one", "two"], "dimensions": 64}).to_string();
        let r = post(&s, "/v1/embeddings", &body, &[("authorization", "Bearer client-key")]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(r.header("x-model-router-model"), Some(model));
        let got = only(&s);
        assert_eq!((got.provider.as_str(), got.path.as_str()), ("openai", "/v1/embeddings"));
        assert_eq!(
            String::from_utf8_lossy(&got.body),
            json!({"model": model, "input": ["one", "two"], "dimensions": 64}).to_string()
        );
        assert_eq!(got.header("authorization"), Some("Bearer demo-key-openai"));
    }
    // Titan speaks Bedrock InvokeModel: the router translates the request and the response.
    let r =
        post(&s, "/v1/embeddings", r#"{"model":"embed-titan","input":["two words"],"dimensions":256}"#, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["object"], "list");
    assert_eq!(v["model"], "amazon.titan-embed-text-v2:0", "the catalog model that ran, as chat answers say");
    assert_eq!(v["data"][0]["embedding"].as_array().map(Vec::len), Some(256));
    assert_eq!(v["usage"]["prompt_tokens"], 2);
    assert_eq!(r.header("x-model-router-model"), Some("amazon.titan-embed-text-v2:0"));
    let got = only(&s);
    assert_eq!(got.provider, "aws-bedrock-runtime");
    assert_eq!(got.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    assert_eq!(
        String::from_utf8_lossy(&got.body),
        r#"{"inputText":"two words","dimensions":256,"normalize":true}"#
    );
    assert_eq!(got.header("authorization"), Some("Bearer demo-key-bedrock"));
    // A batch Titan cannot take is refused with a clear error, not half-served.
    let r = post(&s, "/v1/embeddings", r#"{"model":"embed-titan","input":["a","b"]}"#, &[]);
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (400, Some("invalid_value")));
    assert!(s.take_received().is_empty());
}

#[test]
fn the_model_list_matches_the_catalog_and_the_callers_policy() {
    let cfg = r#"{"client_header":"x-team","clients":{"b":{"only_providers":["anthropic"]}}}"#;
    let s = Stack::start(Some(cfg)).expect("stack");
    let list = |headers: &[(&str, &str)]| -> Vec<Value> {
        let r = http::request(s.envoy.addr, "GET", "/v1/models", headers, b"").expect("models");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["data"].as_array().cloned().expect("data")
    };
    let all = list(&[]);
    let ids: Vec<&str> = all.iter().filter_map(|m| m["id"].as_str()).collect();
    // Every current model of the catalog is listed, whatever API its provider speaks (the
    // router translates chat into each), and nothing retired.
    let cat = catalog();
    for m in cat["models"].as_array().expect("models") {
        let id = m["id"].as_str().unwrap_or_default();
        let live = m["retires"].as_str().is_none_or(|d| d > today().as_str());
        let current_somewhere = cat["models"]
            .as_array()
            .expect("models")
            .iter()
            .any(|o| o["id"] == id && o["retires"].as_str().is_none_or(|d| d > today().as_str()));
        if m["tier"] == "embedding" {
            continue;
        }
        assert_eq!(ids.contains(&id), current_somewhere, "{id} (live here: {live})");
    }
    for native in [
        "claude-haiku-4-5",
        "zai.glm-5",
        &live_model(Api::Responses),
        "us.meta.llama4-scout-17b-instruct-v1:0",
    ] {
        assert!(ids.contains(&native), "{native}");
    }
    for name in ["auto", "economy", "standard", "premium", "embed-small", "embed-large", "embed-titan"] {
        assert!(ids.contains(&name), "{name}");
    }
    let gpt54 = all.iter().find(|m| m["id"] == "gpt-5.4").expect("gpt-5.4");
    assert_eq!(gpt54["context_window"], 1_050_000);
    assert_eq!(gpt54["pricing"]["prompt_per_mtok"], 2.5);
    // Client b sees only anthropic's models (and the router's names).
    let b = list(&[("x-team", "b")]);
    for m in &b {
        if let Some(p) = m["providers"].as_array() {
            assert!(p.iter().all(|p| p == "anthropic"), "{m}");
        }
    }
    assert!(b.iter().any(|m| m["id"] == "claude-opus-4-7"));
}

#[test]
fn retired_models_are_never_chosen() {
    let s = Stack::start(None).expect("stack");
    let retired: Vec<String> = catalog()["models"]
        .as_array()
        .expect("models")
        .iter()
        .filter(|m| m["retires"].as_str().is_some_and(|d| d <= today().as_str()))
        .map(|m| m["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(retired.len() >= 5, "{retired:?}");
    for id in &retired {
        let r = post(&s, CHAT, &chat(id, "", "hi"), &[]);
        assert_eq!((r.status, r.json()["error"]["code"].as_str()), (400, Some("model_retired")), "{id}");
        let message = r.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains("was retired on") && message.contains("use model '"), "{message}");
    }
    for tier in ["economy", "standard", "premium"] {
        for prefer in ["cheap", "fast", "balanced", "quality", "coding"] {
            let r = post(&s, CHAT, &chat(tier, &format!(r#""prefer":"{prefer}","#), "hi"), &[]);
            assert_eq!(r.status, 200);
            let model = r.header("x-model-router-model").unwrap_or_default().to_string();
            assert!(!retired.contains(&model), "{tier}/{prefer} chose retired {model}");
        }
    }
    s.take_received();
}

#[test]
fn the_provider_sees_the_gateway_key_and_never_the_clients() {
    let s = Stack::start(None).expect("stack");
    // Every routing of the golden table, so every provider and protocol it reaches.
    let doc: Value =
        serde_json::from_str(include_str!("../../testdata/routing/builtin_catalog.json")).expect("golden");
    let cases = doc["cases"].as_array().cloned().expect("cases");
    let mut providers = std::collections::BTreeSet::new();
    for case in &cases {
        let model = case["model"].as_str().unwrap_or_default();
        let prefer = case["prefer"].as_str().map(|p| format!(r#""prefer":"{p}","#)).unwrap_or_default();
        let body = chat(model, &prefer, "hi");
        let r =
            post(&s, CHAT, &body, &[("authorization", "Bearer sk-client-secret"), ("x-api-key", "client-x")]);
        assert_eq!(r.status, 200, "{case}: {}", r.text());
        let got = only(&s);
        assert_eq!(got.provider, case["expect_provider"].as_str().unwrap_or_default(), "{case}");
        let (header, key) = gateway_key(&got.provider);
        assert_eq!(got.header(header), Some(key), "{case}");
        // The other credential header does not travel at all.
        let other = if header == "authorization" { "x-api-key" } else { "authorization" };
        assert_eq!(got.header(other), None, "{case}");
        let all: String = got.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        assert!(!all.contains("sk-client-secret") && !all.contains("client-x"), "{all}");
        providers.insert(got.provider);
    }
    for p in
        ["anthropic", "aws-bedrock-runtime", "aws-bedrock", "cerebras", "google-gemini", "groq", "openai"]
    {
        assert!(providers.contains(p), "{p} not reached: {providers:?}");
    }
}

/// `scorer/catalog.json` is what `scripts/catalog.py` makes of the research facts beside the
/// repository (`../shared/catalog`), byte for byte: a field written by hand into the catalog
/// (a quirk, a long-context rate) would be lost the next time it is regenerated. Skipped,
/// saying so, where the facts are not beside the repository.
#[test]
fn the_catalog_is_what_its_script_makes_of_the_facts() {
    let root = model_router_tests::envoy::repo_root();
    let facts = root.join("../shared/catalog/catalog.json");
    if !facts.exists() {
        eprintln!("SKIPPED: no catalog facts at {}", facts.display());
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(root.join("scripts/catalog.py"))
        .arg(&facts)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let committed = std::fs::read(root.join("scorer/catalog.json")).expect("scorer/catalog.json");
    assert!(
        out.stdout == committed,
        "scorer/catalog.json differs from `python3 scripts/catalog.py ../shared/catalog/catalog.json`: \
         put the change in the script and regenerate"
    );
}
