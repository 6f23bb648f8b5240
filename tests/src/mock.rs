//! The mock provider: an OpenAI-compatible server that says who it is and what it received.
//!
//! `POST /v1/chat/completions` (JSON, or SSE when `stream: true`, ending with `[DONE]` and a
//! usage chunk when `stream_options.include_usage` is set) and `POST /v1/embeddings`. Every
//! reply names the provider it plays and echoes the exact body it received, model included.
//! Delay: `--delay-ms` for the whole mock, or per request with the `x-mock-delay-ms` header
//! (before the reply, and between SSE events).

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{Head, read_body, read_head};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Provider name the mock played.
    pub provider: String,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Exact body bytes.
    pub body: Vec<u8>,
}

impl Received {
    /// Header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Everything all mock listeners of one process received, in arrival order.
pub type Log = Arc<Mutex<Vec<Received>>>;

/// A running mock listener.
pub struct Mock {
    /// Provider name it plays.
    pub provider: String,
    /// Its address.
    pub addr: SocketAddr,
}

/// Starts a mock for `provider` on `addr` (port 0 picks a free port); requests go to `log`.
pub fn start(provider: &str, addr: &str, delay: Duration, log: Log) -> io::Result<Mock> {
    let listener = TcpListener::bind(addr)?;
    let addr = listener.local_addr()?;
    let name = provider.to_string();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (name, log) = (name.clone(), log.clone());
            thread::spawn(move || {
                let _ = serve(conn, &name, delay, &log);
            });
        }
    });
    Ok(Mock { provider: provider.to_string(), addr })
}

/// Serves one keep-alive connection.
fn serve(conn: TcpStream, provider: &str, delay: Duration, log: &Log) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    while let Some(head) = read_head(&mut r)? {
        let body = read_body(&mut r, &head, false)?;
        let received = Received {
            provider: provider.to_string(),
            method: head.first.clone(),
            path: head.second.clone(),
            headers: head.headers.clone(),
            body,
        };
        if let Ok(mut l) = log.lock() {
            l.push(received.clone());
        }
        let delay =
            head.header("x-mock-delay-ms").and_then(|v| v.parse().ok()).map_or(delay, Duration::from_millis);
        respond(&mut w, &head, &received, delay)?;
    }
    Ok(())
}

fn write_response(w: &mut impl Write, status: u16, provider: &str, body: &Value) -> io::Result<()> {
    let body = body.to_string();
    let reason = if status == 200 { "OK" } else { "Error" };
    write!(
        w,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\nx-mock-provider: {provider}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

fn write_status(w: &mut impl Write, status: u16, provider: &str, body: &Value) -> io::Result<()> {
    let body = body.to_string();
    write!(
        w,
        "HTTP/1.1 {status} Mock\r\ncontent-type: application/json\r\nretry-after: 1\r\nx-mock-provider: {provider}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

fn error(message: &str) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})
}

fn respond(w: &mut TcpStream, head: &Head, req: &Received, delay: Duration) -> io::Result<()> {
    let provider = req.provider.as_str();
    let path = req.path.split('?').next().unwrap_or_default();
    let echo = json!({
        "provider": provider,
        "path": req.path,
        "received_body": String::from_utf8_lossy(&req.body),
    });
    if head.first != "POST" {
        return write_response(w, 405, provider, &error("mock: only POST"));
    }
    // A status the test asks for, with an OpenAI-style error body (429 carries retry-after).
    if let Some(status) = head.header("x-mock-status").and_then(|v| v.parse::<u16>().ok()) {
        let code = if status == 429 { "rate_limit_exceeded" } else { "mock_error" };
        let body = json!({"error": {"message": format!("mock: status {status}"), "type": "mock", "param": null, "code": code}});
        return write_status(w, status, provider, &body);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return write_response(w, 400, provider, &error("mock: body is not JSON"));
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();

    if path.starts_with("/model/") && path.ends_with("/invoke") {
        // Bedrock InvokeModel for Titan text embeddings: {"inputText", "dimensions"?, "normalize"?}.
        thread::sleep(delay);
        let Some(text) = body["inputText"].as_str() else {
            return write_response(w, 400, provider, &json!({"message": "mock: inputText is required"}));
        };
        let dims = body["dimensions"].as_u64().unwrap_or(1024) as usize;
        let out = json!({"embedding": vec![0.25f32; dims], "inputTextTokenCount": text.split(' ').count()});
        return write_response(w, 200, provider, &out);
    }
    // Providers differ in their base path (/v1, /v1beta/openai, /openai/v1): match the endpoint.
    match path.rsplit_once('/').map_or("", |(_, last)| last) {
        "completions" if path.ends_with("/chat/completions") => {
            let reply = format!("mock reply from {provider}");
            let prompt_tokens = (req.body.len() / 4) as u64;
            let completion_tokens = reply.split(' ').count() as u64;
            let usage = json!({
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            });
            if body["stream"].as_bool() == Some(true) {
                let include_usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
                return stream_chat(w, provider, &model, &reply, include_usage.then_some(usage), echo, delay);
            }
            thread::sleep(delay);
            let out = json!({
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": 1_700_000_000,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                "usage": usage,
                "mock": echo,
            });
            write_response(w, 200, provider, &out)
        }
        "embeddings" => {
            thread::sleep(delay);
            let inputs = match &body["input"] {
                Value::Array(a) => a.len(),
                _ => 1,
            };
            let dims = body["dimensions"].as_u64().unwrap_or(8) as usize;
            let data: Vec<Value> = (0..inputs)
                .map(|i| json!({"object": "embedding", "index": i, "embedding": vec![0.5f32; dims]}))
                .collect();
            let out = json!({
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": (req.body.len() / 4) as u64, "total_tokens": (req.body.len() / 4) as u64},
                "mock": echo,
            });
            write_response(w, 200, provider, &out)
        }
        _ => write_response(w, 404, provider, &error("mock: unknown path")),
    }
}

/// Writes an SSE chat stream as chunked encoding, one event per chunk, `delay` apart.
fn stream_chat(
    w: &mut TcpStream,
    provider: &str,
    model: &str,
    reply: &str,
    usage: Option<Value>,
    echo: Value,
    delay: Duration,
) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\ntransfer-encoding: chunked\r\n\r\n"
    )?;
    w.flush()?;
    let chunk = |delta: Value, finish: Value, extra: Option<(&str, Value)>| {
        let mut c = json!({
            "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        if let Some((k, v)) = extra {
            c[k] = v;
        }
        c
    };
    let mut events =
        vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null, Some(("mock", echo)))];
    for (i, word) in reply.split(' ').enumerate() {
        let text = if i == 0 { word.to_string() } else { format!(" {word}") };
        events.push(chunk(json!({"content": text}), Value::Null, None));
    }
    events.push(chunk(json!({}), json!("stop"), None));
    if let Some(usage) = usage {
        let mut u = chunk(json!({}), Value::Null, Some(("usage", usage)));
        u["choices"] = json!([]);
        events.push(u);
    }
    let mut frames: Vec<String> = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    frames.push("data: [DONE]\n\n".to_string());
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            thread::sleep(delay);
        }
        write!(w, "{:x}\r\n{frame}\r\n", frame.len())?;
        w.flush()?;
    }
    write!(w, "0\r\n\r\n")?;
    w.flush()
}
