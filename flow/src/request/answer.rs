//! A non-streamed answer: held whole and costed (its headers carry its price), metered from
//! its end when too large to hold, or translated back (Titan embeddings).

use model_router_scorer::ApiError;
use model_router_scorer::translate;
use model_router_scorer::usage::{self, TAIL_BYTES, UsageTail};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use super::flight::{Flight, Meter};
use super::{Http, Phase};
use crate::headers as h;
use crate::host;

impl Http {
    /// A held non-streamed answer: price it, put the price in its headers, let it go. One that
    /// outgrows `max_held_response_bytes` is let go unheld and priced from its end instead:
    /// holding it up to Envoy's buffer limit would turn the provider's success into a 500.
    pub(super) fn cost_body(&mut self, f: Box<Flight>, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            if body_size as u64 > self.hold_limit() {
                let mut m = Box::new(Meter { to: f.to, tail: UsageTail::default() });
                read_tail(&mut m.tail, body_size);
                self.phase = Phase::Metering(m);
                return Action::Continue;
            }
            self.phase = Phase::Costing(f);
            return Action::Pause;
        }
        let usage = crate::span!(
            "read_response_body",
            host::buffer(BufferType::HttpResponseBody, body_size).ok().and_then(|b| usage::of_response(&b))
        );
        let used = crate::span!("used", self.used(&f.to, usage));
        crate::span!("cost_headers", add_response_headers(used, false));
        Action::Continue
    }

    /// A large answer on its way: its end is kept until the last chunk names its usage.
    pub(super) fn meter(&mut self, mut m: Box<Meter>, body_size: usize, end_of_stream: bool) -> Action {
        read_tail(&mut m.tail, body_size);
        if end_of_stream {
            let usage = m.tail.usage();
            self.used(&m.to, usage);
        } else {
            self.phase = Phase::Metering(m);
        }
        Action::Continue
    }

    /// `resilience.max_held_response_bytes`.
    pub(super) fn hold_limit(&self) -> u64 {
        self.shared.as_ref().map_or(u64::MAX, |s| s.config.resilience.max_held_response_bytes)
    }

    /// A translated answer (Titan embeddings), held whole: translated, priced, let go.
    pub(super) fn translate_body(
        &mut self,
        mut f: Box<Flight>,
        status: u16,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if !end_of_stream {
            // Buffer the whole (small: one embedding) provider response before rewriting it.
            self.phase = Phase::Translating(f, status);
            return Action::Pause;
        }
        let Some(t) = f.translation.take() else { return Action::Continue };
        let out = host::buffer(BufferType::HttpResponseBody, body_size).map(|body| match status {
            200 => translate::response(&t, &body),
            _ => Ok(translate::error_response(status, &body)),
        });
        let replacement = match out {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(why)) => {
                host::log(LogLevel::Warn, &format!("model-router: {why}"));
                // The headers are still held: the status can say what the body says.
                if let Err(e) = host::set_header(MapType::HttpResponseHeaders, h::STATUS, "502") {
                    host::log(LogLevel::Warn, &format!("model-router: {e}"));
                }
                ApiError::server(
                    502,
                    "bad_upstream_response",
                    "the provider's response could not be translated",
                )
                .body()
                .into_bytes()
            }
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: {e}"));
                return Action::Continue;
            }
        };
        let used = self.used(&f.to, usage::of_response(&replacement));
        add_response_headers(used, false);
        if let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, &replacement) {
            host::log(LogLevel::Error, &format!("model-router: {e}"));
        }
        Action::Continue
    }
}

/// Sets `ours` on the response headers, replacing any of the same name, and drops the
/// provider's content-length when the router will change the body's length (Envoy then frames
/// it itself). One call per header: measured in Envoy, cheaper than reading and rewriting the
/// whole map (BENCHMARKS.md, the instrumented build).
pub(super) fn add_response_headers(ours: Vec<(&'static str, String)>, body_changes_length: bool) {
    let result = ours
        .iter()
        .try_for_each(|(name, value)| host::set_header(MapType::HttpResponseHeaders, name, value))
        .and_then(|()| {
            if body_changes_length {
                host::remove_header(MapType::HttpResponseHeaders, h::CONTENT_LENGTH)
            } else {
                Ok(())
            }
        });
    if let Err(e) = result {
        host::log(LogLevel::Warn, &format!("model-router: {e}"));
    }
}

/// Feeds the end of the `body_size` bytes of response body now in Envoy's buffer to `tail`:
/// only what the tail keeps crosses into the VM.
fn read_tail(tail: &mut UsageTail, body_size: usize) {
    let start = body_size.saturating_sub(TAIL_BYTES);
    match host::buffer_range(BufferType::HttpResponseBody, start, body_size - start) {
        Ok(bytes) => tail.feed(&bytes),
        Err(e) => host::log(LogLevel::Warn, &format!("model-router: {e}")),
    }
}
