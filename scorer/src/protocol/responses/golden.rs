//! Golden files under `testdata/protocol/responses/`: each case's input and the exact bytes
//! the translator must produce for it. `UPDATE_GOLDEN=1 cargo test` rewrites the expected
//! files from the code (then read the diff against the API docs before committing it); a
//! normal run compares. JSON keys come out sorted (serde_json without `preserve_order`).

use std::path::PathBuf;

use super::{request, response, stream};
use crate::protocol::Native;
use crate::protocol::reply::Meta;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol/responses")
}

fn read(rel: &str) -> Vec<u8> {
    let path = dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares `got` with the golden file `rel`, or rewrites it under `UPDATE_GOLDEN`.
fn check(rel: &str, got: &[u8]) {
    let path = dir().join(rel);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = read(rel);
    assert!(
        got == want.as_slice(),
        "{} differs from the translation:\n--- want\n{}\n--- got\n{}",
        path.display(),
        String::from_utf8_lossy(&want),
        String::from_utf8_lossy(got)
    );
}

/// The answer every response and stream case describes.
pub(super) fn meta(reasoning: bool) -> Meta {
    let id = "chatcmpl-golden".into();
    Meta { id, model: "gpt-5.3-codex".into(), created: 1_755_395_500, reasoning, structured: false }
}

/// [`meta`] for a case whose request asked for a JSON schema's output (`structured`).
fn meta_of(case: &str, reasoning: bool) -> Meta {
    Meta { structured: case.starts_with("structured"), ..meta(reasoning) }
}

const NATIVE: Native<'static> = Native {
    model: "gpt-5.3-codex",
    upstream_model: "gpt-5.3-codex",
    max_output: 128_000,
    quirks: crate::catalog::Quirks::NONE,
};

/// Request cases: `request/{case}.chat.json` in, `request/{case}.responses.json` out.
const REQUESTS: [&str; 9] = [
    "plain",
    "system",
    "multi_turn",
    "image",
    "tools",
    "tool_results",
    "reasoning",
    "passthrough",
    "json_schema",
];

/// Response cases and whether the client asked for reasoning: `response/{case}.native.json`
/// in, `response/{case}.chat.json` out.
/// A `structured` case's request asked for a JSON schema's output.
const RESPONSES: [(&str, bool); 8] = [
    ("text", false),
    ("tool_calls", false),
    ("reasoning", true),
    ("structured", true),
    ("structured_unseen", false),
    ("incomplete", false),
    ("content_filter", false),
    ("refusal", false),
];

/// Stream cases and whether the client asked for reasoning: `stream/{case}.sse` in,
/// `stream/{case}.chat.sse` out.
pub(super) const STREAMS: [(&str, bool); 9] = [
    ("text", false),
    ("tool_call", false),
    ("reasoning", true),
    ("structured", true),
    ("structured_unseen", false),
    ("incomplete", false),
    ("failed", false),
    ("error", false),
    ("refusal", false),
];

/// A stream case's native input.
pub(super) fn stream_input(case: &str) -> Vec<u8> {
    read(&format!("stream/{case}.sse"))
}

#[test]
fn request_goldens() {
    for case in REQUESTS {
        let body = read(&format!("request/{case}.chat.json"));
        let got = request::translate(&body, &NATIVE).unwrap_or_else(|e| panic!("{case}: {e}"));
        check(&format!("request/{case}.responses.json"), &got);
    }
}

#[test]
fn response_goldens() {
    for (case, reasoning) in RESPONSES {
        let body = read(&format!("response/{case}.native.json"));
        let got =
            response::translate(&body, &meta_of(case, reasoning)).unwrap_or_else(|e| panic!("{case}: {e}"));
        check(&format!("response/{case}.chat.json"), &got);
    }
}

#[test]
fn stream_goldens() {
    for (case, reasoning) in STREAMS {
        let mut s = stream::Stream::new(meta_of(case, reasoning));
        let got = s.feed(&stream_input(case), true);
        check(&format!("stream/{case}.chat.sse"), &got);
    }
}
