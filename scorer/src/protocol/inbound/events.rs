//! Chat chunks (SSE) to Responses events (SSE), as they arrive.
//!
//! The first chunk opens the response (`response.created`, `response.in_progress`). Output
//! items follow one another as the API streams them: reasoning (`reasoning_content`) is a
//! `reasoning` item with `reasoning_text` content, text an assistant `message` item, a refusal
//! a `message` item with a `refusal` part, each tool call a `function_call` item. A delta of
//! another kind closes the reasoning or message item before it (`….done`,
//! `response.content_part.done`, `response.output_item.done`), so text after a tool call is a
//! new message item. Function calls stay open until the end: a provider may interleave
//! parallel calls' arguments. A call is told apart by its `id` (Gemini sends parallel calls
//! each whole under one `index`, or none), else by its `index`. A call Gemini signed comes
//! after a reasoning item carrying its thought signature, or (a signature in a later delta)
//! before the item after it, opened as the call is done (`signature`). Deltas come as
//! `response.reasoning_text.delta`, `response.output_text.delta` (with the tokens' `logprobs`),
//! `response.refusal.delta` and `response.function_call_arguments.delta`. `[DONE]` closes what
//! is open and the response (`response.completed`, or `response.incomplete` for a `length` or
//! `content_filter` finish, its items `incomplete` too) with the usage chunk's counts. A chat
//! error event (the provider's, or the router's for a stream cut short) is an `error` event
//! (its members flat, as the spec writes them, and nested under `error`, as the API sends
//! them) then `response.failed`; so is a stream that ends with neither.
//!
//! A body that is not a stream (its first byte `{`) is held to its end: a whole completion (a
//! provider that ignored `stream`) is told as the same events, anything else (an error
//! object) passes as it is. Every event carries its `sequence_number`.

use serde_json::{Value, json};

use super::answer::{self, Echo, Head, Ids, as_chunks, set};
use super::signature;
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::responses::sse::Sse;

/// What an output item is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Reasoning,
    /// A reasoning item with no text that carries the thought signature of the call after it
    /// (see `signature`).
    Signed {
        call_id: String,
        signature: String,
    },
    /// An assistant message: its one content part is text, or a refusal.
    Message {
        refusal: bool,
    },
    /// A function call: the chat `index` it streams under, its call id and name; whether its
    /// thought signature was seen, and one that came after its first delta (its reasoning
    /// item then follows the call).
    Call {
        index: Option<u64>,
        call_id: String,
        name: String,
        signed: bool,
        late_signature: Option<String>,
    },
}

/// One output item, in the order it was opened.
#[derive(Debug)]
struct Item {
    id: String,
    kind: Kind,
    /// Its text so far: reasoning, message text or refusal, or the call's arguments.
    text: String,
    /// The text's tokens' log probabilities (when the client asked for them), each written
    /// as JSON, comma-separated: a `Value` per token and alternative would hold several times
    /// the bytes.
    logprobs: String,
    /// `in_progress` until closed, then `completed` or `incomplete`.
    status: &'static str,
    /// A call opened without the provider's call id (one was made up).
    guessed_id: bool,
    /// A reasoning item's carried `thinking_blocks` entries (Claude's signed thinking, an
    /// OpenAI model's encrypted reasoning), in its encrypted content, and where in its text the
    /// next Claude block's starts.
    thinking: Vec<Value>,
    thinking_from: usize,
}

/// How many items of each kind were opened: their ids are numbered by it (counted, not
/// searched for: a provider's stream of tens of thousands of items cost a search of every item
/// before each one).
#[derive(Debug, Default)]
struct Opened {
    reasoning: usize,
    message: usize,
    call: usize,
}

impl Opened {
    /// The number of the next item of `kind`, counted.
    fn next(&mut self, kind: &Kind) -> usize {
        let n = match kind {
            Kind::Reasoning | Kind::Signed { .. } => &mut self.reasoning,
            Kind::Message { .. } => &mut self.message,
            Kind::Call { .. } => &mut self.call,
        };
        *n += 1;
        *n - 1
    }
}

