//! The chat request's option objects and lists: `modalities`, `max_price`, the request's own
//! `provider` policy and `response_format`.

use std::borrow::Cow;

use crate::catalog::{
    ASKS_CUSTOM_TOOL, ASKS_ODD_TOOL_NAME, ASKS_TOOL_NAME, DROPS_CACHE_MARKS, Tier, effort_bit,
};
use crate::error::{ApiError, echo};
use crate::parse::chat::MaxPrice;
use crate::parse::fields::{
    case_variant_of, duplicate_error, first_duplicate, opt_string_field, plain_tool_name, skip_unique,
    string_field, string_field_named, syntax, wrong_type,
};
use crate::parse::json::{Kind, Reader};
use crate::parse::layout::{Field, Layout};
use crate::vocab::{Policy, Prefer};

/// Reads `prefer`: one of [`Prefer::NAMES`], or null.
pub(crate) fn read_prefer(r: &mut Reader<'_>) -> Result<Option<Prefer>, ApiError> {
    read_name(r, "prefer", "invalid_prefer", Prefer::parse, &Prefer::NAMES)
}

/// Reads `tier`: economy, standard or premium, or null.
pub(crate) fn read_tier(r: &mut Reader<'_>) -> Result<Option<Tier>, ApiError> {
    read_name(r, "tier", "invalid_tier", Tier::parse, &["economy", "standard", "premium"])
}

/// Reads `key`: one of the `names` `parse` knows, or null; another is the 400 `code`.
fn read_name<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    code: &'static str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<Option<T>, ApiError> {
    let Some(v) = opt_string_field(r, key)? else { return Ok(None) };
    parse(&v).map(Some).ok_or_else(|| {
        let message = format!("{key} {} is not valid: use one of {}", echo(&v), names.join(", "));
        ApiError::invalid(code, Some(key), message)
    })
}

/// Output modalities the chat API knows.
const MODALITIES: [&str; 2] = ["text", "audio"];

