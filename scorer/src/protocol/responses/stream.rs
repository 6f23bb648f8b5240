//! The Responses event stream to chat-completion chunks.
//!
//! Events are read by their `type` (the names of openai-python's `ResponseStreamEvent`):
//! `response.created`/`in_progress`/`queued` open the answer with the role chunk; text,
//! refusal and reasoning deltas become `content`, `refusal` and `reasoning_content` deltas;
//! a `function_call` output item starts a tool call (numbered from 0 in order of appearance)
//! whose argument deltas follow; a reasoning item done with its encrypted content is a
//! `thinking_blocks` delta as the item it led to starts; `response.completed`/`incomplete` end it with the finish
//! chunk, the usage chunk and `[DONE]`; `response.failed` and `error` end it with one error
//! event. Other event types (built-in tools, part and `done` events, types added later) carry
//! nothing new for a chat client and are skipped.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Value, json};

use super::response::{carried, failure, finish_reason, is_commentary, lead_to, tokens};
use super::sse::Sse;
use crate::error::ApiError;
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::reply::{self, Meta, Tokens};

/// The most function calls one answer may start: the list is searched per event, so a hostile
/// stream of endless calls is cut off rather than made quadratic.
const MAX_CALLS: usize = 1024;

/// The event types read whole; the rest are skipped after their type is read.
const HANDLED: [&str; 8] = [
    "response.output_item.added",
    "response.output_item.done",
    "response.output_text.delta",
    "response.refusal.delta",
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
];

/// An event's type, read without building the rest: `response.created` and its kin repeat
/// the request's tools and instructions, which nothing here needs.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
}

/// A final event, read without its `output` (the whole answer again).
#[derive(Deserialize)]
struct Last {
    response: Option<Outcome>,
}

/// What a final Response object tells the client beyond the streamed content.
#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    usage: Value,
    #[serde(default)]
    incomplete_details: Value,
    #[serde(default)]
    error: Value,
}

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading events.
    Open,
    /// `[DONE]` was sent; anything after it is ignored.
    Done,
    /// An error event was sent; anything after it is ignored.
    Failed,
}

/// A tool call the client has been told about.
#[derive(Debug)]
struct Call {
    /// The output item's `id`, which argument events name.
    item_id: Option<String>,
    /// The output item's index, the other name argument events use.
    output_index: Option<u64>,
    /// Some argument text was sent.
    args_sent: bool,
}

/// Native stream bytes in (split anywhere across calls, several events per call), OpenAI SSE out.
#[derive(Debug)]
pub struct Stream {
    meta: Meta,
    sse: Sse,
    state: State,
    /// The role chunk was sent.
    started: bool,
    calls: Vec<Call>,
    /// The item the last text was sent for, to put a blank line between items.
    last_text: Option<String>,
    /// The item and part the last reasoning text was sent for.
    last_reasoning: Option<(String, &'static str, u64)>,
    /// Message items labelled commentary, whose text is not the answer of a structured
    /// request ([`Meta::structured`]): at most [`MAX_CALLS`] are remembered.
    commentary: Vec<String>,
    /// The reasoning items sent as `thinking_blocks` entries (at most [`MAX_CALLS`]).
    thinking: usize,
    /// Those not sent yet: each goes as the item it led to starts.
    leading: Vec<Value>,
    tokens: Option<Tokens>,
}

impl Stream {
    /// A stream for the answer described by `meta`.
    pub fn new(meta: Meta) -> Self {
        Stream {
            meta,
            sse: Sse::default(),
            state: State::Open,
            started: false,
            calls: Vec::new(),
            last_text: None,
            last_reasoning: None,
            commentary: Vec::new(),
            thinking: 0,
            leading: Vec::new(),
            tokens: None,
        }
    }

