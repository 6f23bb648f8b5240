//! Translating only what is new in an agent's conversation.
//!
//! An agent resends its whole conversation every turn, and turn N+1 starts with turn N's
//! messages byte for byte. The turns a translation writes for messages `..k` do not depend
//! on what follows message `k` when message `k` starts a turn of its own: only the last turn
//! can still grow (same-role messages merge, tool results join the next user turn), and only
//! the last turn is trimmed (an assistant prefill). So a translation remembers, in its
//! worker's [`Translations`], the bytes of every turn but the last, the system blocks of the messages
//! before it and the digests of those messages; a later body whose first `k` messages have
//! the same digests is translated from message `k` on, its turns written after the
//! remembered ones.
//!
//! What the new messages do is checked, not assumed: they are added after a stand-in of the
//! remembered last turn (its role, no blocks), and a message that would merge into it, or new
//! messages that leave no turn of their own, send the body through the whole translation.
//! The bytes are the whole translation's (a property test splits random conversations at
//! random turns). The memo is per worker (a conversation's turns stay on one connection, so
//! on one worker, while it lasts), bounded in entries and bytes, and keyed by digests seeded
//! per worker, so another caller cannot aim a collision at a conversation it has seen.
//! Messages are digested in the translator's input, with the long texts stood in for
//! (`stand_in`), which is what keeps the remembered turns small.

use std::cell::{Cell, RefCell};

use serde_json::Value;

use super::content::Block;
use super::turns::{self, Built, Turn, add, not_a_list, system_value, trim_prefill};
use crate::error::ApiError;
use crate::parse::prefix::{self, Digest};
use crate::protocol::raw::{Elements, Json, members};

/// Conversations a worker remembers.
const ENTRIES: usize = 16;
/// Bytes a worker's memo holds at most (its turns and system texts).
const BYTES: usize = 4 << 20;

/// A worker's translated conversation prefixes (see the module's documentation).
#[derive(Debug)]
pub struct Translations {
    seed: Digest,
    entries: Vec<Entry>,
    clock: u64,
    hits: u64,
}

#[derive(Debug)]
struct Entry {
    /// Digest of messages `..messages`.
    digest: Digest,
    messages: usize,
    prefix: Prefix,
    /// When it was last written (the memo's clock), for eviction.
    used: u64,
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
    /// Whether the last assistant turn among them called tools (`None`: none is an assistant's).
    assistant_tools: Option<bool>,
}

impl Prefix {
    fn bytes(&self) -> usize {
        self.turns.len() + self.system.iter().filter_map(Block::text).map(str::len).sum::<usize>()
    }
}

impl Translations {
    /// An empty memo whose digests start from `seed` (the glue's clock at start: unknown
    /// to callers).
    pub fn new(seed: u64) -> Translations {
        let seed = Digest(prefix::EMPTY.0 ^ seed, prefix::EMPTY.1 ^ seed.rotate_left(29));
        Translations { seed, entries: Vec::new(), clock: 0, hits: 0 }
    }

    /// Conversations remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Translations that resumed from a remembered prefix.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The digest of messages `..=k` for every k.
    fn chain(&self, messages: &[Json<'_>]) -> Vec<Digest> {
        let mut at = self.seed;
        messages
            .iter()
            .map(|m| {
                at = prefix::digest(at, m.get().as_bytes());
                at
            })
            .collect()
    }

    /// The longest remembered prefix of the messages digested in `chain`, taken out (the
    /// translation that uses it remembers a longer one).
    fn take(&mut self, chain: &[Digest]) -> Option<(usize, Prefix)> {
        let found = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.messages > 0 && chain.get(e.messages - 1) == Some(&e.digest))
            .max_by_key(|(_, e)| e.messages)
            .map(|(i, _)| i)?;
        let e = self.entries.swap_remove(found);
        Some((e.messages, e.prefix))
    }

    fn put(&mut self, digest: Digest, messages: usize, prefix: Prefix) {
        let size = prefix.bytes();
        if size > BYTES / 4 {
            return;
        }
        self.entries.retain(|e| e.digest != digest);
        let mut held: usize = self.entries.iter().map(|e| e.prefix.bytes()).sum();
        while self.entries.len() >= ENTRIES || held + size > BYTES {
            let Some(oldest) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used).map(|(i, _)| i)
            else {
                break;
            };
            held -= self.entries.swap_remove(oldest).prefix.bytes();
        }
        self.clock += 1;
        self.entries.push(Entry { digest, messages, prefix, used: self.clock });
    }
}

