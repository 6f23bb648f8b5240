//! An image's size in pixels, read from the header of its base64 (a data URL's payload):
//! what the Messages and Converse APIs refuse by (an image over 8,000 pixels on a side; over
//! 2,000 when a request holds more than 20 images, as Anthropic's 400 says: "At least one of
//! the image dimensions exceed max allowed size for many-image requests: 2000 pixels").
//! Only the bytes that say the size are decoded: a PNG's, GIF's or WebP's first thirty, a
//! JPEG's segment headers up to its frame header.

use super::base64::{decoded as byte, image_format};

/// Segments of a JPEG read before its frame header at most: an image's metadata takes a few.
const JPEG_SEGMENTS: usize = 256;

/// The longer side, in pixels, of the image a data URL's JSON text (`raw`: an `image_url`
/// member as sent, or its `url`) carries; `None` for a remote URL, a type the router does not
/// read, or a header it cannot. JSON escapes in it are decoded: PHP's `json_encode` writes
/// every `/` as `\/` (a JPEG's base64 starts `/9j/`), .NET's encoder every `+` as `\u002B`.
pub(crate) fn data_url_side(raw: &str) -> Option<u32> {
    let start = raw.find(";base64,")? + ";base64,".len();
    let payload = raw.get(start..)?;
    // Read in place: decoding stops at the string's closing quote or at an escape (neither is
    // base64), so only the header's bytes are looked at, as a multi-megabyte image's whole
    // base64 was already read by the parse.
    if let Some((w, h)) = size(payload.as_bytes()) {
        return Some(w.max(h));
    }
    // An escape before the header's end: the string decoded (its end, a quote no backslash
    // escapes, looked for only then).
    let end = payload.match_indices('"').map(|(i, _)| i).find(|&i| {
        let slashes = payload.get(..i).map_or(0, |b| b.bytes().rev().take_while(|c| *c == b'\\').count());
        slashes % 2 == 0
    });
    let payload = payload.get(..end.unwrap_or(payload.len()))?;
    if !payload.contains('\\') {
        return None;
    }
    let (w, h) = size(serde_json::from_str::<String>(&format!("\"{payload}\"")).ok()?.as_bytes())?;
    Some(w.max(h))
}

