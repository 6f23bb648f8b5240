//! What a conversation's scan leaves after its first messages, as bytes a later turn can
//! resume from, and the digests that say the later turn starts with exactly those messages.
//!
//! An agent resends its whole conversation every turn, and turn N repeats turns 1..N-1 byte for
//! byte. The feature scan is a fold over messages in order ([`Features::begin_message`],
//! [`Features::add_text`], [`Features::end_message`]), so its state after message k is all a
//! later turn needs to scan only what follows. [`chain`] digests each message's raw bytes onto
//! the digest of those before it; [`encode`] and [`decode`] carry the scan's part of
//! [`Features`] (what the parser counts over every message, such as images, is not carried).

use crate::parse::features::Features;
use crate::parse::scan::TextStats;

/// A 128-bit digest of a sequence of messages' raw bytes: two independent 64-bit lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest(pub u64, pub u64);

impl Default for Digest {
    fn default() -> Digest {
        EMPTY
    }
}

impl Digest {
    /// A digest (a key) from 16 bytes, low lane first.
    pub fn from_bytes(b: [u8; 16]) -> Digest {
        let (lo, hi) = b.split_at(8);
        let word = |w: &[u8]| w.iter().rev().fold(0u64, |x, &b| (x << 8) | u64::from(b));
        Digest(word(lo), word(hi))
    }

    /// Its 16 bytes, low lane first.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        let (lo, hi) = out.split_at_mut(8);
        lo.copy_from_slice(&self.0.to_le_bytes());
        hi.copy_from_slice(&self.1.to_le_bytes());
        out
    }
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;
const K3: u64 = 0x1656_67b1_9e37_79f9;
/// The digest before any message under the scorer's own key (the CLI's, the tests'); the
/// filter keys its digests with a secret each Envoy draws ([`PrefixCacheConfig::key`]).
///
/// [`PrefixCacheConfig::key`]: crate::config::PrefixCacheConfig::key
pub const EMPTY: Digest = Digest(0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344);

/// The finaliser of MurmurHash3: every input bit reaches every output bit.
fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// `h` under `key`: what only the key's holder can compute, for a table index a caller must not
/// be able to aim at (auto's sticky slots: with the plain hash, a client could compute a
/// conversation that lands in another client's slot and evict its memory with one request).
pub fn keyed(key: Digest, h: u64) -> u64 {
    fmix(fmix(h ^ key.0) ^ key.1)
}

/// `seed` continued over `bytes` with their length (so message boundaries count): four
/// lanes, each folding every fourth 8-byte word, so the four multiply chains run side by side
/// (a 400 KB conversation is hashed on every agent turn). Each word is multiplied in twice,
/// with a rotation between, so what a changed bit does to a lane depends on the lane's value:
/// a change cannot be made up for in the next word without knowing it. A chain starts from a
/// secret key in the filter (every digest depends on it), so a caller cannot compute lanes,
/// and cannot make a message of its own digest as another's to plant a scan state that
/// another client's conversation would resume from. Still a cache key, not a proof: what
/// must not be wrong (the worker's memo of parses and translations, `decide::memo`) compares
/// the bytes instead.
pub fn digest(seed: Digest, bytes: &[u8]) -> Digest {
    let len = bytes.len() as u64;
    let mut lanes = [
        seed.0 ^ len.wrapping_mul(K2),
        seed.1 ^ len.wrapping_mul(K1),
        seed.0.rotate_left(32) ^ K1,
        seed.1.rotate_left(32) ^ K2,
    ];
    let step = |lane: u64, w: u64, k: u64, r: u32| (lane ^ w).wrapping_mul(k).rotate_left(r).wrapping_mul(K3);
    let word = |w: &[u8]| w.iter().rev().fold(0u64, |x, &b| (x << 8) | u64::from(b));
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        let mut le = [0u64; 4];
        for (slot, w) in le.iter_mut().zip(block.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            *slot = u64::from_le_bytes(b);
        }
        let [w0, w1, w2, w3] = le;
        let [l0, l1, l2, l3] = lanes;
        lanes = [step(l0, w0, K1, 31), step(l1, w1, K2, 29), step(l2, w2, K1, 27), step(l3, w3, K2, 33)];
    }
    // The tail: whole words, then the last bytes, into lanes in turn.
    for (i, w) in blocks.remainder().chunks(8).enumerate() {
        if let Some(lane) = lanes.get_mut(i) {
            *lane = step(*lane, word(w), if i % 2 == 0 { K1 } else { K2 }, 31);
        }
    }
    let [l0, l1, l2, l3] = lanes;
    let a = fmix(l0 ^ l2.rotate_left(17));
    let b = fmix(l1 ^ l3.rotate_left(41) ^ a);
    Digest(fmix(a ^ b.rotate_left(17)), fmix(b ^ a.rotate_left(41)))
}

