//! The client's OpenAI chat-completions body to a Converse / ConverseStream request body.
//!
//! Every top-level member is either translated, dropped (it has no Converse counterpart and
//! leaving it out cannot change what the client relies on) or refused with a 400 naming it
//! (leaving it out would silently answer a different question). `docs/protocols/bedrock.md`
//! has the table; [`FIELDS`] is the same table in code, and a member not in it is dropped.

use serde_json::{Map, Value, json};

use super::choice::{takes_forced_choice, tool_choice};
use super::messages::{self, invalid_type, str_field};
use crate::catalog::DROPS_EFFORT_NONE;
use crate::error::{ApiError, echo};
use crate::parse::fields::plain_tool_name;
use crate::protocol::Native;
use crate::protocol::canonical::{minified, write_literal};
use crate::protocol::raw::{Json, chat_members, integer, object_at, string, write_object};
use crate::protocol::tools::{
    FunctionTool, function_tools, literal, schema_value, tool_name_refused, write_schema, written,
};

use crate::protocol::tools::CONVERSE_TOOL_NAME as MAX_TOOL_NAME;

/// What happens to a top-level member of the client's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Read by this translator.
    Translated,
    /// Left out: no Converse counterpart, and nothing the client relies on changes.
    Dropped,
    /// Refused with a 400 when set to anything but its default.
    Refused,
}

/// The members this translator knows, and what it does with each.
const FIELDS: &[(&str, Field)] = &[
    ("messages", Field::Translated),
    ("max_completion_tokens", Field::Translated),
    ("max_tokens", Field::Translated),
    ("temperature", Field::Translated),
    ("top_p", Field::Translated),
    ("stop", Field::Translated),
    ("tools", Field::Translated),
    ("tool_choice", Field::Translated),
    ("response_format", Field::Translated),
    ("n", Field::Refused),
    ("logprobs", Field::Refused),
    ("top_logprobs", Field::Refused),
    ("logit_bias", Field::Refused),
    ("audio", Field::Refused),
    ("modalities", Field::Refused),
    ("functions", Field::Refused),
    ("function_call", Field::Refused),
    ("web_search_options", Field::Refused),
    ("moderation", Field::Refused),
    // The router's own members and the transport: the path says stream or not.
    ("model", Field::Dropped),
    ("prefer", Field::Dropped),
    ("tier", Field::Dropped),
    ("stream", Field::Dropped),
    ("stream_options", Field::Dropped),
    ("reasoning_effort", Field::Dropped),
    ("parallel_tool_calls", Field::Dropped),
    ("seed", Field::Dropped),
    ("frequency_penalty", Field::Dropped),
    ("presence_penalty", Field::Dropped),
    ("user", Field::Dropped),
    ("safety_identifier", Field::Dropped),
    ("prompt_cache_key", Field::Dropped),
    ("metadata", Field::Dropped),
    ("store", Field::Dropped),
    ("service_tier", Field::Dropped),
    ("prediction", Field::Dropped),
    ("verbosity", Field::Dropped),
];

/// The request path for this model: `{base}/model/{id}/converse` or `/converse-stream`, the id
/// percent-encoded (every byte outside `A-Za-z0-9-_.~`, so `:` is `%3A`).
pub fn path(base: &str, upstream_model: &str, stream: bool) -> String {
    let op = if stream { "converse-stream" } else { "converse" };
    crate::protocol::titan::model_path(base, upstream_model, op)
}

