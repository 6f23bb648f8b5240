//! An attempt at a provider: its response headers (let through, failed over, or a 400 looked
//! at closer), its health record, and the routed request's state across attempts (`Flight`).

use model_router_scorer::health::Outcome;
use model_router_scorer::request::Layout;
use model_router_scorer::route::{Fallback, Upstream};
use model_router_scorer::translate::ResponseTranslation;
use model_router_scorer::usage::StreamUsage;
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use super::answer::add_response_headers;
use super::failover::{Retry, is_context_error};
use super::stream::Watch;
use super::{Http, Phase};
use crate::headers as h;
use crate::host;
use crate::live;
use crate::shared::Shared;

/// A routed request and its attempts.
pub(super) struct Flight {
    /// The decision as reported to the client (tier, prefer, auto, ...), besides model and
    /// provider, which belong to the attempt that answers.
    pub(super) report: Vec<(&'static str, String)>,
    /// The attempt in progress.
    pub(super) to: Upstream,
    /// Candidates not tried yet, best first.
    pub(super) fallbacks: Vec<Fallback>,
    /// The client's body, kept while a fallback may need it (empty otherwise).
    pub(super) body: Vec<u8>,
    /// Where its members are: a fallback's body is spliced from it, not parsed again.
    pub(super) layout: Layout,
    /// Attempts sent so far.
    pub(super) attempts: u32,
    /// The attempts that failed, in order, for the final error and `Fallback-From`.
    pub(super) failed: Vec<Failed>,
    /// The smallest `retry-after` (seconds) a rate-limited attempt was given.
    pub(super) retry_after: Option<u64>,
    /// Every candidate's breaker was open: fallbacks are tried without asking them.
    pub(super) fail_open: bool,
    /// When the current attempt was sent (host clock, ns).
    pub(super) sent_ns: u64,
    /// The client asked for a stream.
    pub(super) stream: bool,
    /// The client asked for the stream's usage.
    pub(super) usage_requested: bool,
    /// How the response body is translated back (Titan embeddings).
    pub(super) translation: Option<ResponseTranslation>,
}

impl Flight {
    /// The first attempt at `to`, sent at `sent_ns`, with nothing to fall back on.
    pub(super) fn new(to: Upstream, sent_ns: u64) -> Flight {
        Flight {
            report: Vec::new(),
            to,
            fallbacks: Vec::new(),
            body: Vec::new(),
            layout: Layout::default(),
            attempts: 1,
            failed: Vec::new(),
            retry_after: None,
            fail_open: false,
            sent_ns,
            stream: false,
            usage_requested: false,
            translation: None,
        }
    }

    /// Headers telling the client what ran.
    pub(super) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (h::MODEL, self.to.model.clone()),
            (h::PROVIDER, self.to.provider.clone()),
            (h::ATTEMPTS, self.attempts.to_string()),
        ];
        let from: Vec<&str> = self.failed.iter().filter(|x| x.sent).map(|x| x.who.as_str()).collect();
        if !from.is_empty() {
            v.push((h::FALLBACK_FROM, from.join(", ")));
        }
        v.extend(self.report.iter().cloned());
        v
    }

    /// Keeps the smallest `retry-after` a rate-limited attempt was given.
    pub(super) fn note_retry_after(&mut self, value: Option<&str>) {
        if let Some(secs) = retry_secs(value) {
            self.retry_after = Some(self.retry_after.map_or(secs, |r| r.min(secs)));
        }
    }

    fn elapsed_ms(&self, now_ns: u64) -> f64 {
        now_ns.saturating_sub(self.sent_ns) as f64 / 1e6
    }
}

/// An attempt that failed.
pub(super) struct Failed {
    /// `provider/model`.
    pub(super) who: String,
    /// Its status (0: no response at all).
    pub(super) status: u16,
    /// It reached the provider (false: its cluster could not be called).
    pub(super) sent: bool,
}

impl Failed {
    pub(super) fn describe(&self) -> String {
        match (self.sent, self.status) {
            (false, _) => format!("{} unreachable", self.who),
            (true, 0) => format!("{} no response", self.who),
            (true, 401 | 403) => format!("{} {} credentials rejected", self.who, self.status),
            (true, s) => format!("{} {s}", self.who),
        }
    }
}

/// Statuses another provider may answer: server errors, rate limits, Envoy's own 503/504 for
/// connection failures and timeouts, and 401/403 (the client sends no key, so these reject
/// the gateway's own credentials). `0` is an attempt that got no response at all. They count
/// against the provider's health, and never reach the client as the provider wrote them.
pub(super) fn retryable(status: u16) -> bool {
    matches!(status, 0 | 401 | 403 | 429) || status >= 500
}

/// Seconds between two "credentials rejected" lines for one provider.
const AUTH_LOG_INTERVAL_SECS: u64 = 60;

