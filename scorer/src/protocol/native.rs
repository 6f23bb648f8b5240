//! One door to every protocol, keyed by the deployment's [`Api`]: the path and body of an
//! attempt, and the halves that turn a native answer back into the OpenAI shape. The glue
//! and the route call these, never a protocol module directly, so adding a protocol is a
//! folder and one arm in each function here.

use std::cell::RefCell;

use serde_json::{Value, json};

use crate::account::stream::data_value;
use crate::catalog::{Api, DROPS_OPENAI_ONLY, effort_bit, effort_names};
use crate::error::ApiError;
use crate::parse::layout::Layout;

use super::reply::{Meta, Tokens};
use super::{Native, Translations, anthropic, bedrock, responses, stand_in};

/// The coding every answer is asked in: the router reads each answer for its usage and
/// translates native ones, and a request with no `accept-encoding` accepts any coding (RFC 9110,
/// 12.5.3), so the client's is replaced by this one.
pub const IDENTITY: (&str, &str) = ("accept-encoding", "identity");

/// The body's type, whatever the client's said: the router sends UTF-8 JSON (a translation is
/// written afresh), and a client's `charset=utf-16` or other parameter would misname it.
pub const JSON: (&str, &str) = ("content-type", "application/json");

/// Request headers a protocol needs beside the body: Anthropic's version header, and the
/// body's type ([`JSON`]) and the answer's coding ([`IDENTITY`]) for all.
pub fn headers(api: Api) -> &'static [(&'static str, &'static str)] {
    match api {
        Api::Messages => &[("anthropic-version", anthropic::VERSION), JSON, IDENTITY],
        _ => &[JSON, IDENTITY],
    }
}

/// The key header and its prefix when the API takes the provider's key differently from the
/// provider's OpenAI-compatible endpoint.
pub fn auth(api: Api) -> Option<(&'static str, &'static str)> {
    match api {
        Api::Messages => Some(("x-api-key", "")),
        _ => None,
    }
}

/// What reading a prompt-cache token, writing one to a five-minute cache and writing one to a
/// one-hour cache cost, as multiples of the input price, where the provider documents it:
/// Anthropic reads at 0.1 and writes at 1.25 (five minutes) or 2 (one hour). Elsewhere no
/// discount is assumed (1.0 each) unless the catalog states a model's cache-read price
/// (`price_cache_read`): OpenAI's and Gemini's differ model by model.
pub fn cache_rates(api: Api) -> (f64, f64, f64) {
    match api {
        Api::Messages => (0.1, 1.25, 2.0),
        _ => (1.0, 1.0, 1.0),
    }
}

/// The status the error event ending a stream's `out` (translated, or an OpenAI-compatible
/// provider's own) stands for: 429 for a rate limit (`rate_limit_exceeded`, `rate_limit_error`,
/// or a numeric code 429 as OpenRouter-style gateways send), 400 for an error the request
/// caused (`invalid_request_error`, or a numeric 400, 403, 413 or 422), else 502 (the provider
/// failed). The glue reads it when a stream opens with an error, to fail over or not.
pub fn error_status(out: &[u8]) -> u16 {
    let v: Value = error_event(out).and_then(|d| serde_json::from_slice(d).ok()).unwrap_or_default();
    let error = v.get("error");
    let field = |k: &str| error.and_then(|e| e.get(k)).and_then(Value::as_str);
    let numeric = error.and_then(|e| e.get("code")).and_then(Value::as_u64);
    match (field("type"), field("code")) {
        (_, Some("rate_limit_exceeded")) | (Some("rate_limit_error"), _) => 429,
        _ if numeric == Some(429) => 429,
        // OpenRouter-style numeric codes of the request's own fault (403: moderation refused it).
        (Some("invalid_request_error"), _) => 400,
        _ if matches!(numeric, Some(400 | 403 | 413 | 422)) => 400,
        _ => 502,
    }
}

/// The data of the last event in a translated stream's `out`: the OpenAI error body
/// (`{"error":{...}}`) of a stream that ended in one.
pub fn error_event(out: &[u8]) -> Option<&[u8]> {
    let value = out.split(|b| *b == b'\n').filter_map(data_value).next_back()?;
    Some(value.trim_ascii_end())
}

/// The chat attempt's path below the provider's `base` path.
pub fn chat_path(api: Api, base: &str, upstream_model: &str, stream: bool) -> String {
    match api {
        Api::Messages => anthropic::request::path(base, upstream_model, stream),
        Api::BedrockConverse => bedrock::request::path(base, upstream_model, stream),
        Api::Responses => responses::request::path(base, upstream_model, stream),
        _ => format!("{base}/chat/completions"),
    }
}

