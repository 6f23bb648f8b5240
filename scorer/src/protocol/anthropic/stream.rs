//! The stream half: the Messages SSE stream (`event: X` / `data: {...}` / blank line) to
//! OpenAI `chat.completion.chunk` events, fed in pieces split anywhere.

use serde_json::{Value, json};

use super::response::{THINKING_BLOCKS, error_parts, tokens};
use super::{finish_reason, matched};
use crate::error::ApiError;
use crate::protocol::reply::{self, Meta, Tokens};
use crate::protocol::signed::{Family, tagged};

/// The most content blocks one answer may start: the list is searched per event, so a hostile
/// stream of endless blocks is cut off rather than made quadratic.
pub(crate) const MAX_BLOCKS: usize = 4096;

/// The most bytes of one unfinished event (its line being read and its data so far) held
/// across calls. Messages events are small deltas; the largest, a block start carrying a
/// server tool's result, stays far below this. Beyond it the stream fails.
pub const MAX_EVENT_BYTES: usize = 4 << 20;

/// What a native content block (by its index) turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    /// A tool call: its OpenAI index, and whether any argument bytes were sent.
    Tool {
        index: usize,
        args: bool,
    },
    /// redacted_thinking (sent whole as it starts, see [`THINKING_BLOCKS`]), server tool
    /// blocks: nothing the client sees.
    Other,
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    /// `message_stop` seen and `[DONE]` sent: the rest is ignored.
    Done,
    /// An error event was sent: the rest is ignored.
    Failed,
}

/// The translator of one Messages stream.
#[derive(Debug)]
pub struct Stream {
    meta: Meta,
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// The data lines of the event being read, joined by `\n`.
    data: Vec<u8>,
    has_data: bool,
    /// The last byte read ended a line with `\r`: a `\n` right after it is the same line end.
    after_cr: bool,
    started: bool,
    blocks: Vec<(u64, Block)>,
    tools: usize,
    stop_reason: Option<String>,
    /// The stop sequence that ended the message, when one did.
    stop_sequence: Option<String>,
    /// A `message_delta` carried usage: the final counts (`message_start`'s are the input's
    /// and a placeholder output).
    final_usage: bool,
    usage: Option<Value>,
    state: State,
    /// The thinking block being read: its index, its text and its signature so far.
    signing: Option<(u64, String, String)>,
    /// `thinking_blocks` entries sent (each delta's entry is at this index of the list).
    signed: usize,
}

impl Stream {
    /// A translator for the answer described by `meta`.
    pub fn new(meta: Meta) -> Self {
        Stream {
            meta,
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            after_cr: false,
            started: false,
            blocks: Vec::new(),
            tools: 0,
            stop_reason: None,
            stop_sequence: None,
            final_usage: false,
            usage: None,
            state: State::Running,
            signing: None,
            signed: 0,
        }
    }

    /// Returns the OpenAI SSE bytes this chunk completes (possibly empty). `end`: the last
    /// chunk (see [`read_last`]); without `message_stop` no `[DONE]` is sent (the glue reports
    /// the truncation).
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while self.state == State::Running && !rest.is_empty() {
            if std::mem::take(&mut self.after_cr) && rest.first() == Some(&b'\n') {
                rest = rest.get(1..).unwrap_or_default();
                continue;
            }
            // SSE ends a line with `\n`, `\r\n` or a lone `\r`.
            let Some(nl) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                self.line.extend_from_slice(rest);
                self.check_cap(&mut out);
                break;
            };
            let (head, tail) = rest.split_at(nl);
            self.line.extend_from_slice(head);
            self.after_cr = tail.first() == Some(&b'\r');
            rest = tail.get(1..).unwrap_or_default();
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, &mut out);
            self.check_cap(&mut out);
        }
        read_last(self, end, &mut out);
        out
    }

    /// A malformed or failed stream was turned into an error event (no `[DONE]` follows).
    pub fn failed(&self) -> bool {
        self.state == State::Failed
    }

    /// The usage the provider reported, once seen: input (with cache reads and writes) from
    /// `message_start` or a later `message_delta`, output from the last `message_delta`.
    pub fn tokens(&self) -> Option<Tokens> {
        self.usage.as_ref().and_then(tokens)
    }
}

