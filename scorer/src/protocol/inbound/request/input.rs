//! `instructions` and `input` to chat `messages`, in order.
//!
//! A user, system or developer `message` item becomes a message of that role, its parts as chat
//! parts; an assistant one a message whose content is one string (several providers refuse
//! part arrays on assistant messages). `function_call` items become the `tool_calls` of an
//! assistant message, and `function_call_output` items `tool` messages. Chat wants a turn's
//! calls in one assistant message followed by their results, so calls join the assistant
//! message before them (the model's words of that turn, or the calls before them), as does
//! an assistant message item following calls not yet answered.
//!
//! `reasoning` items are dropped: their encrypted content is one provider's, which no other
//! can read (but for a Gemini call's thought signature the router carried in one, which goes
//! back on its call, and the `thinking_blocks` entries it carried (Claude's signed thinking,
//! an OpenAI model's encrypted reasoning), which go on the assistant message the next item
//! joins: `signature`). Members an item or part carries for the client's bookkeeping (`id`, `status`,
//! `phase`, `annotations`, `logprobs`, `prompt_cache_breakpoint`) change nothing of the answer
//! and are left out; items the router cannot stand for (references to stored items, hosted
//! tools' calls) are refused with a 400 naming their type and index.

use serde_json::Value;

use super::fields::{
    in_namespace, kind, missing, name, optional_string, string, unsupported, unsupported_member, wrong_type,
};
use super::tree::{NULL, Node, object};
use crate::error::{ApiError, echo};
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::inbound::signature;
use crate::protocol::raw::At;

/// The messages of `instructions` (a leading system message) and `input`.
pub(super) fn messages(instructions: Option<Node>, input: Option<Node>) -> Result<Vec<Node>, ApiError> {
    let mut turns = Turns::default();
    match instructions.filter(|i| !i.is_null()) {
        None => {}
        Some(Node::Leaf(Value::String(s))) if s.is_empty() => {}
        Some(s @ Node::Leaf(Value::String(_))) => {
            turns.push(object([("role", "system".into()), ("content", s)]));
        }
        Some(other) => return Err(wrong_type("instructions", "a string", &other)),
    }
    match input.filter(|i| !i.is_null()) {
        None => return Err(missing("input", "send the conversation as a string or an array of items")),
        Some(s @ Node::Leaf(Value::String(_))) => {
            turns.push(object([("role", "user".into()), ("content", s)]));
        }
        Some(Node::Array(items)) => {
            for (i, it) in items.into_iter().enumerate() {
                item(&mut turns, it, &|| format!("input[{i}]"))?;
            }
        }
        Some(other) => return Err(wrong_type("input", "a string or an array of input items", &other)),
    }
    let messages = turns.finish();
    if messages.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("input"),
            "'input' holds no message: send at least one message item",
        ));
    }
    Ok(messages)
}

/// The messages written, the assistant message still taking the turn's calls, and the images
/// tool outputs returned.
#[derive(Default)]
struct Turns {
    done: Vec<Node>,
    open: Option<Assistant>,
    /// Images and files from the tool outputs just written, each call's under its id: chat's
    /// tool messages carry text only (the providers refuse other parts there), so they follow
    /// the turn's tool messages as one user message.
    images: Vec<Node>,
    /// Thought signatures carried in reasoning items the router wrote: `(call id, signature)`.
    signatures: Vec<(String, String)>,
    /// `thinking_blocks` entries carried in reasoning items the router wrote, for the assistant
    /// message the next item joins.
    thinking: Vec<Node>,
}

/// An assistant message: its words, its tool calls, and the carried thinking before them.
#[derive(Default)]
struct Assistant {
    text: String,
    calls: Vec<Node>,
    thinking: Vec<Node>,
}

impl Turns {
    fn push(&mut self, message: Node) {
        self.close();
        self.flush_images();
        // Thinking no assistant item followed (an answer cut while it thought) is its own.
        self.thinking.clear();
        self.done.push(message);
    }

    /// A tool message: after the turn's calls, before the images of the outputs.
    fn tool(&mut self, message: Node) {
        self.close();
        self.thinking.clear();
        self.done.push(message);
    }

