//! What the Messages API refuses: unknown params and block fields, the documented ranges,
//! content blocks by role, tool pairs between turns, and the thinking rules.

use serde_json::{Map, Value, json};

use crate::mock::native::{Ask, Tool, is_base64};

/// `MessageCreateParams`.
const REQUEST: [&str; 18] = [
    "model",
    "max_tokens",
    "messages",
    "cache_control",
    "container",
    "inference_geo",
    "metadata",
    "output_config",
    "service_tier",
    "stop_sequences",
    "stream",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
];

/// `MessageCountTokensParams`: what `POST /v1/messages/count_tokens` takes (no `max_tokens`,
/// `stream`, sampling or stop sequences).
const COUNT_REQUEST: [&str; 8] =
    ["model", "messages", "cache_control", "output_config", "system", "thinking", "tool_choice", "tools"];

/// A 400's message, `path: what is wrong` as the API words them.
type Checked<T = ()> = Result<T, String>;

fn refuse<T>(message: impl Into<String>) -> Checked<T> {
    Err(message.into())
}

/// An object whose keys must all be in `allowed` ("Extra inputs are not permitted").
fn only<'a>(v: &'a Value, at: &str, allowed: &[&str]) -> Checked<&'a Map<String, Value>> {
    let Some(map) = v.as_object() else { return refuse(format!("{at}: Input should be a valid dictionary")) };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) if at.is_empty() => refuse(format!("{k}: Extra inputs are not permitted")),
        Some(k) => refuse(format!("{at}.{k}: Extra inputs are not permitted")),
        None => Ok(map),
    }
}

fn cache_control(map: &Map<String, Value>, at: &str) -> Checked {
    let Some(c) = map.get("cache_control").filter(|c| !c.is_null()) else { return Ok(()) };
    let c = only(c, &format!("{at}.cache_control"), &["type", "ttl"])?;
    if c.get("type").and_then(Value::as_str) != Some("ephemeral") {
        return refuse(format!("{at}.cache_control.type: Input should be 'ephemeral'"));
    }
    match c.get("ttl").map(Value::as_str) {
        None | Some(Some("5m" | "1h")) => Ok(()),
        _ => refuse(format!("{at}.cache_control.ttl: Input should be '5m' or '1h'")),
    }
}

fn number(map: &Map<String, Value>, key: &str, max: Option<f64>) -> Checked<Option<f64>> {
    let Some(v) = map.get(key) else { return Ok(None) };
    let Some(x) = v.as_f64() else { return refuse(format!("{key}: Input should be a valid number")) };
    if x < 0.0 {
        return refuse(format!("{key}: Input should be greater than or equal to 0"));
    }
    if let Some(m) = max.filter(|m| x > *m) {
        return refuse(format!("{key}: Input should be less than or equal to {m}"));
    }
    Ok(Some(x))
}

/// A turn after merging consecutive same-role messages, as the API combines them.
struct Turn {
    role: String,
    text: Vec<String>,
    tool_uses: Vec<(String, String)>,
    tool_results: Vec<String>,
    starts_with_thinking: bool,
}

