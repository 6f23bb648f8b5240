//! A chat completion to a Response object, and the parts of one that the stream's
//! `response.*` events repeat (ids, output items, usage, the object around them).
//!
//! Choice 0 is the answer (the request translator never asks for more): its reasoning becomes
//! a `reasoning` item with `reasoning_text` content, its text (or refusal) one assistant
//! `message` item, each tool call a `function_call` item (a signed one after a reasoning item
//! carrying its thought signature, complete whatever became of the answer, as a stream tells
//! it: `signature`), in that order. `finish_reason`
//! `length` makes the response `incomplete` (`max_output_tokens`), `content_filter` too
//! (`content_filter`). The router's `cost` stays in `usage`.

use serde_json::{Map, Value, json};

pub use super::echo::Echo;
use super::request::CHAT_NAMES;
use super::signature;
use crate::parse::messages::THINKING_BLOCKS;

/// The Response's ids, drawn from the completion's (`chatcmpl-X` → `resp_X`, `msg_X`, …), so
/// a whole answer and its stream name their parts alike.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ids {
    /// The completion id without its `chatcmpl-` prefix.
    stem: String,
}

impl Ids {
    /// The ids of a completion's parts. Only letters, digits, `_` and `-` are kept, 64 at
    /// most: a translated answer's id comes from the request id, which a client can send.
    pub(crate) fn of(chat_id: &str) -> Self {
        let stem = chat_id.strip_prefix("chatcmpl-").unwrap_or(chat_id);
        let keep = |c: &char| c.is_ascii_alphanumeric() || *c == '_' || *c == '-';
        Ids { stem: stem.chars().filter(keep).take(64).collect() }
    }
    /// What the ids are drawn from (the Messages answer's are too: `msg_X`, `toolu_X_n`).
    pub(crate) fn stem(&self) -> &str {
        &self.stem
    }
    /// The `n`th id of a kind: `base` for the first, `base_n` after.
    pub(super) fn nth(&self, base: String, n: usize) -> String {
        if n == 0 { base } else { format!("{base}_{n}") }
    }
    pub(super) fn response(&self) -> String {
        format!("resp_{}", self.stem)
    }
    pub(super) fn message(&self) -> String {
        format!("msg_{}", self.stem)
    }
    pub(super) fn reasoning(&self) -> String {
        format!("rs_{}", self.stem)
    }
    /// The `n`th function call's item id.
    pub(super) fn call(&self, n: usize) -> String {
        format!("fc_{}_{n}", self.stem)
    }
    /// A call id for a tool call the provider gave none.
    pub(super) fn call_id(&self, n: usize) -> String {
        format!("call_{}_{n}", self.stem)
    }
}

