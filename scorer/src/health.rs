//! Live provider health: observed latency, error counts in a window, and circuit breakers,
//! per provider and per deployment (provider + model).
//!
//! The glue keeps one [`Health`] record per key in proxy-wasm shared data, which every Envoy
//! worker reads and updates with compare-and-swap; everything here is pure (time is passed in),
//! so transitions are unit-tested without a host.

use std::borrow::Cow;

use serde::Deserialize;

/// Shared-data key prefix of health records.
pub const KEY_PREFIX: &str = "model_router.health.";

/// What a health record is kept for: a provider as its requests reach it, through Envoy's
/// `cluster`. The provider's name where the cluster bears it (the default), else
/// `provider>cluster` (`>`, which no provider or cluster name of the catalog holds, so no
/// provider's own name reads as another's moved): two router configurations in one VM that send a provider's requests to
/// different clusters (a partner gateway's own egress) share their records otherwise, and one
/// cluster's failures opened the other's healthy provider's breaker (its requests moved to
/// another model) and its latency steered the other's `prefer: fast`.
pub fn reached<'a>(provider: &'a str, cluster: &str) -> Cow<'a, str> {
    if provider == cluster { Cow::Borrowed(provider) } else { Cow::Owned(format!("{provider}>{cluster}")) }
}

/// The record key of a provider (as [`reached`]).
pub fn provider_key(reached: &str) -> String {
    format!("{KEY_PREFIX}p.{reached}")
}

/// The record key of a deployment (one model at one provider, as [`reached`]).
pub fn deployment_key(reached: &str, model: &str) -> String {
    format!("{KEY_PREFIX}d.{reached}/{model}")
}

/// The records an attempt at `model` of `provider` through `cluster` answers to: its
/// provider's, then its own.
pub fn keys(provider: &str, cluster: &str, model: &str) -> [String; 2] {
    let at = reached(provider, cluster);
    [provider_key(&at), deployment_key(&at, model)]
}

/// Breaker and failover settings (`resilience` in the plugin configuration).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResilienceConfig {
    /// Attempts per request, the first included (1 turns failover off).
    pub max_attempts: u32,
    /// Consecutive failures that open a breaker.
    pub failures: u32,
    /// Error rate in the window that opens a breaker (with at least `min_requests`).
    pub error_rate: f64,
    /// Requests in the window before `error_rate` applies.
    pub min_requests: u32,
    /// Length of the error-rate window, seconds.
    pub window_secs: u64,
    /// Seconds an open breaker rejects traffic before probes are let through.
    pub cooldown_secs: u64,
    /// Probe requests let through a cooled-down breaker; this many successes close it.
    pub probes: u32,
    /// Observations a deployment needs before `prefer: fast` ranks it by its latency.
    pub fast_min_samples: u32,
    /// Seconds after which latency observations are stale and the deployment is explored again.
    pub fast_stale_secs: u64,
    /// Whole-response timeout of a fallback attempt, milliseconds (fallbacks are buffered).
    pub fallback_timeout_ms: u64,
    /// When every candidate's breaker is open, route as if they were closed (like Envoy's
    /// outlier-detection panic threshold) instead of refusing: a blip that tripped every
    /// breaker then costs nothing once the providers are back.
    pub fail_open: bool,
    /// A non-streamed answer is held (so its headers can carry its cost) up to this size;
    /// a larger one passes unheld, priced on the way (filter state, logs, budgets). Keep it
    /// well below the listener's `per_connection_buffer_limit_bytes`, or Envoy fails answers
    /// that outgrow its buffer.
    pub max_held_response_bytes: u64,
    /// Client bodies a worker keeps at once for cross-provider fallbacks, bytes in all. A
    /// fallback is rebuilt from the client's own body, so a routed request keeps it until it
    /// ends; one that does not fit in what is left goes without (if its provider fails,
    /// Envoy's own retries still apply, no other provider is tried) and is counted in
    /// `failover_unkept`. The VM's memory never shrinks: this bounds what a burst of large
    /// bodies leaves behind.
    pub failover_body_bytes: u64,
}