/// The client's OpenAI chat-completions body (bytes as received; it has been validated as
/// JSON and its `model`/router members like `prefer`, `tier` may be present: ignore router
/// members `prefer`, `tier`, and `model`) -> the provider's native request body.
pub fn translate(body: &[u8], to: &Native<'_>) -> Result<Vec<u8>, ApiError> {
    let (mut req, messages, tools_raw) = chat_members(body, false, Some("tools"))?;
    // Plain function tools are written from the body's text; others, and every error, go
    // through JSON values.
    let tools_written = written(&mut req, tools_raw, tools_text)?;
    for (key, value) in &req {
        let known = FIELDS.iter().find(|(k, _)| k == key).map(|(_, f)| *f);
        if known == Some(Field::Refused) {
            refuse(key, value)?;
        }
    }
    // OpenRouter's `reasoning` members beyond an effort (a thinking budget, a switch, hiding
    // it), which Converse has no place for, as the chat path and the other translations
    // refuse them.
    if let Some(Value::Object(o)) = req.get("reasoning")
        && let Some(key) = crate::parse::options::asks_more(o)
    {
        let param = format!("reasoning.{key}");
        let why = format!("{} is not supported on this model's API: send reasoning_effort", echo(&param));
        return Err(ApiError::invalid("unsupported_parameter", Some(&param), why));
    }
    no_effort(&req, to)?;
    let Some(messages) = messages else {
        return Err(ApiError::invalid(
            "missing_required_parameter",
            Some("messages"),
            "'messages' is required",
        ));
    };
    let mut conv = messages::translate(messages)?;
    if messages::nine_character_ids(to.upstream_model) {
        conv.nine_character_tool_ids();
    }
    let forced = takes_forced_choice(to.upstream_model);
    let tools = tool_config(&mut req, &mut conv, tools_written.as_ref(), forced)?;
    let mut out = Map::new();
    let inference = inference_config(&req, to)?;
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    let mut written_tools = None;
    match tools {
        Some((Tools::Values(list), choice)) => {
            let mut config = json!({ "tools": list });
            if let (Some(c), Some(obj)) = (choice, config.as_object_mut()) {
                obj.insert("toolChoice".into(), c);
            }
            out.insert("toolConfig".into(), config);
        }
        Some((Tools::Text(text), choice)) => written_tools = Some((text, choice)),
        None => {}
    }
    // The body is read again for the schema's text only when there is one.
    let has_schema =
        req.get("response_format").and_then(|f| f.get("json_schema")?.get("schema")?.as_object()).is_some();
    let schema = has_schema.then(|| object_at(body, &["response_format", "json_schema", "schema"])).flatten();
    if let Some(format) = output_config(req.get("response_format"), schema)? {
        out.insert("outputConfig".into(), format);
    }
    let mut extra = vec!["messages"];
    if !conv.system.is_empty() {
        extra.push("system");
    }
    if written_tools.is_some() {
        extra.push("toolConfig");
    }
    write_object(&out, &extra, body.len(), |k, w| match (k, &written_tools) {
        ("system", _) => serde_json::to_writer(w, &conv.system),
        ("toolConfig", Some((text, choice))) => write_tool_config(text, choice.as_ref(), w),
        _ => serde_json::to_writer(w, &conv.turns),
    })
}

/// A 400 for `none` or `minimal` effort (or OpenRouter's `reasoning.effort`) to a model that
/// reasons: Converse cannot carry it, and the model would reason as by default, at that cost.
/// Other efforts are dropped (it reasons, at its own depth); one that does not reason goes
/// without `none` ([`DROPS_EFFORT_NONE`]).
fn no_effort(req: &Map<String, Value>, to: &Native<'_>) -> Result<(), ApiError> {
    if to.quirks.drops & DROPS_EFFORT_NONE != 0 {
        return Ok(());
    }
    let nested = req.get("reasoning").and_then(|r| r.get("effort"));
    let asked = (req.get("reasoning_effort").and_then(Value::as_str).map(|v| ("reasoning_effort", v)))
        .or_else(|| nested.and_then(Value::as_str).map(|v| ("reasoning.effort", v)));
    match asked {
        Some((param, value @ ("none" | "minimal"))) => Err(ApiError::invalid(
            "unsupported_value",
            Some(param),
            format!(
                "this model reasons on Bedrock's Converse API, which has no setting for {}: leave {param} out, or route to a model that takes it",
                echo(value)
            ),
        )),
        _ => Ok(()),
    }
}

