//! The request's life: classify on headers, route on the complete body, report on the
//! response headers, fail over to the next candidate when a provider fails before the first
//! response byte, and make sure a stream that ends early says so.
//!
//! This file owns the request's phases (`Phase`), the [`Request`] machine and the dispatch of
//! events to the file that handles the phase: `classify` (request headers and body:
//! classification, routing, sending, refusals), `attempt` (an attempt's response headers and
//! its health), `failover` (the next attempt out of band, the fallback's answer, the final
//! error), `answer` (costing, metering and translating a non-streamed answer), `stream`
//! (watching a stream), `account` (what the request used, settled at its end). `flight` holds
//! the routed request across its attempts and the rules that read a provider's answer; the
//! phase files import it and it imports none of them, so their imports form no cycle
//! (`Request`'s methods still call one another across files).

mod account;
mod answer;
mod attempt;
mod checked;
mod classify;
mod count;
mod exhausted;
mod failover;
mod flight;
mod inbound;
mod reply;
mod stream;

#[cfg(test)]
mod tests;

use std::rc::Rc;

use model_router_scorer::{ApiError, Endpoint};

use crate::io::{Buffer, Effect, Event, Host, HostError, Level, Step, Verdict};
use crate::shared::Shared;

use flight::{Account, Flight, Meter, Opening, Watch};

/// Where a request is in its life. Each phase carries only what it needs.
enum Phase {
    /// Not ours: every callback continues untouched.
    PassThrough,
    /// A body to route is still arriving; Envoy buffers it while we pause.
    Buffering(Endpoint),
    /// Refused on its headers while its body is still arriving: answered once the body is in,
    /// since a reply sent while the client still uploads can reach it as a reset stream (an
    /// HTTP/2 client saw `Stream error in the HTTP/2 framing layer` instead of the 415).
    Refusing(Box<ApiError>),
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
    /// A native stream's headers, held until its answer begins: a stream that opens with an
    /// error event, or ends before any answer, is a failed attempt, failed over as a 5xx is.
    Opening(Box<Opening>),
    /// A streamed answer flowing to the client: its usage chunk priced, its end checked.
    Streaming(Box<Watch>),
    /// A token count sent to its provider: its answer passes on as it comes, with the route's
    /// headers (or the estimate answers, when the provider cannot).
    Counting(Box<count::Counting>),
    /// Answered locally.
    Answered,
}

/// One HTTP request's life: feed it the host's events, apply the steps it returns.
pub struct Request {
    shared: Option<Rc<Shared>>,
    phase: Phase,
    /// The caller, from the configured client header.
    client: Option<String>,
    /// The request headers as the client sent them (without a forged cluster header), read
    /// once.
    request_headers: Vec<(String, String)>,
    /// What the request used, settled at its end.
    account: Account,
    /// The effects of the step being taken, in order.
    effects: Vec<Effect>,
    /// A Responses API request: how its answer is rewritten.
    inbound: Option<inbound::Inbound>,
    /// Envoy called a request body or trailers callback.
    body_seen: bool,
}

