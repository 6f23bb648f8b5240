//! The request's life driven natively: a fake host holds headers, bodies, shared data and the
//! clock, and records metrics, logs and filter state; each test feeds events and reads the
//! steps. No Envoy, no wasm.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use model_router_scorer::Config;
use serde_json::Value;

use crate::io::{Buffer, Effect, Event, Host, HostError, Level, Map, Step, Swap, Verdict};
use crate::request::Request;
use crate::shared::Shared;

mod account;
mod admit;
mod breaker;
mod broken_off;
mod charged;
mod count;
mod failover;
mod flex;
mod forged;
mod gauges;
mod memory;
mod messages;
mod native;
mod no_answer;
mod opened;
mod opening;
mod prefix;
mod refused;
mod reshaped;
mod responses;
mod should_retry;
mod spend;
mod unsent;

/// A host as a test sets it up: what it holds, and what the machine recorded in it.
#[derive(Default)]
struct Fake {
    request_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    response_headers: Vec<(String, String)>,
    response_body: Vec<u8>,
    call_headers: Vec<(String, String)>,
    call_body: Vec<u8>,
    shared: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    counters: RefCell<HashMap<String, u64>>,
    notes: RefCell<HashMap<String, String>>,
    logs: RefCell<Vec<String>>,
    now_ns: u64,
    /// A shared-data key whose writes fail, as a host's can.
    failing_key: Option<String>,
    /// Envoy's `response.code_details`.
    details: Option<String>,
    /// A value another worker writes to a key just before this one's first write to it.
    racing: RefCell<Option<(String, Vec<u8>)>>,
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(k, s)| (k.to_string(), s.to_string())).collect()
}

impl Host for Fake {
    fn now_ns(&self) -> Result<u64, HostError> {
        Ok(self.now_ns)
    }
    fn response_details(&self) -> Result<Option<String>, HostError> {
        Ok(self.details.clone())
    }
    fn headers(&self, map: Map) -> Result<Vec<(String, String)>, HostError> {
        Ok(match map {
            Map::RequestHeaders => self.request_headers.clone(),
            Map::ResponseHeaders => self.response_headers.clone(),
            Map::CallResponseHeaders => self.call_headers.clone(),
        })
    }
    fn header(&self, map: Map, name: &str) -> Result<Option<String>, HostError> {
        Ok(self.headers(map)?.into_iter().find(|(k, _)| k == name).map(|(_, v)| v))
    }
    fn body(&self, buffer: Buffer, start: usize, len: usize) -> Result<Vec<u8>, HostError> {
        let b = match buffer {
            Buffer::RequestBody => &self.request_body,
            Buffer::ResponseBody => &self.response_body,
            Buffer::CallResponseBody => &self.call_body,
        };
        Ok(b.iter().skip(start).take(len).copied().collect())
    }
    fn shared_get(&self, key: &str) -> Result<(Option<Vec<u8>>, u32), HostError> {
        Ok(match self.shared.borrow().get(key) {
            Some((v, cas)) => (Some(v.clone()), *cas),
            None => (None, crate::io::ABSENT),
        })
    }
    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<Swap, HostError> {
        if self.failing_key.as_deref() == Some(key) {
            return Err(HostError { call: "set_shared_data", detail: "failed".into() });
        }
        let mut map = self.shared.borrow_mut();
        let raced = self.racing.borrow().as_ref().is_some_and(|(k, _)| k == key);
        if let Some((k, other)) = self.racing.borrow_mut().take_if(|_| raced) {
            let cas = map.get(&k).map_or(0, |(_, c)| *c);
            map.insert(k, (other, cas + 1));
        }
        // Envoy's rule: an absent key is written whatever the token.
        let current = map.get(key).map(|(_, c)| *c);
        if current.is_some_and(|c| cas != 0 && cas != c) {
            return Ok(Swap::Conflict);
        }
        map.insert(key.to_string(), (value.to_vec(), current.unwrap_or(0) + 1));
        Ok(Swap::Done)
    }
    fn count(&self, name: &str, by: u64) {
        *self.counters.borrow_mut().entry(name.to_string()).or_default() += by;
    }
    fn gauge(&self, name: &str, value: u64) {
        self.counters.borrow_mut().insert(name.to_string(), value);
    }
    fn histogram(&self, name: &str, value: u64) {
        self.count(name, value);
    }
    fn note(&self, key: &str, value: &str) {
        self.notes.borrow_mut().insert(key.to_string(), value.to_string());
    }
    fn log(&self, _level: Level, message: &str) {
        self.logs.borrow_mut().push(message.to_string());
    }
}

