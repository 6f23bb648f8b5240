//! The conversation: `system` and `messages` content blocks as chat messages.
//!
//! A user turn's `tool_result` blocks become `tool` messages (chat wants them right after the
//! assistant's calls, where Anthropic puts them first in the next user turn), and its other
//! blocks one user message after them. An assistant turn's `tool_use` blocks become its
//! `tool_calls`, their `input` the arguments' JSON text. Thinking signatures prove the
//! reasoning only to Anthropic: Claude's signed `thinking` blocks and its `redacted_thinking`
//! go on the chat message as `thinking_blocks`, which only the translation to Anthropic's API
//! reads (every chat body goes without it), and thinking without a signature (another model's,
//! as the router told it) is dropped. A `redacted_thinking` block the router wrote carries a
//! Gemini 3 thought signature instead, which goes back on its call
//! (`extra_content.google.thought_signature`), or an OpenAI model's encrypted reasoning, which
//! goes back in `thinking_blocks` as it came.
//! `cache_control` stays on the part (or the tool) it marks, for Anthropic's prompt cache.

use serde_json::Value;

use crate::error::{ApiError, echo};
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::inbound::request::fields::{missing, name, string, unknown, unsupported, wrong_type};
use crate::protocol::inbound::request::tree::{Node, object};
use crate::protocol::inbound::signature;

/// Blocks of Anthropic's server tools and of inputs only its API reads: refused with this.
pub(super) const SERVER_SIDE: &str = "it is run or read on Anthropic's servers, and the router may send the \
                           conversation to any provider";

/// The system prompt as one system message (none when it is empty): one string, its blocks
/// joined by blank lines, unless a block carries `cache_control`, which only a list of parts
/// keeps.
pub(super) fn system(value: Node) -> Result<Option<Node>, ApiError> {
    match value {
        Node::Leaf(Value::String(s)) if s.is_empty() => Ok(None),
        s @ Node::Leaf(Value::String(_)) => Ok(Some(message("system", s))),
        Node::Array(list) => system_blocks(list, &|| "system".to_string()),
        other => Err(wrong_type("system", "a string or an array of text blocks", &other)),
    }
}

/// Text blocks of a system prompt as a system message (none when there are none).
fn system_blocks(list: Vec<Node>, at: &dyn Fn() -> String) -> Result<Option<Node>, ApiError> {
    let mut parts = Vec::with_capacity(list.len());
    for (i, block) in list.into_iter().enumerate() {
        let at = || format!("{}[{i}]", at());
        match kind(&block, &at)?.as_str() {
            "text" => parts.push(text_part(block, &at)?),
            other => return Err(unsupported(&format!("{}.type", at()), only_text(other))),
        }
    }
    Ok(joined(parts).map(|content| message("system", content)))
}

/// The turns, appended to `out` as chat messages; the names of the tools the conversation
/// called or a tool search found (`tool_reference`) are added to `named`.
pub(super) fn messages(value: Node, out: &mut Vec<Node>, named: &mut Vec<String>) -> Result<(), ApiError> {
    let Node::Array(list) = value else {
        return Err(wrong_type("messages", "an array of messages", &value));
    };
    if list.is_empty() {
        return Err(missing("messages", "send at least one message"));
    }
    for (i, mut turn) in list.into_iter().enumerate() {
        let at = || format!("messages[{i}]");
        if !turn.is_object() {
            return Err(wrong_type(&at(), "an object", &turn));
        }
        let role = name(&mut turn, "role", &at)?;
        let content = match turn.take("content") {
            Some(s @ Node::Leaf(Value::String(_))) => vec![object([("type", "text".into()), ("text", s)])],
            Some(Node::Array(blocks)) => blocks,
            Some(other) => {
                return Err(wrong_type(
                    &format!("{}.content", at()),
                    "a string or an array of blocks",
                    &other,
                ));
            }
            None => return Err(missing(&format!("{}.content", at()), "send the turn's content")),
        };
        // A turn's own `output_config` (Claude Code's effort for the turn it starts) is left
        // out: the request's applies to the whole answer.
        if let Node::Object(rest) = &turn
            && let Some((k, _)) = rest.iter().find(|(k, v)| !v.is_null() && k != "output_config")
        {
            return Err(unknown(&format!("{}.{k}", at()), "a message has role and content"));
        }
        match role.as_str() {
            "user" => user(content, &at, out, named)?,
            "assistant" => assistant(content, &at, out, named)?,
            // Claude Code sends the environment it runs in as a system turn among the others.
            "system" => out.extend(system_blocks(content, &|| format!("{}.content", at()))?),
            other => {
                return Err(unsupported(
                    &format!("{}.role", at()),
                    format!("role {} is not a Messages role: send user, assistant or system", echo(other)),
                ));
            }
        }
    }
    Ok(())
}