    /// A tool output's parts: its texts stay in the tool message; its images and files are
    /// kept for the user message after the turn's tool messages, under the call's id.
    fn tool_parts(&mut self, call_id: &str, parts: Vec<Node>) -> Node {
        let (attached, texts): (Vec<Node>, Vec<Node>) =
            parts.into_iter().partition(|p| p.get("type").and_then(Node::as_str) != Some("text"));
        if attached.is_empty() {
            return Node::Array(texts);
        }
        let text = |t: String| object([("type", "text".into()), ("text", t.into())]);
        // On a line of its own: a translation that joins a tool message's texts adds no space.
        let note =
            format!("\n(what this call returned besides text follows the tool results, under {call_id})");
        self.images.push(text(format!("{call_id} returned:")));
        self.images.extend(attached);
        Node::Array(texts.into_iter().chain([text(note)]).collect())
    }

    /// The images and files tool outputs returned, as one user message.
    fn flush_images(&mut self) {
        if self.images.is_empty() {
            return;
        }
        let content = Node::Array(std::mem::take(&mut self.images));
        self.done.push(object([("role", "user".into()), ("content", content)]));
    }

    /// An assistant message item's words: the open message's when its calls await results
    /// (a chat message between calls and their results would part them), else a new one's.
    fn said(&mut self, text: String) {
        if let Some(open) = self.open.as_mut().filter(|a| !a.calls.is_empty()) {
            open.thinking.append(&mut self.thinking);
            if !open.text.is_empty() && !text.is_empty() {
                open.text.push_str("\n\n");
            }
            open.text.push_str(&text);
            return;
        }
        self.close();
        self.flush_images();
        self.open =
            Some(Assistant { text, thinking: std::mem::take(&mut self.thinking), ..Assistant::default() });
    }

    fn call(&mut self, call: Node) {
        if self.open.is_none() {
            self.flush_images();
        }
        // Thinking carried before the call (its reasoning item) goes with it, also into a
        // message open already (a model that spoke, then reasoned, then called).
        let open = self.open.get_or_insert_with(Assistant::default);
        open.thinking.append(&mut self.thinking);
        open.calls.push(call);
    }

    fn close(&mut self) {
        let Some(Assistant { text, calls, thinking }) = self.open.take() else { return };
        // Calls without words: `content: null`, as a chat answer that only calls writes it.
        let content = if text.is_empty() && !calls.is_empty() { NULL } else { text.into() };
        let mut members = vec![("role".to_string(), "assistant".into()), ("content".to_string(), content)];
        if !calls.is_empty() {
            members.push(("tool_calls".into(), Node::Array(calls)));
        }
        if !thinking.is_empty() {
            members.push((THINKING_BLOCKS.into(), Node::Array(thinking)));
        }
        self.done.push(Node::Object(members));
    }

    fn finish(mut self) -> Vec<Node> {
        self.close();
        self.flush_images();
        // Signatures whose reasoning item came after their call (a stream's signature that
        // came late).
        if !self.signatures.is_empty() {
            let mut done = std::mem::take(&mut self.done);
            for message in &mut done {
                if let Some(Node::Array(calls)) = message.get_mut("tool_calls") {
                    calls.iter_mut().for_each(|call| self.sign(call));
                }
            }
            self.done = done;
        }
        self.done
    }

    /// Puts the thought signature carried for a chat tool call on it (the latest for its id,
    /// should a provider use an id twice), unless it has one.
    fn sign(&self, call: &mut Node) {
        let Some(id) = call.get("id").and_then(Node::as_str) else { return };
        let Some((_, signature)) = self.signatures.iter().rev().find(|(c, _)| c == id) else { return };
        signature::sign(call, signature);
    }
}

