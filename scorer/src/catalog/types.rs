//! The catalog's types: the file's shape ([`RawCatalog`]) and the validated form ([`Catalog`]),
//! with the tiers and APIs they name.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::quirks::Quirks;

/// The catalog compiled into the filter.
pub const BUILTIN_CATALOG: &str = include_str!("../../catalog.json");

/// A capability tier, ordered from cheapest to strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Cheap, fast models for simple requests.
    Economy,
    /// Mid-priced general models.
    Standard,
    /// The strongest models.
    Premium,
}

impl Tier {
    /// All tiers, cheapest first.
    pub const ALL: [Tier; 3] = [Tier::Economy, Tier::Standard, Tier::Premium];

    /// The name clients use.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Economy => "economy",
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }

    /// Parses a tier name; exact and lower-case, like every routing keyword.
    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The next cheaper tier, if any.
    pub fn down(self) -> Option<Tier> {
        match self {
            Tier::Premium => Some(Tier::Standard),
            Tier::Standard => Some(Tier::Economy),
            Tier::Economy => None,
        }
    }

    /// The next stronger tier, if any.
    pub fn up(self) -> Option<Tier> {
        match self {
            Tier::Economy => Some(Tier::Standard),
            Tier::Standard => Some(Tier::Premium),
            Tier::Premium => None,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API a deployment is reached through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// OpenAI Chat Completions (and the providers' OpenAI-compatible endpoints): the client's
    /// body is spliced.
    Chat,
    /// OpenAI Embeddings: routable on `/v1/embeddings`.
    Embeddings,
    /// The OpenAI Responses API (`POST /responses`): chat translated both ways.
    Responses,
    /// AWS Bedrock Converse and ConverseStream: chat translated both ways.
    BedrockConverse,
    /// Bedrock InvokeModel: Titan embeddings, translated; not for chat.
    BedrockInvoke,
    /// Anthropic Messages (`POST /v1/messages`): chat translated both ways.
    Messages,
}

impl Api {
    /// The name in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Chat => "chat",
            Api::Embeddings => "embeddings",
            Api::Responses => "responses",
            Api::BedrockConverse => "bedrock-converse",
            Api::BedrockInvoke => "bedrock-invoke",
            Api::Messages => "messages",
        }
    }

    /// True when the router can send chat requests to it (as they are, or translated). Bedrock
    /// InvokeModel and the Embeddings API carry no chat (embedding models: [`EmbeddingModel::wire`]).
    pub fn routable(self) -> bool {
        !matches!(self, Api::BedrockInvoke | Api::Embeddings)
    }
}

/// What a model is for: a chat tier, or embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawTier {
    /// Economy chat.
    Economy,
    /// Standard chat.
    Standard,
    /// Premium chat.
    Premium,
    /// Embedding model.
    Embedding,
}

/// How the filter authenticates to a provider: a header carrying a key taken from the VM's
/// environment (`vm_config.environment_variables`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Header name, lower-case (`authorization`, `x-api-key`).
    pub header: String,
    /// Text before the key (`Bearer `).
    #[serde(default)]
    pub prefix: String,
    /// Environment variable holding the key.
    pub env: String,
}

/// A provider as the catalog file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// The Envoy cluster that reaches this provider; defaults to the provider's name.
    pub cluster: Option<String>,
    /// The API's host name: the `:authority` of fallback attempts, which Envoy sends without
    /// a route (so without `auto_host_rewrite`). Defaults to the cluster name.
    pub host: Option<String>,
    /// Path prefix of its OpenAI-compatible API (`/v1`, `/v1beta/openai`, `/openai/v1`).
    #[serde(default = "default_base_path")]
    pub base_path: String,
    /// Credentials from the VM environment; absent when Envoy injects them (credential_injector).
    pub auth: Option<Auth>,
}

fn default_base_path() -> String {
    "/v1".to_string()
}

