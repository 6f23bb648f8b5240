//! A provider's 400 refusing the gateway's account (its credit, quota or model access) rather
//! than the request: its provider's failure, which the next candidate answers. Every client got
//! it as its own mistake, no other provider was tried, and no breaker or operator heard of it.

use super::native::{config, request};
use super::{chat, cluster_of, pairs, respond, route};
use crate::io::{Effect, Event, Verdict};
use crate::request::Request;

/// The first attempt's 400, read whole: where it goes next, and what was counted.
fn refused_with(model: &str, body: &str) -> (Option<String>, Option<(u16, String)>, super::Fake) {
    let mut host = chat(&request(false).replace(r#""model":"economy""#, &format!(r#""model":"{model}""#)));
    let mut req = Request::new(Some(config()));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "400"), ("content-type", "application/json")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
    host.response_body = body.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
    // A local reply, or the provider's error translated in place.
    let replaced = step.effects.iter().find_map(|e| match e {
        Effect::ReplaceResponseBody { bytes, .. } => Some((400, String::from_utf8_lossy(bytes).into_owned())),
        _ => None,
    });
    let answered = respond(&step).map(|(status, json, _)| (status, json.to_string())).or(replaced);
    (cluster_of(&step), answered, host)
}

#[test]
fn the_gateways_account_refused_with_a_400_fails_over_and_counts_against_its_provider() {
    // Bedrock's quota for the account, on the cheapest candidate (Converse): the next answers.
    let quota = r#"{"message":"Your request exceeds the service quota for your account. You can view your quotas at https://docs.aws.amazon.com/servicequotas/"}"#;
    let (next, _, host) = refused_with("economy", quota);
    assert_eq!(next.as_deref(), Some("oa"));
    assert_eq!(host.counters.borrow().get("auth_failed.provider.br"), Some(&1));
    let profile = r#"{"message":"Invocation of model ID nemo with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."}"#;
    assert_eq!(refused_with("economy", profile).0.as_deref(), Some("oa"));
    // Anthropic's credit run out, pinned (no other candidate): the router's error, not the
    // gateway's account's words, and the operator the count.
    let credit = r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}"#;
    let (next, answered, host) = refused_with("claude", credit);
    assert_eq!(next, None);
    assert!(answered.is_some_and(|(s, json)| s == 502 && !json.contains("credit balance")));
    assert_eq!(host.counters.borrow().get("auth_failed.provider.an"), Some(&1));
    // The client's own mistake, even quoting those words, is its own: no other provider.
    let own = r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content: 'Your credit balance is too low' is not a valid block"}}"#;
    let (next, answered, host) = refused_with("claude", own);
    assert_eq!((next, answered.map(|a| a.0)), (None, Some(400)));
    assert!(host.counters.borrow().keys().all(|k| !k.starts_with("auth_failed")));
    let (next, _, _) = refused_with(
        "economy",
        r#"{"message":"Malformed input request: extraneous key [x] is not permitted"}"#,
    );
    assert_eq!(next, None);
}

/// A model its provider retired (Groq's 400 `model_decommissioned`, where the others answer a
/// 404) is the catalog's to correct, not the client's mistake: the next candidate answers, and
/// the provider's health (its other models serve on) and the operator's key count are untouched.
#[test]
fn a_retired_model_refused_with_a_400_fails_over_without_blaming_its_provider() {
    let retired = r#"{"error":{"message":"The model `nemo` has been decommissioned and is no longer supported. Please refer to https://console.groq.com/docs/deprecations for a recommendation on which model to use instead.","type":"invalid_request_error","code":"model_decommissioned"}}"#;
    let (next, _, host) = refused_with("economy", retired);
    assert_eq!(next.as_deref(), Some("oa"));
    assert_eq!(super::no_answer::errors(&host, "br"), 0);
    assert!(host.counters.borrow().keys().all(|k| !k.starts_with("auth_failed")));
}

/// A provider's own 413 (Groq's request over the model's tokens per minute for the account,
/// Anthropic's over its size limit) is that model's limit, not every model's: it reached the
/// client with no other candidate tried. The next candidate answers, the health of neither the
/// provider nor the model touched (one failure would open a breaker here: five over-size
/// requests moved every client's small ones off the model's cheapest provider); with none left,
/// the router's 413 names what was tried.
#[test]
fn a_providers_413_fails_over_without_blaming_it() {
    let tpm = r#"{"error":{"message":"Request too large for model `nemo` in organization `org_1` service tier `on_demand` on tokens per minute (TPM): Limit 6000, Requested 9000, please reduce your message size and try again.","type":"tokens","code":"rate_limit_exceeded"}}"#;
    for (model, next) in [("economy", Some("oa")), ("claude", None)] {
        let mut host =
            chat(&request(false).replace(r#""model":"economy""#, &format!(r#""model":"{model}""#)));
        let mut req = Request::new(Some(super::native::config_with(r#","resilience":{"failures":1}"#)));
        let first = cluster_of(&route(&mut req, &host)).unwrap_or_default();
        host.response_headers = pairs(&[(":status", "413"), ("content-type", "application/json")]);
        host.response_body = tpm.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(cluster_of(&step).as_deref(), next, "{model}: {step:?}");
        assert_eq!(super::no_answer::errors(&host, &first), 0, "{model}");
        let opened = host.counters.borrow().iter().any(|(k, v)| k.starts_with("breaker_state") && *v == 1);
        assert!(!opened, "{model}: {:?}", host.counters.borrow());
        if next.is_none() {
            let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{model}: no reply: {step:?}"));
            assert_eq!((status, json["error"]["code"].as_str()), (413, Some("request_too_large")), "{json}");
            let message = json["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("the providers tried accept") && !message.contains("org_1"),
                "{message}"
            );
        }
    }
}
