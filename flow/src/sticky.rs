//! `auto`'s stickiness in shared data: a conversation's remembered tier, written after it was
//! answered.

use model_router_scorer::route::Memory;

use crate::io::{Host, HostError, Level, Swap};

/// Stores a conversation's tier with compare-and-swap, so a concurrent writer on another
/// worker is merged with, not overwritten (the higher tier wins); a slot holding another
/// conversation's live higher tier is left as it is ([`Memory::value`]).
pub fn remember(host: &dyn Host, memory: &Memory) -> Result<(), HostError> {
    for _ in 0..3 {
        let (current, cas) = host.shared_get(&memory.key)?;
        let Some(value) = memory.value(current.as_deref()) else { return Ok(()) };
        if host.shared_set(&memory.key, value.as_bytes(), cas)? == Swap::Done {
            return Ok(());
        }
    }
    // Lost three races in a row: stickiness for this turn is best effort, routing is not.
    host.log(Level::Warn, "model-router: could not store the conversation tier (contention)");
    Ok(())
}
