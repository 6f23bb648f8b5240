//! Stage 2, decide: from a parsed request, the configuration and live numbers to a decision
//! (route, refusal, or an answer of the router's own).
//!
//! Owns the `auto` score, candidate selection and its guards, ranking by `prefer`, provider
//! policy, the route that ties them together, and embeddings routing. May import `parse`,
//! `catalog`, `config`, `health`, `account` and `protocol`; nothing below it imports it.

pub mod auto;
pub mod embeddings;
pub mod policy;
pub mod rank;
pub mod route;
pub mod select;
