//! A stream's tool calls: which call a delta continues, each held to the end of the answer
//! and written whole.

use serde_json::{Value, json};

use super::{Block, Call, Events, emit};
use crate::protocol::inbound::signature;
use crate::protocol::inbound_messages::answer;

impl Events {
    /// A chat tool-call delta: to the call with its `id`, or (without one) the last call
    /// under its `index`; every call is held to the end.
    pub(super) fn call_delta(&mut self, call: &Value) {
        let index = call.get("index").and_then(Value::as_u64);
        let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let f = call.get("function");
        // An id that comes after the call's first delta continues it, and the call takes it.
        let found = self.found.find(id, index, |n| self.calls.get(n).is_some_and(|c| c.guessed_id));
        let n = match found {
            Some(n) => n,
            None => {
                let ids = self.ids.clone().unwrap_or_default();
                let guessed = answer::tool_use_id(&ids, self.calls.len());
                let n = self.calls.len();
                self.found.opening(n, index, id.unwrap_or(&guessed));
                self.calls.push(Call {
                    id: id.map_or(guessed, str::to_string),
                    guessed_id: id.is_none(),
                    name: String::new(),
                    held: String::new(),
                    signature: None,
                });
                self.calls.len() - 1
            }
        };
        let name = f.and_then(|f| f.get("name")).and_then(Value::as_str).filter(|s| !s.is_empty());
        let piece = f.and_then(|f| f.get("arguments")).and_then(Value::as_str).unwrap_or_default();
        let signed = signature::of_call(call).map(str::to_string);
        let Some(call) = self.calls.get_mut(n) else { return };
        if call.signature.is_none() {
            call.signature = signed;
        }
        if let (Some(id), true) = (id, call.guessed_id) {
            let guessed = std::mem::replace(&mut call.id, id.to_string());
            call.guessed_id = false;
            self.found.renamed(n, &guessed, id);
        }
        // A name that comes after the call's first delta.
        if let Some(name) = name.filter(|_| call.name.is_empty()) {
            call.name = name.to_string();
        }
        // Held whole to the end: a provider may interleave parallel calls' arguments, or text
        // with them, where a Messages block cannot be reopened once another has started.
        call.held.push_str(piece);
    }

    /// Stops the open block and writes the held calls, each whole (at the answer's end).
    pub(super) fn settle(&mut self, out: &mut Vec<u8>) {
        self.stop(out);
        for n in 0..self.calls.len() {
            let Some(call) = self.calls.get_mut(n) else { continue };
            let held = std::mem::take(&mut call.held);
            if let Some(signature) = call.signature.take() {
                let block = answer::signed_block(&call.id, &signature);
                self.open_block(Block::Signed, block, out);
                self.stop(out);
            }
            let Some(call) = self.calls.get(n) else { continue };
            let block = answer::tool_use_block(&call.id, &call.name, json!({}));
            let at = self.open_block(Block::Call(n), block, out);
            // Written whole, the input is what a whole answer's would be.
            let input = answer::input(&held);
            if input.as_object().is_some_and(|o| !o.is_empty()) {
                let delta = json!({"type": "input_json_delta", "partial_json": input.to_string()});
                emit(out, "content_block_delta", json!({"index": at, "delta": delta}));
            }
            self.stop(out);
        }
    }
}
