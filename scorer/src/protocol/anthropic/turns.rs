//! `messages` to the Messages API's turns: system and developer text hoisted to `system`,
//! same-role messages merged, tool calls as `tool_use` blocks and tool results first in the
//! next user turn.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use super::content::{self, Block, Parts, refuse};
use crate::error::{ApiError, echo};
use crate::parse::fields::plain_tool_name;
use crate::parse::messages::THINKING_BLOCKS;
use crate::protocol::raw::{At, Elements, Members, Raw, invalid_json, null, objects_with, once, string};
use crate::protocol::signed::{self, Family};
use crate::protocol::tools::MESSAGES_TOOL_NAME as MAX_TOOL_NAME;
use crate::protocol::tools::{tool_id, tool_name_refused};

/// One Messages turn: the blocks of consecutive same-role OpenAI messages.
pub(super) struct Turn<'a> {
    pub(super) role: &'static str,
    pub(super) blocks: Vec<Block<'a>>,
    /// While the conversation is built, the blocks after the ones a turn starts with ([`leads`]),
    /// in their order; [`finish`] appends them. (Each message's were inserted ahead of the
    /// rest, or the turn sorted, as it came: time quadratic in the messages, 200,000 one-word
    /// messages to Claude held a worker 24 s.)
    pub(super) rest: Vec<Block<'a>>,
    /// The index of the first OpenAI message in it, for error params.
    pub(super) from: usize,
}

/// Whether a block starts its turn: Claude's signed thinking (Anthropic wants it first) and
/// tool results (the Messages API wants them right after their `tool_use` turn), each in the
/// order they came.
fn leads(b: &Block<'_>) -> bool {
    matches!(b, Block::Signed(_) | Block::ToolResult { .. })
}

/// The turns built, each one's blocks in their order ([`Turn::rest`]).
pub(super) fn finish(turns: &mut [Turn<'_>]) {
    for t in turns {
        let rest = std::mem::take(&mut t.rest);
        t.blocks.extend(rest);
    }
}

impl<'a> Turn<'a> {
    /// A turn of `role` from message `from`, empty.
    pub(super) fn new(role: &'static str, from: usize) -> Self {
        Turn { role, blocks: Vec::new(), rest: Vec::new(), from }
    }

    /// Adds blocks, those that lead after the ones before them ([`leads`]).
    fn add(&mut self, blocks: Vec<Block<'a>>) {
        for b in blocks {
            if leads(&b) { self.blocks.push(b) } else { self.rest.push(b) }
        }
    }

    /// The last block as the turn will stand, while it is built.
    fn last_mut(&mut self) -> Option<&mut Block<'a>> {
        match self.rest.last_mut() {
            Some(b) => Some(b),
            None => self.blocks.last_mut(),
        }
    }
}

impl Turn<'_> {
    /// Whether the turn calls tools without starting with Claude's signed thinking: with
    /// thinking on, Anthropic refuses a conversation whose last assistant turn is such ("a
    /// final `assistant` message must start with a thinking block"). Another model may have
    /// answered one step of a tool loop (`auto`, a failover), which no turn tells apart from
    /// a step Claude answered without thinking, so the last turn decides, not the loop's first.
    pub(super) fn calls_tools_unsigned(&self) -> bool {
        self.blocks.iter().any(|b| matches!(b, Block::ToolUse { .. }))
            && !matches!(self.blocks.first(), Some(Block::Signed(_)))
    }

    /// Claude's signed thinking as `model` takes it back ([`crate::protocol::signed`]): its own, its tag
    /// taken off; another model's left out.
    pub(super) fn bind_thinking(&mut self, model: &str) {
        self.blocks.retain_mut(|b| {
            let Block::Signed(v) = b else { return true };
            let key =
                if v.get("type").and_then(Value::as_str) == Some("thinking") { "signature" } else { "data" };
            let Some(Value::String(s)) = v.get_mut(key) else { return false };
            match signed::for_model(Family::Claude, model, s).map(str::to_string) {
                Some(own) => {
                    *s = own;
                    true
                }
                None => false,
            }
        });
    }

    /// Whether the turn holds tool calls or results.
    pub(super) fn has_tool_blocks(&self) -> bool {
        self.blocks.iter().any(|b| matches!(b, Block::ToolUse { .. } | Block::ToolResult { .. }))
    }

    /// The turn with its tool calls and results told as text ([`Block::told`]).
    pub(super) fn tell_tools(&mut self) {
        let blocks = std::mem::take(&mut self.blocks);
        self.blocks = blocks.into_iter().flat_map(Block::told).collect();
    }
}

impl Serialize for Turn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("content", &self.blocks)?;
        m.serialize_entry("role", self.role)?;
        m.end()
    }
}

