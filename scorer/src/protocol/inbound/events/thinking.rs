//! Carried reasoning in a stream (Claude's signed thinking, an OpenAI model's encrypted
//! reasoning): kept by its reasoning item, for the item's encrypted content (`signature`).

use serde_json::{Value, json};

use super::{Events, Kind};
use crate::protocol::inbound::signature;

impl Events {
    /// A `thinking_blocks` entry: kept by the reasoning item its text went to (one is opened
    /// when none is current, its text omitted), for the item's encrypted content. Claude's
    /// thinking block with that text since the last block; an OpenAI reasoning entry as it
    /// came.
    pub(super) fn signed(&mut self, block: &Value, out: &mut Vec<u8>) {
        let s = |k: &str| block.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let reasoning = s("type") == Some("reasoning") && s("encrypted_content").is_some();
        if !reasoning
            && !matches!(
                (s("type"), s("signature"), s("data")),
                (Some("thinking"), Some(_), _) | (Some("redacted_thinking"), _, Some(_))
            )
        {
            return;
        }
        let current =
            self.current.filter(|at| self.items.get(*at).is_some_and(|i| i.kind == Kind::Reasoning));
        let at = match current {
            Some(at) => at,
            None => {
                self.close_current(out);
                let at = self.open(Kind::Reasoning, out);
                self.current = Some(at);
                at
            }
        };
        let Some(item) = self.items.get_mut(at) else { return };
        let carried = match (s("type"), s("signature"), s("data")) {
            (Some("reasoning"), ..) => signature::without_index(block),
            (Some("thinking"), Some(signature), _) => {
                let said = item.text.get(item.thinking_from..).unwrap_or_default();
                let text = block.get("thinking").and_then(Value::as_str).unwrap_or(said);
                json!({"type": "thinking", "thinking": text, "signature": signature})
            }
            (_, _, Some(data)) => json!({"type": "redacted_thinking", "data": data}),
            _ => return,
        };
        item.thinking.push(carried);
        item.thinking_from = item.text.len();
    }
}