/// Width and height of the PNG, GIF, WebP or JPEG image `payload`, base64, encodes (its format
/// told by [`image_format`]).
pub(crate) fn size(payload: &[u8]) -> Option<(u32, u32)> {
    let at = |i: usize| byte(payload, i);
    let be16 = |i: usize| Some(u32::from(at(i)?) << 8 | u32::from(at(i + 1)?));
    let le16 = |i: usize| Some(u32::from(at(i)?) | u32::from(at(i + 1)?) << 8);
    let le24 = |i: usize| Some(le16(i)? | u32::from(at(i + 2)?) << 16);
    let be32 = |i: usize| Some(be16(i)? << 16 | be16(i + 2)?);
    let tag = |i: usize, t: &[u8]| t.iter().enumerate().all(|(k, c)| at(i + k) == Some(*c));
    match image_format(payload)? {
        "png" if tag(12, b"IHDR") => Some((be32(16)?, be32(20)?)),
        "gif" => Some((le16(6)?, le16(8)?)),
        "webp" if tag(12, b"VP8 ") => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
        "webp" if tag(12, b"VP8L") => {
            let bits = le16(21)? | u32::from(at(23)?) << 16 | u32::from(at(24)?) << 24;
            Some(((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1))
        }
        "webp" if tag(12, b"VP8X") => Some((le24(24)? + 1, le24(27)? + 1)),
        "jpeg" => jpeg(payload),
        _ => None,
    }
}

/// A JPEG's size from its frame header (SOF0 to SOF15 but DHT, JPG and DAC), found by
/// stepping over the segments before it by their lengths.
fn jpeg(payload: &[u8]) -> Option<(u32, u32)> {
    let at = |i: usize| byte(payload, i);
    let be16 = |i: usize| Some(u32::from(at(i)?) << 8 | u32::from(at(i + 1)?));
    let mut pos = 2;
    for _ in 0..JPEG_SEGMENTS {
        if at(pos)? != 0xFF {
            return None;
        }
        let marker = at(pos + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xFF => pos += 1,
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => pos += 2,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(pos + 7)?, be16(pos + 5)?));
            }
            // The scan (or the end) before any frame header: none to read.
            0xD9 | 0xDA => return None,
            _ => pos += 2 + be16(pos + 2)? as usize,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::base64::encode;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(b"\x08\x06\0\0\0");
        b
    }

    /// A JPEG with an APP0 and an EXIF segment before its baseline frame header.
    fn jpeg_bytes(w: u16, h: u16, frame: u8) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        b.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        b.extend_from_slice(&[0xFF, 0xE1, 0x01, 0x02]);
        b.extend(0..=255u8);
        b.extend_from_slice(&[0xFF, 0xFF, frame, 0, 17, 8]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        b
    }

    #[test]
    fn reads_each_formats_size_from_its_header() {
        let gif = b"GIF89a\x40\x1f\x02\x00\xf7\0\0".to_vec();
        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&[0x20, 0x03, 0x58, 0x02]);
        // VP8L: width-1 and height-1 in 14 bits each, after the 0x2F signature.
        let (w, h) = (9000u32 - 1, 300u32 - 1);
        let bits = w | h << 14;
        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        vp8l.extend_from_slice(&bits.to_le_bytes());
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\0\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x3F, 0x1F, 0, 0xCF, 0x07, 0]);
        let cases: [(Vec<u8>, (u32, u32)); 7] = [
            (png(1280, 12_000), (1280, 12_000)),
            (gif, (8000, 2)),
            (vp8, (800, 600)),
            (vp8l, (9000, 300)),
            (vp8x, (8000, 2000)),
            (jpeg_bytes(4032, 3024, 0xC0), (4032, 3024)),
            (jpeg_bytes(640, 8001, 0xC2), (640, 8001)),
        ];
        for (bytes, want) in cases {
            assert_eq!(size(encode(&bytes).as_bytes()), Some(want), "{bytes:?}");
        }
    }

    #[test]
    fn no_size_from_bytes_that_do_not_say_one() {
        let mut cut = png(10, 10);
        cut.truncate(20);
        // A JPEG whose scan starts before any frame header, one whose segment runs past its
        // end, and one whose Huffman table (0xC4, no frame) comes first then ends.
        let scan_first = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2];
        let past_end = [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0, 1, 2];
        let table_only = [0xFF, 0xD8, 0xFF, 0xC4, 0, 2, 0xFF, 0xD9];
        for bytes in [&cut[..], &scan_first, &past_end, &table_only, b"BM\x36\0\0\0", b""] {
            assert_eq!(size(encode(bytes).as_bytes()), None, "{bytes:?}");
        }
        assert_eq!(size(b"not base64!"), None);
    }

    #[test]
    fn a_data_urls_longer_side_and_none_for_a_remote_or_escaped_one() {
        let b64 = encode(&png(1280, 12_000));
        let part = format!(r#"{{"url":"data:image/png;base64,{b64}","detail":"high"}}"#);
        assert_eq!(data_url_side(&part), Some(12_000));
        assert_eq!(data_url_side(r#"{"url":"https://example.com/a.png"}"#), None);
        // `\/` is `/`: a JPEG's base64 starts `/9j/`, and its frame header comes after its
        // metadata.
        let jpeg = encode(&jpeg_bytes(9000, 100, 0xC0));
        assert!(jpeg.starts_with("/9j/"));
        let escaped = format!(r#""data:image/jpeg;base64,{}""#, jpeg.replace('/', "\\/"));
        assert_eq!(data_url_side(&escaped), Some(9000));
        // .NET's `\u002B` for `+`, and `\u002F` for `/`.
        let big = encode(&jpeg_bytes(9000, 100, 0xC0));
        let net = big.replace('+', "\\u002B").replace('/', "\\u002F");
        assert!(net.contains("\\u002B"));
        assert_eq!(data_url_side(&format!(r#""data:image/jpeg;base64,{net}""#)), Some(9000));
    }
}
