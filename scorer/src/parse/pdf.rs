//! The pages of a PDF a `file` part carries, counted in its base64 without decoding it whole.
//!
//! Providers bill a PDF by its pages (each page's text and an image of it), not by its bytes: a
//! 10 KB PDF of 100 blank pages costs what 100 pages do. A page object says `/Type /Page` (its
//! tree's nodes say `/Pages`), with any whitespace between the two names. Each `/Type` is found
//! in the base64 as its encoding at each of the three byte alignments, and only the bytes
//! around it are decoded: what follows (a page, or not), and the object it stands in (`12 0
//! obj`), so an object an incremental update wrote again counts once. Page objects inside
//! compressed object streams (PDF 1.5's `/ObjStm`) are counted by inflating those streams
//! ([`objstm`]). Comments between the names are whitespace, and a type that cannot be read (an
//! indirect `/Type 12 0 R`, or one past the bytes read) counts as a page. A PDF may still hide
//! its pages from this count, which is no PDF reader: names in escapes (`/#50age`), page
//! objects without `/Type`, object streams behind a chain of filters. It is then counted by
//! its bytes, and the provider's usage is what it is charged.

use std::borrow::Cow;
use std::collections::HashSet;

use memchr::memmem;

use super::base64::encode;
use super::fields::names;

mod objstm;
mod scan;

use super::json::{Kind, Reader};
pub(crate) use objstm::ObjectStreams;
use scan::{is_page, is_space, is_type, window};

/// The data URL prefix before a file's base64 payload.
const BASE64: &str = ";base64,";

/// Pages past which the count stops: more than any provider reads of one PDF (Gemini 1,000,
/// Anthropic 600), so a body of nothing but page markers is not read to its end.
const MOST_PAGES: u64 = 5_000;

/// `/Type` names read at most, a request's PDFs together: a PDF's pages each hold a few (its
/// fonts', its annotations'), and a body of nothing else is not read to its end (3.8 million
/// held a worker 1.8 s).
const MOST_NAMES: usize = 100_000;

/// Bytes read before a page's `/Type` for its object's header (`12 0 obj`), and after it for
/// its whitespace and `/Page`.
const BEFORE: usize = 192;
const AFTER: usize = 24;

/// Pages whose page objects the base64 payloads of a `file` part's `file_data` strings
/// ([`FileMembers::data`]) show, the most of them; 0 without one. Their object streams are
/// read within `streams`, the request's budget for its PDFs.
pub(crate) fn pages(data: &[Cow<'_, str>], streams: &mut ObjectStreams) -> u64 {
    data.iter().map(|data| pages_in(data, streams)).max().unwrap_or(0)
}

/// [`pages`] of one `file_data` string.
fn pages_in(data: &str, streams: &mut ObjectStreams) -> u64 {
    let Some(at) = data.find(BASE64) else { return 0 };
    let payload = data.get(at + BASE64.len()..).unwrap_or_default();
    // Line-wrapped or URL-safe base64, as the standard alphabet in one line.
    let standard = |b: u8| match b {
        b'-' => Some(b'+'),
        b'_' => Some(b'/'),
        b if b.is_ascii_whitespace() => None,
        b => Some(b),
    };
    let payload: Cow<'_, [u8]> = match payload.bytes().all(|b| standard(b) == Some(b)) {
        true => Cow::Borrowed(payload.as_bytes()),
        false => Cow::Owned(payload.bytes().filter_map(standard).collect()),
    };
    let (mut objects, mut unnamed) = (HashSet::new(), 0);
    let marker = b"/Type";
    for k in 0..3 {
        let mut bytes = vec![0; k];
        bytes.extend_from_slice(marker);
        let encoded = encode(&bytes).into_bytes();
        let first = (8 * k).div_ceil(6);
        let Some(core) = encoded.get(first..(8 * (k + marker.len())) / 6) else { continue };
        for at in memmem::find_iter(&payload, core).filter(|at| at % 4 == first % 4) {
            streams.names += 1;
            if objects.len() as u64 + unnamed >= MOST_PAGES || streams.names > MOST_NAMES {
                return (objects.len() as u64 + unnamed).min(MOST_PAGES);
            }
            let name = at.saturating_sub(first) / 4 * 3 + k;
            // The name itself (its encoding's edges hold bits of the bytes beside it), then
            // what follows it.
            let read = window(&payload, name, marker.len() + AFTER);
            let Some(after) = read.strip_prefix(marker) else { continue };
            if is_type(after, b"/ObjStm") {
                objects.extend(streams.pages(&payload, name));
                continue;
            }
            if !is_page(after) {
                continue;
            }
            let start = name.saturating_sub(BEFORE);
            match object(&window(&payload, start, name - start)) {
                Some(n) => {
                    objects.insert(n);
                }
                None => unnamed += 1,
            }
        }
    }
    (objects.len() as u64 + unnamed).min(MOST_PAGES)
}

