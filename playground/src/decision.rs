//! One request through the filter's decision code, as a JSON value for the page: the scorer's
//! [`analyze`], [`Analysis::route`] and [`Analysis::explain`] with the plugin configuration the
//! filter would load, at a given day, for a given client. Nothing here decides: it only
//! renders what the scorer returned.

use model_router_scorer::catalog::{Deployment, parse_day};
use model_router_scorer::decide::explain::Explanation;
use model_router_scorer::decide::select::{Miss, Needs};
use model_router_scorer::protocol::native;
use model_router_scorer::{ApiError, Config, Context, Route, analyze};
use serde_json::{Value, json};

/// What the page sends: the request body, the plugin configuration (empty: the defaults), the
/// day (`YYYY-MM-DD`, for retirements) and the caller (the value of the configured client
/// header, for client policies; empty, or no `client_header` configured: none).
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The chat completions body, as a client sends it.
    pub request: &'a [u8],
    /// The plugin configuration JSON (Envoy's wasm `configuration`).
    pub config: &'a [u8],
    /// Today, `YYYY-MM-DD`.
    pub date: &'a str,
    /// The caller's client id, or empty.
    pub client: &'a str,
}

/// The configuration and `now` the inputs name, or the message the filter (configuration) or
/// the CLI (date) would give.
pub fn setup(config: &[u8], date: &str) -> Result<(Config, u64), String> {
    let config = Config::from_json(config).map_err(|e| format!("configuration rejected: {e}"))?;
    let day = parse_day(date).ok_or_else(|| format!("date {date:?}: use YYYY-MM-DD"))?;
    Ok((config, day.max(0) as u64 * 86_400))
}

/// The decision for `inputs`: `{"status":200, tier, model, …}` for a routed request,
/// `{"status":4xx/5xx, "error":…, "body":…}` for a refused one (the body the filter answers),
/// or `{"config_error":…}` when the filter would not load the configuration.
pub fn decide(inputs: &Inputs<'_>) -> Value {
    let (config, now) = match setup(inputs.config, inputs.date) {
        Ok(s) => s,
        Err(e) => return json!({ "config_error": e }),
    };
    // The filter reads a client id only from the configured client header.
    let client = config.client_header.as_ref().and(Some(inputs.client)).filter(|c| !c.is_empty());
    let ctx = Context { now, client, ..Context::default() };
    let analysis = match analyze(&config, inputs.request) {
        Ok(a) => a,
        Err(e) => return refused(&e, None),
    };
    let route = analysis.route(&config, &ctx);
    let why = analysis.explain(&config, &ctx, route.as_ref().ok()).ok();
    match route {
        Ok(route) => routed(&config, &route, why.as_ref()),
        Err(e) => refused(&e, why.as_ref()),
    }
}

/// A refusal: the status and body the filter answers with, and what was excluded.
fn refused(e: &ApiError, why: Option<&Explanation<'_>>) -> Value {
    let body = e.body();
    let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    json!({
        "status": e.status,
        "error": parsed.get("error").cloned().unwrap_or(Value::Null),
        "body": body,
        "needs": why.map(|w| needs(&w.needs)),
        "excluded": why.map(excluded).unwrap_or_default(),
    })
}

fn routed(config: &Config, route: &Route, why: Option<&Explanation<'_>>) -> Value {
    let to = &route.target.to;
    let mut headers = vec![
        (":path".to_string(), to.path.clone()),
        (config.cluster_header.clone(), to.cluster.clone()),
        ("content-length".to_string(), route.target.body.len().to_string()),
    ];
    headers.extend(native::headers(to.api).iter().map(|(k, v)| (k.to_string(), v.to_string())));
    if let Some(a) = &to.auth {
        // The key itself is read from the VM environment in Envoy; the page shows where from.
        headers.push((a.header.clone(), format!("{}${{{}}}", a.prefix, a.env)));
    }
    let fallbacks: Vec<Value> = route
        .fallbacks
        .iter()
        .filter_map(|f| f.upstream(config, route.stream))
        .map(|u| json!({"model": u.model, "provider": u.provider}))
        .collect();
    let ranked: Vec<Value> = why
        .map(|w| {
            w.ranked
                .iter()
                .map(|(prefer, order)| {
                    let cands: Vec<Value> = order
                        .iter()
                        .map(|(d, usd)| json!({"model": d.id, "provider": d.provider, "usd": usd}))
                        .collect();
                    json!({"prefer": prefer.as_str(), "candidates": cands})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "status": 200,
        "selection": route.selection.as_str(),
        "tier": route.tier.as_str(),
        "prefer": route.prefer.as_str(),
        "escalated": route.escalated,
        "auto": route.auto.as_ref().map(|a| json!({
            "tier": a.tier.as_str(), "score": a.score, "reasons": a.reasons, "sticky": a.sticky,
        })),
        "model": to.model,
        "provider": to.provider,
        "estimate_usd": route.estimate_usd,
        "fallbacks": fallbacks,
        "upstream": {
            "api": to.api.as_str(),
            "cluster": to.cluster,
            "host": to.host,
            "path": to.path,
            "upstream_model": to.upstream_model,
            "translated": native::translated(to.api),
            "headers": headers,
            "body": String::from_utf8_lossy(&route.target.body),
        },
        "needs": why.map(|w| needs(&w.needs)),
        "ranked": ranked,
        "excluded": why.map(excluded).unwrap_or_default(),
    })
}

fn needs(n: &Needs) -> Value {
    json!({
        "tools": n.tools,
        "images": n.vision,
        "json_schema": n.json_schema,
        "reasoning": n.reasoning,
        "audio_output": n.audio_output,
        "input_tokens": n.input_tokens,
        "output_requested": n.output_requested,
        "output_default": n.output_default,
        "max_price": n.max_price.map(|m| json!({"prompt": m.prompt, "completion": m.completion})),
    })
}

/// Every deployment that cannot take the request, with the guard that refused it.
fn excluded(why: &Explanation<'_>) -> Vec<Value> {
    why.verdicts
        .iter()
        .filter_map(|(d, miss)| {
            let m = (*miss)?;
            Some(json!({
                "model": d.id,
                "provider": d.provider,
                "tier": d.tier.as_str(),
                "reason": m.as_str(),
                "detail": detail(d, m, &why.needs),
            }))
        })
        .collect()
}

/// The guard's figures, in words.
fn detail(d: &Deployment, m: Miss, n: &Needs) -> String {
    match m {
        Miss::Retired => format!("retired on {}", d.retires_text.as_deref().unwrap_or("an earlier day")),
        Miss::Untranslated => {
            format!("served only through the {} API, which is not translated", d.api.as_str())
        }
        Miss::Blocked => format!("provider {} is excluded by policy", d.provider),
        Miss::Capability(what) => format!("does not support {what}"),
        Miss::Context => {
            format!("needs about {} tokens; its window holds {}", n.tokens_on(d), d.context_window)
        }
        Miss::Output => format!(
            "{} {} is above its output limit of {}",
            n.output_param,
            n.output_requested.unwrap_or(0),
            d.max_output
        ),
        Miss::Price => {
            format!("${} in / ${} out per million tokens is above max_price", d.price_in, d.price_out)
        }
    }
}
