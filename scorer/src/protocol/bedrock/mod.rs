//! AWS Bedrock Converse and ConverseStream: request, response and stream halves, and the
//! event-stream framing.
//!
//! - [`request`]: an OpenAI chat-completions body to a Converse body (system prompt apart,
//!   alternating turns, data-URL images, tool calls and results as blocks, `toolConfig`,
//!   `inferenceConfig`, `outputConfig` for `json_schema`), and the `/model/{id}/converse`
//!   path; what is refused or dropped is in `docs/protocols/bedrock.md`.
//! - [`response`]: a Converse answer to a `chat.completion` (text, tool calls, reasoning when
//!   asked, finish reason, usage with cached input added back), a Bedrock error body to the
//!   OpenAI one, and whether it says the input overflowed the context window.
//! - [`stream`]: ConverseStream's event stream to `chat.completion.chunk` SSE, exceptions to
//!   one error event.
//! - [`eventstream`]: the `application/vnd.amazon.eventstream` frames both ways.

mod choice;
pub mod eventstream;
mod image;
mod messages;
pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod tests;
