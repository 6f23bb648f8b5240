//! `GET /v1/models` and `GET /v1/models/{model}`, answered by the router: the tiers and `auto`,
//! the embedding aliases and the configuration's exact `model_aliases`, and every model the
//! caller can reach now (routable API, not retired,
//! provider allowed by the caller's policy), with context window and prices.

use serde_json::{Value, json};

use std::borrow::Cow;

use crate::catalog::{EmbeddingModel, Tier, efforts_of};
use crate::config::Config;
use crate::error::{ApiError, echo};
use crate::parse::chat::ChatRequest;
use crate::vocab::Policy;

/// The OpenAI-style model list for a caller, as JSON.
pub fn list(config: &Config, policy: &Policy, now: u64) -> String {
    json!({"object": "list", "data": entries(config, policy, now)}).to_string()
}

/// One model object for a caller (`models.retrieve`), as JSON: the same object as its entry in
/// [`list`], or a 404 `model_not_found` for an id the list does not offer the caller (unknown,
/// retired, untranslated or excluded by its policy).
pub fn retrieve(config: &Config, policy: &Policy, now: u64, id: &str) -> Result<String, ApiError> {
    let entries = entries(config, policy, now);
    if let Some(m) = entries.iter().find(|m| m["id"] == id) {
        return Ok(m.to_string());
    }
    // A name a prefix pattern of `model_aliases` routes (`claude-opus-*`), while what it names
    // is there: the list names no pattern, but the name a client sends is found.
    let target = (!config.catalog.serves(id)).then(|| config.model_aliases.resolve(id)).flatten();
    match target.filter(|t| entries.iter().any(|m| m["id"] == *t)) {
        Some(target) => Ok(alias(id, target).to_string()),
        None => Err(ApiError::invalid(
            "model_not_found",
            Some("model"),
            format!(
                "model {} is not available to you: GET /v1/models lists the models you can use",
                echo(id)
            ),
        )
        .with_status(404)),
    }
}

/// The entry of `alias`, routed as `target`.
fn alias(alias: &str, target: &str) -> Value {
    json!({"id": alias, "object": "model", "created": 0, "owned_by": "model-router", "kind": "alias", "alias_of": target})
}

/// An entry of the router's own: `auto`, a tier.
fn router(name: &str) -> Value {
    json!({"id": name, "object": "model", "created": 0, "owned_by": "model-router", "kind": "router"})
}

/// The list's entries.
fn entries(config: &Config, policy: &Policy, now: u64) -> Vec<Value> {
    let chat = chat_entries(config, policy, now);
    // A tier while the caller reaches a model of it or of a tier above, which a tier emptied for
    // it escalates to (a client whose providers serve no premium model was offered `premium`,
    // and refused it with a 403); `auto` while it reaches any.
    let reached = |t: &Tier| chat.iter().any(|m| m["tier"] == t.as_str());
    let highest = Tier::ALL.iter().rposition(reached);
    let tiers: Vec<&str> = Tier::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| highest.is_some_and(|h| *i <= h))
        .map(|(_, t)| t.as_str())
        .collect();
    let mut data: Vec<Value> = Vec::new();
    for name in std::iter::once("auto").filter(|_| !tiers.is_empty()).chain(tiers.iter().copied()) {
        data.push(router(name));
    }
    // One entry per embedding model id (and per alias), whatever number of providers serve it.
    let usable = |e: &&EmbeddingModel| e.wire().is_some() && !e.retired(now) && policy.allows(&e.provider);
    let mut listed: Vec<&str> = Vec::new();
    for e in config.catalog.embeddings.iter().filter(usable) {
        if listed.contains(&e.id.as_str()) {
            continue;
        }
        listed.push(e.id.as_str());
        let providers: Vec<&str> = config
            .catalog
            .embeddings
            .iter()
            .filter(usable)
            .filter(|o| o.id == e.id)
            .map(|o| o.provider.as_str())
            .collect();
        if let Some(alias) = &e.alias {
            data.push(json!({"id": alias, "object": "model", "created": 0, "owned_by": "model-router",
                "kind": "alias", "alias_of": e.id}));
        }
        data.push(json!({"id": e.id, "object": "model", "created": 0, "owned_by": e.provider,
            "kind": "embedding", "context_window": e.context_window, "dimensions": e.dimensions,
            "pricing": {"prompt_per_mtok": e.price_in}, "providers": providers}));
    }
    data.extend(chat);
    // The configuration's exact aliases (its prefix patterns name no one model), each while
    // what it names is there for this caller.
    let reachable = |target: &str| data.iter().any(|m| m["id"] == target);
    let aliases: Vec<Value> =
        config.model_aliases.exact().filter(|(_, t)| reachable(t)).map(|(a, t)| alias(a, t)).collect();
    data.extend(aliases);
    data
}

