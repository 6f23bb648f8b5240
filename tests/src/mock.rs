//! The mock provider: an OpenAI-compatible server that answers like the real API (the official
//! spec's response shapes and request validation, see [`reply`] and [`validate`]) and says who it
//! is and what it received.
//!
//! `POST /v1/chat/completions` (JSON, or SSE when `stream: true`, ending with `[DONE]` and a
//! usage chunk when `stream_options.include_usage` is set; `n` choices; `logprobs` when asked),
//! `POST /v1/embeddings` (floats, or base64 of little-endian f32 with `encoding_format:
//! "base64"`), and Bedrock's `POST /model/{id}/invoke` for Titan embeddings. A malformed request
//! gets a 400 in OpenAI's error shape, as the real API answers it. The native protocols the
//! router translates into (Bedrock Converse/ConverseStream, Anthropic Messages, OpenAI
//! Responses) are answered, validated and faulted in their own shapes by [`native`]. Every reply names the
//! provider it plays (`x-mock-provider`) and echoes the exact body it received, model included,
//! in its `mock` field. Delay: `--delay-ms` for the whole mock, or per request with the
//! `x-mock-delay-ms` header (before the reply, and between SSE events); `x-mock-status` answers
//! with that status; `x-mock-sse-length` frames a stream with content-length.
//!
//! Control endpoints on each mock's own port (never recorded themselves):
//! - `/mock/faults`: `POST` a JSON plan (see [`Faults`]), `GET` the plan and counters, `DELETE`
//!   to heal.
//! - `/mock/requests`: `GET` the last [`record::KEEP`] requests (method, path, headers with
//!   secrets masked, body as JSON when it is JSON), `DELETE` to clear.
//!
//! Bounded work: a request head over [`MAX_HEAD_BYTES`] or body over [`MAX_BODY_BYTES`] is
//! refused, at most [`MAX_CONNECTIONS`] connections are served at once, `n`, inputs and
//! dimensions are capped as the real API caps them, and a panic ends only its own connection.

mod faults;
pub mod native;
pub mod record;
pub mod reply;
pub mod validate;

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::http::{Head, read_body, read_head};
pub use faults::Faults;
use faults::{FaultState, control, write_fault};
use record::Recent;
use validate::Invalid;

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: u64 = 64 * 1024;
/// Largest request body; larger ones get a 413 before a byte of the body is read.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// Connections one mock serves at once; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 256;

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

/// What one mock's connections share.
struct Shared {
    provider: String,
    delay: Duration,
    log: Log,
    faults: Mutex<FaultState>,
    recent: Mutex<Recent>,
    connections: AtomicUsize,
}

