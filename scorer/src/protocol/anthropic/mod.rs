//! Anthropic Messages (`POST /v1/messages`): request, response and stream halves.
//!
//! - [`request`]: an OpenAI chat-completions body to a Messages body: `system`/`developer`
//!   turns hoisted to `system`, same-role turns merged, `tool` results moved first into the
//!   next user turn, images (data and https URLs), tools and `tool_choice`, `cache_control`
//!   passed through, `reasoning_effort` to a `thinking` budget, the required `max_tokens`.
//! - [`response`]: a `message` to a `chat.completion` (text, `tool_use` as `tool_calls`,
//!   thinking as `reasoning_content` when asked, usage with cache reads and writes), and an
//!   Anthropic error body to the OpenAI one, recognising context-window overflows.
//! - [`stream`]: the Messages SSE stream to OpenAI chunks, `[DONE]` only after `message_stop`.
//!
//! The field table and the choices made are in `docs/protocols/anthropic.md`.

pub mod count;
pub mod request;
pub mod response;
pub mod stream;

mod content;
mod format;
mod memo;
mod schema;
mod tools;
mod turns;

pub use memo::Translations;

/// The `anthropic-version` header value the glue sends with every request.
pub const VERSION: &str = "2023-06-01";

/// The OpenAI `finish_reason` for an Anthropic `stop_reason` of an answer that `called` tools
/// or not. `pause_turn` (a server tool paused a long turn) ends this answer as `stop`: the
/// client may send the turn back to continue. An unknown or missing reason is `stop`, so a new
/// reason never breaks a client; one that ended a turn with calls in it is `tool_calls`, as
/// Converse's is (an agent reading `stop` ended its turn without running them).
fn finish_reason(stop_reason: Option<&str>, called: bool) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ if called => "tool_calls",
        _ => "stop",
    }
}

/// The stop sequence that ended a message whose `stop_reason` says one did (`value` holds
/// `stop_reason` and `stop_sequence`: a `message`, or a `message_delta`'s `delta`).
fn matched(value: &serde_json::Value) -> Option<&str> {
    let said = |k: &str| value.get(k).and_then(serde_json::Value::as_str);
    said("stop_sequence").filter(|_| said("stop_reason") == Some("stop_sequence"))
}

#[cfg(test)]
mod tests;