/// What the router reads of a `file` part's object, in one pass: each member read under any
/// name a provider may take for it (`fileData`: [`names`]).
#[derive(Debug, Default)]
pub(crate) struct FileMembers<'a> {
    /// `file_data`'s strings, their escapes decoded (PHP's `json_encode` writes a base64 `/` as
    /// `\/`).
    pub(crate) data: Vec<Cow<'a, str>>,
    /// It names a file stored with the provider (a `file_id` other than null).
    pub(crate) stored: bool,
}

/// Reads a `file` part's object `raw` ([`FileMembers`]).
pub(crate) fn file_members(raw: &str) -> FileMembers<'_> {
    let mut found = FileMembers::default();
    let mut r = Reader::new(raw);
    let Ok(mut it) = r.object() else { return found };
    while let Ok(Some(key)) = it.next_key(&mut r) {
        let kind = r.peek_kind();
        let data = key == "file_data" || names(&key, "file_data");
        found.stored |= (key == "file_id" || names(&key, "file_id")) && !matches!(kind, Ok(Kind::Null));
        if data && matches!(kind, Ok(Kind::String)) {
            match r.string() {
                Ok(s) => found.data.push(s),
                Err(_) => break,
            }
        } else if r.skip_value().is_err() {
            break;
        }
    }
    found
}

/// The number of the object whose header (`12 0 obj`) stands last in `before`.
fn object(before: &[u8]) -> Option<u64> {
    let at = memmem::rfind(before, b"obj")?;
    let head = before.get(..at)?;
    if head.ends_with(b"end") {
        return None;
    }
    let mut words = head.split(|b| is_space(*b)).filter(|w| !w.is_empty()).rev();
    let generation = words.next()?;
    let number = words.next()?;
    generation.iter().all(u8::is_ascii_digit).then_some(())?;
    std::str::from_utf8(number).ok()?.parse().ok()
}

