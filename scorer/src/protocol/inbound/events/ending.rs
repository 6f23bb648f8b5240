//! How a stream's Response ends: its items closed and `response.completed` (or
//! `.incomplete`), or `response.failed` after an error.

use serde_json::{Value, json};

use super::{Events, Kind, logprobs_of, summary_part};
use crate::protocol::inbound::answer::{self, set};

impl Events {
    /// Closes what is open and the response.
    pub(super) fn complete(&mut self, out: &mut Vec<u8>) {
        if self.ids.is_none() {
            // `[DONE]` with no chunk before it: a response with no output.
            self.start(&Value::Null, out);
        }
        let (status, incomplete) = answer::ending(self.finish.as_deref());
        let item_status = if status == "completed" { "completed" } else { "incomplete" };
        for at in 0..self.items.len() {
            self.close(at, item_status, out);
        }
        let response = self.object(status, incomplete, Value::Null);
        let event = if status == "completed" { "response.completed" } else { "response.incomplete" };
        self.emit(out, event, json!({"response": response}));
        self.ended = true;
    }

    pub(super) fn close_current(&mut self, out: &mut Vec<u8>) {
        if let Some(at) = self.current.take() {
            self.close(at, "completed", out);
        }
    }

    /// Closes item `at` (nothing if it is closed).
    pub(super) fn close(&mut self, at: usize, status: &'static str, out: &mut Vec<u8>) {
        let Some(item) = self.items.get_mut(at).filter(|i| i.status == "in_progress") else { return };
        item.status = status;
        let (id, text) = (item.id.clone(), item.text.clone());
        let mut fields = json!({"item_id": id, "output_index": at, "content_index": 0});
        let event = match &item.kind {
            // No text to say was done.
            Kind::Signed { .. } => None,
            Kind::Reasoning if self.echo.summarized() => {
                fields = json!({"item_id": id, "output_index": at, "summary_index": 0, "text": text});
                (!text.is_empty()).then_some("response.reasoning_summary_text.done")
            }
            Kind::Reasoning => {
                set(&mut fields, "text", json!(text));
                Some("response.reasoning_text.done")
            }
            Kind::Message { refusal: true } => {
                set(&mut fields, "refusal", json!(text));
                Some("response.refusal.done")
            }
            Kind::Message { refusal: false } => {
                set(&mut fields, "text", json!(text));
                set(&mut fields, "logprobs", Value::Array(logprobs_of(&item.logprobs)));
                Some("response.output_text.done")
            }
            Kind::Call { name, .. } if self.echo.is_custom(name) => {
                let input = answer::custom_input(&text);
                let delta = json!({"item_id": id, "output_index": at, "delta": input});
                self.emit(out, "response.custom_tool_call_input.delta", delta);
                fields = json!({"item_id": id, "output_index": at, "input": input});
                Some("response.custom_tool_call_input.done")
            }
            Kind::Call { name, .. } => {
                let name = self.echo.namespace_of(name).map_or(name.as_str(), |(_, own)| own);
                fields = json!({"item_id": id, "output_index": at, "name": name, "arguments": text});
                Some("response.function_call_arguments.done")
            }
        };
        let summary = event == Some("response.reasoning_summary_text.done");
        if let Some(event) = event {
            self.emit(out, event, fields);
        }
        if summary {
            let part =
                json!({"item_id": id, "output_index": at, "summary_index": 0, "part": summary_part(&text)});
            self.emit(out, "response.reasoning_summary_part.done", part);
        }
        if let Some(part) = self.part_json(at) {
            self.emit(
                out,
                "response.content_part.done",
                json!({"item_id": id, "output_index": at, "content_index": 0, "part": part}),
            );
        }
        let item = self.item_json(at, true);
        self.emit(out, "response.output_item.done", json!({"output_index": at, "item": item}));
        let late = match self.items.get_mut(at).map(|i| &mut i.kind) {
            Some(Kind::Call { call_id, late_signature, .. }) => {
                late_signature.take().map(|s| (call_id.clone(), s))
            }
            _ => None,
        };
        if let Some((call_id, signature)) = late {
            self.carry(call_id, signature, out);
        }
    }

    /// An `error` event, then `response.failed` carrying the chat error's code and message.
    pub(super) fn fail(&mut self, error: &Value, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        if self.ids.is_none() {
            self.start(&Value::Null, out);
        }
        let s = |k: &str| {
            error
                .get(k)
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        };
        let code = s("code").or_else(|| s("type")).unwrap_or_else(|| "server_error".to_string());
        let message = s("message").unwrap_or_else(|| "the provider's stream failed".to_string());
        let param = error.get("param").filter(|p| p.is_string()).cloned().unwrap_or(Value::Null);
        let kind = s("type").unwrap_or_else(|| "server_error".to_string());
        let nested = json!({"type": kind, "code": code, "message": message, "param": param});
        self.emit(out, "error", json!({"code": code, "message": message, "param": param, "error": nested}));
        // The Response's error code is one of the spec's: a rate limit, else the server's.
        let limited = code.contains("rate_limit") || kind.contains("rate_limit") || code == "429";
        let code = if limited { "rate_limit_exceeded" } else { "server_error" };
        // What was open when it failed is incomplete (the spec's item statuses).
        for item in self.items.iter_mut().filter(|i| i.status == "in_progress") {
            item.status = "incomplete";
        }
        let response = self.object("failed", None, json!({"code": code, "message": message}));
        self.emit(out, "response.failed", json!({"response": response}));
        self.ended = true;
    }
}
