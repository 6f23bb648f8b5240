//! The per-request context: classify on headers, route on the complete body, report on the
//! response headers.

use std::rc::Rc;

use model_router_scorer::embeddings::route_embeddings;
use model_router_scorer::route::{Memory, Target};
use model_router_scorer::translate::{self, ResponseTranslation};
use model_router_scorer::{ApiError, Endpoint, Route, analyze, endpoint, models};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use crate::headers as h;
use crate::host::{self, HostError};
use crate::root::Shared;

/// Where a request is in its life. Each phase carries only what it needs.
enum Phase {
    /// Not ours: every callback continues untouched.
    PassThrough,
    /// A body to route is still arriving; Envoy buffers it while we pause.
    Buffering(Endpoint),
    /// Sent to a provider; these headers go on the response, and its body may need
    /// translating back to the OpenAI shape.
    Routed(Vec<(&'static str, String)>, Option<ResponseTranslation>),
    /// A successful response whose body is being buffered for translation.
    Translating(ResponseTranslation),
    /// Answered locally.
    Answered,
}

/// One HTTP request.
pub struct Http {
    shared: Option<Rc<Shared>>,
    phase: Phase,
    /// The caller, from the configured client header.
    client: Option<String>,
}

impl Http {
    /// A context for one request; `shared` is `None` only if the plugin never configured.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        Http { shared, phase: Phase::PassThrough, client: None }
    }

    fn reject(&mut self, e: &ApiError) -> Action {
        self.answer(u32::from(e.status), &e.body())
    }

    fn answer(&mut self, status: u32, body: &str) -> Action {
        self.phase = Phase::Answered;
        let sent = host::send_response(
            status,
            "model_router",
            &[(h::CONTENT_TYPE, "application/json")],
            body.as_bytes(),
        );
        if let Err(err) = sent {
            host::log(LogLevel::Error, &format!("model-router: {err}"));
        }
        Action::Pause
    }

    fn host_failure(&mut self, e: HostError) -> Action {
        host::log(LogLevel::Error, &format!("model-router: {e}"));
        self.reject(&ApiError::server(
            500,
            "router_internal_error",
            "the router could not process this request",
        ))
    }

    /// Classifies the request. Returns the endpoint, or the error to answer with.
    fn classify(&mut self, shared: &Shared) -> Result<Result<Endpoint, ApiError>, HostError> {
        let config = &shared.config;
        // A client must never choose the cluster: drop any copy it sent, on every request.
        if host::header(MapType::HttpRequestHeaders, &config.cluster_header)?.is_some() {
            host::remove_header(MapType::HttpRequestHeaders, &config.cluster_header)?;
        }
        let method = host::header(MapType::HttpRequestHeaders, h::METHOD)?.unwrap_or_default();
        let path = host::header(MapType::HttpRequestHeaders, h::PATH)?.unwrap_or_default();
        let ep = endpoint(&method, &path);
        if !matches!(ep, Ok(Endpoint::Chat | Endpoint::Embeddings | Endpoint::Models)) {
            return Ok(ep);
        }
        if let Some(name) = &config.client_header {
            self.client = host::header(MapType::HttpRequestHeaders, name)?;
        }
        // The body must be readable as sent: a compressed one would be routed on garbage.
        let encoding = host::header(MapType::HttpRequestHeaders, h::CONTENT_ENCODING)?;
        if let Some(enc) = encoding.filter(|e| !e.trim().eq_ignore_ascii_case("identity")) {
            let e = ApiError::invalid(
                "unsupported_content_encoding",
                None,
                format!(
                    "content-encoding {} is not supported: send an uncompressed JSON body",
                    model_router_scorer::error::echo(&enc)
                ),
            )
            .with_status(415);
            return Ok(Err(e));
        }
        Ok(ep)
    }

    /// Points the request at its provider: new body, path, cluster and credentials. The
    /// client's own credentials never travel on.
    fn send(&mut self, shared: &Shared, t: &Target, body_size: usize) -> Result<(), HostError> {
        host::replace_buffer(BufferType::HttpRequestBody, body_size, &t.body)?;
        host::set_header(MapType::HttpRequestHeaders, h::CONTENT_LENGTH, &t.body.len().to_string())?;
        host::set_header(MapType::HttpRequestHeaders, h::PATH, &t.path)?;
        for name in h::CLIENT_CREDENTIALS {
            host::remove_header(MapType::HttpRequestHeaders, name)?;
        }
        if let Some(auth) = &t.auth {
            // Without a key in the VM environment, Envoy's credential_injector (if configured
            // on the cluster) supplies it upstream.
            if let Some(key) = shared.keys.get(&auth.env) {
                host::set_header(
                    MapType::HttpRequestHeaders,
                    &auth.header,
                    &format!("{}{key}", auth.prefix),
                )?;
            }
        }
        // Changing a request header clears Envoy's route cache, so the router filter
        // re-matches and its `cluster_header` route now sees the provider's cluster.
        host::set_header(MapType::HttpRequestHeaders, &shared.config.cluster_header, &t.cluster)
    }

    /// Routes a complete chat body.
    fn route_chat(&mut self, shared: &Shared, body_size: usize) -> Result<Action, HostError> {
        let config = &shared.config;
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
        let ctx = model_router_scorer::Context {
            remembered: remembered.as_deref(),
            now: host::now_secs()?,
            client: self.client.as_deref(),
        };
        let route = match analysis.route(config, &ctx) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(&e)),
        };
        if let Some(memory) = &route.memory {
            remember(memory)?;
        }
        self.send(shared, &route.target, body_size)?;
        self.phase = Phase::Routed(chat_report(&route), None);
        Ok(Action::Continue)
    }

    /// Routes a complete embeddings body.
    fn route_embeddings(&mut self, shared: &Shared, body_size: usize) -> Result<Action, HostError> {
        let body = host::buffer(BufferType::HttpRequestBody, body_size)?;
        let ctx = model_router_scorer::Context {
            now: host::now_secs()?,
            client: self.client.as_deref(),
            remembered: None,
        };
        let route = match route_embeddings(&shared.config, &body, &ctx) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(&e)),
        };
        self.send(shared, &route.target, body_size)?;
        self.phase = Phase::Routed(
            vec![(h::MODEL, route.target.model), (h::PROVIDER, route.target.provider)],
            route.translate,
        );
        Ok(Action::Continue)
    }

    fn on_body_complete(&mut self, endpoint: Endpoint, body_size: usize) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.reject(&not_configured());
        };
        let routed = match endpoint {
            Endpoint::Embeddings => self.route_embeddings(&shared, body_size),
            _ => self.route_chat(&shared, body_size),
        };
        routed.unwrap_or_else(|e| self.host_failure(e))
    }
}

