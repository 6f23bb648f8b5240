//! A Responses API client: routed as the chat body its request says, answered in the
//! Responses API's shapes on every path (held, streamed, a fallback's, the router's errors).

use super::*;

fn responses(body: &str) -> Fake {
    let mut host = chat(body);
    for (k, v) in &mut host.request_headers {
        if k == ":path" {
            *v = "/v1/responses".into();
        }
    }
    host
}

/// The body the provider is sent.
pub(super) fn sent_body(step: &Step) -> Value {
    step.effects
        .iter()
        .find_map(|e| match e {
            Effect::ReplaceRequestBody { bytes, .. } => serde_json::from_slice(bytes).ok(),
            _ => None,
        })
        .unwrap_or(Value::Null)
}

pub(super) fn replaced(step: &Step) -> Option<String> {
    step.effects.iter().find_map(|e| match e {
        Effect::ReplaceResponseBody { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    })
}

pub(super) const COMPLETION: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":9,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500}}"#;

#[test]
fn a_responses_request_is_routed_as_chat_and_its_answer_is_a_response_object() {
    let mut host = responses(r#"{"model":"economy","instructions":"be brief","input":"hello"}"#);
    let mut req = Request::new(Some(config("")));
    let step = route(&mut req, &host);
    let sent = sent_body(&step);
    assert_eq!(
        sent["messages"],
        serde_json::json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]),
        "{sent}"
    );
    assert!(sent.get("input").is_none() && sent.get("instructions").is_none(), "{sent}");
    // The access log tells it from a chat request (its logged path is the provider's).
    assert_eq!(host.notes.borrow().get("api").map(String::as_str), Some("responses"));
    let chat_host = chat(HELLO);
    route(&mut Request::new(Some(config(""))), &chat_host);
    assert_eq!(chat_host.notes.borrow().get("api"), None);
    host.response_headers =
        pairs(&[(":status", "200"), ("content-type", "application/json"), ("content-length", "999")]);
    let headers = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(headers.effects.contains(&Effect::RemoveResponseHeader("content-length".into())), "{headers:?}");
    // Held in two parts, as Envoy buffers it; rewritten once whole.
    host.response_body = COMPLETION.as_bytes()[..30].to_vec();
    let first = req.on(&host, Event::ResponseBody { size: 30, end_of_stream: false });
    assert_eq!(replaced(&first).unwrap_or_default(), "", "{first:?}");
    host.response_body = COMPLETION.as_bytes().to_vec();
    let last = req.on(&host, Event::ResponseBody { size: COMPLETION.len(), end_of_stream: true });
    let out: Value = serde_json::from_str(&replaced(&last).unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(
        (&out["object"], &out["id"], &out["status"]),
        (&"response".into(), &"resp_1".into(), &"completed".into())
    );
    assert_eq!(out["output"][0]["content"][0]["text"], "hi");
    assert_eq!(out["usage"]["input_tokens"], 1000);
    // Priced as the chat answer it was.
    assert_eq!(set_response(&last, "x-model-router-cost").as_deref(), Some("0.00200000"));
}

#[test]
fn a_streamed_responses_request_gets_events_with_usage() {
    let mut host = responses(r#"{"model":"economy","input":"hello","stream":true}"#);
    let mut req = Request::new(Some(config("")));
    let sent = sent_body(&route(&mut req, &host));
    assert_eq!(
        (&sent["stream"], &sent["stream_options"]["include_usage"]),
        (&true.into(), &true.into()),
        "{sent}"
    );
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let chunks = [
        "data: {\"id\":\"chatcmpl-2\",\"created\":9,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n",
        "data: {\"id\":\"chatcmpl-2\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: {\"id\":\"chatcmpl-2\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n",
        "data: [DONE]\n\n",
    ];
    let mut out = String::new();
    for (n, c) in chunks.iter().enumerate() {
        host.response_body = c.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: c.len(), end_of_stream: n == 2 });
        out.push_str(&replaced(&step).unwrap_or_else(|| panic!("chunk {n} not rewritten: {step:?}")));
    }
    assert!(!out.contains("chat.completion"), "{out}");
    let events: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(events.first(), Some(&"response.created"), "{out}");
    assert_eq!(events.last(), Some(&"response.completed"), "{out}");
    let completed = out.lines().rfind(|l| l.starts_with("data: ")).unwrap_or_default();
    let completed: Value =
        serde_json::from_str(completed.trim_start_matches("data: ")).unwrap_or(Value::Null);
    let usage = &completed["response"]["usage"];
    assert_eq!((&usage["input_tokens"], &usage["output_tokens"]), (&3.into(), &1.into()), "{completed}");
    assert!(usage.get("cost").is_some(), "the router's price rides along: {completed}");
}

#[test]
fn a_fallbacks_answer_is_a_response_object_too_and_a_failed_attempt_never_feeds_it() {
    let mut host = responses(r#"{"model":"economy","input":"hello"}"#);
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "503")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    req.on(&host, Event::Dispatched { sent: true });
    host.response_body = b"{\"error\":\"down\"}".to_vec();
    let drop = req.on(&host, Event::ResponseBody { size: 16, end_of_stream: true });
    assert_eq!(drop.effects, vec![Effect::ReplaceResponseBody { size: 16, bytes: Vec::new() }]);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = COMPLETION.as_bytes().to_vec();
    let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (status, body, _) = respond(&answer).unwrap_or_else(|| panic!("{answer:?}"));
    assert_eq!(
        (status, &body["object"], &body["output"][0]["content"][0]["text"]),
        (200, &"response".into(), &"hi".into())
    );
}