/// The body a chat attempt carries: on OpenAI-compatible APIs the client's bytes spliced
/// (`model` replaced, the router's members cut), on the others a translation of the client's
/// body. Always from the client's original body, so a fallback of another protocol is never
/// translated from a translation. Err: the request asks for something this API cannot carry.
pub fn chat_body(api: Api, layout: &Layout, body: &[u8], to: &Native<'_>) -> Result<Vec<u8>, ApiError> {
    chat_body_with(api, layout, body, to, None)
}

/// [`chat_body`] with the worker's [`Translations`] of translated conversations: the same bytes,
/// with an agent's resent messages not translated again where the protocol allows it (today
/// the Messages API's).
pub fn chat_body_with(
    api: Api,
    layout: &Layout,
    body: &[u8],
    to: &Native<'_>,
    memo: Option<&RefCell<Translations>>,
) -> Result<Vec<u8>, ApiError> {
    // GPT-5.1 and later sample as asked where they do not think (effort `none`, their
    // default): `temperature`, `top_p` and log probabilities, never a penalty or a bias
    // (OpenAI's reasoning guide; they were refused here whatever the effort).
    let untaken = match to.quirks.fixed_sampling {
        true if layout.unthinking(&to.quirks) => layout.penalized(),
        true => layout.sampling(),
        false => None,
    };
    if let Some(field) = untaken {
        // One that samples as asked where it does not think says so (GPT-5.4 with an effort).
        let none =
            to.quirks.default_effort == effort_bit("none").unwrap_or(0) && layout.penalized() != Some(field);
        let unless = if none { " unless it does not think (reasoning_effort none)" } else { "" };
        return Err(ApiError::invalid(
            "unsupported_for_model",
            Some(field),
            format!(
                "this model takes only its default sampling{unless}: leave {field} out (or at its default) to use it"
            ),
        ));
    }
    if let Some((bit, field)) = layout.effort()
        && to.quirks.efforts != 0
        && to.quirks.efforts & bit == 0
    {
        return Err(ApiError::invalid(
            "unsupported_for_model",
            Some(field),
            format!(
                "this model takes a reasoning effort of {} only: send one of them, or leave {field} out",
                effort_names(to.quirks.efforts)
            ),
        ));
    }
    // Tools beside an effort that asks for thinking: a 400 from such a model's chat API.
    let no_effort = to.quirks.no_effort_with_tools && layout.tools;
    let thinks = |(bit, _): &(u8, &str)| effort_bit("none") != Some(*bit);
    if no_effort && let Some((_, field)) = layout.effort().filter(thinks) {
        return Err(ApiError::invalid(
            "unsupported_for_model",
            Some(field),
            format!(
                "this model's chat API takes no reasoning effort beside tools: send none, or leave {field} out"
            ),
        ));
    }
    // A provider that refuses OpenAI's own members as unknown runs no moderation model either:
    // refused here, so a tier moves on to one that does (they took it as it came).
    if layout.moderation && to.quirks.drops & DROPS_OPENAI_ONLY != 0 {
        return Err(ApiError::invalid(
            "unsupported_parameter",
            Some("moderation"),
            "'moderation' is not supported: this model's provider runs no moderation: leave it out",
        ));
    }
    let refused = layout.asks() & to.quirks.refuses;
    if refused != 0 {
        let bit = 1 << refused.trailing_zeros();
        let field = layout.asked_by(bit);
        let message = if bit == crate::catalog::ASKS_TOOL_NAME {
            format!(
                "this model's provider takes tool names of 1 to 64 letters, digits, _ and - only ({field})"
            )
        } else if bit == crate::catalog::ASKS_ODD_TOOL_NAME {
            format!(
                "this model's provider takes tool names of a letter or _ then up to 63 letters, digits, _, ., : and - only ({field})"
            )
        } else if bit == crate::catalog::ASKS_CUSTOM_TOOL {
            format!("this model's provider takes function tools only ({field} custom)")
        } else if bit == crate::catalog::ASKS_MANY_TOOLS {
            format!(
                "this model's provider takes at most {} function tools: send fewer",
                crate::catalog::MOST_TOOLS
            )
        } else if bit == crate::catalog::ASKS_JSON_WITH_TOOLS {
            format!("this model refuses JSON output ({field}) beside tools: send one of them")
        } else {
            format!("this model's provider refuses {field}: leave it out to use it")
        };
        return Err(ApiError::invalid("unsupported_for_model", Some(field), message));
    }
    // A hinted effort the model takes: the splice appends it; a translation reads it as the
    // client's own, a last member of the body it reads (every span is before it).
    let hint = if no_effort { None } else { layout.hinted_effort(to.quirks.efforts) };
    let hinted;
    let read = match (hint, layout.members.last()) {
        (Some(member), Some(last)) if translated(api) => {
            hinted = with_member(body, last.span.end, member);
            hinted.as_slice()
        }
        _ => body,
    };
    match api {
        Api::Messages => {
            stand_in::translate(read, layout.texts(), |b| anthropic::request::translate_with(b, to, memo))
        }
        Api::BedrockConverse => {
            stand_in::translate(read, layout.texts(), |b| bedrock::request::translate(b, to))
        }
        Api::Responses => stand_in::translate(read, layout.texts(), |b| responses::request::translate(b, to)),
        _ => match layout.reasoning_asks() {
            Some(param) => Err(ApiError::invalid(
                "unsupported_parameter",
                Some(param),
                format!(
                    "{} is not supported on this model's API: send reasoning_effort",
                    crate::error::echo(param)
                ),
            )),
            None => Ok(layout.rewrite_capped(body, to.upstream_model, &to.quirks, to.max_output, hint)),
        },
    }
}

