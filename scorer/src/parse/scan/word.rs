//! The word being read: its class, the reasoning and code-ask windows it opens or closes.
//!
//! A word is kept as two integers, not a copy: its first 16 bytes (what the keyword table
//! compares) and its last 16 (what the error-name suffixes compare), both lower-cased, with its
//! length and characters. Runs of word bytes are added whole, loaded 16 bytes at a time.

use super::stats::TextStats;
use crate::parse::keywords::{
    ABOUT, ASK, BY, CODE, HOW, HOW_ASK, LANG, REASONING, SMALL_TALK, STEP, TRACE, VERB, lookup, pack,
};

/// Characters from which a word counts as long (`consecutive`, `probability`): long enough
/// that everyday words (`chocolate` is the shortest) rarely reach it.
pub const LONG_WORD_CHARS: u32 = 9;

/// Words after a build verb (or "how to") within which a language, tool or programming noun
/// makes a code ask: "write a Python script" (2), "implement binary search in Java" (4).
pub const ASK_WINDOW: u8 = 8;

/// `Word::since_verb` when no verb is open in this sentence.
pub(super) const NO_VERB: u8 = u8::MAX;

/// Bytes past which a word is an identifier, a hash or base64, not vocabulary: counted,
/// never matched.
const MAX_VOCABULARY: usize = 24;

/// ASCII lower case for letters; digits already have the bit, and other bytes of a word
/// (UTF-8) never equal a keyword's either way.
const LOWER: u128 = u128::from_le_bytes([0x20; 16]);

/// Lengths of the crash words (`panicked`, `segfault`, `traceback`, `stacktrace`): the only
/// words read where prose is not.
const CRASH_MIN: usize = 8;
const CRASH_MAX: usize = 10;

/// `error` itself, and `TypeError`, `KeyError`: a word of 5 bytes or of 8 or more ending so
/// names an error.
const ERROR: u128 = u128::from_be_bytes(*b"\0\0\0\0\0\0\0\0\0\0\0error");
/// `IOException`: a word ending so (of 11 bytes or more) names an error.
const EXCEPTION: u128 = u128::from_be_bytes(*b"\0\0\0\0\0\0\0exception");

/// The low `n` bytes of a packed word.
#[inline]
fn low(n: usize) -> u128 {
    LOW.get(n).copied().unwrap_or(u128::MAX)
}

/// [`low`] for 0 to 15 bytes.
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const LOW: [u128; 16] = {
    let mut t = [0u128; 16];
    let mut n = 1;
    while n < 16 {
        t[n] = (1u128 << (8 * n)) - 1;
        n += 1;
    }
    t
};

/// A run's first 16 bytes, lower-cased, byte 0 lowest: loaded from `raw` at `start`, bytes past
/// the run masked off.
#[inline]
fn first_bytes(raw: &[u8], start: usize, run: &[u8]) -> u128 {
    let first = match raw.get(start..start + 16) {
        Some(w) => u128::from_le_bytes(w.try_into().unwrap_or([0; 16])),
        None => pack(run),
    };
    (first | LOWER) & low(run.len())
}

/// A run's last 16 bytes, lower-cased, its last byte lowest: loaded from `raw` up to `end`,
/// bytes before the run masked off.
#[inline]
fn last_bytes(raw: &[u8], end: usize, run: &[u8]) -> u128 {
    let last = match end.checked_sub(16).and_then(|from| raw.get(from..end)) {
        Some(w) => u128::from_be_bytes(w.try_into().unwrap_or([0; 16])),
        None => run.iter().fold(0u128, |x, &b| (x << 8) | u128::from(b)),
    };
    (last | LOWER) & low(run.len())
}

/// Characters in a run (UTF-8 continuation bytes not counted).
#[inline]
fn chars(run: &[u8]) -> u32 {
    if run.is_ascii() { run.len() as u32 } else { run.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u32 }
}

/// The word being read, tags of the two before it (for "step by step", "how to"), and the
/// words since the last build verb in this sentence.
pub(super) struct Word {
    /// First 16 bytes, lower-cased, byte 0 lowest; zero past the word.
    head: u128,
    /// Last 16 bytes, lower-cased, the last byte lowest.
    tail: u128,
    /// Bytes read (not capped).
    pub(super) len: usize,
    /// Characters (UTF-8 continuation bytes not counted).
    chars: u32,
    prev: (u8, u8),
    /// Words since a build verb in this sentence ([`NO_VERB`]: none).
    since_verb: u8,
    /// The word just finished names an error (`error`, `TypeError`, `IOException`).
    pub(super) error: bool,
    /// Counted already by [`Word::finish_run`]: the next `finish` only clears this.
    pending: bool,
}

impl Default for Word {
    fn default() -> Self {
        Word {
            head: 0,
            tail: 0,
            len: 0,
            chars: 0,
            prev: (0, 0),
            since_verb: NO_VERB,
            error: false,
            pending: false,
        }
    }
}

