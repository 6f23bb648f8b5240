//! A translation that carries the conversation's long texts without reading them.
//!
//! A native translator decodes the client's strings and serialises new ones (it reads the body
//! member by member, `raw.rs`, and borrows what needs no unescaping): a string with escapes is
//! unescaped, copied and escaped again. On an agent's conversation that was most of a
//! request's cost, and the long texts (message contents, text parts) are only ever carried,
//! never read. So before the translator runs, each long text is replaced by a short stand-in
//! (`\u0001<n>\u0001`, control characters no valid body sends unescaped), and after it, each stand-in in the translation
//! is replaced by the client's own bytes of that text, still escaped as the client escaped
//! them (valid JSON string content wherever the stand-in landed, even joined into a longer
//! string). The translation is the same JSON, string for string.
//!
//! The parser records where the long texts are as it validates them (`Layout::texts`), so
//! standing in for them reads the body once more only to find no stand-in's escape in it.
//! What a translator reads in a text stays real: texts shorter than
//! [`MIN_TEXT`](crate::parse::layout::MIN_TEXT) (emptiness checks), and every text after the
//! last user or tool message (an assistant prefill is trimmed). A body that already holds the
//! escape `\u0001` outside its long texts is translated as it is; inside one it is carried
//! like the rest of the text.

use std::io::Write;

use crate::parse::layout::Span;

/// The stand-ins' delimiter as a translator's JSON writes it.
const MARK: &[u8] = b"\\u0001";

