//! Chat `messages` to Responses `input` items, one or more per message, in order.
//!
//! User, system and developer messages become `message` items whose content is a list of
//! `input_text`, `input_image` and `input_file` parts. An assistant message becomes a
//! `message` item with plain-string content (the `EasyInputMessage` form, which needs no
//! output-item ids) followed by one `function_call` item per tool call; a tool message
//! becomes a `function_call_output` item. A message's `name` has no Responses equivalent and
//! is dropped. An assistant message's `thinking_blocks` entries of type `reasoning` (the
//! encrypted reasoning this model wrote, [`super::response::carried`]) go before its items as
//! `reasoning` items, so a tool loop's later steps keep the reasoning of its earlier ones
//! (with `store: false` nothing else carries it); another model's are left out.
//!
//! Messages are read member by member from the body (`protocol::raw`), texts borrowed, and
//! items written with their members in name order, as a JSON value's map is.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::invalid::{missing, wrong_type};
use crate::error::{ApiError, echo};
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::raw::{At, Elements, Members, Raw, null, objects, objects_with, once, string, value};
use crate::protocol::signed::{self, Family};
use crate::protocol::tools::call_id;

/// One `input` item.
#[derive(Debug)]
pub(super) enum Item<'a> {
    /// A user, system or developer `message` with its input parts.
    Message {
        role: &'static str,
        content: Vec<Part<'a>>,
    },
    /// An assistant `message`, its content one string, and its phase: `commentary` before the
    /// tool calls of its turn, else `final_answer` (codex models want it back on every
    /// assistant message; a chat client does not keep it, so the turn's shape tells it).
    Said(Cow<'a, str>, &'static str),
    /// A `function_call`.
    Call {
        id: Cow<'a, str>,
        name: Cow<'a, str>,
        arguments: Cow<'a, str>,
    },
    /// A `function_call_output`: its text, or its text parts one `input_text` each (joined,
    /// two parts' words ran together).
    Output {
        id: Cow<'a, str>,
        output: Cow<'a, str>,
    },
    OutputParts {
        id: Cow<'a, str>,
        parts: Vec<Cow<'a, str>>,
    },
    /// A `reasoning` item sent back: its id, summary parts and encrypted content.
    Reasoning {
        id: String,
        summary: Vec<Value>,
        encrypted: String,
    },
}

/// One input part: `input_text`, or an image or file built whole.
#[derive(Debug)]
pub(super) enum Part<'a> {
    Text(Cow<'a, str>),
    Other(Value),
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Part::Other(v) => v.serialize(s),
            Part::Text(text) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("text", text)?;
                m.serialize_entry("type", "input_text")?;
                m.end()
            }
        }
    }
}

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Members in name order, as serde_json writes a map.
        let mut m = s.serialize_map(None)?;
        match self {
            Item::Message { role, content } => {
                m.serialize_entry("content", content)?;
                m.serialize_entry("role", role)?;
                m.serialize_entry("type", "message")?;
            }
            Item::Said(content, phase) => {
                m.serialize_entry("content", content)?;
                m.serialize_entry("phase", phase)?;
                m.serialize_entry("role", "assistant")?;
                m.serialize_entry("type", "message")?;
            }
            Item::Call { id, name, arguments } => {
                m.serialize_entry("arguments", arguments)?;
                m.serialize_entry("call_id", id)?;
                m.serialize_entry("name", name)?;
                m.serialize_entry("type", "function_call")?;
            }
            Item::Output { id, output } => {
                m.serialize_entry("call_id", id)?;
                m.serialize_entry("output", output)?;
                m.serialize_entry("type", "function_call_output")?;
            }
            Item::OutputParts { id, parts } => {
                m.serialize_entry("call_id", id)?;
                let parts: Vec<Part<'_>> =
                    parts.iter().map(|t| Part::Text(Cow::Borrowed(t.as_ref()))).collect();
                m.serialize_entry("output", &parts)?;
                m.serialize_entry("type", "function_call_output")?;
            }
            Item::Reasoning { id, summary, encrypted } => {
                m.serialize_entry("encrypted_content", encrypted)?;
                m.serialize_entry("id", id)?;
                m.serialize_entry("summary", summary)?;
                m.serialize_entry("type", "reasoning")?;
            }
        }
        m.end()
    }
}

