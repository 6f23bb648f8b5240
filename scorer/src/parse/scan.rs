//! The text scanner behind the conversation features: one pass over a message text as the
//! parser hands it over (JSON string content, escapes in place), counting code, fences,
//! diffs, traces, long words and keyword classes into [`TextStats`].

use crate::parse::keywords::{ASK, CODE, LANG, REASONING, SMALL_TALK, TRACE, VERB, classify};

/// What a text says about itself, counted outside fenced code unless noted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    /// Decoded-ish byte count (escapes count as one).
    pub bytes: u64,
    /// Words (runs of letters and digits).
    pub words: u64,
    /// Words of at least [`LONG_WORD_CHARS`] characters that start with a letter, outside
    /// fences: vocabulary load, as readability indices count it.
    pub long_words: u32,
    /// Opening code fences (```` ``` ```` or `~~~`).
    pub fences: u32,
    /// Fences that name a language (```` ```rust ````).
    pub fence_langs: u32,
    /// Lines inside fences.
    pub fenced_lines: u32,
    /// Lines outside fences that look like code (`;`/`{`/`}` endings, `def `, `import `, ...).
    pub code_lines: u32,
    /// Inline code spans (`` `x` ``).
    pub inline_code: u32,
    /// Unified-diff lines (`@@ `, `diff --git`, `+++ `, `--- `).
    pub diff_lines: u32,
    /// Stack-trace and crash markers (`Traceback`, `panicked`, `at f (file:1:2)`, `File "x", line`).
    pub trace_markers: u32,
    /// Words that ask for reasoning (prove, derive, analyse, trade-off, step by step, ...).
    pub reasoning: u32,
    /// Math signals: LaTeX commands, `$$`, `^`, `=` between operands, `∫∑√` and friends.
    pub math: u32,
    /// Greeting and thanks words (hi, hello, thanks, ...).
    pub small_talk: u32,
    /// Programming languages and tools named in prose (python, sql, regex, ...).
    pub lang_words: u32,
    /// Programming nouns and verbs in prose (function, script, compile, ...).
    pub code_words: u32,
    /// Code asked for in prose: a build/fix/write verb (or "how to", "how do") followed, in the
    /// same sentence and within [`ASK_WINDOW`] words, by a language, tool or programming noun
    /// ("write a function", "fix my React component", "how do I read a CSV in pandas").
    pub code_asks: u32,
    /// Error messages pasted without a trace: `TypeError:`, `KeyError:`, `error[E0308]`,
    /// `error:` (a compound `...Error`/`...Exception` word or `error`, then `:` or `[`).
    pub error_msgs: u32,
    /// Lines outside fences that open a block with a declaration keyword (`def f(x):`,
    /// `function f() {`, `class A(B):`): one is code, where other code-like lines need three.
    pub block_heads: u32,
}

impl TextStats {
    /// Any code signal at all.
    pub fn has_code(&self) -> bool {
        // Inline code (`x`) is counted but not a code signal alone: prose quotes names in
        // backticks often enough that it cost accuracy on the calibration data.
        self.fences > 0
            || self.code_lines >= 3
            || self.block_heads > 0
            || self.diff_lines >= 2
            || self.trace_markers > 0
    }

    /// Code asked for in prose: a build/fix/write verb aimed at a language, tool or programming
    /// noun, a language or tool named next to programming words, or a pasted error message.
    /// Technology named without either ("How does an API gateway work?") is not code.
    pub fn asks_for_code(&self) -> bool {
        self.code_asks > 0 || self.names_code() || self.error_msgs > 0
    }

    /// A language or tool named next to programming words ("a Python function"): the prose
    /// signal that predates verb-aimed asks, and the only one that adds `code` to the score.
    pub fn names_code(&self) -> bool {
        self.lang_words > 0 && self.code_words > 0
    }

    pub(crate) fn add(&mut self, o: &TextStats) {
        self.bytes += o.bytes;
        self.words += o.words;
        self.long_words += o.long_words;
        self.fences += o.fences;
        self.fence_langs += o.fence_langs;
        self.fenced_lines += o.fenced_lines;
        self.code_lines += o.code_lines;
        self.inline_code += o.inline_code;
        self.diff_lines += o.diff_lines;
        self.trace_markers += o.trace_markers;
        self.reasoning += o.reasoning;
        self.math += o.math;
        self.small_talk += o.small_talk;
        self.lang_words += o.lang_words;
        self.code_words += o.code_words;
        self.code_asks += o.code_asks;
        self.error_msgs += o.error_msgs;
        self.block_heads += o.block_heads;
    }
}