/// A user turn: its tool results as `tool` messages, then the rest as one user message.
fn user(
    blocks: Vec<Node>,
    at: &dyn Fn() -> String,
    out: &mut Vec<Node>,
    named: &mut Vec<String>,
) -> Result<(), ApiError> {
    let mut parts = Vec::with_capacity(blocks.len());
    let mut results = Vec::new();
    for (j, block) in blocks.into_iter().enumerate() {
        let at = || format!("{}.content[{j}]", at());
        match kind(&block, &at)?.as_str() {
            "text" => parts.push(text_part(block, &at)?),
            "image" => parts.push(image_part(block, &at)?),
            "document" => parts.push(document_part(block, &at)?),
            "tool_result" => results.push(tool_result(block, &at, &mut parts, named)?),
            other => return Err(unsupported(&format!("{}.type", at()), not_in_user(other))),
        }
    }
    // Chat wants a call's results right after the assistant message that made it: system
    // turns sent between (Claude Code's) go after them.
    let role = |m: Option<&Node>| m.and_then(|m| m.get("role")).and_then(Node::as_str).map(str::to_string);
    let mut here = out.len();
    while here > 0 && role(out.get(here - 1)).as_deref() == Some("system") {
        here -= 1;
    }
    if here == 0 || role(out.get(here - 1)).as_deref() != Some("assistant") {
        here = out.len();
    }
    out.splice(here..here, results);
    if let Some(content) = joined(parts) {
        out.push(message("user", content));
    }
    Ok(())
}

/// An assistant turn: its text and its tool calls as one assistant message (none when it held
/// only thinking).
fn assistant(
    blocks: Vec<Node>,
    at: &dyn Fn() -> String,
    out: &mut Vec<Node>,
    named: &mut Vec<String>,
) -> Result<(), ApiError> {
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    let mut signatures = Vec::new();
    let mut thinking = Vec::new();
    for (j, mut block) in blocks.into_iter().enumerate() {
        let at = || format!("{}.content[{j}]", at());
        match kind(&block, &at)?.as_str() {
            "text" => parts.push(text_part(block, &at)?),
            "tool_use" => {
                let id = name(&mut block, "id", &at)?;
                let function = name(&mut block, "name", &at)?;
                named.push(function.clone());
                let arguments = match block.take("input") {
                    Some(input @ Node::Object(_)) => serde_json::to_string(&input).unwrap_or_default(),
                    None => "{}".to_string(),
                    Some(other) => return Err(wrong_type(&format!("{}.input", at()), "an object", &other)),
                };
                let function = object([("name", function.into()), ("arguments", arguments.into())]);
                calls.push(object([("id", id.into()), ("type", "function".into()), ("function", function)]));
            }
            "redacted_thinking" => {
                let data = block.get("data").and_then(Node::as_str);
                match data.map(|d| (d, signature::read(d))) {
                    Some((_, Some(carried))) => signatures.push(carried),
                    Some((d, None)) => match signature::read_thinking(d) {
                        Some(Node::Array(carried)) => thinking.extend(carried),
                        _ if !d.is_empty() => {
                            thinking.push(object([("type", "redacted_thinking".into()), ("data", d.into())]));
                        }
                        _ => {}
                    },
                    None => {}
                }
            }
            "thinking" => {
                // Claude's, signed (the router's own, from another model, carry no signature).
                let s = |k: &str| block.get(k).and_then(Node::as_str).map(str::to_string);
                if let (Some(text), Some(signature)) =
                    (s("thinking"), s("signature").filter(|s| !s.is_empty()))
                {
                    let members = [
                        ("type", "thinking".into()),
                        ("thinking", text.into()),
                        ("signature", signature.into()),
                    ];
                    thinking.push(object(members));
                }
            }
            other => {
                let why = match other {
                    "image" | "document" | "tool_result" => format!("a {other} block belongs in a user turn"),
                    _ => format!("a {} block is not supported: {SERVER_SIDE}", echo(other)),
                };
                return Err(unsupported(&format!("{}.type", at()), why));
            }
        }
    }
    if parts.is_empty() && calls.is_empty() {
        return Ok(());
    }
    let mut m = vec![("role".to_string(), Node::from("assistant"))];
    if !thinking.is_empty() {
        m.push((THINKING_BLOCKS.to_string(), Node::Array(thinking)));
    }
    m.push(("content".to_string(), joined(parts).unwrap_or(Node::Leaf(Value::Null))));
    for call in &mut calls {
        let id = call.get("id").and_then(Node::as_str);
        if let Some((_, signed)) = signatures.iter().rev().find(|(c, _)| Some(c.as_str()) == id) {
            signature::sign(call, signed);
        }
    }
    if !calls.is_empty() {
        m.push(("tool_calls".to_string(), Node::Array(calls)));
    }
    out.push(Node::Object(m));
    Ok(())
}

