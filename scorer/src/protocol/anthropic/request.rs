//! The request half: an OpenAI chat-completions body to an Anthropic Messages body.

use serde_json::{Map, Value, json};

use std::cell::RefCell;

use super::content::{number, refuse};
use super::format::{self, Tally};
use super::memo::{Conversation, Translations};
use super::tools::{tool_choice, tools, tools_text};
use crate::error::{ApiError, echo};
use crate::parse::options::asks_more;
use crate::protocol::Native;
use crate::protocol::raw::{Elements, RawMessages, chat_members, chat_members_raw, integer};
use crate::protocol::tools::{write_body, written};

/// The `max_tokens` of a non-streaming request whose client set none, when the model allows
/// more. Anthropic's SDKs refuse non-streaming calls expected to pass 10 minutes, estimating
/// an hour per 128,000 tokens (so above 21,333), and its docs advise streaming for long
/// outputs: idle connections get dropped.
pub const NON_STREAMING_DEFAULT_MAX_TOKENS: u64 = 21_333;

/// The thinking budget (`budget_tokens`) for each `reasoning_effort`; `minimal` and `none`
/// send no `thinking`.
pub use crate::catalog::THINKING_BUDGETS;

/// The Messages API's smallest `budget_tokens`: a budget cut below it (by a small
/// `max_tokens`) is raised to it while [`LEAST_ANSWER_ROOM`] is left beside it, and sends no
/// `thinking` below that.
pub const MIN_THINKING_BUDGET: u64 = 1_024;

/// The least room a thinking budget raised to [`MIN_THINKING_BUDGET`] leaves for the answer.
pub const LEAST_ANSWER_ROOM: u64 = 512;

/// The smallest `top_p` the Messages API takes with thinking on; a smaller one is dropped.
pub const MIN_THINKING_TOP_P: f64 = 0.95;

/// Tokens left for the answer beside the thinking budget (the budget must be less than
/// `max_tokens`): `max_tokens` is raised to make room when the client set none, and the budget
/// cut when the client's own leaves too little.
pub const ANSWER_ROOM: u64 = 4_096;

/// The router's member carrying a client's own thinking budget (a Messages client's
/// `budget_tokens`), which a Claude that takes budgets is sent in place of its effort's.
const THINKING_BUDGET: &str = "thinking_budget";

/// The request path: `{base}/messages` (base `/v1`), whatever the model or mode.
pub fn path(base: &str, _upstream_model: &str, _stream: bool) -> String {
    format!("{}/messages", base.trim_end_matches('/'))
}

/// The client's OpenAI chat-completions body (validated as JSON; the router's `model`,
/// `prefer` and `tier` are ignored) -> the Messages body for `to`. Refuses with a 400 naming
/// the field what the Messages API cannot express.
///
/// `messages` is read member by member from the body's bytes (see [`content`]), `tools` from
/// its text when they are plain function tools ([`tools_text`]); the other members, a few
/// small values, as JSON values.
pub fn translate(body: &[u8], to: &Native<'_>) -> Result<Vec<u8>, ApiError> {
    translate_with(body, to, None)
}

