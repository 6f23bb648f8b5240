use serde_json::{Value, json};

use super::*;

mod call_ids;

const TO: Native<'static> = Native {
    model: "gpt-5.3-codex",
    upstream_model: "gpt-5.3-codex",
    max_output: 128_000,
    quirks: crate::catalog::Quirks::NONE,
};

/// A body with one user message plus `extra` top-level members.
fn body(extra: &str) -> Vec<u8> {
    format!(r#"{{"model":"auto","messages":[{{"role":"user","content":"hi"}}]{extra}}}"#).into_bytes()
}

fn out(b: &[u8]) -> Value {
    let bytes = translate(b, &TO).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)));
    serde_json::from_slice(&bytes).unwrap()
}

fn refused(b: &[u8]) -> ApiError {
    match translate(b, &TO) {
        Ok(v) => panic!("accepted {}: {}", String::from_utf8_lossy(b), String::from_utf8_lossy(&v)),
        Err(e) => e,
    }
}

#[test]
fn the_path_is_base_slash_responses() {
    for (base, want) in [("/v1", "/v1/responses"), ("/v1/", "/v1/responses"), ("", "/responses")] {
        assert_eq!(path(base, "gpt-5.3-codex", true), want);
        assert_eq!(path(base, "other", false), want);
    }
}

