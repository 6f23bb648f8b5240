//! Parsing only what is new in an agent's conversation.
//!
//! Turn N+1 of an agent loop starts its `messages` with turn N's messages byte for byte, and
//! JSON read from an array's `[` on does not depend on what comes before it: the same bytes
//! are the same elements, as valid as they were. So a parse remembers, in its worker's
//! [`Parses`], the bytes of its messages and what they gave the request (each message's span,
//! its texts for the scan, the long texts a translation stands in for, the counts, and the
//! scan's digests when `auto`'s scan made them) as offsets from the array's start; a later
//! body whose array starts with those very bytes takes them and parses from there on.
//!
//! The bytes are compared, not a digest of them: a digest that is not a keyed cryptographic
//! function can be made to collide by a caller who sends the bodies, and a collision here
//! would pass bytes the parser never read. The comparison starts with the last bytes, so a
//! worker serving many conversations reads one prefix in full, not each. Bounded in entries
//! and bytes; what follows the prefix is parsed and validated as ever.
//!
//! A run is text (valid UTF-8, as it was cut from a parsed body), so the body's own check
//! that it is UTF-8 skips the bytes it shares with one: before the parse, `Parses::claim`
//! looks for a run where its conversation's array started last time, compares it, and checks
//! only the bytes around it. The parse then resumes from that run without comparing again.

use crate::catalog::MESSAGE_ASKS;
use crate::parse::chat::ChatRequest;
use crate::parse::features::Role;
use crate::parse::layout::Span;
use crate::parse::prefix::Digest;

/// Conversations a worker remembers.
const ENTRIES: usize = 16;

/// A run of bytes a worker remembers (an array's first elements), kept whole and compared
/// with a later body's, its last bytes first. Always UTF-8 (a `String`): a body that holds
/// it needs only the bytes around it checked ([`Parses::claim`]).
#[derive(Debug)]
pub(crate) struct Run(String);

/// Bytes at the end of a [`Run`] compared first.
const TAIL: usize = 64;

impl Run {
    pub(crate) fn new(text: &str) -> Run {
        Run(String::new()).with(text)
    }

    /// A run of `bytes`, when they are UTF-8.
    pub(crate) fn of_bytes(bytes: &[u8]) -> Option<Run> {
        std::str::from_utf8(bytes).ok().map(Run::new)
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
        let run = self.0.as_bytes();
        let Some(head) = bytes.get(..run.len()) else { return false };
        let from = run.len().saturating_sub(TAIL);
        let (Some(body), Some(run)) = (head.split_at_checked(from), run.split_at_checked(from)) else {
            return false;
        };
        same(body.1, run.1) && same(body.0, run.0)
    }

    /// The run grown to `text` (which starts with it), holding at most an eighth more than it
    /// ([`room`]; a vector grown by doubling would hold up to twice what the budget counts).
    pub(crate) fn grown(self, text: &str) -> Option<Run> {
        let new = text.get(self.0.len()..)?;
        Some(self.with(new))
    }

    /// [`Run::grown`] to `bytes`; `None` when what they add is not UTF-8.
    pub(crate) fn grown_bytes(self, bytes: &[u8]) -> Option<Run> {
        let new = std::str::from_utf8(bytes.get(self.0.len()..)?).ok()?;
        Some(self.with(new))
    }

    fn with(mut self, new: &str) -> Run {
        if self.0.capacity() - self.0.len() < new.len() {
            self.0.reserve_exact(new.len() + room(self.0.len() + new.len()));
        }
        self.0.push_str(new);
        self
    }
}

/// Room kept after a run of `len` bytes for the turns to come: an eighth, so a 400 KB run
/// is copied anew about once in a dozen 4 KB turns, not on each (the budget counts it).
fn room(len: usize) -> usize {
    len / 8
}

