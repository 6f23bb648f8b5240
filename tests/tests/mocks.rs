//! The mock providers on their own (no Envoy): replies shaped like the real OpenAI API, requests
//! validated as it validates them, bounded work on hostile requests, and `/mock/requests`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use model_router_tests::http::{self, Response};
use model_router_tests::mock::validate::responses::ENCRYPTED_REASONING;
use model_router_tests::mock::{self, Log, MAX_BODY_BYTES};
use serde_json::{Value, json};

const CHAT: &str = "/v1/chat/completions";
const EMBED: &str = "/v1/embeddings";

fn mock(provider: &str) -> SocketAddr {
    mock::start(provider, "127.0.0.1:0", Duration::ZERO, Log::default()).expect("mock").addr
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> Response {
    http::post_json(addr, path, &body.to_string()).expect("request")
}

fn chat_body(extra: Value) -> Value {
    let mut b = json!({"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]});
    if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
        b.extend(extra.clone());
    }
    b
}

/// The `data:` events of an SSE body, `[DONE]` excluded.
fn events(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("event is JSON"))
        .collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for group in text.as_bytes().chunks(4) {
        let digits: Vec<u8> = group.iter().copied().filter(|c| *c != b'=').map(value).collect();
        let n = digits.iter().enumerate().fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        out.extend(n.to_be_bytes()[1..].iter().take(digits.len() - 1));
    }
    out
}

#[test]
fn a_chat_reply_has_every_field_the_spec_requires_and_n_choices() {
    let addr = mock("openai");
    let r = post(addr, CHAT, &chat_body(json!({"n": 3})));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    for key in ["id", "object", "created", "model", "choices", "usage"] {
        assert!(!v[key].is_null(), "{key} missing: {v}");
    }
    assert_eq!(v["object"], "chat.completion");
    let choices = v["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 3);
    for (i, c) in choices.iter().enumerate() {
        assert_eq!(c["index"], i);
        assert_eq!(c["message"]["role"], "assistant");
        assert_eq!(c["message"]["content"], "mock reply from openai");
        assert!(c["message"].as_object().is_some_and(|m| m.get("refusal") == Some(&Value::Null)), "{c}");
        assert!(c.as_object().is_some_and(|m| m.get("logprobs") == Some(&Value::Null)), "{c}");
        assert_eq!(c["finish_reason"], "stop");
    }
    let u = &v["usage"];
    assert_eq!(u["completion_tokens"], 3 * 4, "{u}");
    assert_eq!(u["total_tokens"], u["prompt_tokens"].as_u64().unwrap_or(0) + 12);
    assert_eq!(v["mock"]["provider"], "openai");
}

#[test]
fn logprobs_are_returned_when_asked_for_with_top_logprobs_alternatives() {
    let addr = mock("openai");
    let r = post(addr, CHAT, &chat_body(json!({"logprobs": true, "top_logprobs": 2})));
    let lp = &r.json()["choices"][0]["logprobs"];
    let content = lp["content"].as_array().expect("logprobs.content");
    assert_eq!(content.len(), 4, "one per token of the reply: {lp}");
    assert!(lp.as_object().is_some_and(|m| m.get("refusal") == Some(&Value::Null)), "{lp}");
    assert_eq!(content[0]["token"], "mock");
    assert_eq!(content[0]["top_logprobs"].as_array().map(Vec::len), Some(2));
    assert!(content[0]["logprob"].is_number());
}

#[test]
fn stream_chunks_carry_logprobs_on_every_choice_for_each_of_n() {
    let addr = mock("groq");
    let body = chat_body(json!({"stream": true, "n": 2, "stream_options": {"include_usage": true}}));
    let r = post(addr, CHAT, &body);
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    let evs = events(&text);
    let (usage, rest): (Vec<&Value>, Vec<&Value>) =
        evs.iter().partition(|e| e["choices"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(usage.len(), 1, "one usage chunk: {text}");
    assert_eq!(usage[0]["usage"]["completion_tokens"], 8);
    let mut content = [String::new(), String::new()];
    let mut finished = [false, false];
    for e in rest {
        assert_eq!(e["object"], "chat.completion.chunk");
        assert!(e.as_object().is_some_and(|m| m.get("usage") == Some(&Value::Null)), "{e}");
        for c in e["choices"].as_array().expect("choices") {
            assert!(c.as_object().is_some_and(|m| m.contains_key("logprobs")), "{c}");
            let i = c["index"].as_u64().expect("index") as usize;
            content[i] += c["delta"]["content"].as_str().unwrap_or_default();
            finished[i] |= c["finish_reason"] == "stop";
        }
    }
    assert_eq!(content, ["mock reply from groq", "mock reply from groq"]);
    assert_eq!(finished, [true, true]);
}

#[test]
fn base64_embeddings_decode_to_the_same_little_endian_floats_as_the_float_format() {
    let addr = mock("openai");
    let ask = |format: &str| {
        let body = json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 5, "encoding_format": format});
        let r = post(addr, EMBED, &body);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    let floats: Vec<f32> = ask("float")["data"][1]["embedding"]
        .as_array()
        .expect("floats")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect();
    let encoded = ask("base64");
    assert_eq!(encoded["data"].as_array().map(Vec::len), Some(2));
    let bytes = base64_decode(encoded["data"][1]["embedding"].as_str().expect("base64 string"));
    let decoded: Vec<f32> =
        bytes.chunks(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
    assert_eq!(decoded.len(), 5);
    assert_eq!(decoded, floats);
}

#[test]
fn malformed_requests_get_a_400_in_openais_error_shape() {
    let addr = mock("openai");
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            CHAT,
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "model",
            "missing_required_parameter",
        ),
        (CHAT, json!({"model": "m"}), "messages", "missing_required_parameter"),
        (CHAT, chat_body(json!({"messages": []})), "messages", "empty_array"),
        (CHAT, chat_body(json!({"n": 0})), "n", "integer_below_min_value"),
        (CHAT, chat_body(json!({"n": 129})), "n", "integer_above_max_value"),
        (CHAT, chat_body(json!({"n": "2"})), "n", "invalid_type"),
        (CHAT, chat_body(json!({"temperature": 3})), "temperature", "decimal_above_max_value"),
        (CHAT, chat_body(json!({"top_p": -0.5})), "top_p", "decimal_below_min_value"),
        (
            CHAT,
            chat_body(json!({"messages": [{"role": "wizard", "content": "x"}]})),
            "messages[0].role",
            "invalid_value",
        ),
        (
            CHAT,
            chat_body(json!({"messages": [{"role": "user", "content": 5}]})),
            "messages[0].content",
            "invalid_type",
        ),
        (
            CHAT,
            chat_body(json!({"messages": [{"role": "tool", "content": "x"}]})),
            "messages[0].tool_call_id",
            "missing_required_parameter",
        ),
        (
            CHAT,
            chat_body(
                json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f"}}]}]}),
            ),
            "messages[0].tool_calls[0].function.arguments",
            "missing_required_parameter",
        ),
        (CHAT, chat_body(json!({"reasoning_effort": "extreme"})), "reasoning_effort", "invalid_value"),
        (EMBED, json!({"model": "text-embedding-3-small", "input": ""}), "input", "invalid_value"),
        (EMBED, json!({"model": "text-embedding-3-small", "input": []}), "input", "invalid_value"),
        (
            EMBED,
            json!({"model": "text-embedding-3-small", "input": vec!["x"; 2049]}),
            "input",
            "array_above_max_length",
        ),
        (
            EMBED,
            json!({"model": "text-embedding-3-small", "input": "x", "dimensions": 0}),
            "dimensions",
            "integer_below_min_value",
        ),
        (
            EMBED,
            json!({"model": "text-embedding-3-small", "input": "x", "encoding_format": "hex"}),
            "encoding_format",
            "invalid_value",
        ),
    ];
    for (path, body, param, code) in cases {
        let r = post(addr, path, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let e = &r.json()["error"];
        assert_eq!(e["type"], "invalid_request_error", "{body}: {e}");
        assert_eq!(e["param"], param, "{body}: {e}");
        assert_eq!(e["code"], code, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    // Spec-valid edge cases pass: whole-number floats as integers, null function content.
    for ok in [
        chat_body(json!({"max_completion_tokens": 16.0, "n": 2.0})),
        chat_body(json!({"messages": [{"role": "function", "name": "f", "content": null}]})),
        chat_body(
            json!({"messages": [{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}),
        ),
    ] {
        assert_eq!(post(addr, CHAT, &ok).status, 200, "{ok}");
    }
}

#[test]
fn a_huge_dimensions_request_gets_a_400_and_the_mock_stays_up() {
    let addr = mock("openai");
    let huge = json!({"model": "text-embedding-3-large", "input": "x", "dimensions": 1_000_000_000_001u64});
    let r = post(addr, EMBED, &huge);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "integer_above_max_value");
    assert_eq!(r.json()["error"]["param"], "dimensions");
    let beyond_model = json!({"model": "text-embedding-3-small", "input": "x", "dimensions": 3072});
    assert_eq!(post(addr, EMBED, &beyond_model).status, 400);
    let fine = json!({"model": "text-embedding-3-large", "input": "x", "dimensions": 3072});
    let r = post(addr, EMBED, &fine);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"][0]["embedding"].as_array().map(Vec::len), Some(3072));
}

#[test]
fn the_largest_embeddings_request_the_api_allows_is_answered_whole() {
    let addr = mock("openai");
    let body = json!({"model": "text-embedding-3-large", "input": vec!["x"; 2048], "dimensions": 3072});
    let r = post(addr, EMBED, &body);
    assert_eq!(r.status, 200);
    let v = r.json();
    let data = v["data"].as_array().expect("data");
    assert_eq!(data.len(), 2048);
    assert_eq!(data[2047]["index"], 2047);
    assert_eq!(data[2047]["embedding"].as_array().map(Vec::len), Some(3072));
}

#[test]
fn oversized_and_lying_bodies_are_refused_without_allocating_and_the_mock_stays_up() {
    let addr = mock("openai");
    // A content-length over the limit: 413 before the body is read.
    let head = format!("POST {CHAT} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n", MAX_BODY_BYTES + 1);
    let r = http::send_raw(addr, head.as_bytes()).expect("answer");
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "request_too_large");
    // A chunk claiming a terabyte, then the connection closes: no answer, no abort.
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(
        format!("POST {CHAT} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nffffffffff\r\nabc")
            .as_bytes(),
    )
    .expect("send");
    s.shutdown(std::net::Shutdown::Write).expect("half close");
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    // Titan with dimensions Bedrock does not offer: its own error shape.
    let titan = json!({"inputText": "x", "dimensions": 1_000_000_000_001u64});
    let r = post(addr, "/model/amazon.titan-embed-text-v2:0/invoke", &titan);
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-amzn-errortype"), Some("ValidationException"));
    assert_eq!(post(addr, CHAT, &chat_body(json!({}))).status, 200, "the mock is still up");
}

#[test]
fn recent_requests_are_listed_with_secrets_masked_and_can_be_cleared() {
    let addr = mock("anthropic");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", "Bearer sk-live-0123456789abcdef"),
        ("x-api-key", "sk-ant-0123456789abcdef"),
        ("x-session-token", "tok-0123456789abcdef"),
        ("x-trace", "visible"),
    ];
    let body = chat_body(json!({})).to_string();
    let r = http::request(addr, "POST", CHAT, &headers, body.as_bytes()).expect("chat");
    assert_eq!(r.status, 200);
    // Control requests are not recorded.
    http::request(addr, "GET", "/mock/faults", &[], b"").expect("faults");
    let list = http::request(addr, "GET", "/mock/requests", &[], b"").expect("list").json();
    let reqs = list["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 1, "{list}");
    let got = &reqs[0];
    assert_eq!((got["method"].as_str(), got["path"].as_str()), (Some("POST"), Some(CHAT)));
    assert_eq!(got["body"]["messages"][0]["content"], "hi", "the body as JSON");
    let h = &got["headers"];
    assert_eq!(h["authorization"], "Bearer sk-l…");
    assert_eq!(h["x-api-key"], "sk-a…");
    assert_eq!(h["x-session-token"], "tok-…");
    assert_eq!(h["x-trace"], "visible");
    assert!(!list.to_string().contains("0123456789abcdef"), "{list}");
    http::request(addr, "DELETE", "/mock/requests", &[], b"").expect("clear");
    let list = http::request(addr, "GET", "/mock/requests", &[], b"").expect("list").json();
    assert_eq!(list["requests"], json!([]));
}

#[test]
fn faults_answer_like_a_real_provider_and_say_they_come_from_the_mock() {
    let addr = mock("xai");
    for (status, kind, code) in [
        (429, "rate_limit_error", "rate_limit_exceeded"),
        (500, "server_error", "server_error"),
        (503, "server_error", "server_error"),
    ] {
        let s = status.to_string();
        let body = chat_body(json!({})).to_string();
        let r = http::request(addr, "POST", CHAT, &[("x-mock-status", s.as_str())], body.as_bytes())
            .expect("chat");
        assert_eq!(r.status, status);
        let e = &r.json()["error"];
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some(kind), Some(code)), "{e}");
        assert!(e["message"].as_str().is_some_and(|m| m.contains("mock")), "{e}");
        assert!(e.as_object().is_some_and(|m| m.contains_key("param")), "{e}");
    }
    let plan = http::post_json(addr, "/mock/faults", r#"{"status":529,"count":1}"#).expect("plan");
    assert_eq!(plan.status, 200);
    let r = post(addr, CHAT, &chat_body(json!({})));
    assert_eq!(r.json()["error"]["type"], "overloaded_error");
    assert_eq!(post(addr, CHAT, &chat_body(json!({}))).status, 200, "healed after count");
}

// ---- The native protocols: Bedrock Converse, Anthropic Messages, OpenAI Responses ----

const CONVERSE: &str = "/model/anthropic.claude-sonnet-4-5-v1%3A0/converse";
const CONVERSE_STREAM: &str = "/model/anthropic.claude-sonnet-4-5-v1%3A0/converse-stream";
const MESSAGES: &str = "/v1/messages";
/// The signature of the mock Anthropic's thinking, the only one it takes back.
const MOCK_SIGNATURE: &str = "bW9jay1zaWduYXR1cmU=";
const RESPONSES: &str = "/v1/responses";
/// A one-pixel PNG, base64.
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/// The headers a real client of each protocol sends.
fn native_headers(path: &str) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![("content-type", "application/json")];
    if path.starts_with("/model/") {
        h.push(("authorization", "Bearer bedrock-api-key-0123456789"));
    } else if path == MESSAGES {
        h.extend([("x-api-key", "sk-ant-0123456789abcdef"), ("anthropic-version", "2023-06-01")]);
    } else {
        h.push(("authorization", "Bearer sk-0123456789abcdef"));
    }
    h
}

fn native(addr: SocketAddr, path: &str, body: &Value) -> Response {
    let headers = native_headers(path);
    http::request(addr, "POST", path, &headers, body.to_string().as_bytes()).expect("request")
}

/// `name: data` pairs of an SSE body; each data's `type` must be its event name.
fn named_events(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let name = block.lines().find_map(|l| l.strip_prefix("event: ")).expect("event line");
        let data = block.lines().find_map(|l| l.strip_prefix("data: ")).expect("data line");
        let v: Value = serde_json::from_str(data).expect("event data is JSON");
        assert_eq!(v["type"], name, "{block}");
        out.push(v);
    }
    out
}

/// The frames of an AWS event stream, both CRCs checked: (`:event-type`, payload).
fn decode_event_stream(mut bytes: &[u8]) -> Vec<(String, Value)> {
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let total = be(bytes);
        let headers_len = be(&bytes[4..]);
        assert_eq!(be(&bytes[8..]) as u32, crc32fast::hash(&bytes[..8]), "prelude crc");
        let frame = &bytes[..total];
        assert_eq!(be(&frame[total - 4..]) as u32, crc32fast::hash(&frame[..total - 4]), "message crc");
        let mut h = &frame[12..12 + headers_len];
        let mut headers = Vec::new();
        while !h.is_empty() {
            let n = h[0] as usize;
            let name = String::from_utf8(h[1..1 + n].to_vec()).expect("name");
            assert_eq!(h[1 + n], 7, "string header");
            let len = u16::from_be_bytes([h[2 + n], h[3 + n]]) as usize;
            let value = String::from_utf8(h[4 + n..4 + n + len].to_vec()).expect("value");
            headers.push((name, value));
            h = &h[4 + n + len..];
        }
        let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(header(":message-type").as_deref(), Some("event"));
        assert_eq!(header(":content-type").as_deref(), Some("application/json"));
        let payload = serde_json::from_slice(&frame[12 + headers_len..total - 4]).expect("payload");
        out.push((header(":event-type").expect("event type"), payload));
        bytes = &bytes[total..];
    }
    out
}

fn weather_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
}

