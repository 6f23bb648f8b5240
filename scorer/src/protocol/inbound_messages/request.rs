//! An Anthropic Messages request body to the chat-completions body the router routes.
//!
//! Every top-level member is translated (`system` and `messages` to `messages`, `tools`,
//! `tool_choice`, `thinking` and `output_config` to their chat shapes), passed under chat's
//! name (`max_tokens` as `max_completion_tokens`, `stop_sequences` as `stop`), dropped (it
//! changes nothing the client relies on), or refused with a 400 naming it and why; a member
//! this translation does not know is refused too. `max_tokens`, which the API requires, goes
//! as a ceiling (`max_tokens_ceiling`): a model with a smaller output limit stays a candidate
//! and is sent its own. Adaptive thinking's effort goes as a hint (`reasoning_effort_hint`):
//! sent to the models that take an effort, no model left out for it. The router's own members
//! (`prefer`, `tier`, `provider`, `max_price`, `max_tokens_ceiling`, `reasoning_effort_hint`)
//! pass through for the route to read. Errors name the member as the
//! client wrote it (`messages[2].content[0].tool_use_id`).
//!
//! The body is read into a tree that keeps the client's member order (a tool's
//! `input_schema` properties are the order the model writes them in) and refuses a member
//! named twice.

mod blocks;
mod tools;

use std::collections::HashSet;

use serde_json::Value;

use crate::error::ApiError;
use crate::parse::chat::ROUTER_FIELDS;
use crate::protocol::anthropic::request::MIN_THINKING_BUDGET;
use crate::protocol::inbound::request::count;
use crate::protocol::inbound::request::fields::{
    missing, unknown, unsupported, unsupported_member, wrong_type,
};
use crate::protocol::inbound::request::tree::{self, NULL, Node, object};
use crate::protocol::tools::pattern_refused;

/// Members left out: `metadata` (its `user_id` is Anthropic's abuse tracking),
/// `top_k` (no chat sampling takes it: `temperature` and `top_p` still apply),
/// `service_tier` (Anthropic's capacity choice; the route picks the provider),
/// `context_management` (Anthropic's clearing of old tool results on its side: without it the
/// whole conversation is sent, which the route fits to a model's window) and `safeguards`
/// (context for Anthropic's classifier of a client's dangerous tool use, which runs only
/// there).
const DROPPED: [&str; 5] = ["context_management", "metadata", "safeguards", "service_tier", "top_k"];

/// Members that ask for work only Anthropic's servers do, accepted only when they ask nothing.
const REFUSED: [(&str, &str); 2] = [
    ("container", "the router runs no code-execution containers: leave it out"),
    ("mcp_servers", "the router connects to no MCP servers: run them in the client, as tools"),
];

/// `budget_tokens` up to which a thinking budget asks `low` and then `medium` effort; more is
/// `high` (the efforts' own budgets are 2,048, 8,192 and 16,384 tokens).
const EFFORT_BUDGETS: [(u64, &str); 2] = [(4_096, "low"), (12_288, "medium")];

/// A Messages request body to the chat body the router routes: `model`, then `messages`
/// (the system prompt first), then the other members in the client's order.
pub fn to_chat(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    to_chat_shown(body).map(|(chat, _)| chat)
}

