//! Reading a PDF inside its base64: bytes decoded a window at a time, and the names and
//! whitespace a page counter looks for.

use crate::parse::base64::quad;

/// The `len` bytes from byte `start` of what `payload`, base64, encodes (fewer at its end),
/// each group of four characters decoded once.
pub(super) fn window(payload: &[u8], start: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 3);
    let mut group = start / 3;
    while out.len() < len + start % 3 {
        let (bytes, n) = quad(payload, group);
        out.extend_from_slice(bytes.get(..n).unwrap_or_default());
        if n < 3 {
            break;
        }
        group += 1;
    }
    out.drain(..(start % 3).min(out.len()));
    out.truncate(len);
    out
}

/// Whether the bytes after a `/Type` name a page: whitespace, then `/Page` ended by a
/// delimiter, whitespace or the end (not `/Pages`).
pub(super) fn is_page(after: &[u8]) -> bool {
    is_type(after, b"/Page")
}

/// Whether the bytes after a `/Type` name the type `name`, ended by a delimiter, whitespace or
/// the end.
pub(super) fn is_type(after: &[u8], name: &[u8]) -> bool {
    let start = after.iter().position(|b| !is_space(*b)).unwrap_or(after.len());
    let Some(rest) = after.get(start..).and_then(|a| a.strip_prefix(name)) else { return false };
    rest.first().is_none_or(|b| is_space(*b) || b"()<>[]{}/%".contains(b))
}

/// PDF whitespace.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}
