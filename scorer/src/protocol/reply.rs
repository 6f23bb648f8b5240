//! What every translator writes back: the OpenAI chat shapes a client reads (a
//! `chat.completion`, its `chat.completion.chunk` SSE events, the usage chunk, `[DONE]`, the
//! error event and the error body), built in one place so the three native protocols answer
//! in exactly the same shape.

use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// What the glue knows about the answer being translated, the same for every protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// The completion's id (`chatcmpl-…`), the same in every chunk of a stream.
    pub id: String,
    /// The catalog id of the model that ran, reported as OpenAI-compatible answers report it.
    pub model: String,
    /// Unix seconds, the `created` of the completion and its chunks.
    pub created: u64,
    /// The client asked for reasoning (`reasoning_effort` set): thinking text is exposed as
    /// `reasoning_content`; otherwise it is left out.
    pub reasoning: bool,
    /// The client asked for JSON output (`response_format` `json_object` or `json_schema`):
    /// `content` is the answer alone, never a model's commentary on its way to it (shown as reasoning, if
    /// reasoning shows), which would make it unparseable.
    pub structured: bool,
}

/// Token counts in OpenAI's terms: `prompt` includes the cached and cache-written tokens (as
/// OpenAI's `prompt_tokens` includes `cached_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tokens {
    /// All input tokens, cached or not.
    pub prompt: u64,
    /// Output tokens, reasoning included.
    pub completion: u64,
    /// Input tokens read from the provider's prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the provider's prompt cache.
    pub cache_write: u64,
    /// Of those, tokens written to a one-hour cache.
    pub cache_write_1h: u64,
    /// Of the output, reasoning tokens, where the provider counts them apart (Responses'
    /// `output_tokens_details.reasoning_tokens`; 0 where it does not).
    pub reasoning: u64,
}

impl Tokens {
    /// The counts as the router prices them.
    pub fn usage(self) -> crate::usage::Usage {
        crate::usage::Usage {
            input: self.prompt,
            output: self.completion,
            cache_read: self.cache_read,
            cache_write: self.cache_write,
            cache_write_1h: self.cache_write_1h,
            audio: 0,
            billed_ticks: None,
        }
    }

    /// The OpenAI `usage` object. Cache writes are `prompt_tokens_details.cache_write_tokens`
    /// (OpenAI's field, which its SDKs read) and `cache_creation_tokens` (the name this router
    /// and LiteLLM used before OpenAI had one), beside `cached_tokens`.
    pub fn to_json(self) -> Value {
        let mut details = Map::new();
        details.insert("cached_tokens".into(), json!(self.cache_read));
        if self.cache_write > 0 {
            details.insert("cache_write_tokens".into(), json!(self.cache_write));
            details.insert("cache_creation_tokens".into(), json!(self.cache_write));
        }
        if self.cache_write_1h > 0 {
            details.insert("cache_creation_1h_tokens".into(), json!(self.cache_write_1h));
        }
        let mut usage = Map::new();
        usage.insert("prompt_tokens".into(), json!(self.prompt));
        usage.insert("completion_tokens".into(), json!(self.completion));
        usage.insert("total_tokens".into(), json!(self.prompt.saturating_add(self.completion)));
        usage.insert("prompt_tokens_details".into(), Value::Object(details));
        if self.reasoning > 0 {
            // As OpenAI reports it: LangChain, the AI SDK and LiteLLM count reasoning from it.
            usage.insert("completion_tokens_details".into(), json!({"reasoning_tokens": self.reasoning}));
        }
        Value::Object(usage)
    }
}

/// A whole `chat.completion` with one choice.
pub fn completion(meta: &Meta, message: Value, finish_reason: &str, tokens: Option<Tokens>) -> Vec<u8> {
    completion_stopped(meta, message, finish_reason, None, tokens)
}

/// [`completion`], and the stop sequence that ended the answer (`stop`) in the choice's
/// `stop_reason`, as vLLM's chat completions say it: chat has no member for it, and a
/// Messages client is told it as its `stop_sequence` (a ReAct agent reads which one fired).
pub fn completion_stopped(
    meta: &Meta,
    message: Value,
    finish_reason: &str,
    stop: Option<&str>,
    tokens: Option<Tokens>,
) -> Vec<u8> {
    let mut choice =
        json!({"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason});
    if let (Some(s), Some(c)) = (stop, choice.as_object_mut()) {
        c.insert(STOP_REASON.into(), json!(s));
    }
    let mut out = json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [choice],
    });
    if let (Some(t), Some(obj)) = (tokens, out.as_object_mut()) {
        obj.insert("usage".into(), t.to_json());
    }
    out.to_string().into_bytes()
}

/// Appends one SSE event, `data: {json}` and its blank line.
pub fn event(out: &mut Vec<u8>, value: &Value) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(value.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// A `chat.completion.chunk` with these `choices`.
fn chunk_object(meta: &Meta, choices: Value) -> Value {
    json!({
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "choices": choices,
    })
}

/// Appends a `chat.completion.chunk` for choice 0 with `delta` and `finish_reason`.
pub fn chunk(out: &mut Vec<u8>, meta: &Meta, delta: Value, finish_reason: Option<&str>) {
    chunk_stopped(out, meta, delta, finish_reason, None);
}

/// [`chunk`], with the stop sequence that ended the answer ([`completion_stopped`]).
pub fn chunk_stopped(
    out: &mut Vec<u8>,
    meta: &Meta,
    delta: Value,
    finish_reason: Option<&str>,
    stop: Option<&str>,
) {
    let mut choice = json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason});
    if let (Some(s), Some(c)) = (stop, choice.as_object_mut()) {
        c.insert(STOP_REASON.into(), json!(s));
    }
    event(out, &chunk_object(meta, json!([choice])));
}

