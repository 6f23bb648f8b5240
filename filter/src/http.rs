//! The per-request context: classify on headers, route on the complete body, report on the
//! response headers.

use std::rc::Rc;

use model_router_scorer::route::Memory;
use model_router_scorer::{ApiError, Config, Endpoint, Route, analyze, endpoint};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use crate::headers as h;
use crate::host::{self, HostError};

/// Where a request is in its life. Each phase carries only what it needs.
enum Phase {
    /// Not ours: every callback continues untouched.
    PassThrough,
    /// A chat request whose body is still arriving; Envoy buffers it while we pause.
    Buffering,
    /// Sent to a provider; the response headers will say which.
    Routed(Box<Route>),
    /// Answered locally.
    Answered,
}

/// One HTTP request.
pub struct Http {
    config: Option<Rc<Config>>,
    phase: Phase,
}

impl Http {
    /// A context for one request; `config` is `None` only if the plugin never configured.
    pub fn new(config: Option<Rc<Config>>) -> Self {
        Http { config, phase: Phase::PassThrough }
    }

    fn reject(&mut self, e: &ApiError) -> Action {
        self.phase = Phase::Answered;
        let sent = host::send_response(
            u32::from(e.status),
            "model_router_rejected",
            &[(h::CONTENT_TYPE, "application/json")],
            e.body().as_bytes(),
        );
        if let Err(err) = sent {
            host::log(LogLevel::Error, &format!("model-router: {err}"));
        }
        Action::Pause
    }

    fn host_failure(&mut self, e: HostError) -> Action {
        host::log(LogLevel::Error, &format!("model-router: {e}"));
        self.reject(&ApiError {
            status: 500,
            message: "the router could not process this request".into(),
            kind: "server_error",
            param: None,
            code: "router_internal_error",
        })
    }

    /// Classifies the request. Returns the endpoint, or the error to answer with.
    fn classify(&self, config: &Config) -> Result<Result<Endpoint, ApiError>, HostError> {
        // A client must never choose the cluster: drop any copy it sent, on every request.
        if host::header(MapType::HttpRequestHeaders, &config.cluster_header)?.is_some() {
            host::remove_header(MapType::HttpRequestHeaders, &config.cluster_header)?;
        }
        let method = host::header(MapType::HttpRequestHeaders, h::METHOD)?.unwrap_or_default();
        let path = host::header(MapType::HttpRequestHeaders, h::PATH)?.unwrap_or_default();
        let ep = endpoint(&method, &path);
        if ep != Ok(Endpoint::Chat) {
            return Ok(ep);
        }
        // The body must be readable as sent: a compressed one would be routed on garbage.
        let encoding = host::header(MapType::HttpRequestHeaders, h::CONTENT_ENCODING)?;
        if let Some(enc) = encoding.filter(|e| !e.trim().eq_ignore_ascii_case("identity")) {
            let mut e = ApiError::invalid(
                "unsupported_content_encoding",
                None,
                format!(
                    "content-encoding {} is not supported on {}: send an uncompressed JSON body",
                    model_router_scorer::error::echo(&enc),
                    model_router_scorer::route::CHAT_PATH
                ),
            );
            e.status = 415;
            return Ok(Err(e));
        }
        Ok(Ok(Endpoint::Chat))
    }

