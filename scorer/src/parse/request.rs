//! One pass over a chat completions body: validate it, pull out what routing needs, and
//! remember where the router-owned bytes are so the rewrite can splice.

use std::borrow::Cow;

use crate::catalog::Tier;
use crate::error::{ApiError, echo};
use crate::parse::features::{Features, Role};
use crate::parse::json::{JsonError, Kind, Reader};
use crate::vocab::Policy;
use crate::vocab::{Estimate, Prefer};

/// A byte range `[start, end)` of the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A top-level member of the body: from its key's opening quote to the end of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub(crate) span: Span,
    /// Owned by the router (`prefer`, `tier`): removed before the body goes upstream.
    pub(crate) router_only: bool,
}

/// Where the top-level members and the `model` value sit in a body, for splicing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub(crate) members: Vec<Member>,
    pub(crate) model_value: Span,
    /// Bytes replacing a span inside a member (asking a stream for its usage).
    pub(crate) edit: Option<(Span, &'static [u8])>,
    /// A member appended after the last one.
    pub(crate) append: Option<&'static [u8]>,
}

/// The member that asks a provider for a stream's usage, when the client sent no
/// `stream_options`.
pub(crate) const STREAM_USAGE_MEMBER: &[u8] = br#""stream_options":{"include_usage":true}"#;

impl Layout {
    /// Records a top-level member from its key's opening quote to the end of its value.
    pub fn member(&mut self, start: usize, end: usize, router_only: bool) {
        self.members.push(Member { span: Span { start, end }, router_only });
    }

    /// Records where the `model` value is.
    pub fn model_at(&mut self, start: usize, end: usize) {
        self.model_value = Span { start, end };
    }
}

/// Message roles the router accepts.
pub const ROLES: [&str; 6] = ["system", "developer", "user", "assistant", "tool", "function"];

/// Top-level fields the router reads and removes: they mean nothing to a provider.
pub const ROUTER_FIELDS: [&str; 4] = ["prefer", "tier", "provider", "max_price"];

/// A request's price ceiling (OpenRouter's `max_price`), USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaxPrice {
    /// Highest input price.
    pub prompt: Option<f64>,
    /// Highest output price.
    pub completion: Option<f64>,
}

/// What routing needs from a chat request. Borrows from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest<'a> {
    /// The `model` value as sent.
    pub model: Cow<'a, str>,
    /// `prefer`, when given.
    pub prefer: Option<Prefer>,
    /// `tier`, when given.
    pub tier: Option<Tier>,
    /// `stream: true`.
    pub stream: bool,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_output_tokens: Option<u64>,
    /// The field `max_output_tokens` came from, for errors about it.
    pub max_output_param: &'static str,
    /// `modalities` asks for audio output.
    pub audio_output: bool,
    /// Number of messages.
    pub messages: usize,
    /// Bytes of message text plus the raw size of other message fields and tool definitions.
    pub text_bytes: usize,
    /// Conversation features for `auto`.
    pub features: Features,
    /// The request's own `provider: {"only": [...], "ignore": [...]}`.
    pub provider_policy: Option<Policy>,
    /// The client asked for a stream's usage itself (`stream_options.include_usage`). The
    /// router always asks providers for it (to price the stream) and removes what the client
    /// did not ask for.
    pub usage_requested: bool,
    /// `max_price`, when given.
    pub max_price: Option<MaxPrice>,
    /// Message texts in order, for the `auto` feature scan: scanning text is most of the cost
    /// of a pass, and only `model: "auto"` needs it.
    texts: Vec<(Role, Vec<&'a str>, u32)>,
    pub(crate) layout: Layout,
}

/// Tokens added per message for role and framing in [`ChatRequest::estimate`].
pub const TOKENS_PER_MESSAGE: u64 = 4;

/// Bytes per token in [`ChatRequest::estimate`]: about right for English and code with
/// today's tokenizers, and it over-counts for most other scripts rather than under-counting.
pub const BYTES_PER_TOKEN: u64 = 4;

