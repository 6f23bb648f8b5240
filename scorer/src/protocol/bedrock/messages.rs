//! OpenAI `messages` to Converse `system` blocks and alternating `messages` turns.
//!
//! Converse wants the system prompt apart, turns that alternate between `user` and `assistant`
//! starting with `user`, no empty text, and tool results as `toolResult` blocks of a user turn
//! of their own: a turn with both tool results and other blocks (a user message after tool
//! results, which agents send) is refused ("Conversation blocks and tool result blocks cannot
//! be provided in the same turn"), so such a turn is split in two, with a short assistant turn
//! ([`BRIDGE`]) between to keep the roles alternating. A tool result with no text says so
//! ([`NO_OUTPUT`]): an empty `content` list is refused by some of Bedrock's models.
//!
//! System and developer messages before the first turn are the system prompt; after it they
//! are user text where they stand. Hoisted, an agent's closing "now summarise" left the
//! conversation ending on the assistant's turn (a prefill the model continued) or on a tool
//! result (the model went on with the task), and each one changed the system prompt, where the
//! prompt cache's prefix starts.
//!
//! Messages are read member by member from the body (`protocol::raw`), texts borrowed, and
//! blocks written in member-name order, as a JSON value's map is.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::image::MAX_IMAGES_PER_TURN;
use crate::error::{ApiError, echo};
use crate::parse::fields::plain_tool_name;
use crate::protocol::raw::{At, Elements, Members, Raw, blank, null, objects, objects_with, once, string};
use crate::protocol::tools::CONVERSE_TOOL_NAME as MAX_TOOL_NAME;
use crate::protocol::tools::{nine_character_id, told_call, told_result, tool_id, tool_name_refused};

/// The assistant turn put between a user turn's tool results and the rest of it.
pub(super) const BRIDGE: &str = "Noted.";

/// The text of a tool result that has none (a command with no output).
pub(super) const NO_OUTPUT: &str = "(no output)";

/// The translated conversation.
#[derive(Debug, Default)]
pub(super) struct Conversation<'a> {
    /// `system` blocks (`{"text"}`), from the `system` and `developer` messages before the
    /// first turn.
    pub system: Vec<Block<'a>>,
    /// `messages`: turns, alternating, non-empty.
    pub turns: Vec<Turn<'a>>,
    /// The history carries `toolUse` or `toolResult` blocks (Converse then needs `toolConfig`).
    pub has_tool_blocks: bool,
}

/// A turn: consecutive messages of one role merge into it.
#[derive(Debug)]
pub(super) struct Turn<'a> {
    user: bool,
    /// The index of the first client message in it, for errors.
    first: usize,
    blocks: Vec<Block<'a>>,
    /// A [`BRIDGE`] the translation put in, not a client's message.
    bridge: bool,
}

/// One Converse content block.
#[derive(Debug)]
pub(super) enum Block<'a> {
    /// `{"text"}`.
    Text(Cow<'a, str>),
    /// `{"image"}`, built whole.
    Image(Value),
    /// `{"toolUse": {"toolUseId", "name", "input"}}`.
    ToolUse { id: Cow<'a, str>, name: Cow<'a, str>, input: Value },
    /// `{"toolResult": {"toolUseId", "content": [{"text"}]}}`.
    ToolResult { id: Cow<'a, str>, content: Vec<Block<'a>> },
}

impl Block<'_> {
    fn tool(&self) -> bool {
        matches!(self, Block::ToolUse { .. } | Block::ToolResult { .. })
    }
}

impl<'a> Block<'a> {
    /// A tool call or result as the text blocks that tell it; other blocks as they are.
    fn told(self) -> Vec<Block<'a>> {
        match self {
            Block::ToolUse { id, name, input } => {
                vec![Block::Text(Cow::Owned(told_call(&id, &name, &input)))]
            }
            Block::ToolResult { id, content } => {
                let (open, close) = told_result(&id);
                let mut out = vec![Block::Text(Cow::Owned(open))];
                out.extend(content);
                out.push(Block::Text(Cow::Owned(close)));
                out
            }
            other => vec![other],
        }
    }
}

