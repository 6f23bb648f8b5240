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