/// `toolConfig` with tools written from the body's text: its members in name order, as the
/// map of JSON values is written.
fn write_tool_config(tools: &[u8], choice: Option<&Value>, w: &mut Vec<u8>) -> serde_json::Result<()> {
    w.push(b'{');
    if let Some(c) = choice {
        w.extend_from_slice(br#""toolChoice":"#);
        serde_json::to_writer(&mut *w, c)?;
        w.push(b',');
    }
    w.extend_from_slice(br#""tools":"#);
    w.extend_from_slice(tools);
    w.push(b'}');
    Ok(())
}

/// A 400 for a refused member set to something other than its default.
fn refuse(key: &str, value: &Value) -> Result<(), ApiError> {
    let default = match key {
        "n" => value.is_null() || integer(value) == Some(1),
        "logprobs" => value.is_null() || value == &Value::Bool(false),
        // No alternatives asked for: what SDK wrappers send by default.
        "top_logprobs" => value.is_null() || integer(value) == Some(0),
        "logit_bias" => value.is_null() || value.as_object().is_some_and(Map::is_empty),
        "modalities" => value.is_null() || value == &json!(["text"]),
        // No functions declared, or none to call: what a wrapper sends beside its tools.
        "functions" => value.is_null() || value.as_array().is_some_and(Vec::is_empty),
        "function_call" => value.is_null() || value.as_str() == Some("none"),
        _ => value.is_null(),
    };
    if default {
        return Ok(());
    }
    let why = match key {
        "n" => "this model's API returns one choice: send n = 1 or leave it out",
        "logprobs" | "top_logprobs" => "this model's API does not return log probabilities",
        "logit_bias" => "this model's API has no logit bias",
        "audio" | "modalities" => "this model's API answers in text only",
        "functions" | "function_call" => "these are the deprecated form of tools: send tools and tool_choice",
        "moderation" => "this model's API runs no moderation: leave it out",
        _ => "this model's API has no web search",
    };
    Err(ApiError::invalid("unsupported_parameter", Some(key), format!("'{key}' is not supported: {why}")))
}

fn inference_config(req: &Map<String, Value>, to: &Native<'_>) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    // max_tokens is the deprecated name: the newer one wins when both are set.
    let max = ["max_completion_tokens", "max_tokens"]
        .into_iter()
        .find_map(|k| req.get(k).filter(|v| !v.is_null()).map(|v| (k, v)));
    if let Some((key, v)) = max {
        let n = integer(v).filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::invalid("invalid_value", Some(key), format!("'{key}' must be a positive integer"))
        })?;
        out.insert("maxTokens".into(), json!(n.min(to.max_output)));
    }
    if let Some(v) = req.get("temperature").filter(|v| !v.is_null()) {
        let t = number(v, "temperature", 2.0)?;
        // Converse takes 0-1 where OpenAI takes 0-2: above 1 is sent as Converse's hottest.
        out.insert("temperature".into(), json!(t.min(1.0)));
    }
    if let Some(v) = req.get("top_p").filter(|v| !v.is_null()) {
        out.insert("topP".into(), json!(number(v, "top_p", 1.0)?));
    }
    let stops: Vec<&str> = match req.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| s.as_str().ok_or_else(|| invalid_type(&format!("stop[{i}]"), "a string")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid_type("stop", "a string or an array of strings")),
    };
    // Converse refuses empty stop sequences; an empty one never matches anyway.
    let stops: Vec<&str> = stops.into_iter().filter(|s| !s.is_empty()).collect();
    if !stops.is_empty() {
        out.insert("stopSequences".into(), json!(stops));
    }
    Ok(out)
}

/// A number in `0..=max`, or a 400 naming `key`.
fn number(v: &Value, key: &str, max: f64) -> Result<f64, ApiError> {
    v.as_f64().filter(|x| (0.0..=max).contains(x)).ok_or_else(|| {
        ApiError::invalid("invalid_value", Some(key), format!("'{key}' must be a number from 0 to {max}"))
    })
}

/// Tools [`tools_text`] wrote from the body's text, and their names (for `tool_choice`).
struct TextTools {
    text: Vec<u8>,
    names: Vec<String>,
}

/// `toolConfig`'s tools: JSON values, or written from the body's text ([`tools_text`]).
enum Tools<'t> {
    Values(Vec<Value>),
    Text(&'t [u8]),
}

/// `toolConfig`: its tools and its `toolChoice`.
type ToolConfig<'t> = (Tools<'t>, Option<Value>);