/// `messages` as Responses `input` items, for `model` (the catalog id, whose own reasoning
/// goes back).
pub(super) fn input_items<'a>(messages: Elements<'a>, model: &str) -> Result<Vec<Item<'a>>, ApiError> {
    let Some(list) = messages else {
        return Err(wrong_type("messages", "an array of messages"));
    };
    if list.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("messages"),
            "'messages' is empty: send at least one message",
        ));
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, m) in list.into_iter().enumerate() {
        // Param paths are only built for an error.
        let at = || format!("messages[{i}]");
        if !m.object {
            return Err(wrong_type(&at(), "an object"));
        }
        let m = once(m, at)?;
        match string(m.get("role"))?.as_deref() {
            Some(role @ ("system" | "developer" | "user")) => {
                let role = match role {
                    "system" => "system",
                    "developer" => "developer",
                    _ => "user",
                };
                items.push(Item::Message { role, content: parts(m.get("content"), &at)? });
            }
            Some("assistant") => {
                let first = items.len();
                assistant(&m, &at, &mut items)?;
                lead(reasoning(m.get(THINKING_BLOCKS), model)?, &mut items, first);
            }
            Some("tool") => items.push(tool_result(&m, &at)?),
            Some("function") => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&format!("{}.role", at())),
                    "role 'function' is deprecated and not supported on this model: use tool messages",
                ));
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    "invalid_role",
                    Some(&format!("{}.role", at())),
                    format!(
                        "role {} is not valid: use system, developer, user, assistant or tool",
                        echo(other)
                    ),
                ));
            }
            None => {
                return Err(missing(
                    &format!("{}.role", at()),
                    "use system, developer, user, assistant or tool",
                ));
            }
        }
    }
    Ok(items)
}

/// A user, system or developer message's content as input parts.
fn parts<'a>(content: Raw<'a>, at: At<'_>) -> Result<Vec<Part<'a>>, ApiError> {
    if let Some(text) = string(content)? {
        return Ok(vec![Part::Text(text)]);
    }
    let Some(list) = objects(content)? else {
        if null(content) {
            return Err(missing(&format!("{}.content", at()), "send text or content parts"));
        }
        return Err(wrong_type(&format!("{}.content", at()), "a string or an array of parts"));
    };
    let mut out = Vec::with_capacity(list.len());
    for (j, p) in list.into_iter().enumerate() {
        let at = || format!("{}.content[{j}]", at());
        out.push(part(once(p, at)?, &at)?);
    }
    Ok(out)
}

/// One content part: `text`, `image_url` and `file` have Responses equivalents; audio and
/// anything else are refused.
fn part<'a>(p: Members<'a>, at: At<'_>) -> Result<Part<'a>, ApiError> {
    let decoded = |name: &str| p.get(name).map(value).transpose();
    match string(p.get("type"))?.as_deref() {
        Some("text") => Ok(Part::Text(part_string(&p, "text", at)?)),
        Some("image_url") => {
            Ok(Part::Other(image(decoded("image_url")?.as_ref(), &format!("{}.image_url", at()))?))
        }
        Some("file") => Ok(Part::Other(file(decoded("file")?.as_ref(), &format!("{}.file", at()))?)),
        Some("input_audio") => Err(ApiError::invalid(
            "unsupported_value",
            Some(&format!("{}.type", at())),
            "audio input is not supported on this model: send text, images or files",
        )),
        kind => Err(ApiError::invalid(
            "unsupported_value",
            Some(&format!("{}.type", at())),
            format!(
                "content part type {} is not supported: use text, image_url or file",
                kind.map_or_else(|| "none".to_string(), echo)
            ),
        )),
    }
}

/// `{"url","detail"}` to `{"type":"input_image","image_url","detail"}`. Responses takes an
/// http(s) URL or a base64 data URL; `detail` is required there and defaults to `auto` in chat.
fn image(image_url: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let Some(o) = image_url.and_then(Value::as_object) else {
        return Err(missing(at, "send {\"url\": ...}"));
    };
    let param = format!("{at}.url");
    let url = match o.get("url") {
        Some(Value::String(u)) => u,
        None | Some(Value::Null) => return Err(missing(&param, "send an https URL or a data URL")),
        Some(_) => return Err(wrong_type(&param, "a string")),
    };
    let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
    let ok = match scheme.as_str() {
        "http" | "https" => {
            url.get(scheme.len()..).is_some_and(|rest| rest.len() > 3 && rest.starts_with("://"))
        }
        "data" => url.contains(";base64,"),
        _ => false,
    };
    if !ok {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&param),
            format!("image URL {} is not usable: send an http(s) URL or a base64 data URL", echo(url)),
        ));
    }
    let detail = match o.get("detail") {
        None | Some(Value::Null) => json!("auto"),
        Some(d @ Value::String(_)) => d.clone(),
        Some(_) => return Err(wrong_type(&format!("{at}.detail"), "a string")),
    };
    Ok(json!({"type": "input_image", "image_url": url, "detail": detail}))
}

