//! Request validation the way the real OpenAI API answers it: what the official spec
//! (`CreateChatCompletionRequest`, `CreateEmbeddingRequest`) requires of the fields the mocks
//! model (required fields, types, enums, ranges, message and content shapes, tool calls), plus
//! the documented limits that keep a mock's work bounded (embedding inputs and dimensions).
//!
//! Hand-written so the mocks run on a fresh clone without the spec beside it. Unknown fields
//! pass: the providers the mocks play each add their own, and the router forwards them.
//! Integers may be written as whole-number floats (`16.0`), which the real API accepts.

mod fields;
pub mod responses;

use serde_json::Value;

use fields::{Fields, as_int, bad_value, invalid, missing, wrong_type};

/// Why a request is malformed: the fields of an `invalid_request_error`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Says what was wrong and what is valid.
    pub message: String,
    /// The parameter, as a path (`messages[0].role`).
    pub param: Option<String>,
    /// OpenAI's code for the kind of mistake.
    pub code: Option<&'static str>,
}

/// `Ok` or why not.
pub type Checked = Result<(), Invalid>;

/// Most choices a request may ask for (`n`), as the spec allows.
pub const MAX_N: u64 = 128;
/// Most inputs of one embeddings request.
pub const MAX_EMBEDDING_INPUTS: usize = 2048;
/// Most tokens summed over an embeddings request's inputs (estimated at 4 bytes a token).
pub const MAX_EMBEDDING_TOKENS: usize = 300_000;
/// Dimensions of a model the mocks do not know: the largest OpenAI embedding.
pub const DEFAULT_MAX_DIMENSIONS: u64 = 3072;

/// The roles a chat message may have.
const ROLES: [&str; 6] = ["developer", "system", "user", "assistant", "tool", "function"];

/// `POST /chat/completions`.
pub fn chat(body: &Value) -> Checked {
    let f = Fields::of(body, "")?;
    f.required_string("model")?;
    f.required("messages")?;
    let messages = f.array("messages", 1)?.ok_or_else(|| missing("messages"))?;
    for (i, m) in messages.iter().enumerate() {
        message(m, &format!("messages[{i}]"))?;
    }
    f.integer("n", Some(1), Some(MAX_N.into()))?;
    f.integer("top_logprobs", Some(0), Some(20))?;
    f.integer("max_tokens", None, None)?;
    f.integer("max_completion_tokens", None, None)?;
    f.integer("seed", None, None)?;
    f.number("temperature", 0.0, 2.0)?;
    f.number("top_p", 0.0, 1.0)?;
    f.number("frequency_penalty", -2.0, 2.0)?;
    f.number("presence_penalty", -2.0, 2.0)?;
    for key in ["stream", "logprobs", "store", "parallel_tool_calls"] {
        f.boolean(key)?;
    }
    f.string("user")?;
    f.one_of("reasoning_effort", &["none", "minimal", "low", "medium", "high", "xhigh", "max"])?;
    f.one_of("verbosity", &["low", "medium", "high"])?;
    f.one_of("service_tier", &["auto", "default", "flex", "scale", "priority", "fast"])?;
    if let Some(o) = f.object("stream_options")? {
        o.boolean("include_usage")?;
        o.boolean("include_obfuscation")?;
    }
    if let Some(m) = f.array("modalities", 0)? {
        for (i, v) in m.iter().enumerate() {
            enum_item(v, &format!("modalities[{i}]"), &["text", "audio"])?;
        }
    }
    stop(&f)?;
    tools(&f)?;
    tool_choice(&f)?;
    response_format(&f)?;
    maps(&f)
}

