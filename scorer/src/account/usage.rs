//! What a request used and cost: the provider's reported `usage`, priced from the catalog, in
//! a whole response or in a stream, where the usage chunk gets its `cost` (and is removed again
//! when the client did not ask for it) and a stream that ends without `[DONE]` gets an error
//! event.

use crate::catalog::LongContext;
use crate::parse::json::{JsonError, JsonErrorKind, Kind, Reader, whole_number};

/// Tokens a provider reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Input (prompt) tokens, cached ones included (as OpenAI counts `prompt_tokens`).
    pub input: u64,
    /// Output (completion) tokens.
    pub output: u64,
    /// Of the input, tokens read from the provider's prompt cache
    /// (`prompt_tokens_details.cached_tokens`).
    pub cache_read: u64,
    /// Of the input, tokens written to the provider's prompt cache
    /// (`prompt_tokens_details.cache_write_tokens`, OpenAI's, or `cache_creation_tokens`).
    pub cache_write: u64,
    /// Of the cache writes, those to a one-hour cache, which Anthropic prices apart
    /// (`prompt_tokens_details.cache_creation_1h_tokens`).
    pub cache_write_1h: u64,
    /// Of the input, audio tokens (`prompt_tokens_details.audio_tokens`), which some providers
    /// bill at a rate of their own.
    pub audio: u64,
    /// What the provider says it billed, in xAI's ticks (10^10 per USD, `cost_in_usd_ticks`):
    /// server-side tools included, which no token count shows.
    pub billed_ticks: Option<u64>,
}

/// xAI's ticks per USD.
pub const TICKS_PER_USD: f64 = 1e10;

/// What a model's tokens cost, USD per million.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Price {
    /// An input token.
    pub input: f64,
    /// An output token.
    pub output: f64,
    /// An input token read from the prompt cache.
    pub cache_read: f64,
    /// An input token written to the prompt cache (its five-minute cache, where there are two).
    pub cache_write: f64,
    /// An input token written to a one-hour prompt cache.
    pub cache_write_1h: f64,
    /// An input token of audio.
    pub audio: f64,
    /// Audio the provider bills apart but its usage may not count: with no audio count, every
    /// input token not cached is priced as audio.
    pub audio_unreported: bool,
    /// Dearer rates for a long input: every rate scaled as the input price is.
    pub long: Option<LongContext>,
}

impl Price {
    /// Input and output prices; cached input priced as any input (where a provider's cache
    /// discount is not known, none is assumed).
    pub fn flat(input: f64, output: f64) -> Price {
        Price {
            input,
            output,
            cache_read: input,
            cache_write: input,
            cache_write_1h: input,
            audio: input,
            audio_unreported: false,
            long: None,
        }
    }

    /// The rates for a request of `input` tokens: the long-context ones past their threshold
    /// (the cache rates keep their ratio to the input rate).
    pub fn at(&self, input: u64) -> Price {
        match self.long {
            Some(l) if input > l.above => {
                let scale = if self.input > 0.0 { l.price_in / self.input } else { 1.0 };
                Price {
                    input: l.price_in,
                    output: l.price_out,
                    cache_read: self.cache_read * scale,
                    cache_write: self.cache_write * scale,
                    cache_write_1h: self.cache_write_1h * scale,
                    audio: self.audio * scale,
                    audio_unreported: self.audio_unreported,
                    long: None,
                }
            }
            _ => *self,
        }
    }
}

impl Usage {
    /// USD at `price`: cache reads and writes at their own prices, the rest of the input at
    /// the input price.
    pub fn cost(&self, price: &Price) -> f64 {
        let price = &price.at(self.input);
        let cached = self.cache_read.saturating_add(self.cache_write).min(self.input);
        let plain = self.input - cached;
        let read = self.cache_read.min(cached);
        let write = cached - read;
        let write_1h = self.cache_write_1h.min(write);
        let audio = match self.audio {
            0 if price.audio_unreported => plain,
            n => n.min(plain),
        };
        let plain = plain - audio;
        let priced = (plain as f64 * price.input
            + audio as f64 * price.audio
            + read as f64 * price.cache_read
            + (write - write_1h) as f64 * price.cache_write
            + write_1h as f64 * price.cache_write_1h
            + self.output as f64 * price.output)
            / 1e6;
        // A provider's own bill counts when it is more (paid server-side tools); the catalog's
        // price when it is (cache discounts the catalog does not know). A model the
        // configuration made free stays free.
        let free = price.input == 0.0 && price.output == 0.0;
        match self.billed_ticks {
            Some(t) if !free => priced.max(t as f64 / TICKS_PER_USD),
            _ => priced,
        }
    }
}

impl Usage {
    /// Each count the larger of two reports of one answer (a stream that reports its usage
    /// twice): cumulative reports give the last, and a later, smaller one (a provider's
    /// mistake) does not take back what the first said was billed.
    pub fn larger(self, other: Usage) -> Usage {
        Usage {
            input: self.input.max(other.input),
            output: self.output.max(other.output),
            cache_read: self.cache_read.max(other.cache_read),
            cache_write: self.cache_write.max(other.cache_write),
            cache_write_1h: self.cache_write_1h.max(other.cache_write_1h),
            audio: self.audio.max(other.audio),
            billed_ticks: self.billed_ticks.max(other.billed_ticks),
        }
    }