/// A `chat.completion` as a Response object; `None` for any other body (an error object
/// passes as it is: both APIs answer errors alike).
pub fn to_response(chat: &[u8], echo: &Echo) -> Option<Vec<u8>> {
    let v: Value = serde_json::from_slice(chat).ok()?;
    if v.get("object").and_then(Value::as_str) != Some("chat.completion") {
        return None;
    }
    let ids = Ids::of(v.get("id").and_then(Value::as_str).unwrap_or_default());
    let choice = v.get("choices").and_then(|c| c.get(0));
    let message = choice.and_then(|c| c.get("message"));
    let text = |k: &str| message.and_then(|m| m.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut output = Vec::new();
    let finish = choice.and_then(|c| c.get("finish_reason")).and_then(Value::as_str);
    let (status, incomplete) = ending(finish);
    let done = if status == "completed" { "completed" } else { "incomplete" };
    // Carried thinking (Claude's signed thinking, an OpenAI model's encrypted reasoning)
    // rides in the reasoning item's encrypted content, when the client asked for it
    // (`signature`).
    let signed = message.and_then(|m| m.get(THINKING_BLOCKS)).and_then(Value::as_array);
    let signed = signed.filter(|b| echo.signatures && !b.is_empty());
    let reasoning = text("reasoning_content").or_else(|| text("reasoning"));
    if reasoning.is_some() || signed.is_some() {
        let mut item =
            reasoning_item(&ids.reasoning(), reasoning.unwrap_or_default(), done, echo.summarized());
        if let Some(blocks) = signed {
            set(&mut item, "encrypted_content", json!(signature::thinking_carried(blocks)));
        }
        output.push(item);
    }
    // Text and a refusal are two message items, as a stream tells them.
    let parts = [text("content").map(|t| text_part(t, logprobs(choice))), text("refusal").map(refusal_part)];
    for (n, part) in parts.into_iter().flatten().enumerate() {
        output.push(message_item(&ids.nth(ids.message(), n), vec![part], done));
    }
    let calls = message.and_then(|m| m.get("tool_calls")).and_then(Value::as_array);
    for (n, call) in calls.into_iter().flatten().enumerate() {
        let f = call.get("function");
        let s =
            |v: Option<&Value>, k: &str| v.and_then(|v| v.get(k)).and_then(Value::as_str).map(str::to_string);
        // An empty id is none (Gemini's, through some proxies): the client's next turn needs one.
        let call_id = s(Some(call), "id").filter(|id| !id.is_empty()).unwrap_or_else(|| ids.call_id(n));
        if let Some(signature) = signature::of_call(call).filter(|_| echo.signatures) {
            let k =
                output.iter().filter(|o| o.get("type").and_then(Value::as_str) == Some("reasoning")).count();
            output.push(signature::item(&ids.nth(ids.reasoning(), k), &call_id, signature, "completed"));
        }
        let name = s(f, "name").unwrap_or_default();
        let arguments = s(f, "arguments").unwrap_or_default();
        output.push(call_item(&ids.call(n), &call_id, &name, &arguments, done, echo));
    }
    let head = Head {
        echo,
        ids: &ids,
        created: v.get("created").and_then(Value::as_u64).unwrap_or_default(),
        model: v.get("model").and_then(Value::as_str).unwrap_or_default(),
    };
    // A provider's own `cost` would read as the router's: a whole answer's is in the
    // `X-Model-Router-Cost` header.
    let usage = v.get("usage").filter(|u| u.is_object()).map(|u| {
        let mut u = usage(u);
        if let Some(o) = u.as_object_mut() {
            o.remove("cost");
        }
        u
    });
    let object = head.object(status, output, usage, incomplete, Value::Null);
    serde_json::to_vec(&object).ok()
}

/// An OpenAI error body with its `param`, and the member names in its message, as a Responses
/// client wrote them (`messages[2].content` is `input`: the items are not one to one);
/// `None` for any other body, or one naming nothing to rename.
pub fn renamed_error(body: &[u8], echo: &Echo) -> Option<Vec<u8>> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    let error = v.get_mut("error")?.as_object_mut()?;
    let mut changed = false;
    let mut tool = None;
    if let Some(Value::String(param)) = error.get_mut("param") {
        let head = param.split(['.', '[']).next().unwrap_or_default();
        let in_schema = param
            .strip_prefix("response_format.json_schema.schema")
            .filter(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            .map(|rest| format!("text.format.schema{rest}"));
        if head == "logprobs" {
            // Asked for by `top_logprobs` or `include`: chat's flag has no Responses name.
            *param = if echo.asked_top_logprobs() { "top_logprobs" } else { "include" }.to_string();
            changed = true;
        } else if let Some(renamed) = in_schema {
            // A member of the schema, where it stands in the client's.
            *param = renamed;
            changed = true;
        } else if let Some((_, to)) = CHAT_NAMES.iter().find(|(from, _)| *from == head) {
            *param = (*to).to_string();
            changed = true;
        } else if let Some(renamed) = tool_param(param, echo).filter(|r| r != param) {
            tool = Some((std::mem::replace(param, renamed.clone()), renamed));
            changed = true;
        }
    }
    if let Some(Value::String(message)) = error.get_mut("message") {
        // A tool's place said in the message too ("Invalid 'tools[0].function.name'").
        if let Some((from, to)) = &tool {
            *message = message.replace(from.as_str(), to);
        }
        for (from, to) in CHAT_NAMES.iter().filter(|(from, _)| *from != "messages") {
            if message.contains(from) {
                *message = message.replace(from, to);
                changed = true;
            }
        }
    }
    if !changed {
        return None;
    }
    serde_json::to_vec(&v).ok()
}

/// A chat param about a tool or the tool choice as the client wrote it: `tools[1].function.name`
/// was `tools[1].name`, and chat's tool 1 may stand elsewhere in the request (`tools[0].tools[1]`:
/// a namespace's function); `tool_choice.function.name` was `tool_choice.name`, and
/// `tool_choice.allowed_tools.tools[0]` was `tool_choice.tools[0]`.
fn tool_param(param: &str, echo: &Echo) -> Option<String> {
    if let Some((n, rest)) = param.strip_prefix("tools[").and_then(|r| r.split_once(']')) {
        let at = n.parse().map_or_else(|_| format!("tools[{n}]"), |n| echo.tool_path(n));
        return Some(format!("{at}{}", rest.strip_prefix(".function").unwrap_or(rest)));
    }
    let rest = param.strip_prefix("tool_choice")?;
    let rest = rest.strip_prefix(".allowed_tools").unwrap_or(rest);
    Some(format!("tool_choice{}", rest.replace(".function.", ".")))
}

/// What every Response object of one answer repeats.
#[derive(Debug, Clone, Copy)]
pub(super) struct Head<'a> {
    pub(super) echo: &'a Echo,
    pub(super) ids: &'a Ids,
    /// Unix seconds.
    pub(super) created: u64,
    pub(super) model: &'a str,
}

