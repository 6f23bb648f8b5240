//! Which endpoint a request is, from its method and path alone (before any body is read).

use crate::error::ApiError;

/// The chat completions path.
pub const CHAT_PATH: &str = "/v1/chat/completions";

/// The Responses API path: its body becomes a chat body before it is routed
/// ([`crate::protocol::inbound`]).
pub const RESPONSES_PATH: &str = "/v1/responses";

/// The Anthropic Messages API path: its body becomes a chat body before it is routed
/// ([`crate::protocol::inbound_messages`]).
pub const MESSAGES_PATH: &str = "/v1/messages";

/// The Messages API's token counting (Claude Code's `/context`, the Anthropic SDKs'
/// `messages.count_tokens`): routed as the Messages request it would be, and counted where
/// that request would go.
pub const COUNT_TOKENS_PATH: &str = "/v1/messages/count_tokens";

/// The embeddings path.
pub const EMBEDDINGS_PATH: &str = "/v1/embeddings";

/// The model list path.
pub const MODELS_PATH: &str = "/v1/models";

/// One model's path, below the list's: `/v1/models/{model}`.
const MODEL_PATH_PREFIX: &str = "/v1/models/";

/// What the router does with a request, known from its method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`: buffer the body and route it.
    Chat,
    /// `POST /v1/responses`: buffer the body, route it as the chat body it translates to,
    /// answer in the Responses API's shapes.
    Responses,
    /// `POST /v1/messages`: buffer the body, route it as the chat body it translates to,
    /// answer in the Messages API's shapes.
    Messages,
    /// `POST /v1/messages/count_tokens`: buffer the body, route it as a Messages request
    /// without sending or spending anything, and answer its input tokens.
    CountTokens,
    /// `POST /v1/embeddings`: buffer the body and route it.
    Embeddings,
    /// `GET /v1/models`: answered by the router.
    Models,
    /// `GET /v1/models/{model}` (`models.retrieve`): answered by the router; the id is
    /// [`model_id`] of the path.
    Model,
    /// Anything else: the router leaves it alone.
    NotRouted,
}

/// Classifies a request from its `:method` and `:path` (query string ignored).
pub fn endpoint(method: &str, path: &str) -> Result<Endpoint, ApiError> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let (ep, route, want) = match path {
        CHAT_PATH => (Endpoint::Chat, CHAT_PATH, "POST"),
        RESPONSES_PATH => (Endpoint::Responses, RESPONSES_PATH, "POST"),
        MESSAGES_PATH => (Endpoint::Messages, MESSAGES_PATH, "POST"),
        COUNT_TOKENS_PATH => (Endpoint::CountTokens, COUNT_TOKENS_PATH, "POST"),
        EMBEDDINGS_PATH => (Endpoint::Embeddings, EMBEDDINGS_PATH, "POST"),
        MODELS_PATH => (Endpoint::Models, MODELS_PATH, "GET"),
        _ if model_id(path).is_some() => (Endpoint::Model, "/v1/models/{model}", "GET"),
        // Retrieving, deleting, cancelling a stored response, its input items, counting or
        // compacting input: nothing here for them, and a plain 404 would read as a lost id.
        _ if path.starts_with("/v1/responses/") => {
            let e = ApiError::invalid(
                "not_served",
                None,
                "the router stores no responses and serves only POST /v1/responses: keep the \
                 answer you were sent, and send the whole conversation in input",
            );
            return Err(e.with_status(404));
        }
        // Message batches: nothing here for them.
        _ if path.starts_with("/v1/messages/") => {
            let e = ApiError::invalid(
                "not_served",
                None,
                "the router serves only POST /v1/messages and POST /v1/messages/count_tokens: it keeps no batches",
            );
            return Err(e.with_status(404));
        }
        _ => return Ok(Endpoint::NotRouted),
    };
    if method == want { Ok(ep) } else { Err(ApiError::method_not_allowed(method, route, want)) }
}

/// Whether a path is the Messages API's (`/v1/messages` or below it, query string ignored):
/// its client is answered in Anthropic's shapes, errors included.
pub fn is_messages_api(path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    path == MESSAGES_PATH || path.starts_with("/v1/messages/")
}

/// The model id of a `/v1/models/{model}` path (query string ignored), percent-decoded as
/// the SDKs encode it (`amazon.titan-embed-text-v2%3A0`); `None` for any other path.
pub fn model_id(path: &str) -> Option<String> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let raw = path.strip_prefix(MODEL_PATH_PREFIX).filter(|id| !id.is_empty())?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().filter(|id| !id.is_empty())
}