/// Whether `a` and `b` are the same bytes, compared 64 at a time as four SIMD lanes (the
/// module is built with wasm SIMD, `make wasm`): in the module, slice equality is the C
/// library's `memcmp`, a byte at a time, several times slower on a 400 KB conversation.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn same(a: &[u8], b: &[u8]) -> bool {
    use core::arch::wasm32::{v128, v128_any_true, v128_load, v128_or, v128_xor};
    // The four 16-byte lanes of a 64-byte block.
    let lanes = |w: &[u8; 64]| -> [v128; 4] {
        let p = w.as_ptr().cast::<v128>();
        // SAFETY: `w` is 64 bytes, so the loads at 0, 16, 32 and 48 bytes stay inside it, and
        // v128_load has no alignment requirement.
        unsafe { [v128_load(p), v128_load(p.add(1)), v128_load(p.add(2)), v128_load(p.add(3))] }
    };
    let ((x, x_rest), (y, y_rest)) = (a.as_chunks::<64>(), b.as_chunks::<64>());
    a.len() == b.len()
        && x_rest == y_rest
        && x.iter().zip(y).all(|(p, q)| {
            let ([p0, p1, p2, p3], [q0, q1, q2, q3]) = (lanes(p), lanes(q));
            let d = v128_or(
                v128_or(v128_xor(p0, q0), v128_xor(p1, q1)),
                v128_or(v128_xor(p2, q2), v128_xor(p3, q3)),
            );
            !v128_any_true(d)
        })
}

/// Whether `a` and `b` are the same bytes, compared 32 at a time as four words (natively, and
/// in a module built without SIMD; four words a step ran the 400 KB agent turn ~5% faster in
/// the module than one).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |w: &[u8], i: usize| {
        u64::from_le_bytes(w.get(i..i + 8).and_then(|w| w.try_into().ok()).unwrap_or([0; 8]))
    };
    let (x, y) = (a.chunks_exact(32), b.chunks_exact(32));
    let tails = x.remainder() == y.remainder();
    a.len() == b.len()
        && tails
        && x.zip(y).all(|(p, q)| {
            (word(p, 0) ^ word(q, 0))
                | (word(p, 8) ^ word(q, 8))
                | (word(p, 16) ^ word(q, 16))
                | (word(p, 24) ^ word(q, 24))
                == 0
        })
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

    /// Whether a run of `run` bytes, with its [`room`], and `besides` more may be kept.
    pub(crate) fn fits_run(&self, run: usize, besides: usize) -> bool {
        self.fits(run + room(run) + besides)
    }

    /// The longest run `bytes` start with, taken out with what it gave: the request that
    /// resumes from it keeps a longer one.
    pub(crate) fn take(&mut self, bytes: &[u8]) -> Option<(Run, T)> {
        let (.., stamp) = self.find(|run, _| run.starts(bytes))?;
        self.take_stamped(stamp)
    }

    /// The longest run that is `found`, with what it gave and its stamp, left in place.
    fn find(&self, found: impl Fn(&Run, &T) -> bool) -> Option<(&Run, &T, u64)> {
        (self.entries.iter())
            .filter(|(run, value, ..)| found(run, value))
            .max_by_key(|(run, ..)| run.len())
            .map(|(run, value, _, stamp)| (run, value, *stamp))
    }

    /// The run kept with `stamp`, taken out with what it gave.
    fn take_stamped(&mut self, stamp: u64) -> Option<(Run, T)> {
        let (run, value, ..) = self.entries.swap_remove(self.stamped(stamp)?);
        Some((run, value))
    }

    /// Where the run kept with `stamp` is.
    fn stamped(&self, stamp: u64) -> Option<usize> {
        self.entries.iter().position(|e| e.3 == stamp)
    }

    /// Keeps `run` and what it gave (holding `size` bytes besides the run), the oldest
    /// evicted to fit; its stamp, when it was kept.
    pub(crate) fn put(&mut self, run: Run, value: T, size: usize) -> Option<u64> {
        let total = |r: &Run, n: usize| r.held() + n;
        let adding = total(&run, size);
        if !self.fits(adding) {
            return None;
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
        Some(self.clock)
    }

    /// What the run kept with `stamp` gave, if it is still kept.
    fn get_mut(&mut self, stamp: u64) -> Option<&mut T> {
        let i = self.stamped(stamp)?;
        self.entries.get_mut(i).map(|e| &mut e.1)
    }
}