/// Line prefixes that mark code outside fences, when the line also has code punctuation.
const CODE_PREFIXES: [&[u8]; 16] = [
    b"def ",
    b"class ",
    b"import ",
    b"fn ",
    b"pub ",
    b"const ",
    b"return ",
    b"#include",
    b"public ",
    b"private ",
    b"function ",
    b"func ",
    b"package ",
    b"SELECT ",
    // Tests and REPL sessions pasted into a question (`assert f(1) == 2`, `>>> f(1)`).
    b"assert ",
    b">>> ",
];

const HARNESS_OPEN: &[u8] = b"<system-reminder>";
const HARNESS_CLOSE: &[u8] = b"</system-reminder>";

/// Per-line state of the scanner.
#[derive(Default)]
struct Line {
    /// First bytes of the line after indentation (decoded).
    head: [u8; 16],
    head_len: usize,
    /// Last non-space byte.
    last: u8,
    /// Backticks seen on this line (odd/even pairs make inline spans).
    backticks: u32,
    /// Code punctuation seen: `(`, `=`, `{`.
    code_punct: bool,
    started: bool,
}

impl Line {
    fn push(&mut self, b: u8) {
        if !self.started {
            if b == b' ' || b == b'\t' {
                return;
            }
            self.started = true;
        }
        if let Some(slot) = self.head.get_mut(self.head_len) {
            *slot = b;
            self.head_len += 1;
        }
        if b != b' ' && b != b'\t' && b != b'\r' {
            self.last = b;
        }
        match b {
            b'`' => self.backticks += 1,
            b'(' | b'=' | b'{' => self.code_punct = true,
            _ => {}
        }
    }

    /// `push` for a letter or digit (no whitespace, backtick or punctuation checks needed).
    #[inline]
    fn push_word_byte(&mut self, b: u8) {
        self.started = true;
        if let Some(slot) = self.head.get_mut(self.head_len) {
            *slot = b;
            self.head_len += 1;
        }
        self.last = b;
    }

    fn head(&self) -> &[u8] {
        self.head.get(..self.head_len).unwrap_or_default()
    }
}

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

/// Ends a line: fences, diffs, traces and code-like lines are judged on its head and tail.
fn end_line(line: &mut Line, s: &mut TextStats, in_fence: &mut bool) {
    let head = line.head();
    let fence = head.starts_with(b"```") || head.starts_with(b"~~~");
    if fence {
        if !*in_fence {
            s.fences += 1;
            if head.get(3).is_some_and(u8::is_ascii_alphabetic) {
                s.fence_langs += 1;
            }
        }
        *in_fence = !*in_fence;
    } else if *in_fence {
        s.fenced_lines += 1;
    } else if line.started {
        if head.starts_with(b"@@ ")
            || head.starts_with(b"diff --git")
            || head.starts_with(b"+++ ")
            || head.starts_with(b"--- ")
        {
            s.diff_lines += 1;
        } else if head.starts_with(b"File \"") || (head.starts_with(b"at ") && line.last == b')') {
            s.trace_markers += 1;
        } else if code_like(line, head) {
            s.code_lines += 1;
            s.block_heads += u32::from(block_head(line, head));
        }
        s.inline_code += line.backticks / 2;
    }
    *line = Line::default();
}

/// A line outside fences that reads as code: a block opener or closer, a statement ending in
/// `;` with call or assignment punctuation, or a declaration keyword with code punctuation.
/// Prose with braces (`{disfmarker}` in transcripts) or leading "import" stays prose.
fn code_like(line: &Line, head: &[u8]) -> bool {
    let closer = head.first().is_some_and(|b| matches!(b, b'}' | b')' | b']')) && head.len() <= 3;
    let opener = line.last == b'{' && line.code_punct;
    let statement = line.last == b';' && line.code_punct;
    let declared = line.code_punct && CODE_PREFIXES.iter().any(|p| head.starts_with(p));
    closer || opener || statement || declared
}

/// A declaration that opens a block (`def f(x):`, `class A(B):`, `function f() {`): code on
/// its own, where prose never starts a line with a lower-case keyword, punctuation and `:`/`{`.
fn block_head(line: &Line, head: &[u8]) -> bool {
    matches!(line.last, b':' | b'{') && line.code_punct && CODE_PREFIXES.iter().any(|p| head.starts_with(p))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
