//! Failover: the next candidate called out of band while the failed response is held, the
//! fallback's answer sent in its place, and the one error that names every failed attempt.

use model_router_scorer::budget::nano;
use model_router_scorer::catalog::Api;
use model_router_scorer::protocol::native;
use model_router_scorer::route::Upstream;
use model_router_scorer::stream::{self, First, StreamUsage};
use model_router_scorer::usage;

use super::answer::Bill;
use super::attempt::find;
use super::classify::credential;
use super::flight::{
    Clock, Failed, Flight, Origin, Pending, Retry, answer_begun, is_context_error, retryable,
};
use super::{Phase, Request, warn};
use crate::headers as h;
use crate::io::{Buffer, Effect, Host, HostError, Level, Map, Verdict};
use crate::live;
use crate::metrics as m;
use crate::shared::Shared;

impl Request {
    /// Asks the host to call the next candidate (to its cluster, with its model id, path and
    /// credentials), as the step's last effect; the flight waits in `Failing` for
    /// [`Event::Dispatched`](crate::io::Event::Dispatched). Returns false when no candidate is
    /// left.
    pub(super) fn fail_over(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
        f: &mut Flight,
        why: Retry,
        origin: Origin,
    ) -> Result<bool, HostError> {
        let cfg = &shared.config.resilience;
        while f.attempts < cfg.max_attempts && !f.body.is_empty() {
            let next = match why {
                Retry::Failure => (!f.fallbacks.is_empty()).then_some(0),
                Retry::Context(window) => f.fallbacks.iter().position(|u| u.context_window > window),
            };
            let Some(i) = next else { return Ok(false) };
            // The flight's configuration is the one it was routed with (`shared` is held).
            let Some(next) = f.fallbacks.remove(i).upstream(&shared.config, f.stream) else { continue };
            // From the client's own body, whatever the failed attempt spoke: a fallback of
            // another protocol is translated afresh. One whose API cannot carry the request
            // is passed over.
            let Ok(body) = native::chat_body(next.api, &f.layout, &f.body, &next.native()) else { continue };
            let now_ns = host.now_ns()?;
            let probes = if f.fail_open {
                live::Probes::default()
            } else {
                match live::admit(host, &next, now_ns / 1_000_000_000, cfg)? {
                    Some(p) => p,
                    None => continue,
                }
            };
            match self.reserve_more(host, f, &next) {
                Ok(true) => {}
                held => {
                    live::release(host, &next, probes);
                    held?;
                    continue;
                }
            }
            let headers = self.attempt_headers(shared, &next, body.len());
            self.effects.push(Effect::Call {
                cluster: next.cluster.clone(),
                headers,
                body,
                timeout_ms: cfg.fallback_timeout_ms,
            });
            f.pending = Some(Box::new(Pending { next, why, origin, now_ns, probes }));
            return Ok(true);
        }
        Ok(false)
    }

    /// The host tried the call `fail_over` asked for. Sent: the flight now waits for its
    /// answer. Not sent (its cluster could not be called): the next candidate, or, with none
    /// left, what the attempt that failed leads to.
    pub(super) fn on_dispatched(&mut self, host: &dyn Host, sent: bool) -> Verdict {
        let Phase::Failing(mut f) = std::mem::replace(&mut self.phase, Phase::PassThrough) else {
            return Verdict::Continue;
        };
        let Some(p) = f.pending.take() else {
            self.phase = Phase::Failing(f);
            return Verdict::Pause;
        };
        let Pending { next, why, origin, now_ns, probes } = *p;
        if sent {
            // A provider failed: not the request's overflow, nor a first attempt never sent.
            if f.attempts > 0 && matches!(why, Retry::Failure) {
                host.count(&m::labelled(m::FAILOVER, &[("provider", &m::stat_segment(&f.to.provider))]), 1);
            }
            // A context-length 400 is a failed attempt too, named in `Fallback-From`.
            if let Retry::Context(_) = why {
                f.failed.push(Failed {
                    who: format!("{}/{}", f.to.provider, f.to.model),
                    status: 400,
                    sent: true,
                });
            }
            f.to = next;
            f.probes = probes;
            f.attempts += 1;
            f.sent_ns = now_ns;
            // The attempt before refused the request (a stream that opened with a context
            // error): this one has not (kept, its answer was that 400, not charged).
            f.refusal = None;
            // Where it went, for the log, as the first attempt's was when it was sent.
            self.note_flight(host, &f);
            self.phase = Phase::Failing(f);
            return Verdict::Pause;
        }
        host.log(Level::Warn, &format!("model-router: cannot call cluster {}", next.cluster));
        live::release(host, &next, probes);
        f.failed.push(Failed { who: format!("{}/{}", next.provider, next.model), status: 0, sent: false });
        self.fail_over_or(host, f, why, origin)
    }

