//! A streamed answer on its way to the client: its first byte's latency, its usage chunk
//! priced (or removed), and an end without `[DONE]` made visible.

use proxy_wasm::types::{Action, BufferType, LogLevel};

use super::flight::Watch;
use super::{Http, Phase};
use crate::host;
use crate::live;

impl Http {
    /// Watches a stream: its first byte's latency, its usage chunk (priced, or removed when
    /// the client did not ask for it), and its end.
    pub(super) fn watch_stream(
        &mut self,
        mut w: Box<Watch>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if body_size > 0 && !w.started {
            w.started = true;
            if let Ok(now_ns) = host::now_nanos() {
                let ms = now_ns.saturating_sub(w.sent_ns) as f64 / 1e6;
                live::record_first_byte(&w.to, ms, now_ns / 1_000_000_000);
            }
        }
        match host::buffer(BufferType::HttpResponseBody, body_size) {
            Ok(chunk) => {
                if let Some(out) = w.editor.feed(&chunk, end_of_stream)
                    && let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, &out)
                {
                    host::log(LogLevel::Error, &format!("model-router: {e}"));
                }
            }
            Err(e) => host::log(LogLevel::Error, &format!("model-router: {e}")),
        }
        if !end_of_stream {
            self.phase = Phase::Streaming(w);
            return Action::Continue;
        }
        if !w.editor.done {
            if let Some(shared) = &self.shared {
                shared.metrics.count("stream_truncated", 1);
            }
            host::log(
                LogLevel::Warn,
                &format!("model-router: stream from {} ended without [DONE]", w.to.provider),
            );
        }
        let usage = w.editor.usage;
        self.used(&w.to, usage);
        Action::Continue
    }
}