/// One input item.
fn item(turns: &mut Turns, mut it: Node, at: At<'_>) -> Result<(), ApiError> {
    if !it.is_object() {
        return Err(wrong_type(&at(), "an object", &it));
    }
    let mut kind = kind(&it, at)?;
    if kind.is_none() && it.get("role").is_none() && it.get("id").is_some() {
        // The short form of a reference: `{"id"}` alone.
        kind = Some("item_reference".into());
    }
    match kind.as_deref() {
        Some("message") => message(turns, it, at),
        // The short form: `{"role","content"}` without a type.
        None if it.get("role").is_some() => message(turns, it, at),
        None => Err(missing(&format!("{}.type", at()), "send the item's type")),
        Some("function_call") => {
            let id = name(&mut it, "call_id", at)?;
            // A namespace's function, as the request's tools name it for chat.
            let called = name(&mut it, "name", at)?;
            let called = in_namespace(&mut it, called, at)?;
            let function =
                object([("name", called.into()), ("arguments", string(&mut it, "arguments", at)?.into())]);
            let mut call = object([("id", id.into()), ("type", "function".into()), ("function", function)]);
            turns.sign(&mut call);
            turns.call(call);
            Ok(())
        }
        // A custom tool's call: its function's, its input the one `input` string chat called
        // it with (`tools::custom`).
        Some("custom_tool_call") => {
            let id = name(&mut it, "call_id", at)?;
            let called = name(&mut it, "name", at)?;
            let arguments = serde_json::json!({"input": string(&mut it, "input", at)?}).to_string();
            let function = object([("name", called.into()), ("arguments", arguments.into())]);
            let mut call = object([("id", id.into()), ("type", "function".into()), ("function", function)]);
            turns.sign(&mut call);
            turns.call(call);
            Ok(())
        }
        Some("function_call_output" | "custom_tool_call_output") => {
            let id = name(&mut it, "call_id", at)?;
            let content = match it.take("output") {
                Some(s @ Node::Leaf(Value::String(_))) => s,
                Some(Node::Array(list)) if list.is_empty() => "".into(),
                Some(Node::Array(list)) => {
                    turns.tool_parts(&id, parts(list, &|| format!("{}.output", at()))?)
                }
                None => return Err(missing(&format!("{}.output", at()), "send the call's output")),
                Some(other) => {
                    let want = "a string or an array of content parts";
                    return Err(wrong_type(&format!("{}.output", at()), want, &other));
                }
            };
            turns.tool(object([("role", "tool".into()), ("tool_call_id", id.into()), ("content", content)]));
            Ok(())
        }
        // Dropped, but for a call's thought signature, or `thinking_blocks` entries, the router
        // carried in one.
        Some("reasoning") => {
            let encrypted = it.get("encrypted_content").and_then(Node::as_str);
            if let Some(carried) = encrypted.and_then(signature::read) {
                turns.signatures.push(carried);
            }
            if let Some(Node::Array(blocks)) = encrypted.and_then(signature::read_thinking) {
                turns.thinking.extend(blocks);
            }
            Ok(())
        }
        // A reference to a reasoning item (OpenAI's ids start `rs_`) stands for what is dropped
        // anyway; the AI SDK sends one for each reasoning part of an answer when `store` is on.
        Some("item_reference")
            if it.get("id").and_then(Node::as_str).is_some_and(|id| id.starts_with("rs_")) =>
        {
            Ok(())
        }
        Some("item_reference") => Err(unsupported(
            &format!("{}.type", at()),
            "input items of type 'item_reference' need the item stored, and the router stores none: \
             send the item itself (a client sends whole items with store: false)",
        )),
        Some(other) => Err(unsupported(
            &format!("{}.type", at()),
            format!(
                "input items of type {} are not supported: the router serves messages, function and custom \
                 tool calls and their outputs (hosted tools run at OpenAI only)",
                echo(other)
            ),
        )),
    }
}

/// A `message` item.
fn message(turns: &mut Turns, mut it: Node, at: At<'_>) -> Result<(), ApiError> {
    let role = match it.take("role") {
        Some(Node::Leaf(Value::String(r))) => r,
        None => return Err(missing(&format!("{}.role", at()), "use user, system, developer or assistant")),
        Some(other) => return Err(wrong_type(&format!("{}.role", at()), "a string", &other)),
    };
    let role = match role.as_str() {
        "assistant" => None,
        "user" => Some("user"),
        "system" => Some("system"),
        "developer" => Some("developer"),
        other => {
            return Err(ApiError::invalid(
                "invalid_role",
                Some(&format!("{}.role", at())),
                format!("role {} is not valid: use user, system, developer or assistant", echo(other)),
            ));
        }
    };
    let content_at = || format!("{}.content", at());
    let content = it.take("content").ok_or_else(|| missing(&content_at(), "send text or content parts"))?;
    let Some(role) = role else {
        turns.said(said(content, &content_at)?);
        return Ok(());
    };
    let content = match content {
        s @ Node::Leaf(Value::String(_)) => s,
        Node::Array(list) if list.is_empty() => {
            let param = content_at();
            return Err(ApiError::invalid(
                "empty_array",
                Some(&param),
                format!(
                    "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."
                ),
            ));
        }
        Node::Array(list) => Node::Array(parts(list, &content_at)?),
        other => return Err(wrong_type(&content_at(), "a string or an array of content parts", &other)),
    };
    turns.push(object([("role", role.into()), ("content", content)]));
    Ok(())
}

