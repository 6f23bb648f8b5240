//! Reasoning a provider signs or encrypts is bound to the model that wrote it. Anthropic answers
//! another model's signature with a 400 ("Invalid `signature` in `thinking` block"), on any
//! turn; OpenAI's encrypted reasoning is read only by the model that wrote it. The router may
//! send a conversation to another model (`auto` moved up a tier, a failover), so the value a
//! client gets (a Claude thinking block's signature, a redacted block's data, an OpenAI
//! reasoning item's `encrypted_content`) is tagged with its family and the catalog id of the
//! model that wrote it, and goes back untagged to that model only; another model's turn goes
//! without it, as a turn without that reasoning.

/// The families whose reasoning is carried: what starts a tagged value, then the model's
/// catalog id, `:`, and the provider's value (base64, which has no `:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Claude's signed thinking (`signature`, a redacted block's `data`).
    Claude,
    /// An OpenAI reasoning item's `encrypted_content`.
    OpenAi,
}

impl Family {
    fn tag(self) -> &'static str {
        match self {
            Family::Claude => "model-router:claude:",
            Family::OpenAi => "model-router:openai:",
        }
    }
}

/// `value` tagged with `family` and `model`.
pub(crate) fn tagged(family: Family, model: &str, value: &str) -> String {
    format!("{}{model}:{value}", family.tag())
}

/// What starts every tag: only the router writes it, so a value starting so that is not of
/// `model`'s family is no provider's.
const ROUTER: &str = "model-router:";

/// `value` as `model` takes it back: a tag of its own taken off, another model's (or another
/// family's) `None`; an untagged value (the client's own, from the provider) as it is.
pub(crate) fn for_model<'v>(family: Family, model: &str, value: &'v str) -> Option<&'v str> {
    match value.strip_prefix(family.tag()) {
        None if value.starts_with(ROUTER) => None,
        None => Some(value),
        Some(rest) => rest.rsplit_once(':').filter(|(m, _)| *m == model).map(|(_, v)| v),
    }
}

#[cfg(test)]
mod tests {
    use super::Family::{Claude, OpenAi};
    use super::{for_model, tagged};

    #[test]
    fn a_tagged_value_goes_back_to_its_own_model_only() {
        let t = tagged(Claude, "claude-opus-4-7", "EqQBCg+/=");
        assert_eq!(for_model(Claude, "claude-opus-4-7", &t), Some("EqQBCg+/="));
        assert_eq!(for_model(Claude, "claude-opus-4-6", &t), None);
        // A model id with `:` in it (a Bedrock-style id) still reads.
        let t = tagged(Claude, "anthropic.claude-x-v1:0", "c2ln");
        assert_eq!(for_model(Claude, "anthropic.claude-x-v1:0", &t), Some("c2ln"));
        assert_eq!(for_model(Claude, "claude-opus-4-7", "c2ln"), Some("c2ln"));
        let t = tagged(OpenAi, "gpt-5.3-codex", "gAAAAB_x-y=");
        assert_eq!(for_model(OpenAi, "gpt-5.3-codex", &t), Some("gAAAAB_x-y="));
        assert_eq!(for_model(OpenAi, "gpt-5.5", &t), None);
        // Another family's tag, or one the router never writes, is no provider's value.
        assert_eq!(for_model(Claude, "gpt-5.3-codex", &t), None);
        assert_eq!(for_model(OpenAi, "gpt-5.3-codex", "model-router:anthropic:gpt-5.3-codex:gAAAA"), None);
    }
}
