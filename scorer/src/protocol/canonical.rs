//! A JSON value written as serde_json writes the `Value` it parses to (members in name order,
//! no whitespace, strings escaped its way), straight from the body's text: one pass of the
//! router's reader and no tree of values. An agent resends tens of kilobytes of tool schemas
//! on every turn, and a translation that parses them into values and writes them again pays
//! for every node.
//!
//! Where serde_json could read the text differently, [`write`] declines and the caller takes
//! the `Value` path: floats (its default parsing is not always correctly rounded), integers
//! outside 64 bits or `-0` (it reads those as floats), an object naming a member twice (it
//! keeps the last), and nesting deeper than [`MAX_NESTING`]. [`numbers_fit`] says whether a
//! value a translator drops unwritten holds only numbers serde_json reads: it refuses those
//! beyond f64's range, which the router's reader carries.

use std::borrow::Cow;

use crate::parse::json::{Kind, Reader};

/// Objects and arrays nested deeper than this are declined (serde_json refuses 128 levels,
/// and a member of a body is already a level or more down).
pub(crate) const MAX_NESTING: usize = 100;

/// Writes `text`, one JSON value, into `out` as `serde_json::to_vec(&Value)` of its parse
/// would; false, with `out` as it was, when it declines (see the module) or `text` is not one
/// JSON value.
pub(crate) fn write(text: &str, out: &mut Vec<u8>) -> bool {
    let mark = out.len();
    let mut r = Reader::new(text);
    let mut scratch = Vec::new();
    let done = value(&mut r, out, &mut scratch, 0).is_some() && r.finish().is_ok();
    if !done {
        out.truncate(mark);
    }
    done
}

fn value(r: &mut Reader<'_>, out: &mut Vec<u8>, scratch: &mut Vec<u8>, depth: usize) -> Option<()> {
    let kind = r.peek_kind().ok()?;
    if depth >= MAX_NESTING && matches!(kind, Kind::Object | Kind::Array) {
        return None;
    }
    match kind {
        Kind::Object => object(r, out, scratch, depth + 1),
        Kind::Array => {
            let mut it = r.array().ok()?;
            out.push(b'[');
            let mut first = true;
            while it.next(r).ok()? {
                if !first {
                    out.push(b',');
                }
                first = false;
                value(r, out, scratch, depth + 1)?;
            }
            out.push(b']');
            Some(())
        }
        Kind::String => write_literal(r.raw_string().ok()?, out),
        Kind::Number => number(r.number().ok()?, out),
        Kind::Bool => {
            out.extend_from_slice(if r.boolean().ok()? { b"true" } else { b"false" });
            Some(())
        }
        Kind::Null => {
            r.null().ok()?;
            out.extend_from_slice(b"null");
            Some(())
        }
    }
}

/// An object's members in name order. Each member is written where it is read (a comma before
/// all but the first); when the names came out of order, the members' bytes are put in order
/// through `scratch`, a copy per nesting level instead of a tree.
fn object(r: &mut Reader<'_>, out: &mut Vec<u8>, scratch: &mut Vec<u8>, depth: usize) -> Option<()> {
    let mut it = r.object().ok()?;
    out.push(b'{');
    let open = out.len();
    // Each member's name and where its `"name":value` bytes are in `out` (no comma).
    let mut members: Vec<(Cow<'_, str>, usize, usize)> = Vec::new();
    while let Some(name) = it.next_key(r).ok()? {
        if !members.is_empty() {
            out.push(b',');
        }
        let start = out.len();
        write_str(&name, out)?;
        out.push(b':');
        value(r, out, scratch, depth)?;
        members.push((name, start, out.len()));
    }
    if !members.windows(2).all(|w| matches!(w, [a, b] if a.0 < b.0)) {
        members.sort_by(|a, b| a.0.cmp(&b.0));
        if members.windows(2).any(|w| matches!(w, [a, b] if a.0 == b.0)) {
            return None;
        }
        scratch.clear();
        scratch.extend_from_slice(out.get(open..)?);
        out.truncate(open);
        for (i, (_, start, end)) in members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(scratch.get(start - open..end - open)?);
        }
    }
    out.push(b'}');
    Some(())
}

