//! Stage 3, protocol: the bytes a provider receives and the bytes the client gets back.
//!
//! One folder per provider protocol (`anthropic/`, `bedrock/`, `responses/` as they come), each
//! with `request.rs`, `response.rs` and `stream.rs`: every part a pure function of bytes in and
//! bytes or events out, with golden tests under `testdata/`. Today's two are small enough to be
//! one file each: `openai.rs`, the request splice for OpenAI-compatible providers (the client's
//! body with `model` replaced and the router's own members removed, never re-serialised), and
//! `titan.rs`, Bedrock InvokeModel for Titan embeddings, both ways.
//!
//! `raw.rs` reads a client's body member by member for the translators, borrowing its texts;
//! `canonical.rs` writes a member from its text as serde_json would write its value, and
//! `tools.rs` reads the function tools agents send for the translators to write that way.
//!
//! `stand_in.rs` carries a conversation's long texts through a translator without its tree
//! copying them: stood in for before, put back after. `anthropic/memo.rs` keeps the turns a
//! Messages translation wrote, so an agent's next turn translates only its new messages.
//!
//! `inbound/` is the other direction: the Responses API spoken by clients, made the chat body
//! the router routes, and the chat answer made a Response object or Responses events;
//! `inbound_messages/` the same for Anthropic's Messages API (a `message` object or Messages
//! events, and Anthropic's error shape).
//!
//! `native.rs` is the one door the route and the glue use, keyed by the deployment's `Api`:
//! the path, headers and body of an attempt, and the halves that turn an answer back.
//!
//! May import `parse` (the JSON reader, the request and its layout), `catalog` (for `Api`)
//! and `error`; must not import `decide`, `config` or `account`: a protocol knows shapes, not
//! routing or money.

pub mod anthropic;
pub mod bedrock;
mod canonical;
pub mod inbound;
pub mod inbound_messages;
pub mod native;
pub mod openai;
pub(crate) mod raw;
pub mod reply;
pub mod responses;
pub(crate) mod signed;
pub mod stand_in;
pub mod titan;
mod tools;

pub use crate::catalog::Quirks;
pub use anthropic::Translations;

/// What a request translator needs besides the client's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Native<'a> {
    /// The catalog's id for the model, which answers name it by ([`crate::protocol::reply::Meta`]'s
    /// `model`): Claude's signed thinking is bound to the model that wrote it.
    pub model: &'a str,
    /// The provider's id for the model (`deepseek.v3.2`, `claude-sonnet-4-6`).
    pub upstream_model: &'a str,
    /// The model's output limit from the catalog: the `max_tokens` sent when the client set
    /// none and the protocol requires one, and the cap of one the client set.
    pub max_output: u64,
    /// What the model takes of the request beyond its protocol (catalog flags).
    pub quirks: Quirks,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{Native, anthropic, bedrock, responses};

    /// The parser takes `16.0` and `1e1` as integers; so does every translator.
    #[test]
    fn whole_numbers_written_as_floats_are_integers_to_every_translator() {
        let to = Native {
            model: "m",
            upstream_model: "m",
            max_output: 8_192,
            quirks: crate::catalog::Quirks::NONE,
        };
        for (max, want) in [("16", 16), ("16.0", 16), ("1.6e1", 16)] {
            let body = format!(
                r#"{{"model":"auto","n":1.0,"max_tokens":{max},"messages":[{{"role":"user","content":"hi"}}]}}"#
            );
            let out = |r: Result<Vec<u8>, crate::error::ApiError>| {
                let v: Value =
                    serde_json::from_slice(&r.unwrap_or_else(|e| panic!("{max}: {e}"))).unwrap_or_default();
                v
            };
            let a = out(anthropic::request::translate(body.as_bytes(), &to));
            let b = out(bedrock::request::translate(body.as_bytes(), &to));
            let r = out(responses::request::translate(body.as_bytes(), &to));
            assert_eq!(
                (&a["max_tokens"], &b["inferenceConfig"]["maxTokens"], &r["max_output_tokens"]),
                (&json!(want), &json!(want), &json!(want)),
                "{max}"
            );
        }
    }
}