    /// Tries the next candidate for `why`; with none left, ends as `origin` says.
    pub(super) fn fail_over_or(
        &mut self,
        host: &dyn Host,
        mut f: Box<Flight>,
        why: Retry,
        origin: Origin,
    ) -> Verdict {
        let Some(shared) = self.shared_or_log(host) else { return Verdict::Continue };
        match self.fail_over(host, &shared, &mut f, why, origin) {
            Ok(true) => {
                self.phase = Phase::Failing(f);
                return Verdict::Pause;
            }
            Ok(false) => {}
            Err(e) => warn(host, &e),
        }
        match origin {
            // The provider's failure: nothing else can answer, so the router's own error,
            // never the provider's body.
            Origin::Answering => {
                self.exhausted(host, &f);
                Verdict::Pause
            }
            // A context-length 400 no larger window can take: the provider's 400 goes on (the
            // router's copy of it, when the provider's was a stream, dropped).
            Origin::Checking if f.refusal.is_some() => {
                self.answer_refusal(host, &f);
                Verdict::Pause
            }
            Origin::Checking => {
                self.served(host, &f, 400);
                Verdict::Continue
            }
            Origin::Fallback { status, .. } if retryable(status) => {
                self.exhausted(host, &f);
                Verdict::Continue
            }
            Origin::Fallback { status, body_size } => {
                self.serve_fallback(host, &f, status, body_size);
                Verdict::Continue
            }
        }
    }

    /// The client's request headers for an attempt at `to`: its path, host and credentials;
    /// never the client's credentials, the cluster header or framing headers.
    fn attempt_headers(&self, shared: &Shared, to: &Upstream, body_len: usize) -> Vec<(String, String)> {
        let cred = credential(shared, to);
        let own = |k: &str| {
            k.starts_with(':')
                || h::NOT_FORWARDED.contains(&k)
                || h::CLIENT_CREDENTIALS.contains(&k)
                || h::not_for_providers(k)
                || k.starts_with(h::OWN_PREFIX)
                || k == shared.config.cluster_header
                || shared.config.client_header.as_deref() == Some(k)
                || to.auth.as_ref().is_some_and(|a| a.header == k)
        };
        let protocol = native::headers(to.api);
        let mut out: Vec<(String, String)> = vec![
            (":method".into(), "POST".into()),
            (h::PATH.into(), to.path.clone()),
            (":authority".into(), to.host.clone()),
            (h::CONTENT_LENGTH.into(), body_len.to_string()),
        ];
        out.extend(
            self.request_headers
                .iter()
                .filter(|(k, _)| !own(k) && !protocol.iter().any(|(p, _)| p == k))
                .cloned(),
        );
        out.extend(protocol.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        out.extend(cred);
        out
    }
}

// A fallback's answer, and the error when every attempt failed.
impl Request {
    /// A fallback attempt's answer: another fallback, or the answer the client gets.
    pub(super) fn on_fallback_response(&mut self, host: &dyn Host, mut f: Box<Flight>, body_size: usize) {
        let status = call_status(host);
        let status = match opening_failure(host, &f, status, body_size) {
            Some(Opened::Failed(failed, bill)) => {
                self.bill(host, &f, bill);
                failed
            }
            Some(Opened::Refused(error)) => {
                f.refusal = Some(error);
                400
            }
            None => status,
        };
        // A 400's body, read once: the gateway's key (401) or account (402) refused; an overflow moves on.
        let error = match &f.refusal {
            Some(error) => error.clone(),
            None if status == 400 => host.body(Buffer::CallResponseBody, 0, body_size).unwrap_or_default(),
            None => Vec::new(),
        };
        let status = super::checked::gateways(status, &error).unwrap_or(status);
        // A 200 that is no answer (`not_an_answer`) is the provider's failure, as on the first
        // attempt's path: the next candidate answers, or the router's 502.
        let reads = self.inbound.is_some();
        let judged =
            (status == 200 && f.refusal.is_none()).then(|| not_an_answer(host, &f, body_size, reads));
        let status = match judged {
            Some(Judged::NoAnswer(bill)) => {
                host.log(
                    Level::Warn,
                    &format!("model-router: {} answered 200 with no answer in it", f.to.provider),
                );
                self.bill(host, &f, bill);
                502
            }
            _ => status,
        };
        let now_ns = host.now_ns().unwrap_or(f.sent_ns);
        // Ended by the router's own timeout (Envoy answers it with a local 504) or reset after
        // its headers (no status): the provider had the request and may bill its work.
        // Envoy's 504 has no upstream time (a provider's own has); and Envoy's timer and the
        // host's clock disagree by a little (a timed-out call read as 1,499 ms of a 1,500 ms
        // timeout, and went uncharged): one in the last tenth of the timeout counts.
        let timeout_ms = self.shared.as_ref().map_or(u64::MAX, |s| s.config.resilience.fallback_timeout_ms);
        let timed_out = f.elapsed_ms(now_ns) >= timeout_ms as f64 * 0.9;
        // Read once: the few looked at below.
        let headers = host.headers(Map::CallResponseHeaders).unwrap_or_default();
        let envoys = find(&headers, h::UPSTREAM_TIME).is_none();
        if status == 0 || (status == 504 && envoys && timed_out) {
            self.lost(host, &f);
        }
        f.note_retry_after(status, find(&headers, h::RETRY_AFTER), now_ns);
        // Envoy's own 504 ended a fallback still generating (it comes whole, streams too): its
        // model's time, as on the route's path, not its provider's health; so did a stream it
        // reset at that timeout, its headers passed (no status then).
        let clock = match status {
            _ if super::attempt::overflow(status, None, &headers) => Clock::Unsent,
            504 if envoys => Clock::Cut,
            0 if timed_out => Clock::Cut,
            _ => Clock::Whole,
        };
        self.record_attempt(host, &mut f, status, now_ns, clock);
        if status == 0 {
            // Its answer lost after its headers: reset (by its provider, or by Envoy at the
            // fallback timeout), or over what Envoy buffers of a call's answer (32 MiB: 20
            // `top_logprobs` a token reach it). The provider billed it, and the next candidate,
            // billed too, was lost the same way: no other is tried.
            if live::once_a_minute(host, "model_router.fallback_lost") {
                host.log(
                    Level::Warn,
                    &format!(
                        "model-router: a fallback's answer from {} was lost after it began ({}); no other candidate is tried",
                        f.to.provider,
                        if timed_out { "past resilience.fallback_timeout_ms" } else { "a reset, or larger than Envoy buffers for a call: 32 MiB" }
                    ),
                );
            }
            self.exhausted(host, &f);
            return;
        }
        let again = if retryable(status) {
            Some(Retry::Failure)
        } else if status == 400 {
            // A refusal is already in the OpenAI shape.
            let api = if f.refusal.is_some() { Api::Chat } else { f.to.api };
            is_context_error(api, &error, &f.body).then_some(Retry::Context(f.to.context_window))
        } else {
            None
        };
        match again {
            Some(why) => {
                self.fail_over_or(host, f, why, Origin::Fallback { status, body_size });
            }
            None => self.serve_fallback(host, &f, status, body_size),
        }
    }

