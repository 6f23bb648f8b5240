//! The scanner as it was before its loop read runs of bytes at once: kept, for tests only, as
//! the oracle the fast loop must agree with on every text (`agrees_with_the_reference`).

use super::line::{Line, end_line};
use super::stats::TextStats;
use super::word::NO_VERB;
use super::{ASK_WINDOW, HARNESS_CLOSE, HARNESS_OPEN, LONG_WORD_CHARS, find};
use crate::parse::keywords::{ASK, CODE, LANG, REASONING, SMALL_TALK, TRACE, VERB, classify};

/// Scans one text a byte at a time. `harness` counts `<system-reminder>` blocks, whose content is skipped.
pub(super) fn scan_bytewise(raw: &[u8], harness: &mut u32) -> TextStats {
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

/// The word as it was read before: a lower-cased copy in a buffer, its tags by `match`.
/// The word being read, tags of the two before it (for "step by step", "how to"), and the
/// words since the last build verb in this sentence.
struct Word {
    buf: [u8; 24],
    len: usize,
    /// Characters (UTF-8 continuation bytes not counted).
    chars: u32,
    /// Longer than `buf`: counted, never matched.
    long: bool,
    prev: (u8, u8),
    /// Words since a build verb in this sentence ([`NO_VERB`]: none).
    since_verb: u8,
    /// The word just finished names an error (`error`, `TypeError`, `IOException`).
    error: bool,
}

impl Default for Word {
    fn default() -> Self {
        Word { buf: [0; 24], len: 0, chars: 0, long: false, prev: (0, 0), since_verb: NO_VERB, error: false }
    }
}

impl Word {
    #[inline]
    fn push(&mut self, b: u8) {
        self.chars += u32::from(b & 0xC0 != 0x80);
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = b;
                self.len += 1;
            }
            None => self.long = true,
        }
    }

    /// A sentence ended: a verb in it no longer reaches the next words.
    fn end_sentence(&mut self) {
        self.since_verb = NO_VERB;
    }

    /// Counts the word (outside fences) and starts the next one.
    fn finish(&mut self, s: &mut TextStats, in_fence: bool) {
        self.error = false;
        if (self.len == 0 && !self.long) || in_fence {
            self.len = 0;
            self.chars = 0;
            self.long = false;
            return;
        }
        let word = self.buf.get(..self.len).unwrap_or_default();
        s.words += 1;
        // Past the buffer it is an identifier, a hash or base64, not vocabulary.
        let starts_with_letter = word.first().is_some_and(|b| !b.is_ascii_digit());
        s.long_words += u32::from(!self.long && self.chars >= LONG_WORD_CHARS && starts_with_letter);
        // 1 = "step", 2 = "by", 3 = "how", 4 = a word that makes "how" an ask (to, do, can...),
        // 5 = "about" (after it comes a topic: "write a poem about recursion" is not code).
        let tag = match word {
            b"step" => 1,
            b"by" => 2,
            b"how" => 3,
            b"to" | b"do" | b"can" | b"should" | b"would" => 4,
            b"about" => 5,
            _ => 0,
        };
        let class = if self.long { 0 } else { classify(word) };
        if class & REASONING != 0 || (tag == 1 && self.prev == (2, 1)) {
            s.reasoning += 1;
        }
        s.small_talk += u32::from(class & SMALL_TALK != 0);
        s.trace_markers += u32::from(class & TRACE != 0);
        s.lang_words += u32::from(class & LANG != 0);
        s.code_words += u32::from(class & CODE != 0);
        // A language, tool or programming noun a few words after a build verb: a code ask.
        let aimed = (class & (LANG | CODE) != 0 && self.since_verb < ASK_WINDOW) || class & ASK != 0;
        s.code_asks += u32::from(aimed);
        self.since_verb = if class & VERB != 0 || (tag == 4 && self.prev.0 == 3) {
            0
        } else if tag == 5 {
            NO_VERB
        } else {
            self.since_verb.saturating_add(1)
        };
        // `TypeError`, `KeyError`, `IOException`: compounds, so "terror" and "one exception" are not.
        self.error = !self.long
            && (word == b"error"
                || (word.len() >= 8 && word.ends_with(b"error"))
                || (word.len() >= 11 && word.ends_with(b"exception")));
        self.prev = (tag, self.prev.0);
        self.len = 0;
        self.chars = 0;
        self.long = false;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{TextStats, scan, scan_code};
    use super::scan_bytewise;

    /// Pieces that steer every branch of the scanner: keywords and their windows, error words,
    /// punctuation it counts, JSON escapes (line breaks among them), fences, diff and trace
    /// heads, declarations, harness tags, UTF-8 and escaped non-ASCII, long runs.
    const PIECES: &[&str] = &[
        " ",
        " ",
        " ",
        "  ",
        "\\t",
        "\\n",
        "\\n",
        "\\r",
        "\\\"",
        "\\\\",
        "\\/",
        "\\u00e4",
        "\\b",
        "\\",
        "write",
        "a",
        "Python",
        "function",
        "how",
        "to",
        "do",
        "about",
        "step",
        "by",
        "prove",
        "error",
        "TypeError",
        "IOException",
        "traceback",
        "panicked",
        "hi",
        "thanks",
        "the",
        "consequences",
        "equilibrium",
        "antidisestablishmentarianism",
        "d41d8cd98f00b204e9800998ecf8427e",
        "x",
        "42",
        "trade",
        "-",
        "-off",
        ":",
        "[",
        ".",
        "?",
        "!",
        "=",
        "^",
        "$$",
        "$",
        "{",
        "}",
        "(",
        ")",
        ";",
        "`",
        "```",
        "```rust",
        "~~~",
        "@@ ",
        "diff --git",
        "+++ ",
        "--- ",
        "File \\\"",
        "at ",
        ")",
        "def ",
        "class ",
        "function ",
        ">>> ",
        "assert ",
        "import ",
        "<",
        "<system-reminder>",
        "</system-reminder>",
        "é",
        "Übersetzung",
        "日本語",
        "käse",
        ",",
        "'",
        "#",
        "*",
        "_",
        "\\\\frac",
        "0",
        "y",
    ];

    /// xorshift64*: a fixed sequence, so a failure reproduces.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn check(text: &[u8]) {
        let (mut h1, mut h2) = (0, 0);
        let fast = scan(text, &mut h1);
        let slow = scan_bytewise(text, &mut h2);
        assert_eq!((fast, h1), (slow, h2), "{}", String::from_utf8_lossy(text));
        // Code only: the same code signals and bytes, no prose.
        let mut h3 = 0;
        let code = scan_code(text, &mut h3);
        let expected = TextStats {
            bytes: slow.bytes,
            fences: slow.fences,
            fence_langs: slow.fence_langs,
            fenced_lines: slow.fenced_lines,
            code_lines: slow.code_lines,
            inline_code: slow.inline_code,
            diff_lines: slow.diff_lines,
            trace_markers: slow.trace_markers,
            block_heads: slow.block_heads,
            ..TextStats::default()
        };
        assert_eq!((code, h3), (expected, h2), "code only: {}", String::from_utf8_lossy(text));
    }

    #[test]
    fn agrees_with_the_reference() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..30_000 {
            let pieces = (next(&mut state) % 120) as usize;
            let mut text = Vec::new();
            for _ in 0..pieces {
                let piece = PIECES[(next(&mut state) % PIECES.len() as u64) as usize];
                text.extend_from_slice(piece.as_bytes());
            }
            check(&text);
        }
    }

    #[test]
    fn agrees_with_the_reference_on_every_byte_pair() {
        // Every two-byte tail after a fence opener and a full line head, where the fast loop
        // switches between its paths.
        for a in 0..=255u8 {
            for b in [b'\\', b'n', b'<', b' ', b'a', 0xC3, b'`', b'-', b'\n'] {
                let mut text = b"```\\n0123456789abcdefgh".to_vec();
                text.extend_from_slice(&[a, b, a]);
                text.extend_from_slice(b"\\n```\\n");
                text.extend_from_slice(&[b, a, b' ', a]);
                check(&text);
            }
        }
    }
}
