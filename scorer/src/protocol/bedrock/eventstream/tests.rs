use super::*;

/// A frame built outside this code (python3 `struct` and `zlib.crc32`) with one header of every
/// documented type: string `:event-type`, bool true/false, byte, short, int, long, bytes,
/// timestamp, uuid, then string `:message-type`; payload `{"p":"abcd","role":"assistant"}`.
const PYTHON_FRAME: &str = "000000b1000000824b331cc10b3a6576656e742d7479706507000c6d657373616765537461727404666c616700036f6666010162020501730300070169040000002a016c05ffffffffffffffff04626c6f6206000378797a027473080000018bcfe5680002696409000102030405060708090a0b0c0d0e0f0d3a6d6573736167652d747970650700056576656e747b2270223a2261626364222c22726f6c65223a22617373697374616e74227d7d5992af";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| s.get(2 * i..2 * i + 2))
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect()
}

fn all(bytes: &[u8]) -> Result<Vec<Frame>, FrameError> {
    let mut d = Decoder::new();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.next_frame()? {
        out.push(f);
    }
    Ok(out)
}

#[test]
fn decodes_an_independently_computed_frame_and_skips_every_other_header_type() {
    let frames = all(&hex(PYTHON_FRAME)).unwrap_or_default();
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!(
        f.headers,
        vec![(":event-type".into(), "messageStart".into()), (":message-type".into(), "event".into())]
    );
    assert_eq!(f.payload, br#"{"p":"abcd","role":"assistant"}"#);
    assert_eq!(f.header(":message-type"), Some("event"));
    assert_eq!(f.header(":exception-type"), None);
}

#[test]
fn encode_round_trips_and_matches_the_independent_encoding() {
    let payload = br#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#;
    let frame = encode(&[(":event-type", "contentBlockDelta"), (":message-type", "event")], payload);
    let got = all(&frame).unwrap_or_default();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header(":event-type"), Some("contentBlockDelta"));
    assert_eq!(got[0].payload, payload);
    // No headers and no payload: the 16-byte minimum.
    let empty = encode(&[], b"");
    assert_eq!(empty.len(), 16);
    assert_eq!(all(&empty).unwrap_or_default(), vec![Frame::default()]);
}

#[test]
fn frames_split_anywhere_and_several_per_push() {
    let mut stream = hex(PYTHON_FRAME);
    stream.extend(encode(&[(":event-type", "messageStop")], br#"{"stopReason":"end_turn"}"#));
    stream.extend(encode(&[(":event-type", "metadata")], b"{}"));
    let whole = all(&stream).unwrap_or_default();
    assert_eq!(whole.len(), 3);
    for cut in 0..=stream.len() {
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for part in [&stream[..cut], &stream[cut..]] {
            d.push(part);
            while let Ok(Some(f)) = d.next_frame() {
                got.push(f);
            }
        }
        assert_eq!(got, whole, "cut at {cut}");
        assert_eq!(d.pending(), 0);
    }
    let mut d = Decoder::new();
    let mut got = Vec::new();
    for b in &stream {
        d.push(std::slice::from_ref(b));
        while let Ok(Some(f)) = d.next_frame() {
            got.push(f);
        }
    }
    assert_eq!(got, whole);
}

/// A frame whose prelude says `total` and `headers`, with a correct prelude CRC.
fn prelude(total: u32, headers: u32) -> Vec<u8> {
    let mut out = total.to_be_bytes().to_vec();
    out.extend_from_slice(&headers.to_be_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A whole frame with raw `headers` bytes and correct CRCs.
fn raw_frame(headers: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = prelude((16 + headers.len() + payload.len()) as u32, headers.len() as u32);
    out.extend_from_slice(headers);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn each_malformation_has_its_error() {
    let good = encode(&[(":event-type", "messageStart")], b"{}");
    let mut bad_prelude = good.clone();
    bad_prelude[8] ^= 0xff;
    let mut bad_message = good.clone();
    let last = bad_message.len() - 1;
    bad_message[last] ^= 0xff;
    let mut bad_payload = good.clone();
    bad_payload[last - 5] ^= 0x01;
    type Is = fn(&FrameError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Is)> = vec![
        ("prelude crc", bad_prelude, |e| matches!(e, FrameError::PreludeCrc { .. })),
        ("message crc", bad_message, |e| matches!(e, FrameError::MessageCrc { .. })),
        ("payload flipped", bad_payload, |e| matches!(e, FrameError::MessageCrc { .. })),
        ("too short", prelude(15, 0), |e| *e == FrameError::TooShort(15)),
        ("too long", prelude(MAX_FRAME + 1, 0), |e| *e == FrameError::TooLong(MAX_FRAME + 1)),
        ("headers past frame", prelude(20, 5), |e| *e == FrameError::HeadersLength { headers: 5, total: 20 }),
        ("headers too long", prelude(MAX_FRAME, MAX_HEADERS + 1), |e| {
            matches!(e, FrameError::HeadersLength { .. })
        }),
        ("unknown type", raw_frame(&[1, b'a', 10], b""), |e| *e == FrameError::UnknownHeaderType(10)),
        ("name past headers", raw_frame(&[5, b'a'], b""), |e| *e == FrameError::BadHeader),
        ("string past headers", raw_frame(&[1, b'a', 7, 0, 9, b'x'], b""), |e| *e == FrameError::BadHeader),
        ("int past headers", raw_frame(&[1, b'a', 4, 0], b""), |e| *e == FrameError::BadHeader),
        ("name not utf-8", raw_frame(&[1, 0xff, 0], b""), |e| *e == FrameError::BadHeader),
        ("value not utf-8", raw_frame(&[1, b'a', 7, 0, 1, 0xff], b""), |e| *e == FrameError::BadHeader),
    ];
    for (name, bytes, is) in cases {
        let got = all(&bytes);
        assert!(got.as_ref().is_err_and(is), "{name}: {got:?}");
        let msg = got.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("event-stream"), "{name}: {msg}");
    }
}

#[test]
fn an_error_is_final_and_drops_the_buffer() {
    let mut bytes = prelude(15, 0);
    bytes.extend(encode(&[], b"{}"));
    let mut d = Decoder::new();
    d.push(&bytes);
    assert_eq!(d.next_frame(), Err(FrameError::TooShort(15)));
    d.push(&encode(&[], b"{}"));
    assert_eq!(d.next_frame(), Err(FrameError::TooShort(15)));
    assert_eq!(d.pending(), 0);
}

#[test]
fn a_partial_frame_waits_and_a_length_beyond_the_cap_fails_before_buffering() {
    let frame = encode(&[(":event-type", "x")], b"{}");
    let mut d = Decoder::new();
    d.push(&frame[..11]);
    assert_eq!(d.next_frame(), Ok(None));
    d.push(&frame[11..frame.len() - 1]);
    assert_eq!(d.next_frame(), Ok(None));
    // Only the 12-byte prelude of an oversized frame is needed to refuse it.
    let mut d = Decoder::new();
    d.push(&prelude(u32::MAX, 0));
    assert_eq!(d.next_frame(), Err(FrameError::TooLong(u32::MAX)));
}

#[test]
fn encode_cuts_what_its_length_fields_cannot_hold() {
    let name = "n".repeat(300);
    let value = "v".repeat(70_000);
    let frames = all(&encode(&[(&name, &value)], b"")).unwrap_or_default();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].headers[0].0.len(), 255);
    assert_eq!(frames[0].headers[0].1.len(), 65_535);
}
