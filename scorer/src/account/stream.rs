//! A streamed answer's usage: an SSE chat stream rewritten chunk by chunk, its usage chunk
//! priced (or removed), its end checked for `[DONE]`.

use super::calls::Calls;
use super::events::{answer_bytes, finished_choices, finishes, no_choices};
pub(crate) use super::sse::data_value;
pub use super::sse::{First, first_event, first_event_from};
use super::sse::{contains, ends_done, error_line, event_end};
use super::usage::{Price, Usage, find_usage, format_usd};
use crate::parse::json::Reader;

/// Appended to a stream that ended without `data: [DONE]`: OpenAI SDKs raise on an event
/// carrying `error`, so no client takes a truncated answer for a complete one. It follows the
/// last whole event (a half-sent one is dropped first).
pub const TRUNCATED_EVENT: &[u8] = b"data: {\"error\":{\"message\":\"the provider's stream ended before its final event: the answer is incomplete\",\"type\":\"server_error\",\"param\":null,\"code\":\"stream_truncated\"}}\n\n";

/// Appended in place of [`TRUNCATED_EVENT`] to a stream that ended without `data: [DONE]` after
/// its answer was complete: its last event was the usage chunk, after a finish, or it ended
/// cleanly once every choice finished (a provider that leaves `[DONE]` out, or the usage chunk
/// too, or a connection closed just before them). The answer is whole and was billed whole: an
/// error event made the SDKs raise on it (a client retrying paid twice), and a fallback's was
/// thrown away for the next candidate's.
pub const DONE_EVENT: &[u8] = b"data: [DONE]\n\n";

/// The most of one unfinished event held: an event longer than this (a large tool call's
/// arguments in one delta; a stream framed without blank lines is one endless event) is passed
/// on as it comes, unread, and the events after it are read again. Held, it grew with the
/// stream and reached the client only at its end, if ever.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// Rewrites an SSE chat stream chunk by chunk: the usage chunk gets `"cost"`, or is removed
/// when the client did not ask for usage; the end is checked for `[DONE]`. Events are passed
/// on whole, so an event split across chunks is held until its end arrives (up to
/// [`MAX_EVENT_BYTES`]).
#[derive(Debug, Clone)]
pub struct StreamUsage {
    /// What the model that streams costs.
    price: Price,
    /// Its context window: the usage it reports is priced within what it can bill
    /// ([`Usage::beyond`]; 0, not known: as reported).
    window: u64,
    /// The most output its choices can write together, tokens: its floor's bound.
    most: u64,
    /// Each choice's output cap as the client set it: its usage is priced within twice it
    /// ([`Usage::beyond`]), as the request is charged (the cost its usage chunk showed was the
    /// runaway's, 44 times what was charged).
    cap: Option<u64>,
    /// What the request was charged before this stream, USD (attempts lost on the way): part
    /// of the `cost` the usage chunk shows, which is the request's.
    before: f64,
    /// The client asked for usage itself.
    keep: bool,
    /// Bytes of an unfinished event.
    carry: Vec<u8>,
    /// Of `carry`, the bytes already searched for the event's end: each chunk of a long event
    /// is searched once, not the whole event again.
    searched: usize,
    /// Passing on an event longer than [`MAX_EVENT_BYTES`]: the last bytes passed (a blank line
    /// may begin there and end in the next chunk).
    long: Option<Vec<u8>>,
    /// The usage the provider reported.
    pub usage: Option<Usage>,
    /// `data: [DONE]` was seen.
    pub done: bool,
    /// Events passed on (`[DONE]` aside): each carries at least a token of the answer, or
    /// frames it.
    pub events: u64,
    /// Bytes of answer text the events carried ([`answer_bytes`]): what a provider whose
    /// events carry many tokens each (Gemini's) billed for them.
    pub text_bytes: u64,
    /// The choices events said finished (a `finish_reason` other than null), by `index`, each
    /// once (at most [`MAX_CHOICES`]).
    finished: Vec<u64>,
    /// A choice finished twice (a finish on every chunk), or a finish was unreadable: no end.
    refinished: bool,
    /// The choices asked for (`n`).
    choices: u64,
    /// [`Self::events`] when the last finish was read: an event after it goes on past it.
    finished_at: u64,
    /// The last event read was the usage chunk (usage and no choices: OpenAI sends it after
    /// every choice finished), and a choice had finished by then: the answer is complete,
    /// `[DONE]` or not. (Usage riding on content chunks, running, says nothing of the end: with
    /// `n` > 1 one choice finishes while another goes on.)
    complete: bool,
    /// Usage reports read so far.
    reports: u32,
    /// The request's input tokens, as estimated: the rates its floor is priced at (a long
    /// input's are dearer).
    input: u64,
    /// An event was the provider's error (`data: {"error": ...}`, or `event: error`), as
    /// OpenAI-compatible providers end a stream that fails midway: it is the stream's end, no
    /// truncation error follows it.
    pub failed: bool,
    /// The calls of a stream whose provider leaves out their `index`
    /// ([`StreamUsage::indexless_calls`]).
    calls: Option<Calls>,
}

impl StreamUsage {
    /// A stream from a model priced `price`; `keep`: the client asked for usage.
    pub fn new(price: Price, keep: bool) -> Self {
        StreamUsage {
            price,
            window: 0,
            most: u64::MAX,
            cap: None,
            before: 0.0,
            keep,
            carry: Vec::new(),
            searched: 0,
            long: None,
            usage: None,
            done: false,
            events: 0,
            text_bytes: 0,
            finished: Vec::new(),
            refinished: false,
            choices: 1,
            finished_at: 0,
            complete: false,
            reports: 0,
            input: 0,
            failed: false,
            calls: None,
        }
    }
}