/// Reads `modalities`: true when it asks for audio output.
pub(crate) fn read_modalities(r: &mut Reader<'_>) -> Result<bool, ApiError> {
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

/// Request members that tune sampling: the value that leaves each at its default, and the
/// range OpenAI's API takes (a number member; `None`: `logprobs`, a boolean, and `logit_bias`,
/// an object). Reasoning models take none of them but at the default (OpenAI's o-series and
/// GPT-5, Claude Opus 4.7: a 400 otherwise).
pub(crate) const SAMPLING: [Sampling; 7] = [
    ("temperature", Some(1.0), Some((0.0, 2.0))),
    ("top_p", Some(1.0), Some((0.0, 1.0))),
    ("presence_penalty", Some(0.0), Some((-2.0, 2.0))),
    ("frequency_penalty", Some(0.0), Some((-2.0, 2.0))),
    ("logit_bias", None, None),
    ("logprobs", None, None),
    ("top_logprobs", Some(0.0), Some((0.0, 20.0))),
];

/// A sampling member: its name, its default, and its range (a number member).
type Sampling = (&'static str, Option<f64>, Option<(f64, f64)>);

/// Reads a [`SAMPLING`] member's value: its name when it asks for other than the default (a
/// number other than the default, `logprobs: true`, a non-empty `logit_bias`). A value of the
/// wrong type or out of range is refused here, so no provider answers it in its own words
/// (or a tier skips the candidates whose translator refuses it).
pub(crate) fn read_sampling(r: &mut Reader<'_>, key: &str) -> Result<Option<&'static str>, ApiError> {
    let Some(&(name, default, range)) = SAMPLING.iter().find(|(n, _, _)| *n == key) else {
        return r.skip_value().map(|()| None).map_err(syntax);
    };
    let set = match (r.peek_kind().map_err(syntax)?, range) {
        (Kind::Null, _) => r.null().map(|()| false).map_err(syntax)?,
        (Kind::Number, Some((lo, hi))) => {
            let n = r.number().map_err(syntax)?.parse::<f64>().ok().filter(|n| (lo..=hi).contains(n));
            // A count of alternatives: 1.5 is no count (a provider answers its own 400 for it).
            if name == "top_logprobs" && n.is_some_and(|n| n.fract() != 0.0) {
                return Err(wrong_type(name, "an integer", Kind::Number));
            }
            let Some(n) = n else {
                return Err(ApiError::invalid(
                    "invalid_value",
                    Some(name),
                    format!("'{name}' must be a number from {lo} to {hi}"),
                ));
            };
            default.is_none_or(|d| n != d)
        }
        (Kind::Bool, None) if name == "logprobs" => r.boolean().map_err(syntax)?,
        (Kind::Object, None) if name == "logit_bias" => {
            let start = r.pos();
            r.skip_value().map_err(syntax)?;
            r.text().get(start..r.pos()).is_some_and(|t| t.contains(':'))
        }
        (k, _) => {
            let want = match name {
                "logprobs" => "a boolean",
                "logit_bias" => "an object",
                _ => "a number",
            };
            return Err(wrong_type(name, want, k));
        }
    };
    Ok(set.then_some(name))
}

/// Service tiers priced at or below the catalog's rates: the default and `auto` (OpenAI, Groq,
/// Anthropic), `flex` (cheaper at OpenAI and Gemini, the same at Groq), Groq's `on_demand`,
/// Anthropic's `standard_only`. Anything else (OpenAI's `priority`, about twice the rates,
/// `scale`, committed capacity, Gemini's priority tier, a value a provider adds later) is not
/// known to cost what the catalog says.
const PRICED_TIERS: [&str; 6] = ["auto", "default", "flex", "on_demand", "standard", "standard_only"];

/// Reads `service_tier`, which is passed to the provider: a tier not known to cost at most the
/// catalog's prices is refused, since the cost header and the budgets would charge it at
/// standard rates. Whether it asks for `flex` capacity.
pub(crate) fn read_service_tier(r: &mut Reader<'_>) -> Result<bool, ApiError> {
    if r.peek_kind().map_err(syntax)? == Kind::Null {
        return r.null().map(|()| false).map_err(syntax);
    }
    let tier = string_field(r, "service_tier")?;
    if !PRICED_TIERS.contains(&tier.as_ref()) {
        return Err(ApiError::invalid(
            "unsupported_value",
            Some("service_tier"),
            format!(
                "service_tier {} is not known to cost the router's catalog prices (standard rates): leave service_tier out, or send auto, default or flex",
                echo(&tier)
            ),
        ));
    }
    Ok(tier == "flex")
}

/// Reads `reasoning_effort_hint`: the bit of an effort the catalog knows, or none for null. An
/// unknown value is refused: a hint is sent only as a value a model's catalog entry lists, so
/// one no model lists would be dropped everywhere, silently.
pub(crate) fn read_effort_hint(r: &mut Reader<'_>) -> Result<Option<u8>, ApiError> {
    const KEY: &str = "reasoning_effort_hint";
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => r.null().map(|()| None).map_err(syntax),
        Kind::String => {
            let value = r.string().map_err(syntax)?;
            match effort_bit(&value) {
                Some(bit) => Ok(Some(bit)),
                None => Err(ApiError::invalid(
                    "invalid_value",
                    Some(KEY),
                    format!(
                        "{KEY} {} is not an effort: send none, minimal, low, medium, high, xhigh or max",
                        echo(&value)
                    ),
                )),
            }
        }
        k => Err(wrong_type(KEY, "a string", k)),
    }
}

/// Reads `reasoning_effort` (a string) or `reasoning` (an object with `effort`): the effort's
/// bit and its member's name, when it is one the catalog knows. A value of another type is a
/// 400 here (a number went through Converse with the effort silently dropped); a string the
/// catalog does not know (a value a provider adds later) is the provider's to check.
pub(crate) fn read_effort(r: &mut Reader<'_>, key: &str) -> Result<Option<(u8, &'static str)>, ApiError> {
    let (kind, param, want) = match key {
        "reasoning_effort" => (Kind::String, "reasoning_effort", "a string"),
        _ => (Kind::Object, "reasoning.effort", "an object"),
    };
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => return r.null().map(|()| None).map_err(syntax),
        k if k != kind => return Err(wrong_type(key, want, k)),
        _ => {}
    }
    if kind == Kind::String {
        return Ok(effort_bit(&r.string().map_err(syntax)?).map(|bit| (bit, param)));
    }
    let mut found = None;
    let mut keys = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some(k) = obj.next_key(r).map_err(syntax)? {
        if k != "effort" {
            skip_unique(r, &|| format!("reasoning.{k}"))?;
            keys.push(k);
            continue;
        }
        match r.peek_kind().map_err(syntax)? {
            Kind::String => found = effort_bit(&r.string().map_err(syntax)?).map(|bit| (bit, param)),
            // OpenRouter's false, like null, asks nothing.
            Kind::Null | Kind::Bool => r.skip_value().map_err(syntax)?,
            other => return Err(wrong_type(param, "a string", other)),
        }
        keys.push(k);
    }
    // An effort named twice: the router read one, the translation or the provider the other.
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, "reasoning"));
    }
    Ok(found)
}

