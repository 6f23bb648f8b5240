//! The bench probe: what the router's steps cost in Envoy and V8, without the router's own work.
//!
//! Each request names the steps in its `x-probe` header (comma-separated); the probe does
//! exactly those, the way the router does them, and nothing else:
//!
//! - `buffer`: hold the request headers and let Envoy buffer the whole body;
//! - `read`: copy the whole body into the VM;
//! - `route`: write the cluster header (Envoy clears the route cache and matches again);
//! - `map`: with `route`, write the whole request header map instead of one header (the
//!   router writes the map once: the cluster header in, the client's forged one out);
//! - `write`: copy the body back out (the router's rewrite replaces the whole body);
//! - `state`: eight filter-state values (the router's access-log fields);
//! - `respond`: hold the response headers until the body is here, read it, add three headers
//!   (the router's cost headers on a non-streamed answer);
//! - `metric`: one counter increment; `shared`: one shared-data read (a health record).
//!
//! With no steps it is the bare cost of a V8 filter that reads the request headers once.
//! `scripts/bench.py` runs these as a ladder beside passthrough and the router.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { counter: 0 }) });
}}

const BUFFER: u16 = 1;
const READ: u16 = 2;
const ROUTE: u16 = 4;
const WRITE: u16 = 8;
const STATE: u16 = 16;
const RESPOND: u16 = 32;
const METRIC: u16 = 64;
const SHARED: u16 = 128;
const MAP: u16 = 256;

fn steps(header: &str) -> u16 {
    header.split(',').fold(0, |acc, s| {
        acc | match s.trim() {
            "buffer" => BUFFER,
            "read" => READ,
            "route" => ROUTE,
            "write" => WRITE,
            "state" => STATE,
            "respond" => RESPOND,
            "metric" => METRIC,
            "shared" => SHARED,
            "map" => MAP,
            _ => 0,
        }
    })
}

struct Root {
    counter: u32,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _: usize) -> bool {
        if let Ok(id) = hostcalls::define_metric(MetricType::Counter, "model_router_probe.requests") {
            self.counter = id;
        }
        // One health-sized record to read.
        hostcalls::set_shared_data("model_router_probe.health", Some(&[0u8; 48]), None).is_ok()
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Probe { steps: 0, counter: self.counter, headers: Vec::new() }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Probe {
    steps: u16,
    counter: u32,
    headers: Vec<(String, String)>,
}

impl Probe {
    fn has(&self, step: u16) -> bool {
        self.steps & step != 0
    }

    /// Everything the router does once the body is complete.
    fn body_complete(&mut self, size: usize) {
        let body = if self.has(READ) {
            hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size).ok().flatten()
        } else {
            None
        };
        if self.has(SHARED) {
            let _ = hostcalls::get_shared_data("model_router_probe.health");
        }
        if self.has(ROUTE) && self.has(MAP) {
            let mut all = std::mem::take(&mut self.headers);
            all.retain(|(k, _)| k != "x-model-router-cluster");
            all.push(("x-model-router-cluster".to_string(), "upstream".to_string()));
            let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let _ = hostcalls::set_map(MapType::HttpRequestHeaders, pairs);
        } else if self.has(ROUTE) {
            let _ = hostcalls::set_map_value(
                MapType::HttpRequestHeaders,
                "x-model-router-cluster",
                Some("upstream"),
            );
        }
        if let (true, Some(b)) = (self.has(WRITE), body.as_deref()) {
            let _ = hostcalls::set_buffer(BufferType::HttpRequestBody, 0, size, b);
        }
        if self.has(STATE) {
            for key in
                ["model", "provider", "tier", "prefer", "selection", "auto_score", "budget", "attempts"]
            {
                let _ = hostcalls::set_property(vec!["model_router", key], Some(b"probe-value"));
            }
        }
        if self.has(METRIC) {
            let _ = hostcalls::increment_metric(self.counter, 1);
        }
    }
}

impl Context for Probe {}

impl HttpContext for Probe {
    fn on_http_request_headers(&mut self, _: usize, end_of_stream: bool) -> Action {
        self.headers = hostcalls::get_map(MapType::HttpRequestHeaders).unwrap_or_default();
        self.steps = self.headers.iter().find(|(k, _)| k == "x-probe").map_or(0, |(_, v)| steps(v));
        if !self.has(BUFFER) || end_of_stream {
            if self.has(BUFFER) {
                self.body_complete(0);
            }
            return Action::Continue;
        }
        Action::Pause
    }

    fn on_http_request_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !self.has(BUFFER) {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.body_complete(size);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _: usize, end_of_stream: bool) -> Action {
        if self.has(RESPOND) && !end_of_stream { Action::Pause } else { Action::Continue }
    }

    fn on_http_response_body(&mut self, size: usize, end_of_stream: bool) -> Action {
        if !self.has(RESPOND) {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let _ = hostcalls::get_buffer(BufferType::HttpResponseBody, 0, size);
        for (k, v) in [
            ("x-model-router-cost", "0.000001"),
            ("x-model-router-tokens-in", "250"),
            ("x-model-router-tokens-out", "1"),
        ] {
            let _ = hostcalls::set_map_value(MapType::HttpResponseHeaders, k, Some(v));
        }
        Action::Continue
    }
}