impl Default for ResilienceConfig {
    fn default() -> Self {
        ResilienceConfig {
            max_attempts: 3,
            failures: 5,
            error_rate: 0.5,
            min_requests: 20,
            window_secs: 60,
            cooldown_secs: 30,
            probes: 1,
            fast_min_samples: 3,
            fast_stale_secs: 300,
            fallback_timeout_ms: 300_000,
            fail_open: true,
            max_held_response_bytes: 256 * 1024,
            failover_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The longest `fallback_timeout_ms`: Envoy's, a signed 32-bit count of milliseconds.
pub const MAX_FALLBACK_TIMEOUT_MS: u64 = i32::MAX as u64;

impl ResilienceConfig {
    /// Checks ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let bad = if self.max_attempts == 0 || self.max_attempts > 10 {
            "max_attempts must be 1..=10"
        } else if self.failures == 0 {
            "failures must be at least 1"
        } else if !(self.error_rate > 0.0 && self.error_rate <= 1.0) {
            "error_rate must be in (0, 1]"
        } else if self.min_requests == 0 {
            // None: a provider's first failure is an error rate of 100% and opens its breaker.
            "min_requests must be at least 1"
        } else if self.cooldown_secs == 0 {
            // None: an open breaker admitted every request as a probe at once (50 of 50 with
            // `probes: 1`), and each failure logged the circuit opening again.
            "cooldown_secs must be at least 1"
        } else if self.window_secs == 0 {
            "window_secs must be at least 1"
        } else if self.probes == 0 {
            "probes must be at least 1"
        } else if self.fast_min_samples == 0 {
            // None: a deployment never observed ranks first for `prefer: fast` (0 ms).
            "fast_min_samples must be at least 1"
        } else if !(1..=MAX_FALLBACK_TIMEOUT_MS).contains(&self.fallback_timeout_ms) {
            // Envoy takes a call's timeout as a signed 32-bit count: past it, every fallback
            // failed to dispatch. (Every value that worked before still loads.)
            "fallback_timeout_ms must be from 1 to 2147483647 (Envoy's limit)"
        } else {
            return Ok(());
        };
        Err(format!("resilience: {bad}"))
    }
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Breaker {
    /// Traffic flows.
    #[default]
    Closed,
    /// No traffic for `cooldown_secs` after `since`, as the configuration says when it is
    /// read: a cooldown the operator shortens (or a provider it points elsewhere) applies to
    /// the breakers already open, which kept the end the old one had set until Envoy restarted.
    Open {
        /// When it opened (seconds since the epoch).
        since: u64,
    },
    /// Cooled down: up to `probes` requests test the provider.
    HalfOpen {
        /// Probes let through so far (in flight or finished).
        started: u32,
        /// Probes that succeeded.
        passed: u32,
        /// When the first probe started: probes lost in flight are forgotten after a cooldown.
        since: u64,
    },
}

impl Breaker {
    /// 0 closed, 1 open, 2 half-open: the metric value.
    pub fn gauge(self) -> u64 {
        match self {
            Breaker::Closed => 0,
            Breaker::Open { .. } => 1,
            Breaker::HalfOpen { .. } => 2,
        }
    }
}

/// What the breaker says about sending a request now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Closed: send.
    Yes,
    /// A probe may be sent: claim it first with [`Health::claim_probe`].
    Probe,
    /// Open, or all probes are out: skip.
    No,
}

/// How one attempt ended, as far as health is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The provider answered (2xx, or a 4xx that is the client's fault). Its time is no
    /// latency observation: a non-streamed answer's headers come after its whole generation,
    /// whose length the request decides (one client's long answers made a deployment look slow
    /// to every client's `prefer: fast`), as does a fallback's answer, which comes whole, and
    /// an error's.
    Answered,
    /// 5xx, 429, connection failure or timeout.
    Failed,
    /// A stream, or a whole answer that came through the route, ended: whole (`true`), or
    /// failed mid-way. Its success or failure is recorded when it ends, not at its headers: a
    /// provider failing every answer mid-way never reached its consecutive failures (each
    /// headers' success reset them), and a probe closed its breaker before its answer failed.
    /// Its latency is its first byte's ([`Health::record_first_byte`]): a client that closed
    /// streams right after their headers made a slow deployment look fast. One its client
    /// leaves is neither.
    Ended(bool),
}

/// The least wait for a first byte, given up on, that starts a latency average where there is
/// none fresh: a client that stops within a second (an editor's completion, a user's stop) says
/// little of its deployment, and counted it gave one a fast average (found reviewing the diff).
pub const MIN_WAIT_MS: f64 = 1_000.0;

