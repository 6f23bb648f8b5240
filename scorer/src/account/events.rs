//! What a stream's events say of the answer inside them, read from their bytes without
//! building the JSON: whether a choice finished, whether an event is the usage chunk, and how
//! many bytes of answer text it carries (the least a provider billed for a stream whose usage
//! never came).

/// Whether events say a choice finished: a `finish_reason` that is a string, not null and not
/// empty (some servers send `""` on every chunk before the last).
pub(crate) fn finishes(events: &[u8]) -> bool {
    const KEY: &[u8] = b"\"finish_reason\":";
    let mut rest = events;
    while let Some(at) = rest.windows(KEY.len()).position(|w| w == KEY) {
        rest = rest.get(at + KEY.len()..).unwrap_or_default();
        if let [b'"', next, ..] = rest.trim_ascii_start()
            && *next != b'"'
        {
            return true;
        }
    }
    false
}

/// The `index` of each choice a chunk (`value`, one `data:` line that [`finishes`]) says
/// finished (`None`: not a chunk read so). Read whole: a finish is a stream's rarest event.
pub(crate) fn finished_choices(value: &[u8]) -> Option<Vec<u64>> {
    let v: serde_json::Value = serde_json::from_slice(value).ok()?;
    let finished = |c: &&serde_json::Value| {
        c.get("finish_reason").and_then(|f| f.as_str()).is_some_and(|f| !f.is_empty())
    };
    let choices = v.get("choices")?.as_array()?;
    Some(
        choices
            .iter()
            .filter(finished)
            .map(|c| c.get("index").and_then(|i| i.as_u64()).unwrap_or(0))
            .collect(),
    )
}

/// Whether an event's chunk has no choices (`"choices":[]`): the usage chunk.
pub(crate) fn no_choices(event: &[u8]) -> bool {
    const KEY: &[u8] = b"\"choices\":";
    event.windows(KEY.len()).position(|w| w == KEY).is_some_and(|at| {
        let rest = event.get(at + KEY.len()..).unwrap_or_default().trim_ascii_start();
        rest.strip_prefix(b"[").is_some_and(|r| r.trim_ascii_start().first() == Some(&b']'))
    })
}

/// Members of a chunk's delta whose string values are the answer the provider bills as output:
/// its text, a tool call's arguments, a refusal; and its reasoning, under either name (a
/// server renaming one sends both, with the same text: the larger counts).
const ANSWER_MEMBERS: [&[u8]; 3] = [b"content", b"arguments", b"refusal"];
const REASONING_MEMBERS: [&[u8]; 2] = [b"reasoning_content", b"reasoning"];

/// The bytes of answer text in a chunk's JSON (`value`, one `data:` line): the string values
/// of [`ANSWER_MEMBERS`], escapes counted as one byte each (`\n`), `\u` escapes as their
/// four digits' worth. A rough measure, like the estimate's, read without building the JSON.
pub(crate) fn answer_bytes(value: &[u8]) -> u64 {
    // (answer text, then each reasoning member's)
    let mut totals = [0u64; 3];
    let mut at = 0;
    while let Some(found) = value.get(at..).and_then(|v| v.windows(2).position(|w| w == b"\":")) {
        let key_end = at + found;
        at = key_end + 2;
        let key_start = value.get(..key_end).and_then(|v| v.iter().rposition(|&b| b == b'"'));
        let Some(key) = key_start.and_then(|s| value.get(s + 1..key_end)) else { continue };
        let slot = match REASONING_MEMBERS.iter().position(|m| *m == key) {
            Some(i) => i + 1,
            None if ANSWER_MEMBERS.contains(&key) => 0,
            None => continue,
        };
        // The value: after optional whitespace, a string (null and the rest carry no text).
        while value.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if value.get(at) != Some(&b'"') {
            continue;
        }
        at += 1;
        while let Some(&b) = value.get(at) {
            match b {
                b'"' => break,
                b'\\' => at += if value.get(at + 1) == Some(&b'u') { 6 } else { 2 },
                _ => at += 1,
            }
            if let Some(total) = totals.get_mut(slot) {
                *total += 1;
            }
        }
        at += 1;
    }
    let [text, reasoning, also] = totals;
    text + reasoning.max(also)
}