impl Head<'_> {
    /// The Response object. `incomplete`: the reason an `incomplete` one stopped.
    pub(super) fn object(
        &self,
        status: &str,
        output: Vec<Value>,
        usage: Option<Value>,
        incomplete: Option<&str>,
        error: Value,
    ) -> Value {
        let mut object = json!({
            "id": self.ids.response(),
            "object": "response",
            "created_at": self.created,
            "status": status,
            "error": error,
            "incomplete_details": incomplete.map(|r| json!({"reason": r})),
            "instructions": null,
            "max_output_tokens": null,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null},
            "store": false,
            "temperature": null,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": null,
            "truncation": "disabled",
            "metadata": {},
        });
        self.echo.over(&mut object);
        // Absent until counted: the spec's `usage` is an object, never `null`.
        if let (Some(u), Some(o)) = (usage, object.as_object_mut()) {
            o.insert("usage".into(), u);
        }
        object
    }
}

/// The Response status and incomplete reason for a chat `finish_reason`.
pub(super) fn ending(finish: Option<&str>) -> (&'static str, Option<&'static str>) {
    match crate::account::openai_finish(finish) {
        Some("length") => ("incomplete", Some("max_output_tokens")),
        Some("content_filter") => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

/// The error a stream ends with when an event's data is not JSON: part of the answer is lost.
pub fn malformed_chunk() -> Value {
    json!({
        "message": "the provider's stream sent an event whose data is not JSON: the answer is incomplete",
        "type": "server_error", "param": null, "code": "bad_upstream_response",
    })
}

/// Chat usage in Responses terms; the router's `cost` is kept.
pub(super) fn usage(chat: &Value) -> Value {
    let n = |path: &[&str]| {
        let mut at = Some(chat);
        for k in path {
            at = at.and_then(|v| v.get(*k));
        }
        at.and_then(Value::as_u64).unwrap_or_default()
    };
    // Reasoning a provider counts outside `completion_tokens` (xAI's, Gemini's) is in the
    // total: output, which in Responses' terms holds the reasoning.
    let input = n(&["prompt_tokens"]);
    let output = n(&["completion_tokens"]).max(n(&["total_tokens"]).saturating_sub(input));
    let mut u = Map::new();
    u.insert("input_tokens".into(), input.into());
    u.insert(
        "input_tokens_details".into(),
        json!({
            "cached_tokens": n(&["prompt_tokens_details", "cached_tokens"]),
            "cache_write_tokens": n(&["prompt_tokens_details", "cache_write_tokens"]),
        }),
    );
    u.insert("output_tokens".into(), output.into());
    u.insert(
        "output_tokens_details".into(),
        json!({"reasoning_tokens": n(&["completion_tokens_details", "reasoning_tokens"])}),
    );
    let total = || input.saturating_add(output).into();
    u.insert("total_tokens".into(), chat.get("total_tokens").cloned().unwrap_or_else(total));
    if let Some(cost) = chat.get("cost") {
        u.insert("cost".into(), cost.clone());
    }
    Value::Object(u)
}

/// A chat choice's token log probabilities (`logprobs.content`): Responses writes them in the
/// same shape (`token`, `logprob`, `bytes`, `top_logprobs`).
pub(super) fn logprobs(choice: Option<&Value>) -> Vec<Value> {
    let content = choice.and_then(|c| c.get("logprobs")).and_then(|l| l.get("content"));
    content.and_then(Value::as_array).cloned().unwrap_or_default()
}

pub(super) fn text_part(text: &str, logprobs: Vec<Value>) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs})
}