/// Three providers: `m` at `a` and `b` (window 1,000), `big` at `c` (window 100,000), all
/// economy; one standard and one premium model so every tier exists.
fn config(extra: &str) -> Rc<Shared> {
    let model = |id: &str, tier: &str, p: &str, window: u64, quality: u64| {
        format!(
            r#"{{"id":"{id}","tier":"{tier}","provider":"{p}","context_window":{window},"max_output":1000,"price_in":1,"price_out":2,"quality":{quality}}}"#
        )
    };
    let catalog = format!(
        r#"{{"providers":{{"a":{{}},"b":{{}},"c":{{}}}},"models":[{},{},{},{},{}]}}"#,
        model("m", "economy", "a", 1000, 60),
        model("m", "economy", "b", 1000, 60),
        model("big", "economy", "c", 100_000, 40),
        model("s", "standard", "a", 1000, 70),
        model("x", "premium", "a", 1000, 80),
    );
    let json = format!(r#"{{"catalog":{catalog}{extra}}}"#);
    let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    Rc::new(Shared::new(config, HashMap::new()))
}

fn chat(body: &str) -> Fake {
    Fake {
        request_headers: pairs(&[
            (":method", "POST"),
            (":path", "/v1/chat/completions"),
            ("content-type", "application/json"),
            ("authorization", "Bearer client-key"),
            ("x-model-router-cluster", "forged"),
        ]),
        request_body: body.as_bytes().to_vec(),
        now_ns: 1_700_000_000_000_000_000,
        ..Fake::default()
    }
}

const HELLO: &str = r#"{"model":"economy","messages":[{"role":"user","content":"hello"}]}"#;
/// The same, streamed.
const STREAM_HELLO: &str =
    r#"{"model":"economy","stream":true,"messages":[{"role":"user","content":"hello"}]}"#;

/// Sends the request through headers and body; returns the body step.
fn route(req: &mut Request, host: &Fake) -> Step {
    let headers = req.on(host, Event::RequestHeaders { end_of_stream: false });
    assert_eq!(headers.verdict, Verdict::Pause, "{headers:?}");
    req.on(host, Event::RequestBody { size: host.request_body.len(), end_of_stream: true })
}

fn cluster_of(step: &Step) -> Option<String> {
    step.effects.iter().find_map(|e| match e {
        Effect::SetRequestHeaders(h) => {
            h.iter().find(|(k, _)| k == "x-model-router-cluster").map(|(_, v)| v.clone())
        }
        Effect::Call { cluster, .. } => Some(cluster.clone()),
        _ => None,
    })
}

/// A local answer: status, body as JSON, headers.
type Answer = (u16, Value, Vec<(String, String)>);

fn respond(step: &Step) -> Option<Answer> {
    step.effects.iter().find_map(|e| match e {
        Effect::Respond { status, body, headers, .. } => {
            Some((*status, serde_json::from_slice(body).unwrap_or(Value::Null), headers.clone()))
        }
        _ => None,
    })
}

/// Routes the request, fails its first attempt with a 503, and sends the fallback call: the
/// host's `call_*` answer it next.
fn failed_over(req: &mut Request, host: &mut Fake) {
    route(req, host);
    host.response_headers = pairs(&[(":status", "503")]);
    req.on(host, Event::ResponseHeaders { end_of_stream: false });
    req.on(host, Event::Dispatched { sent: true });
}

/// A local answer's status and body as text (a stream's events).
fn respond_text(step: &Step) -> Option<(u16, String)> {
    step.effects.iter().find_map(|e| match e {
        Effect::Respond { status, body, .. } => Some((*status, String::from_utf8_lossy(body).into_owned())),
        _ => None,
    })
}

fn set_response(step: &Step, name: &str) -> Option<String> {
    step.effects.iter().find_map(|e| match e {
        Effect::SetResponseHeader(k, v) if *k == name => Some(v.clone()),
        _ => None,
    })
}

#[test]
fn what_the_router_refuses_is_answered_locally_and_marked_as_its_own() {
    // (name, headers replaced, body, status, code: empty for any error)
    type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str, u16, &'static str);
    let cases: [Case; 4] = [
        ("bad json", &[], "{", 400, "invalid_json"),
        ("no content type", &[("content-type", "text/plain")], HELLO, 415, "unsupported_media_type"),
        ("gzip", &[("content-encoding", "gzip")], HELLO, 415, "unsupported_content_encoding"),
        ("unknown tier", &[], r#"{"model":"platinum","messages":[{"role":"user","content":"x"}]}"#, 404, ""),
    ];
    for (name, extra, body, status, code) in cases {
        let mut host = chat(body);
        for (k, v) in extra {
            host.request_headers.retain(|(h, _)| h != k);
            host.request_headers.push((k.to_string(), v.to_string()));
        }
        let mut req = Request::new(Some(config("")));
        let mut step = req.on(&host, Event::RequestHeaders { end_of_stream: false });
        // Nothing is answered while the body is still arriving, even what the headers refuse.
        assert_eq!(respond(&step), None, "{name}: answered before the body was in");
        if step.verdict == Verdict::Pause {
            let more = req.on(&host, Event::RequestBody { size: 1, end_of_stream: false });
            assert_eq!((more.verdict, respond(&more)), (Verdict::Pause, None), "{name}");
        }
        step = req.on(&host, Event::RequestBody { size: body.len(), end_of_stream: true });
        let (got, json, _) = respond(&step).unwrap_or_else(|| panic!("{name}: no answer in {step:?}"));
        if code.is_empty() {
            assert!(got >= 400, "{name}: {got}");
        } else {
            assert_eq!((got, json["error"]["code"].as_str()), (status, Some(code)), "{name}: {json}");
        }
        assert!(
            step.effects
                .contains(&Effect::SetRequestHeader("x-model-router-answered", "model_router".into()))
        );
        assert_eq!(step.verdict, Verdict::Pause, "{name}");
    }
}

#[test]
fn a_held_answer_carries_its_cost_and_a_large_one_is_metered_from_its_end() {
    let usage = br#"{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#;
    for (limit, held) in [(262_144u64, true), (16, false)] {
        let mut host = chat(HELLO);
        let extra = format!(r#","resilience":{{"max_held_response_bytes":{limit}}}"#);
        let mut req = Request::new(Some(config(&extra)));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(step.verdict, Verdict::Pause);
        host.response_body = usage[..40].to_vec();
        let first = req.on(&host, Event::ResponseBody { size: 40, end_of_stream: false });
        assert_eq!(first.verdict, if held { Verdict::Pause } else { Verdict::Continue });
        host.response_body = if held { usage.to_vec() } else { usage[40..].to_vec() };
        let last = req.on(&host, Event::ResponseBody { size: host.response_body.len(), end_of_stream: true });
        // Held: the cost goes into the held headers; metered: only into the logs.
        assert_eq!(set_response(&last, "x-model-router-cost").is_some(), held, "{last:?}");
        assert_eq!(host.notes.borrow().get("cost").map(String::as_str), Some("0.00200000"));
        req.on(&host, Event::Log);
        let counters = host.counters.borrow();
        assert!(counters.keys().any(|k| k.starts_with("requests.tier.economy") && k.ends_with("outcome.ok")));
    }
}

#[test]
fn a_stream_is_priced_and_one_cut_short_says_so() {
    let whole = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n";
    let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"cho";
    // Ended by the provider's own error event: no truncation error after it, and the stream
    // counts as failed, against the provider's health (it was a success, then a truncation).
    // Cut (ended before its last event, the client still there) counts so too.
    let failed = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
    for (name, stream, truncated) in [("whole", whole, false), ("cut", cut, true), ("failed", failed, false)]
    {
        let body = r#"{"model":"economy","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}"#;
        let mut host = chat(body);
        let mut req = Request::new(Some(config("")));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-type", "text/event-stream")]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(step.verdict, Verdict::Pause, "{name}: held until its first event");
        assert!(step.effects.contains(&Effect::RemoveResponseHeader("content-length".into())), "{name}");
        host.response_body = stream.as_bytes().to_vec();
        let step = req.on(&host, Event::ResponseBody { size: stream.len(), end_of_stream: true });
        let out = step.effects.iter().find_map(|e| match e {
            Effect::ReplaceResponseBody { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
            _ => None,
        });
        let out = out.unwrap_or_default();
        assert_eq!(out.contains("stream_truncated"), truncated, "{name}: {out}");
        assert_eq!(out.contains("\"cost\""), name == "whole", "{name}: {out}");
        assert_eq!(host.counters.borrow().contains_key("stream_truncated"), truncated, "{name}");
        assert_eq!(host.counters.borrow().contains_key("stream_failed"), name == "failed", "{name}");
        let provider =
            cluster_of(&route(&mut Request::new(Some(config(""))), &chat(body))).unwrap_or_default();
        let errors = host
            .shared
            .borrow()
            .get(&model_router_scorer::health::provider_key(&provider))
            .and_then(|(v, _)| model_router_scorer::health::Health::decode(v))
            .map_or(0, |h| h.window_errors);
        assert_eq!(errors, u32::from(name != "whole"), "{name}");
        // And the request's outcome says so.
        req.on(&host, Event::Log);
        let outcome = if name == "whole" { "outcome.ok" } else { "outcome.upstream_error" };
        assert!(
            host.counters.borrow().keys().any(|k| k.starts_with("requests.") && k.ends_with(outcome)),
            "{name}"
        );
    }
}

#[test]
fn without_configuration_every_request_gets_a_503() {
    let host = chat(HELLO);
    let mut req = Request::new(None);
    let step = req.on(&host, Event::RequestHeaders { end_of_stream: false });
    let (status, json, _) = respond(&step).unwrap_or_else(|| panic!("{step:?}"));
    assert_eq!((status, json["error"]["code"].as_str()), (503, Some("router_not_configured")));
}

/// A provider that is itself a router (a chained gateway) answers with its own
/// `x-model-router-*` headers: they passed on beside this router's, and where this one sets
/// none (a stream has no cost header, an answer served first time no fallback-from) the
/// client read the provider's as this router's word. Nor do the headers naming the gateway's
/// account with the provider, or its cookies.
#[test]
fn a_providers_own_router_headers_never_reach_the_client() {
    let mut host = chat(STREAM_HELLO);
    let mut req = Request::new(Some(config("")));
    route(&mut req, &host);
    host.response_headers = pairs(&[
        (":status", "200"),
        ("content-type", "text/event-stream"),
        ("x-model-router-cost", "0.00000001"),
        ("x-model-router-fallback-from", "upstream-model"),
        ("x-ratelimit-remaining-requests", "99"),
        ("openai-organization", "gateway-org"),
        ("set-cookie", "__cf_bm=x; path=/; domain=.api.example"),
        ("www-authenticate", "Bearer realm=\"OpenAI API\""),
        ("proxy-authenticate", "Basic"),
        ("x-should-retry", "false"),
    ]);
    let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
    let removed: Vec<&str> = step
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::RemoveResponseHeader(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for name in [
        "x-model-router-cost",
        "x-model-router-fallback-from",
        "openai-organization",
        "set-cookie",
        "www-authenticate",
        "proxy-authenticate",
    ] {
        assert!(removed.contains(&name), "{name}: {step:?}");
    }
    assert!(!removed.contains(&"x-ratelimit-remaining-requests"), "{step:?}");
    // A provider's word on retrying the error it answered is the client's SDK's to read.
    assert!(!removed.contains(&"x-should-retry"), "{step:?}");
    // This router's own headers are set after the removals.
    let last_removal = step
        .effects
        .iter()
        .rposition(|e| matches!(e, Effect::RemoveResponseHeader(n) if n.starts_with("x-model-router-")));
    let first_set = step.effects.iter().position(|e| matches!(e, Effect::SetResponseHeader(..)));
    assert!(last_removal < first_set, "{step:?}");
    assert_eq!(set_response(&step, "x-model-router-model").as_deref(), Some("m"));
}

#[test]
fn requests_the_router_does_not_own_pass_untouched() {
    let mut host = chat("");
    host.request_headers = pairs(&[(":method", "GET"), (":path", "/healthz")]);
    let mut req = Request::new(Some(config("")));
    assert_eq!(req.on(&host, Event::RequestHeaders { end_of_stream: true }), Step::just(Verdict::Continue));
    host.response_headers = pairs(&[(":status", "200")]);
    assert_eq!(req.on(&host, Event::ResponseHeaders { end_of_stream: true }), Step::just(Verdict::Continue));
    assert_eq!(req.on(&host, Event::Log), Step::just(Verdict::Continue));
}

/// Issue 15 follow-up: an answer whose `content-length` is over the hold limit is never held,
/// not even its first chunk (Envoy would buffer one more upstream read on top of it before the
/// next callback, and past the listener's limit that is a 500).
#[test]
fn an_answer_declared_too_large_to_hold_is_metered_from_its_first_byte() {
    let usage = br#"{"data":[],"usage":{"prompt_tokens":1000,"total_tokens":1000}}"#;
    for (declared, held) in [("64", true), ("300000", false)] {
        let mut host = chat(HELLO);
        let mut req = Request::new(Some(config("")));
        route(&mut req, &host);
        host.response_headers = pairs(&[(":status", "200"), ("content-length", declared)]);
        let step = req.on(&host, Event::ResponseHeaders { end_of_stream: false });
        assert_eq!(step.verdict, if held { Verdict::Pause } else { Verdict::Continue }, "{declared}");
        host.response_body = usage.to_vec();
        let first = req.on(&host, Event::ResponseBody { size: usage.len(), end_of_stream: !held });
        if held {
            assert_eq!(first.verdict, Verdict::Pause);
        } else {
            assert_eq!(first, Step::just(Verdict::Continue));
            assert_eq!(host.notes.borrow().get("tokens_in").map(String::as_str), Some("1000"));
        }
    }
}
