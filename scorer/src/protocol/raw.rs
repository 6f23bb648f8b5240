//! Reading a client's JSON body member by member for a translator: each member's raw JSON
//! borrowed from the body ([`Json`]), and only what is translated decoded. A text with no
//! escapes is written to the provider's body straight from the client's bytes, and no tree of
//! JSON values is built per message (a 400 KB agent conversation has hundreds).
//!
//! Members are split with the router's own reader (`parse::json`), which validates what it
//! skips eight bytes at a time; a member that fails is a 400 `invalid_json` whose position is
//! within that member (the body a translator gets has passed the router's parser, so none
//! does in the router).

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::parse::fields::{duplicate_error, first_duplicate};
use crate::parse::json::{ArrayIter, Kind, Reader};

/// A text of only whitespace, empty included: the Messages and Converse APIs refuse text
/// blocks without other characters ("text content blocks must contain non-whitespace text";
/// "text field is blank"), so their translators drop such texts (the parser leaves them real
/// for it, `parse::messages::maybe_blank`). Unicode's whitespace, not only ASCII's: an
/// ideographic space (U+3000) or a no-break space alone was sent as a text.
pub(crate) fn blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// A JSON number that is a whole number however it is written (`16`, `16.0`, `1e3`), as the
/// parser reads the request's integers ([`whole_number`](crate::parse::json::whole_number)):
/// a translator must not refuse what the parser accepted.
pub(crate) fn integer(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_number().and_then(|n| crate::parse::json::whole_number(&n.to_string())))
}

/// One JSON value's text, borrowed from the body (whitespace around it trimmed), valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Json<'a>(&'a str);

impl<'a> Json<'a> {
    /// JSON text, as a value's (written here, not read from a body).
    pub(crate) fn of(text: &'a str) -> Self {
        Json(text)
    }

    /// The value's JSON text.
    pub(crate) fn get(self) -> &'a str {
        self.0
    }
}

/// A param path (`messages[3].content[0]`), built only for an error: a conversation has
/// hundreds of messages, parts and tool calls, and almost never an error.
pub(crate) type At<'x> = &'x dyn Fn() -> String;

/// A member's raw JSON when the member is there, `null` included.
pub(crate) type Raw<'a> = Option<Json<'a>>;

/// An object's members in order, each as raw JSON borrowed from the body: what the
/// translation looks up by name, decoding only what it uses. Read from anything: a value that
/// is not an object has no members, as a member looked up on it finds nothing.
#[derive(Default)]
pub(crate) struct Members<'a> {
    /// The value read was an object.
    pub(crate) object: bool,
    list: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Members<'a> {
    /// The member `name`.
    pub(crate) fn get(&self, name: &str) -> Raw<'a> {
        self.list.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    /// An assistant message's words: its `content`, or without one the `refusal` it states
    /// (how an OpenAI answer carries the model refusing, and so how a client replaying the
    /// conversation sends it back).
    pub(crate) fn said(&self) -> Raw<'a> {
        let content = self.get("content");
        match self.get("refusal") {
            Some(refusal) if null(content) && refusal.get().starts_with('"') => Some(refusal),
            _ => content,
        }
    }

    /// The members, names decoded, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Json<'a>)> {
        self.list.iter().map(|(name, v)| (name.as_ref(), *v))
    }

    /// A member named twice, if any: where a JSON value would keep one of them silently,
    /// which one the client meant is not ours to guess, so translators refuse it. A few
    /// members are compared pairwise, without allocating; more are sorted (the parser's
    /// [`first_duplicate`]): an object's members are the client's to multiply.
    pub(crate) fn repeated(&self) -> Option<Cow<'a, str>> {
        if self.list.len() <= 8 {
            return self.list.iter().enumerate().find_map(|(i, (name, _))| {
                self.list.iter().skip(i + 1).any(|(other, _)| other == name).then(|| name.clone())
            });
        }
        let mut names: Vec<Cow<'a, str>> = self.list.iter().map(|(name, _)| name.clone()).collect();
        first_duplicate(&mut names)
    }
}