#[test]
fn what_the_router_refuses_is_an_openai_error_and_stored_state_is_refused() {
    for (body, code) in [
        (r#"{"model":"economy","input":"hi","previous_response_id":"resp_1"}"#, 400),
        (r#"{"model":"no-such-model","input":"hi"}"#, 404),
        ("not json", 400),
        (r#"{"model":"economy","input":"hi","max_output_tokens":0}"#, 400),
    ] {
        let host = responses(body);
        let mut req = Request::new(Some(config("")));
        let step = route(&mut req, &host);
        let (status, error, _) = respond(&step).unwrap_or_else(|| panic!("{body}: {step:?}"));
        assert_eq!(status, code, "{body}: {error}");
        assert!(
            error["error"]["message"].is_string() && error["error"]["type"].is_string(),
            "{body}: {error}"
        );
        // Named as the client wrote it, not as the chat body it became.
        assert!(!error.to_string().contains("max_completion_tokens"), "{body}: {error}");
    }
    // What needs a stored response is a 404 saying the router keeps none.
    let mut host = responses("");
    for (k, v) in &mut host.request_headers {
        match k.as_str() {
            ":method" => *v = "GET".into(),
            ":path" => *v = "/v1/responses/resp_1".into(),
            _ => {}
        }
    }
    let step = Request::new(Some(config(""))).on(&host, Event::RequestHeaders { end_of_stream: true });
    let (status, error, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, &error["error"]["code"]), (404, &"not_served".into()), "{error}");
    // The Responses API is POST only: anything else is a 405 naming it.
    let mut host = responses("");
    host.request_headers.retain(|(k, _)| k != ":method");
    host.request_headers.push((":method".into(), "GET".into()));
    let step = Request::new(Some(config(""))).on(&host, Event::RequestHeaders { end_of_stream: true });
    assert_eq!(respond(&step).map(|a| a.0), Some(405), "{step:?}");
}

#[test]
fn a_stream_served_by_a_fallback_is_events_and_an_error_page_passes_as_it_came() {
    // The first provider fails; the fallback (called out of band) answers the stream whole.
    let mut host = responses(r#"{"model":"economy","input":"hello","stream":true}"#);
    let mut req = Request::new(Some(config("")));
    failed_over(&mut req, &mut host);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    host.call_body = COMPLETION.as_bytes().to_vec();
    let answer = req.on(&host, Event::CallResponse { body_size: host.call_body.len() });
    let (body, headers) = answer
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::Respond { body, headers, .. } => {
                Some((String::from_utf8_lossy(body).into_owned(), headers))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{answer:?}"));
    assert!(body.starts_with("event: response.created") && body.contains("response.completed"), "{body}");
    let types: Vec<&str> =
        headers.iter().filter(|(k, _)| k == "content-type").map(|(_, v)| v.as_str()).collect();
    assert_eq!(types, ["text/event-stream"]);
    // A proxy's HTML error page for a stream request reaches the client as it came, not as
    // a made-up failed response.
    let mut host = responses(r#"{"model":"economy","input":"hello","stream":true}"#);
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "422"), ("content-type", "text/html")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let page = "<html>unprocessable</html>";
    host.response_body = page.as_bytes().to_vec();
    let step = req.on(&host, Event::ResponseBody { size: page.len(), end_of_stream: true });
    assert_eq!(replaced(&step).as_deref(), Some(page), "{step:?}");
}

#[test]
fn a_large_answer_passing_as_it_comes_is_one_response_object_at_its_end() {
    let mut host = responses(r#"{"model":"economy","input":"hello"}"#);
    let mut req = Request::new(Some(config(r#","resilience":{"max_held_response_bytes":16}"#)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let (a, b) = COMPLETION.as_bytes().split_at(40);
    host.response_body = a.to_vec();
    let first = req.on(&host, Event::ResponseBody { size: a.len(), end_of_stream: false });
    assert_eq!(
        (first.verdict, replaced(&first).as_deref()),
        (Verdict::Continue, Some("")),
        "metered, held here"
    );
    host.response_body = b.to_vec();
    let last = req.on(&host, Event::ResponseBody { size: b.len(), end_of_stream: true });
    let out: Value = serde_json::from_str(&replaced(&last).unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!((&out["object"], &out["output"][0]["content"][0]["text"]), (&"response".into(), &"hi".into()));
    // Priced from its end as a chat answer is.
    assert_eq!(host.notes.borrow().get("cost").map(String::as_str), Some("0.00200000"));
}

/// A hosted tool the configuration leaves out is not sent (nor the choice that then asks
/// nothing), and the answer says it was left out; without the configuration it is refused
/// before anything is sent.
#[test]
fn hosted_tools_the_configuration_drops_are_left_out_and_named_in_a_header() {
    let body = r#"{"model":"economy","input":"hello","tools":[{"type":"web_search","external_web_access":false}],"tool_choice":"auto"}"#;
    let mut host = responses(body);
    let mut req = Request::new(Some(config(r#","responses":{"drop_tools":["web_search"]}"#)));
    let step = route(&mut req, &host);
    let sent = sent_body(&step);
    assert_eq!(sent["messages"], serde_json::json!([{"role": "user", "content": "hello"}]), "{step:?}");
    assert!(sent.get("tools").is_none() && sent.get("tool_choice").is_none(), "{sent}");
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    let headers = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert_eq!(
        set_response(&headers, "x-model-router-dropped-tools").as_deref(),
        Some("web_search"),
        "{headers:?}"
    );

    let host = responses(body);
    let mut req = Request::new(Some(config("")));
    let step = route(&mut req, &host);
    assert_eq!(sent_body(&step), Value::Null, "{step:?}");
    let (status, text) = respond_text(&step).unwrap_or_default();
    assert_eq!(status, 400, "{text}");
    assert!(text.contains(r#""param":"tools[0].type""#), "{text}");
}
