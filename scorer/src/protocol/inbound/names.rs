//! How chat knows a namespace's function: one name joining the namespace's and its own,
//! `crm__lookup`. Chat has no namespaces, and its tool names take letters, digits, `_` and `-`
//! only, 64 at most.

use crate::error::{ApiError, echo};
use crate::parse::fields::plain_characters;

/// What joins a namespace's name and one of its functions'.
pub(super) const JOIN: &str = "__";

/// The longest tool name chat-completions APIs take (OpenAI's limit; Gemini's too).
pub(super) const MAX_NAME: usize = 64;

/// The name chat knows a namespace's function by.
pub(super) fn joined(namespace: &str, name: &str) -> String {
    format!("{namespace}{JOIN}{name}")
}

/// The joined name of `name` in `namespace`, or the 400 naming `param` (where the client named
/// the one or the other) when the namespace holds characters a chat name cannot (the API's
/// own pattern for it) or the two together are longer than a chat name may be.
pub(super) fn checked(namespace: &str, name: &str, param: &str) -> Result<String, ApiError> {
    namespace_name(namespace, param)?;
    let full = joined(namespace, name);
    if full.chars().count() > MAX_NAME {
        return Err(ApiError::invalid(
            "invalid_value",
            Some(param),
            format!(
                "namespace {} and function {} together ({}) are longer than the {MAX_NAME} characters a \
                 chat-completions tool name may have: shorten one",
                echo(namespace),
                echo(name),
                echo(&full)
            ),
        ));
    }
    Ok(full)
}

/// A namespace's name, or the 400 naming `param` when it holds characters a chat name cannot
/// (the API's own pattern for it).
pub(super) fn namespace_name(namespace: &str, param: &str) -> Result<(), ApiError> {
    if plain_characters(namespace) {
        return Ok(());
    }
    Err(ApiError::invalid(
        "invalid_value",
        Some(param),
        format!("namespace name {} may hold only letters, digits, _ and -", echo(namespace)),
    ))
}
