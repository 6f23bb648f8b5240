//! A worker's memory of the conversations it served lately, so that an agent's next turn,
//! which resends the whole conversation, is parsed and translated only where it is new:
//! the parses (`parse::memo`) and the Messages API translations (`protocol::anthropic`'s
//! memo), each bounded, each giving the bytes and the decisions of a whole pass. The glue
//! keeps one per VM (one worker) and passes it in; it is used when the prefix cache is on
//! and the body is at least its `min_bytes`, within `memo_bytes`.

use std::cell::RefCell;

use crate::config::PrefixCacheConfig;
use crate::parse::memo::Parses;
use crate::protocol::Translations;

/// One worker's memo (see the module's documentation).
#[derive(Debug)]
pub struct Memo {
    pub(crate) parses: RefCell<Parses>,
    pub(crate) translations: RefCell<Translations>,
}

impl Memo {
    /// An empty memo that keeps about `cache.memo_bytes` bytes of parsed conversations and as
    /// many of translated ones.
    pub fn new(cache: &PrefixCacheConfig) -> Memo {
        let budget = usize::try_from(cache.memo_bytes).unwrap_or(usize::MAX);
        Memo {
            parses: RefCell::new(Parses::new(budget)),
            translations: RefCell::new(Translations::new(budget)),
        }
    }

    /// Parses that resumed from a remembered prefix, and translations that did.
    pub fn hits(&self) -> (u64, u64) {
        (self.parses.borrow().counts().0, self.translations.borrow().counts().0)
    }

    /// `memo`, when `cache` is on and a body of `bytes` is large enough to use it.
    pub(crate) fn for_body<'a>(
        memo: Option<&'a Memo>,
        cache: &PrefixCacheConfig,
        bytes: usize,
    ) -> Option<&'a Memo> {
        memo.filter(|_| cache.slots > 0 && cache.memo_bytes > 0 && bytes as u64 >= cache.min_bytes)
    }
}
