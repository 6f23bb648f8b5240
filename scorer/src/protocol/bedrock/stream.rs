//! A ConverseStream event stream to OpenAI `chat.completion.chunk` SSE.
//!
//! Frames carry `:message-type` (`event`, `exception`, or the framing's own `error`), then
//! `:event-type` or `:exception-type`, and a JSON payload. Events come as `messageStart`,
//! per block `contentBlockStart` (tool calls only) / `contentBlockDelta` /
//! `contentBlockStop`, `messageStop` (the finish reason) and `metadata` (usage), which ends
//! the stream. Memory is bounded by the decoder: one partial frame of at most
//! [`MAX_FRAME`](super::eventstream::MAX_FRAME) bytes is held across calls.

use serde_json::{Value, json};

use super::eventstream::{Decoder, Frame};
use super::response::{finish_reason, is_context, malformed, tokens};
use crate::error::ApiError;
use crate::protocol::reply::{self, Meta, Tokens};

/// The most tool calls one answer may start: the list is searched per event, so a hostile
/// stream of endless tool blocks is cut off rather than made quadratic.
const MAX_TOOL_CALLS: usize = 1024;

/// A tool-call content block, by its `contentBlockIndex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ToolBlock {
    /// The native `contentBlockIndex`.
    native: u64,
    /// The OpenAI `tool_calls` index: tool calls counted from 0 in order of appearance.
    index: usize,
    /// Some argument text was sent; a call that got none is closed with `{}`.
    has_args: bool,
    /// `contentBlockStop` or `messageStop` closed it.
    closed: bool,
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Translating events.
    Open,
    /// `messageStop` came: only `metadata` is expected.
    Stopped,
    /// `[DONE]` was sent.
    Done,
    /// An error event was sent.
    Failed,
}

/// Native stream bytes in (split anywhere across calls, several events per call), OpenAI SSE out.
#[derive(Debug)]
pub struct Stream {
    meta: Meta,
    decoder: Decoder,
    phase: Phase,
    started: bool,
    tools: Vec<ToolBlock>,
    tokens: Option<Tokens>,
}

impl Stream {
    /// A stream translator for the answer `meta` describes.
    pub fn new(meta: Meta) -> Self {
        Stream {
            meta,
            decoder: Decoder::new(),
            phase: Phase::Open,
            started: false,
            tools: Vec::new(),
            tokens: None,
        }
    }

