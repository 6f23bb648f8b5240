//! A translation that carries the conversation's long texts without reading them.
//!
//! The native translators build a `serde_json` tree of the client's body and serialise a new
//! one: every string is unescaped, copied into the tree, copied again into the new one and
//! escaped again. On an agent's conversation that is most of a request's cost, and the long
//! texts (message contents, text parts) are only ever carried, never read. So before the
//! translator runs, each long text is replaced by a short stand-in (`\u0001<n>\u0001`, control
//! characters no valid body sends unescaped), and after it, each stand-in in the translation
//! is replaced by the client's own bytes of that text, still escaped as the client escaped
//! them (valid JSON string content wherever the stand-in landed, even joined into a longer
//! string). The translation is the same JSON, string for string.
//!
//! What a translator reads in a text stays real: texts shorter than [`MIN_TEXT`] (emptiness
//! checks), and every text after the last user or tool message (an assistant prefill is
//! trimmed). A body that
//! already holds the escape `\u0001` is translated as it is.

use crate::parse::json::{Kind, Reader};

/// Texts shorter than this (raw bytes) are left in place.
pub const MIN_TEXT: usize = 128;

/// The stand-ins' delimiter as a translator's JSON writes it.
const MARK: &[u8] = b"\\u0001";

/// `translate` run on `body` with its long texts stood in for, and the texts put back in its
/// output. `translate` must carry texts as opaque strings (it may join them or drop them).
pub fn translate<E>(body: &[u8], translate: impl Fn(&[u8]) -> Result<Vec<u8>, E>) -> Result<Vec<u8>, E> {
    let texts = long_texts(body).unwrap_or_default();
    if texts.is_empty() || contains(body, MARK) {
        return translate(body);
    }
    let mut small =
        Vec::with_capacity(body.len() - texts.iter().map(|t| t.1 - t.0).sum::<usize>() + texts.len() * 10);
    let mut at = 0;
    for (n, &(start, end)) in texts.iter().enumerate() {
        small.extend_from_slice(body.get(at..start).unwrap_or_default());
        small.extend_from_slice(format!("\\u0001{n}\\u0001").as_bytes());
        at = end;
    }
    small.extend_from_slice(body.get(at..).unwrap_or_default());
    let out = translate(&small)?;
    Ok(put_back(&out, body, &texts))
}

/// The raw spans (between the quotes) of the long texts of every message but the last, in
/// body order; `None` when the body cannot be walked (the translator then reports it).
fn long_texts(body: &[u8]) -> Option<Vec<(usize, usize)>> {
    let src = std::str::from_utf8(body).ok()?;
    let mut r = Reader::new(src);
    let mut texts = Vec::new();
    let mut obj = r.object().ok()?;
    while let Some(key) = obj.next_key(&mut r).ok()? {
        if key != "messages" || r.peek_kind().ok()? != Kind::Array {
            r.skip_value().ok()?;
            continue;
        }
        let mut messages = r.array().ok()?;
        // Texts up to the end of the last user or tool message: what follows it (assistant
        // messages, a prefill, with system messages between) may be trimmed.
        let mut kept = texts.len();
        while messages.next(&mut r).ok()? {
            if message(&mut r, src, &mut texts)? {
                kept = texts.len();
            }
        }
        texts.truncate(kept);
    }
    Some(texts)
}

/// The long texts of one message: its `content` string, or its parts' `text` strings. True
/// for a user or tool message.
fn message(r: &mut Reader<'_>, src: &str, texts: &mut Vec<(usize, usize)>) -> Option<bool> {
    if r.peek_kind().ok()? != Kind::Object {
        return r.skip_value().ok().map(|()| false);
    }
    let mut asks = false;
    let mut obj = r.object().ok()?;
    while let Some(key) = obj.next_key(r).ok()? {
        match (key.as_ref(), r.peek_kind().ok()?) {
            ("role", Kind::String) => asks = matches!(r.raw_string().ok()?, "user" | "tool" | "function"),
            ("content", Kind::String) => text(r, src, texts)?,
            ("content", Kind::Array) => {
                let mut parts = r.array().ok()?;
                while parts.next(r).ok()? {
                    if r.peek_kind().ok()? != Kind::Object {
                        r.skip_value().ok()?;
                        continue;
                    }
                    let mut part = r.object().ok()?;
                    while let Some(key) = part.next_key(r).ok()? {
                        if key == "text" && r.peek_kind().ok()? == Kind::String {
                            text(r, src, texts)?;
                        } else {
                            r.skip_value().ok()?;
                        }
                    }
                }
            }
            _ => r.skip_value().ok()?,
        }
    }
    Some(asks)
}

