//! Failover: the next candidate called out of band, how a request ends when every provider
//! fails, and the context-length retry.

use super::should_retry::failing_thrice;
use super::*;

#[test]
fn a_failed_provider_is_replaced_by_the_next_candidate_called_out_of_band() {
    let mut host = chat(HELLO);
    host.request_headers.extend(pairs(&[("accept-encoding", "gzip"), ("openai-project", "proj-client")]));
    let mut req = Request::new(Some(config("")));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(step.verdict, Verdict::Pause);
    let Some(Effect::Call { cluster, body, headers, .. }) = step.effects.last() else {
        panic!("no call in {step:?}")
    };
    assert_ne!(cluster, &first);
    let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    assert!(sent["model"] == "m" || sent["model"] == "big", "{sent}");
    for name in ["authorization", "x-model-router-cluster", "openai-project"] {
        assert!(!headers.iter().any(|(k, _)| k == name), "{name}: {headers:?}");
    }
    let codings: Vec<&str> =
        headers.iter().filter(|(k, _)| k == "accept-encoding").map(|(_, v)| v.as_str()).collect();
    assert_eq!(codings, ["identity"]);
    // The failed response's body never reaches the client.
    let sent_ok = req.on(&host, Event::Dispatched { sent: true });
    assert_eq!(sent_ok, Step::just(Verdict::Pause));
    let drop = req.on(&host, Event::ResponseBody { size: 12, end_of_stream: false });
    assert_eq!(drop.effects, vec![Effect::ReplaceResponseBody { size: 12, bytes: Vec::new() }]);
    // The fallback answers: its answer replaces the failed one, costed and labelled.
    host.call_headers = pairs(&[
        (":status", "200"),
        ("content-type", "application/json"),
        ("x-request-id", "req_1"),
        ("x-should-retry", "false"),
        ("openai-organization", "gateway-org"),
    ]);
    host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#.to_vec();
    let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (status, _, headers) = respond(&answer).unwrap_or_else(|| panic!("{answer:?}"));
    assert_eq!(status, 200);
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("x-model-router-attempts"), Some("2"));
    assert_eq!(get("x-model-router-fallback-from"), Some(format!("{first}/m").as_str()));
    assert_eq!(get("x-model-router-cost"), Some("0.00002000"));
    assert_eq!(host.counters.borrow().get(&format!("failover.provider.{first}")), Some(&1));
    // Of its headers, the few a client reads pass (a provider's word on retrying its answer
    // among them); the gateway's account does not.
    assert_eq!((get("x-request-id"), get("x-should-retry")), (Some("req_1"), Some("false")));
    assert_eq!(get("openai-organization"), None);
}

#[test]
fn how_a_request_ends_when_its_providers_fail() {
    // (statuses of the three attempts, retry-after of each, expected status and code)
    type Case = (&'static str, [u16; 3], [Option<&'static str>; 3], u16, &'static str, &'static str);
    let cases: [Case; 5] = [
        ("all failed", [503, 500, 502], [None; 3], 502, "upstream_failed", "upstream_error"),
        // Cerebras's 402 (the gateway's account owes), Groq's 498 (flex capacity used up).
        ("out of credit or capacity", [402, 498, 402], [None; 3], 502, "upstream_failed", "upstream_error"),
        // Bedrock's ModelTimeoutException and ModelErrorException, a model the provider does
        // not serve: the provider's failures, not the request's.
        ("provider-side 4xx", [408, 424, 404], [None; 3], 502, "upstream_failed", "upstream_error"),
        (
            "all rate limited",
            [429, 429, 429],
            // The HTTP-date form too: five seconds after the host's clock.
            [Some("30"), Some("Tue, 14 Nov 2023 22:13:25 GMT"), Some("9")],
            429,
            "rate_limit_exceeded",
            "rate_limited",
        ),
        ("all rejected the key", [401, 403, 401], [None; 3], 502, "provider_auth_failed", "upstream_error"),
    ];
    for (name, statuses, after, want, code, outcome) in cases {
        let (host, mut req, step) = failing_thrice(statuses, after);
        let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("{name}: {step:?}"));
        assert_eq!((status, json["error"]["code"].as_str()), (want, Some(code)), "{name}: {json}");
        let retry = headers.iter().find(|(k, _)| k == "retry-after").map(|(_, v)| v.as_str());
        assert_eq!(retry, (want == 429).then_some("5"), "{name}");
        assert!(!json.to_string().contains("mock"), "{name}: a provider's body leaked");
        // No model answered, so none is named as the one that ran; all three were tried.
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!((get("x-model-router-model"), get("x-model-router-provider")), (None, None), "{name}");
        let tried = get("x-model-router-fallback-from").unwrap_or_default();
        assert_eq!(
            (tried.split(", ").count(), get("x-model-router-attempts")),
            (3, Some("3".into())),
            "{name}"
        );
        // Counted, so an outage shows in `requests` by its outcome.
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        assert!(
            counters.keys().any(|k| k.starts_with("requests.") && k.ends_with(&format!("outcome.{outcome}"))),
            "{name}: {:?}",
            counters.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_call_that_cannot_be_made_moves_on_and_is_named_in_the_final_error() {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "500")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let second = cluster_of(&step).unwrap_or_default();
    let step = req.on(&host, Event::Dispatched { sent: false });
    let third = cluster_of(&step).unwrap_or_default();
    assert_ne!(second, third, "{step:?}");
    let step = req.on(&host, Event::Dispatched { sent: false });
    let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 502);
    let message = json["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("{second}/")) && message.contains("unreachable"), "{message}");
    // `Fallback-From` names every candidate that failed, those whose call could not be made
    // too (`Attempts` counts the one sent).
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let from = get("x-model-router-fallback-from");
    assert_eq!((get("x-model-router-attempts").as_str(), from.split(", ").count()), ("1", 3), "{from}");
    assert!(from.contains(&format!("{second}/")) && from.contains(&format!("{third}/")), "{from}");
}