/// `{"file_data","file_id","filename"}` to an `input_file` part with the same members.
fn file(file: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let Some(o) = file.and_then(Value::as_object) else {
        return Err(missing(at, "send file_data or file_id"));
    };
    let mut out = Map::new();
    out.insert("type".into(), json!("input_file"));
    for key in ["file_data", "file_id", "filename"] {
        match o.get(key) {
            None | Some(Value::Null) => {}
            Some(v @ Value::String(_)) => {
                out.insert(key.into(), v.clone());
            }
            Some(_) => return Err(wrong_type(&format!("{at}.{key}"), "a string")),
        }
    }
    if !out.contains_key("file_data") && !out.contains_key("file_id") {
        return Err(missing(&format!("{at}.file_data"), "send file_data or file_id"));
    }
    Ok(Value::Object(out))
}

/// An assistant turn: its text as one `message` item (left out when empty and the turn only
/// calls tools), then one `function_call` item per tool call.
fn assistant<'a>(m: &Members<'a>, at: At<'_>, items: &mut Vec<Item<'a>>) -> Result<(), ApiError> {
    if !null(m.get("function_call")) {
        return Err(ApiError::invalid(
            "unsupported_parameter",
            Some(&format!("{}.function_call", at())),
            "function_call is deprecated and not supported on this model: use tool_calls",
        ));
    }
    let said = joined_text(m.said(), at)?;
    // Each call's `function` object is read in the same pass as the call.
    let calls = match objects_with(m.get("tool_calls"), "function")? {
        Some(calls) => calls,
        None if null(m.get("tool_calls")) => Vec::new(),
        None => return Err(wrong_type(&format!("{}.tool_calls", at()), "an array")),
    };
    if !said.is_empty() || calls.is_empty() {
        items.push(Item::Said(said, if calls.is_empty() { "final_answer" } else { "commentary" }));
    }
    for (k, (call, f)) in calls.into_iter().enumerate() {
        let at = || format!("{}.tool_calls[{k}]", at());
        let call = once(call, at)?;
        if string(call.get("type"))?.is_some_and(|t| t != "function") {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{}.type", at())),
                "only function tool calls are supported on this model",
            ));
        }
        let id = required_string(call.get("id"), &|| format!("{}.id", at()))?;
        let f = once(f, || format!("{}.function", at()))?;
        let name = required_string(f.get("name"), &|| format!("{}.function.name", at()))?;
        let arguments = match string(f.get("arguments"))? {
            Some(a) => a,
            None if null(f.get("arguments")) => Cow::Borrowed("{}"),
            None => return Err(wrong_type(&format!("{}.function.arguments", at()), "a JSON string")),
        };
        items.push(Item::Call { id: call_id(id), name, arguments });
    }
    Ok(())
}

/// The `reasoning` items among an assistant message's `thinking_blocks` that `model` wrote
/// (their encrypted content untagged), each with its id and summary parts, and the item it led
/// to (`before`: `message` or `call:<call_id>`); anything else in the list, or a list that is
/// not one, is left out.
fn reasoning(blocks: Raw<'_>, model: &str) -> Result<Vec<(Option<String>, Item<'static>)>, ApiError> {
    let Some(raw) = blocks else { return Ok(Vec::new()) };
    let Value::Array(list) = value(raw)? else { return Ok(Vec::new()) };
    fn s<'v>(b: &'v Value, k: &str) -> Option<&'v str> {
        b.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let item = |b: &Value| {
        if s(b, "type") != Some("reasoning") {
            return None;
        }
        let encrypted = signed::for_model(Family::OpenAi, model, s(b, "encrypted_content")?)?;
        let summary = b.get("summary").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let summary = summary
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .map(|text| json!({"text": text, "type": "summary_text"}))
            .collect();
        let before = s(b, "before").map(str::to_string);
        Some((
            before,
            Item::Reasoning { id: s(b, "id")?.to_string(), summary, encrypted: encrypted.to_string() },
        ))
    };
    Ok(list.iter().filter_map(item).collect())
}

