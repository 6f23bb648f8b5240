//! `auto` scans only what is new in a conversation: the scan's state after a request's
//! messages is remembered in shared data, and a later turn that starts with the same messages
//! resumes from it (`parse::prefix` digests and encodes). The glue reads the slots through a
//! callback and writes [`PrefixMemory`] after routing; the scorer stays host-free.

use crate::config::PrefixCacheConfig;
use crate::parse::chat::ChatRequest;
use crate::parse::prefix::{self, Digest};

/// Shared-data key prefix of the remembered scans.
pub const PREFIX_KEY_PREFIX: &str = "model_router.prefix.";

/// Turn boundaries looked up, from the last message back: an agent's turn adds an assistant
/// message and its tool results (several when tools ran in parallel), a chat turn an answer
/// and a question. The first hit ends the lookups.
pub const LOOKBACK: usize = 8;

/// A remembered scan the glue writes to shared data after routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixMemory {
    /// Shared-data key (one of `prefix_cache.slots`).
    pub key: String,
    /// The encoded state, guarded by the messages' digest.
    pub value: Vec<u8>,
}

/// Reads a shared-data value by key; `None` when absent or unreadable.
pub type Read<'r> = &'r mut dyn FnMut(&str) -> Option<Vec<u8>>;

/// What the scan of one request did.
#[derive(Debug, Default)]
pub struct Resumed {
    /// Messages taken from a remembered scan instead of being scanned again.
    pub messages: Option<usize>,
    /// The state after this request's messages, to remember (none when it was read whole).
    pub memory: Option<PrefixMemory>,
}

fn key(d: Digest, slots: u64) -> String {
    format!("{PREFIX_KEY_PREFIX}{}", d.0 % slots)
}

