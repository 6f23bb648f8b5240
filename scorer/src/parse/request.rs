//! One pass over a chat completions body: validate it, pull out what routing needs, and
//! remember where the router-owned bytes are so the rewrite can splice. The driver is here;
//! the request's type, its layout, the field readers, the option objects and the messages
//! each have their own file.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::catalog::{
    ASKS_BIAS, ASKS_CHOICES, ASKS_JSON_WITH_TOOLS, ASKS_LOGPROBS, ASKS_MANY_TOOLS, ASKS_PENALTY, ASKS_STOP,
    ASKS_WEB_SEARCH, DROPS_EFFORT_NONE, DROPS_OPENAI_ONLY, DROPS_PREDICTION, DROPS_VERBOSITY, MOST_TOOLS,
    OPENAI_ONLY, effort_bit,
};
use crate::error::ApiError;
use crate::parse::fields::{
    case_variant, case_variant_of, duplicate_error, first_duplicate, open_object_as, opt_cap_field,
    opt_count_field, skip_unique, string_field, syntax, wrong_type,
};
use crate::parse::json::Kind;
use crate::parse::layout::{EFFORT_MEMBERS, STREAM_USAGE_MEMBER};
use crate::parse::memo::{Claim, Parses};
use crate::parse::messages::parse_messages;
use crate::parse::options::{
    asks_more, read_effort, read_effort_hint, read_flag, read_max_price, read_modalities, read_prefer,
    read_response_format, read_sampling, read_service_tier, read_stop, read_tier, read_tool,
};

// The request's parts, still reachable as `request::…` (the glue reads `request::Layout`).
pub use crate::parse::chat::{
    BYTES_PER_TOKEN, ChatRequest, MaxPrice, ROLES, ROUTER_FIELDS, TOKENS_PER_MESSAGE,
};
pub use crate::parse::layout::{Layout, Member, Span};
pub use crate::parse::options::read_provider_policy;

/// Parses a chat completions body and, for `model: "auto"`, scans its conversation.
pub fn parse_chat(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    let mut req = parse_chat_unscanned(body)?;
    if req.model == "auto" {
        req.scan_from(0);
    }
    Ok(req)
}

/// Parses a chat completions body, its conversation not scanned yet
/// ([`ChatRequest::scan_from`]).
pub fn parse_chat_unscanned(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    parse_chat_with(body, None)
}

/// [`parse_chat_unscanned`], its messages read from the longest prefix `memo` remembers and
/// remembered for the next turn (`parse::memo`): the same request, with only the new messages
/// parsed.
pub fn parse_chat_with<'a>(
    body: &'a [u8],
    memo: Option<&RefCell<Parses>>,
) -> Result<ChatRequest<'a>, ApiError> {
    // A remembered prefix where it was last time spares checking its bytes are UTF-8.
    let (text, claim) = match memo.and_then(|m| m.borrow().claim(body)) {
        Some((text, claim)) => (Some(text), Some(claim)),
        None => (None, None),
    };
    parse_chat_as(body, text, memo, claim)
}

