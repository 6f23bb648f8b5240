//! Daily spend limits (UTC days), global and per client, kept in shared data by the glue.
//!
//! A request reserves its estimated cost in every scope that applies before it is sent, and
//! settles with the real cost when it ends, so concurrent requests cannot overshoot a limit by
//! more than the sum of (real − estimated) over the requests in flight, which is zero when
//! clients set `max_tokens` (the input estimate errs high). Amounts are integer nano-USD so
//! concurrent updates add exactly.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::ApiError;

/// Shared-data key prefix of spend records.
pub const KEY_PREFIX: &str = "model_router.spend2.";

/// The prefix of the records before holds had lifetimes (`s1`). A new key, not a new form under
/// the old one: during an upgrade the old module's VMs still settle the requests they drain,
/// and a record they cannot read they would take for empty and write back over the day's spend.
pub const PREVIOUS_KEY_PREFIX: &str = "model_router.spend.";

/// Spend limits (`budgets` in the plugin configuration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// Daily USD limit for all traffic through this Envoy.
    pub daily_usd: Option<f64>,
    /// Daily USD limits per client (values of `client_header`).
    pub clients: BTreeMap<String, f64>,
    /// Daily USD limit of any client not in `clients` (needs `client_header`).
    pub client_default_usd: Option<f64>,
    /// At a limit, step down premium -> standard -> economy -> free models instead of refusing.
    pub ladder: bool,
    /// A request that sets no output cap (`max_tokens`, `max_completion_tokens`) reserves, and
    /// is routed within what is left, as if it asked for its model's whole `max_output`: the
    /// limits then hold whatever the answers' length. Off, it reserves `default_output_tokens`
    /// (with an effort's thinking) and a long answer runs past a limit by what it outgrew that.
    pub reserve_max_output: bool,
    /// Seconds a reservation holds its amount if it is never settled (its VM crashed mid-request,
    /// or the settle lost its compare-and-swap races): then it is given back. A request still
    /// running past it keeps running and its spend is still counted when it ends.
    pub reservation_ttl_secs: u64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            daily_usd: None,
            clients: BTreeMap::new(),
            client_default_usd: None,
            ladder: true,
            reserve_max_output: false,
            reservation_ttl_secs: 3600,
        }
    }
}

impl BudgetConfig {
    /// Checks the amounts; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if self.daily_usd.is_some_and(|v| !ok(v)) || self.client_default_usd.is_some_and(|v| !ok(v)) {
            return Err("budgets: limits must be non-negative numbers of USD".into());
        }
        if let Some((c, _)) = self.clients.iter().find(|(_, v)| !ok(**v)) {
            return Err(format!("budgets: the limit of client {c:?} must be a non-negative number of USD"));
        }
        if !(60..=86_400).contains(&self.reservation_ttl_secs) {
            return Err("budgets: reservation_ttl_secs must be from 60 to 86400".into());
        }
        Ok(())
    }

    /// The scopes a request from `client` counts against.
    pub fn scopes(&self, client: Option<&str>) -> Vec<Scope> {
        let mut out = Vec::new();
        if let Some(limit) = self.daily_usd {
            out.push(Scope {
                key: format!("{KEY_PREFIX}global"),
                label: "global".into(),
                limit: nano(limit),
                ttl: self.reservation_ttl_secs,
            });
        }
        if let Some(c) = client
            && let Some(limit) = self.clients.get(c).copied().or(self.client_default_usd)
        {
            out.push(Scope {
                key: format!("{KEY_PREFIX}client.{c}"),
                label: format!("client {c}"),
                limit: nano(limit),
                ttl: self.reservation_ttl_secs,
            });
        }
        out
    }
}

/// USD to nano-USD, rounded up (a reservation never undercounts); a figure within a millionth
/// of a nano-USD of a whole one is that one: the float error of a price's sum (1000 tokens at
/// $0.11 and 400 at $0.34 a million make 246000.00000000003) is no nano-USD of spend.
pub fn nano(usd: f64) -> u64 {
    if !usd.is_finite() || usd <= 0.0 {
        return 0;
    }
    let n = usd * 1e9;
    let whole = n.round();
    (if (n - whole).abs() < 1e-6 { whole } else { n.ceil() }) as u64
}

