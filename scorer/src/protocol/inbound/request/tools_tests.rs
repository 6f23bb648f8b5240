//! Namespaced functions and hosted tools left out.

use serde_json::{Value, json};

use super::tests::{chat, refused, with};
use super::to_chat;

/// The Codex CLI's default tools: its own functions, its sub-agent functions in a namespace,
/// and web search.
const CODEX_TOOLS: &str = r#","tools":[
    {"type":"function","name":"exec_command","description":"Runs a command","strict":false,"parameters":{"type":"object","properties":{}}},
    {"type":"namespace","name":"multi_agent_v1","description":"Tools for sub-agents.","tools":[
        {"type":"function","name":"spawn_agent","description":"Spawn one.","strict":false,"parameters":{"type":"object","properties":{"task":{"type":"string"}}}},
        {"type":"function","name":"wait_agent","parameters":{"type":"object","properties":{}}}]},
    {"type":"web_search","external_web_access":false}],
    "tool_choice":"auto","parallel_tool_calls":true"#;

fn translated(extra: &str, drop: &[&str]) -> (Value, Vec<String>) {
    let drop: Vec<String> = drop.iter().map(|d| d.to_string()).collect();
    let c = to_chat(with(extra).as_bytes(), &drop).unwrap_or_else(|e| panic!("{e}: {extra}"));
    (serde_json::from_slice(&c.body).unwrap_or_default(), c.dropped_tools)
}

#[test]
fn a_namespaces_functions_are_chat_functions_named_after_both() {
    let (body, dropped) = translated(CODEX_TOOLS, &["web_search"]);
    let names: Vec<_> =
        body["tools"].as_array().into_iter().flatten().map(|t| &t["function"]["name"]).collect();
    assert_eq!(
        names,
        [&json!("exec_command"), &json!("multi_agent_v1__spawn_agent"), &json!("multi_agent_v1__wait_agent")]
    );
    // The namespace's description leads each of its functions' own.
    assert_eq!(body["tools"][1]["function"]["description"], json!("Tools for sub-agents.\n\nSpawn one."));
    assert_eq!(body["tools"][2]["function"]["description"], json!("Tools for sub-agents."));
    assert_eq!(body["tools"][1]["function"]["parameters"]["properties"]["task"], json!({"type": "string"}));
    assert_eq!((&body["tool_choice"], &body["parallel_tool_calls"]), (&json!("auto"), &json!(true)));
    assert_eq!(dropped, ["web_search"]);
    // Member order: the description stays after the name.
    let c = to_chat(with(CODEX_TOOLS).as_bytes(), &["web_search".into()]).map(|c| c.body).unwrap_or_default();
    let text = String::from_utf8_lossy(&c);
    assert!(text.contains(r#"{"type":"function","function":{"name":"multi_agent_v1__wait_agent","description":"Tools for sub-agents.","parameters""#), "{text}");
}

#[test]
fn a_call_to_a_namespaced_function_is_a_call_of_its_joined_name() {
    let body = r#"{"model":"auto","input":[
        {"role":"user","content":"go"},
        {"type":"function_call","call_id":"c1","namespace":"multi_agent_v1","name":"spawn_agent","arguments":"{}"},
        {"type":"function_call","call_id":"c2","namespace":"","name":"plain","arguments":"{}"},
        {"type":"function_call_output","call_id":"c1","namespace":"multi_agent_v1","name":"spawn_agent","output":"ok"},
        {"type":"function_call_output","call_id":"c2","output":"ok"}]}"#;
    let messages = &chat(body)["messages"];
    let names: Vec<_> =
        messages[1]["tool_calls"].as_array().into_iter().flatten().map(|c| &c["function"]["name"]).collect();
    assert_eq!(names, [&json!("multi_agent_v1__spawn_agent"), &json!("plain")]);
    assert_eq!(messages[2], json!({"role": "tool", "tool_call_id": "c1", "content": "ok"}));
    let bad = r#"{"model":"auto","input":[{"type":"function_call","call_id":"c1","namespace":7,"name":"f","arguments":"{}"}]}"#;
    let e = refused(bad);
    assert_eq!((e.code, e.param.as_deref()), ("invalid_type", Some("input[0].namespace")));
}

