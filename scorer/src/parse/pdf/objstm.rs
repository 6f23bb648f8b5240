//! Page objects inside compressed object streams (PDF 1.5's `/Type /ObjStm`, which pdfTeX, Word
//! and most writers since use): their dictionary names the objects it holds (`/N`), where the
//! first begins (`/First`) and its compressed length; the stream, inflated, starts with the
//! objects' numbers and offsets. Each object that says `/Type /Page` is a page, named by its
//! number. Inflating and reading are bounded for a request's PDFs together ([`MOST_INFLATED`],
//! [`MOST_COMPRESSED`], [`MOST_READ`]): a body of deflate bombs, of empty deflate blocks (each
//! rebuilds the inflater's tables and writes nothing: about 3 µs a compressed byte in V8), or of
//! dictionaries naming streams that never end costs about a tenth of a second.

use memchr::memmem;
use miniz_oxide::inflate::decompress_to_vec_zlib_with_limit;

use super::scan::{is_page, is_space, window};

/// Bytes inflated for a request's PDFs at most.
const MOST_INFLATED: usize = 8 << 20;

/// Compressed bytes handed to the inflater for a request's PDFs at most, one stream or many:
/// what it costs is set by its input (4 MB of empty blocks held a worker 12 s; 128 KB of them,
/// 0.4 s), and honest object streams are small (pdfTeX's hold about 250 bytes a page: 9 KB for
/// 36 pages), so this counts the pages of some 130, at about 0.1 s at worst.
const MOST_COMPRESSED: usize = 32 << 10;

/// Bytes decoded for a request's object streams at most, their dictionaries and data together.
const MOST_READ: usize = 16 << 20;

/// Bytes read at a time of a stream whose length is another object's, to its `endstream`.
const CHUNK: usize = 16 << 10;

/// Bytes read around an object stream's `/Type` for its dictionary, each way.
const AROUND: usize = 256;

/// What reading object streams may still cost: one budget for a request's PDFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectStreams {
    /// Bytes that may still be inflated.
    left: usize,
    /// Bytes that may still be decoded.
    read: usize,
    /// Compressed bytes that may still be inflated.
    compressed: usize,
    /// `/Type` names read so far (`pdf::MOST_NAMES` at most).
    pub(super) names: usize,
}

impl ObjectStreams {
    pub(crate) fn new() -> Self {
        ObjectStreams { left: MOST_INFLATED, read: MOST_READ, compressed: MOST_COMPRESSED, names: 0 }
    }

    /// The `len` bytes at `start` of what `payload` encodes, within what may still be read.
    fn read(&mut self, payload: &[u8], start: usize, len: usize) -> Vec<u8> {
        let len = len.min(self.read);
        self.read -= len;
        window(payload, start, len)
    }

    /// The numbers of the page objects in the object stream whose `/Type` name starts at byte
    /// `name` of what `payload` (base64) encodes; none when it is no Flate-encoded object stream
    /// or the budget is spent.
    pub(super) fn pages(&mut self, payload: &[u8], name: usize) -> Vec<u64> {
        if self.left == 0 || self.read == 0 || self.compressed == 0 {
            return Vec::new();
        }
        let start = name.saturating_sub(AROUND);
        let head = self.read(payload, start, name - start + AROUND);
        let at = name - start;
        // The dictionary: from its `<<` to the `stream` keyword after it.
        let (Some(open), Some(keyword)) = (
            head.get(..at).and_then(|h| memmem::rfind(h, b"<<")),
            head.get(at..).and_then(|h| memmem::find(h, b"stream")).map(|k| k + at),
        ) else {
            return Vec::new();
        };
        // Read once, for the last `/Type` before its data: a dictionary of five `/Type /ObjStm`
        // names inflated its stream five times.
        if head.get(at + 5..keyword).is_some_and(|rest| memmem::find(rest, b"/Type").is_some()) {
            return Vec::new();
        }
        let dict = head.get(open..keyword).unwrap_or_default();
        let (Some(n), Some(first)) = (number(dict, b"/N"), number(dict, b"/First")) else {
            return Vec::new();
        };
        if memmem::find(dict, b"/FlateDecode").is_none() || memmem::find(dict, b"/DecodeParms").is_some() {
            return Vec::new();
        }
        // Its data: after the keyword's end of line, its `/Length` long (read to `endstream`
        // when the length is another object's).
        let eol = match head.get(keyword + 6..keyword + 8) {
            Some([b'\r', b'\n']) => 2,
            Some([b'\n' | b'\r', _]) => 1,
            _ => return Vec::new(),
        };
        let data = start + keyword + 6 + eol;
        let most = self.compressed;
        let compressed = match number(dict, b"/Length").filter(|_| !indirect(dict, b"/Length")) {
            Some(len) => self.read(payload, data, usize::try_from(len).unwrap_or(most).min(most)),
            // Read a chunk at a time, to `endstream`: charged whole, a few such streams spent the
            // budget on the bytes after them.
            None => {
                let mut read: Vec<u8> = Vec::new();
                while read.len() < most && self.read > 0 {
                    let chunk = self.read(payload, data + read.len(), CHUNK.min(most - read.len()));
                    let from = read.len().saturating_sub(b"endstream".len());
                    read.extend_from_slice(&chunk);
                    if let Some(end) = read.get(from..).and_then(|r| memmem::find(r, b"endstream")) {
                        read.truncate(from + end);
                        break;
                    }
                    if chunk.len() < CHUNK {
                        break;
                    }
                }
                read
            }
        };
        // A stream cut short (or past the budget) still gives what it inflated so far.
        self.compressed = self.compressed.saturating_sub(compressed.len().max(1));
        let inflated = decompress_to_vec_zlib_with_limit(&compressed, self.left).unwrap_or_else(|e| e.output);
        self.left = self.left.saturating_sub(inflated.len().max(1));
        objects(&inflated, n, first)
    }
}