/// One limit a request counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Shared-data key of its record.
    pub key: String,
    /// `global` or `client NAME`, for errors and logs.
    pub label: String,
    /// Daily limit, nano-USD.
    pub limit: u64,
    /// Seconds an unsettled reservation holds its amount.
    pub ttl: u64,
}

impl Scope {
    /// Where the previous module kept this scope's record: a new record starts from it.
    pub fn previous_key(&self) -> String {
        let name = self.key.strip_prefix(KEY_PREFIX).unwrap_or(&self.key);
        format!("{PREVIOUS_KEY_PREFIX}{name}")
    }

    /// The scope's record as it stands at `now`.
    pub fn at(&self, spend: &Spend, now: u64) -> Spend {
        spend.at(now, self.ttl)
    }
}

/// A scope's record for one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spend {
    /// Days since the epoch.
    pub day: u64,
    /// Settled spend, nano-USD.
    pub spent: u64,
    /// What requests in flight hold, by when they reserved it, oldest first.
    pub held: Vec<Hold>,
}

/// Reservations made in one window of time, together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The window's start, seconds since the epoch.
    pub since: u64,
    /// nano-USD held.
    pub amount: u64,
}

/// Windows an unsettled reservation's lifetime spans: the record keeps at most two more.
const WINDOWS: u64 = 14;
const MAX_HOLDS: usize = WINDOWS as usize + 2;

/// The window reservations at `now` go into, for a lifetime of `ttl` seconds.
fn window(now: u64, ttl: u64) -> u64 {
    let width = ttl.div_ceil(WINDOWS).max(1);
    now - now % width
}

impl Spend {
    /// The record as it stands at `now`: yesterday's spend does not count today, and what a
    /// reservation never settled held is given back once its window is `ttl` seconds old.
    /// A record of an earlier day is the new day's, with nothing spent but what requests still
    /// in flight hold: they settle on the new day (the holds dropped at midnight let a client
    /// past its new day's limit by all it had in flight, 44% over in a measured run). One of a
    /// later day (another worker's clock passed midnight first, or this request read the time
    /// before it) stays as it is, never rolled back and its spend erased.
    pub fn at(&self, now: u64, ttl: u64) -> Spend {
        let day = now / 86_400;
        let width = ttl.div_ceil(WINDOWS).max(1);
        let live = |h: &&Hold| h.since.saturating_add(width).saturating_add(ttl) > now;
        let held = self.held.iter().filter(live).copied().collect();
        if self.day < day {
            return Spend { day, spent: 0, held };
        }
        Spend { held, ..self.clone() }
    }

    /// nano-USD held by requests in flight.
    pub fn reserved(&self) -> u64 {
        self.held.iter().fold(0, |sum, h| sum.saturating_add(h.amount))
    }

    /// What is left of `limit`.
    pub fn left(&self, limit: u64) -> u64 {
        limit.saturating_sub(self.spent.saturating_add(self.reserved()))
    }

    /// Reserves `amount` at `now` if it fits under `limit`; returns the window it is held in.
    pub fn reserve(&mut self, amount: u64, limit: u64, now: u64, ttl: u64) -> Option<u64> {
        if amount > self.left(limit) {
            return None;
        }
        let since = window(now, ttl);
        match self.held.iter_mut().find(|h| h.since == since) {
            Some(h) => h.amount = h.amount.saturating_add(amount),
            None => {
                self.held.push(Hold { since, amount });
                self.held.sort_by_key(|h| h.since);
            }
        }
        // Clocks that disagree could open more windows than a lifetime spans: the oldest
        // two merge into the later one's (held longer, never lost).
        while self.held.len() > MAX_HOLDS {
            let oldest = self.held.remove(0);
            if let Some(next) = self.held.first_mut() {
                next.amount = next.amount.saturating_add(oldest.amount);
            }
        }
        Some(since)
    }

    /// Replaces a reservation of `reserved` (held in window `since`, seconds since the epoch,
    /// which names it on any day: holds cross midnight) by the real `spent`. A reservation
    /// the record no longer holds (its lifetime passed) gives back nothing.
    pub fn settle(&mut self, since: u64, reserved: u64, spent: u64) {
        if let Some(i) = self.held.iter().position(|h| h.since == since)
            && let Some(h) = self.held.get_mut(i)
        {
            h.amount = h.amount.saturating_sub(reserved);
            if h.amount == 0 {
                self.held.remove(i);
            }
        }
        self.spent = self.spent.saturating_add(spent);
    }