/// The body: its params, then the conversation's turns and tool pairs.
/// A Messages body, or (`counting`) a token-counting body: the params that one takes.
pub(super) fn validate(body: &Value, bytes: usize, counting: bool) -> Checked<Ask<'_>> {
    let top = only(body, "", if counting { &COUNT_REQUEST[..] } else { &REQUEST[..] })?;
    if !top.get("model").is_some_and(Value::is_string) {
        return refuse("model: Field required");
    }
    let max_tokens = match top.get("max_tokens") {
        None if counting => u64::MAX,
        None => return refuse("max_tokens: Field required"),
        // 0 is allowed: it pre-warms the prompt cache without generating (the SDK's docs).
        Some(m) => match m.as_u64() {
            Some(m) => m,
            None => return refuse("max_tokens: Input should be a valid integer greater than or equal to 0"),
        },
    };
    let temperature = number(top, "temperature", Some(1.0))?;
    let top_p = number(top, "top_p", Some(1.0))?;
    // Current models (Sonnet and Haiku 4.5 on, Opus 4.1 on) refuse both at once.
    if temperature.is_some() && top_p.is_some() {
        return refuse(
            "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
        );
    }
    if top.get("top_k").is_some_and(|k| k.as_u64().is_none()) {
        return refuse("top_k: Input should be a valid integer greater than or equal to 0");
    }
    if top.get("stream").is_some_and(|s| !s.is_boolean()) {
        return refuse("stream: Input should be a valid boolean");
    }
    if let Some(s) = top.get("stop_sequences")
        && !s.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        return refuse("stop_sequences: Input should be a valid list of strings");
    }
    if top
        .get("stop_sequences")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.trim().is_empty())))
    {
        return refuse("stop_sequences: each stop sequence must contain non-whitespace");
    }
    if let Some(m) = top.get("metadata") {
        only(m, "metadata", &["user_id"])?;
    }
    if let Some(t) = top.get("service_tier")
        && !matches!(t.as_str(), Some("auto" | "standard_only"))
    {
        return refuse("service_tier: Input should be 'auto' or 'standard_only'");
    }
    cache_control(top, "")?;
    output_config(top.get("output_config"))?;
    system(top.get("system"))?;
    let tools = tools(top.get("tools"))?;
    let thinking = thinking(top.get("thinking"), max_tokens)?;
    if thinking {
        if temperature.is_some_and(|t| t != 1.0) {
            return refuse(
                "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#important-considerations-when-using-extended-thinking",
            );
        }
        if top_p.is_some_and(|p| p < 0.95) {
            return refuse(
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
            );
        }
        if top.contains_key("top_k") {
            return refuse("`top_k` must be unset when thinking is enabled.");
        }
    }
    tool_choice(top.get("tool_choice"), &tools, thinking)?;
    let turns = turns(top.get("messages"))?;
    check_tool_pairs(&turns, thinking)?;
    let last_user = turns.iter().rev().find(|t| t.role == "user");
    let tool_result_of = last_user.and_then(|u| {
        let first = u.tool_results.first()?;
        let before = turns
            .iter()
            .rev()
            .find(|t| t.role == "assistant" && t.tool_uses.iter().any(|(id, _)| id == first))?;
        before.tool_uses.iter().find(|(id, _)| id == first).map(|(_, name)| name.clone())
    });
    Ok(Ask {
        last_user_text: last_user.map(|u| u.text.join(" ")).unwrap_or_default(),
        tool_result_of,
        first_tool: tools.first().map(|(name, schema)| Tool { name, schema }),
        request_bytes: bytes,
    })
}

/// `output_config`: `effort`, and `format` a JSON Schema within structured outputs' limits.
fn output_config(c: Option<&Value>) -> Checked {
    let Some(c) = c else { return Ok(()) };
    let c = only(c, "output_config", &["effort", "format"])?;
    if let Some(e) = c.get("effort")
        && !matches!(e.as_str(), Some("low" | "medium" | "high" | "xhigh" | "max"))
    {
        return refuse("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
    }
    let Some(f) = c.get("format") else { return Ok(()) };
    let f = only(f, "output_config.format", &["type", "schema"])?;
    if f.get("type").and_then(Value::as_str) != Some("json_schema") {
        return refuse("output_config.format.type: Input should be 'json_schema'");
    }
    match f.get("schema") {
        Some(s) if s.is_object() => schema(s, "output_config.format.schema"),
        _ => refuse("output_config.format.schema: Field required"),
    }
}

/// A structured-output schema (standing at `at`) and its subschemas: objects closed
/// (`additionalProperties: false`), no numeric bounds or string lengths, arrays bounded by
/// `minItems` 0 or 1 only.
fn schema(s: &Value, at: &str) -> Checked {
    let Some(o) = s.as_object() else { return Ok(()) };
    let bounds = [
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
    ];
    if let Some(k) = bounds.iter().find(|k| o.contains_key(**k)) {
        return refuse(format!("{at}: '{k}' is not supported"));
    }
    if o.get("minItems").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return refuse(format!("{at}: minItems above 1 is not supported"));
    }
    let object = o
        .get("type")
        .is_some_and(|t| t == "object" || t.as_array().is_some_and(|a| a.iter().any(|t| t == "object")));
    if (object || o.contains_key("properties")) && o.get("additionalProperties") != Some(&Value::Bool(false))
    {
        return refuse(format!(
            "{at}: For 'object' type, 'additionalProperties' must be explicitly set to false"
        ));
    }
    // Subschemas: a map of them (`properties`, `$defs`), one, or a list; a value of any other
    // keyword (`const`, `default`, `enum`) is data.
    for (k, v) in o {
        match (k.as_str(), v) {
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                map.values().try_for_each(|s| schema(s, at))?
            }
            ("items" | "additionalProperties" | "not", Value::Object(_)) => schema(v, at)?,
            ("anyOf" | "allOf" | "oneOf", Value::Array(list)) => {
                list.iter().try_for_each(|s| schema(s, at))?
            }
            _ => {}
        }
    }
    Ok(())
}

