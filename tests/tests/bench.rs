//! `make bench` is not timed here (numbers come from the bench alone); what is checked is that
//! its pipeline works and reports every figure issue 7 asks for: `scripts/bench.py` runs end to
//! end on loopback in a short run and writes each table with numbers in it, and the committed
//! BENCHMARKS.md carries every figure, both peers at their pinned versions, and an explanation
//! for each target its headline shows not holding.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use model_router_tests::envoy::repo_root as root;

/// The rows of the markdown table under `heading` (header and separator rows left out), cells
/// trimmed.
fn table(md: &str, heading: &str) -> Vec<Vec<String>> {
    let Some(at) = md.find(heading) else { panic!("no section {heading:?}") };
    md[at..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// The first number in a cell (`7804 (79%)` -> 7804, `45%` -> 45, `201 µs` -> 201).
fn number(cell: &str) -> Option<f64> {
    let start = cell.find(|c: char| c.is_ascii_digit() || c == '-')?;
    let s: String =
        cell[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    s.parse().ok()
}

fn positive(cell: &str, what: &str) {
    assert!(number(cell).is_some_and(|n| n > 0.0), "{what}: {cell:?} is not a positive number");
}

/// The Makefile's `NAME := value`.
fn make_var(name: &str) -> String {
    let makefile = fs::read_to_string(root().join("Makefile")).expect("Makefile");
    let prefix = format!("{name} := ");
    let line = makefile.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name}"));
    line[prefix.len()..].trim().to_string()
}

#[test]
fn the_bench_script_runs_end_to_end_and_writes_every_table_with_numbers() {
    let root = root();
    for built in ["build/model_router.wasm", "build/probe.wasm", "build/model_router_timing.wasm"] {
        assert!(root.join(built).exists(), "{built} is missing: make test builds it (make bench-filters)");
    }
    let bins = Path::new(env!("CARGO_BIN_EXE_load")).parent().expect("bin dir").to_path_buf();
    let out = std::env::temp_dir().join(format!("model-router-bench-{}.md", std::process::id()));
    let run = Command::new("python3")
        .arg(root.join("scripts/bench.py"))
        .env("BENCH_BIN_DIR", &bins)
        .env("BENCH_OUT", &out)
        .env("BENCH_PEERS", "0")
        .env("BENCH_ROUNDS", "1")
        .env("BENCH_SECONDS", "0.3")
        .env("BENCH_SIZES", "1KB")
        .env("BENCH_BURST", "0")
        .output()
        .expect("python3");
    assert!(run.status.success(), "bench.py failed: {}", String::from_utf8_lossy(&run.stderr));
    let md = fs::read_to_string(&out).expect("report");
    let _ = fs::remove_file(&out);

    let headline = table(&md, "## Headline");
    assert_eq!(headline.len(), 1, "{headline:?}");
    for row in &headline {
        // Throughput shares are positive; added latency is a difference of two medians, which a
        // 0.3 s run on a busy machine can make negative: it must be a number.
        for (i, cell) in row.iter().enumerate().skip(1) {
            if i <= 2 {
                positive(cell, "headline throughput");
            } else {
                assert!(number(cell).is_some(), "headline added latency: {cell:?} is not a number");
            }
        }
    }
    let rows = table(&md, "## Every configuration");
    let configs: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(configs, ["direct", "passthrough", "router-noop", "router-tier", "router-auto"]);
    for r in &rows {
        // rps, p50 / p99 at c=1, at the fixed rate, stream p50; CPU for the proxies.
        for (i, what) in [(2, "rps"), (3, "c=1"), (4, "rate"), (5, "stream")] {
            positive(&r[i], &format!("{} {what}", r[0]));
        }
        if r[0] != "direct" {
            positive(&r[6], &format!("{} CPU", r[0]));
        }
    }
    assert!(md.contains("Peers were not installed (BENCH_PEERS=0"), "the peer section says why it is empty");

    let ladder = table(&md, "## What each Envoy-side step costs");
    let rungs: Vec<&str> = ladder.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(rungs, ["bare", "buffer", "read", "route", "map", "write", "state", "respond", "all"]);
    for r in &ladder {
        positive(&r[2], &format!("ladder {} rps", r[0]));
        positive(&r[3], &format!("ladder {} CPU", r[0]));
    }

    // The module's builds: passthrough, the default, and the others `make bench` builds.
    let modules = table(&md, "## Module size");
    assert!(modules.len() >= 2, "{modules:?}");
    assert_eq!(modules[0][0], "passthrough");
    assert!(modules[1][0].starts_with("default"), "{:?}", modules[1]);
    for r in &modules {
        // start (s), RSS at rest, then the throughputs (auto not sent to passthrough).
        positive(&r[2], &format!("{} start", r[0]));
        positive(&r[3], &format!("{} RSS", r[0]));
        for (i, cell) in r.iter().enumerate().skip(5) {
            if r[0] != "passthrough" || i % 2 == 1 {
                positive(cell, &format!("{} rps column {i}", r[0]));
            }
        }
    }
    for r in &modules[1..] {
        positive(&r[1], &format!("{} bytes", r[0]));
    }

    let timed: HashMap<String, Vec<String>> =
        table(&md, "## Inside the router in Envoy's V8").into_iter().map(|r| (r[0].clone(), r)).collect();
    for name in [
        "**request_body**",
        "**response_headers**",
        "**log**",
        "`analyze`",
        "`route`",
        "`send`",
        "all callbacks",
    ] {
        let row = timed.get(name).unwrap_or_else(|| panic!("no {name} in the instrumented table"));
        positive(&row[1], &format!("timed {name}"));
    }

    let memory: HashMap<String, String> =
        table(&md, "## Memory").into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    for process in ["passthrough", "router", "probe"] {
        positive(memory.get(process).map_or("", String::as_str), &format!("{process} RSS"));
    }
    assert!(md.contains("## What bounds the targets that do not hold"), "the analysis is appended");
}

#[test]
fn benchmarks_md_reports_every_figure_both_peers_and_explains_each_target_that_does_not_hold() {
    let md = fs::read_to_string(root().join("BENCHMARKS.md")).expect("BENCHMARKS.md");
    let (litellm, portkey) = (make_var("LITELLM_VERSION"), make_var("PORTKEY_VERSION"));
    assert!(md.contains(&format!("LiteLLM proxy {litellm}")), "LiteLLM {litellm} as pinned in the Makefile");
    assert!(
        md.contains(&format!("Portkey gateway {portkey}")),
        "Portkey {portkey} as pinned in the Makefile"
    );

    let rows = table(&md, "## Every configuration");
    for size in ["1KB", "10KB", "100KB", "400KB"] {
        for config in ["direct", "passthrough", "router-noop", "router-tier", "router-auto"] {
            let r = rows.iter().find(|r| r[0] == config && r[1] == size);
            let r = r.unwrap_or_else(|| panic!("no {config} at {size}"));
            positive(&r[2], &format!("{config} {size} rps"));
            positive(&r[3], &format!("{config} {size} c=1"));
        }
    }
    for size in ["1KB", "100KB"] {
        for config in ["passthrough", "router-tier", "router-auto"] {
            let r = rows.iter().find(|r| r[0] == config && r[1] == size).expect("row");
            positive(&r[4], &format!("{config} {size} fixed rate"));
            positive(&r[5], &format!("{config} {size} stream"));
            positive(&r[6], &format!("{config} {size} CPU"));
        }
    }
    let peers = table(&md, "## Peers");
    for peer in ["litellm", "portkey"] {
        for size in ["1KB", "100KB"] {
            let r = peers.iter().find(|r| r[0] == peer && r[1] == size);
            let r = r.unwrap_or_else(|| panic!("no {peer} at {size} in the peer table"));
            for cell in &r[2..] {
                positive(cell, &format!("{peer} {size}"));
            }
        }
    }
    assert_eq!(table(&md, "## What each Envoy-side step costs").len(), 9, "every rung of the ladder");
    assert!(!table(&md, "## Inside the router in Envoy's V8").is_empty(), "the instrumented table");
    let memory = table(&md, "## Memory");
    assert!(memory.iter().any(|r| r[0] == "router") && memory.iter().any(|r| r[0] == "passthrough"));
    assert!(md.contains("linear memory"), "the filter's wasm memory");
    assert!(!table(&md, "The scorer natively").is_empty(), "criterion, natively");
    assert!(!table(&md, "One whole request in the built").is_empty(), "criterion, inside wasm");

    // Each target the headline shows missed is explained in the analysis, under its own name.
    let analysis = &md[md.find("## What bounds the targets that do not hold").expect("analysis")..];
    let headline = table(&md, "## Headline");
    let cell = |size: &str, col: usize| {
        let row = headline.iter().find(|r| r[0] == size).unwrap_or_else(|| panic!("no headline {size}"));
        number(&row[col]).unwrap_or_else(|| panic!("headline {size}: {:?}", row[col]))
    };
    let targets = [
        (cell("1KB", 1) >= 85.0, "**Throughput at 1 KB (target 85%)"),
        (cell("100KB", 1) >= 60.0, "60% target at 100 KB"),
        (
            cell("1KB", 3) <= 50.0 && cell("100KB", 3) <= 300.0,
            "**Added p50 at c=1 (targets 50 µs at 1 KB, 300 µs",
        ),
    ];
    for (holds, explained) in targets {
        assert!(holds || analysis.contains(explained), "a missed target is not explained: {explained:?}");
    }
    let ratio = peers.iter().filter(|r| r[0] == "litellm").filter_map(|r| number(&r[4])).fold(0.0, f64::max);
    assert!(ratio <= 0.05 || analysis.contains("LiteLLM"), "the LiteLLM target is missed and not explained");
}