    /// Shared-data form: `s2 DAY SPENT SINCE:AMOUNT...`.
    pub fn encode(&self) -> String {
        let mut out = format!("s2 {} {}", self.day, self.spent);
        for h in &self.held {
            out.push_str(&format!(" {}:{}", h.since, h.amount));
        }
        out
    }

    /// Reads [`Spend::encode`]'s form, and the one before it (`s1 DAY SPENT RESERVED`, whose
    /// reservations count as made at the start of their day).
    pub fn decode(bytes: &[u8]) -> Option<Spend> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut it = text.split(' ');
        let version = it.next()?;
        let num = |it: &mut std::str::Split<'_, char>| it.next()?.parse::<u64>().ok();
        let (day, spent) = (num(&mut it)?, num(&mut it)?);
        let mut held = Vec::new();
        match version {
            "s1" => {
                let amount = num(&mut it)?;
                if amount > 0 {
                    held.push(Hold { since: day.saturating_mul(86_400), amount });
                }
            }
            "s2" => {
                for h in it.by_ref() {
                    let (since, amount) = h.split_once(':')?;
                    held.push(Hold { since: since.parse().ok()?, amount: amount.parse().ok()? });
                }
            }
            _ => return None,
        }
        if it.next().is_some() || held.len() > MAX_HOLDS || !held.is_sorted_by_key(|h| h.since) {
            return None;
        }
        Some(Spend { day, spent, held })
    }
}

/// What routing sees of the budgets: the tightest scope.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetView {
    /// USD left in the tightest scope.
    pub left_usd: f64,
    /// That scope's label.
    pub scope: String,
    /// Its limit, USD.
    pub limit_usd: f64,
    /// When it resets (the next UTC midnight), seconds since the epoch.
    pub resets_at: u64,
    /// Requests in flight hold what is missing: the day's settled spend is below the limit,
    /// so room comes back as they end, not at midnight.
    pub held: bool,
    /// The smallest limit of all the request's scopes (USD) and its label: a request priced
    /// above it never fits, whichever scope is the tightest today.
    pub smallest: (String, f64),
}

/// Seconds a client refused because requests in flight hold the rest of a limit is told to
/// wait: about as long as a short answer takes.
pub const HELD_RETRY_SECS: u64 = 5;

impl BudgetView {
    /// The tightest of `scopes` given their records (read for `now`).
    pub fn of(scopes: &[(Scope, Spend)], now: u64) -> Option<BudgetView> {
        let day = now / 86_400;
        let today: Vec<(&Scope, Spend)> = scopes.iter().map(|(s, sp)| (s, s.at(sp, now))).collect();
        // A scope whose settled spend reached its limit is the one that blocks, until midnight.
        let spent = today.iter().find(|(s, sp)| sp.spent >= s.limit);
        let (scope, spend) = spent.or_else(|| today.iter().min_by_key(|(s, sp)| sp.left(s.limit)))?;
        let smallest = today.iter().map(|(s, _)| *s).min_by_key(|s| s.limit).unwrap_or(scope);
        Some(BudgetView {
            left_usd: spend.left(scope.limit) as f64 / 1e9,
            scope: scope.label.clone(),
            limit_usd: scope.limit as f64 / 1e9,
            resets_at: (day + 1) * 86_400,
            // No scope's settled spend has reached its limit, and requests in flight hold some of
            // the tightest one's (another scope's holds give it no room back: a client near its
            // own limit was told to retry in 5 s all day, as others' requests were in flight).
            held: spent.is_none() && spend.reserved() > 0,
            smallest: (smallest.label.clone(), smallest.limit as f64 / 1e9),
        })
    }