    /// Returns the OpenAI SSE bytes this chunk completes (possibly empty). `end`: the last chunk.
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Done | Phase::Failed) {
            return out;
        }
        self.decoder.push(chunk);
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    if let Err(e) = self.frame(&frame, &mut out) {
                        self.fail(&mut out, &e);
                    }
                    if matches!(self.phase, Phase::Done | Phase::Failed) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.fail(&mut out, &bad(e.to_string()));
                    break;
                }
            }
        }
        // Frames are whole or nothing, so the last chunk has nothing left to flush: a stream
        // that ends before `metadata` gets no `[DONE]`, and the glue reports the truncation
        // (unless it ended cleanly after `messageStop`'s finish: its answer was whole).
        let _ = end;
        out
    }

    /// A malformed or failed stream was turned into an error event (no `[DONE]` follows).
    pub fn failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// The usage the provider reported, once seen.
    pub fn tokens(&self) -> Option<Tokens> {
        self.tokens
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: &ApiError) {
        reply::error_event(out, e);
        self.phase = Phase::Failed;
    }

    fn chunk(&mut self, out: &mut Vec<u8>, delta: Value) {
        self.start(out);
        reply::chunk(out, &self.meta, delta, None);
    }

    /// The first chunk, with the role, once.
    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            reply::chunk(out, &self.meta, json!({ "role": "assistant", "content": "" }), None);
        }
    }

    fn frame(&mut self, frame: &Frame, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match frame.header(":message-type") {
            Some("event") => {}
            Some("exception") => return Err(exception(frame)),
            Some("error") => {
                let code = frame.header(":error-code").unwrap_or("unknown");
                let said = frame.header(":error-message").unwrap_or("no message");
                return Err(ApiError::server(
                    502,
                    "upstream_failed",
                    format!("the provider failed: {code}: {said}"),
                ));
            }
            other => return Err(bad(format!("event-stream frame has :message-type {other:?}"))),
        }
        let event =
            frame.header(":event-type").ok_or_else(|| bad("event frame has no :event-type".into()))?;
        let p: Value = serde_json::from_slice(&frame.payload)
            .map_err(|e| bad(format!("{event} payload is not JSON: {e}")))?;
        // Only `metadata` follows `messageStop`; event types added later are let through.
        let message_event = matches!(
            event,
            "messageStart" | "contentBlockStart" | "contentBlockDelta" | "contentBlockStop" | "messageStop"
        );
        if self.phase == Phase::Stopped && message_event {
            return Err(bad(format!("{event} after messageStop")));
        }
        match event {
            "messageStart" => self.start(out),
            "contentBlockStart" => self.block_start(&p, out)?,
            "contentBlockDelta" => self.delta(&p, out)?,
            "contentBlockStop" => {
                let native = index(&p)?;
                self.close(out, |t| t.native == native);
            }
            "messageStop" => {
                let stop = p
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("messageStop has no stopReason".into()))?;
                if let Some(why) = malformed(stop) {
                    return Err(bad(why));
                }
                self.close(out, |_| true);
                self.start(out);
                let calls = !self.tools.is_empty();
                reply::chunk(out, &self.meta, json!({}), Some(finish_reason(stop, calls)));
                self.phase = Phase::Stopped;
            }
            "metadata" => {
                if self.phase != Phase::Stopped {
                    return Err(bad("metadata before messageStop".into()));
                }
                if let Some(t) = p.get("usage").and_then(tokens) {
                    self.tokens = Some(t);
                    reply::usage_chunk(out, &self.meta, t);
                }
                reply::done(out);
                self.phase = Phase::Done;
            }
            // Events added to the API later carry nothing this translation knows how to show.
            _ => {}
        }
        Ok(())
    }

    fn block_start(&mut self, p: &Value, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let native = index(p)?;
        let Some(tool) = p.get("start").and_then(|s| s.get("toolUse")) else { return Ok(()) };
        let field = |k: &str| {
            tool.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("contentBlockStart toolUse has no {k}")))
        };
        let (id, name) = (field("toolUseId")?, field("name")?);
        if self.tools.len() >= MAX_TOOL_CALLS {
            return Err(bad(format!("more than {MAX_TOOL_CALLS} tool calls")));
        }
        if self.tools.iter().any(|t| t.native == native) {
            return Err(bad(format!("contentBlockStart repeats block {native}")));
        }
        let index = self.tools.len();
        self.tools.push(ToolBlock { native, index, has_args: false, closed: false });
        self.chunk(
            out,
            json!({ "tool_calls": [{ "index": index, "id": id, "type": "function", "function": { "name": name, "arguments": "" } }] }),
        );
        Ok(())
    }

    fn delta(&mut self, p: &Value, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let native = index(p)?;
        let delta = p.get("delta").ok_or_else(|| bad("contentBlockDelta has no delta".into()))?;
        if let Some(text) = delta.get("text").and_then(Value::as_str) {
            if !text.is_empty() {
                self.chunk(out, json!({ "content": text }));
            }
        } else if let Some(input) = delta.get("toolUse").and_then(|t| t.get("input")).and_then(Value::as_str)
        {
            let tool = self.tools.iter_mut().find(|t| t.native == native && !t.closed).ok_or_else(|| {
                bad(format!("toolUse delta for block {native}, which no open contentBlockStart began"))
            })?;
            if !input.is_empty() {
                tool.has_args = true;
                let index = tool.index;
                self.chunk(
                    out,
                    json!({ "tool_calls": [{ "index": index, "function": { "arguments": input } }] }),
                );
            }
        } else if let Some(text) =
            delta.get("reasoningContent").and_then(|r| r.get("text")).and_then(Value::as_str)
            && self.meta.reasoning
            && !text.is_empty()
        {
            self.chunk(out, json!({ "reasoning_content": text }));
        }
        // Signatures, redacted reasoning and citations have no OpenAI chunk.
        Ok(())
    }

    /// Closes the open tool calls `which` selects; one that got no arguments gets `{}`, so
    /// its arguments always parse.
    fn close(&mut self, out: &mut Vec<u8>, which: impl Fn(&ToolBlock) -> bool) {
        let mut empty = Vec::new();
        for t in self.tools.iter_mut().filter(|t| !t.closed && which(t)) {
            t.closed = true;
            if !t.has_args {
                empty.push(t.index);
            }
        }
        for index in empty {
            self.chunk(out, json!({ "tool_calls": [{ "index": index, "function": { "arguments": "{}" } }] }));
        }
    }
}

/// The `contentBlockIndex` of an event.
fn index(p: &Value) -> Result<u64, ApiError> {
    p.get("contentBlockIndex")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("content block event has no contentBlockIndex".into()))
}

/// A 502 for a stream that is not what ConverseStream documents.
fn bad(why: String) -> ApiError {
    ApiError::server(502, "bad_upstream_response", format!("the provider's stream is malformed: {why}"))
}

/// An `exception` frame as the error a client would have got had it come as the response.
fn exception(frame: &Frame) -> ApiError {
    let payload: Value = serde_json::from_slice(&frame.payload).unwrap_or_default();
    let said: String = payload
        .get("message")
        .or_else(|| payload.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .chars()
        .take(500)
        .collect();
    let kind = frame.header(":exception-type").unwrap_or("unknown");
    match kind {
        "throttlingException" | "serviceQuotaExceededException" => {
            ApiError::rate_limited(format!("the provider is rate limiting: {said}"))
        }
        "validationException" if is_context(400, Some(&said)) => ApiError::invalid(
            "context_length_exceeded",
            Some("messages"),
            format!("the provider refused the request: {said}"),
        ),
        "validationException" => ApiError::invalid(
            "provider_rejected_request",
            None,
            format!("the provider refused the request: {said}"),
        ),
        "serviceUnavailableException" => {
            ApiError::server(503, "upstream_unavailable", format!("the provider is unavailable: {said}"))
        }
        "modelTimeoutException" => {
            ApiError::server(504, "upstream_timeout", format!("the provider timed out: {said}"))
        }
        _ => ApiError::server(502, "upstream_failed", format!("the provider failed ({kind}): {said}")),
    }
}

#[cfg(test)]
mod tests;