/// The chat models the caller can reach now, tier by tier.
fn chat_entries(config: &Config, policy: &Policy, now: u64) -> Vec<Value> {
    let mut data: Vec<Value> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for tier in Tier::ALL {
        for d in config.catalog.deployments.iter().filter(|d| d.tier == tier) {
            if seen.contains(&d.id.as_str()) {
                continue;
            }
            let live: Vec<_> = config
                .catalog
                .deployments
                .iter()
                .filter(|o| o.id == d.id && o.api.routable() && !o.retired(now) && policy.allows(&o.provider))
                .collect();
            let Some(first) = live.first() else { continue };
            seen.push(d.id.as_str());
            let providers: Vec<&str> = live.iter().map(|o| o.provider.as_str()).collect();
            data.push(json!({
                "id": d.id, "object": "model", "created": 0, "owned_by": first.provider, "kind": "chat",
                "tier": tier.as_str(), "context_window": first.context_window, "max_output": first.max_output,
                "pricing": {"prompt_per_mtok": first.price_in, "completion_per_mtok": first.price_out},
                "capabilities": {"tools": first.tools, "vision": first.vision, "reasoning": first.reasoning,
                    "json_schema": first.structured_output,
                    "reasoning_efforts": (first.quirks.efforts != 0).then(|| efforts_of(first.quirks.efforts))},
                "retires": first.retires_text, "providers": providers,
            }));
        }
    }
    data
}

/// A model name the router does not serve itself, routed as its alias's target
/// (`model_aliases`): the name the client sent. `auto`, the tiers and the catalog's own names
/// are never aliased.
pub(crate) fn aliased(config: &Config, req: &mut ChatRequest<'_>) -> Option<String> {
    let name = req.model.as_ref();
    if config.catalog.serves(name) {
        return None;
    }
    let target = config.model_aliases.resolve(name)?.to_string();
    Some(std::mem::replace(&mut req.model, Cow::Owned(target)).into_owned())
}

/// `e`, for a request whose model name `alias` the configuration routed as `target`: its
/// message says so, or the client reads of a model it never named.
pub(crate) fn named_alias(mut e: ApiError, alias: Option<&str>, target: &str) -> ApiError {
    // The request's own provider policy is not about its model.
    let about_providers = e.param.as_deref().is_some_and(|p| p.starts_with("provider"));
    if let Some(alias) = alias.filter(|_| !about_providers) {
        e.message = format!("model {} is served as '{target}' (model_aliases): {}", echo(alias), e.message);
    }
    e
}

/// Most model ids listed in an unknown-model error.
const MAX_LISTED: usize = 50;

