use serde_json::{Value, json};

use super::*;

/// A model that takes a forced tool choice (the open-weight ones do not: `choice_tests`).
pub(super) const TO: Native<'static> = Native {
    model: "us.amazon.nova-pro-v1:0",
    upstream_model: "us.amazon.nova-pro-v1:0",
    max_output: 8000,
    quirks: crate::catalog::Quirks::NONE,
};

pub(super) fn ok(body: Value) -> Value {
    let out = translate(body.to_string().as_bytes(), &TO).unwrap_or_else(|e| panic!("{body}: {e}"));
    serde_json::from_slice(&out).unwrap_or_default()
}

pub(super) fn user(text: &str) -> Value {
    json!({ "role": "user", "content": text })
}

#[test]
fn path_percent_encodes_the_model_id() {
    let cases = [
        ("", "deepseek.v3.2", false, "/model/deepseek.v3.2/converse"),
        ("", "deepseek.v3.2", true, "/model/deepseek.v3.2/converse-stream"),
        (
            "/v1",
            "us.meta.llama4-scout-17b-instruct-v1:0",
            false,
            "/v1/model/us.meta.llama4-scout-17b-instruct-v1%3A0/converse",
        ),
        (
            "",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x y",
            true,
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fx%20y/converse-stream",
        ),
        ("", "a~b_c", false, "/model/a~b_c/converse"),
    ];
    for (base, id, stream, want) in cases {
        assert_eq!(path(base, id, stream), want);
    }
}

