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
    /// When it was routed, seconds since the epoch.
    pub now: u64,
}

impl Memory {
    /// The value to store, joined with what another worker may have stored meanwhile
    /// (`current` is the slot's value at the time of writing); `None` when the slot holds
    /// another conversation's live memory of a higher tier, which is kept: any client's cheap
    /// conversations, each a write to a slot, emptied the slots of others' escalated ones
    /// (10,000 two-turn requests at near no cost moved 7 of 8 premium conversations to
    /// economy).
    pub fn value(&self, current: Option<&[u8]>) -> Option<String> {
        match current.and_then(Remembered::decode_any) {
            Some((hash, same)) if hash == self.hash => {
                Some(self.remembered.merge(Some(same)).encode(self.hash))
            }
            Some((_, other)) if other.expires_at > self.now && other.tier > self.remembered.tier => None,
            _ => Some(self.remembered.encode(self.hash)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Tier;

    /// A slot keeps another conversation's live escalation against a lower tier's write (any
    /// client's cheap conversations emptied others' premium memories: 7 of 8 back to economy);
    /// an equal or higher tier, an expired memory or the same conversation's write it takes.
    #[test]
    fn a_slot_keeps_another_conversations_live_higher_tier() {
        let memory = |hash: u64, tier: Tier| Memory {
            key: "k".into(),
            hash,
            remembered: Remembered { tier, expires_at: 200 },
            now: 100,
        };
        let held = |tier: Tier, expires_at: u64| Remembered { tier, expires_at }.encode(7);
        let premium = held(Tier::Premium, 150);
        assert_eq!(memory(8, Tier::Standard).value(Some(premium.as_bytes())), None);
        for (current, tier) in [
            (held(Tier::Standard, 150), Tier::Standard),
            (held(Tier::Premium, 90), Tier::Standard),
            (premium.clone(), Tier::Premium),
        ] {
            let written = memory(8, tier).value(Some(current.as_bytes()));
            assert_eq!(written, Some(Remembered { tier, expires_at: 200 }.encode(8)), "{current}");
        }
        // Its own conversation's memory is joined: the higher tier and later expiry.
        let joined = memory(7, Tier::Standard).value(Some(premium.as_bytes()));
        assert_eq!(joined, Some(Remembered { tier: Tier::Premium, expires_at: 200 }.encode(7)));
        assert_eq!(
            memory(8, Tier::Standard).value(Some(b"garbled")),
            Some(Remembered { tier: Tier::Standard, expires_at: 200 }.encode(8))
        );
    }

    /// Slots are drawn by hash, so conversations share one long before the slots run out (a
    /// share of about the live conversations over the slots): at the former 4,096, 15 of 300
    /// conversations lost their tier in a measured run. The default keeps 300 apart.
    #[test]
    fn the_default_slots_keep_three_hundred_conversations_apart() {
        let config = crate::config::Config::from_json(b"").unwrap_or_else(|e| panic!("{e}"));
        let keys: std::collections::BTreeSet<String> = (0..300u64)
            .map(|i| slot_key(&config, crate::parse::features::fnv(0, &i.to_le_bytes())))
            .collect();
        assert!(keys.len() >= 298, "{} slots for 300 conversations", keys.len());
    }
}