/// Seconds in a `retry-after` value (the HTTP-date form is not read).
fn retry_secs(value: Option<&str>) -> Option<u64> {
    value?.trim().parse().ok()
}

impl Http {
    /// The routed attempt's response headers: record its health, then let it through, fail
    /// over, or look closer at a 400.
    pub(super) fn on_attempt_headers(&mut self, mut f: Box<Flight>, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared_or_log() else { return Action::Continue };
        let status = crate::span!("get_status", host::header(MapType::HttpResponseHeaders, h::STATUS))
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let now_ns = host::now_nanos().unwrap_or(f.sent_ns);
        if status == 429 {
            let after = host::header(MapType::HttpResponseHeaders, h::RETRY_AFTER).ok().flatten();
            f.note_retry_after(after.as_deref());
        }
        crate::span!("record_attempt", self.record_attempt(&shared, &mut f, status, now_ns));
        if retryable(status) {
            match self.fail_over(&shared, &mut f, Retry::Failure) {
                Ok(true) => {
                    self.phase = Phase::Failing(f);
                    return Action::Pause;
                }
                Ok(false) => {}
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: failover: {e}")),
            }
            // Nothing else can answer: the router's own error, never the provider's body.
            self.exhausted(&f);
            return Action::Pause;
        }
        // A translated body or an edited stream changes length; a translation is JSON.
        // (A translated provider's errors are translated too: one error shape for clients.)
        let translated = f.translation.is_some() && !end_of_stream;
        let edited_stream = status == 200 && f.translation.is_none() && f.stream && !end_of_stream;
        let mut ours = f.headers();
        if translated {
            ours.push((h::CONTENT_TYPE, "application/json".to_string()));
        }
        crate::span!("add_response_headers", add_response_headers(ours, translated || edited_stream));
        if status == 400 && !end_of_stream && f.attempts < shared.config.resilience.max_attempts {
            let window = f.to.context_window;
            if !f.body.is_empty() && f.fallbacks.iter().any(|u| u.context_window > window) {
                self.phase = Phase::Checking(f);
                return Action::Pause;
            }
        }
        crate::span!("served", self.served(&f, status));
        if translated {
            // Hold the headers until the body is translated, so they can carry its cost.
            self.phase = Phase::Translating(f, status);
            return Action::Pause;
        }
        if status == 200 && !end_of_stream {
            if edited_stream {
                // Cost added, usage chunk removed, an error event appended.
                let editor = StreamUsage::new((f.to.price_in, f.to.price_out), f.usage_requested);
                let Flight { to, sent_ns, .. } = *f;
                self.phase = Phase::Streaming(Box::new(Watch { to, sent_ns, started: false, editor }));
            } else {
                // Hold the headers until the body is here (if it is small), so they can carry
                // its cost.
                self.phase = Phase::Costing(f);
                return Action::Pause;
            }
        }
        Action::Continue
    }

    /// Records how an attempt went, for health and metrics.
    pub(super) fn record_attempt(&self, shared: &Shared, f: &mut Flight, status: u16, now_ns: u64) {
        let outcome = if retryable(status) { Outcome::Failed } else { Outcome::Ok(f.elapsed_ms(now_ns)) };
        let now = now_ns / 1_000_000_000;
        live::record(&f.to, outcome, now, &shared.config.resilience, &shared.metrics);
        if retryable(status) {
            f.failed.push(Failed { who: format!("{}/{}", f.to.provider, f.to.model), status, sent: true });
        }
        if matches!(status, 401 | 403) {
            shared.metrics.count(&format!("auth_failed.provider.{}", live::stat_segment(&f.to.provider)), 1);
            let key = format!("model_router.auth_logged.{}", f.to.provider);
            if live::first_in(&key, AUTH_LOG_INTERVAL_SECS, now) {
                host::log(
                    LogLevel::Error,
                    &format!(
                        "model-router: credentials rejected by {} ({status}): check the key the gateway sends it",
                        f.to.provider
                    ),
                );
            }
        }
    }

    /// A provider's 400, buffered: a context-length error moves to a larger window.
    pub(super) fn check_client_error(
        &mut self,
        mut f: Box<Flight>,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if !end_of_stream {
            // An error body this large is no context-length error: let it go.
            if body_size as u64 <= self.hold_limit() {
                self.phase = Phase::Checking(f);
                return Action::Pause;
            }
            return Action::Continue;
        }
        let Some(shared) = self.shared_or_log() else { return Action::Continue };
        let body = host::buffer(BufferType::HttpResponseBody, body_size).unwrap_or_default();
        if is_context_error(&body) {
            let why = Retry::Context(f.to.context_window);
            match self.fail_over(&shared, &mut f, why) {
                Ok(true) => {
                    self.phase = Phase::Failing(f);
                    return Action::Pause;
                }
                Ok(false) => {}
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: failover: {e}")),
            }
        }
        Action::Continue
    }
}
