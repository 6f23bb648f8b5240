//! Where an attempt goes: the provider-facing side of a decision (model, provider, cluster,
//! host, path, credentials), the body it carries, and the candidates kept for failover.

use crate::account::usage::Price;
use crate::catalog::{Api, Auth, Deployment, LongContext, Quirks};
use crate::config::Config;
use crate::health;
use crate::protocol::{Native, native};

/// Where an attempt goes: the provider-facing side of a decision, without the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    /// Catalog model id (what a client can pin).
    pub model: String,
    /// Provider name.
    pub provider: String,
    /// Envoy cluster to send to.
    pub cluster: String,
    /// The provider's API host (`:authority` of fallback attempts).
    pub host: String,
    /// Model id written into the body.
    pub upstream_model: String,
    /// Upstream `:path` (the provider's base path and the endpoint).
    pub path: String,
    /// Credentials the glue sets from the VM environment, if the provider has them.
    pub auth: Option<Auth>,
    /// The model's context window, tokens.
    pub context_window: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
    /// The API the attempt speaks (which translation runs, both ways).
    pub api: Api,
    /// The model's output limit, tokens (the `max_tokens` a protocol that requires one gets).
    pub max_output: u64,
    /// What the model takes beyond its protocol.
    pub quirks: Quirks,
    /// Dearer rates for a long input.
    pub long_context: Option<LongContext>,
}

impl Upstream {
    /// An attempt at `model` (catalog id; `upstream_model` on the wire) of `provider` through
    /// `cluster`, at `path` below the provider's base path.
    pub fn new(
        config: &Config,
        model: &str,
        provider: &str,
        cluster: &str,
        upstream_model: &str,
        path: &str,
    ) -> Upstream {
        let p = config.catalog.provider(provider);
        Upstream {
            model: model.to_string(),
            provider: provider.to_string(),
            cluster: cluster.to_string(),
            host: p.map_or_else(|| cluster.to_string(), |p| p.host.clone()),
            upstream_model: upstream_model.to_string(),
            path: format!("{}{path}", p.map_or("/v1", |p| p.base_path.as_str())),
            auth: p.and_then(|p| p.auth.clone()),
            context_window: 0,
            price_in: 0.0,
            price_out: 0.0,
            api: Api::Chat,
            max_output: 0,
            quirks: Quirks::default(),
            long_context: None,
        }
    }

    /// The chat attempt at deployment `d`, in its API (`stream`: the client asked for a
    /// stream, which some APIs serve on another path).
    pub fn chat(config: &Config, d: &Deployment, stream: bool) -> Upstream {
        // One lookup of the provider: this runs for every routed request.
        let p = config.catalog.provider(&d.provider);
        let mut auth = p.and_then(|p| p.auth.clone());
        if let (Some(a), Some((header, prefix))) = (auth.as_mut(), native::auth(d.api)) {
            // The provider's key, sent the way this API takes it (Anthropic's native API reads
            // `x-api-key`, its compatibility layer a bearer token).
            a.header = header.to_string();
            a.prefix = prefix.to_string();
        }
        let base = p.map_or("/v1", |p| p.base_path.as_str());
        Upstream {
            model: d.id.clone(),
            provider: d.provider.clone(),
            cluster: d.cluster.clone(),
            host: p.map_or_else(|| d.cluster.clone(), |p| p.host.clone()),
            upstream_model: d.upstream_id.clone(),
            path: native::chat_path(d.api, base, &d.upstream_id, stream),
            auth,
            context_window: d.context_window,
            price_in: d.price_in,
            price_out: d.price_out,
            api: d.api,
            max_output: d.max_output,
            quirks: d.quirks,
            long_context: d.long_context,
        }
    }

    /// What a translator of this attempt's body needs.
    pub fn native(&self) -> Native<'_> {
        Native { upstream_model: &self.upstream_model, max_output: self.max_output, quirks: self.quirks }
    }

    /// What this attempt's tokens cost, its API's prompt-cache rates applied.
    pub fn price(&self) -> Price {
        let (read, write, write_1h) = native::cache_rates(self.api);
        Price {
            input: self.price_in,
            output: self.price_out,
            cache_read: self.price_in * read,
            cache_write: self.price_in * write,
            cache_write_1h: self.price_in * write_1h,
            long: self.long_context,
        }
    }

    /// The health records this attempt reports to: its provider's, then its deployment's.
    pub fn health_keys(&self) -> [String; 2] {
        health::keys(&self.provider, &self.model)
    }
}

/// A candidate kept for failover: a deployment of the configuration the route was made with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallback {
    /// Index into that configuration's `catalog.deployments`.
    pub deployment: usize,
    /// The model's context window, tokens (what a context-overflow retry looks for).
    pub context_window: u64,
}

impl Fallback {
    /// The attempt at this candidate; `config` must be the one the route was made with.
    pub fn upstream(&self, config: &Config, stream: bool) -> Option<Upstream> {
        config.catalog.deployments.get(self.deployment).map(|d| Upstream::chat(config, d, stream))
    }
}

/// What a routed request carries upstream, whatever its endpoint: the body and where it goes.
/// The glue applies it to Envoy (body, path, cluster, credentials).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The body for the provider.
    pub body: Vec<u8>,
    /// Where it goes.
    pub to: Upstream,
}