impl Conversation<'_> {
    /// The history's tool calls and results as text, for a request that lets the model call
    /// no tool (no `tools`, or `tool_choice: "none"`): Converse takes `toolUse`/`toolResult`
    /// blocks only beside a `toolConfig`, whose `toolChoice` has no "none", so declaring the
    /// tools would let the model call one. As text the model reads what happened and can only
    /// answer. The [`BRIDGE`] turns go, their neighbours merged again.
    pub(super) fn tool_history_as_text(&mut self) {
        let mut out: Vec<Turn<'_>> = Vec::with_capacity(self.turns.len());
        for t in std::mem::take(&mut self.turns) {
            if t.bridge {
                continue;
            }
            let blocks = t.blocks.into_iter().flat_map(Block::told);
            match out.last_mut() {
                Some(last) if last.user == t.user => last.blocks.extend(blocks),
                _ => out.push(Turn { user: t.user, first: t.first, blocks: blocks.collect(), bridge: false }),
            }
        }
        self.turns = out;
        self.has_tool_blocks = false;
    }
}

impl Conversation<'_> {
    /// Every tool call id as Mistral's models take it ([`nine_character_id`]).
    pub(super) fn nine_character_tool_ids(&mut self) {
        for block in self.turns.iter_mut().flat_map(|t| t.blocks.iter_mut()) {
            if let Block::ToolUse { id, .. } | Block::ToolResult { id, .. } = block {
                *id = nine_character_id(std::mem::take(id));
            }
        }
    }
}

/// Whether `upstream_model` takes only nine-character tool call ids: Mistral's models
/// ([`nine_character_id`]).
pub(super) fn nine_character_ids(upstream_model: &str) -> bool {
    upstream_model.starts_with("mistral.") || upstream_model.contains(".mistral.")
}

/// `toolUse`'s members, in name order.
struct ToolUse<'b, 'a>(&'b Cow<'a, str>, &'b Cow<'a, str>, &'b Value);

impl Serialize for ToolUse<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("input", self.2)?;
        m.serialize_entry("name", self.1)?;
        m.serialize_entry("toolUseId", self.0)?;
        m.end()
    }
}

/// `toolResult`'s members, in name order.
struct ToolResult<'b, 'a>(&'b Cow<'a, str>, &'b [Block<'a>]);

impl Serialize for ToolResult<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("content", self.1)?;
        m.serialize_entry("toolUseId", self.0)?;
        m.end()
    }
}

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Block::Image(v) = self {
            return v.serialize(s);
        }
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Block::Text(text) => m.serialize_entry("text", text)?,
            Block::ToolUse { id, name, input } => m.serialize_entry("toolUse", &ToolUse(id, name, input))?,
            Block::ToolResult { id, content } => m.serialize_entry("toolResult", &ToolResult(id, content))?,
            Block::Image(_) => {}
        }
        m.end()
    }
}

impl Serialize for Turn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("content", &self.blocks)?;
        m.serialize_entry("role", if self.user { "user" } else { "assistant" })?;
        m.end()
    }
}

/// Translates `messages` (the member is present).
pub(super) fn translate(messages: Elements<'_>) -> Result<Conversation<'_>, ApiError> {
    let Some(list) = messages else {
        return Err(invalid_type("messages", "an array of messages"));
    };
    let mut out = Conversation::default();
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for (i, m) in list.into_iter().enumerate() {
        // Param paths are only built for an error.
        let at = || format!("messages[{i}]");
        let m = once(m, at)?;
        let Some(role) = string(m.get("role"))? else {
            let at = at();
            return Err(ApiError::invalid(
                "missing_required_parameter",
                Some(&format!("{at}.role")),
                format!("{at}.role is required: use system, developer, user, assistant or tool"),
            ));
        };
        let (user, blocks) = match role.as_ref() {
            // Before the first turn, the system prompt; after it, user text where it stands
            // (see the module's documentation).
            "system" | "developer" if turns.is_empty() => {
                out.system.extend(texts(m.get("content"), &at, false)?.into_iter().map(Block::Text));
                continue;
            }
            "system" | "developer" => {
                (true, texts(m.get("content"), &at, false)?.into_iter().map(Block::Text).collect())
            }
            "user" => (true, user_blocks(m.get("content"), &at)?),
            "assistant" => (false, assistant_blocks(&m, &at)?),
            "tool" => (true, vec![tool_result(&m, &at)?]),
            other => {
                return Err(ApiError::invalid(
                    "unsupported_value",
                    Some(&format!("{}.role", at())),
                    format!(
                        "role {} is not supported by this model's API: use system, developer, user, assistant or tool",
                        echo(other)
                    ),
                ));
            }
        };
        out.has_tool_blocks |= blocks.iter().any(Block::tool);
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some(t) if t.user == user => t.blocks.extend(blocks),
            _ => turns.push(Turn { user, first: i, blocks, bridge: false }),
        }
    }
    // Each turn's `toolResult` blocks ahead of the others, each kind in its order: once, at the
    // end (each inserted ahead of the rest as it came took time quadratic in the messages:
    // 100,000 tool results held a worker 5 s).
    for t in &mut turns {
        t.blocks.sort_by_key(|b| !matches!(b, Block::ToolResult { .. }));
    }
    // Consecutive user messages are one Converse message, which holds at most 20 images.
    if let Some(t) = turns
        .iter()
        .find(|t| t.blocks.iter().filter(|b| matches!(b, Block::Image(_))).count() > MAX_IMAGES_PER_TURN)
    {
        let at = format!("messages[{}]", t.first);
        return Err(ApiError::invalid(
            "invalid_value",
            Some(&at),
            format!(
                "the user turn from {at} has more than {MAX_IMAGES_PER_TURN} images: this model's API takes at most {MAX_IMAGES_PER_TURN} in a turn"
            ),
        ));
    }
    match turns.first() {
        None => {
            return Err(ApiError::invalid(
                "invalid_value",
                Some("messages"),
                "'messages' has no user or assistant content: send at least one non-empty user message",
            ));
        }
        Some(t) if !t.user => {
            let at = format!("messages[{}]", t.first);
            return Err(ApiError::invalid(
                "invalid_value",
                Some(&at),
                format!(
                    "{at} is the first turn and comes from the assistant: this model's API needs the conversation to start with a user message"
                ),
            ));
        }
        Some(_) => {}
    }
    out.turns = split_tool_results(turns);
    Ok(out)
}