impl ChatRequest<'_> {
    /// Token estimate for pricing: `ceil(text_bytes / 4) + 4 per message`; output is the
    /// request's limit or `default_output`.
    pub fn estimate(&self, default_output: u64) -> Estimate {
        let text = (self.text_bytes as u64).div_ceil(BYTES_PER_TOKEN);
        Estimate {
            input_tokens: text + TOKENS_PER_MESSAGE * self.messages as u64,
            output_tokens: self.max_output_tokens.unwrap_or(default_output),
        }
    }

    /// Where the body's members are: enough to rewrite it again for another model without
    /// parsing it again.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}

pub(crate) fn syntax(e: JsonError) -> ApiError {
    ApiError::invalid("invalid_json", None, format!("request body is not valid JSON: {e}"))
}

pub(crate) fn wrong_type(param: &str, want: &str, got: Kind) -> ApiError {
    ApiError::invalid("invalid_type", Some(param), format!("'{param}' must be {want}, got {}", got.name()))
}

/// Reads a string value or reports the field's expected type.
pub(crate) fn string_field<'a>(r: &mut Reader<'a>, param: &str) -> Result<Cow<'a, str>, ApiError> {
    string_field_named(r, || param.to_string())
}

/// [`string_field`] for a parameter whose name has to be built (`messages[3].role`): only
/// built for the error, as the field is read once per message.
fn string_field_named<'a>(
    r: &mut Reader<'a>,
    param: impl FnOnce() -> String,
) -> Result<Cow<'a, str>, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::String => r.string().map_err(syntax),
        k => Err(wrong_type(&param(), "a string", k)),
    }
}

/// Reads an optional string: `null` is absent.
fn opt_string_field<'a>(r: &mut Reader<'a>, param: &str) -> Result<Option<Cow<'a, str>>, ApiError> {
    if r.peek_kind().map_err(syntax)? == Kind::Null {
        r.null().map_err(syntax)?;
        return Ok(None);
    }
    string_field(r, param).map(Some)
}

fn opt_count_field(r: &mut Reader<'_>, param: &str) -> Result<Option<u64>, ApiError> {
    let bad = || {
        ApiError::invalid("invalid_value", Some(param), format!("'{param}' must be a non-negative integer"))
    };
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => r.null().map(|()| None).map_err(syntax),
        Kind::Number => {
            crate::parse::json::whole_number(r.number().map_err(syntax)?).map(Some).ok_or_else(bad)
        }
        k => Err(wrong_type(param, "an integer", k)),
    }
}

/// Returns the first key that occurs twice.
pub(crate) fn first_duplicate<'k>(keys: &mut [Cow<'k, str>]) -> Option<Cow<'k, str>> {
    keys.sort_unstable();
    keys.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(a.clone()),
        _ => None,
    })
}

pub(crate) fn duplicate_error(key: &str, at: &str) -> ApiError {
    let param = if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    ApiError::invalid(
        "duplicate_key",
        Some(&param),
        format!(
            "key {} appears more than once{}: send each key once",
            echo(key),
            if at.is_empty() { String::new() } else { format!(" in {at}") }
        ),
    )
}