// Bedrock Converse bodies.
fn converse(messages: Value) -> Value {
    json!({"messages": messages, "inferenceConfig": {"maxTokens": 100, "temperature": 0.5}})
}
fn converse_user(text: &str) -> Value {
    converse(json!([{"role": "user", "content": [{"text": text}]}]))
}
fn converse_tools() -> Value {
    json!({"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": weather_schema()}}}]})
}
fn converse_with_tools(text: &str) -> Value {
    let mut b = converse_user(text);
    b["toolConfig"] = converse_tools();
    b
}
fn converse_tool_round() -> Value {
    let mut b = converse(json!([
        {"role": "user", "content": [{"text": "weather?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}, {"json": {"c": 21}}], "status": "success"}}]},
    ]));
    b["toolConfig"] = converse_tools();
    b
}

// Anthropic Messages bodies.
fn anthropic(messages: Value) -> Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 2048, "messages": messages})
}
fn anthropic_user(text: &str) -> Value {
    anthropic(json!([{"role": "user", "content": text}]))
}
fn anthropic_with_tools(text: &str) -> Value {
    let mut b = anthropic_user(text);
    b["tools"] = json!([{"name": "get_weather", "description": "d", "input_schema": weather_schema()}]);
    b
}
fn anthropic_tool_round() -> Value {
    let mut b = anthropic(json!([
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}, {"type": "text", "text": "and now?"}]},
    ]));
    b["tools"] = json!([{"name": "get_weather", "input_schema": weather_schema()}]);
    b
}