#[test]
fn a_context_length_error_moves_to_a_larger_window_and_other_400s_pass() {
    for (body, retried) in [
        (r#"{"error":{"code":"context_length_exceeded","message":"too long"}}"#, true),
        (r#"{"error":{"code":"invalid_value","message":"bad temperature"}}"#, false),
        // Each provider's own words (xAI, Gemini's OpenAI layer, Cerebras), none with the code.
        (
            r#"{"code":"Client specified an invalid argument","error":"This model's maximum prompt length is 131072 but the request contains 136973 tokens."}"#,
            true,
        ),
        (
            r#"[{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}]"#,
            true,
        ),
        (
            r#"{"message":"Please reduce the length of the messages or completion. Current length is 42328 while limit is 40000","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}"#,
            true,
        ),
        (
            r#"{"error":{"message":"Please reduce the length of the messages or completion.","type":"invalid_request_error"}}"#,
            true,
        ),
    ] {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config("")));
        let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.response_headers = pairs(&[(":status", "400")]);
        let held = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(held.verdict, Verdict::Pause);
        host.response_body = body.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
        assert_eq!(cluster_of(&step).as_deref() == Some("c"), retried, "{step:?}");
        assert_eq!(step.verdict, if retried { Verdict::Pause } else { Verdict::Continue });
        if retried {
            // The larger window answers; the attempt it replaced is named as a failover's is
            // (it said two attempts and named none).
            req.on(&host, Event::Dispatched { sent: true });
            host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
            host.call_body = br#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}}"#.to_vec();
            let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
            let (_, _, headers) = respond(&answer).unwrap_or_else(|| panic!("{answer:?}"));
            let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            assert_eq!(get("x-model-router-attempts").as_deref(), Some("2"));
            assert_eq!(get("x-model-router-fallback-from"), Some(format!("{first}/m")));
            // The request's overflow, not the provider's failure.
            assert!(!host.counters.borrow().keys().any(|k| k.starts_with("failover")), "{:?}", host.counters);
        }
        if !retried {
            // The provider's 400 passed on is counted as the client's error.
            req.on(&host, Event::Log);
            let counters = host.counters.borrow();
            assert!(counters.keys().any(|k| k.ends_with("outcome.client_error")), "{:?}", counters.keys());
        }
    }
}

