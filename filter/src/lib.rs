//! model-router as a proxy-wasm HTTP filter: thin glue between Envoy's callbacks and the
//! host-free scorer. One module per concern: `root` (configuration), `shared` (what the root
//! hands every request: configuration, keys, metrics), `http` (per-request phases, one file
//! each), `live` (health and metrics), `spend` (budgets), `host` (host calls that return
//! `Result`), `headers` (names), `timing` (the instrumented build). Imports go one way:
//! `root` -> `http` -> `shared`, and nothing imports `root`.

pub mod headers;
pub mod host;
pub mod http;
pub mod live;
pub mod root;
pub mod shared;
pub mod spend;
#[cfg(feature = "timing")]
pub mod timing;

use proxy_wasm::traits::RootContext;
use proxy_wasm::types::LogLevel;

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    // A panic aborts the VM (and with it every request on this worker): say why first.
    std::panic::set_hook(Box::new(|info| {
        host::log(LogLevel::Critical, &format!("model-router: panic: {info}"));
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(root::Root::default()) });
}}

/// Times a block as a span in the instrumented build (`--features timing`); nothing otherwise.
#[macro_export]
macro_rules! span {
    ($name:literal, $body:expr) => {{
        #[cfg(feature = "timing")]
        let out = $crate::timing::timed(concat!("span.", $name), || $body);
        #[cfg(not(feature = "timing"))]
        let out = $body;
        out
    }};
}