/// What the stream is priced and judged by, set as it is built.
impl StreamUsage {
    /// A stream of `n` choices: one that ends cleanly once each finished is whole.
    pub fn choices(mut self, n: u64) -> Self {
        self.choices = n.max(1);
        self
    }

    /// A stream from a model of a `window`-token context: the cost it shows is of the usage
    /// that model can bill, as the router charges it.
    pub fn within(mut self, window: u64) -> Self {
        self.window = window;
        self
    }

    /// A stream whose choices write at most `tokens` of output together (the model's
    /// `max_output` each): its floor is no more (a stream of events that each carried one
    /// token of 10,000 bytes, cut before its usage, was charged $34 where its model could bill
    /// $0.01). 0: not known.
    pub fn at_most(mut self, tokens: u64) -> Self {
        self.most = if tokens == 0 { u64::MAX } else { tokens };
        self
    }

    /// A stream of a request whose choices the client capped at `cap` tokens each.
    pub fn capped(mut self, cap: Option<u64>) -> Self {
        self.cap = cap;
        self
    }

    /// A stream of a request of `tokens` of input, as estimated: its floor is priced at the
    /// rates of that length (a model's long-context output price past its threshold).
    pub fn input(mut self, tokens: u64) -> Self {
        self.input = tokens;
        self
    }

    /// A stream after attempts that were charged `usd` (lost on the way): the `cost` it shows
    /// is the request's, as the budgets count it.
    pub fn after(mut self, usd: f64) -> Self {
        self.before = usd;
        self
    }

    /// A stream from a model that streams its tool calls without their `index`
    /// ([`crate::catalog::Quirks::indexless_calls`]): each call gets the index its id's place
    /// says, and a choice that called tools finishes with `tool_calls`, not `stop`.
    pub fn indexless_calls(mut self, on: bool) -> Self {
        self.calls = on.then(Calls::default);
        self
    }
}

impl StreamUsage {
    /// The answer passed whole: `[DONE]`, or the usage chunk after every choice finished, and
    /// no error event. A stream that breaks off after this (its provider resetting the
    /// connection past its last event) delivered all it billed.
    pub fn whole(&self) -> bool {
        (self.done || self.complete) && !self.failed
    }

    /// The cost of the stream, once its usage was seen.
    pub fn cost(&self) -> Option<f64> {
        // Each choice's output limit, as `at_most` was told it (0: not known).
        let max_output = if self.most == u64::MAX { 0 } else { self.most / self.choices };
        let within = |u: Usage| u.beyond(self.window, max_output, self.cap, self.choices, &self.price);
        self.usage.map(|u| within(u).unwrap_or(u).cost(&self.price))
    }

    /// The least the output passed on so far cost, USD: a token per event (an event carries at
    /// least one), or a token per four bytes of the answer's text when that is more (the
    /// router's estimate's measure: a client that read a long answer and left just before its
    /// usage chunk, whose events carried thirty words each, was charged a token an event, a
    /// thirtieth of what the provider billed). A stream that ends before its usage chunk (the
    /// client left, or it was cut) is charged no less than this: the provider billed it.
    pub fn streamed_floor(&self) -> f64 {
        let tokens = self.events.max(self.text_bytes.div_ceil(4)).min(self.most);
        tokens as f64 * self.price.at(self.input).output / 1e6
    }

    /// Takes one chunk; returns what to send instead of it, or `None` to send it unchanged.
    /// `end`: the stream's last chunk (anything held is flushed, and a missing `[DONE]` gets
    /// [`TRUNCATED_EVENT`]).
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Option<Vec<u8>> {
        if let Some(last) = self.long.take() {
            return self.pass_long(last, chunk, end);
        }
        // Fast path: nothing held, no usage in this chunk, no call to number, and it ends on
        // an event boundary.
        let plain = self.carry.is_empty()
            && !contains(chunk, b"\"usage\"")
            && !self.calls.as_ref().is_some_and(|c| c.wants(chunk))
            && (chunk.is_empty() || chunk.ends_with(b"\n\n") || chunk.ends_with(b"\r\n\r\n"));
        if plain {
            let events = self.events;
            self.read_lines(chunk);
            // Events with no usage: the answer goes on past any usage read before.
            self.complete &= self.events == events;
            if end && !self.done && !self.failed {
                let mut out = chunk.to_vec();
                out.extend_from_slice(self.end_event());
                return Some(out);
            }
            return None;
        }
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(data.len() + 32);
        let mut rest: &[u8] = &data;
        // A blank line may have begun in the bytes searched before (`\n`, `\n\r`).
        let mut from = std::mem::take(&mut self.searched).saturating_sub(2);
        while let Some(n) = event_end(rest, from) {
            let (event, tail) = rest.split_at(n);
            self.event(event, &mut out);
            rest = tail;
            from = 0;
        }
        if !end && rest.len() > MAX_EVENT_BYTES {
            self.events += 1;
            // Unread: most of an event this long is a tool call's arguments or a text.
            self.text_bytes += rest.len() as u64;
            self.complete = false;
            // Passed on unread, but an error it is (a provider's long error message) still
            // ends the stream as failed, with no truncation error after it.
            self.failed |= rest.split(|&b| b == b'\n').any(error_line);
            self.long = Some(rest.get(rest.len().saturating_sub(2)..).unwrap_or_default().to_vec());
            out.extend_from_slice(rest);
            return Some(out);
        }
        if end {
            // An event without its blank line is unfinished: after `[DONE]` it is harmless
            // and passed on; before it, it is the half of a cut event and is dropped (as SSE
            // readers discard it at the end of a stream), so the client reads whole events
            // and then the error, never half a JSON object.
            self.note_done(rest);
            if self.done || self.failed {
                out.extend_from_slice(rest);
            } else {
                out.extend_from_slice(self.end_event());
            }
        } else {
            // The unfinished event stays where it is when no event ended before it: a long
            // one is not copied again at each chunk.
            let at = data.len() - rest.len();
            data.drain(..at);
            self.searched = data.len();
            self.carry = data;
        }
        Some(out)
    }

