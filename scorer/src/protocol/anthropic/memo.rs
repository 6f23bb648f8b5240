//! Translating only what is new in an agent's conversation.
//!
//! An agent resends its whole conversation every turn, and turn N+1 starts with turn N's
//! messages byte for byte. The turns a translation writes for messages `..k` do not depend
//! on what follows message `k` when message `k` starts a turn of its own: only the last turn
//! can still grow (same-role messages merge, tool results join the next user turn), and only
//! the last turn is trimmed (an assistant prefill). So a translation remembers, in its
//! worker's [`Translations`], the bytes of every turn but the last, the system blocks of the
//! messages before it and those messages' own bytes (in the translator's input, long texts
//! stood in for by `stand_in`, which keeps them small); a later body whose `messages` start
//! with those very bytes is translated from message `k` on, its turns written after the
//! remembered ones. The bytes are compared, not a digest of them: a digest that is not a keyed
//! cryptographic function can be made to collide by the caller who sends the bodies.
//!
//! What the new messages do is checked, not assumed: they are added after a stand-in of the
//! remembered last turn (its role, no blocks), and a message that would merge into it, or new
//! messages that leave no turn of their own, send the body through the whole translation.
//! The bytes are the whole translation's (a property test splits random conversations at
//! random turns). The memo is per worker (a conversation's turns stay on one connection, so
//! on one worker, while it lasts), bounded in entries and bytes.

use std::cell::{Cell, RefCell};

use serde_json::Value;

use super::content::Block;
use super::turns::{self, Built, Turn, add, not_a_list, system_value, trim_prefill};
use crate::error::ApiError;
use crate::parse::memo::{Run, Shelf};
use crate::protocol::raw::{Elements, RawMessages, members};

/// A worker's translated conversation prefixes (see the module's documentation): the bytes
/// of messages `..k` in the translator's input (from the array's first byte after its `[`),
/// with `k` and what their translation adds.
#[derive(Debug)]
pub struct Translations {
    shelf: Shelf<(usize, Prefix)>,
    hits: u64,
}

/// What the translation of messages `..k` adds to the body when message `k` starts a turn.
#[derive(Debug)]
struct Prefix {
    /// The system blocks of messages `..k`.
    system: Vec<Block<'static>>,
    /// The turns of messages `..k` as serde_json writes them in an array, comma-joined.
    turns: Vec<u8>,
    /// The role of the last of those turns.
    last_role: &'static str,
    /// Whether the last assistant turn among them called tools without Claude's signed
    /// thinking first (`None`: none is an assistant's).
    assistant_tools: Option<bool>,
    /// The model the turns were written for (Claude's signed thinking is bound to it).
    model: String,
    /// Whether any of them holds tool calls or results.
    tool_blocks: bool,
}

/// A remembered prefix taken out for a translation.
#[derive(Debug)]
pub(super) struct Taken {
    run: Run,
    messages: usize,
    prefix: Prefix,
}

impl Translations {
    /// An empty memo that keeps about `budget` bytes.
    pub fn new(budget: usize) -> Translations {
        Translations { shelf: Shelf::new(budget), hits: 0 }
    }

    /// Translations that resumed from a remembered prefix, and conversations remembered.
    pub fn counts(&self) -> (u64, usize) {
        (self.hits, self.shelf.len())
    }

    /// The longest remembered prefix of the messages whose array's elements start at `at` in
    /// `text`, taken out (the translation that uses it remembers a longer one): where it ends
    /// and how many messages it holds, the rest in `taken`; none when it was written for
    /// another model than `model` (it is dropped).
    pub(super) fn take(
        &mut self,
        text: &str,
        at: usize,
        model: &str,
        taken: &mut Option<Taken>,
    ) -> Option<(usize, usize)> {
        let (run, (messages, prefix)) = self.shelf.take(text.as_bytes().get(at..)?)?;
        // Written for another model: its turns may hold that model's signed thinking.
        if prefix.model != model {
            return None;
        }
        let out = (at + run.len(), messages);
        *taken = Some(Taken { run, messages, prefix });
        Some(out)
    }
}

/// A translated conversation: the system prompt, the turns to write, and the remembered
/// turns written before them.
pub(super) struct Conversation<'a> {
    pub(super) system: Option<Value>,
    pub(super) turns: Vec<Turn<'a>>,
    prefix: Option<Prefix>,
    /// For the memo: where the messages are in the translator's input, the remembered bytes
    /// of the first ones, and the system blocks of the messages before the last turn.
    memory: Option<Memory>,
    /// Where the turns but the last were written in the body.
    kept: Cell<(usize, usize)>,
}