/// `tools` and `tool_choice` as `toolConfig`, or `None` when no tool may be called (the
/// history's tool blocks, if any, then told as text). `text`: the tools [`tools_text`] wrote; without it the tools
/// are moved out of `req`, not copied.
fn tool_config<'t>(
    req: &mut Map<String, Value>,
    conv: &mut messages::Conversation<'_>,
    text: Option<&'t TextTools>,
    forced: bool,
) -> Result<Option<ToolConfig<'t>>, ApiError> {
    let (tools, choice) = match text {
        Some(TextTools { text, names }) => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            (Tools::Text(text), tool_choice(req.get("tool_choice"), &names, forced)?)
        }
        None => {
            let tools: Vec<Value> = match req.remove("tools") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(list)) => {
                    list.into_iter().enumerate().map(|(k, t)| tool_spec(t, k)).collect::<Result<_, _>>()?
                }
                Some(_) => return Err(invalid_type("tools", "an array of tools")),
            };
            let names: Vec<&str> =
                tools.iter().filter_map(|t| t.get("toolSpec")?.get("name")?.as_str()).collect();
            let choice = tool_choice(req.get("tool_choice"), &names, forced)?;
            (Tools::Values(tools), choice)
        }
    };
    let none = choice.as_ref().is_some_and(Value::is_null);
    let sent = !matches!(&tools, Tools::Values(t) if t.is_empty());
    // Converse refuses toolUse/toolResult blocks unless toolConfig is present ("The toolConfig
    // field must be defined when using toolUse and toolResult content blocks"), and its
    // toolChoice has no "none": declared, the tools could be called. When the model may call
    // none, no toolConfig is sent and the history's calls and results, if any, go as text.
    if none || !sent {
        if conv.has_tool_blocks {
            conv.tool_history_as_text();
        }
        return Ok(None);
    }
    Ok(Some((tools, choice)))
}