/// Gemini answers a bad or expired key with a 400 (`API_KEY_INVALID`), not a 401: it reached
/// the client as the client's error, counted against no breaker and moved to no other
/// provider. It is now the gateway's key refused, as a 401 is, on the first attempt and on a
/// fallback.
#[test]
fn a_key_refused_with_a_400_fails_over_as_a_401_does() {
    let refused = r#"[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}]"#;
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "400")]);
    let held = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(held.verdict, Verdict::Pause);
    host.response_body = refused.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: refused.len(), end_of_stream: true });
    let second = cluster_of(&step).unwrap_or_else(|| panic!("no fallback: {step:?}"));
    assert_ne!(second, first);
    assert_eq!(host.counters.borrow().get(&format!("auth_failed.provider.{first}")), Some(&1));
    // The fallback refuses the key the same way: the router's 502, never the provider's body.
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "400"), ("content-type", "application/json")]);
    host.call_body = refused.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: refused.len() });
    let third = cluster_of(&step).unwrap_or_else(|| panic!("no third attempt: {step:?}"));
    req.on(&host, Event::Dispatched { sent: true });
    host.call_body = refused.as_bytes().to_vec();
    let step = req.on(&host, Event::CallResponse { body_size: refused.len() });
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (502, Some("provider_auth_failed")),
        "{third}: {json}"
    );
    // With no candidate left (one attempt allowed) the 400 is read all the same: the gateway's
    // key, counted and answered as such. It went on as the client's own error.
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
    let only = cluster_of(&route(&mut req, &host)).unwrap_or_default();
    host.response_headers = pairs(&[(":status", "400")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    host.response_body = refused.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: refused.len(), end_of_stream: true });
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, json["error"]["code"].as_str()), (502, Some("provider_auth_failed")), "{json}");
    assert_eq!(host.counters.borrow().get(&format!("auth_failed.provider.{only}")), Some(&1));
}

/// The client header names a tenant to the router, not to providers: it reached every one,
/// on the first attempt and on a fallback.
#[test]
fn the_client_header_reaches_no_provider() {
    let mut host = chat(HELLO);
    host.request_headers.push(("x-team".into(), "team-a".into()));
    let mut req = Request::new(Some(config(r#","client_header":"x-team""#)));
    assert_no_attempt_carries(&mut req, &mut host, "x-team");
    // The access log still names it, from filter state: the header was gone from a routed one.
    assert_eq!(host.notes.borrow().get("client").map(String::as_str), Some("team-a"));
}

/// Routes `req`, then fails its first attempt over: neither attempt's headers hold `name`.
fn assert_no_attempt_carries(req: &mut Request, host: &mut Fake, name: &str) {
    let step = route(req, host);
    let Some(Effect::SetRequestHeaders(headers)) =
        step.effects.iter().find(|e| matches!(e, Effect::SetRequestHeaders(_)))
    else {
        panic!("no headers in {step:?}")
    };
    assert!(!headers.iter().any(|(k, _)| k == name), "{headers:?}");
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(host, Event::ResponseHeaders { end_of_stream: false });
    let call = step.effects.iter().find_map(|e| match e {
        Effect::Call { headers, .. } => Some(headers.clone()),
        _ => None,
    });
    let call = call.unwrap_or_else(|| panic!("no fallback: {step:?}"));
    assert!(!call.iter().any(|(k, _)| k == name), "{call:?}");
}

/// A provider whose key header is none of the usual names, its key injected by Envoy (the
/// filter holds none): the client's header of that name reached the provider on the first
/// attempt, and a made-up key's 401 counted as the gateway's key refused, for every client. It
/// is dropped on the first attempt as on a fallback.
#[test]
fn the_providers_own_key_header_from_a_client_reaches_no_provider() {
    let auth = r#"{"auth":{"header":"x-team-key","env":"TEAM_KEY"}}"#;
    let model = |id: &str, tier: &str, p: &str| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","context_window":1000,"max_output":100,"price_in":1,"price_out":2,"quality":60}}"#
        )
    };
    let json = format!(
        r#"{{"catalog":{{"providers":{{"a":{auth},"b":{auth}}},"models":[{},{},{},{}]}}}}"#,
        model("m", "economy", "a"),
        model("m", "economy", "b"),
        model("s", "standard", "a"),
        model("x", "premium", "a")
    );
    let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mut host = chat(HELLO);
    host.request_headers.push(("x-team-key".into(), "made-up".into()));
    let mut req = Request::new(Some(Rc::new(Shared::new(config, HashMap::new()))));
    assert_no_attempt_carries(&mut req, &mut host, "x-team-key");
}

/// A provider's 400 repeats what it refused. A client that sent `API_KEY_INVALID` (or a key
/// named so) had its own mistake counted as the gateway's key refused: the provider's breaker
/// charged for every client, failover to the next provider (which echoed it again), and the
/// operator told to check a key that works (found driving the demo: five requests opened three
/// providers' breakers). A phrase of a context-window error the client itself sent moved its
/// request to a larger, dearer model in silence. Both are now the client's 400.
#[test]
fn a_400_that_repeats_the_clients_words_is_the_clients_error() {
    let cases = [
        (
            r#","verbosity":"API_KEY_INVALID""#,
            r#"{"error":{"message":"Invalid value: 'API_KEY_INVALID'. Supported values are: 'low', 'medium', and 'high'.","type":"invalid_request_error","param":"verbosity","code":"invalid_value"}}"#,
        ),
        (
            r#","API key not valid":1"#,
            r#"{"error":{"message":"Unrecognized request argument supplied: API key not valid","type":"invalid_request_error"}}"#,
        ),
        (
            r#","verbosity":"context window""#,
            r#"{"error":{"message":"Invalid value: 'context window'. Supported values are: 'low', 'medium', and 'high'.","type":"invalid_request_error","param":"verbosity","code":"invalid_value"}}"#,
        ),
        // Escaped in the client's JSON, plain in the provider's message.
        (
            r#","verbosity":"Maximum\u0020Context Length""#,
            r#"{"error":{"message":"Invalid value: 'maximum context length'.","type":"invalid_request_error","code":"invalid_value"}}"#,
        ),
    ];
    for (extra, error) in cases {
        let body = HELLO.replacen(r#","messages""#, &format!(r#"{extra},"messages""#), 1);
        let mut host = chat(&body);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "400")]);
        let held = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(held.verdict, Verdict::Pause, "{extra}");
        host.response_body = error.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: error.len(), end_of_stream: true });
        assert_eq!((cluster_of(&step), step.verdict), (None, Verdict::Continue), "{extra}: {step:?}");
        let counters = host.counters.borrow();
        assert!(!counters.keys().any(|k| k.starts_with("auth_failed")), "{extra}: {:?}", counters.keys());
    }
}