pub(super) fn refusal_part(refusal: &str) -> Value {
    json!({"type": "refusal", "refusal": refusal})
}

pub(super) fn message_item(id: &str, content: Vec<Value>, status: &str) -> Value {
    json!({"id": id, "type": "message", "status": status, "role": "assistant", "content": content})
}

/// A `reasoning` item: its text as the item's summary (`summary_text`) when the request asked
/// for one ([`Echo::summarized`]), else as its `reasoning_text` content.
pub(super) fn reasoning_item(id: &str, text: &str, status: &str, summarized: bool) -> Value {
    let kind = if summarized { "summary_text" } else { "reasoning_text" };
    let said = if text.is_empty() { json!([]) } else { json!([{"type": kind, "text": text}]) };
    if summarized {
        return json!({"id": id, "type": "reasoning", "status": status, "summary": said});
    }
    json!({"id": id, "type": "reasoning", "status": status, "summary": [], "content": said})
}

/// A `function_call` item; a function the request declared in a namespace is named as it was
/// there, with its `namespace`; a custom tool's call is a `custom_tool_call` with its input.
pub(super) fn call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
    echo: &Echo,
) -> Value {
    if echo.is_custom(name) {
        return json!({
            "id": id, "type": "custom_tool_call", "status": status,
            "call_id": call_id, "name": name, "input": custom_input(arguments),
        });
    }
    let mut item = json!({
        "id": id, "type": "function_call", "status": status,
        "call_id": call_id, "name": name, "arguments": arguments,
    });
    if let Some((namespace, name)) = echo.namespace_of(name) {
        set(&mut item, "namespace", json!(namespace));
        set(&mut item, "name", json!(name));
    }
    item
}

/// A custom tool's input from the arguments chat called its function with: their `input`
/// string (`tools::custom` declares it so, and a model may add members beside it), or a JSON
/// string the model sent in their place; arguments of any other shape as they came, the
/// model's text rather than nothing.
pub(super) fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(mut o)) => match o.remove("input") {
            Some(Value::String(input)) => input,
            _ => arguments.to_string(),
        },
        Ok(Value::String(input)) => input,
        _ => arguments.to_string(),
    }
}

/// Sets `key` of an object (nothing for any other value).
pub(super) fn set(object: &mut Value, key: &str, value: Value) {
    if let Some(o) = object.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}

