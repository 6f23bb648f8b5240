//! Conversation features for `auto`, gathered while the request is parsed.
//!
//! The parser hands every message text to [`Features::add_text`] as the raw JSON string
//! content (escapes still in place), right after validating it; the scanner reads those bytes
//! once, decoding only the escapes that matter for line structure. Nothing is allocated per
//! text.

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
}

impl TextStats {
    /// Any code signal at all.
    pub fn has_code(&self) -> bool {
        // Inline code (`x`) is counted but not a code signal alone: prose quotes names in
        // backticks often enough that it cost accuracy on the calibration data.
        self.fences > 0 || self.code_lines >= 3 || self.diff_lines >= 2 || self.trace_markers > 0
    }

    /// Code asked for in prose: a language or tool named next to programming words.
    pub fn asks_for_code(&self) -> bool {
        self.lang_words > 0 && self.code_words > 0
    }

    fn add(&mut self, o: &TextStats) {
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
    }
}

/// Message roles as the features see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `system` or `developer`.
    System,
    /// `user`.
    User,
    /// `assistant`.
    Assistant,
    /// `tool` or `function` results.
    Tool,
}

impl Role {
    /// Maps a validated role name.
    pub fn from_name(name: &str) -> Role {
        match name {
            "system" | "developer" => Role::System,
            "assistant" => Role::Assistant,
            "tool" | "function" => Role::Tool,
            _ => Role::User,
        }
    }
}

/// Everything `auto` knows about a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// System and developer text.
    pub system: TextStats,
    /// All user text.
    pub user: TextStats,
    /// The last user message.
    pub last_user: TextStats,
    /// Assistant text in the history.
    pub assistant: TextStats,
    /// Bytes of tool results in the history.
    pub tool_result_bytes: u64,
    /// Tool results: read for code only (their prose says nothing about the ask).
    pub tool: TextStats,
    /// Messages.
    pub messages: u32,
    /// User turns.
    pub user_turns: u32,
    /// Assistant turns.
    pub assistant_turns: u32,
    /// Tool calls made by the assistant in the history.
    pub tool_calls: u32,
    /// Tool results in the history.
    pub tool_results: u32,
    /// Tools declared in `tools`.
    pub tools_declared: u32,
    /// `tool_choice` set to something other than `none`/`auto`.
    pub tool_choice_forced: bool,
    /// `response_format` asks for a JSON schema.
    pub json_schema: bool,
    /// Image parts.
    pub images: u32,
    /// Reasoning parameters (`reasoning_effort`, `reasoning`) were sent.
    pub reasoning_param: bool,
    /// Harness boilerplate blocks (`<system-reminder>`...) skipped in user text.
    pub harness_blocks: u32,
    /// FNV-1a hash of the conversation's opening: system, user and assistant texts up to the
    /// end of the first assistant message (what tells one conversation from another that
    /// starts with the same prompt).
    pub start_hash: u64,
    /// The first assistant message has ended: the opening is hashed.
    opened: bool,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a: `hash` continued over `bytes`.
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

impl Features {
    /// A fresh accumulator.
    pub fn new() -> Self {
        Features { start_hash: FNV_OFFSET, ..Features::default() }
    }

    /// Counts one message (call once per message, after its texts).
    pub fn end_message(&mut self, role: Role, tool_calls: u32) {
        self.messages += 1;
        match role {
            Role::User => self.user_turns += 1,
            Role::Assistant => self.assistant_turns += 1,
            Role::Tool => self.tool_results += 1,
            Role::System => {}
        }
        self.tool_calls += tool_calls;
        if role != Role::Tool {
            // Separate the start hash by message and role so ("ab","c") and ("a","bc") differ,
            // and a system "x" from a user "x".
            self.hash_bytes(&[0xff, role as u8]);
        }
        if role == Role::Assistant {
            self.opened = true;
        }
    }

    /// Starts a message: the last-user stats reset when a new user message begins.
    pub fn begin_message(&mut self, role: Role) {
        if role == Role::User {
            self.last_user = TextStats::default();
        }
    }

