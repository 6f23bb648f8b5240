//! Stage 4, account: what a request used, what it cost, and whose budget it spent.
//!
//! Owns reading `usage` from responses and streams, pricing it, and the daily spend limits.
//! May import `parse` (the JSON reader) and `error`; must not import `decide` or `protocol`.

pub mod budget;
mod calls;
mod events;
mod sse;
pub mod stream;
pub mod usage;

pub use calls::{openai_finish, whole_answer};
