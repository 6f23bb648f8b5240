//! OpenAI Responses (`POST /v1/responses`): request, response and stream halves, for models
//! served only there (`gpt-5.3-codex`) while the client speaks chat completions.
//!
//! - [`request`]: the chat body to a Responses body. Messages become `input` items in their
//!   order (system and developer messages stay items with their role rather than moving to
//!   `instructions`, so their place in the conversation is kept), assistant tool calls become
//!   `function_call` items and tool messages `function_call_output` items; tools are flattened;
//!   `response_format` and `verbosity` move under `text`, `reasoning_effort` under `reasoning`.
//!   `store` is always `false`: a gateway must not leave conversations stored at the provider
//!   behind its clients' backs. Fields with no Responses equivalent are refused with a 400
//!   when set to anything but their default, so no request silently changes meaning; the full
//!   table is in `docs/protocols/responses.md`.
//! - [`response`]: a Response object to a `chat.completion`, a provider error to the OpenAI
//!   error body, and the context-overflow test the router retries on.
//! - [`stream`]: the Responses event stream (`response.*` SSE events) to chat chunks.
//!
//! Text from several assistant `message` items, and reasoning from several summary parts, is
//! joined with a blank line (`\n\n`) in both halves, so a whole answer and its stream carry
//! the same text.

mod input;
pub(crate) mod invalid;
mod options;
pub mod request;
pub mod response;
pub(crate) mod sse;
pub mod stream;

#[cfg(test)]
mod golden;
#[cfg(test)]
mod reasoning_tests;
