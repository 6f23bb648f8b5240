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

/// How a Messages client's answer is shown, from what its request said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// It asked for its thinking omitted (`thinking.display: "omitted"`): none is written.
    pub hide_thinking: bool,
    /// The `model` it asked for, which its answer names (empty: the completion's). Claude
    /// Code keeps a turn's thinking in its history only when the answer names the model it
    /// asked for: named as the catalog model that ran (`X-Model-Router-Model` says that), a
    /// tier's, `auto`'s or an alias's tool loop lost its thinking, and Gemini 3 its signatures,
    /// from its second turn on.
    pub model: String,
}