/// Checks that a body is non-empty UTF-8 holding a JSON object; returns the text and a reader
/// positioned on the object.
pub(crate) fn open_object(body: &[u8]) -> Result<(&str, Reader<'_>), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("missing_body", None, "request body is empty: send a JSON request"));
    }
    let src = std::str::from_utf8(body).map_err(|e| {
        ApiError::invalid(
            "invalid_utf8",
            None,
            format!("request body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    let mut r = Reader::new(src);
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Object {
        return Err(ApiError::invalid(
            "invalid_body",
            None,
            format!("request body must be a JSON object, got {}", kind.name()),
        ));
    }
    Ok((src, r))
}

/// Parses a chat completions body.
pub fn parse_chat(body: &[u8]) -> Result<ChatRequest<'_>, ApiError> {
    let (_, mut r) = open_object(body)?;

    let mut req = ChatRequest {
        model: Cow::Borrowed(""),
        prefer: None,
        tier: None,
        stream: false,
        max_output_tokens: None,
        max_output_param: "max_tokens",
        audio_output: false,
        messages: 0,
        text_bytes: 0,
        features: Features::new(),
        provider_policy: None,
        usage_requested: false,
        max_price: None,
        texts: Vec::new(),
        layout: Layout::default(),
    };
    // Where `stream_options` is: (its object's opening brace, whether it has members, the
    // span of a false `include_usage`), or None when absent or null.
    let mut stream_options: Option<(usize, bool, Option<Span>)> = None;
    let mut keys: Vec<Cow<'_, str>> = Vec::with_capacity(16);
    let mut have_model = false;
    let mut have_messages = false;
    let mut max_tokens = None;
    let mut max_completion_tokens = None;

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
                parse_messages(&mut r, &mut req)?;
                have_messages = true;
            }
            "prefer" => {
                req.prefer = match opt_string_field(&mut r, "prefer")? {
                    None => None,
                    Some(p) => Some(Prefer::parse(&p).ok_or_else(|| {
                        ApiError::invalid(
                            "invalid_prefer",
                            Some("prefer"),
                            format!(
                                "prefer {} is not valid: use one of {}",
                                echo(&p),
                                Prefer::NAMES.join(", ")
                            ),
                        )
                    })?),
                }
            }
            "tier" => {
                req.tier = match opt_string_field(&mut r, "tier")? {
                    None => None,
                    Some(t) => Some(Tier::parse(&t).ok_or_else(|| {
                        ApiError::invalid(
                            "invalid_tier",
                            Some("tier"),
                            format!("tier {} is not valid: use one of economy, standard, premium", echo(&t)),
                        )
                    })?),
                }
            }
            "stream" => match r.peek_kind().map_err(syntax)? {
                Kind::Bool => req.stream = r.boolean().map_err(syntax)?,
                Kind::Null => r.null().map_err(syntax)?,
                k => return Err(wrong_type("stream", "a boolean", k)),
            },
            "max_tokens" => max_tokens = opt_count_field(&mut r, "max_tokens")?,
            "max_completion_tokens" => {
                max_completion_tokens = opt_count_field(&mut r, "max_completion_tokens")?
            }
            "tools" => match r.peek_kind().map_err(syntax)? {
                Kind::Array => {
                    let mut it = r.array().map_err(syntax)?;
                    while it.next(&mut r).map_err(syntax)? {
                        let start = r.pos();
                        r.skip_value().map_err(syntax)?;
                        req.features.tools_declared += 1;
                        req.text_bytes += r.pos() - start;
                    }
                }
                Kind::Null => r.null().map_err(syntax)?,
                k => return Err(wrong_type("tools", "an array", k)),
            },
            "tool_choice" => {
                req.features.tool_choice_forced = match r.peek_kind().map_err(syntax)? {
                    Kind::String => !matches!(r.raw_string().map_err(syntax)?, "none" | "auto"),
                    Kind::Null => r.null().map(|()| false).map_err(syntax)?,
                    _ => r.skip_value().map(|()| true).map_err(syntax)?,
                }
            }
            "response_format" => req.features.json_schema = read_response_format(&mut r)?,
            "provider" => req.provider_policy = read_provider_policy(&mut r)?,
            "max_price" => req.max_price = read_max_price(&mut r)?,
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
            "reasoning_effort" | "reasoning" => {
                req.features.reasoning_param = r.peek_kind().map_err(syntax)? != Kind::Null;
                r.skip_value().map_err(syntax)?;
            }
            _ => r.skip_value().map_err(syntax)?,
        }
        // A null stream_options is dropped; the router adds its own when it streams.
        let null_options = key == "stream_options" && stream_options.is_none();
        let router_only = ROUTER_FIELDS.contains(&key.as_ref()) || null_options;
        req.layout.member(key_start, r.pos(), router_only);
        keys.push(key);
    }
    r.finish().map_err(syntax)?;
    if req.model == "auto" {
        // The conversation's text features, in message order.
        for (role, texts, tool_calls) in std::mem::take(&mut req.texts) {
            req.features.begin_message(role);
            for text in texts {
                req.features.add_text(role, text);
            }
            req.features.end_message(role, tool_calls);
        }
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
    req.max_output_tokens = max_completion_tokens.or(max_tokens);
    if max_completion_tokens.is_some() {
        req.max_output_param = "max_completion_tokens";
    }
    Ok(req)
}

/// Output modalities the chat API knows.
const MODALITIES: [&str; 2] = ["text", "audio"];

