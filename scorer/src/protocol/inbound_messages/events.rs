//! Chat chunks (SSE) to Messages events (SSE), as they arrive.
//!
//! The first chunk opens the message (`message_start`: empty content, the chunk's model, the
//! usage it carries or zeros). Content blocks follow one another with increasing `index`,
//! each `content_block_start`, `content_block_delta`s, `content_block_stop`, and a block of
//! another kind stops the one before: reasoning (`reasoning_content` or `reasoning`) is a
//! `thinking` block (`thinking_delta`s), text a `text` block (`text_delta`s), a refusal a
//! `text` block of its own, each tool call a `tool_use` block (`input_json_delta`s). A thinking
//! block starts with an empty `signature`, and gets a `signature_delta` as it ends only when
//! it is Claude's signed thinking (a `thinking_blocks` delta, which a redacted block comes in
//! whole): other reasoning has nothing to sign, and the SDKs take the block as it started.
//!
//! Blocks cannot overlap or reopen, while a provider may stream parallel calls' arguments
//! interleaved (or text between one call's pieces), and a call can come without its name at
//! first. So calls are held to the end and written whole, each as one `input_json_delta` of
//! its input read as a whole answer's is (arguments that are no JSON object never reach the
//! client's parser), after a `redacted_thinking` block carrying its thought signature when
//! Gemini 3 signed it ([`answer::signed_block`]). A call is told apart by its `id` (Gemini sends parallel calls each whole
//! under one `index`, or none), else by its `index`.
//!
//! `[DONE]` stops what is open and ends the message: `message_delta` (its `stop_reason`, from
//! the `finish_reason` or, without one, the calls, and the usage chunk's counts) then
//! `message_stop`, as the router's accounting and a chat client take the stream as whole.
//! Anything else is an answer cut short, which a client must not take for a whole one: a chat
//! error event (the provider's, or the router's) or a stream that ends without `[DONE]`
//! becomes an `error` event and nothing follows it (no `message_stop`).
//!
//! A body that is not a stream (its first byte `{`) is held to its end: a whole completion
//! (a provider that ignored `stream`) is told as the same events, anything else is an `error`
//! event. Bytes that end no event keep the client's idle timers with a `ping`.

use serde_json::{Value, json};

use super::{Shown, answer};
use crate::protocol::anthropic::response::THINKING_BLOCKS;
use crate::protocol::inbound::answer::{Ids, as_chunks};
use crate::protocol::inbound::events::Mode;
use crate::protocol::inbound::events::calls::CallIndex;
use crate::protocol::reply::STOP_REASON;
use crate::protocol::responses::sse::Sse;

/// What the open content block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Thinking,
    /// Text, or a refusal (a text block of its own, as a whole answer writes it).
    Text {
        refusal: bool,
    },
    /// The `tool_use` block of call `n`.
    Call(usize),
    /// A `redacted_thinking` block, whole as it starts: Claude's, or one before a call
    /// carrying its thought signature.
    Signed,
}

/// One tool call, in the order it came.
#[derive(Debug)]
struct Call {
    id: String,
    /// The provider gave no id (yet): one was made up, and a later id continues this call.
    guessed_id: bool,
    name: String,
    /// Its arguments so far (written whole at the end).
    held: String,
    /// Its thought signature (Gemini 3's, on any of its deltas).
    signature: Option<String>,
}

/// The translation's state between chunks.
#[derive(Debug, Default)]
pub struct Events {
    mode: Mode,
    sse: Sse,
    /// Set by the first chunk, as `message_start` is written.
    ids: Option<Ids>,
    /// The open block and its index.
    open: Option<(usize, Block)>,
    /// The next block's index.
    blocks: usize,
    calls: Vec<Call>,
    /// Where each call is in `calls`, by its id and its chat `index`.
    found: CallIndex,
    usage: Option<Value>,
    finish: Option<String>,
    /// The stop sequence the provider said ended the answer ([`answer::stopped`]).
    said_stop: Option<String>,
    /// The model refused (a chat `refusal`): the message stops for it.
    refused: bool,
    /// `message_stop` was written.
    stopped: bool,
    /// An `error` event was written: nothing follows it.
    failed: bool,
    /// The id of a stream whose chunks carry none (the router's own for the answer).
    fallback_id: String,
    /// How the client's answer is shown ([`Shown`]).
    shown: Shown,
}

impl Events {
    /// A stream to translate; `id` is the chat id to take when its chunks carry none (an
    /// Azure-style `prompt_filter_results` chunk first).
    pub fn new(id: &str) -> Self {
        Events { fallback_id: id.to_string(), ..Events::default() }
    }

