//! Live health as ranking sees it: the breakers and observed latency of the candidates, read
//! from what the glue offers ([`Live`]) under the resilience settings.

use crate::catalog::Deployment;
use crate::config::Config;
use crate::health::{self, Admit, Health, Live, ResilienceConfig};

/// Live health as ranking sees it: breakers and observed latency, when the glue has them.
pub(crate) struct Liveness<'a> {
    live: Option<&'a dyn Live>,
    now: u64,
    cfg: &'a ResilienceConfig,
}

impl<'a> Liveness<'a> {
    /// What `live` knows of health at `now`, read under `config`'s resilience settings.
    pub(crate) fn of(config: &'a Config, live: Option<&'a dyn Live>, now: u64) -> Liveness<'a> {
        Liveness { live, now, cfg: &config.resilience }
    }

    fn get(&self, key: &str) -> Option<Health> {
        self.live.and_then(|l| l.health(key))
    }

    /// What `d`'s breakers say together: `No` when the provider's or the deployment's is open,
    /// `Probe` when one has cooled down or is probing (an attempt takes a probe slot, so that
    /// its outcome closes or reopens it), else `Yes`.
    pub(crate) fn admission(&self, d: &Deployment) -> Admit {
        let mut out = Admit::Yes;
        for k in &health::keys(&d.provider, &d.cluster, &d.id) {
            match self.get(k).map(|h| h.admit(self.now, self.cfg)) {
                Some(Admit::No) => return Admit::No,
                Some(Admit::Probe) => out = Admit::Probe,
                _ => {}
            }
        }
        out
    }

    /// Neither the provider's nor the deployment's breaker is open.
    pub(crate) fn admits(&self, d: &Deployment) -> bool {
        self.admission(d) != Admit::No
    }

    /// Seconds until `d` may be sent a request ([`Health::refuses_for`]): the longer wait of its
    /// provider's and its own breaker, where they refuse requests now.
    pub(crate) fn refuses_for(&self, d: &Deployment) -> u64 {
        let keys = health::keys(&d.provider, &d.cluster, &d.id);
        let refusing =
            keys.iter().filter_map(|k| self.get(k)).filter(|h| h.admit(self.now, self.cfg) == Admit::No);
        refusing.map(|h| h.refuses_for(self.now, self.cfg)).max().unwrap_or(0)
    }

    pub(crate) fn latency(&self, d: &Deployment) -> Option<f64> {
        self.get(&health::deployment_key(&health::reached(&d.provider, &d.cluster), &d.id))?
            .latency(self.now, self.cfg)
    }
}
