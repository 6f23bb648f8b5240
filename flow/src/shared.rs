//! What every request context reads, built by the root context on each configuration that
//! validates: the configuration, the provider keys and the metrics. Its own module so the root
//! (which builds it) and the request contexts (which read it) do not import each other.

use std::collections::HashMap;

use model_router_scorer::Config;

use crate::live::Metrics;

/// What every request context reads: the configuration and the provider keys.
pub struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// Provider keys by environment variable name, read from the VM environment
    /// (`vm_config.environment_variables`). Never logged.
    pub keys: HashMap<String, String>,
    /// The router's metrics.
    pub metrics: Metrics,
}
