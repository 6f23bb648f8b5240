//! Stage 3, protocol: the bytes a provider receives and the bytes the client gets back.
//!
//! One folder per provider protocol, each with request, response and stream parts, every part
//! a pure function of bytes in and bytes or events out, with golden tests. OpenAI-compatible
//! providers get the client's body spliced, never re-serialised; `titan` translates embeddings
//! for Bedrock InvokeModel. The coming Anthropic, Bedrock and Responses translators live here.
//! May import `parse` (the JSON reader, the request layout) and `error`; must not import
//! `decide`, `config` or `account`.

pub mod openai;
pub mod titan;