fn system(s: Option<&Value>) -> Checked {
    match s {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(blocks)) => {
            for (i, b) in blocks.iter().enumerate() {
                let at = format!("system.{i}");
                let b = only(b, &at, &["type", "text", "cache_control", "citations"])?;
                if b.get("type").and_then(Value::as_str) != Some("text") {
                    return refuse(format!("{at}.type: Input should be 'text'"));
                }
                if b.get("text").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return refuse("system: text content blocks must be non-empty");
                }
                cache_control(b, &at)?;
            }
            Ok(())
        }
        Some(_) => refuse("system: Input should be a valid string or a list of text blocks"),
    }
}

/// `tools`: custom tools, as (name, input schema). A strict tool's schema is checked as a
/// structured output's is, and the strict schemas together within Anthropic's documented
/// limits (20 strict tools, 24 optional parameters, 16 parameters of union types).
fn tools(t: Option<&Value>) -> Checked<Vec<(&str, &Value)>> {
    let Some(t) = t else { return Ok(Vec::new()) };
    let Some(list) = t.as_array() else { return refuse("tools: Input should be a valid list") };
    let mut out = Vec::new();
    let (mut strict, mut optional, mut unions) = (0, 0, 0);
    for (i, tool) in list.iter().enumerate() {
        let at = format!("tools.{i}");
        let tool =
            only(tool, &at, &["type", "name", "description", "input_schema", "cache_control", "strict"])?;
        if tool.get("type").is_some_and(|t| t.as_str() != Some("custom")) {
            return refuse(format!("{at}.type: Input should be 'custom'"));
        }
        let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
        let valid = (1..=128).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return refuse(format!("{at}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"));
        }
        let Some(schema) = tool.get("input_schema") else {
            return refuse(format!("{at}.input_schema: Field required"));
        };
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return refuse(format!("{at}.input_schema.type: Input should be 'object'"));
        }
        match tool.get("strict") {
            None | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) => {
                schema_checked(schema, &format!("{at}.input_schema"))?;
                strict += 1;
                let (o, u) = tally(schema);
                optional += o;
                unions += u;
            }
            Some(_) => return refuse(format!("{at}.strict: Input should be a valid boolean")),
        }
        cache_control(tool, &at)?;
        out.push((name, schema));
    }
    if strict > 20 {
        return refuse(format!(
            "Too many strict tools ({strict}). The maximum number of strict tools supported is 20."
        ));
    }
    if optional > 24 {
        return refuse(format!(
            "Schemas contains too many optional parameters ({optional}), which would make grammar compilation inefficient. Reduce the number of optional parameters in your tool schemas (limit: 24)."
        ));
    }
    if unions > 16 {
        return refuse(format!(
            "Schemas contains too many parameters with union types ({unions} parameters with type arrays or anyOf). This causes exponential compilation cost. Reduce the number of nullable or union-typed parameters (limit: 16 parameters with unions)."
        ));
    }
    Ok(out)
}