/// One model served by one provider, as the catalog file states it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The catalog id clients pin (`gpt-4.1-mini`).
    pub id: String,
    /// The tier it serves, or `embedding`.
    pub tier: RawTier,
    /// A key of `providers`.
    pub provider: String,
    /// The API it is reached through; `chat` when absent.
    pub api: Option<Api>,
    /// The id this provider expects in the body; defaults to `id`.
    pub upstream_id: Option<String>,
    /// Input plus output tokens the model accepts.
    pub context_window: u64,
    /// Most output tokens per response (chat models).
    pub max_output: Option<u64>,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
    /// USD per million input tokens read from the provider's prompt cache, where it bills
    /// them apart; when absent, what its API is known to charge ([`Deployment::price_cache_read`]).
    pub price_cache_read: Option<f64>,
    /// USD per million audio input tokens, where dearer than text ([`Deployment::price_audio_in`]).
    pub price_audio_in: Option<f64>,
    /// General quality, 0-100; unknown when absent.
    pub quality: Option<f64>,
    /// Coding strength, 0-100; unknown when absent.
    pub coding: Option<f64>,
    /// Output tokens per second; unknown when absent.
    pub speed_tps: Option<f64>,
    /// Accepts tool definitions.
    #[serde(default)]
    pub tools: bool,
    /// Accepts image parts.
    #[serde(default)]
    pub vision: bool,
    /// Accepts reasoning parameters (`reasoning_effort`).
    #[serde(default)]
    pub reasoning: bool,
    /// Honours `response_format` with a JSON schema.
    #[serde(default)]
    pub structured_output: bool,
    /// Produces audio output (`modalities: ["text", "audio"]`).
    #[serde(default)]
    pub audio_output: bool,
    /// Takes only its default sampling (see [`Quirks::fixed_sampling`]).
    #[serde(default)]
    pub fixed_sampling: bool,
    /// Thinks only adaptively (see [`Quirks::adaptive_thinking`]).
    #[serde(default)]
    pub adaptive_thinking: bool,
    /// Refuses a conversation ending on an assistant turn (see [`Quirks::no_prefill`]).
    #[serde(default)]
    pub no_prefill: bool,
    /// Wants its tool calls signed (see [`Quirks::thought_signatures`]).
    #[serde(default)]
    pub thought_signatures: bool,
    /// Refuses an effort beside tools (see [`Quirks::no_effort_with_tools`]).
    #[serde(default)]
    pub no_effort_with_tools: bool,
    /// Streams its tool calls without their `index` (see [`Quirks::indexless_calls`]).
    #[serde(default)]
    pub indexless_calls: bool,
    /// The largest request with an image it takes, bytes (see [`Quirks::image_request_bytes`]).
    pub max_image_request_bytes: Option<u32>,
    /// The most images a request may hold (see [`Quirks::max_images`]).
    pub max_images: Option<u32>,
    /// The `reasoning_effort` values it takes, of [`EFFORTS`] (see [`Quirks::efforts`]);
    /// absent: not known, any is sent.
    pub reasoning_efforts: Option<Vec<String>>,
    /// The effort it thinks at when a request names none, of [`EFFORTS`] (see
    /// [`Quirks::default_effort`]); absent: `medium` for a reasoning model off Anthropic's
    /// Messages API, none otherwise.
    pub default_reasoning_effort: Option<String>,
    /// What of [`REFUSABLE`] its provider answers with a 400 (see [`Quirks::refuses`]).
    #[serde(default)]
    pub refuses: Vec<String>,
    /// What of a chat body its provider refuses and the router drops (see [`Quirks::drops`]).
    #[serde(default)]
    pub drops: Vec<String>,
    /// Dearer rates for a long input (chat models).
    pub long_context: Option<LongContext>,
    /// Embedding models: the full vector size, the most `dimensions` a request may ask for.
    pub dimensions: Option<u64>,
    /// First day (UTC, `YYYY-MM-DD`) the model is no longer served.
    pub retires: Option<String>,
    /// A short name clients may use instead of the id (`embed-small`).
    pub alias: Option<String>,
    /// Where the figures come from.
    #[serde(default)]
    pub source: String,
}

/// Dearer rates for a request whose input passes `above` tokens (Gemini 2.5 Pro's over
/// 200,000, GPT-5.4's over 272,000): its whole input and output are priced at them.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LongContext {
    /// Input tokens above which the rates apply.
    pub above: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
}

/// The catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    /// Providers by name.
    pub providers: BTreeMap<String, RawProvider>,
    /// Every (model, provider) pair.
    pub models: Vec<RawModel>,
}

/// A provider after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Its name, as in the catalog.
    pub name: String,
    /// The Envoy cluster the filter selects for it.
    pub cluster: String,
    /// Its API's host name (the cluster name when the catalog gives none).
    pub host: String,
    /// The catalog gave no host: `host` is the cluster name, and follows a `clusters`
    /// override of it.
    pub host_is_cluster: bool,
    /// Path prefix of its OpenAI-compatible API.
    pub base_path: String,
    /// Credentials the filter sets, if any.
    pub auth: Option<Auth>,
}