/// The choice member naming the stop sequence that ended an answer (vLLM's).
pub const STOP_REASON: &str = "stop_reason";

/// Appends the usage chunk (empty `choices`), as OpenAI sends it last when
/// `stream_options.include_usage` is set. Translators always send it; the glue removes it when
/// the client did not ask, after pricing it.
pub fn usage_chunk(out: &mut Vec<u8>, meta: &Meta, tokens: Tokens) {
    let mut v = chunk_object(meta, json!([]));
    if let Some(obj) = v.as_object_mut() {
        obj.insert("usage".into(), tokens.to_json());
    }
    event(out, &v);
}

/// Appends `data: [DONE]`.
pub fn done(out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: [DONE]\n\n");
}

/// Appends an error event (OpenAI SDKs raise `APIError` on an event carrying `error`).
pub fn error_event(out: &mut Vec<u8>, e: &ApiError) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(e.body().as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// A provider's own error (its message already read out of its native shape) in the OpenAI
/// shape with the provider's status: a 429 is a rate limit (`rate_limit_error`, as the SDKs
/// expect), Anthropic's 529 an overload (a 503, a status clients know), another 4xx the
/// request's fault (`provider_rejected_request`, or `context_length_exceeded` when `context`
/// says the input overflowed the window), anything else the provider's (`upstream_failed`).
/// The message is kept, cut to 500 characters.
pub fn provider_error(status: u16, message: Option<&str>, context: bool) -> Vec<u8> {
    let said: String = message.unwrap_or("no message").chars().take(500).collect();
    let e = if status == 429 {
        ApiError::rate_limited(format!("the provider is rate limiting: {said}"))
    } else if status == 529 {
        ApiError::server(503, "overloaded", format!("the provider is overloaded: {said}"))
    } else if context {
        ApiError::invalid(
            "context_length_exceeded",
            Some("messages"),
            format!("the provider refused the request: {said}"),
        )
    } else if (400..500).contains(&status) {
        ApiError::invalid(
            "provider_rejected_request",
            None,
            format!("the provider refused the request: {said}"),
        )
    } else {
        ApiError::server(502, "upstream_failed", format!("the provider failed: {said}"))
    };
    let status = if status == 529 { 503 } else { status };
    e.with_status(status).body().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta { id: "chatcmpl-1".into(), model: "m".into(), created: 7, reasoning: false, structured: false }
    }

    #[test]
    fn a_completion_and_its_usage_read_as_the_glue_prices_them() {
        let t = Tokens {
            prompt: 10,
            completion: 3,
            cache_read: 4,
            cache_write: 2,
            cache_write_1h: 0,
            reasoning: 0,
        };
        let body = completion(&meta(), json!({"role": "assistant", "content": "hi"}), "stop", Some(t));
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["usage"]["total_tokens"], 13);
        assert_eq!(v["usage"]["prompt_tokens_details"]["cache_creation_tokens"], 2);
        assert_eq!(v["usage"]["prompt_tokens_details"]["cache_write_tokens"], 2);
        let u = crate::account::usage::of_response(&body).unwrap_or_default();
        assert_eq!((u.input, u.output, u.cache_read, u.cache_write), (10, 3, 4, 2));
        // OpenAI's own name alone is read as the writes.
        let openai = br#"{"usage":{"prompt_tokens":10,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4,"cache_write_tokens":2}}}"#;
        let u = crate::account::usage::of_response(openai).unwrap_or_default();
        assert_eq!((u.cache_read, u.cache_write), (4, 2));
    }

    #[test]
    fn chunks_are_whole_sse_events() {
        let mut out = Vec::new();
        chunk(&mut out, &meta(), json!({"content": "a"}), None);
        usage_chunk(&mut out, &meta(), Tokens { prompt: 1, completion: 1, ..Tokens::default() });
        done(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("\n\n").count(), 3, "{text}");
        assert!(text.ends_with("data: [DONE]\n\n"));
    }

    #[test]
    fn provider_errors_keep_the_message_and_say_whose_fault() {
        let v = |b: Vec<u8>| serde_json::from_slice::<Value>(&b).unwrap_or_default();
        assert_eq!(v(provider_error(400, Some("bad"), false))["error"]["code"], "provider_rejected_request");
        assert_eq!(
            v(provider_error(400, Some("too long"), true))["error"]["code"],
            "context_length_exceeded"
        );
        let e = v(provider_error(500, None, false));
        assert_eq!(e["error"]["type"], "server_error");
        assert_eq!(v(provider_error(429, Some("slow down"), false))["error"]["type"], "rate_limit_error");
        assert_eq!(v(provider_error(529, Some("busy"), false))["error"]["code"], "overloaded");
        assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("no message")));
    }
}
