//! One message's content: OpenAI content parts to Anthropic content blocks.
//!
//! The body is read as raw JSON members (`raw::Json`) and only what is translated is decoded:
//! a text with no escapes is borrowed from the body, not copied, and no tree of JSON values is
//! built per message. Blocks are written in member-name order, as `serde_json` writes a map,
//! so the body is the same bytes as one built from JSON values.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, echo};
use crate::parse::base64::image_format;
use crate::protocol::raw::{self, At, Members, Raw, blank, null, objects, string, value};
use crate::protocol::tools::{told_call, told_result};

/// The part types a role may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parts {
    /// `system`, `developer` and `tool`: text only.
    Text,
    /// `user`: text, images and PDF files.
    User,
    /// `assistant`: text and refusals.
    Assistant,
}

/// Image types the Messages API takes in a base64 source.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The largest image the Messages API takes, bytes of its base64.
const MAX_IMAGE_BASE64: usize = 5 * 1024 * 1024;

/// A 400 naming `param`.
pub(super) fn refuse(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid("unsupported_for_provider", Some(param), message)
}

/// One Messages content block.
#[derive(Debug, Clone)]
pub(super) enum Block<'a> {
    /// `{"type":"text"}`, from a text or refusal part or a string content.
    Text { text: Cow<'a, str>, cache: Option<Value> },
    /// `{"type":"tool_use"}`, from an assistant's tool call.
    ToolUse { id: Cow<'a, str>, name: Cow<'a, str>, input: Value },
    /// `{"type":"tool_result"}`, from a tool message.
    ToolResult { id: Cow<'a, str>, content: Option<ToolContent<'a>> },
    /// An image or a document, built whole (`cache_control` included).
    Other(Value),
    /// Claude's signed thinking (`thinking` or `redacted_thinking`), as Anthropic wrote it
    /// (see [`signed`]).
    Signed(Value),
}

/// A `tool_result`'s content: the tool's string as is, or its text parts as blocks; or none,
/// the result's own mark being a blank part's (`cache_control` on the `tool_result`).
#[derive(Debug, Clone)]
pub(super) enum ToolContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
    Marked(Value),
}

impl<'a> Block<'a> {
    /// A tool call or result as the text blocks that tell it (for a request that declares no
    /// tools, whose history Messages would refuse as blocks); other blocks as they are.
    pub(super) fn told(self) -> Vec<Block<'a>> {
        let text = |t: String| Block::Text { text: Cow::Owned(t), cache: None };
        match self {
            Block::ToolUse { id, name, input } => vec![text(told_call(&id, &name, &input))],
            Block::ToolResult { id, content } => {
                let (open, close) = told_result(&id);
                let mut out = vec![text(open)];
                match content {
                    Some(ToolContent::Text(t)) if !t.trim().is_empty() => {
                        out.push(Block::Text { text: t, cache: None });
                    }
                    Some(ToolContent::Blocks(blocks)) => out.extend(blocks),
                    _ => {}
                }
                out.push(text(close));
                out
            }
            other => vec![other],
        }
    }
}

