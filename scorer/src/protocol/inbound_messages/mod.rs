//! The Anthropic Messages API spoken by clients (`POST /v1/messages`: Claude Code, the
//! Anthropic SDKs): the request becomes a chat-completions body before it is routed, so every
//! provider, tier and fallback serves it; the chat answer goes back as a Messages `message`
//! object or as Messages events, and an error as Anthropic's error object.
//!
//! - [`request`]: a Messages body to the chat body the router routes.
//! - [`answer`]: a `chat.completion` to a `message`, an error body to Anthropic's, and the
//!   usage both halves write.
//! - [`events`]: chat chunks (SSE) to Messages events (SSE), as they arrive.
//!
//! Choice 0 is the answer: the request side never asks for more than one.

pub mod answer;
pub mod events;
pub mod request;
