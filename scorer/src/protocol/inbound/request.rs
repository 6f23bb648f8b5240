//! A Responses request body to the chat-completions body the router routes.
//!
//! Every top-level member is one of: translated (`input` and `instructions` to `messages`, the
//! option objects to their chat shapes), passed through under the same name, dropped (it asks
//! nothing the router could give and never changes the answer's content), or refused with a
//! 400 naming it and why. A member this translation does not know is refused too: passing it
//! on could fail at a provider, and dropping it could change the answer without telling the
//! client. The router's own members (`prefer`, `tier`, `provider`, `max_price`) pass through
//! unchanged for the route to read.
//!
//! The body is read into a tree that keeps the client's member order (a schema's properties
//! are the order the model writes them in) and refuses a member named twice (`tree`).

mod choice;
pub(crate) mod fields;
mod input;
mod options;
mod tools;
pub(crate) mod tree;

use serde_json::Value;

use fields::{unknown, unsupported_member, wrong_type};
use tree::{Node, object};

use crate::error::ApiError;
use crate::parse::chat::ROUTER_FIELDS;
use crate::protocol::raw::integer;
use crate::protocol::responses::request::PASSED;

use super::echo::Echo;

/// A Responses request made a chat one.
#[derive(Debug)]
pub struct Chat {
    /// The chat-completions body the router routes.
    pub body: Vec<u8>,
    /// What the answer's Response objects say they were asked (and how the request's tools
    /// became chat's, for the answer's calls and errors).
    pub echo: Echo,
    /// The types of the hosted tools left out (`drop_tools`), each once.
    pub dropped_tools: Vec<String>,
}

/// Members left out: `store` (the router stores nothing, whatever it says), `metadata` (tags
/// for stored objects, which OpenAI's chat API refuses without `store`), `truncation` (what to
/// do past the context window: the route picks a model whose window holds the conversation),
/// `stream_options` (its `include_obfuscation` pads events; the router writes its own),
/// `client_metadata` (the Codex CLI's tracing context) and `max_tool_calls` (it limits calls to
/// built-in tools, which are refused or left out: the Agents SDK passes it on from its
/// settings).
const DROPPED: [&str; 6] =
    ["client_metadata", "max_tool_calls", "metadata", "store", "stream_options", "truncation"];

/// Members that ask for state or work the router does not keep or do: each is accepted only
/// when its value asks nothing (the test beside it) and refused otherwise, saying why.
const REFUSED: [Refused; 5] = [
    ("background", is_false, "the router answers while the request is open: send false or leave it out"),
    ("context_management", is_empty, "the router compacts no conversation: leave it out"),
    (
        "conversation",
        Node::is_null,
        "the router stores no conversations: send the whole conversation in input",
    ),
    (
        "previous_response_id",
        Node::is_null,
        "the router stores no responses: send the whole conversation in input",
    ),
    (
        "prompt",
        Node::is_null,
        "the router has no stored prompts: send the prompt's text in instructions and input",
    ),
];

/// A refused member: its name, the test for a value that asks nothing, and why.
type Refused = (&'static str, fn(&Node) -> bool, &'static str);

/// Chat's names for members a Responses request spells otherwise: a client that sent one
/// is told the Responses name, and an error about the chat body it became names the member
/// the client wrote (`answer::renamed_error`).
pub(super) const CHAT_NAMES: [(&str, &str); 6] = [
    ("max_completion_tokens", "max_output_tokens"),
    ("max_tokens", "max_output_tokens"),
    ("messages", "input"),
    ("reasoning_effort", "reasoning.effort"),
    ("response_format", "text.format"),
    ("verbosity", "text.verbosity"),
];

