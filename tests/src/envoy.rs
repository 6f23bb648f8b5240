//! Starting the real Envoy with the shipped `envoy/demo.yaml`, on free loopback ports, in
//! front of in-process mock providers.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::http;
use crate::mock::{self, Log, Received};
use crate::otlp::Receiver;

/// Providers of the demo config and the ports `envoy/demo.yaml` gives their clusters.
pub const DEMO_PROVIDERS: [(&str, u16); 8] = [
    ("anthropic", 18081),
    ("cerebras", 18082),
    ("google-gemini", 18083),
    ("groq", 18084),
    ("openai", 18085),
    ("xai", 18086),
    ("aws-bedrock", 18087),
    ("aws-bedrock-runtime", 18088),
];

/// Listener port in `envoy/demo.yaml`.
pub const DEMO_LISTEN_PORT: u16 = 10000;
/// Admin port in `envoy/demo.yaml`.
pub const DEMO_ADMIN_PORT: u16 = 9901;
/// The wasm path in `envoy/demo.yaml`, relative to the repository root.
pub const DEMO_WASM: &str = "build/model_router.wasm";
/// The plugin configuration line in `envoy/demo.yaml`.
pub const DEMO_PLUGIN_CONFIG: &str = r#"value: '{"responses": {"drop_tools": ["web_search"]}, "model_aliases": {"claude-opus-*": "claude-opus-4-7", "claude-3-opus-*": "claude-opus-4-7", "claude-haiku-*": "claude-haiku-4-5", "claude-3-haiku-*": "claude-haiku-4-5", "claude-3-5-haiku-*": "claude-haiku-4-5", "claude-*": "claude-sonnet-4-6"}}'"#;

/// The repository root: found from the working directory (tests run in `tests/`, `make run`
/// in the root). Not the compile-time manifest path: with a target directory shared between
/// clones (CI reuses `$HOME/.cache`), cargo can keep a test binary built in another clone,
/// and that clone may be gone.
pub fn repo_root() -> PathBuf {
    let is_root = |d: &Path| d.join("scorer/Cargo.toml").exists() && d.join("Makefile").exists();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors().find(|d| is_root(d)).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        },
        Path::to_path_buf,
    )
}

/// The envoy binary: `$ENVOY_BIN`, else the one the Makefile installs into `.venv`.
pub fn envoy_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ENVOY_BIN") {
        return PathBuf::from(p);
    }
    let lib = repo_root().join(".venv/lib");
    let found = fs::read_dir(&lib).ok().and_then(|dirs| {
        dirs.flatten().map(|d| d.path().join("site-packages/envoy/_bin/envoy")).find(|p| p.exists())
    });
    found.unwrap_or_else(|| PathBuf::from("envoy"))
}

/// The built filter: `$MODEL_ROUTER_WASM`, else `build/model_router.wasm`.
pub fn wasm_path() -> PathBuf {
    std::env::var_os("MODEL_ROUTER_WASM").map_or_else(|| repo_root().join(DEMO_WASM), PathBuf::from)
}

/// A free loopback port (bound and released; good enough on a test machine).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `n` distinct free loopback ports: all are held at once, so they cannot repeat.
pub fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let held: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind("127.0.0.1:0")).collect::<io::Result<_>>()?;
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

/// Where the demo config's fixed values go.
pub struct Ports {
    /// Listener.
    pub listen: u16,
    /// Admin.
    pub admin: u16,
    /// Provider name -> mock port.
    pub providers: Vec<(String, u16)>,
}

/// The last 40 lines of a log file.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Waits up to 30 s for a process we started to answer `GET path` on `addr` with 200; fails
/// with `log()` if it exits first or never does.
pub fn wait_ready(
    child: &mut Child,
    name: &str,
    addr: SocketAddr,
    path: &str,
    log: impl Fn() -> String,
) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!("{name} exited ({status}):\n{}", log())));
        }
        if http::request(addr, "GET", path, &[], b"").is_ok_and(|r| r.status == 200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(io::Error::other(format!("{name} not ready after 30s:\n{}", log())))
}

/// `envoy/demo.yaml` with its ports, wasm path and (optionally) plugin configuration replaced.
pub fn render_demo(ports: &Ports, wasm: &Path, plugin_config: Option<&str>) -> io::Result<String> {
    let mut text = fs::read_to_string(repo_root().join("envoy/demo.yaml"))?;
    let swap = |text: &mut String, from: &str, to: &str| -> io::Result<()> {
        if !text.contains(from) {
            return Err(io::Error::other(format!("envoy/demo.yaml has no {from:?}")));
        }
        *text = text.replace(from, to);
        Ok(())
    };
    swap(&mut text, &format!("port_value: {DEMO_LISTEN_PORT}"), &format!("port_value: {}", ports.listen))?;
    swap(&mut text, &format!("port_value: {DEMO_ADMIN_PORT}"), &format!("port_value: {}", ports.admin))?;
    for (name, demo_port) in DEMO_PROVIDERS {
        if let Some((_, port)) = ports.providers.iter().find(|(n, _)| n == name) {
            swap(&mut text, &format!("port_value: {demo_port}"), &format!("port_value: {port}"))?;
        }
    }
    swap(&mut text, &format!("filename: {DEMO_WASM}"), &format!("filename: {}", wasm.display()))?;
    // SDS files are read relative to Envoy's working directory: make them absolute.
    swap(&mut text, "path: envoy/secrets/", &format!("path: {}/envoy/secrets/", repo_root().display()))?;
    if let Some(cfg) = plugin_config {
        swap(&mut text, DEMO_PLUGIN_CONFIG, &format!("value: '{}'", cfg.replace('\'', "''")))?;
    }
    Ok(text)
}

