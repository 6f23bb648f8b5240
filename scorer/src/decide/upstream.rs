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
    /// USD per million input tokens read from the prompt cache, where the catalog states it.
    pub price_cache_read: Option<f64>,
    /// USD per million audio input tokens, where the catalog states a rate of their own.
    pub price_audio_in: Option<f64>,
    /// The request carries audio (an `input_audio` part): its provider's audio rate applies.
    pub audio_input: bool,
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
            price_cache_read: None,
            price_audio_in: None,
            audio_input: false,
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
            price_cache_read: d.price_cache_read,
            price_audio_in: d.price_audio_in,
            audio_input: false,
            api: d.api,
            max_output: d.max_output,
            quirks: Quirks { auto_cache: config.anthropic_auto_cache && d.api == Api::Messages, ..d.quirks },
            long_context: d.long_context,
        }
    }

    /// What a translator of this attempt's body needs.
    pub fn native(&self) -> Native<'_> {
        Native {
            model: &self.model,
            upstream_model: &self.upstream_model,
            max_output: self.max_output,
            quirks: self.quirks,
        }
    }

    /// The most output `choices` answers of its model write together, tokens (`u64::MAX`: its
    /// `max_output` is not known).
    pub fn most_output(&self, choices: u64) -> u64 {
        match self.max_output {
            0 => u64::MAX,
            max => max.saturating_mul(choices.max(1)),
        }
    }

    /// What this attempt's tokens cost: cache reads at the catalog's price where it states one,
    /// else at its API's prompt-cache rates.
    pub fn price(&self) -> Price {
        let (read, write, write_1h) = native::cache_rates(self.api);
        Price {
            input: self.price_in,
            output: self.price_out,
            cache_read: self.price_cache_read.unwrap_or(self.price_in * read),
            cache_write: self.price_in * write,
            cache_write_1h: self.price_in * write_1h,
            audio: self.price_audio_in.unwrap_or(self.price_in),
            // A provider that bills audio apart but reports no audio count: every input token
            // of the request is priced as audio (over, not under).
            audio_unreported: self.audio_input && self.price_audio_in.is_some(),
            long: self.long_context,
        }
    }

    /// The health records this attempt reports to: its provider's, then its deployment's.
    pub fn health_keys(&self) -> [String; 2] {
        health::keys(&self.provider, &self.cluster, &self.model)
    }
}

/// A candidate kept for failover: a deployment of the configuration the route was made with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallback {
    /// Index into that configuration's `catalog.deployments`.
    pub deployment: usize,
    /// The model's context window, tokens (what a context-overflow retry looks for).
    pub context_window: u64,
    /// The output cap it may be sent ([`crate::decide::select::Needs::output_room`]).
    pub max_output: u64,
    /// The request carries audio ([`Upstream::audio_input`]).
    pub audio: bool,
}

impl Fallback {
    /// The attempt at this candidate; `config` must be the one the route was made with.
    pub fn upstream(&self, config: &Config, stream: bool) -> Option<Upstream> {
        let d = config.catalog.deployments.get(self.deployment)?;
        Some(Upstream {
            max_output: self.max_output,
            audio_input: self.audio,
            ..Upstream::chat(config, d, stream)
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Usage;

    /// USD per million input tokens for a request of `input` tokens of which `cached` were read
    /// from the prompt cache, on `model` at `provider` in the built-in catalog (`free`: named in
    /// the configuration's `free` list).
    fn rate(model: &str, provider: &str, input: u64, cached: u64, free: bool) -> f64 {
        let json = if free { format!(r#"{{"free":["{provider}/{model}"]}}"#) } else { String::new() };
        let c = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let d = c.catalog.deployments.iter().find(|d| d.id == model && d.provider == provider);
        let d = d.unwrap_or_else(|| panic!("no {provider}/{model}"));
        let usage = Usage { input, cache_read: cached, ..Usage::default() };
        let usd = usage.cost(&Upstream::chat(&c, d, false).price()) * 1e6 / input as f64;
        (usd * 1e6).round() / 1e6
    }

    /// A cached token is charged what the provider bills for it where the catalog knows it
    /// (OpenAI and Gemini read from their caches at a quarter or a tenth of the input price,
    /// which an agent's growing conversation hits on most of its input), and the input price
    /// where it does not.
    #[test]
    fn a_cached_input_token_costs_the_catalogs_cache_read_price() {
        const N: u64 = 100_000;
        let cases = [
            // (model, provider, cached, USD per million input tokens)
            ("gpt-4.1", "openai", 0, 2.0),
            ("gpt-4.1", "openai", N * 8 / 10, 0.2 * 2.0 + 0.8 * 0.5),
            ("gpt-5.4", "openai", N * 9 / 10, 0.1 * 2.5 + 0.9 * 0.25),
            ("gemini-2.5-flash", "google-gemini", N, 0.03),
            // Anthropic's rule, stated or not: a tenth.
            ("claude-sonnet-4-6", "anthropic", N, 0.3),
            // The same model elsewhere: Groq states its own; Cerebras (at its own input price)
            // and Bedrock do not.
            ("gpt-oss-120b", "groq", N, 0.075),
            ("gpt-oss-120b", "cerebras", N, 0.35),
            ("gpt-oss-120b", "aws-bedrock", N, 0.15),
        ];
        for (model, provider, cached, want) in cases {
            assert_eq!(
                rate(model, provider, N, cached, false),
                want,
                "{provider}/{model} with {cached} cached"
            );
        }
        assert_eq!(
            rate("gpt-4.1", "openai", N, N, true),
            0.0,
            "a free deployment's cache reads are free too"
        );
    }

    /// Past a long-context threshold the cache read keeps its ratio to the input price, as
    /// Google and OpenAI price it (GPT-5.4 above 272,000 tokens: $5 in, $0.50 cached).
    #[test]
    fn a_long_inputs_cache_reads_scale_with_its_input_price() {
        assert_eq!(rate("gpt-5.4", "openai", 300_000, 300_000, false), 0.5);
        assert_eq!(rate("gemini-2.5-pro", "google-gemini", 300_000, 300_000, false), 0.25);
    }
}
