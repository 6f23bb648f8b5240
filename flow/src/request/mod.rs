//! The per-request context: classify on headers, route on the complete body, report on the
//! response headers, fail over to the next candidate when a provider fails before the first
//! response byte, and make sure a stream that ends early says so.
//!
//! This file owns the request's phases (`Phase`), the [`Http`] context and the dispatch of
//! proxy-wasm callbacks to the file that handles the phase: `classify` (request headers and
//! body: classification, routing, sending, refusals), `attempt` (an attempt's response
//! headers and its health), `failover` (the next attempt out of band, the fallback's answer,
//! the final error), `answer` (costing, metering and translating a non-streamed answer),
//! `stream` (watching a stream), `account` (what the request used, settled at its end).
//! `flight` holds the routed request across its attempts and the rules that read a
//! provider's answer; the phase files import it and it imports none of them, so their imports
//! form no cycle (`Http`'s methods still call one another across files).

mod account;
mod answer;
mod attempt;
mod classify;
mod failover;
mod flight;
mod stream;

use std::rc::Rc;

use model_router_scorer::{ApiError, Endpoint};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel};

use crate::host;
use crate::shared::Shared;

use flight::{Account, Flight, Meter, Watch};

/// Where a request is in its life. Each phase carries only what it needs.
enum Phase {
    /// Not ours: every callback continues untouched.
    PassThrough,
    /// A body to route is still arriving; Envoy buffers it while we pause.
    Buffering(Endpoint),
    /// Sent to a provider, waiting for its response headers.
    Routed(Box<Flight>),
    /// A provider's 400 is buffered to see whether it is a context-length error, which a
    /// larger-window model may still answer.
    Checking(Box<Flight>),
    /// The failed response is held (never reaching the client) while a fallback attempt runs
    /// out of band; its answer replaces it.
    Failing(Box<Flight>),
    /// A successful response whose body is being buffered for translation (the flight's
    /// `translation`), its headers held for its cost.
    Translating(Box<Flight>, u16),
    /// A successful non-streamed response held whole (up to
    /// `resilience.max_held_response_bytes`), so its headers can carry its cost.
    Costing(Box<Flight>),
    /// A non-streamed response too large to hold, passing through: its usage is read from its
    /// end on the way, for the logs and budgets.
    Metering(Box<Meter>),
    /// A streamed answer flowing to the client: its usage chunk priced, its end checked.
    Streaming(Box<Watch>),
    /// Answered locally.
    Answered,
}

/// One HTTP request.
pub struct Http {
    shared: Option<Rc<Shared>>,
    phase: Phase,
    /// The caller, from the configured client header.
    client: Option<String>,
    /// The request headers as the client sent them (without a forged cluster header), read
    /// once.
    request_headers: Vec<(String, String)>,
    /// What the request used, settled at its end.
    account: Account,
}

/// The context for one request, as the root creates it: timed in the instrumented build
/// (`--features timing`), the plain [`Http`] otherwise.
pub fn context(shared: Option<Rc<Shared>>) -> Box<dyn HttpContext> {
    let http = Http::new(shared);
    #[cfg(feature = "timing")]
    return Box::new(crate::timing::Timed(http));
    #[cfg(not(feature = "timing"))]
    Box::new(http)
}

impl Http {
    /// A context for one request; `shared` is `None` only if the plugin never configured.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        Http {
            shared,
            phase: Phase::PassThrough,
            client: None,
            request_headers: Vec::new(),
            account: Account::default(),
        }
    }

    /// The configuration a routed request's response is handled with; logs its absence.
    fn shared_or_log(&self) -> Option<Rc<Shared>> {
        if self.shared.is_none() {
            host::log(LogLevel::Error, "model-router: response for a request routed without configuration");
        }
        self.shared.clone()
    }
}

impl Context for Http {
    fn on_http_call_response(&mut self, _token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Failing(f) => self.on_fallback_response(f, body_size),
            other => self.phase = other,
        }
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.reject(&not_configured());
        };
        match self.classify(&shared) {
            Err(e) => self.host_failure(e),
            Ok(Err(e)) => self.reject(&e),
            Ok(Ok(Endpoint::NotRouted)) => Action::Continue,
            Ok(Ok(ep @ (Endpoint::Models | Endpoint::Model))) => self.answer_models(&shared, ep),
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

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Routed(flight) => self.on_attempt_headers(flight, end_of_stream),
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Translating(f, status) => self.translate_body(f, status, body_size, end_of_stream),
            Phase::Metering(m) => self.meter(m, body_size, end_of_stream),
            Phase::Streaming(w) => self.watch_stream(w, body_size, end_of_stream),
            Phase::Checking(f) => self.check_client_error(f, body_size, end_of_stream),
            Phase::Costing(f) => self.cost_body(f, body_size, end_of_stream),
            Phase::Failing(f) => self.drop_failed_body(f, body_size),
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_log(&mut self) {
        self.finish();
    }
}

/// The answer when the plugin never configured.
pub(super) fn not_configured() -> ApiError {
    ApiError::server(503, "router_not_configured", "the router has no valid configuration")
}
