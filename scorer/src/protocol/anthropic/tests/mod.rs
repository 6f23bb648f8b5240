//! Tests of the Anthropic translator: golden files here, table tests per half beside.

mod cache;
mod effort;
mod ids;
mod media;
mod memo;
mod request;
mod response;
mod stream;
mod thinking;
mod turns;
mod unions;

use std::path::PathBuf;

use crate::protocol::Native;
use crate::protocol::reply::Meta;

/// The model every test translates for.
const TO: Native<'static> = Native {
    model: "claude-sonnet-4-5",
    upstream_model: "claude-sonnet-4-5",
    max_output: 64_000,
    quirks: crate::catalog::Quirks::NONE,
};

/// The meta of every answer; golden cases named `reasoning*` ask for reasoning.
fn meta(reasoning: bool) -> Meta {
    Meta {
        id: "chatcmpl-test".into(),
        model: "claude-sonnet-4-5".into(),
        created: 1_700_000_000,
        reasoning,
        structured: false,
    }
}

fn dir(half: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/protocol/anthropic").join(half)
}

/// Every `NAME.in.EXT` under `half`, translated, compared byte for byte with `NAME.out.EXT`
/// (rewritten instead when `UPDATE_GOLDEN=1`). Returns how many cases ran.
fn golden(half: &str, ext: &str, translate: impl Fn(&str, &[u8]) -> Vec<u8>) -> usize {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut names: Vec<String> = std::fs::read_dir(dir(half))
        .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    let suffix = format!(".in.{ext}");
    let mut ran = 0;
    for file in names.iter().filter(|n| n.ends_with(&suffix)) {
        let name = file.trim_end_matches(&suffix);
        let input = std::fs::read(dir(half).join(file)).unwrap_or_default();
        let got = translate(name, &input);
        let want_path = dir(half).join(format!("{name}.out.{ext}"));
        if update {
            assert!(std::fs::write(&want_path, &got).is_ok(), "cannot write {want_path:?}");
        }
        let want = std::fs::read(&want_path).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{half}/{name}: the translation differs from its golden file"
        );
        ran += 1;
    }
    ran
}

#[test]
fn request_goldens() {
    let ran = golden("request", "json", |name, body| {
        super::request::translate(body, &TO).unwrap_or_else(|e| format!("{name}: refused: {e}").into_bytes())
    });
    assert_eq!(ran, 10);
}

#[test]
fn response_goldens() {
    let ran = golden("response", "json", |name, body| {
        super::response::translate(body, &meta(name.starts_with("reasoning")))
            .unwrap_or_else(|e| format!("{name}: {e}").into_bytes())
    });
    assert_eq!(ran, 4);
}

#[test]
fn stream_goldens() {
    let ran = golden("stream", "sse", |name, body| {
        super::stream::Stream::new(meta(name.starts_with("reasoning"))).feed(body, true)
    });
    assert_eq!(ran, 5);
}