/// Weight of a new latency observation in the moving average.
const EWMA_ALPHA: f64 = 0.3;

/// One key's record.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Health {
    /// Kept in the record's form (`h1`) and no longer measured: a stream's headers are no
    /// latency observation (a client closing streams right after them made a slow deployment
    /// look fast).
    pub headers_ms: f64,
    /// Moving average of the time to the first response byte of streams, ms.
    pub first_byte_ms: f64,
    /// Latency observations so far.
    pub samples: u32,
    /// When the last latency was observed.
    pub last_sample: u64,
    /// Start of the current error window.
    pub window_start: u64,
    /// Attempts in the window.
    pub window_total: u32,
    /// Failed attempts in the window.
    pub window_errors: u32,
    /// Failures since the last success.
    pub consecutive: u32,
    /// Times the breaker opened (a counter for metrics).
    pub opened: u32,
    /// The breaker.
    pub breaker: Breaker,
}

/// Whether a whole cooldown has passed since `since`: times are whole seconds, so one that
/// began late in its second has passed only once the second after its end begins (taken as
/// passed in its last second, a one-second cooldown ran 60 ms, and a probe still out was taken
/// for lost: one more than `probes` went to the failing provider, one round in ten).
fn cooled(now: u64, since: u64, cfg: &ResilienceConfig) -> bool {
    now > since.saturating_add(cfg.cooldown_secs)
}

impl Health {
    /// Seconds until a breaker that refuses requests now ([`Health::admit`] says `No`) lets
    /// one through: the second after its cooldown (a half-open one's whose probes are all out
    /// may let one sooner, as a probe ends). 0 when closed.
    pub fn refuses_for(&self, now: u64, cfg: &ResilienceConfig) -> u64 {
        match self.breaker {
            Breaker::Closed => 0,
            Breaker::Open { since } | Breaker::HalfOpen { since, .. } => {
                since.saturating_add(cfg.cooldown_secs).saturating_add(1).saturating_sub(now)
            }
        }
    }

    /// Whether a request may go now.
    pub fn admit(&self, now: u64, cfg: &ResilienceConfig) -> Admit {
        match self.breaker {
            Breaker::Closed => Admit::Yes,
            Breaker::Open { since } if !cooled(now, since, cfg) => Admit::No,
            Breaker::Open { .. } => Admit::Probe,
            Breaker::HalfOpen { started, since, .. } => {
                if started < cfg.probes || cooled(now, since, cfg) {
                    Admit::Probe
                } else {
                    Admit::No
                }
            }
        }
    }

    /// Takes a probe slot (call only when [`Health::admit`] said `Probe`).
    pub fn claim_probe(&mut self, now: u64, cfg: &ResilienceConfig) {
        self.breaker = match self.breaker {
            Breaker::HalfOpen { started, passed, since } if !cooled(now, since, cfg) => {
                Breaker::HalfOpen { started: started + 1, passed, since }
            }
            // Newly cooled down, or probes lost in flight: start probing afresh.
            _ => Breaker::HalfOpen { started: 1, passed: 0, since: now },
        };
    }

    /// Gives back a probe slot whose attempt will never report (its client left before it was
    /// answered): held, it kept a recovered provider out until the next cooldown, again and
    /// again for a client that kept leaving.
    pub fn release_probe(&mut self) {
        if let Breaker::HalfOpen { started, passed, since } = self.breaker
            && started > passed
        {
            self.breaker = Breaker::HalfOpen { started: started - 1, passed, since };
        }
    }

    /// Records an attempt's outcome at `now`, as one that held its probe slot if the breaker
    /// probes; returns true when this opened the breaker.
    pub fn record(&mut self, outcome: Outcome, now: u64, cfg: &ResilienceConfig) -> bool {
        self.record_attempt(outcome, true, now, cfg)
    }