    /// The counts bounded by what a model with a `window`-token context and a `max_output`
    /// output limit can bill for a request whose choices are each capped at `cap` output tokens
    /// (as the client capped them: no translation raises a client's cap but to the Responses
    /// API's least), or `None` when they are within that: input at most twice the window, each
    /// choice's output twice its cap; without one, one choice's twice the window (the catalog
    /// understates some output limits, and an uncapped reasoning model's thinking runs past
    /// them), several choices' each twice the output limit (0: not known, the window's). A provider's counts are its word on what the request cost; a runaway
    /// one (a unit mistaken, a counter's garbage) would spend a whole day's budget in one
    /// answer, and every client of the gateway would be refused until midnight (bounded by the
    /// window alone, one answer of `n: 100` to a 10-token cap was charged $1,680). The bill a
    /// provider states beside them (xAI's ticks) counts up to twice what those counts cost at
    /// `price` (the router refuses the server-side tools that cost beyond tokens); where they
    /// cost nothing, not at all.
    pub fn beyond(
        &self,
        window: u64,
        max_output: u64,
        cap: Option<u64>,
        choices: u64,
        price: &Price,
    ) -> Option<Usage> {
        if window == 0 {
            return None;
        }
        let most = window.saturating_mul(2);
        let per_choice = match cap.filter(|&c| c > 0) {
            // The Responses API's least cap (16) is sent for any smaller one.
            Some(cap) => cap.max(crate::catalog::MIN_OUTPUT_TOKENS).saturating_mul(2).min(most),
            // Several choices uncapped: each within twice its model's output limit (within the
            // window, 100 choices were charged $1,680); one within twice the window.
            None if choices > 1 && max_output > 0 => max_output.saturating_mul(2).min(most),
            None => most,
        };
        // Each of `n` choices writes its own answer, billed together; the prompt is billed once.
        let most_out = per_choice.saturating_mul(choices.max(1));
        let input = self.input.min(most);
        let mut bounded = Usage {
            input,
            output: self.output.min(most_out),
            cache_read: self.cache_read.min(input),
            cache_write: self.cache_write.min(input),
            cache_write_1h: self.cache_write_1h.min(input),
            audio: self.audio.min(input),
            billed_ticks: None,
        };
        let most_ticks = (bounded.cost(price) * 2.0 * TICKS_PER_USD).round();
        bounded.billed_ticks = match self.billed_ticks {
            // A free model stays free (`cost`), whatever its stated bill: nothing to bound.
            t if price.input == 0.0 && price.output == 0.0 => t,
            Some(t) if most_ticks >= 1.0 => Some(t.min(most_ticks as u64)),
            _ => None,
        };
        (bounded != *self).then_some(bounded)
    }
}

/// The least output a whole answer's body holds, tokens: its text, tool arguments, refusal and
/// reasoning at a token per four bytes (the estimate's measure), for an answer that came
/// without its usage (a stream's least is a token per event, or this).
pub fn written_tokens(body: &[u8]) -> u64 {
    super::events::answer_bytes(body).div_ceil(4)
}

/// USD as written in headers and `usage.cost`: fixed 8 decimals (no exponent).
pub fn format_usd(usd: f64) -> String {
    format!("{:.8}", usd.max(0.0))
}

/// Reads a `usage` object: `prompt_tokens`/`completion_tokens` (chat), `input_tokens`/
/// `output_tokens` (other styles); embeddings report only prompt tokens. Output is at least
/// `total_tokens` less the input: xAI counts reasoning tokens in the total and in
/// `completion_tokens_details.reasoning_tokens` but not in `completion_tokens`, and bills them.
fn read_usage(r: &mut Reader<'_>) -> Option<Usage> {
    let mut u = Usage::default();
    let mut total = 0;
    let mut seen = false;
    let mut obj = r.object().ok()?;
    while let Some(key) = obj.next_key(r).ok()? {
        if matches!(key.as_ref(), "prompt_tokens_details" | "input_tokens_details")
            && r.peek_kind().ok()? == Kind::Object
        {
            read_details(r, &mut u)?;
            continue;
        }
        if key == "cost_in_usd_ticks" && r.peek_kind().ok()? == Kind::Number {
            u.billed_ticks = whole_number(r.number().ok()?);
            continue;
        }
        let slot = match key.as_ref() {
            "prompt_tokens" | "input_tokens" => Some(&mut u.input),
            "completion_tokens" | "output_tokens" => Some(&mut u.output),
            "total_tokens" => Some(&mut total),
            _ => None,
        };
        match slot {
            Some(slot) if r.peek_kind().ok()? == Kind::Number => {
                // `12.0` is a count too (JSON has one kind of number).
                *slot = whole_number(r.number().ok()?)?;
                // A total alone is no usage (an input of 0 would price it at nothing).
                seen |= key.as_ref() != "total_tokens";
            }
            // A count that is not one (`"2000"`, `true`) makes the usage unreadable: charged
            // as an answer without (its estimate), not as one that wrote nothing (a count
            // skipped was 0, and the answer charged its input alone). Null is no count.
            Some(_) if r.peek_kind().ok()? != Kind::Null => return None,
            _ => r.skip_value().ok()?,
        }
    }
    u.output = u.output.max(total.saturating_sub(u.input));
    // Nothing in and nothing out is no usage either, a stated bill beside it or not: every
    // request has input, and an answer that said so was charged nothing (less than one that
    // said no usage at all).
    let nothing = u.input == 0 && u.output == 0;
    (seen && !nothing).then_some(u)
}

