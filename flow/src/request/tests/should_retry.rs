//! What the router's own error when every attempt failed tells the client's SDK: the OpenAI and
//! Anthropic SDKs retry a 429 and a 5xx twice, honouring `x-should-retry: false`, and sleep
//! whatever `retry-after` says.

use super::*;

/// A chat request with three attempts, answered `statuses` (with `after` as their
/// `retry-after`) in turn: its host, the request, and the step that ended it.
pub(super) fn failing_thrice(statuses: [u16; 3], after: [Option<&str>; 3]) -> (Fake, Request, Step) {
    let mut host = chat(HELLO);
    let mut req = Request::new(Some(config(r#","resilience":{"max_attempts":3}"#)));
    route(&mut req, &host);
    let mut step = Step::just(Verdict::Continue);
    for (i, (status, after)) in statuses.iter().zip(after).enumerate() {
        let mut headers = vec![(":status".to_string(), status.to_string())];
        headers.extend(after.map(|a| ("retry-after".to_string(), a.to_string())));
        if i == 0 {
            host.response_headers = headers;
            step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        } else {
            assert_eq!(req.on(&host, Event::Dispatched { sent: true }), Step::just(Verdict::Pause));
            host.call_headers = headers;
            step = req.on(&host, Event::CallResponse { body_size: 0 });
        }
    }
    (host, req, step)
}

/// Every attempt's statuses and retry-afters, three attempts: the router's answer's status,
/// its `retry-after` and its `x-should-retry`.
fn ended(statuses: [u16; 3], after: [Option<&str>; 3]) -> (u16, Option<String>, Option<String>) {
    let (_, _, step) = failing_thrice(statuses, after);
    let (status, json, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    // No message tells a person to retry what the header tells the SDK not to.
    let message = json["error"]["message"].as_str().unwrap_or_default();
    assert!(get("x-should-retry").is_none() || !message.contains("retry later"), "{message}");
    (status, get("retry-after"), get("x-should-retry"))
}

/// Rate limits a minute or less away are the SDK's to wait out; an hour is not (Anthropic's
/// slept the hour a provider's `retry-after` gave, to ask again). The gateway's own keys,
/// rejected by every provider, no retry of the client's mends; other failures it may retry,
/// after the wait overloaded providers asked for.
#[test]
fn a_long_rate_limit_or_the_gateways_rejected_keys_are_not_for_the_sdk_to_retry() {
    let some = |s: &str| Some(s.to_string());
    let limited = [429, 429, 429];
    assert_eq!(ended(limited, [Some("30"), Some("9"), Some("60")]), (429, some("9"), None));
    assert_eq!(ended(limited, [Some("3600"), Some("7200"), Some("61")]), (429, some("61"), some("false")));
    assert_eq!(ended([401, 403, 401], [None; 3]), (502, None, some("false")));
    // The gateway's account refused (credit run out), by every provider.
    assert_eq!(ended([402, 402, 403], [None; 3]), (502, None, some("false")));
    let (_, _, step) = failing_thrice([402, 401, 402], [None; 3]);
    let code = respond(&step).map(|(_, json, _)| json["error"]["code"].clone());
    assert_eq!(code, Some(serde_json::json!("provider_account_refused")));
    assert_eq!(ended([503, 500, 502], [None; 3]), (502, None, None));
    // Every provider overloaded: the smallest wait one gave (none said, none given).
    assert_eq!(ended([503, 529, 503], [Some("20"), None, Some("30")]), (502, some("20"), None));
    assert_eq!(ended([503, 529, 500], [Some("20"), None, None]), (502, None, None));
}