    fn hash_bytes(&mut self, bytes: &[u8]) {
        if !self.opened {
            self.start_hash = fnv(self.start_hash, bytes);
        }
    }

    /// Scans one text of a message of `role`; `raw` is the JSON string content between quotes.
    pub fn add_text(&mut self, role: Role, raw: &str) {
        match role {
            Role::Tool => {
                self.tool_result_bytes += raw.len() as u64;
                let s = scan(raw.as_bytes(), &mut 0);
                self.tool.add(&s);
            }
            Role::System => {
                self.hash_bytes(raw.as_bytes());
                let s = scan(raw.as_bytes(), &mut 0);
                self.system.add(&s);
            }
            Role::Assistant => {
                self.hash_bytes(raw.as_bytes());
                let s = scan(raw.as_bytes(), &mut 0);
                self.assistant.add(&s);
            }
            Role::User => {
                self.hash_bytes(raw.as_bytes());
                let mut harness = 0;
                let s = scan(raw.as_bytes(), &mut harness);
                self.harness_blocks += harness;
                self.user.add(&s);
                self.last_user.add(&s);
            }
        }
    }

    /// Any code anywhere the client, the assistant or a tool wrote (not in the system prompt).
    pub fn code(&self) -> CodeSummary {
        let mut all = self.user;
        all.add(&self.assistant);
        all.add(&self.tool);
        CodeSummary {
            blocks: all.fences,
            lines: all.fenced_lines + all.code_lines,
            diff: all.diff_lines >= 2,
            trace: all.trace_markers > 0,
            ask: self.user.asks_for_code(),
            present: all.has_code() || self.user.asks_for_code(),
        }
    }
}

/// Code across the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSummary {
    /// Fenced blocks.
    pub blocks: u32,
    /// Code lines, fenced or not.
    pub lines: u32,
    /// A diff is present.
    pub diff: bool,
    /// A stack trace or crash is present.
    pub trace: bool,
    /// The user asks for code in prose.
    pub ask: bool,
    /// Any code signal.
    pub present: bool,
}

/// Number of entries in [`KEYWORDS`].
const KEYWORD_COUNT: usize = 112;

/// Word classes, as bit flags in [`KEYWORDS`].
const REASONING: u8 = 1;
const SMALL_TALK: u8 = 2;
const TRACE: u8 = 4;
const LANG: u8 = 8;
const CODE: u8 = 16;

