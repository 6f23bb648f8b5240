//! The README is part of the contract: its curl examples run against the real Envoy, and its
//! configuration reference names exactly the fields the configuration code accepts.

use std::collections::BTreeSet;
use std::fs;

use model_router_scorer::Config;
use model_router_tests::envoy::{Stack, repo_root};
use model_router_tests::http;

fn readme() -> String {
    fs::read_to_string(repo_root().join("README.md")).expect("README.md")
}

/// (path, headers, body, the response lines the README shows) for each `curl` example.
type Example = (String, Vec<(String, String)>, String, Vec<String>);

fn curl_examples(text: &str) -> Vec<Example> {
    let blocks: Vec<&str> = text.split("```").collect();
    let mut out = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let Some(cmd) = block.strip_prefix("sh\n").filter(|b| b.trim_start().starts_with("curl ")) else {
            continue;
        };
        let cmd = cmd.replace("\\\n", " ");
        let url = cmd.split_whitespace().find(|w| w.starts_with("http://")).expect("url");
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).expect("path");
        let quoted: Vec<&str> = cmd.split('\'').collect();
        let mut headers = Vec::new();
        let mut body = String::new();
        for (j, part) in quoted.iter().enumerate().skip(1).step_by(2) {
            let flag = quoted[j - 1].trim_end();
            if flag.ends_with("-H") {
                let (k, v) = part.split_once(':').expect("header");
                headers.push((k.trim().to_string(), v.trim().to_string()));
            } else if flag.ends_with("-d") {
                body = part.to_string();
            }
        }
        // The block after the command shows the response; keep its header lines.
        let shown = blocks
            .get(i + 2)
            .filter(|_| blocks.get(i + 1).is_some_and(|b| b.trim().is_empty()))
            .map(|b| b.lines().filter(|l| l.starts_with("x-model-router-")).map(str::to_string).collect())
            .unwrap_or_default();
        out.push((path, headers, body, shown));
    }
    out
}

#[test]
fn readme_curl_examples_work_as_shown() {
    let examples = curl_examples(&readme());
    assert!(examples.len() >= 2, "no curl examples found");
    let s = Stack::start(None).expect("stack");
    for (path, headers, body, shown) in examples {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = http::request(s.envoy.addr, "POST", &path, &h, body.as_bytes()).expect("request");
        assert_eq!(r.status, 200, "{path} {body}: {}", r.text());
        for line in shown {
            let (k, v) = line.split_once(": ").expect("header line");
            assert_eq!(r.header(k), Some(v), "README shows {line} for {body}");
        }
    }
}

/// Field names the config code accepts at a level, from serde's unknown-field message.
fn accepted(wrap: &str) -> BTreeSet<String> {
    let probe = wrap.replace("FIELD", r#"{"__probe__":1}"#);
    let err = Config::from_json(probe.as_bytes()).err().map(|e| e.to_string()).unwrap_or_default();
    let list =
        err.split("expected one of ").nth(1).or_else(|| err.split("expected ").nth(1)).unwrap_or_default();
    list.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn the_configuration_reference_matches_the_configuration_code() {
    let text = readme();
    let section = text.split("## Configuration reference").nth(1).expect("section");
    let table = section.split("\n\n").find(|p| p.trim_start().starts_with("| field")).expect("table");
    let documented: BTreeSet<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let mut code: BTreeSet<String> = accepted("FIELD");
    code.remove("auto");
    code.remove("sticky");
    for section in ["resilience", "budgets", "prefix_cache", "responses"] {
        code.remove(section);
        for f in accepted(&format!(r#"{{"{section}":FIELD}}"#)) {
            code.insert(format!("{section}.{f}"));
        }
    }
    for f in accepted(r#"{"auto":FIELD}"#) {
        code.insert(if f == "weights" { "auto.weights.*".to_string() } else { format!("auto.{f}") });
    }
    for f in accepted(r#"{"sticky":FIELD}"#) {
        code.insert(format!("sticky.{f}"));
    }
    assert!(code.len() >= 12, "{code:?}");
    assert_eq!(documented, code, "README configuration reference vs RawConfig");
    // Every weight is named in the weights row.
    let weights_row = table.lines().find(|l| l.starts_with("| `auto.weights.*`")).expect("weights row");
    for w in accepted(r#"{"auto":{"weights":FIELD}}"#) {
        assert!(weights_row.contains(&format!("`{w}`")), "weight {w} undocumented");
    }
}
