//! The root context: reads and validates the plugin configuration and the provider keys,
//! creates request contexts.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use model_router_flow::Shared;
use model_router_flow::io::ABSENT;
use model_router_flow::shared::provider_key;
use model_router_scorer::Config;
use model_router_scorer::parse::prefix::Digest;
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
    /// Counted among the VM's configured root contexts.
    counted: bool,
}

thread_local! {
    /// Root contexts of this VM with a configuration: each configuration pushed adds one, and
    /// the one it replaces is done later.
    static ROOTS: Cell<u32> = const { Cell::new(0) };
    /// Bytes of client bodies this VM's requests keep for fallbacks, under every configuration
    /// it holds: a configuration pushed over a listener kept a ledger of its own while the one it
    /// replaced drained, and a worker held twice `resilience.failover_body_bytes` (N times after
    /// N pushes).
    static KEPT: Rc<Cell<usize>> = Rc::default();
}

impl Context for Root {
    fn on_done(&mut self) -> bool {
        if std::mem::take(&mut self.counted) {
            let left = ROOTS.get().saturating_sub(1);
            ROOTS.set(left);
            // The VM's last plugin is done and Envoy drops the VM: what it added to the
            // memory gauge goes with it.
            if left == 0 {
                self.metrics.forget_memory();
            }
        }
        true
    }
}

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
        let mut config = match Config::from_json(&bytes) {
            Ok(c) => c,
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: configuration rejected: {e}"));
                return false;
            }
        };
        let mut keys = HashMap::new();
        let (mut with_key, mut without) = (Vec::new(), Vec::new());
        for p in &config.catalog.providers {
            let Some(auth) = &p.auth else { continue };
            match std::env::var(&auth.env).as_deref().map(provider_key) {
                Ok(Ok(Some(key))) => {
                    keys.insert(auth.env.clone(), key.to_string());
                    with_key.push(p.name.as_str());
                }
                Ok(Err(why)) => {
                    host::log(
                        LogLevel::Error,
                        &format!(
                            "model-router: {} for provider {} {why}: its requests go without the router's key",
                            auth.env, p.name
                        ),
                    );
                    without.push(format!("{} ({}, refused)", p.name, auth.env));
                }
                _ => without.push(format!("{} ({})", p.name, auth.env)),
            }
        }
        let list = |names: Vec<String>| if names.is_empty() { "none".to_string() } else { names.join(", ") };
        host::log(
            LogLevel::Info,
            &format!(
                "model-router: configured with {} models from {} providers; keys from the VM environment for: {}; none for: {} (Envoy must set their credentials, as a credential injector does)",
                config.catalog.deployments.len(),
                config.catalog.providers.len(),
                list(with_key.iter().map(|s| s.to_string()).collect()),
                list(without),
            ),
        );
        if let Some(name) = config.client_header.as_deref().filter(|h| h.contains('_')) {
            // Accepted (a listener may allow it), but the shipped ones drop such headers
            // (`headers_with_underscores_action`): no request would name its client, and no
            // client's policy or budget would apply.
            host::log(
                LogLevel::Warn,
                &format!(
                    "model-router: client_header '{name}' has '_': a listener whose headers_with_underscores_action drops or rejects such headers (the shipped ones do) never passes it, and no client's policy or budget applies"
                ),
            );
        }
        // Valid, and perhaps meant, but otherwise seen only in the errors clients get.
        let now = host::now_nanos().map_or(0, |ns| ns / 1_000_000_000);
        for refusal in config.refusals().into_iter().chain(config.cautions(now)) {
            host::log(LogLevel::Warn, &format!("model-router: {refusal}"));
        }
        let b = &config.budgets;
        if (b.daily_usd.is_some() || !b.clients.is_empty() || b.client_default_usd.is_some())
            && first_in_process()
        {
            host::log(
                LogLevel::Warn,
                "model-router: budgets start from zero in this Envoy process: spend is kept in shared data, which is per process, so a restart forgets what was spent today",
            );
        }
        config.prefix_cache.key = digest_key();
        self.metrics.sweep(&config);
        // The budget and breaker gauges from their records: a new module's VMs start with none.
        let wasm = context::Wasm { metrics: &self.metrics };
        self.metrics.batched(|| {
            model_router_flow::spend::set_all_gauges(&wasm, &config, now);
            model_router_flow::live::set_breaker_gauges(&wasm, &config);
        });
        // The spend gauges are set again each minute, so a new UTC day shows at midnight.
        let gauged = !model_router_flow::spend::gauged(&config).is_empty();
        if let Err(e) = host::set_tick_period(if gauged { GAUGE_TICK_MS } else { 0 }) {
            host::log(LogLevel::Warn, &format!("model-router: {e}"));
        }
        let kept = KEPT.with(Rc::clone);
        self.shared = Some(Rc::new(Shared { kept, ..Shared::new(config, keys) }));
        if !std::mem::replace(&mut self.counted, true) {
            ROOTS.set(ROOTS.get().saturating_add(1));
        }
        true
    }

    fn on_tick(&mut self) {
        let (Some(shared), Ok(now)) = (&self.shared, host::now_nanos()) else { return };
        let wasm = context::Wasm { metrics: &self.metrics };
        // Only gauges still listed: a configuration a push replaced ticks until Envoy is done
        // with it, and set the gauges the push swept (a removed client's) back.
        // Read into a set once: a scan of the list for each client's gauge (two lines a client)
        // held every worker a second each minute at 5,000 clients, two at 10,000.
        let list = crate::metrics::listed_gauges();
        let list: HashSet<&str> = list.lines().collect();
        let listed = |name: &str| list.contains(name);
        model_router_flow::spend::refresh_gauges(&wasm, &shared.config, now / 1_000_000_000, &listed);
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        // The SDK panics on None, so a context is always created, configured or not.
        Some(context::context(self.shared.clone(), self.metrics.clone()))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// How often the spend gauges are set again from the records (`on_tick`).
const GAUGE_TICK_MS: u32 = 60_000;

/// Shared-data key of the secret the conversations' digests start from (one per Envoy).
pub const DIGEST_KEY: &str = "model_router.digest_key";

/// Whether this is the first configuration any VM of this Envoy process loads: the one whose
/// mark (in shared data, which a restart empties) is written first, with the absent key's
/// token, so workers loading at once say it once.
fn first_in_process() -> bool {
    matches!(host::shared_set("model_router.process", b"1", ABSENT), Ok(host::Swap::Done))
}

/// The key this Envoy's workers start their conversations' digests from (`auto`'s resumed
/// scans are found by them in shared data, across workers): the one in shared data, or one
/// drawn now and stored if there is still none (a write with the absent key's token), so
/// workers that draw at once all read back the first one stored.
fn digest_key() -> Digest {
    let stored =
        |v: Option<Vec<u8>>| v.and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()).map(Digest::from_bytes);
    if let Some(key) = host::shared_get(DIGEST_KEY).ok().and_then(|(v, _)| stored(v)) {
        return key;
    }
    let drawn = drawn();
    if let Err(e) = host::shared_set(DIGEST_KEY, &drawn.to_bytes(), ABSENT) {
        host::log(LogLevel::Warn, &format!("model-router: cannot store the digest key: {e}"));
    }
    host::shared_get(DIGEST_KEY).ok().and_then(|(v, _)| stored(v)).unwrap_or(drawn)
}

/// 128 bits no caller can predict: the standard library's hasher keys come from the host's
/// random source (WASI `random_get`), and each `RandomState` has its own.
fn drawn() -> Digest {
    use std::hash::{BuildHasher, Hasher};
    let word = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.finish()
    };
    Digest(word(1), word(2))
}
