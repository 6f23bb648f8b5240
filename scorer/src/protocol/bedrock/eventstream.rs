//! The `application/vnd.amazon.eventstream` framing ConverseStream answers in.
//!
//! A frame is a 12-byte prelude (total length, headers length, both 4-byte big-endian, and the
//! CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before it.
//! A header is a 1-byte name length, the name, a 1-byte value type and the value; only string
//! values (type 7) are kept, every other documented type is skipped by its size.

use std::fmt;

/// The largest frame accepted (prelude and CRCs included): a partial frame held across pushes
/// never grows past it, so a hostile or broken upstream cannot make the decoder buffer more.
pub const MAX_FRAME: u32 = 16 * 1024 * 1024;

/// The largest headers section accepted, botocore's limit (`_MAX_HEADERS_LENGTH`).
pub const MAX_HEADERS: u32 = 128 * 1024;

/// Prelude (12 bytes) plus the trailing message CRC (4 bytes): the smallest possible frame.
const OVERHEAD: u32 = 16;

/// One decoded frame: its string headers, in order, and its payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// Headers whose value is a string (type 7); headers of other types are skipped.
    pub headers: Vec<(String, String)>,
    /// The payload bytes (JSON for every ConverseStream event and exception).
    pub payload: Vec<u8>,
}

impl Frame {
    /// The value of the string header `name`, if the frame has one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why the bytes are not a valid event stream. Every error is final: the decoder answers it
/// again on every later call, since nothing after a broken frame can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The prelude's total length is below the 16 bytes a frame with no headers and no
    /// payload takes.
    TooShort(u32),
    /// The prelude's total length is above [`MAX_FRAME`].
    TooLong(u32),
    /// The headers length does not fit in the frame beside the prelude and CRC, or is above
    /// [`MAX_HEADERS`].
    HeadersLength {
        /// The headers length the prelude gave.
        headers: u32,
        /// The total length the prelude gave.
        total: u32,
    },
    /// The CRC32 of the prelude's first 8 bytes is not the one the prelude carries.
    PreludeCrc {
        /// The CRC the frame carries.
        expected: u32,
        /// The CRC of the bytes received.
        actual: u32,
    },
    /// The CRC32 of the whole frame before its last 4 bytes is not the one it ends with.
    MessageCrc {
        /// The CRC the frame carries.
        expected: u32,
        /// The CRC of the bytes received.
        actual: u32,
    },
    /// A header runs past the end of the headers section, or its name or string value is not
    /// UTF-8.
    BadHeader,
    /// A header's value type is not one of the documented types 0 to 9.
    UnknownHeaderType(u8),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooShort(n) => {
                write!(f, "event-stream frame length {n} is below the minimum of {OVERHEAD}")
            }
            FrameError::TooLong(n) => {
                write!(f, "event-stream frame length {n} is above the maximum of {MAX_FRAME}")
            }
            FrameError::HeadersLength { headers, total } => {
                write!(f, "event-stream headers length {headers} does not fit a frame of {total} bytes")
            }
            FrameError::PreludeCrc { expected, actual } => {
                write!(
                    f,
                    "event-stream prelude CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}"
                )
            }
            FrameError::MessageCrc { expected, actual } => {
                write!(
                    f,
                    "event-stream message CRC mismatch: frame says {expected:#010x}, bytes give {actual:#010x}"
                )
            }
            FrameError::BadHeader => write!(f, "event-stream header is truncated or not UTF-8"),
            FrameError::UnknownHeaderType(t) => write!(f, "event-stream header value type {t} is unknown"),
        }
    }
}

/// Turns bytes split anywhere into whole frames.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start: consumed frames are dropped in `push`, not one by
    /// one, so many small frames in one push cost linear time.
    start: usize,
    error: Option<FrameError>,
}