/// Locks a mutex even if a panicking connection poisoned it: the data is still usable, and one
/// bad request must not take the other connections down with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

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
    let shared = Arc::new(Shared {
        provider: provider.to_string(),
        delay,
        log,
        faults: Mutex::default(),
        recent: Mutex::default(),
        connections: AtomicUsize::new(0),
    });
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                shared.connections.fetch_sub(1, Ordering::SeqCst);
                continue; // Dropping the stream closes it.
            }
            let shared = shared.clone();
            thread::spawn(move || {
                // A panic ends this connection only (its thread), never the process; the
                // counter is released either way.
                let _ = catch_unwind(AssertUnwindSafe(|| serve(conn, &shared)));
                shared.connections.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(Mock { provider: provider.to_string(), addr })
}

/// Serves one keep-alive connection.
fn serve(conn: TcpStream, shared: &Shared) -> io::Result<()> {
    conn.set_nodelay(true)?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    loop {
        let Some(head) = read_head(&mut Read::take(&mut r, MAX_HEAD_BYTES))? else { return Ok(()) };
        let length = head.header("content-length").and_then(|l| l.parse::<u64>().ok()).unwrap_or(0);
        if length > MAX_BODY_BYTES {
            let message =
                format!("mock: request body of {length} bytes is over the {MAX_BODY_BYTES}-byte limit");
            let body = reply::error(&message, "invalid_request_error", None, Some("request_too_large"));
            write_json(&mut w, 413, &shared.provider, &body, "connection: close\r\n")?;
            return Ok(());
        }
        // Chunked bodies are bounded by the same limit (a longer one fails to read and closes).
        let body = read_body(&mut Read::take(&mut r, MAX_BODY_BYTES + 64 * 1024), &head, false)?;
        if !handle(&mut w, head, body, shared)? {
            return Ok(());
        }
    }
}

/// Answers one request; `false` when the connection must close.
fn handle(w: &mut TcpStream, head: Head, body: Vec<u8>, shared: &Shared) -> io::Result<bool> {
    let provider = shared.provider.as_str();
    if head.second.starts_with("/mock/faults") {
        control(w, &head, &body, provider, &shared.faults)?;
        return Ok(true);
    }
    if head.second.starts_with("/mock/requests") {
        requests(w, &head, provider, &shared.recent)?;
        return Ok(true);
    }
    let fault = lock(&shared.faults).next().unwrap_or_default();
    let received = Received {
        provider: provider.to_string(),
        method: head.first.clone(),
        path: head.second.clone(),
        headers: head.headers.clone(),
        body,
    };
    lock(&shared.recent).push(&received);
    lock(&shared.log).push(received.clone());
    let delay = head
        .header("x-mock-delay-ms")
        .and_then(|v| v.parse().ok())
        .map_or(shared.delay, Duration::from_millis);
    let delay = fault.delay_ms.map_or(delay, Duration::from_millis).min(Duration::from_secs(300));
    if fault.drop {
        // Close without a byte of response: the proxy sees a reset before headers.
        let _ = w.shutdown(std::net::Shutdown::Both);
        return Ok(false);
    }
    if let Some(n) = fault.reset_after {
        // A 200 stream broken off inside its first event: the chunked body never ends.
        let event = r#"data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#;
        let part = event.get(..n.min(event.len())).unwrap_or(event);
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{part}\r\n",
            part.len()
        )?;
        w.flush()?;
        let _ = w.shutdown(std::net::Shutdown::Both);
        return Ok(false);
    }
    if let Some(status) = fault.status {
        thread::sleep(delay);
        // Bedrock's InvokeModel (Titan) answers its errors as Converse does: `{"message"}`.
        let invoke = head.second.starts_with("/model/") && head.second.ends_with("/invoke");
        let protocol = native::Protocol::of(&head.second)
            .or_else(|| invoke.then_some(native::Protocol::Bedrock { stream: false }));
        match protocol {
            Some(native::Protocol::Bedrock { stream: true }) if fault.opening => {
                native::write_opening_fault(w, status, fault.code.as_deref(), provider)?;
            }
            Some(p) => native::write_fault(w, p, status, fault.code.as_deref(), fault.retry_after, provider)?,
            None => {
                let stream = fault.opening && head.second.ends_with("/chat/completions");
                write_fault(w, status, fault.code.as_deref(), fault.retry_after, provider, stream)?
            }
        }
        return Ok(true);
    }
    respond(w, &head, &received, delay, fault.cut_after)?;
    Ok(true)
}

/// `/mock/requests`: GET lists the recent requests (secrets masked), DELETE forgets them.
fn requests(w: &mut impl Write, head: &Head, provider: &str, recent: &Mutex<Recent>) -> io::Result<()> {
    let mut recent = lock(recent);
    match head.first.as_str() {
        "GET" => {}
        "DELETE" => recent.clear(),
        _ => return write_response(w, 405, provider, &bad_request("mock: use GET or DELETE")),
    }
    write_response(w, 200, provider, &json!({"provider": provider, "requests": recent.list()}))
}

/// A JSON response with `extra` header lines (each ending in CRLF).
fn write_json(w: &mut impl Write, status: u16, provider: &str, body: &Value, extra: &str) -> io::Result<()> {
    let body = body.to_string();
    let reason = if status == 200 { "OK" } else { "Error" };
    write!(
        w,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n{extra}x-mock-provider: {provider}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )?;
    w.flush()
}