/// One (model, provider) pair after validation; signals are filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Catalog model id.
    pub id: String,
    /// Tier (chat models).
    pub tier: Tier,
    /// Provider name.
    pub provider: String,
    /// The provider's Envoy cluster.
    pub cluster: String,
    /// API it is reached through.
    pub api: Api,
    /// Model id sent to the provider.
    pub upstream_id: String,
    /// Context window in tokens.
    pub context_window: u64,
    /// Output limit in tokens.
    pub max_output: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// USD per million output tokens.
    pub price_out: f64,
    /// USD per million input tokens read from the prompt cache (OpenAI's and Gemini's are a
    /// tenth or a quarter of the input price, model by model). `None`: the API's known rate
    /// (Anthropic's Messages, a tenth), else the input price: a discount nobody stated is not
    /// assumed.
    pub price_cache_read: Option<f64>,
    /// USD per million input tokens of audio, where the provider bills them apart (Gemini 2.5
    /// Flash: $1.00 against $0.30 for text). `None`: audio at the input price.
    pub price_audio_in: Option<f64>,
    /// Quality signal, 0-100 (see [`Catalog::try_from`] for unknowns).
    pub quality: f64,
    /// Coding signal, 0-100.
    pub coding: f64,
    /// Static speed prior in output tokens per second.
    pub speed_tps: f64,
    /// Accepts tools.
    pub tools: bool,
    /// Accepts images.
    pub vision: bool,
    /// Accepts reasoning parameters.
    pub reasoning: bool,
    /// Honours JSON-schema response formats.
    pub structured_output: bool,
    /// Produces audio output.
    pub audio_output: bool,
    /// What it takes beyond its protocol.
    pub quirks: Quirks,
    /// Dearer rates for a long input.
    pub long_context: Option<LongContext>,
    /// First day (days since 1970-01-01, UTC) it is no longer served.
    pub retires: Option<i64>,
    /// `retires` as written.
    pub retires_text: Option<String>,
}

impl Deployment {
    /// [`Deployment::rates`] for a request that carries `audio` or not: with audio, every input
    /// token at the audio rate where dearer, as a usage that counts no audio is charged.
    pub fn rates_with(&self, input: u64, audio: bool) -> (f64, f64) {
        let (rate_in, rate_out) = self.rates(input);
        match self.price_audio_in {
            Some(a) if audio => (rate_in.max(a), rate_out),
            _ => (rate_in, rate_out),
        }
    }

    /// USD per million input and output tokens for a request of `input` tokens.
    pub fn rates(&self, input: u64) -> (f64, f64) {
        match self.long_context {
            Some(l) if input > l.above => (l.price_in, l.price_out),
            _ => (self.price_in, self.price_out),
        }
    }

    /// True on and after the retirement day. `now` is seconds since the epoch.
    pub fn retired(&self, now: u64) -> bool {
        past(self.retires, now)
    }
}

/// True on and after `retires` (days since the epoch, UTC); `now` in seconds since the epoch.
fn past(retires: Option<i64>, now: u64) -> bool {
    retires.is_some_and(|day| (now / 86_400) as i64 >= day)
}

/// An embedding model served by one provider.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingModel {
    /// Catalog id.
    pub id: String,
    /// Short name (`embed-small`).
    pub alias: Option<String>,
    /// Provider name.
    pub provider: String,
    /// The provider's Envoy cluster.
    pub cluster: String,
    /// API it is reached through.
    pub api: Api,
    /// Model id sent to the provider.
    pub upstream_id: String,
    /// Input token limit.
    pub context_window: u64,
    /// USD per million input tokens.
    pub price_in: f64,
    /// The full vector size, when the catalog states it: the most `dimensions` a request may
    /// ask for.
    pub dimensions: Option<u64>,
    /// First day (days since the epoch, UTC) it is no longer served.
    pub retires: Option<i64>,
    /// That day as the catalog wrote it.
    pub retires_text: Option<String>,
}

/// What an embeddings provider speaks on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI embeddings: the body passes through.
    OpenAi,
    /// Bedrock InvokeModel for Titan text embeddings: the router translates both ways.
    TitanEmbed,
}

impl EmbeddingModel {
    /// True from its retirement day on (`now` in seconds since the epoch).
    pub fn retired(&self, now: u64) -> bool {
        past(self.retires, now)
    }

    /// How the router reaches it, or `None` if it cannot yet.
    pub fn wire(&self) -> Option<Wire> {
        match self.api {
            Api::Embeddings => Some(Wire::OpenAi),
            Api::BedrockInvoke if self.upstream_id.starts_with("amazon.titan-embed-text") => {
                Some(Wire::TitanEmbed)
            }
            _ => None,
        }
    }
}

/// The validated catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// Providers, sorted by name.
    pub providers: Vec<Provider>,
    /// Chat deployments in file order (routable or not: see [`Api::routable`]).
    pub deployments: Vec<Deployment>,
    /// Embedding models in file order.
    pub embeddings: Vec<EmbeddingModel>,
}

/// Ids that would be read as routing keywords, not as a pinned model.
pub const RESERVED_IDS: [&str; 4] = ["economy", "standard", "premium", "auto"];

impl Catalog {
    /// True when some chat deployment has this model id.
    pub fn has_model(&self, id: &str) -> bool {
        self.deployments.iter().any(|d| d.id == id)
    }

    /// True when `name` is one the router serves as itself: `auto`, a tier, a model or an
    /// embedding model (or its alias). A configured alias never stands for one.
    pub fn serves(&self, name: &str) -> bool {
        RESERVED_IDS.contains(&name)
            || self.has_model(name)
            || self.embeddings.iter().any(|e| e.id == name || e.alias.as_deref() == Some(name))
    }

    /// The provider of a name.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }
}
