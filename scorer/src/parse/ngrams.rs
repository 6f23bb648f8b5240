//! Hashed word and character n-grams of a text: the inputs `scripts/train_auto.py` fits a
//! learned layer on. They are computed here, in Rust, and printed by `model-router-auto
//! --features`, so tokenising and hashing exist once and training sees exactly what a scorer
//! would compute.
//!
//! Input is a message text as the parser hands it over (JSON string content, escapes in
//! place). Words are runs of ASCII letters and digits (lower-cased) and non-ASCII characters;
//! `\uXXXX` escapes are decoded, so an escaped and a raw `é` give the same n-grams. Each word
//! gives its unigram, its bigram with the previous word, and the byte trigrams of `^word$`
//! (the first [`MAX_TRIGRAMS`]), which carry words without spaces between them (Chinese,
//! Japanese) and inflections.

/// Bytes of a word kept for its n-grams; the rest of a longer word is ignored.
pub const MAX_WORD_BYTES: usize = 32;

/// Character trigrams taken per word.
pub const MAX_TRIGRAMS: usize = 12;

const FNV32_OFFSET: u32 = 0x811c_9dc5;
const FNV32_PRIME: u32 = 0x0100_0193;

fn fnv32(hash: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(hash, |h, &b| (h ^ u32::from(b)).wrapping_mul(FNV32_PRIME))
}

/// The bucket of one n-gram: FNV-1a of a kind tag and the bytes, folded to `bits` bits.
fn bucket(kind: u8, parts: &[&[u8]], bits: u32) -> u32 {
    let mut h = fnv32(FNV32_OFFSET, &[kind]);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h = fnv32(h, b" ");
        }
        h = fnv32(h, p);
    }
    let mask = (1u32 << bits) - 1;
    (h ^ (h >> bits)) & mask
}

/// The words of `raw` (JSON string content), lower-cased, escapes decoded, each at most
/// [`MAX_WORD_BYTES`] bytes.
pub fn words(raw: &[u8]) -> Vec<Vec<u8>> {
    fn push(word: &mut Vec<u8>, bytes: &[u8]) {
        let room = MAX_WORD_BYTES.saturating_sub(word.len());
        word.extend(bytes.iter().take(room));
    }
    let mut out = Vec::new();
    let mut word: Vec<u8> = Vec::new();
    let mut flush = |word: &mut Vec<u8>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            if b.is_ascii_alphanumeric() {
                push(&mut word, &[b.to_ascii_lowercase()]);
            } else if b >= 0x80 {
                push(&mut word, &[b]);
            } else {
                flush(&mut word);
            }
            continue;
        }
        let Some((&e, tail)) = rest.split_first() else { break };
        rest = tail;
        let unit = if e == b'u' {
            rest.get(..4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok())
        } else {
            None
        };
        match unit {
            Some(u) => {
                rest = rest.get(4..).unwrap_or_default();
                // Surrogate halves and controls end a word; other escaped characters are
                // letters of it, as their raw UTF-8 would be.
                match char::from_u32(u) {
                    Some(c) if !c.is_ascii() => push(&mut word, c.encode_utf8(&mut [0; 4]).as_bytes()),
                    Some(c) if c.is_ascii_alphanumeric() => push(&mut word, &[c.to_ascii_lowercase() as u8]),
                    _ => flush(&mut word),
                }
            }
            None => flush(&mut word),
        }
    }
    flush(&mut word);
    out
}

/// The sorted, distinct buckets (of `2^bits`, `bits` in 1..=24) of the n-grams of `raw`.
pub fn hashed(raw: &[u8], bits: u32) -> Vec<u32> {
    let bits = bits.clamp(1, 24);
    let words = words(raw);
    let mut out = Vec::with_capacity(words.len() * (2 + MAX_TRIGRAMS));
    let mut padded = Vec::with_capacity(MAX_WORD_BYTES + 2);
    let mut previous: Option<&Vec<u8>> = None;
    for w in &words {
        out.push(bucket(b'w', &[w], bits));
        if let Some(p) = previous {
            out.push(bucket(b'b', &[p, w], bits));
        }
        previous = Some(w);
        padded.clear();
        padded.push(b'^');
        padded.extend_from_slice(w);
        padded.push(b'$');
        for t in padded.windows(3).take(MAX_TRIGRAMS) {
            out.push(bucket(b'c', &[t], bits));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_escapes_decoded() {
        let w = |s: &[u8]| words(s).into_iter().map(|w| String::from_utf8(w).unwrap()).collect::<Vec<_>>();
        assert_eq!(w(br"Write a Python\nfunction, caf\u00e9!"), ["write", "a", "python", "function", "café"]);
        assert_eq!(w("café".as_bytes()), w(br"caf\u00e9"));
        assert_eq!(w(br#"say \"hi\" \u0041B"#), ["say", "hi", "ab"]);
        assert_eq!(words(&[b'x'; 100])[0].len(), MAX_WORD_BYTES);
    }

    #[test]
    fn buckets_are_sorted_distinct_bounded_and_stable() {
        let h = hashed(b"prove that prove that", 10);
        assert!(h.windows(2).all(|p| p[0] < p[1]));
        assert!(h.iter().all(|&b| b < 1024));
        // 2 unigrams, 2 distinct bigrams ("prove that", "that prove"), trigrams of ^prove$ and ^that$.
        assert!(h.len() <= 4 + 5 + 4 && h.len() >= 8, "{h:?}");
        assert_eq!(hashed(b"Prove THAT", 10), hashed(b"prove that", 10));
        assert!(hashed(b"", 10).is_empty());
        // The hash is part of the contract with trained weights: it must not drift.
        assert_eq!(bucket(b'w', &[b"prove"], 12), bucket(b'w', &[b"prove"], 12));
        assert_eq!(fnv32(FNV32_OFFSET, b"a"), 0xe40c_292c);
    }
}