// OpenAI Responses bodies.
fn responses(input: Value) -> Value {
    json!({"model": "gpt-5", "input": input, "max_output_tokens": 200})
}
fn responses_with_tools(text: &str) -> Value {
    let mut b = responses(json!(text));
    b["tools"] = json!([{"type": "function", "name": "get_weather", "parameters": weather_schema()}]);
    b
}
fn responses_tool_round() -> Value {
    let mut b = responses(json!([
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]));
    b["tools"] = json!([{"type": "function", "name": "get_weather", "parameters": weather_schema()}]);
    b
}

/// What a reply says, protocol aside: (reasoning, text, tool name and arguments, stop).
#[derive(Debug, Default, PartialEq)]
struct Said {
    reasoning: String,
    text: String,
    tool: Option<(String, Value)>,
    stop: String,
}

fn said_converse(v: &Value) -> Said {
    let mut s = Said { stop: v["stopReason"].as_str().unwrap_or_default().into(), ..Said::default() };
    assert_eq!(v["output"]["message"]["role"], "assistant", "{v}");
    for b in v["output"]["message"]["content"].as_array().expect("content") {
        s.reasoning += b["reasoningContent"]["reasoningText"]["text"].as_str().unwrap_or_default();
        s.text += b["text"].as_str().unwrap_or_default();
        if let Some(u) = b.get("toolUse") {
            assert!(u["toolUseId"].is_string());
            s.tool = Some((u["name"].as_str().unwrap_or_default().into(), u["input"].clone()));
        }
    }
    let u = &v["usage"];
    assert_eq!(
        u["totalTokens"],
        u["inputTokens"].as_u64().unwrap_or(0) + u["outputTokens"].as_u64().unwrap_or(0)
    );
    assert!(v["metrics"]["latencyMs"].is_u64(), "{v}");
    s
}

fn said_converse_stream(events: &[(String, Value)]) -> Said {
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"messageStart"), "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["messageStop", "metadata"], "{kinds:?}");
    assert_eq!(events[0].1, json!({"role": "assistant"}));
    let mut s = Said::default();
    let mut args = String::new();
    let mut name = None;
    let mut input_pieces = 0;
    for (kind, p) in events {
        match kind.as_str() {
            "contentBlockStart" => {
                assert!(p["contentBlockIndex"].is_u64());
                name = p["start"]["toolUse"]["name"].as_str().map(String::from);
                assert!(p["start"]["toolUse"]["toolUseId"].is_string(), "{p}");
            }
            "contentBlockDelta" => {
                let d = &p["delta"];
                s.text += d["text"].as_str().unwrap_or_default();
                s.reasoning += d["reasoningContent"]["text"].as_str().unwrap_or_default();
                if let Some(i) = d["toolUse"]["input"].as_str() {
                    args += i;
                    input_pieces += 1;
                }
            }
            "messageStop" => s.stop = p["stopReason"].as_str().unwrap_or_default().into(),
            "metadata" => {
                assert!(p["usage"]["totalTokens"].is_u64() && p["metrics"]["latencyMs"].is_u64(), "{p}")
            }
            _ => {}
        }
    }
    if let Some(name) = name {
        assert!(input_pieces >= 2, "tool input in pieces");
        s.tool = Some((name, serde_json::from_str(&args).expect("input JSON")));
    }
    s
}

