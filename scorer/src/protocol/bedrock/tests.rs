//! Golden files under `testdata/protocol/bedrock/`: the contract, checked by hand against the
//! Converse API reference. `UPDATE_GOLDEN=1 cargo test` rewrites the expected files; a normal
//! run compares bytes.

use std::path::PathBuf;

use serde_json::Value;

use super::eventstream::encode;
use super::{request, response, stream};
use crate::protocol::Native;
use crate::protocol::reply::Meta;

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol/bedrock").join(sub)
}

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares `got` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn golden(path: PathBuf, got: &[u8]) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = read(&path);
    assert!(
        want == got,
        "{} differs:\n--- want\n{}\n--- got\n{}",
        path.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(got)
    );
}

fn meta(reasoning: bool) -> Meta {
    Meta {
        id: "chatcmpl-golden".into(),
        model: "deepseek.v3.2".into(),
        created: 1_767_225_600,
        reasoning,
        structured: false,
    }
}

#[test]
fn request_goldens() {
    let to =
        // A model that takes a forced tool choice (the goldens map one): the upstream id is in
        // the path, not the body.
        Native { model: "us.amazon.nova-pro-v1:0", upstream_model: "us.amazon.nova-pro-v1:0", max_output: 8000, quirks: crate::catalog::Quirks::NONE };
    let cases = [
        "plain_text",
        "system_prompt",
        "closing_instruction",
        "multi_turn",
        "image",
        "tools",
        "tool_results",
        "tool_history_without_tools",
        "reasoning",
        "json_schema",
    ];
    for name in cases {
        let input = read(&dir("request").join(format!("{name}.openai.json")));
        let out = request::translate(&input, &to).unwrap_or_else(|e| panic!("{name}: {e}"));
        golden(dir("request").join(format!("{name}.converse.json")), &out);
    }
}

#[test]
fn response_goldens() {
    // (input, expected, reasoning asked)
    let cases = [
        ("text", "text", false),
        ("tool_use", "tool_use", false),
        ("reasoning", "reasoning", true),
        ("reasoning", "reasoning_hidden", false),
        ("max_tokens", "max_tokens", false),
    ];
    for (input, expected, reasoning) in cases {
        let body = read(&dir("response").join(format!("{input}.converse.json")));
        let out = response::translate(&body, &meta(reasoning)).unwrap_or_else(|e| panic!("{input}: {e}"));
        golden(dir("response").join(format!("{expected}.openai.json")), &out);
    }
}

/// The recorded frames of a stream sample, encoded.
fn frames(name: &str) -> Vec<u8> {
    let list: Value =
        serde_json::from_slice(&read(&dir("stream").join(format!("{name}.frames.json")))).unwrap_or_default();
    let mut out = Vec::new();
    for f in list.as_array().into_iter().flatten() {
        let headers: Vec<(&str, &str)> = f["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| Some((h[0].as_str()?, h[1].as_str()?)))
            .collect();
        out.extend(encode(&headers, f["payload"].as_str().unwrap_or_default().as_bytes()));
    }
    assert!(!out.is_empty(), "{name}: no frames");
    out
}

fn run(bytes: &[u8], reasoning: bool, cuts: &[usize]) -> (Vec<u8>, bool) {
    let mut s = stream::Stream::new(meta(reasoning));
    let mut out = Vec::new();
    let mut from = 0;
    for &cut in cuts.iter().chain([bytes.len()].iter()) {
        out.extend(s.feed(&bytes[from..cut], cut == bytes.len()));
        from = cut;
    }
    (out, s.failed())
}

#[test]
fn stream_goldens_whole_split_at_every_offset_and_byte_by_byte() {
    // (frames, expected, reasoning asked, fails)
    let cases = [
        ("text", "text", false, false),
        ("tool_call", "tool_call", false, false),
        ("reasoning", "reasoning", true, false),
        ("reasoning", "reasoning_hidden", false, false),
        ("throttled", "throttled", false, true),
    ];
    for (input, expected, reasoning, fails) in cases {
        let bytes = frames(input);
        let (whole, failed) = run(&bytes, reasoning, &[]);
        assert_eq!(failed, fails, "{input}");
        golden(dir("stream").join(format!("{expected}.sse")), &whole);
        for cut in 0..=bytes.len() {
            assert_eq!(run(&bytes, reasoning, &[cut]), (whole.clone(), fails), "{input} cut at {cut}");
        }
        let every: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(run(&bytes, reasoning, &every), (whole.clone(), fails), "{input} byte by byte");
    }
}

#[test]
fn the_raw_sample_is_the_recorded_frames() {
    // tool_call.bin was written by python3 (struct, zlib.crc32) from tool_call.frames.json.
    let raw = read(&dir("stream").join("tool_call.bin"));
    assert_eq!(raw, frames("tool_call"));
    let (out, failed) = run(&raw, false, &[]);
    assert!(!failed);
    golden(dir("stream").join("tool_call.sse"), &out);
}