    /// The 429 when nothing fits: which limit, and when it resets (or, when requests in
    /// flight hold the rest, that it comes back as they end).
    pub fn exhausted(&self, now: u64) -> ApiError {
        let when = if self.held {
            format!("requests in flight hold the rest of it: retry in {HELD_RETRY_SECS} s")
        } else {
            format!("it resets at {} (in {} s)", utc_iso(self.resets_at), self.resets_at.saturating_sub(now))
        };
        let mut e = ApiError::invalid(
            "budget_exceeded",
            None,
            format!(
                "the daily spend limit ({}, ${}) is reached for this request; {when}",
                self.scope,
                usd(self.limit_usd)
            ),
        )
        .with_status(429);
        e.kind = "insufficient_quota";
        e
    }

    /// [`BudgetView::exhausted`]'s 429, or, when the cheapest estimate of the candidates that
    /// could carry the request (`cheapest`, USD; breakers open or not: they heal) is more than
    /// the whole limit, a 400 saying so: no wait makes room for it (it was told the limit was
    /// reached, to retry at midnight, and failed the same way then).
    pub fn refused(&self, now: u64, cheapest: Option<f64>) -> ApiError {
        // The smallest limit of any scope: the tightest today may have more room in all, and
        // a request over the other's whole limit is refused there every day.
        let (scope, limit) = match &self.smallest {
            (label, limit) if *limit < self.limit_usd => (label.as_str(), *limit),
            _ => (self.scope.as_str(), self.limit_usd),
        };
        match cheapest {
            // A limit of 0 allows no paid request, whatever its size: no wait helps either.
            Some(price) if price > 0.0 && limit <= 0.0 => ApiError::invalid(
                "request_over_budget",
                None,
                format!("the daily spend limit ({scope}, $0) allows no paid request"),
            ),
            Some(price) if price > limit => ApiError::invalid(
                "request_over_budget",
                None,
                format!(
                    "this request's estimated price (${}) is more than the whole daily spend limit ({scope}, ${}): send less input (for chat, or set a lower max_tokens)",
                    usd(price),
                    usd(limit)
                ),
            ),
            _ => self.exhausted(now),
        }
    }

    /// Seconds a refused client should wait (`retry-after`).
    pub fn retry_after(&self, now: u64) -> u64 {
        if self.held { HELD_RETRY_SECS } else { self.resets_at.saturating_sub(now) }
    }
}