/// [`schema`], and only the keywords structured outputs take, as Anthropic checks a strict
/// tool's (`'patternProperties' is not supported`).
fn schema_checked(s: &Value, at: &str) -> Checked {
    const TAKEN: [&str; 21] = [
        "type",
        "enum",
        "const",
        "anyOf",
        "allOf",
        "$ref",
        "$defs",
        "definitions",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "format",
        "pattern",
        "title",
        "description",
        "default",
        "examples",
        "$schema",
        "$id",
    ];
    schema(s, at)?;
    let Some(o) = s.as_object() else { return Ok(()) };
    if let Some(k) = o.keys().find(|k| !TAKEN.contains(&k.as_str())) {
        return refuse(format!("{at}: '{k}' is not supported"));
    }
    for (k, v) in o {
        match (k.as_str(), v) {
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                map.values().try_for_each(|s| schema_checked(s, at))?
            }
            ("items", Value::Object(_)) => schema_checked(v, at)?,
            ("anyOf" | "allOf", Value::Array(list)) => list.iter().try_for_each(|s| schema_checked(s, at))?,
            _ => {}
        }
    }
    Ok(())
}

/// What Anthropic's limits count in a schema: properties their object does not require, and
/// schemas of union types (`anyOf`, a list of types).
fn tally(s: &Value) -> (usize, usize) {
    let Some(o) = s.as_object() else { return (0, 0) };
    let mut optional = 0;
    let mut unions = usize::from(o.contains_key("anyOf") || o.get("type").is_some_and(Value::is_array));
    if let Some(Value::Object(p)) = o.get("properties") {
        let required = o.get("required").and_then(Value::as_array);
        optional += p.keys().filter(|k| !required.is_some_and(|r| r.iter().any(|n| n == k.as_str()))).count();
    }
    for (k, v) in o {
        let subs: Vec<&Value> = match (k.as_str(), v) {
            ("properties" | "$defs" | "definitions", Value::Object(map)) => map.values().collect(),
            ("items", Value::Object(_)) => vec![v],
            ("anyOf" | "allOf", Value::Array(list)) => list.iter().collect(),
            _ => Vec::new(),
        };
        for sub in subs {
            let (o, u) = tally(sub);
            optional += o;
            unions += u;
        }
    }
    (optional, unions)
}

/// `thinking`: whether it is on (`enabled` or `adaptive`).
fn thinking(t: Option<&Value>, max_tokens: u64) -> Checked<bool> {
    let Some(t) = t else { return Ok(false) };
    let t = only(t, "thinking", &["type", "budget_tokens", "display"])?;
    match t.get("type").and_then(Value::as_str) {
        Some("enabled") => {
            let Some(budget) = t.get("budget_tokens") else {
                return refuse("thinking.enabled.budget_tokens: Field required");
            };
            let budget = budget.as_u64().unwrap_or(0);
            if budget < 1024 {
                return refuse(
                    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
                );
            }
            if budget >= max_tokens {
                return refuse(
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
                );
            }
            Ok(true)
        }
        Some("adaptive") => Ok(true),
        Some("disabled") => Ok(false),
        _ => refuse("thinking.type: Input tag should be 'enabled', 'disabled' or 'adaptive'"),
    }
}

fn tool_choice(c: Option<&Value>, tools: &[(&str, &Value)], thinking: bool) -> Checked {
    let Some(c) = c else { return Ok(()) };
    let c = only(c, "tool_choice", &["type", "name", "disable_parallel_tool_use"])?;
    match c.get("type").and_then(Value::as_str) {
        Some("auto" | "none") => Ok(()),
        Some(kind @ ("any" | "tool")) => {
            if thinking {
                return refuse("Thinking may not be enabled when tool_choice forces tool use.");
            }
            if kind == "tool" {
                let name = c.get("name").and_then(Value::as_str);
                if !tools.iter().any(|(n, _)| Some(*n) == name) {
                    return refuse("tool_choice.name: must name one of the tools given in `tools`");
                }
            }
            Ok(())
        }
        _ => refuse("tool_choice.type: Input tag should be 'auto', 'any', 'tool' or 'none'"),
    }
}