/// A 404 for `model`, listing the ids this caller can pin now: current, routable, allowed.
pub(crate) fn unknown_model(config: &Config, model: &str, policy: &Policy, now: u64) -> ApiError {
    if config.catalog.embeddings.iter().any(|e| e.id == model || e.alias.as_deref() == Some(model)) {
        return ApiError::invalid(
            "model_not_routable",
            Some("model"),
            format!("model {} is an embedding model: send it to /v1/embeddings", echo(model)),
        );
    }
    let mut ids: Vec<&str> = config
        .catalog
        .deployments
        .iter()
        .filter(|d| d.api.routable() && !d.retired(now) && policy.allows(&d.provider))
        .map(|d| d.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let more = ids.len().saturating_sub(MAX_LISTED);
    ids.truncate(MAX_LISTED);
    let mut list = ids.join(", ");
    if more > 0 {
        list.push_str(&format!(" (and {more} more)"));
    }
    ApiError::invalid(
        "model_not_found",
        Some("model"),
        format!(
            "model {} is not a tier or a known model: use auto, economy, standard, premium, or one of: {list}",
            echo(model)
        ),
    )
    .with_status(404)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(config: &Config, policy: &Policy, now: u64) -> Vec<String> {
        let v: Value = serde_json::from_str(&list(config, policy, now)).unwrap_or_default();
        v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn lists_what_the_caller_can_reach_today() {
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let today = 20_779 * 86_400;
        let all = ids(&c, &Policy::default(), today);
        // Every current model is offered, whatever API it speaks (issue 17): Bedrock Converse,
        // Anthropic Messages and Responses-only ones too.
        for want in [
            "auto",
            "economy",
            "embed-small",
            "gemini-2.5-flash",
            "gpt-oss-120b",
            "claude-opus-4-7",
            "zai.glm-5",
            "deepseek.v3.2",
            "gpt-5.3-codex",
        ] {
            assert!(all.iter().any(|i| i == want), "{want} missing");
        }
        // The reasoning efforts a model takes, where the catalog knows them.
        let listed: Value = serde_json::from_str(&list(&c, &Policy::default(), today)).unwrap_or_default();
        let efforts = |id: &str| {
            let data = listed["data"].as_array().cloned().unwrap_or_default();
            data.into_iter().find(|m| m["id"] == id).map(|m| m["capabilities"]["reasoning_efforts"].clone())
        };
        assert_eq!(
            efforts("gpt-5.3-codex"),
            Some(serde_json::json!(["none", "low", "medium", "high", "xhigh"]))
        );
        assert_eq!(efforts("gemini-2.5-pro"), Some(serde_json::json!(["low", "medium", "high"])));
        assert_eq!(efforts("gpt-4.1-mini"), Some(Value::Null));
        // Retired models are not offered.
        for gone in ["llama3.1-8b", "grok-3-beta"] {
            assert!(!all.iter().any(|i| i == gone), "{gone} listed");
        }
        // A policy that allows only anthropic leaves only its models and the router's names.
        let only = Policy { only: Some(["anthropic".to_string()].into()), ..Policy::default() };
        let some = ids(&c, &only, today);
        assert!(some.contains(&"claude-opus-4-7".to_string()));
        assert!(
            !some.contains(&"gemini-2.5-flash".to_string()) && !some.contains(&"embed-small".to_string())
        );
    }

    /// An embedding model served by two providers is one entry naming both (and its alias
    /// once); a retired one is neither listed nor routed.
    #[test]
    fn embedding_models_are_listed_once_and_not_after_they_retire() {
        let cfg = br#"{"catalog":{"providers":{"p":{},"q":{}},"models":[
            {"id":"small","tier":"economy","provider":"p","context_window":1000,"max_output":10,"price_in":0,"price_out":0},
            {"id":"mid","tier":"standard","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"big","tier":"premium","provider":"p","context_window":1000,"max_output":10,"price_in":2,"price_out":2},
            {"id":"em","alias":"embed","tier":"embedding","provider":"p","context_window":8000,"price_in":0.02,"price_out":0},
            {"id":"em","alias":"embed","tier":"embedding","provider":"q","context_window":8000,"price_in":0.02,"price_out":0},
            {"id":"old","tier":"embedding","provider":"q","context_window":8000,"price_in":0.02,"price_out":0,"retires":"2026-01-01"}]}}"#;
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        let today = 20_779 * 86_400;
        let all = ids(&c, &Policy::default(), today);
        assert_eq!(all.iter().filter(|i| *i == "em").count(), 1, "{all:?}");
        assert_eq!(all.iter().filter(|i| *i == "embed").count(), 1, "{all:?}");
        assert!(!all.contains(&"old".to_string()), "{all:?}");
        let em: Value =
            serde_json::from_str(&retrieve(&c, &Policy::default(), today, "em").unwrap_or_default())
                .unwrap_or_default();
        assert_eq!(em["providers"], json!(["p", "q"]));
        let ctx = crate::decide::route::Context { now: today, ..Default::default() };
        let e =
            crate::decide::embeddings::route_embeddings(&c, br#"{"model":"old","input":"x"}"#, &ctx).err();
        // Refused as retired, not as unknown (the embedding routes' own tests say what it offers).
        assert_eq!(e.map(|e| (e.status, e.code)), Some((400, "model_retired")));
        let before = crate::decide::route::Context { now: 20_000 * 86_400, ..Default::default() };
        assert!(
            crate::decide::embeddings::route_embeddings(&c, br#"{"model":"old","input":"x"}"#, &before)
                .is_ok()
        );
    }

    /// The configuration's exact aliases are listed with what they name; a prefix pattern names
    /// no model to list.
    #[test]
    fn configured_aliases_are_listed() {
        let json = br#"{"model_aliases":{"claude-opus-5-5":"premium","claude-*":"standard"}}"#;
        let c = Config::from_json(json).unwrap_or_else(|e| panic!("{e}"));
        let all = Policy::default();
        let one: Value = retrieve(&c, &all, 0, "claude-opus-5-5")
            .map(|b| serde_json::from_str(&b).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((&one["kind"], &one["alias_of"]), (&json!("alias"), &json!("premium")));
        assert!(!ids(&c, &all, 0).iter().any(|id| id.contains('*')));
        // One whose model the caller cannot reach is not offered.
        let json = br#"{"model_aliases":{"opus":"claude-opus-4-7"}}"#;
        let c = Config::from_json(json).unwrap_or_else(|e| panic!("{e}"));
        let only = Policy { only: Some(["openai".to_string()].into()), ..Policy::default() };
        assert!(ids(&c, &all, 0).contains(&"opus".to_string()));
        assert!(!ids(&c, &only, 0).contains(&"opus".to_string()));
        // A name a prefix pattern routes is found by that name (it was a 404 that a request
        // with it contradicted), while what the pattern names is there; a catalog model that
        // the pattern also matches is its own entry.
        let json = br#"{"model_aliases":{"claude-opus-*":"premium","gpt-*":"claude-opus-4-7"}}"#;
        let c = Config::from_json(json).unwrap_or_else(|e| panic!("{e}"));
        let one: Value = retrieve(&c, &all, 0, "claude-opus-4-5")
            .map(|b| serde_json::from_str(&b).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((&one["id"], &one["alias_of"]), (&json!("claude-opus-4-5"), &json!("premium")));
        let own: Value = retrieve(&c, &all, 0, "claude-opus-4-7")
            .map(|b| serde_json::from_str(&b).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(own["kind"], "chat");
        assert!(retrieve(&c, &only, 0, "gpt-7").is_err(), "its target is not the caller's");
    }

    /// A tier is offered while the caller reaches a model of it or of a tier above (a tier
    /// emptied for it escalates): a client whose providers serve economy models only was
    /// offered `premium`, and every premium request of it was refused.
    #[test]
    fn a_tier_is_offered_only_with_a_model_of_it_or_above() {
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let today = 20_779 * 86_400;
        let groq = Policy { only: Some(["groq".to_string()].into()), ..Policy::default() };
        let listed: Value = serde_json::from_str(&list(&c, &groq, today)).unwrap_or_default();
        let data = listed["data"].as_array().cloned().unwrap_or_default();
        let has = |id: &str| data.iter().any(|m| m["id"] == id);
        assert!(has("auto") && has("economy") && !has("standard") && !has("premium"), "{listed}");
        let none = Policy { only: Some(["nobody".to_string()].into()), ..Policy::default() };
        assert!(ids(&c, &none, today).is_empty(), "{:?}", ids(&c, &none, today));
        // Economy emptied for a client escalates to standard: it is still offered, as an alias
        // to it is (they were 404s the route served; found reviewing the diff).
        let cfg = br#"{"model_aliases":{"cheap":"economy"},"catalog":{"providers":{"p":{},"q":{}},"models":[
            {"id":"small","tier":"economy","provider":"p","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"mid","tier":"standard","provider":"q","context_window":1000,"max_output":10,"price_in":1,"price_out":1},
            {"id":"big","tier":"premium","provider":"q","context_window":1000,"max_output":10,"price_in":2,"price_out":2}]}}"#;
        let c = Config::from_json(cfg).unwrap_or_else(|e| panic!("{e}"));
        let no_p = Policy { blocked: ["p".to_string()].into(), ..Policy::default() };
        let got = ids(&c, &no_p, today);
        for want in ["auto", "economy", "standard", "premium", "cheap", "mid", "big"] {
            assert!(got.iter().any(|i| i == want), "{want} missing from {got:?}");
        }
        let no_q = Policy { blocked: ["q".to_string()].into(), ..Policy::default() };
        assert_eq!(ids(&c, &no_q, today), ["auto", "economy", "small", "cheap"]);
    }

    /// Issue 15: `models.retrieve` (`GET /v1/models/{model}`) had no answer.
    #[test]
    fn retrieve_answers_one_entry_of_the_list() {
        let c = Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let today = 20_779 * 86_400;
        let all = Policy::default();
        let listed: Value = serde_json::from_str(&list(&c, &all, today)).unwrap_or_default();
        for id in [
            "auto",
            "premium",
            "embed-titan",
            "amazon.titan-embed-text-v2:0",
            "gpt-oss-120b",
            "claude-opus-4-7",
        ] {
            let one: Value = retrieve(&c, &all, today, id)
                .map(|b| serde_json::from_str(&b).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            let entry = listed["data"].as_array().and_then(|a| a.iter().find(|m| m["id"] == id).cloned());
            assert_eq!(Some(one), entry, "{id}");
        }
        let only = Policy { only: Some(["anthropic".to_string()].into()), ..Policy::default() };
        for (policy, id) in
            [(&all, "gpt-9"), (&all, "llama3.1-8b"), (&only, "zai.glm-5"), (&only, "gpt-4.1-mini")]
        {
            let e = retrieve(&c, policy, today, id).err();
            assert_eq!(e.map(|e| (e.status, e.code)), Some((404, "model_not_found")), "{id}");
        }
        let small: Value = retrieve(&c, &all, today, "text-embedding-3-small")
            .map(|b| serde_json::from_str(&b).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(small["dimensions"], 1536, "the most dimensions a request may ask for");
        // Retirement is read at `now`: o3 retires on 2026-12-11.
        assert!(retrieve(&c, &all, today, "o3").is_ok());
        assert!(retrieve(&c, &all, 20_798 * 86_400, "o3").is_err());
    }
}
