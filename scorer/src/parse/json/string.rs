//! Strings: borrowed when they have no escapes, decoded (with surrogate pairs) when they do,
//! or skipped without allocating. A second `impl Reader` so the reader's structure and its
//! string handling each fit in one screen.

use std::borrow::Cow;

use super::{JsonErrorKind, Reader, Result};

impl<'a> Reader<'a> {
    /// Reads a string value; borrowed when it has no escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let b = self.bytes();
        // Fast path: no escapes, so the slice of the source is the value.
        let i = plain_until(b, start);
        match b.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(self.slice(start, i)));
            }
            Some(0..=0x1f) => {
                self.pos = i;
                return self.err(JsonErrorKind::ControlInString);
            }
            _ => {}
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.slice(start, i));
        self.pos = i;
        self.string_escaped(out).map(Cow::Owned)
    }

    pub(super) fn slice(&self, start: usize, end: usize) -> &'a str {
        // Offsets only ever stop at ASCII bytes ('"', '\\', control), which are char boundaries.
        self.src.get(start..end).unwrap_or("")
    }

    fn string_escaped(&mut self, mut out: String) -> Result<String> {
        let b = self.bytes();
        loop {
            let run_start = self.pos;
            while let Some(&c) = b.get(self.pos) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.slice(run_start, self.pos));
            match b.get(self.pos) {
                None => return self.err(JsonErrorKind::UnexpectedEnd),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = match b.get(self.pos) {
                        Some(&e) => e,
                        None => return self.err(JsonErrorKind::UnexpectedEnd),
                    };
                    self.pos += 1;
                    self.escaped += usize::from(esc != b'u');
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => {
                            self.pos -= 1;
                            return self.err(JsonErrorKind::BadEscape);
                        }
                    }
                }
                Some(_) => return self.err(JsonErrorKind::ControlInString),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = match self.bytes().get(self.pos..self.pos + 4) {
            Some(d) => d,
            None => return self.err(JsonErrorKind::BadEscape),
        };
        let mut v = 0u32;
        for &d in digits {
            let n = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return self.err(JsonErrorKind::BadEscape),
            };
            v = v * 16 + u32::from(n);
        }
        self.pos += 4;
        Ok(v)
    }

    /// Decodes the digits after `\u`, joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char> {
        // The escape's `\u` is behind.
        let start = self.pos - 2;
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                return self.err(JsonErrorKind::LoneSurrogate);
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return self.err(JsonErrorKind::LoneSurrogate);
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else if (0xDC00..0xE000).contains(&hi) {
            return self.err(JsonErrorKind::LoneSurrogate);
        } else {
            hi
        };
        match char::from_u32(code) {
            Some(c) => {
                self.escaped += (self.pos - start).saturating_sub(c.len_utf8());
                Ok(c)
            }
            None => self.err(JsonErrorKind::BadEscape),
        }
    }

    /// Validates a string without decoding it; returns its raw text between the quotes
    /// (escapes still in place).
    pub fn raw_string(&mut self) -> Result<&'a str> {
        self.peek();
        let start = self.pos + 1;
        self.skip_string()?;
        Ok(self.slice(start, self.pos - 1))
    }

    /// [`Reader::raw_string`], and the bytes of the UTF-8 it stands for.
    pub fn raw_string_sized(&mut self) -> Result<(&'a str, usize)> {
        let escaped = self.escaped;
        let text = self.raw_string()?;
        Ok((text, text.len().saturating_sub(self.escaped - escaped)))
    }

    /// Skips a string without decoding it; returns its raw byte length between the quotes.
    pub fn skip_string(&mut self) -> Result<usize> {
        self.eat(b'"')?;
        let start = self.pos;
        let b = self.bytes();
        loop {
            // Eight bytes at a time up to the first that needs a look: most text needs none.
            self.pos = plain_until(b, self.pos);
            let Some(&c) = b.get(self.pos) else { break };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(self.pos - 1 - start);
                }
                b'\\' => {
                    self.pos += 1;
                    match b.get(self.pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                            self.escaped += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.unicode_escape()?;
                        }
                        Some(_) => return self.err(JsonErrorKind::BadEscape),
                        None => return self.err(JsonErrorKind::UnexpectedEnd),
                    }
                }
                // `plain_until` stops at nothing else.
                _ => return self.err(JsonErrorKind::ControlInString),
            }
        }
        self.err(JsonErrorKind::UnexpectedEnd)
    }
}

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `x` that is below `n` (n at most 128), and possibly of bytes
/// after the first such one: exact as "any", and the lowest set bit marks the first.
#[inline]
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// The high bit of each byte equal to `v` (exact for the first, as [`below`]).
#[inline]
fn equal(x: u64, v: u8) -> u64 {
    below(x ^ (ONES * u64::from(v)), 1)
}

/// From `pos`, the offset of the first byte in `b` that is a quote, a backslash or a control
/// character (or `b.len()`): eight bytes per step, then the bytes one by one.
#[inline]
pub(super) fn plain_until(b: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = b.get(pos..pos + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let special = below(x, 0x20) | equal(x, b'"') | equal(x, b'\\');
        if special != 0 {
            return pos + (special.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while b.get(pos).is_some_and(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::plain_until;

    #[test]
    fn plain_until_finds_the_first_quote_backslash_or_control_byte() {
        // Every special byte at every offset of a 20-byte run, after every byte value.
        for special in [b'"', b'\\', 0x00, 0x0a, 0x1f] {
            for at in 0..20 {
                for before in 0..=255u8 {
                    let mut text = vec![before.max(0x20); 20];
                    if before == b'"' || before == b'\\' {
                        text.fill(b'a');
                    }
                    text[at] = special;
                    assert_eq!(plain_until(&text, 0), at, "{special} at {at} after {before}");
                }
            }
        }
        // Bytes from 0x20 up, UTF-8 included, are plain.
        let plain: Vec<u8> = (0x20..=0xffu8).filter(|&c| c != b'"' && c != b'\\').collect();
        assert_eq!(plain_until(&plain, 0), plain.len());
        assert_eq!(plain_until(b"abc", 3), 3);
    }
}