#[test]
fn each_refusal_names_its_field() {
    let img = |url: &str| json!({"messages": [user("hi"), {"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": url}}]}]});
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("not an object", json!([1]), "invalid_json", ""),
        ("no messages", json!({"model": "x"}), "missing_required_parameter", "messages"),
        ("messages not a list", json!({"messages": "hi"}), "invalid_type", "messages"),
        (
            "only system",
            json!({"messages": [{"role": "system", "content": "s"}]}),
            "invalid_value",
            "messages",
        ),
        ("only empty user", json!({"messages": [user("")]}), "invalid_value", "messages"),
        (
            "assistant first",
            json!({"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}, user("u")]}),
            "invalid_value",
            "messages[1]",
        ),
        (
            "no role",
            json!({"messages": [{"content": "x"}]}),
            "missing_required_parameter",
            "messages[0].role",
        ),
        (
            "function role",
            json!({"messages": [user("u"), {"role": "function", "name": "f", "content": "x"}]}),
            "unsupported_value",
            "messages[1].role",
        ),
        (
            "user null content",
            json!({"messages": [{"role": "user", "content": null}]}),
            "missing_required_parameter",
            "messages[0].content",
        ),
        (
            "user number content",
            json!({"messages": [{"role": "user", "content": 3}]}),
            "invalid_type",
            "messages[0].content",
        ),
        (
            "remote image",
            img("https://example.com/cat.png"),
            "invalid_value",
            "messages[1].content[1].image_url.url",
        ),
        (
            "image not base64",
            img("data:image/png,abc"),
            "invalid_value",
            "messages[1].content[1].image_url.url",
        ),
        (
            "image svg",
            img("data:image/svg+xml;base64,PHN2Zz4="),
            "invalid_value",
            "messages[1].content[1].image_url.url",
        ),
        (
            "image empty",
            img("data:image/png;base64,"),
            "invalid_value",
            "messages[1].content[1].image_url.url",
        ),
        (
            "image no url",
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}),
            "missing_required_parameter",
            "messages[0].content[0].image_url.url",
        ),
        (
            "audio part",
            json!({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}),
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            "text part without text",
            json!({"messages": [{"role": "user", "content": [{"type": "text"}]}]}),
            "missing_required_parameter",
            "messages[0].content[0].text",
        ),
        (
            "image in system",
            json!({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}, user("u")]}),
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            "arguments a number",
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": 1}}]}]}),
            "invalid_type",
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            "call without id",
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
            "missing_required_parameter",
            "messages[1].tool_calls[0].id",
        ),
        (
            "call without name",
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}]}),
            "missing_required_parameter",
            "messages[1].tool_calls[0].function.name",
        ),
        (
            "tool_calls not a list",
            json!({"messages": [user("u"), {"role": "assistant", "tool_calls": {}}]}),
            "invalid_type",
            "messages[1].tool_calls",
        ),
        (
            "assistant function_call",
            json!({"messages": [user("u"), {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}}]}),
            "unsupported_parameter",
            "messages[1].function_call",
        ),
        (
            "tool without id",
            json!({"messages": [user("u"), {"role": "tool", "content": "r"}]}),
            "missing_required_parameter",
            "messages[1].tool_call_id",
        ),
        ("n = 2", json!({"messages": [user("u")], "n": 2}), "unsupported_parameter", "n"),
        ("logprobs", json!({"messages": [user("u")], "logprobs": true}), "unsupported_parameter", "logprobs"),
        (
            "top_logprobs",
            json!({"messages": [user("u")], "top_logprobs": 2}),
            "unsupported_parameter",
            "top_logprobs",
        ),
        (
            "logit_bias",
            json!({"messages": [user("u")], "logit_bias": {"50256": -100}}),
            "unsupported_parameter",
            "logit_bias",
        ),
        (
            "audio",
            json!({"messages": [user("u")], "audio": {"voice": "alloy", "format": "mp3"}}),
            "unsupported_parameter",
            "audio",
        ),
        (
            "modalities audio",
            json!({"messages": [user("u")], "modalities": ["text", "audio"]}),
            "unsupported_parameter",
            "modalities",
        ),
        (
            "functions",
            json!({"messages": [user("u")], "functions": [{"name": "f"}]}),
            "unsupported_parameter",
            "functions",
        ),
        (
            "function_call",
            json!({"messages": [user("u")], "function_call": "auto"}),
            "unsupported_parameter",
            "function_call",
        ),
        (
            "web search",
            json!({"messages": [user("u")], "web_search_options": {}}),
            "unsupported_parameter",
            "web_search_options",
        ),
        ("max_tokens zero", json!({"messages": [user("u")], "max_tokens": 0}), "invalid_value", "max_tokens"),
        (
            "max_completion_tokens text",
            json!({"messages": [user("u")], "max_completion_tokens": "9"}),
            "invalid_value",
            "max_completion_tokens",
        ),
        (
            "temperature negative",
            json!({"messages": [user("u")], "temperature": -0.1}),
            "invalid_value",
            "temperature",
        ),
        (
            "temperature above 2",
            json!({"messages": [user("u")], "temperature": 2.5}),
            "invalid_value",
            "temperature",
        ),
        ("top_p above 1", json!({"messages": [user("u")], "top_p": 1.5}), "invalid_value", "top_p"),
        ("stop number", json!({"messages": [user("u")], "stop": 5}), "invalid_type", "stop"),
        (
            "stop list of numbers",
            json!({"messages": [user("u")], "stop": ["a", 5]}),
            "invalid_type",
            "stop[1]",
        ),
        ("tools not a list", json!({"messages": [user("u")], "tools": {}}), "invalid_type", "tools"),
        (
            "custom tool",
            json!({"messages": [user("u")], "tools": [{"type": "custom", "custom": {"name": "g"}}]}),
            "unsupported_value",
            "tools[0].type",
        ),
        (
            "tool without name",
            json!({"messages": [user("u")], "tools": [{"type": "function", "function": {}}]}),
            "missing_required_parameter",
            "tools[0].function.name",
        ),
        (
            "tool parameters a list",
            json!({"messages": [user("u")], "tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}),
            "invalid_type",
            "tools[0].function.parameters",
        ),
        (
            "tool_choice unknown",
            json!({"messages": [user("u")], "tools": tools, "tool_choice": "any"}),
            "invalid_value",
            "tool_choice",
        ),
        (
            "tool_choice number",
            json!({"messages": [user("u")], "tools": tools, "tool_choice": 1}),
            "invalid_type",
            "tool_choice",
        ),
        (
            "required without tools",
            json!({"messages": [user("u")], "tool_choice": "required"}),
            "invalid_value",
            "tool_choice",
        ),
        (
            "named without tools",
            json!({"messages": [user("u")], "tool_choice": {"type": "function", "function": {"name": "f"}}}),
            "invalid_value",
            "tool_choice",
        ),
        (
            "named not in tools",
            json!({"messages": [user("u")], "tools": tools, "tool_choice": {"type": "function", "function": {"name": "g"}}}),
            "invalid_value",
            "tool_choice.function.name",
        ),
        (
            "named without name",
            json!({"messages": [user("u")], "tools": tools, "tool_choice": {"type": "function", "function": {}}}),
            "missing_required_parameter",
            "tool_choice.function.name",
        ),
        (
            "allowed_tools",
            json!({"messages": [user("u")], "tools": tools, "tool_choice": {"type": "allowed_tools", "allowed_tools": {}}}),
            "unsupported_value",
            "tool_choice.type",
        ),
        (
            "json_object",
            json!({"messages": [user("u")], "response_format": {"type": "json_object"}}),
            "unsupported_value",
            "response_format.type",
        ),
        (
            "json_schema without schema",
            json!({"messages": [user("u")], "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
            "missing_required_parameter",
            "response_format.json_schema.schema",
        ),
        (
            "json_schema schema a string",
            json!({"messages": [user("u")], "response_format": {"type": "json_schema", "json_schema": {"schema": "{}"}}}),
            "invalid_type",
            "response_format.json_schema.schema",
        ),
    ];
    for (name, body, code, param) in cases {
        let e =
            translate(body.to_string().as_bytes(), &TO).err().unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!((e.status, e.code), (400, code), "{name}: {e}");
        assert_eq!(e.param.as_deref().unwrap_or(""), param, "{name}: {e}");
        assert!(!e.message.is_empty());
    }
}

/// Converse takes at most 20 images in a message, each at most 3.75 MB: a larger one was sent
/// and its 400 relayed, where another candidate of the tier could have answered. Refused
/// before sending; at the limit it passes.
#[test]
fn images_past_conversers_limits_are_refused_before_sending() {
    let image = |bytes: usize| {
        let data = "A".repeat(bytes / 3 * 4);
        json!({"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{data}")}})
    };
    let with = |parts: Vec<Value>| json!({"messages": [{"role": "user", "content": parts}]});
    let code = |body: &Value| {
        translate(body.to_string().as_bytes(), &TO).err().map(|e| (e.code, e.param.unwrap_or_default()))
    };
    let big = super::super::image::MAX_IMAGE_BYTES;
    assert_eq!(code(&with(vec![image(big)])), None);
    assert_eq!(
        code(&with(vec![image(big + 3)])),
        Some(("invalid_value", "messages[0].content[0].image_url.url".into()))
    );
    // Twenty in a turn pass; the twenty-first, even in the next user message of the turn, not.
    assert_eq!(code(&with(vec![image(3); 20])), None);
    let split = json!({"messages": [{"role": "user", "content": vec![image(3); 20]}, {"role": "user", "content": [image(3)]}]});
    assert_eq!(code(&split), Some(("invalid_value", "messages[0]".into())));
}

