//! The playground: the scorer compiled for a browser page with wasm-bindgen, so the page
//! decides with the very code the filter runs (`analyze`, `route`, the protocol's body) and
//! explains it with the scorer's own guards and ranking (`Analysis::explain`).
//!
//! Every export takes and returns strings (JSON): the page's JavaScript renders, it never
//! decides. The same functions are plain Rust natively, where the tests compare them with the
//! CLI and with the filter.

pub mod catalog;
pub mod decision;
pub mod examples;

use wasm_bindgen::prelude::wasm_bindgen;

/// The decision for a request body under a plugin configuration (empty: the defaults), on
/// `date` (`YYYY-MM-DD`), for `client` (empty: none), as JSON (see [`decision::decide`]).
#[wasm_bindgen]
pub fn decide(request: &str, config: &str, date: &str, client: &str) -> String {
    let inputs = decision::Inputs { request: request.as_bytes(), config: config.as_bytes(), date, client };
    decision::decide(&inputs).to_string()
}

/// The catalog the configuration loads, as JSON (see [`catalog::view`]).
#[wasm_bindgen]
pub fn catalog(config: &str, date: &str) -> String {
    catalog::view(config.as_bytes(), date).to_string()
}

/// The example requests, as JSON (see [`examples::all`]).
#[wasm_bindgen]
pub fn examples() -> String {
    examples::json().to_string()
}

/// The built-in catalog file, to start an edited one from.
#[wasm_bindgen]
pub fn builtin_catalog() -> String {
    model_router_scorer::catalog::BUILTIN_CATALOG.to_string()
}