/// Where the body of a stream being translated stands (a Responses client's, a Messages
/// client's).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    /// No byte but whitespace yet.
    #[default]
    Unknown,
    /// SSE: translated.
    Stream,
    /// Not a stream: an error object, answered in the client's API's shape, or a whole
    /// completion (a provider that ignored `stream`), told as a stream; held until its end.
    Whole(Vec<u8>),
}

/// The translation's state between chunks.
#[derive(Debug, Default)]
pub struct Events {
    mode: Mode,
    sse: Sse,
    seq: u64,
    /// Set by the first chunk.
    ids: Option<Ids>,
    model: String,
    created: u64,
    items: Vec<Item>,
    /// How many items of each kind were opened.
    opened: Opened,
    /// Where the calls are among the items.
    calls: calls::CallIndex,
    /// The reasoning or message item deltas of its kind go to.
    current: Option<usize>,
    usage: Option<Value>,
    finish: Option<String>,
    /// `response.completed`, `.incomplete` or `.failed` was sent.
    ended: bool,
    /// What the Response objects say they were asked.
    echo: Echo,
    /// The id of a stream whose chunks carry none (the router's own for the answer).
    fallback_id: String,
}

impl Events {
    /// A stream to translate, its Response objects echoing `echo`; `id` is the chat id to
    /// take when its chunks carry none (an Azure-style `prompt_filter_results` chunk first).
    pub fn new(echo: Echo, id: &str) -> Self {
        Events { echo, fallback_id: id.to_string(), ..Events::default() }
    }

    /// What its Response objects echo.
    pub fn echo(&self) -> &Echo {
        &self.echo
    }

    /// A translation of another answer to the same request.
    pub fn fresh(&self) -> Self {
        Events::new(self.echo.clone(), &self.fallback_id)
    }