impl Block<'_> {
    /// The block with its texts copied out of the body.
    pub(super) fn owned(self) -> Block<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Block::Text { text, cache } => Block::Text { text: own(text), cache },
            Block::ToolUse { id, name, input } => Block::ToolUse { id: own(id), name: own(name), input },
            Block::ToolResult { id, content } => Block::ToolResult {
                id: own(id),
                content: content.map(|c| match c {
                    ToolContent::Text(t) => ToolContent::Text(own(t)),
                    ToolContent::Blocks(b) => ToolContent::Blocks(b.into_iter().map(Block::owned).collect()),
                    ToolContent::Marked(m) => ToolContent::Marked(m),
                }),
            },
            Block::Other(v) => Block::Other(v),
            Block::Signed(v) => Block::Signed(v),
        }
    }

    /// The block's text, when it is a text block.
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Block::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Marks the block as a prompt-cache breakpoint, unless it is one already (a tool call and
    /// signed thinking take none here).
    pub(super) fn mark(&mut self, cache: Value) {
        match self {
            Block::Text { cache: slot @ None, .. } => *slot = Some(cache),
            Block::Other(Value::Object(obj)) if !obj.contains_key("cache_control") => {
                obj.insert("cache_control".into(), cache);
            }
            // A tool result: its last block, or the result itself (a string result becomes
            // its one text block, which then takes it).
            Block::ToolResult { content, .. } => match content.take() {
                None => *content = Some(ToolContent::Marked(cache)),
                Some(ToolContent::Text(text)) => {
                    *content = Some(ToolContent::Blocks(vec![Block::Text { text, cache: Some(cache) }]));
                }
                Some(ToolContent::Blocks(mut blocks)) => {
                    if let Some(last) = blocks.last_mut() {
                        last.mark(cache);
                    }
                    *content = Some(ToolContent::Blocks(blocks));
                }
                marked => *content = marked,
            },
            _ => {}
        }
    }

    /// Whether the block carries `cache_control`.
    pub(super) fn cached(&self) -> bool {
        match self {
            Block::Text { cache, .. } => cache.is_some(),
            Block::Other(v) => v.get("cache_control").is_some(),
            _ => false,
        }
    }
}

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let block = match self {
            Block::Other(v) | Block::Signed(v) => return v.serialize(s),
            Block::Text { .. } => "text",
            Block::ToolUse { .. } => "tool_use",
            Block::ToolResult { .. } => "tool_result",
        };
        // Members in name order, as serde_json writes a map.
        let mut m = s.serialize_map(None)?;
        match self {
            Block::Text { text, cache } => {
                if let Some(cache) = cache {
                    m.serialize_entry("cache_control", cache)?;
                }
                m.serialize_entry("text", text)?;
            }
            Block::ToolUse { id, name, input } => {
                m.serialize_entry("id", id)?;
                m.serialize_entry("input", input)?;
                m.serialize_entry("name", name)?;
            }
            Block::ToolResult { id, content } => {
                match content {
                    Some(ToolContent::Text(text)) => m.serialize_entry("content", text)?,
                    Some(ToolContent::Blocks(blocks)) => m.serialize_entry("content", blocks)?,
                    Some(ToolContent::Marked(cache)) => m.serialize_entry("cache_control", cache)?,
                    None => {}
                }
                m.serialize_entry("tool_use_id", id)?;
            }
            Block::Other(_) | Block::Signed(_) => {}
        }
        m.serialize_entry("type", block)?;
        m.end()
    }
}

/// Whether a body marks a prompt-cache breakpoint anywhere (`cache_control` on a part or a
/// tool): a client that places its own is left to them. Text that merely says the word errs
/// towards leaving the body alone. (OpenAI's `prompt_cache_breakpoint` is not one: its latest
/// four of up to 80 do not map onto Anthropic's four, and a fifth mark is Anthropic's 400.)
pub(super) fn marked(body: &[u8]) -> bool {
    // A byte compare per byte, the name's only at a quote: an agent's body is hundreds of KB.
    body.iter()
        .enumerate()
        .any(|(i, &b)| b == b'"' && body.get(i..).is_some_and(|r| r.starts_with(CACHE_MARK)))
}

const CACHE_MARK: &[u8] = br#""cache_control""#;

/// A number member within `lo..=hi`, or a 400 naming it.
pub(super) fn number(
    req: &Map<String, Value>,
    name: &str,
    lo: f64,
    hi: f64,
) -> Result<Option<f64>, ApiError> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if (lo..=hi).contains(&x) => Ok(Some(x)),
            _ => Err(refuse(name, format!("{name} must be a number from {lo} to {hi}"))),
        },
    }
}

