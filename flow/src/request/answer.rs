//! A non-streamed answer: held whole and costed (its headers carry its price), metered from
//! its end when too large to hold, or translated back (Titan embeddings).

use model_router_scorer::budget::nano;
use model_router_scorer::protocol::native;
use model_router_scorer::route::Upstream;
use model_router_scorer::stream::StreamUsage;
use model_router_scorer::translate;
use model_router_scorer::usage::{self, TAIL_BYTES, UsageTail};
use model_router_scorer::{ApiError, account};

use super::flight::{
    Clock, Failed, Flight, Meter, Origin, Retry, is_context_error, output_nano, passed_tokens,
    reported_input_nano,
};
use super::{Phase, Request, warn};
use crate::headers as h;
use crate::io::{Buffer, Effect, Host, Level, Map, Verdict};
use crate::metrics as m;

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
                let mut m = Box::new(Meter {
                    input: f.input_tokens(),
                    to: f.to,
                    tail: UsageTail::default(),
                    passed: body_size as u64,
                });
                read_tail(host, &mut m.tail, body_size);
                self.phase = Phase::Metering(m);
                return Verdict::Continue;
            }
            self.phase = Phase::Costing(f);
            return Verdict::Pause;
        }
        let body =
            crate::io::span!(host, "read_response_body", host.body(Buffer::ResponseBody, 0, body_size).ok());
        let read = body.as_deref().map(usage::of_whole);
        let usage = match read {
            Some(usage::Body::Answer(usage)) => usage,
            // Usage alone (Gemini's OpenAI layer, when it blocked a prompt or spent `max_tokens`
            // thinking): passed on and charged as the provider says, as before. The request may
            // be its cause, which must not count against the provider for every client.
            Some(usage::Body::Other(Some(used))) => Some(used),
            Some(usage::Body::NoAnswer(used)) => {
                return self.not_answered(host, f, "answered 200 without an answer", Bill::of(used, false));
            }
            // An object with nothing in it, or one cut short: what it billed cannot be told.
            Some(usage::Body::Other(None)) => {
                return self.not_answered(host, f, "answered 200 with no answer in it", Bill::Estimate);
            }
            Some(usage::Body::Cut(used)) => {
                return self.not_answered(host, f, "answered 200 cut short", Bill::of(used, true));
            }
            None => None,
        };
        if usage.is_none()
            && let Some(body) = body.as_deref()
        {
            self.charge_at_least(&f.to, f.input_tokens(), usage::written_tokens(body));
        }
        let used = crate::io::span!(host, "used", self.used(host, &f.to, usage));
        let fixed = body.as_deref().and_then(|b| self.finishes_fixed(&f.to, b));
        self.add_response_headers(used, fixed.is_some());
        if let Some(bytes) = fixed {
            self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes });
        }
        // Passed unchanged: a Responses client's rewrite takes the body read here.
        if let (Some(inbound), Some(body)) = (self.inbound.as_mut(), body) {
            inbound.pass(body);
        }
        Verdict::Continue
    }

    /// A held 200 that is no answer (`usage::of_whole`: nothing, no JSON object, an error
    /// object, an object with nothing in it or cut short), or one that cannot be translated:
    /// the provider's failure, in its health too, and, its headers still held, the next
    /// candidate's turn, or the router's 502. Passed on, the SDKs read a malformed
    /// completion and the provider stayed healthy. Charged as `bill` says, as an attempt lost.
    fn not_answered(&mut self, host: &dyn Host, mut f: Box<Flight>, why: &str, bill: Bill) -> Verdict {
        // `why` may quote the provider: its control characters escaped and its length cut (a
        // status holding a newline forged an Envoy log line; one of 1 MB logged whole).
        let mut logged = String::with_capacity(why.len().min(600));
        for c in why.chars().take(500) {
            if c.is_control() {
                logged.extend(c.escape_default());
            } else {
                logged.push(c);
            }
        }
        host.log(Level::Warn, &format!("model-router: {} {logged}", f.to.provider));
        self.answer_ended(host, Some(false));
        self.bill(host, &f, bill);
        f.failed.push(Failed { who: format!("{}/{}", f.to.provider, f.to.model), status: 502, sent: true });
        self.fail_over_or(host, f, Retry::Failure, Origin::Answering)
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
        m.passed += body_size as u64;
        if end_of_stream {
            let usage = m.tail.usage();
            if usage.is_none() {
                // Too large to hold and read: a token per four bytes it passed, the estimate's
                // measure (its framing is a sliver of so long an answer).
                self.charge_at_least(&m.to, m.input, passed_tokens(&m.to, m.passed, self.account.choices));
            }
            self.used(host, &m.to, usage);
        } else {
            self.phase = Phase::Metering(m);
        }
        Verdict::Continue
    }

    /// An answer that came without its usage is charged no less than `tokens` of output at
    /// `to`'s price (its estimate assumed a default length: a 45 KB answer was charged a
    /// twentieth, a 300 KB one passed on unheld a hundred and fiftieth).
    fn charge_at_least(&mut self, to: &Upstream, input: u64, tokens: u64) {
        self.account.floor = self.account.floor.max(output_nano(to, input, tokens));
    }

    /// `resilience.max_held_response_bytes`.
    pub(super) fn hold_limit(&self) -> u64 {
        self.shared.as_ref().map_or(u64::MAX, |s| s.config.resilience.max_held_response_bytes)
    }

    /// A translated answer (a native chat protocol, Titan embeddings), held whole:
    /// translated, priced, let go; a native context-length 400 first tries a larger window.
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
        let body = match host.body(Buffer::ResponseBody, 0, body_size) {
            Ok(b) => b,
            Err(e) => {
                warn(host, &e);
                return Verdict::Continue;
            }
        };
        let api = f.to.api;
        // A 400 is recorded once read: the gateway's key or account refused (Anthropic's credit
        // run out, Bedrock's quota) is its provider's failure, and the next candidate's to
        // answer; every client got it as its own mistake. With none left, the router's error:
        // the account is the gateway's, not the client's to read about.
        if status == 400 {
            let gateways = super::checked::gateways(status, &body);
            let now_ns = host.now_ns().unwrap_or(f.sent_ns);
            self.record_attempt(host, &mut f, gateways.unwrap_or(status), now_ns, Clock::Whole);
            if gateways.is_some() {
                return self.fail_over_or(host, f, Retry::Failure, Origin::Answering);
            }
        }
        if status == 400 && is_context_error(api, &body, &f.body) {
            // A larger window may still answer: the held 400 is replaced if one does.
            let window = f.to.context_window;
            if !f.body.is_empty()
                && f.fallbacks.iter().any(|u| u.context_window > window)
                && let Some(shared) = self.shared.clone()
            {
                // The client's 400 should no larger window answer (the held body is the
                // provider's own shape): translated now, as a stream's refusal is.
                if f.translation.is_none() {
                    f.refusal = Some(native::error(api, status, &body));
                }
                match self.fail_over(host, &shared, &mut f, Retry::Context(window), Origin::Checking) {
                    Ok(true) => {
                        self.phase = Phase::Failing(f);
                        return Verdict::Pause;
                    }
                    Ok(false) => {}
                    Err(e) => warn(host, &e),
                }
                f.refusal = None;
            }
        }
        let out = match (f.translation.take(), status) {
            (Some(t), 200) => translate::response(&t, &body),
            (Some(_), _) => Ok(translate::error_response(status, &body)),
            (None, 200) => native::response(api, &body, &f.meta()),
            (None, _) => Ok(native::error(api, status, &body)),
        };
        let replacement = match out {
            Ok(bytes) => bytes,
            Err(why) => {
                let bill = match usage::of_whole(&body) {
                    usage::Body::NoAnswer(used) => Bill::of(used, false),
                    usage::Body::Answer(used) | usage::Body::Other(used) | usage::Body::Cut(used) => {
                        Bill::of(used, true)
                    }
                };
                return self.not_answered(host, f, &why, bill);
            }
        };
        let used = self.used(host, &f.to, usage::of_response(&replacement));
        self.add_response_headers(used, false);
        self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: replacement });
        Verdict::Continue
    }

    /// A whole answer from an `indexless_calls` model (Gemini's) with its finishes as its
    /// streams' are: a call's `stop` said as `tool_calls`, its own names as OpenAI's; `None`
    /// when it stays as it is, and for a Messages or Responses client, whose translation says
    /// them so itself.
    fn finishes_fixed(&self, to: &Upstream, body: &[u8]) -> Option<Vec<u8>> {
        (to.quirks.indexless_calls && self.inbound.is_none()).then(|| account::whole_answer(body)).flatten()
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
            self.effects.push(Effect::RemoveResponseHeader(h::CONTENT_LENGTH.into()));
        }
    }
}

