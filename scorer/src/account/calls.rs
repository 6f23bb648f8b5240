//! Tool calls of a chat stream from a provider that streams them without each delta's `index`
//! ([`crate::catalog::Quirks::indexless_calls`]: Gemini's OpenAI layer): numbered by their ids,
//! the finish of a choice that called tools said as `tool_calls`, and a finish in Gemini's own
//! names as OpenAI's ([`openai_finish`]); a whole answer's choices likewise ([`whole_answer`]).

use std::collections::BTreeMap;

use serde_json::Value;

use super::sse::contains;

/// The calls a stream's choices made so far, for the deltas still to come.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls {
    /// Per choice (`index`), its calls so far: looked up, not searched (a provider streaming
    /// tens of thousands of calls cost a search of all before it per call).
    choices: BTreeMap<u64, Choice>,
}

/// One choice's calls: each id's number in the order they opened, how many opened (a call
/// without an id has a number and no entry), and the last delta's call (a delta without an id
/// continues it).
#[derive(Debug, Clone, Default)]
struct Choice {
    ids: BTreeMap<String, u64>,
    opened: u64,
    last: Option<u64>,
}

impl Calls {
    /// Whether an event of `bytes` may need [`Calls::fix`]: it holds a call, or may finish a
    /// choice that called tools.
    pub(crate) fn wants(&self, bytes: &[u8]) -> bool {
        contains(bytes, b"\"tool_calls\"")
            || (!self.choices.is_empty() && contains(bytes, b"\"finish_reason\""))
            || native_finish(bytes)
    }

    /// One whole event, rewritten when a call in it lacks the `index` its place says, or it
    /// finishes a choice that called tools with `stop`; `None` to pass it as it is.
    pub(crate) fn fix(&mut self, event: &[u8]) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(event).ok()?;
        let at = text.find("data:")? + "data:".len();
        let end = text.get(at..)?.find(['\n', '\r']).map_or(text.len(), |n| at + n);
        let mut chunk: Value = serde_json::from_str(text.get(at..end)?.trim()).ok()?;
        let mut changed = false;
        for (n, choice) in chunk.get_mut("choices")?.as_array_mut()?.iter_mut().enumerate() {
            changed |= self.choice(n as u64, choice);
        }
        if !changed {
            return None;
        }
        let mut out = Vec::with_capacity(event.len() + 16);
        out.extend_from_slice(text.get(..at)?.as_bytes());
        out.push(b' ');
        out.extend_from_slice(chunk.to_string().as_bytes());
        out.extend_from_slice(text.get(end..)?.as_bytes());
        Some(out)
    }

    /// Numbers the calls of one choice's delta; says `tool_calls` for its `stop` once it called.
    fn choice(&mut self, position: u64, choice: &mut Value) -> bool {
        let index = choice.get("index").and_then(Value::as_u64).unwrap_or(position);
        let Choice { ids, opened, last } = self.choices.entry(index).or_default();
        let mut changed = false;
        let calls =
            choice.get_mut("delta").and_then(|d| d.get_mut("tool_calls")).and_then(Value::as_array_mut);
        for call in calls.into_iter().flatten() {
            let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
            // A call's name comes in its first delta only: one without an id opens a call too.
            let name = call.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            let named = name.is_some_and(|n| !n.is_empty());
            let mut open = || {
                *opened += 1;
                *opened - 1
            };
            let n = match (id, *last) {
                (Some(id), _) => match ids.get(id) {
                    Some(n) => *n,
                    None => {
                        let n = open();
                        ids.insert(id.to_string(), n);
                        n
                    }
                },
                // A delta without an id or a name continues the last call.
                (None, Some(n)) if !named => n,
                (None, _) => open(),
            };
            *last = Some(n);
            let Some(call) = call.as_object_mut() else { continue };
            if call.get("index").and_then(Value::as_u64) != Some(n) {
                call.insert("index".into(), n.into());
                changed = true;
            }
            // A delta of the call's signature alone (`extra_content`): the SDKs' stream helpers
            // require a `function` on every call delta.
            if !call.get("function").is_some_and(Value::is_object) {
                call.insert("function".into(), serde_json::json!({"arguments": ""}));
                changed = true;
            }
        }
        finish(choice, last.is_some()) || changed
    }
}

/// A choice's finish as OpenAI says it: `tool_calls` for one that `called` tools and says
/// `stop`, Gemini's own names as OpenAI's. Whether it changed.
fn finish(choice: &mut Value, called: bool) -> bool {
    let said = choice.get("finish_reason").and_then(Value::as_str);
    let openai = match openai_finish(said) {
        Some("stop") if called => Some("tool_calls"),
        other => other,
    };
    if openai == said {
        return false;
    }
    let Some(openai) = openai.map(str::to_string) else { return false };
    choice.as_object_mut().map(|c| c.insert("finish_reason".into(), openai.into())).is_some()
}

