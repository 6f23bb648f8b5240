//! auto's remembered scans: a turn writes its scan's state to shared data, the next turn of
//! the conversation resumes from it, and the decision is the one a whole scan makes.

use serde_json::json;

use super::{chat, cluster_of, config, route};
use crate::request::Request;

fn conversation(turns: usize) -> String {
    let mut messages = vec![json!({"role": "user", "content": "Fix the failing date parser."})];
    for t in 0..turns {
        let code: String =
            (0..8).map(|l| format!("def parse_{t}_{l}(value):\n    return value  # {l}\n")).collect();
        messages.push(json!({"role": "assistant", "content": format!("Reading file {t}.")}));
        messages.push(json!({"role": "user", "content": code}));
    }
    json!({"model": "auto", "messages": messages}).to_string()
}

#[test]
fn a_turn_resumes_the_scan_its_conversation_left_in_shared_data() {
    let shared = config(r#","prefix_cache":{"min_bytes":512}"#);
    let (earlier, later) = (conversation(3), conversation(4));
    let mut host = chat(&earlier);
    route(&mut Request::new(Some(shared.clone())), &host);
    assert_eq!(host.counters.borrow().get("auto_prefix.outcome.miss"), Some(&1));
    assert_eq!(host.shared.borrow().keys().filter(|k| k.starts_with("model_router.prefix.")).count(), 1);
    host.request_body = later.clone().into_bytes();
    let resumed = cluster_of(&route(&mut Request::new(Some(shared.clone())), &host));
    assert_eq!(host.counters.borrow().get("auto_prefix.outcome.hit"), Some(&1));
    assert!(resumed.is_some());
    // The same turn with the cache off decides the same.
    let whole = chat(&later);
    let off = config(r#","prefix_cache":{"slots":0}"#);
    assert_eq!(resumed, cluster_of(&route(&mut Request::new(Some(off)), &whole)));
    assert!(!whole.counters.borrow().keys().any(|k| k.starts_with("auto_prefix")));
}
