//! Claude's signed thinking is bound to the model that wrote it: Anthropic answers another
//! model's signature with a 400 ("Invalid `signature` in `thinking` block"), on any turn, and
//! the router may send a conversation to another Claude (`auto` moved up a tier, a failover).
//! So the signature (a redacted block's data) a client gets is tagged with the catalog id of
//! the model that wrote it, and goes back untagged to that model only; another model's turn
//! goes without it, as a turn without signed thinking.

/// What starts a tagged signature: then the model's catalog id, `:`, and Anthropic's value
/// (base64, which has no `:`).
const TAG: &str = "model-router:claude:";

/// `value` (a thinking block's signature, a redacted block's data) tagged with `model`.
pub(crate) fn tagged(model: &str, value: &str) -> String {
    format!("{TAG}{model}:{value}")
}

/// `value` as `model` takes it back: a tag of its own taken off, another model's `None`; an
/// untagged value (the client's own, from Anthropic) as it is.
pub(crate) fn for_model<'v>(model: &str, value: &'v str) -> Option<&'v str> {
    match value.strip_prefix(TAG) {
        None => Some(value),
        Some(rest) => rest.rsplit_once(':').filter(|(m, _)| *m == model).map(|(_, v)| v),
    }
}

#[cfg(test)]
mod tests {
    use super::{for_model, tagged};

    #[test]
    fn a_tagged_value_goes_back_to_its_own_model_only() {
        let t = tagged("claude-opus-4-7", "EqQBCg+/=");
        assert_eq!(for_model("claude-opus-4-7", &t), Some("EqQBCg+/="));
        assert_eq!(for_model("claude-opus-4-6", &t), None);
        // A model id with `:` in it (a Bedrock-style id) still reads.
        let t = tagged("anthropic.claude-x-v1:0", "c2ln");
        assert_eq!(for_model("anthropic.claude-x-v1:0", &t), Some("c2ln"));
        assert_eq!(for_model("claude-opus-4-7", "c2ln"), Some("c2ln"));
    }
}
