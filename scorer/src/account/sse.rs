//! Server-sent events as OpenAI-compatible providers frame a chat stream: where an event
//! ends, its `data:` lines, the provider's error event, `[DONE]`, and how a stream opens.

use super::events::{answer_bytes, finishes};

/// The end of the first SSE event in `data` (after its blank line, `\n\n` or `\r\n\r\n`),
/// if it is complete, searching from `from` (bytes before it hold no blank line). One pass,
/// stopping at the first blank line.
pub(super) fn event_end(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(at) = data.get(i..)?.iter().position(|&b| b == b'\n') {
        let nl = i + at;
        match data.get(nl + 1..) {
            Some([b'\n', ..]) => return Some(nl + 2),
            Some([b'\r', b'\n', ..]) => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// Whether a line of an event says it is the provider's error: a `data:` line holding an
/// [`error_member`], or `event: error`.
pub(super) fn error_line(line: &[u8]) -> bool {
    match data_value(line) {
        Some(value) => error_member(value),
        None => matches!(line.trim_ascii_end(), b"event: error" | b"event:error"),
    }
}

/// Whether the last line of `events` is the `[DONE]` data line. SSE takes one optional space
/// after the field's colon, so `data:[DONE]` ends a stream as `data: [DONE]` does.
pub(super) fn ends_done(events: &[u8]) -> bool {
    let line = events.trim_ascii_end().rsplit(|&b| b == b'\n').next().unwrap_or_default();
    data_value(line) == Some(b"[DONE]")
}

/// A `data:` line's value: after the colon and the one space SSE allows there.
pub(crate) fn data_value(line: &[u8]) -> Option<&[u8]> {
    let value = line.strip_prefix(b"data:")?;
    Some(value.strip_prefix(b" ").unwrap_or(value))
}

/// How an OpenAI-compatible stream opens: its first event that carries data, once it is whole.
#[derive(Debug, PartialEq, Eq)]
pub enum First<'a> {
    /// No whole event with data yet (comments and keep-alives aside).
    Pending,
    /// A chunk that carries some of the answer: text, reasoning, a call, audio or a finish.
    Answer,
    /// The provider's error (`data: {"error": ...}`, or `event: error`): this event.
    Error(&'a [u8]),
    /// `data: [DONE]` before anything: a stream with no answer in it.
    Done,
}

/// The first event with data in `held` that errs or carries some of the answer, the start of
/// a stream (a byte-order mark aside). A frame before it (the role-only chunk most providers
/// send at once, Azure's prompt-filter chunk with no choices) opens nothing: an error the
/// provider sends after it, while the model has yet to write, is still one it can fail over.
pub fn first_event(held: &[u8]) -> First<'_> {
    first_event_from(held, &mut 0)
}

/// [`first_event`], reading from `from` (0, or where the last call left it): moved past the
/// whole events that open nothing, so a stream held across many chunks has each read once (a
/// provider's thousands of empty deltas, read again with every chunk, took a worker seconds).
pub fn first_event_from<'a>(held: &'a [u8], from: &mut usize) -> First<'a> {
    const BOM: &[u8] = "\u{feff}".as_bytes();
    if *from == 0 && held.starts_with(BOM) {
        *from = BOM.len();
    }
    while let Some(end) = event_end(held, *from) {
        let event = held.get(*from..end).unwrap_or_default();
        *from = end;
        let (mut data, mut error) = (false, false);
        for line in event.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            error |= error_line(line);
            match data_value(line) {
                Some(b"[DONE]") => return First::Done,
                Some(value) => data |= begins_answer(value.trim_ascii()),
                None => {}
            }
        }
        if error {
            return First::Error(event);
        }
        if data {
            return First::Answer;
        }
    }
    First::Pending
}

/// Whether a `data:` value carries some of the answer ([`First::Answer`]): any that is not
/// a JSON object counts, as the router cannot read it for less.
fn begins_answer(value: &[u8]) -> bool {
    !value.is_empty()
        && (!value.starts_with(b"{")
            || answer_bytes(value) > 0
            || finishes(value)
            || [&b"\"tool_calls\""[..], b"\"function_call\"", b"\"audio\""]
                .iter()
                .any(|k| holds_object(value, k)))
}

/// Whether `key` (quoted) stands in `value` before an object, or a list that begins with one:
/// a role-only chunk may carry it empty (`"tool_calls":null`, `[]`), which opens nothing.
fn holds_object(value: &[u8], key: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = value.get(from..).and_then(|v| v.windows(key.len()).position(|w| w == key)) {
        from += at + key.len();
        let rest = value.get(from..).unwrap_or_default().trim_ascii_start();
        let Some(rest) = rest.strip_prefix(b":") else { continue };
        let rest = rest.trim_ascii_start();
        let rest = rest.strip_prefix(b"[").map_or(rest, <[u8]>::trim_ascii_start);
        if rest.starts_with(b"{") {
            return true;
        }
    }
    false
}

/// Whether an event's data carries an `error` member that is not null: first, as OpenAI's
/// and most providers' error events have it (`{"error": {...}}`), or beside a chunk's own
/// members, as OpenRouter sends an upstream's failure (`{"id":..,"error":{..},"choices":[..
/// "finish_reason":"error"}]}`). A quote inside a string is escaped, so an unescaped
/// `"error"` followed by a colon is a key.
fn error_member(data: &[u8]) -> bool {
    let key = b"\"error\"";
    let mut from = 0;
    while let Some(at) = data.get(from..).and_then(|rest| rest.windows(key.len()).position(|w| w == key)) {
        let start = from + at;
        from = start + key.len();
        if start > 0 && data.get(start - 1) == Some(&b'\\') {
            continue;
        }
        let rest = data.get(from..).unwrap_or_default().trim_ascii_start();
        if let Some(value) = rest.strip_prefix(b":") {
            return !value.trim_ascii_start().starts_with(b"null");
        }
    }
    false
}

/// Whether `needle` is in `hay`: memmem, not a comparison at every byte (it runs on every
/// event of every stream, and on whole answers).
pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}
