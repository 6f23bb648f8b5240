//! Stage 2, decide: from a parsed request, the configuration and live numbers to a decision
//! (route, refusal, or an answer of the router's own).
//!
//! Owns the `auto` score, candidate selection and its guards (provider policy among them),
//! ranking by `prefer`, the route that ties them together, embeddings routing, the
//! `/v1/models` answer, and the worker's memo of conversations the glue holds (`memo.rs`). May import every other module (`parse`, `vocab`, `catalog`, `config`,
//! `health`, `account`, `protocol`, `numeric`, `error`); none of them imports it.

pub mod auto;
mod carry;
pub mod embeddings;
pub mod endpoint;
pub mod explain;
mod held;
pub mod images;
pub(crate) mod liveness;
pub mod memo;
pub mod models;
pub mod rank;
pub mod resume;
pub mod route;
pub mod select;
pub mod sticky;
pub mod upstream;
