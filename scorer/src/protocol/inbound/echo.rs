//! What a Response object says it was asked: the request's own members, echoed as the API
//! echoes them; and what the answer needs of the request's translation (how its tools became
//! chat's, whether it asked for thought signatures).

use serde_json::{Map, Value};

/// What a Response object says it was asked (`instructions`, `tools`, `tool_choice`, …): the
/// request's own members, as the API echoes them. Members absent from the request keep the
/// defaults `answer::Head::object` writes; `store` is always `false` (the router stores nothing).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Echo {
    members: Map<String, Value>,
    /// The functions the request declared in a namespace: `(chat name, namespace, own name)`.
    pub(super) namespaced: Vec<(String, String, String)>,
    /// The custom tools the request declared (their chat names): chat calls them with their
    /// input as the one `input` string of their arguments.
    pub(super) custom: Vec<String>,
    /// Each chat tool's place in the request, where they differ (see `request::Chat`).
    pub(super) tool_paths: Vec<String>,
    /// The request asked for reasoning's encrypted content: a call's thought signature comes
    /// back in a reasoning item's (see `signature`).
    pub(super) signatures: bool,
    /// The request asked for reasoning summaries ([`Echo::summarized`]), read once.
    summary: bool,
}

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
        let said = |r: &Value, k: &str| {
            r.get(k).filter(|v| !v.is_null()).and_then(Value::as_str).map(str::to_string)
        };
        let reasoning = m.get("reasoning");
        let summary = reasoning.and_then(|r| said(r, "summary").or_else(|| said(r, "generate_summary")));
        let summary = summary.is_some_and(|s| s != "none");
        Echo { members: m, summary, ..Echo::default() }
    }

    /// Whether the request asked for log probabilities by `top_logprobs` (more than 0), not by
    /// `include` alone: what a refusal of chat's `logprobs` names.
    pub(super) fn asked_top_logprobs(&self) -> bool {
        self.members.get("top_logprobs").and_then(Value::as_f64).is_some_and(|n| n > 0.0)
    }

    /// Whether the request asked for reasoning summaries (`reasoning.summary` `auto`,
    /// `concise` or `detailed`): the model's reasoning then comes as its item's summary, which
    /// is what the AI SDK, LangChain and the Agents SDK show.
    pub(super) fn summarized(&self) -> bool {
        self.summary
    }

    /// The namespace and own name of the function chat knows as `chat_name`, when the
    /// request declared it in a namespace.
    pub(super) fn namespace_of(&self, chat_name: &str) -> Option<(&str, &str)> {
        let (_, ns, own) = self.namespaced.iter().find(|(chat, _, _)| chat == chat_name)?;
        Some((ns, own))
    }

    /// Whether the function chat knows as `chat_name` is a custom tool of the request's.
    pub(super) fn is_custom(&self, chat_name: &str) -> bool {
        self.custom.iter().any(|c| c == chat_name)
    }

    /// The place in the request of chat tool `n`: `tools[n]` unless a namespace or a tool
    /// left out moved it.
    pub(super) fn tool_path(&self, n: usize) -> String {
        self.tool_paths.get(n).cloned().unwrap_or_else(|| format!("tools[{n}]"))
    }

    /// Writes the echoed members over `object`'s.
    pub(super) fn over(&self, object: &mut Value) {
        if let Some(o) = object.as_object_mut() {
            o.extend(self.members.clone());
        }
    }
}
