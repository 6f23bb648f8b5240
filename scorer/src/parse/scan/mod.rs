//! The text scanner behind the conversation features: one pass over a message text as the
//! parser hands it over (JSON string content, escapes in place), counting code, fences,
//! diffs, traces, long words and keyword classes into [`TextStats`].

mod line;
#[cfg(test)]
mod reference;
mod stats;
mod word;

use line::{Line, end_line};
pub use stats::TextStats;
use word::Word;
pub use word::{ASK_WINDOW, LONG_WORD_CHARS};

const HARNESS_OPEN: &[u8] = b"<system-reminder>";
const HARNESS_CLOSE: &[u8] = b"</system-reminder>";

/// Scans one text. `harness` counts `<system-reminder>` blocks, whose content is skipped.
///
/// Runs of word bytes are taken whole: a word that is one run (most are) is judged as soon as
/// the byte after it is known to end it, from its first and last 16 bytes loaded as integers
/// (`Word::finish_run`); others are assembled run by run. Inside a fence, once the line's head
/// is read, the scanner jumps to the next escape or `<`: fenced words are not counted, only
/// line breaks and harness tags matter there. Counts equal the byte-at-a-time reading
/// (`reference.rs`) on every text.
pub(crate) fn scan(raw: &[u8], harness: &mut u32) -> TextStats {
    scan_as::<true>(raw, harness)
}

/// [`scan`] for text whose prose `auto` does not read (assistant turns, tool results, system
/// prompts): only bytes and the code signals are counted (fences, code-like lines and block
/// heads, diffs, traces, inline code); words, vocabulary, reasoning, math, small talk and
/// code asks stay zero. Those are what makes prose slow to read, and they count in user text
/// only.
pub(crate) fn scan_code(raw: &[u8], harness: &mut u32) -> TextStats {
    scan_as::<false>(raw, harness)
}

/// The scanner, reading prose too when `PROSE`.
fn scan_as<const PROSE: bool>(raw: &[u8], harness: &mut u32) -> TextStats {
    let mut s = TextStats::default();
    let mut line = Line::default();
    let mut in_fence = false;
    let mut word = Word::default();
    let mut last_byte = 0u8;
    let mut i = 0usize;
    let n = raw.len();

    while let Some(&byte) = raw.get(i) {
        if is_word_byte(byte) {
            // Most bytes: a run of letters, digits or UTF-8 continues the line and the word.
            let start = i;
            i += 1;
            while raw.get(i).is_some_and(|&b| is_word_byte(b)) {
                i += 1;
            }
            s.bytes += (i - start) as u64;
            let run = raw.get(start..i).unwrap_or_default();
            line.push_run(run);
            last_byte = run.last().copied().unwrap_or(last_byte);
            if !in_fence {
                // In a fence the word is dropped unread at its end (`Word::finish`). A word
                // that is this run alone, as most are, is counted at once.
                let ends_word = match raw.get(i) {
                    Some(b'-' | b'<') => false,
                    Some(b'\\') => raw.get(i + 1) != Some(&b'u'),
                    _ => true,
                };
                if word.len == 0 && ends_word {
                    word.finish_run::<PROSE>(raw, start, i, &mut s);
                } else {
                    word.extend::<PROSE>(raw, start, i);
                }
            }
            continue;
        }
        if in_fence && line.head_full() {
            // Inside a fence past the line's head: nothing counts but bytes up to the next
            // line break (an escape, or a raw one outside JSON) or `<` (maybe a harness tag).
            let rest = raw.get(i..).unwrap_or_default();
            let len = rest.iter().position(|&b| matches!(b, b'\\' | b'<' | b'\n')).unwrap_or(rest.len());
            if len > 0 {
                i += len;
                s.bytes += len as u64;
                last_byte = rest.get(len - 1).copied().unwrap_or(last_byte);
                continue;
            }
        }
        let mut b = byte;
        i += 1;
        if b == b' ' {
            // A space ends a word; the line only keeps it in its head.
            s.bytes += 1;
            last_byte = b;
            line.push(b);
            word.finish::<PROSE>(&mut s, in_fence);
            continue;
        }
        if let (b'\\', Some(&e)) = (b, raw.get(i)) {
            // Decode the escapes that shape text; others count as one opaque character.
            i += 1;
            b = match e {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'"' | b'\\' | b'/' => e,
                b'u' => {
                    // One non-ASCII character: a UTF-8 lead byte, so it counts once.
                    i = (i + 4).min(n);
                    0xC0
                }
                _ => b' ',
            };
        }
        s.bytes += 1;
        if b == b'<' && raw.get(i - 1..).is_some_and(|r| r.starts_with(HARNESS_OPEN)) {
            // Agent harness boilerplate: skip to the closing tag, it says nothing about the ask.
            let rest = raw.get(i - 1..).unwrap_or_default();
            let skip = find(rest, HARNESS_CLOSE).map_or(rest.len(), |p| p + HARNESS_CLOSE.len());
            *harness += 1;
            i = i - 1 + skip;
            continue;
        }
        if b == b'\n' {
            word.finish::<PROSE>(&mut s, in_fence);
            word.end_sentence();
            end_line(&mut line, &mut s, &mut in_fence);
            continue;
        }
        line.push(b);
        let prev_byte = std::mem::replace(&mut last_byte, b);
        if is_word_byte(b) {
            word.push::<PROSE>(b);
            continue;
        }
        if b == b'-' && word.len > 0 && raw.get(i).is_some_and(u8::is_ascii_alphabetic) {
            // "trade-off" reads as one word.
            continue;
        }
        word.finish::<PROSE>(&mut s, in_fence);
        if in_fence || !PROSE {
            continue;
        }
        match b {
            b'^' => s.math += 1,
            // `x = 2`, `2=2`: an equals sign between operands, not `?a=b` in a URL.
            b'=' if prev_byte == b' ' || prev_byte.is_ascii_digit() => s.math += 1,
            b'$' if raw.get(i) == Some(&b'$') => s.math += 1,
            // A LaTeX command: backslash then letters (the JSON escape `\\` decoded above).
            b'\\' if raw.get(i).is_some_and(u8::is_ascii_alphabetic) => s.math += 2,
            // `TypeError:`, `error[E0308]`: the word just finished names an error.
            b':' | b'[' if word.error => s.error_msgs += 1,
            b'.' | b'?' | b'!' => word.end_sentence(),
            _ => {}
        }
    }
    word.finish::<PROSE>(&mut s, in_fence);
    end_line(&mut line, &mut s, &mut in_fence);
    s
}

/// A byte that continues a word: an ASCII letter or digit, or any byte of a UTF-8 sequence.
#[inline]
fn is_word_byte(b: u8) -> bool {
    WORD_BYTES.get(usize::from(b)).is_some_and(|&w| w)
}

/// [`is_word_byte`], a flag per byte value.
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
static WORD_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    t
};

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