/// A whole `chat.completion` as the chunks that would have streamed it; `None` for any other
/// body.
pub(crate) fn as_chunks(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    // Some OpenAI-compatible providers leave `object` out of a completion.
    match v.get("object").and_then(Value::as_str) {
        Some("chat.completion") => {}
        None if v.get("choices").is_some_and(Value::is_array) => {}
        _ => return None,
    }
    let head = |choices: Value| {
        json!({"id": v.get("id"), "object": "chat.completion.chunk", "created": v.get("created"),
               "model": v.get("model"), "choices": choices})
    };
    let choice = v.get("choices").and_then(|c| c.get(0));
    let mut delta = choice.and_then(|c| c.get("message")).cloned().unwrap_or_else(|| json!({}));
    if let Some(calls) = delta.get_mut("tool_calls").and_then(Value::as_array_mut) {
        for (n, call) in calls.iter_mut().enumerate() {
            set(call, "index", json!(n));
        }
    }
    let finish = choice.and_then(|c| c.get("finish_reason")).cloned().unwrap_or(Value::Null);
    let logprobs = choice.and_then(|c| c.get("logprobs")).cloned().unwrap_or(Value::Null);
    let first = json!([{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]);
    let mut stream = format!("data: {}\n\n", head(first));
    if let Some(u) = v.get("usage") {
        let mut last = head(json!([]));
        set(&mut last, "usage", u.clone());
        stream.push_str(&format!("data: {last}\n\n"));
    }
    stream.push_str("data: [DONE]\n\n");
    Some(stream)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{Echo, to_response};

    fn response(chat: Value) -> Value {
        let out = to_response(chat.to_string().as_bytes(), &Echo::default())
            .unwrap_or_else(|| panic!("not converted: {chat}"));
        serde_json::from_slice(&out).unwrap_or_default()
    }

    fn completion(message: Value, finish: &str) -> Value {
        json!({
            "id": "chatcmpl-abc", "object": "chat.completion", "created": 1_700_000_000u64, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14, "cost": 0.25,
                      "prompt_tokens_details": {"cached_tokens": 3},
                      "completion_tokens_details": {"reasoning_tokens": 2}},
        })
    }

    #[test]
    fn text_becomes_one_message_item_with_usage_in_responses_terms() {
        let r = response(completion(json!({"role": "assistant", "content": "hi"}), "stop"));
        assert_eq!(
            (&r["id"], &r["object"], &r["status"], &r["model"]),
            (&json!("resp_abc"), &json!("response"), &json!("completed"), &json!("m"))
        );
        assert_eq!(r["created_at"], json!(1_700_000_000u64));
        assert_eq!(
            r["output"],
            json!([{"id": "msg_abc", "type": "message", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "hi", "annotations": [], "logprobs": []}]}])
        );
        assert_eq!(
            r["usage"],
            json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 0}, "output_tokens": 4,
                   "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 14})
        );
        assert_eq!((&r["error"], &r["incomplete_details"]), (&Value::Null, &Value::Null));
    }

    /// Reasoning a provider counts outside `completion_tokens`, in the total only (xAI's), is
    /// output: Responses' output holds the reasoning it details.
    #[test]
    fn reasoning_outside_the_completion_count_is_output() {
        let xai = json!({"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 2256,
                         "completion_tokens_details": {"reasoning_tokens": 1206}});
        let u = super::usage(&xai);
        assert_eq!((&u["output_tokens"], &u["total_tokens"]), (&json!(1256), &json!(2256)));
        assert_eq!(u["output_tokens_details"]["reasoning_tokens"], 1206);
        // Reasoning inside the count (OpenAI's): as it was.
        let openai = json!({"prompt_tokens": 10, "completion_tokens": 40, "total_tokens": 50,
                            "completion_tokens_details": {"reasoning_tokens": 30}});
        assert_eq!(super::usage(&openai)["output_tokens"], 40);
        // Counts without a total, too large to add, are no panic (the build checks overflow).
        let huge = json!({"prompt_tokens": u64::MAX - 1, "completion_tokens": 9});
        assert_eq!(super::usage(&huge)["total_tokens"], json!(u64::MAX));
    }

    #[test]
    fn reasoning_then_text_then_tool_calls_in_order() {
        let m = json!({"role": "assistant", "content": "checking", "reasoning_content": "think",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}},
                {"type": "function", "function": {"name": "b", "arguments": "{}"}}]});
        let r = response(completion(m, "tool_calls"));
        let types: Vec<&Value> = r["output"].as_array().into_iter().flatten().map(|i| &i["type"]).collect();
        assert_eq!(
            types,
            [&json!("reasoning"), &json!("message"), &json!("function_call"), &json!("function_call")]
        );
        assert_eq!(r["output"][0]["content"], json!([{"type": "reasoning_text", "text": "think"}]));
        assert_eq!(
            r["output"][2],
            json!({"id": "fc_abc_0", "type": "function_call", "status": "completed", "call_id": "call_1",
                   "name": "a", "arguments": "{\"x\":1}"})
        );
        // A provider that gave no call id gets one: the client answers the call by it.
        assert_eq!(
            (&r["output"][3]["call_id"], &r["output"][3]["name"]),
            (&json!("call_abc_1"), &json!("b"))
        );
        assert_eq!(r["status"], json!("completed"));
    }

    #[test]
    fn a_cut_answer_is_incomplete_and_a_refusal_is_a_refusal_part() {
        let r = response(completion(json!({"role": "assistant", "content": "par"}), "length"));
        assert_eq!(
            (&r["status"], &r["incomplete_details"]),
            (&json!("incomplete"), &json!({"reason": "max_output_tokens"}))
        );
        let r = response(completion(json!({"role": "assistant", "content": null, "refusal": "no"}), "stop"));
        assert_eq!(r["output"][0]["content"], json!([{"type": "refusal", "refusal": "no"}]));
        let r = response(completion(json!({"role": "assistant", "content": ""}), "content_filter"));
        assert_eq!(
            (&r["output"], &r["incomplete_details"]["reason"]),
            (&json!([]), &json!("content_filter"))
        );
        // Gemini's own names, as its OpenAI layer passes them on: not a normal end.
        for (finish, reason) in [
            ("SAFETY", "content_filter"),
            ("IMAGE_SAFETY", "content_filter"),
            ("MAX_TOKENS", "max_output_tokens"),
        ] {
            let r = response(completion(json!({"role": "assistant", "content": ""}), finish));
            assert_eq!(
                (&r["status"], &r["incomplete_details"]["reason"]),
                (&json!("incomplete"), &json!(reason))
            );
        }
    }

    #[test]
    fn token_log_probabilities_are_carried_in_the_text_part() {
        let lp = json!([{"token": "hi", "logprob": -0.5, "bytes": [104, 105], "top_logprobs": []}]);
        let mut c = completion(json!({"role": "assistant", "content": "hi"}), "stop");
        c["choices"][0]["logprobs"] = json!({"content": lp.clone()});
        assert_eq!(response(c)["output"][0]["content"][0]["logprobs"], lp);
    }

    #[test]
    fn the_response_echoes_what_it_was_asked() {
        let request = json!({"model": "economy", "input": "hi", "instructions": "be brief", "store": true,
            "tools": [{"type": "function", "name": "f", "parameters": {}}], "tool_choice": "required",
            "temperature": null, "metadata": {"k": "v"}, "max_output_tokens": 99});
        let echo = crate::protocol::inbound::request::to_chat(request.to_string().as_bytes(), &[])
            .map(|c| c.echo)
            .unwrap_or_default();
        let chat = completion(json!({"role": "assistant", "content": "hi"}), "stop");
        let out = to_response(chat.to_string().as_bytes(), &echo).unwrap_or_default();
        let r: Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(
            (&r["instructions"], &r["tool_choice"], &r["max_output_tokens"]),
            (&json!("be brief"), &json!("required"), &json!(99))
        );
        assert_eq!((&r["tools"][0]["name"], &r["metadata"]), (&json!("f"), &json!({"k": "v"})));
        // Nothing is stored whatever was asked; a null keeps the default.
        assert_eq!((&r["store"], &r["temperature"], &r["model"]), (&json!(false), &Value::Null, &json!("m")));
    }

    #[test]
    fn a_call_of_a_namespaced_function_names_its_namespace() {
        let request = json!({"model": "economy", "input": "hi", "tools": [
            {"type": "function", "name": "plain"},
            {"type": "namespace", "name": "crm", "description": "d", "tools": [{"type": "function", "name": "lookup"}]}]});
        let echo = crate::protocol::inbound::request::to_chat(request.to_string().as_bytes(), &[])
            .map(|c| c.echo)
            .unwrap_or_default();
        let call = |id: &str, name: &str| json!({"id": id, "type": "function", "function": {"name": name, "arguments": "{}"}});
        let chat = completion(
            json!({"role": "assistant", "content": null, "tool_calls": [call("c1", "crm__lookup"), call("c2", "plain"), call("c3", "crm__other")]}),
            "tool_calls",
        );
        let r: Value =
            serde_json::from_slice(&to_response(chat.to_string().as_bytes(), &echo).unwrap_or_default())
                .unwrap_or_default();
        let named: Vec<_> =
            r["output"].as_array().into_iter().flatten().map(|o| (&o["namespace"], &o["name"])).collect();
        assert_eq!(
            named,
            [
                (&json!("crm"), &json!("lookup")),
                (&Value::Null, &json!("plain")),
                (&Value::Null, &json!("crm__other"))
            ]
        );
    }

    #[test]
    fn errors_name_the_members_the_client_sent() {
        let e = |param: &str, message: &str| {
            json!({"error": {"message": message, "type": "invalid_request_error", "param": param, "code": "x"}})
                .to_string()
        };
        let renamed = |b: String| {
            let v: Value = super::renamed_error(b.as_bytes(), &Echo::default())
                .and_then(|r| serde_json::from_slice(&r).ok())
                .unwrap_or_default();
            (v["error"]["param"].clone(), v["error"]["message"].clone())
        };
        assert_eq!(
            renamed(e("max_completion_tokens", "max_completion_tokens must be at least 1")),
            (json!("max_output_tokens"), json!("max_output_tokens must be at least 1"))
        );
        assert_eq!(renamed(e("messages[2].content[1].type", "bad part")).0, json!("input"));
        assert_eq!(renamed(e("tools[1].function.parameters", "bad schema")).0, json!("tools[1].parameters"));
        assert_eq!(renamed(e("response_format.json_schema", "m")).0, json!("text.format"));
        assert_eq!(
            renamed(e("response_format.json_schema.schema.properties.n.minimum", "m")).0,
            json!("text.format.schema.properties.n.minimum")
        );
        assert_eq!(renamed(e("logprobs", "no log probabilities")).0, json!("include"));
        let top =
            super::renamed_error(e("logprobs", "m").as_bytes(), &Echo::of(json!({"top_logprobs": 2.0})));
        let top: Value = top.and_then(|r| serde_json::from_slice(&r).ok()).unwrap_or_default();
        assert_eq!(top["error"]["param"], "top_logprobs");
        assert_eq!(super::renamed_error(e("temperature", "too hot").as_bytes(), &Echo::default()), None);
        assert_eq!(super::renamed_error(b"not json", &Echo::default()), None);
    }

    #[test]
    fn anything_but_a_completion_passes_as_it_is() {
        for body in [
            r#"{"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}}"#,
            "not json",
            "[]",
        ] {
            assert_eq!(to_response(body.as_bytes(), &Echo::default()), None, "{body}");
        }
    }
}
