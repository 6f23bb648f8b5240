use serde_json::{Value, json};

use super::to_chat;

fn chat(body: &Value) -> Value {
    let out = to_chat(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("refused: {e:?}"));
    serde_json::from_slice(&out).unwrap()
}

/// The code and param of the 400 a body with these extra members gets.
fn refused(extra: &str) -> (String, Option<String>) {
    let body = format!(r#"{{"model":"auto","messages":[{{"role":"user","content":"hi"}}]{extra}}}"#);
    let e = to_chat(body.as_bytes()).expect_err(extra);
    assert_eq!(e.status, 400, "{extra}");
    (e.code.to_string(), e.param.clone())
}

/// A Claude Code turn, as it comes: a system prompt in blocks (the last cached), a tool loop,
/// tools (one cached), thinking and the stream.
#[test]
fn an_agent_turn_becomes_the_chat_body_it_asks_for() {
    let body = json!({
        "model": "auto",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are an agent."},
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "use ls", "signature": "sig"},
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls", "description": "list"}}
            ]},
            {"role": "system", "content": "# Environment"},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt", "is_error": false, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "and now?"}
            ]}
        ],
        "tools": [
            {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}, "description": {"type": "string"}}}},
            {"name": "Read", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "metadata": {"user_id": "u1"},
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "stream": true,
        "temperature": 1,
        "prefer": "coding"
    });
    let want = json!({
        "model": "auto",
        "messages": [
            {"role": "system", "content": [
                {"type": "text", "text": "You are an agent."},
                {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "user", "content": "list files"},
            {"role": "assistant", "content": "Listing.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\",\"description\":\"list\"}"}}
            ], "thinking_blocks": [{"type": "thinking", "thinking": "use ls", "signature": "sig"}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": [
                {"type": "text", "text": "a.txt", "cache_control": {"type": "ephemeral"}}
            ]},
            {"role": "system", "content": "# Environment"},
            {"role": "user", "content": "and now?"}
        ],
        "max_completion_tokens": 32000,
        "max_tokens_ceiling": true,
        "tools": [
            {"type": "function", "function": {"name": "Bash", "description": "Run a command", "parameters": {"type": "object", "properties": {"command": {"type": "string"}, "description": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "Read", "parameters": {"type": "object"}}, "cache_control": {"type": "ephemeral"}}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": 1,
        "prefer": "coding",
        "reasoning_effort": "medium",
        "thinking_budget": 10000
    });
    assert_eq!(chat(&body), want);
}

#[test]
fn the_schema_and_the_arguments_keep_the_clients_member_order() {
    let body = br#"{"model":"m","max_tokens":5,"messages":[
        {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"z":1,"a":2}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t"}]}],
        "tools":[{"name":"f","input_schema":{"type":"object","properties":{"zeta":{},"alpha":{}}}}]}"#;
    let out = String::from_utf8(to_chat(body).unwrap()).unwrap();
    assert!(out.contains(r#""arguments":"{\"z\":1,\"a\":2}""#), "{out}");
    assert!(out.contains(r#""properties":{"zeta":{},"alpha":{}}"#), "{out}");
    assert!(out.contains(r#"{"role":"tool","tool_call_id":"t","content":""}"#), "{out}");
}

#[test]
fn images_become_image_parts_and_a_tool_results_images_follow_it() {
    let body = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": [
                {"type": "text", "text": "the picture:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
            ]},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            {"type": "text", "text": "what is it?"}
        ]}
    ]});
    let m = &chat(&body)["messages"];
    let note = "(what this call returned besides text follows the tool results, under t)";
    let said = format!("the picture:\n\n{note}");
    assert_eq!(m[1], json!({"role": "tool", "tool_call_id": "t", "content": said}));
    assert_eq!(
        m[2]["content"],
        json!([
            {"type": "text", "text": "t returned:"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "text", "text": "what is it?"}
        ])
    );
}

