//! Headers a client sends in the router's name.

use super::{chat, config};
use crate::io::{Effect, Event};
use crate::request::Request;

/// A configuration naming its own `cluster_header` beside a route left reading the default
/// (`x-model-router-cluster`): a client's copy of the default reached the route on a path the
/// router answers nothing on, and chose the provider (the gateway's key injected). Every
/// `x-model-router-*` header a client sends is removed, on every path, whatever its case.
#[test]
fn every_header_in_the_routers_name_is_removed_on_every_path() {
    for path in ["/v1/files", "/v1/chat/completions"] {
        let mut host = chat("{}");
        host.request_headers.retain(|(k, _)| k != ":path");
        host.request_headers.push((":path".into(), path.into()));
        for (k, v) in
            [("x-model-router-cluster", "anthropic"), ("X-Model-Router-Model", "o3"), ("x-my-cluster", "b")]
        {
            host.request_headers.push((k.into(), v.into()));
        }
        let mut req = Request::new(Some(config(r#","cluster_header":"x-my-cluster""#)));
        let first = req.on(&host, Event::RequestHeaders { end_of_stream: false });
        let removed: Vec<&str> = first
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::RemoveRequestHeader(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            removed,
            ["x-my-cluster", "x-model-router-answered", "x-model-router-cluster", "x-model-router-model"],
            "{path}: {first:?}"
        );
    }
}

/// A `client_header` the operator named under the router's prefix is the client's to send: it
/// was removed with the rest, and every request was anonymous (its client's policy and budget
/// skipped; found reviewing the diff).
#[test]
fn a_client_header_of_the_routers_prefix_is_kept() {
    let mut host = chat("{}");
    host.request_headers.push(("x-model-router-team".into(), "poor".into()));
    let mut req = Request::new(Some(config(r#","client_header":"x-model-router-team""#)));
    let first = req.on(&host, Event::RequestHeaders { end_of_stream: false });
    let removed = first
        .effects
        .iter()
        .any(|e| matches!(e, Effect::RemoveRequestHeader(n) if n == "x-model-router-team"));
    assert!(!removed, "{first:?}");
    assert_eq!(req.client.as_deref(), Some("poor"));
}