fn said_anthropic(v: &Value) -> Said {
    for k in ["id", "type", "role", "model", "content", "stop_reason", "usage"] {
        assert!(v.get(k).is_some(), "{k}: {v}");
    }
    assert_eq!((v["type"].as_str(), v["role"].as_str()), (Some("message"), Some("assistant")));
    assert!(v.as_object().is_some_and(|m| m.get("stop_sequence") == Some(&Value::Null)));
    for k in ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] {
        assert!(v["usage"][k].is_u64(), "{k}: {v}");
    }
    let mut s = Said { stop: v["stop_reason"].as_str().unwrap_or_default().into(), ..Said::default() };
    for b in v["content"].as_array().expect("content") {
        match b["type"].as_str() {
            Some("thinking") => {
                assert!(b["signature"].is_string());
                s.reasoning += b["thinking"].as_str().unwrap_or_default();
            }
            Some("text") => s.text += b["text"].as_str().unwrap_or_default(),
            Some("tool_use") => {
                s.tool = Some((b["name"].as_str().unwrap_or_default().into(), b["input"].clone()))
            }
            other => panic!("block {other:?}"),
        }
    }
    s
}

fn said_anthropic_stream(events: &[Value]) -> Said {
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"message_start"), "{kinds:?}");
    assert_eq!(&kinds[kinds.len() - 2..], ["message_delta", "message_stop"], "{kinds:?}");
    assert!(kinds.contains(&"ping"), "{kinds:?}");
    let mut s = Said::default();
    let mut args = String::new();
    let mut name = None;
    let (mut pieces, mut signed) = (0, false);
    for e in events {
        match e["type"].as_str().unwrap_or_default() {
            "content_block_start" if e["content_block"]["type"] == "tool_use" => {
                name = e["content_block"]["name"].as_str().map(String::from);
            }
            "content_block_delta" => {
                let d = &e["delta"];
                match d["type"].as_str().unwrap_or_default() {
                    "text_delta" => s.text += d["text"].as_str().unwrap_or_default(),
                    "thinking_delta" => s.reasoning += d["thinking"].as_str().unwrap_or_default(),
                    "signature_delta" => signed = true,
                    "input_json_delta" => {
                        args += d["partial_json"].as_str().unwrap_or_default();
                        pieces += 1;
                    }
                    other => panic!("delta {other}"),
                }
            }
            "message_delta" => {
                s.stop = e["delta"]["stop_reason"].as_str().unwrap_or_default().into();
                assert!(e["usage"]["output_tokens"].is_u64(), "{e}");
            }
            _ => {}
        }
    }
    assert_eq!(signed, !s.reasoning.is_empty(), "a thinking block is signed");
    if let Some(name) = name {
        assert!(pieces >= 2, "partial_json in pieces");
        s.tool = Some((name, serde_json::from_str(&args).expect("input JSON")));
    }
    s
}

fn said_responses(v: &Value) -> Said {
    assert_eq!((v["object"].as_str(), v["status"].as_str()), (Some("response"), Some("completed")), "{v}");
    assert!(v["id"].as_str().is_some_and(|i| i.starts_with("resp_")) && v["created_at"].is_u64());
    let u = &v["usage"];
    for k in ["input_tokens", "output_tokens", "total_tokens"] {
        assert!(u[k].is_u64(), "{k}: {u}");
    }
    assert!(
        u["input_tokens_details"]["cached_tokens"].is_u64()
            && u["output_tokens_details"]["reasoning_tokens"].is_u64()
    );
    let mut s = Said::default();
    for item in v["output"].as_array().expect("output") {
        match item["type"].as_str() {
            Some("reasoning") => {
                for p in item["summary"].as_array().expect("summary") {
                    s.reasoning += p["text"].as_str().unwrap_or_default();
                }
            }
            Some("message") => {
                for p in item["content"].as_array().expect("content") {
                    assert_eq!(p["type"], "output_text");
                    s.text += p["text"].as_str().unwrap_or_default();
                }
            }
            Some("function_call") => {
                assert!(item["call_id"].is_string());
                let args =
                    serde_json::from_str(item["arguments"].as_str().expect("arguments")).expect("JSON");
                s.tool = Some((item["name"].as_str().unwrap_or_default().into(), args));
                s.stop = "tool_use".into();
            }
            other => panic!("item {other:?}"),
        }
    }
    if s.stop.is_empty() {
        s.stop = "end_turn".into();
    }
    s
}

fn said_responses_stream(events: &[Value]) -> Said {
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(&kinds[..2], ["response.created", "response.in_progress"], "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"response.completed"), "{kinds:?}");
    for (n, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], n, "{e}");
    }
    let mut s = Said::default();
    let mut pieces = 0;
    for e in events {
        match e["type"].as_str().unwrap_or_default() {
            "response.output_text.delta" => s.text += e["delta"].as_str().unwrap_or_default(),
            "response.reasoning_summary_text.delta" => s.reasoning += e["delta"].as_str().unwrap_or_default(),
            "response.function_call_arguments.delta" => pieces += 1,
            "response.function_call_arguments.done" => {
                let args = serde_json::from_str(e["arguments"].as_str().expect("arguments")).expect("JSON");
                s.tool = Some((e["name"].as_str().unwrap_or_default().into(), args));
            }
            _ => {}
        }
    }
    if s.tool.is_some() {
        assert!(pieces >= 2, "arguments in pieces");
        assert!(kinds.contains(&"response.output_item.done"));
    }
    // The stream's text is the same as the completed response's.
    let whole = said_responses(&events[events.len() - 1]["response"]);
    assert_eq!((whole.text.as_str(), whole.reasoning.as_str()), (s.text.as_str(), s.reasoning.as_str()));
    s.stop = whole.stop;
    s
}