/// The numbers of the page objects of an inflated object stream of `n` objects, the first at
/// `first`.
fn objects(inflated: &[u8], n: u64, first: u64) -> Vec<u64> {
    let first = usize::try_from(first).unwrap_or(usize::MAX);
    let Some(header) = inflated.get(..first) else { return Vec::new() };
    let mut numbers = header
        .split(|b| is_space(*b))
        .filter(|w| !w.is_empty())
        .map(|w| std::str::from_utf8(w).ok().and_then(|w| w.parse::<u64>().ok()));
    let mut entries: Vec<(u64, usize)> = Vec::new();
    while (entries.len() as u64) < n {
        let (Some(Some(number)), Some(Some(offset))) = (numbers.next(), numbers.next()) else { break };
        let Some(at) = usize::try_from(offset).ok().and_then(|o| o.checked_add(first)) else { break };
        // Offsets rise, so each object's bytes are read once: offsets that fell back (`1 0 1
        // L`, again and again) made a PDF of 13 KB scan its 4 MB again for each entry, a worker
        // held for minutes (found reviewing the diff).
        if entries.last().is_some_and(|&(_, before)| at <= before) {
            break;
        }
        entries.push((number, at));
    }
    let mut pages = Vec::new();
    for (i, &(number, at)) in entries.iter().enumerate() {
        let end = entries.get(i + 1).map_or(inflated.len(), |&(_, next)| next).min(inflated.len());
        let Some(body) = inflated.get(at..end) else { continue };
        let page = memmem::find_iter(body, b"/Type").any(|t| body.get(t + 5..).is_some_and(is_page));
        if page {
            pages.push(number);
        }
    }
    pages
}

/// The whole number after `key` (`/N 12`) in `dict`, where `key` is a name of its own (not the
/// start of `/Names`).
fn number(dict: &[u8], key: &[u8]) -> Option<u64> {
    memmem::find_iter(dict, key).find_map(|at| {
        let rest = dict.get(at + key.len()..)?;
        if !rest.first().is_some_and(|b| is_space(*b)) {
            return None;
        }
        let digits = rest.iter().skip_while(|b| is_space(**b)).take_while(|b| b.is_ascii_digit());
        let text: Vec<u8> = digits.copied().collect();
        std::str::from_utf8(&text).ok()?.parse().ok()
    })
}

/// Whether `key`'s value in `dict` is another object's (`/Length 12 0 R`).
fn indirect(dict: &[u8], key: &[u8]) -> bool {
    let Some(at) = memmem::find(dict, key) else { return false };
    let rest = dict.get(at + key.len()..).unwrap_or_default();
    let mut words = rest.split(|b| is_space(*b) || *b == b'/' || *b == b'>').filter(|w| !w.is_empty());
    let (a, b, c) = (words.next(), words.next(), words.next());
    let digits = |w: Option<&[u8]>| w.is_some_and(|w| w.iter().all(u8::is_ascii_digit));
    digits(a) && digits(b) && c == Some(b"R")
}