/// [`to_chat`], and how its answer is shown ([`super::Shown`]).
pub fn to_chat_shown(body: &[u8]) -> Result<(Vec<u8>, super::Shown), ApiError> {
    let Node::Object(members) = tree::parse(body)? else {
        return Err(ApiError::invalid("invalid_body", None, "request body must be a JSON object"));
    };
    let (mut model, mut system, mut messages) = (None, None, None);
    let mut out: Vec<(String, Node)> = Vec::with_capacity(members.len() + 2);
    let mut thought = Thinking::Default;
    let mut omitted = false;
    let mut effort = None;
    let mut declared = None;
    let mut cache = None;
    for (key, value) in members {
        let k = key.as_str();
        if ROUTER_FIELDS.contains(&k) {
            out.push((key, value));
            continue;
        }
        if DROPPED.contains(&k) || value.is_null() {
            continue;
        }
        if let Some((_, why)) = REFUSED.iter().find(|(name, _)| *name == k) {
            if matches!(&value, Node::Array(list) if list.is_empty()) {
                continue;
            }
            return Err(unsupported_member(k, why));
        }
        match k {
            "model" => model = Some(value),
            "system" => system = Some(value),
            "messages" => messages = Some(value),
            "max_tokens" => {
                if let Some(n) = count(&value, k)? {
                    if n == 0 {
                        return Err(ApiError::invalid(
                            "invalid_value",
                            Some(k),
                            "'max_tokens' must be at least 1",
                        ));
                    }
                    // The API requires it, so clients send a model's whole output (Claude Code:
                    // 32,000 or 128,000): a ceiling, not a size the answer needs.
                    out.push(("max_completion_tokens".into(), n.into()));
                }
            }
            "temperature" | "top_p" => match value {
                Node::Leaf(Value::Number(_)) => out.push((key, value)),
                other => return Err(wrong_type(k, "a number", &other)),
            },
            "stop_sequences" => {
                if let Some(stop) = stop_sequences(value)? {
                    out.push(("stop".into(), stop));
                }
            }
            "stream" => match value {
                Node::Leaf(Value::Bool(true)) => {
                    out.push(("stream".into(), true.into()));
                    // A Messages stream ends with the usage (`message_delta`).
                    out.push(("stream_options".into(), object([("include_usage", true.into())])));
                }
                Node::Leaf(Value::Bool(false)) => {}
                other => return Err(wrong_type(k, "a boolean", &other)),
            },
            "tools" => {
                declared = Some(tools::tools(value)?);
                out.push((key, NULL));
            }
            "tool_choice" => tools::tool_choice(value, &mut out)?,
            "thinking" => {
                omitted = value.get("display").and_then(Node::as_str) == Some("omitted");
                thought = thinking(value)?;
            }
            "output_config" => effort = output_config(value, &mut out)?,
            "output_format" => out.push(("response_format".into(), response_format(value, k)?)),
            // Anthropic's automatic caching: the breakpoint on the last block.
            "cache_control" if value.is_object() => cache = Some(value),
            "cache_control" => return Err(wrong_type(k, "an object", &value)),
            _ => {
                let hint = match k {
                    "max_completion_tokens" => "a Messages request sends max_tokens",
                    "stop" => "a Messages request sends stop_sequences",
                    "reasoning_effort" => "a Messages request sends thinking",
                    _ => "it is not a Messages member the router knows: leave it out",
                };
                return Err(unknown(k, hint));
            }
        }
    }
    match thought {
        Thinking::Budget(effort, budget) => {
            out.push(("reasoning_effort".into(), effort.into()));
            // Claude is sent the budget itself: as an effort it was 2,048, 8,192 or 16,384
            // tokens, and Claude Code's 31,999 was cut to 16,384.
            out.push(("thinking_budget".into(), budget.into()));
        }
        // Anthropic's default effort is high.
        Thinking::Adaptive if !out.iter().any(|(k, _)| k == "reasoning_effort_hint") => {
            out.push(("reasoning_effort_hint".into(), effort.unwrap_or("high").into()))
        }
        _ => {}
    }
    // A ceiling, unless the client said itself what its cap is.
    if out.iter().any(|(k, _)| k == "max_completion_tokens")
        && !out.iter().any(|(k, _)| k == "max_tokens_ceiling")
    {
        out.push(("max_tokens_ceiling".into(), true.into()));
    }
    let model = match model {
        Some(m @ Node::Leaf(Value::String(_))) => m,
        None => return Err(missing("model", "send the model's name, or auto")),
        Some(other) => return Err(wrong_type("model", "a string", &other)),
    };
    let mut chat_messages = Vec::new();
    if let Some(system) = system {
        chat_messages.extend(blocks::system(system)?);
    }
    let mut named = Vec::new();
    match messages {
        Some(list) => blocks::messages(list, &mut chat_messages, &mut named)?,
        None => return Err(missing("messages", "send the conversation as a list of messages")),
    }
    if let Some(cache) = cache {
        blocks::mark_last(&mut chat_messages, cache);
    }
    // A choice naming a deferred tool names it too.
    if let Some((_, choice)) = out.iter().find(|(k, _)| k == "tool_choice")
        && let Some(name) = choice.get("function").and_then(|f| f.get("name")).and_then(Node::as_str)
    {
        named.push(name.to_string());
    }
    let declared: Vec<Node> = (declared.into_iter().flatten())
        .filter(|(_, deferred)| deferred.as_ref().is_none_or(|n| named.contains(n)))
        .map(|(tool, _)| tool)
        .collect();
    if declared.is_empty() {
        // Chat refuses an empty list, and a choice without tools unless it forces a call
        // (which the route then refuses, naming it).
        let forced =
            out.iter().any(|(k, v)| k == "tool_choice" && !matches!(v.as_str(), Some("auto" | "none")));
        out.retain(|(k, _)| k != "tools" && (forced || (k != "tool_choice" && k != "parallel_tool_calls")));
    } else if let Some((_, list)) = out.iter_mut().find(|(k, _)| k == "tools") {
        *list = Node::Array(declared);
    }
    let shown =
        super::Shown { hide_thinking: omitted, model: model.as_str().unwrap_or_default().to_string() };
    let mut chat = Vec::with_capacity(out.len() + 2);
    chat.push(("model".to_string(), model));
    chat.push(("messages".to_string(), Node::Array(chat_messages)));
    chat.extend(out);
    serde_json::to_vec(&Node::Object(chat))
        .map(|body| (body, shown))
        .map_err(|e| ApiError::server(500, "internal", format!("writing the chat body failed: {e}")))
}

