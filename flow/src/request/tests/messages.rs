//! An Anthropic Messages client: routed as the chat body its request says, answered in the
//! Messages API's shapes on every path (held, streamed, a fallback's, every error).

use super::responses::{COMPLETION, replaced, sent_body};
use super::*;

fn messages(body: &str) -> Fake {
    let mut host = chat(body);
    for (k, v) in &mut host.request_headers {
        if k == ":path" {
            *v = "/v1/messages?beta=true".into();
        }
    }
    host
}

const ASK: &str = r#"{"model":"economy","max_tokens":500,"system":"be brief","messages":[{"role":"user","content":"hello"}]}"#;

#[test]
fn a_messages_request_is_routed_as_chat_and_its_answer_is_a_message() {
    let mut host = messages(ASK);
    let mut req = Request::new(Some(config("")));
    let step = route(&mut req, &host);
    let sent = sent_body(&step);
    assert_eq!(
        sent["messages"],
        serde_json::json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]),
        "{sent}"
    );
    assert!(sent.get("system").is_none() && sent.get("max_tokens").is_none(), "{sent}");
    assert_eq!(host.notes.borrow().get("api").map(String::as_str), Some("messages"));
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    host.response_body = COMPLETION.as_bytes().to_vec();
    let last = req.on(&host, Event::ResponseBody { size: COMPLETION.len(), end_of_stream: true });
    let out: Value = serde_json::from_str(&replaced(&last).unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(
        (&out["type"], &out["id"], &out["stop_reason"]),
        (&"message".into(), &"msg_1".into(), &"end_turn".into())
    );
    assert_eq!(out["content"], serde_json::json!([{"type": "text", "text": "hi"}]));
    assert_eq!((&out["usage"]["input_tokens"], &out["usage"]["output_tokens"]), (&1000.into(), &500.into()));
    // Priced as the chat answer it was.
    assert_eq!(set_response(&last, "x-model-router-cost").as_deref(), Some("0.00200000"));
}

/// Claude Code's adaptive thinking and its effort reach a pinned Claude as they were sent, and
/// a model that reasons at an effort as the nearest it takes; a model that does not reason is
/// sent none, and a tier picks what it picks without them.
#[test]
fn adaptive_thinking_reaches_the_models_that_think() {
    let ask = |model: &str| {
        format!(
            r#"{{"model":"{model}","max_tokens":32000,"thinking":{{"type":"adaptive","display":"omitted"}},"output_config":{{"effort":"xhigh"}},"messages":[{{"role":"user","content":"hello"}}]}}"#
        )
    };
    // The built-in catalog: its models' efforts and APIs.
    let shared =
        Rc::new(Shared::new(Config::from_json(b"").unwrap_or_else(|e| panic!("{e}")), HashMap::new()));
    let sent = |model: &str| {
        let mut req = Request::new(Some(shared.clone()));
        sent_body(&route(&mut req, &messages(&ask(model))))
    };
    let claude = sent("claude-opus-4-7");
    assert_eq!(
        (&claude["thinking"]["type"], &claude["output_config"]["effort"]),
        (&"adaptive".into(), &"xhigh".into()),
        "{claude}"
    );
    // Sonnet 4.6 thinks adaptively too (as Anthropic recommends), at the nearest effort it takes.
    let sonnet = sent("claude-sonnet-4-6");
    assert_eq!(
        (&sonnet["thinking"]["type"], &sonnet["output_config"]["effort"]),
        (&"adaptive".into(), &"high".into()),
        "{sonnet}"
    );
    assert!(sonnet["thinking"].get("budget_tokens").is_none(), "{sonnet}");
    assert_eq!(sent("o3")["reasoning_effort"], Value::from("high"));
    let plain = sent("gpt-4.1");
    assert!(
        plain.get("reasoning_effort").is_none() && plain.get("reasoning_effort_hint").is_none(),
        "{plain}"
    );
    for tier in ["economy", "standard", "premium"] {
        let mut req = Request::new(Some(shared.clone()));
        let unthinking = sent_body(&route(&mut req, &messages(&ASK.replace("economy", tier))));
        assert_eq!(sent(tier)["model"], unthinking["model"], "{tier}");
    }
}

#[test]
fn every_refusal_is_anthropics_error_shape_with_its_status() {
    // (path, method, body, status, Anthropic's type)
    let cases = [
        (
            "/v1/messages",
            "POST",
            r#"{"model":"economy","max_tokens":5,"messages":[],"mcp_servers":[{}]}"#,
            400,
            "invalid_request_error",
        ),
        (
            "/v1/messages",
            "POST",
            r#"{"model":"no-such-model","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
            404,
            "not_found_error",
        ),
        ("/v1/messages", "POST", "not json", 400, "invalid_request_error"),
        ("/v1/messages", "GET", "", 405, "invalid_request_error"),
        ("/v1/messages/batches?beta=true", "POST", "{}", 404, "not_found_error"),
        ("/v1/messages/count_tokens?beta=true", "POST", "{}", 400, "invalid_request_error"),
    ];
    for (path, method, body, status, kind) in cases {
        let mut host = messages(body);
        for (k, v) in &mut host.request_headers {
            match k.as_str() {
                ":path" => *v = path.into(),
                ":method" => *v = method.into(),
                _ => {}
            }
        }
        let mut req = Request::new(Some(config("")));
        let first = req.on(&host, Event::RequestHeaders { end_of_stream: body.is_empty() });
        let step = if respond(&first).is_some() { first } else { route(&mut req, &host) };
        let (got, error, _) = respond(&step).unwrap_or_else(|| panic!("{path} {body}: {step:?}"));
        assert_eq!(
            (got, &error["type"], &error["error"]["type"]),
            (status, &"error".into(), &kind.into()),
            "{path} {body}: {error}"
        );
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");
    }
}

#[test]
fn a_providers_error_page_is_anthropics_error_in_json() {
    let mut host = messages(&ASK.replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\""));
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    // (A provider's own 413 is failed over now: a proxy's 422 page.)
    host.response_headers = pairs(&[(":status", "422"), ("content-type", "text/html")]);
    let headers = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(
        headers.effects.contains(&Effect::SetResponseHeader("content-type", "application/json".into())),
        "{headers:?}"
    );
    let page = "<html>unprocessable</html>";
    host.response_body = page.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: page.len(), end_of_stream: true });
    let out: Value = serde_json::from_str(&replaced(&step).unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(out["error"]["type"], "invalid_request_error", "{out}");
}

#[test]
fn a_stream_served_by_a_fallback_is_messages_events() {
    let mut host = messages(&ASK.replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\""));
    let mut req = Request::new(Some(config("")));
    failed_over(&mut req, &mut host);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = COMPLETION.as_bytes().to_vec();
    let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (status, body) = respond_text(&answer).unwrap_or_else(|| panic!("{answer:?}"));
    let events: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(status, 200);
    assert_eq!(events.first(), Some(&"message_start"), "{body}");
    assert_eq!(events.last(), Some(&"message_stop"), "{body}");
    assert!(body.contains(r#""text":"hi""#), "{body}");
}
