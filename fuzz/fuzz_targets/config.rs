//! Plugin configuration parsing and validation on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model_router_scorer::Config;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Config::from_json(data) {
        let _ = c.policy_for(Some("x"));
    }
});
