//! An attempt at a provider: its response headers (let through, failed over, or a 400 looked
//! at closer) and its health record.

use model_router_scorer::health::Outcome;
use model_router_scorer::usage::StreamUsage;
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use super::answer::add_response_headers;
use super::flight::{Failed, Flight, Retry, Watch, is_context_error, retryable};
use super::{Http, Phase};
use crate::headers as h;
use crate::host;
use crate::live;
use crate::shared::Shared;

/// Seconds between two "credentials rejected" lines for one provider.
const AUTH_LOG_INTERVAL_SECS: u64 = 60;

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