/// The stream's SSE lines, into events.
impl Stream {
    /// One SSE line (without its `\n`): a blank line ends the event; `data:` lines gather;
    /// `event:` (the type is read from the data), `id:`, `retry:` and `:` comments are skipped.
    fn line_done(&mut self, line: &[u8], out: &mut Vec<u8>) {
        // A byte-order mark may open the stream.
        let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        if line.is_empty() {
            if self.has_data {
                let data = std::mem::take(&mut self.data);
                self.has_data = false;
                self.event(&data, out);
            }
            return;
        }
        if let Some(value) = line.strip_prefix(b"data:") {
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
            self.has_data = true;
        }
    }

    /// Sends the role chunk before the first content.
    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            reply::chunk(out, &self.meta, json!({"role": "assistant", "content": ""}), None);
        }
    }

    fn delta(&mut self, out: &mut Vec<u8>, delta: Value) {
        self.start(out);
        reply::chunk(out, &self.meta, delta, None);
    }

    fn block(&self, index: u64) -> Option<Block> {
        self.blocks.iter().rev().find(|(i, _)| *i == index).map(|(_, b)| *b)
    }

    /// One event's data.
    fn event(&mut self, data: &[u8], out: &mut Vec<u8>) {
        // An event with empty data asks nothing (Anthropic's SDK skips it too).
        if data.trim_ascii().is_empty() {
            return;
        }
        let Ok(v) = serde_json::from_slice::<Value>(data) else {
            return self.garbage(out, "an event's data is not JSON");
        };
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return self.garbage(out, "an event has no type");
        };
        let index = v.get("index").and_then(Value::as_u64);
        match kind {
            "message_start" => {
                self.usage = v.get("message").and_then(|m| m.get("usage")).cloned();
                self.start(out);
            }
            "content_block_start" => {
                let (Some(index), Some(b)) = (index, v.get("content_block")) else {
                    return self.garbage(out, "content_block_start without index or content_block");
                };
                self.block_start(index, b, out);
            }
            "content_block_delta" => {
                let (Some(index), Some(d)) = (index, v.get("delta")) else {
                    return self.garbage(out, "content_block_delta without index or delta");
                };
                self.block_delta(index, d, out);
            }
            "content_block_stop" => {
                self.signed(index, out);
                if let Some(Block::Tool { index: i, args: false }) = index.and_then(|n| self.block(n)) {
                    // A tool called with no input still gets arguments that parse.
                    self.delta(out, json!({"tool_calls": [{"index": i, "function": {"arguments": "{}"}}]}));
                }
            }
            "message_delta" => self.message_delta(&v),
            "message_stop" => self.stop(out),
            "error" => {
                let (kind, message) = error_parts(data);
                let said = message.as_deref().unwrap_or("no message");
                let message = format!("the provider failed: {said}");
                let e = match kind.as_deref() {
                    Some("overloaded_error") => ApiError::server(503, "overloaded", message),
                    Some("rate_limit_error") => ApiError::rate_limited(message),
                    // The request's own (Anthropic's "Output blocked by content filtering
                    // policy"): answered as its 400 is, not another provider's to answer, nor
                    // against this one's health (five opened its breaker for every client).
                    Some("invalid_request_error") => ApiError::invalid(
                        "provider_rejected_request",
                        None,
                        format!("the provider refused the request: {said}"),
                    ),
                    _ => ApiError::server(502, "upstream_failed", message),
                };
                self.fail(out, &e);
            }
            // A keep-alive as an SSE comment (OpenAI readers skip it); types added later ignored.
            "ping" => out.extend_from_slice(b": ping\n\n"),
            _ => {}
        }
    }

    fn block_start(&mut self, index: u64, b: &Value, out: &mut Vec<u8>) {
        if self.blocks.len() >= MAX_BLOCKS {
            self.garbage(out, &format!("more than {MAX_BLOCKS} content blocks"));
            return;
        }
        let s = |name: &str| b.get(name).and_then(Value::as_str).unwrap_or_default();
        let block = match s("type") {
            "text" => Block::Text,
            "thinking" => {
                self.signing = Some((index, s("thinking").to_string(), s("signature").to_string()));
                Block::Thinking
            }
            "redacted_thinking" => {
                self.redacted(s("data"), out);
                Block::Other
            }
            "tool_use" => {
                let i = self.tools;
                self.tools += 1;
                // The input arrives as deltas and starts empty; one already given is sent whole.
                let given = b.get("input").filter(|v| v.as_object().is_some_and(|o| !o.is_empty()));
                let arguments = given.map(Value::to_string).unwrap_or_default();
                let start = json!({"tool_calls": [{
                    "index": i, "id": s("id"), "type": "function",
                    "function": {"name": s("name"), "arguments": arguments},
                }]});
                self.delta(out, start);
                Block::Tool { index: i, args: given.is_some() }
            }
            _ => Block::Other,
        };
        self.blocks.push((index, block));
        // Start blocks usually carry empty text; send any they do carry.
        match block {
            Block::Text if !s("text").is_empty() => self.delta(out, json!({"content": s("text")})),
            Block::Thinking if self.meta.reasoning && !s("thinking").is_empty() => {
                self.delta(out, json!({"reasoning_content": s("thinking")}));
            }
            _ => {}
        }
    }

    fn block_delta(&mut self, index: u64, d: &Value, out: &mut Vec<u8>) {
        let s = |name: &str| d.get(name).and_then(Value::as_str).unwrap_or_default();
        match (d.get("type").and_then(Value::as_str).unwrap_or_default(), self.block(index)) {
            ("text_delta", _) if !s("text").is_empty() => self.delta(out, json!({"content": s("text")})),
            ("thinking_delta", _) if self.meta.reasoning && !s("thinking").is_empty() => {
                if let Some((_, text, _)) = self.signing.as_mut().filter(|(at, _, _)| *at == index) {
                    text.push_str(s("thinking"));
                }
                self.delta(out, json!({"reasoning_content": s("thinking")}));
            }
            ("input_json_delta", Some(Block::Tool { index: i, .. })) if !s("partial_json").is_empty() => {
                let args =
                    json!({"tool_calls": [{"index": i, "function": {"arguments": s("partial_json")}}]});
                self.delta(out, args);
                if let Some(slot) = self.blocks.iter_mut().rev().find(|(n, _)| *n == index) {
                    slot.1 = Block::Tool { index: i, args: true };
                }
            }
            ("signature_delta", Some(Block::Thinking)) => {
                if let Some((_, _, signature)) = self.signing.as_mut().filter(|(at, _, _)| *at == index) {
                    signature.push_str(s("signature"));
                }
            }
            // citations_delta, empty deltas: nothing for the client.
            _ => {}
        }
    }

    /// `stop_reason`, and usage, which is cumulative: the latest counts replace the earlier.
    fn message_delta(&mut self, v: &Value) {
        if let Some(r) = v.get("delta").and_then(|d| d.get("stop_reason")).and_then(Value::as_str) {
            self.stop_reason = Some(r.to_string());
            self.stop_sequence = v.get("delta").and_then(matched).map(str::to_string);
        }
        let Some(Value::Object(latest)) = v.get("usage") else { return };
        self.final_usage |= latest.get("output_tokens").is_some_and(Value::is_u64);
        let mut usage = self.usage.take().and_then(into_object).unwrap_or_default();
        for (k, n) in latest.iter().filter(|(k, n)| kept_usage(k, n)) {
            usage.insert(k.clone(), n.clone());
        }
        self.usage = Some(Value::Object(usage));
    }

    /// `message_stop`: the finish chunk, the usage chunk when the final usage came, `[DONE]`.
    /// Without a `message_delta` counting the output, only `message_start`'s placeholder (one
    /// output token) was read: no usage chunk, and the stream is charged as one without (at
    /// least what it passed on), not a token for a long answer.
    fn stop(&mut self, out: &mut Vec<u8>) {
        self.start(out);
        let finish = finish_reason(self.stop_reason.as_deref(), self.tools > 0);
        reply::chunk_stopped(out, &self.meta, json!({}), Some(finish), self.stop_sequence.as_deref());
        if let Some(t) = self.tokens().filter(|_| self.final_usage) {
            reply::usage_chunk(out, &self.meta, t);
        }
        reply::done(out);
        self.state = State::Done;
    }
}

