//! What a request used and where it went: the attempt that answered, its usage and price
//! (filter state for the access log), and at the end the budget settlement and the metrics.

use model_router_scorer::budget::nano;
use model_router_scorer::health::Outcome;
use model_router_scorer::protocol::native;
use model_router_scorer::route::Upstream;
use model_router_scorer::usage::{Usage, format_usd};

use super::flight::{Flight, STALL_BYTES, TIMEOUT_DETAILS, output_nano, passed_tokens, told_input_nano};
use super::{Phase, Request};
use crate::headers as h;
use crate::io::{Host, HostError, Level};
use crate::live;
use crate::metrics as m;
use crate::spend;

/// Who ended a response before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    ByClient,
    ByProvider,
    /// The route's timeout after more of the answer passed to the client than Envoy's and the
    /// sockets' buffers hold ([`STALL_BYTES`]): its provider stalled, or its client stopped
    /// reading (Envoy then stops reading from the provider, and the timer runs out), which the
    /// router cannot tell apart. Neither's failure: one client reading nothing opened the
    /// provider's breaker for every other. Below that, the provider's.
    Stalled,
}

impl Request {
    /// The request is over: settle its budget reservation and count it.
    pub(super) fn finish(&mut self, host: &dyn Host) {
        if self.shared.is_none() {
            return;
        }
        // A stream whose provider said its answer ended before the stream broke off (it reset
        // the connection past its last event, or its client left then) is priced by the usage
        // it reported: counted cut, it was charged its estimate, a fiftieth of a long answer.
        // It ended as a whole one only when its client got its end (`[DONE]`, and with it a
        // Messages or Responses client's last events); else it is still cut, by whoever cut it.
        if let Phase::Streaming(w) = &self.phase
            && w.whole()
        {
            let (to, usage, delivered) = (w.to.clone(), w.usage(), w.editor.done);
            // What it passed on is the least its provider billed, delivered or not (one that
            // sent no usage and reset past `[DONE]` was charged its bare estimate).
            self.account.floor = self.account.floor.max(nano(w.editor.streamed_floor()));
            self.used(host, &to, usage);
            if delivered {
                self.phase = Phase::PassThrough;
            }
        }
        // A response that did not reach its end: its provider cut it, or its client left. An
        // answer not judged yet is judged now: whole, failed by its provider, or neither.
        let cut_short = self.response_cut(host);
        self.answer_ended(
            host,
            match cut_short {
                None => Some(true),
                Some(Cut::ByProvider) => Some(false),
                Some(Cut::ByClient | Cut::Stalled) => None,
            },
        );
        let mut a = std::mem::take(&mut self.account);
        match &self.phase {
            // What was passed on is the least the provider billed.
            Phase::Streaming(w) => a.floor = a.floor.max(nano(w.editor.streamed_floor())),
            // An answer too large to hold, ended before the usage at its end: a token per four
            // bytes it passed, as at its end (a client that left just before it paid the
            // estimate of a default length for a megabyte of answer).
            Phase::Metering(m) => {
                a.floor = a.floor.max(output_nano(&m.to, m.input, passed_tokens(&m.to, m.passed, a.choices)));
            }
            _ => {}
        }
        // The attempt in flight when the request ended, and its estimate: the client went away
        // while a provider had the request and had not answered, and the provider still works
        // on it and bills it.
        let open = match &self.phase {
            Phase::Routed(f) => Some(f.as_ref()),
            Phase::Opening(o) => Some(o.flight.as_ref()),
            Phase::Failing(f) if f.pending.is_none() => Some(f.as_ref()),
            _ => None,
        };
        let in_flight = open.map(|f| f.unanswered_nano(matches!(self.phase, Phase::Failing(_))));
        // An attempt out when the request ended (or its 400 held) will never report: the probe
        // slots it took are given back, or a recovered provider stayed out until the next
        // cooldown; a native stream its provider cut before its answer reports a failure.
        let out = match &self.phase {
            Phase::Checking(f) => Some(f.as_ref()),
            _ => open,
        };
        match (out, &self.phase) {
            (Some(f), Phase::Opening(_)) if cut_short == Some(Cut::ByProvider) => {
                self.cut_by_provider(host, &f.to, f.probes);
            }
            (Some(f), _) => live::release(host, &f.to, f.probes),
            _ => {}
        }
        if let Phase::Failing(f) = &self.phase
            && let Some(p) = &f.pending
        {
            live::release(host, &p.next, p.probes);
        }
        // A request left while an attempt was out (or its 400 held) counts under that attempt, as
        // `client_closed` (its charge was in the budgets only), not under one that failed before
        // it and was noted as served. Unless Envoy ended it, in the router's place: the attempt
        // it held the headers of broke off while a fallback was out.
        let closed = match cut_short {
            Some(cut) => cut == Cut::ByClient,
            None => out.is_some() && !ended_by_envoy(host),
        };
        if let Some(f) = out {
            a.labels = Some(f.labels());
        }
        // A stream left before its first answer (nothing back, or its role-only chunk) waited
        // at least this long for it.
        let waiting = match &self.phase {
            Phase::Routed(f) if f.stream => Some((&f.to, f.sent_ns)),
            Phase::Opening(o) if o.flight.stream => Some((&o.flight.to, o.flight.sent_ns)),
            Phase::Streaming(w) if !w.started => Some((&w.to, w.sent_ns)),
            _ => None,
        };
        if let Some((to, sent_ns)) = waiting.filter(|_| closed)
            && let (Some(shared), Ok(now_ns)) = (self.shared.as_deref(), host.now_ns())
        {
            let ms = now_ns.saturating_sub(sent_ns) as f64 / 1e6;
            live::record_wait(host, to, ms, now_ns / 1_000_000_000, &shared.config.resilience);
        }
        // What the request is charged. Answered without reported usage, or ended unanswered:
        // the estimate of the attempt charged (the one in flight, or the one that answered: a
        // fallback may be dearer than the first, whose estimate was reserved); failed: nothing.
        // A stream's floor (the output it passed on, and its input) when that is more; each
        // attempt lost on the way adds what it was charged (`lost_nano`: its estimate, its
        // reported usage, its input's estimate, or a cut stream's most; see `Bill`).
        let reserved = a.reservation.as_ref().map_or(0, |r| r.amount);
        let mut estimate = in_flight.flatten().or(a.answered_estimate).unwrap_or(reserved);
        // A native stream whose provider reported its input before it ended (an Anthropic
        // `message_start`) is charged that input in place of the input's estimate: a cut
        // conversation read from the cache (a tenth of the input price) was charged ten times
        // its provider's bill.
        let told = match &self.phase {
            Phase::Streaming(w) => {
                told_input_nano(w.translator.as_ref(), &w.to).map(|t| (t, a.input_estimate))
            }
            Phase::Opening(o) => told_input_nano(o.translator.as_ref(), &o.flight.to)
                .map(|t| (t, o.flight.input_estimate_nano())),
            _ => None,
        };
        let mut input = a.input_estimate;
        if let Some((told, guessed)) = told {
            (estimate, input) = (estimate.saturating_sub(guessed).saturating_add(told), told);
        }
        if a.floor > 0 {
            a.floor = a.floor.saturating_add(input);
        }
        let charged = match a.cost {
            Some(c) if a.at_least_estimate => nano(c).max(estimate).max(a.floor),
            Some(c) => nano(c),
            None if (200..400).contains(&a.status) || a.unreadable || in_flight.is_some() => {
                estimate.max(a.floor)
            }
            None => 0,
        };
        let spent = charged.saturating_add(a.lost_nano);
        if let Some(r) = &a.reservation {
            // Now, not when it reserved: a request that ends past UTC midnight spends on the
            // new day. Settled at its reservation's time, it landed on the old day's record
            // whenever no request had rolled that record yet, and the next read erased it.
            let now = crate::io::now_secs(host).unwrap_or(r.at).max(r.at);
            // The spend lands once; what dearer fallbacks reserved beside it is given back
            // after it, so the room is never free for an instant in between.
            let landed = spend::settle(host, r, spent, now);
            for more in &a.more {
                spend::settle(host, more, 0, now);
            }
            if let Some(shared) = self.shared.as_deref() {
                for (scope, today) in landed {
                    spend::set_gauges(host, &shared.config, scope, today);
                }
            }
        }
        // All a request was charged (attempts lost on the way too), under its client, whether
        // an attempt answered or not.
        if let Some(client) = self.client.as_ref().filter(|_| spent > 0) {
            // Clients the configuration names by theirs; the rest together.
            let client = if self.shared.as_ref().is_some_and(|s| s.config.names_client(client)) {
                m::stat_segment(client)
            } else {
                "other".to_string()
            };
            host.count(&m::labelled(m::CLIENT_COST, &[("client", client.as_str())]), spent);
        }
        let Some([tier, prefer, provider, model]) = &a.labels else { return };
        let outcome = match a.status {
            _ if closed => "client_closed",
            _ if matches!(cut_short, Some(Cut::ByProvider | Cut::Stalled)) || a.stream_failed => {
                "upstream_error"
            }
            200..=399 => "ok",
            429 => "rate_limited",
            400..=499 => "client_error",
            _ => "upstream_error",
        };
        let label = |v: &str| if v.is_empty() { "none".to_string() } else { m::stat_segment(v) };
        let (provider, model) = (label(provider), label(model));
        let who = [("provider", provider.as_str()), ("model", model.as_str())];
        let (tier, prefer) = (label(tier), label(prefer));
        let labels = [
            ("tier", tier.as_str()),
            ("prefer", prefer.as_str()),
            ("provider", provider.as_str()),
            ("model", model.as_str()),
            ("outcome", outcome),
        ];
        host.count(&m::labelled(m::REQUESTS, &labels), 1);
        if let Some(u) = a.usage {
            host.count(&m::labelled(m::TOKENS_IN, &who), u.input);
            host.count(&m::labelled(m::TOKENS_OUT, &who), u.output);
        }
        // What the answering attempt was charged, estimates included where no usage came.
        if charged > 0 {
            host.count(&m::labelled(m::COST, &who), charged);
        }
    }
}