/// An assistant message's `thinking_blocks` ([`crate::parse::messages::THINKING_BLOCKS`]) as
/// the blocks that start its turn: each `thinking` block with its text and a signature, and
/// each `redacted_thinking` block with its data, as Anthropic wrote them (their members only);
/// anything else in the list is left out, as is a list that is not one.
pub(super) fn signed(raw: Raw<'_>) -> Result<Vec<Block<'static>>, ApiError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    let Value::Array(list) = value(raw)? else { return Ok(Vec::new()) };
    let s = |b: &Value, k: &str| b.get(k).and_then(Value::as_str).map(str::to_string);
    let block = |b: &Value| match s(b, "type").as_deref() {
        Some("thinking") => {
            let (text, signature) = (s(b, "thinking")?, s(b, "signature").filter(|s| !s.is_empty())?);
            Some(json!({"type": "thinking", "thinking": text, "signature": signature}))
        }
        Some("redacted_thinking") => {
            Some(json!({"type": "redacted_thinking", "data": s(b, "data").filter(|d| !d.is_empty())?}))
        }
        _ => None,
    };
    Ok(list.iter().filter_map(block).map(Block::Signed).collect())
}

/// The content blocks of `content` (a string, an array of parts, or absent), `at` giving its
/// param path (`messages[2].content`), and the prompt-cache mark of a blank part left out that
/// no block took. Text that is empty or only whitespace is left out (the Messages API rejects
/// such blocks), its mark going to the block before it, else to the one after: dropped with
/// its part (an empty tool result marked as the conversation's last block), the request
/// reached Claude with no breakpoint, and its whole input was read at full price.
pub(super) fn marked_blocks<'a>(
    content: Raw<'a>,
    at: At<'_>,
    parts: Parts,
) -> Result<(Vec<Block<'a>>, Option<Value>), ApiError> {
    if null(content) {
        return Ok((Vec::new(), None));
    }
    if let Some(text) = string(content)? {
        return Ok((if blank(&text) { Vec::new() } else { vec![Block::Text { text, cache: None }] }, None));
    }
    let Some(list) = objects(content)? else {
        return Err(refuse(&at(), "content must be a string or an array of content parts"));
    };
    let mut out: Vec<Block<'a>> = Vec::with_capacity(list.len());
    let mut orphan = None;
    for (j, part) in list.into_iter().enumerate() {
        let mark = part.get("cache_control");
        match block(part, &|| format!("{}[{j}]", at()), parts)? {
            Some(mut block) => {
                if let Some(cache) = orphan.take() {
                    block.mark(cache);
                }
                out.push(block);
            }
            None => {
                let Some(cache) = mark.map(value).transpose()?.filter(Value::is_object) else { continue };
                match out.last_mut() {
                    Some(before) => before.mark(cache),
                    None => orphan = Some(cache),
                }
            }
        }
    }
    Ok((out, orphan))
}

/// One part's block, `None` for empty text.
fn block<'a>(part: Members<'a>, at: At<'_>, parts: Parts) -> Result<Option<Block<'a>>, ApiError> {
    let part = raw::once(part, at)?;
    let kind = string(part.get("type"))?.unwrap_or_default();
    let mut out = match (kind.as_ref(), parts) {
        ("text", _) => {
            let Some(text) = string(part.get("text"))? else {
                return Err(refuse(&format!("{}.text", at()), "a text part needs a string `text`"));
            };
            if blank(&text) {
                return Ok(None);
            }
            Block::Text { text, cache: None }
        }
        ("refusal", Parts::Assistant) => match string(part.get("refusal"))? {
            Some(text) if blank(&text) => return Ok(None),
            Some(text) => Block::Text { text, cache: None },
            None => {
                return Err(refuse(&format!("{}.refusal", at()), "a refusal part needs a string `refusal`"));
            }
        },
        ("image_url", Parts::User) => {
            // The object form is OpenAI's; a bare string is accepted as some clients send it.
            let image_url = part.get("image_url").map(value).transpose()?;
            let url = image_url.as_ref().and_then(|i| i.get("url").or(Some(i))).and_then(Value::as_str);
            let at = format!("{}.image_url.url", at());
            Block::Other(image(
                url.ok_or_else(|| refuse(&at, "an image_url part needs a string `url`"))?,
                &at,
            )?)
        }
        ("file", Parts::User) => {
            let file_part = part.get("file").map(value).transpose()?;
            Block::Other(file(file_part.as_ref(), &format!("{}.file", at()))?)
        }
        _ => {
            return Err(refuse(
                &format!("{}.type", at()),
                format!(
                    "content part type {} is not supported here by this model's API: use {}",
                    echo(&kind),
                    match parts {
                        Parts::Text => "text",
                        Parts::User => "text, image_url or file (PDF)",
                        Parts::Assistant => "text or refusal",
                    }
                ),
            ));
        }
    };
    if let Some(cache) = part.get("cache_control") {
        let cache = value(cache)?;
        if !cache.is_object() {
            return Err(refuse(&format!("{}.cache_control", at()), "cache_control must be an object"));
        }
        match &mut out {
            Block::Text { cache: slot, .. } => *slot = Some(cache),
            Block::Other(Value::Object(obj)) => {
                obj.insert("cache_control".into(), cache);
            }
            _ => {}
        }
    }
    Ok(Some(out))
}