/// [`translate`], from the longest prefix of the conversation `memo` remembers, remembering
/// this one's ([`Translations`]): the same bytes, with only the new messages read.
pub fn translate_with(
    body: &[u8],
    to: &Native<'_>,
    memo: Option<&RefCell<Translations>>,
) -> Result<Vec<u8>, ApiError> {
    let mut taken = None;
    let (mut req, messages, tools_raw) = match memo {
        Some(memo) => {
            let mut skip = |text: &str, at: usize| memo.borrow_mut().take(text, at, to.model, &mut taken);
            chat_members_raw(body, Some("tools"), &mut skip)
                .map(|(req, m, t)| (req, Messages::Raw(m, memo), t))?
        }
        None => chat_members(body, false, Some("tools"))
            .map(|(req, m, t)| (req, Messages::Split(m.flatten()), t))?,
    };
    let format = format::format(&req, body)?;
    // Tools that ask to be strict go strict when the model takes it, counted with the format.
    let strict = to.quirks.strict_tools.then(|| format.as_ref().map_or(Tally::default(), |(_, t)| *t));
    // Plain function tools are written from the body's text; others, and every error, go
    // through JSON values.
    let tools_written = written(&mut req, tools_raw, |raw| tools_text(raw, strict))?;
    let mut out = Map::new();
    out.insert("model".into(), json!(to.upstream_model));
    let stream = match req.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(refuse("stream", "stream must be a boolean")),
    };
    let mut conversation = match messages {
        Messages::Raw(list, memo) => {
            let all = || chat_members_raw(body, Some("tools"), &mut |_, _| None).map(|(_, m, _)| m);
            Conversation::resumed(list, taken, memo, all)?
        }
        Messages::Split(list) => Conversation::whole(list)?,
    };
    conversation.bind_thinking(to.model);
    if to.quirks.no_prefill && conversation.prefill() {
        return Err(refuse(
            "messages",
            "this model refuses a conversation that ends on an assistant turn (a prefill): end it with a user message",
        ));
    }
    if let Some(system) = conversation.system.take() {
        out.insert("system".into(), system);
    }
    sampling(&req, &mut out)?;
    if format.is_some() && conversation.prefill() {
        return Err(refuse(
            "response_format",
            "this model's structured output cannot continue a prefilled answer (a conversation ending on an assistant turn): end it with a user message",
        ));
    }
    if to.quirks.fixed_sampling {
        // What is left is at the default (the route refused the rest), and such a model
        // refuses the member itself ("`temperature` is deprecated for this model").
        out.remove("temperature");
        out.remove("top_p");
    }
    if tools_written.is_some() || tools(&mut req, &mut out, strict)? {
        tool_choice(&req, &mut out)?;
    } else if conversation.has_tool_blocks() {
        // No tools, but tool calls in the history (an agent's summary or compaction call):
        // Messages refuses the blocks, so they are told as text.
        if conversation.resumed_from_prefix() {
            return translate_with(body, to, None);
        }
        conversation.tell_tools();
    }
    let (mut max_tokens, capped) = max_tokens(&req, to, stream)?;
    if let Some(Reasoning { effort, budget }) =
        thinking_budget(&req, &conversation, &out, to, &mut max_tokens, capped)?
    {
        if to.quirks.adaptive_thinking {
            // The effort holds whether or not this request thinks: without it the model works
            // at the API's default (high), and a changed effort restarts the prompt cache.
            out.insert("output_config".into(), json!({ "effort": effort }));
        }
        if let Some(budget) = budget {
            let thinking = if to.quirks.adaptive_thinking {
                // Such a model omits the thinking text unless asked (the client asked for it).
                json!({"type": "adaptive", "display": "summarized"})
            } else {
                json!({"type": "enabled", "budget_tokens": budget})
            };
            out.insert("thinking".into(), thinking);
            // Thinking takes no temperature (nor top_k) and a top_p only from 0.95 to 1.
            out.remove("temperature");
            if out.get("top_p").and_then(Value::as_f64).is_some_and(|p| p < MIN_THINKING_TOP_P) {
                out.remove("top_p");
            }
        }
    }
    // Current models take one of temperature and top_p ("cannot both be specified", a 400):
    // the temperature stays, the one clients set far more often, unless it is at Anthropic's
    // default (1, or above it before clamping), which asks for nothing the top_p does not.
    if let (Some(t), true) = (out.get("temperature").and_then(Value::as_f64), out.contains_key("top_p")) {
        out.remove(if t >= 1.0 { "temperature" } else { "top_p" });
    }
    out.insert("max_tokens".into(), json!(max_tokens));
    if stream {
        out.insert("stream".into(), json!(true));
    }
    if conversation.auto_cached(to.quirks.auto_cache, body) {
        out.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
    // The schema is written from its text, in the client's order, beside the effort.
    let config = format.map(|(f, _)| format::config(&out, &f));
    let raw: Vec<(&str, &[u8])> =
        [("tools", tools_written.as_deref()), ("output_config", config.as_deref().map(str::as_bytes))]
            .into_iter()
            .filter_map(|(name, text)| Some((name, text?)))
            .collect();
    let written = write_body(&out, "messages", &raw, body.len(), |w| conversation.write(w))?;
    if let Some(memo) = memo {
        conversation.remember(body, &written, memo);
    }
    Ok(written)
}

