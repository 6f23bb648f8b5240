//! A Gemini 3 call's thought signature, carried through a Responses client. Gemini 3 signs the
//! function calls it makes (`extra_content.google.thought_signature` on a chat tool call) and
//! wants the signature back with the call in the conversation's next turn: without it the
//! router sends a stand-in that passes Gemini's check but carries none of the model's
//! reasoning. A Responses function call has no place for it, so a signed call comes back after
//! a reasoning item whose `encrypted_content` holds the signature, when the request asked for
//! reasoning's encrypted content (`include`), as the Codex CLI, and the AI SDK and Agents SDK
//! when told to, do. Those clients send reasoning items back in the next turn's `input`, and
//! the signature goes back on the call it names. A Messages client (Claude Code) gets it in a
//! `redacted_thinking` block before the call, whose `data` it sends back as it is, as it does
//! Anthropic's own.

use serde_json::{Value, json};

use super::request::tree::{Node, object};

/// What starts an `encrypted_content` the router wrote: the rest is
/// `{"call_id":…,"signature":…}`. OpenAI's own start otherwise (`gAAAA`).
const PREFIX: &str = "model-router:thought_signature:";

/// What the router sends for a call without a signature (`parse::layout` writes it): no
/// signature of the model's to carry.
const STAND_IN: &str = "skip_thought_signature_validator";

/// The thought signature of a chat tool call (or its first delta), if the model signed it.
pub(crate) fn of_call(call: &Value) -> Option<&str> {
    let signature = call.get("extra_content")?.get("google")?.get("thought_signature")?.as_str()?;
    Some(signature).filter(|s| !s.is_empty() && *s != STAND_IN)
}

/// The reasoning item carrying the signature of the call `call_id`.
pub(super) fn item(id: &str, call_id: &str, signature: &str, status: &str) -> Value {
    json!({
        "id": id, "type": "reasoning", "status": status, "summary": [],
        "encrypted_content": carried(call_id, signature),
    })
}

/// The opaque text carrying the signature of the call `call_id` ([`read`] reads it back).
pub(crate) fn carried(call_id: &str, signature: &str) -> String {
    format!("{PREFIX}{}", json!({"call_id": call_id, "signature": signature}))
}

/// Puts `signature` on a chat tool call (`extra_content.google.thought_signature`), unless it
/// has one.
pub(crate) fn sign(call: &mut Node, signature: &str) {
    if call.get("extra_content").is_some() {
        return;
    }
    let google = object([("thought_signature", signature.into())]);
    if let Node::Object(members) = call {
        members.push(("extra_content".into(), object([("google", google)])));
    }
}

/// What starts an `encrypted_content` carrying a chat answer's `thinking_blocks` (Claude's
/// signed thinking, an OpenAI model's encrypted reasoning): the rest is `{"blocks":[…]}`.
/// Anthropic takes a turn continuing Claude's tool calls with thinking on only after that
/// thinking, and with nothing stored an OpenAI model's reasoning reaches its next step only so,
/// so a Responses client that sends its reasoning items back (the Codex CLI) keeps the model
/// reasoning through its tool loop. A Messages client gets the same text in a
/// `redacted_thinking` block's data.
const THINKING_PREFIX: &str = "model-router:thinking:";

/// A streamed `thinking_blocks` entry as the list holds it: without its `index`.
pub(crate) fn without_index(block: &Value) -> Value {
    let mut entry = block.clone();
    if let Some(o) = entry.as_object_mut() {
        o.remove("index");
    }
    entry
}

/// The opaque text carrying `thinking_blocks` entries ([`read_thinking`] reads it back).
pub(crate) fn thinking_carried(blocks: &[Value]) -> String {
    format!("{THINKING_PREFIX}{}", json!({ "blocks": blocks }))
}