/// A limit in USD as an operator wrote it: cents, or as many decimals as a small one needs
/// (`0.001`, not `0.00`).
fn usd(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0');
    match text.split_once('.') {
        Some((_, cents)) if cents.len() < 2 => format!("{v:.2}"),
        _ => text.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (civil-from-days, proleptic Gregorian).
pub fn utc_iso(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounded up, but a float's error past a whole nano-USD is not a nano-USD more.
    #[test]
    fn nano_rounds_up_past_float_error_only() {
        assert_eq!(super::nano((1000.0 * 0.11 + 400.0 * 0.34) / 1e6), 246_000);
        assert_eq!(super::nano(0.000_000_000_4), 1);
        assert_eq!(super::nano(1.000_000_000_5), 1_000_000_001);
        assert_eq!(super::nano(-1.0), 0);
        assert_eq!(super::nano(f64::NAN), 0);
    }

    /// Held by one reservation of `amount` made at the start of `day`.
    fn record(day: u64, spent: u64, amount: u64) -> Spend {
        let held = if amount > 0 { vec![Hold { since: day * 86_400, amount }] } else { Vec::new() };
        Spend { day, spent, held }
    }

    #[test]
    fn reservations_never_pass_the_limit_and_settle_exactly() {
        let (limit, ttl) = (nano(1.0), 3600);
        let t0 = 5 * 86_400 + 100;
        let mut s = Spend::default().at(t0, ttl);
        let first = s.reserve(nano(0.6), limit, t0, ttl);
        assert!(first.is_some());
        assert!(s.reserve(nano(0.5), limit, t0, ttl).is_none());
        let second = s.reserve(nano(0.4), limit, t0 + 600, ttl);
        assert_eq!(s.left(limit), 0);
        assert_eq!(s.held.len(), 2, "two windows: {:?}", s.held);
        s.settle(first.unwrap_or_default(), nano(0.6), nano(0.1));
        assert_eq!(s.left(limit), nano(0.5));
        assert_eq!(Spend::decode(s.encode().as_bytes()), Some(s.clone()));
        // A reservation made yesterday settles into today's spend only.
        let mut t = s.at(6 * 86_400, ttl);
        t.settle(second.unwrap_or_default(), nano(0.4), nano(0.2));
        assert_eq!((t.spent, t.reserved()), (nano(0.2), 0));
        // One made a minute before midnight still holds its amount after it (it settles on
        // the new day), until it settles there.
        let eve = 6 * 86_400 - 60;
        let mut late = Spend::default().at(eve, ttl);
        let held = late.reserve(nano(0.7), limit, eve, ttl);
        let mut today = late.at(eve + 120, ttl);
        assert_eq!((today.day, today.spent, today.left(limit)), (6, 0, nano(0.3)));
        today.settle(held.unwrap_or_default(), nano(0.7), nano(0.5));
        assert_eq!((today.spent, today.reserved()), (nano(0.5), 0));
        assert_eq!(Spend::decode(b"s1 1 2"), None);
        assert_eq!(Spend::decode(b"s2 1 2 3"), None);
        assert_eq!(Spend::decode(b"s2 1 2 9:1 3:1"), None, "holds out of order");
        // The form before holds had lifetimes: its reservations count from the start of their day.
        assert_eq!(Spend::decode(b"s1 7 20 30"), Some(record(7, 20, 30)));
        assert_eq!(Spend::decode(b"s1 7 20 0"), Some(record(7, 20, 0)));
    }

    /// A reservation that is never settled (its VM crashed mid-request, or every settle lost
    /// its compare-and-swap race) held its amount until UTC midnight: a client whose limit it
    /// filled was told to retry in 5 s all day.
    #[test]
    fn a_reservation_never_settled_is_given_back_after_its_lifetime() {
        let (limit, ttl) = (nano(1.0), 3600);
        let t0 = 20_779 * 86_400 + 3600;
        let mut s = Spend::default().at(t0, ttl);
        assert!(s.reserve(nano(1.0), limit, t0, ttl).is_some());
        assert_eq!(s.at(t0 + ttl - 1, ttl).left(limit), 0, "held for its lifetime");
        let width = ttl.div_ceil(WINDOWS);
        assert_eq!(s.at(t0 + ttl + width, ttl).left(limit), limit, "given back after it");
        // Settled after its lifetime, it is still charged, and gives back nothing twice.
        let mut late = s.at(t0 + 2 * ttl, ttl);
        assert!(late.reserve(nano(0.5), limit, t0 + 2 * ttl, ttl).is_some());
        late.settle(window(t0, ttl), nano(1.0), nano(0.3));
        assert_eq!((late.spent, late.reserved()), (nano(0.3), nano(0.5)));
        // However clocks disagree, the record keeps a bounded number of windows, and no amount.
        let mut many = Spend::default().at(t0, ttl);
        for i in 0..40 {
            assert!(many.reserve(1, limit, t0 + i * width, 86_400).is_some());
        }
        assert!(many.held.len() <= MAX_HOLDS && many.reserved() == 40, "{many:?}");
        let bad =
            |ttl| BudgetConfig { reservation_ttl_secs: ttl, ..BudgetConfig::default() }.validate().is_err();
        assert_eq!((bad(59), bad(60), bad(86_400), bad(86_401)), (true, false, false, true));
    }

    #[test]
    fn the_tightest_scope_decides_and_resets_at_utc_midnight() {
        let cfg = BudgetConfig {
            daily_usd: Some(10.0),
            clients: [("a".to_string(), 1.0)].into(),
            ..BudgetConfig::default()
        };
        let scopes = cfg.scopes(Some("a"));
        assert_eq!(scopes.len(), 2);
        assert!(cfg.scopes(Some("b")).len() == 1 && cfg.scopes(None).len() == 1);
        let now = 20_779 * 86_400 + 3600;
        let recs: Vec<(Scope, Spend)> =
            scopes.into_iter().map(|s| (s, record(20_779, nano(0.25), 0))).collect();
        let v = BudgetView::of(&recs, now).unwrap_or_else(|| panic!("no view"));
        assert_eq!(v.scope, "client a");
        assert!((v.left_usd - 0.75).abs() < 1e-9);
        assert_eq!(utc_iso(v.resets_at), "2026-11-23T00:00:00Z");
        let e = v.exhausted(now);
        assert_eq!((e.status, e.code), (429, "budget_exceeded"));
        assert!(
            e.message.contains("2026-11-23T00:00:00Z") && e.message.contains("client a"),
            "{}",
            e.message
        );
        assert_eq!(v.retry_after(now), 23 * 3600);
    }

    /// The tightest scope today is not always the one a request can never fit: a client near
    /// its $1 limit was told to retry at midnight for a $0.02 request the global $0.01 limit
    /// refuses every day.
    #[test]
    fn a_request_over_any_scopes_whole_limit_is_refused_for_good() {
        let cfg = BudgetConfig {
            daily_usd: Some(0.01),
            clients: [("a".to_string(), 1.0)].into(),
            ..BudgetConfig::default()
        };
        let now = 20_779 * 86_400 + 3600;
        let recs: Vec<(Scope, Spend)> = cfg
            .scopes(Some("a"))
            .into_iter()
            .map(|s| {
                let spent = if s.label == "global" { 0 } else { nano(0.995) };
                (s, record(20_779, spent, 0))
            })
            .collect();
        let v = BudgetView::of(&recs, now).unwrap_or_else(|| panic!("no view"));
        assert_eq!((v.scope.as_str(), v.smallest.0.as_str()), ("client a", "global"));
        let e = v.refused(now, Some(0.02));
        assert_eq!((e.status, e.code), (400, "request_over_budget"));
        assert!(e.message.contains("(global, $0.01)"), "{}", e.message);
        // One that fits the global limit waits for the client's to reset.
        assert_eq!(v.refused(now, Some(0.008)).code, "budget_exceeded");
    }

    /// A limit that requests in flight fill, with the day's spend below it, comes back as they
    /// end: the client was told to wait until midnight (hours) while it had spent nothing.
    #[test]
    fn a_limit_held_by_requests_in_flight_says_retry_soon() {
        let cfg = BudgetConfig { clients: [("gina".to_string(), 0.001)].into(), ..BudgetConfig::default() };
        let now = 20_779 * 86_400 + 3600;
        let view = |spent: f64, reserved: f64| {
            let recs: Vec<(Scope, Spend)> = cfg
                .scopes(Some("gina"))
                .into_iter()
                .map(|s| (s, record(20_779, nano(spent), nano(reserved))))
                .collect();
            BudgetView::of(&recs, now).unwrap_or_else(|| panic!("no view"))
        };
        let held = view(0.0, 0.001);
        assert_eq!(held.retry_after(now), HELD_RETRY_SECS);
        let e = held.exhausted(now);
        assert!(e.message.contains("in flight") && e.message.contains("$0.001)"), "{}", e.message);
        let spent = view(0.001, 0.0005);
        assert_eq!(spent.retry_after(now), 23 * 3600);
        assert!(spent.exhausted(now).message.contains("resets at"));
        // The global scope held by others, the client's own spent: the client's blocks, until
        // midnight (it was told to retry in 5 s, judged on the global scope alone).
        let both = BudgetConfig { daily_usd: Some(100.0), ..cfg.clone() };
        // The view with the global scope's (spent, held) and the client's.
        let with = |global: (u64, u64), own: (u64, u64)| {
            let recs: Vec<(Scope, Spend)> = both
                .scopes(Some("gina"))
                .into_iter()
                .map(|s| {
                    let (spent, reserved) = if s.label == "global" { global } else { own };
                    (s, record(20_779, spent, reserved))
                })
                .collect();
            BudgetView::of(&recs, now).unwrap_or_else(|| panic!("no view"))
        };
        let v = with((nano(99.99), nano(0.01)), (nano(0.001), 0));
        assert_eq!((v.scope.as_str(), v.held, v.retry_after(now)), ("client gina", false, 23 * 3600));
        // Nor while the client's own spend is below its limit, with nothing of it held.
        let v = with((nano(1.0), nano(0.01)), (nano(0.0009), 0));
        assert_eq!((v.scope.as_str(), v.held, v.retry_after(now)), ("client gina", false, 23 * 3600));
        assert_eq!(
            (usd(2.0), usd(0.5), usd(0.001), usd(12.345)),
            ("2.00".into(), "0.50".into(), "0.001".into(), "12.345".into())
        );
    }
}