/// `messages`, merged into turns; every block checked.
fn turns(m: Option<&Value>) -> Checked<Vec<Turn>> {
    let Some(list) = m.and_then(Value::as_array) else { return refuse("messages: Field required") };
    if list.is_empty() {
        return refuse("messages: at least one message is required");
    }
    let mut turns: Vec<Turn> = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let at = format!("messages.{i}");
        let msg = only(m, &at, &["role", "content"])?;
        let role = match msg.get("role").and_then(Value::as_str) {
            Some(r @ ("user" | "assistant")) => r,
            _ => return refuse(format!("{at}.role: Input should be 'user' or 'assistant'")),
        };
        if i == 0 && role != "user" {
            return refuse("messages: first message must use the \"user\" role");
        }
        let last = i + 1 == list.len();
        let blocks: Vec<Value> = match msg.get("content") {
            Some(Value::String(s)) => vec![json!({"type": "text", "text": s})],
            Some(Value::Array(a)) => a.clone(),
            _ => return refuse(format!("{at}.content: Input should be a valid string or list")),
        };
        // The API allows empty content only in a final, prefilled assistant message.
        if blocks.is_empty() && !(last && role == "assistant") {
            return refuse(format!(
                "{at}: all messages must have non-empty content except for the optional final assistant message"
            ));
        }
        if turns.last().is_none_or(|t| t.role != role) {
            turns.push(Turn {
                role: role.to_string(),
                text: Vec::new(),
                tool_uses: Vec::new(),
                tool_results: Vec::new(),
                starts_with_thinking: false,
            });
        }
        let Some(turn) = turns.last_mut() else { continue };
        for (j, b) in blocks.iter().enumerate() {
            block(b, &format!("{at}.content.{j}"), role, last, turn)?;
        }
    }
    Ok(turns)
}

fn block(b: &Value, at: &str, role: &str, last: bool, turn: &mut Turn) -> Checked {
    let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
    let first = turn.text.is_empty() && turn.tool_uses.is_empty() && turn.tool_results.is_empty();
    let only_in = |r: &str| {
        if role == r {
            Ok(())
        } else {
            refuse(format!("{at}: `{kind}` blocks are only allowed in {r} messages"))
        }
    };
    let b = match kind {
        "text" => only(b, at, &["type", "text", "cache_control", "citations"])?,
        "image" => only(b, at, &["type", "source", "cache_control"])?,
        "document" => only(b, at, &["type", "source", "title", "context", "citations", "cache_control"])?,
        "tool_use" => only(b, at, &["type", "id", "name", "input", "cache_control"])?,
        "tool_result" => only(b, at, &["type", "tool_use_id", "content", "is_error", "cache_control"])?,
        "thinking" => only(b, at, &["type", "thinking", "signature"])?,
        "redacted_thinking" => only(b, at, &["type", "data"])?,
        _ => {
            return refuse(format!(
                "{at}.type: Input tag '{kind}' found using 'type' does not match any of the expected tags: 'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'"
            ));
        }
    };
    cache_control(b, at)?;
    let string =
        |key: &str| b.get(key).and_then(Value::as_str).ok_or_else(|| format!("{at}.{key}: Field required"));
    match kind {
        "text" => {
            let t = string("text")?;
            // A prefilled final assistant message may not end in whitespace; any other text
            // block must just be non-empty.
            if t.is_empty() {
                return refuse("messages: text content blocks must be non-empty");
            }
            if last && role == "assistant" && t.ends_with(char::is_whitespace) {
                return refuse("messages: final assistant content cannot end with trailing whitespace");
            }
            turn.text.push(t.to_string());
        }
        "image" => {
            only_in("user")?;
            image(b.get("source").unwrap_or(&Value::Null), &format!("{at}.source"))?;
        }
        "document" => only_in("user")?,
        "tool_use" => {
            only_in("assistant")?;
            let id = string("id")?;
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                return refuse(format!("{at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'"));
            }
            let name = string("name")?;
            if !b.get("input").is_some_and(Value::is_object) {
                return refuse(format!("{at}.input: Input should be a valid dictionary"));
            }
            turn.tool_uses.push((id.to_string(), name.to_string()));
        }
        "tool_result" => {
            only_in("user")?;
            if !turn.text.is_empty() {
                return refuse(format!(
                    "{at}: tool_result blocks must come before any other content in the user message"
                ));
            }
            let id = string("tool_use_id")?;
            match b.get("content") {
                None | Some(Value::String(_)) => {}
                Some(Value::Array(parts)) => {
                    for (k, p) in parts.iter().enumerate() {
                        match p.get("type").and_then(Value::as_str) {
                            Some("text") if p.get("text").is_some_and(Value::is_string) => {}
                            Some("image") => image(&p["source"], &format!("{at}.content.{k}.source"))?,
                            Some("document" | "search_result") => {}
                            _ => {
                                return refuse(format!(
                                    "{at}.content.{k}: expected a text, image, document or search_result block"
                                ));
                            }
                        }
                    }
                }
                Some(_) => return refuse(format!("{at}.content: Input should be a valid string or list")),
            }
            if b.get("is_error").is_some_and(|e| !e.is_boolean()) {
                return refuse(format!("{at}.is_error: Input should be a valid boolean"));
            }
            turn.tool_results.push(id.to_string());
        }
        "thinking" => {
            only_in("assistant")?;
            string("thinking")?;
            // Anthropic checks the signature it wrote (its thinking shown or omitted).
            if string("signature")? != super::SIGNATURE {
                return refuse(format!("{at}: Invalid `signature` in `thinking` block"));
            }
            turn.starts_with_thinking |= first;
        }
        _ => {
            only_in("assistant")?;
            string("data")?;
            turn.starts_with_thinking |= first;
        }
    }
    Ok(())
}