/// `stop_sequences`: a list of strings, chat's `stop` (`None`: the list is empty).
fn stop_sequences(value: Node) -> Result<Option<Node>, ApiError> {
    let Node::Array(list) = value else {
        return Err(wrong_type("stop_sequences", "an array of strings", &value));
    };
    for (i, s) in list.iter().enumerate() {
        if s.as_str().is_none() {
            return Err(wrong_type(&format!("stop_sequences[{i}]"), "a string", s));
        }
    }
    Ok((!list.is_empty()).then_some(Node::Array(list)))
}

/// What `thinking` asks.
enum Thinking {
    /// No `thinking` member, or `disabled`: no effort is sent, each model reasons as it does
    /// by default.
    Default,
    /// `enabled` with a budget: the effort whose budget is nearest, as a `reasoning_effort`
    /// (the client asked for reasoning: only models that reason are candidates), and the
    /// budget, as `thinking_budget`, which a Claude that takes budgets is sent as it is.
    Budget(&'static str, u64),
    /// `adaptive` (Claude decides whether to think, which Claude Code asks of every model):
    /// `output_config.effort` as a `reasoning_effort_hint`, sent to the models that take an
    /// effort and to no other, so no model is left out for it.
    Adaptive,
}

/// `thinking`: see [`Thinking`].
fn thinking(mut value: Node) -> Result<Thinking, ApiError> {
    if !value.is_object() {
        return Err(wrong_type("thinking", "an object", &value));
    }
    let kind = value.take("type");
    match kind.as_ref().and_then(Node::as_str) {
        Some("enabled") => {
            let budget = match value.take("budget_tokens") {
                Some(b) => count(&b, "thinking.budget_tokens")?,
                None => None,
            };
            let Some(budget) = budget else {
                return Err(missing("thinking.budget_tokens", "send the thinking budget in tokens"));
            };
            // As Anthropic's API holds it (the error named the router's own member).
            if budget < MIN_THINKING_BUDGET {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some("thinking.budget_tokens"),
                    format!("'thinking.budget_tokens' must be at least {MIN_THINKING_BUDGET}"),
                ));
            }
            let effort = EFFORT_BUDGETS.iter().find(|(most, _)| budget <= *most).map_or("high", |(_, e)| *e);
            Ok(Thinking::Budget(effort, budget))
        }
        Some("adaptive") => Ok(Thinking::Adaptive),
        Some("disabled") => Ok(Thinking::Default),
        Some(other) => Err(unsupported(
            "thinking.type",
            format!(
                "thinking type {} is not supported: send enabled, adaptive or disabled",
                crate::error::echo(other)
            ),
        )),
        None => Err(missing("thinking.type", "send enabled, adaptive or disabled")),
    }
}

/// `output_config`: its `format` chat's `response_format`; its `effort` (how much Claude's
/// adaptive thinking spends, which Claude Code sends on every request) returned, for adaptive
/// thinking's hint ([`Thinking::Adaptive`]). As a `reasoning_effort` it would make every model
/// that does not reason unroutable.
fn output_config(mut value: Node, out: &mut Vec<(String, Node)>) -> Result<Option<&'static str>, ApiError> {
    if !value.is_object() {
        return Err(wrong_type("output_config", "an object", &value));
    }
    let mut effort = None;
    if let Some(e) = value.take("effort") {
        match e.as_str() {
            Some(name @ ("low" | "medium" | "high" | "xhigh" | "max")) => {
                effort = crate::catalog::EFFORTS.iter().find(|e| **e == name).copied();
            }
            Some(_) => {
                return Err(unsupported(
                    "output_config.effort",
                    "effort must be low, medium, high, xhigh or max",
                ));
            }
            None => return Err(wrong_type("output_config.effort", "a string", &e)),
        }
    }
    if let Some(format) = value.take("format") {
        out.push(("response_format".into(), response_format(format, "output_config.format")?));
    }
    if let Node::Object(rest) = value
        && let Some((k, _)) = rest.iter().find(|(_, v)| !v.is_null())
    {
        return Err(unknown(&format!("output_config.{k}"), "output_config takes effort and format"));
    }
    Ok(effort)
}