/// Scans `req`'s conversation (in `body`), resuming from the longest remembered prefix among
/// the last [`LOOKBACK`] message boundaries that `read` finds; a miss, a slot taken by another
/// conversation, an expired or garbled value all mean a full scan. Without `read`, or for a
/// conversation under `min_bytes`, it scans whole and remembers nothing.
pub(crate) fn scan(
    req: &mut ChatRequest<'_>,
    body: &[u8],
    cfg: &PrefixCacheConfig,
    read: Option<Read<'_>>,
    now: u64,
) -> Resumed {
    let n = req.spans.len();
    let read = read.filter(|_| cfg.slots > 0 && n > 0 && req.text_bytes as u64 >= cfg.min_bytes);
    let Some(read) = read else {
        req.scan_from(0);
        return Resumed::default();
    };
    // Those of the messages a parse with the worker's memo took from it, the others made
    // here (and handed back in `req.chain` for the memo to keep).
    let mut digests = std::mem::take(&mut req.chain);
    prefix::extend(cfg.key, &mut digests, body, &req.spans);
    let mut from = 0;
    // Boundaries k = n, n-1, ...: `digests[k - 1]` is the digest of messages 1..=k.
    for (k, &d) in digests.iter().enumerate().rev().take(LOOKBACK).map(|(i, d)| (i + 1, d)) {
        if read(&key(d, cfg.slots)).is_some_and(|v| prefix::decode(&v, d, now, k, &mut req.features)) {
            from = k;
            break;
        }
    }
    req.scan_from(from);
    let Some(&last) = digests.last() else { return Resumed::default() };
    let memory = (from < n).then(|| PrefixMemory {
        key: key(last, cfg.slots),
        value: prefix::encode(last, now.saturating_add(cfg.ttl_secs), n, &req.features),
    });
    req.chain = digests;
    Resumed { messages: (from > 0).then_some(from), memory }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::config::Config;
    use crate::decide::route::{Context, analyze, analyze_resuming, analyze_with_memo};
    use crate::parse::request::parse_chat;
    use crate::testing::Rng;

    /// Pieces of text that reach every part of the scan: prose, asks for code, fences, code
    /// lines, diffs, traces, math, greetings, harness blocks, escapes and non-ASCII.
    const PIECES: &[&str] = &[
        "Please explain the trade-off step by step. ",
        "Write a Python function that parses dates. ",
        "```rust\nfn main() {\n    let x = 1;\n}\n```\n",
        "def f(x):\n    return x\nimport os\nint y = 2;\n",
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        "Traceback (most recent call last):\n  File \"x.py\", line 3, in f\nKeyError: 'tz'\n",
        "Solve $$\\int_0^1 x^2 dx$$ where y = 3. ",
        "Hi! Thanks a lot. ",
        "<system-reminder>be brief</system-reminder>",
        "Käsekuchen und Übersetzung, \"quoted\" and a tab\there. ",
        "The consequences of equilibrium for chocolate. ",
        "TypeError: x is undefined\n",
        "router envoy latency token provider model the of and with ",
    ];

    /// The conversations this test draws.
    trait Draw {
        fn text(&mut self) -> String;
        fn message(&mut self, i: usize) -> Value;
    }

    impl Draw for Rng {
        fn text(&mut self) -> String {
            self.pieces(PIECES, 1, 6)
        }

        /// One message of a random role and shape.
        fn message(&mut self, i: usize) -> Value {
            match self.below(6) {
                0 => json!({"role": "system", "content": self.text()}),
                1 => json!({"role": "user", "content": self.text()}),
                2 => json!({"role": "user", "content": [
                    {"type": "text", "text": self.text()},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "text", "text": self.text()},
                ]}),
                3 => json!({"role": "assistant", "content": self.text()}),
                4 => json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": format!("c{i}"), "type": "function", "function": {"name": "read", "arguments": "{}"}},
                ]}),
                _ => json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": self.text()}),
            }
        }
    }

    fn body(messages: &[Value]) -> String {
        json!({"model": "auto", "messages": messages, "reasoning_effort": "low"}).to_string()
    }

    /// Shared data as the glue offers it.
    #[derive(Default)]
    struct Slots(HashMap<String, Vec<u8>>);

    impl Slots {
        fn analyze<'a>(
            &mut self,
            config: &Config,
            body: &'a str,
            now: u64,
        ) -> crate::decide::route::Analysis<'a> {
            let map = &self.0;
            let mut read = |k: &str| map.get(k).cloned();
            let a = analyze_resuming(config, body.as_bytes(), Some(&mut read), now)
                .unwrap_or_else(|e| panic!("{e}"));
            if let Some(m) = a.prefix_memory() {
                self.0.insert(m.key.clone(), m.value.clone());
            }
            a
        }
    }

    fn config(extra: &str) -> Config {
        Config::from_json(format!(r#"{{"prefix_cache":{{"min_bytes":0{extra}}}}}"#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The property: a conversation split at a random turn, its first part sent first, decides
    /// the second turn exactly as a whole scan does, features and route alike.
    #[test]
    fn a_resumed_scan_decides_exactly_as_a_whole_scan() {
        let config = config("");
        let ctx = Context { now: 1_000, ..Context::default() };
        let mut rng = Rng(7);
        let mut hits = 0;
        for case in 0..400 {
            let n = 2 + rng.below(14);
            let messages: Vec<Value> = (0..n).map(|i| rng.message(i)).collect();
            let k = 1 + rng.below(n - 1);
            let (earlier, later) = (body(&messages[..k]), body(&messages));
            let mut slots = Slots::default();
            slots.analyze(&config, &earlier, 1_000);
            let resumed = slots.analyze(&config, &later, 1_000);
            let whole = analyze(&config, later.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let full = parse_chat(later.as_bytes()).unwrap_or_else(|e| panic!("{e}")).features;
            assert_eq!(resumed.req.features, full, "case {case}: split at {k} of {n}");
            assert_eq!(resumed.auto(), whole.auto(), "case {case}");
            assert_eq!(resumed.route(&config, &ctx), whole.route(&config, &ctx), "case {case}");
            // Within the lookback the earlier turn is found; beyond it the scan is whole.
            let want = (n - k < LOOKBACK).then_some(k);
            assert_eq!(resumed.resumed(), want, "case {case}: split at {k} of {n}");
            hits += usize::from(want.is_some());
        }
        assert!(hits > 300, "{hits}");
    }

    /// A worker's memo (`decide::memo`) through analysis and route: an agent loop pinned to a
    /// model on the Messages API, its long texts stood in for, now and then an earlier or a
    /// last message edited, parses each turn from the memo into the request a whole parse
    /// gives and sends the body a whole translation writes.
    #[test]
    fn a_turn_resumed_from_the_memo_is_parsed_and_translated_as_a_whole_one() {
        let config = config("");
        let mut rng = Rng(23);
        let (mut turns, mut stood_in) = (0, 0);
        let mut hits = (0, 0);
        for case in 0..60 {
            let memo = crate::decide::memo::Memo::new(&config.prefix_cache);
            let n = 4 + rng.below(20);
            let long = |rng: &mut Rng, i: usize| match rng.message(i) {
                // Long enough to be stood in for (and short ones kept as they are).
                Value::Object(mut m) if m.get("content").is_some_and(Value::is_string) => {
                    m.insert("content".into(), json!(rng.pieces(PIECES, 1, 12)));
                    Value::Object(m)
                }
                m => m,
            };
            let mut messages: Vec<Value> = (0..n).map(|i| long(&mut rng, i)).collect();
            for k in 2..=n {
                if rng.below(10) == 0 {
                    let j = if rng.below(2) == 0 { rng.below(k) } else { k - 1 };
                    messages[j] = long(&mut rng, j);
                }
                // An agent declares its tools (without them a tool history is told as text,
                // which the translation memo does not keep). A model that takes a prefill: the
                // random conversations end on any role.
                let tools = json!([{"type": "function", "function": {"name": "read"}}]);
                let b = json!({"model": "claude-haiku-4-5", "messages": &messages[..k], "tools": tools})
                    .to_string();
                let a = analyze_with_memo(&config, b.as_bytes(), None, 1_000, Some(&memo))
                    .unwrap_or_else(|e| panic!("{e}"));
                let whole = analyze(&config, b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
                // The same request, the scan's digests too: the memo keeps none here (no
                // request was for `auto`, whose scan makes them).
                assert_eq!(a.req, whole.req, "case {case}: {k} of {n}");
                let ctx = Context { now: 1_000, ..Context::default() };
                let with = a.route(&config, &Context { memo: Some(&memo), ..ctx }).map(|r| r.target.body);
                assert_eq!(
                    with,
                    whole.route(&config, &ctx).map(|r| r.target.body),
                    "case {case}: {k} of {n}"
                );
                stood_in += a.req.layout().texts().len();
                turns += 1;
            }
            let (p, t) = memo.hits();
            hits = (hits.0 + p, hits.1 + t);
        }
        assert!(
            hits.0 * 2 > turns && hits.1 * 3 > turns && stood_in > 2_000,
            "{hits:?} of {turns}, {stood_in}"
        );
    }

    /// Two conversations in turn, each turn for `auto` or a pinned model, through a worker's
    /// memo and shared data: every turn decides as a whole scan does. The scan's digests are
    /// made by `auto`'s scan only, kept with the memo's entry of that very conversation, and
    /// taken by its next turn, which makes only its new messages' digests.
    #[test]
    fn the_memo_keeps_the_digests_of_auto_turns_for_their_own_conversation() {
        let config = config("");
        let ctx = Context { now: 1_000, ..Context::default() };
        let mut rng = Rng(31);
        let memo = crate::decide::memo::Memo::new(&config.prefix_cache);
        let mut slots = Slots::default();
        let mut talks: [Vec<Value>; 2] = [vec![rng.message(1)], vec![rng.message(1)]];
        let mut auto_turns = 0;
        for turn in 0..120 {
            let talk = &mut talks[turn % 2];
            for _ in 0..1 + rng.below(2) {
                talk.push(rng.message(talk.len()));
            }
            let model = if rng.below(3) == 0 { "claude-sonnet-4-6" } else { "auto" };
            let b = json!({"model": model, "messages": &talk}).to_string();
            let whole = analyze(&config, b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let map = &slots.0;
            let mut read = |k: &str| map.get(k).cloned();
            let a = analyze_with_memo(&config, b.as_bytes(), Some(&mut read), 1_000, Some(&memo))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a.req.features, whole.req.features, "turn {turn}");
            assert_eq!(a.auto(), whole.auto(), "turn {turn}");
            assert_eq!(a.route(&config, &ctx), whole.route(&config, &ctx), "turn {turn}");
            let truth = prefix::chain(prefix::EMPTY, b.as_bytes(), &a.req.spans);
            assert!(truth.starts_with(&a.req.chain), "turn {turn}");
            if let Some(m) = a.prefix_memory() {
                slots.0.insert(m.key.clone(), m.value.clone());
            }
            if model == "auto" {
                auto_turns += 1;
                // Kept with this conversation's entry, whole.
                let kept = memo.parses.borrow().chains();
                assert!(kept.contains(&(talk.len(), talk.len())), "turn {turn}: {kept:?}");
            }
        }
        assert!(auto_turns > 60, "{auto_turns}");
        assert!(memo.hits().0 > 100, "{:?}", memo.hits());
    }

    #[test]
    fn a_changed_earlier_message_an_expired_state_or_a_garbled_slot_is_a_whole_scan() {
        let config = config(r#","ttl_secs":60"#);
        let mut rng = Rng(11);
        let messages: Vec<Value> = (0..6).map(|i| rng.message(i)).collect();
        let mut edited = messages.clone();
        edited[1] = json!({"role": "user", "content": "a different question"});
        let (earlier, later, other) = (body(&messages[..4]), body(&messages), body(&edited));
        let mut slots = Slots::default();
        slots.analyze(&config, &earlier, 1_000);
        // Same first message, different second: the digest of the first four differs.
        assert_eq!(slots.analyze(&config, &other, 1_000).resumed(), None);
        assert_eq!(slots.analyze(&config, &later, 1_059).resumed(), Some(4));
        // The state of all six is remembered too (until 1,119); after both expired: whole.
        assert_eq!(slots.analyze(&config, &later, 1_100).resumed(), Some(6));
        assert_eq!(slots.analyze(&config, &later, 1_200).resumed(), None);
        // A value cut short or with a varint that never ends is a miss, not a wrong state.
        let garble: [fn(&mut Vec<u8>); 2] =
            [|v| v.truncate(v.len() - 3), |v| *v.last_mut().unwrap_or(&mut 0) |= 0x80];
        for g in garble {
            let mut garbled = Slots(slots.0.clone());
            garbled.0.values_mut().for_each(g);
            assert_eq!(garbled.analyze(&config, &later, 1_201).resumed(), None);
        }
        assert_eq!(slots.analyze(&config, &later, 1_201).resumed(), Some(6));
    }

    #[test]
    fn small_conversations_and_a_cache_turned_off_are_scanned_whole_and_remember_nothing() {
        let mut rng = Rng(3);
        let messages: Vec<Value> = (0..5).map(|i| rng.message(i)).collect();
        let later = body(&messages);
        for config in [
            Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")), // min_bytes 16 KiB
            config(r#","slots":0"#),
        ] {
            let mut slots = Slots::default();
            slots.analyze(&config, &body(&messages[..3]), 1_000);
            let a = slots.analyze(&config, &later, 1_000);
            assert_eq!((a.resumed(), a.prefix_memory(), slots.0.len()), (None, None, 0));
        }
    }

    /// A chain starts from the key: a state written under one key is never resumed under
    /// another, and no digest of one is a digest of the other.
    #[test]
    fn digests_and_resumed_scans_follow_the_key() {
        let messages: Vec<Value> = (0..6)
            .map(|i| json!({"role": if i % 2 == 0 { "user" } else { "assistant" }, "content": format!("turn {i} ")}))
            .collect();
        let body = |m: &[Value]| json!({"model": "auto", "messages": m}).to_string();
        let (first, later) = (body(&messages[..3]), body(&messages));
        let mut keyed = config("");
        keyed.prefix_cache.key = Digest(7, 11);
        for (writer, reader, resumes) in [(&keyed, &keyed, true), (&config(""), &keyed, false)] {
            let mut slots = Slots::default();
            slots.analyze(writer, &first, 1_000);
            let a = slots.analyze(reader, &later, 1_000);
            assert_eq!(a.resumed(), resumes.then_some(3));
        }
        let spans = [(0, 5), (5, 9)];
        let (a, b) = (
            prefix::chain(prefix::EMPTY, b"helloworld", &spans),
            prefix::chain(Digest(7, 11), b"helloworld", &spans),
        );
        assert!(a.iter().all(|d| !b.contains(d)), "{a:?} {b:?}");
    }

    /// The lanes' old weakness: a word's top bit flipped went through its multiply as that bit
    /// alone, and the next word could flip it back, whatever the key. Each word is now
    /// multiplied in twice with a rotation between, so that pair of flips changes the digest.
    #[test]
    fn a_flipped_top_bit_is_not_made_up_for_in_the_next_word() {
        let m: Vec<u8> = (0..64u8).map(|i| b'a' + i % 26).collect();
        for (lane, r) in [(0usize, 31u32), (1, 29), (2, 27), (3, 33)] {
            let mut x = m.clone();
            let at = lane * 8;
            x[at + 7] ^= 0x80;
            // Bit 63 rotated left by r, in the same lane's word of the next block.
            let bit = (63 + r) % 64;
            x[32 + at + (bit / 8) as usize] ^= 1 << (bit % 8);
            for key in [prefix::EMPTY, Digest(7, 11)] {
                assert_ne!(prefix::digest(key, &m), prefix::digest(key, &x), "lane {lane}");
            }
        }
    }

    #[test]
    fn digests_tell_message_boundaries_and_every_byte_apart() {
        let d = |parts: &[&[u8]]| parts.iter().fold(prefix::EMPTY, |at, p| prefix::digest(at, p));
        let base = d(&[b"hello world, this is a message", b"and another"]);
        assert_ne!(base, d(&[b"hello world, this is a messag", b"eand another"]));
        assert_ne!(base, d(&[b"hello world, this is a message and another"]));
        for i in 0..30 {
            let mut m = b"hello world, this is a message".to_vec();
            m[i] ^= 1;
            assert_ne!(base, d(&[&m, b"and another"]), "byte {i}");
        }
        // Past the tail: every byte of every length up to 100 (whole 32-byte blocks, words,
        // a last partial word), a zero byte added, two words swapped.
        let long: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        let mut seen = std::collections::HashSet::new();
        for n in 0..=long.len() {
            let m = &long[..n];
            let at = d(&[m]);
            assert!(seen.insert((at.0, at.1)), "length {n}");
            let mut padded = m.to_vec();
            padded.push(0);
            assert_ne!(at, d(&[&padded]), "length {n} and a zero byte");
            for i in 0..n {
                let mut flipped = m.to_vec();
                flipped[i] ^= 0x80;
                assert_ne!(at, d(&[&flipped]), "byte {i} of {n}");
            }
        }
        let mut swapped = long.clone();
        swapped[..8].copy_from_slice(&long[32..40]);
        swapped[32..40].copy_from_slice(&long[..8]);
        assert_ne!(d(&[&long]), d(&[&swapped]));
    }
}
