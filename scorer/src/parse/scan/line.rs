//! One line of text as the scanner sees it: its head (for fences, diffs, traces and
//! declarations), its last byte and its code punctuation.

use super::stats::TextStats;

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

/// Per-line state of the scanner.
#[derive(Default)]
pub(super) struct Line {
    /// First bytes of the line after indentation (decoded).
    pub(super) head: [u8; 16],
    pub(super) head_len: usize,
    /// Last non-space byte.
    pub(super) last: u8,
    /// Backticks seen on this line (odd/even pairs make inline spans).
    pub(super) backticks: u32,
    /// Code punctuation seen: `(`, `=`, `{`.
    pub(super) code_punct: bool,
    pub(super) started: bool,
}

impl Line {
    pub(super) fn push(&mut self, b: u8) {
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

    /// `push` for a letter or digit (no whitespace, backtick or punctuation checks needed):
    /// the reference scanner's step.
    #[cfg(test)]
    #[inline]
    pub(super) fn push_word_byte(&mut self, b: u8) {
        self.started = true;
        if let Some(slot) = self.head.get_mut(self.head_len) {
            *slot = b;
            self.head_len += 1;
        }
        self.last = b;
    }

    /// `push` for a run of word bytes (letters, digits, UTF-8): no whitespace, backtick or
    /// punctuation among them, so only the head and the last byte change.
    #[inline]
    pub(super) fn push_run(&mut self, run: &[u8]) {
        let Some(&last) = run.last() else { return };
        self.started = true;
        for (slot, &b) in self.head.iter_mut().skip(self.head_len).zip(run) {
            *slot = b;
            self.head_len += 1;
        }
        self.last = last;
    }

    /// The head holds all it keeps: later bytes of the line only change its tail.
    #[inline]
    pub(super) fn head_full(&self) -> bool {
        self.head_len == self.head.len()
    }

    pub(super) fn head(&self) -> &[u8] {
        self.head.get(..self.head_len).unwrap_or_default()
    }
}

/// Ends a line: fences, diffs, traces and code-like lines are judged on its head and tail.
pub(super) fn end_line(line: &mut Line, s: &mut TextStats, in_fence: &mut bool) {
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