/// A `tool_result` block as a `tool` message. Its text is the message's content; its images
/// and documents, which a chat tool message cannot hold, go to the user message after it,
/// under the call's id, and its text says so (a screenshot tool's result was "(no output)" on
/// Converse, the image a user's turn of its own). `is_error` has no chat member: the text
/// says `Error:` first.
fn tool_result(
    mut block: Node,
    at: &dyn Fn() -> String,
    images: &mut Vec<Node>,
    named: &mut Vec<String>,
) -> Result<Node, ApiError> {
    let id = name(&mut block, "tool_use_id", at)?;
    let cache = block.take("cache_control");
    let failed = match block.take("is_error") {
        None | Some(Node::Leaf(Value::Bool(false))) => false,
        Some(Node::Leaf(Value::Bool(true))) => true,
        Some(other) => return Err(wrong_type(&format!("{}.is_error", at()), "a boolean", &other)),
    };
    let mut texts = Vec::new();
    let before = images.len();
    match block.take("content") {
        None => {}
        Some(s @ Node::Leaf(Value::String(_))) => texts.push(object([("type", "text".into()), ("text", s)])),
        Some(Node::Array(list)) => {
            for (k, mut part) in list.into_iter().enumerate() {
                let at = || format!("{}.content[{k}]", at());
                match kind(&part, &at)?.as_str() {
                    "text" => texts.push(text_part(part, &at)?),
                    "image" => images.push(image_part(part, &at)?),
                    "document" => images.push(document_part(part, &at)?),
                    // A tool search's finding: the tool it names is declared to every model anyway
                    // (`defer_loading` is left out), so the model is told it by name.
                    "tool_reference" => {
                        let tool = name(&mut part, "tool_name", &at)?;
                        named.push(tool.clone());
                        texts.push(object([
                            ("type", "text".into()),
                            ("text", format!("Tool loaded: {tool}").into()),
                        ]));
                    }
                    other => return Err(unsupported(&format!("{}.type", at()), only_text(other))),
                }
            }
        }
        Some(other) => {
            return Err(wrong_type(&format!("{}.content", at()), "a string or an array of blocks", &other));
        }
    }
    if images.len() > before {
        let text = |t: String| object([("type", "text".into()), ("text", t.into())]);
        images.insert(before, text(format!("{id} returned:")));
        texts.push(text(format!(
            "(what this call returned besides text follows the tool results, under {id})"
        )));
    }
    if failed {
        match texts.first_mut().and_then(|t| t.get_mut("text")) {
            Some(Node::Leaf(Value::String(t))) => t.insert_str(0, "Error: "),
            _ => texts.insert(0, object([("type", "text".into()), ("text", "Error".into())])),
        }
    }
    if let (Some(cache), Some(Node::Object(last))) = (cache, texts.last_mut()) {
        last.retain(|(k, _)| k != "cache_control");
        last.push(("cache_control".into(), cache));
    }
    let content = joined(texts).unwrap_or_else(|| Node::from(""));
    Ok(object([("role", "tool".into()), ("tool_call_id", id.into()), ("content", content)]))
}

/// A text block as a chat text part, its `cache_control` kept (`citations` are Anthropic's
/// pointers into its documents, which the router refuses).
fn text_part(mut block: Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let text = match block.take("text") {
        Some(t @ Node::Leaf(Value::String(_))) => t,
        Some(other) => return Err(wrong_type(&format!("{}.text", at()), "a string", &other)),
        None => return Err(missing(&format!("{}.text", at()), "send the block's text")),
    };
    let mut part = vec![("type".to_string(), Node::from("text")), ("text".to_string(), text)];
    if let Some(cache) = cached(&mut block, at)? {
        part.push(("cache_control".to_string(), cache));
    }
    Ok(Node::Object(part))
}

/// An image block (`base64` data or a `url`) as a chat `image_url` part.
fn image_part(mut block: Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let param = || format!("{}.source", at());
    let Some(mut source) = block.take("source").filter(Node::is_object) else {
        return Err(missing(&param(), "send the image's source: base64 data or a url"));
    };
    let url = match source.take("type").as_ref().and_then(Node::as_str) {
        Some("base64") => {
            let media = name(&mut source, "media_type", &param)?;
            let data = name(&mut source, "data", &param)?;
            format!("data:{media};base64,{data}")
        }
        Some("url") => name(&mut source, "url", &param)?,
        _ => return Err(unsupported(&format!("{}.type", param()), "an image source is base64 or url")),
    };
    let mut part = vec![
        ("type".to_string(), Node::from("image_url")),
        ("image_url".to_string(), object([("url", url.into())])),
    ];
    if let Some(cache) = cached(&mut block, at)? {
        part.push(("cache_control".to_string(), cache));
    }
    Ok(Node::Object(part))
}

