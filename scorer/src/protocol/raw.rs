//! Reading a client's JSON body member by member for a translator: each member's raw JSON
//! borrowed from the body ([`RawValue`]), and only what is translated decoded. A text with no
//! escapes is written to the provider's body straight from the client's bytes, and no tree of
//! JSON values is built per message (a 400 KB agent conversation has hundreds).
//!
//! The body a translator gets has passed the router's parser, so a member that is only carried
//! is not validated again here (serde_json's raw scan does not check a `\u` escape's pairing
//! or a number's range, as decoding does); a member decoded here that fails is a 400
//! `invalid_json` whose position is within that member.

use std::borrow::Cow;
use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::parse::fields::{duplicate_error, first_duplicate};

/// A member's raw JSON when the member is there, `null` included.
pub(crate) type Raw<'a> = Option<&'a RawValue>;

/// An object's members in order, each as raw JSON borrowed from the body: what the
/// translation looks up by name, decoding only what it uses. Read from anything: a value that
/// is not an object has no members, as a member looked up on it finds nothing.
#[derive(Default)]
pub(crate) struct Members<'a> {
    /// The value read was an object.
    pub(crate) object: bool,
    list: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Members<'a> {
    /// The member `name`.
    pub(crate) fn get(&self, name: &str) -> Raw<'a> {
        self.list.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    /// The members, in order.
    pub(crate) fn into_inner(self) -> Vec<(Cow<'a, str>, &'a RawValue)> {
        self.list
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

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
        let mut list = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(Name(name)) = map.next_key()? {
            list.push((name, map.next_value()?));
        }
        Ok(Members { object: true, list })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Members<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Members::default())
    }

    fn visit_unit<E>(self) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<Members<'de>, E> {
        Ok(Members::default())
    }
}

/// A member name, borrowed unless it holds escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(v.to_owned())))
    }
}

/// A 400 for JSON the router's parser would have refused (a string it cannot decode).
pub(crate) fn invalid_json(e: serde_json::Error) -> ApiError {
    ApiError::invalid("invalid_json", None, format!("the body is not valid JSON: {e}"))
}

/// A member that is `null` (or absent).
pub(crate) fn null(raw: Raw<'_>) -> bool {
    raw.is_none_or(|r| r.get() == "null")
}

/// A member as a string, borrowed from the body unless it holds escapes; `None` when it is
/// absent or not a string.
pub(crate) fn string(raw: Raw<'_>) -> Result<Option<Cow<'_, str>>, ApiError> {
    let Some(text) = raw.map(RawValue::get).filter(|t| t.starts_with('"')) else { return Ok(None) };
    // Valid JSON already: without a backslash, the bytes between the quotes are the string.
    if !text.contains('\\')
        && let Some(inner) = text.get(1..text.len() - 1)
    {
        return Ok(Some(Cow::Borrowed(inner)));
    }
    serde_json::from_str::<String>(text).map(|s| Some(Cow::Owned(s))).map_err(invalid_json)
}

/// A member decoded as a JSON value (for the small members kept whole: `cache_control`,
/// images, tools).
pub(crate) fn value(raw: &RawValue) -> Result<Value, ApiError> {
    serde_json::from_str(raw.get()).map_err(invalid_json)
}

/// A member that is an array, as its elements' members (read in one pass); `None` when it is
/// not an array.
pub(crate) fn objects(raw: Raw<'_>) -> Result<Option<Vec<Members<'_>>>, ApiError> {
    match raw.map(RawValue::get) {
        Some(text) if text.starts_with('[') => serde_json::from_str(text).map(Some).map_err(invalid_json),
        _ => Ok(None),
    }
}

/// A member's members, read from any JSON value (see [`Members`]).
pub(crate) fn members(raw: &RawValue) -> Result<Members<'_>, ApiError> {
    serde_json::from_str(raw.get()).map_err(invalid_json)
}

/// A body's top-level members, or a 400 when it is not a JSON object.
pub(crate) fn body_members(body: &[u8]) -> Result<Members<'_>, ApiError> {
    // As text, so one reader (serde_json's `StrRead`) serves every member read here.
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::invalid("invalid_json", None, "the body is not valid JSON: it is not UTF-8")
    })?;
    let members: Members<'_> = serde_json::from_str(text).map_err(invalid_json)?;
    if !members.object {
        return Err(ApiError::invalid("invalid_json", None, "the body must be a JSON object"));
    }
    Ok(members)
}

/// A chat body's members as JSON values, but `messages`, kept raw for a translator to read
/// member by member; with `hold`, `null` holds its place in the map (for a translator that
/// handles the members in name order). A member named twice keeps its last value, as a JSON
/// value does.
pub(crate) fn chat_members(body: &[u8], hold: bool) -> Result<(Map<String, Value>, Raw<'_>), ApiError> {
    let mut members = Map::new();
    let mut messages = None;
    for (name, raw) in body_members(body)?.into_inner() {
        if name == "messages" {
            messages = Some(raw);
            if hold {
                members.insert(name.into_owned(), Value::Null);
            }
        } else {
            members.insert(name.into_owned(), value(raw)?);
        }
    }
    Ok((members, messages))
}

/// A member's members (read from any JSON value), refused as [`once`] says.
pub(crate) fn object<'a>(raw: &'a RawValue, at: impl FnOnce() -> String) -> Result<Members<'a>, ApiError> {
    once(members(raw)?, at)
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

    fn members(text: &str) -> Members<'_> {
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn a_repeated_member_is_found_among_few_and_many() {
        assert_eq!(members(r#"{"a":1,"b":2,"a":3}"#).repeated().as_deref(), Some("a"));
        assert_eq!(members(r#"{"a":1,"b":2}"#).repeated(), None);
        let many: Vec<String> = (0..1000).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let text = format!("{{{}}}", many.join(","));
        assert_eq!(members(&text).repeated(), None);
        let text = format!(r#"{{{},"k517":0}}"#, many.join(","));
        assert_eq!(members(&text).repeated().as_deref(), Some("k517"));
    }

    #[test]
    fn non_objects_have_no_members_and_strings_read_as_they_decode() {
        for text in ["[1,{\"a\":1}]", "\"x\"", "3", "null", "true"] {
            let m = members(text);
            assert!(!m.object && m.get("a").is_none(), "{text}");
        }
        for text in [r#""plain""#, r#""""#, r#""a\"b\u00e4\n""#, r#""K\u00e4se /x""#] {
            let raw: &RawValue = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            let want: String = serde_json::from_str(text).unwrap_or_default();
            assert_eq!(string(Some(raw)).ok().flatten().as_deref(), Some(want.as_str()), "{text}");
        }
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