/// The next value's text, the reader left after it.
fn next_value<'a>(r: &mut Reader<'a>, text: &'a str) -> Result<Json<'a>, ApiError> {
    r.peek();
    let start = r.pos();
    r.skip_value().map_err(invalid_json)?;
    Ok(Json(text.get(start..r.pos()).unwrap_or_default()))
}

/// The members of the value at the reader (none unless it is an object), the reader left
/// after it.
fn read_members<'a>(r: &mut Reader<'a>, text: &'a str) -> Result<Members<'a>, ApiError> {
    read_members_with(r, text, None).map(|(members, _)| members)
}

/// `text`, a whole JSON document, read by `read` with nothing after it.
fn whole<'a, T>(
    text: &'a str,
    read: impl FnOnce(&mut Reader<'a>, &'a str) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut r = Reader::new(text);
    let out = read(&mut r, text)?;
    r.finish().map_err(invalid_json)?;
    Ok(out)
}

/// A 400 for JSON the router's parser would have refused (a string it cannot decode).
pub(crate) fn invalid_json(e: impl fmt::Display) -> ApiError {
    ApiError::invalid("invalid_json", None, format!("the body is not valid JSON: {e}"))
}

/// A member that is `null` (or absent).
pub(crate) fn null(raw: Raw<'_>) -> bool {
    raw.is_none_or(|r| r.get() == "null")
}

