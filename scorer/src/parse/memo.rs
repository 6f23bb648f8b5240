//! Parsing only what is new in an agent's conversation.
//!
//! Turn N+1 of an agent loop starts its `messages` with turn N's messages byte for byte, and
//! JSON read from an array's `[` on does not depend on what comes before it: the same bytes
//! are the same elements, as valid as they were. So a parse remembers, in its worker's
//! [`Parses`], what its messages gave the request (each message's span, its texts for the
//! scan, the long texts a translation stands in for, the counts) as offsets from the array's
//! start, with a digest of those bytes; a later body whose array starts with bytes of the same
//! digest takes them and parses from there on.
//!
//! The digest is seeded per worker (a caller cannot aim a collision at a conversation it has
//! seen), and a remembered prefix is checked first by the digest of its last bytes, so a
//! worker serving many conversations digests one prefix in full, not each. Bounded in
//! entries; what follows the prefix is parsed and validated as ever.

use crate::parse::chat::ChatRequest;
use crate::parse::features::Role;
use crate::parse::layout::Span;
use crate::parse::prefix::{self, Digest};

/// Conversations a worker remembers.
const ENTRIES: usize = 16;
/// Bytes of a prefix's end digested first.
const TAIL: usize = 256;

/// A worker's parsed conversation prefixes (see the module's documentation).
#[derive(Debug)]
pub struct Parses {
    seed: Digest,
    entries: Vec<Entry>,
    clock: u64,
    hits: u64,
}

/// What messages `..messages` gave a parse, as offsets from their array's first byte after
/// the `[`.
#[derive(Debug)]
struct Entry {
    /// The lengths of the pieces digested one after another, turn by turn.
    pieces: Vec<usize>,
    /// Their digest, chained.
    digest: Digest,
    /// The digest of the last [`TAIL`] bytes, from the seed.
    tail: Digest,
    len: usize,
    messages: usize,
    spans: Vec<(usize, usize)>,
    /// The messages' chain of digests for the scan's cache (unseeded, [`prefix::chain`]).
    chain: Vec<Digest>,
    texts: Vec<Texts>,
    /// Every long text, and how many of them the last user or tool message carries.
    long: Vec<Span>,
    carried: usize,
    text_bytes: usize,
    images: u32,
    used: u64,
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
    pieces: Vec<usize>,
    digest: Digest,
}

/// The offsets of `s`, a slice of `text`, in `text`.
fn offsets(text: &str, s: &str) -> (usize, usize) {
    let start = (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    (start, start + s.len())
}

impl Parses {
    /// An empty memo whose digests start from `seed`.
    pub fn new(seed: u64) -> Parses {
        let seed = Digest(prefix::EMPTY.1 ^ seed.rotate_left(17), prefix::EMPTY.0 ^ seed);
        Parses { seed, entries: Vec::new(), clock: 0, hits: 0 }
    }

    /// Parses that resumed from a remembered prefix.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Conversations remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The longest remembered prefix of the array whose elements start at `at` in `text`,
    /// restored into `req` (which holds no message yet); `None` when none matches.
    pub(crate) fn restore<'a>(
        &mut self,
        text: &'a str,
        at: usize,
        req: &mut ChatRequest<'a>,
    ) -> Option<Resumed> {
        let bytes = text.as_bytes();
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.entries.get(i).map_or(0, |e| e.len)));
        let found = order.into_iter().find(|&i| {
            let Some(e) = self.entries.get(i) else { return false };
            let Some(region) = bytes.get(at..at + e.len) else { return false };
            let tail = region.get(region.len().saturating_sub(TAIL)..).unwrap_or_default();
            if prefix::digest(self.seed, tail) != e.tail {
                return false;
            }
            let mut from = 0;
            let mut d = self.seed;
            for &n in &e.pieces {
                d = prefix::digest(d, region.get(from..from + n).unwrap_or_default());
                from += n;
            }
            d == e.digest
        })?;
        // Taken out: the parse that resumes from it remembers the longer prefix.
        let e = self.entries.swap_remove(found);
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
        Some(Resumed {
            messages: e.messages,
            end: at + e.len,
            carried: e.carried,
            pieces: e.pieces.clone(),
            digest: e.digest,
        })
    }

    /// Remembers what the messages parsed into `req` gave it, their array's elements starting
    /// at `at` in `text`: `text_bytes` and `images` are the messages' share, `carried` the
    /// long texts up to the last user or tool message, `resumed` the prefix it started from.
    pub(crate) fn remember(
        &mut self,
        text: &str,
        at: usize,
        req: &mut ChatRequest<'_>,
        (text_bytes, images, carried): (usize, u32, usize),
        resumed: Option<Resumed>,
    ) {
        let Some(&(_, end)) = req.spans.last() else { return };
        let Some(region) = text.as_bytes().get(at..end) else { return };
        let (pieces, digest) = match resumed {
            Some(r) => {
                let new = region.get(r.end - at..).unwrap_or_default();
                let mut pieces = r.pieces;
                if new.is_empty() {
                    (pieces, r.digest)
                } else {
                    pieces.push(new.len());
                    (pieces, prefix::digest(r.digest, new))
                }
            }
            None => (vec![region.len()], prefix::digest(self.seed, region)),
        };
        let tail =
            prefix::digest(self.seed, region.get(region.len().saturating_sub(TAIL)..).unwrap_or_default());
        // The scan's digests, made here for the scan too.
        prefix::extend(&mut req.chain, text.as_bytes(), &req.spans);
        let shift = |(s, t): (usize, usize)| (s - at, t - at);
        let entry = Entry {
            pieces,
            digest,
            tail,
            len: region.len(),
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
            used: 0,
        };
        if self.entries.len() >= ENTRIES
            && let Some(oldest) = self.entries.iter().enumerate().min_by_key(|(_, e)| e.used).map(|(i, _)| i)
        {
            self.entries.swap_remove(oldest);
        }
        self.clock += 1;
        self.entries.push(Entry { used: self.clock, ..entry });
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
        let memo = RefCell::new(Parses::new(3));
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
        assert_eq!(memo.borrow().hits(), 1);
        let at = later.find("message 2: words").unwrap_or_default() + 11;
        for byte in [b'W', 0x01] {
            let mut edited = later.clone().into_bytes();
            edited[at] = byte;
            assert_eq!(with(&edited), whole(&edited), "{byte}");
            assert_eq!(memo.borrow().hits(), 1, "{byte}");
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
}
