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

/// A provider key as read from its environment variable: without the whitespace around it (a
/// Kubernetes Secret made with `echo` ends in a newline), `None` when nothing is left (Envoy
/// sets that provider's credentials). A key holding a control character is refused, saying
/// why: no header may carry one, and Envoy refused every request sent with it (a 503 the
/// provider never saw, read as the provider's outage, its breaker opened, the key never named).
pub fn provider_key(value: &str) -> Result<Option<&str>, &'static str> {
    let key = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if key.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err("holds a control character (a line break?), which no header may carry");
    }
    Ok(Some(key).filter(|k| !k.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::provider_key;

    /// A key read with the newline `echo` leaves is the key; one with a line break inside is
    /// refused; one of whitespace only is none.
    #[test]
    fn a_provider_key_is_trimmed_and_one_no_header_can_carry_is_refused() {
        assert_eq!(provider_key("sk-abc"), Ok(Some("sk-abc")));
        assert_eq!(provider_key("sk-abc\n"), Ok(Some("sk-abc")));
        assert_eq!(provider_key(" \tsk-abc\r\n"), Ok(Some("sk-abc")));
        assert_eq!(provider_key("\n"), Ok(None));
        assert_eq!(provider_key(""), Ok(None));
        assert!(provider_key("sk-abc\r\nx-injected: yes").is_err());
        assert!(provider_key("sk-\u{7f}abc").is_err());
    }
}