    /// Returns the OpenAI SSE bytes this chunk completes (possibly empty). `end`: the last chunk.
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if self.state != State::Open {
            return out;
        }
        let mut events = Vec::new();
        let framed = self.sse.push(chunk, &mut events);
        let tail = if end && framed.is_ok() { self.sse.finish(&mut events) } else { None };
        for data in &events {
            self.event(data, &mut out);
        }
        // An event the input stopped in the middle of is the truncation the glue reports,
        // not garbage; a whole one is read.
        if let Some(data) = tail.filter(|d| serde_json::from_slice::<Value>(d).is_ok()) {
            self.event(&data, &mut out);
        }
        if let Err(why) = framed {
            self.fail(&mut out, &garbage(&why));
        }
        out
    }

    /// A malformed or failed stream was turned into an error event (no `[DONE]` follows).
    pub fn failed(&self) -> bool {
        self.state == State::Failed
    }

    /// The usage the provider reported, once seen.
    pub fn tokens(&self) -> Option<Tokens> {
        self.tokens
    }

    /// One event's data; a fault ends the stream with an error event.
    fn event(&mut self, data: &[u8], out: &mut Vec<u8>) {
        // An event with empty data asks nothing.
        if self.state != State::Open || data == b"[DONE]" || data.trim_ascii().is_empty() {
            return;
        }
        if let Err(e) = self.read(data, out) {
            self.fail(out, &e);
        }
    }

