//! Reading one field of a request body with an OpenAI-style error naming the parameter, the
//! expected type and what came instead; duplicate keys; the body's outer object.

use std::borrow::Cow;

use crate::error::{ApiError, echo};
use crate::parse::json::{JsonError, JsonErrorKind, Kind, MAX_DEPTH, Reader};

pub(crate) fn syntax(e: JsonError) -> ApiError {
    match e.kind {
        // Valid JSON, past what the router reads: not "not valid JSON".
        JsonErrorKind::TooDeep => ApiError::invalid(
            "json_too_deep",
            None,
            format!(
                "request body nests objects and arrays deeper than {MAX_DEPTH} levels (at byte {}), the most the router reads",
                e.offset
            ),
        ),
        JsonErrorKind::UnexpectedByte(0xef) if e.offset == 0 => ApiError::invalid(
            "invalid_json",
            None,
            "request body starts with a UTF-8 byte order mark, which JSON does not take: send it without",
        ),
        _ => ApiError::invalid("invalid_json", None, format!("request body is not valid JSON: {e}")),
    }
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
pub(crate) fn string_field_named<'a>(
    r: &mut Reader<'a>,
    param: impl FnOnce() -> String,
) -> Result<Cow<'a, str>, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::String => r.string().map_err(syntax),
        k => Err(wrong_type(&param(), "a string", k)),
    }
}

/// Reads an optional string: `null` is absent.
pub(crate) fn opt_string_field<'a>(
    r: &mut Reader<'a>,
    param: &str,
) -> Result<Option<Cow<'a, str>>, ApiError> {
    if r.peek_kind().map_err(syntax)? == Kind::Null {
        r.null().map_err(syntax)?;
        return Ok(None);
    }
    string_field(r, param).map(Some)
}