    /// [`Health::record`] for an attempt that took a probe slot (`probed`) or none. While the
    /// breaker probes, only its probes decide it: an attempt without a slot was sent before
    /// the breaker opened (a long answer), and its outcome counts in the window only. Taken as
    /// a probe's, an answer begun before the provider failed closed the breaker while its real
    /// probe was still out, and a failure from before the opening reopened it.
    pub fn record_attempt(
        &mut self,
        outcome: Outcome,
        probed: bool,
        now: u64,
        cfg: &ResilienceConfig,
    ) -> bool {
        let late = !probed && matches!(self.breaker, Breaker::HalfOpen { .. });
        if now >= self.window_start.saturating_add(cfg.window_secs) {
            self.window_start = now;
            self.window_total = 0;
            self.window_errors = 0;
        }
        self.window_total = self.window_total.saturating_add(1);
        match outcome {
            Outcome::Answered | Outcome::Ended(true) => {
                self.consecutive = 0;
                if let Breaker::HalfOpen { started, passed, since } = self.breaker
                    && !late
                {
                    self.breaker = if passed + 1 >= cfg.probes {
                        // Closed with a clean window: old errors do not reopen it at once.
                        self.window_start = now;
                        self.window_total = 0;
                        self.window_errors = 0;
                        Breaker::Closed
                    } else {
                        Breaker::HalfOpen { started, passed: passed + 1, since }
                    };
                }
                false
            }
            Outcome::Failed | Outcome::Ended(false) => {
                self.window_errors = self.window_errors.saturating_add(1);
                self.consecutive = self.consecutive.saturating_add(1);
                let trips = match self.breaker {
                    Breaker::HalfOpen { .. } => !late,
                    Breaker::Open { .. } => false,
                    Breaker::Closed => {
                        self.consecutive >= cfg.failures
                            || (self.window_total >= cfg.min_requests
                                && f64::from(self.window_errors)
                                    >= cfg.error_rate * f64::from(self.window_total))
                    }
                };
                if trips {
                    self.breaker = Breaker::Open { since: now };
                    self.opened = self.opened.saturating_add(1);
                }
                trips
            }
        }
    }

    /// Records the time to a stream's first byte: the latency `prefer: fast` ranks by. Stale
    /// averages restart rather than blend.
    pub fn record_first_byte(&mut self, ms: f64, now: u64, stale_after: u64) {
        if self.samples == 0 || self.stale(now, stale_after) {
            self.first_byte_ms = ms;
            self.samples = 0;
        } else {
            self.first_byte_ms = ewma(self.first_byte_ms, ms);
        }
        self.samples = self.samples.saturating_add(1);
        self.last_sample = now;
    }

    /// A stream its client left (or Envoy ended) before its first byte, `ms` after it was sent:
    /// its first byte is later still. A latency `prefer: fast` must see, or a deployment slower
    /// than its clients' patience never gave a sample and kept its place (first, as unobserved,
    /// or on an old fast average). It raises a fresh average it is above (below one, it tells
    /// nothing), and starts one where there is none fresh when it is at least [`MIN_WAIT_MS`].
    pub fn record_wait(&mut self, ms: f64, now: u64, stale_after: u64) {
        let fresh = self.samples > 0 && !self.stale(now, stale_after);
        if (fresh && ms > self.first_byte_ms) || (!fresh && ms >= MIN_WAIT_MS) {
            self.record_first_byte(ms, now, stale_after);
        }
    }

    fn stale(&self, now: u64, after: u64) -> bool {
        now.saturating_sub(self.last_sample) > after
    }

    /// The latency `prefer: fast` ranks by, once there are enough fresh observations.
    pub fn latency(&self, now: u64, cfg: &ResilienceConfig) -> Option<f64> {
        (self.samples >= cfg.fast_min_samples && !self.stale(now, cfg.fast_stale_secs))
            .then_some(self.first_byte_ms)
    }

    /// Error rate in the current window.
    pub fn error_rate(&self) -> f64 {
        if self.window_total == 0 {
            0.0
        } else {
            f64::from(self.window_errors) / f64::from(self.window_total)
        }
    }

    /// The shared-data form: a versioned line of numbers.
    pub fn encode(&self) -> String {
        let (state, a, b, c) = match self.breaker {
            Breaker::Closed => (0, 0, 0, 0),
            Breaker::Open { since } => (1, since, 0, 0),
            Breaker::HalfOpen { started, passed, since } => (2, u64::from(started), u64::from(passed), since),
        };
        format!(
            "h1 {:.3} {:.3} {} {} {} {} {} {} {} {state} {a} {b} {c}",
            self.headers_ms,
            self.first_byte_ms,
            self.samples,
            self.last_sample,
            self.window_start,
            self.window_total,
            self.window_errors,
            self.consecutive,
            self.opened
        )
    }