    /// Translates the next bytes of the chat stream; `end`: they are its last.
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        if self.mode == Mode::Unknown {
            match chunk.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') => self.mode = Mode::Whole(Vec::new()),
                Some(_) => self.mode = Mode::Stream,
                None if end => {}
                None => return Vec::new(),
            }
        }
        if let Mode::Whole(held) = &mut self.mode {
            held.extend_from_slice(chunk);
            if !end {
                return Vec::new();
            }
            let body = std::mem::take(held);
            return match as_chunks(&body) {
                Some(stream) => {
                    self.mode = Mode::Stream;
                    self.feed(stream.as_bytes(), true)
                }
                None => answer::renamed_error(&body, &self.echo).unwrap_or(body),
            };
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
        if framed.is_err() || (end && !self.ended) {
            let error = json!({
                "message": "the provider's stream ended before its final event: the answer is incomplete",
                "type": "server_error", "param": null, "code": "stream_truncated",
            });
            self.fail(&error, &mut out);
        }
        if out.is_empty() && !chunk.is_empty() && !self.ended {
            // Bytes came (a keep-alive, part of an event): a comment keeps the client's and
            // its proxies' idle timers as the provider's bytes did.
            out.extend_from_slice(b": keep-alive\n\n");
        }
        out
    }

    /// The answer has ended (`response.completed`, `.incomplete` or `.failed` sent).
    pub fn ended(&self) -> bool {
        self.ended
    }

    fn on_data(&mut self, data: &[u8], out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        if data == b"[DONE]" {
            return self.complete(out);
        }
        let Ok(v) = serde_json::from_slice::<Value>(data) else {
            // An event without data asks nothing; one whose data is not JSON lost part of the
            // answer, which read on as if whole (chat passes it on for the SDK to raise on).
            if !data.trim_ascii().is_empty() {
                self.fail(&answer::malformed_chunk(), out);
            }
            return;
        };
        if let Some(error) = v.get("error") {
            return self.fail(error, out);
        }
        self.start(&v, out);
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(answer::usage(u));
        }
        let Some(choice) = v.get("choices").and_then(|c| c.get(0)) else {
            return;
        };
        let delta = choice.get("delta");
        let text = |k: &str| delta.and_then(|d| d.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
        if let Some(r) = text("reasoning_content").or_else(|| text("reasoning")) {
            self.said(Kind::Reasoning, r, Vec::new(), out);
        }
        let signed = delta.and_then(|d| d.get(THINKING_BLOCKS)).and_then(Value::as_array);
        let carry = self.echo.signatures;
        for block in signed.into_iter().flatten().filter(|_| carry) {
            self.signed(block, out);
        }
        if let Some(t) = text("content") {
            self.said(Kind::Message { refusal: false }, t, answer::logprobs(Some(choice)), out);
        }
        if let Some(r) = text("refusal") {
            self.said(Kind::Message { refusal: true }, r, Vec::new(), out);
        }
        let calls = delta.and_then(|d| d.get("tool_calls")).and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            self.call_delta(call, out);
        }
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(f.to_string());
        }
    }

    /// Opens the response on the first chunk.
    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.ids.is_some() {
            return;
        }
        let id = chunk.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        self.ids = Some(Ids::of(id.unwrap_or(&self.fallback_id)));
        self.model = chunk.get("model").and_then(Value::as_str).unwrap_or_default().to_string();
        self.created = chunk.get("created").and_then(Value::as_u64).unwrap_or_default();
        let response = self.object("in_progress", None, Value::Null);
        self.emit(out, "response.created", json!({"response": response}));
        self.emit(out, "response.in_progress", json!({"response": response}));
    }

    /// Reasoning, text or a refusal: to the current item if it is of that kind, else to a new
    /// one, the current one closed first.
    fn said(&mut self, kind: Kind, delta: &str, logprobs: Vec<Value>, out: &mut Vec<u8>) {
        let at = match self.current.filter(|at| self.items.get(*at).is_some_and(|i| i.kind == kind)) {
            Some(at) => at,
            None => {
                self.close_current(out);
                let at = self.open(kind, out);
                self.current = Some(at);
                at
            }
        };
        let summarized = self.echo.summarized();
        let Some(item) = self.items.get_mut(at) else { return };
        let first = item.text.is_empty();
        item.text.push_str(delta);
        let id = item.id.clone();
        if summarized && item.kind == Kind::Reasoning {
            // The summary's one part opens with its first text (an item that only carries
            // thinking has none, as OpenAI's).
            if first {
                let part =
                    json!({"item_id": id, "output_index": at, "summary_index": 0, "part": summary_part("")});
                self.emit(out, "response.reasoning_summary_part.added", part);
            }
            let fields = json!({"item_id": id, "output_index": at, "summary_index": 0, "delta": delta});
            self.emit(out, "response.reasoning_summary_text.delta", fields);
            return;
        }
        let mut fields = json!({"item_id": id, "output_index": at, "content_index": 0, "delta": delta});
        let event = match item.kind {
            Kind::Reasoning => "response.reasoning_text.delta",
            Kind::Message { refusal: true } => "response.refusal.delta",
            _ => {
                for lp in &logprobs {
                    if !item.logprobs.is_empty() {
                        item.logprobs.push(',');
                    }
                    item.logprobs.push_str(&lp.to_string());
                }
                set(&mut fields, "logprobs", json!(logprobs));
                "response.output_text.delta"
            }
        };
        self.emit(out, event, fields);
    }
}