/// `body` with `,` and `member` inserted at `at` (the end of its last member).
fn with_member(body: &[u8], at: usize, member: &[u8]) -> Vec<u8> {
    let (head, tail) = body.split_at(at.min(body.len()));
    let mut out = Vec::with_capacity(body.len() + member.len() + 1);
    out.extend_from_slice(head);
    out.push(b',');
    out.extend_from_slice(member);
    out.extend_from_slice(tail);
    out
}

/// True when answers from `api` are translated back (not OpenAI-shaped already).
pub fn translated(api: Api) -> bool {
    matches!(api, Api::Messages | Api::BedrockConverse | Api::Responses)
}

/// A whole native success body as a `chat.completion`.
pub fn response(api: Api, body: &[u8], meta: &Meta) -> Result<Vec<u8>, String> {
    match api {
        Api::Messages => anthropic::response::translate(body, meta),
        Api::BedrockConverse => bedrock::response::translate(body, meta),
        Api::Responses => responses::response::translate(body, meta),
        _ => Ok(body.to_vec()),
    }
}

/// A native error body in the OpenAI error shape, the provider's message kept.
pub fn error(api: Api, status: u16, body: &[u8]) -> Vec<u8> {
    match api {
        Api::Messages => anthropic::response::error(status, body),
        Api::BedrockConverse => bedrock::response::error(status, body),
        Api::Responses => responses::response::error(status, body),
        _ => body.to_vec(),
    }
}

/// The provider said the input overflows the model's context window, in its own words.
pub fn is_context_error(api: Api, status: u16, body: &[u8]) -> bool {
    match api {
        Api::Messages => anthropic::response::is_context_error(status, body),
        Api::BedrockConverse => bedrock::response::is_context_error(status, body),
        Api::Responses => responses::response::is_context_error(status, body),
        _ => {
            status == 400 && {
                let text = String::from_utf8_lossy(body).to_ascii_lowercase();
                CHAT_CONTEXT_PHRASES.iter().any(|p| text.contains(p))
            }
        }
    }
}

/// A client's 400 that a provider wraps in an array in Google's shape (`[{"error":{"code":400,
/// "message","status"}}]`, Gemini's OpenAI layer), in OpenAI's (`{"error":{"message","type",
/// "param","code"}}`, Google's `status` as the code, but `context_length_exceeded` for an
/// input over the window, as OpenAI says it: Claude Code and the Codex CLI compact their
/// conversation on that code, and took Gemini's `INVALID_ARGUMENT` for a plain error):
/// `overflow` says whether it is one, the caller's context-error check, asked only of such a
/// body; `None` for any other body.
pub fn unwrapped_error(body: &[u8], overflow: impl FnOnce() -> bool) -> Option<Vec<u8>> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else { return None };
    let e = items.first()?.get("error")?.as_object()?;
    let message = e.get("message").and_then(Value::as_str).unwrap_or("the provider refused the request");
    let code =
        if overflow() { Some("context_length_exceeded") } else { e.get("status").and_then(Value::as_str) };
    let error =
        json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    serde_json::to_vec(&error).ok()
}

