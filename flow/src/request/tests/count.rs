//! `POST /v1/messages/count_tokens`: counted by Anthropic for a Claude on its API (the Messages
//! body less what only generating takes, its answer passed on as it comes), by the router's
//! estimate elsewhere; nothing reserved, charged or remembered either way.

use super::responses::sent_body;
use super::*;

const COUNT: &str = r#"{"model":"MODEL","system":"be brief","messages":[{"role":"user","content":"hello"}],"thinking":{"type":"adaptive"},"output_config":{"effort":"high"}}"#;

fn counting(model: &str) -> Fake {
    let mut host = chat(&COUNT.replace("MODEL", model));
    for (k, v) in &mut host.request_headers {
        if k == ":path" {
            *v = "/v1/messages/count_tokens?beta=true".into();
        }
    }
    host
}

/// The built-in catalog, with a spend limit no request fits.
fn built_in() -> Rc<Shared> {
    let config =
        Config::from_json(br#"{"budgets":{"daily_usd":0.000000001}}"#).unwrap_or_else(|e| panic!("{e}"));
    Rc::new(Shared::new(config, HashMap::new()))
}

fn sent_path(step: &Step) -> Option<String> {
    step.effects.iter().find_map(|e| match e {
        Effect::SetRequestHeaders(h) => h.iter().find(|(k, _)| k == ":path").map(|(_, v)| v.clone()),
        _ => None,
    })
}

#[test]
fn a_claude_on_anthropics_api_is_counted_there_and_its_answer_passes_as_it_comes() {
    let mut host = counting("claude-opus-4-7");
    let mut req = Request::new(Some(built_in()));
    let step = route(&mut req, &host);
    assert_eq!(sent_path(&step).as_deref(), Some("/v1/messages/count_tokens"), "{step:?}");
    let sent = sent_body(&step);
    assert_eq!(
        (&sent["model"], &sent["system"], &sent["thinking"]["type"]),
        (&"claude-opus-4-7".into(), &"be brief".into(), &"adaptive".into()),
        "{sent}"
    );
    // What the counting endpoint refuses is not sent (the translation adds max_tokens).
    assert!(sent.get("max_tokens").is_none() && sent.get("stream").is_none(), "{sent}");
    assert_eq!(host.notes.borrow().get("api").map(String::as_str), Some("messages"));
    // Its own answer, and its refusal of the request, pass as they come.
    for (status, body) in [
        ("200", r#"{"input_tokens":14}"#),
        ("400", r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.0: bad"}}"#),
    ] {
        let mut req = Request::new(Some(built_in()));
        route(&mut req, &host);
        host.response_headers = pairs(&[
            (":status", status),
            ("content-type", "application/json"),
            ("anthropic-organization-id", "gateway-org"),
            ("set-cookie", "__cf_bm=x"),
            ("x-model-router-cost", "0"),
        ]);
        let headers = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        // What is not the client's goes, as from a generation's answer.
        for name in ["anthropic-organization-id", "set-cookie", "x-model-router-cost"] {
            let removed =
                headers.effects.iter().any(|e| matches!(e, Effect::RemoveResponseHeader(n) if n == name));
            assert!(removed, "{name}: {headers:?}");
        }
        assert_eq!(
            set_response(&headers, "x-model-router-count").as_deref(),
            Some("provider"),
            "{headers:?}"
        );
        assert_eq!(set_response(&headers, "x-model-router-provider").as_deref(), Some("anthropic"));
        host.response_body = body.as_bytes().to_vec();
        let last = req.on(&host, Event::ResponseBody { size: body.len(), end_of_stream: true });
        assert!(last.effects.is_empty() && last.verdict == Verdict::Continue, "{status}: {last:?}");
        req.on(&host, Event::Log);
    }
    // The gateway's key refused, the provider out or rate limited: the estimate answers.
    for status in ["401", "503", "429"] {
        let mut req = Request::new(Some(built_in()));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", status), ("content-type", "application/json")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        let (got, body, headers) = respond(&step).unwrap_or_else(|| panic!("{status}: {step:?}"));
        let count = headers.iter().find(|(k, _)| k == "x-model-router-count").map(|(_, v)| v.as_str());
        assert_eq!((got, count), (200, Some("estimate")), "{status}: {body}");
        assert!(body["input_tokens"].as_u64().is_some_and(|n| n > 0), "{body}");
        req.on(&host, Event::Log);
    }
    // Said once a minute, not on each count a client sends past the provider's limit.
    let said = host.logs.borrow().iter().filter(|l| l.contains("answered a token count")).count();
    assert_eq!(said, 1, "{:?}", host.logs.borrow());
    // Counting reserved, spent and counted nothing (the limit would refuse any request).
    let counters = host.counters.borrow();
    assert!(!counters.keys().any(|k| k.contains("cost") || k.contains("requests")), "{counters:?}");
}

#[test]
fn any_other_model_is_counted_by_the_estimate_and_no_provider_is_asked() {
    let host = counting("gpt-4.1");
    let mut req = Request::new(Some(built_in()));
    let step = route(&mut req, &host);
    let (status, body, headers) = respond(&step).unwrap_or_else(|| panic!("answered here: {step:?}"));
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(
        (status, header("x-model-router-count"), header("x-model-router-model")),
        (200, Some("estimate"), Some("gpt-4.1"))
    );
    // The estimate the budgets reserve on: the messages and system, and framing.
    let n = body["input_tokens"].as_u64().unwrap_or_default();
    assert!((10..100).contains(&n), "{body}");
    assert!(sent_path(&step).is_none(), "{step:?}");
}

#[test]
fn a_count_the_request_could_not_be_is_refused_in_anthropics_shape() {
    for (body, status) in
        [("not json", 400), (r#"{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"#, 404)]
    {
        let mut host = counting("x");
        host.request_body = body.as_bytes().to_vec();
        let mut req = Request::new(Some(built_in()));
        let step = route(&mut req, &host);
        let (got, error, _) = respond(&step).unwrap_or_else(|| panic!("{body}: {step:?}"));
        assert_eq!((got, &error["type"]), (status, &"error".into()), "{body}: {error}");
    }
}

/// A conversation the guard's estimate (a token per 3 bytes, larger than English text needs)
/// puts past the model's window is still counted: it was refused as too long, the count a
/// client asks for to learn whether it fits.
#[test]
fn a_conversation_the_guard_puts_past_the_window_is_still_counted() {
    let long = "hello ".repeat(100_000);
    let mut host = counting("claude-haiku-4-5");
    let body = COUNT
        .replace("MODEL", "claude-haiku-4-5")
        .replace(r#""content":"hello""#, &format!(r#""content":"{long}""#));
    host.request_body = body.into_bytes();
    let mut req = Request::new(Some(built_in()));
    let step = route(&mut req, &host);
    assert_eq!(sent_path(&step).as_deref(), Some("/v1/messages/count_tokens"), "{step:?}");
}
