//! A real Prometheus (Debian's `prometheus` package, which `make test` installs) on a free
//! loopback port, scraping Envoy's admin `/stats/prometheus` every second, with its own
//! configuration and data directory; stopped by PID on drop.

use std::fs;
use std::io;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::envoy::{free_port, wait_ready};
use crate::http;

/// The prometheus binary: `$PROMETHEUS_BIN`, else `prometheus` on the `PATH`.
pub fn prometheus_bin() -> PathBuf {
    std::env::var_os("PROMETHEUS_BIN").map_or_else(|| PathBuf::from("prometheus"), PathBuf::from)
}

/// A running Prometheus; killed on drop.
pub struct Prometheus {
    child: Child,
    /// Its HTTP API.
    pub addr: SocketAddr,
    dir: PathBuf,
}

/// The log of the Prometheus whose directory is `dir`.
fn log_in(dir: &Path) -> String {
    fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
}

/// How often Prometheus scrapes, seconds.
pub const SCRAPE_SECS: u64 = 1;

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/stats/prometheus` (an Envoy admin address) as
    /// job `envoy`, and waits until it is ready.
    pub fn start(target: SocketAddr) -> io::Result<Prometheus> {
        // Another process may take the released port before Prometheus binds it: try again.
        let mut last = None;
        for _ in 0..3 {
            match Prometheus::launch(target) {
                Err(e) if e.to_string().contains("address already in use") => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("prometheus did not start")))
    }

    fn launch(target: SocketAddr) -> io::Result<Prometheus> {
        let dir = std::env::temp_dir().join(format!(
            "model-router-prometheus-{}-{}",
            std::process::id(),
            target.port()
        ));
        fs::create_dir_all(dir.join("data"))?;
        let config = format!(
            "global:\n  scrape_interval: {SCRAPE_SECS}s\n  evaluation_interval: {SCRAPE_SECS}s\n\
             scrape_configs:\n- job_name: envoy\n  metrics_path: /stats/prometheus\n  \
             static_configs:\n  - targets: ['{target}']\n"
        );
        fs::write(dir.join("prometheus.yml"), config)?;
        let log = fs::File::create(dir.join("prometheus.log"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let child = Command::new(prometheus_bin())
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| {
                io::Error::other(format!(
                    "cannot run {} ({e}): `make prometheus` installs Debian's package",
                    prometheus_bin().display()
                ))
            })?;
        let mut p = Prometheus { child, addr, dir };
        p.wait_ready()?;
        Ok(p)
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let dir = &self.dir;
        wait_ready(&mut self.child, "prometheus", self.addr, "/-/ready", || log_in(dir))
    }

    /// Prometheus's own log.
    pub fn log(&self) -> String {
        log_in(&self.dir)
    }

    /// Evaluates `query` now through `/api/v1/query`; returns `data.result` (the series of an
    /// instant vector, each `{"metric": {labels}, "value": [time, "number"]}`).
    pub fn query(&self, query: &str) -> io::Result<Vec<Value>> {
        let body = format!("query={}", form_encode(query));
        let r = http::request(
            self.addr,
            "POST",
            "/api/v1/query",
            &[("content-type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )?;
        let v = r.json();
        if r.status != 200 || v["status"] != "success" {
            return Err(io::Error::other(format!("{query}: {} {}", r.status, r.text())));
        }
        match &v["data"]["result"] {
            Value::Array(series) => Ok(series.clone()),
            other => Err(io::Error::other(format!("{query}: not a vector: {other}"))),
        }
    }

    /// Waits until Prometheus has scraped the target after `after` (seconds since the epoch),
    /// so what Envoy showed then is in the database.
    pub fn wait_scraped_after(&self, after: f64) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            let series = self.query(r#"timestamp(up{job="envoy"} == 1)"#)?;
            let at = series.first().and_then(value).unwrap_or(0.0);
            if at > after {
                return Ok(());
            }
            last = format!("{series:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(io::Error::other(format!("no scrape after {after} in 30s (last: {last}):\n{}", self.log())))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A series' value (`value: [time, "number"]`), `NaN` and infinities included.
pub fn value(series: &Value) -> Option<f64> {
    series["value"][1].as_str()?.parse().ok()
}

/// `application/x-www-form-urlencoded`: unreserved bytes as they are, the rest as `%XX`.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