/// `messages` as a translator reads it: each message's members, or each message's raw JSON
/// for [`Conversation::resumed`] from the memo.
enum Messages<'a, 'm> {
    Split(Elements<'a>),
    Raw(Option<RawMessages<'a>>, &'m RefCell<Translations>),
}

/// `temperature`, `top_p`, `stop`, `user`, and the members that must be refused (`n` > 1,
/// `logprobs`); `response_format` is [`format`]'s.
fn sampling(req: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), ApiError> {
    // OpenAI's range is 0-2, Anthropic's 0-1 with the same default (1): values above 1 are
    // clamped, the closest the model can do.
    if let Some(t) = number(req, "temperature", 0.0, 2.0)? {
        out.insert("temperature".into(), json!(t.min(1.0)));
    }
    if let Some(p) = number(req, "top_p", 0.0, 1.0)? {
        out.insert("top_p".into(), json!(p));
    }
    let stop: Vec<&str> = match req.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => {
            let strings: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            if strings.len() != list.len() {
                return Err(refuse("stop", "stop must be a string or an array of strings"));
            }
            strings
        }
        Some(_) => return Err(refuse("stop", "stop must be a string or an array of strings")),
    };
    // The Messages API refuses a stop sequence of only whitespace (OpenAI clients send "\n"):
    // refused here, so a tier routes it to a candidate that can stop there.
    if stop.iter().any(|s| s.trim().is_empty()) {
        return Err(refuse(
            "stop",
            "this model's API takes no stop sequence that is empty or only whitespace",
        ));
    }
    if !stop.is_empty() {
        out.insert("stop_sequences".into(), json!(stop));
    }
    // The end user, for abuse detection: OpenAI's `safety_identifier` (which replaced `user`
    // there) or `user` is Anthropic's `metadata.user_id`.
    let said = |k: &'static str| Some((k, req.get(k).filter(|v| !v.is_null())?));
    match said("safety_identifier").or_else(|| said("user")) {
        None => {}
        Some((_, Value::String(u))) => {
            out.insert("metadata".into(), json!({"user_id": u}));
        }
        Some((k, _)) => return Err(refuse(k, format!("{k} must be a string"))),
    }
    match req.get("n") {
        None | Some(Value::Null) => {}
        Some(n) if integer(n) == Some(1) => {}
        Some(_) => return Err(refuse("n", "this model's API returns one choice: n must be 1")),
    }
    if req.get("logprobs").and_then(Value::as_bool) == Some(true) {
        return Err(refuse("logprobs", "this model's API does not return log probabilities"));
    }
    // Biased tokens constrain an answer (a one-token label): dropping them would change it.
    if req.get("logit_bias").and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
        return Err(refuse("logit_bias", "this model's API cannot bias tokens: leave logit_bias out"));
    }
    // Read by no part of the translation: refused rather than dropped, so a tier routes the
    // request to a candidate that can honour it.
    if req.get("functions").is_some_and(|f| !f.is_null() && f.as_array().is_none_or(|a| !a.is_empty())) {
        return Err(refuse("functions", "functions are deprecated: use tools"));
    }
    for (name, why) in [
        ("function_call", "functions are deprecated: use tools and tool_choice"),
        ("web_search_options", "web search is not available through this model's API: leave it out"),
        ("moderation", "this model's API runs no moderation: leave it out"),
    ] {
        // `function_call: "none"` asks for nothing.
        if req.get(name).is_some_and(|v| !v.is_null() && v.as_str() != Some("none")) {
            return Err(refuse(name, why));
        }
    }
    // Anthropic's own `thinking`, sent through an OpenAI client, unless it asks nothing: the
    // translation writes it from `reasoning_effort`, and would drop this one.
    match req.get("thinking") {
        None | Some(Value::Null) => {}
        Some(v) if v.get("type").and_then(Value::as_str) == Some("disabled") => {}
        Some(_) => {
            return Err(refuse(
                "thinking",
                "thinking is set from reasoning_effort on this router: send reasoning_effort (low, medium or high)",
            ));
        }
    }
    Ok(())
}

/// `max_completion_tokens` (or the older `max_tokens`) capped at the model's limit; without
/// one, the model's limit when streaming, else at most [`NON_STREAMING_DEFAULT_MAX_TOKENS`].
/// True when the client set it.
fn max_tokens(req: &Map<String, Value>, to: &Native<'_>, stream: bool) -> Result<(u64, bool), ApiError> {
    for name in ["max_completion_tokens", "max_tokens"] {
        match req.get(name) {
            None | Some(Value::Null) => continue,
            Some(v) => match integer(v) {
                Some(n) if n > 0 => return Ok((n.min(to.max_output).max(1), true)),
                _ => return Err(refuse(name, format!("{name} must be a positive integer"))),
            },
        }
    }
    let limit = if stream { to.max_output } else { to.max_output.min(NON_STREAMING_DEFAULT_MAX_TOKENS) };
    Ok((limit.max(1), false))
}

/// What `reasoning_effort` asks of the model: its effort, and the thinking budget when this
/// request thinks.
struct Reasoning {
    effort: &'static str,
    budget: Option<u64>,
}