/// Appends `blocks` to the last turn when it has `role`, else starts a turn (Anthropic
/// requires the roles to alternate); a later message's thinking goes before the rest
/// ([`Turn::add`]). Empty content starts nothing.
fn push<'a>(turns: &mut Vec<Turn<'a>>, role: &'static str, from: usize, blocks: Vec<Block<'a>>) {
    if blocks.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some(last) if last.role == role => last.add(blocks),
        _ => {
            let mut t = Turn::new(role, from);
            t.add(blocks);
            turns.push(t);
        }
    }
}

/// A conversation's translation so far: the system blocks, each with the index of the
/// message it came from, and the turns.
#[derive(Default)]
pub(super) struct Built<'a> {
    pub(super) system: Vec<(usize, Block<'a>)>,
    pub(super) turns: Vec<Turn<'a>>,
}

/// The top-level `system` and the turns. System and developer messages before the first
/// turn are the system prompt (Messages has no system turn); those after it are user text
/// where they stand (see [`add`]).
pub(super) fn conversation(messages: Elements<'_>) -> Result<(Option<Value>, Vec<Turn<'_>>), ApiError> {
    let Some(list) = messages else { return Err(not_a_list()) };
    let mut built = Built::default();
    for (i, m) in list.into_iter().enumerate() {
        add(&mut built, i, m)?;
    }
    finish(&mut built.turns);
    first_is_user(&built.turns)?;
    let Built { system, mut turns } = built;
    trim_prefill(&mut turns);
    Ok((system_value(system.into_iter().map(|(_, b)| b).collect())?, turns))
}

/// The refusal of a `messages` that is not an array.
pub(super) fn not_a_list() -> ApiError {
    refuse("messages", "messages must be an array of messages")
}

/// Message `i` (its members `m`) added to the translation. A system or developer message
/// after the conversation has begun is user text where it stands: hoisted into the system
/// prompt, an agent's closing "now summarise" left the conversation ending on the assistant's
/// turn (a prefill the model continued, or from Claude 4.6 refused) or on a tool result (the
/// model went on with the task), and each such message changed the system prompt, which
/// starts the prompt cache's prefix, so every later turn paid a cache write.
pub(super) fn add<'a>(built: &mut Built<'a>, i: usize, m: Members<'a>) -> Result<(), ApiError> {
    let Built { system, turns } = built;
    // Param paths are only built for an error.
    let at = || format!("messages[{i}]");
    let content_at = || format!("messages[{i}].content");
    let m = once(m, at)?;
    let role = string(m.get("role"))?.unwrap_or_default();
    match role.as_ref() {
        "system" | "developer" => {
            let (blocks, orphan) = content::marked_blocks(m.get("content"), &content_at, Parts::Text)?;
            mark_before(turns, orphan);
            if turns.is_empty() {
                system.extend(blocks.into_iter().map(|b| (i, b)));
            } else {
                push(turns, "user", i, blocks);
            }
        }
        "user" => {
            // A message of blank parts only is left out: its mark goes to the block before it.
            let (blocks, orphan) = content::marked_blocks(m.get("content"), &content_at, Parts::User)?;
            mark_before(turns, orphan);
            push(turns, "user", i, blocks);
        }
        "assistant" => {
            // Claude's signed thinking starts the turn, as Anthropic wrote it.
            let mut blocks = content::signed(m.get(THINKING_BLOCKS))?;
            let (said, orphan) = content::marked_blocks(m.said(), &content_at, Parts::Assistant)?;
            blocks.extend(said);
            // Blank text only: its mark goes to the block before it.
            match (orphan, blocks.last_mut()) {
                (Some(cache), Some(last)) => last.mark(cache),
                (orphan, _) => mark_before(turns, orphan),
            }
            blocks.extend(tool_uses(m.get("tool_calls"), &at)?);
            push(turns, "assistant", i, blocks);
        }
        "tool" => tool_result(turns, &m, &at, i)?,
        _ => {
            return Err(refuse(
                &format!("{}.role", at()),
                format!(
                    "role {} is not supported: use system, developer, user, assistant or tool",
                    echo(&role)
                ),
            ));
        }
    }
    Ok(())
}

