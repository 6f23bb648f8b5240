//! The text scanner behind the conversation features: one pass over a message text as the
//! parser hands it over (JSON string content, escapes in place), counting code, fences,
//! diffs, traces, long words and keyword classes into [`TextStats`].

mod line;
mod stats;
mod word;

use line::{Line, end_line};
pub use stats::TextStats;
use word::Word;
pub use word::{ASK_WINDOW, LONG_WORD_CHARS};

const HARNESS_OPEN: &[u8] = b"<system-reminder>";
const HARNESS_CLOSE: &[u8] = b"</system-reminder>";

/// Scans one text. `harness` counts `<system-reminder>` blocks, whose content is skipped.
pub(crate) fn scan(raw: &[u8], harness: &mut u32) -> TextStats {
    let mut s = TextStats::default();
    let mut line = Line::default();
    let mut in_fence = false;
    let mut word = Word::default();
    let mut last_byte = 0u8;
    let mut i = 0usize;
    let n = raw.len();

    while let Some(&byte) = raw.get(i) {
        let mut b = byte;
        i += 1;
        if b.is_ascii_alphanumeric() {
            // Fast path, most bytes: a letter or digit continues the line and the word.
            s.bytes += 1;
            line.push_word_byte(b);
            last_byte = b;
            word.push(b | 0x20); // ASCII lower case; digits already have the bit
            continue;
        }
        if b == b' ' {
            // Fast path: a space ends a word; the line only keeps it in its head.
            s.bytes += 1;
            last_byte = b;
            line.push(b);
            word.finish(&mut s, in_fence);
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
            word.finish(&mut s, in_fence);
            word.end_sentence();
            end_line(&mut line, &mut s, &mut in_fence);
            continue;
        }
        line.push(b);
        let prev_byte = std::mem::replace(&mut last_byte, b);
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            word.push(b.to_ascii_lowercase());
            continue;
        }
        if b == b'-' && word.len > 0 && raw.get(i).is_some_and(u8::is_ascii_alphabetic) {
            // "trade-off" reads as one word.
            continue;
        }
        word.finish(&mut s, in_fence);
        if in_fence {
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
    word.finish(&mut s, in_fence);
    end_line(&mut line, &mut s, &mut in_fence);
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