    /// A chunk of an event too long to hold: passed on up to the event's end, and what follows
    /// it read as usual. `last`: the bytes of it passed before.
    fn pass_long(&mut self, mut last: Vec<u8>, chunk: &[u8], end: bool) -> Option<Vec<u8>> {
        let back = last.len();
        last.extend_from_slice(chunk);
        let Some(n) = event_end(&last, 0) else {
            if end && !self.done && !self.failed {
                // It never ended: the stream was cut. Its first part reached the client, so
                // a blank line ends it before the error event (a reader then fails on a half
                // event, as it would on the error).
                let mut out = chunk.to_vec();
                out.extend_from_slice(b"\n\n");
                out.extend_from_slice(TRUNCATED_EVENT);
                return Some(out);
            }
            last.drain(..last.len().saturating_sub(2));
            self.long = Some(last);
            return None;
        };
        // `last` held no blank line, so the event ends in this chunk.
        let (rest_of_long, after) = chunk.split_at(n.saturating_sub(back).min(chunk.len()));
        let mut out = rest_of_long.to_vec();
        match self.feed(after, end) {
            Some(bytes) => out.extend_from_slice(&bytes),
            None => out.extend_from_slice(after),
        }
        Some(out)
    }

    /// What ends a stream that ended without `[DONE]` (cleanly: a provider's reset or a timeout
    /// gives no end): [`DONE_EVENT`] when its answer was complete, or its last event finished
    /// the last of its choices (and then it is done), else [`TRUNCATED_EVENT`].
    fn end_event(&mut self) -> &'static [u8] {
        if self.complete || self.all_finished() {
            self.done = true;
            DONE_EVENT
        } else {
            TRUNCATED_EVENT
        }
    }

    fn note_done(&mut self, events: &[u8]) {
        if ends_done(events) {
            self.done = true;
        }
    }

    /// One whole event (with its blank line), written to `out` as it should go on.
    fn event(&mut self, event: &[u8], out: &mut Vec<u8>) {
        let fixed = self.calls.as_mut().filter(|c| c.wants(event)).and_then(|c| c.fix(event));
        let event = fixed.as_deref().unwrap_or(event);
        let (events, reports, done) = (self.events, self.reports, self.done);
        self.read_lines(event);
        // Past `[DONE]` nothing is the answer's (its clients stop reading there): usage
        // sent after it was charged.
        let edited = (!done && contains(event, b"\"usage\"")).then(|| self.edit(event)).flatten();
        // An event of the answer (not `[DONE]`): the usage chunk after a finish completes it,
        // anything else goes on past it.
        if self.events > events {
            self.complete = !self.finished.is_empty() && self.reports > reports && no_choices(event);
        }
        match edited {
            Some(Edit::Drop) => {}
            Some(Edit::Replace(bytes)) => out.extend_from_slice(&bytes),
            None => out.extend_from_slice(event),
        }
    }

    /// The usage chunk: priced, or dropped when only the router asked for it.
    fn edit(&mut self, event: &[u8]) -> Option<Edit> {
        let text = std::str::from_utf8(event).ok()?;
        let data_at = text.find("data:")? + "data:".len();
        let json = text.get(data_at..)?;
        let lead = json.len() - json.trim_start().len();
        let json = json.trim();
        let found = find_usage(json)?;
        // A usage chunk it cannot read is still the usage chunk: dropped for a client that did
        // not ask (an SDK's loop read its empty `choices` and raised), and the stream whole
        // after it (it was cut as one that never ended, its provider's breaker fed).
        if let Some(usage) = found.usage {
            self.usage = Some(self.usage.map_or(usage, |before| before.larger(usage)));
        }
        self.reports += 1;
        if !self.keep {
            if !found.choices {
                return Some(Edit::Drop);
            }
            // Usage riding on a content chunk: keep the chunk, drop the usage.
            let at = data_at + lead;
            let mut bytes = Vec::with_capacity(event.len());
            bytes.extend_from_slice(event.get(..at + found.start)?);
            bytes.extend_from_slice(b"null");
            bytes.extend_from_slice(event.get(at + found.end..)?);
            return Some(Edit::Replace(bytes));
        }
        let cost = format_usd(self.cost()? + self.before);
        let usage_at = data_at + lead + found.start;
        if let Some((from, to)) = json.get(found.start..found.end).and_then(cost_value) {
            // A provider that states a cost of its own (OpenRouter): the router's takes its
            // place, or the object would name `cost` twice (parsers differ on which counts).
            let mut bytes = Vec::with_capacity(event.len() + 16);
            bytes.extend_from_slice(event.get(..usage_at + from)?);
            bytes.extend_from_slice(cost.as_bytes());
            bytes.extend_from_slice(event.get(usage_at + to..)?);
            return Some(Edit::Replace(bytes));
        }
        // Before the usage object's closing brace.
        let close = data_at + lead + found.end - 1;
        let mut bytes = Vec::with_capacity(event.len() + 24);
        bytes.extend_from_slice(event.get(..close)?);
        let empty = json.get(found.start + 1..found.end - 1).is_some_and(|inner| inner.trim().is_empty());
        if !empty {
            bytes.push(b',');
        }
        bytes.extend_from_slice(b"\"cost\":");
        bytes.extend_from_slice(cost.as_bytes());
        bytes.extend_from_slice(event.get(close..)?);
        Some(Edit::Replace(bytes))
    }
}