/// `text`, one valid JSON value, without whitespace between its tokens: what a schema whose
/// members must keep their order is sent as (serde_json would write them in name order).
pub(crate) fn minified(text: &str) -> Cow<'_, str> {
    let space = |c: char| matches!(c, ' ' | '\n' | '\r' | '\t');
    let mut out = String::with_capacity(text.len());
    let (mut quoted, mut escaped) = (false, false);
    for c in text.chars() {
        if quoted {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if !space(c) {
            quoted = c == '"';
            out.push(c);
        }
    }
    if out.len() == text.len() { Cow::Borrowed(text) } else { Cow::Owned(out) }
}

/// Writes a string as serde_json does.
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) -> Option<()> {
    serde_json::to_writer(out, s).ok()
}

/// Writes a valid JSON string's text between its quotes (escapes in place) as serde_json
/// writes the string: without a backslash it holds no quote or control byte either (the
/// reader refuses those), so serde_json escapes nothing and the text is copied; with one, it
/// is decoded and escaped serde_json's way. Tool descriptions are most of an agent's tools.
pub(crate) fn write_literal(raw: &str, out: &mut Vec<u8>) -> Option<()> {
    if memchr::memchr(b'\\', raw.as_bytes()).is_none() {
        out.push(b'"');
        out.extend_from_slice(raw.as_bytes());
        out.push(b'"');
        return Some(());
    }
    let quoted = format!("\"{raw}\"");
    write_str(&Reader::new(&quoted).string().ok()?, out)
}

/// An integer as serde_json reads and writes it; `None` for what it reads as a float.
fn number(text: &str, out: &mut Vec<u8>) -> Option<()> {
    if text.contains(['.', 'e', 'E']) {
        return None;
    }
    let written = match text.strip_prefix('-') {
        // serde_json reads `-0` as the float -0.0.
        Some(_) => text.parse::<i64>().ok().filter(|&n| n != 0)?.to_string(),
        None => text.parse::<u64>().ok()?.to_string(),
    };
    out.extend_from_slice(written.as_bytes());
    Some(())
}

/// Whether every number in `text`, one JSON value, is one serde_json reads as a finite
/// number (conservatively: magnitudes below 1e300); false for what is not one JSON value.
pub(crate) fn numbers_fit(text: &str) -> bool {
    let mut r = Reader::new(text);
    fits(&mut r, None, &mut false).is_some() && r.finish().is_ok()
}

/// `text`, one JSON value, minified with its members in the client's order, when serde_json
/// reads it as it stands: every number one [`numbers_fit`] takes, no object naming a member
/// twice (serde_json keeps the last) and no nesting deeper than [`MAX_NESTING`]; `None`
/// otherwise. A tool's schema is sent so: its `properties` are the order a model writes the
/// arguments in ("reasoning" before "answer"), which name order would lose. Also whether
/// `text` is an object with a member `type`.
pub(crate) fn ordered(text: &str) -> Option<(Cow<'_, str>, bool)> {
    let mut r = Reader::new(text);
    let mut typed = false;
    (fits(&mut r, Some(0), &mut typed).is_some() && r.finish().is_ok()).then(|| (minified(text), typed))
}