/// The thinking blocks an `encrypted_content` the router wrote carries, as the chat message's
/// `thinking_blocks` (`None`: it carries none).
pub(crate) fn read_thinking(encrypted: &str) -> Option<Node> {
    let carried = encrypted.strip_prefix(THINKING_PREFIX)?;
    let mut tree = super::request::tree::parse(carried.as_bytes()).ok()?;
    tree.take("blocks").filter(|b| matches!(b, Node::Array(list) if !list.is_empty()))
}

/// The call id and signature an `encrypted_content` the router wrote carries.
pub(crate) fn read(encrypted: &str) -> Option<(String, String)> {
    let carried: Value = serde_json::from_str(encrypted.strip_prefix(PREFIX)?).ok()?;
    let field =
        |k: &str| carried.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Some((field("call_id")?, field("signature")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_goes_out_in_a_reasoning_item_and_comes_back_for_its_call() {
        let call = json!({"id": "c1", "extra_content": {"google": {"thought_signature": "sig/+="}}});
        let signature = of_call(&call).unwrap_or_default();
        let item = item("rs_1", "c1", signature, "completed");
        let encrypted = item["encrypted_content"].as_str().unwrap_or_default();
        assert_eq!(read(encrypted), Some(("c1".into(), "sig/+=".into())));
        // The stand-in, an empty one or none: nothing to carry. OpenAI's own: not ours.
        for unsigned in
            [json!({"extra_content": {"google": {"thought_signature": STAND_IN}}}), json!({"id": "c"})]
        {
            assert_eq!(of_call(&unsigned), None);
        }
        assert_eq!(read("gAAAAB"), None);
        assert_eq!(read(&format!("{PREFIX}{{\"call_id\":\"c\"}}")), None);
    }

    /// A Response for a Gemini 3 answer that calls `f` (signed) and `g` (unsigned), non-streamed
    /// and streamed, when the request asks for reasoning's encrypted content.
    fn answers(include: bool) -> (Value, Vec<Value>) {
        let include = if include { r#","include":["reasoning.encrypted_content"]"# } else { "" };
        let request = format!(
            r#"{{"model":"premium","input":"go","tools":[{{"type":"function","name":"f"}},{{"type":"function","name":"g"}}]{include}}}"#
        );
        let echo = crate::protocol::inbound::request::to_chat(request.as_bytes(), &[])
            .map(|c| c.echo)
            .unwrap_or_default();
        let signed = json!({"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"},
                            "extra_content": {"google": {"thought_signature": "SIG"}}});
        let unsigned = json!({"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}});
        let completion = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "reasoning_content": "thinking", "tool_calls": [signed, unsigned]}}]});
        let whole =
            super::super::answer::to_response(completion.to_string().as_bytes(), &echo).unwrap_or_default();
        let stream = super::super::answer::as_chunks(completion.to_string().as_bytes()).unwrap_or_default();
        let events = super::super::events::Events::new(echo, "chatcmpl-1").feed(stream.as_bytes(), true);
        let events = String::from_utf8_lossy(&events)
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        (serde_json::from_slice(&whole).unwrap_or_default(), events)
    }

    /// The chat body of a Responses request with this `input`.
    fn chat_of(input: &Value) -> Value {
        let request = json!({"model": "premium", "input": input}).to_string();
        let chat = crate::protocol::inbound::request::to_chat(request.as_bytes(), &[]).map(|c| c.body);
        serde_json::from_slice(&chat.unwrap_or_default()).unwrap_or_default()
    }

    fn kinds(output: &Value) -> Vec<(String, String)> {
        let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        output.as_array().into_iter().flatten().map(|o| (s(o, "type"), s(o, "id"))).collect()
    }

    #[test]
    fn a_signed_call_follows_a_reasoning_item_carrying_its_signature() {
        let (whole, events) = answers(true);
        let want = [
            ("reasoning", "rs_1"),
            ("reasoning", "rs_1_1"),
            ("function_call", "fc_1_0"),
            ("function_call", "fc_1_1"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(kinds(&whole["output"]), want);
        assert_eq!(
            read(whole["output"][1]["encrypted_content"].as_str().unwrap_or_default()),
            Some(("c1".into(), "SIG".into()))
        );
        let completed =
            events.iter().find(|e| e["type"] == "response.completed").cloned().unwrap_or_default();
        assert_eq!(
            completed["response"]["output"], whole["output"],
            "the stream tells what the whole answer does"
        );
        // The signature's item has no text: no text or part events for it.
        let about = |id: &str| events.iter().filter(|e| e["item_id"] == id).count();
        assert_eq!(about("rs_1_1"), 0, "{events:?}");
        // Not asked for: no item.
        let (whole, events) = answers(false);
        assert_eq!(kinds(&whole["output"]).len(), 3);
        assert!(!events.iter().any(|e| e.to_string().contains(PREFIX)));
    }

    #[test]
    fn an_answer_sent_back_signs_its_call_again() {
        let (whole, _) = answers(true);
        let mut input = vec![json!({"role": "user", "content": "go"})];
        input.extend(whole["output"].as_array().cloned().unwrap_or_default());
        input.push(json!({"type": "reasoning", "id": "rs_x", "summary": [], "encrypted_content": "gAAAAB"}));
        for id in ["c1", "c2"] {
            input.push(json!({"type": "function_call_output", "call_id": id, "output": "ok"}));
        }
        let request = json!({"model": "premium", "input": input});
        let chat = chat_of(&request["input"]);
        let calls = &chat["messages"][1]["tool_calls"];
        assert_eq!(calls[0]["extra_content"], json!({"google": {"thought_signature": "SIG"}}), "{chat}");
        assert_eq!(calls[1].get("extra_content"), None, "{chat}");
    }

    /// A signature in a delta of its own after the call's first: carried in a reasoning item
    /// after the call, which the next turn still puts on its call.
    #[test]
    fn a_signature_that_comes_late_follows_its_call() {
        let request = r#"{"model":"premium","input":"go","stream":true,"include":["reasoning.encrypted_content"],"tools":[{"type":"function","name":"f"}]}"#;
        let echo = crate::protocol::inbound::request::to_chat(request.as_bytes(), &[])
            .map(|c| c.echo)
            .unwrap_or_default();
        let chunk = |delta: Value| {
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        };
        let stream = [
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "extra_content": {"google": {"thought_signature": "LATE"}}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "extra_content": {"google": {"thought_signature": "AGAIN"}}}]}),
            ),
        ];
        let body: String =
            stream.iter().map(|c| format!("data: {c}\n\n")).collect::<String>() + "data: [DONE]\n\n";
        let out = super::super::events::Events::new(echo, "chatcmpl-1").feed(body.as_bytes(), true);
        let events: Vec<Value> = String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        let completed =
            events.iter().find(|e| e["type"] == "response.completed").cloned().unwrap_or_default();
        let output = &completed["response"]["output"];
        assert_eq!(
            kinds(output).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["function_call", "reasoning"]
        );
        assert_eq!(
            read(output[1]["encrypted_content"].as_str().unwrap_or_default()),
            Some(("c1".into(), "LATE".into()))
        );
        // Sent back in that order, the call is signed all the same.
        let mut input = vec![json!({"role": "user", "content": "go"})];
        input.extend(output.as_array().cloned().unwrap_or_default());
        input.push(json!({"type": "function_call_output", "call_id": "c1", "output": "ok"}));
        let chat = chat_of(&json!(input));
        assert_eq!(
            chat["messages"][1]["tool_calls"][0]["extra_content"]["google"]["thought_signature"],
            json!("LATE"),
            "{chat}"
        );
    }

    /// A provider that uses a call id twice: each call gets the signature carried before it.
    #[test]
    fn a_call_id_used_twice_takes_the_signature_before_it() {
        let carried = |sig: &str| json!({"type": "reasoning", "summary": [], "encrypted_content": item("x", "c1", sig, "completed")["encrypted_content"]});
        let call = json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"});
        let output = json!({"type": "function_call_output", "call_id": "c1", "output": "ok"});
        let input = json!([{"role": "user", "content": "go"}, carried("ONE"), call, output, carried("TWO"), call, output]);
        let chat = chat_of(&input);
        let signature = |m: usize| {
            chat["messages"][m]["tool_calls"][0]["extra_content"]["google"]["thought_signature"].clone()
        };
        assert_eq!((signature(1), signature(3)), (json!("ONE"), json!("TWO")), "{chat}");
    }

    /// A Messages client (Claude Code on Gemini 3): a signed call comes after a
    /// `redacted_thinking` block carrying its signature, whole and streamed alike (a signature
    /// on a later delta of the call too); the client sends the block back as it came, and the
    /// next turn puts the signature on its call again. Anthropic's own redacted thinking, and
    /// a block naming a call the turn does not make, sign nothing.
    #[test]
    fn a_messages_client_carries_the_signature_in_a_redacted_thinking_block() {
        use crate::protocol::inbound_messages::{answer, events::Events, request};
        let signed = json!({"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"},
                            "extra_content": {"google": {"thought_signature": "SIG"}}});
        let unsigned = json!({"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}});
        let completion = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                "tool_calls": [signed, unsigned]}}]});
        let whole = answer::to_message(completion.to_string().as_bytes()).unwrap_or_default();
        let whole: Value = serde_json::from_slice(&whole).unwrap_or_default();
        let content = whole["content"].as_array().cloned().unwrap_or_default();
        let kinds: Vec<&str> = content.iter().filter_map(|b| b["type"].as_str()).collect();
        assert_eq!(kinds, ["redacted_thinking", "tool_use", "tool_use"], "{whole}");
        let data = content.first().and_then(|b| b["data"].as_str()).unwrap_or_default();
        assert_eq!(read(data), Some(("c1".into(), "SIG".into())));

        // Streamed: the signature on the call's second delta, the call's first without it.
        let chunk = |delta: Value| {
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": null}]})
        };
        let stream = [
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}, "extra_content": {"google": {"thought_signature": "SIG"}}}]}),
            ),
            chunk(
                json!({"tool_calls": [{"index": 1, "id": "c2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}),
            ),
        ];
        let body: String =
            stream.iter().map(|c| format!("data: {c}\n\n")).collect::<String>() + "data: [DONE]\n\n";
        let out = Events::new("chatcmpl-1").feed(body.as_bytes(), true);
        let started: Vec<Value> = String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter(|e| e["type"] == "content_block_start")
            .map(|e| e["content_block"].clone())
            .collect();
        assert_eq!(started.first(), content.first(), "{started:?}");
        let kinds: Vec<&str> = started.iter().filter_map(|b| b["type"].as_str()).collect();
        assert_eq!(kinds, ["redacted_thinking", "tool_use", "tool_use"], "{started:?}");

        // The next turn, the answer sent back as it came, Anthropic's own redacted thinking
        // and one naming another call beside it.
        let mut turn = content.clone();
        turn.insert(0, json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}));
        turn.push(json!({"type": "redacted_thinking", "data": carried("c9", "OTHER")}));
        let results: Vec<Value> = ["c1", "c2"]
            .iter()
            .map(|id| json!({"type": "tool_result", "tool_use_id": id, "content": "ok"}))
            .collect();
        let body = json!({"model": "premium", "max_tokens": 100, "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": turn},
            {"role": "user", "content": results}]});
        let chat = request::to_chat(body.to_string().as_bytes()).unwrap_or_default();
        let chat: Value = serde_json::from_slice(&chat).unwrap_or_default();
        let calls = &chat["messages"][1]["tool_calls"];
        assert_eq!(calls[0]["extra_content"], json!({"google": {"thought_signature": "SIG"}}), "{chat}");
        assert_eq!(calls[1].get("extra_content"), None, "{chat}");
        assert!(!chat.to_string().contains("OTHER"), "{chat}");
        // Anthropic's own goes on as Claude's signed thinking, for Anthropic's API alone.
        let carried = json!([{"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}]);
        assert_eq!(chat["messages"][1]["thinking_blocks"], carried, "{chat}");
    }
}