    /// Routes the complete body: rewrite it, point Envoy's route at the provider's cluster.
    fn route(&mut self, config: &Config, body_size: usize) -> Result<Action, HostError> {
        let body = host::buffer(BufferType::HttpRequestBody, body_size)?;
        let analysis = match analyze(config, &body) {
            Ok(a) => a,
            Err(e) => return Ok(self.reject(&e)),
        };
        // Stickiness: the scorer stays pure, so the remembered tier is read here and passed in.
        let remembered = match analysis.sticky_slot(config) {
            Some((key, _)) => host::shared_get(&key)?.0,
            None => None,
        };
        let now = host::now_secs()?;
        let mut route = match analysis.route(config, remembered.as_deref(), now) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(&e)),
        };
        if let Some(memory) = &route.memory {
            remember(memory)?;
        }
        host::replace_buffer(BufferType::HttpRequestBody, body_size, &route.body)?;
        host::set_header(MapType::HttpRequestHeaders, h::CONTENT_LENGTH, &route.body.len().to_string())?;
        // Changing a request header clears Envoy's route cache, so the router filter
        // re-matches and its `cluster_header` route now sees the provider's cluster.
        host::set_header(MapType::HttpRequestHeaders, &config.cluster_header, &route.cluster)?;
        route.body = Vec::new();
        self.phase = Phase::Routed(Box::new(route));
        Ok(Action::Continue)
    }

    fn on_body_complete(&mut self, body_size: usize) -> Action {
        let Some(config) = self.config.clone() else {
            return self.reject(&not_configured());
        };
        match self.route(&config, body_size) {
            Ok(action) => action,
            Err(e) => self.host_failure(e),
        }
    }
}

/// Stores a conversation's tier with compare-and-swap, so a concurrent writer on another
/// worker is merged with, not overwritten (the higher tier wins).
fn remember(memory: &Memory) -> Result<(), HostError> {
    for _ in 0..3 {
        let (current, cas) = host::shared_get(&memory.key)?;
        let value = memory.value(current.as_deref());
        if host::shared_set(&memory.key, value.as_bytes(), cas)? == host::Swap::Done {
            return Ok(());
        }
    }
    // Lost three races in a row: stickiness for this turn is best effort, routing is not.
    host::log(LogLevel::Warn, "model-router: could not store the conversation tier (contention)");
    Ok(())
}

fn not_configured() -> ApiError {
    ApiError {
        status: 503,
        message: "the router has no valid configuration".into(),
        kind: "server_error",
        param: None,
        code: "router_not_configured",
    }
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(config) = self.config.clone() else {
            return self.reject(&not_configured());
        };
        match self.classify(&config) {
            Err(e) => self.host_failure(e),
            Ok(Err(e)) => self.reject(&e),
            Ok(Ok(Endpoint::NotRouted)) => Action::Continue,
            Ok(Ok(Endpoint::Chat)) if end_of_stream => self.on_body_complete(0),
            Ok(Ok(Endpoint::Chat)) => {
                // Hold the headers: the cluster is only known once the whole body is here.
                // (Needs `allow_on_headers_stop_iteration: true` in Envoy's wasm config.)
                self.phase = Phase::Buffering;
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.phase {
            Phase::Buffering if end_of_stream => self.on_body_complete(body_size),
            // Pausing here asks Envoy to keep buffering (up to the listener's buffer limit).
            Phase::Buffering => Action::Pause,
            _ => Action::Continue,
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the body without an end_of_stream body callback.
        if matches!(self.phase, Phase::Buffering) {
            let size = host::buffer(BufferType::HttpRequestBody, usize::MAX).map(|b| b.len());
            return match size {
                Ok(size) => self.on_body_complete(size),
                Err(e) => self.host_failure(e),
            };
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Phase::Routed(route) = &self.phase else {
            return Action::Continue;
        };
        let pairs = [
            (h::MODEL, route.model.as_str()),
            (h::PROVIDER, route.provider.as_str()),
            (h::TIER, route.tier.as_str()),
            (h::PREFER, route.prefer.as_str()),
            (h::SELECTION, route.selection.as_str()),
        ];
        let auto = route.auto.as_ref().map(|a| {
            let mut v = vec![
                (h::AUTO_TIER, a.tier.as_str().to_string()),
                (h::AUTO_SCORE, format!("{:.3}", a.score)),
                (h::AUTO_REASONS, a.reasons.join(",")),
            ];
            if a.sticky {
                v.push((h::AUTO_STICKY, "true".to_string()));
            }
            v
        });
        let auto_pairs = auto.iter().flatten().map(|(k, v)| (*k, v.as_str()));
        for (name, value) in pairs.into_iter().chain(auto_pairs) {
            if let Err(e) = host::set_header(MapType::HttpResponseHeaders, name, value) {
                host::log(LogLevel::Warn, &format!("model-router: {e}"));
            }
        }
        Action::Continue
    }
}
