//! What the scanner counts in one text, and how counts combine.

/// What a text says about itself, counted outside fenced code unless noted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    /// Decoded-ish byte count (escapes count as one).
    pub bytes: u64,
    /// Words (runs of letters and digits).
    pub words: u64,
    /// Words of at least [`LONG_WORD_CHARS`](super::LONG_WORD_CHARS) characters that start with a letter, outside
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
    /// same sentence and within [`ASK_WINDOW`](super::ASK_WINDOW) words, by a language, tool or programming noun
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
