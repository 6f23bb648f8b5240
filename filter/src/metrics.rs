//! The router's metrics in Envoy (`wasmcustom.model_router.<name>`), defined on first use
//! and cached by name, so a request pays one host call per update.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use proxy_wasm::types::{LogLevel, MetricType};

use crate::host;

/// The router's metrics, defined on first use (`wasmcustom.model_router.<name>` in Envoy).
#[derive(Default)]
pub struct Metrics {
    /// Ids by name, one map per kind (a lookup by `&str` allocates nothing).
    counters: RefCell<HashMap<String, u32>>,
    gauges: RefCell<HashMap<String, u32>>,
    histograms: RefCell<HashMap<String, u32>>,
    /// The VM's linear memory when last reported, bytes.
    memory: Cell<usize>,
}

/// Prefix of every metric name.
pub const METRIC_PREFIX: &str = "model_router.";

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
    /// worker) adds to: one host call per growth, none per request.
    pub fn memory(&self) {
        #[cfg(target_arch = "wasm32")]
        let bytes = core::arch::wasm32::memory_size(0) * 65_536;
        #[cfg(not(target_arch = "wasm32"))]
        let bytes = 0usize;
        let grown = bytes.saturating_sub(self.memory.get());
        if grown > 0
            && let Some(id) = self.id(MetricType::Gauge, model_router_flow::metrics::VM_MEMORY)
            && host::increment_metric(id, i64::try_from(grown).unwrap_or(i64::MAX)).is_ok()
        {
            self.memory.set(bytes);
        }
    }

    /// Records a histogram value.
    pub fn histogram(&self, name: &str, value: u64) {
        if let Some(id) = self.id(MetricType::Histogram, name) {
            let _ = host::record_metric(id, value);
        }
    }
}