/// A whole chat answer from such a model, its choices' finishes as a stream's are
/// ([`Calls::fix`]): Gemini finishes an answer that called tools with `stop`, and an agent
/// that reads `finish_reason` ended its turn without running them. `None` when it stays as it is.
pub fn whole_answer(body: &[u8]) -> Option<Vec<u8>> {
    if !contains(body, b"\"tool_calls\"") && !native_finish(body) {
        return None;
    }
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let mut changed = false;
    for choice in answer.get_mut("choices")?.as_array_mut()? {
        let calls = choice.get("message").and_then(|m| m.get("tool_calls")).and_then(Value::as_array);
        let called = calls.is_some_and(|c| !c.is_empty());
        changed |= finish(choice, called);
    }
    changed.then(|| answer.to_string().into_bytes())
}

/// Whether bytes may hold a finish in Gemini's own names: a `"finish_reason"` whose value
/// begins with a capital letter (OpenAI's are lower case).
fn native_finish(bytes: &[u8]) -> bool {
    let key = b"\"finish_reason\"";
    memchr::memmem::find_iter(bytes, key).any(|at| {
        let rest = bytes.get(at + key.len()..).unwrap_or_default();
        let mut value = rest.iter().skip_while(|b| b.is_ascii_whitespace() || **b == b':');
        value.next() == Some(&b'"') && value.next().is_some_and(u8::is_ascii_uppercase)
    })
}

/// A chat `finish_reason` as OpenAI names it. Gemini's OpenAI layer is reported to pass its own
/// `FinishReason` on where its filters stopped an answer (`SAFETY`, `PROHIBITED_CONTENT`, the
/// image ones...): a Messages or Responses client read such an answer, often empty, as one that
/// ended normally (`end_turn`, `completed`). Its cut at the limit (`MAX_TOKENS`) likewise.
pub fn openai_finish(finish: Option<&str>) -> Option<&str> {
    let native = |names: &[&str]| finish.is_some_and(|f| names.iter().any(|n| f.eq_ignore_ascii_case(n)));
    if native(&GEMINI_FILTERED) {
        Some("content_filter")
    } else if native(&["MAX_TOKENS"]) {
        Some("length")
    } else if native(&["STOP"]) {
        Some("stop")
    } else {
        finish
    }
}

