//! The OpenAI Responses API spoken by clients (`POST /v1/responses`: the Codex CLI, the AI
//! SDK's default `openai(id)`, the Agents SDK): the request becomes a chat-completions body
//! before it is routed, so every provider, tier and fallback serves it; the chat answer goes
//! back as a Response object or as Responses events.
//!
//! - [`request`]: a Responses body to the chat body the router routes.
//! - [`answer`]: a `chat.completion` to a Response object.
//! - [`events`]: chat chunks (SSE) to Responses events (SSE), as they arrive.
//! - `echo`: what a Response says it was asked, and how the request's tools became chat's;
//!   `names`: how chat names a namespace's function; `signature`: Gemini's thought signatures
//!   carried in reasoning items.
//!
//! The router stores nothing: `previous_response_id`, `conversation`, `background` and stored
//! prompts are refused with a 400 naming them, never ignored.

pub mod answer;
mod echo;
pub mod events;
mod names;
pub mod request;
pub(crate) mod signature;

#[cfg(test)]
mod custom_tests;
#[cfg(test)]
mod thinking_tests;
