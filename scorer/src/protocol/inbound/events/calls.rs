//! A stream's tool calls: which call item a delta continues, by the call's id or its chat
//! `index`, looked up rather than searched for (a provider streaming tens of thousands of
//! calls cost a search of every item before it per call); the Messages translation finds its
//! calls by the same [`CallIndex`].

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Events, Item, Kind, signature};

/// Where a stream's calls are (their places in the translation's list).
#[derive(Debug, Default)]
pub(crate) struct CallIndex {
    /// The call of each id (the last to take it).
    by_id: BTreeMap<String, usize>,
    /// The last call under each chat `index`.
    by_index: BTreeMap<u64, usize>,
    /// The last call.
    last: Option<usize>,
}

impl CallIndex {
    /// The call a delta with `id` and `index` continues: the one with its id; without one the
    /// last under its `index` (the last of all when it has none); or, an id that comes after
    /// the call's first delta, the last under its `index` when that call's id was made up
    /// (`guessed` says whose was).
    pub(crate) fn find(
        &self,
        id: Option<&str>,
        index: Option<u64>,
        guessed: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let under = match index {
            Some(index) => self.by_index.get(&index).copied(),
            None => self.last,
        };
        let found = match id {
            Some(id) => self.by_id.get(id).copied(),
            None => under,
        };
        found.or_else(|| under.filter(|at| guessed(*at)))
    }

    /// A call opens at `at`.
    pub(crate) fn opening(&mut self, at: usize, index: Option<u64>, call_id: &str) {
        self.by_id.insert(call_id.to_string(), at);
        if let Some(index) = index {
            self.by_index.insert(index, at);
        }
        self.last = Some(at);
    }

    /// The call at `at` takes the provider's `id` in place of its made-up `guessed` one, which
    /// names it no more (a delta under it opens a new call).
    pub(crate) fn renamed(&mut self, at: usize, guessed: &str, id: &str) {
        if self.by_id.get(guessed) == Some(&at) {
            self.by_id.remove(guessed);
        }
        self.by_id.insert(id.to_string(), at);
    }
}

impl Events {
    /// A chat tool-call delta: to the call with its `id`, or (without one) the last call
    /// under its `index`; a new call's item is opened first.
    pub(super) fn call_delta(&mut self, call: &Value, out: &mut Vec<u8>) {
        self.close_current(out);
        let index = call.get("index").and_then(Value::as_u64);
        let id = call.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let f = call.get("function");
        // An id that comes after the call's first delta: the call it continues keeps the id it
        // was opened under (the client already has it).
        let found = self.calls.find(id, index, |at| self.items.get(at).is_some_and(|i| i.guessed_id));
        let at = match found {
            Some(at) => at,
            None => {
                let ids = self.ids.clone().unwrap_or_default();
                let n = self.opened.call;
                let call_id = id.map_or_else(|| ids.call_id(n), str::to_string);
                let name =
                    f.and_then(|f| f.get("name")).and_then(Value::as_str).unwrap_or_default().to_string();
                let signature = signature::of_call(call).filter(|_| self.echo.signatures);
                if let Some(signature) = signature {
                    self.carry(call_id.clone(), signature.to_string(), out);
                }
                let signed = signature.is_some();
                let opened = call_id.clone();
                let call = Kind::Call { index, call_id, name, signed, late_signature: None };
                let at = self.open(call, out);
                self.calls.opening(at, index, &opened);
                if let Some(item) = self.items.get_mut(at) {
                    item.guessed_id = id.is_none();
                }
                at
            }
        };
        // A signature that comes after the call's first delta (Gemini's OpenAI layer may send
        // it in a delta of its own): carried once the call is done.
        if let Some(Item { kind: Kind::Call { signed, late_signature, .. }, .. }) = self.items.get_mut(at)
            && !*signed
            && let Some(signature) = signature::of_call(call).filter(|_| self.echo.signatures)
        {
            *signed = true;
            *late_signature = Some(signature.to_string());
        }
        // A name that comes after the call's first delta.
        let late = f.and_then(|f| f.get("name")).and_then(Value::as_str);
        if let (Some(Item { kind: Kind::Call { name, .. }, .. }), Some(late)) = (self.items.get_mut(at), late)
            && name.is_empty()
        {
            *name = late.to_string();
        }
        let delta = f.and_then(|f| f.get("arguments")).and_then(Value::as_str).unwrap_or_default();
        let Some(item) = self.items.get_mut(at).filter(|_| !delta.is_empty()) else { return };
        item.text.push_str(delta);
        // A custom tool's input is a string inside the arguments: told whole as the call ends.
        if matches!(&item.kind, Kind::Call { name, .. } if self.echo.is_custom(name)) {
            return;
        }
        let id = item.id.clone();
        self.emit(
            out,
            "response.function_call_arguments.delta",
            json!({"item_id": id, "output_index": at, "delta": delta}),
        );
    }

    /// A reasoning item carrying a call's thought signature, opened and done.
    pub(super) fn carry(&mut self, call_id: String, signature: String, out: &mut Vec<u8>) {
        let at = self.open(Kind::Signed { call_id, signature }, out);
        self.close(at, "completed", out);
    }
}