/// One request of every protocol, whole and streamed, gets `want`.
fn check_all(provider: &str, cases: [(Value, Value, Value); 1], want: &dyn Fn(&str) -> Said) {
    let addr = mock(provider);
    let [(bedrock, anthropic_body, responses_body)] = cases;
    let r = native(addr, CONVERSE, &bedrock);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(said_converse(&r.json()), want("bedrock"), "{bedrock}");
    let r = native(addr, CONVERSE_STREAM, &bedrock);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/vnd.amazon.eventstream"));
    assert_eq!(said_converse_stream(&decode_event_stream(&r.body)), want("bedrock stream"));
    let r = native(addr, MESSAGES, &anthropic_body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(said_anthropic(&r.json()), want("anthropic"), "{anthropic_body}");
    let mut streamed = anthropic_body.clone();
    streamed["stream"] = json!(true);
    let r = native(addr, MESSAGES, &streamed);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(said_anthropic_stream(&named_events(&r.text())), want("anthropic stream"));
    let r = native(addr, RESPONSES, &responses_body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(said_responses(&r.json()), want("responses"), "{responses_body}");
    let mut streamed = responses_body.clone();
    streamed["stream"] = json!(true);
    let r = native(addr, RESPONSES, &streamed);
    assert_eq!(said_responses_stream(&named_events(&r.text())), want("responses stream"));
}

fn text_said(text: &str) -> Said {
    Said { text: text.into(), stop: "end_turn".into(), ..Said::default() }
}

#[test]
fn a_plain_request_gets_the_plain_reply_in_every_native_protocol() {
    let cases = [(converse_user("hi"), anthropic_user("hi"), responses(json!("hi")))];
    check_all("acme", cases, &|_| text_said("mock reply from acme"));
}

#[test]
fn an_image_request_is_answered_in_every_native_protocol() {
    let cases = [(
        converse(
            json!([{"role": "user", "content": [{"text": "what is it?"}, {"image": {"format": "png", "source": {"bytes": PNG}}}]}]),
        ),
        anthropic(json!([{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            {"type": "text", "text": "what is it?"},
        ]}])),
        responses(json!([{"role": "user", "content": [
            {"type": "input_text", "text": "what is it?"},
            {"type": "input_image", "image_url": format!("data:image/png;base64,{PNG}"), "detail": "auto"},
        ]}])),
    )];
    check_all("acme", cases, &|_| text_said("mock reply from acme"));
}

#[test]
fn mock_tool_calls_the_first_declared_tool_with_arguments_from_its_schema() {
    let cases = [(
        converse_with_tools("weather? mock:tool"),
        anthropic_with_tools("weather? mock:tool"),
        responses_with_tools("weather? mock:tool"),
    )];
    check_all("acme", cases, &|_| Said {
        tool: Some(("get_weather".into(), json!({"city": "Paris"}))),
        stop: "tool_use".into(),
        ..Said::default()
    });
}

#[test]
fn a_tool_result_in_the_last_user_turn_gets_the_reply_after_the_tool() {
    let cases = [(converse_tool_round(), anthropic_tool_round(), responses_tool_round())];
    check_all("acme", cases, &|_| text_said("mock reply from acme after tool get_weather"));
}

#[test]
fn mock_reasoning_puts_a_reasoning_block_before_the_text() {
    let mut thinking = anthropic_user("think mock:reasoning");
    thinking["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let mut effort = responses(json!("think mock:reasoning"));
    effort["reasoning"] = json!({"effort": "high", "summary": "auto"});
    let cases = [(converse_user("think mock:reasoning"), thinking, effort)];
    check_all("acme", cases, &|_| Said {
        reasoning: "mock reasoning from acme".into(),
        ..text_said("mock reply from acme")
    });
}

#[test]
fn mock_overflow_gets_each_providers_own_context_length_error() {
    let addr = mock("acme");
    let r = native(addr, CONVERSE, &converse_user("mock:overflow"));
    assert_eq!((r.status, r.header("x-amzn-errortype")), (400, Some("ValidationException")));
    assert_eq!(r.json(), json!({"message": "Input is too long for requested model."}));
    let r = native(addr, MESSAGES, &anthropic_user("mock:overflow"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert_eq!(r.json()["error"]["message"], "prompt is too long: 250000 tokens > 200000 maximum");
    let r = native(addr, RESPONSES, &responses(json!("mock:overflow")));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "context_length_exceeded");
}

#[test]
fn bedrock_decodes_the_model_id_and_reports_cache_tokens_for_cache_points() {
    let addr = mock("bedrock");
    let mut body = converse_user("hi");
    body["system"] = json!([{"text": "be brief"}, {"cachePoint": {"type": "default"}}]);
    let r = native(addr, CONVERSE, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-mock-model"), Some("anthropic.claude-sonnet-4-5-v1:0"));
    assert!(r.json()["usage"]["cacheReadInputTokens"].as_u64().is_some_and(|t| t > 0), "{}", r.text());
}

#[test]
fn anthropic_reports_cache_tokens_when_the_request_marks_cache_control() {
    let addr = mock("anthropic");
    let mut body = anthropic_user(&"long context ".repeat(50));
    body["system"] =
        json!([{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]);
    let u = native(addr, MESSAGES, &body).json()["usage"].clone();
    assert!(u["cache_read_input_tokens"].as_u64().is_some_and(|t| t > 0), "{u}");
    assert!(u["cache_creation_input_tokens"].as_u64().is_some_and(|t| t > 0), "{u}");
    let u = native(addr, MESSAGES, &anthropic_user("hi")).json()["usage"].clone();
    assert_eq!(
        (u["cache_read_input_tokens"].as_u64(), u["cache_creation_input_tokens"].as_u64()),
        (Some(0), Some(0))
    );
}

/// A body with `key` replaced (or removed, when `value` is null) at a JSON pointer's parent.
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = body.pointer_mut(parent).expect("parent");
    match target {
        Value::Object(m) if value.is_null() => drop(m.remove(key)),
        Value::Object(m) => drop(m.insert(key.to_string(), value)),
        Value::Array(a) => a[key.parse::<usize>().expect("index")] = value,
        _ => panic!("{pointer}"),
    }
    body
}

#[test]
fn bedrock_refuses_what_converse_does_not_allow_with_a_validation_exception() {
    let addr = mock("bedrock");
    let user = converse_user("hi");
    let round = converse_tool_round();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown top-level member",
            with(user.clone(), "/temperature", json!(0.5)),
            "extraneous key [temperature]",
        ),
        ("no messages", with(user.clone(), "/messages", json!([])), "must start with a user message"),
        (
            "first turn not user",
            converse(json!([{"role": "assistant", "content": [{"text": "x"}]}])),
            "must start with a user message",
        ),
        (
            "a system role in messages",
            with(user.clone(), "/messages/0/role", json!("system")),
            "role must be one of",
        ),
        (
            "two user turns in a row",
            converse(
                json!([{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]),
            ),
            "must alternate",
        ),
        ("empty content", with(user.clone(), "/messages/0/content", json!([])), "is empty"),
        ("blank text", with(user.clone(), "/messages/0/content/0/text", json!("")), "is blank"),
        (
            "two members in a block",
            with(
                user.clone(),
                "/messages/0/content/0/image",
                json!({"format": "png", "source": {"bytes": PNG}}),
            ),
            "exactly one of",
        ),
        (
            "unknown block",
            with(user.clone(), "/messages/0/content/0", json!({"video_url": "x"})),
            "extraneous key [video_url]",
        ),
        (
            "image format",
            with(
                user.clone(),
                "/messages/0/content/0",
                json!({"image": {"format": "bmp", "source": {"bytes": PNG}}}),
            ),
            "format must be one of",
        ),
        (
            "image bytes not base64",
            with(
                user.clone(),
                "/messages/0/content/0",
                json!({"image": {"format": "png", "source": {"bytes": "not base64!"}}}),
            ),
            "base64",
        ),
        ("maxTokens 0", with(user.clone(), "/inferenceConfig/maxTokens", json!(0)), "maxTokens"),
        (
            "temperature above 1",
            with(user.clone(), "/inferenceConfig/temperature", json!(1.5)),
            "temperature",
        ),
        ("topP below 0", with(user.clone(), "/inferenceConfig/topP", json!(-0.1)), "topP"),
        (
            "stopSequences not strings",
            with(user.clone(), "/inferenceConfig/stopSequences", json!([1])),
            "stopSequences",
        ),
        (
            "unknown inferenceConfig member",
            with(user.clone(), "/inferenceConfig/max_tokens", json!(5)),
            "extraneous key [max_tokens]",
        ),
        ("system not a list", with(user.clone(), "/system", json!("be brief")), "system must be a list"),
        (
            "tool blocks without toolConfig",
            with(round.clone(), "/toolConfig", Value::Null),
            "toolConfig field must be defined",
        ),
        (
            "toolResult for an unknown id",
            with(round.clone(), "/messages/2/content/0/toolResult/toolUseId", json!("t9")),
            "matches no toolUse",
        ),
        (
            "toolUse without its result",
            with(round.clone(), "/messages/2/content/0", json!({"text": "no result"})),
            "Expected toolResult blocks",
        ),
        (
            "toolUse input not an object",
            with(round.clone(), "/messages/1/content/0/toolUse/input", json!("{}")),
            "input is required",
        ),
        (
            "toolResult status",
            with(round.clone(), "/messages/2/content/0/toolResult/status", json!("ok")),
            "status must be one of",
        ),
        (
            "toolResult content item",
            with(round.clone(), "/messages/2/content/0/toolResult/content/0", json!({"html": "x"})),
            "extraneous key [html]",
        ),
        (
            "text in a turn of tool results",
            with(
                round.clone(),
                "/messages/2/content",
                json!([{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}, {"text": "and now?"}]),
            ),
            "cannot be provided in the same turn",
        ),
        (
            "toolResult with no content",
            with(round.clone(), "/messages/2/content/0/toolResult/content", json!([])),
            "non-empty list",
        ),
        (
            "toolSpec without inputSchema",
            with(round.clone(), "/toolConfig/tools/0/toolSpec/inputSchema", Value::Null),
            "inputSchema is required",
        ),
        (
            "inputSchema.json not an object",
            with(round.clone(), "/toolConfig/tools/0/toolSpec/inputSchema/json", json!("{}")),
            "json must be a JSON object",
        ),
        ("empty tools", with(round.clone(), "/toolConfig/tools", json!([])), "at least 1 tool"),
        (
            "toolChoice of an unknown tool",
            with(round.clone(), "/toolConfig/toolChoice", json!({"tool": {"name": "nope"}})),
            "names no tool",
        ),
        (
            "toolChoice two members",
            with(round.clone(), "/toolConfig/toolChoice", json!({"auto": {}, "any": {}})),
            "exactly one of",
        ),
        (
            "OpenAI-style tool",
            with(
                round.clone(),
                "/toolConfig/tools/0",
                json!({"type": "function", "function": {"name": "f"}}),
            ),
            "extraneous key [",
        ),
    ];
    for (why, body, says) in cases {
        for path in [CONVERSE, CONVERSE_STREAM] {
            let r = native(addr, path, &body);
            assert_eq!(r.status, 400, "{why}: {}", r.text());
            assert_eq!(r.header("x-amzn-errortype"), Some("ValidationException"), "{why}");
            let v = r.json();
            assert!(v["message"].as_str().is_some_and(|m| m.contains(says)), "{why}: {v}");
            assert_eq!(v.as_object().map(|m| m.len()), Some(1), "only message: {v}");
        }
    }
    let bad_json =
        http::request(addr, "POST", CONVERSE, &native_headers(CONVERSE), b"{not json").expect("send");
    assert_eq!(bad_json.status, 400);
    // Spec-valid edges pass: a reasoning block handed back, a cache point, toolChoice any.
    let mut ok = converse_tool_round();
    ok = with(
        ok,
        "/messages/1/content/0",
        json!({"reasoningContent": {"reasoningText": {"text": "hm", "signature": "c2ln"}}}),
    );
    ok["messages"][1]["content"]
        .as_array_mut()
        .expect("content")
        .push(json!({"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}));
    ok["messages"][2]["content"]
        .as_array_mut()
        .expect("content")
        .push(json!({"cachePoint": {"type": "default"}}));
    ok["toolConfig"]["toolChoice"] = json!({"any": {}});
    let r = native(addr, CONVERSE, &ok);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn bedrock_checks_the_signed_payload_hash_against_the_body_it_received() {
    use model_router_tests::mock::native::sha256;
    let addr = mock("bedrock");
    let body = converse_user("hi").to_string();
    let right = sha256::hex(body.as_bytes());
    let send = |headers: &[(&str, &str)]| {
        http::request(addr, "POST", CONVERSE, headers, body.as_bytes()).expect("request")
    };
    let sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
    let r = send(&[("authorization", sigv4), ("x-amz-content-sha256", right.as_str())]);
    assert_eq!(r.status, 200, "right hash: {}", r.text());
    let r = send(&[("authorization", sigv4), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]);
    assert_eq!(r.status, 200, "unsigned payload");
    let wrong = sha256::hex(b"{}");
    let r = send(&[("authorization", sigv4), ("x-amz-content-sha256", wrong.as_str())]);
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-amzn-errortype"), Some("InvalidSignatureException"));
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The request signature we calculated does not match"))
    );
    let r = send(&[]);
    assert_eq!((r.status, r.header("x-amzn-errortype")), (403, Some("MissingAuthenticationTokenException")));
}

#[test]
fn anthropic_refuses_what_the_messages_api_does_not_allow() {
    let addr = mock("anthropic");
    let user = anthropic_user("hi");
    let round = anthropic_tool_round();
    let mut thinking = anthropic_user("hi");
    thinking["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let mut thinking_round = round.clone();
    thinking_round["thinking"] = json!({"type": "enabled", "budget_tokens": 1024});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no model", with(user.clone(), "/model", Value::Null), "model: Field required"),
        ("no max_tokens", with(user.clone(), "/max_tokens", Value::Null), "max_tokens: Field required"),
        ("max_tokens negative", with(user.clone(), "/max_tokens", json!(-1)), "max_tokens:"),
        ("unknown top-level key", with(user.clone(), "/n", json!(1)), "n: Extra inputs"),
        (
            "OpenAI's max_completion_tokens",
            with(user.clone(), "/max_completion_tokens", json!(10)),
            "max_completion_tokens: Extra inputs",
        ),
        ("no messages", with(user.clone(), "/messages", json!([])), "at least one message"),
        (
            "a system role in messages",
            with(user.clone(), "/messages/0/role", json!("system")),
            "messages.0.role",
        ),
        ("first turn not user", anthropic(json!([{"role": "assistant", "content": "x"}])), "first message"),
        (
            "empty text block",
            with(user.clone(), "/messages/0/content", json!([{"type": "text", "text": ""}])),
            "must be non-empty",
        ),
        (
            "OpenAI-style image part",
            with(
                user.clone(),
                "/messages/0/content",
                json!([{"type": "image_url", "image_url": {"url": "https://x"}}]),
            ),
            "'image_url'",
        ),
        (
            "image media type",
            with(
                user.clone(),
                "/messages/0/content",
                json!([{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": PNG}}]),
            ),
            "media_type",
        ),
        (
            "image data not base64",
            with(
                user.clone(),
                "/messages/0/content",
                json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "data:image/png;base64,xx"}}]),
            ),
            "base64",
        ),
        (
            "temperature above 1",
            with(user.clone(), "/temperature", json!(1.5)),
            "temperature: Input should be less than or equal to 1",
        ),
        ("stop_sequences not a list", with(user.clone(), "/stop_sequences", json!("END")), "stop_sequences"),
        (
            "system as OpenAI messages",
            with(user.clone(), "/system", json!([{"role": "system", "content": "x"}])),
            "system.0",
        ),
        (
            "tool without input_schema",
            with(round.clone(), "/tools/0/input_schema", Value::Null),
            "input_schema: Field required",
        ),
        (
            "OpenAI-style tool",
            with(round.clone(), "/tools/0", json!({"type": "function", "function": {"name": "get_weather"}})),
            "tools.0",
        ),
        ("tool_choice as a string", with(round.clone(), "/tool_choice", json!("auto")), "tool_choice"),
        (
            "tool_choice of an unknown tool",
            with(round.clone(), "/tool_choice", json!({"type": "tool", "name": "nope"})),
            "tool_choice.name",
        ),
        (
            "tool_result for an unknown id",
            with(round.clone(), "/messages/2/content/0/tool_use_id", json!("toolu_9")),
            "unexpected `tool_use_id`",
        ),
        (
            "tool_use without its result",
            with(round.clone(), "/messages/2/content/0", json!({"type": "text", "text": "no"})),
            "without `tool_result` blocks immediately after: toolu_1",
        ),
        (
            "tool_result after text",
            with(
                round.clone(),
                "/messages/2/content",
                json!([{"type": "text", "text": "x"}, {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]),
            ),
            "must come before any other content",
        ),
        (
            "tool_use input a string",
            with(round.clone(), "/messages/1/content/0/input", json!("{\"city\":\"Paris\"}")),
            "input: Input should be a valid dictionary",
        ),
        (
            "tool_use in a user turn",
            with(
                user.clone(),
                "/messages/0/content",
                json!([{"type": "tool_use", "id": "t", "name": "f", "input": {}}]),
            ),
            "only allowed in assistant messages",
        ),
        (
            "budget below 1024",
            with(thinking.clone(), "/thinking/budget_tokens", json!(1000)),
            "greater than or equal to 1024",
        ),
        (
            "budget not below max_tokens",
            with(thinking.clone(), "/max_tokens", json!(1024)),
            "must be greater than `thinking.budget_tokens`",
        ),
        (
            "temperature with thinking",
            with(thinking.clone(), "/temperature", json!(0.5)),
            "`temperature` may only be set to 1",
        ),
        (
            "forced tool with thinking",
            with(
                with(thinking_round.clone(), "/tool_choice", json!({"type": "any"})),
                "/messages/1/content/0",
                json!({"type": "thinking", "thinking": "t", "signature": MOCK_SIGNATURE}),
            ),
            "forces tool use",
        ),
        (
            "thinking signed by someone else",
            with(
                thinking_round.clone(),
                "/messages/1/content/0",
                json!({"type": "thinking", "thinking": "t", "signature": "c2ln"}),
            ),
            "Invalid `signature` in `thinking` block",
        ),
        (
            "thinking on, assistant tool turn without its thinking block",
            thinking_round.clone(),
            "Expected `thinking` or `redacted_thinking`",
        ),
        (
            "cache_control type",
            with(round.clone(), "/tools/0/cache_control", json!({"type": "persistent"})),
            "cache_control.type",
        ),
        (
            "thinking without signature",
            with(
                user.clone(),
                "/messages",
                json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]}]),
            ),
            "signature: Field required",
        ),
    ];
    for (why, body, says) in cases {
        let r = native(addr, MESSAGES, &body);
        assert_eq!(r.status, 400, "{why}: {}", r.text());
        assert!(r.header("request-id").is_some(), "{why}");
        let v = r.json();
        assert_eq!(v["type"], "error", "{why}: {v}");
        assert_eq!(v["error"]["type"], "invalid_request_error", "{why}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains(says)), "{why}: {v}");
    }
    // Headers: the version is required, and a key.
    let body = user.to_string();
    let r = http::request(
        addr,
        "POST",
        MESSAGES,
        &[("x-api-key", "k"), ("content-type", "application/json")],
        body.as_bytes(),
    )
    .expect("request");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"].as_str().is_some_and(|m| m.contains("anthropic-version")));
    let r = http::request(addr, "POST", MESSAGES, &[("anthropic-version", "2023-06-01")], body.as_bytes())
        .expect("request");
    assert_eq!((r.status, r.json()["error"]["type"].as_str()), (401, Some("authentication_error")));
    // Documented edges pass: consecutive same-role turns are combined, max_tokens 0 pre-warms
    // the cache, a prefilled final assistant turn, thinking handed back before a tool use.
    let mut thinking_ok = thinking_round.clone();
    thinking_ok["messages"][1]["content"]
        .as_array_mut()
        .expect("content")
        .insert(0, json!({"type": "thinking", "thinking": "hm", "signature": MOCK_SIGNATURE}));
    for (why, ok) in [
        (
            "consecutive user turns",
            anthropic(json!([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])),
        ),
        ("max_tokens 0", with(user.clone(), "/max_tokens", json!(0))),
        (
            "prefill",
            anthropic(
                json!([{"role": "user", "content": "a"}, {"role": "assistant", "content": "The answer is"}]),
            ),
        ),
        ("thinking handed back", thinking_ok),
        ("tool_choice none", with(round.clone(), "/tool_choice", json!({"type": "none"}))),
    ] {
        let r = native(addr, MESSAGES, &ok);
        assert_eq!(r.status, 200, "{why}: {}", r.text());
    }
}

#[test]
fn responses_refuses_what_the_responses_api_does_not_allow_in_openais_error_shape() {
    let addr = mock("openai");
    let plain = responses(json!("hi"));
    let round = responses_tool_round();
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(plain.clone(), "/model", Value::Null), "model", "missing_required_parameter"),
        (with(plain.clone(), "/input", Value::Null), "input", "missing_required_parameter"),
        (with(plain.clone(), "/messages", json!([])), "messages", "unknown_parameter"),
        (with(plain.clone(), "/max_tokens", json!(10)), "max_tokens", "unknown_parameter"),
        (
            with(plain.clone(), "/max_output_tokens", json!(15)),
            "max_output_tokens",
            "integer_below_min_value",
        ),
        (
            with(plain.clone(), "/reasoning", json!({"effort": "extreme"})),
            "reasoning.effort",
            "invalid_value",
        ),
        (
            with(plain.clone(), "/text", json!({"format": {"type": "xml"}})),
            "text.format.type",
            "invalid_value",
        ),
        (with(plain.clone(), "/store", json!("yes")), "store", "invalid_type"),
        (with(plain.clone(), "/input", json!(5)), "input", "invalid_type"),
        (
            with(plain.clone(), "/input", json!([{"role": "tool", "content": "x"}])),
            "input[0].role",
            "invalid_value",
        ),
        (
            with(
                plain.clone(),
                "/input",
                json!([{"role": "user", "content": [{"type": "text", "text": "x"}]}]),
            ),
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            with(
                plain.clone(),
                "/input",
                json!([{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]),
            ),
            "input[0].content[0].type",
            "invalid_value",
        ),
        (
            with(plain.clone(), "/input", json!([{"role": "user", "content": [{"type": "input_image"}]}])),
            "input[0].content[0].image_url",
            "missing_required_parameter",
        ),
        (
            with(
                round.clone(),
                "/tools/0",
                json!({"type": "function", "function": {"name": "get_weather", "parameters": {}}}),
            ),
            "tools[0].name",
            "missing_required_parameter",
        ),
        (with(round.clone(), "/input/2/call_id", json!("call_9")), "input", "invalid_value"),
        (
            with(round.clone(), "/input/1/arguments", json!({"city": "Paris"})),
            "input[1].arguments",
            "invalid_type",
        ),
        (
            with(round.clone(), "/input/2/output", Value::Null),
            "input[2].output",
            "missing_required_parameter",
        ),
        (
            with(
                round.clone(),
                "/tool_choice",
                json!({"type": "function", "function": {"name": "get_weather"}}),
            ),
            "tool_choice.name",
            "missing_required_parameter",
        ),
    ];
    for (body, param, code) in cases {
        let r = native(addr, RESPONSES, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let e = &r.json()["error"];
        assert_eq!((e["param"].as_str(), e["code"].as_str()), (Some(param), Some(code)), "{body}: {e}");
        assert_eq!(e["type"], "invalid_request_error");
    }
}

/// Reasoning items carry their encrypted content when `include` asks for it, and with
/// `store: false` an item goes back only with the content the mock wrote, as OpenAI reads it.
#[test]
fn responses_reasoning_goes_back_only_as_its_own_encrypted_content() {
    let addr = mock("openai");
    let mut first = responses_with_tools("weather? mock:tool mock:reasoning");
    first["store"] = json!(false);
    let plain = native(addr, RESPONSES, &first).json();
    assert!(plain["output"][0].get("encrypted_content").is_none(), "{plain}");
    first["include"] = json!(["reasoning.encrypted_content"]);
    for stream in [false, true] {
        let mut b = first.clone();
        b["stream"] = json!(stream);
        let r = native(addr, RESPONSES, &b);
        let item = if stream {
            let events = named_events(&r.text());
            let done = events.iter().find(|e| e["type"] == "response.output_item.done").cloned();
            done.map(|e| e["item"].clone()).unwrap_or_default()
        } else {
            r.json()["output"][0].clone()
        };
        assert_eq!(item["type"], "reasoning", "{}", r.text());
        assert_eq!(item["encrypted_content"], ENCRYPTED_REASONING, "{}", r.text());
    }
    let reasoning = native(addr, RESPONSES, &first).json()["output"][0].clone();
    let mut next = responses_tool_round();
    next["store"] = json!(false);
    let input = next["input"].as_array_mut().expect("input");
    input.insert(1, reasoning.clone());
    assert_eq!(native(addr, RESPONSES, &next).status, 200);
    // Two in a row, or one at the end: each must be followed by the item it produced.
    for at in [1, 4] {
        let mut b = next.clone();
        b["input"].as_array_mut().expect("input").insert(at, reasoning.clone());
        let r = native(addr, RESPONSES, &b);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("without its required following item"), "{}", r.text());
    }
    let cases = [
        (Value::Null, "not found. Items are not persisted when `store` is set to false", Value::Null),
        (json!("gAAAAB-someone-else"), "could not be verified", json!("invalid_encrypted_content")),
    ];
    for (encrypted, says, code) in cases {
        let mut b = next.clone();
        b["input"][1]["encrypted_content"] = encrypted;
        let r = native(addr, RESPONSES, &b);
        assert_eq!(r.status, 400, "{}", r.text());
        let e = &r.json()["error"];
        assert!(e["message"].as_str().is_some_and(|m| m.contains(says)), "{e}");
        assert_eq!(e["code"], code, "{e}");
    }
}

#[test]
fn faults_on_native_paths_answer_in_each_providers_own_shape() {
    let addr = mock("acme");
    let with_status = |path: &str, body: &Value, status: &str| {
        let mut headers = native_headers(path);
        headers.push(("x-mock-status", status));
        http::request(addr, "POST", path, &headers, body.to_string().as_bytes()).expect("request")
    };
    let r = with_status(CONVERSE, &converse_user("hi"), "429");
    assert_eq!((r.status, r.header("x-amzn-errortype")), (429, Some("ThrottlingException")));
    assert!(r.json()["message"].is_string() && r.header("retry-after").is_some());
    let r = with_status(MESSAGES, &anthropic_user("hi"), "529");
    assert_eq!(r.status, 529);
    assert_eq!(r.json()["type"], "error");
    assert_eq!(r.json()["error"]["type"], "overloaded_error");
    let r = with_status(RESPONSES, &responses(json!("hi")), "500");
    assert_eq!((r.status, r.json()["error"]["type"].as_str()), (500, Some("server_error")));
    // A fault plan applies to native paths too.
    let plan = http::post_json(addr, "/mock/faults", r#"{"status":429,"count":2}"#).expect("plan");
    assert_eq!(plan.status, 200);
    let r = native(addr, MESSAGES, &anthropic_user("hi"));
    assert_eq!((r.status, r.json()["error"]["type"].as_str()), (429, Some("rate_limit_error")));
    assert!(r.header("request-id").is_some());
    let r = native(addr, CONVERSE_STREAM, &converse_user("hi"));
    assert_eq!((r.status, r.header("x-amzn-errortype")), (429, Some("ThrottlingException")));
    assert_eq!(native(addr, MESSAGES, &anthropic_user("hi")).status, 200, "healed after count");
    // A cut stream ends early, cleanly.
    http::post_json(addr, "/mock/faults", r#"{"cut_after":60,"count":1}"#).expect("plan");
    let mut body = anthropic_user("hi");
    body["stream"] = json!(true);
    let r = native(addr, MESSAGES, &body);
    assert_eq!((r.status, r.body.len()), (200, 60));
}

#[test]
fn native_requests_are_recorded_with_keys_masked() {
    let addr = mock("anthropic");
    assert_eq!(native(addr, MESSAGES, &anthropic_user("hi")).status, 200);
    assert_eq!(native(addr, CONVERSE, &converse_user("hi")).status, 200);
    let list = http::request(addr, "GET", "/mock/requests", &[], b"").expect("list").json();
    let reqs = list["requests"].as_array().expect("requests");
    assert_eq!(reqs.len(), 2, "{list}");
    assert_eq!(reqs[0]["headers"]["x-api-key"], "sk-a…");
    assert_eq!(reqs[1]["headers"]["authorization"], "Bearer bedr…");
    assert_eq!(reqs[1]["path"], CONVERSE);
    assert!(!list.to_string().contains("0123456789"), "{list}");
}

#[test]
fn a_per_request_delay_paces_native_streams_event_by_event() {
    let addr = mock("acme");
    let mut headers = native_headers(CONVERSE_STREAM);
    headers.push(("x-mock-delay-ms", "30"));
    let body = converse_user("hi").to_string();
    let r = http::request(addr, "POST", CONVERSE_STREAM, &headers, body.as_bytes()).expect("stream");
    assert_eq!(r.status, 200);
    let events = decode_event_stream(&r.body);
    assert!(r.chunks.len() >= events.len(), "one frame per chunk");
    let (first, last) = (r.chunks[0].0, r.chunks[r.chunks.len() - 1].0);
    assert!(last - first >= Duration::from_millis(30 * (events.len() as u64 - 1)), "{:?}", last - first);
}
