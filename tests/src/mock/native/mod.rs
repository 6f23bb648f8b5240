//! The providers' native protocols, which the router translates OpenAI chat into: Bedrock
//! Converse / ConverseStream, Anthropic Messages and OpenAI Responses. Each validates a request
//! as strictly as its official reference documents it (so a translation mistake fails a test
//! instead of passing silently) and answers in its own shapes, errors included.
//!
//! What a reply says is decided here, the same way for all three, from markers in the text of
//! the last user turn (see [`Answer::plan`]).

mod anthropic;
mod bedrock;
pub mod eventstream;
mod responses;
pub mod sha256;

use std::io::{self, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use super::faults::CONTEXT_LENGTH_EXCEEDED;
use super::{Head, Received, write_fault as write_openai_fault};

/// Marker asking for a call of the first declared tool.
pub const TOOL_MARKER: &str = "mock:tool";
/// Marker asking for a reasoning block before the answer.
pub const REASONING_MARKER: &str = "mock:reasoning";
/// Marker asking for the provider's own context-length error.
pub const OVERFLOW_MARKER: &str = "mock:overflow";
/// The value the first property of a called tool's schema gets.
pub const TOOL_ARGUMENT: &str = "Paris";

/// A native protocol, told by the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `POST /model/{id}/converse`, or `converse-stream` when `stream` is set.
    Bedrock {
        /// ConverseStream.
        stream: bool,
    },
    /// `POST /v1/messages`, and `POST /v1/messages/count_tokens`.
    Anthropic,
    /// `POST /v1/responses`.
    Responses,
}

impl Protocol {
    /// The protocol a path speaks, if native.
    pub fn of(path: &str) -> Option<Self> {
        let path = path.split('?').next().unwrap_or_default();
        if let Some(rest) = path.strip_prefix("/model/") {
            return match rest.rsplit_once('/') {
                Some((_, "converse")) => Some(Protocol::Bedrock { stream: false }),
                Some((_, "converse-stream")) => Some(Protocol::Bedrock { stream: true }),
                _ => None,
            };
        }
        if path.ends_with("/v1/messages") || path.ends_with(anthropic::COUNT_PATH) {
            return Some(Protocol::Anthropic);
        }
        path.ends_with("/responses").then_some(Protocol::Responses)
    }
}

/// The model a request asks its provider for: Converse names it in the path
/// (`/model/{id}/converse`, percent-decoded), every other API in the body's `model`.
pub fn requested_model(req: &Received) -> Option<String> {
    let path = req.path.split('?').next().unwrap_or_default();
    if let Some(Protocol::Bedrock { .. }) = Protocol::of(path) {
        let encoded = path.strip_prefix("/model/").and_then(|r| r.rsplit_once('/')).map(|(id, _)| id);
        return encoded.and_then(percent_decode);
    }
    req.json()["model"].as_str().map(str::to_string)
}

/// How a reply is paced: the delay before it and between stream events, and where a fault
/// cuts a stream.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Delay.
    pub delay: Duration,
    /// Bytes of stream after which it ends cleanly, early.
    pub cut_after: Option<usize>,
}

/// Answers a request on a native path.
pub(super) fn respond(
    w: &mut TcpStream,
    head: &Head,
    req: &Received,
    protocol: Protocol,
    pace: Pace,
) -> io::Result<()> {
    let status = head.header("x-mock-status").and_then(|v| v.parse::<u16>().ok());
    if let Some(status) = status {
        return write_fault(w, protocol, status, None, None, &req.provider);
    }
    match protocol {
        Protocol::Bedrock { stream } => bedrock::respond(w, req, stream, pace),
        Protocol::Anthropic => anthropic::respond(w, req, pace),
        Protocol::Responses => responses::respond(w, req, pace),
    }
}