/// A Responses request body to the chat-completions body the router routes: `model`, then
/// `messages`, then the other members in the client's order. Hosted tools whose type is in
/// `drop_tools` are left out, where any other is refused.
pub fn to_chat(body: &[u8], drop_tools: &[String]) -> Result<Chat, ApiError> {
    let Node::Object(members) = tree::parse(body)? else {
        // `tree::parse` reads objects only.
        return Err(ApiError::invalid("invalid_body", None, "request body must be a JSON object"));
    };
    let (mut model, mut instructions, mut input) = (None, None, None);
    let mut out: Vec<(String, Node)> = Vec::with_capacity(members.len() + 2);
    let mut logprobs = false;
    let mut signatures = false;
    let mut echoed = Vec::new();
    let mut tools = tools::Tools::default();
    for (key, value) in members {
        let k = key.as_str();
        if Echo::MEMBERS.contains(&k) && !value.is_null() {
            echoed.push((key.clone(), value.clone()));
        }
        if ROUTER_FIELDS.contains(&k) {
            out.push((key, value));
            continue;
        }
        if DROPPED.contains(&k) {
            continue;
        }
        // The members both APIs name alike (what the other direction passes; `metadata`,
        // among them, is dropped above); `null` is left out.
        if PASSED.contains(&k) {
            if !value.is_null() {
                out.push((key, value));
            }
            continue;
        }
        if let Some((_, asks_nothing, why)) = REFUSED.iter().find(|(name, _, _)| *name == k) {
            if asks_nothing(&value) {
                continue;
            }
            return Err(unsupported_member(k, why));
        }
        match k {
            "model" => model = Some(value),
            "instructions" => instructions = Some(value),
            "input" => input = Some(value),
            "stream" => match value {
                Node::Leaf(Value::Bool(true)) => {
                    out.push(("stream".into(), true.into()));
                    // A Responses stream always ends with the usage (`response.completed`).
                    out.push(("stream_options".into(), object([("include_usage", true.into())])));
                }
                Node::Leaf(Value::Bool(false) | Value::Null) => {}
                other => return Err(wrong_type("stream", "a boolean", &other)),
            },
            "max_output_tokens" => {
                if let Some(n) = count(&value, "max_output_tokens")? {
                    out.push(("max_completion_tokens".into(), n.into()));
                }
            }
            "top_logprobs" => match count(&value, "top_logprobs")? {
                None | Some(0) => {}
                Some(n) => {
                    out.push((key, n.into()));
                    logprobs = true;
                }
            },
            "include" => {
                let asked = options::include(&value)?;
                logprobs |= asked.logprobs;
                signatures = asked.encrypted;
            }
            "tools" => {
                tools = tools::tools(value, drop_tools)?;
                if let Some(list) = tools.list.take() {
                    out.push((key, list));
                }
            }
            "tool_choice" => {
                if let Some(choice) = choice::tool_choice(value, drop_tools)? {
                    out.push((key, choice));
                }
            }
            "text" => options::text(value, &mut out)?,
            "reasoning" => {
                if let Some(effort) = options::effort(value)? {
                    out.push(("reasoning_effort".into(), effort));
                }
            }
            _ => {
                let hint = match CHAT_NAMES.iter().find(|(chat, _)| *chat == k) {
                    Some((_, name)) => {
                        format!("that is a chat-completions member: a Responses request sends {name}")
                    }
                    None => "it is not a Responses member the router knows: leave it out".to_string(),
                };
                return Err(unknown(k, &hint));
            }
        }
    }
    if logprobs {
        out.push(("logprobs".into(), true.into()));
    }
    if let Some((_, choice)) = out.iter_mut().find(|(k, _)| k == "tool_choice") {
        choice::resolve(choice, &tools.declared)?;
    }
    without_tools(&mut out, &tools.dropped)?;
    let model = match model {
        Some(m @ Node::Leaf(Value::String(_))) => m,
        None | Some(Node::Leaf(Value::Null)) => {
            return Err(fields::missing("model", "send the model's name, or auto"));
        }
        Some(other) => return Err(wrong_type("model", "a string", &other)),
    };
    let messages = input::messages(instructions, input)?;
    let mut chat = Vec::with_capacity(out.len() + 2);
    chat.push(("model".to_string(), model));
    chat.push(("messages".to_string(), Node::Array(messages)));
    chat.extend(out);
    let body = serde_json::to_vec(&Node::Object(chat))
        .map_err(|e| ApiError::server(500, "internal", format!("writing the chat body failed: {e}")))?;
    let mut echo = Echo::of(serde_json::to_value(Node::Object(echoed)).unwrap_or_default());
    echo.tool_paths = tools.paths;
    echo.signatures = signatures;
    echo.custom = tools.declared.iter().filter(|d| d.custom).map(|d| d.chat.clone()).collect();
    echo.namespaced = (tools.declared.into_iter())
        .filter_map(|d| d.namespaced.map(|(ns, own)| (d.chat, ns, own)))
        .collect();
    Ok(Chat { body, echo, dropped_tools: tools.dropped })
}

/// A count member (`null`: none): a non-negative whole number, however it is written (`16.0`),
/// as the router's parser reads counts.
pub(crate) fn count(value: &Node, param: &str) -> Result<Option<u64>, ApiError> {
    match value {
        Node::Leaf(v) if v.is_null() => Ok(None),
        Node::Leaf(v) if v.is_number() => integer(v).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "invalid_value",
                Some(param),
                format!("'{param}' must be a non-negative integer"),
            )
        }),
        other => Err(wrong_type(param, "an integer", other)),
    }
}

/// Without tools (none sent, an empty list, or only ones left out), chat refuses a
/// `tool_choice` and `parallel_tool_calls`, which then ask nothing, and they are left out. A
/// choice that forces a call is refused: here when every tool declared was left out (the route
/// would say none was declared), by the route otherwise.
fn without_tools(out: &mut Vec<(String, Node)>, dropped: &[String]) -> Result<(), ApiError> {
    if out.iter().any(|(k, _)| k == "tools") {
        return Ok(());
    }
    let forced = out.iter().any(|(k, v)| k == "tool_choice" && choice::forces(v));
    if forced && !dropped.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("tool_choice"),
            format!(
                "tool_choice forces a tool call, but every tool declared is left out by this gateway (its \
                 responses.drop_tools: {}): declare a function, or send auto or none",
                dropped.join(", ")
            ),
        ));
    }
    out.retain(|(k, _)| match k.as_str() {
        "parallel_tool_calls" => false,
        "tool_choice" => forced,
        _ => true,
    });
    Ok(())
}

fn is_false(v: &Node) -> bool {
    matches!(v, Node::Leaf(Value::Null | Value::Bool(false)))
}

/// `null` or `[]`.
fn is_empty(v: &Node) -> bool {
    match v {
        Node::Array(list) => list.is_empty(),
        other => other.is_null(),
    }
}

#[cfg(test)]
mod refused_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tools_tests;
