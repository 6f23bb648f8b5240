//! Base64 (RFC 4648's standard alphabet): written for Titan's embeddings, read a group of
//! four characters at a time for the PDF page count, which decodes only what it looks at.

/// Standard base64 of `bytes`, padded.
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        for (k, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            let c = ABC.get(((n >> shift) & 63) as usize).copied().unwrap_or(b'=');
            out.push(if k <= chunk.len() { char::from(c) } else { '=' });
        }
    }
    out
}

/// Group `group`'s bytes of what `payload`, base64, encodes, and how many there are: three,
/// or fewer in a last group of two or three characters (or padded), none past its end.
pub(crate) fn quad(payload: &[u8], group: usize) -> ([u8; 3], usize) {
    let start = group.saturating_mul(4);
    let chars = payload.get(start..payload.len().min(start.saturating_add(4))).unwrap_or_default();
    let valid = chars.iter().take_while(|c| **c != b'=').count();
    let Some(n) = chars.iter().take(valid).try_fold(0u32, |n, c| Some(n << 6 | value(*c)?)) else {
        return ([0; 3], 0);
    };
    let n = n << (6 * (4 - valid));
    ([(n >> 16) as u8, (n >> 8) as u8, n as u8], valid * 6 / 8)
}

/// The format an image's own first bytes say, its base64 `payload`'s first 16 characters
/// decoded: `png`, `jpeg`, `gif` or `webp` (what Anthropic's and Bedrock's APIs take), `None`
/// for any other bytes. A data URL's media type is the client's word, and those APIs answer a
/// wrong one with a 400 ("Image does not match the provided media type").
pub(crate) fn image_format(payload: &[u8]) -> Option<&'static str> {
    let head: Vec<u8> = (0..4)
        .flat_map(|group| {
            let (bytes, n) = quad(payload, group);
            bytes.into_iter().take(n)
        })
        .collect();
    match head.as_slice() {
        [0x89, b'P', b'N', b'G', ..] => Some("png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("webp"),
        _ => None,
    }
}

/// The byte at `index` of what `payload`, base64, encodes; `None` past its end.
pub(crate) fn decoded(payload: &[u8], index: usize) -> Option<u8> {
    let (bytes, n) = quad(payload, index / 3);
    (index % 3 < n).then(|| bytes.get(index % 3).copied()).flatten()
}

/// A base64 character's six bits.
fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_rfc_4648_and_decodes_what_it_encodes() {
        let cases = ["", "f", "fo", "foo", "foob"].map(|s| encode(s.as_bytes()));
        assert_eq!(cases, ["", "Zg==", "Zm8=", "Zm9v", "Zm9vYg=="]);
        assert_eq!(encode(b"\xfb\xff"), "+/8=");
        let bytes = b"any bytes \xff\x00 at all";
        let b64 = encode(bytes);
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(decoded(b64.as_bytes(), i), Some(*b), "{i}");
        }
        assert_eq!(decoded(b64.as_bytes(), bytes.len()), None);
    }

    #[test]
    fn an_images_format_is_read_from_its_first_bytes() {
        for (bytes, want) in [
            (&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], Some("png")),
            (&b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01"[..], Some("jpeg")),
            (&b"GIF89a\x01\0\x01\0\0\0"[..], Some("gif")),
            (&b"RIFF\x24\0\0\0WEBPVP8 "[..], Some("webp")),
            (&b"RIFF\x24\0\0\0WAVEfmt "[..], None),
            (&b"BM\x36\0\0\0\0\0\0\0\x36\0"[..], None),
            (&b"\0\0\0"[..], None),
        ] {
            assert_eq!(image_format(encode(bytes).as_bytes()), want, "{bytes:?}");
        }
        assert_eq!(image_format(b"not base64!"), None);
    }
}