/// A running Envoy; killed on drop.
pub struct Envoy {
    child: Child,
    /// Listener address.
    pub addr: SocketAddr,
    /// Admin address.
    pub admin: SocketAddr,
    /// Envoy's log file.
    pub log_path: PathBuf,
    dir: PathBuf,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

impl Envoy {
    /// Starts Envoy on `config` (listener and admin ports as given) in its own process group,
    /// and waits until the admin endpoint reports it ready.
    pub fn start(config: &str, listen: u16, admin: u16) -> io::Result<Envoy> {
        Envoy::spawn(config, listen, admin, true)
    }

    /// [`Envoy::start`] on free loopback ports, the config written for them by `config(listen,
    /// admin)`: another process may take a released port before Envoy binds it (tests run in
    /// parallel), so a few tries, each on new ports.
    pub fn start_on_free_ports(config: impl Fn(u16, u16) -> io::Result<String>) -> io::Result<Envoy> {
        let mut last = None;
        for _ in 0..3 {
            let [listen, admin] = free_ports(2)?[..] else { return Err(io::Error::other("no ports")) };
            match Envoy::start(&config(listen, admin)?, listen, admin) {
                Err(e) if e.to_string().contains("Address already in use") => last = Some(e),
                started => return started,
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("envoy did not start")))
    }

