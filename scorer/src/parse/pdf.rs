//! The pages of a PDF a `file` part carries, counted in its base64 without decoding it.
//!
//! Providers bill a PDF by its pages (each page's text and an image of it), not by its bytes: a
//! 10 KB PDF of 100 blank pages costs what 100 pages do. A page object says `/Type /Page` (its
//! tree's nodes say `/Pages`), and each such marker is found in the base64 as its encoding at
//! each of the three byte alignments, where that encoding falls in the payload. A PDF whose
//! page objects sit in compressed object streams (PDF 1.5's `/ObjStm`) shows none: it is
//! counted by its bytes, as before. A writer spaces its markers one way, so the second way is
//! looked for only when the first finds none: three passes over the base64, or six.

use memchr::memmem;

/// The data URL prefix before a file's base64 payload.
const BASE64: &str = ";base64,";

/// Pages whose page object `raw` (a `file` part's JSON text) shows in its base64 payload; 0
/// without one.
pub(crate) fn pages(raw: &str) -> u64 {
    let Some(at) = raw.find(BASE64) else { return 0 };
    let payload = raw.get(at + BASE64.len()..).unwrap_or_default();
    let payload = payload.split('"').next().unwrap_or_default().as_bytes();
    match found(payload, b"/Type /Page") {
        0 => found(payload, b"/Type/Page"),
        n => n,
    }
}

/// Times `marker` stands in the bytes `payload` encodes in base64, at any byte offset, but
/// followed by an `s` (the page tree's `/Pages`).
fn found(payload: &[u8], marker: &[u8]) -> u64 {
    (0..3)
        .map(|k| {
            // `k` bytes before the marker in its first group: the characters that hold only
            // the marker's bits, and where they start within a group of four.
            let mut bytes = vec![0; k];
            bytes.extend_from_slice(marker);
            let encoded = encode(&bytes);
            let first = (8 * k).div_ceil(6);
            let last = (8 * (k + marker.len())) / 6;
            let Some(core) = encoded.get(first..last) else { return 0 };
            let next = |at: usize| at.saturating_sub(first) / 4 * 3 + k + marker.len();
            memmem::find_iter(payload, core)
                .filter(|at| at % 4 == first % 4 && decoded(payload, next(*at)) != Some(b's'))
                .count() as u64
        })
        .sum()
}

/// The byte at `index` of what `payload`, base64, encodes; `None` past its end.
fn decoded(payload: &[u8], index: usize) -> Option<u8> {
    let start = index / 3 * 4;
    let quad = payload.get(start..start + 4)?;
    let n = quad.iter().try_fold(0u32, |n, c| Some(n << 6 | value(*c)?))?;
    Some(((n >> (16 - 8 * (index % 3))) & 0xff) as u8)
}

/// A base64 character's six bits.
fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Standard base64 of `bytes`, without padding.
fn encode(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=group.len() {
            out.push(ALPHABET.get(((n >> (18 - 6 * i)) & 63) as usize).copied().unwrap_or(b'A'));
        }
    }
    out
}

/// A `file` part's `file` member carrying `pdf` as a data URL, padded as encoders write it.
#[cfg(test)]
pub(crate) fn part(pdf: &[u8]) -> String {
    let mut b64 = String::from_utf8(encode(pdf)).unwrap_or_default();
    while !b64.len().is_multiple_of(4) {
        b64.push('=');
    }
    format!(r#"{{"filename":"a.pdf","file_data":"data:application/pdf;base64,{b64}"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page objects are counted at every byte offset, written with or without a space; the
    /// page tree's nodes (`/Pages`) are not; markers in the filename or another part are not
    /// read.
    #[test]
    fn counts_page_objects_at_every_alignment_and_not_the_tree() {
        for (shift, ty) in (0..6).flat_map(|s| [(s, "/Type /Page"), (s, "/Type/Page")]) {
            let mut pdf = format!("%PDF-1.4\n{}", "x".repeat(shift));
            pdf.push_str("1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
            pdf.push_str(&format!("2 0 obj << {ty}s /Kids [3 0 R] /Count 7 >> endobj\n"));
            for n in 0..7 {
                pdf.push_str(&format!("{} 0 obj << {ty} /Parent 2 0 R >> endobj\n{}", n + 3, "y".repeat(n)));
            }
            assert_eq!(pages(&part(pdf.as_bytes())), 7, "shift {shift} {ty}");
        }
        assert_eq!(pages(r#"{"filename":"/Type /Page","file_id":"file-1"}"#), 0);
        assert_eq!(pages(&part(b"%PDF-1.5 compressed object streams only")), 0);
    }

    /// A page marker at the payload's very end is a page; decoding reads what encoding wrote.
    #[test]
    fn decodes_what_it_encodes() {
        let bytes = b"any bytes \xff\x00 at all";
        let b64 = encode(bytes);
        for (i, b) in bytes.iter().enumerate().take(bytes.len() / 3 * 3) {
            assert_eq!(decoded(&b64, i), Some(*b), "{i}");
        }
        assert_eq!(pages(&part(b"/Type /Page")), 1);
    }

    #[test]
    fn encodes_as_the_standard_alphabet_does() {
        assert_eq!(encode(b"Man"), b"TWFu");
        assert_eq!(encode(b"Ma"), b"TWE");
        assert_eq!(encode(b"M"), b"TQ");
        assert_eq!(encode(b"\xfb\xff"), b"+/8");
    }
}