fn image(source: &Value, at: &str) -> Checked {
    match source.get("type").and_then(Value::as_str) {
        Some("base64") => {
            let s = only(source, at, &["type", "media_type", "data"])?;
            let media = s.get("media_type").and_then(Value::as_str);
            if !matches!(media, Some("image/jpeg" | "image/png" | "image/gif" | "image/webp")) {
                return refuse(format!(
                    "{at}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                ));
            }
            if !s.get("data").and_then(Value::as_str).is_some_and(is_base64) {
                return refuse(format!("{at}.data: The image data is not valid base64"));
            }
            Ok(())
        }
        Some("url") => {
            let s = only(source, at, &["type", "url"])?;
            match s.get("url").and_then(Value::as_str) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(()),
                _ => refuse(format!("{at}.url: Field required")),
            }
        }
        Some("file") => only(source, at, &["type", "file_id"]).map(drop),
        _ => refuse(format!("{at}: Input tag should be 'base64', 'url' or 'file'")),
    }
}

/// Each tool_result answers a tool_use of the assistant turn just before, and every tool_use
/// gets its result in the next turn; with thinking on, an assistant turn whose tool uses are
/// being answered must start with its thinking block.
fn check_tool_pairs(turns: &[Turn], thinking: bool) -> Checked {
    for (i, t) in turns.iter().enumerate() {
        let before = i.checked_sub(1).map(|p| &turns[p]);
        let asked: Vec<&str> =
            before.map(|b| b.tool_uses.iter().map(|(id, _)| id.as_str()).collect()).unwrap_or_default();
        if let Some(id) = t.tool_results.iter().find(|r| !asked.contains(&r.as_str())) {
            return refuse(format!(
                "messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
            ));
        }
    }
    for (i, t) in turns.iter().enumerate() {
        if t.role == "assistant" && !t.tool_uses.is_empty() {
            let Some(next) = turns.get(i + 1) else { continue };
            let missing: Vec<&str> = t
                .tool_uses
                .iter()
                .map(|(id, _)| id.as_str())
                .filter(|id| !next.tool_results.iter().any(|r| r == id))
                .collect();
            if !missing.is_empty() {
                return refuse(format!(
                    "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                    i + 1,
                    missing.join(", ")
                ));
            }
            if thinking && i + 2 == turns.len() && !t.starts_with_thinking {
                return refuse(format!(
                    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`."
                ));
            }
        }
    }
    Ok(())
}
