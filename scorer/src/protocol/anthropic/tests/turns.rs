//! Table tests of how the conversation becomes Messages' turns and system prompt.

use serde_json::{Value, json};

use super::request::{ask, call, tr, user};

#[test]
fn turns_merge_and_tool_results_come_first() {
    let cases: Vec<(Value, Value)> = vec![
        // Same-role messages merge; empty text leaves no block.
        (
            json!([user("a"), user(""), user("b"), {"role": "assistant", "content": "c"}, {"role": "assistant", "content": ""}]),
            json!([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "c"}]}]),
        ),
        // A user message before the tool results: the results still go first, in order.
        (
            json!([user("q"), call("c1", "{\"x\":1}"), user("note"), {"role": "tool", "tool_call_id": "c1", "content": "r1"}, {"role": "tool", "tool_call_id": "c1", "content": null}]),
            json!([{"role": "user", "content": [{"type": "text", "text": "q"}]},
                   {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": {"x": 1}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "r1"},
                                                {"type": "tool_result", "tool_use_id": "c1"},
                                                {"type": "text", "text": "note"}]}]),
        ),
        // An earlier refusal, as an OpenAI answer states it, is what the assistant said.
        (
            json!([user("q"), {"role": "assistant", "content": null, "refusal": "no"}, user("why?")]),
            json!([{"role": "user", "content": [{"type": "text", "text": "q"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "no"}]},
                   {"role": "user", "content": [{"type": "text", "text": "why?"}]}]),
        ),
    ];
    let tools = json!([{"type": "function", "function": {"name": "f"}}]);
    for (messages, want) in cases {
        let v = tr(&json!({"messages": messages, "tools": tools})).unwrap_or_default();
        assert_eq!(v["messages"], want, "{messages}");
    }
}

/// A request that declares no tools with tool calls in its history (an agent's summary or
/// compaction call): Messages refuses tool blocks without tools ("Requests which include
/// tool_use or tool_result blocks must define tools", a 400), so they are told as text.
#[test]
fn a_tool_history_without_tools_is_told_as_text() {
    let history = json!([user("q"), call("c1", "{\"x\":1}"), {"role": "tool", "tool_call_id": "c1", "content": "r1"}, user("Summarise.")]);
    let told = json!([{"role": "user", "content": [{"type": "text", "text": "q"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "[tool call c1: f {\"x\":1}]"}]},
        {"role": "user", "content": [{"type": "text", "text": "[tool result c1]"}, {"type": "text", "text": "r1"},
            {"type": "text", "text": "[end of tool result c1]"}, {"type": "text", "text": "Summarise."}]}]);
    for extra in [json!({}), json!({"tools": []}), json!({"tools": null, "tool_choice": "none"})] {
        let mut body = extra.clone();
        body["messages"] = history.clone();
        let v = tr(&body).unwrap_or_else(|e| panic!("{extra}: {e}"));
        assert!(v.get("tools").is_none() && v["messages"] == told, "{extra}: {v}");
    }
}

#[test]
fn the_system_prompt_is_a_string_unless_a_part_is_cached() {
    let sys = |c: Value| json!({"messages": [{"role": "system", "content": c}, {"role": "developer", "content": "more"}, user("u"), {"role": "developer", "content": "late"}]});
    let cached = json!([{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}]);
    let cases: [(Value, Value); 3] = [
        (sys(json!("a")), json!("a\n\nmore")),
        (sys(json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])), json!("a\n\nb\n\nmore")),
        (
            sys(cached),
            json!([{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "more"}]),
        ),
    ];
    // What comes after the first turn is user text where it stands, not the system prompt.
    let late = json!([{"role": "user", "content": [{"type": "text", "text": "u"}, {"type": "text", "text": "late"}]}]);
    for (body, want) in cases {
        let v = tr(&body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((&v["system"], &v["messages"]), (&want, &late), "{body}");
    }
    assert!(tr(&ask(json!({}))).is_ok_and(|v| v.get("system").is_none()));
}

#[test]
fn a_prefill_loses_its_trailing_whitespace() {
    let prefill = |text: &str| json!({"messages": [user("u"), {"role": "assistant", "content": text}]});
    let cases: [(&str, Value); 3] = [
        ("Sure, ", json!([{"type": "text", "text": "Sure,"}])),
        ("{\n", json!([{"type": "text", "text": "{"}])),
        (" \n\t", Value::Null),
    ];
    for (text, want) in cases {
        let v = tr(&prefill(text)).unwrap_or_default();
        assert_eq!(v["messages"][1]["content"], want, "{text:?}");
    }
}

/// A call in the history whose arguments are no JSON object (an answer cut inside them,
/// `null`, a list: OpenAI's API takes them back) was refused: the conversation could not go on
/// with Claude, each turn moved to another model. It is a call with no input, on Messages and
/// on Converse.
#[test]
fn a_calls_arguments_that_are_no_object_are_no_input() {
    for args in ["{\"city\": \"Par", "null", "[]", "\"x\"", ""] {
        let conversation = json!([user("q"), call("c1", args), {"role": "tool", "tool_call_id": "c1", "content": "bad arguments"}]);
        let tools = json!([{"type": "function", "function": {"name": "f"}}]);
        let sent = tr(&json!({"model": "auto", "messages": conversation.clone(), "tools": tools.clone()}));
        let input = sent.as_ref().map(|v| v["messages"][1]["content"][0]["input"].clone());
        assert_eq!(input.ok(), Some(json!({})), "{args}: {sent:?}");
        let converse = crate::protocol::bedrock::request::translate(
            json!({"model": "auto", "messages": conversation, "tools": tools}).to_string().as_bytes(),
            &super::TO,
        )
        .map(|b| serde_json::from_slice::<Value>(&b).unwrap_or_default());
        let input = converse.map(|v| v["messages"][1]["content"][0]["toolUse"]["input"].clone());
        assert_eq!(input, Ok(json!({})), "{args}");
    }
}
