//! Stickiness of `auto` tiers within a conversation: what the glue writes to shared data after
//! routing, under which key prefix. The tier arithmetic itself is [`crate::decide::auto::sticky`].

use crate::decide::auto::Remembered;

/// Shared-data key prefix of the stickiness slots.
pub const STICKY_KEY_PREFIX: &str = "model_router.sticky.";

/// The shared-data key of the slot of a conversation's `hash`, drawn under the Envoy's secret
/// (the prefix cache's key, [`crate::parse::prefix::keyed`]): with the hash's plain residue, a
/// client could compute, offline, a conversation landing in another client's slot and evict
/// its memory with one request.
pub fn slot_key(config: &crate::config::Config, hash: u64) -> String {
    let slot = crate::parse::prefix::keyed(config.prefix_cache.key, hash) % config.sticky.slots.max(1);
    format!("{STICKY_KEY_PREFIX}{slot}")
}

/// A shared-data write the glue performs after routing: the conversation's remembered tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// Shared-data key (one of a bounded number of slots).
    pub key: String,
    /// The conversation's hash (guards the slot against collisions).
    pub hash: u64,
    /// What to remember.
    pub remembered: Remembered,
}

impl Memory {
    /// The value to store, joined with what another worker may have stored meanwhile
    /// (`current` is the slot's value at the time of writing).
    pub fn value(&self, current: Option<&[u8]>) -> String {
        let other = current.and_then(|v| Remembered::decode(v, self.hash));
        self.remembered.merge(other).encode(self.hash)
    }
}