/// Gemini's OpenAI layer wraps its 400 in an array (`[{"error":{...}}]`), where the OpenAI SDKs
/// look for `error` and report "400 status code (no body)": the client never read why. The
/// client now gets the error in OpenAI's shape, its length Envoy's to frame; any other 400 is
/// untouched.
#[test]
fn a_400_wrapped_in_an_array_reaches_the_client_as_its_error() {
    let wrapped = r#"[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"store\": Cannot find field.","status":"INVALID_ARGUMENT"}}]"#;
    let plain = r#"{"error":{"message":"Invalid value","type":"invalid_request_error"}}"#;
    for (body, unwrapped) in [(wrapped, true), (plain, false), ("[1]", false)] {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "400"), ("content-length", &body.len().to_string())]);
        assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
        host.response_body = body.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
        assert_eq!((cluster_of(&step), step.verdict), (None, Verdict::Continue), "{body}: {step:?}");
        let replaced = step.effects.iter().find_map(|e| match e {
            Effect::ReplaceResponseBody { size, bytes } => Some((*size, bytes.clone())),
            _ => None,
        });
        let unframed = step
            .effects
            .iter()
            .any(|e| matches!(e, Effect::RemoveResponseHeader(k) if k.as_str() == "content-length"));
        assert_eq!(unframed, unwrapped, "{body}: {step:?}");
        if !unwrapped {
            assert_eq!(replaced, None, "{body}");
            continue;
        }
        let (size, bytes) = replaced.unwrap_or_else(|| panic!("not replaced: {step:?}"));
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(size, body.len());
        assert_eq!(json["error"]["code"], "INVALID_ARGUMENT", "{json}");
        assert_eq!(json["error"]["type"], "invalid_request_error", "{json}");
        assert!(json["error"]["message"].as_str().is_some_and(|m| m.contains("Unknown name")), "{json}");
    }
}

/// A conversation that only mentions a phrase does not hide a real overflow: the error does
/// not repeat the client's string, so its words are the provider's.
#[test]
fn a_real_overflow_moves_on_though_the_conversation_mentions_the_phrase() {
    let body = r#"{"model":"economy","messages":[{"role":"user","content":"Why is my context window exceeded? The maximum context length confuses me."}]}"#;
    let error = r#"{"error":{"message":"This model's maximum context length is 1000 tokens. However, your messages resulted in 1200 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
    let mut host = chat(body);
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    let step = answer_400(&mut req, &mut host, error);
    assert_eq!(cluster_of(&step).as_deref(), Some("c"), "{step:?}");
}

/// A context-length 400 named among the failed attempts (`Fallback-From`) is not what the
/// providers said of their capacity: a larger window that answers 429 leaves the client a 429
/// with its retry-after, not the 502 of every other failure (found reviewing the diff).
#[test]
fn a_larger_window_rate_limited_after_a_context_error_is_a_429() {
    let context = r#"{"error":{"code":"context_length_exceeded","message":"too long"}}"#;
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":2}"#)));
    route(&mut req, &host);
    let step = answer_400(&mut req, &mut host, context);
    assert_eq!(cluster_of(&step).as_deref(), Some("c"), "{step:?}");
    req.on(&host, Event::Dispatched { sent: true });
    host.call_headers = pairs(&[(":status", "429"), ("retry-after", "7")]);
    let step = req.on(&host, Event::CallResponse { body_size: 0 });
    let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, json["error"]["code"].as_str()), (429, Some("rate_limit_exceeded")), "{json}");
    let retry = headers.iter().find(|(k, _)| k == "retry-after").map(|(_, v)| v.as_str());
    assert_eq!(retry, Some("7"));
}

