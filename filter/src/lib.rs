//! model-router as a proxy-wasm HTTP filter: thin glue between Envoy's callbacks and the
//! request's state machine (`model-router-flow`), which holds every decision. One module per
//! concern: `root` (configuration), `context` (each callback an event for the machine, each
//! effect it returns a host call, and the host's services offered to it), `metrics` (Envoy
//! metrics by name), `host` (host calls that return `Result`), `timing` (the instrumented
//! build). Imports go one way: `root` -> `context` -> `metrics`, `host`; nothing imports
//! `root`.

pub mod context;
pub mod host;
pub mod metrics;
pub mod root;
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