/// The thinking budget for `reasoning_effort`. A client's own `max_tokens` (`capped`) is never
/// raised: as in OpenAI's API, the reasoning fits inside it, since the client is billed up to
/// it and the route's estimate was made on it; the budget is cut to leave [`ANSWER_ROOM`] (or
/// half of `max_tokens`, when smaller) for the answer, but not below [`MIN_THINKING_BUDGET`]
/// while the cap leaves [`LEAST_ANSWER_ROOM`] beside it. Without one, `max_tokens` is raised
/// (within the model's limit) to leave [`ANSWER_ROOM`] above the budget, and the budget cut as
/// under a cap where that limit holds it down. No thinking when the
/// client asked none/minimal (the lowest effort, `low`), when `tool_choice` forces a tool
/// (thinking allows only auto and none), and when the last assistant turn called tools or is a
/// prefill: the Messages API then wants that turn to start with its signed thinking block,
/// which an OpenAI client never sends back, so this one request goes without thinking and
/// thinking resumes on the next user turn. The effort is returned either way: a model that
/// thinks only adaptively is told it whether or not it thinks.
fn thinking_budget(
    req: &Map<String, Value>,
    conversation: &Conversation<'_>,
    out: &Map<String, Value>,
    to: &Native<'_>,
    max_tokens: &mut u64,
    capped: bool,
) -> Result<Option<Reasoning>, ApiError> {
    // The `reasoning` object's other members (OpenRouter's `max_tokens`, `enabled`, `exclude`)
    // would be dropped: no thinking, or thinking it asked to exclude, with a 200. Refused, as
    // on the Responses API, so a tier moves on (read as on the chat path: `asks_more`).
    if let Some(Value::Object(o)) = req.get("reasoning")
        && let Some(key) = asks_more(o)
    {
        return Err(refuse(
            &format!("reasoning.{key}"),
            format!("reasoning.{} is not supported on this model's API: use effort", echo(key)),
        ));
    }
    // `reasoning_effort`, or the `reasoning: {"effort": ...}` object of the newer SDKs.
    let (param, asked) = match req.get("reasoning_effort") {
        Some(v) if !v.is_null() => ("reasoning_effort", Some(v)),
        _ => ("reasoning.effort", req.get("reasoning").and_then(|r| r.get("effort"))),
    };
    let effort = match asked {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v.as_str().unwrap_or_default(),
    };
    let (effort, budget) = match THINKING_BUDGETS.iter().find(|(name, _)| *name == effort) {
        Some(&(name, budget)) => (name, budget),
        None if effort == "none" || effort == "minimal" => {
            return Ok(Some(Reasoning { effort: "low", budget: None }));
        }
        // Efforts past high exist only as efforts (Opus 4.7 takes xhigh and max); the highest
        // budget stands for them in what `max_tokens` must leave room for.
        None if to.quirks.adaptive_thinking && matches!(effort, "xhigh" | "max") => {
            let name = if effort == "max" { "max" } else { "xhigh" };
            (name, THINKING_BUDGETS.last().map_or(MIN_THINKING_BUDGET, |&(_, b)| b))
        }
        None => {
            let also = if to.quirks.adaptive_thinking { ", high, xhigh or max" } else { " or high" };
            return Err(refuse(
                param,
                format!("{param} {} is not supported: use none, minimal, low, medium{also}", echo(effort)),
            ));
        }
    };
    let forced = out
        .get("tool_choice")
        .and_then(|c| c.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "any" || t == "tool");
    if forced || conversation.open_tool_turn() || conversation.prefill() {
        return Ok(Some(Reasoning { effort, budget: None }));
    }
    // A client's own budget (`thinking_budget`, a Messages client's `budget_tokens`) goes as
    // it asked it, below its `max_tokens` as Anthropic takes it; an adaptive model takes none.
    let asked = req.get(THINKING_BUDGET).and_then(integer).filter(|_| !to.quirks.adaptive_thinking);
    let budget = match asked {
        Some(asked) if capped => asked,
        None if capped => budget.min(max_tokens.saturating_sub(ANSWER_ROOM.min(*max_tokens / 2))),
        asked => {
            let budget = asked.unwrap_or(budget);
            let room = budget.saturating_add(ANSWER_ROOM);
            if *max_tokens < room {
                *max_tokens = to.max_output.min(room).max(*max_tokens);
            }
            // Held down by the limit (the room the window leaves beside a long conversation),
            // the budget leaves the answer its room, as under a client's cap: it took all but
            // one token, and the answer was cut at its first.
            budget.min(max_tokens.saturating_sub(ANSWER_ROOM.min(*max_tokens / 2)))
        }
    };
    let budget = budget.min(max_tokens.saturating_sub(1));
    // A cap that leaves less than the least budget beside the answer's room still thinks, as
    // Anthropic takes it: on the least budget while the cap leaves the answer its least room
    // beside it (the client asked to think, and was answered without thinking and not told: a
    // Messages client's own `max_tokens` 2,000 and budget 1,024). The same cap holds for
    // adaptive thinking, which has no budget.
    let budget = match budget {
        b if b >= MIN_THINKING_BUDGET => Some(b),
        _ if *max_tokens >= MIN_THINKING_BUDGET + LEAST_ANSWER_ROOM => Some(MIN_THINKING_BUDGET),
        _ => None,
    };
    Ok(Some(Reasoning { effort, budget }))
}