struct Memory {
    at: usize,
    /// Messages the remembered prefix covered, and where each later one ends.
    skipped: usize,
    ends: Vec<usize>,
    run: Option<Run>,
    system: Vec<Block<'static>>,
    /// The model the turns are written for (see [`Conversation::bind_thinking`]).
    model: String,
}

impl<'a> Conversation<'a> {
    /// `messages` translated whole, nothing remembered.
    pub(super) fn whole(messages: Elements<'a>) -> Result<Conversation<'a>, ApiError> {
        let (system, turns) = turns::conversation(messages)?;
        Ok(Conversation { system, turns, prefix: None, memory: None, kept: Cell::default() })
    }

    /// `messages` (each message's raw JSON, but those of the remembered prefix `taken`)
    /// translated from that prefix, or whole: `all` reads every message again when the new
    /// ones do not fit after it.
    pub(super) fn resumed(
        messages: Option<RawMessages<'a>>,
        taken: Option<Taken>,
        memo: &RefCell<Translations>,
        all: impl FnOnce() -> Result<Option<RawMessages<'a>>, ApiError>,
    ) -> Result<Conversation<'a>, ApiError> {
        let Some(mut list) = messages else { return Err(not_a_list()) };
        if let Some(Taken { run, messages: k, prefix }) = taken {
            let mut built = Built { system: Vec::new(), turns: vec![Turn::new(prefix.last_role, k)] };
            for (j, m) in list.list.iter().enumerate() {
                add(&mut built, k + j, members(*m)?)?;
            }
            turns::finish(&mut built.turns);
            // The remembered last turn stood in for: nothing may have joined it.
            let joined = built.turns.first().is_some_and(|t| !t.blocks.is_empty());
            built.turns.remove(0);
            trim_prefill(&mut built.turns);
            if !joined && !built.turns.is_empty() {
                memo.borrow_mut().hits += 1;
                return Self::finish(built, Some((run, prefix)), list);
            }
            let Some(every) = all()? else { return Err(not_a_list()) };
            list = every;
        }
        let mut built = Built::default();
        for (i, m) in list.list.iter().enumerate() {
            add(&mut built, i, members(*m)?)?;
        }
        turns::finish(&mut built.turns);
        turns::first_is_user(&built.turns)?;
        trim_prefill(&mut built.turns);
        Self::finish(built, None, list)
    }