/// What a provider's own OpenAI layer refuses beyond the spec, where it is stricter than
/// OpenAI (which lets unknown members of a message pass): Groq and Cerebras check each message
/// and tool call against their own schema ("'messages.1' : for 'role:assistant' the following
/// must be satisfied[('messages.1' : property 'reasoning_content' is unsupported)]"; Groq's
/// SDK types an assistant message as role, content, name, tool_calls, function_call and
/// reasoning), so an OpenAI answer's `refusal` or `annotations` sent back is a 400; Gemini's
/// refuses members sent as null ("Value is not a string: null").
pub fn provider_rules(provider: &str, body: &Value) -> Checked {
    let messages = body.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    // OpenAI's own members, unknown to the providers that validate a body against their own
    // schema (Gemini's OpenAI layer: 'Unknown name "store": Cannot find field.'; Groq and
    // Cerebras: "property 'prompt_cache_key' is unsupported").
    const OPENAI_ONLY: [&str; 6] =
        ["store", "metadata", "prompt_cache_key", "prompt_cache_retention", "safety_identifier", "verbosity"];
    let unknown =
        body.as_object().into_iter().flat_map(|o| o.keys()).find(|k| OPENAI_ONLY.contains(&k.as_str()));
    match (provider, unknown) {
        ("google-gemini", Some(key)) => {
            let message =
                format!("Invalid JSON payload received. Unknown name \"{key}\": Cannot find field.");
            return Err(invalid(key, "invalid_value", message));
        }
        ("groq" | "cerebras", Some(key)) => {
            return Err(invalid(key, "invalid_value", format!("property '{key}' is unsupported")));
        }
        _ => {}
    }
    match provider {
        "groq" | "cerebras" => {
            const MESSAGE: [&str; 7] =
                ["role", "content", "name", "tool_calls", "tool_call_id", "function_call", "reasoning"];
            const CALL: [&str; 3] = ["id", "type", "function"];
            for (i, m) in messages.iter().enumerate() {
                let at = format!("messages.{i}");
                let unsupported = |key: &str, of: &str| {
                    invalid(
                        &at,
                        "invalid_value",
                        format!(
                            "'{at}' : for '{of}' the following must be satisfied[('{at}' : property '{key}' is unsupported)]"
                        ),
                    )
                };
                let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
                for key in m.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !MESSAGE.contains(&key.as_str()) {
                        return Err(unsupported(key, &format!("role:{role}")));
                    }
                }
                // Groq's parts: text, image_url, document; Cerebras's: text (their SDKs' types).
                let parts: &[&str] =
                    if provider == "groq" { &["text", "image_url", "document"] } else { &["text"] };
                let content =
                    m.get("content").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                if let Some(kind) =
                    content.iter().filter_map(|p| p.get("type")?.as_str()).find(|k| !parts.contains(k))
                {
                    return Err(invalid(
                        &at,
                        "invalid_value",
                        format!("'{at}' : content part type '{kind}' is unsupported"),
                    ));
                }
                let calls =
                    m.get("tool_calls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                for key in calls.iter().filter_map(Value::as_object).flat_map(|o| o.keys()) {
                    if !CALL.contains(&key.as_str()) {
                        return Err(unsupported(key, "tool_calls"));
                    }
                }
            }
            Ok(())
        }
        "google-gemini" => {
            let null = |at: String| {
                invalid(&at, "invalid_value", format!("Invalid value at '{at}': Value is not a string: null"))
            };
            for (key, v) in body.as_object().into_iter().flatten() {
                if v.is_null() {
                    return Err(null(key.clone()));
                }
            }
            for (i, m) in messages.iter().enumerate() {
                for (key, v) in m.as_object().into_iter().flatten() {
                    if v.is_null() && key != "content" {
                        return Err(null(format!("messages[{i}].{key}")));
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `logit_bias` (token -> integer) and `metadata` (an object). The values of `metadata` are
/// not checked: the router's tests put arbitrary JSON there to see it arrive byte for byte.
fn maps(f: &Fields<'_>) -> Checked {
    if let Some(o) = f.object("logit_bias")? {
        for (k, v) in o.map {
            as_int(v).ok_or_else(|| wrong_type(&o.name(k), "an integer", v))?;
        }
    }
    f.object("metadata").map(drop)
}

fn enum_item(v: &Value, at: &str, allowed: &[&str]) -> Checked {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        Some(s) => Err(bad_value(at, s, allowed)),
        None => Err(wrong_type(at, "a string", v)),
    }
}

/// `stop`: a string, or 1 to 4 strings.
fn stop(f: &Fields<'_>) -> Checked {
    match f.get("stop") {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(a)) if (1..=4).contains(&a.len()) => {
            a.iter().enumerate().try_for_each(|(i, v)| match v {
                Value::String(_) => Ok(()),
                _ => Err(wrong_type(&format!("stop[{i}]"), "a string", v)),
            })
        }
        Some(Value::Array(a)) => Err(invalid(
            "stop",
            "invalid_value",
            format!("Invalid 'stop': expected between 1 and 4 stop sequences, but got {}.", a.len()),
        )),
        Some(v) => Err(wrong_type("stop", "a string or an array of strings", v)),
    }
}

/// One message: its role decides which fields it needs and which content parts it may have.
fn message(m: &Value, at: &str) -> Checked {
    let f = Fields::of(m, at)?;
    let role = f.required_string("role")?;
    if !ROLES.contains(&role) {
        return Err(bad_value(&f.name("role"), role, &ROLES));
    }
    f.string("name")?;
    match role {
        "developer" | "system" => content(&f, true, &["text"]),
        "user" => content(&f, true, &["text", "image_url", "input_audio", "file"]),
        "tool" => {
            f.required_string("tool_call_id")?;
            content(&f, true, &["text"])
        }
        "function" => {
            f.required_string("name")?;
            f.required("content")?;
            f.string("content").map(drop)
        }
        _ => assistant(&f),
    }
}

/// `assistant`: content (or null), refusal, tool calls, the deprecated function call. The
/// spec's schema makes content optional; its description (and the real API) require it unless
/// `tool_calls` or `function_call` is given.
fn assistant(f: &Fields<'_>) -> Checked {
    content(f, false, &["text", "refusal"])?;
    if f.get("content").is_none() && f.get("tool_calls").is_none() && f.get("function_call").is_none() {
        let name = f.name("content");
        let message = format!(
            "Missing required parameter: '{name}' (required unless 'tool_calls' or 'function_call' is given)."
        );
        return Err(invalid(&name, "missing_required_parameter", message));
    }
    f.string("refusal")?;
    if let Some(fc) = f.object("function_call")? {
        fc.required_string("name")?;
        fc.required_string("arguments")?;
    }
    let Some(calls) = f.array("tool_calls", 0)? else { return Ok(()) };
    for (i, call) in calls.iter().enumerate() {
        let c = Fields::of(call, &format!("{}[{i}]", f.name("tool_calls")))?;
        c.required_string("id")?;
        let kind = c.required_string("type")?;
        let (key, fields) = match kind {
            "function" => ("function", ["name", "arguments"]),
            "custom" => ("custom", ["name", "input"]),
            other => return Err(bad_value(&c.name("type"), other, &["function", "custom"])),
        };
        let inner = c.object(key)?.ok_or_else(|| missing(&c.name(key)))?;
        for field in fields {
            inner.required_string(field)?;
        }
    }
    Ok(())
}

/// `content`: a string or a non-empty array of the parts `parts` names.
fn content(f: &Fields<'_>, required: bool, parts: &[&str]) -> Checked {
    if required {
        f.required("content")?;
    }
    let name = f.name("content");
    match f.get("content") {
        None if required => Err(wrong_type(&name, "a string or an array", &Value::Null)),
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(_)) => {
            let list = f.array("content", 1)?.into_iter().flatten();
            list.enumerate().try_for_each(|(i, p)| part(p, &format!("{name}[{i}]"), parts))
        }
        Some(v) => Err(wrong_type(&name, "a string or an array", v)),
    }
}

/// One content part: its `type`, and the object that type carries.
fn part(p: &Value, at: &str, allowed: &[&str]) -> Checked {
    let f = Fields::of(p, at)?;
    let kind = f.required_string("type")?;
    if !allowed.contains(&kind) {
        return Err(bad_value(&f.name("type"), kind, allowed));
    }
    match kind {
        "text" => f.required_string("text").map(drop),
        "refusal" => f.required_string("refusal").map(drop),
        "image_url" => {
            let img = f.object("image_url")?.ok_or_else(|| missing(&f.name("image_url")))?;
            img.required_string("url")?;
            img.one_of("detail", &["auto", "low", "high"])
        }
        "input_audio" => {
            let audio = f.object("input_audio")?.ok_or_else(|| missing(&f.name("input_audio")))?;
            audio.required_string("data")?;
            audio.required("format")?;
            audio.one_of("format", &["wav", "mp3"])
        }
        _ => f.object("file")?.ok_or_else(|| missing(&f.name("file"))).map(drop),
    }
}

/// `tools`: function tools (a name, object parameters) and custom tools.
fn tools(f: &Fields<'_>) -> Checked {
    let Some(list) = f.array("tools", 0)? else { return Ok(()) };
    for (i, tool) in list.iter().enumerate() {
        let t = Fields::of(tool, &format!("tools[{i}]"))?;
        match t.required_string("type")? {
            "function" => {
                let func = t.object("function")?.ok_or_else(|| missing(&t.name("function")))?;
                let name = func.required_string("name")?;
                func.object("parameters")?;
                func.boolean("strict")?;
                if let (Some(Value::Bool(true)), Some(schema)) = (func.get("strict"), func.get("parameters"))
                {
                    strict_schema(
                        schema,
                        (&t.name("function.parameters"), &format!("function '{name}'")),
                        "()",
                    )?;
                }
            }
            "custom" => {
                let custom = t.object("custom")?.ok_or_else(|| missing(&t.name("custom")))?;
                custom.required_string("name")?;
            }
            other => return Err(bad_value(&t.name("type"), other, &["function", "custom"])),
        }
    }
    Ok(())
}

/// `tool_choice`: `none`, `auto`, `required`, or an object naming a tool.
fn tool_choice(f: &Fields<'_>) -> Checked {
    match f.get("tool_choice") {
        None => Ok(()),
        Some(v @ Value::String(_)) => enum_item(v, "tool_choice", &["none", "auto", "required"]),
        Some(v) => {
            let c = Fields::of(v, "tool_choice")?;
            match c.required_string("type")? {
                kind @ ("function" | "custom") => {
                    let inner = c.object(kind)?.ok_or_else(|| missing(&c.name(kind)))?;
                    inner.required_string("name").map(drop)
                }
                "allowed_tools" => {
                    c.object("allowed_tools")?.ok_or_else(|| missing("tool_choice.allowed_tools")).map(drop)
                }
                other => Err(bad_value("tool_choice.type", other, &["function", "custom", "allowed_tools"])),
            }
        }
    }
}

/// `response_format`: `text`, `json_object`, or `json_schema` with a named schema.
fn response_format(f: &Fields<'_>) -> Checked {
    let Some(rf) = f.object("response_format")? else { return Ok(()) };
    match rf.required_string("type")? {
        "text" | "json_object" => Ok(()),
        "json_schema" => {
            let js = rf.object("json_schema")?.ok_or_else(|| missing("response_format.json_schema"))?;
            let name = js.required_string("name")?;
            js.object("schema")?;
            match (js.get("strict"), js.get("schema")) {
                (Some(Value::Bool(true)), Some(schema)) => {
                    strict_schema(schema, ("response_format", &format!("response_format '{name}'")), "()")
                }
                _ => Ok(()),
            }
        }
        other => Err(bad_value("response_format.type", other, &["text", "json_object", "json_schema"])),
    }
}

/// A strict schema (`what`: a response format's, a function's) as OpenAI's strict mode takes
/// it: each object closed and requiring every property it names (OpenAI's 400 otherwise,
/// which the real API words so).
fn strict_schema(s: &Value, (param, what): (&str, &str), context: &str) -> Checked {
    let Some(o) = s.as_object() else { return Ok(()) };
    let refused = |why: String| {
        Err(invalid(
            param,
            "invalid_value",
            format!("Invalid schema for {what}: In context={context}, {why}"),
        ))
    };
    let object = o.get("type").is_some_and(|t| t == "object") || o.contains_key("properties");
    if object && o.get("additionalProperties") != Some(&Value::Bool(false)) {
        return refused("'additionalProperties' is required to be supplied and to be false.".into());
    }
    if let Some(Value::Object(p)) = o.get("properties") {
        let required = o.get("required").and_then(Value::as_array);
        if let Some(k) = p.keys().find(|k| !required.is_some_and(|r| r.iter().any(|n| n == k.as_str()))) {
            return refused(format!(
                "'required' is required to be supplied and to be an array including every key in properties. Missing '{k}'."
            ));
        }
        for (k, v) in p {
            strict_schema(v, (param, what), &format!("('properties', '{k}')"))?;
        }
    }
    for (k, v) in o {
        match (k.as_str(), v) {
            ("items", Value::Object(_)) => strict_schema(v, (param, what), context)?,
            ("anyOf", Value::Array(list)) => {
                list.iter().try_for_each(|s| strict_schema(s, (param, what), context))?
            }
            ("$defs" | "definitions", Value::Object(m)) => {
                m.values().try_for_each(|s| strict_schema(s, (param, what), context))?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The most dimensions `model` can return (the real API refuses more).
pub fn max_dimensions(model: &str) -> u64 {
    match model {
        "text-embedding-3-small" | "text-embedding-ada-002" => 1536,
        "amazon.titan-embed-text-v2:0" => 1024,
        _ => DEFAULT_MAX_DIMENSIONS,
    }
}

/// `POST /embeddings`; returns the number of inputs and the dimensions to answer with.
pub fn embeddings(body: &Value) -> Result<(usize, Option<usize>), Invalid> {
    let f = Fields::of(body, "")?;
    let model = f.required_string("model")?;
    let inputs = input(f.required("input")?)?;
    f.one_of("encoding_format", &["float", "base64"])?;
    f.string("user")?;
    let max = max_dimensions(model);
    let dims = f.integer("dimensions", Some(1), None)?;
    if let Some(d) = dims.filter(|d| *d > i128::from(max)) {
        let message = format!(
            "Invalid 'dimensions': integer above maximum value. Expected a value <= {max} for {model}, but got {d} instead."
        );
        return Err(invalid("dimensions", "integer_above_max_value", message));
    }
    Ok((inputs, dims.and_then(|d| usize::try_from(d).ok())))
}

/// `input`: a non-empty string, or 1 to 2048 strings, tokens or token arrays, within the token
/// budget of a request. Returns how many embeddings the request asks for.
fn input(v: &Value) -> Result<usize, Invalid> {
    let empty =
        || invalid("input", "invalid_value", "'$.input' is invalid: an input cannot be empty.".to_string());
    let (count, bytes) = match v {
        Value::String(s) if s.is_empty() => return Err(empty()),
        Value::String(s) => (1, s.len()),
        Value::Array(a) if a.is_empty() => return Err(empty()),
        Value::Array(a) if a.len() > MAX_EMBEDDING_INPUTS => {
            let message = format!(
                "Invalid 'input': array too long. Expected an array with maximum length {MAX_EMBEDDING_INPUTS}, but got an array with length {} instead.",
                a.len()
            );
            return Err(invalid("input", "array_above_max_length", message));
        }
        Value::Array(a) => input_items(a)?,
        other => return Err(wrong_type("input", "a string or an array", other)),
    };
    if bytes / 4 > MAX_EMBEDDING_TOKENS {
        let message =
            format!("Requested {} tokens, max {MAX_EMBEDDING_TOKENS} tokens per request", bytes / 4);
        return Err(invalid("input", "max_tokens_per_request", message));
    }
    Ok(count)
}

/// An input array: all strings (non-empty), all token ids, or all non-empty token arrays.
/// Returns how many embeddings it asks for and a size in bytes for the token budget.
fn input_items(a: &[Value]) -> Result<(usize, usize), Invalid> {
    if a.iter().all(Value::is_string) {
        let lens: Vec<usize> = a.iter().filter_map(Value::as_str).map(str::len).collect();
        if lens.contains(&0) {
            return Err(invalid(
                "input",
                "invalid_value",
                "'$.input' is invalid: an input cannot be empty.".into(),
            ));
        }
        return Ok((a.len(), lens.iter().sum()));
    }
    if a.iter().all(|v| as_int(v).is_some()) {
        return Ok((1, a.len() * 4));
    }
    let mut tokens = 0;
    for (i, item) in a.iter().enumerate() {
        let at = format!("input[{i}]");
        let list = item.as_array().ok_or_else(|| wrong_type(&at, "an array of token ids", item))?;
        if list.is_empty() || !list.iter().all(|t| as_int(t).is_some()) {
            let message = format!("Invalid 'input[{i}]': expected a non-empty array of token ids.");
            return Err(invalid(&at, "invalid_value", message));
        }
        tokens += list.len();
    }
    Ok((a.len(), tokens * 4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(r: Checked) -> Option<&'static str> {
        r.err().and_then(|e| e.code)
    }

    #[test]
    fn chat_table() {
        let ok = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(chat(&ok), Ok(()));
        let with = |k: &str, v: Value| {
            let mut b = ok.clone();
            b[k] = v;
            code(chat(&b))
        };
        assert_eq!(with("n", json!(0)), Some("integer_below_min_value"));
        assert_eq!(with("n", json!(129)), Some("integer_above_max_value"));
        assert_eq!(with("n", json!("2")), Some("invalid_type"));
        assert_eq!(with("n", json!(2.0)), None);
        assert_eq!(with("max_completion_tokens", json!(16.0)), None);
        assert_eq!(with("temperature", json!(2.5)), Some("decimal_above_max_value"));
        assert_eq!(with("messages", json!([])), Some("empty_array"));
        assert_eq!(with("messages", json!([{"role": "robot", "content": "x"}])), Some("invalid_value"));
        assert_eq!(with("messages", json!([{"role": "user"}])), Some("missing_required_parameter"));
        assert_eq!(with("messages", json!([{"role": "function", "name": "f", "content": null}])), None);
        assert_eq!(with("messages", json!([{"role": "assistant", "content": "x"}])), None);
        assert_eq!(
            with("messages", json!([{"role": "assistant", "content": null}])),
            Some("missing_required_parameter")
        );
        let call = json!([{"role": "assistant", "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]);
        assert_eq!(with("messages", call), None);
        let bad_call = json!([{"role": "assistant", "tool_calls": [{"id": "1", "type": "function"}]}]);
        assert_eq!(with("messages", bad_call), Some("missing_required_parameter"));
        let part = json!([{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]}]);
        assert_eq!(with("messages", part), Some("invalid_value"));
        assert_eq!(with("modalities", json!(["text", "video"])), Some("invalid_value"));
        assert_eq!(with("stop", json!(["a", "b", "c", "d", "e"])), Some("invalid_value"));
        assert_eq!(
            with("tools", json!([{"type": "function", "function": {}}])),
            Some("missing_required_parameter")
        );
    }

    #[test]
    fn embeddings_table() {
        let check = |b: Value| embeddings(&b).map_err(|e| e.code);
        assert_eq!(check(json!({"model": "m", "input": "a"})), Ok((1, None)));
        assert_eq!(check(json!({"model": "m", "input": [[1, 2], [3]], "dimensions": 8})), Ok((2, Some(8))));
        assert_eq!(check(json!({"model": "m", "input": [1, 2, 3]})), Ok((1, None)));
        assert_eq!(check(json!({"model": "m", "input": ""})), Err(Some("invalid_value")));
        assert_eq!(check(json!({"model": "m", "input": []})), Err(Some("invalid_value")));
        assert_eq!(check(json!({"model": "m", "input": [[]]})), Err(Some("invalid_value")));
        assert_eq!(
            check(json!({"model": "m", "input": vec!["a"; 2049]})),
            Err(Some("array_above_max_length"))
        );
        assert_eq!(
            check(json!({"model": "text-embedding-3-small", "input": "a", "dimensions": 1537})),
            Err(Some("integer_above_max_value"))
        );
        assert_eq!(
            check(json!({"model": "m", "input": "a", "dimensions": 0})),
            Err(Some("integer_below_min_value"))
        );
        assert_eq!(
            check(json!({"model": "m", "input": "a", "encoding_format": "hex"})),
            Err(Some("invalid_value"))
        );
        assert_eq!(check(json!({"input": "a"})), Err(Some("missing_required_parameter")));
    }
}