/// The answer in place of a provider's body that could not be translated (logged with why).
fn untranslatable(host: &dyn Host, why: &str) -> Vec<u8> {
    host.log(Level::Warn, &format!("model-router: {why}"));
    ApiError::server(502, "bad_upstream_response", "the provider's response could not be translated")
        .body()
        .into_bytes()
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

// A fallback's answer, sent in place of the failed response.
impl Request {
    /// Answers the request's own error that a native stream opened with ([`Flight::refusal`])
    /// as OpenAI refuses a bad request: a 400 with the JSON error, not a 200 event stream
    /// holding an error event (which the SDKs raise with no status). Not charged.
    pub(super) fn answer_refusal(&mut self, host: &dyn Host, f: &Flight) {
        self.served(host, f, 400);
        let body = f.refusal.clone().unwrap_or_default();
        self.send_local(400, "model_router_refused", f.json_headers(), body);
    }

    /// Sends the fallback's answer (still readable from the host) in place of the failed
    /// response: costed, a stream's usage chunk edited and its end checked.
    pub(super) fn serve_fallback(&mut self, host: &dyn Host, f: &Flight, status: u16, body_size: usize) {
        if f.refusal.is_some() {
            // Its native stream opened with the request's own error: the client's 400.
            return self.answer_refusal(host, f);
        }
        let headers = host.headers(Map::CallResponseHeaders).unwrap_or_default();
        let mut body = host.body(Buffer::CallResponseBody, 0, body_size).unwrap_or_default();
        let api = f.to.api;
        let translated = native::translated(api);
        let event_stream = if translated {
            f.stream
        } else {
            headers.iter().any(|(k, v)| k == h::CONTENT_TYPE && native::is_event_stream(v))
        };
        let mut content_type = None;
        let (mut status, mut failed, mut unreadable) = (status, false, false);
        // A failed native stream's last counts (it sends no usage chunk).
        let mut read_counts = None;
        if translated {
            // A native answer, whole: in the OpenAI shape before it is priced like one.
            let (out, kind) = match (status, event_stream) {
                (200, true) => {
                    let mut t = native::Stream::new(api, f.meta());
                    let out = t.as_mut().map_or_else(Vec::new, |t| t.feed(&body, true));
                    failed = t.as_ref().is_some_and(native::Stream::failed);
                    read_counts = t.as_ref().filter(|_| failed).and_then(native::Stream::tokens);
                    (Ok(out), native::EVENT_STREAM)
                }
                (200, false) => (native::response(api, &body, &f.meta()), "application/json"),
                _ => (Ok(native::error(api, status, &body)), "application/json"),
            };
            body = out.unwrap_or_else(|why| {
                // Not a chat completion (`not_an_answer` moved on from a whole one already):
                // the status says what the body says.
                (status, unreadable) = (502, true);
                untranslatable(host, &why)
            });
            content_type = Some(kind);
        } else if status == 400
            && let Some(one) = native::unwrapped_error(&body, || is_context_error(api, &body, &f.body))
        {
            // Gemini's array-wrapped error, as on the first attempt's path.
            body = one;
        }
        // A body passed as it came keeps its encoding, unread (a compressed one reached its
        // client as bytes it could not read; a stream was cut as one that never opened).
        let encoded = content_type.is_none() && super::attempt::compressed(host, &f.to.provider, &headers);
        let usage = if status != 200 || encoded {
            None
        } else if event_stream {
            let mut editor = StreamUsage::new(f.to.price(), f.usage_requested)
                .input(f.input_tokens())
                .choices(f.choices)
                .at_most(f.to.most_output(f.choices))
                .capped(self.account.output_cap)
                .within(f.to.context_window)
                .after(self.account.lost_nano as f64 / 1e9)
                .indexless_calls(f.to.quirks.indexless_calls);
            // A failed stream already ends in its error event: no second one for its end.
            editor.done = failed;
            if let Some(out) = editor.feed(&body, true) {
                body = out;
            }
            if failed || editor.failed {
                host.count(m::STREAM_FAILED, 1);
                self.account.stream_failed = true;
            } else if !editor.done {
                host.count(m::STREAM_TRUNCATED, 1);
            }
            // As on the first attempt's path: a failed stream's counts, charged at least the
            // estimate, and a token per event passed on.
            self.account.at_least_estimate = editor.usage.is_none() && read_counts.is_some();
            self.account.floor = nano(editor.streamed_floor());
            editor.usage.or(read_counts.map(|t| t.usage()))
        } else {
            if status == 200
                && let Some(fixed) = self.finishes_fixed(&f.to, &body)
            {
                body = fixed;
            }
            let usage = usage::of_response(&body);
            if usage.is_none() && (200..300).contains(&status) {
                self.charge_at_least(&f.to, f.input_tokens(), usage::written_tokens(&body));
            }
            usage
        };
        self.served(host, f, status);
        self.account.unreadable = unreadable;
        let cost_headers = self.used(host, &f.to, usage);
        let mut reply: Vec<(String, String)> =
            f.headers().into_iter().chain(cost_headers).map(|(k, v)| (k.to_string(), v)).collect();
        reply.extend(headers.into_iter().filter(|(k, _)| {
            (k == h::CONTENT_TYPE && content_type.is_none())
                || (k == h::CONTENT_ENCODING && encoded)
                || matches!(k.as_str(), "retry-after" | "x-request-id" | "x-should-retry")
                || k.starts_with("x-ratelimit-")
        }));
        if let Some(kind) = content_type {
            reply.push((h::CONTENT_TYPE.to_string(), kind.to_string()));
        }
        self.send_local(status, "model_router_fallback", reply, body);
    }
}

/// What an attempt that was no answer is charged, as an attempt lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Bill {
    /// Nothing: it answered no tokens (an error object, or nothing).
    Nothing,
    /// What it reported using (a failure that says what it billed).
    Used(usage::Usage),
    /// Its estimate: it may have billed an answer the router cannot read.
    Estimate,
    /// Its input's estimate: it read the request and wrote nothing (a stream of no event, or
    /// one cut before any count came).
    Input,
    /// A stream cut before its usage: the most of the counts read before the cut (which may
    /// stop short), its estimate, and the output it sent (this floor, nano-USD) beside its
    /// input's estimate, as the first attempt's cut stream is charged.
    Cut(Option<usage::Usage>, u64),
}