/// A member as a string, borrowed from the body unless it holds escapes; `None` when it is
/// absent or not a string.
pub(crate) fn string(raw: Raw<'_>) -> Result<Option<Cow<'_, str>>, ApiError> {
    let Some(text) = raw.map(Json::get).filter(|t| t.starts_with('"')) else { return Ok(None) };
    Reader::new(text).string().map(Some).map_err(invalid_json)
}

/// A member decoded as a JSON value (for the small members kept whole: `cache_control`,
/// images, and tools the translators do not write from the body's text).
pub(crate) fn value(raw: Json<'_>) -> Result<Value, ApiError> {
    serde_json::from_str(raw.get()).map_err(invalid_json)
}

/// An array's elements as their members (`None`: the value is not an array).
pub(crate) type Elements<'a> = Option<Vec<Members<'a>>>;

/// The elements of the value at the reader, the reader left after it.
fn read_elements<'a>(r: &mut Reader<'a>, text: &'a str) -> Result<Elements<'a>, ApiError> {
    if r.peek_kind().map_err(invalid_json)? != Kind::Array {
        r.skip_value().map_err(invalid_json)?;
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut it = r.array().map_err(invalid_json)?;
    while it.next(r).map_err(invalid_json)? {
        out.push(read_members(r, text)?);
    }
    Ok(Some(out))
}

/// An array's elements, each as its raw JSON; `None` when the value is not an array.
pub(crate) fn elements(raw: Json<'_>) -> Result<Option<Vec<Json<'_>>>, ApiError> {
    let text = raw.get().trim();
    if !text.starts_with('[') {
        return Ok(None);
    }
    whole(text, |r, text| {
        let mut out = Vec::new();
        let mut it = r.array().map_err(invalid_json)?;
        while it.next(r).map_err(invalid_json)? {
            out.push(next_value(r, text)?);
        }
        Ok(Some(out))
    })
}

/// A member that is an array, as its elements' members (read in one pass); `None` when it is
/// not an array.
pub(crate) fn objects(raw: Raw<'_>) -> Result<Elements<'_>, ApiError> {
    match raw.map(Json::get) {
        Some(text) if text.starts_with('[') => whole(text, read_elements),
        _ => Ok(None),
    }
}

/// A member that is an array, as its elements' members and, read in the same pass, the
/// members of each element's member `nested` (none when it is absent or not an object); `None`
/// when it is not an array. The tools' `function` objects are most of their bytes.
pub(crate) fn objects_with<'a>(
    raw: Raw<'a>,
    nested: &str,
) -> Result<Option<Vec<(Members<'a>, Members<'a>)>>, ApiError> {
    let Some(text) = raw.map(Json::get).filter(|t| t.starts_with('[')) else { return Ok(None) };
    whole(text, |r, text| {
        let mut out = Vec::new();
        let mut it = r.array().map_err(invalid_json)?;
        while it.next(r).map_err(invalid_json)? {
            out.push(read_members_with(r, text, Some(nested))?);
        }
        Ok(Some(out))
    })
}

/// The members of the value at the reader (none unless it is an object) and, read on the
/// way, the members of its member `nested` (none when absent or not an object); the reader
/// left after it.
fn read_members_with<'a>(
    r: &mut Reader<'a>,
    text: &'a str,
    nested: Option<&str>,
) -> Result<(Members<'a>, Members<'a>), ApiError> {
    if r.peek_kind().map_err(invalid_json)? != Kind::Object {
        r.skip_value().map_err(invalid_json)?;
        return Ok((Members::default(), Members::default()));
    }
    let mut list = Vec::with_capacity(4);
    let mut inner = Members::default();
    let mut it = r.object().map_err(invalid_json)?;
    while let Some(name) = it.next_key(r).map_err(invalid_json)? {
        if nested == Some(name.as_ref()) && r.peek_kind().map_err(invalid_json)? == Kind::Object {
            let start = r.pos();
            inner = read_members(r, text)?;
            list.push((name, Json(text.get(start..r.pos()).unwrap_or_default())));
        } else {
            list.push((name, next_value(r, text)?));
        }
    }
    Ok((Members { object: true, list }, inner))
}

/// A chat body's members as JSON values, its messages' members, and one member's raw JSON.
pub(crate) type Split<'a> = (Map<String, Value>, Option<Elements<'a>>, Raw<'a>);

/// [`Split`] with each message as raw JSON.
pub(crate) type SplitRaw<'a> = (Map<String, Value>, Option<RawMessages<'a>>, Raw<'a>);

/// A body's messages as raw JSON, from the first one a remembered prefix does not cover.
pub(crate) struct RawMessages<'a> {
    /// Where the array's elements start in the body (after its `[`).
    pub(crate) at: usize,
    /// Messages a remembered prefix covered, not read: `list` starts with message `skipped`.
    pub(crate) skipped: usize,
    pub(crate) list: Vec<Json<'a>>,
    /// Where each message of `list` ends in the body.
    pub(crate) ends: Vec<usize>,
}

/// A lookup of a remembered prefix of `messages`: given the body's text and where the array's
/// elements start, where the prefix ends and how many messages it holds.
pub(crate) type Skip<'s> = &'s mut dyn FnMut(&str, usize) -> Option<(usize, usize)>;

/// How [`chat_members`] reads `messages`.
enum MessagesAs<'a> {
    /// Each message's members, in the same pass.
    Members(Option<Elements<'a>>),
    /// Each message's raw JSON, for a translator that reads only some of them (absent or
    /// not an array: `None`).
    Raw(Option<RawMessages<'a>>),
}

/// A chat body's members as JSON values, but `messages`, read as its elements' members in
/// the same pass (absent: `None`) for a translator to read member by member, and the member
/// named `kept` (when given), left as raw JSON for the translator to read from the body's
/// text. With `hold`, `null` holds `messages`' place in the map (for a translator that
/// handles the members in name order). A member named twice keeps its last value, as a JSON
/// value does.
pub(crate) fn chat_members<'a>(
    body: &'a [u8],
    hold: bool,
    kept: Option<&str>,
) -> Result<Split<'a>, ApiError> {
    let (members, messages, raw) = chat_members_as(body, hold, kept, None)?;
    let messages = match messages {
        MessagesAs::Members(m) => m,
        MessagesAs::Raw(_) => None,
    };
    Ok((members, messages, raw))
}

