//! What every request reads, built by the host's configuration step each time a configuration
//! validates: the configuration and the provider keys.

use std::collections::HashMap;

use model_router_scorer::Config;

/// What every request reads: the configuration and the provider keys.
pub struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// Provider keys by environment variable name, read from the host's environment. Never
    /// logged.
    pub keys: HashMap<String, String>,
}