fn write_response(w: &mut impl Write, status: u16, provider: &str, body: &Value) -> io::Result<()> {
    write_json(w, status, provider, body, "")
}

/// An `invalid_request_error` without a parameter.
fn bad_request(message: &str) -> Value {
    reply::error(message, "invalid_request_error", None, None)
}

/// A 400 for a request the spec does not allow.
fn write_invalid(w: &mut impl Write, provider: &str, e: &Invalid) -> io::Result<()> {
    if provider == "google-gemini" {
        // Gemini's OpenAI layer answers in Google's error shape, wrapped in an array.
        let body = json!([{"error": {"code": 400, "message": e.message, "status": "INVALID_ARGUMENT"}}]);
        return write_response(w, 400, provider, &body);
    }
    let body = reply::error(&e.message, "invalid_request_error", e.param.as_deref(), e.code);
    write_response(w, 400, provider, &body)
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
    if head.first != "POST" {
        return write_response(w, 405, provider, &bad_request("mock: only POST"));
    }
    // The native protocols answer everything, errors included, in their own shapes.
    if let Some(protocol) = native::Protocol::of(path) {
        return native::respond(w, head, req, protocol, native::Pace { delay, cut_after });
    }
    // A status the test asks for, with a provider-like error body (429 carries retry-after).
    if let Some(status) = head.header("x-mock-status").and_then(|v| v.parse::<u16>().ok()) {
        return write_fault(w, status, None, None, provider, false);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        let message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) [mock]";
        return write_response(w, 400, provider, &bad_request(message));
    };
    let echo = json!({
        "provider": provider,
        "path": req.path,
        "received_body": String::from_utf8_lossy(&req.body),
    });
    if path.starts_with("/model/") && path.ends_with("/invoke") {
        thread::sleep(delay);
        return titan(w, provider, &body);
    }
    // Providers differ in their base path (/v1, /v1beta/openai, /openai/v1): match the endpoint.
    if path.ends_with("/chat/completions") {
        if let Err(e) = validate::chat(&body).and_then(|()| validate::provider_rules(provider, &body)) {
            return write_invalid(w, provider, &e);
        }
        return chat(w, head, req, &body, echo, (delay, cut_after));
    }
    if path.ends_with("/embeddings") {
        thread::sleep(delay);
        return match validate::embeddings(&body) {
            Ok((inputs, dims)) => embeddings(w, req, &body, echo, (inputs, dims)),
            Err(e) => write_invalid(w, provider, &e),
        };
    }
    let body = reply::error("mock: unknown path", "invalid_request_error", None, Some("unknown_url"));
    write_response(w, 404, provider, &body)
}

/// Bedrock InvokeModel for Titan text embeddings v2: `{"inputText", "dimensions"?,
/// "normalize"?}`. Errors in Bedrock's shape (`{"message"}` with `x-amzn-errortype`), as the
/// real service sends them: translating them is the router's job.
fn titan(w: &mut impl Write, provider: &str, body: &Value) -> io::Result<()> {
    let mut refuse = |message: &str| {
        let body = json!({"message": format!("Malformed input request: {message}, please reformat your input and try again. [mock]")});
        write_json(&mut *w, 400, provider, &body, "x-amzn-errortype: ValidationException\r\n")
    };
    let text = match body["inputText"].as_str() {
        Some(t) if !t.is_empty() => t,
        Some(_) => return refuse("#/inputText: expected minLength: 1, actual: 0"),
        None => return refuse("#: required key [inputText] not found"),
    };
    let dims = match &body["dimensions"] {
        Value::Null => 1024,
        d => match d.as_u64().filter(|d| [256, 512, 1024].contains(d)) {
            Some(d) => d as usize,
            None => return refuse(&format!("#/dimensions: {d} is not a valid enum value")),
        },
    };
    let out = json!({"embedding": vec![0.25f32; dims], "inputTextTokenCount": text.split(' ').count()});
    write_response(w, 200, provider, &out)
}

