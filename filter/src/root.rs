//! The root context: reads and validates the plugin configuration, creates request contexts.

use std::rc::Rc;

use model_router_scorer::Config;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{BufferType, ContextType, LogLevel};

use crate::host;
use crate::http::Http;

/// Holds the last configuration that validated.
#[derive(Default)]
pub struct Root {
    config: Option<Rc<Config>>,
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
        match Config::from_json(&bytes) {
            Ok(config) => {
                host::log(
                    LogLevel::Info,
                    &format!(
                        "model-router: configured with {} models from {} providers",
                        config.catalog.deployments.len(),
                        config.catalog.providers.len()
                    ),
                );
                self.config = Some(Rc::new(config));
                true
            }
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: configuration rejected: {e}"));
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None, so a context is always created, configured or not.
        Some(Box::new(Http::new(self.config.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