    /// Reads [`Health::encode`]'s form; `None` for anything else (a fresh record is used).
    pub fn decode(bytes: &[u8]) -> Option<Health> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut it = text.split(' ');
        if it.next()? != "h1" {
            return None;
        }
        let mut f = || it.next();
        let float = |s: Option<&str>| s?.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let int = |s: Option<&str>| s?.parse::<u64>().ok();
        let small = |s: Option<&str>| s?.parse::<u32>().ok();
        let headers_ms = float(f())?;
        let first_byte_ms = float(f())?;
        let samples = small(f())?;
        let last_sample = int(f())?;
        let window_start = int(f())?;
        let window_total = small(f())?;
        let window_errors = small(f())?;
        let consecutive = small(f())?;
        let opened = small(f())?;
        let (state, a, b, c) = (int(f())?, int(f())?, int(f())?, int(f())?);
        if f().is_some() {
            return None;
        }
        let breaker = match state {
            0 => Breaker::Closed,
            1 => Breaker::Open { since: a },
            2 => Breaker::HalfOpen {
                started: u32::try_from(a).ok()?,
                passed: u32::try_from(b).ok()?,
                since: c,
            },
            _ => return None,
        };
        Some(Health {
            headers_ms,
            first_byte_ms,
            samples,
            last_sample,
            window_start,
            window_total,
            window_errors,
            consecutive,
            opened,
            breaker,
        })
    }
}

fn ewma(old: f64, new: f64) -> f64 {
    old + EWMA_ALPHA * (new - old)
}

/// What the glue can tell the router about live health (shared data, read lazily).
pub trait Live {
    /// The record under `key`, if there is one.
    fn health(&self, key: &str) -> Option<Health>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ResilienceConfig {
        ResilienceConfig {
            failures: 3,
            min_requests: 10,
            error_rate: 0.5,
            cooldown_secs: 30,
            ..Default::default()
        }
    }

    /// Each range is checked, naming its field; a fallback timeout past Envoy's signed 32-bit
    /// milliseconds made every fallback fail to dispatch, and a zero `min_requests` or
    /// `fast_min_samples` was taken.
    #[test]
    fn out_of_range_settings_are_refused_naming_the_field() {
        let bad = |c: ResilienceConfig| c.validate().err().unwrap_or_default();
        assert_eq!(cfg().validate(), Ok(()));
        assert!(bad(ResilienceConfig { max_attempts: 11, ..cfg() }).contains("max_attempts"));
        assert!(bad(ResilienceConfig { probes: 0, ..cfg() }).contains("probes"));
        // Zero inverted what these mean: one failure opened a breaker; a deployment never
        // observed was the fastest.
        assert!(bad(ResilienceConfig { min_requests: 0, ..cfg() }).contains("min_requests"));
        assert!(bad(ResilienceConfig { fast_min_samples: 0, ..cfg() }).contains("fast_min_samples"));
        // A breaker that cools down in no time let every request through as a probe.
        assert!(bad(ResilienceConfig { cooldown_secs: 0, ..cfg() }).contains("cooldown_secs"));
        assert_eq!(
            ResilienceConfig { min_requests: 1, fast_min_samples: 1, cooldown_secs: 1, ..cfg() }.validate(),
            Ok(())
        );
        for ms in [0, 2_147_483_648, u64::from(u32::MAX) + 1] {
            assert!(
                bad(ResilienceConfig { fallback_timeout_ms: ms, ..cfg() }).contains("fallback_timeout_ms"),
                "{ms}"
            );
        }
        assert_eq!(ResilienceConfig { fallback_timeout_ms: 2_147_483_647, ..cfg() }.validate(), Ok(()));
    }

    #[test]
    fn consecutive_failures_open_then_a_probe_closes() {
        let c = cfg();
        let mut h = Health::default();
        assert!(!h.record(Outcome::Failed, 100, &c));
        assert!(!h.record(Outcome::Failed, 100, &c));
        assert!(h.record(Outcome::Failed, 101, &c));
        assert_eq!(h.breaker, Breaker::Open { since: 101 });
        assert_eq!(h.admit(131, &c), Admit::No, "the cooldown's last second");
        assert_eq!(h.admit(132, &c), Admit::Probe);
        h.claim_probe(132, &c);
        // One probe out (probes = 1): nobody else gets through until it reports.
        assert_eq!(h.admit(132, &c), Admit::No);
        assert!(!h.record(Outcome::Answered, 133, &c));
        assert_eq!(h.breaker, Breaker::Closed);
        assert_eq!(h.admit(133, &c), Admit::Yes);
        assert_eq!(h.opened, 1);
    }