    /// The same, shown as its request said.
    pub fn shown(self, shown: Shown) -> Self {
        Events { shown, ..self }
    }

    /// A translation of another answer to the same request (a fallback's).
    pub fn fresh(&self) -> Self {
        Events::new(&self.fallback_id).shown(self.shown.clone())
    }

    /// Translates the next bytes of the chat stream; `end`: they are its last.
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        if self.mode == Mode::Unknown {
            match chunk.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => self.mode = Mode::Whole(Vec::new()),
                Some(_) => self.mode = Mode::Stream,
                None if end => self.mode = Mode::Stream,
                None => return Vec::new(),
            }
        }
        if let Mode::Whole(held) = &mut self.mode {
            held.extend_from_slice(chunk);
            if !end {
                return Vec::new();
            }
            let body = std::mem::take(held);
            self.mode = Mode::Stream;
            if let Some(stream) = as_chunks(&body) {
                return self.feed(stream.as_bytes(), true);
            }
            let mut out = Vec::new();
            self.fail(not_a_stream(&body), &mut out);
            return out;
        }
        let mut data = Vec::new();
        let framed = self.sse.push(chunk, &mut data);
        if end {
            let tail = self.sse.finish(&mut data);
            data.extend(tail);
        }
        let mut out = Vec::new();
        for d in data {
            self.on_data(&d, &mut out);
        }
        if framed.is_err() || end {
            self.fail(cut(), &mut out);
        }
        if out.is_empty() && !chunk.is_empty() && !self.finished() {
            // Bytes came (a keep-alive, part of an event): a ping keeps the client's and its
            // proxies' idle timers as the provider's bytes did.
            emit(&mut out, "ping", json!({}));
        }
        out
    }

    /// `message_stop` was written: the answer is whole. (After an `error` event it is not,
    /// and nothing more is written either.)
    pub fn ended(&self) -> bool {
        self.stopped
    }

    /// Nothing more is written: `message_stop` or an `error` event was.
    fn finished(&self) -> bool {
        self.stopped || self.failed
    }

    fn on_data(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if self.finished() {
            return;
        }
        if data == b"[DONE]" {
            return self.complete(out);
        }
        let Ok(v) = serde_json::from_slice::<Value>(data) else {
            // An event without data asks nothing; one whose data is not JSON lost part of the
            // answer, which read on as if whole.
            if !data.trim_ascii().is_empty() {
                self.fail(answer::stream_error(&crate::protocol::inbound::answer::malformed_chunk()), out);
            }
            return;
        };
        if let Some(error) = v.get("error").filter(|e| !e.is_null()) {
            return self.fail(answer::stream_error(error), out);
        }
        self.start(&v, out);
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(answer::usage(u));
        }
        let choices = v.get("choices").and_then(Value::as_array);
        let Some(choice) = choices.and_then(|c| c.iter().find(|c| answer::first(c))) else {
            return;
        };
        let delta = choice.get("delta");
        let text = |k: &str| delta.and_then(|d| d.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
        if let Some(r) =
            text("reasoning_content").or_else(|| text("reasoning")).filter(|_| !self.shown.hide_thinking)
        {
            self.said(Block::Thinking, r, out);
        }
        if let Some(t) = answer::content_text(delta) {
            self.said(Block::Text { refusal: false }, &t, out);
        }
        if let Some(r) = text("refusal") {
            self.refused = true;
            self.said(Block::Text { refusal: true }, r, out);
        }
        let signed = delta.and_then(|d| d.get(THINKING_BLOCKS)).and_then(Value::as_array);
        for block in signed.into_iter().flatten() {
            self.signed(block, out);
        }
        let calls = delta.and_then(|d| d.get("tool_calls")).and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            self.call_delta(call);
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(f.to_string());
            // The sequence the finish names, beside it (vLLM's member).
            self.said_stop = choice.get(STOP_REASON).and_then(Value::as_str).map(str::to_string);
        }
    }

    /// Opens the message on the first chunk.
    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.ids.is_some() {
            return;
        }
        let id = chunk.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let ids = Ids::of(id.unwrap_or(&self.fallback_id));
        let usage = chunk.get("usage").filter(|u| u.is_object()).unwrap_or(&Value::Null);
        let message = json!({
            "id": answer::message_id(&ids),
            "type": "message",
            "role": "assistant",
            "model": answer::named(&self.shown.model, chunk),
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": answer::usage(usage),
        });
        self.ids = Some(ids);
        emit(out, "message_start", json!({"message": message}));
    }

    /// Reasoning, text or a refusal: to the open block if it is of that kind, else to a new
    /// one, what was open stopped (tool calls stay held to the end).
    fn said(&mut self, kind: Block, delta: &str, out: &mut Vec<u8>) {
        let at = match self.open {
            Some((at, open)) if open == kind => at,
            _ => {
                self.stop(out);
                let block = match kind {
                    Block::Thinking => answer::thinking_block(""),
                    _ => answer::text_block(""),
                };
                self.open_block(kind, block, out)
            }
        };
        let delta = match kind {
            Block::Thinking => json!({"type": "thinking_delta", "thinking": delta}),
            _ => json!({"type": "text_delta", "text": delta}),
        };
        emit(out, "content_block_delta", json!({"index": at, "delta": delta}));
    }

    /// A block of Claude's signed thinking ([`THINKING_BLOCKS`]): a thinking block's signature
    /// ends the thinking block its text went to; when none is open (its text was hidden, the
    /// client having asked it omitted, or there was none) one is written with the block's
    /// text, which a signed block keeps ([`answer::signed_thinking`]). A redacted block is
    /// written whole.
    fn signed(&mut self, block: &Value, out: &mut Vec<u8>) {
        let Some(signed) = answer::signed_thinking(block) else { return };
        let s = |k: &str| signed.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        if s("type") == "redacted_thinking" {
            self.stop(out);
            self.open_block(Block::Signed, signed, out);
            return self.stop(out);
        }
        let at = match self.open {
            Some((at, Block::Thinking)) => at,
            _ => {
                self.stop(out);
                let at = self.open_block(Block::Thinking, answer::thinking_block(""), out);
                let text = s("thinking");
                if !text.is_empty() {
                    let delta = json!({"type": "thinking_delta", "thinking": text});
                    emit(out, "content_block_delta", json!({"index": at, "delta": delta}));
                }
                at
            }
        };
        let delta = json!({"type": "signature_delta", "signature": s("signature")});
        emit(out, "content_block_delta", json!({"index": at, "delta": delta}));
        self.stop(out);
    }

    /// Ends the message at `[DONE]`: the provider's stream is whole (the router's accounting
    /// and a chat client take it so, without a `finish_reason` too, which then reads as the
    /// end of a turn, or of its tool calls).
    fn complete(&mut self, out: &mut Vec<u8>) {
        // A stream of `[DONE]` alone still opens its message first: the SDKs raise on a
        // `message_delta` with no `message_start` before it.
        self.start(&Value::Null, out);
        let finish = self.finish.take();
        self.settle(out);
        let usage = self.usage.take().unwrap_or_else(|| answer::usage(&Value::Null));
        let said = self.said_stop.take();
        let (stop_reason, sequence) =
            answer::stopped(finish.as_deref(), said.as_deref(), !self.calls.is_empty(), self.refused);
        let delta = json!({"stop_reason": stop_reason, "stop_sequence": sequence});
        emit(out, "message_delta", json!({"delta": delta, "usage": usage}));
        emit(out, "message_stop", json!({}));
        self.stopped = true;
    }

    /// An `error` event (Anthropic's error object as its data); nothing follows it.
    fn fail(&mut self, error: Value, out: &mut Vec<u8>) {
        if self.finished() {
            return;
        }
        emit(out, "error", error);
        self.failed = true;
    }

    /// Starts a block: its index.
    fn open_block(&mut self, kind: Block, block: Value, out: &mut Vec<u8>) -> usize {
        let at = self.blocks;
        self.blocks += 1;
        self.open = Some((at, kind));
        emit(out, "content_block_start", json!({"index": at, "content_block": block}));
        at
    }

    /// Stops the open block.
    fn stop(&mut self, out: &mut Vec<u8>) {
        let Some((at, _)) = self.open.take() else { return };
        emit(out, "content_block_stop", json!({"index": at}));
    }
}

mod calls;

/// The `error` event for a stream that ended before its answer did.
fn cut() -> Value {
    answer::error_object("api_error", "the provider's stream ended before its answer did")
}

/// The `error` event for a whole body that is not a completion: the chat error it holds, or
/// its text.
fn not_a_stream(body: &[u8]) -> Value {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    match v.as_ref().and_then(|v| v.get("error")).filter(|e| e.is_object()) {
        Some(error) => answer::stream_error(error),
        None => {
            let text = answer::body_text(body).unwrap_or_default();
            answer::error_object("api_error", &format!("the provider's answer is not a chat stream: {text}"))
        }
    }
}

/// Writes one event: its name, and its data with `type`.
fn emit(out: &mut Vec<u8>, event: &str, fields: Value) {
    let mut data = json!({"type": event});
    if let (Some(d), Value::Object(f)) = (data.as_object_mut(), fields) {
        d.extend(f);
    }
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(data.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