/// Reads `modalities`: true when it asks for audio output.
fn read_modalities(r: &mut Reader<'_>) -> Result<bool, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => return r.null().map(|()| false).map_err(syntax),
        Kind::Array => {}
        k => return Err(wrong_type("modalities", "an array of strings", k)),
    }
    let mut audio = false;
    let mut it = r.array().map_err(syntax)?;
    while it.next(r).map_err(syntax)? {
        let m = string_field(r, "modalities")?;
        if !MODALITIES.contains(&m.as_ref()) {
            return Err(ApiError::invalid(
                "invalid_value",
                Some("modalities"),
                format!("modality {} is not valid: use text or audio", echo(&m)),
            ));
        }
        audio |= m == "audio";
    }
    Ok(audio)
}

/// Reads `max_price: {"prompt": USD/M, "completion": USD/M}`.
fn read_max_price(r: &mut Reader<'_>) -> Result<Option<MaxPrice>, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => return r.null().map(|()| None).map_err(syntax),
        Kind::Object => {}
        k => return Err(wrong_type("max_price", "an object", k)),
    }
    let mut out = MaxPrice::default();
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some(key) = obj.next_key(r).map_err(syntax)? {
        let param = format!("max_price.{key}");
        let value = match r.peek_kind().map_err(syntax)? {
            Kind::Null => r.null().map(|()| None).map_err(syntax)?,
            Kind::Number => {
                let v =
                    r.number().map_err(syntax)?.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
                Some(v.ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_value",
                        Some(&param),
                        format!("'{param}' must be a non-negative number"),
                    )
                })?)
            }
            k => return Err(wrong_type(&param, "a number (USD per million tokens)", k)),
        };
        match key.as_ref() {
            "prompt" => out.prompt = value,
            "completion" => out.completion = value,
            other => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&param),
                    format!(
                        "max_price.{} is not supported: use prompt and completion (USD per million tokens)",
                        echo(other)
                    ),
                ));
            }
        }
        keys.push(key);
    }
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, "max_price"));
    }
    Ok(Some(out))
}

/// Reads an OpenRouter-style `provider` object: `only` and `ignore` lists of provider names.
pub fn read_provider_policy(r: &mut Reader<'_>) -> Result<Option<Policy>, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => return r.null().map(|()| None).map_err(syntax),
        Kind::Object => {}
        k => return Err(wrong_type("provider", "an object", k)),
    }
    let mut policy = Policy::default();
    let mut keys: Vec<Cow<'_, str>> = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some(key) = obj.next_key(r).map_err(syntax)? {
        let param = format!("provider.{key}");
        let kind = r.peek_kind().map_err(syntax)?;
        if kind != Kind::Array && (key == "only" || key == "ignore") {
            return Err(wrong_type(&param, "an array of provider names", kind));
        }
        match key.as_ref() {
            "only" | "ignore" => {
                let mut names = std::collections::BTreeSet::new();
                let mut it = r.array().map_err(syntax)?;
                while it.next(r).map_err(syntax)? {
                    names.insert(string_field(r, &param)?.into_owned());
                }
                if key == "only" {
                    policy.only = Some(names);
                } else {
                    policy.blocked = names;
                }
            }
            other => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(&param),
                    format!(
                        "provider.{} is not supported: use provider.only and provider.ignore",
                        echo(other)
                    ),
                ));
            }
        }
        keys.push(key);
    }
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, "provider"));
    }
    Ok(Some(policy))
}

/// True when `response_format` asks for a JSON schema.
fn read_response_format(r: &mut Reader<'_>) -> Result<bool, ApiError> {
    if r.peek_kind().map_err(syntax)? != Kind::Object {
        r.skip_value().map_err(syntax)?;
        return Ok(false);
    }
    let mut schema = false;
    let mut obj = r.object().map_err(syntax)?;
    while let Some(key) = obj.next_key(r).map_err(syntax)? {
        if key == "type" && r.peek_kind().map_err(syntax)? == Kind::String {
            schema |= r.raw_string().map_err(syntax)? == "json_schema";
        } else {
            r.skip_value().map_err(syntax)?;
        }
    }
    Ok(schema)
}