/// A fault status in the protocol's own error shape. A fault plan whose `code` is
/// `context_length_exceeded` gets the provider's own context-length error (the one
/// [`OVERFLOW_MARKER`] asks for) with the plan's status: that is what a router must recognise,
/// not a generic refusal. Responses, OpenAI-shaped, carries any other code as it is.
pub(super) fn write_fault(
    w: &mut impl Write,
    protocol: Protocol,
    status: u16,
    code: Option<&str>,
    retry_after: Option<u64>,
    provider: &str,
) -> io::Result<()> {
    let overflow = code == Some(CONTEXT_LENGTH_EXCEEDED);
    match protocol {
        Protocol::Bedrock { .. } if overflow => bedrock::write_overflow(w, status, provider),
        Protocol::Anthropic if overflow => anthropic::write_overflow(w, status, provider),
        Protocol::Responses if overflow => responses::write_overflow(w, status, provider),
        Protocol::Bedrock { .. } => bedrock::write_fault(w, status, retry_after, provider),
        Protocol::Anthropic => anthropic::write_fault(w, status, retry_after, provider),
        Protocol::Responses => write_openai_fault(w, status, code, retry_after, provider, false),
    }
}

/// A fault status inside a ConverseStream that began: a 200 event stream whose only frame is
/// the exception that status stands for (`validationException` saying the input is too long
/// for a `context_length_exceeded` code).
pub(super) fn write_opening_fault(
    w: &mut TcpStream,
    status: u16,
    code: Option<&str>,
    provider: &str,
) -> io::Result<()> {
    let frame = bedrock::exception_frame(status, code == Some(CONTEXT_LENGTH_EXCEEDED), provider);
    let pace = Pace { delay: Duration::ZERO, cut_after: None };
    write_stream(w, provider, "application/vnd.amazon.eventstream", "", &[frame], pace)
}

/// `retry-after` of a fault (429 gets 1 when the plan sets none).
fn retry_header(status: u16, retry_after: Option<u64>) -> String {
    match (status, retry_after) {
        (_, Some(s)) => format!("retry-after: {s}\r\n"),
        (429, None) => "retry-after: 1\r\n".to_string(),
        _ => String::new(),
    }
}

/// The declared tool a `mock:tool` reply calls: its name and its input schema.
pub struct Tool<'a> {
    /// Name.
    pub name: &'a str,
    /// JSON schema of its input (`{}` when it declares none).
    pub schema: &'a Value,
}

/// What the request's conversation asks for, read by each protocol from its own shapes.
pub struct Ask<'a> {
    /// Text of the last user turn (all its text parts, joined).
    pub last_user_text: String,
    /// Name of the tool whose result the last user turn carries.
    pub tool_result_of: Option<String>,
    /// The first tool the request declares.
    pub first_tool: Option<Tool<'a>>,
    /// Request bytes, for the input token count.
    pub request_bytes: usize,
}

/// What a native reply says, whatever the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// A reasoning block first (`mock:reasoning`).
    pub reasoning: Option<String>,
    /// A tool call: name and arguments as JSON text (`mock:tool`).
    pub tool: Option<(String, String)>,
    /// The text, when there is no tool call.
    pub text: Option<String>,
    /// Input tokens: request bytes / 4.
    pub input_tokens: u64,
    /// Output tokens: the words generated.
    pub output_tokens: u64,
}