impl Bill {
    /// The bill of a body that reported `used` (if any); `unread`: the router could not read
    /// the answer the provider may have billed.
    pub(super) fn of(used: Option<usage::Usage>, unread: bool) -> Bill {
        match used {
            Some(u) => Bill::Used(u),
            None if unread => Bill::Estimate,
            None => Bill::Nothing,
        }
    }
}

impl Request {
    /// Charges an attempt that was no answer what `bill` says.
    pub(super) fn bill(&mut self, host: &dyn Host, f: &Flight, bill: Bill) {
        match bill {
            Bill::Nothing => {}
            Bill::Used(u) => self.charge_used(host, &f.to, u),
            // It answered: what it wrote is not its ceiling, but its estimate.
            Bill::Estimate => {
                let estimate = self.estimate_of(f);
                self.charge_lost(host, &f.to, estimate);
            }
            Bill::Input => self.charge_lost(host, &f.to, f.input_estimate_nano()),
            Bill::Cut(used, floor) => {
                let cap = self.account.output_cap;
                let reported = used.map_or(0, |u| super::account::used_nano(host, &f.to, u, f.choices, cap));
                // An input its provider reported (an Anthropic `message_start`) in place of the
                // input's estimate where it is less, as on the first attempt's path: a fallback's
                // cut stream read from the cache was charged 5.8 times its bill. (More is in what
                // it reported.)
                let guessed = f.input_estimate_nano();
                let told = used.and_then(|u| reported_input_nano(&u, &f.to));
                let input = told.map_or(guessed, |t| t.min(guessed));
                let estimate = self.estimate_of(f).saturating_sub(guessed).saturating_add(input);
                self.charge_lost(host, &f.to, reported.max(estimate).max(floor.saturating_add(input)));
            }
        }
    }
}
