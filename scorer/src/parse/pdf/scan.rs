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

/// Whether the bytes after a `/Type` name a page: `/Page` ended by a delimiter, whitespace or
/// the end (not `/Pages`). What cannot be told from them counts as a page, over rather than
/// under: a value past the bytes read (a long comment or run of whitespace before it), or an
/// indirect one (`/Type 12 0 R`, an object elsewhere holding the name), which no writer uses
/// for a type and a PDF made to be under-counted would.
pub(super) fn is_page(after: &[u8]) -> bool {
    // The name is `/Type` itself, not one that begins so (a font's `/Subtype /Type1`).
    if after.first().is_some_and(|b| !is_space(*b) && !b"()<>[]{}/%".contains(b)) {
        return false;
    }
    match value(after) {
        None => true,
        Some(v) if v.first().is_some_and(u8::is_ascii_digit) => true,
        Some(v) => names(v, b"/Page"),
    }
}

/// Whether the bytes after a `/Type` name the type `name`, ended by a delimiter, whitespace or
/// the end.
pub(super) fn is_type(after: &[u8], name: &[u8]) -> bool {
    value(after).is_some_and(|v| names(v, name))
}

/// Whether `value` begins with the name `name`, ended by a delimiter, whitespace or the end.
fn names(value: &[u8], name: &[u8]) -> bool {
    let Some(rest) = value.strip_prefix(name) else { return false };
    rest.first().is_none_or(|b| is_space(*b) || b"()<>[]{}/%".contains(b))
}

/// The bytes of a key's value: past whitespace and comments (`%` to the line's end, which PDF
/// reads as whitespace: a page written `/Type%x\n/Page` was no page). `None` when they end
/// first.
fn value(after: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    loop {
        match after.get(at)? {
            b if is_space(*b) => at += 1,
            b'%' => at += after.get(at..)?.iter().position(|b| matches!(b, b'\n' | b'\r'))?,
            _ => return after.get(at..),
        }
    }
}

/// PDF whitespace.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}