    fn finish(
        built: Built<'a>,
        prefix: Option<(Run, Prefix)>,
        list: RawMessages<'a>,
    ) -> Result<Conversation<'a>, ApiError> {
        let Built { system, turns } = built;
        let (run, prefix) = prefix.map_or((None, None), |(r, p)| (Some(r), Some(p)));
        let last = turns.last().map_or(0, |t| t.from);
        let mut kept: Vec<Block<'static>> = prefix.iter().flat_map(|p| p.system.iter().cloned()).collect();
        kept.extend(system.iter().filter(|(i, _)| *i < last).map(|(_, b)| b.clone().owned()));
        let all = prefix
            .iter()
            .flat_map(|p| p.system.iter().cloned())
            .chain(system.into_iter().map(|(_, b)| b))
            .collect();
        let model = String::new();
        let memory = Memory { at: list.at, skipped: list.skipped, ends: list.ends, run, system: kept, model };
        Ok(Conversation {
            system: system_value(all)?,
            turns,
            prefix,
            memory: Some(memory),
            kept: Cell::default(),
        })
    }

    /// Whether the last assistant turn called tools without Claude's signed thinking first
    /// ([`Turn::calls_tools_unsigned`]): the loop goes on without thinking.
    pub(super) fn open_tool_turn(&self) -> bool {
        match self.turns.iter().rev().find(|t| t.role == "assistant") {
            Some(t) => t.calls_tools_unsigned(),
            None => self.prefix.as_ref().and_then(|p| p.assistant_tools).unwrap_or(false),
        }
    }

    /// Claude's signed thinking bound to `model`, which the turns are written for
    /// ([`Turn::bind_thinking`]).
    pub(super) fn bind_thinking(&mut self, model: &str) {
        self.turns.iter_mut().for_each(|t| t.bind_thinking(model));
        if let Some(memory) = self.memory.as_mut() {
            memory.model = model.to_string();
        }
    }

    /// Whether the conversation holds tool calls or results, remembered turns included.
    pub(super) fn has_tool_blocks(&self) -> bool {
        self.prefix.as_ref().is_some_and(|p| p.tool_blocks) || self.turns.iter().any(Turn::has_tool_blocks)
    }

    /// Whether to ask Anthropic to cache the conversation up to its last block, the breakpoint
    /// moving as it grows (the top-level `cache_control`): `on` ([`Quirks::auto_cache`]), the
    /// client marked no breakpoint ([`super::content::marked`]), and the conversation is one an
    /// agent resends at once: it holds tool calls or results (remembered turns included, so a
    /// translation resumed from the memo decides as a whole one). A one-off request, or a
    /// few-shot prompt of assistant turns sent once, would pay the cache write, 1.25 times the
    /// input, for nothing.
    ///
    /// [`Quirks::auto_cache`]: crate::catalog::Quirks::auto_cache
    pub(super) fn auto_cached(&self, on: bool, body: &[u8]) -> bool {
        on && self.has_tool_blocks() && !super::content::marked(body)
    }

    /// Whether turns remembered from an earlier translation are written first.
    pub(super) fn resumed_from_prefix(&self) -> bool {
        self.prefix.is_some()
    }

    /// Tells the turns' tool calls and results as text, for a request that declares no tools
    /// (Messages refuses tool blocks without them: "Requests which include tool_use or
    /// tool_result blocks must define tools"). Not remembered: the next turn, which may
    /// declare tools again, would resume from text its whole translation writes as blocks.
    /// A conversation resumed from remembered turns is translated whole instead (the caller).
    pub(super) fn tell_tools(&mut self) {
        self.turns.iter_mut().for_each(Turn::tell_tools);
        self.memory = None;
    }

    /// Whether the conversation ends on an assistant turn.
    pub(super) fn prefill(&self) -> bool {
        self.turns.last().is_some_and(|t| t.role == "assistant")
    }

    /// The turns as a JSON array, the remembered ones first, as serde_json writes a list.
    pub(super) fn write(&self, w: &mut Vec<u8>) -> serde_json::Result<()> {
        w.push(b'[');
        let start = w.len();
        let mut first = true;
        if let Some(p) = &self.prefix {
            w.extend_from_slice(&p.turns);
            first = false;
        }
        for (j, t) in self.turns.iter().enumerate() {
            if j + 1 == self.turns.len() {
                self.kept.set((start, w.len()));
            }
            if !first {
                w.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut *w, t)?;
        }
        w.push(b']');
        Ok(())
    }

    /// Remembers, after [`write`](Self::write) wrote `body` from the translator's `input`,
    /// the turns but the last and the bytes of the messages they came from.
    pub(super) fn remember(self, input: &[u8], body: &[u8], memo: &RefCell<Translations>) {
        let Conversation { turns, prefix, memory, kept, .. } = self;
        let (Some(memory), Some(last)) = (memory, turns.last()) else { return };
        let (start, end) = kept.get();
        let before = turns.len() - 1;
        let last_role = match before.checked_sub(1).and_then(|j| turns.get(j)) {
            Some(t) => t.role,
            None => match &prefix {
                Some(p) => p.last_role,
                // One turn and nothing remembered: nothing to keep.
                None => return,
            },
        };
        let assistant_tools = match turns.iter().take(before).rev().find(|t| t.role == "assistant") {
            Some(t) => Some(t.calls_tools_unsigned()),
            None => prefix.as_ref().and_then(|p| p.assistant_tools),
        };
        let tool_blocks = prefix.as_ref().is_some_and(|p| p.tool_blocks)
            || turns.iter().take(before).any(Turn::has_tool_blocks);
        // The messages before the last turn: those remembered, and the new ones up to it.
        let Memory { at, skipped, ends, run, system, model } = memory;
        let upto = match last.from.checked_sub(skipped + 1) {
            Some(j) => ends.get(j).copied(),
            None => run.as_ref().map(|r| at + r.len()),
        };
        let (Some(bytes), Some(messages)) = (upto.and_then(|u| input.get(at..u)), body.get(start..end))
        else {
            return;
        };
        // Too large to keep: not copied at all.
        if !memo.borrow().shelf.fits_run(bytes.len(), messages.len()) {
            return;
        }
        let run = match run {
            Some(r) => r.grown_bytes(bytes),
            None => Run::of_bytes(bytes),
        };
        let Some(run) = run else { return };
        let size = messages.len() + serde_json::to_vec(&system).map_or(0, |v| v.len());
        let prefix =
            Prefix { system, turns: messages.to_vec(), last_role, assistant_tools, model, tool_blocks };
        memo.borrow_mut().shelf.put(run, (last.from, prefix), size);
    }
}