/// Reads the cached part of the input from a `prompt_tokens_details` object.
fn read_details(r: &mut Reader<'_>, u: &mut Usage) -> Option<()> {
    let mut obj = r.object().ok()?;
    while let Some(key) = obj.next_key(r).ok()? {
        let slot = match key.as_ref() {
            "cached_tokens" => Some(&mut u.cache_read),
            "cache_creation_tokens" | "cache_write_tokens" => Some(&mut u.cache_write),
            "cache_creation_1h_tokens" => Some(&mut u.cache_write_1h),
            "audio_tokens" => Some(&mut u.audio),
            _ => None,
        };
        match slot {
            Some(slot) if r.peek_kind().ok()? == Kind::Number => *slot = whole_number(r.number().ok()?)?,
            _ => r.skip_value().ok()?,
        }
    }
    Some(())
}

/// Where a JSON object's top-level `usage` object is, and what it says.
pub(super) struct Found {
    /// What it says, if it can be read.
    pub(super) usage: Option<Usage>,
    /// The usage object's span.
    pub(super) start: usize,
    pub(super) end: usize,
    /// The object has a non-empty `choices` array.
    pub(super) choices: bool,
}

pub(super) fn find_usage(json: &str) -> Option<Found> {
    let walk = walk(json);
    let (usage, start, end) = walk.usage.filter(|_| walk.complete)?;
    Some(Found { usage, start, end, choices: walk.choices })
}

/// One pass over an object's top-level keys, as far as it reads.
#[derive(Default)]
struct Walk {
    /// The `usage` object (what it says, if it can be read) and its span.
    usage: Option<(Option<Usage>, usize, usize)>,
    /// A non-empty `choices` array.
    choices: bool,
    /// A `choices` or `data` key: an answer's (chat or embeddings).
    answer: bool,
    /// An `error` object.
    error: bool,
    /// A `message`, and keys other than Bedrock's error's (`message`, `__type`).
    message: bool,
    other: bool,
    /// It opens as an object.
    object: bool,
    /// It read to its end.
    complete: bool,
    /// The text ended inside the object: cut, wherever its last `}` stands.
    ran_out: bool,
    /// Bytes other than blanks follow the object (`{...}}`, `{...}{...}`): no JSON reader takes
    /// the body, an SDK's raises ("Extra data").
    trailing: bool,
}

fn walk(json: &str) -> Walk {
    let mut w = Walk::default();
    match walk_into(json, &mut w) {
        Ok(end) => {
            w.complete = true;
            let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
            w.trailing = json.get(end..).is_some_and(|rest| !rest.bytes().all(blank));
        }
        Err(e) => w.ran_out = e.kind == JsonErrorKind::UnexpectedEnd,
    }
    w
}

/// Walks the object, returning where it ends.
fn walk_into(json: &str, w: &mut Walk) -> Result<usize, JsonError> {
    let mut r = Reader::new(json);
    let mut obj = r.object()?;
    w.object = true;
    while let Some(key) = obj.next_key(&mut r)? {
        w.answer |= matches!(key.as_ref(), "choices" | "data");
        w.message |= matches!(key.as_ref(), "message" | "Message");
        w.other |= !matches!(key.as_ref(), "message" | "Message" | "__type");
        match key.as_ref() {
            "error" if r.peek_kind()? == Kind::Object => {
                w.error = true;
                r.skip_value()?;
            }
            "usage" if r.peek_kind()? == Kind::Object => {
                // Skipped first, then read apart: a count it refuses (negative, a fraction)
                // leaves the walk where the object ends, not inside it.
                let start = r.pos();
                r.skip_value()?;
                let end = r.pos();
                let usage = json.get(start..end).and_then(|u| read_usage(&mut Reader::new(u)));
                w.usage = Some((usage, start, end));
            }
            "choices" if r.peek_kind()? == Kind::Array => {
                let mut it = r.array()?;
                while it.next(&mut r)? {
                    w.choices = true;
                    r.skip_value()?;
                }
            }
            _ => r.skip_value()?,
        }
    }
    Ok(r.pos())
}