impl Word {
    /// Adds `raw[start..end]`, a run of word bytes (letters, digits, UTF-8). Without `PROSE`
    /// only what finds the crash words is kept: the first bytes and the length.
    #[inline]
    pub(super) fn extend<const PROSE: bool>(&mut self, raw: &[u8], start: usize, end: usize) {
        let n = end - start;
        if n == 0 {
            return;
        }
        let run = raw.get(start..end).unwrap_or_default();
        if self.len < 16 {
            let first = first_bytes(raw, start, run);
            // Most words are one run: no shift.
            self.head = if self.len == 0 { first } else { self.head | (first << (8 * self.len)) };
        }
        if PROSE {
            self.chars += chars(run);
            let last = last_bytes(raw, end, run);
            self.tail = if self.len == 0 || n >= 16 { last } else { (self.tail << (8 * n)) | last };
        }
        self.len += n;
    }

    /// Counts `raw[start..end]` as a whole word, now, when the caller knows the byte after it
    /// ends it (not `-`, an escape that decodes to a letter, or a harness tag): most words are
    /// one run, and this skips assembling them. The byte after it still calls
    /// [`Word::finish`], which then only takes note.
    #[inline]
    pub(super) fn finish_run<const PROSE: bool>(
        &mut self,
        raw: &[u8],
        start: usize,
        end: usize,
        s: &mut TextStats,
    ) {
        let n = end - start;
        let run = raw.get(start..end).unwrap_or_default();
        self.head = first_bytes(raw, start, run);
        self.len = n;
        if PROSE {
            self.chars = chars(run);
            // The last bytes: the keyword table's last byte and the error suffixes.
            self.tail = last_bytes(raw, end, run);
        }
        self.finish::<PROSE>(s, false);
        self.pending = true;
    }

    /// Adds one word byte (a decoded escape).
    pub(super) fn push<const PROSE: bool>(&mut self, b: u8) {
        self.extend::<PROSE>(&[b], 0, 1);
    }

    /// A sentence ended: a verb in it no longer reaches the next words.
    pub(super) fn end_sentence(&mut self) {
        self.since_verb = NO_VERB;
    }

    /// Counts the word (outside fences) and starts the next one; without `PROSE`, only a
    /// crash word (`traceback`, `panicked`) counts.
    #[inline]
    pub(super) fn finish<const PROSE: bool>(&mut self, s: &mut TextStats, in_fence: bool) {
        if self.pending {
            // Counted when its run ended; this is the byte that ends it.
            self.pending = false;
            return;
        }
        self.error = false;
        if self.len == 0 || in_fence {
            self.clear();
            return;
        }
        if !PROSE {
            if (CRASH_MIN..=CRASH_MAX).contains(&self.len) {
                let last = (self.head >> (8 * (self.len - 1))) as u8;
                s.trace_markers += u32::from(lookup(self.head, last, self.len).0 & TRACE != 0);
            }
            self.clear();
            return;
        }
        s.words += 1;
        let long = self.len > MAX_VOCABULARY;
        let starts_with_letter = !(self.head as u8).is_ascii_digit();
        s.long_words += u32::from(!long && self.chars >= LONG_WORD_CHARS && starts_with_letter);
        let (class, tag) = if long { (0, 0) } else { lookup(self.head, self.tail as u8, self.len) };
        if class & REASONING != 0 || (tag == STEP && self.prev == (BY, STEP)) {
            s.reasoning += 1;
        }
        s.small_talk += u32::from(class & SMALL_TALK != 0);
        s.trace_markers += u32::from(class & TRACE != 0);
        s.lang_words += u32::from(class & LANG != 0);
        s.code_words += u32::from(class & CODE != 0);
        // A language, tool or programming noun a few words after a build verb: a code ask.
        let aimed = (class & (LANG | CODE) != 0 && self.since_verb < ASK_WINDOW) || class & ASK != 0;
        s.code_asks += u32::from(aimed);
        self.since_verb = if class & VERB != 0 || (tag == HOW_ASK && self.prev.0 == HOW) {
            0
        } else if tag == ABOUT {
            NO_VERB
        } else {
            self.since_verb.saturating_add(1)
        };
        // `TypeError`, `KeyError`, `IOException`: compounds, so "terror" and "one exception" are not.
        self.error = !long
            && (((self.len == 5 || self.len >= 8) && self.tail & low(5) == ERROR)
                || (self.len >= 11 && self.tail & low(9) == EXCEPTION));
        self.prev = (tag, self.prev.0);
        self.clear();
    }

    #[inline]
    fn clear(&mut self) {
        // `head` and `tail` are overwritten by the next word's first run.
        self.len = 0;
        self.chars = 0;
    }
}