    /// A stream counts as a success or a failure when it ends, not at its headers: a provider
    /// failing every stream mid-way opens its breaker by consecutive failures (each headers'
    /// success reset them), and a probe's stream keeps the breaker half-open until it ends.
    #[test]
    fn a_stream_is_judged_when_it_ends() {
        let c = cfg();
        let mut h = Health::default();
        for (t, trips) in [(100, false), (101, false), (102, true)] {
            assert_eq!(h.record(Outcome::Ended(false), t, &c), trips, "{t}");
        }
        assert_eq!((h.window_total, h.window_errors), (3, 3), "one request each");
        assert_eq!(h.admit(133, &c), Admit::Probe);
        h.claim_probe(133, &c);
        assert!(matches!(h.breaker, Breaker::HalfOpen { .. }), "{:?}", h.breaker);
        assert!(h.record(Outcome::Ended(false), 140, &c), "the probe's stream failed");
        assert_eq!(h.admit(171, &c), Admit::Probe);
        h.claim_probe(171, &c);
        assert!(!h.record(Outcome::Ended(true), 175, &c));
        assert_eq!(h.breaker, Breaker::Closed);
        // Whole streams between failed ones reset the streak, as any success does.
        for t in 180..190 {
            h.record(Outcome::Ended(t % 3 != 0), t, &c);
        }
        assert_eq!(h.breaker, Breaker::Closed);
    }

    /// An open breaker ends by the cooldown the configuration says now: one opened under an
    /// hour's cooldown kept that hour after the operator set 30 s (found reloading a config).
    #[test]
    fn an_open_breaker_follows_the_cooldown_configured_now() {
        let long = ResilienceConfig { cooldown_secs: 3600, ..cfg() };
        let mut h = Health::default();
        for _ in 0..long.failures {
            h.record(Outcome::Failed, 100, &long);
        }
        assert_eq!(h.admit(200, &long), Admit::No);
        let short = ResilienceConfig { cooldown_secs: 30, ..cfg() };
        assert_eq!((h.admit(130, &short), h.admit(131, &short)), (Admit::No, Admit::Probe));
    }

    /// While a probe is out, an attempt sent before the breaker opened (it took no slot)
    /// neither closes the breaker by its success nor reopens it by its failure: only the
    /// probe's own outcome does. Both count in the window.
    #[test]
    fn only_a_probe_decides_a_probing_breaker() {
        let c = cfg();
        let probing = || {
            let mut h = Health { breaker: Breaker::Open { since: 0 }, ..Health::default() };
            h.claim_probe(40, &c);
            h
        };
        for outcome in [Outcome::Answered, Outcome::Ended(true), Outcome::Failed, Outcome::Ended(false)] {
            let mut h = probing();
            let before = h.breaker;
            assert!(!h.record_attempt(outcome, false, 41, &c), "{outcome:?}");
            assert_eq!(h.breaker, before, "{outcome:?}");
            assert_eq!(h.window_total, 1, "{outcome:?}");
            assert_eq!(h.admit(42, &c), Admit::No, "{outcome:?}: the probe is still out");
        }
        let mut h = probing();
        assert!(!h.record_attempt(Outcome::Answered, true, 41, &c));
        assert_eq!(h.breaker, Breaker::Closed);
        let mut h = probing();
        assert!(h.record_attempt(Outcome::Failed, true, 41, &c));
        assert_eq!(h.breaker, Breaker::Open { since: 41 });
        // Closed, an attempt without a slot counts as ever (opening the breaker included).
        let mut h = Health::default();
        let trips: Vec<bool> =
            (0..c.failures).map(|t| h.record_attempt(Outcome::Failed, false, t.into(), &c)).collect();
        assert_eq!(trips.last(), Some(&true), "{trips:?}");
    }

