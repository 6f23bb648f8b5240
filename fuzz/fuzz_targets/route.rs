//! Request parse + features + auto score + guards + rank + rewrite, and embeddings, on any bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model_router_scorer::embeddings::route_embeddings;
use model_router_scorer::{Config, Context, analyze};

fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| Config::from_json(br#"{"client_header":"x","clients":{"a":{"only_providers":["openai"]}}}"#).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let c = config();
    let now = 20_779 * 86_400;
    if let Ok(a) = analyze(c, data) {
        let slot = a.sticky_slot(c, Some("a"));
        let remembered = slot.as_ref().map(|(_, h)| format!("{h:016x} premium 99999999999"));
        let ctx = Context { remembered: remembered.as_deref().map(str::as_bytes), now, client: Some("a"), ..Context::default() };
        if let Ok(route) = a.route(c, &ctx) {
            // The rewritten body is still one JSON document with the upstream model.
            assert!(std::str::from_utf8(&route.target.body).is_ok());
        }
    }
    let _ = route_embeddings(c, data, &Context { now, ..Context::default() });
});
