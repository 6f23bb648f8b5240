//! What a Response object says it was asked: the request's own members, echoed as the API
//! echoes them.

use serde_json::{Map, Value};

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

    /// Writes the echoed members over `object`'s.
    pub(super) fn over(&self, object: &mut Value) {
        if let Some(o) = object.as_object_mut() {
            o.extend(self.0.clone());
        }
    }
}
