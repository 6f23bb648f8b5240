//! Why a catalog was refused: its own error, so the catalog needs nothing from the
//! configuration that wraps it ([`ConfigError::Catalog`](crate::config::ConfigError::Catalog)).

use std::fmt;

use super::types::Tier;

/// Why a catalog was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogError {
    /// The catalog defines no provider.
    NoProviders,
    /// A tier has no model.
    EmptyTier(Tier),
    /// A model names a provider the catalog does not define.
    UnknownProvider {
        /// The model id.
        model: String,
        /// The provider it named.
        provider: String,
    },
    /// The same model and provider appear twice.
    DuplicateModel {
        /// The model id.
        model: String,
        /// The provider.
        provider: String,
    },
    /// One model id is listed in two tiers.
    TierMismatch {
        /// The model id.
        model: String,
        /// The two tiers.
        tiers: (Tier, Tier),
    },
    /// A model id that is a routing keyword (`auto`, a tier name).
    ReservedModelId(String),
    /// A name that is empty, too long, or has characters unsafe in headers or cluster names.
    BadName {
        /// Which kind of name.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A price (long-context ones too) or signal that is negative or not finite, a zero
    /// long-context threshold, or a zero context window or output.
    BadNumber {
        /// The model id.
        model: String,
        /// What is wrong, naming the fields.
        what: &'static str,
    },
    /// A `retires` date that is not `YYYY-MM-DD`.
    BadDate {
        /// The model id.
        model: String,
        /// The value.
        value: String,
    },
    /// A field the router would not act on for this model (the message says which and why).
    Unsupported {
        /// The model id.
        model: String,
        /// What is not supported.
        what: &'static str,
    },
}

/// What a name of kind `what` ([`CatalogError::BadName`]) may be: each is checked by its own rule.
pub(crate) fn name_rule(what: &str) -> &'static str {
    match what {
        "client_header" | "cluster_header" => "use a header name of A-Z a-z 0-9 - _",
        "base_path" => {
            "use a path that starts with / and does not end with it, of A-Z a-z 0-9 / - _ . (no ..), or \"\" for the host's root"
        }
        "auth" => {
            "use a header of a-z and -, an env of A-Z a-z 0-9 _, and a prefix without control characters"
        }
        "host" => "use a host name of A-Z a-z 0-9 - . and a :port, at most 253 characters",
        "upstream model id" => "use 1-256 characters without control characters",
        _ => "use 1-128 characters of A-Z a-z 0-9 - _ . : / @ + |",
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::NoProviders => write!(f, "catalog: no providers defined"),
            CatalogError::EmptyTier(t) => write!(f, "catalog: tier '{t}' has no model"),
            CatalogError::UnknownProvider { model, provider } => {
                write!(f, "catalog: model '{model}' names unknown provider '{provider}'")
            }
            CatalogError::DuplicateModel { model, provider } => {
                write!(f, "catalog: model '{model}' is listed twice for provider '{provider}'")
            }
            CatalogError::TierMismatch { model, tiers } => {
                write!(f, "catalog: model '{model}' is listed in tiers '{}' and '{}'", tiers.0, tiers.1)
            }
            CatalogError::ReservedModelId(id) => {
                write!(f, "catalog: model id '{id}' is reserved (economy, standard, premium, auto)")
            }
            CatalogError::BadName { what, value } => {
                write!(f, "{what} {value:?} is invalid: {}", name_rule(what))
            }
            CatalogError::BadNumber { model, what } => write!(f, "catalog: model '{model}': {what}"),
            CatalogError::BadDate { model, value } => {
                write!(f, "catalog: model '{model}' has retires {value:?}: use YYYY-MM-DD")
            }
            CatalogError::Unsupported { model, what } => write!(f, "catalog: model '{model}': {what}"),
        }
    }
}

impl std::error::Error for CatalogError {}
