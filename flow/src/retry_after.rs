//! A `retry-after` value: delay-seconds or an HTTP date in any of its three forms, which a
//! recipient must take (RFC 9110, section 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`, the
//! obsolete `Sunday, 06-Nov-94 08:49:37 GMT` and `Sun Nov  6 08:49:37 1994`.

use model_router_scorer::catalog::parse_day;

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Seconds a `retry-after` value asks to wait at `now` (seconds since the epoch): its seconds,
/// or at least 1 to its date.
pub(crate) fn seconds(value: Option<&str>, now: u64) -> Option<u64> {
    let value = value?.trim();
    if let Ok(secs) = value.parse() {
        return Some(secs);
    }
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, year.parse().ok()?, *time),
        // RFC 850's two-digit year: the most recent year ending so that is not more than 50
        // years ahead.
        [_, date, time, "GMT"] => {
            let mut dmy = date.splitn(3, '-');
            let (day, month, yy) = (dmy.next()?, dmy.next()?, dmy.next()?);
            let yy: u64 = yy.parse().ok().filter(|_| yy.len() == 2)?;
            let this_year = 1970 + now / 31_556_952;
            let year = (2000 + yy).checked_sub(if 2000 + yy > this_year + 50 { 100 } else { 0 })?;
            (day, month, year, *time)
        }
        // asctime's: the day of the month padded with a space, the year last.
        [_, month, day, time, year] => (*day, *month, year.parse().ok()?, *time),
        _ => return None,
    };
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let days = parse_day(&format!("{year:04}-{month:02}-{day:02}"))?;
    // A leap second is 60.
    let mut hms =
        time.splitn(3, ':').zip([24, 60, 61]).map(|(n, most)| n.parse::<u64>().ok().filter(|n| *n < most));
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let at = u64::try_from(days).ok()?.checked_mul(86_400)?.checked_add(h * 3_600 + m * 60 + s)?;
    Some(at.saturating_sub(now).max(1))
}

#[cfg(test)]
mod tests {
    use super::seconds;

    /// 1994-11-06 08:49:37 UTC.
    const AT: u64 = 784_111_777;

    #[test]
    fn seconds_and_each_date_form_are_read() {
        for (value, now, want) in [
            ("30", AT, Some(30)),
            (" 0 ", AT, Some(0)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", AT - 90, Some(90)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", AT - 90, Some(90)),
            ("Sun Nov  6 08:49:37 1994", AT - 90, Some(90)),
            // A date past, or now: at least a second.
            ("Sun, 06 Nov 1994 08:49:37 GMT", AT + 5, Some(1)),
            ("Tue, 14 Nov 2023 22:13:25 GMT", 1_700_000_000, Some(5)),
            // RFC 850's year 25 is 2025 in 2026, its 94 1994.
            ("Friday, 05-Dec-25 00:00:00 GMT", 1_764_892_800 - 10, Some(10)),
            ("Sun, 06 Nov 1994 25:00:00 GMT", AT, None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", AT, None),
            ("Sunday, 06-Nov-1994 08:49:37 GMT", AT, None),
            ("Sun Nov 32 08:49:37 1994", AT, None),
            ("soon", AT, None),
        ] {
            assert_eq!(seconds(Some(value), now), want, "{value}");
        }
        assert_eq!(seconds(None, AT), None);
    }
}
