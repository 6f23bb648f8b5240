//! What a request's images need from a model: some APIs refuse a request by its images' number
//! or size, with a 400 no other candidate would have been tried for; left out of the
//! candidates, a tier moves on to a model that takes them.

use crate::catalog::{Api, Deployment};

/// A request's images, as the candidates' limits read them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Images {
    /// How many.
    pub count: u32,
    /// The longest side of those whose headers say their size, in pixels.
    pub side: u32,
    /// The body's size when it holds one (0 without): some providers cap such a request.
    pub request_bytes: usize,
}

/// The most images the Messages API takes in one request (Anthropic: "up to 100 images" a
/// request over the API).
const MESSAGES_MAX_IMAGES: u32 = 100;

/// The longest image side the Messages and Converse APIs take (Anthropic's "8000x8000 px";
/// Converse's `Message.content`: "height, and width must be no more than ... 8000 px"): a
/// full-page screenshot runs longer.
const MAX_SIDE: u32 = 8000;

/// Past this many images in a request, the Messages API takes sides of [`MANY_IMAGES_SIDE`]
/// at most ("exceed max allowed size for many-image requests: 2000 pixels"): an agent's
/// conversation of screenshots reaches it, and every later turn resends the image that did.
const MANY_IMAGES: u32 = 20;
const MANY_IMAGES_SIDE: u32 = 2000;

impl Images {
    /// What `d` cannot take of them, said as a capability it lacks; `None` when it takes them.
    pub(crate) fn miss(&self, d: &Deployment) -> Option<&'static str> {
        let cap = d.quirks.image_request_bytes as usize;
        let messages = d.api == Api::Messages;
        if cap > 0 && self.request_bytes > cap {
            Some("images in a request this large")
        } else if d.quirks.max_images > 0 && self.count > d.quirks.max_images {
            Some("this many images in one request")
        } else if messages && self.count > MESSAGES_MAX_IMAGES {
            Some("more than 100 images")
        } else if (messages || d.api == Api::BedrockConverse) && self.side > MAX_SIDE {
            Some("an image over 8000 pixels on a side")
        } else if messages && self.count > MANY_IMAGES && self.side > MANY_IMAGES_SIDE {
            Some("an image over 2000 pixels on a side among more than 20 images")
        } else {
            None
        }
    }
}
