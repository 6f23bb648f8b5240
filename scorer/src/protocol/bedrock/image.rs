//! An OpenAI `image_url` part as a Converse `image` block: Converse takes image bytes only, so
//! only base64 data URLs of the formats it reads.

use serde_json::{Value, json};

use crate::error::{ApiError, echo};
use crate::parse::base64::image_format;
use crate::protocol::raw::{Members, value};

/// The largest image Converse takes, decoded (its service model: "no more than 3.75 MB"; read
/// as MiB, so none it takes is refused here).
pub(super) const MAX_IMAGE_BYTES: usize = 3_932_160;

/// The most images one Converse message (a turn) holds.
pub(super) const MAX_IMAGES_PER_TURN: usize = 20;

/// An `image_url` part with a base64 data URL as a Converse `image` block.
pub(super) fn image(part: &Members<'_>, at: &str) -> Result<Value, ApiError> {
    let param = format!("{at}.image_url.url");
    let image_url = part.get("image_url").map(value).transpose()?;
    let url = image_url.as_ref().and_then(|u| u.get("url")).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid("missing_required_parameter", Some(&param), format!("{param} is required"))
    })?;
    let Some(rest) = url.strip_prefix("data:") else {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&param),
            format!(
                "{param} must be a base64 data URL (data:image/png;base64,...): this model's API cannot fetch {}",
                echo(url)
            ),
        ));
    };
    let (mime, data) = rest.split_once(";base64,").unwrap_or(("", ""));
    // The format its bytes say, where they say one, whatever the label: Bedrock answers a label
    // that does not match them with a 400 ("The provided image does not match the specified
    // image format").
    let format = match (image_format(data.as_bytes()), mime.to_ascii_lowercase().as_str()) {
        (Some(told), _) => told,
        (None, "image/png") => "png",
        (None, "image/jpeg" | "image/jpg") => "jpeg",
        (None, "image/gif") => "gif",
        (None, "image/webp") => "webp",
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&param),
                format!(
                    "{param} must be a base64 data URL of a png, jpeg, gif or webp image, not {}",
                    echo(rest.split(',').next().unwrap_or_default())
                ),
            ));
        }
    };
    if data.is_empty() {
        return Err(ApiError::invalid("invalid_value", Some(&param), format!("{param} has no image data")));
    }
    // Refused before the provider's 400, so a tier moves on to a model that takes it.
    let decoded = data.trim_end_matches('=').len() / 4 * 3;
    if decoded > MAX_IMAGE_BYTES {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&param),
            format!("{param} is an image of about {decoded} bytes: this model's API takes at most 3.75 MB"),
        ));
    }
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}