/// A provider's 400 that refuses the gateway rather than the request, as the status it counts
/// as (one parse for both):
/// - its key, a 401: Gemini answers a bad or expired key with 400 `INVALID_ARGUMENT` (reason
///   `API_KEY_INVALID`), not a 401, and xAI with a 400 whose `error` is a string ("Incorrect
///   API key provided: xa***ai. You can obtain an API key from https://console.x.ai.", as
///   its clients' issue threads quote it), which also showed the client part of the key;
/// - its account, a 402: Anthropic's credit run out ("Your credit balance is too low to access
///   the Anthropic API"), Bedrock's quota for the account ("Your request exceeds the service
///   quota for your account") or a model the account reaches only through an inference profile
///   ("Invocation of model ID ... with on-demand throughput isn't supported"). Each reached
///   every client as its own mistake, with no other provider tried;
/// - the catalog's model, a 404 (the provider no longer serves it): Groq answers a retired
///   model with 400 `model_decommissioned`, where the others answer a 404; a tier's request
///   reached its client as a 400, no other candidate tried.
///
/// Read from the error's own fields and its message as the provider begins it, never from
/// anywhere in the body: a provider's 400 repeats what the client sent ("Invalid value:
/// 'API_KEY_INVALID'"), and a client's own mistake must not count against the gateway,
/// opening the provider's breaker for every client.
pub fn gateway_refusal(body: &[u8]) -> Option<u16> {
    let v: Value = serde_json::from_slice(body).ok()?;
    // Gemini's OpenAI layer wraps its error in an array; Bedrock's is the body itself.
    let one = match &v {
        Value::Array(items) => items.first()?,
        one => one,
    };
    let error = one.get("error").filter(|e| e.is_object());
    fn message(e: &Value) -> Option<&str> {
        e.get("message").or_else(|| e.get("Message")).and_then(Value::as_str)
    }
    if let Some(e) = error {
        let details = e.get("details").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let reason =
            details.iter().any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"));
        let said = message(e).unwrap_or_default();
        if reason || ["API key not valid", "API key expired"].iter().any(|m| said.starts_with(m)) {
            return Some(401);
        }
        if e.get("code").and_then(Value::as_str) == Some("model_decommissioned") {
            return Some(404);
        }
    }
    if one.get("error").and_then(Value::as_str).is_some_and(|s| s.starts_with("Incorrect API key provided")) {
        return Some(401);
    }
    let said = message(error.unwrap_or(one)).unwrap_or_default();
    let account = ACCOUNT_MESSAGES.iter().any(|m| said.starts_with(m))
        || (said.starts_with("Invocation of model ID") && said.contains("with on-demand throughput"));
    account.then_some(402)
}

/// How a provider's 400 for the gateway's account begins ([`gateway_refusal`]).
const ACCOUNT_MESSAGES: [&str; 2] =
    ["Your credit balance is too low", "Your request exceeds the service quota for your account"];

/// How the OpenAI-compatible providers say an input overflows the window (OpenAI's, Groq's and
/// Cerebras's code, and the words of those that send none: xAI, Gemini's OpenAI layer,
/// Cerebras).
const CHAT_CONTEXT_PHRASES: [&str; 7] = [
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "too many tokens",
    "maximum prompt length",
    "exceeds the maximum number of tokens allowed",
    "reduce the length of the messages",
];

/// The phrases that make `error` read as a context-window error are all inside strings the
/// client sent (a value or a key): a provider's 400 repeats what it refused ("Invalid value:
/// 'context window'", "Unrecognized request argument supplied: ..."), so the phrase says nothing
/// of the window then, and a client must not be able to send itself to a larger (dearer) model
/// with a request no model takes. A conversation that only mentions a phrase does not hide a real
/// overflow: only client strings the error repeats whole are taken out of it before the phrases
/// are looked for. Both sides are compared decoded and lowercased, as the provider saw them.
/// Without the client's body (empty: a request with nothing to fall back on keeps none), what
/// the error quotes (`Unknown name "context window"`) is taken for the client's.
pub fn echoes_client(error: &[u8], client: &[u8]) -> bool {
    let error = decoded_text(error);
    let phrases = CHAT_CONTEXT_PHRASES.iter().chain(&anthropic::response::CONTEXT_PHRASES);
    let phrases =
        phrases.chain(bedrock::response::CONTEXT_PHRASES).chain(&responses::response::CONTEXT_PHRASES);
    let said: Vec<&str> = phrases.copied().filter(|p| error.contains(p)).collect();
    if said.is_empty() {
        return false;
    }
    let mut strings = Vec::new();
    if client.is_empty() {
        // Every other piece of the error's text is a quoted one: `a "b" c` splits as a, b, c.
        strings.extend(error.split('"').skip(1).step_by(2).map(str::to_string));
    } else {
        let Ok(v) = serde_json::from_slice::<Value>(client) else { return false };
        strings_of(&v, &mut strings);
    }
    let mut rest = error;
    for s in strings.iter().filter(|s| said.iter().any(|p| s.contains(p))) {
        rest = rest.replace(s.as_str(), "\n");
    }
    !said.iter().any(|p| rest.contains(p))
}