    #[test]
    fn a_failed_probe_reopens_and_a_lost_probe_is_forgotten() {
        let c = cfg();
        let mut h = Health { breaker: Breaker::Open { since: 0 }, ..Health::default() };
        h.claim_probe(10, &c);
        assert!(h.record(Outcome::Failed, 11, &c));
        assert_eq!(h.breaker, Breaker::Open { since: 11 });
        h.claim_probe(41, &c);
        assert_eq!(h.admit(50, &c), Admit::No);
        // The probe never reported (its worker went away): after a whole cooldown, probe again
        // (not in its last second: times are whole seconds).
        assert_eq!((h.admit(71, &c), h.admit(72, &c)), (Admit::No, Admit::Probe));
    }

    #[test]
    fn error_rate_opens_only_with_enough_requests_in_the_window() {
        let c = cfg();
        let mut h = Health::default();
        for i in 0..9 {
            let o = if i % 2 == 0 { Outcome::Failed } else { Outcome::Answered };
            assert!(!h.record(o, 5, &c), "opened at {i}");
        }
        // 10th request: 5 errors of 10 reaches 50%.
        assert!(h.record(Outcome::Failed, 5, &c));
        // A new window forgets old counts.
        let mut h = Health::default();
        for _ in 0..9 {
            h.record(Outcome::Answered, 0, &c);
        }
        h.record(Outcome::Failed, 61, &c);
        assert_eq!((h.window_total, h.window_errors), (1, 1));
    }

    /// A wait a client gave up on is a lower bound: it raises an average below it, starts one,
    /// and leaves one above it alone.
    #[test]
    fn a_wait_given_up_on_only_raises_the_latency() {
        let c = cfg();
        let stale = c.fast_stale_secs;
        let mut h = Health::default();
        h.record_wait(50.0, 0, stale);
        assert_eq!(h.samples, 0, "a quick stop starts nothing");
        h.record_wait(2_000.0, 0, stale);
        assert_eq!((h.first_byte_ms, h.samples), (2_000.0, 1));
        let mut h = Health::default();
        for _ in 0..3 {
            h.record_first_byte(100.0, 0, stale);
        }
        h.record_wait(50.0, 1, stale);
        assert_eq!((h.first_byte_ms, h.samples, h.last_sample), (100.0, 3, 0), "below: nothing");
        h.record_wait(4_000.0, 2, stale);
        assert!(h.first_byte_ms > 1_000.0 && h.samples == 4, "{h:?}");
    }

    #[test]
    fn latency_needs_enough_fresh_samples() {
        let c = cfg();
        let stale = c.fast_stale_secs;
        let mut h = Health::default();
        for ms in [100.0, 100.0] {
            h.record_first_byte(ms, 0, stale);
        }
        assert_eq!(h.latency(0, &c), None);
        h.record_first_byte(200.0, 0, stale);
        assert!((h.latency(0, &c).unwrap_or_default() - 130.0).abs() < 1e-9);
        assert_eq!(h.latency(301, &c), None);
        // A stale average restarts.
        h.record_first_byte(30.0, 400, stale);
        assert_eq!((h.first_byte_ms, h.samples), (30.0, 1));
        // An answer's end is no sample either: only a stream's first byte is.
        for _ in 0..5 {
            h.record(Outcome::Ended(true), 400, &c);
        }
        assert_eq!((h.first_byte_ms, h.samples), (30.0, 1));
    }

    #[test]
    fn encoding_round_trips_and_refuses_garbage() {
        let mut h = Health { headers_ms: 12.5, samples: 7, opened: 2, ..Health::default() };
        h.breaker = Breaker::HalfOpen { started: 2, passed: 1, since: 99 };
        assert_eq!(Health::decode(h.encode().as_bytes()), Some(h));
        h.breaker = Breaker::Open { since: 1234 };
        assert_eq!(Health::decode(h.encode().as_bytes()), Some(h));
        for bad in [
            "",
            "h1",
            "h2 0 0 0 0 0 0 0 0 0 0 0 0 0",
            "h1 -1 0 0 0 0 0 0 0 0 0 0 0 0",
            "h1 nan 0 0 0 0 0 0 0 0 0 0 0 0",
        ] {
            assert_eq!(Health::decode(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(Health::decode(b"h1 0 0 0 0 0 0 0 0 0 9 0 0 0"), None);
    }
}