/// A JPEG labelled PNG went to Converse as `png`: Bedrock's 400 ("The provided image does not
/// match the specified image format"). The bytes' own format is sent.
#[test]
fn an_images_format_is_what_its_bytes_say() {
    let jpeg = crate::parse::base64::encode(b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01");
    for (label, data, want) in [
        ("image/png", jpeg.as_str(), "jpeg"),
        ("image/gif", "AAAA", "gif"),
        ("image/bmp", jpeg.as_str(), "jpeg"),
    ] {
        let part = json!({"type": "image_url", "image_url": {"url": format!("data:{label};base64,{data}")}});
        let v = ok(json!({"messages": [{"role": "user", "content": [part]}]}));
        assert_eq!(v["messages"][0]["content"][0]["image"]["format"], want, "{label}");
    }
}

#[test]
fn turns_merge_and_alternate_with_tool_results_in_a_turn_of_their_own() {
    let body = json!({"messages": [
        user("a"),
        user("b"),
        {"role": "assistant", "content": [{"type": "text", "text": "c"}, {"type": "refusal", "refusal": "no"}],
         "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": " "}}]},
        {"role": "assistant", "content": ""},
        user("d"),
        {"role": "tool", "tool_call_id": "t1", "content": ""},
        {"role": "system", "content": "late system"},
        user("e"),
    ], "tools": [{"type": "function", "function": {"name": "f"}}]});
    let v = ok(body);
    assert_eq!(
        v["messages"],
        json!([
            {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
            {"role": "assistant", "content": [{"text": "c"}, {"text": "no"}, {"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "(no output)"}]}}]},
            {"role": "assistant", "content": [{"text": "Noted."}]},
            {"role": "user", "content": [{"text": "d"}, {"text": "late system"}, {"text": "e"}]},
        ])
    );
    assert!(v.get("system").is_none(), "{v}");
}

/// An earlier refusal, as an OpenAI answer states it (`content: null` beside `refusal`), is
/// what the assistant said, as a refusal part is.
#[test]
fn a_stated_refusal_is_the_assistants_text() {
    let said = |m: Value| ok(json!({"messages": [user("q"), m, user("why?")]}))["messages"][1].clone();
    let refused = json!({"role": "assistant", "content": [{"text": "no"}]});
    assert_eq!(said(json!({"role": "assistant", "content": null, "refusal": "no"})), refused);
    assert_eq!(said(json!({"role": "assistant", "refusal": "no"})), refused);
    let answered = json!({"role": "assistant", "content": [{"text": "yes"}]});
    assert_eq!(said(json!({"role": "assistant", "content": "yes", "refusal": "no"})), answered);
}

#[test]
fn every_field_in_the_table_is_in_the_doc_with_its_treatment() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocols/bedrock.md"))
        .unwrap_or_default();
    for (name, field) in FIELDS {
        let word = match field {
            Field::Translated => "translated",
            Field::Dropped => "dropped",
            Field::Refused => "refused",
        };
        let row = doc.lines().find(|l| l.starts_with(&format!("| `{name}` |")));
        assert!(
            row.is_some_and(|r| r.contains(word)),
            "docs/protocols/bedrock.md: no `{name}` row saying {word}"
        );
    }
}

/// A member named twice inside a message, part or tool call is refused naming it; a text
/// escaped or not translates alike.
#[test]
fn duplicates_are_refused_and_escapes_read_alike() {
    let raw = |m: &str| format!(r#"{{"messages":[{{"role":"user","content":"q"}},{m}]}}"#);
    for (body, param) in [
        (raw(r#"{"role":"user","role":"assistant","content":"a"}"#), "messages[1].role"),
        (
            raw(r#"{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}"#),
            "messages[1].content[0].text",
        ),
        (
            raw(
                r#"{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}","arguments":"{}"}}]}"#,
            ),
            "messages[1].tool_calls[0].function.arguments",
        ),
    ] {
        let e = translate(body.as_bytes(), &TO).err();
        assert_eq!(e.map(|e| (e.code, e.param)), Some(("duplicate_key", Some(param.to_string()))), "{body}");
    }
    let plain = r#"{"messages":[{"role":"user","content":"a/b ä \"q\""}]}"#;
    let escaped = r#"{"messages":[{"role":"user","content":"a\/b \u00e4 \"q\""}]}"#;
    let got = translate(plain.as_bytes(), &TO);
    assert!(got.is_ok(), "{got:?}");
    assert_eq!(got, translate(escaped.as_bytes(), &TO));
}

/// Converse takes tool names of 1 to 64 of `[a-zA-Z0-9_-]` (`ToolSpecification.name`): a dotted
/// MCP name, or a longer one, was its 400 with no other candidate tried. Refused by the
/// translation by either path (a tier moves on); 64 letters pass.
#[test]
fn tool_names_converse_refuses_are_refused_here() {
    let tools = |name: &str| json!({"messages": [user("q")], "tools": [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}]});
    for name in ["github.create_issue", "ns:tool", &"x".repeat(65)] {
        let e = translate(tools(name).to_string().as_bytes(), &TO).err().map(|e| (e.code, e.param));
        assert_eq!(e, Some(("invalid_value", Some("tools[0].function.name".into()))), "{name}");
    }
    let long = "x".repeat(64);
    for name in ["get_weather", long.as_str()] {
        assert_eq!(ok(tools(name))["toolConfig"]["tools"][0]["toolSpec"]["name"], name);
    }
    // A call in the history under such a name (another provider's tool) is refused too.
    let mut body = tools("get_weather");
    body["messages"] = json!([user("q"), {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "x".repeat(65), "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c", "content": "r"}]);
    let e = translate(body.to_string().as_bytes(), &TO).err().map(|e| (e.code, e.param));
    assert_eq!(e, Some(("invalid_value", Some("messages[1].tool_calls[0].function.name".into()))));
}
