//! Why a request the breakers hold back is refused: every candidate's breaker open, or the
//! first choice that fits a budget's limit open while nothing else fits.

use crate::account::budget::BudgetView;
use crate::catalog::Deployment;
use crate::decide::liveness::Liveness;
use crate::error::ApiError;

/// Why a request is refused whose first choice does not fit what is left of a limit, without
/// the ladder (or pinned). Where the first in rank order (`fitting`) fits it, its breaker open,
/// the breaker holds the request back, not the budget (said as the day's limit reached, it had
/// the client wait for midnight). Else priced (`price`) past the whole limit, a 400 (not a wait
/// for a midnight after which the same model ranks first again), or the limit reached.
pub(crate) fn unladdered(
    b: &BudgetView,
    now: u64,
    live: &Liveness<'_>,
    fitting: Option<&Deployment>,
    price: Option<f64>,
) -> ApiError {
    match fitting.map(|d| live.refuses_for(d)).filter(|w| *w > 0) {
        Some(wait) => held_back(
            "the model this request can be sent to within what is left of its daily spend limit",
            wait,
        ),
        None => b.refused(now, price),
    }
}

/// Every breaker of the request's candidates open, and the route not failing open: asked again
/// when the first of them cools down (`wait`, seconds), the SDKs' retries spent within two
/// seconds otherwise.
pub(crate) fn all_open(wait: u64) -> ApiError {
    held_back("every provider that can serve this request", wait)
}

/// A 503 `providers_unavailable`: `what` is failing (its breaker open), to be asked again in
/// `wait` seconds (at least one).
fn held_back(what: &str, wait: u64) -> ApiError {
    ApiError::server(
        503,
        "providers_unavailable",
        format!(
            "{what} is failing (circuit breaker open): retry after the seconds its retry-after header gives"
        ),
    )
    .with_retry_after(u32::try_from(wait).unwrap_or(u32::MAX).max(1))
}