/// Answers the routed attempt of `req` with a 400 carrying `error`; returns the step its body
/// takes (a fallback call, when the error is a context overflow another window can take).
fn answer_400(req: &mut Request, host: &mut Fake, error: &str) -> Step {
    host.response_headers = pairs(&[(":status", "400")]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = error.as_bytes().to_vec();
    req.on(host, Event::ResponseBody { size: error.len(), end_of_stream: true })
}

/// The health record of `key` as the host holds it.
fn health(host: &Fake, key: &str) -> model_router_scorer::health::Health {
    let stored =
        host.shared.borrow().get(key).and_then(|(v, _)| model_router_scorer::health::Health::decode(v));
    stored.unwrap_or_default()
}

/// The first attempt fails (503) and is failed over: the fallback's call, and where it went
/// (`(provider, model)`; a test's clusters are named after their providers).
fn failed_over(req: &mut Request, host: &mut Fake) -> (String, String) {
    route(req, host);
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(host, Event::ResponseHeaders { end_of_stream: false });
    let Some(Effect::Call { cluster, body, .. }) = step.effects.last() else { panic!("no call in {step:?}") };
    let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let model = sent["model"].as_str().unwrap_or_default().to_string();
    req.on(host, Event::Dispatched { sent: true });
    (cluster.clone(), model)
}

/// A fallback Envoy's timeout ended (its own 504, no upstream time) was still generating: its
/// model's failure, as on the route's path, not its provider's (every model of the provider was
/// taken out for one client's long answers).
#[test]
fn a_fallback_that_timed_out_fails_its_model_not_its_provider() {
    use model_router_scorer::health::{deployment_key, provider_key};
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"fallback_timeout_ms":1000}"#)));
    let (provider, model) = failed_over(&mut req, &mut host);
    host.now_ns += 1_000_000_000;
    host.call_headers = pairs(&[(":status", "504"), ("content-type", "text/plain")]);
    host.call_body = b"upstream request timeout".to_vec();
    req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (p, d) = (health(&host, &provider_key(&provider)), health(&host, &deployment_key(&provider, &model)));
    assert_eq!((p.window_errors, p.consecutive), (0, 0), "{provider}: {p:?}");
    assert_eq!((d.window_errors, d.consecutive), (1, 1), "{provider}/{model}: {d:?}");
}

/// A fallback's stream its provider failed with its error event once its answer began is its
/// provider's failure; none of it reached the client (a fallback is held whole), so the next
/// candidate answers: it was served, error and all, while another was left.
#[test]
fn a_fallback_stream_its_provider_failed_is_its_failure() {
    use model_router_scorer::health::provider_key;
    let mut host = chat(STREAM_HELLO);
    let mut req = Request::new(Some(config("")));
    let (provider, _) = failed_over(&mut req, &mut host);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    host.call_body = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n".to_vec();
    let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let next = answer.effects.iter().find_map(|e| match e {
        Effect::Call { cluster, .. } => Some(cluster.clone()),
        _ => None,
    });
    assert!(next.is_some_and(|c| c != provider), "{answer:?}");
    let p = health(&host, &provider_key(&provider));
    assert_eq!((p.window_errors, p.consecutive), (1, 1), "{provider}: {p:?}");
}

/// Every attempt failed, one after its provider had it and did not answer in time: the
/// router's 502 tells the client's SDK not to retry (each retry ran the attempts again, nine
/// providers at work for no answer); failures no provider worked on leave that to the SDK.
#[test]
fn exhausted_after_a_lost_attempt_tells_the_sdk_not_to_retry() {
    for (details, told) in [("upstream_per_try_idle_timeout", Some("false")), ("via_upstream", None)] {
        let mut host = chat(HELLO);
        host.details = Some(details.into());
        let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":1}"#)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", if told.is_some() { "504" } else { "503" })]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
        let should = headers.iter().find(|(k, _)| k == "x-should-retry").map(|(_, v)| v.as_str());
        assert_eq!((status, should), (502, told), "{details}");
        let later = json["error"]["message"].as_str().is_some_and(|m| m.ends_with("retry later"));
        assert_eq!(later, told.is_none(), "{json}");
    }
}
