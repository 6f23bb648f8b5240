//! Native answers that are not the answer as it came: a Responses model's commentary under a
//! JSON schema, and a fallback's stream the request's own error opened.

use std::collections::HashMap;
use std::rc::Rc;

use model_router_scorer::Config;
use model_router_scorer::protocol::bedrock::eventstream::encode;
use serde_json::Value;

use super::native::{replaced, request};
use super::{chat, pairs, respond, route};
use crate::io::{Effect, Event, Verdict};
use crate::request::Request;
use crate::shared::Shared;

/// A Responses model's commentary (`phase: "commentary"`) on its way to a JSON answer (a
/// schema's, or `json_object`'s) was joined to the answer in `content`, which no SDK could then
/// parse; the route tells the translator the client asked for JSON, and only the answer is
/// `content`.
#[test]
fn a_structured_answer_from_responses_is_only_the_final_answer() {
    let catalog = r#"{"providers":{"oa":{}},"models":[
        {"id":"codex","tier":"economy","provider":"oa","api":"responses","context_window":1000,"max_output":100,"price_in":1,"price_out":1,"structured_output":true},
        {"id":"s","tier":"standard","provider":"oa","context_window":1000,"max_output":100,"price_in":1,"price_out":1},
        {"id":"x","tier":"premium","provider":"oa","context_window":1000,"max_output":100,"price_in":1,"price_out":1}]}"#;
    let config = Config::from_json(format!(r#"{{"catalog":{catalog}}}"#).as_bytes());
    let shared = Rc::new(Shared::new(config.unwrap_or_else(|e| panic!("{e}")), HashMap::new()));
    let format = r#"{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object"}}}"#;
    let cases = [
        (format, "{\"primes\":[2,3,5]}"),
        (r#"{"type":"json_object"}"#, "{\"primes\":[2,3,5]}"),
        ("null", "Picking primes.\n\n{\"primes\":[2,3,5]}"),
    ];
    for (response_format, want) in cases {
        let body = format!(
            r#"{{"model":"codex","response_format":{response_format},"messages":[{{"role":"user","content":"primes"}}]}}"#
        );
        let mut host = chat(&body);
        let mut req = Request::new(Some(Rc::clone(&shared)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
        assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: false }).verdict, Verdict::Pause);
        let answer = r#"{"id":"resp_1","object":"response","status":"completed","model":"codex","output":[
            {"id":"m1","type":"message","role":"assistant","phase":"commentary","content":[{"type":"output_text","text":"Picking primes."}]},
            {"id":"m2","type":"message","role":"assistant","phase":"final_answer","content":[{"type":"output_text","text":"{\"primes\":[2,3,5]}"}]}],
            "usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14}}"#;
        host.response_body = answer.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: answer.len(), end_of_stream: true });
        let v: Value = serde_json::from_str(&replaced(&step)).unwrap_or(Value::Null);
        assert_eq!(v["choices"][0]["message"]["content"], want, "{response_format}: {v}");
    }
    // An answer it cannot read is logged as the provider wrote it, its control characters
    // escaped and its length cut: a status holding a newline forged an Envoy log line.
    let mut host = chat(r#"{"model":"codex","messages":[{"role":"user","content":"primes"}]}"#);
    let mut req = Request::new(Some(Rc::clone(&shared)));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "200"), ("content-type", "application/json")]);
    req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let status = format!(r"weird\n[critical][main] FORGED\u001b[31m{}", "x".repeat(100_000));
    host.response_body = format!(r#"{{"status":"{status}","output":[]}}"#).into_bytes();
    req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
    let logs = host.logs.borrow();
    let line = logs.iter().find(|l| l.contains("weird")).unwrap_or_else(|| panic!("{logs:?}"));
    assert!(!line.contains('\n') && !line.contains('\u{1b}') && line.contains("weird\\n"), "{line}");
    assert!(line.len() < 1_000, "{} bytes", line.len());
}

/// A fallback's native stream that opens with the request's own error is the client's 400
/// with the JSON error, as on the first attempt's path: it was served as a 200 event stream
/// holding the error event.
#[test]
fn a_fallbacks_stream_the_requests_error_opens_is_the_clients_400() {
    let model = |id: &str, tier: &str, p: &str, api: &str, price: f64| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","api":"{api}","context_window":1000,"max_output":100,"price_in":{price},"price_out":{price}}}"#
        )
    };
    let catalog = format!(
        r#"{{"providers":{{"br":{{"base_path":""}},"oa":{{}}}},"models":[{},{},{},{}]}}"#,
        model("gpt", "economy", "oa", "chat", 0.1),
        model("nemo", "economy", "br", "bedrock-converse", 1.0),
        model("s", "standard", "oa", "chat", 1.0),
        model("x", "premium", "oa", "chat", 1.0),
    );
    let config = Config::from_json(format!(r#"{{"catalog":{catalog}}}"#).as_bytes());
    let shared = Rc::new(Shared::new(config.unwrap_or_else(|e| panic!("{e}")), HashMap::new()));
    let mut host = chat(&request(true));
    let mut req = Request::new(Some(shared));
    route(&mut req, &host);
    host.response_headers = pairs(&[(":status", "503")]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    assert!(
        step.effects.iter().any(|e| matches!(e, Effect::Call { cluster, .. } if cluster == "br")),
        "{step:?}"
    );
    req.on(&host, Event::Dispatched { sent: true });
    let headers = [(":message-type", "exception"), (":exception-type", "validationException")];
    let refused = encode(&headers, br#"{"message":"messages.0: bad block"}"#);
    host.call_headers = pairs(&[(":status", "200"), ("content-type", "application/vnd.amazon.eventstream")]);
    host.call_body = refused.clone();
    let step = req.on(&host, Event::CallResponse { body_size: refused.len() });
    let (status, error, headers) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!(status, 400, "{error}");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("bad block")), "{error}");
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "application/json"), "{headers:?}");
}