/// `stop`: null, a string or an array of strings; whether it asks for a stop sequence (null,
/// `""` and `[]` ask none: OpenAI's reasoning models refuse the member otherwise). The rest is
/// the provider's or the translator's to check.
pub(crate) fn read_stop(r: &mut Reader<'_>) -> Result<bool, ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Null => r.null().map(|()| false).map_err(syntax),
        Kind::String => Ok(!r.string().map_err(syntax)?.is_empty()),
        Kind::Array => {
            let (mut asks, mut i) = (false, 0usize);
            let mut it = r.array().map_err(syntax)?;
            while it.next(r).map_err(syntax)? {
                match r.peek_kind().map_err(syntax)? {
                    Kind::String => asks |= !r.string().map_err(syntax)?.is_empty(),
                    k => return Err(wrong_type(&format!("stop[{i}]"), "a string", k)),
                }
                i += 1;
            }
            Ok(asks)
        }
        k => Err(wrong_type("stop", "a string or an array of strings", k)),
    }
}

/// A member that is a boolean or null (`parallel_tool_calls`): anything else is refused here,
/// not sent on for a provider to refuse (or a translator to drop).
pub(crate) fn read_flag(r: &mut Reader<'_>, param: &str) -> Result<(), ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Bool => r.boolean().map(|_| ()).map_err(syntax),
        Kind::Null => r.null().map_err(syntax),
        k => Err(wrong_type(param, "a boolean", k)),
    }
}

/// Whether member `key` of a `reasoning` object (OpenRouter's form), valued `v`, asks nothing
/// beyond its `effort` (`effort`: whether the object has one): null or false (`exclude: false`,
/// `enabled: false`), or `enabled: true` beside an effort. Every path reads the object by it.
pub(crate) fn says_nothing(key: &str, v: &serde_json::Value, effort: bool) -> bool {
    use serde_json::Value;
    matches!(v, Value::Null | Value::Bool(false)) || (key == "enabled" && v == &Value::Bool(true) && effort)
}

/// The first member of a `reasoning` object that asks more than an effort and a summary (by
/// [`says_nothing`]); `None`: it says no more than `reasoning_effort` (and a summary) do.
pub(crate) fn asks_more(o: &serde_json::Map<String, serde_json::Value>) -> Option<&str> {
    let effort = o.get("effort").is_some_and(|e| !e.is_null());
    o.iter()
        .find(|(k, v)| !says_nothing(k, v, effort) && !matches!(k.as_str(), "effort" | "summary"))
        .map(|(k, _)| k.as_str())
}

/// Tool types the router can price: the client's own functions (`custom` is OpenAI's
/// free-form function). A provider's built-in tools (Groq's `browser_search` and
/// `code_interpreter`, a `web_search`) run on the provider and are billed per use beside the
/// tokens, which the cost header and the budgets cannot see.
const PRICED_TOOLS: [&str; 2] = ["function", "custom"];

/// What a function (or custom tool) object's `name` asks of a provider: [`ASKS_TOOL_NAME`]
/// unless it is 1 to 64 of letters, digits, `_` and `-` (OpenAI's pattern, which its API holds
/// a request to), [`ASKS_ODD_TOOL_NAME`] unless a letter or `_` then up to 63 of those, `.` and
/// `:` (Gemini's); nothing without a name (the translators' and the provider's to refuse).
fn name_asks(function: &str) -> u16 {
    let mut r = Reader::new(function);
    let Ok(mut obj) = r.object() else { return 0 };
    while let Ok(Some(key)) = obj.next_key(&mut r) {
        if key == "name" && r.peek_kind().is_ok_and(|k| k == Kind::String) {
            let Ok(n) = r.string() else { return 0 };
            let sized = (1..=64).contains(&n.len());
            let plain = plain_tool_name(&n, 64);
            let first = n.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
            let gemini =
                sized && first && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
            return if plain { 0 } else { ASKS_TOOL_NAME } | if gemini { 0 } else { ASKS_ODD_TOOL_NAME };
        }
        if r.skip_value().is_err() {
            break;
        }
    }
    0
}