/// A worker's parsed conversation prefixes (see the module's documentation).
#[derive(Debug)]
pub struct Parses {
    shelf: Shelf<Entry>,
    hits: u64,
    /// Parses that resumed from a run claimed before them (`Parses::claim`), for the tests.
    claimed: u64,
    /// The stamp of the entry the last parse kept, for its scan's digests ([`Parses::complete`]).
    last: Option<u64>,
}

/// What messages `..messages` gave a parse, as offsets from their array's first byte after
/// the `[` (whose bytes are the [`Run`] it is kept with).
#[derive(Debug)]
struct Entry {
    /// Where the array's elements started in the body it was parsed from.
    at: usize,
    messages: usize,
    spans: Vec<(usize, usize)>,
    /// The messages' chain of digests for the scan's cache ([`chain`](crate::parse::prefix::chain)).
    chain: Vec<Digest>,
    /// Each message's role, count of texts and tool calls, and the texts as offsets, as the
    /// parse keeps them for the scan ([`ChatRequest::texts`], [`ChatRequest::parts`]).
    texts: Vec<(Role, usize, u32)>,
    parts: Vec<(usize, usize)>,
    /// Every long text, and how many of them the last user or tool message carries.
    long: Vec<Span>,
    carried: usize,
    text_bytes: usize,
    images: u32,
    /// The longest side of their images that say one ([`ChatRequest::image_side`]).
    image_side: u32,
    /// What its messages ask that some providers refuse ([`crate::catalog::MESSAGE_ASKS`]: a
    /// `name`, an audio or file part).
    asks: u16,
    /// Where its unsigned tool calls end ([`crate::parse::layout::Layout::unsigned_calls`]).
    unsigned: Vec<usize>,
    /// The removals of members some providers refuse ([`crate::parse::layout::Layout::drops`]).
    drops: Vec<(Span, u16)>,
    /// Lists of texts as one string ([`crate::parse::layout::Layout::joins`]).
    joins: Vec<Span>,
    /// What reading the messages' PDFs left of the request's budget for them.
    pdf: crate::parse::pdf::ObjectStreams,
}

impl Entry {
    /// What it holds, about.
    fn bytes(&self) -> usize {
        32 * self.spans.len()
            + 24 * self.texts.len()
            + 16 * (self.parts.len() + self.long.len())
            + 8 * self.unsigned.len()
            + 24 * self.drops.len()
            + 16 * self.joins.len()
    }
}

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

/// A remembered prefix found in a body before its parse ([`Parses::claim`]), compared there
/// and left on the shelf, where the parse takes it by its stamp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    stamp: u64,
    /// Where the array's elements start in the body, if the run is the array's.
    at: usize,
}

