//! Stage 1, parse: the request bytes in, what routing needs out.
//!
//! Owns the JSON reader, the one-pass chat request parser with the layout of the body's
//! members, the conversation features `auto` scores, and the memo that lets an agent's next
//! turn parse only its new messages (`memo.rs`). May import the request vocabulary,
//! the catalog's tier names and `error`; must not import `decide`, `protocol`, `account` or
//! `config`: parsing knows what a request says, not what the router does with it.

pub(crate) mod base64;
pub mod chat;
pub mod features;
pub mod fields;
pub mod json;
pub mod keywords;
pub mod layout;
pub mod memo;
pub mod messages;
pub mod ngrams;
pub mod options;
pub(crate) mod pdf;
pub(crate) mod picture;
pub mod prefix;
pub mod request;
pub mod scan;