#[test]
fn namespaces_chat_cannot_name_apart_are_refused() {
    let ns = |name: &str, inner: &str| {
        format!(r#"{{"type":"namespace","name":"{name}","description":"d","tools":[{inner}]}}"#)
    };
    let f = |name: &str| format!(r#"{{"type":"function","name":"{name}"}}"#);
    let long = "n".repeat(40);
    let cases = [
        // A plain function already named as a namespaced one is.
        (
            format!(r#","tools":[{},{}]"#, f("a__b"), ns("a", &f("b"))),
            "invalid_value",
            "tools[1].tools[0].name",
        ),
        (format!(r#","tools":[{},{}]"#, ns("a", &f("b")), f("a__b")), "invalid_value", "tools[1].name"),
        (
            format!(r#","tools":[{},{}]"#, ns("a_", &f("b")), ns("a", &f("_b"))),
            "invalid_value",
            "tools[1].tools[0].name",
        ),
        (format!(r#","tools":[{}]"#, ns(&long, &f(&long))), "invalid_value", "tools[0].tools[0].name"),
        (format!(r#","tools":[{}]"#, ns("a.b", &f("c"))), "invalid_value", "tools[0].name"),
        (format!(r#","tools":[{}]"#, ns("", &f("c"))), "missing_required_parameter", "tools[0].name"),
        (
            r#","tools":[{"type":"namespace","name":"a","description":"d","tools":[]}]"#.to_string(),
            "missing_required_parameter",
            "tools[0].tools",
        ),
        (
            r#","tools":[{"type":"namespace","name":"a","tools":{}}]"#.to_string(),
            "invalid_type",
            "tools[0].tools",
        ),
        (
            format!(
                r#","tools":[{{"type":"namespace","name":"a","description":"d","tools":[{}],"x":1}}]"#,
                f("b")
            ),
            "unknown_parameter",
            "tools[0].x",
        ),
        (
            format!(r#","tools":[{}]"#, ns("a", r#"{"type":"custom","name":"patch"}"#)),
            "unsupported_value",
            "tools[0].tools[0].type",
        ),
        (
            format!(r#","tools":[{}]"#, ns("a", r#"{"type":"function"}"#)),
            "missing_required_parameter",
            "tools[0].tools[0].name",
        ),
    ];
    for (extra, code, param) in cases {
        let e = refused(&with(&extra));
        assert_eq!((e.code, e.param.as_deref()), (code, Some(param)), "{extra}: {}", e.message);
    }
    // Two plain functions of one name are the provider's to judge, as on chat.
    assert_eq!(
        chat(&with(&format!(r#","tools":[{},{}]"#, f("g"), f("g"))))["tools"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn hosted_tools_the_configuration_names_are_left_out_and_reported_once() {
    let extra = r#","tools":[{"type":"web_search"},{"type":"function","name":"f"},{"type":"web_search","search_context_size":"low"},{"type":"file_search","vector_store_ids":["v"]}]"#;
    let (body, dropped) = translated(extra, &["web_search", "file_search", "code_interpreter"]);
    assert_eq!(body["tools"], json!([{"type": "function", "function": {"name": "f"}}]));
    assert_eq!(dropped, ["web_search", "file_search"]);
    // One not named is refused still.
    let e = to_chat(with(extra).as_bytes(), &["web_search".into()]).err();
    assert_eq!(e.map(|e| (e.code, e.param)), Some(("unsupported_value", Some("tools[3].type".into()))));
    // Nothing is dropped unless named.
    assert_eq!(
        translated(r#","tools":[{"type":"function","name":"f"}]"#, &["web_search"]).1,
        Vec::<String>::new()
    );
}

#[test]
fn without_tools_left_the_choice_and_parallel_calls_ask_nothing() {
    let only_search = r#","tools":[{"type":"web_search"}],"parallel_tool_calls":true"#;
    for (choice, kept) in [("auto", false), ("none", false), ("required", true)] {
        let (body, _) = translated(&format!(r#"{only_search},"tool_choice":"{choice}""#), &["web_search"]);
        assert_eq!(body.get("tools"), None);
        assert_eq!(body.get("parallel_tool_calls"), None);
        // A choice that forces a call is the route's to refuse, naming it.
        assert_eq!(body.get("tool_choice").is_some(), kept, "{choice}: {body}");
    }
    let (body, _) = translated(r#","tools":[],"tool_choice":"auto","parallel_tool_calls":false"#, &[]);
    assert_eq!((body.get("tool_choice"), body.get("parallel_tool_calls")), (None, None));
    let (body, _) = translated(
        r#","tools":[{"type":"function","name":"f"}],"tool_choice":"none","parallel_tool_calls":false"#,
        &[],
    );
    assert_eq!((&body["tool_choice"], &body["parallel_tool_calls"]), (&json!("none"), &json!(false)));
}
