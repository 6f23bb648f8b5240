//! The root context: reads and validates the plugin configuration and the provider keys,
//! creates request contexts.

use std::collections::HashMap;
use std::rc::Rc;

use model_router_flow::Shared;
use model_router_scorer::Config;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};

use crate::context;
use crate::host;
use crate::metrics::Metrics;

/// Holds the last configuration that validated, and the metrics every request updates.
#[derive(Default)]
pub struct Root {
    shared: Option<Rc<Shared>>,
    metrics: Rc<Metrics>,
}

impl Context for Root {}

impl RootContext for Root {
    /// Returning false makes Envoy refuse the plugin (or the update); on a failed
    /// reconfiguration the previous config stays in force in this VM.
    fn on_configure(&mut self, size: usize) -> bool {
        let bytes = match host::buffer(BufferType::PluginConfiguration, size) {
            Ok(b) => b,
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: cannot read configuration: {e}"));
                return false;
            }
        };
        let config = match Config::from_json(&bytes) {
            Ok(c) => c,
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: configuration rejected: {e}"));
                return false;
            }
        };
        let mut keys = HashMap::new();
        let mut with_key = Vec::new();
        for p in &config.catalog.providers {
            let Some(auth) = &p.auth else { continue };
            if let Ok(value) = std::env::var(&auth.env)
                && !value.is_empty()
            {
                keys.insert(auth.env.clone(), value);
                with_key.push(p.name.as_str());
            }
        }
        host::log(
            LogLevel::Info,
            &format!(
                "model-router: configured with {} models from {} providers; keys from the VM environment for: {}",
                config.catalog.deployments.len(),
                config.catalog.providers.len(),
                if with_key.is_empty() { "none".to_string() } else { with_key.join(", ") }
            ),
        );
        self.shared = Some(Rc::new(Shared::new(config, keys)));
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None, so a context is always created, configured or not.
        Some(context::context(self.shared.clone(), self.metrics.clone()))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
