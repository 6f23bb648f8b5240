//! Parsing only what is new in an agent's conversation.
//!
//! Turn N+1 of an agent loop starts its `messages` with turn N's messages byte for byte, and
//! JSON read from an array's `[` on does not depend on what comes before it: the same bytes
//! are the same elements, as valid as they were. So a parse remembers, in its worker's
//! [`Parses`], the bytes of its messages and what they gave the request (each message's span,
//! its texts for the scan, the long texts a translation stands in for, the counts, the scan's
//! digests) as offsets from the array's start; a later body whose array starts with those
//! very bytes takes them and parses from there on.
//!
//! The bytes are compared, not a digest of them: a digest that is not a keyed cryptographic
//! function can be made to collide by a caller who sends the bodies, and a collision here
//! would pass bytes the parser never read. The comparison starts with the last bytes, so a
//! worker serving many conversations reads one prefix in full, not each. Bounded in entries
//! and bytes; what follows the prefix is parsed and validated as ever.

use crate::parse::chat::ChatRequest;
use crate::parse::features::Role;
use crate::parse::layout::Span;
use crate::parse::prefix::{self, Digest};

/// Conversations a worker remembers.
const ENTRIES: usize = 16;

/// A run of bytes a worker remembers (an array's first elements), kept whole and compared
/// with a later body's, its last bytes first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run(Vec<u8>);

/// Bytes at the end of a [`Run`] compared first.
const TAIL: usize = 64;

impl Run {
    pub(crate) fn new(bytes: &[u8]) -> Run {
        Run(bytes.to_vec())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// What it holds (its capacity), which the budgets count.
    pub(crate) fn held(&self) -> usize {
        self.0.capacity()
    }

    /// Whether `bytes` start with the run.
    pub(crate) fn starts(&self, bytes: &[u8]) -> bool {
        let Some(head) = bytes.get(..self.0.len()) else { return false };
        let from = self.0.len().saturating_sub(TAIL);
        same(head.get(from..).unwrap_or_default(), self.0.get(from..).unwrap_or_default())
            && same(head, &self.0)
    }

    /// The run grown to `bytes` (which start with it), holding no more than them: a vector
    /// grown by doubling would hold up to twice what the budget counts.
    pub(crate) fn grown(mut self, bytes: &[u8]) -> Run {
        let new = bytes.get(self.0.len()..).unwrap_or_default();
        self.0.reserve_exact(new.len());
        self.0.extend_from_slice(new);
        self
    }
}

/// Whether `a` and `b` (of one length) are the same bytes, compared eight at a time: in the
/// module, slice equality is the C library's `memcmp`, a byte at a time, several times slower
/// on a 400 KB conversation.
fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
    let (x, y) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails = x.remainder() == y.remainder();
    a.len() == b.len() && tails && x.zip(y).all(|(p, q)| word(p) == word(q))
}

/// Remembered runs of bytes, each with what it gave, up to [`ENTRIES`] within a byte budget,
/// the one written longest ago evicted first: the store both memos (this one and the
/// translation's) keep.
#[derive(Debug)]
pub(crate) struct Shelf<T> {
    budget: usize,
    /// Each run, what it gave, the bytes that holds besides the run, and when it was written.
    entries: Vec<(Run, T, usize, u64)>,
    clock: u64,
}