#[test]
fn options_take_their_chat_names() {
    // (extra members, chat member, its value; `null`: absent)
    let cases = [
        (r#","stop_sequences":["END"]"#, "stop", json!(["END"])),
        (r#","stop_sequences":[]"#, "stop", Value::Null),
        (r#","top_k":5,"service_tier":"auto","context_management":{"edits":[]}"#, "top_k", Value::Null),
        (r#","thinking":{"type":"enabled","budget_tokens":1024}"#, "reasoning_effort", json!("low")),
        (r#","thinking":{"type":"enabled","budget_tokens":4097}"#, "reasoning_effort", json!("medium")),
        (r#","thinking":{"type":"enabled","budget_tokens":31999}"#, "reasoning_effort", json!("high")),
        // Adaptive thinking's effort is a hint, Anthropic's default (high) when none is named;
        // without adaptive thinking the effort asks nothing of other models.
        (r#","thinking":{"type":"adaptive"}"#, "reasoning_effort", Value::Null),
        (r#","thinking":{"type":"adaptive"}"#, "reasoning_effort_hint", json!("high")),
        (r#","thinking":{"type":"disabled"}"#, "reasoning_effort", Value::Null),
        (
            r#","thinking":{"type":"disabled"},"output_config":{"effort":"low"}"#,
            "reasoning_effort_hint",
            Value::Null,
        ),
        (r#","output_config":{"effort":"max"}"#, "reasoning_effort", Value::Null),
        (r#","output_config":{"effort":"max"}"#, "reasoning_effort_hint", Value::Null),
        (
            r#","thinking":{"type":"adaptive"},"output_config":{"effort":"high"}"#,
            "reasoning_effort",
            Value::Null,
        ),
        (
            r#","output_config":{"effort":"xhigh"},"thinking":{"type":"adaptive"}"#,
            "reasoning_effort_hint",
            json!("xhigh"),
        ),
        // The client's own hint stands.
        (
            r#","reasoning_effort_hint":"low","thinking":{"type":"adaptive"},"output_config":{"effort":"max"}"#,
            "reasoning_effort_hint",
            json!("low"),
        ),
        (
            r#","output_config":{"effort":"low"},"thinking":{"type":"enabled","budget_tokens":16000}"#,
            "reasoning_effort_hint",
            Value::Null,
        ),
        (
            r#","output_config":{"effort":"low"},"thinking":{"type":"enabled","budget_tokens":16000}"#,
            "reasoning_effort",
            json!("high"),
        ),
        (r#","tool_choice":{"type":"any"}"#, "tool_choice", json!("required")),
        (
            r#","tool_choice":{"type":"tool","name":"f"}"#,
            "tool_choice",
            json!({"type": "function", "function": {"name": "f"}}),
        ),
        (r#","stream":false"#, "stream", Value::Null),
        (r#","container":[]"#, "container", Value::Null),
        (r#","max_price":{"prompt":1}"#, "max_price", json!({"prompt": 1})),
        // Strict when OpenAI's strict mode takes the schema as it is: every object closed and
        // requiring all it names; an open object, or an optional member, is not.
        (
            r#","output_format":{"type":"json_schema","schema":{"type":"object"}}"#,
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "output", "schema": {"type": "object"}, "strict": false}}),
        ),
        (
            r#","output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"required":["b"],"additionalProperties":false}},"required":["a"],"additionalProperties":false}}}"#,
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "output", "schema": {"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string"}},"required":["b"],"additionalProperties":false}},"required":["a"],"additionalProperties":false}, "strict": true}}),
        ),
        (
            r#","output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}},"required":["b"],"additionalProperties":false}}}"#,
            "response_format",
            json!({"type": "json_schema", "json_schema": {"name": "output", "schema": {"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}},"required":["b"],"additionalProperties":false}, "strict": false}}),
        ),
    ];
    for (extra, member, want) in cases {
        let body = format!(
            r#"{{"model":"auto","max_tokens":100,"messages":[{{"role":"user","content":"hi"}}]{extra}}}"#
        );
        let out: Value = serde_json::from_slice(&to_chat(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(out[member], want, "{extra}");
    }
}

#[test]
fn what_the_router_cannot_carry_is_refused_by_its_messages_name() {
    // (extra members, code, param)
    let cases = [
        (r#","mcp_servers":[{"type":"url","url":"https://x"}]"#, "unsupported_parameter", "mcp_servers"),
        (r#","container":"c1""#, "unsupported_parameter", "container"),
        (r#","max_completion_tokens":5"#, "unknown_parameter", "max_completion_tokens"),
        (r#","frobnicate":1"#, "unknown_parameter", "frobnicate"),
        (r#","max_tokens":0"#, "invalid_value", "max_tokens"),
        (r#","max_tokens":"5""#, "invalid_type", "max_tokens"),
        (r#","temperature":"hot""#, "invalid_type", "temperature"),
        (r#","stream":"yes""#, "invalid_type", "stream"),
        (r#","stop_sequences":"END""#, "invalid_type", "stop_sequences"),
        (r#","stop_sequences":[1]"#, "invalid_type", "stop_sequences[0]"),
        (r#","thinking":{"type":"enabled"}"#, "missing_required_parameter", "thinking.budget_tokens"),
        // Below Anthropic's least, by its own name (it was the router's `thinking_budget`).
        (r#","thinking":{"type":"enabled","budget_tokens":0}"#, "invalid_value", "thinking.budget_tokens"),
        (r#","thinking":{"type":"enabled","budget_tokens":1023}"#, "invalid_value", "thinking.budget_tokens"),
        (r#","thinking":{"type":"deep"}"#, "unsupported_value", "thinking.type"),
        (r#","output_config":{"effort":"huge"}"#, "unsupported_value", "output_config.effort"),
        (r#","output_config":{"task_budget":1}"#, "unknown_parameter", "output_config.task_budget"),
        (r#","output_format":{"type":"json_object"}"#, "unsupported_value", "output_format.type"),
        (
            r#","tools":[{"type":"web_search_20250305","name":"web_search"}]"#,
            "unsupported_value",
            "tools[0].type",
        ),
        (r#","tools":[{"name":"f"}]"#, "missing_required_parameter", "tools[0].input_schema"),
        (r#","tools":[{"name":"f","input_schema":{},"cache":1}]"#, "unknown_parameter", "tools[0].cache"),
        (
            r#","tools":[{"name":"f","input_schema":{},"cache_control":"x"}]"#,
            "invalid_type",
            "tools[0].cache_control",
        ),
        (r#","tool_choice":"auto""#, "invalid_type", "tool_choice"),
        (r#","tool_choice":{"type":"tool"}"#, "missing_required_parameter", "tool_choice.name"),
        (r#","system":[{"type":"image"}]"#, "unsupported_value", "system[0].type"),
        (r#","system":5"#, "invalid_type", "system"),
    ];
    for (extra, code, param) in cases {
        assert_eq!(refused(extra), (code.to_string(), Some(param.to_string())), "{extra}");
    }
    let e = to_chat(br#"{"model":null,"messages":[{"role":"user","content":"hi"}]}"#).unwrap_err();
    assert_eq!((e.code, e.param.as_deref()), ("missing_required_parameter", Some("model")));
}

#[test]
fn turns_the_router_cannot_carry_are_refused_where_they_stand() {
    // (messages, code, param)
    let cases = [
        (r#"[]"#, "missing_required_parameter", "messages"),
        (r#"[{"role":"developer","content":"x"}]"#, "unsupported_value", "messages[0].role"),
        (
            r#"[{"role":"system","content":[{"type":"image"}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (r#"[{"role":"user"}]"#, "missing_required_parameter", "messages[0].content"),
        (r#"[{"role":"user","content":"x","name":"bob"}]"#, "unknown_parameter", "messages[0].name"),
        (
            r#"[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"f"}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].source.type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"text/csv","data":"YQ=="}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].source.media_type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":"yes"}]}]"#,
            "invalid_type",
            "messages[0].content[0].is_error",
        ),
        (
            r#"[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            r#"[{"role":"user","content":[{"text":"x"}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].source.type",
        ),
        (
            r#"[{"role":"user","content":[{"type":"tool_result"}]}]"#,
            "missing_required_parameter",
            "messages[0].content[0].tool_use_id",
        ),
        (
            r#"[{"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search","input":{}}]}]"#,
            "unsupported_value",
            "messages[0].content[0].type",
        ),
        (
            r#"[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]"#,
            "invalid_type",
            "messages[0].content[0].input",
        ),
        (
            r#"[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]"#,
            "duplicate_key",
            "messages[0].content[0].text",
        ),
    ];
    for (messages, code, param) in cases {
        let body = format!(r#"{{"model":"auto","max_tokens":100,"messages":{messages}}}"#);
        let e = to_chat(body.as_bytes()).expect_err(messages);
        assert_eq!((e.code, e.param.as_deref()), (code, Some(param)), "{messages}: {}", e.message);
    }
}

/// Thinking asked `display: "omitted"` (Claude Code's) is told apart, for its answer to carry
/// none; any other display, or none, shows it.
#[test]
fn thinking_asked_omitted_is_told() {
    use super::to_chat_shown;
    for (thinking, omitted) in [
        (r#"{"type":"adaptive","display":"omitted"}"#, true),
        (r#"{"type":"enabled","budget_tokens":2048,"display":"omitted"}"#, true),
        (r#"{"type":"adaptive","display":"summarized"}"#, false),
        (r#"{"type":"adaptive"}"#, false),
    ] {
        let body = format!(
            r#"{{"model":"auto","max_tokens":9,"thinking":{thinking},"messages":[{{"role":"user","content":"hi"}}]}}"#
        );
        let shown = to_chat_shown(body.as_bytes()).map(|(_, s)| s);
        assert_eq!(
            shown,
            Ok(super::super::Shown { hide_thinking: omitted, model: "auto".into() }),
            "{thinking}"
        );
    }
}

/// What Claude Code sends beside the Messages API's own members: a system turn with its own
/// `output_config`, a tool search's `tool_reference` results, `safeguards`, `display`.
#[test]
fn claude_codes_own_members_are_read_or_left_out() {
    let body = json!({"model": "auto", "max_tokens": 5,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "safeguards": [{"type": "dangerous_tool_use", "classifier_context": {}}],
        "messages": [
            {"role": "user", "content": "find a tool"},
            {"role": "system", "content": "# Environment", "output_config": {"effort": "medium"}},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "ToolSearch", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": [
                    {"type": "tool_reference", "tool_name": "WebSearch"}, {"type": "text", "text": "Tool loaded."}
                ]}
            ]}
        ],
        "tools": [{"name": "WebSearch", "input_schema": {"type": "object"}, "defer_loading": true}]
    });
    let out = chat(&body);
    assert_eq!(out["messages"][1], json!({"role": "system", "content": "# Environment"}));
    assert_eq!(out["messages"][3]["content"], json!("Tool loaded: WebSearch\n\nTool loaded."));
    assert_eq!(out["tools"][0]["function"]["name"], json!("WebSearch"));
    assert!(out.get("safeguards").is_none() && out.get("reasoning_effort").is_none(), "{out}");
    // The system turn's effort is not the request's: adaptive thinking's default holds.
    assert_eq!(out["reasoning_effort_hint"], json!("high"));
}

/// A failed tool's result says so; documents become chat's file and text parts, a tool
/// result's after its tool message.
#[test]
fn tool_errors_and_documents_keep_their_meaning() {
    let pdf = json!({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}});
    let body = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "a", "name": "Bash", "input": {}},
            {"type": "tool_use", "id": "b", "name": "Read", "input": {}}
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": "Exit code 3", "is_error": true},
            {"type": "tool_result", "tool_use_id": "b", "content": [pdf], "is_error": false},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"}}
        ]}
    ]});
    let m = &chat(&body)["messages"];
    assert_eq!(m[1], json!({"role": "tool", "tool_call_id": "a", "content": "Error: Exit code 3"}));
    let note = "(what this call returned besides text follows the tool results, under b)";
    assert_eq!(m[2], json!({"role": "tool", "tool_call_id": "b", "content": note}));
    assert_eq!(
        m[3]["content"],
        json!([
            {"type": "text", "text": "b returned:"},
            {"type": "file", "file": {"filename": "document.pdf", "file_data": "data:application/pdf;base64,JVBE"}},
            {"type": "text", "text": "notes"}
        ])
    );
}

/// A deferred tool reaches the model once the conversation names it, as Anthropic's tool
/// search does; without any tool left, the list and a choice that asks nothing go.
#[test]
fn deferred_tools_wait_until_the_conversation_names_them() {
    let tools = json!([
        {"name": "Bash", "input_schema": {}},
        {"name": "DeferredToolPlaceholder", "input_schema": {}, "defer_loading": true},
        {"name": "WebFetch", "input_schema": {}, "defer_loading": true}
    ]);
    let names = |out: &Value| -> Vec<String> {
        let list = out["tools"].as_array().cloned().unwrap_or_default();
        list.iter().map(|t| t["function"]["name"].as_str().unwrap_or("").to_string()).collect()
    };
    let ask = json!([{"role": "user", "content": "hi"}]);
    let out = chat(&json!({"model": "m", "messages": ask, "tools": tools}));
    assert_eq!(names(&out), ["Bash"]);
    let found = json!([
        {"role": "user", "content": "fetch"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "s", "name": "ToolSearch", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "s", "content": [{"type": "tool_reference", "tool_name": "WebFetch"}]}]}
    ]);
    let out = chat(&json!({"model": "m", "messages": found, "tools": tools}));
    assert_eq!(names(&out), ["Bash", "WebFetch"]);
    let chosen = chat(
        &json!({"model": "m", "messages": ask, "tools": tools, "tool_choice": {"type": "tool", "name": "WebFetch"}}),
    );
    assert_eq!(names(&chosen), ["Bash", "WebFetch"]);
    let choice = json!({"type": "auto", "disable_parallel_tool_use": true});
    for tools in [json!([]), json!([{"name": "WebFetch", "input_schema": {}, "defer_loading": true}])] {
        let out = chat(
            &json!({"model": "m", "messages": ask, "tools": tools, "tool_choice": choice, "cache_control": {"type": "ephemeral"}}),
        );
        let keys: Vec<&String> = out.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["messages", "model"], "{out}");
    }
    let out = chat(&json!({"model": "m", "messages": ask, "tools": [], "tool_choice": {"type": "any"}}));
    assert_eq!(out["tool_choice"], "required", "the route refuses it, naming it");
}

#[test]
fn an_assistant_turn_of_thinking_alone_is_left_out() {
    let body = json!({"model": "m", "max_tokens": 5, "messages": [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "x"}]},
        {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "text", "text": "c"}]}
    ]});
    assert_eq!(
        chat(&body)["messages"],
        json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b\n\nc"}])
    );
}

/// A top-level `cache_control` (automatic caching) marks the last message's last part, as
/// the breakpoint Anthropic would place there; a part marked already keeps its own.
#[test]
fn automatic_caching_marks_the_last_block() {
    let cache = json!({"type": "ephemeral", "ttl": "1h"});
    let asked = |last: Value| {
        json!({"model": "m", "max_tokens": 5, "cache_control": cache, "messages": [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": last}]})
    };
    let out = chat(&asked(json!("c")));
    assert_eq!(out["messages"][0]["content"], "a", "{out}");
    assert_eq!(out["messages"][2]["content"], json!([{"type": "text", "text": "c", "cache_control": cache}]));
    assert!(out.get("cache_control").is_none(), "{out}");
    let own = json!({"type": "ephemeral"});
    let marked = chat(&asked(json!([{"type": "text", "text": "c", "cache_control": own}])));
    assert_eq!(
        marked["messages"][2]["content"],
        json!([{"type": "text", "text": "c", "cache_control": own}])
    );
    let wrong = to_chat(
        br#"{"model":"m","max_tokens":5,"cache_control":"x","messages":[{"role":"user","content":"a"}]}"#,
    );
    assert_eq!(wrong.err().and_then(|e| e.param), Some("cache_control".to_string()));
}