/// Whether Envoy ended the request in the router's place, not its client leaving: the attempt
/// whose headers the router held broke off (`response.code_details`), while a fallback was out.
fn ended_by_envoy(host: &dyn Host) -> bool {
    let details = host.response_details().ok().flatten().unwrap_or_default();
    details.starts_with("upstream_reset_after_response_started")
}

// Answers judged at their end, attempts lost, and what a dearer fallback reserves.
impl Request {
    /// Who ended a response before its end, by Envoy's response code details (`None`: it
    /// ended, or none had begun). A provider's reset or Envoy's timeout counts as the response
    /// failing, as does a stream whose error event already came: against the provider's health,
    /// which counted a stream nothing until its end and a whole answer a success at its
    /// headers (a provider resetting every stream after its first chunk looked healthy, its
    /// requests all `ok`). Read only for a response cut short: one call out of the VM.
    fn response_cut(&self, host: &dyn Host) -> Option<Cut> {
        let (to, stream) = match &self.phase {
            Phase::Streaming(w) => (&w.to, true),
            Phase::Opening(o) => (&o.flight.to, true),
            Phase::Costing(f) | Phase::Translating(f, _) => (&f.to, false),
            Phase::Metering(meter) => (&meter.to, false),
            _ => return None,
        };
        let failed = match &self.phase {
            Phase::Streaming(w) => {
                w.editor.failed || w.translator.as_ref().is_some_and(native::Stream::failed)
            }
            _ => false,
        };
        let details = host.response_details().ok().flatten().unwrap_or_default();
        let timed_out = TIMEOUT_DETAILS.contains(&details.as_str());
        let by_provider = failed || details.starts_with("upstream_reset_after_response_started") || timed_out;
        if !by_provider {
            return Some(Cut::ByClient);
        }
        let passed = match &self.phase {
            Phase::Streaming(w) => w.passed,
            Phase::Metering(m) => m.passed,
            _ => 0,
        };
        if timed_out && !failed && passed >= STALL_BYTES {
            host.log(
                Level::Warn,
                &format!("model-router: response from {} stalled ({details})", to.provider),
            );
            return Some(Cut::Stalled);
        }
        if stream {
            host.count(m::STREAM_FAILED, 1);
        }
        host.log(Level::Warn, &format!("model-router: response from {} cut ({details})", to.provider));
        Some(Cut::ByProvider)
    }

