//! Table tests of the request half.

use serde_json::{Value, json};

use super::TO;
use crate::error::ApiError;
use crate::protocol::Native;
use crate::protocol::anthropic::request::{path, translate};

fn tr_to(body: &Value, to: &Native<'_>) -> Result<Value, ApiError> {
    translate(body.to_string().as_bytes(), to).map(|b| serde_json::from_slice(&b).unwrap_or_default())
}

pub(super) fn tr(body: &Value) -> Result<Value, ApiError> {
    tr_to(body, &TO)
}

pub(super) fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// A body asking one question, with `extra` members merged in.
pub(super) fn ask(extra: Value) -> Value {
    let mut body = json!({"model": "auto", "messages": [user("hi")]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    body
}

const WEATHER: &str = r#"{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}"#;

pub(super) fn tools(extra: Value) -> Value {
    let mut body = ask(extra);
    if let Some(b) = body.as_object_mut() {
        b.insert("tools".into(), json!([serde_json::from_str::<Value>(WEATHER).unwrap_or_default()]));
    }
    body
}

pub(super) fn call(id: &str, args: &str) -> Value {
    json!({"role": "assistant", "content": null,
           "tool_calls": [{"id": id, "type": "function", "function": {"name": "f", "arguments": args}}]})
}

#[test]
fn every_refusal_is_a_400_naming_the_field() {
    let img = |url: &str| json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]});
    let part = |p: Value| json!({"messages": [{"role": "user", "content": [p]}]});
    let cases: Vec<(Value, &str)> = vec![
        (json!({"messages": "hi"}), "messages"),
        (json!({"messages": [{"role": "system", "content": "s"}]}), "messages"),
        (json!({"messages": [{"role": "user", "content": ""}]}), "messages"),
        (
            json!({"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}, user("u")]}),
            "messages[1].role",
        ),
        (json!({"messages": [{"role": "function", "content": "x"}]}), "messages[0].role"),
        (img("ftp://example.com/a.png"), "messages[0].content[0].image_url.url"),
        (img("data:image/png,AAAA"), "messages[0].content[0].image_url.url"),
        (img("data:image/svg+xml;base64,AAAA"), "messages[0].content[0].image_url.url"),
        (img("data:image/png;base64,"), "messages[0].content[0].image_url.url"),
        (part(json!({"type": "image_url", "image_url": {}})), "messages[0].content[0].image_url.url"),
        (
            part(json!({"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}})),
            "messages[0].content[0].type",
        ),
        (
            part(json!({"type": "file", "file": {"file_id": "file-1"}})),
            "messages[0].content[0].file.file_data",
        ),
        (
            part(json!({"type": "file", "file": {"file_data": "data:text/plain;base64,AA"}})),
            "messages[0].content[0].file.file_data",
        ),
        (part(json!({"type": "text"})), "messages[0].content[0].text"),
        (
            part(json!({"type": "text", "text": "a", "cache_control": "ephemeral"})),
            "messages[0].content[0].cache_control",
        ),
        (json!({"messages": [{"role": "user", "content": 5}]}), "messages[0].content"),
        (
            json!({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://a/b.png"}}]}, user("u")]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"messages": [user("u"), {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://a/b.png"}}]}]}),
            "messages[1].content[0].type",
        ),
        (
            json!({"messages": [user("u"), {"role": "assistant", "content": [{"type": "refusal"}]}]}),
            "messages[1].content[0].refusal",
        ),
        (
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]}),
            "messages[1].tool_calls[0].id",
        ),
        (
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": [{"id": "c1", "function": {}}]}]}),
            "messages[1].tool_calls[0].function.name",
        ),
        (json!({"messages": [user("u"), {"role": "assistant", "tool_calls": {}}]}), "messages[1].tool_calls"),
        (
            json!({"messages": [user("u"), call("c1", "{}"), {"role": "tool", "content": "r"}]}),
            "messages[2].tool_call_id",
        ),
        (
            json!({"messages": [user("u"), call("c1", "{}"), {"role": "tool", "tool_call_id": "c1", "content": [{"type": "image_url", "image_url": {"url": "https://a"}}]}]}),
            "messages[2].content[0].type",
        ),
        (ask(json!({"temperature": 2.5})), "temperature"),
        (ask(json!({"temperature": -0.1})), "temperature"),
        (ask(json!({"temperature": "hot"})), "temperature"),
        (ask(json!({"top_p": 1.5})), "top_p"),
        (ask(json!({"stop": [1]})), "stop"),
        (ask(json!({"stop": 5})), "stop"),
        (ask(json!({"user": 5})), "user"),
        (ask(json!({"n": 2})), "n"),
        (ask(json!({"logprobs": true})), "logprobs"),
        (ask(json!({"response_format": {"type": "json_object"}})), "response_format.type"),
        (
            ask(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
                "type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}}}})),
            "response_format.json_schema.schema.properties.n.maximum",
        ),
        (
            ask(json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})),
            "response_format.json_schema.schema",
        ),
        (ask(json!({"tools": {}})), "tools"),
        (ask(json!({"tools": [{"type": "web_search"}]})), "tools[0].type"),
        (ask(json!({"tools": [{"type": "function", "function": {}}]})), "tools[0].function.name"),
        (
            ask(json!({"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]})),
            "tools[0].function.parameters",
        ),
        (tools(json!({"tool_choice": "sometimes"})), "tool_choice"),
        (tools(json!({"tool_choice": {"type": "function"}})), "tool_choice"),
        (tools(json!({"tool_choice": {"type": "custom", "function": {"name": "f"}}})), "tool_choice"),
        (tools(json!({"parallel_tool_calls": "no"})), "parallel_tool_calls"),
        (ask(json!({"max_tokens": 0})), "max_tokens"),
        (ask(json!({"max_tokens": 1.5})), "max_tokens"),
        (ask(json!({"max_completion_tokens": -5})), "max_completion_tokens"),
        (ask(json!({"reasoning_effort": "extreme"})), "reasoning_effort"),
        (ask(json!({"reasoning_effort": 3})), "reasoning_effort"),
        (ask(json!({"stream": "yes"})), "stream"),
    ];
    for (body, param) in cases {
        match tr(&body) {
            Err(e) => {
                assert_eq!((e.status, e.kind), (400, "invalid_request_error"), "{body}");
                assert_eq!(e.param.as_deref(), Some(param), "{body}: {}", e.message);
                assert_eq!(e.code, "unsupported_for_provider", "{body}");
            }
            Ok(v) => panic!("{body} was translated: {v}"),
        }
    }
    // A tool_choice of a type the API lacks says so (it was told a named choice's shape).
    let allowed =
        json!({"tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}});
    let message = tr(&tools(allowed)).err().map(|e| e.message).unwrap_or_default();
    assert!(message.contains("allowed_tools") && message.contains("not supported"), "{message}");
}

/// A member named twice inside a message, a part or a tool call is refused naming it, as the
/// router's parser does: which of the two the client meant is not ours to guess. At the top level the last
/// one counts, as in a JSON value (the router's parser refuses those before any translation).
#[test]
fn a_member_named_twice_is_refused_where_it_is() {
    let raw = |messages: &str| {
        format!(r#"{{"model":"m","messages":[{{"role":"user","content":"q"}},{messages}]}}"#)
    };
    for (body, param) in [
        (raw(r#"{"role":"assistant","content":"a","content":"b"}"#), "messages[1].content"),
        (
            raw(r#"{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}"#),
            "messages[1].content[0].text",
        ),
        (
            raw(r#"{"role":"assistant","tool_calls":[{"id":"c","id":"d","function":{"name":"f"}}]}"#),
            "messages[1].tool_calls[0].id",
        ),
        (
            raw(r#"{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","name":"g"}}]}"#),
            "messages[1].tool_calls[0].function.name",
        ),
    ] {
        let e = translate(body.as_bytes(), &TO).err();
        assert_eq!(
            e.as_ref().map(|e| (e.status, e.code, e.param.as_deref())),
            Some((400, "duplicate_key", Some(param))),
            "{body}"
        );
    }
    let twice = r#"{"messages":[{"role":"user","content":"a"}],"temperature":0.5,"temperature":0.25}"#;
    let v: Value =
        serde_json::from_slice(&translate(twice.as_bytes(), &TO).unwrap_or_default()).unwrap_or_default();
    assert_eq!(v["temperature"], json!(0.25));
}

/// Texts are carried as the client escaped them or not: the same text either way.
#[test]
fn escaped_and_plain_texts_translate_alike() {
    let plain =
        r#"{"messages":[{"role":"user","content":"a/b ä \"q\""},{"role":"assistant","content":"x  "}]}"#;
    let escaped = r#"{"messages":[{"role":"user","content":"a\/b \u00e4 \"q\""},{"role":"assistant","content":"x\u0020\u0020"}]}"#;
    let (a, b) = (translate(plain.as_bytes(), &TO), translate(escaped.as_bytes(), &TO));
    assert!(a.is_ok(), "{a:?}");
    assert_eq!(a, b);
}

#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    for body in [&b"not json"[..], b"[1,2]", b"\"x\""] {
        let e = translate(body, &TO).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((400, "invalid_json")));
    }
}

#[test]
fn max_tokens_is_the_clients_capped_or_a_default_that_suits_the_mode() {
    let cases: [(Value, u64, u64); 7] = [
        (json!({}), 64_000, 21_333),
        (json!({"stream": true}), 64_000, 64_000),
        (json!({}), 8_192, 8_192),
        (json!({"max_tokens": 100}), 64_000, 100),
        (json!({"max_tokens": 100_000}), 64_000, 64_000),
        (json!({"max_completion_tokens": 50, "max_tokens": 60}), 64_000, 50),
        (json!({"max_tokens": null, "max_completion_tokens": null}), 0, 1),
    ];
    for (extra, max_output, want) in cases {
        let to = Native { model: "m", upstream_model: "m", max_output, quirks: crate::catalog::Quirks::NONE };
        let got = tr_to(&ask(extra.clone()), &to).map(|v| v["max_tokens"].clone());
        assert_eq!(got, Ok(json!(want)), "{extra} with max_output {max_output}");
    }
}

#[test]
fn tool_choice_and_parallel_tool_calls() {
    let named = json!({"type": "function", "function": {"name": "f"}});
    let cases: [(Value, Value); 10] = [
        (json!({}), Value::Null),
        (json!({"tool_choice": "auto"}), json!({"type": "auto"})),
        (json!({"tool_choice": "none"}), json!({"type": "none"})),
        (json!({"tool_choice": "required"}), json!({"type": "any"})),
        (json!({"tool_choice": named}), json!({"type": "tool", "name": "f"})),
        (json!({"parallel_tool_calls": false}), json!({"type": "auto", "disable_parallel_tool_use": true})),
        (
            json!({"tool_choice": "required", "parallel_tool_calls": false}),
            json!({"type": "any", "disable_parallel_tool_use": true}),
        ),
        (
            json!({"tool_choice": named, "parallel_tool_calls": false}),
            json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true}),
        ),
        (json!({"tool_choice": "none", "parallel_tool_calls": false}), json!({"type": "none"})),
        (json!({"tool_choice": "auto", "parallel_tool_calls": true}), json!({"type": "auto"})),
    ];
    for (extra, want) in cases {
        let got = tr(&tools(extra.clone())).map(|v| v["tool_choice"].clone());
        assert_eq!(got, Ok(want), "{extra}");
    }
    // Without tools there is nothing to choose from.
    let v = tr(&ask(json!({"tool_choice": "required", "tools": []}))).unwrap_or_default();
    assert!(v.get("tool_choice").is_none() && v.get("tools").is_none(), "{v}");
    let v = tr(&tools(json!({}))).unwrap_or_default();
    assert_eq!(v["tools"], json!([{"name": "f", "input_schema": {"type": "object"}}]));
    // No parameters, or `{}` (Messages refuses a schema without a type), take no arguments.
    for f in [json!({"name": "g"}), json!({"name": "g", "parameters": {}})] {
        let v = tr(&ask(json!({"tools": [{"type": "function", "function": f}]}))).unwrap_or_default();
        assert_eq!(v["tools"][0]["input_schema"], json!({"type": "object", "properties": {}}));
    }
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget_when_it_can() {
    let finished_loop = json!([user("u"), call("c1", "{}"), {"role": "tool", "tool_call_id": "c1", "content": "r"}, {"role": "assistant", "content": "done"}, user("again")]);
    let open_loop =
        json!([user("u"), call("c1", "{}"), {"role": "tool", "tool_call_id": "c1", "content": "r"}]);
    // (members, max_output) -> (budget_tokens, max_tokens)
    let cases: Vec<(Value, u64, Option<u64>, u64)> = vec![
        (json!({"reasoning_effort": "low"}), 64_000, Some(2_048), 21_333),
        // A client's cap is never raised: the budget fits inside it with room for the answer
        // (4,096, or half the cap), or no thinking.
        (json!({"reasoning_effort": "medium", "max_completion_tokens": 4_000}), 64_000, Some(2_000), 4_000),
        (json!({"reasoning_effort": "high", "max_tokens": 20_000}), 64_000, Some(15_904), 20_000),
        (json!({"reasoning_effort": "low", "max_tokens": 20_000}), 64_000, Some(2_048), 20_000),
        (json!({"reasoning_effort": "high", "max_tokens": 100}), 10_000, None, 100),
        (json!({"reasoning_effort": "low", "max_tokens": 100}), 1_024, None, 100),
        // A cap below twice the least budget: the least budget while 512 are left beside it.
        (json!({"reasoning_effort": "low", "max_tokens": 2_000}), 64_000, Some(1_024), 2_000),
        (json!({"reasoning_effort": "high", "max_tokens": 1_536}), 64_000, Some(1_024), 1_536),
        (json!({"reasoning_effort": "high", "max_tokens": 1_535}), 64_000, None, 1_535),
        // Without one, room is made above the budget, within the model's limit; held down by
        // that limit, the budget leaves the answer its room as under a cap (it left one token).
        (json!({"reasoning_effort": "high", "stream": true}), 10_000, Some(5_904), 10_000),
        (json!({"reasoning_effort": "high"}), 18_000, Some(13_904), 18_000),
        // Unstreamed: the default leaves high's budget its room; a client's own budget near
        // it is sent as asked, with room made above it, not cut.
        (json!({"reasoning_effort": "high"}), 64_000, Some(16_384), 21_333),
        (json!({"reasoning_effort": "high", "thinking_budget": 20_000}), 64_000, Some(20_000), 24_096),
        (json!({"reasoning_effort": "none"}), 64_000, None, 21_333),
        (json!({"reasoning_effort": "minimal"}), 64_000, None, 21_333),
        (json!({"reasoning_effort": null}), 64_000, None, 21_333),
        (
            json!({"reasoning_effort": "high", "tools": [json!({"type":"function","function":{"name":"f"}})], "tool_choice": "required"}),
            64_000,
            None,
            21_333,
        ),
        (
            json!({"reasoning_effort": "medium", "tools": [json!({"type":"function","function":{"name":"f"}})], "messages": open_loop}),
            64_000,
            None,
            21_333,
        ),
        (
            json!({"reasoning_effort": "medium", "tools": [json!({"type":"function","function":{"name":"f"}})], "messages": finished_loop}),
            64_000,
            Some(8_192),
            21_333,
        ),
        (
            json!({"reasoning_effort": "medium", "messages": [user("u"), {"role": "assistant", "content": "Sure:"}]}),
            64_000,
            None,
            21_333,
        ),
    ];
    for (extra, max_output, budget, max_tokens) in cases {
        let to = Native { model: "m", upstream_model: "m", max_output, quirks: crate::catalog::Quirks::NONE };
        let mut body = ask(extra.clone());
        if let Some(b) = body.as_object_mut() {
            b.insert("temperature".into(), json!(0.2));
            b.insert("top_p".into(), json!(0.5));
        }
        let v = tr_to(&body, &to).unwrap_or_else(|e| panic!("{extra}: {e}"));
        let want_thinking =
            budget.map(|b| json!({"type": "enabled", "budget_tokens": b})).unwrap_or(Value::Null);
        assert_eq!((&v["thinking"], &v["max_tokens"]), (&want_thinking, &json!(max_tokens)), "{extra}");
        // Thinking takes no sampling changes; without it the client's temperature stays (and
        // its top_p goes: current models take one of them).
        let sampling = (v.get("temperature").is_some(), v.get("top_p").is_some());
        assert_eq!(sampling, if budget.is_some() { (false, false) } else { (true, false) }, "{extra}");
    }
}

#[test]
fn temperature_and_top_p_are_never_sent_together() {
    for (asked, want) in [
        (json!({"temperature": 0.2, "top_p": 0.5}), (Some(0.2), None)),
        (json!({"top_p": 0.5}), (None, Some(0.5))),
        (json!({"temperature": 0.2}), (Some(0.2), None)),
        // A temperature at Anthropic's default (or clamped to it) asks for nothing: top_p stays.
        (json!({"temperature": 1.0, "top_p": 0.5}), (None, Some(0.5))),
        (json!({"temperature": 1.4, "top_p": 0.5}), (None, Some(0.5))),
    ] {
        let v = tr(&ask(asked.clone())).unwrap_or_default();
        assert_eq!((v["temperature"].as_f64(), v["top_p"].as_f64()), want, "{asked}");
    }
}

#[test]
fn temperature_above_anthropics_range_is_clamped() {
    for (t, want) in [(0.0, 0.0), (0.7, 0.7), (1.0, 1.0), (1.5, 1.0), (2.0, 1.0)] {
        let v = tr(&ask(json!({"temperature": t}))).unwrap_or_default();
        assert_eq!(v["temperature"], json!(want), "{t}");
    }
}

#[test]
fn the_path_is_messages_under_the_base() {
    for (base, stream) in [("/v1", false), ("/v1/", true)] {
        assert_eq!(path(base, "claude-sonnet-4-5", stream), "/v1/messages");
    }
    assert_eq!(crate::protocol::anthropic::VERSION, "2023-06-01");
}

#[test]
fn thinking_keeps_a_top_p_it_allows() {
    for (top_p, kept) in [(0.5, false), (0.94, false), (0.95, true), (1.0, true)] {
        let v = tr(&ask(json!({"reasoning_effort": "low", "top_p": top_p, "temperature": 1.0})))
            .unwrap_or_default();
        assert!(v.get("thinking").is_some() && v.get("temperature").is_none(), "{v}");
        assert_eq!(v.get("top_p").is_some(), kept, "{top_p}");
    }
}

#[test]
fn a_tools_cache_control_is_kept() {
    let tool = json!({"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}});
    let v = tr(&ask(json!({"tools": [tool]}))).unwrap_or_default();
    assert_eq!(v["tools"][0]["cache_control"], json!({"type": "ephemeral"}), "{v}");
    let image = json!({"type": "image_url", "image_url": {"url": "https://a/b.png"}, "cache_control": {"type": "ephemeral"}});
    let v = tr(&json!({"messages": [{"role": "user", "content": [image]}]})).unwrap_or_default();
    assert_eq!(v["messages"][0]["content"][0]["cache_control"], json!({"type": "ephemeral"}), "{v}");
}

#[test]
fn tools_either_path_writes_the_same_tools_and_tool_choice() {
    let [text, values] = crate::protocol::tools::check::both_paths(|b| translate(b, &TO));
    for v in [text, values] {
        let schema = json!({"type": "object", "properties": {"x": {"type": "number", "minimum": 0}}});
        assert_eq!(v["tools"], json!([{"name": "f", "description": "d", "input_schema": schema}]));
        assert_eq!(v["tool_choice"], json!({"type": "any"}));
    }
}

/// A schema naming no `type` (a pydantic model that refers to itself) goes typed, from the
/// text and from values (a member named twice takes the value path).
#[test]
fn a_schema_naming_no_type_goes_as_an_object_either_path() {
    for twice in ["", r#""x": 1, "#] {
        let parameters =
            format!(r##"{{{twice}"x": 2, "$defs": {{"n": {{"type": "object"}}}}, "$ref": "#/$defs/n"}}"##);
        let body = format!(
            r#"{{"model": "auto", "messages": [{{"role": "user", "content": "hi"}}], "tools": [{{"type": "function", "function": {{"name": "f", "parameters": {parameters}}}}}]}}"#
        );
        let out = translate(body.as_bytes(), &TO).unwrap_or_else(|e| panic!("{e}"));
        let v: Value = serde_json::from_slice(&out).unwrap_or_default();
        let want = json!({"type": "object", "x": 2, "$defs": {"n": {"type": "object"}}, "$ref": "#/$defs/n"});
        assert_eq!(v["tools"][0]["input_schema"], want, "{twice}");
    }
}

#[test]
fn a_stop_sequence_of_only_whitespace_is_refused_naming_stop() {
    for (stop, refused) in
        [(json!("\n"), true), (json!(["END", " "]), true), (json!(""), true), (json!(["END", "a\n"]), false)]
    {
        let got = tr(&ask(json!({"stop": stop.clone()})));
        assert_eq!(
            got.as_ref().err().and_then(|e| e.param.clone()).as_deref() == Some("stop"),
            refused,
            "{stop}: {got:?}"
        );
    }
}

#[test]
fn members_the_translation_would_drop_are_refused_naming_them() {
    for (asked, param) in [
        (json!({"functions": [{"name": "f", "parameters": {"type": "object"}}]}), Some("functions")),
        (json!({"function_call": "auto"}), Some("function_call")),
        (json!({"web_search_options": {}}), Some("web_search_options")),
        (json!({"moderation": {"model": "omni-moderation-latest"}}), Some("moderation")),
        (
            json!({"functions": [], "function_call": "none", "web_search_options": null, "moderation": null}),
            None,
        ),
    ] {
        let got = tr(&ask(asked.clone()));
        assert_eq!(got.as_ref().err().map(|e| e.param.as_deref()), param.map(Some), "{asked}: {got:?}");
    }
}

/// The end user OpenAI names by `safety_identifier` (or the older `user`) is Anthropic's
/// `metadata.user_id`, the newer name first.
#[test]
fn the_end_user_is_metadata_user_id() {
    for (asked, id) in [
        (json!({"user": "u1"}), Some("u1")),
        (json!({"safety_identifier": "h1"}), Some("h1")),
        (json!({"safety_identifier": "h1", "user": "u1"}), Some("h1")),
        (json!({"safety_identifier": null, "user": "u1"}), Some("u1")),
        (json!({}), None),
    ] {
        let sent = tr(&ask(asked.clone())).unwrap_or_else(|e| panic!("{asked}: {e:?}"));
        assert_eq!(sent["metadata"]["user_id"].as_str(), id, "{asked}");
    }
    let wrong = tr(&ask(json!({"safety_identifier": 7}))).err().and_then(|e| e.param);
    assert_eq!(wrong.as_deref(), Some("safety_identifier"));
}

/// A tool name with a dot (an MCP client's `github.create_issue`), which Gemini's OpenAI layer
/// takes, went to Claude as it was: Anthropic's 400, with no other candidate tried. Refused by
/// the translation (a tier moves on), by either path; one of 128 letters passes.
#[test]
fn tool_names_the_api_refuses_are_refused_here() {
    let tools = |name: &str| json!({"messages": [user("q")], "tools": [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}]});
    for name in ["github.create_issue", "a b", "", &"x".repeat(129), "caf\u{e9}"] {
        let e = tr(&tools(name)).err().map(|e| (e.code, e.param));
        assert_eq!(e, Some(("invalid_value", Some("tools[0].function.name".into()))), "{name}");
    }
    let long = "x".repeat(128);
    for name in ["get_weather", "mcp__github__create-issue", long.as_str()] {
        let v = tr(&tools(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v["tools"][0]["name"], name);
    }
    // A call in the history under such a name is refused too.
    let mut body = tools("get_weather");
    body["messages"] = json!([user("q"), {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "a.b", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c", "content": "r"}]);
    let e = tr(&body).err().map(|e| (e.code, e.param));
    assert_eq!(e, Some(("invalid_value", Some("messages[1].tool_calls[0].function.name".into()))));
}
