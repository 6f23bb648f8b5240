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
        // What each kind carries, without which it is no entry.
        let (kind, carries) = match s("type") {
            Some(k @ "thinking") => (k, s("signature")),
            Some(k @ "redacted_thinking") => (k, s("data")),
            Some(k @ "reasoning") => (k, s("encrypted_content")),
            _ => return,
        };
        let Some(carries) = carries else { return };
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
        let carried = match kind {
            "thinking" => {
                let said = item.text.get(item.thinking_from..).unwrap_or_default();
                let text = block.get("thinking").and_then(Value::as_str).unwrap_or(said);
                json!({"type": "thinking", "thinking": text, "signature": carries})
            }
            "redacted_thinking" => json!({"type": "redacted_thinking", "data": carries}),
            _ => signature::without_index(block),
        };
        item.thinking.push(carried);
        item.thinking_from = item.text.len();
    }
}