/// A structured-output format (`{"type":"json_schema","schema":{…}}`) as chat's
/// `response_format`.
fn response_format(mut value: Node, param: &str) -> Result<Node, ApiError> {
    if !value.is_object() {
        return Err(wrong_type(param, "an object", &value));
    }
    match value.take("type").as_ref().and_then(Node::as_str) {
        Some("json_schema") => {}
        _ => return Err(unsupported(&format!("{param}.type"), "the format's type must be json_schema")),
    }
    let schema = match value.take("schema") {
        Some(s) if s.is_object() => s,
        Some(other) => return Err(wrong_type(&format!("{param}.schema"), "a JSON Schema object", &other)),
        None => {
            return Err(missing(&format!("{param}.schema"), "send the JSON Schema the answer must follow"));
        }
    };
    // Strict only when OpenAI's strict mode takes the schema as it is: Anthropic's takes
    // optional members and objects it closes itself, which OpenAI's refuses with a 400 (that
    // no failover answers); unstrict, the answer still follows the schema as best it can.
    let strict = strict_as_is(&schema);
    let spec = object([("name", "output".into()), ("schema", schema), ("strict", strict.into())]);
    Ok(object([("type", "json_schema".into()), ("json_schema", spec)]))
}

/// The keywords OpenAI's strict structured outputs take.
const STRICT_TAKES: [&str; 22] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "$defs",
    "definitions",
    "description",
    "title",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// Whether OpenAI's strict mode takes `schema` as it is: the root an object, each object
/// closed (`additionalProperties: false`) and requiring every property it names, each schema
/// saying its type (or alternatives, a reference, values), no keyword outside
/// [`STRICT_TAKES`], no string format OpenAI lacks, each `$ref` a definition the schema has,
/// an array its `items`, a pattern without lookaround, backreferences or word boundaries,
/// objects nested at most 10 deep, 5,000 properties in all and 1,000 values in an enum
/// (OpenAI's documented limits).
pub(super) fn strict_as_is(schema: &Node) -> bool {
    let object = |s: &Node| {
        s.get("type").is_some_and(|t| t.as_str() == Some("object")) || s.get("properties").is_some()
    };
    // The references that name a definition, read once (`#/$defs/a`, `#/definitions/a`).
    let mut defined = HashSet::from(["#".to_string()]);
    for (at, map) in [("#/$defs/", schema.get("$defs")), ("#/definitions/", schema.get("definitions"))] {
        if let Some(Node::Object(m)) = map {
            defined.extend(
                m.iter().map(|(name, _)| format!("{at}{}", name.replace('~', "~0").replace('/', "~1"))),
            );
        }
    }
    let mut properties = 0;
    object(schema) && fits(schema, &defined, 0, &mut properties)
}

/// [`strict_as_is`] for `schema`, `depth` objects down, in a schema whose definitions
/// `defined` names.
fn fits(schema: &Node, defined: &HashSet<String>, depth: usize, properties: &mut usize) -> bool {
    const FORMATS: [&str; 9] =
        ["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"];
    let Node::Object(members) = schema else { return false };
    if !["type", "anyOf", "$ref", "enum", "const"].iter().any(|k| schema.get(k).is_some()) || depth > 10 {
        return false;
    }
    let is = |t: &str| schema.get("type").is_some_and(|v| v.as_str() == Some(t));
    if is("array") && schema.get("items").is_none() {
        return false;
    }
    if is("object") || schema.get("properties").is_some() {
        let required: HashSet<&str> = match schema.get("required") {
            Some(Node::Array(list)) => list.iter().filter_map(Node::as_str).collect(),
            _ => HashSet::new(),
        };
        let closed = matches!(schema.get("additionalProperties"), Some(Node::Leaf(Value::Bool(false))));
        let all = match schema.get("properties") {
            Some(Node::Object(m)) => {
                *properties += m.len();
                m.iter().all(|(p, _)| required.contains(p.as_str()))
            }
            _ => true,
        };
        if !closed || !all || *properties > 5_000 {
            return false;
        }
    }
    members.iter().all(|(k, v)| {
        STRICT_TAKES.contains(&k.as_str())
            && match (k.as_str(), v) {
                ("properties", Node::Object(m)) => {
                    m.iter().all(|(_, s)| fits(s, defined, depth + 1, properties))
                }
                ("$defs" | "definitions", Node::Object(m)) => {
                    m.iter().all(|(_, s)| fits(s, defined, depth, properties))
                }
                ("items", s) => fits(s, defined, depth, properties),
                ("anyOf", Node::Array(list)) => list.iter().all(|s| fits(s, defined, depth, properties)),
                ("properties" | "$defs" | "definitions" | "anyOf", _) => false,
                ("format", f) => f.as_str().is_some_and(|f| FORMATS.contains(&f)),
                ("$ref", r) => r.as_str().is_some_and(|r| defined.contains(r)),
                ("enum", Node::Array(values)) => values.len() <= 1_000,
                ("pattern", p) => p.as_str().is_some_and(|p| !pattern_refused(p)),
                _ => true,
            }
    })
}

#[cfg(test)]
mod strict_tests;
#[cfg(test)]
mod tests;