impl Request {
    /// A request; `shared` is `None` only if the host never configured.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        Request {
            shared,
            phase: Phase::PassThrough,
            client: None,
            request_headers: Vec::new(),
            account: Account::default(),
            effects: Vec::new(),
            inbound: None,
            body_seen: false,
        }
    }

    /// Takes one event: returns what to do with the callback and the effects to apply first.
    pub fn on(&mut self, host: &dyn Host, event: Event) -> Step {
        let verdict = self.dispatch(host, event);
        self.reshape_for_clients_api(host, &event, verdict);
        Step { verdict, effects: std::mem::take(&mut self.effects) }
    }

    /// Hands the event to its phase's handler.
    fn dispatch(&mut self, host: &dyn Host, event: Event) -> Verdict {
        self.body_seen |= matches!(event, Event::RequestBody { .. } | Event::RequestTrailers);
        match event {
            Event::RequestHeaders { end_of_stream } => self.on_request_headers(host, end_of_stream),
            Event::RequestBody { size, end_of_stream } => self.on_request_body(host, size, end_of_stream),
            Event::RequestTrailers => self.on_request_trailers(host),
            Event::ResponseHeaders { end_of_stream } => self.on_response_headers(host, end_of_stream),
            Event::ResponseBody { size, end_of_stream } => self.on_response_body(host, size, end_of_stream),
            Event::Dispatched { sent } => self.on_dispatched(host, sent),
            Event::CallResponse { body_size } => {
                match std::mem::replace(&mut self.phase, Phase::PassThrough) {
                    Phase::Failing(f) => self.on_fallback_response(host, f, body_size),
                    other => self.phase = other,
                }
                Verdict::Continue
            }
            Event::Unsent => {
                // Nothing went out: nothing to charge, no provider to blame for the host's
                // own answer, no fallback for it; a probe slot taken for it is given back.
                if let Phase::Routed(f) = &self.phase {
                    crate::live::release(host, &f.to, f.probes);
                }
                self.phase = Phase::Answered;
                Verdict::Continue
            }
            Event::Log => {
                // Once a minute: clients that leave before sending their bodies end so too (each
                // logged it, a 400-byte line for a 100-byte request).
                if matches!(self.phase, Phase::Buffering(_) | Phase::Refusing(_))
                    && !self.body_seen
                    && crate::live::once_a_minute(host, "model_router.body_withheld_logged")
                {
                    host.log(Level::Warn, BODY_WITHHELD);
                }
                self.finish(host);
                Verdict::Continue
            }
        }
    }

    /// The configuration a routed request's response is handled with; logs its absence.
    fn shared_or_log(&self, host: &dyn Host) -> Option<Rc<Shared>> {
        if self.shared.is_none() {
            host.log(Level::Error, "model-router: response for a request routed without configuration");
        }
        self.shared.clone()
    }

    fn on_request_headers(&mut self, host: &dyn Host, end_of_stream: bool) -> Verdict {
        let Some(shared) = self.shared.clone() else {
            return self.reject(host, &not_configured());
        };
        match self.classify(host, &shared) {
            Err(e) => self.host_failure(host, e),
            Ok(Err(e)) if end_of_stream => self.reject(host, &e),
            Ok(Err(e)) => {
                self.phase = Phase::Refusing(Box::new(e));
                Verdict::Pause
            }
            Ok(Ok(Endpoint::NotRouted)) => Verdict::Continue,
            Ok(Ok(ep @ (Endpoint::Models | Endpoint::Model))) => self.answer_models(host, &shared, ep),
            Ok(Ok(ep)) if end_of_stream => self.on_body_complete(host, ep, 0),
            Ok(Ok(ep)) => {
                // Hold the headers: the cluster is only known once the whole body is here.
                // (Needs `allow_on_headers_stop_iteration: true` in Envoy's wasm config.)
                self.phase = Phase::Buffering(ep);
                Verdict::Pause
            }
        }
    }

    fn on_request_body(&mut self, host: &dyn Host, size: usize, end_of_stream: bool) -> Verdict {
        match &self.phase {
            Phase::Buffering(ep) if end_of_stream => self.on_body_complete(host, *ep, size),
            Phase::Refusing(e) if end_of_stream => {
                let e = e.clone();
                self.reject(host, &e)
            }
            // Pausing here asks Envoy to keep buffering (up to the listener's buffer limit).
            Phase::Buffering(_) | Phase::Refusing(_) => Verdict::Pause,
            _ => Verdict::Continue,
        }
    }

    fn on_request_trailers(&mut self, host: &dyn Host) -> Verdict {
        // Trailers end the body without an end_of_stream body callback.
        if let Phase::Refusing(e) = &self.phase {
            let e = e.clone();
            return self.reject(host, &e);
        }
        if let Phase::Buffering(ep) = self.phase {
            return match host.body(Buffer::RequestBody, 0, usize::MAX).map(|b| b.len()) {
                Ok(size) => self.on_body_complete(host, ep, size),
                Err(e) => self.host_failure(host, e),
            };
        }
        Verdict::Continue
    }

    fn on_response_headers(&mut self, host: &dyn Host, end_of_stream: bool) -> Verdict {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Routed(flight) => self.on_attempt_headers(host, flight, end_of_stream),
            Phase::Counting(c) => self.on_count_headers(host, *c),
            other => {
                self.phase = other;
                Verdict::Continue
            }
        }
    }

    fn on_response_body(&mut self, host: &dyn Host, size: usize, end_of_stream: bool) -> Verdict {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Translating(f, status) => self.translate_body(host, f, status, size, end_of_stream),
            Phase::Metering(m) => self.meter(host, m, size, end_of_stream),
            Phase::Opening(o) => self.open_stream(host, o, size, end_of_stream),
            Phase::Streaming(w) => self.watch_stream(host, w, size, end_of_stream, None),
            Phase::Checking(f) => self.check_client_error(host, f, size, end_of_stream),
            Phase::Costing(f) => self.cost_body(host, f, size, end_of_stream),
            Phase::Failing(f) => self.drop_failed_body(f, size),
            other => {
                self.phase = other;
                Verdict::Continue
            }
        }
    }
}

/// A request that ended waiting for a body Envoy never passed to the filter: without
/// `allow_on_headers_stop_iteration`, Envoy holds every body back from a filter that pauses
/// its headers, and each request waits until its client or a timeout gives up, with nothing
/// else logged.
const BODY_WITHHELD: &str = "model-router: a request ended before Envoy passed its body to the filter: if every request ends so (hanging until a timeout), this filter's Envoy configuration lacks `allow_on_headers_stop_iteration: true`; a client that leaves before sending its body ends so too";

/// The answer when the host never configured.
pub(super) fn not_configured() -> ApiError {
    ApiError::server(503, "router_not_configured", "the router has no valid configuration")
}

/// Logs a host failure that does not change the request's course.
pub(super) fn warn(host: &dyn Host, e: &HostError) {
    host.log(Level::Warn, &format!("model-router: {e}"));
}