/// Whole words (lower-case ASCII) the scanner recognises, sorted (to keep them unique):
/// reasoning requests (prove, derive, analyse, trade-off...), small talk, crash words,
/// programming languages and tools, and programming nouns and verbs.
const KEYWORDS: [(&[u8], u8); KEYWORD_COUNT] = [
    (b"algorithm", REASONING),
    (b"analyse", REASONING),
    (b"analysis", REASONING),
    (b"analyze", REASONING),
    (b"api", LANG),
    (b"architect", REASONING),
    (b"architecture", REASONING),
    (b"array", CODE),
    (b"bash", LANG),
    (b"bug", CODE),
    (b"bye", SMALL_TALK),
    (b"cheers", SMALL_TALK),
    (b"class", CODE),
    (b"code", CODE),
    (b"compare", REASONING),
    (b"compile", CODE),
    (b"compiler", CODE),
    (b"complexity", REASONING),
    (b"concurrency", REASONING),
    (b"contrast", REASONING),
    (b"counterexample", REASONING),
    (b"cpp", LANG),
    (b"critique", REASONING),
    (b"css", LANG),
    (b"debug", REASONING | CODE),
    (b"deduce", REASONING),
    (b"derivation", REASONING),
    (b"derivative", REASONING),
    (b"derive", REASONING),
    (b"django", LANG),
    (b"docker", LANG),
    (b"dockerfile", LANG),
    (b"eigenvalue", REASONING),
    (b"endpoint", CODE),
    (b"equation", REASONING),
    (b"error", CODE),
    (b"evaluate", REASONING),
    (b"excel", LANG),
    (b"function", CODE),
    (b"functions", CODE),
    (b"git", LANG),
    (b"golang", LANG),
    (b"haskell", LANG),
    (b"hello", SMALL_TALK),
    (b"hey", SMALL_TALK),
    (b"hi", SMALL_TALK),
    (b"html", LANG),
    (b"hypothesis", REASONING),
    (b"implement", REASONING | CODE),
    (b"induction", REASONING),
    (b"infer", REASONING),
    (b"integral", REASONING),
    (b"invariant", REASONING),
    (b"java", LANG),
    (b"javascript", LANG),
    (b"json", LANG),
    (b"justify", REASONING),
    (b"kotlin", LANG),
    (b"kubernetes", LANG),
    (b"lemma", REASONING),
    (b"library", CODE),
    (b"linux", LANG),
    (b"loop", CODE),
    (b"matlab", LANG),
    (b"method", CODE),
    (b"module", CODE),
    (b"morning", SMALL_TALK),
    (b"node", LANG),
    (b"nodejs", LANG),
    (b"numpy", LANG),
    (b"optimal", REASONING),
    (b"optimise", REASONING),
    (b"optimize", REASONING),
    (b"pandas", LANG),
    (b"panicked", TRACE),
    (b"php", LANG),
    (b"powershell", LANG),
    (b"probability", REASONING),
    (b"program", CODE),
    (b"proof", REASONING),
    (b"prove", REASONING),
    (b"python", LANG),
    (b"query", CODE),
    (b"react", LANG),
    (b"refactor", REASONING | CODE),
    (b"regex", LANG),
    (b"rigorous", REASONING),
    (b"rigorously", REASONING),
    (b"ruby", LANG),
    (b"rust", LANG),
    (b"scala", LANG),
    (b"script", CODE),
    (b"segfault", TRACE),
    (b"shell", LANG),
    (b"simulate", REASONING),
    (b"snippet", CODE),
    (b"sql", LANG),
    (b"stacktrace", TRACE),
    (b"strategy", REASONING),
    (b"swift", LANG),
    (b"syntax", CODE),
    (b"thank", SMALL_TALK),
    (b"thanks", SMALL_TALK),
    (b"theorem", REASONING),
    (b"thx", SMALL_TALK),
    (b"traceback", TRACE),
    (b"tradeoff", REASONING),
    (b"tradeoffs", REASONING),
    (b"typescript", LANG),
    (b"variable", CODE),
    (b"vba", LANG),
    (b"yaml", LANG),
];

/// Slots of the keyword hash table (a power of two, about 5x the keywords).
const SLOTS: usize = 512;

// Indexing in const evaluation fails the build, never a running filter.
#[allow(clippy::indexing_slicing)]
const fn word_hash(w: &[u8]) -> usize {
    let mut h: u32 = 0;
    let mut i = 0;
    while i < w.len() {
        h = h.wrapping_mul(31).wrapping_add(w[i] as u32);
        i += 1;
    }
    (h ^ (h >> 9)) as usize & (SLOTS - 1)
}

// Indices fit the table's u8 entries and the table stays sparse.
const _: () = assert!(KEYWORD_COUNT < 255 && KEYWORD_COUNT * 4 < SLOTS);

/// Open-addressing table built at compile time: slot -> index + 1 into [`KEYWORDS`].
#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const TABLE: [u8; SLOTS] = {
    let mut t = [0u8; SLOTS];
    let mut k = 0;
    while k < KEYWORD_COUNT {
        let mut slot = word_hash(KEYWORDS[k].0);
        while t[slot] != 0 {
            slot = (slot + 1) & (SLOTS - 1);
        }
        t[slot] = (k + 1) as u8;
        k += 1;
    }
    t
};