/// [`parse_chat_with`], `text` the body when it is known to be UTF-8 and `claim` the prefix
/// that told.
fn parse_chat_as<'a>(
    body: &'a [u8],
    text: Option<&'a str>,
    memo: Option<&RefCell<Parses>>,
    claim: Option<Claim>,
) -> Result<ChatRequest<'a>, ApiError> {
    let (_, mut r) = open_object_as(body, text)?;

    let mut req = ChatRequest::default();
    // Where `stream_options` is: (its object's opening brace, whether it has members, the
    // span of a false `include_usage`), or None when absent or null.
    let mut stream_options: Option<(usize, bool, Option<Span>)> = None;
    let mut keys: Vec<Cow<'_, str>> = Vec::with_capacity(16);
    let mut have_model = false;
    let mut have_messages = false;
    let mut max_tokens = None;
    let mut max_completion_tokens = None;
    let mut caps = Vec::new();
    // The effort of a non-null `reasoning_effort` (which the translators read before
    // `reasoning.effort`, whatever the order), and of a non-null `reasoning`.
    let mut effort: Option<Option<(u8, &'static str)>> = None;
    let mut nested_effort = None;
    // The `reasoning` member, when it asks nothing, or nothing but an effort the router knows
    // and a summary (no chat API carries one): its index in the layout's members.
    let mut reasoning_member = None;
    let mut null_effort_member = None;

    let mut obj = r.object().map_err(syntax)?;
    while let Some((key_start, key)) = obj.next_key_at(&mut r).map_err(syntax)? {
        r.peek();
        let value_start = r.pos();
        match key.as_ref() {
            "model" => {
                req.model = string_field(&mut r, "model")?;
                req.layout.model_at(value_start, r.pos());
                have_model = true;
            }
            "messages" => {
                parse_messages(&mut r, &mut req, memo, claim)?;
                have_messages = true;
            }
            "prefer" => req.prefer = read_prefer(&mut r)?,
            "tier" => req.tier = read_tier(&mut r)?,
            "stream" => match r.peek_kind().map_err(syntax)? {
                Kind::Bool => req.stream = r.boolean().map_err(syntax)?,
                Kind::Null => r.null().map_err(syntax)?,
                k => return Err(wrong_type("stream", "a boolean", k)),
            },
            "max_tokens" => {
                max_tokens = opt_cap_field(&mut r, "max_tokens")?;
                if let Some(n) = max_tokens {
                    caps.push((Span { start: value_start, end: r.pos() }, n));
                }
                // The key's bytes, for a model that takes only `max_completion_tokens`.
                let raw = r.text().get(key_start..value_start).and_then(|t| t.split_once(':'));
                req.layout.max_tokens_key =
                    raw.map(|(k, _)| Span { start: key_start, end: key_start + k.trim_end().len() });
            }
            "max_completion_tokens" => {
                max_completion_tokens = opt_cap_field(&mut r, "max_completion_tokens")?;
                if let Some(n) = max_completion_tokens {
                    caps.push((Span { start: value_start, end: r.pos() }, n));
                }
                // A null one caps nothing: `max_tokens` is then the cap, renamed.
                req.layout.max_completion_tokens = max_completion_tokens.is_some();
                if max_completion_tokens.is_none() {
                    req.layout.null_completion_member = Some(key_start);
                }
            }
            "stop" => {
                if read_stop(&mut r)? {
                    req.layout.asks |= ASKS_STOP;
                }
            }
            "parallel_tool_calls" => read_flag(&mut r, "parallel_tool_calls")?,
            "n" => {
                req.choices = opt_count_field(&mut r, "n")?;
                if req.choices.is_some_and(|n| !(1..=128).contains(&n)) {
                    return Err(ApiError::invalid("invalid_value", Some("n"), "'n' must be from 1 to 128"));
                }
                if req.choices.is_some_and(|n| n > 1) {
                    req.layout.asks |= ASKS_CHOICES;
                }
            }
            "temperature" | "top_p" | "presence_penalty" | "frequency_penalty" | "logit_bias"
            | "logprobs" | "top_logprobs" => {
                let asked = read_sampling(&mut r, &key)?;
                req.layout.sampling = req.layout.sampling.or(asked);
                match asked {
                    Some(a @ ("logprobs" | "top_logprobs")) => {
                        req.layout.asks |= ASKS_LOGPROBS;
                        req.layout.token_level = req.layout.token_level.or(Some(a));
                    }
                    Some("logit_bias") => req.layout.asks |= ASKS_BIAS,
                    Some(a @ ("presence_penalty" | "frequency_penalty")) => {
                        req.layout.asks |= ASKS_PENALTY;
                        req.layout.penalty = req.layout.penalty.or(Some(a));
                    }
                    _ => {}
                }
            }
            "tools" => match r.peek_kind().map_err(syntax)? {
                Kind::Array => {
                    let mut it = r.array().map_err(syntax)?;
                    while it.next(&mut r).map_err(syntax)? {
                        let mark = r.mark();
                        read_tool(&mut r, req.features.tools_declared, &mut req.layout)?;
                        req.features.tools_declared += 1;
                        req.text_bytes += r.unescaped_since(mark);
                    }
                }
                Kind::Null => r.null().map_err(syntax)?,
                k => return Err(wrong_type("tools", "an array", k)),
            },
            "tool_choice" => {
                req.features.tool_choice_forced = match r.peek_kind().map_err(syntax)? {
                    // Decoded: `"\u0061uto"` is "auto".
                    Kind::String => !matches!(r.string().map_err(syntax)?.as_ref(), "none" | "auto"),
                    Kind::Null => r.null().map(|()| false).map_err(syntax)?,
                    // A function forces its call; `allowed_tools` only in its `required` mode.
                    _ => {
                        let start = r.pos();
                        skip_unique(&mut r, &|| "tool_choice".to_string())?;
                        let choice = body
                            .get(start..r.pos())
                            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok());
                        let mode =
                            choice.as_ref().and_then(|c| c.get("allowed_tools")?.get("mode")?.as_str());
                        let allowed =
                            choice.as_ref().and_then(|c| c.get("type")?.as_str()) == Some("allowed_tools");
                        !(allowed && mode == Some("auto"))
                    }
                }
            }
            "response_format" => {
                // A schema is input the provider reads, and bills, as the tools are.
                let mark = r.mark();
                (req.features.json_schema, req.json_output) = read_response_format(&mut r)?;
                req.text_bytes += r.unescaped_since(mark);
            }
            // Deprecated tools, and a predicted output (billed as output where it is not used):
            // counted as the tools are, or a client could pass a limit by the size of either.
            "functions" | "prediction" => {
                let start = r.pos();
                let mark = r.mark();
                skip_unique(&mut r, &|| key.to_string())?;
                req.text_bytes += r.unescaped_since(mark);
                // Deprecated function tools are tools (`Layout::tools`): a list with anything in it.
                let value = body.get(start..r.pos()).unwrap_or_default();
                let listed = value.first() == Some(&b'[') && value.iter().any(|b| !b" \t\r\n[]".contains(b));
                req.layout.tools |= key == "functions" && listed;
            }
            "audio" => skip_unique(&mut r, &|| "audio".to_string())?,
            "provider" => req.provider_policy = read_provider_policy(&mut r)?,
            "max_price" => req.max_price = read_max_price(&mut r)?,
            "reasoning_effort_hint" => req.layout.effort_hint = read_effort_hint(&mut r)?,
            // Read by the Messages translation beside an effort (a Messages client's budget).
            "thinking_budget" => req.thinking_budget = opt_cap_field(&mut r, "thinking_budget")?,
            "max_tokens_ceiling" => {
                req.output_ceiling = match r.peek_kind().map_err(syntax)? {
                    Kind::Bool => r.boolean().map_err(syntax)?,
                    Kind::Null => r.null().map(|()| false).map_err(syntax)?,
                    k => return Err(wrong_type("max_tokens_ceiling", "a boolean", k)),
                };
            }
            "stream_options" => match r.peek_kind().map_err(syntax)? {
                Kind::Null => r.null().map_err(syntax)?,
                Kind::Object => {
                    let open = r.pos();
                    let mut any = false;
                    let mut false_at = None;
                    let mut inner: Vec<Cow<'_, str>> = Vec::with_capacity(2);
                    let mut obj = r.object().map_err(syntax)?;
                    while let Some(k) = obj.next_key(&mut r).map_err(syntax)? {
                        any = true;
                        if k == "include_usage" {
                            r.peek();
                            let at = r.pos();
                            match r.peek_kind().map_err(syntax)? {
                                Kind::Bool => {
                                    req.usage_requested = r.boolean().map_err(syntax)?;
                                    if !req.usage_requested {
                                        false_at = Some(Span { start: at, end: r.pos() });
                                    }
                                }
                                k => return Err(wrong_type("stream_options.include_usage", "a boolean", k)),
                            }
                        } else {
                            case_variant_of(&k, &["include_usage"], "stream_options")?;
                            r.skip_value().map_err(syntax)?;
                        }
                        inner.push(k);
                    }
                    // The router may edit `include_usage`: a second copy would be sent as is.
                    if let Some(dup) = first_duplicate(&mut inner) {
                        return Err(duplicate_error(&dup, "stream_options"));
                    }
                    stream_options = Some((open, any, false_at));
                }
                k => return Err(wrong_type("stream_options", "an object", k)),
            },
            "modalities" => req.audio_output = read_modalities(&mut r)?,
            "service_tier" => req.layout.flex = read_service_tier(&mut r)?,
            "reasoning_effort" | "reasoning" => {
                // Either asks for reasoning, whichever comes last (a null one asks nothing, and
                // so does a `reasoning` object none of whose members does: `{}`, a null
                // effort, OpenRouter's `enabled: false`).
                let set = r.peek_kind().map_err(syntax)? != Kind::Null;
                let read = read_effort(&mut r, &key)?;
                // A `reasoning` object is read once more, whole (it is small), for both questions.
                let object = match key.as_ref() {
                    "reasoning" if set => members_of(r.text().get(value_start..r.pos()).unwrap_or_default()),
                    _ => None,
                };
                let set = set && (key == "reasoning_effort" || object.as_ref().is_none_or(asks_reasoning));
                // `none` asks for no reasoning, which any model gives: one that does not reason
                // goes without the member (`DROPS_EFFORT_NONE`), and no model is left out for it.
                req.features.reasoning_param |= set && !names_none(read);
                match (key.as_ref(), set) {
                    ("reasoning_effort", true) => effort = Some(read),
                    ("reasoning_effort", false) => null_effort_member = Some(req.layout.members.len()),
                    // A null `reasoning` says nothing, to the provider either.
                    (_, false) => reasoning_member = Some(req.layout.members.len()),
                    _ => {
                        nested_effort = read;
                        if object.as_ref().is_some_and(|o| plain_reasoning(o, read.is_some())) {
                            reasoning_member = Some(req.layout.members.len());
                        }
                        req.layout.reasoning_asks =
                            object.as_ref().and_then(|o| asks_more(o)).map(|k| format!("reasoning.{k}"));
                    }
                }
            }
            _ => {
                case_variant(&key)?;
                // OpenAI's moderated answers: no other provider runs its moderation models.
                req.layout.moderation |= key == "moderation" && r.peek_kind().map_err(syntax)? != Kind::Null;
                r.skip_value().map_err(syntax)?;
                if key == "extra_body" {
                    stored_cache(r.text().get(value_start..r.pos()).unwrap_or_default())?;
                }
            }
        }
        // A null stream_options is dropped; the router adds its own when it streams.
        let null_options = key == "stream_options" && stream_options.is_none();
        let router_only = ROUTER_FIELDS.contains(&key.as_ref()) || null_options;
        req.layout.member(key_start, r.pos(), router_only);
        if key == "extra_body"
            && let Some(m) = req.layout.members.last_mut()
        {
            m.gemini = true;
        }
        if OPENAI_ONLY.contains(&key.as_ref())
            && let Some(m) = req.layout.members.last_mut()
        {
            m.drops = DROPS_OPENAI_ONLY
                | match key.as_ref() {
                    "prediction" => DROPS_PREDICTION,
                    "verbosity" => DROPS_VERBOSITY,
                    _ => 0,
                };
            // OpenAI's stored completions, in the gateway's account, which no client reads
            // back through it (the Responses translation sends `store: false` too).
            m.router_only |= matches!(key.as_ref(), "store" | "metadata");
        }
        if key == "web_search_options"
            && r.text().get(key_start..r.pos()).is_some_and(|m| !m.trim_end().ends_with("null"))
        {
            req.layout.asks |= ASKS_WEB_SEARCH;
        }
        if key == "reasoning_effort"
            && names_none(effort.flatten())
            && let Some(m) = req.layout.members.last_mut()
        {
            m.drops = DROPS_EFFORT_NONE;
        }
        keys.push(key);
    }
    r.finish().map_err(syntax)?;
    req.layout.effort = effort.unwrap_or(nested_effort);
    req.layout.tools |= req.features.tools_declared > 0;
    if req.features.tools_declared > MOST_TOOLS {
        req.layout.asks |= ASKS_MANY_TOOLS;
    }
    if req.json_output && req.layout.tools {
        req.layout.asks |= ASKS_JSON_WITH_TOOLS;
    }
    // An effort the client names is what it gets; a hint only stands in for none.
    if req.features.reasoning_param || req.layout.effort.is_some() {
        req.layout.effort_hint = None;
    }
    // Chat APIs know `reasoning_effort`, not the `reasoning` object: it goes, its effort in
    // `reasoning_effort` unless one is sent (that one counts, as the translators read it).
    if let Some(m) = reasoning_member.and_then(|i| req.layout.members.get_mut(i)) {
        m.router_only = true;
        if effort.is_none() {
            req.layout.effort_member =
                nested_effort.and_then(|(bit, _)| EFFORT_MEMBERS.get(bit.trailing_zeros() as usize).copied());
        }
    }
    // A null `reasoning_effort` beside the one appended, or a hint's, gives way (it asks
    // nothing).
    let appended = req.layout.effort_member.is_some() || req.layout.effort_hint.is_some();
    if let Some(m) = null_effort_member.filter(|_| appended)
        && let Some(m) = req.layout.members.get_mut(m)
    {
        m.router_only = true;
    }
    // A forced tool call with no tool to call: OpenAI answers it with a 400; a translation
    // had nothing to force and answered in text, with a 200.
    if req.features.tool_choice_forced && req.features.tools_declared == 0 {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("tool_choice"),
            "tool_choice forces a tool call, but no tools are declared: declare tools, or send auto or none",
        ));
    }
    if req.stream && !req.usage_requested {
        match stream_options {
            None => req.layout.append = Some(STREAM_USAGE_MEMBER),
            Some((_, _, Some(false_at))) => req.layout.edit = Some((false_at, b"true")),
            Some((open, any, None)) => {
                let at = Span { start: open + 1, end: open + 1 };
                let bytes: &[u8] = if any { br#""include_usage":true,"# } else { br#""include_usage":true"# };
                req.layout.edit = Some((at, bytes));
            }
        }
    }

    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, ""));
    }
    if !have_model {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some("model"),
            "'model' is required: use auto, economy, standard, premium, or a model id",
        ));
    }
    if req.model.is_empty() {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("model"),
            "'model' is empty: use auto, economy, standard, premium, or a model id",
        ));
    }
    if !have_messages {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some("messages"),
            "'messages' is required: send a non-empty array of messages",
        ));
    }
    // With both, the larger caps what a provider may generate: the chat splice passes both, and
    // a provider that reads `max_tokens` (Groq, Cerebras) generates up to it. The guard and the
    // reservation read the smaller one before, so `max_completion_tokens: 1` beside a
    // `max_tokens` of 100,000 reserved one token.
    (req.max_output_tokens, req.max_output_param) = match (max_completion_tokens, max_tokens) {
        (Some(c), Some(t)) if t > c => (Some(t), "max_tokens"),
        (Some(c), _) => (Some(c), "max_completion_tokens"),
        (None, t) => (t, "max_tokens"),
    };
    if req.output_ceiling {
        req.layout.ceiling_values = caps;
    }
    Ok(req)
}

