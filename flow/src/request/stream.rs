//! A streamed answer on its way to the client: its first byte's latency, its usage chunk
//! priced (or removed), and an end without `[DONE]` made visible.

use model_router_scorer::protocol::native;

use super::flight::Watch;
use super::{Phase, Request, warn};
use crate::io::{Buffer, Effect, Host, Level, Verdict};
use crate::live;
use crate::metrics as m;

impl Request {
    /// Watches a stream: its first byte's latency, its usage chunk (priced, or removed when
    /// the client did not ask for it), and its end.
    pub(super) fn watch_stream(
        &mut self,
        host: &dyn Host,
        mut w: Box<Watch>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        if body_size > 0 && !w.started {
            w.started = true;
            if let Ok(now_ns) = host.now_ns() {
                let ms = now_ns.saturating_sub(w.sent_ns) as f64 / 1e6;
                live::record_first_byte(host, &w.to, ms, now_ns / 1_000_000_000);
            }
        }
        match host.body(Buffer::ResponseBody, 0, body_size) {
            Ok(chunk) => {
                let out = match w.translator.as_mut() {
                    // A native stream: translated into OpenAI chunks, then priced like one.
                    Some(t) => {
                        let chunks = t.feed(&chunk, end_of_stream);
                        if t.failed() {
                            // It already ends in an error event: no second one for its end.
                            w.editor.done = true;
                        }
                        Some(w.editor.feed(&chunks, end_of_stream).unwrap_or(chunks))
                    }
                    None => w.editor.feed(&chunk, end_of_stream),
                };
                if let Some(out) = out {
                    self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: out });
                }
            }
            Err(e) => warn(host, &e),
        }
        if !end_of_stream {
            self.phase = Phase::Streaming(w);
            return Verdict::Continue;
        }
        if w.translator.as_ref().is_some_and(native::Stream::failed) {
            host.count(m::STREAM_FAILED, 1);
        } else if !w.editor.done {
            host.count(m::STREAM_TRUNCATED, 1);
            host.log(
                Level::Warn,
                &format!("model-router: stream from {} ended without [DONE]", w.to.provider),
            );
        }
        let mut usage = w.editor.usage;
        if usage.is_none()
            && let Some(t) = w.translator.as_ref().filter(|t| t.failed())
        {
            // A failed native stream sends no usage chunk, but its translator may have read the
            // provider's counts (a Responses `response.failed` carries them; an Anthropic
            // stream's `message_start` only the input's). They are reported, and charged at
            // least the estimate, since they may stop short of what was billed.
            usage = t.tokens().map(|t| t.usage());
            self.account.at_least_estimate = usage.is_some();
        }
        self.used(host, &w.to, usage);
        Verdict::Continue
    }
}