/// The classes of a lower-cased word (0 for most words).
fn classify(word: &[u8]) -> u8 {
    if word.len() < 2 || word.len() > 14 {
        return 0;
    }
    let mut slot = word_hash(word);
    loop {
        let entry = usize::from(TABLE.get(slot).copied().unwrap_or(0));
        let Some((key, class)) = entry.checked_sub(1).and_then(|i| KEYWORDS.get(i)) else {
            return 0;
        };
        if *key == word {
            return *class;
        }
        slot = (slot + 1) & (SLOTS - 1);
    }
}

/// Line prefixes that mark code outside fences, when the line also has code punctuation.
const CODE_PREFIXES: [&[u8]; 14] = [
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
fn scan(raw: &[u8], harness: &mut u32) -> TextStats {
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

/// The word being read, and tags of the two before it (for "step by step").
#[derive(Default)]
struct Word {
    buf: [u8; 24],
    len: usize,
    /// Characters (UTF-8 continuation bytes not counted).
    chars: u32,
    /// Longer than `buf`: counted, never matched.
    long: bool,
    prev: (u8, u8),
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

    /// Counts the word (outside fences) and starts the next one.
    fn finish(&mut self, s: &mut TextStats, in_fence: bool) {
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
        // 1 = "step", 2 = "by", 0 = other.
        let tag = match word {
            b"step" => 1,
            b"by" => 2,
            _ => 0,
        };
        if !self.long {
            let class = classify(word);
            if class & REASONING != 0 || (tag == 1 && self.prev == (2, 1)) {
                s.reasoning += 1;
            }
            s.small_talk += u32::from(class & SMALL_TALK != 0);
            s.trace_markers += u32::from(class & TRACE != 0);
            s.lang_words += u32::from(class & LANG != 0);
            s.code_words += u32::from(class & CODE != 0);
        }
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans a Rust string as the parser would hand it over (JSON-escaped).
    fn stats(text: &str) -> TextStats {
        let json = serde_json::to_string(text).unwrap();
        scan(&json.as_bytes()[1..json.len() - 1], &mut 0)
    }

    #[test]
    fn fenced_code_and_languages() {
        let s = stats("Fix this:\n```rust\nfn main() {\n    let x = 1;\n}\n```\nand this\n```\nplain\n```\n");
        assert_eq!((s.fences, s.fence_langs, s.fenced_lines), (2, 1, 4));
        // Words inside fences do not count as prose (the fence's language word does).
        assert_eq!(s.words, 5);
        assert!(s.has_code());
    }

    #[test]
    fn unfenced_code_diffs_and_traces() {
        // Declarations need code punctuation, statements a `;` ending after `(` or `=`.
        let code = stats("def f(x):\n    return x\nimport os\nint y = 2;\nif (a) {\n}\n");
        assert_eq!(code.code_lines, 4);
        let prose = stats("Marketing: we said {disfmarker}\nimport the data from the file\nlet me know;\n");
        assert_eq!(prose.code_lines, 0, "{prose:?}");
        let diff = stats("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
        assert_eq!(diff.diff_lines, 4);
        let trace = stats("Traceback:\n  File \"x.py\", line 3, in f\n    at foo (bar.js:1:2)\n");
        assert_eq!(trace.trace_markers, 3);
        assert!(!stats("Just a normal sentence. Another one.").has_code());
    }

    #[test]
    fn long_words_count_characters_of_vocabulary() {
        // consequences, equilibrium, chocolate (9 letters); not 123456789 nor words in fences.
        let s = stats("The consequences of equilibrium for chocolate 123456789\n```\nconsequences\n```");
        assert_eq!(s.long_words, 3, "{s:?}");
        // Characters, not bytes: 8 letters in UTF-8 or as escapes are short, 9 are long.
        assert_eq!(stats("Käsekuch Übersetzung").long_words, 1);
        assert_eq!(scan(br"K\u00e4sekuch \u00dcbersetzung", &mut 0).long_words, 1);
        // Past the word buffer: an identifier or a hash, not vocabulary.
        assert_eq!(stats("d41d8cd98f00b204e9800998ecf8427e").long_words, 0);
        assert_eq!(stats("antidisestablishmentarianism").long_words, 0);
    }

    #[test]
    fn reasoning_math_and_small_talk() {
        let s = stats("Prove the theorem step by step and analyse the trade-off.");
        // prove, theorem, step by step, analyse, trade-off
        assert_eq!(s.reasoning, 5, "{s:?}");
        let m = stats("Solve $$\\int_0^1 x^2 dx$$ where y = 3");
        assert!(m.math >= 4, "{m:?}");
        let g = stats("Hi! Thanks a lot");
        assert_eq!(g.small_talk, 2);
        let ask = stats("Write a Python function that parses dates");
        assert!(ask.asks_for_code() && !stats("I love python snakes").asks_for_code());
        assert_eq!(stats("a `b` and `c`").inline_code, 2);
    }

    #[test]
    fn keywords_are_sorted_unique_and_lower_case() {
        assert!(KEYWORDS.windows(2).all(|w| w[0].0 < w[1].0));
        for (k, class) in KEYWORDS {
            assert_eq!(classify(k), class, "{}", String::from_utf8_lossy(k));
        }
        assert!(KEYWORDS.iter().all(|(k, _)| k.iter().all(|b| !b.is_ascii_uppercase())));
        assert!(KEYWORDS.iter().all(|(k, _)| (2..=14).contains(&k.len())));
        assert_eq!(classify(b"prove"), REASONING);
        assert_eq!(classify(b"debug"), REASONING | CODE);
        assert_eq!(classify(b"python"), LANG);
        assert_eq!(classify(b"table"), 0);
    }

    #[test]
    fn harness_blocks_are_skipped() {
        let mut f = Features::new();
        f.begin_message(Role::User);
        let text = "<system-reminder>prove derive analyse</system-reminder>hello";
        let json = serde_json::to_string(text).unwrap();
        f.add_text(Role::User, &json[1..json.len() - 1]);
        f.end_message(Role::User, 0);
        assert_eq!((f.user.reasoning, f.harness_blocks, f.user.small_talk), (0, 1, 1));
    }

    #[test]
    fn system_prompt_markers_do_not_count_as_the_ask() {
        let mut f = Features::new();
        f.add_text(Role::System, "Always prove and derive and analyse.");
        f.end_message(Role::System, 0);
        assert_eq!(f.user.reasoning, 0);
        assert_eq!(f.system.reasoning, 3);
    }

    #[test]
    fn start_hash_covers_the_opening_through_the_first_answer() {
        let conv = |msgs: &[(Role, &str)]| {
            let mut f = Features::new();
            for (role, text) in msgs {
                f.begin_message(*role);
                f.add_text(*role, text);
                f.end_message(*role, 0);
            }
            f.start_hash
        };
        let a = conv(&[(Role::System, "s"), (Role::User, "q"), (Role::Assistant, "a")]);
        let b = conv(&[(Role::System, "s"), (Role::User, "q"), (Role::Assistant, "a"), (Role::User, "next")]);
        assert_eq!(a, b, "later turns do not move the key");
        let first_turn = conv(&[(Role::System, "s"), (Role::User, "q")]);
        let other_answer = conv(&[(Role::System, "s"), (Role::User, "q"), (Role::Assistant, "b")]);
        let other_ask = conv(&[(Role::System, "s"), (Role::User, "other"), (Role::Assistant, "a")]);
        let roles = conv(&[(Role::User, "s"), (Role::User, "q"), (Role::Assistant, "a")]);
        for other in [first_turn, other_answer, other_ask, roles] {
            assert_ne!(a, other);
        }
    }

    #[test]
    fn last_user_is_the_last_user_message() {
        let mut f = Features::new();
        for (role, text) in [(Role::User, "prove it"), (Role::Assistant, "ok"), (Role::User, "hi")] {
            f.begin_message(role);
            f.add_text(role, text);
            f.end_message(role, 0);
        }
        assert_eq!((f.last_user.reasoning, f.last_user.small_talk), (0, 1));
        assert_eq!(f.user.reasoning, 1);
    }
}