impl Answer {
    /// The answer to `ask`; `None` when it carries [`OVERFLOW_MARKER`] (the caller answers
    /// with its protocol's context-length error).
    ///
    /// A tool result in the last user turn gets `mock reply from PROVIDER after tool NAME`;
    /// else `mock:tool` calls the first declared tool with its schema's first property (in
    /// name order) set to [`TOOL_ARGUMENT`] (`{}` without properties); else
    /// `mock reply from PROVIDER`. `mock:reasoning` adds a reasoning block before either.
    pub fn plan(provider: &str, ask: &Ask<'_>) -> Option<Self> {
        let said = ask.last_user_text.as_str();
        if said.contains(OVERFLOW_MARKER) {
            return None;
        }
        let reasoning = said.contains(REASONING_MARKER).then(|| format!("mock reasoning from {provider}"));
        let mut tool = None;
        let mut text = None;
        match (&ask.tool_result_of, &ask.first_tool) {
            (Some(name), _) => text = Some(format!("mock reply from {provider} after tool {name}")),
            (None, Some(t)) if said.contains(TOOL_MARKER) => {
                tool = Some((t.name.to_string(), tool_arguments(t.schema).to_string()));
            }
            _ => text = Some(format!("mock reply from {provider}")),
        }
        let words = |s: &Option<String>| s.as_deref().map_or(0, |s| s.split_whitespace().count());
        let tool_words = tool.as_ref().map_or(0, |(_, args)| args.split_whitespace().count().max(1));
        let output_tokens = (words(&reasoning) + words(&text) + tool_words) as u64;
        Some(Answer { reasoning, tool, text, input_tokens: (ask.request_bytes / 4) as u64, output_tokens })
    }
}

/// Arguments for a tool with `schema`: its first property set to [`TOOL_ARGUMENT`].
pub fn tool_arguments(schema: &Value) -> Value {
    match schema["properties"].as_object().and_then(|p| p.keys().next()) {
        Some(first) => json!({ first: TOOL_ARGUMENT }),
        None => json!({}),
    }
}

/// `text` in two or more pieces, as providers stream partial tool arguments.
pub fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mid = chars.len() / 2;
    let (a, b) = chars.split_at(mid);
    [a, b].iter().map(|p| p.iter().collect::<String>()).filter(|p| !p.is_empty()).collect()
}

/// Whether `s` is standard base64 with padding (what Bedrock blobs and Anthropic image data
/// must be), non-empty.
pub fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|c| **c == b'=').count();
    pad <= 2 && b[..b.len() - pad].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// A path segment with `%XX` escapes decoded (a Bedrock model id: `%3A` is `:`); `None` when
/// an escape is malformed or the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A JSON reply with extra header lines (each ending in CRLF).
fn write_reply(w: &mut impl Write, status: u16, provider: &str, body: &Value, extra: &str) -> io::Result<()> {
    super::write_json(w, status, provider, body, extra)
}

/// Writes a stream of `frames` (already encoded) as chunked encoding, one frame per chunk,
/// `pace.delay` apart, ending cleanly but early after `pace.cut_after` bytes when set.
fn write_stream(
    w: &mut TcpStream,
    provider: &str,
    content_type: &str,
    extra: &str,
    frames: &[Vec<u8>],
    pace: Pace,
) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\n{extra}x-mock-provider: {provider}\r\ntransfer-encoding: chunked\r\n\r\n"
    )?;
    w.flush()?;
    let mut left = pace.cut_after.unwrap_or(usize::MAX);
    // The delay comes before each event, the first included (see the chat stream's).
    for frame in frames {
        thread::sleep(pace.delay);
        let frame = frame.get(..left.min(frame.len())).unwrap_or(frame);
        if frame.is_empty() {
            break;
        }
        left -= frame.len();
        write!(w, "{:x}\r\n", frame.len())?;
        w.write_all(frame)?;
        write!(w, "\r\n")?;
        w.flush()?;
    }
    write!(w, "0\r\n\r\n")?;
    w.flush()
}