    /// A body chunk of the failed response while the fallback runs. The failed response never
    /// reaches the client: its headers are held until the fallback answers, and its body is
    /// dropped as it comes (however large it is).
    pub(super) fn drop_failed_body(&mut self, f: Box<Flight>, body_size: usize) -> Verdict {
        if body_size > 0 {
            self.effects.push(Effect::ReplaceResponseBody { size: body_size, bytes: Vec::new() });
        }
        self.phase = Phase::Failing(f);
        Verdict::Pause
    }
}

/// How a fallback's native stream that ended before its answer began opened.
enum Opened {
    /// The provider's error, or none: that attempt's failure, with its status (429, or 502)
    /// and what it is charged.
    Failed(u16, Bill),
    /// The request's own error, in the OpenAI shape ([`Flight::refusal`]).
    Refused(Vec<u8>),
}

/// A fallback's stream that ends before its answer began (native), or opens with the
/// provider's error (OpenAI-compatible), as on the first attempt's path (`open_stream`);
/// `None` when the answer began.
fn opening_failure(host: &dyn Host, f: &Flight, status: u16, body_size: usize) -> Option<Opened> {
    if !f.stream || status != 200 {
        return None;
    }
    let body = host.body(Buffer::CallResponseBody, 0, body_size).ok()?;
    let (out, failed, bill) = match native::Stream::new(f.to.api, f.meta()) {
        Some(mut t) => {
            let out = t.feed(&body, true);
            if answer_begun(&out) {
                return None;
            }
            // Cut (not ended by the provider's own error): what it reported (an Anthropic
            // message_start's input), or before any count came (a cut inside the first event;
            // Converse and Responses report at the end) the input's estimate, as on the first
            // attempt's path. It was charged nothing then.
            let bill = match t.tokens() {
                _ if t.failed() => Bill::Nothing,
                Some(t) => Bill::Used(t.usage()),
                None => Bill::Input,
            };
            (out, t.failed(), bill)
        }
        // One that never opened, or ended at `[DONE]`, is `not_an_answer`'s.
        None => match stream::first_event(&body) {
            First::Error(event) => (event.to_vec(), true, Bill::Nothing),
            _ => return None,
        },
    };
    let status = if failed { native::error_status(&out) } else { 502 };
    if status == 400 {
        return Some(Opened::Refused(native::error_event(&out).unwrap_or_default().to_vec()));
    }
    retryable(status).then_some(Opened::Failed(status, bill))
}

/// The status of a call's answer (0 when it has none).
fn call_status(host: &dyn Host) -> u16 {
    host.header(Map::CallResponseHeaders, h::STATUS).ok().flatten().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// What a fallback's 200 is: an answer (whole, or a stream that ended at its last event), ...
enum Judged {
    Answer,
    /// No answer, with what it is charged (see [`not_an_answer`]).
    NoAnswer(Bill),
}

/// A fallback's 200 that is no answer, as on the first attempt's path (nothing, no JSON
/// object, an error object, an object with nothing in it or cut short, an answer that cannot
/// be translated), or a stream that ended before its last event, cut or failed by its error event
/// (native or not): nothing of it has reached the client yet, so the next candidate answers (a
/// failed one was served with its error while another was left). With what it is charged.
fn not_an_answer(host: &dyn Host, f: &Flight, body_size: usize, reads: bool) -> Judged {
    if body_size == 0 {
        return Judged::NoAnswer(Bill::Nothing);
    }
    let api = f.to.api;
    let translated = native::translated(api);
    // Compressed, though the router asked for none (`attempt::compressed`): passed on as it
    // came (its encoding kept, charged its estimate) to a chat client of an OpenAI-compatible
    // provider; one the router must translate (a native API's, or for a Messages or Responses
    // client: `reads`) is no answer it can give (it reached a Messages client as a chat
    // completion, under gzip).
    let encoding = host.header(Map::CallResponseHeaders, h::CONTENT_ENCODING).ok().flatten();
    if encoding.is_some_and(|e| super::attempt::encoded(&e)) {
        return if translated || reads { Judged::NoAnswer(Bill::Estimate) } else { Judged::Answer };
    }
    let Ok(body) = host.body(Buffer::CallResponseBody, 0, body_size) else { return Judged::Answer };
    let sse = host
        .header(Map::CallResponseHeaders, h::CONTENT_TYPE)
        .ok()
        .flatten()
        .is_some_and(|t| native::is_event_stream(&t));
    // A stream request answered with one JSON error object (with the stream's content type or
    // not) is charged as one, as on the first attempt's path; any other object is no stream.
    if f.stream
        && usage::is_object(&body)
        && let usage::Body::NoAnswer(used) = usage::of_whole(&body)
    {
        return Judged::NoAnswer(Bill::of(used, false));
    }
    if f.stream && (sse || translated) {
        // A native stream translated first (one that failed before its answer was read by
        // `opening_failure`).
        let (out, tokens, failed) = match native::Stream::new(api, f.meta()) {
            Some(mut t) => {
                let out = t.feed(&body, true);
                (out, t.tokens().map(|t| t.usage()), t.failed())
            }
            None => (body, None, false),
        };
        let mut editor = StreamUsage::new(f.to.price(), false)
            .input(f.input_tokens())
            .choices(f.choices)
            .at_most(f.to.most_output(f.choices));
        editor.feed(&out, true);
        if matches!(stream::first_event(&out), First::Pending | First::Done) && !editor.failed && !failed {
            // Ended at `[DONE]` (or cut) with no answer before it (a role-only chunk is none):
            // charged as the first attempt's stream that never opened is.
            return Judged::NoAnswer(editor.usage.or(tokens).map_or(Bill::Input, Bill::Used));
        }
        if editor.done && !editor.failed && !failed {
            return Judged::Answer;
        }
        // Cut or failed: its usage chunk, which comes last, is what it billed; without one, the counts
        // its translator read so far stop short (a message_start's: one output token), and it
        // is charged as the first attempt's cut stream is.
        return Judged::NoAnswer(match editor.usage {
            Some(u) => Bill::Used(u),
            None => Bill::Cut(tokens, nano(editor.streamed_floor())),
        });
    }
    let bill = match (translated, usage::of_whole(&body)) {
        (_, usage::Body::NoAnswer(used)) => Some(Bill::of(used, false)),
        // An OpenAI-shaped answer, or usage alone (served, as on the first attempt's path).
        (false, usage::Body::Answer(_) | usage::Body::Other(Some(_))) => None,
        (false, usage::Body::Other(None)) => Some(Bill::Estimate),
        (false, usage::Body::Cut(used)) => Some(Bill::of(used, true)),
        (true, usage::Body::Answer(used) | usage::Body::Other(used) | usage::Body::Cut(used)) => {
            native::response(api, &body, &f.meta()).is_err().then(|| Bill::of(used, true))
        }
    };
    bill.map_or(Judged::Answer, Judged::NoAnswer)
}
