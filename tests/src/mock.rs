//! The mock provider: an OpenAI-compatible server that says who it is and what it received.
//!
//! `POST /v1/chat/completions` (JSON, or SSE when `stream: true`, ending with `[DONE]` and a
//! usage chunk when `stream_options.include_usage` is set) and `POST /v1/embeddings`. Every
//! reply names the provider it plays and echoes the exact body it received, model included.
//! Delay: `--delay-ms` for the whole mock, or per request with the `x-mock-delay-ms` header
//! (before the reply, and between SSE events).
//!
//! Faults, changed at run time on each mock's own port (see [`Faults`]):
//! `POST /mock/faults` with a JSON plan, `GET /mock/faults` (the plan and counters),
//! `DELETE /mock/faults` (back to healthy). Control requests are not recorded.

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

/// A fault plan for one mock, set with `POST /mock/faults`. Every field is optional.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Answer with this status and an OpenAI-style error body.
    pub status: Option<u16>,
    /// The error `code` of a fault status (e.g. `context_length_exceeded`).
    pub code: Option<String>,
    /// `retry-after` seconds on a fault status (429 gets 1 when unset).
    pub retry_after: Option<u64>,
    /// Wait this long before answering (and between stream events).
    pub delay_ms: Option<u64>,
    /// Read the request, then close the connection without a response.
    pub drop: bool,
    /// End a stream cleanly after this many bytes of events, without its `[DONE]`.
    pub cut_after: Option<usize>,
    /// Share of chat and embedding requests affected, spread evenly (exactly 3 in 10 for
    /// 0.3, in a fixed order); 1 when unset.
    pub rate: Option<f64>,
    /// Affect only the next this-many requests, then heal.
    pub count: Option<u64>,
}

/// A mock's fault plan and what it did.
#[derive(Debug, Default)]
struct FaultState {
    plan: Faults,
    /// Chat and embedding requests seen since the plan was set.
    seen: u64,
    /// Requests the plan affected.
    faulted: u64,
}

impl FaultState {
    /// The faults for the next request, if it is one the plan affects.
    fn next(&mut self) -> Option<Faults> {
        let plan = &self.plan;
        let active =
            plan.status.is_some() || plan.delay_ms.is_some() || plan.drop || plan.cut_after.is_some();
        if !active || plan.count.is_some_and(|c| self.faulted >= c) {
            return None;
        }
        let rate = plan.rate.unwrap_or(1.0).clamp(0.0, 1.0);
        let n = self.seen;
        self.seen += 1;
        // Request n is affected when the running quota floor((n+1)·rate) steps up.
        let hit = ((n + 1) as f64 * rate).floor() > (n as f64 * rate).floor();
        hit.then(|| {
            self.faulted += 1;
            self.plan.clone()
        })
    }
}

type SharedFaults = Arc<Mutex<FaultState>>;

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
    let faults = SharedFaults::default();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (name, log, faults) = (name.clone(), log.clone(), faults.clone());
            thread::spawn(move || {
                let _ = serve(conn, &name, delay, &log, &faults);
            });
        }
    });
    Ok(Mock { provider: provider.to_string(), addr })
}

/// Serves one keep-alive connection.
fn serve(
    conn: TcpStream,
    provider: &str,
    delay: Duration,
    log: &Log,
    faults: &SharedFaults,
) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    while let Some(head) = read_head(&mut r)? {
        let body = read_body(&mut r, &head, false)?;
        if head.second.starts_with("/mock/faults") {
            control(&mut w, &head, &body, provider, faults)?;
            continue;
        }
        let fault = faults.lock().ok().and_then(|mut f| f.next());
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
        let fault = fault.unwrap_or_default();
        let delay = fault.delay_ms.map_or(delay, Duration::from_millis);
        if fault.drop {
            // Close without a byte of response: the proxy sees a reset before headers.
            let _ = w.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
        if let Some(status) = fault.status {
            thread::sleep(delay);
            write_fault(&mut w, status, fault.code.as_deref(), fault.retry_after, provider)?;
            continue;
        }
        respond(&mut w, &head, &received, delay, fault.cut_after)?;
    }
    Ok(())
}

