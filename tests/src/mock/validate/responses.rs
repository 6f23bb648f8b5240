//! `POST /responses`: the request params of the official SDK's `ResponseCreateParams`, the
//! input items the router sends (messages, function calls and their outputs, reasoning), and
//! flat function tools; an unknown param is refused as the real API refuses it.

use serde_json::Value;

use super::fields::{Fields, bad_value, invalid, missing, wrong_type};
use super::{Checked, Invalid};

/// `ResponseCreateParams`.
const PARAMS: [&str; 31] = [
    "background",
    "context_management",
    "conversation",
    "include",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "metadata",
    "model",
    "moderation",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_options",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "user",
];
/// Built-in tool types beside `function`.
const BUILT_IN_TOOLS: [&str; 12] = [
    "file_search",
    "web_search",
    "web_search_preview",
    "computer_use_preview",
    "code_interpreter",
    "image_generation",
    "mcp",
    "local_shell",
    "shell",
    "custom",
    "apply_patch",
    "web_search_2025_08_26",
];
const ROLES: [&str; 4] = ["user", "assistant", "system", "developer"];

/// What a valid request's conversation holds, for the reply.
#[derive(Debug, Default)]
pub struct Conversation<'a> {
    /// Text of the last user message (emptied by a later function call output).
    pub last_user_text: String,
    /// Name of the function whose output follows the last user message.
    pub tool_result_of: Option<String>,
    /// The first function tool: name and parameters.
    pub first_tool: Option<(&'a str, &'a Value)>,
}

/// The request; what its conversation holds.
pub fn responses(body: &Value) -> Result<Conversation<'_>, Invalid> {
    let f = Fields::of(body, "")?;
    if let Some(k) = f.map.keys().find(|k| !PARAMS.contains(&k.as_str())) {
        return Err(invalid(k, "unknown_parameter", format!("Unknown parameter: '{k}'.")));
    }
    f.required_string("model")?;
    f.integer("max_output_tokens", Some(16), None)?;
    f.integer("max_tool_calls", Some(1), None)?;
    f.integer("top_logprobs", Some(0), Some(20))?;
    f.number("temperature", 0.0, 2.0)?;
    f.number("top_p", 0.0, 1.0)?;
    for key in ["store", "stream", "parallel_tool_calls", "background"] {
        f.boolean(key)?;
    }
    for key in ["instructions", "previous_response_id", "user", "safety_identifier", "prompt_cache_key"] {
        f.string(key)?;
    }
    f.one_of("truncation", &["auto", "disabled"])?;
    f.one_of("service_tier", &["auto", "default", "flex", "scale", "priority"])?;
    f.object("metadata")?;
    if let Some(r) = f.object("reasoning")? {
        r.one_of("effort", &["none", "minimal", "low", "medium", "high", "xhigh", "max"])?;
        r.one_of("summary", &["auto", "concise", "detailed"])?;
        r.one_of("generate_summary", &["auto", "concise", "detailed"])?;
    }
    if let Some(t) = f.object("text")? {
        t.one_of("verbosity", &["low", "medium", "high"])?;
        if let Some(format) = t.object("format")? {
            match format.required_string("type")? {
                "text" | "json_object" => {}
                "json_schema" => {
                    format.required_string("name")?;
                    format.object("schema")?.ok_or_else(|| missing("text.format.schema"))?;
                }
                other => {
                    return Err(bad_value(
                        "text.format.type",
                        other,
                        &["text", "json_object", "json_schema"],
                    ));
                }
            }
        }
    }
    let tools = tools(&f)?;
    tool_choice(&f)?;
    let mut ask = Conversation { first_tool: tools.first().copied(), ..Conversation::default() };
    match f.get("input") {
        None if ["previous_response_id", "conversation", "prompt"].iter().any(|k| f.get(k).is_some()) => {}
        None => return Err(missing("input")),
        Some(Value::String(s)) => ask.last_user_text = s.clone(),
        Some(Value::Array(items)) => input(items, body.get("store") == Some(&Value::Bool(false)), &mut ask)?,
        Some(v) => return Err(wrong_type("input", "a string or an array", v)),
    }
    Ok(ask)
}

/// `tools`: flat function tools (a chat-style `{"function": {...}}` lacks `name`) and the
/// built-in types; the function tools as (name, parameters).
fn tools<'a>(f: &Fields<'a>) -> Result<Vec<(&'a str, &'a Value)>, Invalid> {
    let Some(list) = f.array("tools", 0)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        let t = Fields::of(tool, &format!("tools[{i}]"))?;
        match t.required_string("type")? {
            "function" => {
                let name = t.required_string("name")?;
                t.string("description")?;
                t.boolean("strict")?;
                t.object("parameters")?.ok_or_else(|| missing(&t.name("parameters")))?;
                out.push((name, &tool["parameters"]));
            }
            kind if BUILT_IN_TOOLS.contains(&kind) => {}
            other => {
                let mut allowed = vec!["function"];
                allowed.extend(BUILT_IN_TOOLS);
                return Err(bad_value(&t.name("type"), other, &allowed));
            }
        }
    }
    Ok(out)
}

