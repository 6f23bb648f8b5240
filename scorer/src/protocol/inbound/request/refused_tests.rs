//! Every 400 the translation answers, with its code and the Responses path it names.

use serde_json::json;

use super::tests::{chat, items, refused, with};
use super::to_chat;

#[test]
fn members_that_ask_what_the_router_cannot_give_are_refused_with_their_name() {
    // (extra members, code, param)
    let cases = [
        (r#","previous_response_id":"resp_1""#, "unsupported_parameter", "previous_response_id"),
        (r#","conversation":"conv_1""#, "unsupported_parameter", "conversation"),
        (r#","background":true"#, "unsupported_parameter", "background"),
        (r#","prompt":{"id":"pmpt_1"}"#, "unsupported_parameter", "prompt"),
        (r#","context_management":[{"type":"compaction"}]"#, "unsupported_parameter", "context_management"),
        (r#","top_logprobs":"3""#, "invalid_type", "top_logprobs"),
        (r#","top_logprobs":1.5"#, "invalid_value", "top_logprobs"),
        (r#","max_output_tokens":-1"#, "invalid_value", "max_output_tokens"),
        (r#","stream":"yes""#, "invalid_type", "stream"),
        (r#","tools":{}"#, "invalid_type", "tools"),
        (r#","tools":[{"type":"web_search"}]"#, "unsupported_value", "tools[0].type"),
        (
            r#","tools":[{"type":"function","name":"f"},{"type":"custom","name":"apply_patch","format":{"type":"json"}}]"#,
            "unsupported_value",
            "tools[1].format.type",
        ),
        (
            r#","tools":[{"type":"custom","name":"p","format":{"type":"grammar","syntax":"peg","definition":"x"}}]"#,
            "unsupported_value",
            "tools[0].format.syntax",
        ),
        (r#","tools":[{"type":"custom","name":"p","strict":true}]"#, "unknown_parameter", "tools[0].strict"),
        (r#","tools":[{"type":"tool_search","execution":"client"}]"#, "unsupported_value", "tools[0].type"),
        (r#","tools":[{"type":"function"}]"#, "missing_required_parameter", "tools[0].name"),
        (r#","tools":[{"type":"function","name":"look up"}]"#, "invalid_value", "tools[0].name"),
        (
            r#","tools":[{"type":"function","name":"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"}]"#,
            "invalid_value",
            "tools[0].name",
        ),
        (
            r#","tools":[{"type":"function","name":"f","parameters":"{}"}]"#,
            "invalid_type",
            "tools[0].parameters",
        ),
        (
            r#","tools":[{"type":"function","name":"f","defer_loading":true}]"#,
            "unsupported_parameter",
            "tools[0].defer_loading",
        ),
        (r#","tools":[{"type":"function","name":"f","cache":1}]"#, "unknown_parameter", "tools[0].cache"),
        (r#","tools":[{"name":"f"}]"#, "missing_required_parameter", "tools[0].type"),
        (r#","tool_choice":{"type":"web_search_preview"}"#, "unsupported_value", "tool_choice.type"),
        (r#","tool_choice":"any""#, "invalid_value", "tool_choice"),
        (
            r#","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"mcp"}]}"#,
            "unsupported_value",
            "tool_choice.tools[0].type",
        ),
        (
            r#","text":{"format":{"type":"json_schema","schema":{}}}"#,
            "missing_required_parameter",
            "text.format.name",
        ),
        (
            r#","text":{"format":{"type":"json_schema","name":"r"}}"#,
            "missing_required_parameter",
            "text.format.schema",
        ),
        (r#","text":{"format":{"type":"grammar"}}"#, "invalid_value", "text.format.type"),
        (r#","text":{"color":"red"}"#, "unknown_parameter", "text.color"),
        (r#","reasoning":{"effort":1}"#, "invalid_type", "reasoning.effort"),
        (r#","reasoning":{"max_tokens":100}"#, "unknown_parameter", "reasoning.max_tokens"),
        (r#","reasoning":{"summary":"bogus"}"#, "invalid_value", "reasoning.summary"),
        (r#","reasoning":{"generate_summary":true}"#, "invalid_type", "reasoning.generate_summary"),
        (r#","include":"all""#, "invalid_type", "include"),
        (r#","messages":[]"#, "unknown_parameter", "messages"),
        (r#","frequency_penalty":0"#, "unknown_parameter", "frequency_penalty"),
    ];
    for (extra, code, param) in cases {
        let e = refused(&with(extra));
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, Some(param)), "{extra}: {e}");
    }
    assert!(refused(&with(r#","messages":[]"#)).message.contains("input"));
    assert!(refused(&with(r#","previous_response_id":"r""#)).message.contains("stores no responses"));
}

#[test]
fn input_items_the_router_cannot_serve_are_refused_naming_type_and_index() {
    // (items, code, param)
    let cases = [
        (r#"{"type":"item_reference","id":"msg_1"}"#, "unsupported_value", "input[0].type"),
        (
            r#"{"role":"user","content":"a"},{"type":"web_search_call","id":"ws_1","status":"completed"}"#,
            "unsupported_value",
            "input[1].type",
        ),
        (r#"{"type":"local_shell_call","call_id":"c","action":{}}"#, "unsupported_value", "input[0].type"),
        (
            r#"{"type":"custom_tool_call","call_id":"c","name":"apply_patch"}"#,
            "missing_required_parameter",
            "input[0].input",
        ),
        (r#"{"type":"compaction","encrypted_content":"x"}"#, "unsupported_value", "input[0].type"),
        (r#"{"role":"tool","content":"x"}"#, "invalid_role", "input[0].role"),
        (r#"{"type":"message","content":"x"}"#, "missing_required_parameter", "input[0].role"),
        (r#"{"role":"user"}"#, "missing_required_parameter", "input[0].content"),
        (r#"{"role":"user","content":[]}"#, "empty_array", "input[0].content"),
        (r#"{"role":"user","content":{}}"#, "invalid_type", "input[0].content"),
        (r#""hi""#, "invalid_type", "input[0]"),
        (r#"{"content":"x"}"#, "missing_required_parameter", "input[0].type"),
        (r#"{"type":7}"#, "invalid_type", "input[0].type"),
        (
            r#"{"role":"user","content":[{"type":"input_text"}]}"#,
            "missing_required_parameter",
            "input[0].content[0].text",
        ),
        (r#"{"role":"user","content":["a"]}"#, "invalid_type", "input[0].content[0]"),
        (
            r#"{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}"#,
            "unsupported_parameter",
            "input[0].content[0].file_id",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_image"}]}"#,
            "missing_required_parameter",
            "input[0].content[0].image_url",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}"#,
            "unsupported_parameter",
            "input[0].content[0].file_id",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}"#,
            "unsupported_parameter",
            "input[0].content[0].file_url",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}"#,
            "unsupported_value",
            "input[0].content[0].type",
        ),
        (
            r#"{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"video"}]}"#,
            "unsupported_value",
            "input[0].content[1].type",
        ),
        (
            r#"{"role":"assistant","content":[{"type":"input_image","image_url":"https://x"}]}"#,
            "unsupported_value",
            "input[0].content[0].type",
        ),
        (
            r#"{"type":"function_call","name":"f","arguments":"{}"}"#,
            "missing_required_parameter",
            "input[0].call_id",
        ),
        (
            r#"{"type":"function_call","call_id":"c","name":"f","arguments":{}}"#,
            "invalid_type",
            "input[0].arguments",
        ),
        (r#"{"type":"function_call_output","call_id":"c"}"#, "missing_required_parameter", "input[0].output"),
        (
            r#"{"type":"function_call_output","call_id":"c","output":{"content":"x"}}"#,
            "invalid_type",
            "input[0].output",
        ),
        (
            r#"{"type":"function_call_output","call_id":"c","output":[{"type":"input_file","file_id":"f"}]}"#,
            "unsupported_parameter",
            "input[0].output[0].file_id",
        ),
        (r#"{"type":"reasoning","summary":[]}"#, "invalid_value", "input"),
    ];
    for (list, code, param) in cases {
        let e = refused(&items(list));
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, Some(param)), "{list}: {e}");
    }
    // A reference to a reasoning item stands for what is dropped anyway.
    let v = chat(&items(r#"{"type":"item_reference","id":"rs_1"},{"role":"user","content":"q"}"#));
    assert_eq!(v["messages"], json!([{"role": "user", "content": "q"}]));
}

#[test]
fn bodies_that_are_not_responses_requests_are_refused() {
    let cases: [(&str, &str, Option<&str>); 11] = [
        ("", "missing_body", None),
        ("[]", "invalid_body", None),
        ("{", "invalid_json", None),
        (r#"{"model":"auto","input":"hi"} x"#, "invalid_json", None),
        (r#"{"input":"hi"}"#, "missing_required_parameter", Some("model")),
        (r#"{"model":7,"input":"hi"}"#, "invalid_type", Some("model")),
        (r#"{"model":"auto"}"#, "missing_required_parameter", Some("input")),
        (r#"{"model":"auto","input":7}"#, "invalid_type", Some("input")),
        (r#"{"model":"auto","input":[]}"#, "invalid_value", Some("input")),
        (r#"{"model":"auto","input":"hi","instructions":["a"]}"#, "invalid_type", Some("instructions")),
        (r#"{"model":"auto","model":"x","input":"hi"}"#, "duplicate_key", Some("model")),
    ];
    for (body, code, param) in cases {
        let e = refused(body);
        assert_eq!((e.status, e.code, e.param.as_deref()), (400, code, param), "{body}: {e}");
    }
    assert_eq!(to_chat(b"\xff\xfe", &[]).map(|c| c.body).map_err(|e| e.code), Err("invalid_utf8"));
}

#[test]
fn a_member_named_twice_is_refused_where_it_is() {
    let cases = [
        (items(r#"{"role":"user","content":"a","content":"b"}"#), "input[0].content"),
        (
            items(
                r#"{"role":"user","content":"a"},{"role":"user","content":[{"type":"input_text","text":"a","text":"b"}]}"#,
            ),
            "input[1].content[0].text",
        ),
        (
            with(
                r#","text":{"format":{"type":"json_schema","name":"r","schema":{"properties":{"a":1,"a":2}}}}"#,
            ),
            "text.format.schema.properties.a",
        ),
    ];
    for (body, param) in cases {
        let e = refused(&body);
        assert_eq!((e.code, e.param.as_deref()), ("duplicate_key", Some(param)), "{body}: {e}");
    }
}