#[test]
fn top_level_fields_map_as_the_table_says() {
    // (extra members, pointer into the output, expected value; null = absent)
    let cases: [(&str, &str, Value); 25] = [
        ("", "/store", json!(false)),
        (r#","store":true"#, "/store", json!(false)),
        (r#","prefer":"cheap","tier":"economy","provider":{"only":["openai"]}"#, "/prefer", Value::Null),
        ("", "/model", json!("gpt-5.3-codex")),
        (r#","max_tokens":500"#, "/max_output_tokens", json!(500)),
        (r#","max_tokens":500,"max_completion_tokens":300"#, "/max_output_tokens", json!(300)),
        (r#","max_tokens":500,"max_completion_tokens":null"#, "/max_output_tokens", json!(500)),
        (r#","max_completion_tokens":999999"#, "/max_output_tokens", json!(128_000)),
        (r#","max_completion_tokens":1"#, "/max_output_tokens", json!(16)),
        (r#","max_tokens":null"#, "/max_output_tokens", Value::Null),
        (r#","stream":true"#, "/stream", json!(true)),
        (r#","stream":false"#, "/stream", Value::Null),
        (r#","stream_options":{"include_usage":true}"#, "/stream_options", Value::Null),
        (r#","reasoning_effort":"low""#, "/reasoning", json!({"effort": "low", "summary": "auto"})),
        (r#","reasoning_effort":"none""#, "/reasoning", json!({"effort": "none"})),
        (r#","reasoning":{"effort":"high","summary":"detailed"}"#, "/reasoning/summary", json!("detailed")),
        (r#","reasoning":{"effort":"high"},"reasoning_effort":"low""#, "/reasoning/effort", json!("low")),
        // Members that ask nothing are read as the chat path reads them (they were refused).
        (
            r#","reasoning":{"effort":"low","exclude":false,"enabled":true}"#,
            "/reasoning/effort",
            json!("low"),
        ),
        (r#","response_format":{"type":"text"}"#, "/text/format", json!({"type": "text"})),
        (r#","verbosity":"high""#, "/text/verbosity", json!("high")),
        (r#","temperature":null"#, "/temperature", Value::Null),
        (r#","user":"u-1""#, "/user", json!("u-1")),
        (r#","seed":7,"prediction":{"type":"content","content":"x"}"#, "/seed", Value::Null),
        (r#","n":1,"logprobs":false,"top_logprobs":0,"logit_bias":{},"stop":null"#, "/n", Value::Null),
        (
            r#","modalities":["text"],"audio":null,"functions":[],"function_call":null"#,
            "/modalities",
            Value::Null,
        ),
    ];
    for (extra, pointer, want) in cases {
        let v = out(&body(extra));
        assert_eq!(v.pointer(pointer).cloned().unwrap_or(Value::Null), want, "{extra} at {pointer}: {v}");
    }
}

#[test]
fn fields_that_would_change_the_answer_are_refused_with_their_name() {
    // (extra members, code, param)
    let cases = [
        (r#","n":2"#, "unsupported_parameter", "n"),
        (r#","logprobs":true"#, "unsupported_parameter", "logprobs"),
        (r#","top_logprobs":3"#, "unsupported_parameter", "top_logprobs"),
        (r#","logit_bias":{"50256":-100}"#, "unsupported_parameter", "logit_bias"),
        (r#","frequency_penalty":0.5"#, "unsupported_parameter", "frequency_penalty"),
        (r#","presence_penalty":-1"#, "unsupported_parameter", "presence_penalty"),
        (r#","stop":"\n""#, "unsupported_parameter", "stop"),
        (r#","stop":["END"]"#, "unsupported_parameter", "stop"),
        (r#","audio":{"voice":"alloy","format":"mp3"}"#, "unsupported_parameter", "audio"),
        (r#","modalities":["text","audio"]"#, "unsupported_parameter", "modalities"),
        (r#","web_search_options":{}"#, "unsupported_parameter", "web_search_options"),
        (r#","functions":[{"name":"f"}]"#, "unsupported_parameter", "functions"),
        (r#","function_call":"auto""#, "unsupported_parameter", "function_call"),
        (r#","top_k":40"#, "unsupported_parameter", "top_k"),
        (r#","stream":"yes""#, "invalid_type", "stream"),
        (r#","max_tokens":-1"#, "invalid_value", "max_tokens"),
        (r#","max_completion_tokens":1.5"#, "invalid_value", "max_completion_tokens"),
        (r#","reasoning_effort":3"#, "invalid_type", "reasoning_effort"),
        (r#","reasoning":{"max_tokens":100}"#, "unsupported_parameter", "reasoning.max_tokens"),
        (r#","reasoning":{"effort":1}"#, "invalid_type", "reasoning.effort"),
        (r#","reasoning":{"effort":false}"#, "invalid_type", "reasoning.effort"),
        (r#","reasoning":{"enabled":true}"#, "unsupported_parameter", "reasoning.enabled"),
        (r#","reasoning":"high""#, "invalid_type", "reasoning"),
        (r#","verbosity":1"#, "invalid_type", "verbosity"),
    ];
    for (extra, code, param) in cases {
        let e = refused(&body(extra));
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, Some(param)), "{extra}: {e}");
    }
}

#[test]
fn bodies_that_are_not_chat_requests_are_refused() {
    let cases: [(&str, &str, Option<&str>); 5] = [
        ("[]", "invalid_json", None),
        ("{", "invalid_json", None),
        (r#"{"model":"auto"}"#, "missing_required_parameter", Some("messages")),
        (r#"{"model":"auto","messages":[]}"#, "invalid_value", Some("messages")),
        (r#"{"model":"auto","messages":{}}"#, "invalid_type", Some("messages")),
    ];
    for (b, code, param) in cases {
        let e = refused(b.as_bytes());
        assert_eq!((e.code, e.param.as_deref()), (code, param), "{b}: {e}");
    }
}

/// A body with `messages` as given.
fn with_messages(messages: &str) -> Vec<u8> {
    format!(r#"{{"model":"auto","messages":{messages}}}"#).into_bytes()
}

#[test]
fn messages_become_input_items() {
    let cases: [(&str, Value); 9] = [
        (
            r#"[{"role":"developer","content":"d","name":"x"}]"#,
            json!([{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "d"}]}]),
        ),
        (
            r#"[{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"refusal","refusal":"r"},{"type":"text","text":"b"}]}]"#,
            json!([{"type": "message", "role": "assistant", "phase": "final_answer", "content": "arb"}]),
        ),
        (
            r#"[{"role":"assistant","content":null}]"#,
            json!([{"type": "message", "role": "assistant", "phase": "final_answer", "content": ""}]),
        ),
        // A refusal as an OpenAI answer states it, replayed.
        (
            r#"[{"role":"assistant","content":null,"refusal":"no"}]"#,
            json!([{"type": "message", "role": "assistant", "phase": "final_answer", "content": "no"}]),
        ),
        (
            r#"[{"role":"assistant","content":"yes","refusal":"no"}]"#,
            json!([{"type": "message", "role": "assistant", "phase": "final_answer", "content": "yes"}]),
        ),
        (
            r#"[{"role":"assistant","content":"let me look","tool_calls":[{"id":"c1","type":"function","function":{"name":"f"}}]}]"#,
            json!([{"type": "message", "role": "assistant", "phase": "commentary", "content": "let me look"},
                   {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}]),
        ),
        (
            r#"[{"role":"tool","tool_call_id":"c1","content":null}]"#,
            json!([{"type": "function_call_output", "call_id": "c1", "output": ""}]),
        ),
        (
            r#"[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBER","filename":"a.pdf"}}]}]"#,
            json!([{"type": "message", "role": "user", "content": [
                {"type": "input_file", "file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}]}]),
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"HTTPS://x.test/a.png","detail":"high"}}]}]"#,
            json!([{"type": "message", "role": "user", "content": [
                {"type": "input_image", "image_url": "HTTPS://x.test/a.png", "detail": "high"}]}]),
        ),
    ];
    for (messages, want) in cases {
        assert_eq!(out(&with_messages(messages))["input"], want, "{messages}");
    }
}

#[test]
fn messages_refused_name_the_field() {
    let cases = [
        (r#"["hi"]"#, "invalid_type", "messages[0]"),
        (r#"[{"content":"x"}]"#, "missing_required_parameter", "messages[0].role"),
        (r#"[{"role":"robot","content":"x"}]"#, "invalid_role", "messages[0].role"),
        (r#"[{"role":"function","name":"f","content":"x"}]"#, "unsupported_value", "messages[0].role"),
        (r#"[{"role":"user"}]"#, "missing_required_parameter", "messages[0].content"),
        (r#"[{"role":"user","content":7}]"#, "invalid_type", "messages[0].content"),
        (
            r#"[{"role":"user","content":[{"type":"text"}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].text",
        ),
        (
            r#"[{"role":"user","content":[{"type":"text","text":1}]}]"#,
            "invalid_type",
            "messages[0].content[0].text",
        ),
        (
            r#"[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"},{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]"#,
            "invalid_value",
            "messages[1].content[1].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]"#,
            "invalid_value",
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https:x.png"}}]}]"#,
            "invalid_value",
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://"}}]}]"#,
            "invalid_value",
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":5}}]}]"#,
            "invalid_type",
            "messages[0].content[0].image_url.url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":"https://x.test/a.png"}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].image_url",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x.test/a.png","detail":2}}]}]"#,
            "invalid_type",
            "messages[0].content[0].image_url.detail",
        ),
        (
            r#"[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"video"}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"file","file":{}}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].file.file_data",
        ),
        (
            r#"[{"role":"user","content":[{"type":"file"}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].file",
        ),
        (
            r#"[{"role":"user","content":[{"type":"file","file":{"file_id":3}}]}]"#,
            "invalid_type",
            "messages[0].content[0].file.file_id",
        ),
        (
            r#"[{"role":"assistant","content":[{"type":"image_url"}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (r#"[{"role":"assistant","content":5}]"#, "invalid_type", "messages[0].content"),
        (
            r#"[{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}}]"#,
            "unsupported_parameter",
            "messages[0].function_call",
        ),
        (r#"[{"role":"assistant","tool_calls":{}}]"#, "invalid_type", "messages[0].tool_calls"),
        (
            r#"[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]"#,
            "missing_required_parameter",
            "messages[0].tool_calls[0].id",
        ),
        (
            r#"[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{}}]}]"#,
            "missing_required_parameter",
            "messages[0].tool_calls[0].function.name",
        ),
        (
            r#"[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]"#,
            "invalid_type",
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            r#"[{"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"f","input":"x"}}]}]"#,
            "unsupported_value",
            "messages[0].tool_calls[0].type",
        ),
        (r#"[{"role":"tool","content":"x"}]"#, "missing_required_parameter", "messages[0].tool_call_id"),
        (
            r#"[{"role":"tool","tool_call_id":"","content":"x"}]"#,
            "missing_required_parameter",
            "messages[0].tool_call_id",
        ),
        (r#"[{"role":"tool","tool_call_id":4,"content":"x"}]"#, "invalid_type", "messages[0].tool_call_id"),
    ];
    for (messages, code, param) in cases {
        let e = refused(&with_messages(messages));
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, Some(param)), "{messages}: {e}");
    }
}

#[test]
fn tools_and_tool_choice_translate() {
    let cases: [(&str, &str, Value); 7] = [
        (r#","tools":[]"#, "/tools", Value::Null),
        (r#","tools":null,"tool_choice":null"#, "/tool_choice", Value::Null),
        (
            r#","tools":[{"type":"function","function":{"name":"f","description":null,"strict":null}}]"#,
            "/tools/0",
            json!({"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}, "strict": false}),
        ),
        (r#","tool_choice":"none""#, "/tool_choice", json!("none")),
        (r#","tool_choice":"required""#, "/tool_choice", json!("required")),
        (
            r#","tool_choice":{"type":"function","function":{"name":"f"}}"#,
            "/tool_choice",
            json!({"type": "function", "name": "f"}),
        ),
        (
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[{"type":"function","function":{"name":"f"}}]}}"#,
            "/tool_choice",
            json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "f"}]}),
        ),
    ];
    for (extra, pointer, want) in cases {
        let v = out(&body(extra));
        assert_eq!(v.pointer(pointer).cloned().unwrap_or(Value::Null), want, "{extra}: {v}");
    }
}

#[test]
fn tools_tool_choice_and_formats_refused_name_the_field() {
    let cases = [
        (r#","tools":{}"#, "invalid_type", "tools"),
        (r#","tools":[{"type":"custom","custom":{"name":"grep"}}]"#, "unsupported_value", "tools[0].type"),
        (r#","tools":[{"type":"function"}]"#, "missing_required_parameter", "tools[0].function"),
        (
            r#","tools":[{"type":"function","function":{"name":""}}]"#,
            "missing_required_parameter",
            "tools[0].function.name",
        ),
        (r#","tools":[{"type":"function","function":{"name":7}}]"#, "invalid_type", "tools[0].function.name"),
        (
            r#","tools":[{"type":"function","function":{"name":"f","description":1}}]"#,
            "invalid_type",
            "tools[0].function.description",
        ),
        (
            r#","tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]"#,
            "invalid_type",
            "tools[0].function.parameters",
        ),
        (
            r#","tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]"#,
            "invalid_type",
            "tools[0].function.strict",
        ),
        (r#","tool_choice":"any""#, "invalid_value", "tool_choice"),
        (r#","tool_choice":1"#, "invalid_type", "tool_choice"),
        (r#","tool_choice":{"type":"function"}"#, "missing_required_parameter", "tool_choice.function.name"),
        (
            r#","tool_choice":{"type":"custom","custom":{"name":"g"}}"#,
            "unsupported_value",
            "tool_choice.type",
        ),
        (
            r#","tool_choice":{"type":"allowed_tools"}"#,
            "missing_required_parameter",
            "tool_choice.allowed_tools",
        ),
        (
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"none","tools":[]}}"#,
            "invalid_value",
            "tool_choice.allowed_tools.mode",
        ),
        (
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto"}}"#,
            "invalid_type",
            "tool_choice.allowed_tools.tools",
        ),
        (
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"custom"}]}}"#,
            "unsupported_value",
            "tool_choice.allowed_tools.tools[0].type",
        ),
        (
            r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[{"type":"function"}]}}"#,
            "missing_required_parameter",
            "tool_choice.allowed_tools.tools[0].function.name",
        ),
        (r#","response_format":"json""#, "invalid_type", "response_format"),
        (r#","response_format":{"type":"xml"}"#, "invalid_value", "response_format.type"),
        (
            r#","response_format":{"type":"json_schema"}"#,
            "missing_required_parameter",
            "response_format.json_schema",
        ),
        (
            r#","response_format":{"type":"json_schema","json_schema":{"schema":{}}}"#,
            "missing_required_parameter",
            "response_format.json_schema.name",
        ),
        (
            r#","response_format":{"type":"json_schema","json_schema":{"name":"x"}}"#,
            "missing_required_parameter",
            "response_format.json_schema.schema",
        ),
    ];
    for (extra, code, param) in cases {
        let e = refused(&body(extra));
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, Some(param)), "{extra}: {e}");
    }
}

#[test]
fn a_json_schema_keeps_its_description_and_strictness() {
    let v = out(&body(
        r#","response_format":{"type":"json_schema","json_schema":{"name":"n","description":"d","strict":false,"schema":{"type":"object"}}}"#,
    ));
    assert_eq!(
        v["text"]["format"],
        json!({"type": "json_schema", "name": "n", "description": "d", "strict": false, "schema": {"type": "object"}})
    );
}

/// A member named twice inside a tool call is refused naming it; a text escaped or not
/// translates alike (texts are read from the body's bytes).
#[test]
fn duplicates_in_tool_calls_are_refused_and_escapes_read_alike() {
    let call = br#"{"model":"auto","messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"a","id":"b","function":{"name":"f"}}]}]}"#;
    let e = refused(call);
    assert_eq!((e.code, e.param.as_deref()), ("duplicate_key", Some("messages[1].tool_calls[0].id")));
    let plain = body(
        r#","messages":[{"role":"user","content":"a/b ä \"q\""},{"role":"tool","tool_call_id":"c","content":"x/y"}]"#,
    );
    let escaped = body(
        r#","messages":[{"role":"user","content":"a\/b \u00e4 \"q\""},{"role":"tool","tool_call_id":"c","content":"x\/y"}]"#,
    );
    assert_eq!(out(&plain), out(&escaped));
    assert_eq!(translate(&plain, &TO), translate(&escaped, &TO));
}

#[test]
fn tools_either_path_writes_the_same_tools() {
    let [text, values] = crate::protocol::tools::check::both_paths(|b| translate(b, &TO));
    for v in [text, values] {
        let schema = json!({"type": "object", "properties": {"x": {"type": "number", "minimum": 0}}});
        let tool = json!({"type": "function", "name": "f", "description": "d", "parameters": schema, "strict": false});
        assert_eq!(v["tools"], json!([tool]));
        assert_eq!(v["tool_choice"], json!("required"));
    }
}

/// A root naming no `type` goes typed, but a strict tool's root `$ref` as the client wrote it:
/// beside it (zod's), OpenAI's strict mode refuses the added type as an open object.
#[test]
fn a_strict_tools_root_reference_goes_as_written_and_another_root_typed() {
    let (referred, plain) = (json!({"$ref": "#/definitions/W"}), json!({"properties": {}}));
    for (strict, p, typed) in [(true, &referred, false), (false, &referred, true), (true, &plain, true)] {
        let tool = json!({"type": "function", "function": {"name": "f", "strict": strict, "parameters": p}});
        let body = json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]});
        let v = out(&body.to_string().into_bytes());
        assert_eq!(v["tools"][0]["parameters"].get("type").is_some(), typed, "{v}");
    }
}

/// `none` to a model that does not reason (its quirks drop the effort): no `reasoning` at all,
/// which such a model refuses; to one that reasons, as it came.
#[test]
fn an_effort_of_none_asks_nothing_of_a_model_that_does_not_reason() {
    let plain = Native {
        quirks: crate::catalog::Quirks {
            drops: crate::catalog::DROPS_EFFORT_NONE,
            ..crate::catalog::Quirks::NONE
        },
        ..TO
    };
    for extra in [r#","reasoning_effort":"none""#, r#","reasoning":{"effort":"none","summary":"auto"}"#] {
        let sent: Value = serde_json::from_slice(&translate(&body(extra), &plain).unwrap()).unwrap();
        assert!(sent.get("reasoning").is_none(), "{sent}");
        assert_eq!(out(&body(extra))["reasoning"]["effort"], "none");
    }
}