/// [`chat_members`] with each message left as raw JSON (`messages` absent or not an array:
/// `None`), those of the prefix `skip` finds remembered not read at all.
pub(crate) fn chat_members_raw<'a>(
    body: &'a [u8],
    kept: Option<&str>,
    skip: Skip<'_>,
) -> Result<SplitRaw<'a>, ApiError> {
    let (members, messages, raw) = chat_members_as(body, false, kept, Some(skip))?;
    let messages = match messages {
        MessagesAs::Raw(m) => m,
        MessagesAs::Members(_) => None,
    };
    Ok((members, messages, raw))
}

/// The elements of the value at the reader as raw JSON (`None`: it is not an array) but the
/// first ones `skip` finds remembered, the reader left after it.
fn raw_elements<'a>(
    r: &mut Reader<'a>,
    text: &'a str,
    skip: Skip<'_>,
) -> Result<Option<RawMessages<'a>>, ApiError> {
    if r.peek_kind().map_err(invalid_json)? != Kind::Array {
        r.skip_value().map_err(invalid_json)?;
        return Ok(None);
    }
    let mut it = r.array().map_err(invalid_json)?;
    let at = r.pos();
    let mut out = RawMessages { at, skipped: 0, list: Vec::new(), ends: Vec::new() };
    if let Some((end, messages)) = skip(text, at) {
        // The same bytes as a prefix read before: the same elements, as valid.
        r.skip_to(end);
        it = ArrayIter::after_element();
        out.skipped = messages;
    }
    while it.next(r).map_err(invalid_json)? {
        out.list.push(next_value(r, text)?);
        out.ends.push(r.pos());
    }
    Ok(Some(out))
}

/// A value's members (none unless it is an object).
pub(crate) fn members(raw: Json<'_>) -> Result<Members<'_>, ApiError> {
    whole(raw.get(), read_members)
}

/// The raw JSON object at `path` in `body` (a member of a member of ...), when every object on
/// the way names each of its members once; `None` otherwise. For what must keep the client's
/// member order, which a JSON value (members in name order) loses: a JSON Schema's
/// `properties` are the order a model writes an answer's members in ("reasoning" before
/// "answer").
pub(crate) fn object_at<'a>(body: &'a [u8], path: &[&str]) -> Option<Json<'a>> {
    let mut at = Json(std::str::from_utf8(body).ok()?.trim());
    for name in path {
        let m = members(at).ok()?;
        if m.repeated().is_some() {
            return None;
        }
        at = m.get(name)?;
    }
    at.get().starts_with('{').then_some(at)
}

/// The most bytes of a chat body's members beside `messages` and the kept one (`tools`) that a
/// translation decodes into JSON values, which cost some 25 times their size: an 8 MB list of
/// numbers in a member no translator reads took a worker's VM to 209 MB, kept after, and a
/// 40 MB one trapped it, failing every request in flight on the worker. Real ones (a schema,
/// `stop`, `metadata`) are a few kilobytes.
const MAX_DECODED_BYTES: usize = 1 << 20;

/// A 413 for a body whose members beside the conversation pass [`MAX_DECODED_BYTES`], naming
/// the member that did: a tier moves on to a model the body goes to as it is.
fn too_large_to_translate(name: &str) -> ApiError {
    let param = crate::error::echo(name);
    ApiError::invalid(
        "request_too_large",
        Some(name),
        format!(
            "the members beside messages and tools hold more than 1 MiB at {param}: this model's API is translated, and the router translates no more"
        ),
    )
    .with_status(413)
}

