//! What a Response object says it was asked: the request's own members, echoed as the API
//! echoes them.

use serde_json::{Map, Value};

/// What joins a namespace's name and one of its functions' into the one name chat knows:
/// `crm__lookup` (chat names take letters, digits, `_` and `-` only).
const JOIN: &str = "__";

/// The longest tool name chat-completions APIs take (OpenAI's limit; Gemini's too).
pub(crate) const MAX_NAME: usize = 64;

/// The name chat knows a namespace's function by.
pub(crate) fn joined(namespace: &str, name: &str) -> String {
    format!("{namespace}{JOIN}{name}")
}

/// What a Response object says it was asked (`instructions`, `tools`, `tool_choice`, …): the
/// request's own members, as the API echoes them. Members absent from the request keep the
/// defaults `answer::Head::object` writes; `store` is always `false` (the router stores nothing).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Echo(Map<String, Value>);

impl Echo {
    /// The request members a Response echoes.
    pub(crate) const MEMBERS: [&str; 17] = [
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "parallel_tool_calls",
        "prompt_cache_key",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    ];

    /// The echo of a request's non-null [`Echo::MEMBERS`], given as an object.
    pub(super) fn of(members: Value) -> Self {
        let Value::Object(mut m) = members else { return Echo::default() };
        m.retain(|k, v| Echo::MEMBERS.contains(&k.as_str()) && !v.is_null());
        Echo(m)
    }

    /// The namespace and own name of the function chat knows as `chat_name`, when the
    /// request declared it in a namespace (see [`joined`]).
    pub(super) fn namespace_of<'a>(&'a self, chat_name: &'a str) -> Option<(&'a str, &'a str)> {
        let tools = self.0.get("tools")?.as_array()?;
        tools.iter().filter(|t| t.get("type").and_then(Value::as_str) == Some("namespace")).find_map(|t| {
            let ns = t.get("name")?.as_str()?;
            let name = chat_name.strip_prefix(ns)?.strip_prefix(JOIN)?;
            let inner = t.get("tools")?.as_array()?;
            inner.iter().any(|f| f.get("name").and_then(Value::as_str) == Some(name)).then_some((ns, name))
        })
    }

    /// Writes the echoed members over `object`'s.
    pub(super) fn over(&self, object: &mut Value) {
        if let Some(o) = object.as_object_mut() {
            o.extend(self.0.clone());
        }
    }
}