#[cfg(test)]
mod tests {
    use miniz_oxide::deflate::compress_to_vec_zlib;

    use super::super::part;
    use super::super::tests::count;
    use super::*;
    use crate::parse::base64::encode;

    /// An object stream numbered `number` holding `objects` (number, body) as writers make it:
    /// the numbers and offsets, then the bodies; its `/Length` written as `length` if given.
    fn object_stream(number: u64, objects: &[(u64, &str)], length: Option<&str>) -> Vec<u8> {
        let (mut header, mut bodies) = (String::new(), String::new());
        for (n, body) in objects {
            header.push_str(&format!("{n} {} ", bodies.len()));
            bodies.push_str(body);
            bodies.push('\n');
        }
        let compressed = compress_to_vec_zlib(format!("{header}{bodies}").as_bytes(), 6);
        let length = length.map_or_else(|| compressed.len().to_string(), str::to_string);
        let dict = format!(
            "{number} 0 obj\n<< /Type /ObjStm /N {} /First {} /Length {length} /Filter /FlateDecode >>\nstream\n",
            objects.len(),
            header.len()
        );
        let mut out = dict.into_bytes();
        out.extend_from_slice(&compressed);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        out
    }

    const PAGE: &str = "<< /Type /Page /Parent 2 0 R >>";

    /// Pages inside an object stream count, at every alignment, with a direct length or one
    /// another object holds; the tree's nodes do not; a page an update wrote again outside a
    /// stream counts once; 100 blank pages in a kilobyte (counted by its bytes before: 113
    /// tokens) are 100 pages.
    #[test]
    fn pages_in_object_streams_count() {
        let objects = [
            (1, "<< /Type /Catalog /Pages 2 0 R >>"),
            (2, "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>"),
            (3, PAGE),
            (4, PAGE),
            (5, "<</Type/Page>>"),
        ];
        for shift in 0..3 {
            let mut pdf = format!("%PDF-1.5\n{}", "x".repeat(shift)).into_bytes();
            pdf.extend(object_stream(9, &objects, None));
            assert_eq!(count(&part(&pdf)), 3, "shift {shift}");
        }
        let mut pdf = b"%PDF-1.5\n".to_vec();
        pdf.extend(object_stream(9, &objects, Some("10 0 R")));
        assert_eq!(count(&part(&pdf)), 3, "an indirect length");
        pdf.extend_from_slice(b"4 0 obj << /Type /Page /Rotate 90 >> endobj\n");
        assert_eq!(count(&part(&pdf)), 3, "an update");
        let many: Vec<(u64, &str)> = (10..110).map(|n| (n, PAGE)).collect();
        let mut pdf = b"%PDF-1.5\n".to_vec();
        pdf.extend(object_stream(200, &many, None));
        assert!(pdf.len() < 1_500, "{} bytes", pdf.len());
        assert_eq!(count(&part(&pdf)), 100);
    }

    /// Inflating stops at the PDF's budget: a stream past it gives only the objects inflated
    /// within it, and one after it is not inflated at all.
    #[test]
    fn inflating_stops_at_the_budget() {
        let many: Vec<(u64, &str)> = (10..110).map(|n| (n, PAGE)).collect();
        let pdf = object_stream(200, &many, None);
        let payload = encode(&pdf).into_bytes();
        let name = memmem::find(&pdf, b"/Type /ObjStm").unwrap_or_default();
        let whole = ObjectStreams::new().pages(&payload, name).len();
        assert_eq!(whole, 100);
        let mut small = ObjectStreams { left: 1_000, ..ObjectStreams::new() };
        let some = small.pages(&payload, name).len();
        assert!(some > 0 && some < 100, "{some}");
        assert_eq!((small.left, small.pages(&payload, name).len()), (0, 0));
        // Dictionaries of streams that never end: read to the budget, no further.
        let endless: String = (0..20).map(|n| format!("{n} 0 obj << /Type /ObjStm /N 1 /First 4 /Length 99 0 R /Filter /FlateDecode >>\nstream\n")).collect();
        let payload = encode(endless.as_bytes()).into_bytes();
        let mut streams = ObjectStreams { read: 10_000, ..ObjectStreams::new() };
        for at in memmem::find_iter(endless.as_bytes(), b"/Type") {
            assert!(streams.pages(&payload, at).is_empty());
        }
        assert_eq!(streams.read, 0);
    }