fn parse_messages<'a>(r: &mut Reader<'a>, req: &mut ChatRequest<'a>) -> Result<(), ApiError> {
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Array {
        return Err(wrong_type("messages", "an array", kind));
    }
    let mut keys: Vec<Cow<'a, str>> = Vec::with_capacity(8);
    let mut it = r.array().map_err(syntax)?;
    let mut index = 0usize;
    while it.next(r).map_err(syntax)? {
        parse_message(r, req, index, &mut keys)?;
        index += 1;
    }
    if index == 0 {
        return Err(ApiError::invalid(
            "invalid_value",
            Some("messages"),
            "'messages' is empty: send at least one message",
        ));
    }
    req.messages = index;
    Ok(())
}

fn parse_message<'a>(
    r: &mut Reader<'a>,
    req: &mut ChatRequest<'a>,
    index: usize,
    keys: &mut Vec<Cow<'a, str>>,
) -> Result<(), ApiError> {
    let at = || format!("messages[{index}]");
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Object {
        return Err(wrong_type(&at(), "an object", kind));
    }
    keys.clear();
    let mut role: Option<Cow<'a, str>> = None;
    let mut has_content = false;
    let mut content_key = false;
    let mut has_tool_calls = false;
    let mut tool_calls = 0u32;
    // Raw texts, scanned once the role is known (it may come after the content).
    let mut texts: Vec<&'a str> = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some(key) = obj.next_key(r).map_err(syntax)? {
        match key.as_ref() {
            "role" => {
                let value = string_field_named(r, || format!("{}.role", at()))?;
                if !ROLES.contains(&value.as_ref()) {
                    return Err(ApiError::invalid(
                        "invalid_role",
                        Some(&format!("{}.role", at())),
                        format!("role {} is not valid: use one of {}", echo(&value), ROLES.join(", ")),
                    ));
                }
                role = Some(value);
            }
            "content" => {
                content_key = true;
                has_content = parse_content(r, req, &at, &mut texts)?;
            }
            "tool_calls" if r.peek_kind().map_err(syntax)? == Kind::Array => {
                has_tool_calls = true;
                let start = r.pos();
                let mut it = r.array().map_err(syntax)?;
                while it.next(r).map_err(syntax)? {
                    r.skip_value().map_err(syntax)?;
                    tool_calls += 1;
                }
                req.text_bytes += r.pos() - start;
            }
            other => {
                has_tool_calls |= other == "tool_calls" || other == "function_call";
                let start = r.pos();
                r.skip_value().map_err(syntax)?;
                req.text_bytes += r.pos() - start;
            }
        }
        keys.push(key);
    }
    if let Some(dup) = first_duplicate(keys) {
        return Err(duplicate_error(&dup, &at()));
    }
    let Some(role) = role else {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{}.role", at())),
            format!("{}.role is required: use one of {}", at(), ROLES.join(", ")),
        ));
    };
    // An assistant turn may carry only tool calls; a function result may be null (the spec
    // types it `string | null`, still required).
    let content_optional = (role == "assistant" && has_tool_calls) || (role == "function" && content_key);
    if !has_content && !content_optional {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some(&format!("{}.content", at())),
            format!("{}.content is required for role '{role}'", at()),
        ));
    }
    req.texts.push((Role::from_name(&role), texts, tool_calls));
    Ok(())
}

