//! `--features timing` (make bench's instrumented build, never shipped): the time each
//! callback spends inside the VM, host calls included, as two counters per callback,
//! `wasmcustom.model_router.timing_ns.<callback>` and `...timing_calls.<callback>`. Their ratio
//! is the mean; what Envoy does around the callback is not in it.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::host;
use crate::http::Http;
use crate::root::Shared;

/// A request context whose callbacks are timed.
pub struct Timed {
    inner: Http,
    shared: Option<Rc<Shared>>,
}

impl Timed {
    pub fn new(inner: Http, shared: Option<Rc<Shared>>) -> Self {
        Timed { inner, shared }
    }

    fn time<T>(&mut self, callback: &str, f: impl FnOnce(&mut Http) -> T) -> T {
        let start = host::now_nanos().unwrap_or(0);
        let out = f(&mut self.inner);
        let end = host::now_nanos().unwrap_or(start);
        if let Some(s) = &self.shared {
            s.metrics.count(&format!("timing_ns.{callback}"), end.saturating_sub(start));
            s.metrics.count(&format!("timing_calls.{callback}"), 1);
        }
        out
    }
}

impl Context for Timed {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, trailers: usize) {
        self.time("http_call_response", |h| h.on_http_call_response(token, headers, body_size, trailers));
    }
}

impl HttpContext for Timed {
    fn on_http_request_headers(&mut self, n: usize, end_of_stream: bool) -> Action {
        self.time("request_headers", |h| h.on_http_request_headers(n, end_of_stream))
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        self.time("request_body", |h| h.on_http_request_body(size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, n: usize) -> Action {
        self.time("request_trailers", |h| h.on_http_request_trailers(n))
    }

    fn on_http_response_headers(&mut self, n: usize, end_of_stream: bool) -> Action {
        self.time("response_headers", |h| h.on_http_response_headers(n, end_of_stream))
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        self.time("response_body", |h| h.on_http_response_body(size, end_of_stream))
    }

    fn on_log(&mut self) {
        self.time("log", |h| h.on_log());
    }
}

thread_local! {
    static SPAN_IDS: std::cell::RefCell<std::collections::HashMap<String, (u32, u32)>> = Default::default();
}

/// Times `f` as `timing_ns.span.<name>` (with its call count).
pub fn span<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let start = host::now_nanos().unwrap_or(0);
    let out = f();
    let end = host::now_nanos().unwrap_or(start);
    SPAN_IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        let define = |kind: &str| {
            host::define_metric(
                proxy_wasm::types::MetricType::Counter,
                &format!("{}timing_{kind}.span.{name}", crate::live::METRIC_PREFIX),
            )
            .unwrap_or(0)
        };
        let (ns, calls) = *ids.entry(name.to_string()).or_insert_with(|| (define("ns"), define("calls")));
        let _ = host::increment_metric(ns, i64::try_from(end.saturating_sub(start)).unwrap_or(0));
        let _ = host::increment_metric(calls, 1);
    });
    out
}