fn text(r: &mut Reader<'_>, src: &str, texts: &mut Vec<(usize, usize)>) -> Option<()> {
    let raw = r.raw_string().ok()?;
    if raw.len() >= MIN_TEXT {
        let start = (raw.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
        texts.push((start, start + raw.len()));
    }
    Some(())
}

/// `out` with every stand-in replaced by the client's bytes of its text.
fn put_back(out: &[u8], body: &[u8], texts: &[(usize, usize)]) -> Vec<u8> {
    let grown: usize = texts.iter().map(|t| t.1 - t.0).sum();
    let mut whole = Vec::with_capacity(out.len() + grown);
    let mut rest = out;
    while let Some(i) = find(rest, MARK) {
        let (before, after) = rest.split_at(i);
        whole.extend_from_slice(before);
        let after = after.get(MARK.len()..).unwrap_or_default();
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        let closed = after.get(digits..).is_some_and(|a| a.starts_with(MARK));
        let text = std::str::from_utf8(after.get(..digits).unwrap_or_default())
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
            .and_then(|n| texts.get(n))
            .and_then(|&(s, e)| body.get(s..e));
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at..)?.starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::error::ApiError;
    use crate::protocol::{Native, anthropic, bedrock, responses};

    const PIECES: &[&str] = &[
        "Please explain the trade-off step by step, with the details that matter here. ",
        "```python\ndef f(x):\n    return x  # a \"quoted\" comment\n```\n",
        "Käsekuchen: a path /usr/local/bin and a tab\there.\n",
        "   ",
        "",
        "short",
    ];

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n
        }

        fn text(&mut self) -> String {
            (0..self.below(8)).map(|_| PIECES[self.below(PIECES.len())]).collect()
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
        let to = Native { upstream_model: "claude", max_output: 8_192 };
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
            let want = direct(body.as_bytes()).map(|b| serde_json::from_slice::<Value>(&b).ok());
            let got = translate(body.as_bytes(), direct).map(|b| serde_json::from_slice::<Value>(&b).ok());
            assert_eq!(got, want, "case {case}: {body}");
            assert!(got.as_ref().map_or(true, Option::is_some), "case {case}: not JSON");
            let texts = long_texts(body.as_bytes()).unwrap_or_default();
            stood_in += usize::from(got.is_ok() && !texts.is_empty());
        }
        assert!(stood_in > 150, "translated with stand-ins: {stood_in} of 500");
    }

    #[test]
    fn a_body_holding_the_stand_ins_escape_is_translated_as_it_is() {
        let long = "x".repeat(MIN_TEXT);
        let body = json!({"messages": [
            {"role": "user", "content": long},
            {"role": "user", "content": "\u{1}0\u{1}"},
        ]})
        .to_string();
        assert!(body.contains("\\u0001"));
        let seen = std::cell::RefCell::new(Vec::new());
        let out = translate(body.as_bytes(), |b| {
            seen.borrow_mut().push(b.to_vec());
            Ok::<_, ()>(b.to_vec())
        });
        assert_eq!(out, Ok(body.clone().into_bytes()));
        assert_eq!(seen.into_inner(), vec![body.into_bytes()]);
    }

    #[test]
    fn stand_ins_a_translator_drops_or_repeats_are_put_back_wherever_they_land() {
        let (a, b) = ("a".repeat(MIN_TEXT), "b\\n".repeat(MIN_TEXT));
        let body = format!(
            r#"{{"messages":[{{"role":"user","content":"{a}"}},{{"role":"user","content":"{b}"}},{{"role":"user","content":"x"}}]}}"#
        );
        let out = translate(body.as_bytes(), |small| {
            let s = String::from_utf8_lossy(small);
            assert!(s.contains(r#""\u00010\u0001""#) && s.contains(r#""\u00011\u0001""#), "{s}");
            // Joined twice, one dropped, and an unclosed mark and a bad number kept as they are.
            Ok::<_, ()>(br#"["\u00011\u0001\n\n\u00011\u0001","\u00019","\u0001x"]"#.to_vec())
        });
        let want = format!(r#"["{b}\n\n{b}","\u00019","\u0001x"]"#);
        assert_eq!(out.map(|o| String::from_utf8_lossy(&o).into_owned()), Ok(want));
    }
}