/// Reads `content`: a string, an array of parts, or null. Returns whether content is present.
fn parse_content<'a>(
    r: &mut Reader<'a>,
    req: &mut ChatRequest<'a>,
    at: &dyn Fn() -> String,
    texts: &mut Vec<&'a str>,
) -> Result<bool, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::String => {
            let text = r.raw_string().map_err(syntax)?;
            req.text_bytes += text.len();
            texts.push(text);
            Ok(true)
        }
        Kind::Null => r.null().map(|()| false).map_err(syntax),
        Kind::Array => {
            let mut it = r.array().map_err(syntax)?;
            let mut part = 0usize;
            let mut keys: Vec<Cow<'a, str>> = Vec::with_capacity(4);
            while it.next(r).map_err(syntax)? {
                let param = || format!("{}.content[{part}]", at());
                let kind = r.peek_kind().map_err(syntax)?;
                if kind != Kind::Object {
                    return Err(wrong_type(&param(), "an object", kind));
                }
                keys.clear();
                let mut obj = r.object().map_err(syntax)?;
                while let Some(key) = obj.next_key(r).map_err(syntax)? {
                    match key.as_ref() {
                        "text" => {
                            if r.peek_kind().map_err(syntax)? != Kind::String {
                                let kind = r.peek_kind().map_err(syntax)?;
                                return Err(wrong_type(&format!("{}.text", param()), "a string", kind));
                            }
                            let text = r.raw_string().map_err(syntax)?;
                            req.text_bytes += text.len();
                            texts.push(text);
                        }
                        "image_url" => {
                            req.features.images += 1;
                            r.skip_value().map_err(syntax)?;
                        }
                        _ => {
                            let start = r.pos();
                            r.skip_value().map_err(syntax)?;
                            req.text_bytes += r.pos() - start;
                        }
                    }
                    keys.push(key);
                }
                if let Some(dup) = first_duplicate(&mut keys) {
                    return Err(duplicate_error(&dup, &param()));
                }
                part += 1;
            }
            Ok(true)
        }
        k => Err(wrong_type(&format!("{}.content", at()), "a string, an array of parts or null", k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(req.max_output_tokens, Some(50));
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
        ChatRequest {
            model: Cow::Borrowed("economy"),
            prefer: None,
            tier: None,
            stream: false,
            max_output_tokens: None,
            max_output_param: "max_tokens",
            audio_output: false,
            messages: 0,
            text_bytes: 0,
            features: Features::new(),
            provider_policy: None,
            usage_requested: false,
            max_price: None,
            texts: Vec::new(),
            layout,
        }
    }

    #[test]
    fn parse_then_rewrite_keeps_other_bytes() {
        let b = body(r#", "temperature": 0.7 ,"prefer":"quality", "metadata":{"k":"v"}"#);
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let out = String::from_utf8(req.rewrite(b.as_bytes(), "gpt-x")).unwrap_or_default();
        assert_eq!(
            out,
            format!(r#"{{"model":"gpt-x","messages":{HI}, "temperature": 0.7,"metadata":{{"k":"v"}}}}"#)
        );
    }

    #[test]
    fn bad_requests() {
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            ("".into(), "missing_body", None),
            ("{".into(), "invalid_json", None),
            ("[1]".into(), "invalid_body", None),
            ("\"x\"".into(), "invalid_body", None),
            (
                r#"{"messages":[{"role":"user","content":"x"}]}"#.into(),
                "missing_required_parameter",
                Some("model"),
            ),
            (r#"{"model":"economy"}"#.into(), "missing_required_parameter", Some("messages")),
            (body(r#","model":"x""#), "duplicate_key", Some("model")),
            (body(r#","temperature":1,"temperature":2"#), "duplicate_key", Some("temperature")),
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
            (body(r#","max_tokens":1.5"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_tokens":99999999999999999999999"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_completion_tokens":"10""#), "invalid_type", Some("max_completion_tokens")),
            (body(r#","tools":{}"#), "invalid_type", Some("tools")),
            (body(r#","temperature":NaN"#), "invalid_json", None),
            (body(r#","max_tokens":16.5"#), "invalid_value", Some("max_tokens")),
            (body(r#","max_completion_tokens":1e-1"#), "invalid_value", Some("max_completion_tokens")),
            (
                body(r#","stream":true,"stream_options":{"include_usage":true,"include_usage":false}"#),
                "duplicate_key",
                Some("stream_options.include_usage"),
            ),
            (body(r#","modalities":"audio""#), "invalid_type", Some("modalities")),
            (body(r#","modalities":["text","video"]"#), "invalid_value", Some("modalities")),
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

    #[test]
    fn estimate_counts_text_and_framing() {
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"abcdefgh"}],"max_tokens":7}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.estimate(512), Estimate { input_tokens: 2 + 4, output_tokens: 7 });
        let b = r#"{"model":"economy","messages":[{"role":"user","content":"abc"}]}"#;
        let req = parse_chat(b.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(req.estimate(512), Estimate { input_tokens: 1 + 4, output_tokens: 512 });
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