/// The offsets of `s`, a slice of `text`, in `text`.
fn offsets(text: &str, s: &str) -> (usize, usize) {
    let start = (s.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    (start, start + s.len())
}

impl Parses {
    /// An empty memo that keeps about `budget` bytes.
    pub fn new(budget: usize) -> Parses {
        Parses { shelf: Shelf::new(budget), hits: 0, claimed: 0, last: None }
    }

    /// Parses that resumed from a remembered prefix, and conversations remembered.
    pub fn counts(&self) -> (u64, usize) {
        (self.hits, self.shelf.len())
    }

    /// `body` as text, checked to be UTF-8 around the longest remembered run it holds where
    /// that run's array started last time (the [`Claim`], for its parse to take). `None`
    /// when no run is there or the bytes around it are not UTF-8: the caller then checks
    /// the whole body (and says where it is not).
    pub(crate) fn claim<'a>(&self, body: &'a [u8]) -> Option<(&'a str, Claim)> {
        let (run, entry, stamp) =
            self.shelf.find(|run, e| body.get(e.at..).is_some_and(|rest| run.starts(rest)))?;
        let (at, end) = (entry.at, entry.at + run.len());
        let utf8 = |part: Option<&[u8]>| part.is_some_and(|p| std::str::from_utf8(p).is_ok());
        if !(utf8(body.get(..at)) && utf8(body.get(end..))) {
            return None;
        }
        // SAFETY: `body` is the bytes before `at`, then the run, then the bytes after it. The
        // first and the last were just checked to be UTF-8; the middle is the run byte for
        // byte (`find` compared them), and a run is a `String`. UTF-8 is closed under
        // concatenation: each part is a sequence of whole characters, so is the body.
        let text = unsafe { std::str::from_utf8_unchecked(body) };
        Some((text, Claim { stamp, at }))
    }

    /// The longest remembered prefix of the array whose elements start at `at` in `text`,
    /// restored into `req` (which holds no message yet): `claim`'s when it was found there
    /// (it is `text`'s, compared when claimed), else one compared now. `None` when none
    /// matches.
    pub(crate) fn restore<'a>(
        &mut self,
        text: &'a str,
        at: usize,
        req: &mut ChatRequest<'a>,
        claim: Option<Claim>,
    ) -> Option<Resumed> {
        let claimed = claim.filter(|c| c.at == at).and_then(|c| self.shelf.take_stamped(c.stamp));
        self.claimed += u64::from(claimed.is_some());
        let (run, e) = match claimed {
            Some(taken) => taken,
            None => self.shelf.take(text.as_bytes().get(at..)?)?,
        };
        self.hits += 1;
        let slice = |(s, t): (usize, usize)| text.get(at + s..at + t).unwrap_or_default();
        req.spans.extend(e.spans.iter().map(|&(s, t)| (at + s, at + t)));
        req.chain = e.chain;
        req.texts.extend_from_slice(&e.texts);
        req.parts.extend(e.parts.iter().map(|&t| slice(t)));
        req.layout.texts.extend(e.long.iter().map(|s| Span { start: at + s.start, end: at + s.end }));
        req.layout.unsigned_calls.extend(e.unsigned.iter().map(|p| at + p));
        req.layout
            .drops
            .extend(e.drops.iter().map(|&(s, d)| (Span { start: at + s.start, end: at + s.end }, d)));
        let shifted = |s: &Span| Span { start: at + s.start, end: at + s.end };
        req.layout.joins.extend(e.joins.iter().map(shifted));
        req.text_bytes += e.text_bytes;
        req.pdf = e.pdf;
        req.features.images += e.images;
        req.image_side = req.image_side.max(e.image_side);
        req.layout.asks |= e.asks;
        Some(Resumed { messages: e.messages, end: at + run.len(), carried: e.carried, run })
    }

    /// Remembers what the messages parsed into `req` gave it, their array's elements starting
    /// at `at` in `text`: `text_bytes` and `images` are the messages' share, `carried` the
    /// long texts up to the last user or tool message, `resumed` the prefix it started from.
    /// The scan's digests are kept as far as the parse has them (those it restored): only a
    /// request for `auto` needs them all, and its scan hands them over ([`Parses::complete`]).
    pub(crate) fn remember(
        &mut self,
        text: &str,
        at: usize,
        req: &ChatRequest<'_>,
        (text_bytes, images, carried): (usize, u32, usize),
        resumed: Option<Resumed>,
    ) {
        self.last = None;
        let Some(&(_, end)) = req.spans.last() else { return };
        let region = text.get(at..end).filter(|r| self.shelf.fits_run(r.len(), 0));
        let Some(region) = region else { return };
        let shift = |(s, t): (usize, usize)| (s - at, t - at);
        let run = match resumed {
            Some(r) => r.run.grown(region),
            None => Some(Run::new(region)),
        };
        let Some(run) = run else { return };
        let entry = Entry {
            at,
            messages: req.spans.len(),
            spans: req.spans.iter().map(|&s| shift(s)).collect(),
            chain: req.chain.clone(),
            texts: req.texts.clone(),
            parts: req.parts.iter().map(|t| shift(offsets(text, t))).collect(),
            long: req.layout.texts.iter().map(|s| Span { start: s.start - at, end: s.end - at }).collect(),
            carried,
            text_bytes,
            images,
            // Only messages hold images: all the request's so far are theirs.
            image_side: req.image_side,
            asks: req.layout.asks & MESSAGE_ASKS,
            unsigned: req.layout.unsigned_calls.iter().map(|p| p - at).collect(),
            // Only the messages' own: a member before them (`tools` first) has its drops too.
            drops: (req.layout.drops.iter())
                .filter(|(s, _)| s.start >= at)
                .map(|&(s, d)| (Span { start: s.start - at, end: s.end - at }, d))
                .collect(),
            joins: (req.layout.joins.iter())
                .filter(|s| s.start >= at)
                .map(|s| Span { start: s.start - at, end: s.end - at })
                .collect(),
            pdf: req.pdf,
        };
        let size = entry.bytes();
        self.last = self.shelf.put(run, entry, size);
    }

    /// Parses that resumed from a claimed run.
    #[cfg(test)]
    pub(crate) fn claimed(&self) -> u64 {
        self.claimed
    }

    /// Each entry's messages and digests kept.
    #[cfg(test)]
    pub(crate) fn chains(&self) -> Vec<(usize, usize)> {
        self.shelf.entries.iter().map(|(_, e, ..)| (e.messages, e.chain.len())).collect()
    }

    /// Keeps `chain`, the scan's digests of every message of the conversation the last parse
    /// remembered, with it (when that parse kept it and `chain` covers its messages): the next
    /// turn then makes only its new messages' digests.
    pub(crate) fn complete(&mut self, chain: &[Digest]) {
        let Some(stamp) = self.last.take() else { return };
        if let Some(e) = self.shelf.get_mut(stamp)
            && e.messages == chain.len()
            && e.chain.len() < chain.len()
        {
            e.chain = chain.to_vec();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::Parses;
    use crate::error::ApiError;
    use crate::parse::request::{parse_chat_unscanned, parse_chat_with};

    /// The request a parse gives, as text (it borrows the body), but the scan's digests
    /// (which a parse with a memo takes from it, checked in `decide::resume`'s tests).
    fn shown(b: &[u8], memo: Option<&RefCell<Parses>>) -> Result<String, ApiError> {
        parse_chat_with(b, memo).map(|mut r| {
            r.chain.clear();
            format!("{r:?}")
        })
    }

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
        let whole = |b: &[u8]| shown(b, None);
        let with = |b: &[u8]| shown(b, Some(&memo));
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

    /// A message's `name` (which some providers refuse) is remembered with the messages: a
    /// conversation resumed from the memo still asks it, and one without a name does not.
    #[test]
    fn a_remembered_name_is_still_asked() {
        let messages = |n: usize, name: &str| {
            let mut m: Vec<_> = (0..n)
                .map(|i| json!({"role": "user", "content": format!("q{i} {}", "w ".repeat(40))}))
                .collect();
            if let Some(first) = m.first_mut().filter(|_| !name.is_empty()) {
                first["name"] = json!(name);
            }
            serde_json::to_string(&m).unwrap_or_default()
        };
        let memo = RefCell::new(Parses::new(1 << 20));
        for (name, asked) in [("ann", true), ("", false)] {
            for n in 2..6 {
                let b = format!(r#"{{"model":"auto","messages":{}}}"#, messages(n, name));
                let r = parse_chat_with(b.as_bytes(), Some(&memo)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(r.layout.asks & crate::catalog::ASKS_NAME != 0, asked, "{n} {name:?}");
            }
        }
        assert!(memo.borrow().counts().0 >= 6, "{:?}", memo.borrow().counts());
    }

    /// An image's size is remembered with its message: a later turn resumed from the memo
    /// still has the screenshot a provider refuses (its parse equal to a whole one's).
    #[test]
    fn a_remembered_images_size_is_still_known() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 5, 0, 0, 0, 0x2e, 0xe0]);
        let url = format!("data:image/png;base64,{}", crate::parse::base64::encode(&png));
        let memo = RefCell::new(Parses::new(1 << 20));
        let mut messages =
            vec![json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]})];
        for i in 0..5 {
            messages.push(json!({"role": "assistant", "content": format!("seen {i} {}", "w ".repeat(40))}));
            messages.push(json!({"role": "user", "content": format!("and {i}")}));
            let b = json!({"model": "auto", "messages": messages}).to_string();
            assert_eq!(shown(b.as_bytes(), Some(&memo)), shown(b.as_bytes(), None));
            let side = parse_chat_with(b.as_bytes(), Some(&memo)).map(|r| r.image_side);
            assert_eq!(side.ok(), Some(12_000), "{i}");
        }
        assert!(memo.borrow().counts().0 >= 4, "{:?}", memo.borrow().counts());
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
        let parse = |b: &str| assert_eq!(shown(b.as_bytes(), Some(&memo)), shown(b.as_bytes(), None), "{b}");
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
    /// An agent's tool calls, signed or not: where the unsigned ones end is restored from the
    /// memo as a fresh parse finds it (a model that wants them signed gets its stand-in there),
    /// and so are the members some providers refuse.
    #[test]
    fn unsigned_tool_calls_are_found_alike_with_the_memo() {
        let memo = RefCell::new(Parses::new(1 << 20));
        let mut messages = vec![json!({"role": "user", "content": "start"})];
        for i in 0..6 {
            let mut call = json!({"id": format!("c{i}"), "type": "function", "function": {"name": "f", "arguments": "{}"}});
            if i % 2 == 1 {
                call["extra_content"] = json!({"google": {"thought_signature": "s"}});
            }
            // As an OpenAI SDK client sends an answer back: with its refusal and annotations.
            messages.push(
                json!({"role": "assistant", "content": null, "refusal": null, "annotations": [], "tool_calls": [call]}),
            );
            messages
                .push(json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": "ok ".repeat(30)}));
            let b = json!({"model": "auto", "messages": messages}).to_string();
            assert_eq!(shown(b.as_bytes(), Some(&memo)), shown(b.as_bytes(), None), "{i}");
            let req = parse_chat_with(b.as_bytes(), Some(&memo)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(req.layout.unsigned_calls.len(), i / 2 + 1, "{i}");
            // Each assistant message, its members in key order (annotations, content,
            // refusal, ...): two removals for echoes, one for nulls (refusal) and two for both;
            // a signed call's extra_content one for echoes (null, it is a null too).
            assert_eq!(req.layout.drops.len(), 5 * (i + 1) + i.div_ceil(2), "{i}");
        }
        assert!(memo.borrow().counts().0 > 0);
    }

    /// A tool's cache mark before the messages (`tools` sent first) is the tool's, not the
    /// messages': the memo keeps only theirs, so the next turn (another tool added) drops the
    /// same bytes as a parse without it.
    #[test]
    fn a_tools_cache_mark_before_the_messages_is_not_remembered() {
        let memo = RefCell::new(Parses::new(1 << 20));
        let marked =
            json!({"type": "function", "function": {"name": "a"}, "cache_control": {"type": "ephemeral"}});
        let plain = json!({"type": "function", "function": {"name": "b-plain", "description": "d"}});
        let mut messages = vec![json!({"role": "user", "content": "start ".repeat(40)})];
        let drops = crate::catalog::Quirks {
            drops: crate::catalog::DROPS_CACHE_MARKS | crate::catalog::DROPS_ECHOES,
            ..crate::catalog::Quirks::NONE
        };
        for tools in [json!([marked]), json!([marked, plain]), json!([marked, plain, plain])] {
            messages.push(json!({"role": "assistant", "content": "ok", "refusal": null}));
            messages.push(json!({"role": "user", "content": "more ".repeat(40)}));
            let b = format!(r#"{{"model":"auto","tools":{tools},"messages":{}}}"#, json!(messages));
            let with = parse_chat_with(b.as_bytes(), Some(&memo)).unwrap_or_else(|e| panic!("{e}"));
            let without = parse_chat_with(b.as_bytes(), None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(with.layout.drops, without.layout.drops, "{b}");
            let sent = with.layout.rewrite_for(b.as_bytes(), "m", &drops);
            let sent: serde_json::Value =
                serde_json::from_slice(&sent).unwrap_or_else(|e| panic!("{e}: {b}"));
            assert!(sent["tools"][0].get("cache_control").is_none(), "{sent}");
        }
        assert!(memo.borrow().counts().0 > 0);
    }

    /// A system prompt of text parts is one string for a provider that refuses lists, whether
    /// its parse resumed from the memo or not (Claude Code sends it every turn).
    #[test]
    fn a_remembered_list_of_texts_is_joined_as_a_parse_joins_it() {
        let memo = RefCell::new(Parses::new(1 << 20));
        let system = json!({"role": "system", "content": [
            {"type": "text", "text": "be brief ".repeat(30)},
            {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]});
        let mut messages = vec![system, json!({"role": "user", "content": "start ".repeat(40)})];
        let groq = crate::catalog::Quirks {
            refuses: crate::catalog::ASKS_PART_LISTS,
            drops: crate::catalog::DROPS_CACHE_MARKS,
            ..crate::catalog::Quirks::NONE
        };
        for _ in 0..3 {
            messages.push(json!({"role": "assistant", "content": "ok"}));
            messages.push(json!({"role": "user", "content": "more ".repeat(40)}));
            let b = format!(r#"{{"model":"auto","messages":{}}}"#, json!(messages));
            let with = parse_chat_with(b.as_bytes(), Some(&memo)).unwrap_or_else(|e| panic!("{e}"));
            let without = parse_chat_with(b.as_bytes(), None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(with.layout.joins, without.layout.joins, "{b}");
            let sent = with.layout.rewrite_for(b.as_bytes(), "m", &groq);
            let sent: serde_json::Value =
                serde_json::from_slice(&sent).unwrap_or_else(|e| panic!("{e}: {b}"));
            assert!(sent["messages"][0]["content"].is_string(), "{sent}");
        }
        assert!(memo.borrow().counts().0 > 0);
    }

    /// The check that a body is UTF-8 skips only a remembered prefix found where it was: a
    /// bad byte before it, after it or in it is refused as without the memo (the same error,
    /// the same byte), and a prefix found elsewhere (a longer `model` before it) is resumed
    /// all the same. A claim its parse does not use is kept for the next turn.
    #[test]
    fn only_a_prefix_found_where_it_was_skips_the_utf8_check() {
        let memo = RefCell::new(Parses::new(1 << 20));
        let whole = |b: &[u8]| shown(b, None);
        let with = |b: &[u8]| shown(b, Some(&memo));
        let hits = || (memo.borrow().counts().0, memo.borrow().claimed());
        // Members before `messages`, in this order (`json!` sorts them).
        let turn = |n: usize, model: &str| {
            let all: serde_json::Value = serde_json::from_str(&body(n)).unwrap_or_default();
            format!(r#"{{"model":"{model}","user":"agent-7","messages":{}}}"#, all["messages"])
        };
        assert!(with(turn(20, "auto").as_bytes()).is_ok());
        let later = turn(24, "auto");
        let edits = |at: usize| {
            [&b"\xff"[..], b"\xc3", b"\xe2\x82"].map(|bad| {
                let mut b = later.clone().into_bytes();
                b.splice(at..at + bad.len(), bad.iter().copied());
                b
            })
        };
        let before = later.find("agent-7").unwrap_or_default();
        let inside = later.find("message 3: words").unwrap_or_default() + 12;
        let after = later.find("message 22: words").unwrap_or_default() + 12;
        for (place, at) in [("before", before), ("inside", inside), ("after", after)] {
            for bad in edits(at) {
                let got = with(&bad);
                assert_eq!(got, whole(&bad), "{place}");
                assert!(got.is_err_and(|e| e.to_string().contains("UTF-8")), "{place}");
            }
        }
        assert_eq!(hits(), (0, 0));
        // Its parse fails before `messages` (a number as long as `"auto"`, so the prefix is
        // where it was and claimed): the claim is kept, and the next turn resumes.
        let refused = later.replacen(r#""model":"auto""#, r#""model":123456"#, 1);
        assert_eq!(with(refused.as_bytes()), whole(refused.as_bytes()));
        assert_eq!(with(later.as_bytes()), whole(later.as_bytes()));
        assert_eq!(hits(), (1, 1));
        // Found elsewhere: compared where the array is now.
        let moved = turn(26, "premium");
        assert_eq!(with(moved.as_bytes()), whole(moved.as_bytes()));
        assert_eq!(hits(), (2, 1));
        // The run where the array was, in another member (as long a name): claimed, not taken
        // by its stamp as the parse finds `messages` elsewhere, and compared there.
        let all =
            |n: usize| serde_json::from_str::<serde_json::Value>(&turn(n, "premium")).unwrap_or_default();
        let decoy = format!(
            r#"{{"model":"premium","user":"agent-7","previous":{},"messages":{}}}"#,
            all(26)["messages"],
            all(27)["messages"]
        );
        assert_eq!(with(decoy.as_bytes()), whole(decoy.as_bytes()));
        assert_eq!(hits(), (3, 1));
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
    /// Equal bytes are the same, and one byte changed anywhere is not (each of the four words
    /// of a step, and the bytes after the last whole step), nor another length. This is the
    /// native comparison; the module's SIMD one is checked through the module
    /// (`an_edit_anywhere_in_a_remembered_conversation_reaches_the_provider`, tests/tests/host.rs).
    #[test]
    fn same_sees_every_byte() {
        for len in 0..100 {
            let a: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            assert!(super::same(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!super::same(&a, &b), "{len} at {at}");
            }
            assert!(!super::same(&a, &a[..len.saturating_sub(1)]) || len == 0, "{len}");
        }
    }
    /// A run grown turn by turn holds what it covers and an eighth more at most (the budget
    /// counts capacity), and is copied anew only when that room is used up.
    #[test]
    fn a_grown_run_holds_what_it_covers_and_room_for_a_few_turns() {
        let bytes: Vec<u8> = (0..20_000u32).map(|i| b' ' + (i % 95) as u8).collect();
        let mut run = super::Run::of_bytes(&bytes[..10_000]).unwrap_or_else(|| panic!("ASCII"));
        let (mut turns, mut copies) = (0, 0);
        for end in (10_100..=20_000).step_by(300) {
            let held = run.held();
            run = run.grown_bytes(&bytes[..end]).unwrap_or_else(|| panic!("ASCII"));
            assert!(
                run.starts(&bytes) && run.len() == end && run.held() <= end + end / 8,
                "{end}: {}",
                run.held()
            );
            (turns, copies) = (turns + 1, copies + usize::from(run.held() != held));
        }
        assert!(copies * 3 < turns, "{copies} copies in {turns} turns");
    }
}
