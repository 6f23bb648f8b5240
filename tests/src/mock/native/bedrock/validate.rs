//! What Converse refuses: unknown members of every structure, unions with other than one
//! member, the documented ranges, the conversation's order and its tool pairs.

use serde_json::{Map, Value};

use crate::mock::native::{Ask, Tool, is_base64};

/// Members of `ConverseRequest` in the body (`modelId` is in the path).
const REQUEST: [&str; 12] = [
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "promptVariables",
    "additionalModelResponseFieldPaths",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
];
/// Members of the `ContentBlock` union a mock accepts in messages.
const BLOCKS: [&str; 8] =
    ["text", "image", "document", "toolUse", "toolResult", "reasoningContent", "cachePoint", "guardContent"];
/// Most stop sequences (`InferenceConfigurationStopSequencesList`).
const MAX_STOP_SEQUENCES: usize = 2500;

/// A 400 `ValidationException` message.
type Checked<T = ()> = Result<T, String>;

fn refuse<T>(message: impl Into<String>) -> Checked<T> {
    Err(message.into())
}

/// An object whose members must all be in `allowed` (Bedrock rejects unknown members).
fn members<'a>(v: &'a Value, at: &str, allowed: &[&str]) -> Checked<&'a Map<String, Value>> {
    let Some(map) = v.as_object() else { return refuse(format!("{at} must be an object.")) };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return refuse(format!(
            "Malformed input request: {at}: extraneous key [{k}] is not permitted, please reformat your input and try again."
        ));
    }
    Ok(map)
}

/// A union: exactly one member set, one of `allowed`; its name and value.
fn union<'a>(v: &'a Value, at: &str, allowed: &[&str]) -> Checked<(&'a str, &'a Value)> {
    let map = members(v, at, allowed)?;
    let mut set = map.iter().filter(|(_, v)| !v.is_null());
    match (set.next(), set.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => refuse(format!("{at} must set exactly one of: {}.", allowed.join(", "))),
    }
}

fn string<'a>(v: &'a Value, at: &str, min: usize, max: usize) -> Checked<&'a str> {
    match v.as_str() {
        Some(s) if (min..=max).contains(&s.chars().count()) => Ok(s),
        Some(_) => refuse(format!("{at} must be between {min} and {max} characters long.")),
        None => refuse(format!("{at} is required and must be a string.")),
    }
}

/// A tool use id: `^[a-zA-Z0-9_-]+$`, 1 to 64 characters (Converse's ToolUseBlock).
fn tool_use_id<'a>(v: &'a Value, at: &str) -> Checked<&'a str> {
    let id = string(v, at, 1, 64)?;
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return refuse(format!("{at} must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$"));
    }
    Ok(id)
}

/// The body: every member and its shape, the conversation's order and its tool pairs.
pub(super) fn validate(body: &Value, bytes: usize) -> Checked<Ask<'_>> {
    let top = members(body, "request", &REQUEST)?;
    let tools = tool_config(top.get("toolConfig"))?;
    if let Some(system) = top.get("system") {
        let Some(list) = system.as_array() else { return refuse("system must be a list.") };
        for (i, b) in list.iter().enumerate() {
            let at = format!("system.{i}");
            match union(b, &at, &["text", "cachePoint", "guardContent"])? {
                ("text", t) => string(t, &format!("{at}.text"), 1, usize::MAX).map(drop)?,
                ("cachePoint", c) => cache_point(c, &at)?,
                _ => {}
            }
        }
    }
    if let Some(c) = top.get("inferenceConfig") {
        inference_config(c)?;
    }
    let Some(messages) = top.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return refuse(
            "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        );
    };
    let mut previous_tool_uses: Vec<(String, String)> = Vec::new();
    let mut ask = Ask {
        last_user_text: String::new(),
        tool_result_of: None,
        first_tool: tools.first().map(|(name, schema)| Tool { name, schema }),
        request_bytes: bytes,
    };
    let mut tool_blocks = false;
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages.{i}");
        let msg = members(m, &at, &["role", "content"])?;
        let role = msg.get("role").and_then(Value::as_str).unwrap_or_default();
        let want = if i % 2 == 0 { "user" } else { "assistant" };
        if role != "user" && role != "assistant" {
            return refuse(format!("{at}.role must be one of: user, assistant."));
        }
        if i == 0 && role != "user" {
            return refuse(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
            );
        }
        if role != want {
            return refuse(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
            );
        }
        let Some(blocks) = msg.get("content").and_then(Value::as_array).filter(|c| !c.is_empty()) else {
            return refuse(format!(
                "The content field in the Message object at {at} is empty. Add a ContentBlock object to the content field and try again."
            ));
        };
        let mut uses = Vec::new();
        let mut results = Vec::new();
        let mut text = Vec::new();
        let mut others = 0;
        for (j, b) in blocks.iter().enumerate() {
            let at = format!("{at}.content.{j}");
            match block(b, &at, role)? {
                Block::Text(t) => text.push(t),
                Block::ToolUse(id, name) => uses.push((id, name)),
                Block::ToolResult(id) => results.push(id),
                Block::Other => others += 1,
                Block::CachePoint => {}
            }
        }
        if !results.is_empty() && (!text.is_empty() || others > 0) {
            return refuse(format!(
                "{at}.content: Conversation blocks and tool result blocks cannot be provided in the same turn."
            ));
        }
        tool_blocks |= !uses.is_empty() || !results.is_empty();
        if results.len() > previous_tool_uses.len() {
            return refuse(format!(
                "The number of toolResult blocks at {at}.content exceeds the number of toolUse blocks of previous turn."
            ));
        }
        if let Some(id) = results.iter().find(|r| !previous_tool_uses.iter().any(|(u, _)| u == *r)) {
            return refuse(format!(
                "The toolResult block at {at} has toolUseId {id}, which matches no toolUse block of the previous turn."
            ));
        }
        let unanswered: Vec<&str> = previous_tool_uses
            .iter()
            .filter(|(u, _)| !results.contains(u))
            .map(|(u, _)| u.as_str())
            .collect();
        if !unanswered.is_empty() {
            return refuse(format!(
                "Expected toolResult blocks at {at}.content for the following Ids: {}",
                unanswered.join(", ")
            ));
        }
        if role == "user" {
            ask.last_user_text = text.join(" ");
            ask.tool_result_of = results
                .first()
                .and_then(|r| previous_tool_uses.iter().find(|(u, _)| u == r).map(|(_, name)| name.clone()));
        }
        previous_tool_uses = uses;
    }
    if tool_blocks && tools.is_empty() {
        return refuse(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        );
    }
    Ok(ask)
}

