//! `--features timing` (make bench's instrumented build, never shipped): the time each
//! callback, and each [`span!`](crate::span) inside them, spends in the VM, host calls
//! included, as two counters, `wasmcustom.model_router.timing_ns.<name>` and
//! `...timing_calls.<name>` (spans are named `span.<name>`). Their ratio is the mean; what
//! Envoy does between callbacks is not in it.

use std::cell::RefCell;
use std::collections::HashMap;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MetricType};

use crate::host;
use crate::metrics::METRIC_PREFIX;

thread_local! {
    /// Counter ids (nanoseconds, calls) by name, defined on first use.
    static IDS: RefCell<HashMap<&'static str, (u32, u32)>> = RefCell::default();
}

/// Runs `f` and adds its time to the counters of `name` (what [`span!`](crate::span) expands to).
pub fn timed<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let start = host::now_nanos().unwrap_or(0);
    let out = f();
    add(name, host::now_nanos().unwrap_or(start).saturating_sub(start));
    out
}

/// Adds `elapsed` nanoseconds and one call to the counters of `name` (the machine's own spans
/// arrive here through `Host::timing`).
pub fn add(name: &'static str, elapsed: u64) {
    IDS.with(|ids| {
        let define = |kind: &str| {
            host::define_metric(MetricType::Counter, &format!("{METRIC_PREFIX}timing_{kind}.{name}"))
                .unwrap_or(0)
        };
        let (ns, calls) = *ids.borrow_mut().entry(name).or_insert_with(|| (define("ns"), define("calls")));
        let _ = host::increment_metric(ns, i64::try_from(elapsed).unwrap_or(i64::MAX));
        let _ = host::increment_metric(calls, 1);
    });
}

/// A request context whose callbacks are timed. Generic, so this module imports nothing of the
/// context it wraps (`http::context` does the wrapping).
pub struct Timed<C>(pub C);

impl<C: Context> Context for Timed<C> {
    fn on_http_call_response(&mut self, token: u32, headers: usize, body_size: usize, trailers: usize) {
        timed("http_call_response", || self.0.on_http_call_response(token, headers, body_size, trailers));
    }
}

impl<C: HttpContext> HttpContext for Timed<C> {
    fn on_http_request_headers(&mut self, n: usize, end_of_stream: bool) -> Action {
        timed("request_headers", || self.0.on_http_request_headers(n, end_of_stream))
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        timed("request_body", || self.0.on_http_request_body(size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, n: usize) -> Action {
        timed("request_trailers", || self.0.on_http_request_trailers(n))
    }

    fn on_http_response_headers(&mut self, n: usize, end_of_stream: bool) -> Action {
        timed("response_headers", || self.0.on_http_response_headers(n, end_of_stream))
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        timed("response_body", || self.0.on_http_response_body(size, end_of_stream))
    }

    fn on_log(&mut self) {
        timed("log", || self.0.on_log());
    }
}
