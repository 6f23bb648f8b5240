//! OpenAI-compatible providers: the client's body goes upstream spliced, never re-serialised.
//! Only the `model` value changes and the router's own members (`prefer`, `tier`, ...) leave;
//! every other byte is the client's. The parser records where those bytes are
//! ([`Layout`]); this is the request half that uses it.

use crate::catalog::{
    ASKS_PART_LISTS, DROPS_EFFORT_NONE, DROPS_NULLS, DROPS_THINKING, MESSAGE_DROPS, Quirks,
};
use crate::parse::chat::ChatRequest;
use crate::parse::json::write_string;
use crate::parse::layout::{EFFORT_MEMBERS, Layout, Member, STAND_IN_SIGNATURE, STREAM_USAGE_MEMBER, Span};

impl Layout {
    /// Copies member bytes `span`, applying the edits that fall inside it (in order).
    fn copy(out: &mut Vec<u8>, body: &[u8], span: Span, edits: &[(Span, &[u8])]) {
        let mut at = span.start;
        for (e, bytes) in edits {
            if at <= e.start && e.end <= span.end {
                out.extend_from_slice(body.get(at..e.start).unwrap_or_default());
                out.extend_from_slice(bytes);
                at = e.end;
            }
        }
        out.extend_from_slice(body.get(at..span.end).unwrap_or_default());
    }

    /// The body to send upstream: `model` replaced by `upstream_model`, router-only members
    /// removed with their separator, every other byte as received.
    pub fn rewrite(&self, body: &[u8], upstream_model: &str) -> Vec<u8> {
        self.rewrite_for(body, upstream_model, &Quirks::NONE)
    }

    /// [`Layout::rewrite`], for a model of `quirks`: one that takes `max_completion_tokens`
    /// only (`fixed_sampling`: OpenAI's reasoning models answer `max_tokens` with a 400) gets
    /// its `max_tokens` key renamed, or the member dropped when `max_completion_tokens` is
    /// sent too (that one is what counts); one that wants its tool calls signed
    /// (`thought_signatures`) gets the stand-in signature on each call without one (and a
    /// null signature dropped); one whose provider refuses echoes or nulls (`drops`) gets
    /// them taken out, top-level null members too.
    pub fn rewrite_for(&self, body: &[u8], upstream_model: &str, quirks: &Quirks) -> Vec<u8> {
        self.rewrite_capped(body, upstream_model, quirks, u64::MAX, None)
    }