/// The strings of a JSON body, lowercased, a line each (the body itself when it is not JSON).
fn decoded_text(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let mut strings = Vec::new();
            strings_of(&v, &mut strings);
            strings.join("\n")
        }
        Err(_) => String::from_utf8_lossy(body).to_lowercase(),
    }
}

/// Every key and string in `v`, lowercased.
fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.to_lowercase()),
        Value::Array(items) => items.iter().for_each(|i| strings_of(i, out)),
        Value::Object(members) => {
            for (k, v) in members {
                out.push(k.to_lowercase());
                strings_of(v, out);
            }
        }
        _ => {}
    }
}

/// The content type of what the client gets from a translated stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// A `content-type` value that says an event stream, whatever its case and parameters.
pub fn is_event_stream(content_type: &str) -> bool {
    content_type.trim_start().get(..EVENT_STREAM.len()).is_some_and(|t| t.eq_ignore_ascii_case(EVENT_STREAM))
}

/// A native stream being turned into OpenAI chunks.
#[derive(Debug)]
pub enum Stream {
    /// Anthropic's SSE events.
    Anthropic(anthropic::stream::Stream),
    /// Bedrock's binary event stream.
    Bedrock(bedrock::stream::Stream),
    /// The Responses API's SSE events.
    Responses(responses::stream::Stream),
}

impl Stream {
    /// The translator for `api`'s streams; `None` when its streams are OpenAI's already.
    pub fn new(api: Api, meta: Meta) -> Option<Stream> {
        match api {
            Api::Messages => Some(Stream::Anthropic(anthropic::stream::Stream::new(meta))),
            Api::BedrockConverse => Some(Stream::Bedrock(bedrock::stream::Stream::new(meta))),
            Api::Responses => Some(Stream::Responses(responses::stream::Stream::new(meta))),
            _ => None,
        }
    }

    /// The OpenAI SSE bytes this chunk completes; `end`: the last chunk.
    pub fn feed(&mut self, chunk: &[u8], end: bool) -> Vec<u8> {
        match self {
            Stream::Anthropic(s) => s.feed(chunk, end),
            Stream::Bedrock(s) => s.feed(chunk, end),
            Stream::Responses(s) => s.feed(chunk, end),
        }
    }

    /// The stream was malformed or failed, and already says so in an error event.
    pub fn failed(&self) -> bool {
        match self {
            Stream::Anthropic(s) => s.failed(),
            Stream::Bedrock(s) => s.failed(),
            Stream::Responses(s) => s.failed(),
        }
    }

    /// The provider said the answer ended, though its last event may not have come (an
    /// Anthropic stream's `message_delta` carries its end and usage, and `message_stop`
    /// nothing more): a stream broken off after it delivered what its provider billed.
    pub fn ended(&self) -> bool {
        match self {
            Stream::Anthropic(s) => s.ended(),
            Stream::Bedrock(_) | Stream::Responses(_) => false,
        }
    }