/// The response headers that tell the client what ran.
fn chat_report(route: &Route) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (h::MODEL, route.target.model.clone()),
        (h::PROVIDER, route.target.provider.clone()),
        (h::TIER, route.tier.as_str().to_string()),
        (h::PREFER, route.prefer.as_str().to_string()),
        (h::SELECTION, route.selection.as_str().to_string()),
    ];
    if let Some(why) = route.escalated {
        v.push((h::ESCALATED, why.to_string()));
    }
    if let Some(a) = &route.auto {
        v.push((h::AUTO_TIER, a.tier.as_str().to_string()));
        v.push((h::AUTO_SCORE, format!("{:.3}", a.score)));
        v.push((h::AUTO_REASONS, a.reasons.join(",")));
        if a.sticky {
            v.push((h::AUTO_STICKY, "true".to_string()));
        }
    }
    v
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
    ApiError::server(503, "router_not_configured", "the router has no valid configuration")
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.reject(&not_configured());
        };
        match self.classify(&shared) {
            Err(e) => self.host_failure(e),
            Ok(Err(e)) => self.reject(&e),
            Ok(Ok(Endpoint::NotRouted)) => Action::Continue,
            Ok(Ok(Endpoint::Models)) => {
                let now = match host::now_secs() {
                    Ok(n) => n,
                    Err(e) => return self.host_failure(e),
                };
                let policy = shared.config.policy_for(self.client.as_deref());
                self.answer(200, &models::list(&shared.config, policy, now))
            }
            Ok(Ok(ep)) if end_of_stream => self.on_body_complete(ep, 0),
            Ok(Ok(ep)) => {
                // Hold the headers: the cluster is only known once the whole body is here.
                // (Needs `allow_on_headers_stop_iteration: true` in Envoy's wasm config.)
                self.phase = Phase::Buffering(ep);
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.phase {
            Phase::Buffering(ep) if end_of_stream => self.on_body_complete(ep, body_size),
            // Pausing here asks Envoy to keep buffering (up to the listener's buffer limit).
            Phase::Buffering(_) => Action::Pause,
            _ => Action::Continue,
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the body without an end_of_stream body callback.
        if let Phase::Buffering(ep) = self.phase {
            let size = host::buffer(BufferType::HttpRequestBody, usize::MAX).map(|b| b.len());
            return match size {
                Ok(size) => self.on_body_complete(ep, size),
                Err(e) => self.host_failure(e),
            };
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let Phase::Routed(report, translation) = &mut self.phase else {
            return Action::Continue;
        };
        for (name, value) in report.iter() {
            if let Err(e) = host::set_header(MapType::HttpResponseHeaders, name, value) {
                host::log(LogLevel::Warn, &format!("model-router: {e}"));
            }
        }
        let Some(t) = translation.take() else { return Action::Continue };
        // Only a success is translated; a provider's error passes through as it is.
        let ok =
            host::header(MapType::HttpResponseHeaders, h::STATUS).ok().flatten().as_deref() == Some("200");
        if ok {
            // The body changes size: drop content-length now, while the headers can change.
            let prepared =
                host::remove_header(MapType::HttpResponseHeaders, h::CONTENT_LENGTH).and_then(|()| {
                    host::set_header(MapType::HttpResponseHeaders, h::CONTENT_TYPE, "application/json")
                });
            match prepared {
                Ok(()) => self.phase = Phase::Translating(t),
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: {e}")),
            }
        }
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Phase::Translating(t) = &self.phase else {
            return Action::Continue;
        };
        if !end_of_stream {
            // Buffer the whole (small) provider response before rewriting it.
            return Action::Pause;
        }
        let out =
            host::buffer(BufferType::HttpResponseBody, body_size).map(|body| translate::response(t, &body));
        let replacement = match out {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(why)) => {
                host::log(LogLevel::Warn, &format!("model-router: {why}"));
                ApiError::server(
                    502,
                    "bad_upstream_response",
                    "the provider's response could not be translated",
                )
                .body()
                .into_bytes()
            }
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: {e}"));
                return Action::Continue;
            }
        };
        if let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, &replacement) {
            host::log(LogLevel::Error, &format!("model-router: {e}"));
        }
        Action::Continue
    }
}