// Output items opened.
impl Events {
    /// Opens an output item (and its content part): its index.
    fn open(&mut self, kind: Kind, out: &mut Vec<u8>) -> usize {
        let ids = self.ids.clone().unwrap_or_default();
        let n = self.opened.next(&kind);
        let id = match kind {
            Kind::Reasoning | Kind::Signed { .. } => ids.nth(ids.reasoning(), n),
            Kind::Message { .. } => ids.nth(ids.message(), n),
            Kind::Call { .. } => ids.call(n),
        };
        let at = self.items.len();
        self.items.push(Item {
            id: id.clone(),
            kind,
            text: String::new(),
            logprobs: String::new(),
            status: "in_progress",
            guessed_id: false,
            thinking: Vec::new(),
            thinking_from: 0,
        });
        let item = self.item_json(at, false);
        self.emit(out, "response.output_item.added", json!({"output_index": at, "item": item}));
        if let Some(part) = self.part_json(at) {
            self.emit(
                out,
                "response.content_part.added",
                json!({"item_id": id, "output_index": at, "content_index": 0, "part": part}),
            );
        }
        at
    }
}

// The JSON of what the events carry.
impl Events {
    /// The Response object as it stands.
    fn object(&self, status: &str, incomplete: Option<&str>, error: Value) -> Value {
        let ids = self.ids.clone().unwrap_or_default();
        let head = Head { echo: &self.echo, ids: &ids, created: self.created, model: &self.model };
        let output = (0..self.items.len()).map(|at| self.item_json(at, true)).collect();
        head.object(status, output, self.usage.clone(), incomplete, error)
    }

    /// Item `at` as JSON, with its text so far when `whole`, else empty (as when opened).
    fn item_json(&self, at: usize, whole: bool) -> Value {
        let Some(item) = self.items.get(at) else { return Value::Null };
        let text = if whole { item.text.as_str() } else { "" };
        match &item.kind {
            Kind::Reasoning if !item.thinking.is_empty() => {
                let mut json = answer::reasoning_item(&item.id, text, item.status, self.echo.summarized());
                set(&mut json, "encrypted_content", json!(signature::thinking_carried(&item.thinking)));
                json
            }
            Kind::Reasoning => answer::reasoning_item(&item.id, text, item.status, self.echo.summarized()),
            Kind::Signed { call_id, signature } => signature::item(&item.id, call_id, signature, item.status),
            Kind::Message { .. } if !whole => answer::message_item(&item.id, Vec::new(), item.status),
            Kind::Message { .. } => {
                answer::message_item(&item.id, self.part_json(at).into_iter().collect(), item.status)
            }
            Kind::Call { call_id, name, .. } => {
                answer::call_item(&item.id, call_id, name, text, item.status, &self.echo)
            }
        }
    }

    /// Item `at`'s content part with its text so far (none for a call).
    fn part_json(&self, at: usize) -> Option<Value> {
        let item = self.items.get(at)?;
        match item.kind {
            // A summary's part is told by its own events (`summary_part`).
            Kind::Reasoning if self.echo.summarized() => None,
            Kind::Reasoning => Some(json!({"type": "reasoning_text", "text": item.text})),
            Kind::Signed { .. } => None,
            Kind::Message { refusal: true } => Some(answer::refusal_part(&item.text)),
            Kind::Message { refusal: false } => {
                Some(answer::text_part(&item.text, logprobs_of(&item.logprobs)))
            }
            Kind::Call { .. } => None,
        }
    }

    /// Writes one event: its name, and its data with `type` and `sequence_number`.
    fn emit(&mut self, out: &mut Vec<u8>, event: &str, fields: Value) {
        let mut data = json!({"type": event, "sequence_number": self.seq});
        if let (Some(d), Value::Object(f)) = (data.as_object_mut(), fields) {
            d.extend(f);
        }
        self.seq += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(data.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }
}

/// A reasoning summary's part.
fn summary_part(text: &str) -> Value {
    json!({"type": "summary_text", "text": text})
}

/// The log probabilities an item holds as written.
fn logprobs_of(written: &str) -> Vec<Value> {
    if written.is_empty() {
        return Vec::new();
    }
    serde_json::from_str(&format!("[{written}]")).unwrap_or_default()
}

pub(crate) mod calls;
mod ending;
mod thinking;

#[cfg(test)]
#[path = "events_tests.rs"]
pub(crate) mod tests;