/// The members of a JSON object's raw `text` (`None`: not an object).
fn members_of(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// Whether an effort read is `none`.
fn names_none(effort: Option<(u8, &'static str)>) -> bool {
    effort.is_some_and(|(bit, _)| Some(bit) == effort_bit("none"))
}

/// Whether a `reasoning` object asks for reasoning: one of its members is neither null nor
/// false (an `effort` of any value). A `reasoning` that is no object is left to the provider.
fn asks_reasoning(o: &serde_json::Map<String, serde_json::Value>) -> bool {
    o.iter().any(|(k, v)| !v.is_null() && (k == "effort" || v != &serde_json::Value::Bool(false)))
}

/// A `reasoning` object that holds only an `effort` (`known`: one the router knows) and a
/// `summary`, members that ask nothing aside (null or false, OpenRouter's `enabled: true`
/// beside an effort): what `reasoning_effort` says in full on a chat API.
fn plain_reasoning(o: &serde_json::Map<String, serde_json::Value>, known: bool) -> bool {
    (known || o.get("effort").is_none_or(serde_json::Value::is_null)) && asks_more(o).is_none()
}

/// A 400 for Gemini's cached content (`extra_body.google.cached_content`, which its OpenAI
/// layer reads): it names a cache stored with the gateway's account, as a `file_id` names a
/// file, and its tokens would be billed unseen by the guard and the budgets.
/// Read without building its values (a client's 8 MB member of numbers as JSON values took a
/// worker's VM to 209 MB): only the member asked about.
fn stored_cache(extra_body: &str) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Extra {
        google: Option<Google>,
    }
    #[derive(serde::Deserialize)]
    struct Google {
        cached_content: Option<serde::de::IgnoredAny>,
    }
    // One the typed read refuses (a key named twice, which a provider may read as its last)
    // is refused if it names the member at all.
    let cached = match serde_json::from_str::<Extra>(extra_body) {
        Ok(e) => e.google.and_then(|g| g.cached_content).is_some(),
        Err(_) => memchr::memmem::find(extra_body.as_bytes(), b"cached_content").is_some(),
    };
    match cached {
        true => Err(ApiError::invalid(
            "unsupported_value",
            Some("extra_body.google.cached_content"),
            "cached_content names a cache stored with the provider's account, which the router's key is for every client: send the content itself",
        )),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Quirks;
    use crate::parse::chat::IMAGE_TOKENS;
    use crate::parse::json::Reader;
    use crate::vocab::{Estimate, Prefer};

    const HI: &str = r#"[{"role":"user","content":"hi"}]"#;

    fn body(extra: &str) -> String {
        format!(r#"{{"model":"economy","messages":{HI}{extra}}}"#)
    }

    #[test]
    fn reads_routing_fields() {
        let b = r#"{"model":"standard","prefer":"cheap","tier":null,"stream":true,"max_tokens":100,
                "max_completion_tokens":50,"tools":[{"type":"function"}],
                "messages":[{"role":"system","content":"be brief"},
                            {"role":"user","content":[{"type":"text","text":"abc"},
                                {"type":"image_url","image_url":{"url":"x"}}]}]}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.model, "standard");
        assert_eq!(req.prefer, Some(Prefer::Cheap));
        assert_eq!(req.tier, None);
        assert!(req.stream);
        assert_eq!((req.max_output_tokens, req.max_output_param), (Some(100), "max_tokens"));
        assert_eq!(req.features.tools_declared, 1);
        assert_eq!(req.messages, 2);
        assert_eq!(req.features.images, 1);
    }

    #[test]
    fn rewrite_splices_model_and_drops_router_fields() {
        let cases: &[(&str, &str)] = &[
            (r#"{"model":"economy","messages":[],"x":1}"#, r#"{"model":"up-id","messages":[],"x":1}"#),
            (
                r#"{ "prefer" : "cheap" , "model" :"economy", "tier":"economy","messages":[] , "n": 2 }"#,
                r#"{ "model" :"up-id","messages":[] , "n": 2 }"#,
            ),
            (
                r#"{"model":"economy","messages":[],"prefer":"cheap","tier":"economy"}"#,
                r#"{"model":"up-id","messages":[]}"#,
            ),
            (
                r#"{"model":"econ\u006fmy","temperature":0.25,"prefer":"fast","messages":[]}"#,
                r#"{"model":"up-id","temperature":0.25,"messages":[]}"#,
            ),
        ];
        for (input, want) in cases {
            // Parse errors (empty messages) don't matter here: build the spans directly.
            let req = parse_for_rewrite(input);
            let out = req.rewrite(input.as_bytes(), "up-id");
            assert_eq!(String::from_utf8_lossy(&out), *want, "{input}");
        }
    }

    /// Parses with a placeholder message so rewrite cases stay short.
    fn parse_for_rewrite(input: &str) -> ChatRequest<'_> {
        let mut r = Reader::new(input);
        let mut obj = r.object().unwrap_or_else(|e| panic!("{e}"));
        let mut layout = Layout::default();
        while let Some((start, key)) = obj.next_key_at(&mut r).unwrap() {
            r.peek();
            let vs = r.pos();
            r.skip_value().unwrap_or_else(|e| panic!("{e}"));
            if key == "model" {
                layout.model_at(vs, r.pos());
            }
            layout.member(start, r.pos(), ROUTER_FIELDS.contains(&key.as_ref()));
        }
        ChatRequest { model: Cow::Borrowed("economy"), layout, ..ChatRequest::default() }
    }

    #[test]
    fn parse_then_rewrite_keeps_other_bytes() {
        let b = body(r#", "temperature": 0.7 ,"prefer":"quality", "user":{"k":"v"}"#);
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8(req.rewrite(b.as_bytes(), "gpt-x")).unwrap_or_default();
        assert_eq!(
            out,
            format!(r#"{{"model":"gpt-x","messages":{HI}, "temperature": 0.7,"user":{{"k":"v"}}}}"#)
        );
        // OpenAI's stored completions go nowhere: the gateway's account would keep them.
        let b = body(r#", "store": true, "temperature": 0.7, "metadata":{"k":"v"}"#);
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8(req.rewrite(b.as_bytes(), "gpt-x")).unwrap_or_default();
        assert_eq!(out, format!(r#"{{"model":"gpt-x","messages":{HI},"temperature": 0.7}}"#));
    }

    /// OpenRouter's `reasoning: {"effort"}` reached the chat APIs as it was: they know only
    /// `reasoning_effort`, and answer the object with a 400 ("Unrecognized request argument
    /// supplied: reasoning"). Its effort goes as `reasoning_effort`, unless one is sent.
    #[test]
    fn the_reasoning_object_reaches_a_chat_api_as_reasoning_effort() {
        let sent = |extra: &str| {
            let b = body(extra);
            let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            let out = String::from_utf8(req.rewrite(b.as_bytes(), "m")).unwrap_or_default();
            out.strip_prefix(&format!(r#"{{"model":"m","messages":{HI}"#)).unwrap_or(&out).to_string()
        };
        let cases = [
            (r#","reasoning":{"effort":"high"},"n":1"#, r#","n":1,"reasoning_effort":"high"}"#),
            (r#","reasoning":{"effort":"max","summary":"auto"}"#, r#","reasoning_effort":"max"}"#),
            (r#","reasoning":{"summary":"auto"}"#, "}"),
            (r#","reasoning":null"#, "}"),
            // One sent counts, as the translators read it.
            (r#","reasoning_effort":"low","reasoning":{"effort":"high"}"#, r#","reasoning_effort":"low"}"#),
            (r#","reasoning":{"effort":"high"},"reasoning_effort":null"#, r#","reasoning_effort":"high"}"#),
            (r#","reasoning_effort":null,"reasoning":{"summary":"auto"}"#, r#","reasoning_effort":null}"#),
            // What it cannot say in full stays (the chat attempt refuses it: `reasoning_asks`).
            (
                r#","reasoning":{"effort":"high","max_tokens":100}"#,
                r#","reasoning":{"effort":"high","max_tokens":100}}"#,
            ),
            (r#","reasoning":{"effort":"ultra"}"#, r#","reasoning":{"effort":"ultra"}}"#),
            // Members that ask nothing (OpenRouter's) do not keep it.
            (
                r#","reasoning":{"effort":"low","exclude":false,"enabled":true}"#,
                r#","reasoning_effort":"low"}"#,
            ),
            // One that asks nothing goes.
            (r#","reasoning":{}"#, "}"),
            // Enabled with no effort says more than reasoning_effort can (a default effort):
            // kept, as an effort that is not one is.
            (r#","reasoning":{"enabled":true}"#, r#","reasoning":{"enabled":true}}"#),
            (r#","reasoning":{"effort":false}"#, r#","reasoning":{"effort":false}}"#),
            (r#","reasoning":{"enabled":false,"effort":null}"#, "}"),
        ];
        for (extra, want) in cases {
            assert_eq!(sent(extra), want, "{extra}");
        }
        // Nor does it need a reasoning model (it went to a dearer one, and a pinned model
        // without reasoning refused it).
        let needs = |extra: &str| {
            let b = body(extra);
            parse_chat(b.as_bytes()).map(|r| r.features.reasoning_param).unwrap_or_else(|e| panic!("{e}"))
        };
        // Nor does an effort of `none`: any model gives no reasoning (one that does not reason
        // goes without the member).
        for quiet in [
            r#","reasoning":{}"#,
            r#","reasoning":{"effort":null,"enabled":false}"#,
            r#","reasoning":null"#,
            r#","reasoning_effort":"none""#,
            r#","reasoning":{"effort":"none"}"#,
        ] {
            assert!(!needs(quiet), "{quiet}");
        }
        for asks in [
            r#","reasoning":{"enabled":true}"#,
            r#","reasoning":{"summary":"auto"}"#,
            r#","reasoning_effort":"minimal""#,
        ] {
            assert!(needs(asks), "{asks}");
        }
    }

    /// A byte order mark first (PowerShell's and .NET's UTF-8 writers) is named as such: the
    /// message said "unexpected byte 0xef at byte 0".
    #[test]
    fn a_byte_order_mark_is_named() {
        let e = parse_chat("\u{feff}{\"model\":\"economy\"}".as_bytes()).err();
        assert!(e.is_some_and(|e| e.code == "invalid_json" && e.message.contains("byte order mark")));
    }

    #[test]
    fn bad_requests() {
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            ("".into(), "missing_body", None),
            ("{".into(), "invalid_json", None),
            ("[1]".into(), "invalid_body", None),
            ("\"x\"".into(), "invalid_body", None),
            ("not json".into(), "invalid_json", None),
            ("true x".into(), "invalid_json", None),
            // Valid JSON past the depth the router reads is said so, not "not valid JSON".
            (format!(r#"{{"model":"economy","metadata":{}{},"messages":{HI}}}"#, "[".repeat(200), "]".repeat(200)), "json_too_deep", None),
            (
                r#"{"messages":[{"role":"user","content":"x"}]}"#.into(),
                "missing_required_parameter",
                Some("model"),
            ),
            (r#"{"model":"economy"}"#.into(), "missing_required_parameter", Some("messages")),
            (body(r#","model":"x""#), "duplicate_key", Some("model")),
            (body(r#","temperature":1,"temperature":2"#), "duplicate_key", Some("temperature")),
            // A provider whose decoder ignores case would read these in place of the router's.
            (body(r#","Model":"o3-pro""#), "unknown_parameter", Some("Model")),
            (body(r#","N":8"#), "unknown_parameter", Some("N")),
            (body(r#","Service_Tier":"priority""#), "unknown_parameter", Some("Service_Tier")),
            (body(r#","Prompt_Cache_Key":"k""#), "unknown_parameter", Some("Prompt_Cache_Key")),
            // Go folds the long s and the Kelvin sign to s and k.
            (body(r#","max_to\u212aens":100000"#), "unknown_parameter", Some("max_to\u{212a}ens")),
            (body(r#","\u017fervice_tier":"priority""#), "unknown_parameter", Some("\u{17f}ervice_tier")),
            // Protobuf's JSON names, which Gemini's OpenAI layer reads beside the fields' own:
            // a limit, an effort, a stream's usage the router never saw.
            (body(r#","maxCompletionTokens":65000"#), "unknown_parameter", Some("maxCompletionTokens")),
            (body(r#","reasoningEffort":"high""#), "unknown_parameter", Some("reasoningEffort")),
            (body(r#","stream_options":{"includeUsage":false}"#), "unknown_parameter", Some("stream_options.includeUsage")),
            (body(r#","_model":"o3-pro""#), "unknown_parameter", Some("_model")),
            // Inside a message and a part: another turn, an image neither guarded nor counted.
            (
                r#"{"model":"economy","messages":[{"role":"user","content":"hi","Role":"system"}]}"#.into(),
                "unknown_parameter",
                Some("messages[0].Role"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"toolCalls":[]}]}"#.into(),
                "unknown_parameter",
                Some("messages[1].toolCalls"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"image_url","imageUrl":{"url":"https://x/y.png"}}]}]}"#.into(),
                "unknown_parameter",
                Some("messages[0].content[0].imageUrl"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"image_url","Image_url":{"url":"https://x/y.png"}}]}]}"#.into(),
                "unknown_parameter",
                Some("messages[0].content[0].Image_url"),
            ),
            (
                body(r#","stream_options":{"include_usage":true,"INCLUDE_USAGE":false}"#),
                "unknown_parameter",
                Some("stream_options.INCLUDE_USAGE"),
            ),
            // A key twice inside what a provider or a translator reads: the router would read
            // one copy (a data URL), the provider the other (a remote image).
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA","url":"https://x"}}]}]}"#.into(),
                "duplicate_key",
                Some("messages[0].content[0].image_url.url"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"a","name":"b","arguments":"{}"}}]}]}"#.into(),
                "duplicate_key",
                Some("messages[1].tool_calls[0].function.name"),
            ),
            (
                body(r#","tools":[{"type":"function","function":{"name":"a","name":"b"}}]"#),
                "duplicate_key",
                Some("tools[0].function.name"),
            ),
            (
                body(r#","tools":[{"type":"function","function":{"name":"a"},"function":{"name":"b"}}]"#),
                "duplicate_key",
                Some("tools[0].function"),
            ),
            (
                body(r#","tool_choice":{"type":"function","function":{"name":"a"},"type":"none"}"#),
                "duplicate_key",
                Some("tool_choice.type"),
            ),
            (
                body(r#","prediction":{"type":"content","content":"a","content":"b"}"#),
                "duplicate_key",
                Some("prediction.content"),
            ),
            (body(r#","audio":{"voice":"a","voice":"b","format":"mp3"}"#), "duplicate_key", Some("audio.voice")),
            (body(r#","reasoning":{"effort":"low","effort":"high"}"#), "duplicate_key", Some("reasoning.effort")),
            (
                body(r#","response_format":{"type":"json_schema","json_schema":{"name":"s"},"Type":"text"}"#),
                "unknown_parameter",
                Some("response_format.Type"),
            ),
            (
                body(r#","response_format":{"type":"json_schema","json_schema":{"name":"s"},"jsonSchema":{}}"#),
                "unknown_parameter",
                Some("response_format.jsonSchema"),
            ),
            // The router routed for a schema, the translation and the provider read `text`.
            (
                body(r#","response_format":{"type":"json_schema","json_schema":{"name":"s"},"type":"text"}"#),
                "duplicate_key",
                Some("response_format.type"),
            ),
            (
                body(r#","response_format":{"type":"json_schema","json_schema":{"name":"s","name":"t"}}"#),
                "duplicate_key",
                Some("response_format.json_schema.name"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,AA","file_data":"x"}}]}]}"#.into(),
                "duplicate_key",
                Some("messages[0].content[0].file.file_data"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav","format":"mp3"}}]}]}"#.into(),
                "duplicate_key",
                Some("messages[0].content[0].input_audio.format"),
            ),
            // A file stored with the provider's account, which the router's key is for all.
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc123"}}]}]}"#.into(),
                "unsupported_value",
                Some("messages[0].content[0].file.file_id"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"file","file":{"fileId":"file-abc123"}}]}]}"#.into(),
                "unsupported_value",
                Some("messages[0].content[0].file.file_id"),
            ),
            // And a cache stored there (Gemini's OpenAI layer reads it), named twice too.
            (
                body(r#","extra_body":{"google":{"cached_content":"cachedContents/abc123"}}"#),
                "unsupported_value",
                Some("extra_body.google.cached_content"),
            ),
            (
                body(r#","extra_body":{"google":{},"google":{"cached_content":"cachedContents/abc123"}}"#),
                "unsupported_value",
                Some("extra_body.google.cached_content"),
            ),
            // Members a provider would refuse, or a translator drop, by their type.
            (body(r#","reasoning_effort":5"#), "invalid_type", Some("reasoning_effort")),
            (body(r#","reasoning":"high""#), "invalid_type", Some("reasoning")),
            (body(r#","reasoning":{"effort":5}"#), "invalid_type", Some("reasoning.effort")),
            (body(r#","top_logprobs":1.5"#), "invalid_type", Some("top_logprobs")),
            (body(r#","stop":5"#), "invalid_type", Some("stop")),
            (body(r#","stop":["a",5]"#), "invalid_type", Some("stop[1]")),
            (body(r#","response_format":"json""#), "invalid_type", Some("response_format")),
            (body(r#","parallel_tool_calls":"x""#), "invalid_type", Some("parallel_tool_calls")),
            (r#"{"model":7,"messages":[]}"#.into(), "invalid_type", Some("model")),
            (r#"{"model":"economy","messages":{}}"#.into(), "invalid_type", Some("messages")),
            (r#"{"model":"economy","messages":[]}"#.into(), "invalid_value", Some("messages")),
            (r#"{"model":"economy","messages":["hi"]}"#.into(), "invalid_type", Some("messages[0]")),
            (
                r#"{"model":"economy","messages":[{"content":"x"}]}"#.into(),
                "missing_required_parameter",
                Some("messages[0].role"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"robot","content":"x"}]}"#.into(),
                "invalid_role",
                Some("messages[0].role"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user"}]}"#.into(),
                "missing_required_parameter",
                Some("messages[0].content"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":5}]}"#.into(),
                "invalid_type",
                Some("messages[0].content"),
            ),
            // An empty list, as OpenAI refuses it (every provider did too, after routing).
            (
                r#"{"model":"economy","messages":[{"role":"user","content":"a"},{"role":"assistant","content":[ ]}]}"#
                    .into(),
                "empty_array",
                Some("messages[1].content"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","role":"user","content":"x"}]}"#.into(),
                "duplicate_key",
                Some("messages[0].role"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":[{"type":"text","text":1}]}]}"#
                    .into(),
                "invalid_type",
                Some("messages[0].content[0].text"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":["x"]}]}"#.into(),
                "invalid_type",
                Some("messages[0].content[0]"),
            ),
            (body(r#","prefer":"fastest""#), "invalid_prefer", Some("prefer")),
            (body(r#","prefer":1"#), "invalid_type", Some("prefer")),
            (body(r#","tier":"gold""#), "invalid_tier", Some("tier")),
            (body(r#","stream":"yes""#), "invalid_type", Some("stream")),
            (body(r#","max_tokens":-1"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_tokens":0"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_completion_tokens":0"#), "invalid_value", Some("max_completion_tokens")),
            (
                body(r#","max_tokens":100,"max_completion_tokens":0.0"#),
                "invalid_value",
                Some("max_completion_tokens"),
            ),
            (body(r#","max_tokens":1.5"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_tokens":99999999999999999999999"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_completion_tokens":"10""#), "invalid_type", Some("max_completion_tokens")),
            (body(r#","tools":{}"#), "invalid_type", Some("tools")),
            (body(r#","temperature":NaN"#), "invalid_json", None),
            (body(r#","tool_choice":"required""#), "invalid_value", Some("tool_choice")),
            (
                body(r#","tools":[],"tool_choice":{"type":"function","function":{"name":"f"}}"#),
                "invalid_value",
                Some("tool_choice"),
            ),
            (
                body(r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[]}}"#),
                "invalid_value",
                Some("tool_choice"),
            ),
            // Not JSON, not a number out of range.
            (body(r#","n":02"#), "invalid_json", None),
            (body(r#","max_tokens":010"#), "invalid_json", None),
            (body(r#","max_tokens":16.5"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_completion_tokens":1e-1"#), "invalid_value", Some("max_completion_tokens")),
            (
                body(r#","stream":true,"stream_options":{"include_usage":true,"include_usage":false}"#),
                "duplicate_key",
                Some("stream_options.include_usage"),
            ),
            (body(r#","modalities":"audio""#), "invalid_type", Some("modalities")),
            (body(r#","modalities":["text","video"]"#), "invalid_value", Some("modalities")),
            (body(r#","service_tier":"priority""#), "unsupported_value", Some("service_tier")),
            (body(r#","service_tier":"scale""#), "unsupported_value", Some("service_tier")),
            (body(r#","service_tier":"Priority""#), "unsupported_value", Some("service_tier")),
            (body(r#","service_tier":"SERVICE_TIER_PRIORITY""#), "unsupported_value", Some("service_tier")),
            (body(r#","service_tier":"performance""#), "unsupported_value", Some("service_tier")),
            (body(r#","service_tier":1"#), "invalid_type", Some("service_tier")),
            (
                body(r#","tools":[{"type":"function","function":{"name":"f"}},{"type":"browser_search"}]"#),
                "unsupported_tool_type",
                Some("tools[1].type"),
            ),
            (
                body(r#","tools":[{"type":"function","function":{"name":"f"},"type":"code_interpreter"}]"#),
                "unsupported_tool_type",
                Some("tools[0].type"),
            ),
            (body(r#","tools":[{"type":7}]"#), "invalid_type", Some("tools[0].type")),
            (
                r#"{"model":"economy","messages":[{"role":"function","name":"f"}]}"#.into(),
                "missing_required_parameter",
                Some("messages[0].content"),
            ),
            (
                r#"{"model":"economy","messages":[{"role":"user","content":null}]}"#.into(),
                "missing_required_parameter",
                Some("messages[0].content"),
            ),
        ];
        for (input, code, param) in cases {
            let got = parse_chat(input.as_bytes()).err();
            let got = got.as_ref().map(|e| (e.code, e.param.as_deref(), e.status));
            assert_eq!(got, Some((code, param, 400)), "{input}");
        }
    }

    /// A dearer service tier would be charged at standard rates: refused (above); the others
    /// pass to the provider as sent.
    #[test]
    fn service_tiers_at_or_below_standard_rates_pass() {
        for tier in [r#""auto""#, r#""default""#, r#""flex""#, r#""on_demand""#, r#""standard_only""#, "null"]
        {
            let b = format!(
                r#"{{"model":"economy","service_tier":{tier},"messages":[{{"role":"user","content":"x"}}]}}"#
            );
            assert!(parse_chat(b.as_bytes()).is_ok(), "{tier}");
        }
    }

    /// The client's own tools pass, whatever else the entry holds (the translators and the
    /// provider check that); a provider's built-in tools are refused above.
    #[test]
    fn function_and_custom_tools_pass() {
        let b = body(
            r#","tools":[{"function":{"name":"f","parameters":{"type":"object"}},"type":"function"},{"type":"custom","custom":{"name":"g"}}]"#,
        );
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.features.tools_declared, 2);
    }

    /// Both caps sent: the larger is what a provider may generate, so it is what the guard and
    /// the estimate read (the smaller was, and `max_completion_tokens: 1` reserved one token).
    #[test]
    fn the_larger_of_two_output_caps_counts() {
        for (extra, want) in [
            (r#","max_completion_tokens":1,"max_tokens":100000"#, (Some(100_000), "max_tokens")),
            (r#","max_tokens":100000,"max_completion_tokens":1"#, (Some(100_000), "max_tokens")),
            (r#","max_tokens":10,"max_completion_tokens":700"#, (Some(700), "max_completion_tokens")),
            (r#","max_tokens":10,"max_completion_tokens":null"#, (Some(10), "max_tokens")),
        ] {
            let b = body(extra);
            let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!((req.max_output_tokens, req.max_output_param), want, "{extra}");
            assert_eq!(req.estimate(512).output_tokens, want.0.unwrap_or_default(), "{extra}");
        }
    }

    /// Issue 15: `16.0` and `1e3` are integers to the spec; they were refused as fractions.
    #[test]
    fn whole_number_floats_are_integers() {
        for (extra, want) in [
            (r#","max_completion_tokens":16.0"#, 16),
            (r#","max_tokens":1e3"#, 1000),
            (r#","max_tokens":2.5e1,"n":1.0"#, 25),
        ] {
            let b = body(extra);
            let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!(req.max_output_tokens, Some(want), "{extra}");
        }
    }

    /// Each of `n` choices is generated and billed: the estimate priced one, so a client at
    /// its budget's edge reserved for one and spent 128 times that.
    #[test]
    fn the_estimate_counts_every_choice() {
        for (extra, output) in [
            (r#","max_tokens":1000"#, 1000),
            (r#","max_tokens":1000,"n":128"#, 128_000),
            (r#","n":3"#, 3 * 512),
            (r#","n":null"#, 512),
            // A named effort's thinking is output too, unless a limit bounds it; none thinks
            // none (a reservation of 512 tokens held a request that thought 16,384).
            (r#","reasoning_effort":"high""#, 512 + 16_384),
            (r#","reasoning":{"effort":"low"},"n":2"#, 2 * (512 + 2_048)),
            (r#","reasoning_effort":"xhigh""#, 512 + 32_768),
            (r#","reasoning_effort":"max""#, 512 + 65_536),
            (r#","reasoning_effort":"none""#, 512),
            (r#","reasoning_effort":"high","max_tokens":1000"#, 1000),
            (r#","reasoning_effort_hint":"max","reasoning_effort":"low""#, 512 + 2_048),
            // A client's own thinking budget is held where it is more than its effort's (a
            // Claude is sent it: 60,000 tokens of thinking were held 2,048).
            (r#","reasoning_effort":"low","thinking_budget":60000"#, 512 + 60_000),
            (r#","reasoning_effort":"high","thinking_budget":1024"#, 512 + 16_384),
            (r#","thinking_budget":60000"#, 512),
        ] {
            let b = body(extra);
            let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{extra}: {e}"));
            assert_eq!(req.estimate(512).output_tokens, output, "{extra}");
        }
        // A hint is sent to the models that take efforts, as the nearest effort each takes, and
        // only to them: reserved at 512 where sent, it spent 45 times a limit; counted for every
        // model, a model sent no effort was charged thinking it never did, past its own output
        // limit.
        let all = 0x7F;
        let (low, high) = (effort_bit("low").unwrap_or(0), effort_bit("high").unwrap_or(0));
        for (extra, mask, sent, limit) in [
            (r#","reasoning_effort_hint":"xhigh""#, all, 512 + 32_768, 1_000_000),
            (r#","reasoning_effort_hint":"max""#, all, 32_768, 32_768),
            (r#","reasoning_effort_hint":"max""#, low | high, 512 + 16_384, 1_000_000),
            (r#","reasoning_effort_hint":"none""#, low | high, 512 + 2_048, 1_000_000),
            (r#","reasoning_effort_hint":"none""#, all, 512, 1_000_000),
            (r#","reasoning_effort_hint":"high","max_tokens":100"#, all, 100, 1_000_000),
            (r#","reasoning_effort_hint":"high","n":2"#, all, 2 * (512 + 16_384), 1_000_000),
        ] {
            let b = body(extra);
            let e =
                parse_chat(b.as_bytes()).map(|r| r.estimate(512)).unwrap_or_else(|e| panic!("{extra}: {e}"));
            let takes = Quirks { efforts: mask, ..Quirks::NONE };
            assert_eq!(e.output_on(&takes, limit), sent, "{extra} {mask}");
            assert_eq!(e.output_on(&Quirks::NONE, limit), e.output_tokens, "{extra}");
            assert_eq!(e.reserved_output(limit, &takes), sent, "{extra} {mask}");
        }
        // A model sent no effort thinks at its default, which a request naming none or capping
        // its output does not add to (o3 asked nothing was held 512 tokens and wrote 20,000).
        let medium = Quirks { default_effort: effort_bit("medium").unwrap_or(0), ..Quirks::NONE };
        let (low_high, every) = (Quirks { efforts: low | high, ..medium }, Quirks { efforts: all, ..medium });
        for (extra, quirks, sent) in [
            ("", medium, 512 + 8_192),
            (r#","n":2"#, medium, 2 * (512 + 8_192)),
            (r#","reasoning_effort_hint":"xhigh""#, medium, 512 + 8_192),
            (r#","reasoning_effort_hint":"xhigh""#, low_high, 512 + 16_384),
            ("", low_high, 512 + 8_192),
            (r#","reasoning_effort_hint":"none""#, every, 512),
            (r#","reasoning_effort":"low""#, medium, 512 + 2_048),
            (r#","max_tokens":100"#, medium, 100),
            ("", Quirks { default_effort: effort_bit("none").unwrap_or(0), ..Quirks::NONE }, 512),
        ] {
            let e = parse_chat(body(extra).as_bytes()).ok().map(|r| r.estimate(512));
            assert_eq!(e.map(|e| e.output_on(&quirks, 1_000_000)), Some(sent), "{extra} {quirks:?}");
        }
        for bad in [r#","n":"2""#, r#","n":0"#, r#","n":129"#, r#","n":1e9"#] {
            let e = parse_chat(body(bad).as_bytes()).err().map(|e| (e.status, e.param));
            assert_eq!(e, Some((400, Some("n".to_string()))), "{bad}");
        }
    }

    /// An image costs the model tokens its bytes do not show (a URL is a few dozen bytes, a
    /// data URL's base64 is not read as text): it counted nothing, in the estimate and the
    /// context guard.
    #[test]
    fn each_image_counts_in_the_estimate() {
        let image = r#"{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}"#;
        let with = |n: usize| {
            let parts = vec![image; n].join(",");
            let b = format!(
                r#"{{"model":"economy","messages":[{{"role":"user","content":[{{"type":"text","text":"hi"}}{}{parts}]}}]}}"#,
                if n > 0 { "," } else { "" }
            );
            parse_chat(b.as_bytes()).map(|req| req.estimate(0).input_tokens).unwrap_or_else(|e| panic!("{e}"))
        };
        // The parts' `type` members are a few bytes of text besides.
        let added = with(2) - with(0);
        assert!((2 * IMAGE_TOKENS..2 * IMAGE_TOKENS + 20).contains(&added), "{added}");
    }

    /// Sampling members of the wrong type or out of OpenAI's range reached a provider, which
    /// answered in its own words (or a tier skipped only the candidates whose translator
    /// refused them): they are the router's 400, the same whatever the model.
    #[test]
    fn sampling_members_are_checked_whatever_the_model() {
        for bad in [
            r#","temperature":"0.2""#,
            r#","temperature":2.5"#,
            r#","top_p":-0.1"#,
            r#","presence_penalty":3"#,
            r#","top_logprobs":21"#,
            r#","logprobs":"yes""#,
            r#","logit_bias":[1]"#,
        ] {
            let e = parse_chat(body(bad).as_bytes()).err();
            let field = bad.split('"').nth(1).map(str::to_string);
            assert_eq!(e.map(|e| (e.status, e.param)), Some((400, field)), "{bad}");
        }
        let fine = r#","temperature":0,"top_p":1,"frequency_penalty":-2,"top_logprobs":5,"logprobs":true,"logit_bias":{"1":-100}"#;
        let fine = body(fine);
        let req = parse_chat(fine.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.layout().sampling(), Some("temperature"));
    }

    /// Issue 15: a second `include_usage` was accepted and sent on beside the router's edit.
    #[test]
    fn a_key_twice_in_stream_options_is_refused() {
        let b = body(r#","stream":true,"stream_options":{"include_usage":true,"include_usage":false}"#);
        let e = parse_chat(b.as_bytes()).err();
        assert_eq!(e.map(|e| (e.status, e.code)), Some((400, "duplicate_key")));
        assert!(
            parse_chat(body(r#","stream":true,"stream_options":{"include_usage":true}"#).as_bytes()).is_ok()
        );
    }

    /// Issue 15: the spec types a function message's content `string | null`.
    #[test]
    fn a_function_message_may_have_null_content() {
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"x"},{"role":"function","name":"f","content":null}]}"#;
        assert_eq!(parse_chat(b.as_bytes()).map(|r| r.messages), Ok(2));
    }

    #[test]
    fn modalities_and_the_output_limit_field_are_read() {
        let b = body(r#","modalities":["text","audio"],"max_completion_tokens":5"#);
        let req = parse_chat(b.as_bytes());
        assert_eq!(req.map(|r| (r.audio_output, r.max_output_param)), Ok((true, "max_completion_tokens")));
        let b = body(r#","modalities":["text"],"max_tokens":5"#);
        let req = parse_chat(b.as_bytes());
        assert_eq!(req.map(|r| (r.audio_output, r.max_output_param)), Ok((false, "max_tokens")));
    }

    #[test]
    fn empty_model_is_invalid() {
        let b = r#"{"model":"","messages":[{"role":"user","content":"x"}]}"#;
        let e = parse_chat(b.as_bytes()).err();
        assert_eq!(e.map(|e| (e.code, e.param)), Some(("invalid_value", Some("model".into()))));
    }

    #[test]
    fn invalid_utf8_is_reported() {
        let mut b = body("").into_bytes();
        b.insert(20, 0xff);
        let e = parse_chat(&b).err();
        assert_eq!(e.map(|e| e.code), Some("invalid_utf8"));
    }

    #[test]
    fn assistant_with_tool_calls_needs_no_content() {
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"x"},
                   {"role":"assistant","tool_calls":[{"id":"1"}]},{"role":"tool","content":"r"}]}"#;
        assert!(parse_chat(b.as_bytes()).is_ok());
    }

    /// An OpenAI answer states a refusal as `content: null` beside `refusal`; a client that
    /// appends the answer to its conversation sends it back so, and was refused a 400.
    #[test]
    fn assistant_with_a_refusal_needs_no_content() {
        let with =
            |m: &str| format!(r#"{{"model":"economy","messages":[{{"role":"user","content":"x"}},{m}]}}"#);
        for m in [
            r#"{"role":"assistant","content":null,"refusal":"no"}"#,
            r#"{"role":"assistant","refusal":"no"}"#,
        ] {
            assert!(parse_chat(with(m).as_bytes()).is_ok(), "{m}");
        }
        for m in [r#"{"role":"assistant","refusal":null}"#, r#"{"role":"user","refusal":"no"}"#] {
            let code = parse_chat(with(m).as_bytes()).err().map(|e| e.code);
            assert_eq!(code, Some("missing_required_parameter"), "{m}");
        }
    }

    /// Values compared decoded: an escaped `"json\u005fschema"` asked for a schema unseen (the
    /// route could pick a model without structured output), and an escaped `"\u0061uto"`
    /// with no tools was refused as forcing a tool call.
    #[test]
    fn escaped_values_are_read_as_their_text() {
        let b = r#"{"model":"economy","response_format":{"type":"json\u005fschema","json_schema":{"name":"s","schema":{}}},"tool_choice":"\u0061uto","messages":[{"role":"user","content":"x"}]}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(req.features.json_schema && req.json_output && !req.features.tool_choice_forced);
        // `allowed_tools` in its auto mode forces no call: no tools to call is no error.
        let b = body(r#","tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}"#);
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!req.features.tool_choice_forced);
    }

    /// A file's or a recording's base64 counts at its own rate, not as text: as text, an 800 KB
    /// PDF was 267,000 tokens to the context guard, past every model's window but the largest.
    #[test]
    fn estimate_counts_files_and_audio_at_their_own_rates() {
        let part = |p: &str| {
            format!(
                r#"{{"model":"economy","messages":[{{"role":"user","content":[{{"type":"text","text":"sum up"}},{p}]}}]}}"#
            )
        };
        let data = "A".repeat(800_000);
        for (p, tokens) in [
            (
                format!(
                    r#"{{"type":"file","file":{{"filename":"a.pdf","file_data":"data:application/pdf;base64,{data}"}}}}"#
                ),
                50_000,
            ),
            (format!(r#"{{"type":"input_audio","input_audio":{{"data":"{data}","format":"wav"}}}}"#), 1_563),
        ] {
            let input =
                parse_chat(part(&p).as_bytes()).map(|r| r.estimate(512).input_tokens).unwrap_or_default();
            assert!(input.abs_diff(tokens) < 100, "{input} against about {tokens}");
        }
        // A PDF is billed by its pages: 100 blank ones in 10 KB count 1,500 each.
        let mut pdf = String::from("%PDF-1.4\n2 0 obj << /Type /Pages /Count 100 >> endobj\n");
        for n in 0..100 {
            pdf.push_str(&format!("{} 0 obj << /Type /Page /Parent 2 0 R >> endobj\n", n + 3));
        }
        let file = format!(r#"{{"type":"file","file":{}}}"#, crate::parse::pdf::part(pdf.as_bytes()));
        let input =
            parse_chat(part(&file).as_bytes()).map(|r| r.estimate(512).input_tokens).unwrap_or_default();
        assert!((150_000..151_000).contains(&input), "{input}");
    }

    /// What the provider reads beside the messages counts in the estimate: a schema, deprecated
    /// functions and a predicted output were not, and a client passed its spend limit a
    /// hundredfold by the size of one.
    #[test]
    fn estimate_counts_schemas_functions_and_predictions() {
        let big = "x".repeat(4_000);
        let plain = r#"{"model":"economy","messages":[{"role":"user","content":"hi"}]}"#;
        let base = parse_chat(plain.as_bytes()).map(|r| r.estimate(512).input_tokens).unwrap_or_default();
        for member in [
            format!(
                r#""response_format":{{"type":"json_schema","json_schema":{{"name":"s","schema":{{"description":"{big}"}}}}}}"#
            ),
            format!(r#""functions":[{{"name":"f","description":"{big}"}}]"#),
            format!(r#""prediction":{{"type":"content","content":"{big}"}}"#),
        ] {
            let b = plain.replacen('{', &format!("{{{member},"), 1);
            let input = parse_chat(b.as_bytes()).map(|r| r.estimate(512).input_tokens).unwrap_or_default();
            assert!(input > base + 1_000, "{member}: {input} against {base}");
        }
    }

    /// Text escaped as `\u4e2d` (Python's `json.dumps` writes every non-ASCII character so by
    /// default) counts as the UTF-8 it stands for: escaped Chinese counted twice its bytes, and
    /// a request that fit a window, a budget or `max_price` was refused.
    #[test]
    fn escaped_text_counts_as_the_text_it_stands_for() {
        let text = "中文的报告\n😀 “quoted” \\ 終わり".repeat(50);
        let body = serde_json::json!({
            "model": "economy",
            "messages": [
                {"role": "system", "content": text},
                {"role": "user", "content": [{"type": "text", "text": text}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function",
                    "function": {"name": "f", "arguments": serde_json::json!({"q": text}).to_string()}}]},
                {"role": "tool", "tool_call_id": "c", "content": text},
            ],
            "tools": [{"type": "function", "function": {"name": "f", "description": text, "parameters": {"type": "object"}}}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"description": text}}},
        });
        let raw = body.to_string();
        // Every character outside ASCII as `\u` escapes, a pair of them for one beyond the BMP.
        let mut escaped = String::new();
        for c in raw.chars() {
            if c.is_ascii() {
                escaped.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    escaped.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        assert!(escaped.len() > raw.len() + 3_000);
        let bytes = |b: &str| parse_chat(b.as_bytes()).map(|r| (r.text_bytes, r.estimate(512)));
        let (plain, estimate) = bytes(&raw).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bytes(&escaped).ok(), Some((plain, estimate)));
        // A simple escape counts as its one byte, as a `\u` escape of ASCII does.
        let one = |s: &str| {
            bytes(&format!(r#"{{"model":"economy","messages":[{{"role":"user","content":"{s}"}}]}}"#))
        };
        assert_eq!(one(r"a\nb\u0063").map(|r| r.0), one("a bc").map(|r| r.0));
    }

    #[test]
    fn estimate_counts_text_and_framing() {
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"abcdefgh"}],"max_tokens":7}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            req.estimate(512),
            Estimate {
                input_tokens: 2 + 4,
                output_tokens: 7,
                thinking: None,
                audio: false,
                worst_case: None,
                wide_input: 0
            }
        );
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"abc"}]}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            req.estimate(512),
            Estimate {
                input_tokens: 1 + 4,
                output_tokens: 512,
                thinking: Some((0, 1)),
                audio: false,
                worst_case: None,
                wide_input: 0
            }
        );
    }

    #[test]
    fn a_stream_asks_the_provider_for_usage_and_nothing_else_changes() {
        let cases = [
            (
                r#"{"model":"m","stream":true,"messages":[]}"#,
                r#"{"model":"u","stream":true,"messages":[],"stream_options":{"include_usage":true}}"#,
                false,
            ),
            (
                r#"{"model":"m","stream":true,"stream_options":{},"messages":[]}"#,
                r#"{"model":"u","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#,
                false,
            ),
            (
                r#"{"model":"m","stream":true,"stream_options":{"x":1},"messages":[]}"#,
                r#"{"model":"u","stream":true,"stream_options":{"include_usage":true,"x":1},"messages":[]}"#,
                false,
            ),
            (
                r#"{"model":"m","stream":true,"stream_options":{"include_usage":false},"messages":[]}"#,
                r#"{"model":"u","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#,
                false,
            ),
            (
                r#"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#,
                r#"{"model":"u","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#,
                true,
            ),
            (
                r#"{"model":"m","stream":true,"stream_options":null,"messages":[]}"#,
                r#"{"model":"u","stream":true,"messages":[],"stream_options":{"include_usage":true}}"#,
                false,
            ),
            (
                r#"{"model":"m","stream":false,"stream_options":{"include_usage":false},"messages":[]}"#,
                r#"{"model":"u","stream":false,"stream_options":{"include_usage":false},"messages":[]}"#,
                false,
            ),
        ];
        for (body, want, asked) in cases {
            let body = body.replace(r#""messages":[]"#, r#""messages":[{"role":"user","content":"x"}]"#);
            let want = want.replace(r#""messages":[]"#, r#""messages":[{"role":"user","content":"x"}]"#);
            let req = parse_chat(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(String::from_utf8_lossy(&req.rewrite(body.as_bytes(), "u")), want, "{body}");
            assert_eq!(req.usage_requested, asked, "{body}");
        }
    }

    #[test]
    fn max_price_is_read_and_removed() {
        let body = br#"{"model":"m","max_price":{"prompt":1,"completion":2.5},"messages":[{"role":"user","content":"x"}]}"#;
        let req = parse_chat(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.max_price, Some(MaxPrice { prompt: Some(1.0), completion: Some(2.5) }));
        assert_eq!(
            String::from_utf8_lossy(&req.rewrite(body, "u")),
            r#"{"model":"u","messages":[{"role":"user","content":"x"}]}"#
        );
        for bad in [r#""max_price":{"request":1}"#, r#""max_price":{"prompt":-1}"#, r#""max_price":"cheap""#]
        {
            let body = format!(r#"{{"model":"m",{bad},"messages":[{{"role":"user","content":"x"}}]}}"#);
            assert!(parse_chat(body.as_bytes()).is_err(), "{bad}");
        }
    }
}
