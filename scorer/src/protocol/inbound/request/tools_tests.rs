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
    for choice in ["auto", "none"] {
        let (body, _) = translated(&format!(r#"{only_search},"tool_choice":"{choice}""#), &["web_search"]);
        assert_eq!(body.get("tools"), None);
        assert_eq!(body.get("parallel_tool_calls"), None);
        assert_eq!(body.get("tool_choice"), None, "{choice}: {body}");
    }
    let (body, _) = translated(r#","tools":[],"tool_choice":"auto","parallel_tool_calls":false"#, &[]);
    assert_eq!((body.get("tool_choice"), body.get("parallel_tool_calls")), (None, None));
    // A choice that forces a call with no tool declared is the route's to refuse, naming it.
    let (body, _) = translated(r#","tool_choice":"required""#, &[]);
    assert_eq!(body["tool_choice"], json!("required"));
    let (body, _) = translated(
        r#","tools":[{"type":"function","name":"f"}],"tool_choice":"none","parallel_tool_calls":false"#,
        &[],
    );
    assert_eq!((&body["tool_choice"], &body["parallel_tool_calls"]), (&json!("none"), &json!(false)));
}

/// `(tool_choice, the chat tool_choice)` with the tools `plain`, namespace `crm` (`lookup`,
/// `find`) and namespace `erp` (`find`).
#[test]
fn a_choice_names_a_namespaced_function_as_chat_knows_it() {
    let tools = r#","tools":[{"type":"function","name":"plain"},
        {"type":"namespace","name":"crm","description":"d","tools":[{"type":"function","name":"lookup"},{"type":"function","name":"find"}]},
        {"type":"namespace","name":"erp","description":"d","tools":[{"type":"function","name":"find"}]}]"#;
    let f = |name: &str| json!({"type": "function", "function": {"name": name}});
    let allowed =
        |list: Value| json!({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": list}});
    let cases = [
        // By its own name where one namespace has it, joined when the namespace is named.
        (r#"{"type":"function","name":"lookup"}"#, f("crm__lookup")),
        (r#"{"type":"function","namespace":"erp","name":"find"}"#, f("erp__find")),
        (r#"{"type":"function","name":"crm__lookup"}"#, f("crm__lookup")),
        // None has it: as written, for the provider to judge.
        (r#"{"type":"function","name":"other"}"#, f("other")),
        (r#"{"type":"function","name":"plain"}"#, f("plain")),
        // Every allowed tool left out: no call allowed.
        (r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"web_search"}]}"#, json!("none")),
        (
            r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"lookup"},{"type":"namespace","name":"erp"},{"type":"web_search"}]}"#,
            allowed(json!([f("crm__lookup"), f("erp__find")])),
        ),
    ];
    for (choice, want) in cases {
        let (body, _) = translated(&format!(r#"{tools},"tool_choice":{choice}"#), &["web_search"]);
        assert_eq!(body["tool_choice"], want, "{choice}");
    }
    let refusals = [
        // Two namespaces have it: which is not the router's to guess.
        (r#"{"type":"function","name":"find"}"#, "tool_choice.name"),
        (
            r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"plain"},{"type":"function","name":"find"}]}"#,
            "tool_choice.tools[1].name",
        ),
        (
            r#"{"type":"allowed_tools","mode":"required","tools":[{"type":"web_search"}]}"#,
            "tool_choice.tools",
        ),
        // Where the client wrote it, after a tool left out.
        (
            r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"web_search"},{"type":"function","name":"find"}]}"#,
            "tool_choice.tools[1].name",
        ),
        (
            r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"web_search"},{"type":"namespace","name":"hr"}]}"#,
            "tool_choice.tools[1].name",
        ),
        (
            r#"{"type":"allowed_tools","mode":"auto","tools":[{"type":"namespace","name":"hr"}]}"#,
            "tool_choice.tools[0].name",
        ),
        (r#"{"type":"function","namespace":"a.b","name":"f"}"#, "tool_choice.namespace"),
        // Named in a namespace the tools do not declare, or not with that function.
        (r#"{"type":"function","namespace":"hr","name":"find"}"#, "tool_choice.name"),
        (r#"{"type":"function","namespace":"crm","name":"other"}"#, "tool_choice.name"),
        (r#"{"type":"function","namespace":7,"name":"f"}"#, "tool_choice.namespace"),
    ];
    for (choice, param) in refusals {
        let body = with(&format!(r#"{tools},"tool_choice":{choice}"#));
        let e = to_chat(body.as_bytes(), &["web_search".into()]).err();
        let e = e.unwrap_or_else(|| panic!("accepted {choice}"));
        assert_eq!(e.param.as_deref(), Some(param), "{choice}: {}", e.message);
    }
}

#[test]
fn a_forced_choice_with_every_tool_left_out_is_refused_naming_the_setting() {
    let e = to_chat(
        with(r#","tools":[{"type":"web_search"}],"tool_choice":"required""#).as_bytes(),
        &["web_search".into()],
    )
    .err();
    let e = e.unwrap_or_else(|| panic!("accepted"));
    assert_eq!((e.code, e.param.as_deref()), ("invalid_value", Some("tool_choice")));
    assert!(e.message.contains("drop_tools: web_search"), "{}", e.message);
    // Allowed tools in auto mode ask nothing then, as auto does.
    let auto = r#","tools":[{"type":"web_search"}],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"web_search"}]}"#;
    assert_eq!(translated(auto, &["web_search"]).0.get("tool_choice"), None);
}

#[test]
fn a_namespaces_tools_of_a_type_left_out_are_left_out() {
    let extra = r#","tools":[{"type":"namespace","name":"n","description":"d","tools":[{"type":"custom","name":"patch"},{"type":"function","name":"f"}]}]"#;
    let (body, dropped) = translated(extra, &["custom"]);
    assert_eq!(body["tools"][0]["function"]["name"], json!("n__f"));
    assert_eq!((body["tools"].as_array().map(Vec::len), dropped), (Some(1), vec!["custom".to_string()]));
}

#[test]
fn a_calls_namespace_is_checked_as_the_tools_are() {
    let long = "n".repeat(70);
    for ns in ["a.b", long.as_str()] {
        let body = format!(
            r#"{{"model":"auto","input":[{{"type":"function_call","call_id":"c1","namespace":"{ns}","name":"f","arguments":"{{}}"}}]}}"#
        );
        let e = refused(&body);
        assert_eq!(
            (e.code, e.param.as_deref()),
            ("invalid_value", Some("input[0].namespace")),
            "{}",
            e.message
        );
    }
}

/// A provider's error about a chat tool names the tool where the request has it.
#[test]
fn an_error_about_a_chat_tool_names_the_tool_the_client_sent() {
    let extra = r#","tools":[{"type":"web_search"},{"type":"namespace","name":"crm","description":"d","tools":[{"type":"function","name":"a"},{"type":"function","name":"b"}]},{"type":"function","name":"f"}]"#;
    let echo = to_chat(with(extra).as_bytes(), &["web_search".into()]).map(|c| c.echo).unwrap_or_default();
    for (chat, client) in [
        ("tools[0].function.name", "tools[1].tools[0].name"),
        ("tools[1].function.parameters", "tools[1].tools[1].parameters"),
        ("tools[2].function.name", "tools[2].name"),
        ("tools[2]", "tools[2]"),
        ("tools[9].function.name", "tools[9].name"),
        ("tool_choice.function.name", "tool_choice.name"),
        ("tool_choice.allowed_tools.tools[0].function.name", "tool_choice.tools[0].name"),
    ] {
        let message = format!("Invalid '{chat}': bad");
        let error = json!({"error": {"message": message, "type": "invalid_request_error", "param": chat, "code": null}});
        let out = crate::protocol::inbound::answer::renamed_error(error.to_string().as_bytes(), &echo);
        let out = out.and_then(|b| serde_json::from_slice::<Value>(&b).ok()).unwrap_or(error);
        assert_eq!(out["error"]["param"], json!(client), "{chat}");
        // The message says where too.
        assert_eq!(out["error"]["message"], json!(format!("Invalid '{client}': bad")), "{chat}");
    }
}