/// Reads one entry of `tools` (the `index`th): its `type` must be one the router can price.
/// What else it holds is the translators' and the provider's to check.
pub(crate) fn read_tool(r: &mut Reader<'_>, index: u32, layout: &mut Layout) -> Result<(), ApiError> {
    if r.peek_kind().map_err(syntax)? != Kind::Object {
        return r.skip_value().map_err(syntax);
    }
    let mut keys = Vec::new();
    let mut fields: Vec<Field> = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some((key_at, key)) = obj.next_key_at(r).map_err(syntax)? {
        if key != "type" {
            let start = r.pos();
            skip_unique(r, &|| format!("tools[{index}].{key}"))?;
            if matches!(key.as_ref(), "function" | "custom") {
                layout.asks |= name_asks(r.text().get(start..r.pos()).unwrap_or_default());
            }
            // An Anthropic client's cache breakpoint on the tool, which chat providers do not read.
            let drops = if key == "cache_control" { DROPS_CACHE_MARKS } else { 0 };
            fields.push((key_at, r.pos(), drops));
            keys.push(key);
            continue;
        }
        keys.push(key);
        let kind = string_field_named(r, || format!("tools[{index}].type"))?;
        if kind == "custom" {
            layout.asks |= ASKS_CUSTOM_TOOL;
        }
        if !PRICED_TOOLS.contains(&kind.as_ref()) {
            return Err(ApiError::invalid(
                "unsupported_tool_type",
                Some(&format!("tools[{index}].type")),
                format!(
                    "tool type {} runs on the provider and is billed per use, which the router cannot price: declare function tools",
                    echo(&kind)
                ),
            ));
        }
        fields.push((key_at, r.pos(), 0));
    }
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, &format!("tools[{index}]")));
    }
    if fields.iter().any(|f| f.2 != 0) {
        layout.drop_fields(&fields);
    }
    Ok(())
}

/// Reads `max_price: {"prompt": USD/M, "completion": USD/M}`.
pub(crate) fn read_max_price(r: &mut Reader<'_>) -> Result<Option<MaxPrice>, ApiError> {
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

/// What `response_format` asks for: `(a JSON schema, JSON of any shape)` (`json_schema` is
/// both; `json_object` the second).
pub(crate) fn read_response_format(r: &mut Reader<'_>) -> Result<(bool, bool), ApiError> {
    match r.peek_kind().map_err(syntax)? {
        Kind::Object => {}
        Kind::Null => return r.null().map(|()| (false, false)).map_err(syntax),
        k => return Err(wrong_type("response_format", "an object", k)),
    }
    let (mut schema, mut json) = (false, false);
    let mut keys = Vec::new();
    let mut obj = r.object().map_err(syntax)?;
    while let Some(key) = obj.next_key(r).map_err(syntax)? {
        if key == "type" && r.peek_kind().map_err(syntax)? == Kind::String {
            // Decoded: `"json\u005fschema"` asks for a schema too.
            let kind = r.string().map_err(syntax)?;
            schema |= kind == "json_schema";
            json |= kind == "json_schema" || kind == "json_object";
        } else {
            // `Type` or `jsonSchema` beside the member: a provider that folds case (Go's
            // decoder) or reads protobuf's names would take it for the one the router read.
            case_variant_of(&key, &["type", "json_schema"], "response_format")?;
            skip_unique(r, &|| format!("response_format.{key}"))?;
        }
        keys.push(key);
    }
    // A `type` sent twice: the router read both, a translation or a provider the last (a
    // schema routed for, and plain text asked).
    if let Some(dup) = first_duplicate(&mut keys) {
        return Err(duplicate_error(&dup, "response_format"));
    }
    Ok((schema, json))
}
