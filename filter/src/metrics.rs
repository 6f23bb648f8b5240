//! The router's metrics in Envoy (`wasmcustom.model_router.<name>`), defined on first use
//! and cached by name, so a request pays one host call per update.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use proxy_wasm::types::{LogLevel, MetricType};

use model_router_flow::metrics::GAUGES_KEY;
use model_router_scorer::Config;

use crate::host;

/// The router's metrics, defined on first use (`wasmcustom.model_router.<name>` in Envoy).
#[derive(Default)]
pub struct Metrics {
    /// Ids by name, one map per kind (a lookup by `&str` allocates nothing).
    counters: RefCell<HashMap<String, u32>>,
    gauges: RefCell<HashMap<String, u32>>,
    histograms: RefCell<HashMap<String, u32>>,
    /// Gauges defined while [`Metrics::batched`] runs, registered together at its end.
    pending: RefCell<Option<Vec<String>>>,
}

/// Prefix of every metric name.
pub const METRIC_PREFIX: &str = "model_router.";

thread_local! {
    /// The VM's linear memory when last reported to the gauge, bytes.
    static REPORTED: Cell<usize> = const { Cell::new(0) };
}

/// Adds gauges' names to the list in shared data that a new configuration sweeps: once per
/// gauge and VM (its first definition), a few compare-and-swap tries for them all.
fn register(names: &[String]) {
    for _ in 0..4 {
        let Ok((bytes, cas)) = host::shared_get(GAUGES_KEY) else { return };
        let mut list = bytes.unwrap_or_default();
        let listed: HashSet<&[u8]> = list.split(|b| *b == b'\n').collect();
        let new: Vec<&String> = names.iter().filter(|n| !listed.contains(n.as_bytes())).collect();
        if new.is_empty() {
            return;
        }
        for name in new {
            list.extend_from_slice(name.as_bytes());
            list.push(b'\n');
        }
        if matches!(host::shared_set(GAUGES_KEY, &list, cas), Ok(host::Swap::Done)) {
            return;
        }
    }
}

impl Metrics {
    fn id(&self, kind: MetricType, name: &str) -> Option<u32> {
        let ids = match kind {
            MetricType::Gauge => &self.gauges,
            MetricType::Histogram => &self.histograms,
            _ => &self.counters,
        };
        if let Some(id) = ids.borrow().get(name) {
            return Some(*id);
        }
        match host::define_metric(kind, &format!("{METRIC_PREFIX}{name}")) {
            Ok(id) => {
                ids.borrow_mut().insert(name.to_string(), id);
                if kind == MetricType::Gauge && model_router_flow::metrics::swept(name) {
                    match self.pending.borrow_mut().as_mut() {
                        Some(pending) => pending.push(name.to_string()),
                        None => register(&[name.to_string()]),
                    }
                }
                Some(id)
            }
            Err(e) => {
                host::log(LogLevel::Warn, &format!("model-router: metric {name}: {e}"));
                None
            }
        }
    }

    /// Adds to a counter.
    pub fn count(&self, name: &str, by: u64) {
        if let Some(id) = self.id(MetricType::Counter, name) {
            let _ = host::increment_metric(id, i64::try_from(by).unwrap_or(i64::MAX));
        }
    }

    /// Sets a gauge.
    pub fn gauge(&self, name: &str, value: u64) {
        if let Some(id) = self.id(MetricType::Gauge, name) {
            let _ = host::record_metric(id, value);
        }
    }

    /// Adds the VM's linear memory growth since last reported to the gauge every VM (one per
    /// worker) adds to: one host call per growth, none per request. What a VM reported is
    /// the VM's, not a root context's: each configuration pushed makes a new root context in
    /// the same VM, and each added the VM's whole memory again.
    pub fn memory(&self) {
        #[cfg(target_arch = "wasm32")]
        let bytes = core::arch::wasm32::memory_size(0) * 65_536;
        #[cfg(not(target_arch = "wasm32"))]
        let bytes = 0usize;
        let grown = bytes.saturating_sub(REPORTED.get());
        if grown > 0
            && let Some(id) = self.id(MetricType::Gauge, model_router_flow::metrics::VM_MEMORY)
            && host::increment_metric(id, i64::try_from(grown).unwrap_or(i64::MAX)).is_ok()
        {
            REPORTED.set(bytes);
        }
    }

    /// Takes what this VM reported back out of the memory gauge: its last root context is
    /// done, and Envoy drops the VM.
    pub fn forget_memory(&self) {
        let reported = REPORTED.replace(0);
        if reported > 0
            && let Some(id) = self.id(MetricType::Gauge, model_router_flow::metrics::VM_MEMORY)
        {
            let _ = host::increment_metric(id, -i64::try_from(reported).unwrap_or(i64::MAX));
        }
    }

    /// Runs `set`, registering the gauges it defines together at its end: a configuration
    /// setting two gauges for each of 8,000 clients read and rewrote the growing list once a
    /// gauge, in every VM (a push held live requests 16 s).
    pub fn batched(&self, set: impl FnOnce()) {
        *self.pending.borrow_mut() = Some(Vec::new());
        set();
        let names = self.pending.borrow_mut().take().unwrap_or_default();
        register(&names);
    }

    /// Sets to 0 the gauges any VM of this Envoy set that `config` no longer describes (a
    /// removed provider's breaker, a removed client's budget), and drops them from the list.
    pub fn sweep(&self, config: &Config) {
        let Ok((Some(bytes), cas)) = host::shared_get(GAUGES_KEY) else { return };
        let list = String::from_utf8_lossy(&bytes);
        let (stale, kept) = model_router_flow::metrics::sweep(&list, config);
        if stale.is_empty() {
            return;
        }
        for name in &stale {
            // Defined without registering: the list is rewritten below.
            let known = self.gauges.borrow().get(*name).copied();
            let id = known
                .or_else(|| host::define_metric(MetricType::Gauge, &format!("{METRIC_PREFIX}{name}")).ok());
            if let Some(id) = id {
                let _ = host::record_metric(id, 0);
            }
        }
        // Another VM sweeping or registering at once wins; the next configuration sweeps again.
        let _ = host::shared_set(GAUGES_KEY, kept.as_bytes(), cas);
    }

    /// Records a histogram value.
    pub fn histogram(&self, name: &str, value: u64) {
        if let Some(id) = self.id(MetricType::Histogram, name) {
            let _ = host::record_metric(id, value);
        }
    }
}

/// The gauges the VMs of this Envoy set and no configuration pushed since swept, one a line.
pub fn listed_gauges() -> String {
    match host::shared_get(GAUGES_KEY) {
        Ok((Some(bytes), _)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    }
}