/// Puts each reasoning item directly before the item of the turn (from `first` in `items`)
/// it led to: OpenAI refuses a reasoning item not followed by its item ("provided without its
/// required following item"), two in a row included. An item led to by several (a turn's
/// messages joined into one) takes the last; one that names no item (an answer that ended
/// after it) goes before the turn's first, and one naming an item the turn lacks is left out.
fn lead(reasoning: Vec<(Option<String>, Item<'static>)>, items: &mut Vec<Item<'_>>, first: usize) {
    if reasoning.is_empty() {
        return;
    }
    let at = |before: Option<&str>| {
        let Some(before) = before else { return Some(first) };
        let led = |i: &Item<'_>| match i {
            Item::Said(..) => before == "message",
            Item::Call { id, .. } => before.strip_prefix("call:") == Some(id.as_ref()),
            _ => false,
        };
        items.iter().skip(first).position(led).map(|p| first + p)
    };
    let mut placed: Vec<(usize, Item<'static>)> = Vec::new();
    for (before, item) in reasoning {
        let Some(to) = at(before.as_deref()) else { continue };
        placed.retain(|(p, _)| *p != to);
        placed.push((to, item));
    }
    // From the last place back, so the places before stay where they are.
    placed.sort_by_key(|(p, _)| std::cmp::Reverse(*p));
    for (p, item) in placed {
        items.insert(p, item);
    }
}

/// A tool message: the output of the call it names.
fn tool_result<'a>(m: &Members<'a>, at: At<'_>) -> Result<Item<'a>, ApiError> {
    let id = call_id(required_string(m.get("tool_call_id"), &|| format!("{}.tool_call_id", at()))?);
    let content = m.get("content");
    if let Some(list) = objects(content)?.filter(|l| l.len() > 1) {
        let parts = list.into_iter().enumerate().map(|(j, p)| {
            let at = || format!("{}.content[{j}]", at());
            text_part(&once(p, at)?, &at)
        });
        return Ok(Item::OutputParts { id, parts: parts.collect::<Result<_, _>>()? });
    }
    Ok(Item::Output { id, output: joined_text(content, at)? })
}

/// Content that can only be text (assistant and tool turns): a string, or its text parts
/// joined; refusal parts are the model's earlier words, joined with the text (an assistant's
/// only).
fn joined_text<'a>(content: Raw<'a>, at: At<'_>) -> Result<Cow<'a, str>, ApiError> {
    if null(content) {
        return Ok(Cow::Borrowed(""));
    }
    if let Some(text) = string(content)? {
        return Ok(text);
    }
    let Some(list) = objects(content)? else {
        return Err(wrong_type(&format!("{}.content", at()), "a string or an array of text parts"));
    };
    let mut out = String::new();
    for (j, p) in list.into_iter().enumerate() {
        let at = || format!("{}.content[{j}]", at());
        out.push_str(&text_part(&once(p, at)?, &at)?);
    }
    Ok(Cow::Owned(out))
}

/// A text or refusal part's text; any other part is refused.
fn text_part<'a>(p: &Members<'a>, at: At<'_>) -> Result<Cow<'a, str>, ApiError> {
    match string(p.get("type"))?.as_deref() {
        Some("text") => part_string(p, "text", at),
        Some("refusal") => part_string(p, "refusal", at),
        _ => Err(ApiError::invalid(
            "unsupported_value",
            Some(&format!("{}.type", at())),
            "this message's content can only be text parts",
        )),
    }
}

/// A part's string member `key` (a text part's `text`, a refusal part's `refusal`).
fn part_string<'a>(p: &Members<'a>, key: &str, at: At<'_>) -> Result<Cow<'a, str>, ApiError> {
    match string(p.get(key))? {
        Some(s) => Ok(s),
        None if null(p.get(key)) => Err(missing(&format!("{}.{key}", at()), "send the part's text")),
        None => Err(wrong_type(&format!("{}.{key}", at()), "a string")),
    }
}

/// A required non-empty string member.
fn required_string<'a>(v: Raw<'a>, param: At<'_>) -> Result<Cow<'a, str>, ApiError> {
    match string(v)? {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(missing(&param(), "send a non-empty string")),
        None if null(v) => Err(missing(&param(), "send a non-empty string")),
        None => Err(wrong_type(&param(), "a string")),
    }
}