enum Edit {
    Drop,
    Replace(Vec<u8>),
}

/// Where the value of a usage object's own top-level `cost` member is, in the object.
fn cost_value(usage: &str) -> Option<(usize, usize)> {
    let mut r = Reader::new(usage);
    let mut obj = r.object().ok()?;
    while let Some(key) = obj.next_key(&mut r).ok()? {
        r.peek();
        let from = r.pos();
        r.skip_value().ok()?;
        if key == "cost" {
            return Some((from, r.pos()));
        }
    }
    None
}

impl StreamUsage {
    /// Counts the `data:` lines of whole events (`[DONE]`'s aside; one per event in the streams
    /// the router passes on) and notes an error event and `[DONE]` (wherever it stands among
    /// them: a comment after it in the same chunk left a whole stream read as cut).
    fn read_lines(&mut self, events: &[u8]) {
        for line in events.split(|&b| b == b'\n') {
            self.failed |= error_line(line);
            if let Some(value) = data_value(line) {
                let done = value.trim_ascii_end() == b"[DONE]";
                self.done |= done;
                self.events += u64::from(!done);
                self.text_bytes += answer_bytes(value);
                if finishes(value) {
                    self.finished_at = self.events;
                    self.note_finished(value);
                }
            }
        }
    }
}

/// The most choices a stream's finishes are kept for (the API's `n` goes to 128).
const MAX_CHOICES: usize = 256;

impl StreamUsage {
    /// Its last event finished the last of its choices, each once.
    fn all_finished(&self) -> bool {
        !self.refinished && self.finished.len() as u64 >= self.choices && self.finished_at == self.events
    }

