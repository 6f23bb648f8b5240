//! The AWS event stream encoding of ConverseStream replies
//! (`application/vnd.amazon.eventstream`), written here independently of the router's decoder,
//! so it can serve as that decoder's test oracle.
//!
//! A frame: total length (4 bytes, big-endian), headers length (4), CRC32 of those 8 bytes,
//! the headers, the payload, and the CRC32 of everything before it. A header: name length
//! (1 byte), name, value type (7 = string), value length (2, big-endian), value.

/// The value type of a string header.
const STRING: u8 = 7;

/// One frame carrying `payload` with string `headers`.
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(STRING);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// An `event` frame of type `event_type` with a JSON payload, as ConverseStream sends each
/// of its events.
pub fn event(event_type: &str, payload: &serde_json::Value) -> Vec<u8> {
    let headers =
        [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")];
    frame(&headers, payload.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_has_its_lengths_and_both_crcs() {
        let f = frame(&[("a", "bc")], b"{}");
        let total = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
        let headers = u32::from_be_bytes([f[4], f[5], f[6], f[7]]) as usize;
        assert_eq!(total, f.len());
        assert_eq!(headers, 1 + 1 + 1 + 2 + 2);
        assert_eq!(u32::from_be_bytes([f[8], f[9], f[10], f[11]]), crc32fast::hash(&f[..8]));
        let end = f.len() - 4;
        assert_eq!(
            u32::from_be_bytes([f[end], f[end + 1], f[end + 2], f[end + 3]]),
            crc32fast::hash(&f[..end])
        );
        assert_eq!(&f[12..12 + headers], b"\x01a\x07\x00\x02bc");
        assert_eq!(&f[12 + headers..end], b"{}");
    }

    #[test]
    fn the_empty_frame_matches_the_published_test_vector() {
        // awslabs' event stream test suite: an empty message is 16 bytes, prelude CRC 0x05c248eb.
        let f = frame(&[], b"");
        assert_eq!(f[..12], [0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb]);
        assert_eq!(f[12..], [0x7d, 0x98, 0xc8, 0xff]);
    }
}