    /// [`Layout::rewrite_for`], for a model whose output limit is `max_output`: a cap that is
    /// a ceiling (`max_tokens_ceiling`) is lowered to it where it is above; `hinted`, the
    /// `reasoning_effort` member a hint sends this model ([`Layout::hinted_effort`]), goes last.
    pub fn rewrite_capped(
        &self,
        body: &[u8],
        upstream_model: &str,
        quirks: &Quirks,
        max_output: u64,
        hinted: Option<&'static [u8]>,
    ) -> Vec<u8> {
        let lowered: Vec<(Span, Vec<u8>)> = (self.ceiling_values.iter())
            .filter(|(_, n)| *n > max_output)
            .map(|&(span, _)| (span, max_output.to_string().into_bytes()))
            .collect();
        let renamed = self.max_tokens_key.filter(|_| quirks.fixed_sampling);
        let unsigned: &[usize] = if quirks.thought_signatures { &self.unsigned_calls } else { &[] };
        // Claude's signed thinking is for Anthropic's API alone: every chat body goes without it.
        let drops = quirks.drops | DROPS_THINKING | if quirks.thought_signatures { DROPS_NULLS } else { 0 };
        // A top-level member sent as null: its value is the span's last four bytes (a string
        // ends with a quote, any other value with something else). One the router edits
        // (`stream_options: null`) stays.
        let null_member = |m: &Member| {
            drops & DROPS_NULLS != 0
                && body.get(..m.span.end).is_some_and(|b| b.ends_with(b"null"))
                && !self.edit.is_some_and(|(e, _)| m.span.start <= e.start && e.end <= m.span.end)
                && !(m.span.start <= self.model_value.start && self.model_value.end <= m.span.end)
        };
        // Both sent: `max_tokens` goes. Only it (a null `max_completion_tokens` beside it):
        // renamed, and the null one goes.
        let dropped = match renamed {
            Some(k) if self.max_completion_tokens => Some(k.start),
            Some(_) => self.null_completion_member,
            None => None,
        };
        let rename = renamed.filter(|_| !self.max_completion_tokens);
        let mut out = Vec::with_capacity(body.len() + upstream_model.len() + STREAM_USAGE_MEMBER.len());
        let mut model = Vec::with_capacity(upstream_model.len() + 2);
        write_string(&mut model, upstream_model);
        let (Some(first), Some(last)) = (self.members.first(), self.members.last()) else {
            return body.to_vec();
        };
        out.extend_from_slice(body.get(..first.span.start).unwrap_or_default());
        let mut prev: Option<&Member> = None;
        let mut wrote_any = false;
        for m in &self.members {
            // Gemini's own member goes to Gemini's OpenAI layer alone (the deployments whose
            // calls stream without their index: `indexless_calls` marks that layer).
            let foreign = m.gemini && !quirks.indexless_calls;
            if m.router_only
                || dropped == Some(m.span.start)
                || null_member(m)
                || m.drops & drops != 0
                || foreign
            {
                prev = Some(m);
                continue;
            }
            if wrote_any {
                match prev {
                    // Keep the original separator and whitespace when the previous member stays.
                    Some(p) if !p.router_only => {
                        out.extend_from_slice(body.get(p.span.end..m.span.start).unwrap_or(b","))
                    }
                    _ => out.push(b','),
                }
            }
            let mut edits: Vec<(Span, &[u8])> = Vec::with_capacity(2);
            edits.push((self.model_value, &model));
            let inside = |p: &&usize| m.span.start <= **p && **p < m.span.end;
            edits.extend(
                unsigned.iter().filter(inside).map(|&p| (Span { start: p, end: p }, STAND_IN_SIGNATURE)),
            );
            // A list of texts one string for a provider that refuses lists (the drops inside it
            // go with it), joined here for it alone.
            let joins: Vec<(Span, Vec<u8>)> = if quirks.refuses & ASKS_PART_LISTS != 0 {
                (self.joins.iter())
                    .filter(|s| m.span.start <= s.start && s.end <= m.span.end)
                    .filter_map(|&s| Some((s, joined_texts(body.get(s.start..s.end)?)?)))
                    .collect()
            } else {
                Vec::new()
            };
            let joined = |span: &Span| joins.iter().any(|(j, _)| j.start <= span.start && span.end <= j.end);
            edits.extend(joins.iter().map(|(span, one)| (*span, one.as_slice())));
            edits.extend(
                self.drops
                    .iter()
                    .filter(|(span, d)| {
                        *d & 0xFF == u16::from(drops & MESSAGE_DROPS) & (*d >> 8)
                            && m.span.start <= span.start
                            && span.end <= m.span.end
                            && !joined(span)
                    })
                    .map(|&(span, _)| (span, &b""[..])),
            );
            if let Some((span, bytes)) = self.edit {
                edits.push((span, bytes));
            }
            if let Some(key) = rename {
                edits.push((key, br#""max_completion_tokens""#));
            }
            edits.extend(lowered.iter().map(|(span, n)| (*span, n.as_slice())));
            edits.sort_by_key(|(span, _)| span.start);
            Self::copy(&mut out, body, m.span, &edits);
            wrote_any = true;
            prev = Some(m);
        }
        // A `reasoning` object's `none`, as `reasoning_effort`, goes where the member would.
        let none = EFFORT_MEMBERS.first().copied();
        let effort = self.effort_member.filter(|m| drops & DROPS_EFFORT_NONE == 0 || Some(*m) != none);
        for extra in [self.append, effort, hinted].into_iter().flatten() {
            out.push(b',');
            out.extend_from_slice(extra);
        }
        out.extend_from_slice(body.get(last.span.end..).unwrap_or_default());
        out
    }
}

/// A list of text parts as one JSON string, joined by blank lines (as a Messages client's
/// plain texts are); `None` when a part is other than text.
fn joined_texts(raw: &[u8]) -> Option<Vec<u8>> {
    let parts: Vec<serde_json::Value> = serde_json::from_slice(raw).ok()?;
    fn text(p: &serde_json::Value) -> Option<&str> {
        (p.get("type")?.as_str()? == "text").then(|| p.get("text")?.as_str())?
    }
    let texts: Option<Vec<&str>> = parts.iter().map(text).collect();
    serde_json::to_vec(&texts?.join("\n\n")).ok()
}

impl ChatRequest<'_> {
    /// The body to send upstream (see [`Layout::rewrite`]).
    pub fn rewrite(&self, body: &[u8], upstream_model: &str) -> Vec<u8> {
        self.layout.rewrite(body, upstream_model)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::catalog::{DROPS_CACHE_MARKS, DROPS_ECHOES, DROPS_NULLS, Quirks};
    use crate::parse::request::parse_chat;

    /// Gemini 3 answers a tool call in the history without its thought signature with a 400:
    /// one another model made, or one a client rebuilt without `extra_content`. Such a model
    /// gets Google's stand-in signature on each call without one; a signed call, and any
    /// other model's body, are left as they were.
    #[test]
    fn a_model_that_wants_signed_calls_gets_a_stand_in_for_each_unsigned_one() {
        let call = |id: &str| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{\"extra_content\":1}"}});
        let mut signed = call("b");
        signed["extra_content"] = json!({"google": {"thought_signature": "real"}});
        let body = json!({"model": "premium", "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": null, "tool_calls": [call("a"), signed.clone()]},
            {"role": "tool", "tool_call_id": "a", "content": "1"},
            {"role": "tool", "tool_call_id": "b", "content": "2"},
            {"role": "assistant", "tool_calls": [call("c")]},
            {"role": "tool", "tool_call_id": "c", "content": "3"},
            {"role": "user", "content": "and?", "tool_calls": [call("d")]},
        ]})
        .to_string();
        let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let gemini = Quirks { thought_signatures: true, ..Quirks::NONE };
        let sent: Value = serde_json::from_slice(&req.layout.rewrite_for(body.as_bytes(), "g3", &gemini))
            .unwrap_or_else(|e| panic!("{e}"));
        let stand_in = json!({"google": {"thought_signature": "skip_thought_signature_validator"}});
        let calls = |m: usize| sent["messages"][m]["tool_calls"].as_array().cloned().unwrap_or_default();
        assert_eq!(calls(1)[0]["extra_content"], stand_in, "{sent}");
        assert_eq!(calls(1)[1], signed, "{sent}");
        assert_eq!(calls(4)[0]["extra_content"], stand_in, "{sent}");
        // A user's are no calls (the provider says what it makes of them).
        assert_eq!(calls(6)[0], call("d"), "{sent}");
        assert_eq!(calls(1)[0]["function"], call("a")["function"]);
        // Any other model: the client's bytes.
        let plain = req.layout.rewrite_for(body.as_bytes(), "g3", &Quirks::NONE);
        assert_eq!(String::from_utf8_lossy(&plain), body.replace(r#""model":"premium""#, r#""model":"g3""#));
    }

    /// Every order of an answer's members sent back (an OpenAI SDK client appends the answer's
    /// message as it came): a provider that refuses echoes gets the message without
    /// `refusal`, `annotations` and `reasoning_content`; one that refuses nulls without the
    /// null members (and the body's top-level nulls); any other, the client's bytes. The body
    /// stays JSON with every kept member as sent, whatever the spacing.
    #[test]
    fn members_a_provider_refuses_are_taken_out_wherever_they_sit() {
        let members = [
            r#""role":"assistant""#,
            r#""content":"hi""#,
            r#""refusal":null"#,
            r#""annotations":[]"#,
            r#""reasoning_content":"thought""#,
            r#""name":null"#,
        ];
        let groq = Quirks { drops: DROPS_ECHOES, ..Quirks::NONE };
        let gemini = Quirks { drops: DROPS_NULLS, ..Quirks::NONE };
        let both = Quirks { drops: DROPS_ECHOES | DROPS_NULLS, ..Quirks::NONE };
        let cases: [(&Quirks, &[&str], bool); 4] = [
            (&groq, &["refusal", "annotations", "reasoning_content"], true),
            (&gemini, &["refusal", "name"], false),
            (&both, &["refusal", "annotations", "reasoning_content", "name"], false),
            (&Quirks::NONE, &[], true),
        ];
        let seen = every_order(&members, |message, _| {
            let body = format!(
                r#"{{"model":"economy","stop":null,"messages":[{{"role":"user","content":"q"}},{{{message}}},{{"role":"user","content":"and?"}}],"user":null}}"#
            );
            let original: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            for (quirks, gone, nulls_kept) in cases {
                let sent = req.layout.rewrite_for(body.as_bytes(), "m", quirks);
                let sent: Value = serde_json::from_slice(&sent)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&sent)));
                let mut want = original["messages"][1].clone();
                if let Some(m) = want.as_object_mut() {
                    gone.iter().for_each(|k| drop(m.remove(*k)));
                }
                assert_eq!(sent["messages"][1], want, "{quirks:?}: {body}");
                assert_eq!(sent["messages"][2], original["messages"][2]);
                let top = sent.as_object().map(|o| (o.contains_key("stop"), o.contains_key("user")));
                assert_eq!(top, Some((nulls_kept, nulls_kept)), "{quirks:?}: {body}");
            }
        });
        assert_eq!(seen, 720);
    }

    /// The OpenAI SDK's `parse()` and `stream()` messages sent back as they came: `parsed` on the
    /// message, a streamed call's `index`, its function's `parsed_arguments`. Groq and Cerebras
    /// answered the next turn with a 400 ("property 'index' is unsupported"): they go where
    /// echoes go, in every order of the call's and the function's members; any other provider
    /// gets the client's bytes.
    #[test]
    fn the_sdks_parsed_echoes_go_where_echoes_go() {
        let call = [
            r#""id":"call_1""#,
            r#""type":"function""#,
            r#""index":0"#,
            r#""function":{"parsed_arguments":{"city":"Oslo"},"name":"w","arguments":"{\"city\":\"Oslo\"}"}"#,
        ];
        let groq = Quirks { drops: DROPS_ECHOES, ..Quirks::NONE };
        let seen = every_order(&call, |call, _| {
            let body = format!(
                r#"{{"model":"economy","messages":[{{"role":"user","content":"q"}},{{"role":"assistant","content":null,"parsed":null,"tool_calls":[{{{call}}}]}},{{"role":"tool","tool_call_id":"call_1","content":"sunny"}}]}}"#
            );
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let sent = req.layout.rewrite_for(body.as_bytes(), "m", &groq);
            let sent: Value = serde_json::from_slice(&sent)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&sent)));
            let want = json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{\"city\":\"Oslo\"}"}}
            ]});
            assert_eq!(sent["messages"][1], want, "{body}");
            let plain = req.layout.rewrite_for(body.as_bytes(), "m", &Quirks::NONE);
            assert_eq!(
                String::from_utf8_lossy(&plain),
                body.replace(r#""model":"economy""#, r#""model":"m""#)
            );
        });
        assert_eq!(seen, 24);
    }

    /// An Anthropic client's cache breakpoints (`cache_control` on a part, in every order of the
    /// part's members, and on a tool) go for a provider that drops them, with its other drops;
    /// a chat body for any other keeps them byte for byte.
    #[test]
    fn cache_breakpoints_go_where_the_provider_drops_them() {
        let members = [r#""type":"text""#, r#""text":"hi""#, r#""cache_control":{"type":"ephemeral"}"#];
        let marks = Quirks { drops: DROPS_CACHE_MARKS, ..Quirks::NONE };
        let groq = Quirks { drops: DROPS_ECHOES | DROPS_CACHE_MARKS, ..Quirks::NONE };
        let seen = every_order(&members, |part, _| {
            let body = format!(
                r#"{{"model":"economy","messages":[{{"role":"system","content":[{{{part}}}]}},{{"role":"assistant","content":"a","refusal":null}},{{"role":"user","content":[{{"type":"text","text":"q"}},{{{part}}}]}}],"tools":[{{"cache_control":{{"type":"ephemeral"}},"type":"function","function":{{"name":"f"}}}},{{"type":"function","function":{{"name":"g"}},"cache_control":{{"type":"ephemeral"}}}}]}}"#
            );
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            for quirks in [&marks, &groq] {
                let sent = req.layout.rewrite_for(body.as_bytes(), "m", quirks);
                let text = String::from_utf8_lossy(&sent);
                assert!(!text.contains("cache_control"), "{quirks:?}: {text}");
                let sent: Value = serde_json::from_slice(&sent).unwrap_or_else(|e| panic!("{e}: {text}"));
                assert_eq!(sent["messages"][0]["content"], json!([{"type": "text", "text": "hi"}]), "{text}");
                assert_eq!(
                    sent["messages"][2]["content"][1],
                    json!({"type": "text", "text": "hi"}),
                    "{text}"
                );
                assert_eq!(
                    sent["tools"][1],
                    json!({"type": "function", "function": {"name": "g"}}),
                    "{text}"
                );
                assert_eq!(
                    sent["messages"][1].get("refusal").is_some(),
                    quirks.drops & DROPS_ECHOES == 0,
                    "{text}"
                );
            }
            let kept = req.layout.rewrite_for(body.as_bytes(), "m", &Quirks::NONE);
            assert_eq!(
                String::from_utf8_lossy(&kept),
                body.replace(r#""model":"economy""#, r#""model":"m""#)
            );
        });
        assert_eq!(seen, 6);
    }

    /// OpenAI's own top-level members (`store`, `metadata`, `prompt_cache_key`, ...) go for a
    /// provider that refuses them as unknown, wherever they sit and however they are spaced,
    /// with its other drops; the same names inside a message or a tool's schema stay.
    #[test]
    fn openai_only_members_go_where_refused_and_only_at_the_top() {
        use crate::catalog::DROPS_OPENAI_ONLY;
        let members = [
            r#""store":false"#,
            r#""metadata":{"store":"x"}"#,
            r#""messages":[{"role":"user","content":"q","metadata":1}]"#,
            r#""prompt_cache_key":"k""#,
            r#""tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"store":{"type":"string"}}}}}]"#,
            r#""verbosity":"low""#,
            r#""stop":null"#,
        ];
        let gemini = Quirks { drops: DROPS_NULLS | DROPS_OPENAI_ONLY, ..Quirks::NONE };
        let groq = Quirks { drops: DROPS_ECHOES | DROPS_OPENAI_ONLY, ..Quirks::NONE };
        let only = Quirks { drops: DROPS_OPENAI_ONLY, ..Quirks::NONE };
        let openai = ["store", "metadata", "prompt_cache_key", "verbosity"];
        // OpenAI's stored completions go to none: the gateway's account would keep them.
        let cases: [(&Quirks, &[&str]); 4] = [
            (&gemini, &["store", "metadata", "prompt_cache_key", "verbosity", "stop"]),
            (&groq, &openai),
            (&only, &openai),
            (&Quirks::NONE, &["store", "metadata"]),
        ];
        let seen = every_order(&members, |inner, sep| {
            let body = format!(r#"{{"model":"economy"{sep}{inner}}}"#);
            let original: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            for (quirks, gone) in cases {
                let sent = req.layout.rewrite_for(body.as_bytes(), "m", quirks);
                let sent: Value = serde_json::from_slice(&sent)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&sent)));
                let mut want = original.clone();
                want["model"] = "m".into();
                if let Some(o) = want.as_object_mut() {
                    gone.iter().for_each(|k| drop(o.remove(*k)));
                }
                assert_eq!(sent, want, "{quirks:?}: {body}");
            }
        });
        assert_eq!(seen, 5040);
    }

    /// A predicted output went to o3 and GPT-5, and a verbosity to GPT-4.1, whose 400 ended the
    /// request: each goes only where the catalog does not list it (`drops`), as it goes to no
    /// provider but OpenAI (`openai_only`).
    #[test]
    fn prediction_and_verbosity_go_to_the_models_that_take_them() {
        use crate::catalog::{DROPS_OPENAI_ONLY, DROPS_PREDICTION, DROPS_VERBOSITY};
        let body = r#"{"model":"economy","prediction":{"type":"content","content":"x"},"verbosity":"low","messages":[{"role":"user","content":"q"}]}"#;
        let req = parse_chat(body.as_bytes());
        let Ok(req) = req else { panic!("{req:?}") };
        let sent = |drops: u8| {
            let q = Quirks { drops, ..Quirks::NONE };
            let v: Value =
                serde_json::from_slice(&req.layout.rewrite_for(body.as_bytes(), "m", &q)).unwrap_or_default();
            ["prediction", "verbosity"].map(|k| v.get(k).is_some())
        };
        assert_eq!(sent(0), [true, true]);
        assert_eq!(sent(DROPS_PREDICTION), [false, true]);
        assert_eq!(sent(DROPS_VERBOSITY), [true, false]);
        assert_eq!(sent(DROPS_OPENAI_ONLY), [false, false]);
        let c = crate::config::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let drops = |id: &str| {
            c.catalog
                .deployments
                .iter()
                .find(|d| d.id == id && d.provider == "openai")
                .map(|d| d.quirks.drops)
        };
        assert_eq!(drops("gpt-4.1").map(|d| d & (DROPS_PREDICTION | DROPS_VERBOSITY)), Some(DROPS_VERBOSITY));
        assert_eq!(
            drops("gpt-5.4").map(|d| d & (DROPS_PREDICTION | DROPS_VERBOSITY)),
            Some(DROPS_PREDICTION)
        );
    }

    /// `extra_body`, Gemini's own member as its guide writes it, goes to Gemini's OpenAI layer
    /// alone: OpenAI answered it with a 400 ("Unrecognized request argument supplied"), and a
    /// tier's request to it ended there.
    #[test]
    fn gemini_extra_body_goes_to_gemini_alone() {
        let body = r#"{"model":"economy","extra_body":{"google":{"thinking_config":{"thinking_budget":1024}}},"messages":[{"role":"user","content":"hi"}]}"#;
        let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let sent = |quirks: Quirks| String::from_utf8(req.layout.rewrite_for(body.as_bytes(), "m", &quirks));
        let gemini = sent(Quirks { indexless_calls: true, ..Quirks::NONE }).unwrap_or_default();
        assert!(gemini.contains(r#""extra_body":{"google":"#), "{gemini}");
        let other = sent(Quirks::NONE).unwrap_or_default();
        assert_eq!(other, r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    }

    /// OpenAI's prompt-cache members, its breakpoint on a part and `prompt_cache_options`, go
    /// with `openai_only`; Anthropic's `cache_control` beside them with `cache_marks` (which
    /// OpenAI's models drop: they keep OpenAI's own).
    #[test]
    fn openai_cache_breakpoints_go_with_openai_only() {
        use crate::catalog::{DROPS_CACHE_MARKS, DROPS_OPENAI_ONLY};
        let body = r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"text","text":"a","prompt_cache_breakpoint":{"mode":"explicit"}},{"prompt_cache_breakpoint":{"mode":"explicit"},"type":"text","text":"b","cache_control":{"type":"ephemeral"}}]}],"prompt_cache_options":{"ttl":"30m"}}"#;
        let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let sent = |drops| {
            let sent = req.layout.rewrite_for(body.as_bytes(), "m", &Quirks { drops, ..Quirks::NONE });
            serde_json::from_slice::<Value>(&sent)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&sent)))
        };
        // A text part with OpenAI's mark, Anthropic's, or neither.
        let part = |text: &str, openai: bool, anthropic: bool| {
            let mut p = json!({"type": "text", "text": text});
            if openai {
                p["prompt_cache_breakpoint"] = json!({"mode": "explicit"});
            }
            if anthropic {
                p["cache_control"] = json!({"type": "ephemeral"});
            }
            p
        };
        let want = |parts: Vec<Value>, options: bool| {
            let mut w = json!({"model": "m", "messages": [{"role": "user", "content": parts}]});
            if options {
                w["prompt_cache_options"] = json!({"ttl": "30m"});
            }
            w
        };
        assert_eq!(sent(0), want(vec![part("a", true, false), part("b", true, true)], true));
        assert_eq!(sent(DROPS_CACHE_MARKS), want(vec![part("a", true, false), part("b", true, false)], true));
        assert_eq!(
            sent(DROPS_OPENAI_ONLY),
            want(vec![part("a", false, false), part("b", false, true)], false)
        );
        let neither = want(vec![part("a", false, false), part("b", false, false)], false);
        assert_eq!(sent(DROPS_NULLS | DROPS_OPENAI_ONLY | DROPS_CACHE_MARKS), neither);
    }

    /// `moderation` (OpenAI's moderated answers) is refused where OpenAI's own members are
    /// taken out (Gemini, Groq, Cerebras: they run no moderation model), so a tier moves on;
    /// OpenAI's models take it, and a null one asks nothing.
    #[test]
    fn moderation_is_refused_where_openai_only_members_go() {
        use crate::catalog::{Api, DROPS_CACHE_MARKS, DROPS_OPENAI_ONLY};
        use crate::protocol::{Native, native::chat_body};
        let asked = |value: &str, drops: u8| {
            let body = format!(
                r#"{{"model":"economy","messages":[{{"role":"user","content":"q"}}],"moderation":{value}}}"#
            );
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let to = Native {
                model: "m",
                upstream_model: "m",
                max_output: 100,
                quirks: Quirks { drops, ..Quirks::NONE },
            };
            chat_body(Api::Chat, req.layout(), body.as_bytes(), &to).err().map(|e| e.param)
        };
        let gemini = DROPS_NULLS | DROPS_OPENAI_ONLY | DROPS_CACHE_MARKS;
        assert_eq!(asked(r#"{"model":"omni-moderation-latest"}"#, gemini), Some(Some("moderation".into())));
        assert_eq!(asked(r#"{"model":"omni-moderation-latest"}"#, DROPS_CACHE_MARKS), None);
        assert_eq!(asked("null", gemini), None);
    }

    /// A tool call as Gemini signs it: its `extra_content` is an echo for Groq; a null one is
    /// no signature (Gemini 3 gets the stand-in in its place, Gemini 2.5 the call without it).
    #[test]
    fn a_tool_calls_signature_goes_where_refused_and_a_null_one_is_replaced() {
        let call = |extra: &str| {
            format!(
                r#"{{"id":"a","extra_content":{extra},"type":"function","function":{{"name":"f","arguments":"{{}}"}}}}"#
            )
        };
        let body = |extra: &str| {
            format!(
                r#"{{"model":"premium","messages":[{{"role":"user","content":"go"}},{{"role":"assistant","content":null,"tool_calls":[{}]}},{{"role":"tool","tool_call_id":"a","content":"1"}}]}}"#,
                call(extra)
            )
        };
        let sent = |body: &str, quirks: &Quirks| -> Value {
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let out = req.layout.rewrite_for(body.as_bytes(), "m", quirks);
            serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
        };
        let signed = body(r#"{"google":{"thought_signature":"real"}}"#);
        let groq = Quirks { drops: DROPS_ECHOES, ..Quirks::NONE };
        let call_of = |v: &Value| v["messages"][1]["tool_calls"][0].clone();
        assert_eq!(
            call_of(&sent(&signed, &groq)),
            json!({"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}})
        );
        assert_eq!(
            call_of(&sent(&signed, &Quirks::NONE))["extra_content"]["google"]["thought_signature"],
            "real"
        );
        let null = body("null");
        let gemini3 = Quirks { thought_signatures: true, drops: DROPS_NULLS, ..Quirks::NONE };
        let stand_in = json!({"google": {"thought_signature": "skip_thought_signature_validator"}});
        assert_eq!(call_of(&sent(&null, &gemini3))["extra_content"], stand_in);
        // The catalog's Gemini 3 drops nulls; one that only wants signed calls still gets one key.
        let signs_only = Quirks { thought_signatures: true, ..Quirks::NONE };
        assert_eq!(call_of(&sent(&null, &signs_only))["extra_content"], stand_in);
        let gemini25 = Quirks { drops: DROPS_NULLS, ..Quirks::NONE };
        assert!(call_of(&sent(&null, &gemini25)).get("extra_content").is_none());
        assert!(call_of(&sent(&null, &Quirks::NONE))["extra_content"].is_null());
        // A refusal stated is what the turn said: it stays (a null one goes).
        let refused = r#"{"model":"m","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"refusal":"I can't help","annotations":[]},{"role":"user","content":"ok"}]}"#;
        let turn = sent(refused, &groq)["messages"][1].clone();
        assert_eq!(turn, json!({"role": "assistant", "content": null, "refusal": "I can't help"}));
    }

    /// The next order of `v` in lexicographic order; false after the last.
    /// Calls `each` with `members` joined in every order, the separator (`,` spaced three ways
    /// in turn) beside; returns how many orders there were.
    fn every_order(members: &[&str], mut each: impl FnMut(&str, &str)) -> usize {
        let mut order: Vec<usize> = (0..members.len()).collect();
        let mut seen = 0;
        loop {
            let sep = [",", " , ", ",\n  "][seen % 3];
            each(&order.iter().map(|&i| members[i]).collect::<Vec<_>>().join(sep), sep);
            seen += 1;
            if !next_order(&mut order) {
                return seen;
            }
        }
    }

    fn next_order(v: &mut [usize]) -> bool {
        let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else { return false };
        let Some(j) = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]) else { return false };
        v.swap(i - 1, j);
        v[i..].reverse();
        true
    }
}
