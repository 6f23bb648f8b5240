//! Mock OpenAI-compatible providers, one listener per provider in one process.
//!
//! `mock-provider [--delay-ms N] NAME=ADDR...`, e.g. `mock-provider openai=127.0.0.1:18085`.
//! Each listener answers like the real OpenAI API and serves its own `/mock/faults` and
//! `/mock/requests` (docs/mocks.md).

use std::time::Duration;

use model_router_tests::mock::{self, Log};

fn main() {
    let mut delay = Duration::ZERO;
    let mut listeners = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--delay-ms" {
            match args.next().and_then(|v| v.parse().ok()) {
                Some(ms) => delay = Duration::from_millis(ms),
                None => exit("--delay-ms needs a number of milliseconds"),
            }
        } else if let Some((name, addr)) = arg.split_once('=') {
            listeners.push((name.to_string(), addr.to_string()));
        } else {
            exit(&format!("unexpected argument {arg:?}: use NAME=ADDR"));
        }
    }
    if listeners.is_empty() {
        exit("usage: mock-provider [--delay-ms N] NAME=ADDR...");
    }
    let log = Log::default();
    for (name, addr) in &listeners {
        match mock::start(name, addr, delay, log.clone()) {
            Ok(m) => println!("mock provider {} on {}", m.provider, m.addr),
            Err(e) => exit(&format!("cannot listen on {addr} for {name}: {e}")),
        }
    }
    // The record is for in-process tests; a standalone mock drops it as it goes.
    loop {
        std::thread::sleep(Duration::from_secs(5));
        if let Ok(mut l) = log.lock() {
            l.clear();
        }
    }
}

fn exit(message: &str) -> ! {
    eprintln!("mock-provider: {message}");
    std::process::exit(2)
}