/// With `raw`, each message as raw JSON but a remembered prefix; without, each message's
/// members.
fn chat_members_as<'a>(
    body: &'a [u8],
    hold: bool,
    kept: Option<&str>,
    mut raw: Option<Skip<'_>>,
) -> Result<(Map<String, Value>, MessagesAs<'a>, Raw<'a>), ApiError> {
    // As text, so that members are borrowed as `str`.
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::invalid("invalid_json", None, "the body is not valid JSON: it is not UTF-8")
    })?;
    whole(text, |r, text| {
        if r.peek_kind().map_err(invalid_json)? != Kind::Object {
            return Err(ApiError::invalid("invalid_json", None, "the body must be a JSON object"));
        }
        let mut members = Map::new();
        let mut messages = if raw.is_none() { MessagesAs::Members(None) } else { MessagesAs::Raw(None) };
        let mut kept_raw = None;
        let mut decoded = 0;
        let mut it = r.object().map_err(invalid_json)?;
        while let Some(name) = it.next_key(r).map_err(invalid_json)? {
            if name == "messages" {
                messages = match raw.as_mut() {
                    None => MessagesAs::Members(Some(read_elements(r, text)?)),
                    Some(skip) => MessagesAs::Raw(raw_elements(r, text, *skip)?),
                };
                if hold {
                    members.insert(name.into_owned(), Value::Null);
                }
            } else if kept == Some(name.as_ref()) {
                kept_raw = Some(next_value(r, text)?);
            } else {
                let raw = next_value(r, text)?;
                decoded += raw.get().len();
                if decoded > MAX_DECODED_BYTES {
                    return Err(too_large_to_translate(&name));
                }
                members.insert(name.into_owned(), value(raw)?);
            }
        }
        Ok((members, messages, kept_raw))
    })
}

/// `m`, or a 400 `duplicate_key` at `at()` when it names a member twice: the router's parser's
/// error, which it gives for messages and parts; inside tool calls only the translators look.
pub(crate) fn once<'a>(m: Members<'a>, at: impl FnOnce() -> String) -> Result<Members<'a>, ApiError> {
    match m.repeated() {
        Some(name) => Err(duplicate_error(&name, &at())),
        None => Ok(m),
    }
}

/// `members` and the members named `extra` as one JSON object, every member in name order as
/// serde_json writes a map: the bytes one map holding them all would give. `write` writes an
/// extra member's value straight into the body (the conversation, the biggest member, is
/// written once, not first on its own and then copied); an extra member replaces a member of
/// the same name, as inserting it into the map would.
pub(crate) fn write_object(
    members: &Map<String, Value>,
    extra: &[&str],
    size: usize,
    mut write: impl FnMut(&str, &mut Vec<u8>) -> serde_json::Result<()>,
) -> Result<Vec<u8>, ApiError> {
    let mut names = extra.to_vec();
    names.sort_unstable();
    let mut bytes = Vec::with_capacity(size + 512);
    bytes.push(b'{');
    let mut pending = names.iter().copied().peekable();
    for (name, v) in members {
        if names.contains(&name.as_str()) {
            continue;
        }
        while let Some(k) = pending.next_if(|k| *k < name.as_str()) {
            key(&mut bytes, k)?;
            write(k, &mut bytes).map_err(invalid_json)?;
        }
        key(&mut bytes, name)?;
        serde_json::to_writer(&mut bytes, v).map_err(invalid_json)?;
    }
    for k in pending {
        key(&mut bytes, k)?;
        write(k, &mut bytes).map_err(invalid_json)?;
    }
    bytes.push(b'}');
    Ok(bytes)
}