    /// An attempt whose native stream its provider cut before its answer began failed.
    fn cut_by_provider(&self, host: &dyn Host, to: &Upstream, probes: live::Probes) {
        if let (Some(shared), Ok(now_ns)) = (self.shared.as_deref(), host.now_ns()) {
            live::record(
                host,
                to,
                Outcome::Failed,
                probes,
                now_ns / 1_000_000_000,
                &shared.config.resilience,
            );
        }
    }

    /// Records how the answer whose beginning was recorded (a stream, or a whole answer still to
    /// come) ended: whole (`Some(true)`), failed by its provider (`Some(false)`), or left by its
    /// client (`None`: neither, and its probe slots given back; counted whole, a client leaving
    /// each stream of a provider failing mid-way kept resetting its failures, and closed its
    /// breaker on a probe). Once.
    pub(super) fn answer_ended(&mut self, host: &dyn Host, how: Option<bool>) {
        let Some((to, probes)) = self.account.opened.take() else { return };
        let Some(whole) = how else {
            live::release(host, &to, probes);
            return;
        };
        if let (Some(shared), Ok(now_ns)) = (self.shared.as_deref(), host.now_ns()) {
            let now = now_ns / 1_000_000_000;
            live::record(host, &to, Outcome::Ended(whole), probes, now, &shared.config.resilience);
        }
    }

