//! The 400s the request half answers, each naming the field at fault.

use crate::error::ApiError;

/// A 400 `invalid_type`: `param` is not `want`.
pub(super) fn wrong_type(param: &str, want: &str) -> ApiError {
    ApiError::invalid("invalid_type", Some(param), format!("'{param}' must be {want}"))
}

/// A 400 `missing_required_parameter` for `param`, saying what to send (both directions'
/// request halves answer it).
pub(crate) fn missing(param: &str, what: &str) -> ApiError {
    ApiError::invalid("missing_required_parameter", Some(param), format!("'{param}' is required: {what}"))
}
