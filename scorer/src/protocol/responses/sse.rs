//! Server-sent-event framing: bytes split anywhere in, whole events' `data` out.
//!
//! Lines end in `\n`, `\r\n` or `\r` (a `\r\n` split between two calls is one line end);
//! `data:` lines of one event are joined with `\n`; a blank line ends the event. `event:`,
//! `id:`, `retry:` and comments carry nothing the translator needs (every Responses event
//! names its type inside its data). Any other line is not SSE: the stream is refused rather
//! than guessed at.

/// Largest event held while it arrives, 16 MiB: a `response.completed` event repeats the whole
/// answer, tool definitions and instructions, so it can be far larger than a delta, yet
/// memory per stream stays bounded.
pub const MAX_EVENT: usize = 16 << 20;

/// The framing state carried between calls.
#[derive(Debug, Default)]
pub(crate) struct Sse {
    /// The line read so far (no terminator yet).
    line: Vec<u8>,
    /// The current event's data lines, joined.
    data: Vec<u8>,
    /// A `data:` line was read for the current event (its data may be empty).
    has_data: bool,
    /// The last byte read ended a line with `\r`: a `\n` right after it is the same line end.
    after_cr: bool,
}

impl Sse {
    /// Reads `chunk`, appending each completed event's data to `events`. Err: the bytes are
    /// not SSE or an event outgrew [`MAX_EVENT`]; events before the fault are in `events`.
    pub(crate) fn push(&mut self, chunk: &[u8], events: &mut Vec<Vec<u8>>) -> Result<(), String> {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.after_cr && rest.first() == Some(&b'\n') {
                rest = rest.get(1..).unwrap_or_default();
                self.after_cr = false;
                continue;
            }
            self.after_cr = false;
            match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(at) => {
                    let (head, tail) = rest.split_at(at);
                    self.line.extend_from_slice(head);
                    self.after_cr = tail.first() == Some(&b'\r');
                    rest = tail.get(1..).unwrap_or_default();
                    self.check_size()?;
                    let line = std::mem::take(&mut self.line);
                    self.read_line(&line, events)?;
                }
                None => {
                    self.line.extend_from_slice(rest);
                    rest = &[];
                    self.check_size()?;
                }
            }
        }
        Ok(())
    }

    /// The input ended: an unterminated last line is read as a line (or dropped if it is not
    /// one: a cut-off field name is the stream's truncation, not garbage), and an event that
    /// got no closing blank line is handed out as `Some(data)`, for the caller to use only if
    /// it is whole.
    pub(crate) fn finish(&mut self, events: &mut Vec<Vec<u8>>) -> Option<Vec<u8>> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            // Dropped on error, as said above.
            let _cut = self.read_line(&line, events);
        }
        let tail = self.has_data.then(|| std::mem::take(&mut self.data));
        self.has_data = false;
        tail
    }

    /// Fails once the pending event is larger than [`MAX_EVENT`].
    fn check_size(&self) -> Result<(), String> {
        if self.line.len() + self.data.len() > MAX_EVENT {
            return Err(format!("an event is larger than {} MiB", MAX_EVENT >> 20));
        }
        Ok(())
    }

    /// One whole line.
    fn read_line(&mut self, line: &[u8], events: &mut Vec<Vec<u8>>) -> Result<(), String> {
        if line.is_empty() {
            if self.has_data {
                events.push(std::mem::take(&mut self.data));
                self.has_data = false;
            }
            return Ok(());
        }
        if line.first() == Some(&b':') {
            return Ok(());
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(at) => {
                let (f, v) = line.split_at(at);
                let v = v.get(1..).unwrap_or_default();
                (f, v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
                Ok(())
            }
            // `event`, `id`, `retry` and any other field are ignored, as the SSE standard says
            // (a proxy may add its own); a body that is not a stream of events ends with no
            // `response.completed`, which the translator reports.
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(parts: &[&[u8]]) -> (Vec<String>, Result<Option<Vec<u8>>, String>) {
        let mut sse = Sse::default();
        let mut events = Vec::new();
        let mut res = Ok(None);
        for p in parts {
            if let Err(e) = sse.push(p, &mut events) {
                res = Err(e);
            }
        }
        if res.is_ok() {
            res = Ok(sse.finish(&mut events));
        }
        (events.iter().map(|e| String::from_utf8_lossy(e).into_owned()).collect(), res)
    }

    #[test]
    fn line_ends_data_lines_and_ignored_fields() {
        type Case<'a> = (&'a [&'a [u8]], &'a [&'a str], Result<Option<&'a str>, ()>);
        let cases: [Case<'_>; 11] = [
            (&[b"data: a\n\n"], &["a"], Ok(None)),
            (&[b"data: a\r\n\r\n"], &["a"], Ok(None)),
            (&[b"data: a\r\r"], &["a"], Ok(None)),
            (&[b"data: a\r", b"\n\r", b"\n"], &["a"], Ok(None)),
            (&[b"event: x\nid: 1\nretry: 5\n: comment\ndata:a\ndata: b\n\n"], &["a\nb"], Ok(None)),
            (&[b"data: a\n\ndata: b"], &["a"], Ok(Some("b"))),
            (&[b"\n\n\n"], &[], Ok(None)),
            (&[b"data: a\n\n<html>\n"], &["a"], Ok(None)),
            (&[b"x-proxy: 1\ndata: a\n\n"], &["a"], Ok(None)),
            (&[b"data: a\n\ndata"], &["a"], Ok(Some(""))),
            (&[b"data: a\n\nda"], &["a"], Ok(None)),
        ];
        for (parts, want, tail) in cases {
            let (events, res) = frame(parts);
            assert_eq!(events, want, "{parts:?}");
            let got = res.map(|t| t.map(|t| String::from_utf8_lossy(&t).into_owned())).map_err(|_| ());
            assert_eq!(got, tail.map(|t| t.map(str::to_string)), "{parts:?}");
        }
    }

    #[test]
    fn an_event_larger_than_the_cap_fails() {
        let mut sse = Sse::default();
        let mut events = Vec::new();
        let mb = vec![b'x'; 1 << 20];
        assert_eq!(sse.push(b"data: ", &mut events), Ok(()));
        let mut failed = false;
        for _ in 0..17 {
            if sse.push(&mb, &mut events).is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "17 MiB without a line end must fail");
        let mut sse = Sse::default();
        let mut line = b"data: ".to_vec();
        line.extend(vec![b'y'; (1 << 20) - 8]);
        line.push(b'\n');
        let mut results = Vec::new();
        for _ in 0..17 {
            results.push(sse.push(&line, &mut events).is_err());
        }
        assert!(results.contains(&true), "17 MiB of data lines in one event must fail");
    }
}