/// A `file` part's `file` member carrying `pdf` as a data URL, padded as encoders write it.
#[cfg(test)]
pub(crate) fn part(pdf: &[u8]) -> String {
    let b64 = encode(pdf);
    format!(r#"{{"filename":"a.pdf","file_data":"data:application/pdf;base64,{b64}"}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`pages`] within a budget of its own.
    pub(super) fn count(raw: &str) -> u64 {
        pages(&file_members(raw).data, &mut ObjectStreams::new())
    }

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
            assert_eq!(count(&part(pdf.as_bytes())), 7, "shift {shift} {ty}");
        }
        assert_eq!(count(r#"{"filename":"/Type /Page","file_id":"file-1"}"#), 0);
        assert_eq!(count(&part(b"%PDF-1.5 compressed object streams only")), 0);
    }

    /// What writers and hiders vary: spellings mixed in one file, any whitespace between the
    /// names, an object an incremental update wrote again (once), base64 wrapped in lines or
    /// URL-safe, a `\/` of PHP's JSON, and a filename naming a data URL before the data.
    #[test]
    fn counts_what_writers_vary_once_each() {
        let mut pdf = String::from("%PDF-1.4\n");
        for (n, ty) in ["/Type /Page", "/Type/Page", "/Type  /Page", "/Type\n/Page", "/Type\r\n/Page>>"]
            .iter()
            .enumerate()
        {
            pdf.push_str(&format!("{} 0 obj\n<< {ty} /Parent 2 0 R >>\nendobj\n", n + 3));
        }
        // An update writing objects 3 and 4 again.
        pdf.push_str("3 0 obj << /Type /Page /Rotate 90 >> endobj\n4 0 obj << /Type /Page >> endobj\n");
        assert_eq!(count(&part(pdf.as_bytes())), 5);
        let whole = part(pdf.as_bytes());
        let b64 = whole.split(";base64,").nth(1).unwrap_or_default().trim_end_matches("\"}");
        let wrapped: Vec<&str> =
            b64.as_bytes().chunks(76).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        let url_safe = b64.replace('+', "-").replace('/', "_");
        for data in [wrapped.join("\\r\\n"), url_safe, b64.replace('/', "\\/")] {
            let raw =
                format!(r#"{{"filename":"x;base64,AAAA","file_data":"data:application/pdf;base64,{data}"}}"#);
            assert_eq!(count(&raw), 5, "{raw}");
        }
        // Under protobuf's JSON name, which Gemini's OpenAI layer reads, alone and after a
        // small `file_data`: the most pages count.
        let camel = whole.replace("\"file_data\"", "\"fileData\"");
        assert_eq!(count(&camel), 5, "{camel}");
        let beside =
            format!(r#"{{"file_data":"data:application/pdf;base64,AAAA",{}"#, camel.trim_start_matches('{'));
        assert_eq!(count(&beside), 5, "{beside}");
    }

    /// A name whose encoding's core matches but whose bytes are not `/Type` is no page (the
    /// core leaves bits of the bytes beside it unchecked), and a page whose `/Type` stands far
    /// from its header, written again by an update, counts once.
    #[test]
    fn only_type_names_count_and_a_late_type_still_finds_its_object() {
        for shift in 0..3 {
            let pdf = format!(
                "{}3 0 obj << /Typo /Page >> endobj\n4 0 obj << /Typd /Page >> endobj\n",
                "x".repeat(shift)
            );
            assert_eq!(count(&part(pdf.as_bytes())), 0, "{shift}");
        }
        let page = format!(
            "3 0 obj << /Parent 2 0 R /Resources << {} >> /Type /Page >> endobj\n",
            "/F1 5 0 R ".repeat(12)
        );
        assert_eq!(count(&part(format!("{page}{page}").as_bytes())), 1);
    }

    /// A body of nothing but page objects is counted to more than any provider reads, no
    /// further.
    #[test]
    fn the_count_stops_past_what_any_provider_reads() {
        let pdf: String = (0..6_000).map(|n| format!("{n} 0 obj << /Type /Page >> endobj\n")).collect();
        assert_eq!(count(&part(pdf.as_bytes())), MOST_PAGES);
    }

    /// What a PDF made to be under-counted writes: a comment between the names (PDF reads it as
    /// whitespace), a value too far to read, an indirect one (`/Type 3 0 R`). 300 such pages
    /// were counted none, and the request was priced at a 300th of its pages; they count as
    /// pages now, and other types with comments stay none.
    #[test]
    fn pages_hidden_behind_comments_or_references_count() {
        for ty in ["/Type%c\n/Page", "/Type % long comment\r\n % and another\n/Page", "/Type 9 0 R", "/Type%"]
        {
            let pdf: String = (0..300)
                .map(|n| format!("{} 0 obj<</{ty}/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n", n + 3))
                .collect();
            let pdf =
                format!("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n{}", pdf.replace("<</", "<<"));
            assert_eq!(count(&part(pdf.as_bytes())), 300, "{ty}");
        }
        let far = format!("3 0 obj<</Type%{}\n/Page>>endobj\n", "c".repeat(100));
        assert_eq!(count(&part(far.as_bytes())), 1);
        let others = "3 0 obj<</Type%c\n/Font>>endobj\n4 0 obj<</Type /Pages%c\n/Count 2>>endobj\n";
        assert_eq!(count(&part(others.as_bytes())), 0);
        // A font's `/Subtype /Type1` (`/Type0`, `/Type3`) begins with the name: no page (each
        // font of a one-page PDF was counted one).
        let fonts: String = ["/Type1", "/Type0", "/Type3", "/Type1C"]
            .iter()
            .enumerate()
            .map(|(n, t)| format!("{} 0 obj<</Type/Font/Subtype {t} /BaseFont/Helvetica>>endobj\n", n + 5))
            .collect();
        assert_eq!(count(&part(format!("3 0 obj<</Type/Page>>endobj\n{fonts}").as_bytes())), 1);
    }

    /// A page marker at the payload's very end (its last group padded) is a page.
    #[test]
    fn a_page_at_the_very_end_is_a_page() {
        assert_eq!(count(&part(b"/Type /Page")), 1);
    }
}