/// A member's name and its colon, after a comma unless it is the object's first.
fn key(bytes: &mut Vec<u8>, name: &str) -> Result<(), ApiError> {
    if bytes.last() != Some(&b'{') {
        bytes.push(b',');
    }
    serde_json::to_writer(&mut *bytes, name).map_err(invalid_json)?;
    bytes.push(b':');
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn members_of(text: &str) -> Members<'_> {
        members(Json(text)).unwrap_or_default()
    }

    #[test]
    fn objects_with_reads_each_elements_nested_member_in_the_same_pass() {
        let text = r#"[{"id":"a","function":{"name":"f","x":1}}, {"function":"g"}, 3, {"id":"c"},
            {"function":{"name":"h"},"function":{"name":"i"}}]"#;
        let list = objects_with(Some(Json(text)), "function").ok().flatten().unwrap_or_default();
        let got: Vec<_> = list
            .iter()
            .map(|(outer, inner)| {
                let names = |m: &Members<'_>| m.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
                (outer.object, names(outer), inner.object, names(inner), outer.repeated().is_some())
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                (true, s(&["id", "function"]), true, s(&["name", "x"]), false),
                (true, s(&["function"]), false, s(&[]), false),
                (false, s(&[]), false, s(&[]), false),
                (true, s(&["id"]), false, s(&[]), false),
                (true, s(&["function", "function"]), true, s(&["name"]), true),
            ]
        );
        // The nested member keeps its text in the outer members, as any member does.
        let first = list.first().map(|(outer, _)| outer.get("function").map(Json::get));
        assert_eq!(first, Some(Some(r#"{"name":"f","x":1}"#)));
        assert!(matches!(objects_with(Some(Json("{}")), "function"), Ok(None)));
    }

    #[test]
    fn a_repeated_member_is_found_among_few_and_many() {
        assert_eq!(members_of(r#"{"a":1,"b":2,"a":3}"#).repeated().as_deref(), Some("a"));
        assert_eq!(members_of(r#"{"a":1,"b":2}"#).repeated(), None);
        let many: Vec<String> = (0..1000).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let text = format!("{{{}}}", many.join(","));
        assert_eq!(members_of(&text).repeated(), None);
        let text = format!(r#"{{{},"k517":0}}"#, many.join(","));
        assert_eq!(members_of(&text).repeated().as_deref(), Some("k517"));
    }

    #[test]
    fn non_objects_have_no_members_and_strings_read_as_they_decode() {
        for text in ["[1,{\"a\":1}]", "\"x\"", "3", "null", "true"] {
            let m = members_of(text);
            assert!(!m.object && m.get("a").is_none(), "{text}");
        }
        for text in [r#""plain""#, r#""""#, r#""a\"b\u00e4\n""#, r#""K\u00e4se /x""#] {
            let want: String = serde_json::from_str(text).unwrap_or_default();
            assert_eq!(string(Some(Json(text))).ok().flatten().as_deref(), Some(want.as_str()), "{text}");
        }
    }

    #[test]
    fn members_are_their_values_text_and_malformed_json_is_refused() {
        let m = members_of(" { \"a\" : [ 1 , {\"b\": \"x\"} ] ,\"c\":\"d\\u00e4\" } ");
        assert_eq!(m.get("a").map(Json::get), Some(r#"[ 1 , {"b": "x"} ]"#));
        assert_eq!(string(m.get("c")).ok().flatten().as_deref(), Some("dä"));
        let list = objects(m.get("a")).ok().flatten().unwrap_or_default();
        assert_eq!(list.iter().map(|e| e.object).collect::<Vec<_>>(), [false, true]);
        for bad in [r#"{"a":}"#, r#"{"a":1"#, r#"{"a":"\q"}"#, r#"{"a":1} x"#, r#"{"a":[1,]}"#] {
            let e = members(Json(bad)).err().map(|e| (e.status, e.code));
            assert_eq!(e, Some((400, "invalid_json")), "{bad}");
        }
        let e = chat_members(b"[1]", false, None).err().map(|e| (e.status, e.code));
        assert_eq!(e, Some((400, "invalid_json")));
        let e = objects(Some(Json(r#"[{"a":1},"#))).err().map(|e| e.code);
        assert_eq!(e, Some("invalid_json"));
    }

    #[test]
    fn written_objects_are_in_name_order_and_extras_replace_members() {
        let mut out = Map::new();
        for k in ["z", "b", "n"] {
            out.insert(k.into(), json!(k));
        }
        out.insert("m".into(), json!("old"));
        let got = write_object(&out, &["m", "a"], 0, |k, w| match k {
            "m" => serde_json::to_writer(w, &json!([1])),
            _ => serde_json::to_writer(w, "x"),
        })
        .unwrap_or_default();
        let mut want = out.clone();
        want.insert("m".into(), json!([1]));
        want.insert("a".into(), json!("x"));
        assert_eq!(String::from_utf8_lossy(&got), Value::Object(want).to_string());
    }
}