/// A whole body's text: without the byte order mark a provider may put first, and JSON's
/// blanks around it (space, tab, line feed, carriage return: a form feed or a no-break space
/// after an answer is more than any reader takes).
fn text(body: &[u8]) -> Option<&str> {
    let blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    Some(std::str::from_utf8(body).ok()?.trim_start_matches('\u{feff}').trim_matches(blank))
}

/// The usage of a whole (non-streamed) response body.
pub fn of_response(body: &[u8]) -> Option<Usage> {
    find_usage(text(body)?).and_then(|f| f.usage)
}

/// What a whole 200 body holds: an OpenAI-shaped answer, a failure, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// An object with `choices` or `data` (a chat or embeddings answer; read as far as it
    /// reads: a strict reader's doubt about a later byte does not make it none), or a body that
    /// is not UTF-8, passed on as it came; with its usage if it reports one.
    Answer(Option<Usage>),
    /// What a provider (or a gateway in front of one: OpenRouter's, once it started on a
    /// request) sends for a failure it answers with a 200, and the SDKs read as a malformed
    /// answer: nothing; not a JSON object (an HTML page, `null`, an array); or an object with
    /// an `error` object (or Bedrock's `message` alone) and neither `choices` nor `data` (a
    /// Responses object's `"error": null` is not one). With the usage it reports, if any: what
    /// it billed for the failure.
    NoAnswer(Option<Usage>),
    /// An object with neither an answer nor an error: a native protocol's answer before it is
    /// translated, or an OpenAI-shaped one with none in it (Gemini's OpenAI layer sends usage
    /// alone when it blocked a prompt or spent `max_tokens` thinking).
    Other(Option<Usage>),
    /// An object cut short (its text does not end it), or one that stops reading before any
    /// answer; or an event stream where a whole answer was due. What it billed cannot be told;
    /// with the usage read before the cut, if any.
    Cut(Option<Usage>),
}

/// Text that opens as an event stream: an event's field, or a comment.
fn is_event_stream(text: &str) -> bool {
    text.starts_with("data:") || text.starts_with("event:") || text.starts_with(':')
}

/// A body that opens as a JSON object, a byte-order mark and blanks aside: a stream request
/// answered with one (an error object, most often) is judged whole, not read as events.
pub fn is_object(body: &[u8]) -> bool {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    body.trim_ascii_start().first() == Some(&b'{')
}

/// Reads a whole 200 body (one pass, as [`of_response`]).
pub fn of_whole(body: &[u8]) -> Body {
    let Some(text) = text(body) else { return Body::Answer(None) };
    if text.is_empty() {
        return Body::NoAnswer(None);
    }
    let w = walk(text);
    let used = w.usage.and_then(|(u, _, _)| u);
    // Cut short: an object whose text ends before it does (a nested object's `}` last or not),
    // an answer inside it or not (a stray byte a strict reader refuses after `choices` is no
    // cut). An event stream where a whole answer was due is as unreadable: a model wrote it.
    let cut = (w.object && (w.ran_out || w.trailing || !text.ends_with('}')))
        || (!w.object && is_event_stream(text));
    if cut {
        Body::Cut(used)
    } else if w.answer {
        Body::Answer(used)
    } else if !w.object {
        Body::NoAnswer(None)
    } else if !w.complete {
        Body::Cut(used)
    } else if w.error || (w.message && !w.other) {
        Body::NoAnswer(used)
    } else {
        Body::Other(used)
    }
}

/// Bytes of a passed-through answer's end kept to find its `usage`: the object sits at the
/// end of OpenAI-shaped answers (after `choices` or `data`), followed by a few short fields.
pub const TAIL_BYTES: usize = 16 * 1024;

/// The usage of a non-streamed answer too large to hold, read on the way through from its
/// last [`TAIL_BYTES`]: the last top-level-looking `"usage":{...}` there.
#[derive(Debug, Default)]
pub struct UsageTail {
    tail: Vec<u8>,
}

impl UsageTail {
    /// Takes the next piece of the answer.
    pub fn feed(&mut self, chunk: &[u8]) {
        if chunk.len() >= TAIL_BYTES {
            self.tail.clear();
            self.tail.extend_from_slice(chunk.get(chunk.len() - TAIL_BYTES..).unwrap_or(chunk));
            return;
        }
        let overflow = (self.tail.len() + chunk.len()).saturating_sub(TAIL_BYTES);
        self.tail.drain(..overflow);
        self.tail.extend_from_slice(chunk);
    }

