//! The life of one request through model-router, as a sans-IO state machine.
//!
//! A host (the proxy-wasm filter today; a native Envoy module could be another) turns each of
//! its callbacks into an [`Event`] and hands it to [`Request::on`], which returns a [`Step`]:
//! whether to continue or pause, and the [`Effect`]s to apply first (set these headers,
//! replace that body, answer locally, call another cluster). While deciding, the machine reads
//! what the host holds and records metrics, logs and filter state through the [`Host`] trait.
//! Nothing here imports a host SDK: the whole life of a request (routing, failover, costing,
//! stream watching, settlement) runs natively in tests against a fake host.
//!
//! Modules: `request` (the phases, one file per concern), `live` (provider health in shared
//! data), `spend` (budgets in shared data), `sticky` (`auto`'s remembered tiers in shared
//! data), `shared` (what every request reads), `headers` and `metrics` (names), `retry_after`
//! (a `retry-after` value's seconds), `io` (the seam). Imports go one way: `request` -> `live`,
//! `spend`, `sticky`, `shared`, `headers`, `metrics`, `retry_after`, `io`; none of those
//! imports `request`.

pub mod headers;
pub mod io;
pub mod live;
pub mod metrics;
pub mod request;
mod retry_after;
pub mod shared;
pub mod spend;
pub mod sticky;

pub use io::{Buffer, Effect, Event, Host, HostError, Level, Map, Step, Swap, Verdict};
pub use request::Request;
pub use shared::Shared;
