//! Test support for model-router: the mock provider, a small HTTP client, the real-Envoy
//! harness, and a proxy-wasm host on wasmtime for host tests.

pub mod catalog;
pub mod envoy;
pub mod http;
pub mod mock;
pub mod otlp;
pub mod prometheus;
pub mod wasm_host;
