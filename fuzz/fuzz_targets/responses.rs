//! Provider responses the router reads: the Titan translation and the JSON reader on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model_router_scorer::json::Reader;
use model_router_scorer::translate::{ResponseTranslation, response};

fuzz_target!(|data: &[u8]| {
    for base64 in [false, true] {
        let t = ResponseTranslation::TitanEmbed { model: "embed-titan".into(), base64 };
        let _ = response(&t, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut r = Reader::new(text);
        let _ = r.skip_value().and_then(|()| r.finish());
    }
});
