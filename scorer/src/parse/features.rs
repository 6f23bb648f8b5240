//! Conversation features for `auto`, gathered while the request is parsed.
//!
//! The parser hands every message text to [`Features::add_text`] as the raw JSON string
//! content (escapes still in place), right after validating it; the scanner reads those bytes
//! once, decoding only the escapes that matter for line structure. Nothing is allocated per
//! text. The scanner lives in `parse::scan`, its word table in `parse::keywords`.

pub use crate::parse::scan::{LONG_WORD_CHARS, TextStats};
use crate::parse::scan::{scan, scan_code};

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
    /// System and developer text: bytes and code signals only (`scan_code`).
    pub system: TextStats,
    /// All user text.
    pub user: TextStats,
    /// The last user message.
    pub last_user: TextStats,
    /// Assistant text in the history: bytes and code signals only (`scan_code`).
    pub assistant: TextStats,
    /// Bytes of tool results in the history.
    pub tool_result_bytes: u64,
    /// Tool results: read for code only (their prose says nothing about the ask; `scan_code`).
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
    pub(crate) opened: bool,
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
                let s = scan_code(raw.as_bytes(), &mut 0);
                self.tool.add(&s);
            }
            Role::System => {
                self.hash_bytes(raw.as_bytes());
                let s = scan_code(raw.as_bytes(), &mut 0);
                self.system.add(&s);
            }
            Role::Assistant => {
                self.hash_bytes(raw.as_bytes());
                let s = scan_code(raw.as_bytes(), &mut 0);
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

    /// Any code anywhere the client, the assistant or a tool wrote (not in the system prompt);
    /// code asked for in prose only in the last user message, the ask being routed: earlier
    /// turns and the documents pasted into them mention technology without asking for code.
    pub fn code(&self) -> CodeSummary {
        let mut all = self.user;
        all.add(&self.assistant);
        all.add(&self.tool);
        CodeSummary {
            blocks: all.fences,
            lines: all.fenced_lines + all.code_lines,
            diff: all.diff_lines >= 2,
            trace: all.trace_markers > 0,
            ask: self.last_user.asks_for_code(),
            error: self.last_user.error_msgs > 0,
            written: all.has_code(),
            named: self.last_user.names_code(),
            present: all.has_code() || self.last_user.asks_for_code(),
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
    /// The last user message pastes an error message (`TypeError: ...`).
    pub error: bool,
    /// Code is written in the conversation (fences, code lines, a diff, a trace), not only
    /// asked for in prose.
    pub written: bool,
    /// The last user message names a language or tool next to programming words.
    pub named: bool,
    /// Any code signal.
    pub present: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::keywords::{CODE, HOW, KEYWORDS, LANG, REASONING, STEP, TAGS, VERB, classify, tag};

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

    /// Code asked for in words is code; technology talked about is not.
    #[test]
    fn code_asked_for_in_prose() {
        for ask in [
            "Write a function to find the longest run of equal elements",
            "Implement binary search in Java",
            "How do I read a CSV file with pandas?",
            "Can you fix my React component? It renders twice.",
            "I get TypeError: cannot read properties of undefined (reading 'map')",
            "cargo build fails with error[E0382]: borrow of moved value",
            "Write a shell one-liner that finds the ten largest files",
            // Software artefacts named after the verb, and "implement" alone (shared/train).
            "Write unit tests for the chord progression generator",
            "Create a simple memory allocator with first-fit strategy",
            "Review this authentication middleware for security flaws",
            "Implement Bellman-Ford for shortest paths with negative edges",
        ] {
            let s = stats(ask);
            assert!(s.asks_for_code(), "{ask}: {s:?}");
        }
        for talk in [
            "How does an API gateway work?",
            "What does HTTP stand for?",
            "Compare Ansible and Terraform for a small team",
            "Write a poem about recursion in the style of Shakespeare",
            "Explain how Kubernetes schedules pods",
            "Fix the leaking tap. Python is my favourite snake.",
            "The terror: nobody saw it coming, with one exception: the cat.",
            "Write a test on fractions for my pupils",
        ] {
            let s = stats(talk);
            assert!(!s.asks_for_code(), "{talk}: {s:?}");
        }
        // The verb reaches eight words, within its sentence.
        assert!(stats("Write unit tests for the new user registration function").asks_for_code());
        assert!(!stats("Write a note to the team lead and the manager of the new library").asks_for_code());
    }

    #[test]
    fn one_block_head_is_code_and_tests_count_as_code_lines() {
        assert_eq!(stats("def solve(s):\n    \"\"\"Reverse the case.\"\"\"").block_heads, 1);
        assert!(stats("def solve(s):\n    return s").has_code());
        assert!(stats("class Stack(list):").has_code());
        // Prose that opens with a capital and a colon is not a declaration.
        assert!(!stats("Note (see above):\nFunction (math):").has_code());
        let tests = stats("assert f(1) == 2\nassert f(2) == 3\n>>> f(3)\n");
        assert_eq!(tests.code_lines, 3, "{tests:?}");
    }

    #[test]
    fn prose_asks_count_in_the_last_user_message_only() {
        let mut f = Features::new();
        for (role, text) in
            [(Role::User, "Write a Python script"), (Role::Assistant, "ok"), (Role::User, "thanks")]
        {
            f.begin_message(role);
            f.add_text(role, text);
            f.end_message(role, 0);
        }
        assert!(!f.code().present, "{:?}", f.code());
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
        assert_eq!(classify(b"debug"), REASONING | CODE | VERB);
        assert_eq!(classify(b"python"), LANG);
        assert_eq!(classify(b"table"), 0);
        // Tag words carry their tag and no class; keywords no tag.
        for (k, t) in TAGS {
            assert_eq!((classify(k), tag(k)), (0, t), "{}", String::from_utf8_lossy(k));
        }
        assert_eq!((tag(b"step"), tag(b"how"), tag(b"python"), tag(b"steps")), (STEP, HOW, 0, 0));
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
        // System text is read for its size and code only: its prose is not the ask.
        assert_eq!((f.system.reasoning, f.system.bytes), (0, 36));
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