/// The digest of messages `1..=k` for every k, from `key`: `spans` are the messages' raw bytes
/// in `body`.
pub fn chain(key: Digest, body: &[u8], spans: &[(usize, usize)]) -> Vec<Digest> {
    let mut digests = Vec::with_capacity(spans.len());
    extend(key, &mut digests, body, spans);
    digests
}

/// `digests`, the chain from `key` of the first messages of `spans`, continued over the others.
pub fn extend(key: Digest, digests: &mut Vec<Digest>, body: &[u8], spans: &[(usize, usize)]) {
    let mut at = digests.last().copied().unwrap_or(key);
    for &(start, end) in spans.iter().skip(digests.len()) {
        at = digest(at, body.get(start..end).unwrap_or_default());
        digests.push(at);
    }
}

/// Format of an encoded state; a value of another version is a miss.
const VERSION: u8 = 1;

/// The scan's state after `messages` messages whose digest is `of`, valid until `expires_at`
/// (seconds since the epoch), as a shared-data value.
pub fn encode(of: Digest, expires_at: u64, messages: usize, f: &Features) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.push(VERSION);
    out.extend_from_slice(&of.0.to_le_bytes());
    out.extend_from_slice(&of.1.to_le_bytes());
    let mut put = |v: u64| varint(&mut out, v);
    put(expires_at);
    put(messages as u64);
    scan_counts(f, &mut put);
    out
}

/// The scan's state after `messages` messages whose digest is `of`, read into `into` (only
/// the scan's fields); false, and `into` untouched, when `value` is for another conversation
/// or length, expired at `now`, or garbled.
pub fn decode(value: &[u8], of: Digest, now: u64, messages: usize, into: &mut Features) -> bool {
    let Some(state) = read(value, of, now, messages) else { return false };
    *into = state.with_parsed(into);
    true
}

fn read(value: &[u8], of: Digest, now: u64, messages: usize) -> Option<Features> {
    let (&version, rest) = value.split_first()?;
    let word = |at: usize| -> Option<u64> {
        let mut le = [0u8; 8];
        le.copy_from_slice(rest.get(at..at + 8)?);
        Some(u64::from_le_bytes(le))
    };
    if version != VERSION || word(0)? != of.0 || word(8)? != of.1 {
        return None;
    }
    let mut r = Varints { bytes: rest.get(16..)?, bad: false };
    let expires_at = r.next();
    if expires_at <= now || r.next() != messages as u64 {
        return None;
    }
    let f = scan_state(&mut r);
    (!r.bad && r.bytes.is_empty()).then_some(f)
}