/// A chat completion, whole or streamed.
fn chat(
    w: &mut TcpStream,
    head: &Head,
    req: &Received,
    body: &Value,
    echo: Value,
    (delay, cut_after): (Duration, Option<usize>),
) -> io::Result<()> {
    let provider = req.provider.as_str();
    let text = format!("mock reply from {provider}");
    // Validated: a whole number in 1..=128 when present.
    let n = body["n"].as_f64().map_or(1, |n| n as usize).max(1);
    // A model that used its whole allowance, when the request set one (budget tests).
    let limit = [&body["max_completion_tokens"], &body["max_tokens"]]
        .into_iter()
        .find_map(|v| v.as_f64().filter(|l| *l >= 0.0).map(|l| l as u64));
    let per_choice = limit.unwrap_or(text.split(' ').count() as u64);
    let logprobs = (body["logprobs"].as_bool() == Some(true))
        .then(|| body["top_logprobs"].as_f64().map_or(0, |t| t as usize));
    let c = reply::Chat {
        model: body["model"].as_str().unwrap_or_default(),
        n,
        logprobs,
        finish_reason: if limit.is_some() { "length" } else { "stop" },
        usage: reply::usage((req.body.len() / 4) as u64, per_choice.saturating_mul(n as u64)),
        text,
    };
    if body["stream"].as_bool() == Some(true) {
        let include_usage = body["stream_options"]["include_usage"].as_bool() == Some(true);
        // Some servers frame a whole SSE body with content-length instead of chunks.
        let by_length = head.header("x-mock-sse-length").is_some();
        let events = reply::chat_chunks(&c, echo, include_usage);
        return stream(w, provider, &events, (delay, cut_after, by_length));
    }
    thread::sleep(delay);
    write_response(w, 200, provider, &reply::chat_completion(&c, echo))
}

/// An embeddings list: `inputs` embeddings of `dims` (8 when unset, to keep replies small;
/// the real API answers with the model's full size).
fn embeddings(
    w: &mut impl Write,
    req: &Received,
    body: &Value,
    echo: Value,
    (inputs, dims): (usize, Option<usize>),
) -> io::Result<()> {
    let base64 = body["encoding_format"].as_str() == Some("base64");
    let vector = reply::embedding(dims.unwrap_or(8), base64);
    // Written as text around one rendered vector: 2048 inputs of 3072 floats as JSON values
    // would take hundreds of megabytes.
    let data: Vec<String> = (0..inputs)
        .map(|i| format!(r#"{{"object":"embedding","index":{i},"embedding":{vector}}}"#))
        .collect();
    let tokens = (req.body.len() / 4) as u64;
    let out = format!(
        r#"{{"object":"list","data":[{}],"model":{},"usage":{},"mock":{echo}}}"#,
        data.join(","),
        body["model"],
        json!({"prompt_tokens": tokens, "total_tokens": tokens}),
    );
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-mock-provider: {}\r\ncontent-length: {}\r\n\r\n{out}",
        req.provider,
        out.len()
    )?;
    w.flush()
}

/// Writes SSE `events` then `[DONE]` as chunked encoding, one event per chunk, `delay` apart,
/// cut (cleanly, without `[DONE]`) after `cut_after` bytes when set; or, `by_length`, the
/// whole stream at once framed by content-length.
fn stream(
    w: &mut TcpStream,
    provider: &str,
    events: &[Value],
    (delay, cut_after, by_length): (Duration, Option<usize>, bool),
) -> io::Result<()> {
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
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\ntransfer-encoding: chunked\r\n\r\n"
    )?;
    w.flush()?;
    let mut left = cut_after.unwrap_or(usize::MAX);
    // The delay comes before each event, the first included: a provider sends its first chunk
    // once its first token is ready.
    for frame in &frames {
        thread::sleep(delay);
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
