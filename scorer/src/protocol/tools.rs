//! A chat body's `tools` read from its text, for the translators' text path: an agent resends
//! tens of kilobytes of tool descriptions and JSON Schemas on every turn, and building JSON
//! values of them to write them again costs more than the rest of a short turn.
//!
//! Only the tools agents send take this path: a non-empty array of function tools, none naming
//! a member twice. Each translator writes its own shape from them and declines anything its
//! value path would treat otherwise; the value path then decides, errors included, so both
//! paths write the same tools (each translator's property test checks it). The text path
//! keeps each schema's members in the client's order (the order a model writes a call's
//! arguments in); the value path, left the rare tools the text path declines (a member named
//! twice, a number serde_json refuses), writes them in name order.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::protocol::canonical;
use crate::protocol::raw::{Json, Members, Raw, objects_with, string, value, write_object};

/// A tool call id as the Messages and Converse APIs take it (`^[a-zA-Z0-9_-]+$`, Converse at
/// most 64 characters): a conforming id is kept; another (a provider's `functions.f:0`, a
/// client's own form, a longer one) becomes `call_` and 16 hex digits of its FNV-1a hash, the
/// same for a call and for its result, so the history still pairs them. The router switches
/// providers from turn to turn, so a history can hold any provider's ids.
pub(crate) fn tool_id(id: Cow<'_, str>) -> Cow<'_, str> {
    if crate::parse::fields::plain_tool_name(&id, CONVERSE_TOOL_NAME) {
        return id;
    }
    Cow::Owned(hashed_id(&id))
}

/// A call id as the Responses API takes it back (`call_id`: at most 64 characters): a longer
/// one (a client's own, another provider's) becomes [`hashed_id`]'s, the same for a call and
/// its output; OpenAI answered it with a 400 that ended the request.
pub(crate) fn call_id(id: Cow<'_, str>) -> Cow<'_, str> {
    if id.chars().count() <= CONVERSE_TOOL_NAME {
        return id;
    }
    Cow::Owned(hashed_id(&id))
}

/// `call_` and 16 hex digits of `id`'s FNV-1a hash.
fn hashed_id(id: &str) -> String {
    format!("call_{:016x}", fnv1a(id))
}

/// A tool call id as Mistral's models take it: nine letters or digits (Bedrock's Converse
/// answers another with a 400, "Tool call id was … but must be a-z, A-Z, 0-9, with a length of
/// 9", where a history holds Claude's `toolu_…`, OpenAI's `call_…` or Bedrock's own ids): a
/// conforming id is kept, another becomes nine base-62 digits of its FNV-1a hash, the same for
/// a call and for its result.
pub(crate) fn nine_character_id(id: Cow<'_, str>) -> Cow<'_, str> {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id;
    }
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut hash = fnv1a(&id);
    let mut out = String::with_capacity(9);
    for _ in 0..9 {
        out.push(char::from(DIGITS.get((hash % 62) as usize).copied().unwrap_or(b'0')));
        hash /= 62;
    }
    Cow::Owned(out)
}

/// `id`'s 64-bit FNV-1a hash.
fn fnv1a(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The longest tool name Converse takes (`ToolSpecification.name`: 1 to 64 of `[a-zA-Z0-9_-]`).
pub(crate) const CONVERSE_TOOL_NAME: usize = 64;

/// The longest tool name the Messages API takes.
pub(crate) const MESSAGES_TOOL_NAME: usize = 128;

/// A 400 for a tool name [`crate::parse::fields::plain_tool_name`] refuses, at `param`: a dotted
/// one (an MCP client's `github.create_issue`), which Gemini's OpenAI layer takes, is the
/// Messages and Converse APIs' 400, which no other candidate would have been tried for; refused
/// by the translation, a tier moves on.
pub(crate) fn tool_name_refused(name: &str, most: usize, param: &str) -> ApiError {
    ApiError::invalid(
        "invalid_value",
        Some(param),
        format!(
            "tool name {} is not one this model's API takes: letters, digits, _ and - only, at most {most} characters",
            crate::error::echo(name)
        ),
    )
}

/// Whether a JSON Schema `pattern` asks what constrained decoding cannot follow, Claude's
/// and OpenAI's alike: lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), a backreference (`\1`,
/// `\k<n>`, `\k'n'`, `\g1`, `(?P=n)`) or a word boundary (`\b`, `\B`, outside a class,
/// where `[\b]` is a backspace). Escapes are read as escapes: `\\b` is a backslash and a b.
pub(crate) fn pattern_refused(pattern: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let at = |i: usize| p.get(i).copied();
    let mut class = false;
    let mut i = 0;
    while let Some(c) = at(i) {
        match c {
            '\\' => {
                if !class && matches!(at(i + 1), Some('b' | 'B' | '1'..='9' | 'k' | 'g')) {
                    return true;
                }
                i += 2;
                continue;
            }
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => {
                let ahead: String = (1..=4).filter_map(|k| at(i + k)).collect();
                if ["?=", "?!", "?<=", "?<!", "?P="].iter().any(|q| ahead.starts_with(q)) {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// A tool call told as text, for a request in which the model may call no tool: the
/// translators that cannot carry tool blocks without tools (Messages, Converse) say it alike.
pub(crate) fn told_call(id: &str, name: &str, input: &serde_json::Value) -> String {
    format!("[tool call {id}: {name} {input}]")
}

/// The lines a tool result told as text opens and closes with (see [`told_call`]).
pub(crate) fn told_result(id: &str) -> (String, String) {
    (format!("[tool result {id}]"), format!("[end of tool result {id}]"))
}

/// The JSON Schema of a tool without `parameters` (it takes no arguments), as serde_json
/// writes `{"type": "object", "properties": {}}`.
pub(crate) const EMPTY_SCHEMA: &str = r#"{"properties":{},"type":"object"}"#;

/// One `{"type": "function", "function": {...}}` tool's members.
pub(crate) struct FunctionTool<'a> {
    /// The tool's own members (`type`, `function`, `cache_control`).
    pub(crate) tool: Members<'a>,
    /// The function's members (`name`, `description`, `parameters`, `strict`).
    pub(crate) function: Members<'a>,
}

/// `tools` as function tools, when it is a non-empty array of objects whose `type` is
/// `"function"` and whose `function` is an object, no object naming a member twice and no
/// member a translator may drop unwritten (all but `function` and `parameters`) holding a
/// number serde_json refuses ([`canonical::numbers_fit`]); `None` otherwise.
pub(crate) fn function_tools(raw: Json<'_>) -> Option<Vec<FunctionTool<'_>>> {
    let list = objects_with(Some(raw), "function").ok()??;
    if list.is_empty() {
        return None;
    }
    list.into_iter()
        .map(|(tool, function)| {
            tool.get("function")?;
            let plain = |m: &Members<'_>, written: &str| {
                m.object
                    && m.repeated().is_none()
                    // A string holds no number: the descriptions are most of the bytes.
                    && m.iter().all(|(name, v)| {
                        name == written || v.get().starts_with('"') || canonical::numbers_fit(v.get())
                    })
            };
            let kind = string(tool.get("type")).ok()?;
            (plain(&tool, "function")
                && plain(&function, "parameters")
                && kind.as_deref() == Some("function"))
            .then_some(FunctionTool { tool, function })
        })
        .collect()
}

/// A tool's `parameters` as the schema a translator sends: [`EMPTY_SCHEMA`] when absent, `null`
/// or `{}`; an object minified in the client's order ([`canonical::ordered`]), `"type":"object"`
/// first when it names no `type`. Messages and Converse refuse a schema without it, and a
/// tool's arguments are an object: a pydantic model that refers to itself is
/// `{"$defs":…,"$ref":…}`, which instructor sends as it is. `None` for anything else or an
/// object `ordered` declines.
pub(crate) fn schema_text(parameters: Raw<'_>) -> Option<Cow<'_, str>> {
    schema_as(parameters, true)
}

/// [`schema_text`], but a root `$ref` left untyped unless `typed`: a tool OpenAI's strict mode
/// reads (Responses' `strict`) takes the type added beside it for an object that does not say
/// it is closed, and refuses it.
fn schema_as(parameters: Raw<'_>, typed: bool) -> Option<Cow<'_, str>> {
    let empty =
        |p: &str| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')).is_some_and(|p| p.trim().is_empty());
    match parameters.map(Json::get) {
        None | Some("null") => Some(Cow::Borrowed(EMPTY_SCHEMA)),
        Some(p) if empty(p) => Some(Cow::Borrowed(EMPTY_SCHEMA)),
        Some(p) if p.starts_with('{') => match canonical::ordered(p)? {
            (text, named) if named || (!typed && referred(&text)) => Some(text),
            (text, _) => Some(Cow::Owned(format!(r#"{{"type":"object",{}"#, text.strip_prefix('{')?))),
        },
        Some(_) => None,
    }
}

/// Whether a schema's root is a reference (names `$ref`).
pub(crate) fn referred(text: &str) -> bool {
    crate::protocol::raw::members(Json::of(text)).is_ok_and(|m| m.get("$ref").is_some())
}

/// Writes [`schema_text`], or with `strict` the schema as [`schema_as`] leaves a strict one.
pub(crate) fn write_schema(parameters: Raw<'_>, out: &mut Vec<u8>, strict: bool) -> Option<()> {
    out.extend_from_slice(schema_as(parameters, !strict)?.as_bytes());
    Some(())
}

/// [`schema_text`] on the value path, `parameters` taken from its function: the schema as a
/// JSON value (name order), typed but a strict root `$ref` ([`schema_as`]); `None` when
/// `parameters` is neither an object nor `null`.
pub(crate) fn schema_value(parameters: Option<Value>, strict: bool) -> Option<Value> {
    match parameters {
        None | Some(Value::Null) => serde_json::from_str(EMPTY_SCHEMA).ok(),
        Some(Value::Object(p)) if p.is_empty() => serde_json::from_str(EMPTY_SCHEMA).ok(),
        Some(Value::Object(mut p)) => {
            if !strict || !p.contains_key("$ref") {
                p.entry("type").or_insert_with(|| Value::from("object"));
            }
            Some(Value::Object(p))
        }
        Some(_) => None,
    }
}

/// A string member's text between its quotes (escapes in place), when it is a string: what
/// [`canonical::write_literal`] writes.
pub(crate) fn literal(raw: Raw<'_>) -> Option<&str> {
    let text = raw.map(Json::get).filter(|t| t.starts_with('"'))?;
    text.get(1..text.len().saturating_sub(1))
}

/// A translator's tools, `raw` as the body has them: what `text` writes from the body's text,
/// or, when it declines, `None` and `tools` put in `req` as a JSON value for the value path.
pub(crate) fn written<T>(
    req: &mut Map<String, Value>,
    raw: Raw<'_>,
    text: impl FnOnce(Json<'_>) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let written = raw.and_then(text);
    if let (None, Some(raw)) = (&written, raw) {
        req.insert("tools".into(), value(raw)?);
    }
    Ok(written)
}

/// The body: `members` with the conversation member `conversation`, written by `write`, and
/// members already written as text (`raw`: the tools written from the body's text when they
/// were, [`written`]; a structured output's schema in the client's order), each in place of
/// a member of `members` of its name.
pub(crate) fn write_body(
    members: &Map<String, Value>,
    conversation: &str,
    raw: &[(&str, &[u8])],
    size: usize,
    mut write: impl FnMut(&mut Vec<u8>) -> serde_json::Result<()>,
) -> Result<Vec<u8>, ApiError> {
    let mut extra = vec![conversation];
    extra.extend(raw.iter().map(|(name, _)| *name));
    write_object(members, &extra, size, |name, w| match raw.iter().find(|(n, _)| *n == name) {
        Some((_, text)) => {
            w.extend_from_slice(text);
            Ok(())
        }
        None => write(w),
    })
}

/// The property test each translator's text path passes.
#[cfg(test)]
pub(crate) mod check {
    use serde_json::Value;

    use crate::error::ApiError;
    use crate::protocol::raw::{Json, chat_members};
    use crate::testing::Rng;

    /// On random `tools` members (`Rng::tools`), whatever `text` writes is what `values`, the
    /// value path, writes (`None`: it refuses or writes no tools), read as JSON; `text` keeps a
    /// schema's members in the client's order (the generator writes `p` before `a`, and
    /// `properties` before `type`); and it writes often enough for that to mean something
    /// (each translator declines a different share).
    pub(crate) fn text_path_agrees(
        seed: u64,
        text: impl Fn(Json<'_>) -> Option<Vec<u8>>,
        values: impl Fn(Value) -> Option<Vec<u8>>,
    ) {
        let mut rng = Rng(seed);
        let (mut written, mut ordered) = (0, 0);
        for case in 0..15_000 {
            let raw = rng.tools();
            let body = format!(r#"{{"tools": {raw}}}"#);
            let Ok((_, _, Some(kept))) = chat_members(body.as_bytes(), false, Some("tools")) else {
                panic!("case {case}: {raw}")
            };
            let Some(got) = text(kept) else { continue };
            written += 1;
            let want = values(serde_json::from_str(&raw).unwrap_or_default());
            let read = |b: &[u8]| serde_json::from_slice::<Value>(b).ok();
            assert_eq!(Some(read(&got)), want.as_deref().map(read), "case {case}: {raw}");
            let got = String::from_utf8_lossy(&got);
            assert!(!got.contains(r#""properties":{"a":"#), "case {case}: {got}");
            ordered += usize::from(got.contains(r#""properties":{"p":"#));
        }
        assert!(written > 400, "{written} of 15,000 written from the text");
        assert!(ordered > 40, "{ordered} schemas written in the client's order");
    }

    /// A body asking for a tool (`tool_choice: "required"`) whose schema, `type` before
    /// `properties`, says `"minimum": 0` (the text path writes it) or `"minimum": 1` then
    /// `"minimum": 0` (a member named twice: the value path writes it, keeping the last), each
    /// translated and parsed; the text path's schema checked to be in the client's order, the
    /// value path's in name order.
    pub(crate) fn both_paths(translate: impl Fn(&[u8]) -> Result<Vec<u8>, ApiError>) -> [Value; 2] {
        [("0", true), ("1, \"minimum\": 0", false)].map(|(minimum, text)| {
            let body = format!(
                r#"{{"model": "auto", "messages": [{{"role": "user", "content": "hi"}}], "tool_choice": "required", "tools": [{{"type": "function", "function": {{"name": "f", "description": "d", "parameters": {{"type": "object", "properties": {{"x": {{"type": "number", "minimum": {minimum}}}}}}}}}}}]}}"#
            );
            let out = translate(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let written = String::from_utf8_lossy(&out);
            let schema = match text {
                true => r#"{"type":"object","properties":{"x":{"type":"number","minimum":0}}}"#,
                false => r#"{"properties":{"x":{"minimum":0,"type":"number"}},"type":"object"}"#,
            };
            assert!(written.contains(schema), "{written}");
            serde_json::from_slice(&out).unwrap_or_default()
        })
    }
}