/// The tools written from the body's text as [`tool_spec`] writes them, and their names, for
/// plain function tools with a string name and an object or no `parameters`
/// (`protocol::tools`); `None` leaves them to the JSON values.
fn tools_text(raw: Json<'_>) -> Option<TextTools> {
    let list = function_tools(raw)?;
    let mut out = Vec::with_capacity(raw.get().len());
    let mut names = Vec::with_capacity(list.len());
    out.push(b'[');
    for FunctionTool { function, .. } in &list {
        if out.len() > 1 {
            out.push(b',');
        }
        let name = string(function.get("name")).ok()?.filter(|n| plain_tool_name(n, MAX_TOOL_NAME))?;
        // Members in name order, as the map of JSON values is written.
        out.extend_from_slice(br#"{"toolSpec":{"#);
        if let Some(d) = literal(function.get("description")).filter(|d| !d.is_empty()) {
            out.extend_from_slice(br#""description":"#);
            write_literal(d, &mut out)?;
            out.push(b',');
        }
        out.extend_from_slice(br#""inputSchema":{"json":"#);
        write_schema(function.get("parameters"), &mut out, false)?;
        out.extend_from_slice(br#"},"name":"#);
        write_literal(literal(function.get("name"))?, &mut out)?;
        out.extend_from_slice(b"}}");
        names.push(name.into_owned());
    }
    out.push(b']');
    Some(TextTools { text: out, names })
}

/// One OpenAI tool as a Converse `toolSpec`.
fn tool_spec(mut tool: Value, k: usize) -> Result<Value, ApiError> {
    let at = format!("tools[{k}]");
    match tool.get("type").and_then(Value::as_str) {
        Some("function") => {}
        other => {
            return Err(ApiError::invalid(
                "unsupported_value",
                Some(&format!("{at}.type")),
                format!(
                    "tool type {} is not supported by this model's API: use function",
                    echo(other.unwrap_or("(none)"))
                ),
            ));
        }
    }
    let mut f = tool.get_mut("function").map(Value::take).unwrap_or(Value::Null);
    let name = str_field(&f, "name", &format!("{at}.function"))?.to_owned();
    if !plain_tool_name(&name, MAX_TOOL_NAME) {
        return Err(tool_name_refused(&name, MAX_TOOL_NAME, &format!("{at}.function.name")));
    }
    let Some(schema) = schema_value(f.get_mut("parameters").map(Value::take), false) else {
        return Err(invalid_type(&format!("{at}.function.parameters"), "a JSON Schema object"));
    };
    let mut spec = json!({ "name": name, "inputSchema": { "json": schema } });
    if let (Some(d), Some(obj)) =
        (f.get("description").and_then(Value::as_str).filter(|d| !d.is_empty()), spec.as_object_mut())
    {
        obj.insert("description".into(), json!(d));
    }
    Ok(json!({ "toolSpec": spec }))
}

/// `response_format` as Converse `outputConfig`: `json_schema` maps to `textFormat`, `text` is
/// the default, `json_object` has no Converse counterpart (it is refused rather than answered
/// with free text a client would then fail to parse). The schema goes as the client wrote it
/// (`raw`, when the body has it), its members in the client's order.
fn output_config(format: Option<&Value>, raw: Option<Json<'_>>) -> Result<Option<Value>, ApiError> {
    let Some(format) = format.filter(|f| !f.is_null()) else { return Ok(None) };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_schema") => {
            let js = format.get("json_schema").unwrap_or(&Value::Null);
            let schema = match js.get("schema") {
                Some(s @ Value::Object(_)) => {
                    raw.map_or_else(|| s.to_string(), |r| minified(r.get()).into_owned())
                }
                None | Some(Value::Null) => {
                    return Err(ApiError::invalid(
                        "missing_required_parameter",
                        Some("response_format.json_schema.schema"),
                        "response_format.json_schema.schema is required by this model's API",
                    ));
                }
                Some(_) => {
                    return Err(invalid_type("response_format.json_schema.schema", "a JSON Schema object"));
                }
            };
            let mut def = json!({ "schema": schema });
            for key in ["name", "description"] {
                if let (Some(v), Some(obj)) = (js.get(key).and_then(Value::as_str), def.as_object_mut()) {
                    obj.insert(key.into(), json!(v));
                }
            }
            Ok(Some(json!({ "textFormat": { "type": "json_schema", "structure": { "jsonSchema": def } } })))
        }
        other => Err(ApiError::invalid(
            "unsupported_value",
            Some("response_format.type"),
            format!(
                "response_format type {} is not supported by this model's API: use text, or json_schema with a model that takes structured output",
                echo(other.unwrap_or("(none)"))
            ),
        )),
    }
}

#[cfg(test)]
mod choice_tests;
#[cfg(test)]
mod id_tests;
#[cfg(test)]
mod inference_tests;
#[cfg(test)]
mod tests;

/// The tools written from the body's text against the value path.
#[cfg(test)]
mod tools_tests {
    use serde_json::{Value, json};

    use super::*;

    const TO: Native<'static> = Native {
        model: "us.amazon.nova-pro-v1:0",
        upstream_model: "us.amazon.nova-pro-v1:0",
        max_output: 8000,
        quirks: crate::catalog::Quirks::NONE,
    };

    #[test]
    fn tools_written_from_the_text_are_the_tools_written_from_values() {
        let text = |json: Json<'_>| {
            let TextTools { text, names } = tools_text(json)?;
            // The names are the ones written.
            let written: Value = serde_json::from_slice(&text).unwrap_or_default();
            let said: Vec<&str> = written
                .as_array()
                .map(|l| l.iter().filter_map(|t| t.get("toolSpec")?.get("name")?.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(said, names);
            Some(text)
        };
        crate::protocol::tools::check::text_path_agrees(13, text, |v| {
            let Value::Array(list) = v else { return None };
            let specs: Vec<Value> =
                list.into_iter().enumerate().map(|(k, t)| tool_spec(t, k)).collect::<Result<_, _>>().ok()?;
            serde_json::to_vec(&specs).ok()
        });
    }

    #[test]
    fn tools_either_path_writes_the_same_tool_config() {
        let [text, values] = crate::protocol::tools::check::both_paths(|b| translate(b, &TO));
        for v in [text, values] {
            let schema = json!({"type": "object", "properties": {"x": {"type": "number", "minimum": 0}}});
            let spec =
                json!({"toolSpec": {"name": "f", "description": "d", "inputSchema": {"json": schema}}});
            assert_eq!(v["toolConfig"], json!({"tools": [spec], "toolChoice": {"any": {}}}));
        }
    }
}