/// Gives the tool results of each user turn that also has other blocks a turn of their own,
/// followed by a [`BRIDGE`] assistant turn and then the rest (`translate` put the results first).
fn split_tool_results(turns: Vec<Turn<'_>>) -> Vec<Turn<'_>> {
    let mut out = Vec::with_capacity(turns.len());
    for mut t in turns {
        let results = t.blocks.iter().take_while(|b| matches!(b, Block::ToolResult { .. })).count();
        if !t.user || results == 0 || results == t.blocks.len() {
            out.push(t);
            continue;
        }
        let rest = t.blocks.split_off(results);
        let first = t.first;
        out.push(t);
        out.push(Turn { user: false, first, blocks: vec![Block::Text(Cow::Borrowed(BRIDGE))], bridge: true });
        out.push(Turn { user: true, first, blocks: rest, bridge: false });
    }
    out
}

/// The non-empty texts of a `string | [{"type":"text","text"}]` content (`refusal` parts too,
/// when `refusals`: an assistant's earlier refusal is what it said).
fn texts<'a>(content: Raw<'a>, at: At<'_>, refusals: bool) -> Result<Vec<Cow<'a, str>>, ApiError> {
    let mut out = Vec::new();
    if let Some(text) = string(content)? {
        out.push(text);
    } else if let Some(parts) = objects(content)? {
        for (j, p) in parts.into_iter().enumerate() {
            let here = || format!("{}.content[{j}]", at());
            let p = once(p, here)?;
            match string(p.get("type"))?.as_deref() {
                Some("text") => out.push(str_member(&p, "text", &here)?),
                Some("refusal") if refusals => out.push(str_member(&p, "refusal", &here)?),
                other => return Err(unsupported_part(&here(), other, "text")),
            }
        }
    } else if !null(content) {
        return Err(invalid_type(&format!("{}.content", at()), "a string or an array of text parts"));
    }
    out.retain(|t| !blank(t));
    Ok(out)
}

fn user_blocks<'a>(content: Raw<'a>, at: At<'_>) -> Result<Vec<Block<'a>>, ApiError> {
    let Some(parts) = objects(content)? else {
        if string(content)?.is_some() {
            return Ok(texts(content, at, false)?.into_iter().map(Block::Text).collect());
        }
        let at = at();
        if null(content) {
            return Err(ApiError::invalid(
                "missing_required_parameter",
                Some(&format!("{at}.content")),
                format!("{at}.content is required for role 'user'"),
            ));
        }
        return Err(invalid_type(&format!("{at}.content"), "a string or an array of content parts"));
    };
    let mut out = Vec::new();
    for (j, p) in parts.into_iter().enumerate() {
        let here = || format!("{}.content[{j}]", at());
        let p = once(p, here)?;
        match string(p.get("type"))?.as_deref() {
            Some("text") => {
                let t = str_member(&p, "text", &here)?;
                if !blank(&t) {
                    out.push(Block::Text(t));
                }
            }
            Some("image_url") => out.push(Block::Image(super::image::image(&p, &here())?)),
            other => return Err(unsupported_part(&here(), other, "text or image_url")),
        }
    }
    Ok(out)
}

fn assistant_blocks<'a>(m: &Members<'a>, at: At<'_>) -> Result<Vec<Block<'a>>, ApiError> {
    let mut out: Vec<Block<'a>> = texts(m.said(), at, true)?.into_iter().map(Block::Text).collect();
    if !null(m.get("function_call")) {
        let at = at();
        return Err(ApiError::invalid(
            "unsupported_parameter",
            Some(&format!("{at}.function_call")),
            format!("{at}.function_call is the deprecated form of tool calls: send tool_calls"),
        ));
    }
    // Each call's `function` object is read in the same pass as the call.
    let calls = match objects_with(m.get("tool_calls"), "function")? {
        Some(calls) => calls,
        None if null(m.get("tool_calls")) => return Ok(out),
        None => return Err(invalid_type(&format!("{}.tool_calls", at()), "an array of tool calls")),
    };
    for (k, (call, function)) in calls.into_iter().enumerate() {
        let here = || format!("{}.tool_calls[{k}]", at());
        let call = once(call, here)?;
        let id = str_member(&call, "id", &here)?;
        let function_at = || format!("{}.function", here());
        let function = once(function, function_at)?;
        let name = str_member(&function, "name", &function_at)?;
        let input = arguments(function.get("arguments"), &|| format!("{}.function.arguments", here()))?;
        // A call of a tool named as Converse takes no tool: its 400, no other candidate tried.
        if !plain_tool_name(&name, MAX_TOOL_NAME) {
            return Err(tool_name_refused(&name, MAX_TOOL_NAME, &format!("{}.name", function_at())));
        }
        out.push(Block::ToolUse { id: tool_id(id), name, input });
    }
    Ok(out)
}

/// A tool call's `arguments` string as the JSON object Converse takes as `input`. An empty
/// string is a call with no arguments (some clients send it for tools without parameters), and
/// so are arguments that are no object (an answer cut inside them, `null`, a list, which
/// OpenAI's API takes back): refused, the conversation could not go on with this model.
fn arguments(args: Raw<'_>, param: At<'_>) -> Result<Value, ApiError> {
    let text = match string(args)? {
        Some(s) => s,
        None if null(args) => Cow::Borrowed(""),
        None => return Err(invalid_type(&param(), "a string of JSON")),
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Ok(Value::Object(Map::new())),
    }
}

fn tool_result<'a>(m: &Members<'a>, at: At<'_>) -> Result<Block<'a>, ApiError> {
    let id = string(m.get("tool_call_id"))?.ok_or_else(|| {
        let at = at();
        ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{at}.tool_call_id")),
            format!("{at}.tool_call_id is required for role 'tool'"),
        )
    })?;
    let mut content: Vec<Block<'a>> =
        texts(m.get("content"), at, false)?.into_iter().map(Block::Text).collect();
    if content.is_empty() {
        content.push(Block::Text(Cow::Borrowed(NO_OUTPUT)));
    }
    Ok(Block::ToolResult { id: tool_id(id), content })
}

