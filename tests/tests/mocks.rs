//! The mock providers on their own (no Envoy): replies shaped like the real OpenAI API, requests
//! validated as it validates them, bounded work on hostile requests, and `/mock/requests`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use model_router_tests::http::{self, Response};
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