/// A document block as a chat part: a PDF (`base64`) as a `file` part, plain text (`text`) as
/// a text part. Anthropic's own document stores (`file`, `content`) and remote PDFs are refused.
fn document_part(mut block: Node, at: &dyn Fn() -> String) -> Result<Node, ApiError> {
    let param = || format!("{}.source", at());
    let Some(mut source) = block.take("source").filter(Node::is_object) else {
        return Err(missing(&param(), "send the document's source: base64 PDF data or text"));
    };
    let cache = cached(&mut block, at)?;
    let mut part = match source.take("type").as_ref().and_then(Node::as_str) {
        Some("base64") => {
            let media = name(&mut source, "media_type", &param)?;
            if media != "application/pdf" {
                return Err(unsupported(
                    &format!("{}.media_type", param()),
                    "a base64 document is a PDF: application/pdf",
                ));
            }
            let data = name(&mut source, "data", &param)?;
            let file = object([
                ("filename", "document.pdf".into()),
                ("file_data", format!("data:{media};base64,{data}").into()),
            ]);
            vec![("type".to_string(), Node::from("file")), ("file".to_string(), file)]
        }
        Some("text") => {
            let text = string(&mut source, "data", &param)?;
            vec![("type".to_string(), Node::from("text")), ("text".to_string(), Node::from(text))]
        }
        _ => {
            return Err(unsupported(
                &format!("{}.type", param()),
                "a document's source is base64 (a PDF) or text: send the document itself",
            ));
        }
    };
    if let Some(cache) = cache {
        part.push(("cache_control".to_string(), cache));
    }
    Ok(Node::Object(part))
}

/// A block's `cache_control`, which must be an object.
pub(super) fn cached(block: &mut Node, at: &dyn Fn() -> String) -> Result<Option<Node>, ApiError> {
    match block.take("cache_control") {
        None => Ok(None),
        Some(c) if c.is_object() => Ok(Some(c)),
        Some(other) => Err(wrong_type(&format!("{}.cache_control", at()), "an object", &other)),
    }
}

/// The top-level `cache_control` (Anthropic's automatic caching: the breakpoint on the last
/// cacheable block) on the last message's last part, where the client could have marked it
/// itself: chat providers take marks out, Anthropic's translation keeps them. A last part
/// marked already, or a message of tool calls alone, keeps what it has.
pub(super) fn mark_last(messages: &mut [Node], cache: Node) {
    let Some(content) = messages.last_mut().and_then(|m| m.get_mut("content")) else { return };
    match content {
        Node::Leaf(Value::String(text)) => {
            let text = std::mem::take(text);
            let part = object([("type", "text".into()), ("text", text.into()), ("cache_control", cache)]);
            *content = Node::Array(vec![part]);
        }
        Node::Array(parts) => {
            if let Some(Node::Object(last)) = parts.last_mut()
                && !last.iter().any(|(k, _)| k == "cache_control")
            {
                last.push(("cache_control".into(), cache));
            }
        }
        _ => {}
    }
}

/// A message's content from its parts: one string when they are all plain text (joined by
/// blank lines), the parts when one is an image or carries `cache_control`; `None` for none.
fn joined(parts: Vec<Node>) -> Option<Node> {
    if parts.is_empty() {
        return None;
    }
    let plain =
        |p: &Node| p.get("cache_control").is_none() && p.get("type").and_then(Node::as_str) == Some("text");
    if !parts.iter().all(plain) {
        return Some(Node::Array(parts));
    }
    let texts: Vec<&str> = parts.iter().filter_map(|p| p.get("text").and_then(Node::as_str)).collect();
    Some(Node::from(texts.join("\n\n")))
}

fn message(role: &str, content: Node) -> Node {
    object([("role", role.into()), ("content", content)])
}

/// A block's `type`, required.
fn kind(block: &Node, at: &dyn Fn() -> String) -> Result<String, ApiError> {
    if !block.is_object() {
        return Err(wrong_type(&at(), "an object", block));
    }
    match block.get("type") {
        Some(Node::Leaf(Value::String(s))) => Ok(s.clone()),
        Some(other) if !other.is_null() => Err(wrong_type(&format!("{}.type", at()), "a string", other)),
        _ => Err(missing(&format!("{}.type", at()), "send the block's type")),
    }
}

fn only_text(kind: &str) -> String {
    format!("a {} block is not supported here: send text blocks", echo(kind))
}

fn not_in_user(kind: &str) -> String {
    match kind {
        "tool_use" | "thinking" | "redacted_thinking" => {
            format!("a {kind} block belongs in an assistant turn")
        }
        _ => format!("a {} block is not supported: {SERVER_SIDE}", echo(kind)),
    }
}