    /// Offsets that fall back end the stream's objects: each object's bytes are read once (a
    /// header of `1 0 1 L` over and over scanned an L-byte region once an entry).
    #[test]
    fn offsets_that_fall_back_end_the_objects() {
        let region = "/Type/X ".repeat(1_000);
        let header: String = (0..1_000)
            .map(|k| if k % 2 == 0 { "1 0 ".to_string() } else { format!("1 {} ", region.len()) })
            .collect();
        let first = header.len() as u64;
        let inflated = format!("{header}{region}<< /Type /Page >>");
        assert_eq!(objects(inflated.as_bytes(), 1_000, first), vec![1], "two entries, read once each");
        // An indirect length read to its endstream, charged no further than a chunk past it.
        let many: Vec<(u64, &str)> = (10..20).map(|n| (n, PAGE)).collect();
        let mut pdf = object_stream(200, &many, Some("9 0 R"));
        pdf.extend(vec![b'%'; 1 << 20]);
        let payload = encode(&pdf).into_bytes();
        let name = memmem::find(&pdf, b"/Type /ObjStm").unwrap_or_default();
        let mut streams = ObjectStreams::new();
        assert_eq!(streams.pages(&payload, name).len(), 10);
        assert!(MOST_READ - streams.read <= 2 * AROUND + CHUNK, "{}", MOST_READ - streams.read);
    }

    /// One budget for a request's PDFs: a second reads within what the first left (each had
    /// one of its own, and a body of hundreds of PDFs inflated 8 MB for each; found reviewing
    /// the diff).
    #[test]
    fn a_requests_pdfs_share_one_budget() {
        let many: Vec<(u64, &str)> = (10..110).map(|n| (n, PAGE)).collect();
        let mut pdf = b"%PDF-1.5\n".to_vec();
        pdf.extend(object_stream(200, &many, None));
        let raw = part(&pdf);
        let mut streams = ObjectStreams { left: 3_000, ..ObjectStreams::new() };
        let first = super::super::pages(&super::super::file_members(&raw).data, &mut streams);
        let second = super::super::pages(&super::super::file_members(&raw).data, &mut streams);
        assert!(first > 0 && first < 100 && second == 0, "{first} {second}");
    }

    /// The inflater's input is what it costs (4 MB of empty deflate blocks, which write
    /// nothing, held a worker 12 s): at most [`MOST_COMPRESSED`] for a request's streams, and a
    /// stream is read once for its dictionary's last `/Type` (five markers in one dictionary
    /// inflated it five times; found probing the last fix).
    #[test]
    fn the_inflater_is_fed_little_and_each_stream_once() {
        let many: Vec<(u64, &str)> = (10..110).map(|n| (n, PAGE)).collect();
        let one = object_stream(200, &many, None);
        let marker: &[u8] = b"<< /Type /ObjStm";
        let at = memmem::find(&one, marker).unwrap_or_default();
        let mut pdf = one.get(..at).unwrap_or_default().to_vec();
        pdf.extend_from_slice(b"<< /Type /ObjStm /Type /ObjStm");
        pdf.extend_from_slice(one.get(at + 2..).unwrap_or_default());
        let payload = encode(&pdf).into_bytes();
        let mut streams = ObjectStreams::new();
        let counts: Vec<usize> =
            memmem::find_iter(&pdf, b"/Type /ObjStm").map(|at| streams.pages(&payload, at).len()).collect();
        assert_eq!(counts, [0, 0, 100], "the last marker only");
        assert!(MOST_COMPRESSED - streams.compressed < 2_000, "{}", MOST_COMPRESSED - streams.compressed);
        // A stream past what is left takes the rest, and the next none.
        let junk: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let mut big = format!(
            "1 0 obj << /Type /ObjStm /N 1 /First 4 /Length {} /Filter /FlateDecode >>\nstream\n",
            junk.len()
        )
        .into_bytes();
        big.extend_from_slice(&junk);
        big.extend_from_slice(b"\nendstream endobj\n");
        let payload = encode(&big).into_bytes();
        let at = memmem::find(&big, b"/Type").unwrap_or_default();
        let mut streams = ObjectStreams::new();
        assert!(streams.pages(&payload, at).is_empty());
        assert_eq!(streams.compressed, 0);
        let read = streams.read;
        assert!(streams.pages(&payload, at).is_empty());
        assert_eq!(streams.read, read, "nothing read past the budget");
    }
}
