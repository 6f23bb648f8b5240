//! Stage 3, protocol: the bytes a provider receives and the bytes the client gets back.
//!
//! One folder per provider protocol (`anthropic/`, `bedrock/`, `responses/` as they come), each
//! with `request.rs`, `response.rs` and `stream.rs`: every part a pure function of bytes in and
//! bytes or events out, with golden tests under `testdata/`. Today's two are small enough to be
//! one file each: `openai.rs`, the request splice for OpenAI-compatible providers (the client's
//! body with `model` replaced and the router's own members removed, never re-serialised), and
//! `titan.rs`, Bedrock InvokeModel for Titan embeddings, both ways.
//!
//! May import `parse` (the JSON reader, the request and its layout) and `error`; must not
//! import `decide`, `config` or `account`: a protocol knows shapes, not routing or money.

pub mod openai;
pub mod titan;
