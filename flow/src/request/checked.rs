//! A provider's 400 held and read before the client sees it: the gateway's key or account
//! refused, or an input over the model's window, which another candidate can answer.

use model_router_scorer::protocol::native;

use super::flight::{Clock, Flight, Origin, Retry, is_context_error};
use super::{Phase, Request};
use crate::headers as h;
use crate::io::{Buffer, Effect, Host, Verdict};

impl Request {
    /// A provider's 400, buffered: a context-length error moves to a larger window, the
    /// gateway's key refused (Gemini answers a bad key with a 400) counts as a 401 does, its
    /// account refused ([`native::gateway_refusal`]) as a 402, a retired model (Groq's) as a 404.
    pub(super) fn check_client_error(
        &mut self,
        host: &dyn Host,
        mut f: Box<Flight>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        let now_ns = host.now_ns().unwrap_or(f.sent_ns);
        if !end_of_stream {
            // An error body this large is neither: let it go.
            if body_size as u64 <= self.hold_limit() {
                self.phase = Phase::Checking(f);
                return Verdict::Pause;
            }
            self.record_attempt(host, &mut f, 400, now_ns, Clock::Whole);
            self.served(host, &f, 400);
            return Verdict::Continue;
        }
        let body = host.body(Buffer::ResponseBody, 0, body_size).unwrap_or_default();
        if let Some(status) = gateways(400, &body) {
            self.record_attempt(host, &mut f, status, now_ns, Clock::Whole);
            return self.fail_over_or(host, f, Retry::Failure, Origin::Answering);
        }
        self.record_attempt(host, &mut f, 400, now_ns, Clock::Whole);
        // Gemini's OpenAI layer wraps its error in an array, where the OpenAI SDKs find no
        // `error` and report a 400 with no body: the client gets it in OpenAI's shape (also
        // when no larger window takes a context-length error; a fallback's answer replaces it).
        let overflow = is_context_error(f.to.api, &body, &f.body);
        if let Some(one) = native::unwrapped_error(&body, || overflow) {
            self.effects.push(Effect::RemoveResponseHeader(h::CONTENT_LENGTH.into()));
            self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: one });
        }
        let window = f.to.context_window;
        if overflow && f.fallbacks.iter().any(|u| u.context_window > window) {
            return self.fail_over_or(host, f, Retry::Context(window), Origin::Checking);
        }
        self.served(host, &f, 400);
        Verdict::Continue
    }
}

/// The status a provider's 400 counts as when it refuses the gateway rather than the request:
/// its key (a 401), its account (a 402) or the catalog's model, retired (a 404), by
/// [`native::gateway_refusal`]. `None` for any other answer.
pub(super) fn gateways(status: u16, body: &[u8]) -> Option<u16> {
    if status == 400 { native::gateway_refusal(body) } else { None }
}
