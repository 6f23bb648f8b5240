//! The per-request context: each proxy-wasm callback becomes an [`Event`] for the request's
//! state machine ([`Request`], in `model-router-flow`), and the [`Effect`]s it returns become
//! host calls. Nothing here decides anything; [`Wasm`] offers the machine the host's
//! services (clock, headers, bodies, shared data, metrics, logs, filter state).

use std::rc::Rc;
use std::time::Duration;

use model_router_flow::{Buffer, Effect, Event, Host, HostError, Level, Map, Request, Shared, Swap, Verdict};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use crate::host;
use crate::metrics::Metrics;

/// One HTTP request.
pub struct Http {
    request: Request,
    metrics: Rc<Metrics>,
}

/// The context for one request, as the root creates it: timed in the instrumented build
/// (`--features timing`), the plain [`Http`] otherwise.
pub fn context(shared: Option<Rc<Shared>>, metrics: Rc<Metrics>) -> Box<dyn HttpContext> {
    let http = Http { request: Request::new(shared), metrics };
    #[cfg(feature = "timing")]
    return Box::new(crate::timing::Timed(http));
    #[cfg(not(feature = "timing"))]
    Box::new(http)
}

impl Http {
    /// Feeds one event to the machine and applies what it returns. A call to another cluster
    /// is made where the step says, and whether it went out is fed back before the callback
    /// returns.
    fn run(&mut self, event: Event) -> Action {
        let wasm = Wasm { metrics: &self.metrics };
        let mut step = self.request.on(&wasm, event);
        loop {
            match apply(&wasm, step.effects) {
                Applied::Done => break,
                Applied::Called { sent } => step = self.request.on(&wasm, Event::Dispatched { sent }),
                Applied::Failed => {
                    // A routed request that cannot be rewritten must not go out half-changed,
                    // and the machine must not take the answer below for a provider's.
                    let _ = self.request.on(&wasm, Event::Unsent);
                    let e = model_router_scorer::ApiError::server(
                        500,
                        "router_internal_error",
                        "the router could not process this request",
                    );
                    let headers = [("content-type", "application/json")];
                    if let Err(err) = host::send_response(500, "model_router", &headers, e.body().as_bytes())
                    {
                        host::log(LogLevel::Error, &format!("model-router: {err}"));
                    }
                    return Action::Pause;
                }
            }
        }
        match step.verdict {
            Verdict::Continue => Action::Continue,
            Verdict::Pause => Action::Pause,
        }
    }
}

/// How applying a step's effects went.
enum Applied {
    /// All applied (a failed response-side change is logged and skipped).
    Done,
    /// All applied, the last one a call: `sent` says whether it went out.
    Called { sent: bool },
    /// A request-side change failed.
    Failed,
}

fn apply(wasm: &Wasm<'_>, effects: Vec<Effect>) -> Applied {
    let mut called = None;
    for effect in effects {
        let request_side = effect.is_request_change();
        let result = match effect {
            Effect::RemoveRequestHeader(name) => host::remove_header(MapType::HttpRequestHeaders, &name),
            Effect::SetRequestHeader(name, value) => {
                host::set_header(MapType::HttpRequestHeaders, name, &value)
            }
            Effect::SetRequestHeaders(pairs) => {
                crate::span!("set_request_headers", host::set_headers(MapType::HttpRequestHeaders, &pairs))
            }
            Effect::ReplaceRequestBody { size, bytes } => {
                crate::span!("replace_body", host::replace_buffer(BufferType::HttpRequestBody, size, &bytes))
            }
            Effect::SetResponseHeader(name, value) => {
                host::set_header(MapType::HttpResponseHeaders, name, &value)
            }
            Effect::RemoveResponseHeader(name) => host::remove_header(MapType::HttpResponseHeaders, &name),
            Effect::ReplaceResponseBody { size, bytes } => {
                host::replace_buffer(BufferType::HttpResponseBody, size, &bytes)
            }
            Effect::Respond { status, details, headers, body } => {
                let pairs: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                host::send_response(u32::from(status), details, &pairs, &body)
            }
            Effect::Call { cluster, headers, body, timeout_ms } => {
                let pairs: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let timeout = Duration::from_millis(timeout_ms);
                let sent =
                    proxy_wasm::hostcalls::dispatch_http_call(&cluster, pairs, Some(&body), vec![], timeout);
                if let Err(status) = &sent {
                    wasm.log(
                        Level::Warn,
                        &format!("model-router: cannot call cluster {cluster}: {status:?}"),
                    );
                }
                called = Some(sent.is_ok());
                Ok(())
            }
        };
        if let Err(e) = result {
            host::log(LogLevel::Error, &format!("model-router: {e}"));
            if request_side {
                return Applied::Failed;
            }
        }
    }
    match called {
        Some(sent) => Applied::Called { sent },
        None => Applied::Done,
    }
}