/// Reads one value whose numbers all fit ([`numbers_fit`]); at a `depth`, also with no member
/// named twice and nested within [`MAX_NESTING`], and `typed` set when it is an object with
/// a member `type` at depth 0.
fn fits(r: &mut Reader<'_>, depth: Option<usize>, typed: &mut bool) -> Option<()> {
    let inner = depth.map(|d| d + 1);
    match r.peek_kind().ok()? {
        Kind::Object | Kind::Array if depth.is_some_and(|d| d >= MAX_NESTING) => return None,
        Kind::Object => {
            let mut it = r.object().ok()?;
            let mut names = Vec::new();
            while let Some(name) = it.next_key(r).ok()? {
                fits(r, inner, typed)?;
                if depth.is_some() {
                    names.push(name);
                }
            }
            names.sort_unstable();
            if names.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
                return None;
            }
            if depth == Some(0) {
                *typed = names.binary_search(&Cow::Borrowed("type")).is_ok();
            }
        }
        Kind::Array => {
            let mut it = r.array().ok()?;
            while it.next(r).ok()? {
                fits(r, inner, typed)?;
            }
        }
        Kind::Number => {
            let n = r.number().ok()?;
            (n.len() <= 300 && n.parse::<f64>().is_ok_and(|v| v.abs() < 1e300)).then_some(())?;
        }
        _ => r.skip_value().ok()?,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::testing::Rng;

    /// Whitespace between tokens goes, whitespace in strings (escaped quotes and backslashes
    /// included) stays, and the members keep their order.
    #[test]
    fn minified_keeps_strings_and_order() {
        let text = "{ \"b\" : [1, 2 ],\n\t\"a\": \"x \\\" y\\\\ \", \"c\":{} }";
        let got = minified(text);
        assert_eq!(got, "{\"b\":[1,2],\"a\":\"x \\\" y\\\\ \",\"c\":{}}");
        assert_eq!(serde_json::from_str::<Value>(&got).ok(), serde_json::from_str::<Value>(text).ok());
        assert!(matches!(minified("{\"a\":1}"), Cow::Borrowed(_)));
    }

    /// `ordered` keeps the client's order and the numbers' text, says whether the outermost
    /// object names `type` (escaped or not), and declines what serde_json reads otherwise.
    #[test]
    fn ordered_keeps_the_clients_order_and_declines_what_serde_reads_otherwise() {
        let got = ordered(r#"{ "properties": {"z": {"minimum": 0.10}, "a": {}}, "typ\u0065": "object" }"#);
        let want = r#"{"properties":{"z":{"minimum":0.10},"a":{}},"typ\u0065":"object"}"#;
        assert_eq!(got, Some((Cow::Owned(want.to_string()), true)));
        assert_eq!(
            ordered(r##"{"$ref": "#/$defs/a", "x": {"type": 1}}"##).map(|(_, typed)| typed),
            Some(false)
        );
        for refused in [r#"{"a": 1, "b": {"c": 1, "c": 2}}"#, r#"{"a": 1e400}"#, "{\"a\": [1", "{} {}"] {
            assert_eq!(ordered(refused), None, "{refused}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_NESTING + 1), "]".repeat(MAX_NESTING + 1));
        assert_eq!(ordered(&deep), None);
        assert!(ordered(&deep[1..deep.len() - 1]).is_some());
    }

    /// What serde_json writes for `text`, when it reads it.
    fn serde(text: &str) -> Option<Vec<u8>> {
        serde_json::from_str::<Value>(text).ok().and_then(|v| serde_json::to_vec(&v).ok())
    }

    fn canonical(text: &str) -> Option<Vec<u8>> {
        let mut out = b"kept".to_vec();
        if write(text, &mut out) {
            Some(out.split_off(4))
        } else {
            assert_eq!(out, b"kept", "a declined value leaves nothing behind: {text}");
            None
        }
    }

    /// The property: whatever `write` writes is serde_json's bytes, and it writes most of
    /// what the generator draws (it declines floats, wide integers and repeated names).
    #[test]
    fn writes_what_serde_json_writes_or_declines() {
        let mut rng = Rng(41);
        let (mut written, mut declined) = (0, 0);
        for case in 0..20_000 {
            let t = rng.json(0);
            match canonical(&t) {
                Some(got) => {
                    written += 1;
                    assert_eq!(Some(got), serde(&t), "case {case}: {t}");
                }
                None => declined += 1,
            }
        }
        assert!(written > 8_000 && declined > 2_000, "{written} written, {declined} declined");
    }

    #[test]
    fn numbers_fit_where_serde_json_reads_them() {
        let mut refused = 0;
        for case in 0..5_000 {
            let t = Rng(case).json(0);
            assert_eq!(numbers_fit(&t), serde(&t).is_some(), "{t}");
            refused += usize::from(!numbers_fit(&t));
        }
        assert!(refused > 200, "{refused}");
    }

    #[test]
    fn declines_nesting_past_its_limit() {
        let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(canonical(&deep(MAX_NESTING)).is_some());
        assert_eq!(canonical(&deep(MAX_NESTING + 1)), None);
        assert!(numbers_fit(&deep(MAX_NESTING + 1)));
    }

    #[test]
    fn declines_floats_wide_integers_repeated_names_and_what_is_not_one_value() {
        for t in [
            "1.5",
            "1e3",
            "-0",
            "18446744073709551616",
            "-9223372036854775809",
            r#"{"a":1,"a":2}"#,
            r#"{"b":[{"x":1,"x":1}]}"#,
            "{",
            "1 2",
            "",
        ] {
            assert_eq!(canonical(t), None, "{t}");
        }
        assert_eq!(
            canonical(r#" {"b" : [1, {"d":null,"c":true}], "a": "\u00e9\/"} "#).as_deref(),
            Some(r#"{"a":"é/","b":[1,{"c":true,"d":null}]}"#.as_bytes())
        );
    }
}