impl<T> Shelf<T> {
    pub(crate) fn new(budget: usize) -> Shelf<T> {
        Shelf { budget, entries: Vec::new(), clock: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether `bytes` may be kept: at most half the budget (a larger one is not even copied,
    /// as a burst of large bodies would raise the VM's memory, which never shrinks).
    pub(crate) fn fits(&self, bytes: usize) -> bool {
        bytes <= self.budget / 2
    }

    /// The longest run `bytes` start with, taken out with what it gave: the request that
    /// resumes from it keeps a longer one.
    pub(crate) fn take(&mut self, bytes: &[u8]) -> Option<(Run, T)> {
        let found = (self.entries.iter().enumerate())
            .filter(|(_, (run, ..))| run.starts(bytes))
            .max_by_key(|(_, (run, ..))| run.len())
            .map(|(i, _)| i)?;
        let (run, value, ..) = self.entries.swap_remove(found);
        Some((run, value))
    }

    /// Keeps `run` and what it gave (holding `size` bytes besides the run), the oldest
    /// evicted to fit.
    pub(crate) fn put(&mut self, run: Run, value: T, size: usize) {
        let total = |r: &Run, n: usize| r.held() + n;
        let adding = total(&run, size);
        if !self.fits(adding) {
            return;
        }
        let mut held: usize = self.entries.iter().map(|(r, _, n, _)| total(r, *n)).sum();
        while self.entries.len() >= ENTRIES || held + adding > self.budget {
            let Some(oldest) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.3).map(|(i, _)| i)
            else {
                break;
            };
            let (r, _, n, _) = self.entries.swap_remove(oldest);
            held -= total(&r, n);
        }
        self.clock += 1;
        self.entries.push((run, value, size, self.clock));
    }
}

/// A worker's parsed conversation prefixes (see the module's documentation).
#[derive(Debug)]
pub struct Parses {
    shelf: Shelf<Entry>,
    hits: u64,
}

/// What messages `..messages` gave a parse, as offsets from their array's first byte after
/// the `[` (whose bytes are the [`Run`] it is kept with).
#[derive(Debug)]
struct Entry {
    messages: usize,
    spans: Vec<(usize, usize)>,
    /// The messages' chain of digests for the scan's cache ([`prefix::chain`]).
    chain: Vec<Digest>,
    texts: Vec<Texts>,
    /// Every long text, and how many of them the last user or tool message carries.
    long: Vec<Span>,
    carried: usize,
    text_bytes: usize,
    images: u32,
}

impl Entry {
    /// What it holds, about.
    fn bytes(&self) -> usize {
        let texts: usize = self.texts.iter().map(|(_, t, _)| 24 + 16 * t.len()).sum();
        32 * self.spans.len() + texts + 16 * self.long.len()
    }
}

/// One message's role, texts (as offsets) and tool calls, as the parse keeps them for the scan.
type Texts = (Role, Vec<(usize, usize)>, u32);

/// A remembered prefix taken by a parse.
#[derive(Debug)]
pub(crate) struct Resumed {
    /// Messages it covers.
    pub(crate) messages: usize,
    /// Its end, in the body.
    pub(crate) end: usize,
    /// Long texts carried up to its last user or tool message.
    pub(crate) carried: usize,
    run: Run,
}

/// The offsets of `s`, a slice of `text`, in `text`.
fn offsets(text: &str, s: &str) -> (usize, usize) {
    let start = (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    (start, start + s.len())
}

impl Parses {
    /// An empty memo that keeps about `budget` bytes.
    pub fn new(budget: usize) -> Parses {
        Parses { shelf: Shelf::new(budget), hits: 0 }
    }

    /// Parses that resumed from a remembered prefix, and conversations remembered.
    pub fn counts(&self) -> (u64, usize) {
        (self.hits, self.shelf.len())
    }

    /// The longest remembered prefix of the array whose elements start at `at` in `text`,
    /// restored into `req` (which holds no message yet); `None` when none matches.
    pub(crate) fn restore<'a>(
        &mut self,
        text: &'a str,
        at: usize,
        req: &mut ChatRequest<'a>,
    ) -> Option<Resumed> {
        let (run, e) = self.shelf.take(text.as_bytes().get(at..)?)?;
        self.hits += 1;
        let slice = |(s, t): (usize, usize)| text.get(at + s..at + t).unwrap_or_default();
        req.spans.extend(e.spans.iter().map(|&(s, t)| (at + s, at + t)));
        req.chain = e.chain;
        req.texts.extend(
            e.texts
                .iter()
                .map(|(role, texts, calls)| (*role, texts.iter().map(|&t| slice(t)).collect(), *calls)),
        );
        req.layout.texts.extend(e.long.iter().map(|s| Span { start: at + s.start, end: at + s.end }));
        req.text_bytes += e.text_bytes;
        req.features.images += e.images;
        Some(Resumed { messages: e.messages, end: at + run.len(), carried: e.carried, run })
    }

    /// Remembers what the messages parsed into `req` gave it, their array's elements starting
    /// at `at` in `text`: `text_bytes` and `images` are the messages' share, `carried` the
    /// long texts up to the last user or tool message, `resumed` the prefix it started from.
    /// Makes the scan's digests (`req.chain`) on the way.
    pub(crate) fn remember(
        &mut self,
        text: &str,
        at: usize,
        req: &mut ChatRequest<'_>,
        (text_bytes, images, carried): (usize, u32, usize),
        resumed: Option<Resumed>,
    ) {
        let Some(&(_, end)) = req.spans.last() else { return };
        prefix::extend(&mut req.chain, text.as_bytes(), &req.spans);
        let region = text.as_bytes().get(at..end).filter(|r| self.shelf.fits(r.len()));
        let Some(region) = region else { return };
        let shift = |(s, t): (usize, usize)| (s - at, t - at);
        let run = match resumed {
            Some(r) => r.run.grown(region),
            None => Run::new(region),
        };
        let entry = Entry {
            messages: req.spans.len(),
            spans: req.spans.iter().map(|&s| shift(s)).collect(),
            chain: req.chain.clone(),
            texts: req
                .texts
                .iter()
                .map(|(role, texts, calls)| {
                    (*role, texts.iter().map(|t| shift(offsets(text, t))).collect(), *calls)
                })
                .collect(),
            long: req.layout.texts.iter().map(|s| Span { start: s.start - at, end: s.end - at }).collect(),
            carried,
            text_bytes,
            images,
        };
        let size = entry.bytes();
        self.shelf.put(run, entry, size);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::Parses;
    use crate::parse::request::{parse_chat_unscanned, parse_chat_with};

    fn body(n: usize) -> String {
        let messages: Vec<_> = (0..n)
            .map(|i| {
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                json!({"role": role, "content": format!("message {i}: {}", "words and more words ".repeat(i % 9 + 1))})
            })
            .collect();
        json!({"model": "auto", "messages": messages}).to_string()
    }

    /// Every byte of a remembered prefix is checked, not only its end: an earlier message
    /// edited in place (same length, so every offset still fits) is parsed again, and a byte
    /// made invalid there is refused as without the memo.
    #[test]
    fn a_prefix_edited_anywhere_is_parsed_again() {
        let earlier = body(20);
        let later = body(24);
        let memo = RefCell::new(Parses::new(1 << 20));
        // The whole request, as text (it borrows the body), but the scan's digests (which the
        // parse makes when it has a memo, checked in `decide::resume`'s tests).
        let whole = |b: &[u8]| parse_chat_unscanned(b).map(|r| format!("{r:?}"));
        let with = |b: &[u8]| {
            parse_chat_with(b, Some(&memo)).map(|mut r| {
                r.chain.clear();
                format!("{r:?}")
            })
        };
        assert!(with(earlier.as_bytes()).is_ok());
        assert_eq!(with(later.as_bytes()), whole(later.as_bytes()));
        assert_eq!(memo.borrow().counts().0, 1);
        let at = later.find("message 2: words").unwrap_or_default() + 11;
        for byte in [b'W', 0x01] {
            let mut edited = later.clone().into_bytes();
            edited[at] = byte;
            assert_eq!(with(&edited), whole(&edited), "{byte}");
            assert_eq!(memo.borrow().counts().0, 1, "{byte}");
        }
        assert!(
            whole(&{
                let mut e = later.clone().into_bytes();
                e[at] = 0x01;
                e
            })
            .is_err()
        );
    }
    /// The collision a digest allowed (a review found one for the 4-lane digest, whatever its
    /// seed: byte 13 made a quote and byte 41 of the next block compensating): bytes are
    /// compared, so both variants are parsed again, and refused as without the memo.
    #[test]
    fn bodies_a_digest_would_confuse_are_parsed_again() {
        let text = |a: u8, b: u8| {
            let mut t = vec![b'x'; 17_000];
            t[13] = a;
            t[41] = b;
            String::from_utf8(t).unwrap_or_default()
        };
        let body =
            |t: String| format!(r#"{{"model":"auto","messages":[{{"role":"user","content":"{t}"}}]}}"#);
        let memo = RefCell::new(Parses::new(1 << 20));
        assert!(parse_chat_with(body(text(b'b', b'A')).as_bytes(), Some(&memo)).is_ok());
        for (a, b) in [(b'"', b'a'), (b'"', b'!')] {
            let b = body(text(a, b));
            let with = parse_chat_with(b.as_bytes(), Some(&memo)).map(|r| r.messages);
            assert_eq!(with, parse_chat_unscanned(b.as_bytes()).map(|r| r.messages));
            assert!(with.is_err());
        }
        assert_eq!(memo.borrow().counts().0, 0);
    }

    /// Members before `messages` (their bytes counted in `text_bytes` too) and a second
    /// `messages` member (refused): the request and the error a whole parse gives.
    #[test]
    fn members_around_messages_and_a_second_messages_are_as_without_the_memo() {
        let messages = |n: usize| {
            let m: Vec<_> = (0..n)
                .map(|i| json!({"role": "user", "content": format!("q{i} {}", "w ".repeat(40))}))
                .collect();
            serde_json::to_string(&m).unwrap_or_default()
        };
        let tools = r#"[{"type":"function","function":{"name":"read","parameters":{"type":"object"}}}]"#;
        let memo = RefCell::new(Parses::new(1 << 20));
        let parse = |b: &str| {
            let with = parse_chat_with(b.as_bytes(), Some(&memo)).map(|mut r| {
                r.chain.clear();
                format!("{r:?}")
            });
            assert_eq!(with, parse_chat_unscanned(b.as_bytes()).map(|r| format!("{r:?}")), "{b}");
        };
        for n in 2..6 {
            parse(&format!(r#"{{"tools":{tools},"model":"auto","messages":{}}}"#, messages(n)));
        }
        assert_eq!(memo.borrow().counts().0, 3);
        let twice = format!(
            r#"{{"tools":{tools},"messages":{},"model":"auto","messages":{}}}"#,
            messages(6),
            messages(7)
        );
        parse(&twice);
        parse(&format!(r#"{{"tools":{tools},"model":"auto","messages":{}}}"#, messages(7)));
        assert_eq!(memo.borrow().counts().0, 5);
    }
    /// Within its budget: a conversation larger than half of it is not kept (nor copied).
    #[test]
    fn a_conversation_larger_than_half_the_budget_is_not_kept() {
        let memo = RefCell::new(Parses::new(4_000));
        assert!(parse_chat_with(body(20).as_bytes(), Some(&memo)).is_ok());
        assert!(memo.borrow().counts().1 == 0);
        let small = RefCell::new(Parses::new(20_000));
        assert!(parse_chat_with(body(20).as_bytes(), Some(&small)).is_ok());
        assert_eq!(small.borrow().counts().1, 1);
    }
    /// A run grown turn by turn holds what it covers, no more (the budget counts capacity).
    #[test]
    fn a_grown_run_holds_what_it_covers() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut run = super::Run::new(&bytes[..1_000]);
        for end in (1_100..=10_000).step_by(700) {
            run = run.grown(&bytes[..end]);
            assert!(run.starts(&bytes) && run.len() == end && run.held() < end + 64, "{end}: {}", run.held());
        }
    }
}
