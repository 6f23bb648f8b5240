use serde_json::{Value, json};

use super::*;

/// The chat body of a Responses body, as a JSON value (key order aside).
pub(super) fn chat(body: &str) -> Value {
    let bytes = to_chat(body.as_bytes(), &[]).map(|c| c.body).unwrap_or_else(|e| panic!("{e}: {body}"));
    serde_json::from_slice(&bytes).unwrap()
}

pub(super) fn refused(body: &str) -> ApiError {
    match to_chat(body.as_bytes(), &[]).map(|c| c.body) {
        Ok(v) => panic!("accepted {body}: {}", String::from_utf8_lossy(&v)),
        Err(e) => e,
    }
}

/// A body with a string input plus `extra` top-level members.
pub(super) fn with(extra: &str) -> String {
    format!(r#"{{"model":"auto","input":"hi"{extra}}}"#)
}

/// A body whose input is the items `items` (a JSON array's inside).
pub(super) fn items(items: &str) -> String {
    format!(r#"{{"model":"auto","input":[{items}]}}"#)
}

#[test]
fn a_string_input_is_one_user_message() {
    assert_eq!(chat(&with("")), json!({"model": "auto", "messages": [{"role": "user", "content": "hi"}]}));
}

#[test]
fn instructions_lead_as_a_system_message() {
    let cases = [
        (
            r#","instructions":"be brief""#,
            json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]),
        ),
        (r#","instructions":"""#, json!([{"role": "user", "content": "hi"}])),
        (r#","instructions":null"#, json!([{"role": "user", "content": "hi"}])),
    ];
    for (extra, want) in cases {
        assert_eq!(chat(&with(extra))["messages"], want, "{extra}");
    }
    // Leading even when it comes after the input.
    let v = chat(r#"{"input":[{"role":"user","content":"q"}],"instructions":"sys","model":"m"}"#);
    assert_eq!(v["messages"][0], json!({"role": "system", "content": "sys"}));
}

/// A Codex CLI turn: developer and user messages, reasoning items (dropped), a commentary
/// message and two parallel calls (one assistant message), their outputs, the final answer
/// and the next user message; function tools, streaming, and the Codex option members.
#[test]
fn a_codex_agent_turn_becomes_one_chat_conversation() {
    let body = r#"{
      "model": "auto",
      "instructions": "You are Codex.",
      "input": [
        {"type":"message","role":"developer","content":[{"type":"input_text","text":"<permissions>"}]},
        {"type":"message","role":"user","content":[{"type":"input_text","text":"fix the test"}]},
        {"type":"reasoning","summary":[{"type":"summary_text","text":"Looking"}],"content":null,"encrypted_content":"gAAAA"},
        {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Reading both."}],"phase":"commentary"},
        {"type":"reasoning","summary":[],"encrypted_content":"gAAAB"},
        {"type":"function_call","name":"shell","arguments":"{\"cmd\":\"cat a\"}","call_id":"call_1"},
        {"type":"function_call","id":"fc_2","status":"completed","name":"shell","arguments":"{\"cmd\":\"cat b\"}","call_id":"call_2"},
        {"type":"function_call_output","call_id":"call_1","output":"fn a() {}"},
        {"type":"function_call_output","call_id":"call_2","output":[{"type":"input_text","text":"fn b() {}"}]},
        {"type":"message","role":"assistant","id":"msg_1","status":"completed","content":[{"type":"output_text","text":"Both are empty.","annotations":[]}]},
        {"type":"message","role":"user","content":[{"type":"input_text","text":"now run it"}]}
      ],
      "tools": [{"type":"function","name":"shell","description":"Runs a command","strict":false,
                 "parameters":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}}],
      "tool_choice": "auto",
      "parallel_tool_calls": true,
      "reasoning": {"effort":"medium","summary":"auto"},
      "store": false,
      "stream": true,
      "include": ["reasoning.encrypted_content"],
      "prompt_cache_key": "thread-1",
      "text": {"verbosity":"low"},
      "client_metadata": {"traceparent":"00-ab-cd-01"}
    }"#;
    let call = |id: &str, file: &str| {
        let arguments = format!(r#"{{"cmd":"cat {file}"}}"#);
        json!({"id": id, "type": "function", "function": {"name": "shell", "arguments": arguments}})
    };
    let want = json!({
        "model": "auto",
        "messages": [
            {"role": "system", "content": "You are Codex."},
            {"role": "developer", "content": [{"type": "text", "text": "<permissions>"}]},
            {"role": "user", "content": [{"type": "text", "text": "fix the test"}]},
            {"role": "assistant", "content": "Reading both.", "tool_calls": [call("call_1", "a"), call("call_2", "b")]},
            {"role": "tool", "tool_call_id": "call_1", "content": "fn a() {}"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "fn b() {}"}]},
            {"role": "assistant", "content": "Both are empty."},
            {"role": "user", "content": [{"type": "text", "text": "now run it"}]}
        ],
        "tools": [{"type": "function", "function": {
            "name": "shell", "description": "Runs a command", "strict": false,
            "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}
        }}],
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "reasoning_effort": "medium",
        "stream": true,
        "stream_options": {"include_usage": true},
        "prompt_cache_key": "thread-1",
        "verbosity": "low"
    });
    assert_eq!(chat(body), want);
    // The router's own parser takes it.
    let bytes = to_chat(body.as_bytes(), &[]).unwrap().body;
    let parsed = crate::parse::request::parse_chat(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.stream);
}

#[test]
fn calls_join_the_assistant_message_of_their_turn() {
    let call =
        |id: &str| format!(r#"{{"type":"function_call","call_id":"{id}","name":"f","arguments":"{{}}"}}"#);
    let output = |id: &str| format!(r#"{{"type":"function_call_output","call_id":"{id}","output":"ok"}}"#);
    let said = |t: &str| format!(r#"{{"role":"assistant","content":"{t}"}}"#);
    let user = r#"{"role":"user","content":"go"}"#;
    let calls = |ids: &[&str]| {
        let call = |id| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}});
        Value::Array(ids.iter().map(call).collect())
    };
    let tool = |id: &str| json!({"role": "tool", "tool_call_id": id, "content": "ok"});
    let cases = [
        // Calls alone: an assistant message without words.
        (
            vec![user.to_string(), call("a"), call("b"), output("a"), output("b")],
            json!([{"role": "user", "content": "go"}, {"role": "assistant", "content": null, "tool_calls": calls(&["a", "b"])}, tool("a"), tool("b")]),
        ),
        // Words after calls not yet answered join them, a blank line apart.
        (
            vec![said("x"), call("a"), said("y"), output("a")],
            json!([{"role": "assistant", "content": "x\n\ny", "tool_calls": calls(&["a"])}, tool("a")]),
        ),
        // A result ends the turn: the next call opens another message.
        (
            vec![call("a"), output("a"), call("b"), output("b")],
            json!([{"role": "assistant", "content": null, "tool_calls": calls(&["a"])}, tool("a"),
                   {"role": "assistant", "content": null, "tool_calls": calls(&["b"])}, tool("b")]),
        ),
        // Two assistant messages without calls stay two.
        (
            vec![said("x"), said("y")],
            json!([{"role": "assistant", "content": "x"}, {"role": "assistant", "content": "y"}]),
        ),
    ];
    for (list, want) in cases {
        let body = items(&list.join(","));
        assert_eq!(chat(&body)["messages"], want, "{body}");
    }
}

#[test]
fn content_parts_become_chat_parts() {
    let cases = [
        (
            r#"{"role":"user","content":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"https://x/a.png","detail":"low"}]}"#,
            json!({"role": "user", "content": [{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}}]}),
        ),
        (
            r#"{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":null}]}"#,
            json!({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}),
        ),
        (
            r#"{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}]}"#,
            json!({"role": "user", "content": [{"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBE"}}]}),
        ),
        (r#"{"role":"system","content":"s"}"#, json!({"role": "system", "content": "s"})),
        // An assistant's parts as one string: texts and refusals joined.
        (
            r#"{"role":"assistant","content":[{"type":"output_text","text":"a"},{"type":"refusal","refusal":"b"}]}"#,
            json!({"role": "assistant", "content": "ab"}),
        ),
        // (An image a tool returned: `images_a_tool_returned_follow_…` below.)
        (
            r#"{"type":"function_call_output","call_id":"c","output":[]}"#,
            json!({"role": "tool", "tool_call_id": "c", "content": ""}),
        ),
    ];
    for (item, want) in cases {
        assert_eq!(chat(&items(item))["messages"], json!([want]), "{item}");
    }
}