/// The string member `key` of `m`, or a 400 naming `at.key`.
fn str_member<'a>(m: &Members<'a>, key: &str, at: At<'_>) -> Result<Cow<'a, str>, ApiError> {
    match string(m.get(key))? {
        Some(s) => Ok(s),
        None if null(m.get(key)) => {
            let at = at();
            Err(ApiError::invalid(
                "missing_required_parameter",
                Some(&format!("{at}.{key}")),
                format!("{at}.{key} is required"),
            ))
        }
        None => Err(invalid_type(&format!("{}.{key}", at()), "a string")),
    }
}

/// The string member `key` of `v`, or a 400 naming `at.key`.
pub(super) fn str_field<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, ApiError> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{at}.{key}")),
            format!("{at}.{key} is required"),
        )),
        Some(_) => Err(invalid_type(&format!("{at}.{key}"), "a string")),
    }
}

/// A 400 `invalid_type` for `param`, saying what it must be.
pub(super) fn invalid_type(param: &str, what: &str) -> ApiError {
    ApiError::invalid("invalid_type", Some(param), format!("'{param}' must be {what}"))
}

fn unsupported_part(at: &str, kind: Option<&str>, valid: &str) -> ApiError {
    let param = format!("{at}.type");
    ApiError::invalid(
        "unsupported_value",
        Some(&param),
        format!(
            "content part type {} is not supported here by this model's API: use {valid}",
            echo(kind.unwrap_or("(none)"))
        ),
    )
}