impl Stream {
    /// Fails the stream when the unfinished event outgrew [`MAX_EVENT_BYTES`].
    fn check_cap(&mut self, out: &mut Vec<u8>) {
        if self.state == State::Running && self.line.len() + self.data.len() > MAX_EVENT_BYTES {
            let e = ApiError::server(
                502,
                "bad_upstream_response",
                format!("the provider's stream sent an event over {MAX_EVENT_BYTES} bytes"),
            );
            self.fail(out, &e);
        }
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: &ApiError) {
        reply::error_event(out, e);
        self.state = State::Failed;
        self.line = Vec::new();
        self.data = Vec::new();
    }

    fn garbage(&mut self, out: &mut Vec<u8>, what: &str) {
        let e = ApiError::server(
            502,
            "bad_upstream_response",
            format!("the provider's stream is malformed: {what}"),
        );
        self.fail(out, &e);
    }

    /// At a block's end: the signature of the thinking block it ends, as a `thinking_blocks`
    /// delta (the text came as `reasoning_content`), when the client sees thinking.
    fn signed(&mut self, index: Option<u64>, out: &mut Vec<u8>) {
        let Some((_, text, signature)) = self.signing.take_if(|(at, _, _)| Some(*at) == index) else {
            return;
        };
        if self.meta.reasoning && !signature.is_empty() {
            let signature = tagged(Family::Claude, &self.meta.model, &signature);
            self.signed_block(json!({"type": "thinking", "thinking": text, "signature": signature}), out);
        }
    }

