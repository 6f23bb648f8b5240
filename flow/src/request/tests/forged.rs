//! Headers a client sends in the router's name.

use serde_json::Value;

use super::{HELLO, chat, cluster_of, config, pairs};
use crate::io::{Effect, Event, Verdict};
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

#[test]
fn a_routed_request_is_rewritten_for_its_provider_and_never_carries_the_clients_key() {
    let mut host = chat(HELLO);
    host.request_headers
        .extend(pairs(&[("accept-encoding", "gzip, br"), ("openai-organization", "org-client")]));
    // A body the parser read as UTF-8 whatever its label said.
    host.request_headers.retain(|(k, _)| k != "content-type");
    host.request_headers.push(("content-type".into(), "application/json; charset=utf-16".into()));
    // Another's AWS signature, billing project and beta: a provider's 403 for these counted
    // against its breaker for every client.
    let forged = [
        "x-amz-content-sha256",
        "x-amz-security-token",
        "x-amzn-bedrock-trace",
        "x-goog-user-project",
        "anthropic-beta",
        "openai-beta",
        // The client's address, and the gateway's inside, are not a third party's.
        "x-forwarded-for",
        "forwarded",
        "x-real-ip",
        "true-client-ip",
        "cf-connecting-ip",
        "x-original-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-client-cert",
        "via",
        // Other fronts' (Azure Front Door, Fly, Vercel, CloudFront, Cloudflare) and a browser's:
        // Anthropic answers an `origin` with a 401, which opened its breaker for everyone.
        "x-azure-clientip",
        "fly-client-ip",
        "x-vercel-forwarded-for",
        "cloudfront-viewer-address",
        "cf-ipcountry",
        "client-ip",
        "origin",
        "referer",
        "sec-fetch-mode",
        "sec-ch-ua",
        "x-envoy-original-path",
        // Envoy's router obeys these on a request it takes for internal: one request sent again.
        "x-envoy-retry-on",
        "x-envoy-max-retries",
        "x-envoy-upstream-rq-timeout-ms",
        // Controls backends obey: a method override, Google's system parameters.
        "x-http-method-override",
        "x-server-timeout",
        "x-origin",
        // A tenant's trace baggage, a gRPC deadline.
        "baggage",
        "grpc-timeout",
        // Named with `_`: past the checks by name, read as `x-api-key` by some backends.
        "x_api_key",
        "anthropic_beta",
        // Coding agents' telemetry: the Codex CLI's names the workspace's git remotes.
        "x-codex-turn-metadata",
        "x-codex-window-id",
        "session-id",
        "thread-id",
        "x-client-request-id",
        "x-claude-code-session-id",
    ];
    host.request_headers.extend(forged.iter().map(|k| (k.to_string(), "forged".to_string())));
    let mut req = Request::new(Some(config("")));
    let first = req.on(&host, Event::RequestHeaders { end_of_stream: false });
    // The forged cluster header is removed before anything else.
    assert_eq!(
        first.effects,
        vec![
            Effect::RemoveRequestHeader("x-model-router-cluster".into()),
            Effect::RemoveRequestHeader("x-model-router-answered".into()),
        ]
    );
    let step = req.on(&host, Event::RequestBody { size: host.request_body.len(), end_of_stream: true });
    assert_eq!(step.verdict, Verdict::Continue);
    let body = step.effects.iter().find_map(|e| match e {
        Effect::ReplaceRequestBody { bytes, .. } => Some(bytes.clone()),
        _ => None,
    });
    let body: Value = serde_json::from_slice(&body.unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(body["model"], "m");
    let Some(Effect::SetRequestHeaders(headers)) =
        step.effects.iter().find(|e| matches!(e, Effect::SetRequestHeaders(_)))
    else {
        panic!("no headers in {step:?}")
    };
    // Neither the client's key nor what could not be read back or belongs to its account.
    for name in ["authorization", "openai-organization"].iter().chain(&forged) {
        assert!(!headers.iter().any(|(k, _)| k == name), "{name}: {headers:?}");
    }
    // The answer is asked for uncompressed: the client's codings are not the router's.
    let codings: Vec<&str> =
        headers.iter().filter(|(k, _)| k == "accept-encoding").map(|(_, v)| v.as_str()).collect();
    assert_eq!(codings, ["identity"]);
    let types: Vec<&str> =
        headers.iter().filter(|(k, _)| k == "content-type").map(|(_, v)| v.as_str()).collect();
    assert_eq!(types, ["application/json"], "what the router sends is UTF-8 JSON");
    let cluster = cluster_of(&step).unwrap_or_default();
    assert!(cluster == "a" || cluster == "b", "{cluster}");
    assert!(headers.iter().any(|(k, v)| k == "content-length" && v == &body.to_string().len().to_string()));
}

/// A client header the router refuses (sent twice, or longer than a client id) names no one in
/// the log: the forged first copy was logged as the tenant it named, and a 60 KB one whole.
#[test]
fn a_refused_client_header_names_no_one_in_the_log() {
    let long = "Z".repeat(60_000);
    for values in [vec!["victim-team", "attacker"], vec![long.as_str()]] {
        let mut host = chat(HELLO);
        host.request_headers.extend(values.iter().map(|v| ("x-team".to_string(), v.to_string())));
        let mut req = Request::new(Some(config(r#","client_header":"x-team""#)));
        let steps = [
            req.on(&host, Event::RequestHeaders { end_of_stream: false }),
            req.on(&host, Event::RequestBody { size: host.request_body.len(), end_of_stream: true }),
        ];
        let refused = steps.iter().flat_map(|s| &s.effects).any(|e| {
            matches!(e, Effect::Respond { status: 400, body, .. } if String::from_utf8_lossy(body).contains("invalid_client_id"))
        });
        assert!(refused, "{steps:?}");
        req.on(&host, Event::Log);
        assert_eq!(host.notes.borrow().get("client"), None, "{values:?}");
    }
}