/// One SSE event with a name line, as Anthropic and Responses send them.
fn sse(event: &Value) -> Vec<u8> {
    let name = event["type"].as_str().unwrap_or("message");
    format!("event: {name}\ndata: {event}\n\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_tell_the_protocol() {
        for (path, want) in [
            ("/model/anthropic.claude-3%3A0/converse", Some(Protocol::Bedrock { stream: false })),
            ("/model/x/converse-stream", Some(Protocol::Bedrock { stream: true })),
            ("/model/x/invoke", None),
            ("/v1/messages", Some(Protocol::Anthropic)),
            ("/v1/responses?x=1", Some(Protocol::Responses)),
            ("/v1/chat/completions", None),
        ] {
            assert_eq!(Protocol::of(path), want, "{path}");
        }
    }

    #[test]
    fn the_requested_model_is_in_the_converse_path_or_the_body() {
        let req = |path: &str, body: &str| Received {
            provider: "p".into(),
            method: "POST".into(),
            path: path.into(),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        for (path, body, want) in [
            ("/model/qwen.qwen3-32b-v1%3A0/converse", "{}", Some("qwen.qwen3-32b-v1:0")),
            ("/model/zai.glm-5/converse-stream?x=1", r#"{"model":"no"}"#, Some("zai.glm-5")),
            ("/v1/messages", r#"{"model":"claude-haiku-4-5"}"#, Some("claude-haiku-4-5")),
            ("/v1/chat/completions", r#"{"model":"gpt-4.1"}"#, Some("gpt-4.1")),
            ("/v1/chat/completions", "not json", None),
        ] {
            assert_eq!(requested_model(&req(path, body)).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn base64_and_percent_decoding() {
        assert!(is_base64("aGk="));
        assert!(!is_base64("aGk"));
        assert!(!is_base64("a*k="));
        assert!(!is_base64(""));
        assert_eq!(percent_decode("a%3Ab").as_deref(), Some("a:b"));
        assert_eq!(percent_decode("a%3"), None);
    }

    /// A fault plan with `code: context_length_exceeded` answers each native path with that
    /// provider's own context-length error, as `mock:overflow` does; other plans stay generic.
    #[test]
    fn a_context_length_fault_is_each_providers_own_context_error() {
        use crate::http;
        let log = crate::mock::Log::default();
        let addr = crate::mock::start("acme", "127.0.0.1:0", Duration::ZERO, log).expect("mock").addr;
        let plan = r#"{"status":400,"code":"context_length_exceeded"}"#;
        let post = |path: &str| http::post_json(addr, path, "{}").expect("request");
        assert_eq!(http::post_json(addr, "/mock/faults", plan).expect("plan").status, 200);
        let r = post("/model/zai.glm-5/converse");
        assert_eq!((r.status, r.header("x-amzn-errortype")), (400, Some("ValidationException")));
        assert_eq!(r.json(), json!({"message": "Input is too long for requested model."}));
        let r = post("/model/zai.glm-5/converse-stream");
        assert_eq!(r.json()["message"], "Input is too long for requested model.");
        let r = post("/v1/messages");
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["type"], "error");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
        assert_eq!(r.json()["error"]["message"], "prompt is too long: 250000 tokens > 200000 maximum");
        let r = post("/v1/responses");
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"]["code"], "context_length_exceeded");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");

        // Without that code: the generic refusal of the status, and Responses keeps the code.
        let plan = r#"{"status":400,"code":"invalid_value"}"#;
        assert_eq!(http::post_json(addr, "/mock/faults", plan).expect("plan").status, 200);
        let r = post("/model/zai.glm-5/converse");
        assert_eq!(r.json()["message"], "mock acme: ValidationException (status 400)");
        let r = post("/v1/messages");
        assert_eq!(r.json()["error"]["message"], "mock acme: invalid_request_error (status 400)");
        assert_eq!(post("/v1/responses").json()["error"]["code"], "invalid_value");
        // A request the plan does not touch is not refused as too long.
        let healed = http::request(addr, "DELETE", "/mock/faults", &[], b"").expect("heal");
        assert_eq!(healed.status, 200);
        assert_eq!(post("/v1/messages").json()["error"]["type"], "authentication_error");
    }

    #[test]
    fn tool_arguments_use_the_first_property() {
        let schema = json!({"type": "object", "properties": {"zone": {}, "city": {"type": "string"}}});
        assert_eq!(tool_arguments(&schema), json!({"city": "Paris"}));
        assert_eq!(tool_arguments(&json!({"type": "object"})), json!({}));
        assert!(pieces("{\"city\":\"Paris\"}").len() >= 2);
    }
}
