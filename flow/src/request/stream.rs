//! A streamed answer on its way to the client: its first byte's latency, its usage chunk
//! priced (or removed), and an end without `[DONE]` made visible.

use model_router_scorer::budget::nano;
use model_router_scorer::catalog::Api;
use model_router_scorer::protocol::native;
use model_router_scorer::stream::{self, First, StreamUsage};
use model_router_scorer::usage;

use super::answer::Bill;
use super::flight::{
    Clock, Flight, Opening, Origin, Retry, Watch, answer_begun, is_context_error, told_input_nano,
};
use super::{Phase, Request, warn};
use crate::io::{Buffer, Effect, Host, Level, Verdict};
use crate::live;
use crate::metrics as m;

/// The longest a stream's headers wait for it to open (its attempt sent that long ago): 15 s,
/// well inside the 60 s idle timeouts of common load balancers in front of a client.
const OPENING_HOLD_NS: u64 = 15_000_000_000;

impl Request {
    /// A stream, its headers held until it opens: a native one until its answer begins (text,
    /// reasoning, a tool call or a finish), an OpenAI-compatible one until its first event
    /// ([`stream::first_event`]). A stream that opens with an error event the provider caused (Bedrock's
    /// throttlingException, Anthropic's overloaded_error after its message_start, a body that
    /// is not the protocol), or ends before any answer, is a failed attempt: recorded against
    /// the provider's health and failed over as a 5xx is, the client seeing none of it. One
    /// that opens with an error the request caused (Bedrock's validationException) is answered
    /// at once as OpenAI answers a bad request, a 400 with the JSON error, the stream dropped
    /// (not a 200 stream holding an error event, which the SDKs raise with no status); a
    /// context-window error moves to a larger window first, as when it comes as a 400.
    /// Anything else (an error in the chunk where the answer began) lets the headers and the
    /// stream through, as does a stream that has held `max_held_response_bytes`, or waited
    /// [`OPENING_HOLD_NS`], without opening.
    pub(super) fn open_stream(
        &mut self,
        host: &dyn Host,
        mut o: Box<Opening>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Verdict {
        // Envoy holds what came before: only the new bytes are fed.
        let new = body_size.saturating_sub(o.fed);
        if new > 0 || end_of_stream {
            let chunk = host.body(Buffer::ResponseBody, o.fed, new).unwrap_or_else(|e| {
                warn(host, &e);
                Vec::new()
            });
            o.fed = body_size;
            match o.translator.as_mut() {
                Some(t) => {
                    let more = t.feed(&chunk, end_of_stream);
                    o.out.extend_from_slice(&more);
                }
                None => o.out.extend_from_slice(&chunk),
            }
        }
        let (failed, begun) = match o.translator.as_ref() {
            Some(t) => (t.failed(), answer_begun(&o.out)),
            // An OpenAI-compatible stream opens with its first event: its answer's first chunk
            // (a role-only delta too), or the provider's error, which is all `out` keeps then.
            None => match stream::first_event_from(&o.out, &mut o.scanned) {
                First::Answer => (false, true),
                First::Error(event) => {
                    o.out = event.to_vec();
                    (true, false)
                }
                First::Pending | First::Done => (false, false),
            },
        };
        // Held up to `max_held_response_bytes`, and up to OPENING_HOLD_NS: the keep-alive
        // comments (Anthropic's `ping`s) a provider sends before a slow first event are what
        // keeps the proxies and clients on the way from timing the request out.
        let now_ns = host.now_ns().unwrap_or(o.flight.sent_ns);
        let waited = now_ns.saturating_sub(o.flight.sent_ns) > OPENING_HOLD_NS;
        if !failed && !begun && !end_of_stream && !waited && body_size as u64 <= self.hold_limit() {
            self.phase = Phase::Opening(o);
            return Verdict::Pause;
        }
        let Opening { mut flight, translator, out, .. } = *o;
        let status = match (failed, begun) {
            (true, false) => native::error_status(&out),
            // Ended with no answer and no error: the provider failed.
            (false, false) if end_of_stream => 502,
            // Its answer began (an error after it, in the same chunk, too): served and charged
            // as a stream that fails midway is, as when the error comes in a later chunk.
            _ => 200,
        };
        self.record_attempt(host, &mut flight, status, now_ns, Clock::Stream);
        if super::flight::retryable(status) {
            // Cut before its answer began: the provider had the request and read it, and bills
            // what it reported (an Anthropic message_start carries the input), or, before any
            // count came (a cut inside the first event; Converse and Responses report at the
            // end), the input estimate. It was charged nothing then, while the chat path's cut
            // stream was charged. (A stream it ended with its own error, an overload, it does
            // not bill.)
            // Nor does one that answered with its error object instead of a stream.
            let whole =
                (!failed && end_of_stream).then(|| host.body(Buffer::ResponseBody, 0, body_size).ok());
            let object = whole.flatten().filter(|b| usage::is_object(b));
            match object.map(|b| usage::of_whole(&b)) {
                Some(usage::Body::NoAnswer(used)) => self.bill(host, &flight, Bill::of(used, false)),
                _ if failed => {}
                _ => match translator.as_ref().and_then(native::Stream::tokens) {
                    Some(t) => self.charge_used(host, &flight.to, t.usage()),
                    None => self.charge_lost(host, &flight.to, flight.input_estimate_nano()),
                },
            }
            self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: Vec::new() });
            return self.fail_over_or(host, flight, Retry::Failure, Origin::Answering);
        }
        if status == 400 {
            // The request's own fault, not charged: a larger window's turn if it overflowed,
            // else (or when none answers) the client's 400, the stream dropped.
            let error = native::error_event(&out).unwrap_or_default().to_vec();
            self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: Vec::new() });
            let window = flight.to.context_window;
            let overflowed = is_context_error(Api::Chat, &error, &flight.body);
            flight.refusal = Some(error);
            if overflowed {
                return self.fail_over_or(host, flight, Retry::Context(window), Origin::Checking);
            }
            self.answer_refusal(host, &flight);
            return Verdict::Pause;
        }
        self.served(host, &flight, status);
        let editor = StreamUsage::new(flight.to.price(), flight.usage_requested)
            .input(flight.input_tokens())
            .choices(flight.choices)
            .at_most(flight.to.most_output(flight.choices))
            .capped(self.account.output_cap)
            .within(flight.to.context_window)
            .after(self.account.lost_nano as f64 / 1e9)
            .indexless_calls(flight.to.quirks.indexless_calls);
        let Flight { to, sent_ns, .. } = *flight;
        let w =
            Box::new(Watch { to, sent_ns, started: false, refused: false, editor, translator, passed: 0 });
        self.watch_stream(host, w, body_size, end_of_stream, Some(out))
    }

    /// Watches a stream: its first byte's latency, its usage chunk (priced, or removed when
    /// the client did not ask for it), and its end. `translated`: this chunk, already through
    /// the native translator (the first one, read by `open_stream`).
    pub(super) fn watch_stream(
        &mut self,
        host: &dyn Host,
        mut w: Box<Watch>,
        body_size: usize,
        end_of_stream: bool,
        translated: Option<Vec<u8>>,
    ) -> Verdict {
        w.passed += body_size as u64;
        let translated_first = translated.is_some();
        let read = match translated {
            Some(chunks) => Ok(chunks),
            None => host.body(Buffer::ResponseBody, 0, body_size),
        };
        match read {
            Ok(chunk) => {
                let out = match w.translator.as_mut() {
                    // A native stream: translated into OpenAI chunks, then priced like one.
                    Some(t) => {
                        let chunks = if translated_first { chunk } else { t.feed(&chunk, end_of_stream) };
                        if t.failed() {
                            // It already ends in an error event: no second one for its end.
                            w.editor.done = true;
                            w.refused |= native::error_status(&chunks) == 400;
                        }
                        Ok(w.editor.feed(&chunks, end_of_stream).unwrap_or(chunks))
                    }
                    None => {
                        let out = w.editor.feed(&chunk, end_of_stream);
                        w.refused |= w.editor.failed && native::error_status(&chunk) == 400;
                        out.ok_or(chunk)
                    }
                };
                match (out, self.inbound.as_mut()) {
                    (Ok(out), _) => {
                        self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: out })
                    }
                    // Unchanged: a Responses client's rewrite takes the chunk read here.
                    (Err(chunk), Some(inbound)) => inbound.pass(chunk),
                    (Err(_), None) => {}
                }
            }
            Err(e) => warn(host, &e),
        }
        // Its latency is its first answer's: the first chunk that carries text, reasoning or a
        // call (a provider's role-only chunk, sent at once, made one that kept its first token
        // three seconds the fastest).
        if !w.started && w.editor.text_bytes > 0 {
            w.started = true;
            if let (Ok(now_ns), Some(shared)) = (host.now_ns(), self.shared.as_deref()) {
                let ms = now_ns.saturating_sub(w.sent_ns) as f64 / 1e6;
                live::record_first_byte(host, &w.to, ms, now_ns / 1_000_000_000, &shared.config.resilience);
            }
        }
        if !end_of_stream {
            self.phase = Phase::Streaming(w);
            return Verdict::Continue;
        }
        if w.translator.as_ref().is_some_and(native::Stream::failed) || w.editor.failed {
            host.count(m::STREAM_FAILED, 1);
            // A stream the provider ended with its error counts against its health, but for one
            // the request caused (a content filter's: five opened Anthropic's breaker).
            self.answer_ended(host, if w.refused { None } else { Some(false) });
            self.account.stream_failed = true;
        } else if !w.editor.done {
            host.count(m::STREAM_TRUNCATED, 1);
            host.log(
                Level::Warn,
                &format!("model-router: stream from {} ended without [DONE]", w.to.provider),
            );
            // Ended by its provider (the client is still here) before its last event: the
            // provider's failure, as an error event or a reset is (judged whole, a provider
            // whose streams all stopped midway stayed healthy, its breaker never opened).
            self.answer_ended(host, Some(false));
            self.account.stream_failed = true;
        }
        self.account.floor = nano(w.editor.streamed_floor());
        // The input its provider reported (an Anthropic `message_start`) stands for the input's
        // estimate where it is less, as for a stream cut or left (`finish`): one its provider
        // ended with an error after the answer began (Anthropic's overload) was charged the
        // estimate at full price. (More is charged as reported, below.)
        if let Some(told) = told_input_nano(w.translator.as_ref(), &w.to) {
            let a = &mut self.account;
            let told = told.min(a.input_estimate);
            a.answered_estimate =
                a.answered_estimate.map(|e| e.saturating_sub(a.input_estimate).saturating_add(told));
            a.input_estimate = told;
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