/// A `data:` URL's media type and base64 payload.
fn data_url(url: &str) -> Option<(&str, &str)> {
    let (head, data) = url.strip_prefix("data:")?.split_once(',')?;
    Some((head.strip_suffix(";base64")?, data))
}

/// An image block: a base64 source for a data URL, a URL source for http(s).
fn image(url: &str, at: &str) -> Result<Value, ApiError> {
    if url.starts_with("data:") {
        let Some((media, data)) = data_url(url) else {
            return Err(refuse(at, "an image data URL must be base64: data:image/png;base64,..."));
        };
        // Media types are case-insensitive, and `image/jpg`, which browsers and clients write,
        // is JPEG: Messages takes only the four names as written below.
        let lower = media.to_ascii_lowercase();
        let named = if lower == "image/jpg" { "image/jpeg" } else { lower.as_str() };
        // The type its bytes say, where they say one the API takes, whatever the label: a label
        // that does not match them is Anthropic's 400 ("Image does not match the provided media
        // type"), which no other candidate would have been tried for.
        let told =
            image_format(data.as_bytes()).and_then(|f| IMAGE_TYPES.iter().copied().find(|t| t.ends_with(f)));
        let Some(media) = told.or_else(|| IMAGE_TYPES.iter().copied().find(|t| *t == named)) else {
            return Err(refuse(
                at,
                format!("image type {} is not supported: use {}", echo(media), IMAGE_TYPES.join(", ")),
            ));
        };
        if data.is_empty() {
            return Err(refuse(at, "the image data URL is empty"));
        }
        // Anthropic's limit, on the base64 ("image exceeds 5 MB maximum: 6771174 bytes >
        // 5242880 bytes"): refused here, a tier moves on to a model that takes it.
        if data.len() > MAX_IMAGE_BASE64 {
            return Err(refuse(
                at,
                format!("the image is {} bytes of base64: this model's API takes 5 MB at most", data.len()),
            ));
        }
        return Ok(json!({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}));
    }
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(json!({"type": "image", "source": {"type": "url", "url": url}}));
    }
    Err(refuse(at, "an image URL must be https:// or a base64 data: URL"))
}

/// A document block for a PDF sent as `{"file": {"file_data": "data:application/pdf;base64,..."}}`.
/// Uploaded files (`file_id`) live at OpenAI, which this provider cannot read.
fn file(file: Option<&Value>, at: &str) -> Result<Value, ApiError> {
    let data = file.and_then(|f| f.get("file_data")).and_then(Value::as_str);
    match data.and_then(data_url) {
        Some(("application/pdf", data)) if !data.is_empty() => Ok(json!({
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": data},
        })),
        _ => Err(refuse(
            &format!("{at}.file_data"),
            "a file part must carry a PDF as file_data: data:application/pdf;base64,... (file_id is not supported)",
        )),
    }
}

/// The `content` of a `tool_result`: the tool message's string as is, or its text parts as
/// blocks; `None` when empty.
pub(super) fn tool_result<'a>(content: Raw<'a>, at: At<'_>) -> Result<Option<ToolContent<'a>>, ApiError> {
    if let Some(text) = string(content)?.filter(|t| !blank(t)) {
        return Ok(Some(ToolContent::Text(text)));
    }
    let (blocks, orphan) = marked_blocks(content, at, Parts::Text)?;
    Ok(if blocks.is_empty() { orphan.map(ToolContent::Marked) } else { Some(ToolContent::Blocks(blocks)) })
}
