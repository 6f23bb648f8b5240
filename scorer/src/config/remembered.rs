//! What the router remembers in Envoy's shared data between requests: `auto`'s tiers
//! (stickiness) and its scans of earlier turns.

use serde::Deserialize;

use crate::parse::prefix::{Digest, EMPTY};

/// Stickiness: a conversation's auto tier only escalates while it is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StickyConfig {
    /// Seconds a conversation's tier is remembered after its last request.
    pub ttl_secs: u64,
    /// Shared-data slots (the memory bound); 0 turns stickiness off. Two conversations that
    /// hash to one slot overwrite each other, which only ever loses stickiness.
    pub slots: u64,
    /// Remember tiers for requests without a client id (no `client_header`, or the header
    /// absent). Off by default: anonymous callers with the same opening would share a tier.
    pub without_client: bool,
}

impl Default for StickyConfig {
    fn default() -> Self {
        StickyConfig { ttl_secs: 3600, slots: 65_536, without_client: false }
    }
}

/// `auto` scans only what is new in a conversation: the scan's state after each request's
/// messages is kept in shared data, and a later turn that starts with the same messages (by a
/// 128-bit digest of their bytes) resumes from it. The decision is the one a full scan makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefixCacheConfig {
    /// Shared-data slots (the memory bound, about 200 bytes each); 0 turns it off. Two
    /// conversations that hash to one slot overwrite each other, which only costs a full scan.
    pub slots: u64,
    /// Seconds a state is kept after it was written.
    pub ttl_secs: u64,
    /// Conversations with less message text than this are scanned whole: below it a scan
    /// costs less than the shared-data reads. Smaller bodies are parsed and translated whole.
    pub min_bytes: u64,
    /// Bytes each worker keeps of the conversations it parsed lately, and again of those it
    /// translated (`decide::memo`), so that an agent's next turn is parsed and translated only
    /// where it is new; 0 keeps none.
    pub memo_bytes: u64,
    /// The key the messages' digests start from: not configured but drawn by each Envoy
    /// (the filter keeps it in shared data, so its workers share it), so that no caller can
    /// compute a digest. The scorer's own ([`EMPTY`](crate::parse::prefix::EMPTY)) otherwise.
    #[serde(skip)]
    pub key: Digest,
}

impl Default for PrefixCacheConfig {
    fn default() -> Self {
        PrefixCacheConfig { slots: 4096, ttl_secs: 600, min_bytes: 16_384, memo_bytes: 4 << 20, key: EMPTY }
    }
}