#[test]
fn top_level_members_map_as_the_table_says() {
    // (extra members, pointer into the chat body, expected; null = absent)
    let cases: [(&str, &str, Value); 31] = [
        (r#","max_output_tokens":500"#, "/max_completion_tokens", json!(500)),
        (r#","max_output_tokens":5e2"#, "/max_completion_tokens", json!(500)),
        (r#","max_output_tokens":null"#, "/max_completion_tokens", Value::Null),
        (r#","max_output_tokens":500"#, "/max_output_tokens", Value::Null),
        (r#","stream":true"#, "/stream_options", json!({"include_usage": true})),
        (r#","stream":false"#, "/stream", Value::Null),
        (r#","stream":false"#, "/stream_options", Value::Null),
        (
            r#","stream":true,"stream_options":{"include_obfuscation":false}"#,
            "/stream_options",
            json!({"include_usage": true}),
        ),
        (r#","reasoning":{"effort":"high","summary":"detailed"}"#, "/reasoning_effort", json!("high")),
        (r#","reasoning":{"effort":"high"}"#, "/reasoning", Value::Null),
        (r#","reasoning":{"effort":null,"summary":"auto"}"#, "/reasoning_effort", Value::Null),
        (r#","reasoning":null"#, "/reasoning_effort", Value::Null),
        (r#","text":{"format":{"type":"text"}}"#, "/response_format", Value::Null),
        (r#","text":{"format":{"type":"json_object"}}"#, "/response_format", json!({"type": "json_object"})),
        (
            r#","text":{"format":{"type":"json_schema","name":"r","schema":{"type":"object"},"strict":true,"description":"d"}}"#,
            "/response_format",
            json!({"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": true, "description": "d"}}),
        ),
        (r#","text":{"verbosity":"high"}"#, "/verbosity", json!("high")),
        (r#","tool_choice":"required""#, "/tool_choice", json!("required")),
        (
            r#","tool_choice":{"type":"function","name":"f"}"#,
            "/tool_choice",
            json!({"type": "function", "function": {"name": "f"}}),
        ),
        (
            r#","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"}]}"#,
            "/tool_choice",
            json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "f"}}]}}),
        ),
        (r#","tools":[]"#, "/tools", Value::Null),
        (
            r#","tools":[{"type":"function","name":"f","parameters":null}]"#,
            "/tools",
            json!([{"type": "function", "function": {"name": "f"}}]),
        ),
        (r#","top_logprobs":3"#, "/top_logprobs", json!(3)),
        (r#","top_logprobs":3"#, "/logprobs", json!(true)),
        (r#","top_logprobs":0"#, "/logprobs", Value::Null),
        (r#","include":["message.output_text.logprobs"]"#, "/logprobs", json!(true)),
        (r#","temperature":0.2,"top_p":0.9"#, "/temperature", json!(0.2)),
        (r#","temperature":null"#, "/temperature", Value::Null),
        (
            r#","user":"u","service_tier":"flex","safety_identifier":"s","prompt_cache_retention":"24h""#,
            "/prompt_cache_retention",
            json!("24h"),
        ),
        (r#","store":true,"truncation":"auto","background":false,"max_tool_calls":3"#, "/store", Value::Null),
        (r#","metadata":{"k":"v"},"client_metadata":{"k":"v"}"#, "/metadata", Value::Null),
        (
            r#","previous_response_id":null,"conversation":null,"prompt":null"#,
            "/previous_response_id",
            Value::Null,
        ),
    ];
    for (extra, pointer, want) in cases {
        let v = chat(&with(extra));
        assert_eq!(v.pointer(pointer).cloned().unwrap_or(Value::Null), want, "{extra} at {pointer}: {v}");
    }
}

#[test]
fn router_members_pass_through_unchanged() {
    let router =
        json!({"prefer": "cheap", "tier": "economy", "provider": {"only": ["openai"]}, "max_price": null});
    let v = chat(&with(&format!(",{}", router.to_string().trim_matches(['{', '}']))));
    for (k, want) in router.as_object().unwrap() {
        assert_eq!(&v[k], want, "{k}: {v}");
    }
    assert!(v.as_object().unwrap().contains_key("max_price"), "{v}");
}

#[test]
fn a_schema_keeps_the_clients_member_order() {
    let schema =
        r#"{"type":"object","properties":{"reasoning":{"type":"string"},"answer":{"type":"string"}}}"#;
    let body =
        with(&format!(r#","text":{{"format":{{"type":"json_schema","name":"r","schema":{schema}}}}}"#));
    let out = String::from_utf8(to_chat(body.as_bytes(), &[]).unwrap().body).unwrap();
    assert!(out.contains(schema), "{out}");
    assert!(out.starts_with(r#"{"model":"auto","messages":"#), "{out}");
}

/// An AI SDK `openai(id)` turn with `store: false`: a system message as a string, an image as
/// a data URL, a reasoning item with its id and encrypted content (dropped), a call with its
/// item id, its output, the answer with its item id, and the SDK's option members.
#[test]
fn an_ai_sdk_turn_becomes_one_chat_conversation() {
    let body = r#"{
      "model": "auto",
      "input": [
        {"role":"system","content":"You are helpful."},
        {"role":"user","content":[{"type":"input_text","text":"Weather here?"},{"type":"input_image","image_url":"data:image/png;base64,iVBO"}]},
        {"type":"reasoning","id":"rs_1","encrypted_content":"enc","summary":[{"type":"summary_text","text":"Paris."}]},
        {"type":"function_call","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Paris\"}","id":"fc_1"},
        {"type":"function_call_output","call_id":"call_1","output":"{\"temp\":20}"},
        {"role":"assistant","content":[{"type":"output_text","text":"It is 20°C."}],"id":"msg_1"},
        {"role":"user","content":[{"type":"input_text","text":"thanks"}]}
      ],
      "temperature": 0.3,
      "max_output_tokens": 1024,
      "store": false,
      "include": ["reasoning.encrypted_content"],
      "reasoning": {"effort":"low","summary":"auto"},
      "tools": [{"type":"function","name":"weather","description":"Get weather","strict":false,
                 "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
      "tool_choice": "auto"
    }"#;
    let call = json!({"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}});
    let want = json!({
        "model": "auto",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [
                {"type": "text", "text": "Weather here?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":20}"},
            {"role": "assistant", "content": "It is 20°C."},
            {"role": "user", "content": [{"type": "text", "text": "thanks"}]}
        ],
        "temperature": 0.3,
        "max_completion_tokens": 1024,
        "reasoning_effort": "low",
        "tools": [{"type": "function", "function": {
            "name": "weather", "description": "Get weather", "strict": false,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }}],
        "tool_choice": "auto"
    });
    assert_eq!(chat(body), want);
    let bytes = to_chat(body.as_bytes(), &[]).unwrap().body;
    assert!(crate::parse::request::parse_chat(&bytes).is_ok_and(|r| !r.stream));
}

#[test]
fn images_a_tool_returned_follow_the_turns_tool_messages_as_a_user_message() {
    let img = |u: &str| json!({"type": "input_image", "image_url": u, "detail": "original"});
    let body = json!({"model": "m", "input": [
        {"role": "user", "content": "look"},
        {"type": "function_call", "call_id": "c1", "name": "view", "arguments": "{}"},
        {"type": "function_call", "call_id": "c2", "name": "view", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": [{"type": "input_text", "text": "one"}, img("data:a")]},
        {"type": "function_call_output", "call_id": "c2", "output": [img("data:b")]},
        {"id": "rs_1"},
        {"role": "user", "content": "and?"},
    ]});
    let out: Value = serde_json::from_slice(
        &to_chat(body.to_string().as_bytes(), &[]).map(|c| c.body).unwrap_or_default(),
    )
    .unwrap_or_default();
    let roles: Vec<&Value> = out["messages"].as_array().into_iter().flatten().map(|m| &m["role"]).collect();
    assert_eq!(
        roles,
        [&json!("user"), &json!("assistant"), &json!("tool"), &json!("tool"), &json!("user"), &json!("user")],
        "{out}"
    );
    assert_eq!(out["messages"][2]["content"][0], json!({"type": "text", "text": "one"}));
    let note = "\n(what this call returned besides text follows the tool results, under c2)";
    assert_eq!(out["messages"][3]["content"], json!([{"type": "text", "text": note}]));
    let images = &out["messages"][4]["content"];
    let texts: Vec<&Value> = images.as_array().into_iter().flatten().map(|p| &p["text"]).collect();
    assert_eq!(
        texts,
        [&json!("c1 returned:"), &Value::Null, &json!("c2 returned:"), &Value::Null],
        "{images}"
    );
    assert_eq!(
        (&images[1]["image_url"]["url"], &images[3]["image_url"]["url"]),
        (&json!("data:a"), &json!("data:b"))
    );
    // Full resolution is chat's high.
    assert_eq!(images[1]["image_url"]["detail"], json!("high"));
}
