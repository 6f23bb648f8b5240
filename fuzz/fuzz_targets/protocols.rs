//! The native protocol translators on any bytes: a request body, a whole answer, an error and
//! a stream split where the input says, for Anthropic Messages, Bedrock Converse and the
//! Responses API. No panic, and a stream's output stays within a bound of its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model_router_scorer::catalog::Api;
use model_router_scorer::protocol::reply::Meta;
use model_router_scorer::protocol::{Native, native};
use model_router_scorer::request::Layout;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let api = [Api::Messages, Api::BedrockConverse, Api::Responses][usize::from(pick) % 3];
    let meta = Meta { id: "chatcmpl-fuzz".into(), model: "m".into(), created: 1, reasoning: pick & 4 != 0 };
    let _ = native::chat_body(api, &Layout::default(), rest, &Native { upstream_model: "m", max_output: 100, ..Native::default() });
    let _ = native::response(api, rest, &meta);
    let _ = native::error(api, 400, rest);
    let _ = native::is_context_error(api, 400, rest);
    if let Some(mut s) = native::Stream::new(api, meta) {
        let cut = (usize::from(pick) * 7919) % (rest.len() + 1);
        let (a, b) = rest.split_at(cut);
        let out = s.feed(a, false).len() + s.feed(b, true).len();
        assert!(out <= 100 * rest.len() + 64 * 1024, "{out} bytes out of {} in", rest.len());
    }
});