    /// A `redacted_thinking` block, whole as it starts, as a `thinking_blocks` delta when the
    /// client sees thinking.
    fn redacted(&mut self, data: &str, out: &mut Vec<u8>) {
        if self.meta.reasoning && !data.is_empty() {
            let data = tagged(Family::Claude, &self.meta.model, data);
            self.signed_block(json!({"type": "redacted_thinking", "data": data}), out);
        }
    }

    /// A whole block of Claude's signed thinking as a `thinking_blocks` delta, its `index` its
    /// place in the list (the SDKs' stream helpers merge a list's entries by it).
    fn signed_block(&mut self, mut block: Value, out: &mut Vec<u8>) {
        if let Some(b) = block.as_object_mut() {
            b.insert("index".into(), json!(self.signed));
        }
        self.signed += 1;
        self.delta(out, json!({THINKING_BLOCKS: [block]}));
    }

    /// The provider said the answer ended: `message_stop`, or before it `message_delta`'s stop
    /// reason with its usage (all `message_stop` adds is the end itself).
    pub fn ended(&self) -> bool {
        self.state == State::Done
            || (self.state == State::Running && self.stop_reason.is_some() && self.final_usage)
    }
}

/// At the stream's end, the last event when its blank line never came (a proxy may drop the
/// final line end): read when its data is whole JSON, dropped when it was cut in the middle.
/// A stream that ends after `message_delta` said why it stopped (and its final usage), its
/// `message_stop` not come, ends as that would have ended it: the answer is whole (told as
/// cut, a Messages client got an error and asked again, billed twice).
fn read_last(s: &mut Stream, end: bool, out: &mut Vec<u8>) {
    if !end || s.state != State::Running {
        return;
    }
    let line = std::mem::take(&mut s.line);
    if !line.is_empty() {
        s.line_done(&line, out);
    }
    if s.has_data && serde_json::from_slice::<Value>(&s.data).is_ok() {
        s.line_done(b"", out);
    }
    if s.state == State::Running && s.stop_reason.is_some() {
        s.stop(out);
    }
}

/// A JSON object's members (`None`: not an object).
fn into_object(v: Value) -> Option<serde_json::Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A `usage` member of `message_delta` the stream keeps: the counts, and the output's
/// breakdown (`output_tokens_details.thinking_tokens`).
fn kept_usage(key: &str, value: &Value) -> bool {
    value.is_u64() || (key == "output_tokens_details" && value.is_object())
}