    /// `f`'s attempt was lost (the provider had it and never answered: a timeout): what an
    /// unanswered attempt is charged ([`Flight::unanswered_nano`]), or without an estimate the
    /// reservation, is charged at the end, and counted now under its own provider and model
    /// (the answering attempt's cost is counted under its own).
    pub(super) fn lost(&mut self, host: &dyn Host, f: &Flight) {
        let reserved = self.account.reservation.as_ref().map_or(0, |r| r.amount);
        let charged = f.unanswered_nano(false).unwrap_or(reserved);
        self.charge_lost(host, &f.to, charged);
    }

    /// `f`'s estimate, nano-USD, or without one the reservation.
    pub(super) fn estimate_of(&self, f: &Flight) -> u64 {
        let reserved = self.account.reservation.as_ref().map_or(0, |r| r.amount);
        f.estimate_nano().unwrap_or(reserved)
    }

    /// Charges an attempt at `to` that did not answer what it reported using ([`plausible`]).
    pub(super) fn charge_used(&mut self, host: &dyn Host, to: &Upstream, u: Usage) {
        self.charge_lost(host, to, used_nano(host, to, u, self.account.choices, self.account.output_cap));
    }

    /// Charges `nano` (nano-USD) for an attempt at `to` that did not answer, at the end, and
    /// counts it now under its own provider and model.
    pub(super) fn charge_lost(&mut self, host: &dyn Host, to: &Upstream, nano: u64) {
        self.account.lost_nano += nano;
        if nano > 0 {
            let (provider, model) = (m::stat_segment(&to.provider), m::stat_segment(&to.model));
            host.count(&m::labelled(m::COST, &[("provider", provider), ("model", model)]), nano);
        }
    }

    /// Reserves what a fallback at `to` would add to what the request holds, before it is
    /// called: the route saw it fit what the budgets had left, but requests since may have
    /// taken that room, and the first attempt's estimate was all that was reserved. What the
    /// attempts before it were charged (one Envoy's timeout ended, still billed) is no longer
    /// room: before, a fallback no dearer than the first reserved nothing, and each request
    /// whose first attempt timed out spent twice its hold. False when a limit has no room for
    /// it (the fallback is passed over).
    pub(super) fn reserve_more(
        &mut self,
        host: &dyn Host,
        f: &Flight,
        to: &Upstream,
    ) -> Result<bool, HostError> {
        let Some(r) = &self.account.reservation else { return Ok(true) };
        let held = self.account.more.iter().fold(r.amount, |sum, m| sum.saturating_add(m.amount));
        let need = f.reserve_nano_at(to).unwrap_or(0).saturating_add(self.account.lost_nano);
        if need <= held {
            return Ok(true);
        }
        let now = crate::io::now_secs(host)?;
        match spend::reserve(host, r.scopes.clone(), need - held, now)? {
            Some(more) => {
                self.account.more.push(more);
                Ok(true)
            }
            None => {
                host.count(&m::labelled(m::BUDGET, &[("step", "fallback_skipped")]), 1);
                Ok(false)
            }
        }
    }

    /// Notes the attempt that answered, for metrics and logs (filter state), and remembers an
    /// answered conversation's tier.
    pub(super) fn served(&mut self, host: &dyn Host, f: &Flight, status: u16) {
        self.account.status = status;
        if (200..300).contains(&status)
            && let Some(memory) = self.account.memory.take()
            && let Err(e) = crate::sticky::remember(host, &memory)
        {
            host.log(Level::Warn, &format!("model-router: {e}"));
        }
        self.account.answered_estimate = f.estimate_nano();
        self.account.input_estimate = f.input_estimate_nano();
        self.account.labels = Some(f.labels());
    }