    /// Reads one event by its type; Err: the error event that ends the stream.
    fn read(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), ApiError> {
        let not_json = |e: serde_json::Error| garbage(&format!("an event is not JSON: {e}"));
        let head: Head<'_> = serde_json::from_slice(data).map_err(not_json)?;
        let kind = head.kind.ok_or_else(|| garbage("an event has no type"))?;
        match kind.as_ref() {
            "response.created" | "response.in_progress" | "response.queued" => self.start(out),
            "response.completed" | "response.incomplete" | "response.failed" => {
                let last: Last = serde_json::from_slice(data).map_err(not_json)?;
                let o = last.response.ok_or_else(|| garbage("a final event has no response"))?;
                let response = json!({"usage": o.usage, "incomplete_details": o.incomplete_details});
                if kind == "response.failed" {
                    self.tokens = tokens(&response).or(self.tokens);
                    return Err(failure(Some(&o.error)));
                }
                self.finish(kind == "response.incomplete", &response, out);
            }
            "error" => {
                let v: Value = serde_json::from_slice(data).map_err(not_json)?;
                return Err(failure(Some(v.get("error").filter(|e| e.is_object()).unwrap_or(&v))));
            }
            k if HANDLED.contains(&k) => {
                let v: Value = serde_json::from_slice(data).map_err(not_json)?;
                self.on_event(k, &v, out)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// An event about the answer's content: an output item or a delta.
    fn on_event(&mut self, kind: &str, v: &Value, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match kind {
            "response.output_item.added" => self.item(v, out)?,
            "response.output_item.done" => {
                self.reasoning_done(v);
                self.item(v, out)?;
            }
            "response.output_text.delta" => {
                let (item, delta) = (item_id(v), text(v, "delta")?);
                if self.commentary.iter().any(|c| c == item) {
                    if self.meta.reasoning && !delta.is_empty() {
                        let key = (item.to_string(), "commentary", 0);
                        let paragraph = self.last_reasoning.as_ref().is_some_and(|last| *last != key);
                        self.last_reasoning = Some(key);
                        self.delta(out, "reasoning_content", delta, paragraph);
                    }
                } else if !delta.is_empty() {
                    // Parts of one item join directly; a new item starts a new paragraph.
                    let paragraph = self.last_text.as_deref().is_some_and(|last| last != item);
                    self.last_text = Some(item.to_string());
                    self.delta(out, "content", delta, paragraph);
                }
            }
            "response.refusal.delta" => self.delta(out, "refusal", text(v, "delta")?, false),
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta"
                if self.meta.reasoning =>
            {
                let (part, index) = if kind == "response.reasoning_text.delta" {
                    ("content", v.get("content_index"))
                } else {
                    ("summary", v.get("summary_index"))
                };
                let key = (item_id(v).to_string(), part, index.and_then(Value::as_u64).unwrap_or(0));
                let delta = text(v, "delta")?;
                if !delta.is_empty() {
                    // Each summary or reasoning part is its own paragraph.
                    let paragraph = self.last_reasoning.as_ref().is_some_and(|last| *last != key);
                    self.last_reasoning = Some(key);
                    self.delta(out, "reasoning_content", delta, paragraph);
                }
            }
            "response.function_call_arguments.delta" => {
                let delta = text(v, "delta")?;
                if let Some(i) = call_of(&self.calls, v) {
                    self.arguments(out, i, delta);
                }
            }
            "response.function_call_arguments.done" => {
                // Sent whole only when no delta carried it.
                let args = text(v, "arguments")?;
                if let Some(i) =
                    call_of(&self.calls, v).filter(|i| self.calls.get(*i).is_some_and(|c| !c.args_sent))
                {
                    self.arguments(out, i, args);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The role chunk, once, before anything else the client reads.
    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            reply::chunk(out, &self.meta, json!({"role": "assistant", "content": ""}), None);
        }
    }

    /// A text delta under `field`, after a blank line when it starts a new `paragraph`.
    /// Empty deltas send nothing.
    fn delta(&mut self, out: &mut Vec<u8>, field: &str, delta: &str, paragraph: bool) {
        if delta.is_empty() {
            return;
        }
        self.start(out);
        let text = if paragraph { format!("\n\n{delta}") } else { delta.to_string() };
        reply::chunk(out, &self.meta, json!({ field: text }), None);
    }

    /// An argument delta for tool call `i` (nothing when empty).
    fn arguments(&mut self, out: &mut Vec<u8>, i: usize, args: &str) {
        if args.is_empty() {
            return;
        }
        if let Some(c) = self.calls.get_mut(i) {
            c.args_sent = true;
        }
        let delta = json!({"tool_calls": [{"index": i, "function": {"arguments": args}}]});
        reply::chunk(out, &self.meta, delta, None);
    }

    /// `response.completed`/`incomplete` (the event's type is the status, whatever the object
    /// says): `{}` for any tool call that got no arguments (so they parse), the finish chunk,
    /// the usage chunk, `[DONE]`.
    fn finish(&mut self, incomplete: bool, response: &Value, out: &mut Vec<u8>) {
        self.lead(None, out);
        self.start(out);
        for i in 0..self.calls.len() {
            if self.calls.get(i).is_some_and(|c| !c.args_sent) {
                self.arguments(out, i, "{}");
            }
        }
        let finish = finish_reason(incomplete, response, !self.calls.is_empty());
        reply::chunk(out, &self.meta, json!({}), Some(finish));
        self.tokens = tokens(response).or(self.tokens);
        if let Some(t) = self.tokens {
            reply::usage_chunk(out, &self.meta, t);
        }
        reply::done(out);
        self.state = State::Done;
    }

    /// Ends the stream with one error event.
    fn fail(&mut self, out: &mut Vec<u8>, e: &ApiError) {
        if self.state == State::Open {
            reply::error_event(out, e);
            self.state = State::Failed;
        }
    }
}

/// Output items.
impl Stream {
    /// An output item: a `function_call` item starts its tool call when first seen, with its
    /// arguments if they came with it (a provider that sends no argument deltas).
    fn item(&mut self, v: &Value, out: &mut Vec<u8>) -> Result<(), ApiError> {
        let item = v.get("item").ok_or_else(|| garbage("an output item event has no item"))?;
        let kind = item.get("type").and_then(Value::as_str);
        match kind {
            Some("message") => self.lead(Some("message"), out),
            Some("function_call") => {
                let call_id = item.get("call_id").and_then(Value::as_str);
                self.lead(call_id.map(|id| format!("call:{id}")).as_deref(), out);
            }
            _ => {}
        }
        if kind == Some("message") && self.meta.structured && is_commentary(item) {
            // A model names a message's channel before its text (`phase` comes with the item).
            let id = item.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
            if let Some(id) = id.filter(|id| !self.commentary.iter().any(|c| c == id))
                && self.commentary.len() < MAX_CALLS
            {
                self.commentary.push(id.to_string());
            }
        }
        if kind != Some("function_call") {
            return Ok(());
        }
        let i = match call_of(&self.calls, item).or_else(|| call_of(&self.calls, v)) {
            Some(i) => i,
            None => {
                let (call_id, name) = (text(item, "call_id")?, text(item, "name")?);
                if self.calls.len() >= MAX_CALLS {
                    return Err(garbage(&format!("more than {MAX_CALLS} function calls")));
                }
                self.start(out);
                let index = self.calls.len();
                let start = json!({"index": index, "id": call_id, "type": "function",
                    "function": {"name": name, "arguments": ""}});
                reply::chunk(out, &self.meta, json!({"tool_calls": [start]}), None);
                self.calls.push(Call {
                    item_id: item.get("id").and_then(Value::as_str).map(str::to_string),
                    output_index: v.get("output_index").and_then(Value::as_u64),
                    args_sent: false,
                });
                index
            }
        };
        let args = item.get("arguments").and_then(Value::as_str).unwrap_or_default();
        if self.calls.get(i).is_some_and(|c| !c.args_sent) {
            self.arguments(out, i, args);
        }
        Ok(())
    }

    /// A reasoning item done, with its encrypted content: its `thinking_blocks` entry, with
    /// its `index` in the list ([`carried`]), held until the item it led to starts
    /// ([`Stream::lead`]). An added item's encrypted content may be incomplete, so only a done
    /// one is read.
    fn reasoning_done(&mut self, v: &Value) {
        let item = v.get("item").filter(|i| i.get("type").and_then(Value::as_str) == Some("reasoning"));
        let Some(mut block) = item.and_then(|i| carried(i, &self.meta.model)) else { return };
        if self.thinking >= MAX_CALLS {
            return;
        }
        if let Some(o) = block.as_object_mut() {
            o.insert("index".into(), json!(self.thinking));
        }
        self.thinking += 1;
        self.leading.push(block);
    }

    /// The reasoning entries held, each a `thinking_blocks` delta, noting the item they led to
    /// (`before`, as [`super::response::lead_to`]; `None`: the answer ended after them).
    fn lead(&mut self, before: Option<&str>, out: &mut Vec<u8>) {
        if self.leading.is_empty() {
            return;
        }
        self.start(out);
        if let Some(before) = before {
            lead_to(&mut self.leading, 0, before);
        }
        for block in std::mem::take(&mut self.leading) {
            reply::chunk(out, &self.meta, json!({ THINKING_BLOCKS: [block] }), None);
        }
    }
}

/// The string member `key` of an event, or the stream is not the documented shape.
fn text<'v>(v: &'v Value, key: &str) -> Result<&'v str, ApiError> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| garbage(&format!("an event has no string '{key}'")))
}

/// The tool call an event names among `calls`, by item id, else by output index.
fn call_of(calls: &[Call], v: &Value) -> Option<usize> {
    let by_id = v.get("item_id").or_else(|| v.get("id")).and_then(Value::as_str);
    if let Some(i) = by_id.and_then(|id| calls.iter().position(|c| c.item_id.as_deref() == Some(id))) {
        return Some(i);
    }
    let at = v.get("output_index").and_then(Value::as_u64)?;
    calls.iter().position(|c| c.output_index == Some(at))
}

/// A delta's `item_id`, which places paragraph breaks and tells commentary (under a JSON
/// schema) from the answer: tolerated when missing, as some Responses-compatible servers leave
/// it out (their text is then the answer's).
fn item_id(v: &Value) -> &str {
    v.get("item_id").and_then(Value::as_str).unwrap_or_default()
}

/// The error for a stream that is not what Responses sends.
fn garbage(why: &str) -> ApiError {
    ApiError::server(502, "bad_upstream_response", format!("the provider's stream is malformed: {why}"))
}

#[cfg(test)]
mod tests;
