//! Tool schemas through the real Envoy as each provider's API takes them: in the client's
//! member order (the order a model writes a call's arguments in), and typed as the object a
//! tool's arguments are when the client's schema names no `type` (a pydantic model that refers
//! to itself), which Messages refuses.

use model_router_scorer::catalog::Api;
use model_router_tests::catalog::live_model;
use model_router_tests::envoy::{Stack, StackOptions};
use model_router_tests::http::{self, Response};
use model_router_tests::mock::Received;
use serde_json::json;

fn post(s: &Stack, path: &str, body: &str) -> Response {
    http::post_json(s.envoy.addr, path, body).unwrap_or_else(|e| panic!("request failed: {e}"))
}

/// The one request a provider received since the last call.
fn sent(s: &Stack) -> Received {
    let mut got = s.take_received();
    assert_eq!(got.len(), 1, "one request to a provider");
    got.remove(0)
}

/// A chat request pinned to `model` with one tool of `schema`, the tool strict or not.
fn ask(model: &str, schema: &str, strict: bool) -> String {
    format!(
        r#"{{"model":"{model}","messages":[{{"role":"user","content":"go"}}],"tools":[{{"type":"function","function":{{"name":"answer","strict":{strict},"parameters":{schema}}}}}]}}"#
    )
}

/// The chain-of-thought-first shape structured-output guides recommend: `reasoning` before
/// `answer` (name order would put `answer` first).
const REASONED: &str = r#"{"type": "object", "properties": {"reasoning": {"type": "string"}, "answer": {"type": "string"}}, "required": ["reasoning", "answer"], "additionalProperties": false}"#;

/// What instructor sends for a pydantic model that refers to itself: the root is a reference.
const RECURSIVE: &str = r##"{"$defs":{"Node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/Node"}}},"required":["name","children"]}},"$ref":"#/$defs/Node"}"##;

#[test]
fn tool_schemas_keep_the_clients_order_and_go_typed_to_every_api() {
    let s = start();
    s.take_received();
    let converse = live_model(Api::BedrockConverse);
    let responses = live_model(Api::Responses);
    for (model, strict) in [
        ("claude-haiku-4-5", false),
        ("claude-haiku-4-5", true),
        (converse.as_str(), false),
        (responses.as_str(), true),
    ] {
        let r = post(&s, "/v1/chat/completions", &ask(model, REASONED, strict));
        assert_eq!(r.status, 200, "{model}: {}", r.text());
        let body = String::from_utf8_lossy(&sent(&s).body).into_owned();
        assert!(body.contains(r#""properties":{"reasoning":{"type":"string"},"answer""#), "{model}: {body}");

        let r = post(&s, "/v1/chat/completions", &ask(model, RECURSIVE, false));
        assert_eq!(r.status, 200, "{model}: {}", r.text());
        let v = sent(&s).json();
        let schema = match model {
            "claude-haiku-4-5" => &v["tools"][0]["input_schema"],
            m if m == converse => &v["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
            _ => &v["tools"][0]["parameters"],
        };
        assert_eq!(
            (&schema["type"], &schema["$ref"]),
            (&json!("object"), &json!("#/$defs/Node")),
            "{model}: {v}"
        );
    }

    // A Messages client (Claude Code's tools) to Claude: its order, end to end.
    let messages = format!(
        r#"{{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{{"role":"user","content":"go"}}],"tools":[{{"name":"answer","input_schema":{REASONED}}}]}}"#
    );
    let r = post(&s, "/v1/messages", &messages);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = String::from_utf8_lossy(&sent(&s).body).into_owned();
    assert!(body.contains(r#""properties":{"reasoning":{"type":"string"},"answer""#), "{body}");
}

fn start() -> Stack {
    Stack::start_with(&StackOptions::default()).unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}