    /// Notes where an attempt went, in filter state, when it is sent: a request its client
    /// leaves, or that ends unanswered, still logs the model and provider it was charged under
    /// (they were logged only once an answer's headers came).
    pub(super) fn note_flight(&self, host: &dyn Host, f: &Flight) {
        let field = |name: &str| f.report.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v.as_str());
        let attempts = f.attempts.to_string();
        let notes = self.writes_filter_state();
        for (key, value) in [
            ("model", f.to.model.as_str()),
            ("provider", f.to.provider.as_str()),
            ("tier", field(h::TIER)),
            ("prefer", field(h::PREFER)),
            ("selection", field(h::SELECTION)),
            ("auto_score", field(h::AUTO_SCORE)),
            ("budget", field(h::BUDGET)),
            ("attempts", attempts.as_str()),
            // The API the client spoke, where it is not chat's (the logged path is the provider's).
            ("api", self.inbound.as_ref().map_or("", |i| i.api().name())),
            // The tenant, whom the headers sent on no longer name (`client_header`).
            ("client", self.client.as_deref().unwrap_or("")),
        ] {
            if notes && !value.is_empty() {
                host.note(key, value);
            }
        }
    }

    /// Notes what the answer used: filter state, and what settles the budget at the end.
    /// Returns the cost and token headers.
    pub(super) fn used(
        &mut self,
        host: &dyn Host,
        to: &Upstream,
        usage: Option<Usage>,
    ) -> Vec<(&'static str, String)> {
        let Some(u) = usage else { return Vec::new() };
        let u = plausible(host, to, u, self.account.choices, self.account.output_cap);
        let cost = u.cost(&to.price());
        self.account.usage = Some(u);
        self.account.cost = Some(cost);
        // What the request was charged, as the budgets count it: this answer, and the attempts
        // lost before it (a provider that had the request and never answered).
        let charged = cost + self.account.lost_nano as f64 / 1e9;
        let out = vec![
            (h::COST, format_usd(charged)),
            (h::TOKENS_IN, u.input.to_string()),
            (h::TOKENS_OUT, u.output.to_string()),
        ];
        if self.writes_filter_state() {
            for (key, (_, value)) in ["cost", "tokens_in", "tokens_out"].into_iter().zip(&out) {
                host.note(key, value);
            }
        }
        out
    }

    /// Filter state is written unless the configuration turns it off (`filter_state: false`).
    pub(super) fn writes_filter_state(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| s.config.filter_state)
    }
}

/// What `u` costs at `to`, nano-USD, as charged ([`plausible`]).
pub(super) fn used_nano(host: &dyn Host, to: &Upstream, u: Usage, choices: u64, cap: Option<u64>) -> u64 {
    nano(plausible(host, to, u, choices, cap).cost(&to.price()))
}

/// `u` as charged: bounded by what `to`'s model can bill ([`Usage::beyond`]), logged once a
/// minute per provider when it was not. An embedding model (it writes nothing: no
/// `max_output`, which every chat model has) embeds up to [`MAX_EMBEDDING_INPUTS`] inputs in
/// one request, each up to its window.
pub(super) fn plausible(host: &dyn Host, to: &Upstream, u: Usage, choices: u64, cap: Option<u64>) -> Usage {
    let window = match to.max_output {
        0 => to.context_window.saturating_mul(MAX_EMBEDDING_INPUTS),
        _ => to.context_window,
    };
    let Some(bounded) = u.beyond(window, to.max_output, cap, choices, &to.price()) else { return u };
    let key = format!("model_router.runaway_logged.{}", to.provider);
    if live::once_a_minute(host, &key) {
        host.log(
            Level::Warn,
            &format!(
                "model-router: {} reported usage beyond {} (in {}, out {}): charged as in {}, out {}",
                to.provider, to.model, u.input, u.output, bounded.input, bounded.output
            ),
        );
    }
    bounded
}

/// The most inputs one embeddings request takes (OpenAI's limit, the largest of the providers').
const MAX_EMBEDDING_INPUTS: u64 = 2_048;