/// What a content block contributes to the conversation's checks.
enum Block {
    Text(String),
    ToolUse(String, String),
    ToolResult(String),
    Other,
    /// A cache checkpoint: no content, allowed beside tool results.
    CachePoint,
}

fn block(b: &Value, at: &str, role: &str) -> Checked<Block> {
    let (kind, v) = union(b, at, &BLOCKS)?;
    match kind {
        "text" => {
            let Some(t) = v.as_str().filter(|t| !t.trim().is_empty()) else {
                return refuse(format!(
                    "The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."
                ));
            };
            Ok(Block::Text(t.to_string()))
        }
        "image" => image(v, &format!("{at}.image")).map(|()| Block::Other),
        "document" => {
            let d =
                members(v, &format!("{at}.document"), &["format", "name", "source", "context", "citations"])?;
            for k in ["format", "name", "source"] {
                if !d.contains_key(k) {
                    return refuse(format!("{at}.document.{k} is required."));
                }
            }
            Ok(Block::Other)
        }
        "toolUse" => {
            if role != "assistant" {
                return refuse(format!("{at}: toolUse blocks are only allowed in assistant messages."));
            }
            let at = format!("{at}.toolUse");
            let u = members(v, &at, &["toolUseId", "name", "input", "type"])?;
            let id = tool_use_id(u.get("toolUseId").unwrap_or(&Value::Null), &format!("{at}.toolUseId"))?;
            let name = string(u.get("name").unwrap_or(&Value::Null), &format!("{at}.name"), 1, 64)?;
            if !u.get("input").is_some_and(Value::is_object) {
                return refuse(format!("{at}.input is required and must be a JSON object."));
            }
            Ok(Block::ToolUse(id.to_string(), name.to_string()))
        }
        "toolResult" => {
            if role != "user" {
                return refuse(format!("{at}: toolResult blocks are only allowed in user messages."));
            }
            let at = format!("{at}.toolResult");
            let r = members(v, &at, &["toolUseId", "content", "status", "type"])?;
            let id = tool_use_id(r.get("toolUseId").unwrap_or(&Value::Null), &format!("{at}.toolUseId"))?;
            // Some of Bedrock's models refuse an empty list (Nemotron: "missing field content").
            let Some(content) = r.get("content").and_then(Value::as_array).filter(|c| !c.is_empty()) else {
                return refuse(format!("{at}.content is required and must be a non-empty list."));
            };
            for (k, c) in content.iter().enumerate() {
                let at = format!("{at}.content.{k}");
                match union(c, &at, &["text", "json", "image", "document"])? {
                    ("text", t) if !t.is_string() => return refuse(format!("{at}.text must be a string.")),
                    ("json", j) if !j.is_object() && !j.is_array() => {
                        return refuse(format!("{at}.json must be a JSON document."));
                    }
                    ("image", i) => image(i, &format!("{at}.image"))?,
                    _ => {}
                }
            }
            match r.get("status").map(Value::as_str) {
                None | Some(Some("success" | "error")) => Ok(Block::ToolResult(id.to_string())),
                _ => refuse(format!("{at}.status must be one of: success, error.")),
            }
        }
        "reasoningContent" => {
            let at = format!("{at}.reasoningContent");
            match union(v, &at, &["reasoningText", "redactedContent"])? {
                ("reasoningText", t) => {
                    let t = members(t, &format!("{at}.reasoningText"), &["text", "signature"])?;
                    if !t.get("text").is_some_and(Value::is_string) {
                        return refuse(format!("{at}.reasoningText.text is required."));
                    }
                }
                (_, r) if !r.as_str().is_some_and(is_base64) => {
                    return refuse(format!("{at}.redactedContent must be base64."));
                }
                _ => {}
            }
            Ok(Block::Other)
        }
        "cachePoint" => cache_point(v, at).map(|()| Block::CachePoint),
        _ => Ok(Block::Other),
    }
}