/// A translated conversation: the system prompt, the turns to write, and the remembered
/// turns written before them.
pub(super) struct Conversation<'a> {
    pub(super) system: Option<Value>,
    pub(super) turns: Vec<Turn<'a>>,
    prefix: Option<Prefix>,
    /// For the memo: the messages' digests and the system blocks of the messages before the
    /// last turn.
    memory: Option<(Vec<Digest>, Vec<Block<'static>>)>,
    /// Where the turns but the last were written in the body.
    kept: Cell<(usize, usize)>,
}

impl<'a> Conversation<'a> {
    /// `messages` translated whole, nothing remembered.
    pub(super) fn whole(messages: Elements<'a>) -> Result<Conversation<'a>, ApiError> {
        let (system, turns) = turns::conversation(messages)?;
        Ok(Conversation { system, turns, prefix: None, memory: None, kept: Cell::default() })
    }

    /// `messages` (each message's raw JSON) translated from the longest prefix `memo`
    /// remembers, or whole.
    pub(super) fn resumed(
        messages: Option<Vec<Json<'a>>>,
        memo: &RefCell<Translations>,
    ) -> Result<Conversation<'a>, ApiError> {
        let Some(list) = messages else { return Err(not_a_list()) };
        let chain = memo.borrow().chain(&list);
        let found = memo.borrow_mut().take(&chain);
        if let Some((k, prefix)) = found {
            let mut built = Built {
                system: Vec::new(),
                turns: vec![Turn { role: prefix.last_role, blocks: Vec::new(), from: k }],
            };
            for (i, m) in list.iter().enumerate().skip(k) {
                add(&mut built, i, members(*m)?)?;
            }
            // The remembered last turn stood in for: nothing may have joined it.
            let joined = built.turns.first().is_some_and(|t| !t.blocks.is_empty());
            built.turns.remove(0);
            trim_prefill(&mut built.turns);
            if !joined && !built.turns.is_empty() {
                memo.borrow_mut().hits += 1;
                return Self::finish(built, Some(prefix), chain);
            }
        }
        let mut built = Built::default();
        for (i, m) in list.iter().enumerate() {
            add(&mut built, i, members(*m)?)?;
        }
        turns::first_is_user(&built.turns)?;
        trim_prefill(&mut built.turns);
        Self::finish(built, None, chain)
    }

    fn finish(
        built: Built<'a>,
        prefix: Option<Prefix>,
        chain: Vec<Digest>,
    ) -> Result<Conversation<'a>, ApiError> {
        let Built { system, turns } = built;
        let last = turns.last().map_or(0, |t| t.from);
        let mut kept: Vec<Block<'static>> = prefix.iter().flat_map(|p| p.system.iter().cloned()).collect();
        kept.extend(system.iter().filter(|(i, _)| *i < last).map(|(_, b)| b.clone().owned()));
        let all = prefix
            .iter()
            .flat_map(|p| p.system.iter().cloned())
            .chain(system.into_iter().map(|(_, b)| b))
            .collect();
        Ok(Conversation {
            system: system_value(all)?,
            turns,
            prefix,
            memory: Some((chain, kept)),
            kept: Cell::default(),
        })
    }

    /// Whether the last assistant turn called tools.
    pub(super) fn open_tool_turn(&self) -> bool {
        match self.turns.iter().rev().find(|t| t.role == "assistant") {
            Some(t) => t.calls_tools(),
            None => self.prefix.as_ref().and_then(|p| p.assistant_tools).unwrap_or(false),
        }
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

    /// Remembers, after [`write`](Self::write) wrote `body`, the turns but the last.
    pub(super) fn remember(self, body: &[u8], memo: &RefCell<Translations>) {
        let Conversation { turns, prefix, memory, kept, .. } = self;
        let (Some((chain, system)), Some(last)) = (memory, turns.last()) else { return };
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
            Some(t) => Some(t.calls_tools()),
            None => prefix.as_ref().and_then(|p| p.assistant_tools),
        };
        let (Some(digest), Some(bytes)) =
            (last.from.checked_sub(1).and_then(|i| chain.get(i)), body.get(start..end))
        else {
            return;
        };
        let prefix = Prefix { system, turns: bytes.to_vec(), last_role, assistant_tools };
        memo.borrow_mut().put(*digest, last.from, prefix);
    }
}
