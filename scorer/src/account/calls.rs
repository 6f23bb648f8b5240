//! Tool calls of a chat stream from a provider that streams them without each delta's `index`
//! ([`crate::catalog::Quirks::indexless_calls`]): numbered by their ids, and the finish of a
//! choice that called tools said as `tool_calls`.

use serde_json::Value;

use super::sse::contains;

/// The calls a stream's choices made so far, for the deltas still to come.
#[derive(Debug, Clone, Default)]
pub(crate) struct Calls {
    /// Per choice (`index`): its calls' ids in the order they opened, and the last delta's
    /// call (a delta without an id continues it).
    choices: Vec<(u64, Vec<String>, Option<u64>)>,
}

impl Calls {
    /// Whether an event of `bytes` may need [`Calls::fix`]: it holds a call, or may finish a
    /// choice that called tools.
    pub(crate) fn wants(&self, bytes: &[u8]) -> bool {
        contains(bytes, b"\"tool_calls\"")
            || (!self.choices.is_empty() && contains(bytes, b"\"finish_reason\""))
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
        let at = match self.choices.iter().position(|(i, _, _)| *i == index) {
            Some(at) => at,
            None => {
                self.choices.push((index, Vec::new(), None));
                self.choices.len() - 1
            }
        };
        let Some((_, ids, last)) = self.choices.get_mut(at) else { return false };
        let mut changed = false;
        let calls =
            choice.get_mut("delta").and_then(|d| d.get_mut("tool_calls")).and_then(Value::as_array_mut);
        for call in calls.into_iter().flatten() {
            let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
            // A call's name comes in its first delta only: one without an id opens a call too.
            let name = call.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            let named = name.is_some_and(|n| !n.is_empty());
            let n = match (id, *last) {
                (Some(id), _) => match ids.iter().position(|known| known == id) {
                    Some(n) => n as u64,
                    None => {
                        ids.push(id.to_string());
                        ids.len() as u64 - 1
                    }
                },
                // A delta without an id or a name continues the last call.
                (None, Some(n)) if !named => n,
                (None, _) => {
                    ids.push(String::new());
                    ids.len() as u64 - 1
                }
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
        let called = last.is_some();
        if called && choice.get("finish_reason").and_then(Value::as_str) == Some("stop") {
            if let Some(c) = choice.as_object_mut() {
                c.insert("finish_reason".into(), "tool_calls".into());
            }
            changed = true;
        }
        changed
    }
}

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
}