pub(crate) fn opt_count_field(r: &mut Reader<'_>, param: &str) -> Result<Option<u64>, ApiError> {
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

/// An output cap (`max_tokens`, `max_completion_tokens`): [`opt_count_field`], at least 1.
/// OpenAI refuses 0, and the providers behind it each read it differently (Anthropic and
/// Converse refuse it, an OpenAI-compatible one may answer with nothing and bill the input).
pub(crate) fn opt_cap_field(r: &mut Reader<'_>, param: &str) -> Result<Option<u64>, ApiError> {
    match opt_count_field(r, param)? {
        Some(0) => {
            Err(ApiError::invalid("invalid_value", Some(param), format!("'{param}' must be at least 1")))
        }
        n => Ok(n),
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

/// Skips a value, refusing a key named twice in any object inside it (`at`: the value's path,
/// made only for an error): the router would read one copy, a provider or a translator the
/// other (an image part with a data URL and a remote one, a tool call's two names).
pub(crate) fn skip_unique(r: &mut Reader<'_>, at: &dyn Fn() -> String) -> Result<(), ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Object => {
            let mut keys = Vec::new();
            let mut obj = r.object().map_err(syntax)?;
            while let Some(key) = obj.next_key(r).map_err(syntax)? {
                skip_unique(r, &|| format!("{}.{key}", at()))?;
                keys.push(key);
            }
            match first_duplicate(&mut keys) {
                Some(dup) => Err(duplicate_error(&dup, &at())),
                None => Ok(()),
            }
        }
        Kind::Array => {
            let mut it = r.array().map_err(syntax)?;
            let mut i = 0usize;
            while it.next(r).map_err(syntax)? {
                skip_unique(r, &|| format!("{}[{i}]", at()))?;
                i += 1;
            }
            Ok(())
        }
        _ => r.skip_value().map_err(syntax),
    }
}

/// Why a JSON object's members (`bytes`) name a key twice at any depth, its path said from the
/// member down (`key 'openai' appears more than once in clusters`); `None` when none does (or
/// the bytes are no JSON object: its parser says so).
pub(crate) fn named_twice(bytes: &[u8]) -> Option<String> {
    let mut r = Reader::new(std::str::from_utf8(bytes).ok()?);
    let mut top = r.object().ok()?;
    while let Ok(Some(key)) = top.next_key(&mut r) {
        match skip_unique(&mut r, &|| key.to_string()) {
            Err(e) if e.code == "duplicate_key" => return Some(e.message),
            Err(_) => return None,
            Ok(()) => {}
        }
    }
    None
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

/// The members of an OpenAI chat or embeddings request a provider acts on (the router reads
/// most of them): a key that is one of these in other letter case is refused.
pub(crate) const REQUEST_MEMBERS: [&str; 47] = [
    "model",
    "messages",
    "input",
    "dimensions",
    "encoding_format",
    "prefer",
    "tier",
    "provider",
    "max_price",
    "max_tokens_ceiling",
    "thinking_budget",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "response_format",
    "prediction",
    "modalities",
    "audio",
    "service_tier",
    "reasoning_effort",
    "reasoning",
    "verbosity",
    "web_search_options",
    "stop",
    "seed",
    "store",
    "user",
    "metadata",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "moderation",
];

/// The members of a chat message the router reads: a key that names one of them otherwise
/// ([`names`]) is refused.
pub(crate) const MESSAGE_MEMBERS: [&str; 6] =
    ["role", "content", "name", "tool_calls", "tool_call_id", "function_call"];

/// The members of a content part the router reads or counts.
pub(crate) const PART_MEMBERS: [&str; 6] =
    ["type", "text", "image_url", "input_audio", "file", "prompt_cache_breakpoint"];

/// Whether `s` holds only the characters OpenAI's, Anthropic's and Converse's tool names take:
/// letters, digits, `_` and `-`.
pub(crate) fn plain_characters(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `name` is a tool name of 1 to `most` [`plain_characters`] (OpenAI's and Converse's
/// 64, Anthropic's 128).
pub(crate) fn plain_tool_name(name: &str, most: usize) -> bool {
    (1..=most).contains(&name.len()) && plain_characters(name)
}

/// A 400 for a top-level key that names one of [`REQUEST_MEMBERS`] otherwise ([`names`]:
/// `"Model"`, `"maxCompletionTokens"`): the router passes unknown keys on as they are, and a
/// provider whose JSON decoder matches names without regard to case (Go's does), or reads
/// protobuf's JSON names (Gemini's OpenAI layer answers with protobuf's errors), would read it
/// in place of the member the router read and rewrote: another model, more choices, a paid
/// tier, unpriced.
pub(crate) fn case_variant(key: &str) -> Result<(), ApiError> {
    case_variant_of(key, &REQUEST_MEMBERS, "")
}

/// Whether `key`, not `member` itself, is `member` to a decoder that folds letter case as Go's
/// does (Unicode's folding: besides ASCII, the long s and the Kelvin sign fold to letters of
/// these names, `"max_to\u212aens"`) or that takes protobuf's lowerCamelCase JSON names
/// beside the fields' own (`maxCompletionTokens`): equal once case is folded and underscores
/// are left out.
pub(crate) fn names(key: &str, member: &str) -> bool {
    names_counted(key, bare(key), member)
}

/// The characters of `s` but its underscores.
fn bare(s: &str) -> usize {
    s.chars().filter(|c| *c != '_').count()
}

/// [`names`], with the key's [`bare`] count read once for every member it is matched with (a
/// 7.8 MB key was read again for each of the 47: 0.8 s of a worker's time).
fn names_counted(key: &str, key_bare: usize, member: &str) -> bool {
    let folded = |c: char| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    key != member
        && key_bare == bare(member)
        && key.chars().filter(|c| *c != '_').map(folded).eq(member.chars().filter(|c| *c != '_'))
}

/// [`case_variant`] among `members` of the object at `at` (`""`: the body).
pub(crate) fn case_variant_of(key: &str, members: &[&str], at: &str) -> Result<(), ApiError> {
    let key_bare = bare(key);
    match members.iter().find(|m| names_counted(key, key_bare, m)) {
        None => Ok(()),
        Some(member) => {
            let param = if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
            Err(ApiError::invalid(
                "unknown_parameter",
                Some(&param),
                format!("unrecognized request argument {}: the parameter is {member}", echo(&param)),
            ))
        }
    }
}

/// Checks that a body is non-empty UTF-8 holding a JSON object; returns the text and a reader
/// positioned on the object.
pub(crate) fn open_object(body: &[u8]) -> Result<(&str, Reader<'_>), ApiError> {
    open_object_as(body, None)
}

/// [`open_object`] with `text`, when it is given: `body` already known to be UTF-8.
pub(crate) fn open_object_as<'a>(
    body: &'a [u8],
    text: Option<&'a str>,
) -> Result<(&'a str, Reader<'a>), ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("missing_body", None, "request body is empty: send a JSON request"));
    }
    let src = match text {
        Some(text) => text,
        None => std::str::from_utf8(body).map_err(|e| {
            ApiError::invalid(
                "invalid_utf8",
                None,
                format!("request body is not valid UTF-8 (at byte {})", e.valid_up_to()),
            )
        })?,
    };
    let mut r = Reader::new(src);
    let kind = r.peek_kind().map_err(syntax)?;
    if kind != Kind::Object {
        // A body that is no JSON at all is said so (`not json` begins as `null` would).
        let mut whole = Reader::new(src);
        whole.skip_value().and_then(|()| whole.finish()).map_err(syntax)?;
        return Err(ApiError::invalid(
            "invalid_body",
            None,
            format!("request body must be a JSON object, got {}", kind.name()),
        ));
    }
    Ok((src, r))
}