/// Feeds every field the scan owns to `put`, in one fixed order. The destructuring names
/// every field, so one added to [`Features`] or [`TextStats`] fails to compile here until it
/// is carried (or said not to be).
fn scan_counts(f: &Features, put: &mut impl FnMut(u64)) {
    let Features {
        system,
        user,
        last_user,
        assistant,
        tool_result_bytes,
        tool,
        messages,
        user_turns,
        assistant_turns,
        tool_calls,
        tool_results,
        harness_blocks,
        start_hash,
        opened,
        // Counted by the parser over every message and field, not by the scan.
        tools_declared: _,
        tool_choice_forced: _,
        json_schema: _,
        images: _,
        reasoning_param: _,
    } = f;
    for s in [system, user, last_user, assistant, tool] {
        text_counts(s, put);
    }
    for v in [*tool_result_bytes, *start_hash] {
        put(v);
    }
    for v in [*messages, *user_turns, *assistant_turns, *tool_calls, *tool_results, *harness_blocks] {
        put(u64::from(v));
    }
    put(u64::from(*opened));
}

fn text_counts(s: &TextStats, put: &mut impl FnMut(u64)) {
    let TextStats {
        bytes,
        words,
        long_words,
        fences,
        fence_langs,
        fenced_lines,
        code_lines,
        inline_code,
        diff_lines,
        trace_markers,
        reasoning,
        math,
        small_talk,
        lang_words,
        code_words,
        code_asks,
        error_msgs,
        block_heads,
    } = *s;
    put(bytes);
    put(words);
    for v in [
        long_words,
        fences,
        fence_langs,
        fenced_lines,
        code_lines,
        inline_code,
        diff_lines,
        trace_markers,
        reasoning,
        math,
        small_talk,
        lang_words,
        code_words,
        code_asks,
        error_msgs,
        block_heads,
    ] {
        put(u64::from(v));
    }
}

/// Reads what [`scan_counts`] wrote, in its order.
fn scan_state(r: &mut Varints<'_>) -> Features {
    let mut stats = || text_stats(r);
    let (system, user, last_user, assistant, tool) = (stats(), stats(), stats(), stats(), stats());
    let (tool_result_bytes, start_hash) = (r.next(), r.next());
    let mut n = || r.small();
    let (messages, user_turns, assistant_turns, tool_calls, tool_results, harness_blocks) =
        (n(), n(), n(), n(), n(), n());
    let opened = match r.next() {
        0 => false,
        1 => true,
        _ => {
            r.bad = true;
            false
        }
    };
    Features {
        system,
        user,
        last_user,
        assistant,
        tool_result_bytes,
        tool,
        messages,
        user_turns,
        assistant_turns,
        tool_calls,
        tool_results,
        harness_blocks,
        start_hash,
        opened,
        ..Features::new()
    }
}

fn text_stats(r: &mut Varints<'_>) -> TextStats {
    let (bytes, words) = (r.next(), r.next());
    let mut n = || r.small();
    TextStats {
        bytes,
        words,
        long_words: n(),
        fences: n(),
        fence_langs: n(),
        fenced_lines: n(),
        code_lines: n(),
        inline_code: n(),
        diff_lines: n(),
        trace_markers: n(),
        reasoning: n(),
        math: n(),
        small_talk: n(),
        lang_words: n(),
        code_words: n(),
        code_asks: n(),
        error_msgs: n(),
        block_heads: n(),
    }
}

impl Features {
    /// The scan's fields of `self` with the parser's fields of `parsed`.
    fn with_parsed(self, parsed: &Features) -> Features {
        Features {
            tools_declared: parsed.tools_declared,
            tool_choice_forced: parsed.tool_choice_forced,
            json_schema: parsed.json_schema,
            images: parsed.images,
            reasoning_param: parsed.reasoning_param,
            ..self
        }
    }
}

/// LEB128: seven bits a byte, low first.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A reader of [`varint`]s that remembers whether anything was malformed.
struct Varints<'a> {
    bytes: &'a [u8],
    bad: bool,
}

impl Varints<'_> {
    fn next(&mut self) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some((&b, rest)) = self.bytes.split_first() else { break };
            self.bytes = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return v;
            }
        }
        self.bad = true;
        0
    }

    fn small(&mut self) -> u32 {
        let v = self.next();
        u32::try_from(v).unwrap_or_else(|_| {
            self.bad = true;
            0
        })
    }
}
