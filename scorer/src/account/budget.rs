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
pub const KEY_PREFIX: &str = "model_router.spend.";

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
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig { daily_usd: None, clients: BTreeMap::new(), client_default_usd: None, ladder: true }
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
            });
        }
        if let Some(c) = client
            && let Some(limit) = self.clients.get(c).copied().or(self.client_default_usd)
        {
            out.push(Scope {
                key: format!("{KEY_PREFIX}client.{c}"),
                label: format!("client {c}"),
                limit: nano(limit),
            });
        }
        out
    }
}

/// USD to nano-USD, rounded up (a reservation never undercounts).
pub fn nano(usd: f64) -> u64 {
    if usd.is_finite() && usd > 0.0 { (usd * 1e9).ceil() as u64 } else { 0 }
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
}

/// A scope's record for one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spend {
    /// Days since the epoch.
    pub day: u64,
    /// Settled spend, nano-USD.
    pub spent: u64,
    /// Reserved by requests in flight, nano-USD.
    pub reserved: u64,
}

impl Spend {
    /// The record as it stands on `day`: yesterday's spend does not count today.
    /// A record of an earlier day is the new day's, empty; one of a later day (another
    /// worker's clock passed midnight first, or this request read the time before it) stays
    /// as it is, never rolled back and its spend erased.
    pub fn on(self, day: u64) -> Spend {
        if self.day >= day { self } else { Spend { day, spent: 0, reserved: 0 } }
    }

    /// What is left of `limit`.
    pub fn left(&self, limit: u64) -> u64 {
        limit.saturating_sub(self.spent.saturating_add(self.reserved))
    }

    /// Reserves `amount` if it fits under `limit`.
    pub fn reserve(&mut self, amount: u64, limit: u64) -> bool {
        if amount > self.left(limit) {
            return false;
        }
        self.reserved = self.reserved.saturating_add(amount);
        true
    }

    /// Replaces a reservation of `reserved` (made on `day`) by the real `spent`.
    pub fn settle(&mut self, day: u64, reserved: u64, spent: u64) {
        if self.day == day {
            self.reserved = self.reserved.saturating_sub(reserved);
        }
        self.spent = self.spent.saturating_add(spent);
    }

    /// Shared-data form.
    pub fn encode(&self) -> String {
        format!("s1 {} {} {}", self.day, self.spent, self.reserved)
    }

    /// Reads [`Spend::encode`]'s form.
    pub fn decode(bytes: &[u8]) -> Option<Spend> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut it = text.split(' ');
        if it.next()? != "s1" {
            return None;
        }
        let mut num = || it.next()?.parse::<u64>().ok();
        let s = Spend { day: num()?, spent: num()?, reserved: num()? };
        it.next().is_none().then_some(s)
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
}

/// Seconds a client refused because requests in flight hold the rest of a limit is told to
/// wait: about as long as a short answer takes.
pub const HELD_RETRY_SECS: u64 = 5;

impl BudgetView {
    /// The tightest of `scopes` given their records (read for `now`).
    pub fn of(scopes: &[(Scope, Spend)], now: u64) -> Option<BudgetView> {
        let day = now / 86_400;
        // A scope whose settled spend reached its limit is the one that blocks, until midnight.
        let spent = scopes.iter().find(|(s, sp)| sp.on(day).spent >= s.limit);
        let (scope, spend) =
            spent.or_else(|| scopes.iter().min_by_key(|(s, sp)| sp.on(day).left(s.limit)))?;
        let today = spend.on(day);
        Some(BudgetView {
            left_usd: today.left(scope.limit) as f64 / 1e9,
            scope: scope.label.clone(),
            limit_usd: scope.limit as f64 / 1e9,
            resets_at: (day + 1) * 86_400,
            // No scope's settled spend has reached its limit, and requests in flight hold some.
            held: spent.is_none() && scopes.iter().any(|(_, sp)| sp.on(day).reserved > 0),
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

    #[test]
    fn reservations_never_pass_the_limit_and_settle_exactly() {
        let limit = nano(1.0);
        let mut s = Spend::default().on(5);
        assert!(s.reserve(nano(0.6), limit));
        assert!(!s.reserve(nano(0.5), limit));
        assert!(s.reserve(nano(0.4), limit));
        assert_eq!(s.left(limit), 0);
        s.settle(5, nano(0.6), nano(0.1));
        assert_eq!(s.left(limit), nano(0.5));
        // A reservation made yesterday settles into today's spend only.
        let mut t = s.on(6);
        t.settle(5, nano(0.4), nano(0.2));
        assert_eq!((t.spent, t.reserved), (nano(0.2), 0));
        assert_eq!(Spend::decode(s.encode().as_bytes()), Some(s));
        assert_eq!(Spend::decode(b"s1 1 2"), None);
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
            scopes.into_iter().map(|s| (s, Spend { day: 20_779, spent: nano(0.25), reserved: 0 })).collect();
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
                .map(|s| (s, Spend { day: 20_779, spent: nano(spent), reserved: nano(reserved) }))
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
        let recs: Vec<(Scope, Spend)> = both
            .scopes(Some("gina"))
            .into_iter()
            .map(|s| {
                let global = s.label == "global";
                let (spent, reserved) = if global { (nano(99.99), nano(0.01)) } else { (nano(0.001), 0) };
                (s, Spend { day: 20_779, spent, reserved })
            })
            .collect();
        let v = BudgetView::of(&recs, now).unwrap_or_else(|| panic!("no view"));
        assert_eq!((v.scope.as_str(), v.held, v.retry_after(now)), ("client gina", false, 23 * 3600));
        assert_eq!(
            (usd(2.0), usd(0.5), usd(0.001), usd(12.345)),
            ("2.00".into(), "0.50".into(), "0.001".into(), "12.345".into())
        );
    }
}
