//! Asking Anthropic to cache a conversation the client marked no breakpoint in.

use serde_json::{Value, json};

use super::TO;
use crate::catalog::Quirks;
use crate::protocol::Native;
use crate::protocol::anthropic::request::translate;

fn sent(body: &Value, to: &Native<'_>) -> Value {
    let out = translate(body.to_string().as_bytes(), to).unwrap_or_else(|e| panic!("{e:?}"));
    serde_json::from_slice(&out).unwrap_or_default()
}

/// An agent's next step (it holds tool calls and results) without breakpoints asks for the
/// top-level `cache_control`; a first request, a few-shot prompt, one whose client placed its
/// own, or the configuration off (the quirk unset) does not.
#[test]
fn a_conversation_that_continues_without_breakpoints_is_cached() {
    let on = Native { quirks: Quirks { auto_cache: true, ..Quirks::NONE }, ..TO };
    let call = json!({"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}});
    let messages = json!([
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "done"}]);
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let agent = json!({"model": "auto", "messages": messages, "tools": tools});
    assert_eq!(sent(&agent, &on)["cache_control"], json!({"type": "ephemeral"}));
    assert!(sent(&agent, &TO).get("cache_control").is_none());
    let first = json!({"model": "auto", "messages": [{"role": "user", "content": "go"}]});
    assert!(sent(&first, &on).get("cache_control").is_none());
    // A few-shot prompt, sent once: its assistant turns are examples, not an agent's steps.
    let few_shot = json!({"model": "auto", "messages": [
        {"role": "user", "content": "2+2"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3"}]});
    assert!(sent(&few_shot, &on).get("cache_control").is_none());
    let mut marked = agent.clone();
    marked["tools"][0]["cache_control"] = json!({"type": "ephemeral"});
    let out = sent(&marked, &on);
    assert!(out.get("cache_control").is_none(), "{out}");
    assert_eq!(out["tools"][0]["cache_control"], json!({"type": "ephemeral"}), "{out}");
}

/// OpenAI's breakpoints on parts (`prompt_cache_breakpoint`, any number of them) are not
/// Anthropic's marks (its limit is four: a fifth is a 400 no failover answers): they are left
/// out, and an agent's conversation is cached as one that marked nothing.
#[test]
fn openai_breakpoints_are_left_out() {
    let on = Native { quirks: Quirks { auto_cache: true, ..Quirks::NONE }, ..TO };
    let call = json!({"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}});
    let part =
        |text: &str| json!([{"type": "text", "text": text, "prompt_cache_breakpoint": {"mode": "explicit"}}]);
    let mut messages = vec![json!({"role": "system", "content": part("You are an agent.")})];
    for i in 0..5 {
        messages.push(json!({"role": "user", "content": part(&format!("step {i}"))}));
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
        messages.push(json!({"role": "tool", "tool_call_id": "toolu_1", "content": "done"}));
    }
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let out = sent(&json!({"model": "auto", "messages": messages, "tools": tools}), &on);
    assert_eq!(out.to_string().matches("cache_control").count(), 1, "{out}");
    assert_eq!(out["cache_control"], json!({"type": "ephemeral"}), "{out}");
    assert!(!out.to_string().contains("prompt_cache_breakpoint"), "{out}");
}

/// A blank part is left out (Messages refuses empty text), and its mark went with it: an
/// empty tool result marked as the conversation's last block reached Claude with no
/// breakpoint, and the top-level one was not asked (the client had marked), so the whole
/// turn was read at full price. The mark goes to the block before, else the one after, else
/// (a tool result with nothing else) to the `tool_result` itself.
#[test]
fn a_blank_parts_mark_is_kept_on_a_block_next_to_it() {
    let on = Native { quirks: Quirks { auto_cache: true, ..Quirks::NONE }, ..TO };
    let mark = json!({"type": "ephemeral", "ttl": "1h"});
    let blank = json!({"type": "text", "text": " \n", "cache_control": mark});
    let text = |t: &str| json!({"type": "text", "text": t});
    let call = json!({"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}});
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let body = |tool: Value, user: Value| {
        json!({"model": "auto", "tools": tools, "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": tool}]})
    };
    let out = sent(&body(json!([blank]), json!([text("go"), blank, text("now")])), &on);
    let user = &out["messages"][0]["content"];
    assert_eq!((&user[0]["cache_control"], user[1].get("cache_control")), (&mark, None), "{out}");
    let result = &out["messages"][2]["content"][0];
    assert_eq!((&result["type"], &result["cache_control"]), (&json!("tool_result"), &mark), "{out}");
    assert!(result.get("content").is_none(), "{out}");
    // First in its list: the block after it takes it.
    let out = sent(&body(json!([blank, text("ok")]), json!("go")), &on);
    assert_eq!(out["messages"][2]["content"][0]["content"][0]["cache_control"], mark, "{out}");
}

/// A user message of a blank marked part only is left out, and its mark went with it (the
/// client had marked, so no top-level mark was asked): it goes to the block before it.
#[test]
fn a_blank_messages_mark_goes_to_the_block_before_it() {
    let mark = json!({"type": "ephemeral"});
    let body = json!({"model": "auto", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "\n", "cache_control": mark}]}]});
    let out = sent(&body, &TO);
    let marks = out.to_string().matches("cache_control").count();
    assert_eq!(marks, 1, "{out}");
    assert_eq!(out["messages"][1]["content"][0]["cache_control"], mark, "{out}");
}

/// An assistant message of a blank marked part only: its mark goes to the block before it.
#[test]
fn a_blank_assistant_messages_mark_goes_to_the_block_before_it() {
    let mark = json!({"type": "ephemeral"});
    let body = json!({"model": "auto", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "text", "text": " ", "cache_control": mark}]},
        {"role": "user", "content": "go on"}]});
    let out = sent(&body, &TO);
    assert_eq!(out.to_string().matches("cache_control").count(), 1, "{out}");
    assert_eq!(out["messages"][0]["content"][0]["cache_control"], mark, "{out}");
}

/// A blank marked message right after a tool result: the mark goes onto the `tool_result`
/// (Anthropic takes one there), as for a mid-conversation system message of blank parts.
#[test]
fn a_blank_messages_mark_after_a_tool_result_goes_onto_it() {
    let mark = json!({"type": "ephemeral"});
    let blank = json!([{"type": "text", "text": "\n", "cache_control": mark}]);
    let call = json!({"id": "c1", "type": "function", "function": {"name": "get", "arguments": "{}"}});
    let tools = json!([{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}]);
    for role in ["user", "system", "assistant"] {
        let body = json!({"model": "auto", "tools": tools, "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": null, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": role, "content": blank}]});
        let out = sent(&body, &TO);
        assert_eq!(out.to_string().matches("cache_control").count(), 1, "{role}: {out}");
        let result = &out["messages"][2]["content"][0];
        assert_eq!(
            (&result["type"], &result["content"][0]["cache_control"]),
            (&json!("tool_result"), &mark),
            "{role}: {out}"
        );
    }
}
