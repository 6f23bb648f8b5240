//! The bodies a mock answers with, shaped like OpenAI's: `CreateChatCompletionResponse`, the
//! `CreateChatCompletionStreamResponse` chunks, `CreateEmbeddingResponse` and `ErrorResponse`
//! of the official spec, every required field present (`refusal` and `logprobs` included, as
//! `null`, the way the real API sends them).

use serde_json::{Value, json};

/// Fixed so replies are reproducible; the real API puts the current time here.
pub const CREATED: u64 = 1_700_000_000;

/// What a chat reply says and counts, worked out once from the request.
pub struct Chat<'a> {
    /// Model named in the request (echoed, as providers do).
    pub model: &'a str,
    /// The reply text of every choice.
    pub text: String,
    /// Number of choices (`n`, already validated and bounded).
    pub n: usize,
    /// `top_logprobs` when the request set `logprobs: true`.
    pub logprobs: Option<usize>,
    /// `length` when the request set a token limit (the mock uses all of it), else `stop`.
    pub finish_reason: &'static str,
    /// Token counts.
    pub usage: Value,
}

/// `error` object of an OpenAI `ErrorResponse`.
pub fn error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// `usage` as the real API reports it, details included.
pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens.saturating_add(completion_tokens),
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    })
}

/// One token's log probability, with `top` alternatives (the token itself first).
fn token_logprob(token: &str, top: usize) -> Value {
    let entry = |t: &str, lp: f64| json!({"token": t, "logprob": lp, "bytes": t.as_bytes()});
    let alternatives: Vec<Value> =
        (0..top).map(|i| if i == 0 { entry(token, -0.01) } else { entry("~", -5.0 - i as f64) }).collect();
    let mut v = entry(token, -0.01);
    v["top_logprobs"] = Value::Array(alternatives);
    v
}

/// The `logprobs` object of a choice: one entry per word-token of `text`.
fn logprobs(text: &str, top: usize) -> Value {
    let content: Vec<Value> = tokens(text).map(|t| token_logprob(&t, top)).collect();
    json!({"content": content, "refusal": null})
}

/// The words of `text` as the tokens a stream sends: a leading space on all but the first.
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(' ').enumerate().map(|(i, w)| if i == 0 { w.to_string() } else { format!(" {w}") })
}

/// A whole `chat.completion` with `n` choices; `echo` goes in the mock's own `mock` field.
pub fn chat_completion(c: &Chat<'_>, echo: Value) -> Value {
    let choices: Vec<Value> = (0..c.n)
        .map(|i| {
            json!({
                "index": i,
                "message": {"role": "assistant", "content": c.text, "refusal": null, "annotations": []},
                "logprobs": c.logprobs.map_or(Value::Null, |top| logprobs(&c.text, top)),
                "finish_reason": c.finish_reason,
            })
        })
        .collect();
    json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": CREATED,
        "model": c.model,
        "choices": choices,
        "usage": c.usage,
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
        "mock": echo,
    })
}

/// One `chat.completion.chunk`.
fn chunk(model: &str, choices: Vec<Value>) -> Value {
    json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": CREATED,
        "model": model, "service_tier": "default", "system_fingerprint": "fp_mock", "choices": choices,
    })
}

/// A choice of a chunk; `logprobs` is always there (null unless asked), as the real API sends it.
fn chunk_choice(index: usize, delta: Value, logprobs: Value, finish: Option<&str>) -> Value {
    json!({"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish})
}

/// The chunks of a streamed reply: a role chunk per choice (the first carries `echo`), the
/// text word by word, a finish chunk per choice, and the usage chunk (empty `choices`) when
/// `include_usage` is set. Other chunks carry `usage: null` then, as the spec says.
pub fn chat_chunks(c: &Chat<'_>, echo: Value, include_usage: bool) -> Vec<Value> {
    let lp = |t: &str| {
        c.logprobs.map_or(Value::Null, |top| json!({"content": [token_logprob(t, top)], "refusal": null}))
    };
    let mut events = Vec::new();
    for i in 0..c.n {
        let delta = json!({"role": "assistant", "content": "", "refusal": null});
        events.push(chunk(c.model, vec![chunk_choice(i, delta, Value::Null, None)]));
    }
    if let Some(first) = events.first_mut() {
        first["mock"] = echo;
    }
    for token in tokens(&c.text) {
        for i in 0..c.n {
            events.push(chunk(c.model, vec![chunk_choice(i, json!({"content": token}), lp(&token), None)]));
        }
    }
    for i in 0..c.n {
        events.push(chunk(c.model, vec![chunk_choice(i, json!({}), Value::Null, Some(c.finish_reason))]));
    }
    if include_usage {
        for e in &mut events {
            e["usage"] = Value::Null;
        }
        let mut last = chunk(c.model, Vec::new());
        last["usage"] = c.usage.clone();
        events.push(last);
    }
    events
}

/// The value of every embedding dimension: constant, so tests can predict it.
pub const EMBEDDING_VALUE: f32 = 0.5;

/// An embedding of `dims` values as JSON text: a list of floats, or (`base64`) a string with
/// the base64 of the little-endian f32 bytes, as the real API encodes it.
pub fn embedding(dims: usize, base64: bool) -> String {
    if base64 {
        let bytes: Vec<u8> = (0..dims).flat_map(|_| EMBEDDING_VALUE.to_le_bytes()).collect();
        format!("\"{}\"", base64_encode(&bytes))
    } else {
        format!("[{}]", vec![EMBEDDING_VALUE.to_string(); dims].join(","))
    }
}

/// Standard base64 with padding (RFC 4648), enough for embeddings without a dependency.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), want, "{plain:?}");
        }
    }
}