impl Context for Http {
    fn on_http_call_response(&mut self, _token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        self.run(Event::CallResponse { body_size });
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.run(Event::RequestHeaders { end_of_stream })
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        self.run(Event::RequestBody { size, end_of_stream })
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.run(Event::RequestTrailers)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.run(Event::ResponseHeaders { end_of_stream })
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        self.run(Event::ResponseBody { size, end_of_stream })
    }

    fn on_log(&mut self) {
        self.run(Event::Log);
        self.metrics.memory();
    }
}

/// The host's services as proxy-wasm offers them.
pub(crate) struct Wasm<'a> {
    pub(crate) metrics: &'a Metrics,
}

fn map(m: Map) -> MapType {
    match m {
        Map::RequestHeaders => MapType::HttpRequestHeaders,
        Map::ResponseHeaders => MapType::HttpResponseHeaders,
        Map::CallResponseHeaders => MapType::HttpCallResponseHeaders,
    }
}

fn err(e: host::HostError) -> HostError {
    HostError { call: e.call, detail: format!("status {:?}", e.status) }
}

impl Host for Wasm<'_> {
    fn now_ns(&self) -> Result<u64, HostError> {
        host::now_nanos().map_err(err)
    }

    fn headers(&self, m: Map) -> Result<Vec<(String, String)>, HostError> {
        host::headers(map(m)).map_err(err)
    }

    fn header(&self, m: Map, name: &str) -> Result<Option<String>, HostError> {
        host::header(map(m), name).map_err(err)
    }

    fn response_details(&self) -> Result<Option<String>, HostError> {
        let bytes = host::property("response\0code_details").map_err(err)?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn body(&self, buffer: Buffer, start: usize, len: usize) -> Result<Vec<u8>, HostError> {
        let kind = match buffer {
            Buffer::RequestBody => BufferType::HttpRequestBody,
            Buffer::ResponseBody => BufferType::HttpResponseBody,
            Buffer::CallResponseBody => BufferType::HttpCallResponseBody,
        };
        host::buffer_range(kind, start, len).map_err(err)
    }

    fn shared_get(&self, key: &str) -> Result<(Option<Vec<u8>>, u32), HostError> {
        host::shared_get(key).map_err(err)
    }

    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<Swap, HostError> {
        host::shared_set(key, value, cas).map_err(err).map(|s| match s {
            host::Swap::Done => Swap::Done,
            host::Swap::Conflict => Swap::Conflict,
        })
    }

    fn count(&self, name: &str, by: u64) {
        self.metrics.count(name, by);
    }

    fn gauge(&self, name: &str, value: u64) {
        self.metrics.gauge(name, value);
    }

    fn histogram(&self, name: &str, value: u64) {
        self.metrics.histogram(name, value);
    }

    fn note(&self, key: &str, value: &str) {
        if let Err(e) = host::set_property(&format!("model_router.{key}"), value) {
            host::log(LogLevel::Debug, &format!("model-router: {e}"));
        }
    }

    fn log(&self, level: Level, message: &str) {
        let level = match level {
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        host::log(level, message);
    }

    #[cfg(feature = "timing")]
    fn timing(&self, name: &'static str, ns: u64) {
        crate::timing::add(name, ns);
    }
}