/// An assistant message's words: a string, or its text and refusal parts joined (a refusal is
/// what the model said that turn).
fn said(content: Node, at: At<'_>) -> Result<String, ApiError> {
    let list = match content {
        Node::Leaf(Value::String(s)) => return Ok(s),
        Node::Array(list) => list,
        other => return Err(wrong_type(&at(), "a string or an array of content parts", &other)),
    };
    let mut out = String::new();
    for (j, mut p) in list.into_iter().enumerate() {
        let at = || format!("{}[{j}]", at());
        if !p.is_object() {
            return Err(wrong_type(&at(), "an object", &p));
        }
        let key = match kind(&p, &at)?.as_deref() {
            Some("output_text" | "input_text") => "text",
            Some("refusal") => "refusal",
            _ => {
                let why = "an assistant message's content can only be output_text and refusal parts";
                return Err(unsupported(&format!("{}.type", at()), why));
            }
        };
        out.push_str(&string(&mut p, key, &at)?);
    }
    Ok(out)
}

/// Content parts (of a user, system or developer message, or a function's output) as chat
/// parts.
fn parts(list: Vec<Node>, at: At<'_>) -> Result<Vec<Node>, ApiError> {
    let mut out = Vec::with_capacity(list.len());
    for (j, p) in list.into_iter().enumerate() {
        out.push(part(p, &|| format!("{}[{j}]", at()))?);
    }
    Ok(out)
}

/// One content part: text, an image by URL, a file by its data; the rest refused.
fn part(mut p: Node, at: At<'_>) -> Result<Node, ApiError> {
    if !p.is_object() {
        return Err(wrong_type(&at(), "an object", &p));
    }
    let member = |key: &str| format!("{}.{key}", at());
    match kind(&p, at)?.as_deref() {
        Some("input_text" | "output_text") => {
            Ok(object([("type", "text".into()), ("text", string(&mut p, "text", at)?.into())]))
        }
        Some("input_image") => {
            let url = match p.take("image_url") {
                Some(url @ Node::Leaf(Value::String(_))) => url,
                Some(other) => return Err(wrong_type(&member("image_url"), "a string", &other)),
                None if p.get("file_id").is_some_and(|f| !f.is_null()) => {
                    let why =
                        "the router stores no files: send the image in image_url, as an https or data URL";
                    return Err(unsupported_member(&member("file_id"), why));
                }
                None => return Err(missing(&member("image_url"), "send an https URL or a data URL")),
            };
            let mut image = vec![("url".to_string(), url)];
            // Chat's details are low, high and auto; `original` (full resolution) is high's.
            match optional_string(p.take("detail"), &|| member("detail"))? {
                Some(d) if d.as_str() == Some("original") => image.push(("detail".into(), "high".into())),
                Some(d) => image.push(("detail".into(), d)),
                None => {}
            }
            Ok(object([("type", "image_url".into()), ("image_url", Node::Object(image))]))
        }
        Some("input_file") => {
            let data = match p.take("file_data") {
                Some(d @ Node::Leaf(Value::String(_))) => d,
                Some(other) => return Err(wrong_type(&member("file_data"), "a string", &other)),
                None if p.get("file_id").is_some_and(|f| !f.is_null()) => {
                    let why = "the router stores no files: send the file's content in file_data";
                    return Err(unsupported_member(&member("file_id"), why));
                }
                None if p.get("file_url").is_some_and(|f| !f.is_null()) => {
                    let why = "the router fetches no files: send the file's content in file_data";
                    return Err(unsupported_member(&member("file_url"), why));
                }
                None => return Err(missing(&member("file_data"), "send the file's content as a data URL")),
            };
            let mut file = vec![("file_data".to_string(), data)];
            if let Some(filename) = optional_string(p.take("filename"), &|| member("filename"))? {
                file.push(("filename".into(), filename));
            }
            Ok(object([("type", "file".into()), ("file", Node::Object(file))]))
        }
        Some("input_audio") => {
            Err(unsupported(&member("type"), "audio input is not supported: send text, images or files"))
        }
        kind => Err(unsupported(
            &member("type"),
            format!(
                "content parts of type {} are not supported here: use input_text, input_image or input_file",
                kind.map_or_else(|| "none".to_string(), echo)
            ),
        )),
    }
}