/// `/mock/faults`: POST sets the plan, DELETE clears it, GET shows it with its counters.
fn control(
    w: &mut impl Write,
    head: &Head,
    body: &[u8],
    provider: &str,
    faults: &SharedFaults,
) -> io::Result<()> {
    let Ok(mut state) = faults.lock() else {
        return write_response(w, 500, provider, &error("mock: fault state poisoned"));
    };
    match head.first.as_str() {
        "POST" => match serde_json::from_slice::<Faults>(body) {
            Ok(plan) => *state = FaultState { plan, seen: 0, faulted: 0 },
            Err(e) => return write_response(w, 400, provider, &error(&format!("mock: bad fault plan: {e}"))),
        },
        "DELETE" => *state = FaultState::default(),
        "GET" => {}
        _ => return write_response(w, 405, provider, &error("mock: use GET, POST or DELETE")),
    }
    let out =
        json!({"provider": provider, "faults": state.plan, "seen": state.seen, "faulted": state.faulted});
    write_response(w, 200, provider, &out)
}

/// An OpenAI-style error with `status` (429 and faults with `retry_after` carry `retry-after`).
fn write_fault(
    w: &mut impl Write,
    status: u16,
    code: Option<&str>,
    retry_after: Option<u64>,
    provider: &str,
) -> io::Result<()> {
    let code = code.unwrap_or(if status == 429 { "rate_limit_exceeded" } else { "mock_fault" });
    let body = json!({"error": {"message": format!("mock: status {status}"), "type": "mock", "param": null, "code": code}})
        .to_string();
    let retry = match (status, retry_after) {
        (_, Some(s)) => format!("retry-after: {s}\r\n"),
        (429, None) => "retry-after: 1\r\n".to_string(),
        _ => String::new(),
    };
    write!(
        w,
        "HTTP/1.1 {status} Mock\r\ncontent-type: application/json\r\n{retry}x-mock-provider: {provider}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
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

fn error(message: &str) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})
}

fn respond(
    w: &mut TcpStream,
    head: &Head,
    req: &Received,
    delay: Duration,
    cut_after: Option<usize>,
) -> io::Result<()> {
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
        return write_fault(w, status, None, None, provider);
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
            // A model that used its whole allowance, when the request set one (budget tests).
            let limit = body["max_completion_tokens"].as_u64().or(body["max_tokens"].as_u64());
            let completion_tokens = limit.unwrap_or(reply.split(' ').count() as u64);
            let usage = json!({
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            });
            if body["stream"].as_bool() == Some(true) {
                let include_usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
                let usage = include_usage.then_some(usage);
                // Some servers frame a whole SSE body with content-length instead of chunks.
                let by_length = head.header("x-mock-sse-length").is_some();
                return stream_chat(w, provider, &model, &reply, usage, echo, (delay, cut_after, by_length));
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

/// Writes an SSE chat stream as chunked encoding, one event per chunk, `delay` apart, cut
/// (cleanly, without `[DONE]`) after `cut_after` bytes when set; or, `by_length`, the whole
/// stream at once framed by content-length.
fn stream_chat(
    w: &mut TcpStream,
    provider: &str,
    model: &str,
    reply: &str,
    usage: Option<Value>,
    echo: Value,
    (delay, cut_after, by_length): (Duration, Option<usize>, bool),
) -> io::Result<()> {
    let framing = if by_length { "" } else { "transfer-encoding: chunked\r\n" };
    if !by_length {
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\n{framing}\r\n"
        )?;
        w.flush()?;
    }
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
    if by_length {
        let all = frames.concat();
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\ncontent-length: {}\r\n\r\n{all}",
            all.len()
        )?;
        return w.flush();
    }
    let mut left = cut_after.unwrap_or(usize::MAX);
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            thread::sleep(delay);
        }
        // A cut stream ends cleanly (terminal chunk), just early: only the router can tell.
        let frame = frame.get(..left.min(frame.len())).unwrap_or(frame);
        if frame.is_empty() {
            break;
        }
        left -= frame.len();
        write!(w, "{:x}\r\n{frame}\r\n", frame.len())?;
        w.flush()?;
    }
    write!(w, "0\r\n\r\n")?;
    w.flush()
}