    /// The usage the provider reported, once seen.
    pub fn tokens(&self) -> Option<Tokens> {
        match self {
            Stream::Anthropic(s) => s.tokens(),
            Stream::Bedrock(s) => s.tokens(),
            Stream::Responses(s) => s.tokens(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{echoes_client, gateway_refusal, is_context_error, unwrapped_error};
    use crate::catalog::Api;

    /// The gateway's key (Gemini's, in its array) is a 401, its account (Anthropic's credit,
    /// Bedrock's quota at the top level) a 402, a model Groq retired a 404, from the error's
    /// own fields; the client's words quoted in an error are its own mistake.
    #[test]
    fn a_400_refusing_the_gateway_counts_as_its_key_or_account() {
        for (body, want) in [
            (r#"[{"error":{"code":400,"message":"x","details":[{"reason":"API_KEY_INVALID"}]}}]"#, Some(401)),
            (r#"{"error":{"message":"API key expired. Please renew the API key."}}"#, Some(401)),
            (
                r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***ai. You can obtain an API key from https://console.x.ai."}"#,
                Some(401),
            ),
            (
                r#"{"code":"Client specified an invalid argument","error":"messages: Incorrect API key provided"}"#,
                None,
            ),
            (
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#,
                Some(402),
            ),
            (r#"{"message":"Your request exceeds the service quota for your account."}"#, Some(402)),
            (
                r#"{"message":"Invocation of model ID m with on-demand throughput isn't supported."}"#,
                Some(402),
            ),
            (
                r#"{"error":{"message":"Invalid value: 'API_KEY_INVALID', 'Your credit balance is too low'"}}"#,
                None,
            ),
            (r#"{"message":"messages: API key not valid"}"#, None),
            (
                r#"{"error":{"message":"The model `llama-3.2-11b-vision-preview` has been decommissioned and is no longer supported.","type":"invalid_request_error","code":"model_decommissioned"}}"#,
                Some(404),
            ),
            (r#"{"error":{"message":"model_decommissioned","code":"invalid_value"}}"#, None),
            ("not json", None),
        ] {
            assert_eq!(gateway_refusal(body.as_bytes()), want, "{body}");
        }
    }

    /// Gemini's window overflow, wrapped in its array, is `context_length_exceeded` as OpenAI
    /// says it (the coding CLIs compact on that code); any other 400 keeps Google's status.
    #[test]
    fn geminis_overflow_is_told_as_openais_code() {
        // As the flow asks it: a context error in words the client's body does not hold.
        let code_of = |body: &str, client: &[u8]| {
            let overflow = || {
                is_context_error(Api::Chat, 400, body.as_bytes()) && !echoes_client(body.as_bytes(), client)
            };
            let out = unwrapped_error(body.as_bytes(), overflow).unwrap_or_default();
            serde_json::from_slice::<Value>(&out).unwrap_or_default()["error"]["code"].clone()
        };
        let code = |message: &str| {
            let body = json!([{"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}]);
            code_of(&body.to_string(), b"")
        };
        let overflow =
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).";
        assert_eq!(code(overflow), json!("context_length_exceeded"));
        assert_eq!(code("Invalid JSON payload received."), json!("INVALID_ARGUMENT"));
        // The client's own member repeated in the error is no overflow.
        let echoed = json!([{"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": "Invalid JSON payload received. Unknown name \"context window\": Cannot find field."}}]);
        let client = br#"{"model":"gemini-2.5-flash","context window":1,"messages":[]}"#;
        // Also without the client's body (not kept: no fallback).
        for client in [&client[..], b""] {
            assert_eq!(code_of(&echoed.to_string(), client), json!("INVALID_ARGUMENT"));
        }
    }

    /// An event stream's content type is told whatever its case, leading blanks and parameters.
    #[test]
    fn an_event_streams_content_type_is_told_whatever_its_case() {
        for yes in ["text/event-stream", " Text/Event-Stream; charset=utf-8"] {
            assert!(super::is_event_stream(yes), "{yes}");
        }
        for no in ["application/json", "text/event", ""] {
            assert!(!super::is_event_stream(no), "{no}");
        }
    }

    /// The status an error event stands for, in the shapes OpenAI-compatible providers send it
    /// (`data:` with or without its space, CRLF lines).
    #[test]
    fn an_error_events_status_is_read_from_its_type_or_code() {
        let cases = [
            ("data: {\"error\":{\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}\n\n", 429),
            ("data: {\"error\":{\"type\":\"rate_limit_error\",\"message\":\"m\"}}\n\n", 429),
            ("data:{\"error\":{\"code\":429,\"message\":\"m\"}}\r\n\r\n", 429),
            (
                "data: {\"error\":{\"type\":\"invalid_request_error\",\"code\":\"tool_use_failed\"}}\r\n\r\n",
                400,
            ),
            ("data: {\"error\":{\"code\":502,\"message\":\"m\"}}\n\n", 502),
            ("data: {\"error\":{\"code\":403,\"message\":\"flagged\"}}\n\n", 400),
            ("data: {\"error\":{\"code\":401,\"message\":\"key\"}}\n\n", 502),
            ("data: {\"error\":{\"type\":\"server_error\"}}\n\n", 502),
            ("event: error\ndata: not json\n\n", 502),
        ];
        for (event, want) in cases {
            assert_eq!(super::error_status(event.as_bytes()), want, "{event}");
        }
    }
}
