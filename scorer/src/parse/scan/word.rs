//! The word being read: its class, the reasoning and code-ask windows it opens or closes.

use super::stats::TextStats;
use crate::parse::keywords::{CODE, LANG, REASONING, SMALL_TALK, TRACE, VERB, classify};

/// Characters from which a word counts as long (`consecutive`, `probability`): long enough
/// that everyday words (`chocolate` is the shortest) rarely reach it.
pub const LONG_WORD_CHARS: u32 = 9;

/// Words after a build verb (or "how to") within which a language, tool or programming noun
/// makes a code ask: "write a Python script" (2), "implement binary search in Java" (4).
pub const ASK_WINDOW: u8 = 8;

/// `Word::since_verb` when no verb is open in this sentence.
const NO_VERB: u8 = u8::MAX;

/// The word being read, tags of the two before it (for "step by step", "how to"), and the
/// words since the last build verb in this sentence.
pub(super) struct Word {
    pub(super) buf: [u8; 24],
    pub(super) len: usize,
    /// Characters (UTF-8 continuation bytes not counted).
    pub(super) chars: u32,
    /// Longer than `buf`: counted, never matched.
    pub(super) long: bool,
    pub(super) prev: (u8, u8),
    /// Words since a build verb in this sentence ([`NO_VERB`]: none).
    pub(super) since_verb: u8,
    /// The word just finished names an error (`error`, `TypeError`, `IOException`).
    pub(super) error: bool,
}

impl Default for Word {
    fn default() -> Self {
        Word { buf: [0; 24], len: 0, chars: 0, long: false, prev: (0, 0), since_verb: NO_VERB, error: false }
    }
}

impl Word {
    #[inline]
    pub(super) fn push(&mut self, b: u8) {
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
    pub(super) fn end_sentence(&mut self) {
        self.since_verb = NO_VERB;
    }

    /// Counts the word (outside fences) and starts the next one.
    pub(super) fn finish(&mut self, s: &mut TextStats, in_fence: bool) {
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
        let aimed = class & (LANG | CODE) != 0 && self.since_verb < ASK_WINDOW;
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
