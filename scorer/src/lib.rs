//! The host-free core of model-router.
//!
//! Contract: everything here is deterministic and does no I/O. It never reads a clock, a random
//! source, the environment or a proxy host; it has no proxy-wasm types. The one state it
//! keeps across requests is a [`Memo`] the caller holds and passes in (a worker's memory of
//! the conversations it parsed and translated lately), which changes how much work a request
//! takes, never its bytes or its decision. Callers pass in the
//! request bytes and the validated [`Config`], and get back a decision value ([`Route`] or an
//! [`ApiError`] to answer with) that the proxy-wasm glue in `filter/` applies. The same code
//! builds natively (tests, CLI, benchmarks) and for `wasm32-wasip1` (the filter), with the same
//! results: ranking arithmetic avoids libm so float results are bit-identical on both.
//!
//! The folders follow a request's path, and each one's `mod.rs` says what it owns and what it
//! may import (`scripts/layout.py` checks that no module imports in a cycle):
//!
//! - [`parse`]: body bytes to a [`request::ChatRequest`] with its features and byte layout;
//! - [`decide`]: `auto`, selection, ranking and the [`Route`] (also embeddings, `/v1/models`);
//! - [`protocol`]: the bytes a provider gets and the bytes the client gets back;
//! - [`account`]: usage, cost and daily budgets;
//! - below them: [`catalog`], [`config`], [`health`], [`vocab`] (words they share),
//!   [`numeric`] and [`error`].

pub mod account;
pub mod catalog;
pub mod config;
pub mod decide;
pub mod error;
pub mod health;
pub mod numeric;
pub mod parse;
pub mod protocol;
#[cfg(test)]
mod testing;
pub mod vocab;

// The module paths from before the stage folders, kept so the glue, tests, fuzzers and
// benchmarks compile unchanged.
pub use account::{budget, stream, usage};
pub use decide::{auto, embeddings, models, rank, resume, route, select};
pub use parse::{features, json, request};
pub use protocol::titan as translate;

pub use catalog::{Catalog, Deployment, Tier};
pub use config::{Config, ConfigError};
pub use decide::endpoint::{Endpoint, endpoint, is_messages_api};
pub use decide::memo::Memo;
pub use decide::route::{
    Analysis, Context, Route, Selection, analyze, analyze_resuming, analyze_with_memo, route_chat,
};
pub use error::ApiError;
pub use vocab::{Estimate, Prefer};