    /// The usage the answer ended with, if its tail has one.
    pub fn usage(&self) -> Option<Usage> {
        const KEY: &[u8] = b"\"usage\"";
        let mut end = self.tail.len();
        while let Some(at) = self.tail.get(..end)?.windows(KEY.len()).rposition(|w| w == KEY) {
            end = at;
            // Inside a string the quotes would be escaped.
            if at > 0 && self.tail.get(at - 1) == Some(&b'\\') {
                continue;
            }
            let rest = self.tail.get(at + KEY.len()..)?;
            let rest = std::str::from_utf8(rest).ok()?.trim_start();
            let Some(value) = rest.strip_prefix(':') else { continue };
            let mut r = Reader::new(value.trim_start());
            if r.peek_kind().ok() == Some(Kind::Object)
                && let Some(u) = read_usage(&mut r)
            {
                return Some(u);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gemini 2.5 Flash bills audio input at $1.00 a million against $0.30 for text: audio was
    /// charged at the text price (30% of the bill). Reported audio tokens at the audio rate;
    /// a request with audio whose usage counts none, every input token not cached at it.
    #[test]
    fn audio_input_is_priced_at_its_own_rate() {
        let body = br#"{"usage":{"prompt_tokens":2000,"completion_tokens":10,"prompt_tokens_details":{"audio_tokens":1920,"cached_tokens":0}}}"#;
        let u = of_response(body).unwrap_or_default();
        assert_eq!(u.audio, 1920);
        let price = Price { audio: 1.0, ..Price::flat(0.3, 2.5) };
        let want = (80.0 * 0.3 + 1920.0 * 1.0 + 10.0 * 2.5) / 1e6;
        assert!((u.cost(&price) - want).abs() < 1e-15, "{}", u.cost(&price));
        let unreported = Usage { input: 2000, output: 10, cache_read: 500, ..Usage::default() };
        let all = Price { audio_unreported: true, ..price };
        let want = (1500.0 * 1.0 + 500.0 * 0.3 + 10.0 * 2.5) / 1e6;
        assert!((unreported.cost(&all) - want).abs() < 1e-15, "{}", unreported.cost(&all));
        // Without audio in the request, text at the text rate.
        assert!((unreported.cost(&price) - (2000.0 * 0.3 + 10.0 * 2.5) / 1e6).abs() < 1e-15);
    }

    /// Gemini 2.5 Pro bills a prompt over 200,000 tokens at 2.50/15 instead of 1.25/10, all of
    /// it: priced flat, such a request was charged half.
    #[test]
    fn a_long_input_is_priced_at_the_long_context_rates() {
        let long = LongContext { above: 200_000, price_in: 2.5, price_out: 15.0 };
        let price = Price { long: Some(long), cache_read: 0.125, ..Price::flat(1.25, 10.0) };
        let cost = |input: u64, cache_read: u64| {
            Usage { input, output: 1_000, cache_read, ..Usage::default() }.cost(&price)
        };
        assert!((cost(200_000, 0) - (200_000.0 * 1.25 + 1_000.0 * 10.0) / 1e6).abs() < 1e-12);
        assert!((cost(275_000, 0) - (275_000.0 * 2.5 + 1_000.0 * 15.0) / 1e6).abs() < 1e-12);
        // Cache reads keep their ratio to the input rate (a tenth here).
        let read = (175_000.0 * 2.5 + 100_000.0 * 0.25 + 1_000.0 * 15.0) / 1e6;
        assert!((cost(275_000, 100_000) - read).abs() < 1e-12);
    }

    #[test]
    fn cached_input_is_read_from_its_details_and_priced_at_its_own_price() {
        let body = br#"{"usage":{"prompt_tokens":1000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":600,"cache_creation_tokens":300}}}"#;
        let u = of_response(body).unwrap_or_default();
        assert_eq!((u.input, u.output, u.cache_read, u.cache_write), (1000, 10, 600, 300));
        // Anthropic's rates: reads at a tenth of the input price, writes at 1.25 times it.
        let price = Price {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
            cache_write_1h: 6.0,
            ..Price::flat(3.0, 15.0)
        };
        let want = (100.0 * 3.0 + 600.0 * 0.3 + 300.0 * 3.75 + 10.0 * 15.0) / 1e6;
        assert!((u.cost(&price) - want).abs() < 1e-15, "{}", u.cost(&price));
        // Without a known discount, cached input costs what any input costs.
        assert!((u.cost(&Price::flat(3.0, 15.0)) - (1000.0 * 3.0 + 10.0 * 15.0) / 1e6).abs() < 1e-15);
        // Counts that disagree never price more input than was reported.
        let odd = Usage { input: 100, output: 0, cache_read: 90, cache_write: 90, ..Usage::default() };
        assert!((odd.cost(&price) - (90.0 * 0.3 + 10.0 * 3.75) / 1e6).abs() < 1e-15);
        // Reasoning tokens outside completion_tokens (xAI) are in the total: output.
        let body = br#"{"usage":{"prompt_tokens":20,"completion_tokens":50,"total_tokens":1276,"completion_tokens_details":{"reasoning_tokens":1206}}}"#;
        assert_eq!(of_response(body).map(|u| (u.input, u.output)), Some((20, 1256)));
        let body = br#"{"usage":{"prompt_tokens":20,"completion_tokens":50,"total_tokens":70}}"#;
        assert_eq!(of_response(body).map(|u| (u.input, u.output)), Some((20, 50)));
        assert_eq!(of_response(br#"{"usage":{"total_tokens":70}}"#), None);
        // Writes to a one-hour cache at their own price (Anthropic: twice the input).
        let body = br#"{"usage":{"prompt_tokens":1000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":600,"cache_creation_tokens":300,"cache_creation_1h_tokens":200}}}"#;
        let u = of_response(body).unwrap_or_default();
        assert_eq!(u.cache_write_1h, 200);
        let want = (100.0 * 3.0 + 600.0 * 0.3 + 100.0 * 3.75 + 200.0 * 6.0 + 10.0 * 15.0) / 1e6;
        assert!((u.cost(&price) - want).abs() < 1e-15, "{}", u.cost(&price));
    }

    /// A 200 that is empty, not a JSON object, or an error object with no answer beside it, is
    /// no answer; a Responses object's `"error": null` is not an error, and an answer that also
    /// names one is an answer.
    #[test]
    fn a_whole_200_without_an_answer_is_told_from_one() {
        let billed = Some(Usage { input: 3, ..Usage::default() });
        for (none, usage) in [
            ("", None),
            (" \n", None),
            (r#"{"error":{"message":"Upstream overloaded","code":502}}"#, None),
            (r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, None),
            // A failure that reports what it billed.
            (r#"{"id":"x","error":{"message":"m"},"usage":{"prompt_tokens":3}}"#, billed),
            // Bedrock's error shape.
            (r#"{"message":"The model is not ready","__type":"ModelNotReadyException"}"#, None),
        ] {
            assert_eq!(of_whole(none.as_bytes()), Body::NoAnswer(usage), "{none}");
        }
        // Not a JSON object: no answer, and nothing billed.
        for none in ["<html>bad gateway</html>", "null", "[]"] {
            assert_eq!(of_whole(none.as_bytes()), Body::NoAnswer(None), "{none}");
        }
        // An object with neither an answer nor an error (usage alone: Gemini's, when it
        // blocked a prompt), and one cut short before any answer.
        let alone = Some(Usage { input: 1396, ..Usage::default() });
        let gemini = r#"{"object":"chat.completion","usage":{"prompt_tokens":1396,"completion_tokens":0}}"#;
        assert_eq!(of_whole(gemini.as_bytes()), Body::Other(alone));
        assert_eq!(of_whole(br#"{"id":"x","object":"chat.completion"}"#), Body::Other(None));
        let three = Some(Usage { input: 3, ..Usage::default() });
        assert_eq!(of_whole(br#"{"usage":{"prompt_tokens":3},"choi"#), Body::Cut(three));
        // Cut inside its answer, and an event stream where a whole answer was due.
        let inside = br#"{"id":"x","object":"chat.completion","choices":[{"message":{"content":"Hel"#;
        assert_eq!(of_whole(inside), Body::Cut(None));
        // Cut just after a nested object's end: it ends with `}`, and was passed on as an
        // answer (no fallback tried, the SDK's JSON reader failing, the request charged).
        let nested = br#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}"#;
        assert_eq!(of_whole(nested), Body::Cut(None));
        let unclosed = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3}"#;
        assert_eq!(of_whole(unclosed), Body::Cut(three));
        // Bytes after a whole answer: no reader takes it (it was passed on, charged, and a
        // Messages or Responses client got it untranslated). Blanks after it are nothing.
        let answer = r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3}}"#;
        for extra in ["}", "garbage{}", r#"{"id":"y"}"#] {
            assert_eq!(of_whole(format!("{answer}{extra}").as_bytes()), Body::Cut(three), "{extra}");
        }
        assert_eq!(of_whole(format!("{answer} \n\r\n").as_bytes()), Body::Answer(three));
        for extra in ["\x0c", "\u{a0}"] {
            assert_eq!(of_whole(format!("{answer}{extra}").as_bytes()), Body::Cut(three), "{extra:?}");
        }
        assert_eq!(of_whole(b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n"), Body::Cut(None));
        // A count the reader refuses, in a usage before the answer: the answer is still read.
        let refused = br#"{"usage":{"prompt_tokens":-1},"choices":[{"message":{"content":"a"}}]}"#;
        assert_eq!(of_whole(refused), Body::Answer(None));
        let used = Some(Usage { input: 3, output: 2, ..Usage::default() });
        // An answer behind a byte order mark, and one with a byte the reader refuses after it.
        let marked = "\u{feff}{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}";
        assert_eq!(of_whole(marked.as_bytes()), Body::Answer(used));
        assert_eq!(of_whole(br#"{"choices":[{"message":{"content":"a"}}],"score":NaN}"#), Body::Answer(None));
        // A native answer is neither until translated; its `"error": null` is no error.
        let response = r#"{"id":"r","object":"response","error":null,"output":[],"usage":{"input_tokens":3,"output_tokens":2}}"#;
        assert_eq!(of_whole(response.as_bytes()), Body::Other(used));
        for (answer, usage) in [
            (
                r#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
                used,
            ),
            (r#"{"choices":[],"error":{"message":"partial"}}"#, None),
            (r#"{"object":"list","data":[],"error":{"message":"m"}}"#, None),
        ] {
            assert_eq!(of_whole(answer.as_bytes()), Body::Answer(usage), "{answer}");
        }
    }

    /// Counts past twice the model's window (input), and each choice's output past twice its
    /// cap (twice the window where the client set none), are bounded there, each cache count
    /// within the input; a stated bill at twice what those counts cost. Counts within, and a
    /// window unknown, are left as reported.
    #[test]
    fn a_runaway_usage_is_bounded_by_the_window_and_the_cap() {
        let price = Price::flat(1.0, 2.0);
        let u = Usage { input: 10, output: 1_000_000_000_000, cache_read: 5, ..Usage::default() };
        assert_eq!(
            u.beyond(1_000, 0, None, 1, &price).map(|b| (b.input, b.output, b.cache_read)),
            Some((10, 2_000, 5))
        );
        assert_eq!(u.beyond(1_000, 0, Some(300), 1, &price).map(|b| b.output), Some(600));
        // A cap past the window bounds no less than the window does.
        assert_eq!(u.beyond(1_000, 0, Some(5_000), 1, &price).map(|b| b.output), Some(2_000));
        let u = Usage { input: 5_000, output: 3, cache_write: 4_000, ..Usage::default() };
        assert_eq!(
            u.beyond(1_000, 0, Some(300), 1, &price).map(|b| (b.input, b.output, b.cache_write)),
            Some((2_000, 3, 2_000))
        );
        let within = Usage { input: 2_000, output: 600, ..Usage::default() };
        assert_eq!(within.beyond(1_000, 0, Some(300), 1, &price), None);
        assert_eq!(within.beyond(1_000, 0, Some(299), 1, &price).map(|b| b.output), Some(598));
        // A cap under the Responses API's least (16) is sent as 16: 16 out is no runaway.
        let sixteen = Usage { input: 10, output: 16, ..Usage::default() };
        assert_eq!(sixteen.beyond(1_000, 0, Some(5), 1, &price), None);
        // Uncapped, the model's own output limit bounds nothing (gpt-oss-120b wrote 50,000 of
        // an output the catalog lists at 16,384, and was charged 32,768).
        assert_eq!(within.beyond(1_000, 0, None, 1, &price), None);
        assert_eq!(u.beyond(0, 0, Some(300), 1, &price), None);
        // Each of n choices bills its own output; the prompt is billed once.
        let nine = Usage { input: 10, output: 18_000, ..Usage::default() };
        assert_eq!(nine.beyond(1_000, 0, None, 9, &price), None);
        assert_eq!(nine.beyond(1_000, 0, None, 3, &price).map(|b| b.output), Some(6_000));
        assert_eq!(nine.beyond(1_000, 0, None, 0, &price).map(|b| b.output), Some(2_000));
        // gpt-4.1 told u64::MAX of each by one answer of 100 choices capped at 10 tokens:
        // $1,680 against the window; $4.22 (2,095,152 in at $2, 3,200 out at $8: a cap of 10 is
        // sent as the Responses API's least, 16) against the cap.
        let runaway = Usage { input: u64::MAX, output: u64::MAX, ..Usage::default() };
        let gpt41 = Price::flat(2.0, 8.0);
        let charged = runaway.beyond(1_047_576, 32_768, Some(10), 100, &gpt41).map(|b| b.cost(&gpt41));
        assert!(charged.is_some_and(|c| (c - 4.215904).abs() < 1e-6), "{charged:?}");
        // Uncapped: 100 choices each within twice the output limit ($56.62), where twice the
        // window each was $1,680; one choice within twice the window ($20.95).
        let charged = runaway.beyond(1_047_576, 32_768, None, 100, &gpt41).map(|b| b.cost(&gpt41));
        assert!(charged.is_some_and(|c| (c - 56.619104).abs() < 1e-6), "{charged:?}");
        let charged = runaway.beyond(1_047_576, 32_768, None, 1, &gpt41).map(|b| b.cost(&gpt41));
        assert!(charged.is_some_and(|c| (c - 20.951520).abs() < 1e-6), "{charged:?}");
        // xAI's ticks: 10 in and out at $1 and $2 per million cost $0.00003, 300,000 ticks;
        // its bill counts to twice that.
        let billed = |t: u64| Usage { input: 10, output: 10, billed_ticks: Some(t), ..Usage::default() };
        assert_eq!(billed(600_000).beyond(1_000, 0, Some(300), 1, &price), None);
        let bounded = billed(u64::MAX).beyond(1_000, 0, Some(300), 1, &price);
        assert_eq!(bounded.map(|b| (b.input, b.output, b.billed_ticks)), Some((10, 10, Some(600_000))));
        assert!(bounded.is_some_and(|b| (b.cost(&price) - 0.00006).abs() < 1e-12));
        // A free model's stated bill is nothing to bound (it is charged nothing); a model so
        // cheap its counts cost under a tick bills no ticks (a bill of u64::MAX ticks was
        // charged $1.8 billion there).
        assert_eq!(billed(u64::MAX).beyond(1_000, 0, None, 1, &Price::flat(0.0, 0.0)), None);
        let near_free = Price::flat(1e-300, 1e-300);
        let bounded = billed(u64::MAX).beyond(1_000, 0, None, 1, &near_free);
        assert_eq!(bounded.map(|b| b.billed_ticks), Some(None));
        assert!(bounded.is_some_and(|b| b.cost(&near_free) < 1e-12));
    }

    /// A count that is not one made the usage's output 0 (the answer charged its input alone),
    /// and a usage of nothing in and nothing out was charged nothing: both are no usage now
    /// (charged the estimate). A null count is no count.
    #[test]
    fn a_count_that_is_none_and_a_usage_of_nothing_are_no_usage() {
        for usage in [
            r#"{"prompt_tokens":1000,"completion_tokens":"2000"}"#,
            r#"{"prompt_tokens":1000,"completion_tokens":true}"#,
            r#"{"prompt_tokens":{},"completion_tokens":20}"#,
            r#"{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}"#,
            r#"{"input_tokens":0,"output_tokens":0}"#,
            // A stated bill beside nothing counted.
            r#"{"prompt_tokens":0,"completion_tokens":0,"cost_in_usd_ticks":50000000}"#,
        ] {
            let body = format!(r#"{{"choices":[{{"message":{{"content":"hi"}}}}],"usage":{usage}}}"#);
            assert_eq!(of_response(body.as_bytes()), None, "{usage}");
        }
        let body = br#"{"usage":{"prompt_tokens":1000,"completion_tokens":null,"total_tokens":1200}}"#;
        assert_eq!(of_response(body).map(|u| (u.input, u.output)), Some((1000, 200)));
        // Embeddings say their input and a total.
        let body = br#"{"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        assert_eq!(of_response(body).map(|u| (u.input, u.output)), Some((8, 0)));
    }

    #[test]
    fn whole_response_usage_and_cost() {
        let body = br#"{"id":"x","choices":[{"message":{"content":"a"}}],"usage":{"prompt_tokens":1000,"completion_tokens":2000}}"#;
        let u = of_response(body).unwrap_or_default();
        assert_eq!(u, Usage { input: 1000, output: 2000, ..Usage::default() });
        assert!((u.cost(&Price::flat(3.0, 15.0)) - 0.033).abs() < 1e-12);
        assert_eq!(format_usd(0.033), "0.03300000");
        assert_eq!(of_response(br#"{"usage":null}"#), None);
        assert_eq!(of_response(b"not json"), None);
    }

    /// xAI reports what it billed (`cost_in_usd_ticks`, 10^10 per USD), server-side tools
    /// included, which the tokens priced at the catalog's rates leave out: the larger counts.
    /// Counts written `12.0` were no usage at all (the answer charged as if it had none).
    #[test]
    fn a_providers_own_bill_counts_when_it_is_more_and_whole_floats_are_counts() {
        let body = br#"{"usage":{"prompt_tokens":100,"completion_tokens":10,"cost_in_usd_ticks":37756000}}"#;
        let u = of_response(body).unwrap_or_default();
        assert_eq!((u.input, u.output, u.billed_ticks), (100, 10, Some(37_756_000)));
        assert!((u.cost(&Price::flat(1.0, 1.0)) - 0.0037756).abs() < 1e-12);
        // Below the catalog's price (a cache discount): the catalog's.
        assert!((u.cost(&Price::flat(100.0, 100.0)) - 0.011).abs() < 1e-12);
        // A model the configuration made free stays free.
        assert_eq!(u.cost(&Price::flat(0.0, 0.0)), 0.0);
        let floats = br#"{"usage":{"prompt_tokens":12.0,"completion_tokens":3e1,"prompt_tokens_details":{"cached_tokens":2.0}}}"#;
        let u = of_response(floats).unwrap_or_default();
        assert_eq!((u.input, u.output, u.cache_read), (12, 30, 2));
    }

    #[test]
    fn the_usage_of_an_unheld_answer_is_read_from_its_tail() {
        let big = "x".repeat(3 * TAIL_BYTES);
        let body = format!(
            "{{\"data\":[{{\"embedding\":\"{big}\",\"note\":\"\\\"usage\\\": 9\"}}],\"usage\":{{\"prompt_tokens\":700,\"total_tokens\":700}},\"model\":\"m\"}}"
        );
        for piece in [1, 7, 4096, TAIL_BYTES, body.len()] {
            let mut t = UsageTail::default();
            for chunk in body.as_bytes().chunks(piece) {
                t.feed(chunk);
            }
            assert_eq!(
                t.usage(),
                Some(Usage { input: 700, output: 0, ..Usage::default() }),
                "pieces of {piece}"
            );
        }
        let mut t = UsageTail::default();
        t.feed(br#"{"data":[],"model":"m","note":"no \"usage\":{\"prompt_tokens\":1} here"}"#);
        assert_eq!(t.usage(), None);
    }
}
