//! A non-streamed answer: held whole and costed (its headers carry its price), metered from
//! its end when too large to hold, or translated back (Titan embeddings).

use model_router_scorer::ApiError;
use model_router_scorer::translate;
use model_router_scorer::usage::{self, TAIL_BYTES, UsageTail};

use super::flight::{Flight, Meter};
use super::{Phase, Request, warn};
use crate::headers as h;
use crate::io::{Buffer, Effect, Host, Level, Verdict};

impl Request {
    /// A held non-streamed answer: price it, put the price in its headers, let it go. One that
    /// outgrows `max_held_response_bytes` is let go unheld and priced from its end instead:
    /// holding it up to Envoy's buffer limit would turn the provider's success into a 500.
    pub(super) fn cost_body(
        &mut self,
        host: &dyn Host,
        f: Box<Flight>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        if !end_of_stream {
            if body_size as u64 > self.hold_limit() {
                let mut m = Box::new(Meter { to: f.to, tail: UsageTail::default() });
                read_tail(host, &mut m.tail, body_size);
                self.phase = Phase::Metering(m);
                return Verdict::Continue;
            }
            self.phase = Phase::Costing(f);
            return Verdict::Pause;
        }
        let usage = crate::io::span!(
            host,
            "read_response_body",
            host.body(Buffer::ResponseBody, 0, body_size).ok().and_then(|b| usage::of_response(&b))
        );
        let used = crate::io::span!(host, "used", self.used(host, &f.to, usage));
        self.add_response_headers(used, false);
        Verdict::Continue
    }

    /// A large answer on its way: its end is kept until the last chunk names its usage.
    pub(super) fn meter(
        &mut self,
        host: &dyn Host,
        mut m: Box<Meter>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        read_tail(host, &mut m.tail, body_size);
        if end_of_stream {
            let usage = m.tail.usage();
            self.used(host, &m.to, usage);
        } else {
            self.phase = Phase::Metering(m);
        }
        Verdict::Continue
    }

    /// `resilience.max_held_response_bytes`.
    pub(super) fn hold_limit(&self) -> u64 {
        self.shared.as_ref().map_or(u64::MAX, |s| s.config.resilience.max_held_response_bytes)
    }

    /// A translated answer (Titan embeddings), held whole: translated, priced, let go.
    pub(super) fn translate_body(
        &mut self,
        host: &dyn Host,
        mut f: Box<Flight>,
        status: u16,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        if !end_of_stream {
            // Buffer the whole (small: one embedding) provider response before rewriting it.
            self.phase = Phase::Translating(f, status);
            return Verdict::Pause;
        }
        let Some(t) = f.translation.take() else { return Verdict::Continue };
        let out = host.body(Buffer::ResponseBody, 0, body_size).map(|body| match status {
            200 => translate::response(&t, &body),
            _ => Ok(translate::error_response(status, &body)),
        });
        let replacement = match out {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(why)) => {
                host.log(Level::Warn, &format!("model-router: {why}"));
                // The headers are still held: the status can say what the body says.
                self.effects.push(Effect::SetResponseHeader(h::STATUS, "502".into()));
                ApiError::server(
                    502,
                    "bad_upstream_response",
                    "the provider's response could not be translated",
                )
                .body()
                .into_bytes()
            }
            Err(e) => {
                warn(host, &e);
                return Verdict::Continue;
            }
        };
        let used = self.used(host, &f.to, usage::of_response(&replacement));
        self.add_response_headers(used, false);
        self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: replacement });
        Verdict::Continue
    }

    /// Sets `ours` on the response headers, replacing any of the same name, and drops the
    /// provider's content-length when the router will change the body's length (Envoy then
    /// frames it itself). One effect per header: measured in Envoy, cheaper than reading and
    /// rewriting the whole map (BENCHMARKS.md, the instrumented build).
    pub(super) fn add_response_headers(
        &mut self,
        ours: Vec<(&'static str, String)>,
        body_changes_length: bool,
    ) {
        self.effects.extend(ours.into_iter().map(|(name, value)| Effect::SetResponseHeader(name, value)));
        if body_changes_length {
            self.effects.push(Effect::RemoveResponseHeader(h::CONTENT_LENGTH));
        }
    }
}

/// Feeds the end of the `body_size` bytes of response body now in Envoy's buffer to `tail`:
/// only what the tail keeps crosses into the VM.
fn read_tail(host: &dyn Host, tail: &mut UsageTail, body_size: usize) {
    let start = body_size.saturating_sub(TAIL_BYTES);
    match host.body(Buffer::ResponseBody, start, body_size - start) {
        Ok(bytes) => tail.feed(&bytes),
        Err(e) => warn(host, &e),
    }
}
