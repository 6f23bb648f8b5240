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
        let mut i = start;
        // Fast path: no escapes, so the slice of the source is the value.
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(self.slice(start, i)));
                }
                b'\\' => break,
                0..=0x1f => {
                    self.pos = i;
                    return self.err(JsonErrorKind::ControlInString);
                }
                _ => i += 1,
            }
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
            Some(c) => Ok(c),
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

    /// Skips a string without decoding it; returns its raw byte length between the quotes.
    pub fn skip_string(&mut self) -> Result<usize> {
        self.eat(b'"')?;
        let start = self.pos;
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(self.pos - 1 - start);
                }
                b'\\' => {
                    self.pos += 1;
                    match b.get(self.pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
                        Some(b'u') => {
                            self.pos += 1;
                            self.unicode_escape()?;
                        }
                        Some(_) => return self.err(JsonErrorKind::BadEscape),
                        None => return self.err(JsonErrorKind::UnexpectedEnd),
                    }
                }
                0..=0x1f => return self.err(JsonErrorKind::ControlInString),
                _ => self.pos += 1,
            }
        }
        self.err(JsonErrorKind::UnexpectedEnd)
    }
}
