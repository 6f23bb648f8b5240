//! The candidate that carries a request: the first, in rank order, whose API can take it,
//! that fits the budget left and whose breaker admits it.

use std::cell::RefCell;

use crate::catalog::Deployment;
use crate::config::Config;
use crate::decide::select::Needs;
use crate::decide::upstream::Target;
use crate::error::ApiError;
use crate::parse::request::ChatRequest;
use crate::protocol::{Translations, native};

/// Why no candidate carried a request: the first translator's refusal, and whether one was
/// skipped as past the budget.
pub(crate) struct Carried {
    pub(crate) refused: Option<ApiError>,
    pub(crate) unaffordable: bool,
}

/// The first candidate whose API can carry the request, with its body: a translation may refuse
/// what its provider cannot take (a remote image for Bedrock), and another candidate of the
/// tier can still serve it. Under a budget only the first was checked: the next must fit what is
/// left too (or its reservation would fail, a 429 while a cheaper candidate could answer), and
/// only the first's breaker was read: the next must admit too (one still open was sent the
/// request when the first could not carry it).
pub(crate) fn carried(
    config: &Config,
    cands: &[&Deployment],
    (req, needs): (&ChatRequest, &Needs),
    body: &[u8],
    memo: Option<&RefCell<Translations>>,
    (fits, admits): (impl Fn(&Deployment) -> bool, impl Fn(&Deployment) -> bool),
) -> Result<(usize, Target), Carried> {
    let mut why = Carried { refused: None, unaffordable: false };
    for (i, d) in cands.iter().enumerate() {
        if !fits(d) {
            why.unaffordable = true;
            continue;
        }
        if i > 0 && !admits(d) {
            continue;
        }
        let to = needs.upstream(config, d, req.stream);
        match native::chat_body_with(to.api, req.layout(), body, &to.native(), memo) {
            Ok(body) => return Ok((i, Target { body, to })),
            Err(e) => {
                why.refused.get_or_insert(e);
            }
        }
    }
    Err(why)
}
