//! One message's content: OpenAI content parts to Anthropic content blocks.

use serde_json::{Value, json};

use crate::error::{ApiError, echo};

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

/// A 400 naming `param`.
pub(super) fn refuse(param: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid("unsupported_for_provider", Some(param), message)
}

/// The content blocks of `content` (a string, an array of parts, or absent), `at` being its
/// param path (`messages[2].content`). Empty text is left out: the Messages API rejects empty
/// text blocks.
pub(super) fn blocks(content: Option<&Value>, at: &str, parts: Parts) -> Result<Vec<Value>, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![json!({"type": "text", "text": s})]),
        Some(Value::Array(list)) => {
            let mut out = Vec::with_capacity(list.len());
            for (j, part) in list.iter().enumerate() {
                if let Some(block) = block(part, &format!("{at}[{j}]"), parts)? {
                    out.push(block);
                }
            }
            Ok(out)
        }
        Some(_) => Err(refuse(at, "content must be a string or an array of content parts")),
    }
}

/// One part's block, `None` for empty text.
fn block(part: &Value, at: &str, parts: Parts) -> Result<Option<Value>, ApiError> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    let mut out = match (kind, parts) {
        ("text", _) => {
            let Some(text) = part.get("text").and_then(Value::as_str) else {
                return Err(refuse(&format!("{at}.text"), "a text part needs a string `text`"));
            };
            if text.is_empty() {
                return Ok(None);
            }
            json!({"type": "text", "text": text})
        }
        ("refusal", Parts::Assistant) => match part.get("refusal").and_then(Value::as_str) {
            Some("") => return Ok(None),
            Some(text) => json!({"type": "text", "text": text}),
            None => return Err(refuse(&format!("{at}.refusal"), "a refusal part needs a string `refusal`")),
        },
        ("image_url", Parts::User) => {
            // The object form is OpenAI's; a bare string is accepted as some clients send it.
            let url = part.get("image_url").and_then(|i| i.get("url").or(Some(i))).and_then(Value::as_str);
            let at = format!("{at}.image_url.url");
            image(url.ok_or_else(|| refuse(&at, "an image_url part needs a string `url`"))?, &at)?
        }
        ("file", Parts::User) => file(part.get("file"), &format!("{at}.file"))?,
        _ => {
            return Err(refuse(
                &format!("{at}.type"),
                format!(
                    "content part type {} is not supported here by this model's API: use {}",
                    echo(kind),
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
        if !cache.is_object() {
            return Err(refuse(&format!("{at}.cache_control"), "cache_control must be an object"));
        }
        if let Some(obj) = out.as_object_mut() {
            obj.insert("cache_control".into(), cache.clone());
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
        if !IMAGE_TYPES.contains(&media) {
            return Err(refuse(
                at,
                format!("image type {} is not supported: use {}", echo(media), IMAGE_TYPES.join(", ")),
            ));
        }
        if data.is_empty() {
            return Err(refuse(at, "the image data URL is empty"));
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
pub(super) fn tool_result(content: Option<&Value>, at: &str) -> Result<Option<Value>, ApiError> {
    match content {
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(json!(s))),
        other => {
            let blocks = blocks(other, at, Parts::Text)?;
            Ok((!blocks.is_empty()).then_some(Value::Array(blocks)))
        }
    }
}