    /// Notes the choices a chunk says finished ([`finished_choices`]).
    fn note_finished(&mut self, value: &[u8]) {
        let Some(indices) = finished_choices(value) else {
            self.refinished = true;
            return;
        };
        for i in indices {
            if self.finished.contains(&i) {
                self.refinished = true;
            } else if self.finished.len() < MAX_CHOICES {
                self.finished.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE_CHUNK: &str = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1500}}\n\n";

    fn stream() -> String {
        format!(
            "data: {{\"id\":\"c\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"hi\"}}}}],\"usage\":null}}\n\n{USAGE_CHUNK}data: [DONE]\n\n"
        )
    }

    fn run(s: &mut StreamUsage, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            match s.feed(c, i + 1 == chunks.len()) {
                Some(b) => out.extend_from_slice(&b),
                None => out.extend_from_slice(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A runaway count (2,000 output tokens is the most a 1,000-token window bills) shows the
    /// cost the router charges, not what the count would cost.
    #[test]
    fn a_runaway_usage_shows_what_the_model_can_bill() {
        let chunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":99999999999}}\n\ndata: [DONE]\n\n";
        let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true).within(1_000);
        let out = run(&mut s, &[chunk.as_bytes()]);
        assert!(out.contains("\"cost\":0.00401000}"), "{out}");
        let mut unknown = StreamUsage::new(Price::flat(1.0, 2.0), true);
        assert!(run(&mut unknown, &[chunk.as_bytes()]).contains("\"cost\":200000.00000800}"));
    }

    #[test]
    fn answer_bytes_are_the_text_reasoning_and_arguments_a_chunk_carries() {
        let cases: [(&str, u64); 8] = [
            (r#"{"choices":[{"delta":{"content":"Hello there"}}]}"#, 11),
            (r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#, 0),
            (r#"{"choices":[{"delta":{"content":null},"finish_reason":"stop"}]}"#, 0),
            // An escape is a byte of text; a quote and `":` inside the text end nothing.
            (r#"{"choices":[{"delta":{"content": "a\"b\": c\n\u00e9"}}]}"#, 9),
            (r#"{"choices":[{"delta":{"reasoning_content":"think"}}]}"#, 5),
            (
                r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"f","arguments":"{\"x\":1}"}}]}}]}"#,
                7,
            ),
            (r#"{"id":"c","model":"m","usage":{"prompt_tokens":3}}"#, 0),
            // One reasoning under both names (a server renaming it): counted once.
            (r#"{"choices":[{"delta":{"reasoning":"think","reasoning_content":"think"}}]}"#, 5),
        ];
        for (chunk, bytes) in cases {
            assert_eq!(answer_bytes(chunk.as_bytes()), bytes, "{chunk}");
        }
    }

    /// A long input's stream is floored at the model's long-context output price (its base
    /// price left a 300k-token request's cut answer 12% under its provider's bill).
    #[test]
    fn a_long_inputs_floor_is_priced_at_the_long_output_rate() {
        let long = crate::catalog::LongContext { above: 1_000, price_in: 2.0, price_out: 30.0 };
        let price = Price { long: Some(long), ..Price::flat(1.0, 15.0) };
        let event = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
        for (input, per_million) in [(2_000, 30.0), (1_000, 15.0), (0, 15.0)] {
            let mut s = StreamUsage::new(price, false).input(input);
            s.feed(event, false);
            assert_eq!(s.streamed_floor(), per_million / 1e6, "{input}");
        }
    }

    /// A stream whose events carry many tokens each (thirty words: Gemini's) is charged, when
    /// its usage never comes, a token per four bytes of its text, not a token per event.
    #[test]
    fn the_floor_counts_the_text_not_only_the_events() {
        let words = "word ".repeat(30);
        let event = format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{words}\"}}}}]}}\n\n");
        let mut s = StreamUsage::new(Price::flat(0.0, 1_000_000.0), false);
        let chunks: Vec<&[u8]> = vec![event.as_bytes(); 10];
        run(&mut s, &chunks);
        assert_eq!(s.events, 10);
        // 10 events of 150 bytes: 375 tokens at a dollar each.
        assert_eq!(s.streamed_floor(), 375.0);
        // No more than its model writes: a stream of 10,000-byte one-token events, cut before
        // its usage, was charged $34 where its model could bill a cent.
        let mut most = StreamUsage::new(Price::flat(0.0, 1_000_000.0), false).at_most(100);
        run(&mut most, &chunks);
        assert_eq!(most.streamed_floor(), 100.0);
        let mut unknown = StreamUsage::new(Price::flat(0.0, 1_000_000.0), false).at_most(0);
        run(&mut unknown, &chunks);
        assert_eq!(unknown.streamed_floor(), 375.0);
    }

    /// Usage reported twice: the larger counts are charged, and the second chunk's cost says
    /// so (the last, smaller report was charged, and a provider that billed the first was
    /// paid for more than the budgets counted).
    #[test]
    fn usage_reported_twice_is_charged_at_the_larger_counts() {
        let first = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}\n\n";
        let second = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n";
        let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true);
        let out = run(&mut s, &[first.as_bytes(), second.as_bytes()]);
        assert_eq!(out.matches("\"cost\":0.00120000}").count(), 2, "{out}");
        assert_eq!(s.usage.map(|u| (u.input, u.output)), Some((1000, 100)));
        // Usage after `[DONE]` is no longer the answer's: its clients stop reading there.
        let after = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":18446744073709551615,\"completion_tokens\":9}}\n\n";
        let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true);
        run(&mut s, &[first.as_bytes(), b"data: [DONE]\n\n", after.as_bytes()]);
        assert_eq!(s.usage.map(|u| (u.input, u.output)), Some((1000, 100)));
    }

    /// The cost a usage chunk shows is what the request is charged: a runaway count within
    /// twice the client's cap.
    #[test]
    fn a_usage_chunk_shows_the_cost_charged_within_the_cap() {
        let chunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1000}}\n\ndata: [DONE]\n\n";
        let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true).within(1_000_000).capped(Some(10));
        let out = run(&mut s, &[chunk.as_bytes()]);
        // 10 in at $1 and 32 out at $2 per million (a cap under 16 is sent as 16).
        assert!(out.contains("\"cost\":0.00007400"), "{out}");
    }

    /// A usage chunk it cannot read (all zeros, a count written `"3"`) is still the usage
    /// chunk: dropped for a client that did not ask (an SDK's loop read its empty `choices` and
    /// raised), and the stream whole after it (it was cut as one that never ended, and its
    /// provider's breaker fed).
    #[test]
    fn an_unreadable_usage_chunk_is_still_the_usage_chunk() {
        let content = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\n";
        for usage in
            [r#"{"prompt_tokens":0,"completion_tokens":0}"#, r#"{"prompt_tokens":5,"completion_tokens":"3"}"#]
        {
            let chunk = format!("data: {{\"choices\":[],\"usage\":{usage}}}\n\n");
            let mut s = StreamUsage::new(Price::flat(1.0, 2.0), false);
            let out = run(&mut s, &[content.as_bytes(), chunk.as_bytes()]);
            assert!(!out.contains("usage"), "{usage}: {out}");
            assert!(s.whole() && s.usage.is_none(), "{usage}");
        }
    }

    /// A usage chunk that states a cost of its own (OpenRouter's) carries one `cost`: the
    /// router's, where the provider's was.
    #[test]
    fn a_stated_cost_is_replaced_not_repeated() {
        let chunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"cost\" : 0.5,\"completion_tokens\":500}}\n\ndata: [DONE]\n\n";
        let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true);
        let out = run(&mut s, &[chunk.as_bytes()]);
        assert!(
            out.contains(r#""usage":{"prompt_tokens":1000,"cost" : 0.00200000,"completion_tokens":500}"#),
            "{out}"
        );
        assert_eq!(out.matches("\"cost\"").count(), 1, "{out}");
    }

    #[test]
    fn the_usage_chunk_gets_its_cost_in_any_chunking() {
        let whole = stream();
        let bytes = whole.as_bytes();
        for split in [1, 7, 40, 90, bytes.len() - 3] {
            let (a, b) = bytes.split_at(split);
            let mut s = StreamUsage::new(Price::flat(3.0, 15.0), true);
            let out = run(&mut s, &[a, b]);
            assert!(
                out.contains(r#""usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"cost":0.01050000}"#),
                "{split}: {out}"
            );
            assert!(out.ends_with("data: [DONE]\n\n"), "{out}");
            assert_eq!(s.usage, Some(Usage { input: 1000, output: 500, ..Usage::default() }));
            assert!(s.done);
        }
    }

    /// Fed a byte at a time (LF and CRLF framing), every blank line is found though it
    /// straddles chunks: each chunk's search resumes where the last one stopped.
    #[test]
    fn a_stream_fed_a_byte_at_a_time_reads_as_it_does_whole() {
        for whole in [stream(), stream().replace("\n\n", "\r\n\r\n")] {
            let bytes: Vec<&[u8]> = whole.as_bytes().chunks(1).collect();
            let mut one = StreamUsage::new(Price::flat(3.0, 15.0), true);
            let mut each = StreamUsage::new(Price::flat(3.0, 15.0), true);
            assert_eq!(run(&mut each, &bytes), run(&mut one, &[whole.as_bytes()]));
            assert_eq!((each.usage, each.done, each.events), (one.usage, one.done, one.events));
            assert!(each.done && each.usage.is_some());
        }
    }

    /// An event longer than [`MAX_EVENT_BYTES`] (here 3 MiB in one `data:` line) is passed on
    /// as it comes, so the router holds at most that much, and the events after it are read
    /// as usual: the usage chunk priced, the end checked, whether the blank line that ends the
    /// long event comes whole or split between chunks. A stream cut inside it ends with the
    /// error event.
    /// A provider's error too long to hold (a 2 MiB message) is still its error: the stream
    /// ends as failed, with no truncation error after it.
    #[test]
    fn an_error_too_long_to_hold_ends_the_stream_as_failed() {
        let error = format!("data: {{\"error\":{{\"message\":\"{}\"}}}}\n\n", "x".repeat(2 << 20));
        let chunks: Vec<&[u8]> = error.as_bytes().chunks(64 << 10).collect();
        let mut s = StreamUsage::new(Price::flat(3.0, 15.0), true);
        let out = run(&mut s, &chunks);
        assert!(s.failed, "not failed");
        assert!(!out.contains("stream_truncated") && out.len() == error.len(), "{} bytes", out.len());
    }

    #[test]
    fn an_event_too_long_to_hold_is_passed_on_and_the_rest_is_read() {
        let long =
            format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n", "x".repeat(3 << 20));
        let priced =
            USAGE_CHUNK.replace("\"total_tokens\":1500}", "\"total_tokens\":1500,\"cost\":0.01050000}");
        let cases = [
            (format!("{long}{USAGE_CHUNK}data: [DONE]\n\n"), format!("{long}{priced}data: [DONE]\n\n"), true),
            (format!("{long}{USAGE_CHUNK}"), format!("{long}{priced}"), false),
            (
                long.get(..2 << 20).unwrap_or_default().to_string(),
                format!("{}\n\n", long.get(..2 << 20).unwrap_or_default()),
                false,
            ),
        ];
        for (whole, want, done) in cases {
            // Chunks of 64 KiB, and one more cut one byte after the long event's first newline,
            // so its blank line is split.
            let at = long.len() - 1;
            let (a, b) = whole.as_bytes().split_at(at.min(whole.len()));
            let mut chunks: Vec<&[u8]> = a.chunks(64 << 10).collect();
            chunks.extend(b.chunks(64 << 10));
            let mut s = StreamUsage::new(Price::flat(3.0, 15.0), true);
            let mut out = Vec::new();
            for (i, c) in chunks.iter().enumerate() {
                match s.feed(c, i + 1 == chunks.len()) {
                    Some(bytes) => out.extend_from_slice(&bytes),
                    None => out.extend_from_slice(c),
                }
                assert!(s.carry.len() <= MAX_EVENT_BYTES, "{} bytes held", s.carry.len());
            }
            let mut want = want.into_bytes();
            if !done {
                want.extend_from_slice(TRUNCATED_EVENT);
            }
            let tail = |b: &[u8]| {
                String::from_utf8_lossy(b.get(b.len().saturating_sub(300)..).unwrap_or(b)).into_owned()
            };
            assert!(
                out == want,
                "{} bytes out, {} expected: ...{} vs ...{}",
                out.len(),
                want.len(),
                tail(&out),
                tail(&want)
            );
            let priced_usage = whole.len() > long.len();
            assert_eq!((s.done, s.usage.is_some()), (done, priced_usage));
        }
    }

    #[test]
    fn a_client_that_did_not_ask_gets_no_usage_chunk() {
        let mut s = StreamUsage::new(Price::flat(3.0, 15.0), false);
        let out = run(&mut s, &[stream().as_bytes()]);
        assert!(!out.contains("prompt_tokens"), "{out}");
        assert_eq!(out.matches("data: ").count(), 2, "{out}");
        // It was still read, for the cost.
        assert!((s.cost().unwrap_or_default() - 0.0105).abs() < 1e-12);
    }

    #[test]
    fn crlf_framed_events_are_found_too() {
        let crlf = stream().replace("\n\n", "\r\n\r\n");
        let mut s = StreamUsage::new(Price::flat(3.0, 15.0), false);
        let out = run(&mut s, &[crlf.as_bytes()]);
        assert!(!out.contains("prompt_tokens"), "{out}");
        assert_eq!(s.usage, Some(Usage { input: 1000, output: 500, ..Usage::default() }));
        assert!(s.done);
    }

    #[test]
    fn a_stream_without_done_gets_the_error_event() {
        let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
        let out = run(&mut s, &[b"data: {\"choices\":[{\"delta\":{\"content\":\"h\"}}]}\n\ndata: {\"cho"]);
        assert!(out.ends_with(std::str::from_utf8(TRUNCATED_EVENT).unwrap_or_default()), "{out}");
        let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
        assert_eq!(s.feed(b"data: [DONE]\n\n", true), None);
    }

    /// SSE's space after `data:` is optional: a provider writing `data:[DONE]` ended its stream,
    /// and the client got the truncation error after a whole answer. `data: [DONE]x` is not it.
    #[test]
    fn done_without_the_space_ends_the_stream() {
        for (chunks, done) in [
            (&[&b"data:{\"choices\":[]}\n\ndata:[DONE]\n\n"[..]][..], true),
            (&[&b"data:{\"choices\":[]}\n\n"[..], &b"data:[DONE]\r\n\r\n"[..]][..], true),
            (&[&b"data: {\"usage\":null}\n\ndata:[DONE]\n\n"[..]][..], true),
            (&[&b"data: [DONE]x\n\n"[..]][..], false),
            (&[&b"data:  [DONE]\n\n"[..]][..], false),
        ] {
            let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
            let out = run(&mut s, chunks);
            assert_eq!(s.done, done, "{chunks:?}");
            assert_eq!(
                out.ends_with(std::str::from_utf8(TRUNCATED_EVENT).unwrap_or_default()),
                !done,
                "{out}"
            );
        }
    }

    /// An OpenAI-compatible provider ends a stream that fails midway with its error event
    /// (`data: {"error":...}`, or an `event: error`): it got the truncation error after it.
    #[test]
    fn a_stream_ended_by_the_providers_error_gets_no_second_error() {
        let delta = "data: {\"choices\":[{\"delta\":{\"content\":\"h\"}}]}\n\n";
        for end in
            ["data: {\"error\":{\"message\":\"boom\"}}\n\n", "event: error\ndata: {\"message\":\"boom\"}\n\n"]
        {
            for chunks in [vec![format!("{delta}{end}")], vec![delta.to_string(), end.to_string()]] {
                let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
                let parts: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
                let out = run(&mut s, &parts);
                assert!(s.failed && !out.contains("stream_truncated"), "{out}");
            }
        }
        // Text about an error is not one.
        let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
        let text =
            "data: {\"choices\":[{\"delta\":{\"content\":\"{\\\"error\\\": 1}\"}}]}\n\ndata: [DONE]\n\n";
        run(&mut s, &[text.as_bytes()]);
        assert!(!s.failed && s.done);
    }

    /// Issue 15 (3): a stream cut inside an event passed the half event on before the error,
    /// and the OpenAI SDK failed on its JSON instead of raising the error.
    #[test]
    fn a_complete_answer_without_done_ends_with_done_not_an_error() {
        let content =
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n";
        let finish = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
        let usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n";
        // Usage on every chunk, cumulative (as some providers send it).
        let running = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n";
        let last = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\": \"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n";
        let done = std::str::from_utf8(DONE_EVENT).unwrap_or_default();
        let cut = std::str::from_utf8(TRUNCATED_EVENT).unwrap_or_default();
        // (the chunks as they came, then the end; how the client's stream must end)
        let empty =
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"\"}]}\n\n";
        let second = "data: {\"choices\":[{\"index\":1,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n";
        // A provider that puts the finish on every chunk.
        let every = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n";
        // (the chunks as they came, then the end; the choices asked for; how the client's stream
        // must end)
        let cases: [(&[&str], u64, &str); 15] = [
            (&[content, finish, usage], 1, done),
            (&[content, finish, usage], 2, done),
            // In one chunk.
            (&[&format!("{content}{finish}{usage}")], 1, done),
            // Ended cleanly once its one choice finished, without the usage chunk too (its
            // provider leaves both out, or closed just before them); running usage on the
            // finish chunk.
            (&[content, finish], 1, done),
            (&[running, last], 1, done),
            (&[content, finish, second], 2, done),
            // With two choices, one finished says nothing of the other's end, nor twice.
            (&[content, finish], 2, cut),
            (&[content, finish, finish], 2, cut),
            // A finish on every chunk says nothing of the end (one said alone still does).
            (&[every, every], 1, cut),
            (&[every], 1, done),
            (&[running, last], 2, cut),
            // Cut before the finish, or after more of the answer.
            (&[running, running], 1, cut),
            (&[running, last, content], 1, cut),
            // An empty finish is none.
            (&[empty, usage], 1, cut),
            (&[empty], 1, cut),
        ];
        for (chunks, n, end) in cases {
            for keep in [false, true] {
                let mut s = StreamUsage::new(Price::flat(1.0, 2.0), keep).choices(n);
                let bytes: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
                let out = run(&mut s, &bytes);
                assert!(out.ends_with(end), "{chunks:?}: {out}");
                assert_eq!(out.matches("[DONE]").count(), usize::from(end == done), "{out}");
                assert_eq!(s.done, end == done, "{chunks:?}");
            }
        }
    }

    #[test]
    fn a_stream_cut_at_any_byte_ends_with_whole_events_then_the_error() {
        let whole = stream();
        let events = std::str::from_utf8(TRUNCATED_EVENT).unwrap_or_default();
        for cut in 0..whole.len() {
            for keep in [false, true] {
                let mut s = StreamUsage::new(Price::flat(1.0, 2.0), keep);
                let (a, b) = whole.as_bytes().split_at(cut);
                // Cut somewhere, delivered in two pieces, then the end.
                let out = run(
                    &mut s,
                    &[a.get(..a.len() / 2).unwrap_or_default(), a.get(a.len() / 2..).unwrap_or_default()],
                );
                let done = std::str::from_utf8(a).unwrap_or_default().contains("data: [DONE]");
                if done {
                    continue;
                }
                let body =
                    out.strip_suffix(events).unwrap_or_else(|| panic!("cut {cut}: no error event: {out:?}"));
                assert!(
                    body.is_empty() || body.ends_with("\n\n"),
                    "cut {cut}: half event passed on: {body:?}"
                );
                for event in body.split("\n\n").filter(|e| !e.is_empty()) {
                    let json = event.strip_prefix("data: ").unwrap_or_else(|| panic!("cut {cut}: {event:?}"));
                    assert!(serde_json::from_str::<serde_json::Value>(json).is_ok(), "cut {cut}: {json:?}");
                }
                let _ = b;
            }
        }
    }

    /// `[DONE]` followed by a comment in the same chunk still ends the stream whole, as when they
    /// come apart (one chunk read it as cut: a truncation error after `[DONE]`).
    #[test]
    fn done_before_a_comment_in_one_chunk_is_the_end() {
        let text = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\",\"index\":0}]}\n\n";
        let chunk = format!("{text}data: [DONE]\n\n: keep-alive\n\n");
        for at in [chunk.len(), 10, text.len() + 3] {
            let (a, b) = chunk.split_at(at);
            let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
            let out = run(&mut s, &[a.as_bytes(), b.as_bytes()]);
            assert!(s.done && !out.contains("stream_truncated"), "{at}: {out}");
        }
    }

    /// A stream's first event with data, once it is whole: comments, blank events and frames
    /// (a role-only chunk, one with no choices) aside, an error by its data or by its `event:
    /// error` line, `[DONE]` before anything.
    #[test]
    fn a_streams_first_event_is_told_once_it_is_whole() {
        let role = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
        let text = format!("{role}data: {{\"choices\":[{{\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n");
        let call = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n";
        let finish = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
        let error = "data: {\"error\":{\"message\":\"overloaded\"}}\n\n";
        let after_role = format!("{role}{error}");
        let cases: [(&str, First<'_>); 19] = [
            ("", First::Pending),
            (": keep-alive\n\n\n\n", First::Pending),
            (&role[..20], First::Pending),
            (role, First::Pending),
            ("\u{feff}data: {\"choices\":[]}\r\n\r\n", First::Pending),
            (&text, First::Answer),
            (call, First::Answer),
            (finish, First::Answer),
            ("data: {\"choices\":[{\"delta\":{\"reasoning\":\"hm\"}}]}\n\n", First::Answer),
            ("data: not json\n\n", First::Answer),
            // A role-only chunk's empty members open nothing.
            (
                "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":null,\"function_call\":null,\"audio\":null}}]}\n\n",
                First::Pending,
            ),
            ("data: {\"choices\":[{\"delta\":{\"tool_calls\": [ ]}}]}\n\n", First::Pending),
            ("data: {\"choices\":[{\"delta\":{\"audio\": {\"id\":\"a\"}}}]}\n\n", First::Answer),
            (&after_role, First::Error(error.as_bytes())),
            (&format!("{role}data: [DONE]\n\n"), First::Done),
            (": x\n\ndata: {\"error\":{}}\n\ndata: [DONE]\n\n", First::Error(b"data: {\"error\":{}}\n\n")),
            (
                "event: error\r\ndata: {\"message\":\"m\"}\r\n\r\n",
                First::Error(b"event: error\r\ndata: {\"message\":\"m\"}\r\n\r\n"),
            ),
            ("data:[DONE]\n\n", First::Done),
            ("data: \n\ndata: [DONE]\n\n", First::Done),
        ];
        for (held, want) in cases {
            assert_eq!(first_event(held.as_bytes()), want, "{held:?}");
        }
        // Held across chunks, each frame is read once: the scan resumes where it stopped.
        let frames = role.repeat(3);
        let mut from = 0;
        assert_eq!(first_event_from(frames.as_bytes(), &mut from), First::Pending);
        assert_eq!(from, frames.len(), "past every whole frame");
        let more = format!("{frames}{}", &text[role.len()..]);
        assert_eq!(first_event_from(more.as_bytes(), &mut from), First::Answer);
        let mut bom = 0;
        assert_eq!(first_event_from(format!("\u{feff}{role}").as_bytes(), &mut bom), First::Pending);
        assert_eq!(bom, 3 + role.len());
    }

    /// An error member anywhere at the top of an event's data is the provider's error (as
    /// OpenRouter sends one beside a chunk's members); the word in a string, or a null
    /// member, is not.
    #[test]
    fn an_error_member_is_told_wherever_it_stands() {
        let openrouter = "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"error\":{\"code\":502,\"message\":\"upstream\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n";
        let spaced = "data: { \"error\" : {\"message\":\"m\"}}\n\n";
        for error in [openrouter, spaced] {
            assert!(matches!(first_event(error.as_bytes()), First::Error(_)), "{error}");
        }
        let said = "data: {\"choices\":[{\"delta\":{\"content\":\"the \\\"error\\\": field\"}}]}\n\n";
        let null = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"error\":null}\n\n";
        for answer in [said, null] {
            assert_eq!(first_event(answer.as_bytes()), First::Answer, "{answer}");
        }
        // Midway, an OpenRouter error ends the stream as failed, with no truncation error.
        let mut s = StreamUsage::new(Price::flat(1.0, 1.0), false);
        let out = run(
            &mut s,
            &[
                stream().split("data: {\"id\":\"c\",\"choices\":[],").next().unwrap_or_default().as_bytes(),
                openrouter.as_bytes(),
            ],
        );
        assert!(s.failed && !out.contains("stream_truncated"), "{out}");
    }
}