/// `translate` run on `body` with its long `texts` stood in for, and the texts put back in
/// its output. `texts` are the raw spans the parser recorded (`Layout::texts`: long message
/// contents and text parts up to the last user or tool message, in body order); `translate`
/// must carry texts as opaque strings (it may join them or drop them).
pub fn translate<E>(
    body: &[u8],
    texts: &[Span],
    translate: impl Fn(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, E> {
    if texts.is_empty() {
        return translate(body);
    }
    let mut small = Vec::with_capacity(
        body.len() - texts.iter().map(|t| t.end - t.start).sum::<usize>() + texts.len() * 10,
    );
    // Only the bytes the translator reads are searched for the escape: a long text is put
    // back after the search for stand-ins has passed it. (No escape spans a text's edge: the
    // edges are its quotes.)
    let mut at = 0;
    for (n, t) in texts.iter().enumerate() {
        let gap = body.get(at..t.start).unwrap_or_default();
        if contains(gap) {
            return translate(body);
        }
        small.extend_from_slice(gap);
        small.extend_from_slice(MARK);
        // Writing into a Vec cannot fail.
        let _ = write!(small, "{n}");
        small.extend_from_slice(MARK);
        at = t.end;
    }
    let tail = body.get(at..).unwrap_or_default();
    if contains(tail) {
        return translate(body);
    }
    small.extend_from_slice(tail);
    let out = translate(&small)?;
    Ok(put_back(&out, body, texts))
}

/// `out` with every stand-in replaced by the client's bytes of its text.
fn put_back(out: &[u8], body: &[u8], texts: &[Span]) -> Vec<u8> {
    let grown: usize = texts.iter().map(|t| t.end - t.start).sum();
    let mut whole = Vec::with_capacity(out.len() + grown);
    let mut rest = out;
    while let Some(i) = find(rest) {
        let (before, after) = rest.split_at(i);
        whole.extend_from_slice(before);
        let after = after.get(MARK.len()..).unwrap_or_default();
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        let closed = after.get(digits..).is_some_and(|a| a.starts_with(MARK));
        let text = std::str::from_utf8(after.get(..digits).unwrap_or_default())
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
            .and_then(|n| texts.get(n))
            .and_then(|t| body.get(t.start..t.end));
        match text {
            Some(text) if closed => {
                whole.extend_from_slice(text);
                rest = after.get(digits + MARK.len()..).unwrap_or_default();
            }
            // Not a stand-in after all: kept as it is.
            _ => {
                whole.extend_from_slice(MARK);
                rest = after;
            }
        }
    }
    whole.extend_from_slice(rest);
    whole
}

/// Where the next stand-in's delimiter starts. Code is full of escapes (`\n`, `\"`): a search
/// that stops at every backslash is most of a 400 KB agent turn's translation; memmem skips on
/// the needle's rarer bytes. Its searcher is built once per thread, not per search: a
/// conversation has hundreds of texts.
fn find(hay: &[u8]) -> Option<usize> {
    thread_local! {
        static MARKS: memchr::memmem::Finder<'static> = memchr::memmem::Finder::new(MARK);
    }
    MARKS.with(|f| f.find(hay))
}

fn contains(hay: &[u8]) -> bool {
    find(hay).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::error::ApiError;
    use crate::parse::json::{Kind, Reader};
    use crate::parse::layout::MIN_TEXT;
    use crate::parse::messages::maybe_blank;
    use crate::parse::request::parse_chat;
    use crate::protocol::{Native, anthropic, bedrock, responses};
    use crate::testing::Rng;

    /// The texts the parser records, for a body it accepts.
    fn parsed_texts(body: &str) -> Vec<Span> {
        parse_chat(body.as_bytes())
            .map(|r| r.layout().texts().to_vec())
            .unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// The oracle for what the parser records: a walk of the body on its own. The raw spans
    /// of the long texts (a message's `content` string, its parts' `text` strings) up to the
    /// end of the last user or tool message, in body order.
    fn walked_texts(body: &str) -> Option<Vec<Span>> {
        let mut r = Reader::new(body);
        let mut texts = Vec::new();
        let mut obj = r.object().ok()?;
        while let Some(key) = obj.next_key(&mut r).ok()? {
            if key != "messages" {
                r.skip_value().ok()?;
                continue;
            }
            let mut messages = r.array().ok()?;
            let mut kept = texts.len();
            while messages.next(&mut r).ok()? {
                if walk_message(&mut r, body, &mut texts)? {
                    kept = texts.len();
                }
            }
            texts.truncate(kept);
        }
        Some(texts)
    }

    /// One message's long texts; true for a tool message, or a user message with some text.
    fn walk_message(r: &mut Reader<'_>, src: &str, texts: &mut Vec<Span>) -> Option<bool> {
        let (mut role, mut text) = (String::new(), false);
        let mut obj = r.object().ok()?;
        while let Some(key) = obj.next_key(r).ok()? {
            match (key.as_ref(), r.peek_kind().ok()?) {
                ("role", Kind::String) => role = r.raw_string().ok()?.to_string(),
                ("content", Kind::String) => text |= walk_text(r, src, texts)?,
                ("content", Kind::Array) => {
                    let mut parts = r.array().ok()?;
                    while parts.next(r).ok()? {
                        let mut part = r.object().ok()?;
                        while let Some(key) = part.next_key(r).ok()? {
                            if key == "text" && r.peek_kind().ok()? == Kind::String {
                                text |= walk_text(r, src, texts)?;
                            } else {
                                r.skip_value().ok()?;
                            }
                        }
                    }
                }
                _ => r.skip_value().ok()?,
            }
        }
        Some(matches!(role.as_str(), "tool" | "function") || (role == "user" && text))
    }

    /// Records a long text that is not only whitespace; whether the text has other characters
    /// (`maybe_blank` over-approximates "only whitespace" on the raw text; decoding decides here).
    fn walk_text(r: &mut Reader<'_>, src: &str, texts: &mut Vec<Span>) -> Option<bool> {
        let raw = r.raw_string().ok()?;
        if raw.len() >= MIN_TEXT && !maybe_blank(raw) {
            let start = (raw.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
            texts.push(Span { start, end: start + raw.len() });
        }
        Some(!maybe_blank(raw))
    }

    const PIECES: &[&str] = &[
        "Please explain the trade-off step by step, with the details that matter here. ",
        "```python\ndef f(x):\n    return x  # a \"quoted\" comment\n```\n",
        "Käsekuchen: a path /usr/local/bin and a tab\there.\n",
        "   ",
        "",
        "short",
    ];

    /// The conversations this test draws.
    trait Draw {
        fn text(&mut self) -> String;
        fn message(&mut self, i: usize) -> Value;
    }

    impl Draw for Rng {
        fn text(&mut self) -> String {
            self.pieces(PIECES, 0, 8)
        }

        fn message(&mut self, i: usize) -> Value {
            match self.below(7) {
                0 => json!({"role": "system", "content": self.text()}),
                1 => json!({"role": "developer", "content": [{"type": "text", "text": self.text()}]}),
                2 => json!({"role": "user", "content": self.text()}),
                3 => json!({"role": "user", "content": [
                    {"type": "text", "text": self.text(), "cache_control": {"type": "ephemeral"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "text", "text": self.text()},
                ]}),
                4 => json!({"role": "assistant", "content": format!("{}  \n", self.text())}),
                5 => json!({"role": "assistant", "content": self.text(), "tool_calls": [
                    {"id": format!("c{i}"), "type": "function", "function": {"name": "read", "arguments": "{\"p\":1}"}},
                ]}),
                _ => json!({"role": "tool", "tool_call_id": format!("c{i}"), "content": self.text()}),
            }
        }
    }

    /// The property: with or without stand-ins, the same translation (or the same refusal),
    /// JSON for JSON, over random conversations whose texts are long, short, empty, escaped
    /// in every way a client may escape them, joined into the system prompt or trimmed as a
    /// prefill.
    #[test]
    fn a_translation_with_stand_ins_is_the_translation() {
        let to = Native {
            model: "claude",
            upstream_model: "claude",
            max_output: 8_192,
            quirks: crate::catalog::Quirks::NONE,
        };
        same_translation(|b| anthropic::request::translate(b, &to));
        same_translation(|b| bedrock::request::translate(b, &to));
        same_translation(|b| responses::request::translate(b, &to));
    }

    fn same_translation(direct: impl Fn(&[u8]) -> Result<Vec<u8>, ApiError> + Copy) {
        let mut rng = Rng(5);
        let mut stood_in = 0;
        for case in 0..500 {
            let n = 1 + rng.below(10);
            let messages: Vec<Value> = (0..n).map(|i| rng.message(i)).collect();
            let mut body =
                json!({"model": "auto", "messages": messages, "reasoning_effort": "low"}).to_string();
            if case % 2 == 0 {
                // Escapes serde_json never writes but clients may: \/ and \u00e4.
                body = body.replace('/', "\\/").replace('ä', "\\u00e4");
            }
            let texts = parsed_texts(&body);
            assert_eq!(Some(texts.clone()), walked_texts(&body), "case {case}: {body}");
            let want = direct(body.as_bytes()).map(|b| serde_json::from_slice::<Value>(&b).ok());
            let got =
                translate(body.as_bytes(), &texts, direct).map(|b| serde_json::from_slice::<Value>(&b).ok());
            assert_eq!(got, want, "case {case}: {body}");
            assert!(got.as_ref().map_or(true, Option::is_some), "case {case}: not JSON");
            stood_in += usize::from(got.is_ok() && !texts.is_empty());
        }
        assert!(stood_in > 150, "translated with stand-ins: {stood_in} of 500");
    }

    /// A prefill followed only by an empty user message (which every translator drops) ends
    /// the conversation: its text is trimmed, so it is read, not stood in for.
    #[test]
    fn a_prefill_before_an_empty_user_message_is_read_and_trimmed() {
        let to = Native {
            model: "claude",
            upstream_model: "claude",
            max_output: 8_192,
            quirks: crate::catalog::Quirks::NONE,
        };
        let as_json = |b: Vec<u8>| serde_json::from_slice::<Value>(&b).ok();
        for text in [format!("{}  \n", "x".repeat(MIN_TEXT)), " ".repeat(MIN_TEXT + 2)] {
            // (`[]` the parser refuses, as OpenAI does.)
            for empty in [json!(""), json!([{"type": "text", "text": ""}])] {
                let body = json!({"model": "auto", "reasoning_effort": "low", "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": text},
                    {"role": "user", "content": empty},
                ]})
                .to_string();
                let texts = parsed_texts(&body);
                assert_eq!(texts, Vec::new(), "{body}");
                let direct = anthropic::request::translate(body.as_bytes(), &to).map(as_json);
                let got = translate(body.as_bytes(), &texts, |b| anthropic::request::translate(b, &to));
                assert_eq!(got.map(as_json), direct, "{body}");
                let sent = direct.ok().flatten().unwrap_or_default().to_string();
                assert!(!sent.contains("  \\n\""), "the prefill kept its whitespace: {sent}");
            }
        }
    }

    /// Long texts of only whitespace (escaped or not) are read, never stood in for: the
    /// translators drop them (the providers refuse such blocks), so the conversation they
    /// leave is the same with stand-ins or without, and no such block is sent.
    #[test]
    fn long_texts_of_only_whitespace_are_read_and_dropped() {
        let to = Native {
            model: "claude",
            upstream_model: "claude",
            max_output: 8_192,
            quirks: crate::catalog::Quirks::NONE,
        };
        let as_json = |b: Vec<u8>| serde_json::from_slice::<Value>(&b).ok();
        let long = "x".repeat(MIN_TEXT);
        // Blank texts as clients escape them: every escape of ASCII whitespace JSON allows;
        // Unicode's whitespace, escaped and not (an ideographic space, a no-break space).
        for unit in [r" \n\t", r"\f\r\u0020\u000A\u0009\u000c ", r"\u3000\u00a0 ", "\u{3000}\u{a0}\u{2003}"] {
            let blank = unit.repeat(MIN_TEXT);
            let body = format!(
                r#"{{"model":"auto","messages":[{{"role":"user","content":"{long}"}},{{"role":"assistant","content":"{blank}","tool_calls":[{{"id":"c1","type":"function","function":{{"name":"run","arguments":"{{}}"}}}}]}},{{"role":"tool","tool_call_id":"c1","content":"{blank}"}},{{"role":"user","content":[{{"type":"text","text":"{blank}"}}]}},{{"role":"user","content":"{long}"}}]}}"#
            );
            let texts = parsed_texts(&body);
            assert_eq!(texts.len(), 2, "{body}");
            for (name, direct) in [
                (
                    "anthropic",
                    anthropic::request::translate as fn(&[u8], &Native<'_>) -> Result<Vec<u8>, ApiError>,
                ),
                ("bedrock", bedrock::request::translate),
            ] {
                let want = direct(body.as_bytes(), &to).map(as_json);
                let got = translate(body.as_bytes(), &texts, |b| direct(b, &to)).map(as_json);
                assert_eq!(got, want, "{name}: {unit}");
                let sent = want.ok().flatten().unwrap_or_default();
                let blank_sent =
                    |v: &Value| v.as_str().is_some_and(|t| t.len() > 8 && t.chars().all(char::is_whitespace));
                assert!(
                    !walk_values(&sent).iter().any(|v| blank_sent(v)),
                    "{name}: a blank text was sent: {sent}"
                );
            }
        }
    }

    /// Every value in `v`, depth first.
    fn walk_values(v: &Value) -> Vec<&Value> {
        let mut out = vec![v];
        match v {
            Value::Array(a) => a.iter().for_each(|x| out.extend(walk_values(x))),
            Value::Object(o) => o.values().for_each(|x| out.extend(walk_values(x))),
            _ => {}
        }
        out
    }

    #[test]
    fn a_body_holding_the_stand_ins_escape_is_translated_as_it_is() {
        let long = "x".repeat(MIN_TEXT);
        let body = json!({"model": "auto", "messages": [
            {"role": "user", "content": long},
            {"role": "user", "content": "\u{1}0\u{1}"},
        ]})
        .to_string();
        assert!(body.contains("\\u0001"));
        let texts = parsed_texts(&body);
        assert_eq!(texts.len(), 1);
        let seen = std::cell::RefCell::new(Vec::new());
        let out = translate(body.as_bytes(), &texts, |b| {
            seen.borrow_mut().push(b.to_vec());
            Ok::<_, ()>(b.to_vec())
        });
        assert_eq!(out, Ok(body.clone().into_bytes()));
        assert_eq!(seen.into_inner(), vec![body.into_bytes()]);
    }

    #[test]
    fn a_long_text_holding_the_stand_ins_escape_is_still_stood_in_for() {
        let long = format!("{}\u{1}0\u{1}", "x".repeat(MIN_TEXT));
        let body = json!({"model": "auto", "messages": [
            {"role": "user", "content": long},
            {"role": "user", "content": "short"},
        ]})
        .to_string();
        let texts = parsed_texts(&body);
        assert_eq!(texts.len(), 1);
        let seen = std::cell::RefCell::new(Vec::new());
        let out = translate(body.as_bytes(), &texts, |b| {
            seen.borrow_mut().push(String::from_utf8_lossy(b).into_owned());
            Ok::<_, ()>(b.to_vec())
        });
        assert_eq!(out, Ok(body.clone().into_bytes()));
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 1);
        assert!(!seen[0].contains("xxxx") && seen[0].contains(r#""\u00010\u0001""#), "{seen:?}");
    }

    #[test]
    fn stand_ins_a_translator_drops_or_repeats_are_put_back_wherever_they_land() {
        // Letters beyond the hex digits: a text of hex digits and escapes may be blank
        // (`maybe_blank`) and is read, not stood in for.
        let (a, b) = ("g".repeat(MIN_TEXT), "h\\n".repeat(MIN_TEXT));
        let body = format!(
            r#"{{"model":"auto","messages":[{{"role":"user","content":"{a}"}},{{"role":"user","content":"{b}"}},{{"role":"user","content":"x"}}]}}"#
        );
        let out = translate(body.as_bytes(), &parsed_texts(&body), |small| {
            let s = String::from_utf8_lossy(small);
            assert!(s.contains(r#""\u00010\u0001""#) && s.contains(r#""\u00011\u0001""#), "{s}");
            // Joined twice, one dropped, and an unclosed mark and a bad number kept as they are.
            Ok::<_, ()>(br#"["\u00011\u0001\n\n\u00011\u0001","\u00019","\u0001x"]"#.to_vec())
        });
        let want = format!(r#"["{b}\n\n{b}","\u00019","\u0001x"]"#);
        assert_eq!(out.map(|o| String::from_utf8_lossy(&o).into_owned()), Ok(want));
    }
}