impl Decoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if self.start > 0 {
            self.buf.drain(..self.start.min(self.buf.len()));
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received and not yet returned as a frame.
    pub fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.start)
    }

    /// The next whole frame, `None` until one is complete, or the error that ended the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.decode() {
            Ok(frame) => Ok(frame),
            Err(e) => {
                self.buf = Vec::new();
                self.start = 0;
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn decode(&mut self) -> Result<Option<Frame>, FrameError> {
        let rest = self.buf.get(self.start..).unwrap_or_default();
        let (Some(total), Some(headers_len), Some(prelude_crc)) =
            (be32(rest, 0), be32(rest, 4), be32(rest, 8))
        else {
            return Ok(None);
        };
        // The prelude is checked before anything is buffered for the frame, so a corrupt length
        // fails at once instead of waiting for megabytes that will never make sense.
        let actual = crc32fast::hash(rest.get(..8).unwrap_or_default());
        if actual != prelude_crc {
            return Err(FrameError::PreludeCrc { expected: prelude_crc, actual });
        }
        if total < OVERHEAD {
            return Err(FrameError::TooShort(total));
        }
        if total > MAX_FRAME {
            return Err(FrameError::TooLong(total));
        }
        if headers_len > total - OVERHEAD || headers_len > MAX_HEADERS {
            return Err(FrameError::HeadersLength { headers: headers_len, total });
        }
        let total = total as usize;
        let Some(frame) = rest.get(..total) else { return Ok(None) };
        let body_end = total - 4;
        let expected = be32(frame, body_end).unwrap_or_default();
        let actual = crc32fast::hash(frame.get(..body_end).unwrap_or_default());
        if actual != expected {
            return Err(FrameError::MessageCrc { expected, actual });
        }
        let headers_end = 12 + headers_len as usize;
        let headers = parse_headers(frame.get(12..headers_end).unwrap_or_default())?;
        let payload = frame.get(headers_end..body_end).unwrap_or_default().to_vec();
        self.start += total;
        Ok(Some(Frame { headers, payload }))
    }
}

/// The 4-byte big-endian integer at `at`, if the bytes reach that far.
fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// Reads `n` bytes at `*at` and moves past them.
fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8], FrameError> {
    let out = bytes.get(*at..*at + n).ok_or(FrameError::BadHeader)?;
    *at += n;
    Ok(out)
}

fn parse_headers(bytes: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let name_len = take(bytes, &mut at, 1)?.first().copied().unwrap_or_default() as usize;
        let name = std::str::from_utf8(take(bytes, &mut at, name_len)?).map_err(|_| FrameError::BadHeader)?;
        let kind = take(bytes, &mut at, 1)?.first().copied().unwrap_or_default();
        let fixed = match kind {
            0 | 1 => 0,
            2 => 1,
            3 => 2,
            4 => 4,
            5 | 8 => 8,
            9 => 16,
            6 | 7 => {
                let len = take(bytes, &mut at, 2)?;
                let len =
                    u16::from_be_bytes([len.first().copied().unwrap_or(0), len.get(1).copied().unwrap_or(0)]);
                let value = take(bytes, &mut at, len as usize)?;
                if kind == 7 {
                    let value = std::str::from_utf8(value).map_err(|_| FrameError::BadHeader)?;
                    out.push((name.to_string(), value.to_string()));
                }
                continue;
            }
            other => return Err(FrameError::UnknownHeaderType(other)),
        };
        take(bytes, &mut at, fixed)?;
    }
    Ok(out)
}

/// A frame with string headers and `payload`. Names are cut to 255 bytes and values to 65,535
/// (the widths of their length fields), so the frame is always well-formed. For tests and mocks.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut head = Vec::new();
    for (name, value) in headers {
        let name = name.as_bytes().get(..name.len().min(255)).unwrap_or_default();
        let value = value.as_bytes().get(..value.len().min(65_535)).unwrap_or_default();
        head.push(name.len() as u8);
        head.extend_from_slice(name);
        head.push(7);
        head.extend_from_slice(&(value.len() as u16).to_be_bytes());
        head.extend_from_slice(value);
    }
    let total = OVERHEAD as usize + head.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[cfg(test)]
mod tests;
