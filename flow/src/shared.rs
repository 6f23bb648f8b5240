//! What every request reads, built by the host's configuration step each time a configuration
//! validates: the configuration and the provider keys.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use model_router_scorer::Config;
use model_router_scorer::Memo;

/// What every request reads: the configuration and the provider keys.
pub struct Shared {
    /// The validated configuration.
    pub config: Config,
    /// Provider keys by environment variable name, read from the host's environment. Never
    /// logged.
    pub keys: HashMap<String, String>,
    /// Bytes of client bodies kept for fallbacks by this VM's requests in flight
    /// (`resilience.failover_body_bytes` bounds it): the host gives every configuration of a VM
    /// the same ledger.
    pub kept: Rc<Cell<usize>>,
    /// The conversations this VM (one worker) served lately, so an agent's next turn is
    /// parsed and translated only where it is new (`decide::memo`; bounded, used only when
    /// the prefix cache is on).
    pub memo: Memo,
}

impl Shared {
    /// What requests read under `config`, nothing kept yet.
    pub fn new(config: Config, keys: HashMap<String, String>) -> Shared {
        let memo = Memo::new(&config.prefix_cache);
        Shared { config, keys, kept: Rc::default(), memo }
    }
}