    /// Like [`Envoy::start`]; with `own_group` false Envoy stays in the caller's process group,
    /// so a terminal's Ctrl-C stops it together with the caller.
    pub fn spawn(config: &str, listen: u16, admin: u16, own_group: bool) -> io::Result<Envoy> {
        let (child, dir, log_path) = launch(config, own_group)?;
        let mut envoy = Envoy {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], listen)),
            admin: SocketAddr::from(([127, 0, 0, 1], admin)),
            log_path,
            dir,
        };
        envoy.wait_ready()?;
        Ok(envoy)
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let log_path = self.log_path.clone();
        wait_ready(&mut self.child, "envoy", self.admin, "/ready", || tail(&log_path))
    }

    /// Waits for Envoy to exit by itself (for configs it must refuse).
    pub fn wait_exit(config: &str, timeout: Duration) -> io::Result<(Option<i32>, String)> {
        let (mut child, dir, log_path) = launch(config, true)?;
        let deadline = Instant::now() + timeout;
        let mut code = None;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                code = status.code();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if code.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let _ = fs::remove_dir_all(&dir);
        Ok((code, if code.is_some() { log } else { String::new() }))
    }

    /// The last lines of Envoy's log.
    pub fn log_tail(&self) -> String {
        tail(&self.log_path)
    }

    /// Envoy's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Envoy's resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Waits for Envoy to exit.
    pub fn wait(&mut self) -> io::Result<std::process::ExitStatus> {
        self.child.wait()
    }

    /// The whole log.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `GET` on the admin endpoint, body as text.
    pub fn admin_get(&self, path: &str) -> io::Result<String> {
        Ok(http::request(self.admin, "GET", path, &[], b"")?.text())
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes `config` into a fresh directory and starts Envoy on it, logging to a file there.
/// Returns the process, the directory and the log path.
fn launch(config: &str, own_group: bool) -> io::Result<(Child, PathBuf, PathBuf)> {
    let dir = std::env::temp_dir().join(format!(
        "model-router-envoy-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir)?;
    let cfg_path = dir.join("envoy.yaml");
    fs::write(&cfg_path, config)?;
    let log_path = dir.join("envoy.log");
    let log = fs::File::create(&log_path)?;
    let mut cmd = Command::new(envoy_bin());
    cmd.arg("-c")
        .arg(&cfg_path)
        .args(["--concurrency", "2", "--disable-hot-restart", "--log-level", "info"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if own_group {
        cmd.process_group(0);
    }
    Ok((cmd.spawn()?, dir, log_path))
}

/// Envoy with the demo config in front of one mock per provider.
pub struct Stack {
    /// Envoy.
    pub envoy: Envoy,
    /// Everything the mocks received.
    pub log: Log,
    /// Provider name -> its mock's address (a dead provider's points at a closed port).
    pub mocks: Vec<(String, SocketAddr)>,
    /// The OTLP receiver the demo's exporters send to (unless a test put its own there).
    pub otlp: Option<Receiver>,
}

/// The demo's OpenTelemetry collector address, as `envoy/demo.yaml` writes it.
pub const DEMO_OTLP: &str = "socket_address: {address: 127.0.0.1, port_value: 4318}";

/// How to start a [`Stack`] other than with the demo config as shipped.
#[derive(Default)]
pub struct StackOptions<'a> {
    /// The plugin configuration (JSON) instead of the demo's.
    pub plugin_config: Option<&'a str>,
    /// Providers with no mock: their port refuses connections.
    pub dead: &'a [&'a str],
    /// Text replacements in the demo config (each must match).
    pub swaps: &'a [(&'a str, &'a str)],
}

impl Stack {
    /// Starts the mocks and Envoy with the shipped demo config (plugin config replaced if
    /// given).
    pub fn start(plugin_config: Option<&str>) -> io::Result<Stack> {
        Stack::start_with(&StackOptions { plugin_config, ..StackOptions::default() })
    }

    /// Starts the mocks and Envoy with the demo config changed as `opts` says.
    pub fn start_with(opts: &StackOptions<'_>) -> io::Result<Stack> {
        let log = Log::default();
        let mut providers = Vec::new();
        let mut mocks = Vec::new();
        // A dead provider's port is held while the live mocks start, so none of them is given
        // it (a mock started next took the port just freed, and the dead provider answered).
        let mut held = Vec::new();
        for (name, _) in DEMO_PROVIDERS {
            let addr = if opts.dead.contains(&name) {
                let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
                let addr = listener.local_addr()?;
                held.push(listener);
                addr
            } else {
                mock::start(name, "127.0.0.1:0", Duration::ZERO, log.clone())?.addr
            };
            providers.push((name.to_string(), addr.port()));
            mocks.push((name.to_string(), addr));
        }
        drop(held);
        // Exporters without a collector log an error per export: give them one.
        let otlp = if opts.swaps.iter().any(|(from, _)| *from == DEMO_OTLP) {
            None
        } else {
            Some(Receiver::start()?)
        };
        let envoy = Envoy::start_on_free_ports(|listen, admin| {
            let ports = Ports { listen, admin, providers: providers.clone() };
            let mut config = render_demo(&ports, &wasm_path(), opts.plugin_config)?;
            for (from, to) in opts.swaps {
                if !config.contains(from) {
                    return Err(io::Error::other(format!("envoy/demo.yaml has no {from:?}")));
                }
                config = config.replace(from, to);
            }
            if let Some(rx) = &otlp {
                let to = format!("socket_address: {{address: 127.0.0.1, port_value: {}}}", rx.addr.port());
                config = config.replace(DEMO_OTLP, &to);
            }
            Ok(config)
        })?;
        Ok(Stack { envoy, log, mocks, otlp })
    }

    /// Requests the mocks received so far, and clears the record.
    pub fn take_received(&self) -> Vec<Received> {
        self.log.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default()
    }

    /// The mock playing `provider`.
    pub fn mock(&self, provider: &str) -> io::Result<SocketAddr> {
        self.mocks
            .iter()
            .find(|(n, _)| n == provider)
            .map(|(_, a)| *a)
            .ok_or_else(|| io::Error::other(format!("no mock for {provider}")))
    }

    /// Sets `provider`'s mock fault plan (`POST /mock/faults`); `None` heals it.
    pub fn fault(&self, provider: &str, plan: Option<&str>) -> io::Result<serde_json::Value> {
        let addr = self.mock(provider)?;
        let r = match plan {
            Some(p) => http::post_json(addr, "/mock/faults", p)?,
            None => http::request(addr, "DELETE", "/mock/faults", &[], b"")?,
        };
        if r.status != 200 {
            return Err(io::Error::other(format!("fault plan refused: {}", r.text())));
        }
        Ok(r.json())
    }
}

/// The credential the demo gives each provider: the header it travels in and its value.
/// Anthropic's is injected by Envoy's credential_injector as `x-api-key`, not by the filter;
/// every other key comes from the VM environment as a bearer token (Bedrock's API key too).
pub fn demo_key(provider: &str) -> (&'static str, &'static str) {
    match provider {
        "anthropic" => ("x-api-key", "demo-injected-anthropic"),
        "aws-bedrock" | "aws-bedrock-runtime" => ("authorization", "Bearer demo-key-bedrock"),
        "cerebras" => ("authorization", "Bearer demo-key-cerebras"),
        "google-gemini" => ("authorization", "Bearer demo-key-gemini"),
        "groq" => ("authorization", "Bearer demo-key-groq"),
        "openai" => ("authorization", "Bearer demo-key-openai"),
        "xai" => ("authorization", "Bearer demo-key-xai"),
        other => panic!("no demo key for {other}"),
    }
}
