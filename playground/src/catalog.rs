//! The catalog view: every chat and embedding deployment of the configuration the filter
//! would load (the built-in catalog, or the configuration's own, with `free` and `clusters`
//! applied), with the `source` each model's figures come from.

use model_router_scorer::catalog::BUILTIN_CATALOG;
use serde_json::{Value, json};

/// `{"models":[…],"providers":[…]}`, or `{"config_error":…}`.
pub fn view(config_json: &[u8], date: &str) -> Value {
    let (config, now) = match crate::decision::setup(config_json, date) {
        Ok(s) => s,
        Err(e) => return json!({ "config_error": e }),
    };
    let raw = raw_models(config_json);
    let source = |id: &str, provider: &str| -> Value {
        raw.iter()
            .find(|m| m["id"] == id && m["provider"] == provider)
            .and_then(|m| m.get("source").cloned())
            .unwrap_or(Value::Null)
    };
    let mut models: Vec<Value> = config
        .catalog
        .deployments
        .iter()
        .map(|d| {
            let caps = [
                (d.tools, "tools"),
                (d.vision, "images"),
                (d.reasoning, "reasoning"),
                (d.structured_output, "json_schema"),
                (d.audio_output, "audio"),
            ];
            json!({
                "id": d.id, "provider": d.provider, "tier": d.tier.as_str(), "api": d.api.as_str(),
                "upstream_id": d.upstream_id, "cluster": d.cluster,
                "context_window": d.context_window, "max_output": d.max_output,
                "price_in": d.price_in, "price_out": d.price_out,
                "quality": d.quality, "coding": d.coding, "speed_tps": d.speed_tps,
                "capabilities": caps.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect::<Vec<_>>(),
                "retires": d.retires_text, "retired": d.retired(now), "routable": d.api.routable(),
                "source": source(&d.id, &d.provider),
            })
        })
        .collect();
    models.extend(config.catalog.embeddings.iter().map(|e| {
        json!({
            "id": e.id, "provider": e.provider, "tier": "embedding", "api": e.api.as_str(),
            "upstream_id": e.upstream_id, "cluster": e.cluster,
            "context_window": e.context_window, "max_output": null,
            "price_in": e.price_in, "price_out": 0.0,
            "quality": null, "coding": null, "speed_tps": null,
            "capabilities": e.dimensions.map(|d| vec![format!("{d} dims")]).unwrap_or_default(),
            "retires": null, "retired": false, "routable": e.wire().is_some(),
            "source": source(&e.id, &e.provider),
        })
    }));
    let providers: Vec<Value> = config
        .catalog
        .providers
        .iter()
        .map(|p| json!({"name": p.name, "cluster": p.cluster, "host": p.host, "base_path": p.base_path}))
        .collect();
    json!({"models": models, "providers": providers})
}

/// The catalog file's models as written (their `source` is not kept in the validated form).
fn raw_models(config_json: &[u8]) -> Vec<Value> {
    let config: Value = serde_json::from_slice(config_json).unwrap_or(Value::Null);
    let catalog = match config.get("catalog") {
        Some(c) => c.clone(),
        None => serde_json::from_str(BUILTIN_CATALOG).unwrap_or(Value::Null),
    };
    catalog.get("models").and_then(Value::as_array).cloned().unwrap_or_default()
}
