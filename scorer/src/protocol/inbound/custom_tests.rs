//! Custom tools (the Codex CLI's `apply_patch`, its input free-form text in a Lark grammar)
//! round trip: declared as a function of one `input` string, called back as a
//! `custom_tool_call` whole and streamed, and sent back as the function's call and output.

use serde_json::{Value, json};

use super::answer::to_response;
use super::events::Events;
use super::request::to_chat;

const GRAMMAR: &str = "start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF";
const PATCH: &str = "*** Begin Patch\n*** Add File: a.txt\n+hi \"there\"\n*** End Patch";

fn request(input: Value, choice: Value) -> Value {
    json!({"model": "auto", "input": input, "tool_choice": choice, "tools": [
        {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {}}},
        {"type": "custom", "name": "apply_patch", "description": "Edit files.",
         "format": {"type": "grammar", "syntax": "lark", "definition": GRAMMAR}}]})
}

fn completion(arguments: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "apply_patch", "arguments": arguments}}]}}]})
}

#[test]
fn a_custom_tool_is_a_function_of_one_string_and_its_call_comes_back_custom() {
    let chat = to_chat(
        request(json!("patch it"), json!({"type": "custom", "name": "apply_patch"})).to_string().as_bytes(),
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let body: Value = serde_json::from_slice(&chat.body).unwrap_or_default();
    let f = &body["tools"][1]["function"];
    assert_eq!(f["name"], "apply_patch", "{body}");
    assert_eq!(f["parameters"]["required"], json!(["input"]), "{body}");
    assert_eq!(f["parameters"]["properties"]["input"]["type"], "string", "{body}");
    let about = f["description"].as_str().unwrap_or_default();
    assert!(about.starts_with("Edit files.\n\n") && about.ends_with(GRAMMAR), "{about}");
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "apply_patch"}}),
        "{body}"
    );
    assert_eq!(body["tools"][0]["function"]["name"], "exec_command");

    // Whole: the call is a custom_tool_call with the input the model wrote.
    let arguments = json!({"input": PATCH}).to_string();
    let whole = to_response(completion(&arguments).to_string().as_bytes(), &chat.echo).unwrap_or_default();
    let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
    let item = &whole["output"][0];
    assert_eq!(
        (&item["type"], &item["name"], &item["call_id"]),
        (&json!("custom_tool_call"), &json!("apply_patch"), &json!("call_1"))
    );
    assert_eq!(item["input"], PATCH, "{whole}");
    assert!(item.get("arguments").is_none(), "{whole}");

    // Streamed in pieces: the input is told whole as the call ends, never as arguments.
    let mid = arguments.len() / 2;
    let pieces = [&arguments[..mid], &arguments[mid..]];
    let mut sse = String::new();
    for (n, piece) in pieces.iter().enumerate() {
        let mut call = json!({"index": 0, "function": {"arguments": piece}});
        if n == 0 {
            call = json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": "apply_patch", "arguments": piece}});
        }
        let chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]});
        sse.push_str(&format!("data: {chunk}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    let out = Events::new(chat.echo.clone(), "chatcmpl-1").feed(sse.as_bytes(), true);
    let events: Vec<Value> = String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(!kinds.iter().any(|k| k.starts_with("response.function_call")), "{kinds:?}");
    let said = |t: &str| events.iter().find(|e| e["type"] == t).cloned().unwrap_or_default();
    assert_eq!(said("response.output_item.added")["item"]["type"], "custom_tool_call", "{kinds:?}");
    assert_eq!(said("response.custom_tool_call_input.delta")["delta"], PATCH, "{kinds:?}");
    assert_eq!(said("response.custom_tool_call_input.done")["input"], PATCH, "{kinds:?}");
    assert_eq!(said("response.output_item.done")["item"], *item, "{kinds:?}");
    assert_eq!(said("response.completed")["response"]["output"][0], *item, "{kinds:?}");

    // A model that adds members beside `input`, or sends the input as a JSON string: the input.
    // Arguments of another shape reach the client as the model wrote them.
    let extra = json!({"input": PATCH, "reason": "x"}).to_string();
    for (arguments, want) in [
        (extra.as_str(), PATCH.to_string()),
        (&json!(PATCH).to_string(), PATCH.to_string()),
        ("not json", "not json".to_string()),
        ("{}", "{}".to_string()),
    ] {
        let odd = to_response(completion(arguments).to_string().as_bytes(), &chat.echo).unwrap_or_default();
        let odd: Value = serde_json::from_slice(&odd).unwrap_or_default();
        assert_eq!(odd["output"][0]["input"], want, "{arguments}: {odd}");
    }
}

#[test]
fn a_custom_tool_call_sent_back_is_the_functions_call_and_output() {
    let input = json!([
        {"role": "user", "content": "patch it"},
        {"type": "custom_tool_call", "id": "ctc_1", "status": "completed", "call_id": "call_1", "name": "apply_patch", "input": PATCH},
        {"type": "custom_tool_call_output", "call_id": "call_1", "output": "Done!"}]);
    let chat =
        to_chat(request(input, json!("auto")).to_string().as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let body: Value = serde_json::from_slice(&chat.body).unwrap_or_default();
    let call = &body["messages"][1]["tool_calls"][0];
    assert_eq!((&call["id"], &call["function"]["name"]), (&json!("call_1"), &json!("apply_patch")), "{body}");
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap_or_default()).unwrap_or_default();
    assert_eq!(arguments, json!({"input": PATCH}), "{body}");
    assert_eq!(
        body["messages"][2],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "Done!"}),
        "{body}"
    );
}

/// Calls with empty ids (Gemini's, through some proxies) kept them in a whole answer: the
/// client's next turn was the router's own 400 ("'input[1].call_id' is required"). Each gets
/// an id, distinct, as the streamed answer's do.
#[test]
fn whole_calls_with_empty_ids_get_ids() {
    let call =
        |name: &str| json!({"id": "", "type": "function", "function": {"name": name, "arguments": "{}"}});
    let completion = json!({"id": "chatcmpl-x", "object": "chat.completion", "created": 7, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [call("a"), call("b")]}, "finish_reason": "tool_calls"}]});
    let echo = to_chat(br#"{"model":"m","input":"hi"}"#, &[]).map(|c| c.echo).unwrap_or_default();
    let whole = to_response(completion.to_string().as_bytes(), &echo).unwrap_or_default();
    let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
    let ids: Vec<&str> = whole["output"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["type"] == "function_call")
        .filter_map(|o| o["call_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{whole}");
    assert!(ids.iter().all(|id| !id.is_empty()) && ids[0] != ids[1], "{ids:?}");
}