fn cache_point(v: &Value, at: &str) -> Checked {
    let c = members(v, &format!("{at}.cachePoint"), &["type", "ttl"])?;
    if c.get("type").and_then(Value::as_str) != Some("default") {
        return refuse(format!("{at}.cachePoint.type must be default."));
    }
    match c.get("ttl").map(Value::as_str) {
        None | Some(Some("5m" | "1h")) => Ok(()),
        _ => refuse(format!("{at}.cachePoint.ttl must be one of: 5m, 1h.")),
    }
}

fn image(v: &Value, at: &str) -> Checked {
    let i = members(v, at, &["format", "source"])?;
    match i.get("format").and_then(Value::as_str) {
        Some("png" | "jpeg" | "gif" | "webp") => {}
        _ => return refuse(format!("{at}.format must be one of: png, jpeg, gif, webp.")),
    }
    let Some(source) = i.get("source") else { return refuse(format!("{at}.source is required.")) };
    match union(source, &format!("{at}.source"), &["bytes", "s3Location"])? {
        ("bytes", b) if !b.as_str().is_some_and(is_base64) => {
            refuse(format!("{at}.source.bytes must be base64-encoded image bytes."))
        }
        _ => Ok(()),
    }
}

fn inference_config(c: &Value) -> Checked {
    let c = members(c, "inferenceConfig", &["maxTokens", "temperature", "topP", "stopSequences"])?;
    if let Some(m) = c.get("maxTokens")
        && m.as_u64().is_none_or(|m| m < 1)
    {
        return refuse("inferenceConfig.maxTokens must be an integer greater than or equal to 1.");
    }
    for key in ["temperature", "topP"] {
        if let Some(x) = c.get(key)
            && !x.as_f64().is_some_and(|x| (0.0..=1.0).contains(&x))
        {
            return refuse(format!("inferenceConfig.{key} must be a number between 0 and 1."));
        }
    }
    if let Some(s) = c.get("stopSequences") {
        let ok = s.as_array().is_some_and(|a| {
            a.len() <= MAX_STOP_SEQUENCES && a.iter().all(|x| x.as_str().is_some_and(|x| !x.is_empty()))
        });
        if !ok {
            return refuse(format!(
                "inferenceConfig.stopSequences must be a list of at most {MAX_STOP_SEQUENCES} non-empty strings."
            ));
        }
    }
    Ok(())
}

/// `toolConfig`: its tool specs as (name, input schema), in order.
fn tool_config(c: Option<&Value>) -> Checked<Vec<(&str, &Value)>> {
    let Some(c) = c else { return Ok(Vec::new()) };
    let c = members(c, "toolConfig", &["tools", "toolChoice"])?;
    let Some(list) = c.get("tools").and_then(Value::as_array).filter(|t| !t.is_empty()) else {
        return refuse("toolConfig.tools must be a list of at least 1 tool.");
    };
    let mut tools = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let at = format!("toolConfig.tools.{i}");
        match union(t, &at, &["toolSpec", "systemTool", "cachePoint"])? {
            ("toolSpec", spec) => {
                let at = format!("{at}.toolSpec");
                let s = members(spec, &at, &["name", "description", "inputSchema", "strict"])?;
                let name = string(s.get("name").unwrap_or(&Value::Null), &format!("{at}.name"), 1, 64)?;
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return refuse(format!("{at}.name must match [a-zA-Z0-9_-]+."));
                }
                if let Some(d) = s.get("description") {
                    string(d, &format!("{at}.description"), 1, usize::MAX)?;
                }
                let Some(schema) = s.get("inputSchema") else {
                    return refuse(format!("{at}.inputSchema is required."));
                };
                let (_, json) = union(schema, &format!("{at}.inputSchema"), &["json"])?;
                if !json.is_object() {
                    return refuse(format!("{at}.inputSchema.json must be a JSON object."));
                }
                tools.push((name, json));
            }
            ("cachePoint", cp) => cache_point(cp, &at)?,
            _ => {}
        }
    }
    if let Some(choice) = c.get("toolChoice") {
        match union(choice, "toolConfig.toolChoice", &["auto", "any", "tool"])? {
            ("tool", t) => {
                let t = members(t, "toolConfig.toolChoice.tool", &["name"])?;
                let name = t.get("name").and_then(Value::as_str).unwrap_or_default();
                if !tools.iter().any(|(n, _)| *n == name) {
                    return refuse(format!(
                        "toolConfig.toolChoice.tool.name {name:?} names no tool in toolConfig.tools."
                    ));
                }
            }
            (kind, v) => members(v, &format!("toolConfig.toolChoice.{kind}"), &[]).map(drop)?,
        }
    }
    Ok(tools)
}
