//! The router's own error when every attempt failed: one error in the OpenAI shape naming
//! the attempts, never a provider's body.

use model_router_scorer::ApiError;

use super::Request;
use super::flight::{Failed, Flight};
use crate::headers as h;
use crate::io::Host;

impl Request {
    /// Every attempt failed: one error in the OpenAI shape naming them (never a provider's
    /// body): 429 `rate_limit_exceeded` with the smallest `retry-after` when all were rate
    /// limits, 502 `provider_auth_failed` when all rejected the gateway's credentials (and
    /// `provider_account_refused` when its account too, a 402), 413
    /// `request_too_large` when every body made was over Envoy's buffer limit or a provider's
    /// own (its size, Groq's tokens per minute), else 502 `upstream_failed`.
    pub(super) fn exhausted(&mut self, host: &dyn Host, f: &Flight) {
        // What the providers said, besides a context-length 400 a larger window was tried for
        // (named in the summary): every one rate limited is a 429 with its retry-after.
        let sent: Vec<u16> =
            f.failed.iter().filter(|x| x.sent && x.status != 400).map(|x| x.status).collect();
        let all = |p: fn(u16) -> bool| !sent.is_empty() && sent.iter().all(|s| p(*s));
        let summary = f.failed.iter().map(Failed::describe).collect::<Vec<_>>().join(", ");
        let attempts = f.attempts;
        // An attempt charged as lost (its provider had it and may bill it: a timeout, a stream cut
        // before its answer, a 200 with no answer it billed) is not one for the client's SDK to
        // repeat, which OpenAI's and Anthropic's do twice for a 5xx, each retry the router's
        // attempts again (nine providers at work and no answer, measured). (A reset before any
        // answer, or a provider's own 504, is not charged, and may be retried.)
        let lost = self.account.lost_nano > 0;
        // No attempt sent: Envoy has no cluster or route for any (its 404, or a call it cannot
        // make).
        let unreachable =
            !f.failed.is_empty() && f.failed.iter().all(|x| !x.sent && matches!(x.status, 0 | 404));
        let later = if lost { "" } else { ": retry later" };
        let e = if !f.failed.is_empty() && f.failed.iter().all(|x| x.status == 413) {
            // Every body the router made was over Envoy's buffer limit (a translation grows
            // one), or over what the provider takes (its size, or Groq's tokens per minute):
            // the request is the client's to shrink.
            let whose = if f.failed.iter().any(|x| x.sent) {
                "the providers tried accept"
            } else {
                "this gateway accepts"
            };
            ApiError::invalid(
                "request_too_large",
                None,
                format!(
                    "the request, as made for each model tried ({summary}), is larger than {whose}: send a smaller one"
                ),
            )
            .with_status(413)
        } else if unreachable {
            // The gateway's configuration, which no retry mends.
            ApiError::server(
                502,
                "upstream_failed",
                format!(
                    "no model could be reached ({summary}): this gateway's Envoy has no cluster or route the router can send them by; its operator must fix the configuration"
                ),
            )
        } else if all(|s| s == 429) {
            ApiError::rate_limited(format!(
                "every provider tried is rate limited ({summary}): retry after the seconds the retry-after header gives"
            ))
        } else if all(|s| s == 401 || s == 403) {
            ApiError::server(
                502,
                "provider_auth_failed",
                format!(
                    "the providers rejected the gateway's credentials ({summary}): the gateway's operator must fix its provider keys"
                ),
            )
        } else if all(|s| matches!(s, 401..=403)) {
            // Its account among them (402: Anthropic's credit run out, Bedrock's quota), which
            // a "retry later" beside the header saying not to had a person retry.
            ApiError::server(
                502,
                "provider_account_refused",
                format!(
                    "the providers refused the gateway's account or credentials ({summary}): the gateway's operator must settle them (credit, quota, model access, keys)"
                ),
            )
        } else {
            ApiError::server(
                502,
                "upstream_failed",
                match attempts {
                    0 => format!("no attempt could be sent ({summary}){later}"),
                    1 => format!("the one attempt failed ({summary}){later}"),
                    n => format!("all {n} attempts failed ({summary}){later}"),
                },
            )
        };
        // Counted as the last attempt's outcome, so outages show in `requests`.
        self.served(host, f, e.status);
        // No model answered: every attempt is named in `Fallback-From`.
        let mut headers = f.json_headers();
        headers.retain(|(k, _)| k != h::MODEL && k != h::PROVIDER);
        let mut retry = !lost;
        let wait = match e.status {
            429 => Some(f.retry_after.unwrap_or(1)),
            // Every provider overloaded (503, Anthropic's 529), one saying when to come back: the
            // SDKs asked again within a second, where the provider asked for twenty.
            502 if e.code == "upstream_failed" && all(|s| matches!(s, 429 | 503 | 529)) => f.retry_after,
            _ => None,
        };
        if let Some(after) = wait {
            headers.push((h::RETRY_AFTER.into(), after.to_string()));
            // A wait past a minute is not one for the client's SDK to sleep through (Anthropic's
            // slept the hour a provider's retry-after gave, to ask again), as for a budget's.
            retry &= after <= 60;
        }
        // The gateway's own keys, account (its credit, its quota: a 402) or clusters, which no
        // retry of the client's mends.
        retry &= !unreachable && !all(|s| matches!(s, 401..=403));
        if !retry {
            headers.push((h::SHOULD_RETRY.into(), "false".into()));
        }
        self.send_local(e.status, "model_router_exhausted", headers, e.body().into_bytes());
    }
}

impl Flight {
    /// Keeps the smallest `retry-after` of an attempt rate limited (429) or overloaded (503, 529).
    pub(super) fn note_retry_after(&mut self, status: u16, value: Option<&str>, now_ns: u64) {
        let waits = matches!(status, 429 | 503 | 529);
        if let Some(secs) = crate::retry_after::seconds(value.filter(|_| waits), now_ns / 1_000_000_000) {
            self.retry_after = Some(self.retry_after.map_or(secs, |r| r.min(secs)));
        }
    }
}
