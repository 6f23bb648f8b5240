//! `make run`: mock providers plus Envoy with `envoy/demo.yaml` and the built filter, in the
//! foreground until Ctrl-C. Ports: `LISTEN_PORT` (10000), `ADMIN_PORT` (9901); mock providers
//! on the ports the demo config names (18081-18088).

use std::time::Duration;

use model_router_tests::envoy::{
    DEMO_ADMIN_PORT, DEMO_LISTEN_PORT, DEMO_PROVIDERS, Envoy, Ports, render_demo, wasm_path,
};
use model_router_tests::mock::{self, Log};
use model_router_tests::otlp::Receiver;

fn port(var: &str, default: u16) -> u16 {
    match std::env::var(var) {
        Ok(v) => v.parse().unwrap_or_else(|_| fail(&format!("{var}={v:?} is not a port"))),
        Err(_) => default,
    }
}

/// The parent process id, from /proc (changes to 1 when the parent dies).
fn parent_pid() -> Option<u32> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

fn fail(message: &str) -> ! {
    eprintln!("demo: {message}");
    std::process::exit(1)
}

fn main() {
    let listen = port("LISTEN_PORT", DEMO_LISTEN_PORT);
    let admin = port("ADMIN_PORT", DEMO_ADMIN_PORT);
    let log = Log::default();
    let mut providers = Vec::new();
    for (name, p) in DEMO_PROVIDERS {
        let addr = format!("127.0.0.1:{p}");
        match mock::start(name, &addr, Duration::ZERO, log.clone()) {
            Ok(m) => providers.push((name.to_string(), m.addr.port())),
            Err(e) => fail(&format!("mock provider {name} cannot listen on {addr}: {e}")),
        }
    }
    let ports = Ports { listen, admin, providers };
    let config = render_demo(&ports, &wasm_path(), None).unwrap_or_else(|e| fail(&e.to_string()));
    // Envoy exports logs and spans to a collector on 4318: without one it logs an error per
    // export, burying real ones. Take the port with a quiet sink unless a collector has it.
    let otlp = match Receiver::start_on("127.0.0.1:4318") {
        Ok(rx) => format!("a built-in sink on {} (start a collector there instead to see them)", rx.addr),
        Err(_) => "the collector on 127.0.0.1:4318".to_string(),
    };
    let mut envoy = Envoy::spawn(&config, listen, admin, false).unwrap_or_else(|e| fail(&e.to_string()));
    let url = format!("http://127.0.0.1:{listen}/v1/chat/completions");
    println!(
        r#"
model-router demo is up: Envoy on 127.0.0.1:{listen} (admin 127.0.0.1:{admin}), mock providers on 18081-18088.
Envoy log: {log}
OTLP logs and spans go to {otlp}.

Try:
  curl -si {url} -H 'content-type: application/json' \
    -d '{{"model":"economy","messages":[{{"role":"user","content":"hello"}}]}}'

  curl -si {url} -H 'content-type: application/json' \
    -d '{{"model":"standard","prefer":"coding","messages":[{{"role":"user","content":"fix my code"}}]}}'

  curl -si {url} -H 'content-type: application/json' \
    -d '{{"model":"claude-opus-4-7","messages":[{{"role":"user","content":"pinned"}}]}}'

  curl -sN {url} -H 'content-type: application/json' \
    -d '{{"model":"premium","stream":true,"messages":[{{"role":"user","content":"stream it"}}]}}'

  curl -si {url} -H 'content-type: application/json' \
    -d '{{"model":"gold","messages":[{{"role":"user","content":"unknown model"}}]}}'

Ctrl-C stops everything."#,
        log = envoy.log_path.display()
    );
    // Ctrl-C reaches Envoy too (same process group); when it exits, so do the mocks with us.
    // If whoever started us goes away without a Ctrl-C (a SIGTERM to `make`), stop Envoy too.
    let pid = envoy.pid();
    let parent = parent_pid();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if parent_pid() != parent {
                let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
                std::process::exit(0);
            }
        }
    });
    let status = envoy.wait();
    eprintln!("envoy exited: {status:?}");
}