/// The mark of a message left out (blank parts only), on the conversation's block before it
/// (a tool result's included), if any: dropped with its message, the request reached Claude
/// with no breakpoint, and no automatic one either (the client had marked).
fn mark_before(turns: &mut [Turn<'_>], orphan: Option<Value>) {
    if let (Some(cache), Some(before)) = (orphan, turns.last_mut().and_then(Turn::last_mut)) {
        before.mark(cache);
    }
}

/// The Messages API starts a conversation with the user.
pub(super) fn first_is_user(turns: &[Turn<'_>]) -> Result<(), ApiError> {
    match turns.first() {
        None => Err(refuse("messages", "messages must contain a user message with content")),
        Some(t) if t.role != "user" => Err(refuse(
            &format!("messages[{}].role", t.from),
            "the first message after the system prompt must be a user message: the Messages API starts a conversation with the user",
        )),
        Some(_) => Ok(()),
    }
}

/// A conversation ending on an assistant turn asks the model to continue it (a prefill),
/// whose text the Messages API refuses with trailing whitespace: it is trimmed, and a turn
/// left empty is dropped. A prefill is sent without thinking, and then the API refuses
/// thinking blocks in it ("When thinking is disabled, an `assistant` message in the final
/// position cannot contain `thinking`"): they go.
pub(super) fn trim_prefill(turns: &mut Vec<Turn<'_>>) {
    let Some(last) = turns.last_mut().filter(|t| t.role == "assistant") else { return };
    last.blocks.retain(|b| !matches!(b, Block::Signed(_)));
    if let Some(Block::Text { text, .. }) = last.blocks.last_mut() {
        match text {
            Cow::Borrowed(t) => *t = t.trim_end(),
            Cow::Owned(t) => t.truncate(t.trim_end().len()),
        }
        if text.is_empty() {
            last.blocks.pop();
        }
    }
    if last.blocks.is_empty() {
        turns.pop();
    }
}

/// The system prompt: one string (its parts joined by blank lines) unless a part carries
/// `cache_control`, which only the list of text blocks can keep.
pub(super) fn system_value(blocks: Vec<Block<'_>>) -> Result<Option<Value>, ApiError> {
    if blocks.is_empty() {
        return Ok(None);
    }
    if blocks.iter().any(Block::cached) {
        return serde_json::to_value(&blocks).map(Some).map_err(invalid_json);
    }
    let texts: Vec<&str> = blocks.iter().filter_map(Block::text).collect();
    Ok(Some(json!(texts.join("\n\n"))))
}

/// An assistant message's `tool_calls` as `tool_use` blocks.
fn tool_uses<'a>(calls: Raw<'a>, at: At<'_>) -> Result<Vec<Block<'a>>, ApiError> {
    if null(calls) {
        return Ok(Vec::new());
    }
    // Each call's `function` object is read in the same pass as the call.
    let Some(calls) = objects_with(calls, "function")? else {
        return Err(refuse(&format!("{}.tool_calls", at()), "tool_calls must be an array"));
    };
    let mut out = Vec::with_capacity(calls.len());
    for (k, (call, function)) in calls.into_iter().enumerate() {
        let at = || format!("{}.tool_calls[{k}]", at());
        let call = once(call, at)?;
        let Some(id) = string(call.get("id"))? else {
            return Err(refuse(&format!("{}.id", at()), "a tool call needs a string id"));
        };
        let function = once(function, || format!("{}.function", at()))?;
        let Some(name) = string(function.get("name"))? else {
            return Err(refuse(&format!("{}.function.name", at()), "a tool call needs a function name"));
        };
        let arguments = string(function.get("arguments"))?.unwrap_or_default();
        // The only `input` the Messages API takes is an object: a call without arguments, or
        // with arguments that are none (an answer cut inside them, `null`, a list, which
        // OpenAI's API takes back), is a call with no input. Refused, the conversation could
        // not go on with Claude, each turn of it moved to another model.
        let input = match serde_json::from_str::<Value>(&arguments) {
            Ok(v @ Value::Object(_)) => v,
            _ => json!({}),
        };
        // A call of a tool named as the API takes no tool (another provider's, a dotted one).
        if !plain_tool_name(&name, MAX_TOOL_NAME) {
            return Err(tool_name_refused(&name, MAX_TOOL_NAME, &format!("{}.function.name", at())));
        }
        out.push(Block::ToolUse { id: tool_id(id), name, input });
    }
    Ok(out)
}

/// A `tool` message as a `tool_result` block in the user turn that follows the tool calls,
/// after the results already there and before any other content: the Messages API wants the
/// results first, right after their `tool_use` turn.
fn tool_result<'a>(turns: &mut Vec<Turn<'a>>, m: &Members<'a>, at: At<'_>, i: usize) -> Result<(), ApiError> {
    let Some(id) = string(m.get("tool_call_id"))? else {
        return Err(refuse(
            &format!("{}.tool_call_id", at()),
            "a tool message needs the tool_call_id it answers",
        ));
    };
    // `content` is optional: an empty result is sent without it.
    let content = content::tool_result(m.get("content"), &|| format!("{}.content", at()))?;
    // After the results already there, before any other content ([`Turn::add`]).
    push(turns, "user", i, vec![Block::ToolResult { id: tool_id(id), content }]);
    Ok(())
}