/// Gemini's `FinishReason`s for an answer its filters stopped (its API reference's enum).
const GEMINI_FILTERED: [&str; 8] = [
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Vec<u8> {
        format!("data: {json}\n\n").into_bytes()
    }

    fn json_of(event: &[u8]) -> Value {
        let text = String::from_utf8_lossy(event);
        serde_json::from_str(text.trim().trim_start_matches("data:").trim()).unwrap_or_default()
    }

    /// Gemini's parallel calls, one a chunk without `index` (or each at 0), then a delta of the
    /// last one without its id, then `stop`: numbered 0, 1, 2 by id, the finish `tool_calls`.
    #[test]
    fn calls_are_numbered_by_their_ids_and_their_finish_said() {
        let mut calls = Calls::default();
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"b","type":"function","function":{"name":"w","arguments":"{\"city\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"\"Rome\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c","type":"function","function":{"name":"w","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3}}"#,
        ];
        let mut indexes = Vec::new();
        for chunk in chunks {
            let e = event(chunk);
            assert!(calls.wants(&e), "{chunk}");
            let fixed = calls.fix(&e).unwrap_or(e);
            assert!(fixed.starts_with(b"data: {") && fixed.ends_with(b"}\n\n"));
            let v = json_of(&fixed);
            if let Some(call) = v["choices"][0]["delta"]["tool_calls"].get(0) {
                indexes.push(call["index"].as_u64());
            } else {
                assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
                assert_eq!(v["usage"]["prompt_tokens"], 3);
            }
        }
        assert_eq!(indexes, [Some(0), Some(1), Some(1), Some(2)]);
    }

    /// Parallel calls with no ids (or empty ones) were merged into one call (`ww`, `{...}{...}`):
    /// a delta with a name opens a call. A delta of a call's signature alone gets the
    /// `function` the SDKs' stream helpers require.
    #[test]
    fn calls_without_ids_open_by_their_names_and_every_delta_has_a_function() {
        let mut calls = Calls::default();
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"","type":"function","function":{"name":"w","arguments":"{\"c\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"name":null,"arguments":"1}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"type":"function","function":{"name":"w","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"extra_content":{"google":{"thought_signature":"s"}}}]}}]}"#,
        ];
        let fixed: Vec<Value> =
            chunks.iter().map(|c| json_of(&calls.fix(&event(c)).unwrap_or_else(|| event(c)))).collect();
        let call = |n: usize| &fixed[n]["choices"][0]["delta"]["tool_calls"][0];
        let indexes: Vec<Option<u64>> = (0..4).map(|n| call(n)["index"].as_u64()).collect();
        assert_eq!(indexes, [Some(0), Some(0), Some(1), Some(1)]);
        assert_eq!(call(3)["function"], serde_json::json!({"arguments": ""}));
        assert_eq!(call(3)["extra_content"]["google"]["thought_signature"], "s");
    }

    /// Through the stream editor, split at every offset: the calls numbered and the finish said
    /// wherever the chunks break, the usage still priced; without the quirk, the bytes as sent.
    #[test]
    fn a_stream_split_anywhere_is_numbered_the_same() {
        use crate::account::stream::StreamUsage;
        use crate::account::usage::Price;
        let stream = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"w","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","type":"function","function":{"name":"w","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
        ]
        .iter()
        .map(|c| format!("data: {c}\n\n"))
        .collect::<String>()
            + "data: [DONE]\n\n";
        let bytes = stream.as_bytes();
        for split in 0..bytes.len() {
            let (a, b) = bytes.split_at(split);
            for on in [true, false] {
                let mut s = StreamUsage::new(Price::flat(1.0, 2.0), true).indexless_calls(on);
                let mut out = s.feed(a, false).unwrap_or_else(|| a.to_vec());
                out.extend(s.feed(b, true).unwrap_or_else(|| b.to_vec()));
                let text = String::from_utf8_lossy(&out);
                let events: Vec<Value> = text
                    .split("\n\n")
                    .filter_map(|e| e.strip_prefix("data: "))
                    .filter_map(|j| serde_json::from_str(j).ok())
                    .collect();
                assert_eq!(events.len(), 3, "{split}: {text}");
                let index = |n: usize| events[n]["choices"][0]["delta"]["tool_calls"][0]["index"].as_u64();
                let finish = events[2]["choices"][0]["finish_reason"].as_str();
                let want =
                    if on { (Some(0), Some(1), Some("tool_calls")) } else { (None, None, Some("stop")) };
                assert_eq!((index(0), index(1), finish), want, "{split} {on}: {text}");
                assert!(events[2]["usage"]["cost"].is_number(), "{split}: {text}");
                assert!(text.ends_with("data: [DONE]\n\n"), "{split}: {text}");
            }
        }
    }

    /// A stream with its indexes right and no calls passes as it came; a choice that called
    /// nothing keeps its `stop`; each choice numbers its own calls.
    #[test]
    fn what_is_right_passes_unchanged() {
        let mut calls = Calls::default();
        let text = event(r#"{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"#);
        assert!(!calls.wants(&text));
        assert_eq!(calls.fix(&text), None);
        let right = event(
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"w","arguments":""}}]}},{"index":1,"delta":{"content":"x"}}]}"#,
        );
        assert_eq!(calls.fix(&right), None);
        let second =
            event(r#"{"choices":[{"index":1,"delta":{"tool_calls":[{"id":"z","function":{"name":"w"}}]}}]}"#);
        let fixed = json_of(&calls.fix(&second).unwrap_or_default());
        assert_eq!(fixed["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
        let ends = event(
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":2,"delta":{},"finish_reason":"stop"}]}"#,
        );
        let fixed = json_of(&calls.fix(&ends).unwrap_or_default());
        assert_eq!(fixed["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(fixed["choices"][1]["finish_reason"], "stop");
        // Not JSON, or no choices: passed as it is.
        assert_eq!(calls.fix(b"data: [DONE]\n\n"), None);
        assert_eq!(calls.fix(b": keep-alive \"tool_calls\"\n\n"), None);
    }

    /// Gemini's own finish names (its OpenAI layer passes them on, a filtered answer's above
    /// all) are OpenAI's, in a stream and a whole answer; a whole answer that called tools and
    /// says `stop` says `tool_calls`, as its stream does. What is right is left as it is.
    #[test]
    fn geminis_finishes_are_openais() {
        let mut calls = Calls::default();
        for (said, want) in [
            ("SAFETY", "content_filter"),
            ("PROHIBITED_CONTENT", "content_filter"),
            ("MAX_TOKENS", "length"),
            ("STOP", "stop"),
        ] {
            let e =
                event(&format!(r#"{{"choices":[{{"index":0,"delta":{{}},"finish_reason": "{said}"}}]}}"#));
            assert!(calls.wants(&e), "{said}");
            assert_eq!(
                json_of(&calls.fix(&e).unwrap_or_default())["choices"][0]["finish_reason"],
                want,
                "{said}"
            );
        }
        let plain = event(r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#);
        assert!(!Calls::default().wants(&plain));
        let whole = |message: &str, finish: &str| {
            format!(
                r#"{{"id":"x","choices":[{{"index":0,"message":{message},"finish_reason":"{finish}"}}],"usage":{{"prompt_tokens":1}}}}"#
            )
        };
        let call = r#"{"role":"assistant","content":null,"tool_calls":[{"id":"a","type":"function","function":{"name":"w","arguments":"{}"}}]}"#;
        let text = r#"{"role":"assistant","content":"Hi"}"#;
        let fixed = |body: String| {
            whole_answer(body.as_bytes()).map(|b| serde_json::from_slice::<Value>(&b).unwrap_or_default())
        };
        assert_eq!(
            fixed(whole(call, "stop")).map(|v| v["choices"][0]["finish_reason"].clone()),
            Some("tool_calls".into())
        );
        assert_eq!(
            fixed(whole(text, "SAFETY")).map(|v| v["choices"][0]["finish_reason"].clone()),
            Some("content_filter".into())
        );
        assert_eq!(fixed(whole(text, "stop")), None);
        assert_eq!(fixed(whole(call, "tool_calls")), None);
    }
}