/// `tool_choice`: a mode, or a flat `{"type": "function", "name"}` (or a built-in's type).
fn tool_choice(f: &Fields<'_>) -> Checked {
    match f.get("tool_choice") {
        None => Ok(()),
        Some(Value::String(s)) if ["none", "auto", "required"].contains(&s.as_str()) => Ok(()),
        Some(Value::String(s)) => Err(bad_value("tool_choice", s, &["none", "auto", "required"])),
        Some(v) => {
            let c = Fields::of(v, "tool_choice")?;
            match c.required_string("type")? {
                "function" | "custom" => c.required_string("name").map(drop),
                "allowed_tools" => {
                    c.one_of("mode", &["auto", "required"])?;
                    c.array("tools", 0)?.ok_or_else(|| missing("tool_choice.tools")).map(drop)
                }
                "mcp" => c.required_string("server_label").map(drop),
                _ => Ok(()),
            }
        }
    }
}

/// The `encrypted_content` of the mock's reasoning items (asked for with `include`), the only
/// one it takes back.
pub const ENCRYPTED_REASONING: &str = "gAAAAABtb2NrLXJlYXNvbmluZw==";

/// The input items, in order: each call's output must follow a call with its `call_id`. With
/// `store: false` (`unstored`) a reasoning item is read only from its encrypted content.
fn input(items: &[Value], unstored: bool, ask: &mut Conversation<'_>) -> Checked {
    let mut calls: Vec<(&str, &str)> = Vec::new();
    // A reasoning item must be followed by the item it produced.
    let mut leading: Option<&str> = None;
    let unfollowed = |id: &str| {
        let message =
            format!("Item '{id}' of type 'reasoning' was provided without its required following item.");
        Invalid { message, param: Some("input".into()), code: None }
    };
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let it = Fields::of(item, &at)?;
        let kind = it.string("type")?.unwrap_or("message");
        if let Some(id) = leading.take()
            && matches!(kind, "reasoning" | "function_call_output")
        {
            return Err(unfollowed(id));
        }
        match kind {
            "message" => {
                let role = it.required_string("role")?;
                if !ROLES.contains(&role) {
                    return Err(bad_value(&it.name("role"), role, &ROLES));
                }
                let text = content(&it, role)?;
                if role == "user" {
                    ask.last_user_text = text;
                    ask.tool_result_of = None;
                }
            }
            "function_call" => {
                let call_id = it.required_string("call_id")?;
                let name = it.required_string("name")?;
                it.required_string("arguments")?;
                it.string("id")?;
                calls.push((call_id, name));
            }
            "function_call_output" => {
                let call_id = it.required_string("call_id")?;
                match it.required("output")? {
                    Value::String(_) | Value::Array(_) => {}
                    v => return Err(wrong_type(&it.name("output"), "a string or an array", v)),
                }
                let Some((_, name)) = calls.iter().find(|(id, _)| *id == call_id) else {
                    let message =
                        format!("No tool call found for function call output with call_id {call_id}.");
                    return Err(invalid("input", "invalid_value", message));
                };
                ask.tool_result_of = Some(name.to_string());
                ask.last_user_text.clear();
            }
            "reasoning" => {
                it.array("summary", 0)?.ok_or_else(|| missing(&it.name("summary")))?;
                let id = it.required_string("id")?;
                leading = Some(id);
                match it.string("encrypted_content")? {
                    None if unstored => {
                        let message = format!(
                            "Item with id '{id}' not found. Items are not persisted when `store` is set to false. \
                             Try again with `store` set to true, or remove this item from your input."
                        );
                        return Err(Invalid { message, param: Some("input".into()), code: None });
                    }
                    Some(e) if e != ENCRYPTED_REASONING => {
                        let message = format!("The encrypted content for item {id} could not be verified.");
                        return Err(Invalid {
                            message,
                            param: None,
                            code: Some("invalid_encrypted_content"),
                        });
                    }
                    _ => {}
                }
            }
            "item_reference" => it.required_string("id").map(drop)?,
            other => {
                let allowed =
                    ["message", "function_call", "function_call_output", "reasoning", "item_reference"];
                return Err(bad_value(&it.name("type"), other, &allowed));
            }
        }
    }
    match leading {
        Some(id) => Err(unfollowed(id)),
        None => Ok(()),
    }
}

/// A message's content: a string, or the parts its role may send; its text.
fn content(it: &Fields<'_>, role: &str) -> Result<String, Invalid> {
    let name = it.name("content");
    match it.required("content")? {
        Value::String(s) => Ok(s.clone()),
        Value::Array(parts) => {
            let allowed: &[&str] = if role == "assistant" {
                &["output_text", "refusal"]
            } else {
                &["input_text", "input_image", "input_file"]
            };
            let mut text = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let p = Fields::of(p, &format!("{name}[{i}]"))?;
                let kind = p.required_string("type")?;
                if !allowed.contains(&kind) {
                    return Err(bad_value(&p.name("type"), kind, allowed));
                }
                match kind {
                    "input_text" | "output_text" => text.push(p.required_string("text")?.to_string()),
                    "refusal" => p.required_string("refusal").map(drop)?,
                    "input_image" => {
                        p.one_of("detail", &["auto", "low", "high", "original"])?;
                        let url = p.string("image_url")?;
                        let file = p.string("file_id")?;
                        if url.is_none() && file.is_none() {
                            return Err(missing(&p.name("image_url")));
                        }
                    }
                    _ => {}
                }
            }
            Ok(text.join(" "))
        }
        v => Err(wrong_type(&name, "a string or an array", v)),
    }
}
