//! Fault injection on a mock: the plan `POST /mock/faults` sets, and the errors it answers with,
//! shaped like the real provider's own.

use std::io::{self, Write};
use std::sync::Mutex;

use serde_json::json;

use super::{Head, bad_request, lock, reply, write_json, write_response};

/// A fault plan for one mock, set with `POST /mock/faults`. Every field is optional.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Answer with this status and an OpenAI-style error body.
    pub status: Option<u16>,
    /// The error `code` of a fault status (e.g. `context_length_exceeded`). On a native path
    /// [`CONTEXT_LENGTH_EXCEEDED`] answers with that provider's own context-length error.
    pub code: Option<String>,
    /// `retry-after` seconds on a fault status (429 gets 1 when unset).
    pub retry_after: Option<u64>,
    /// Wait this long before answering (a stream: before each event, the first included).
    pub delay_ms: Option<u64>,
    /// Read the request, then close the connection without a response.
    pub drop: bool,
    /// End a stream cleanly after this many bytes of events, without its `[DONE]`.
    pub cut_after: Option<usize>,
    /// Answer 200 `text/event-stream`, send this many bytes of a first event, then close the
    /// connection without ending the chunked body (Envoy reads a response broken off).
    pub reset_after: Option<usize>,
    /// Share of chat and embedding requests affected, spread evenly (exactly 3 in 10 for
    /// 0.3, in a fixed order); 1 when unset.
    pub rate: Option<f64>,
    /// Affect only the next this-many requests, then heal.
    pub count: Option<u64>,
    /// On a ConverseStream path, a fault status comes as Bedrock reports an error it meets once
    /// its stream began: a 200 event stream whose first frame is the exception. On an
    /// OpenAI-compatible one, as OpenRouter-style gateways report an upstream's failure after
    /// their 200: an event stream whose only event is the error (no `[DONE]`).
    pub opening: bool,
}

/// The fault code that asks for the provider's own context-length error, whatever its shape.
pub const CONTEXT_LENGTH_EXCEEDED: &str = "context_length_exceeded";

/// A mock's fault plan and what it did.
#[derive(Debug, Default)]
pub(super) struct FaultState {
    pub(super) plan: Faults,
    /// Chat and embedding requests seen since the plan was set.
    pub(super) seen: u64,
    /// Requests the plan affected.
    pub(super) faulted: u64,
}

impl FaultState {
    /// The faults for the next request, if it is one the plan affects.
    pub(super) fn next(&mut self) -> Option<Faults> {
        self.pick()
    }

    fn pick(&mut self) -> Option<Faults> {
        let plan = &self.plan;
        let active = plan.status.is_some()
            || plan.delay_ms.is_some()
            || plan.drop
            || plan.cut_after.is_some()
            || plan.reset_after.is_some();
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

/// `/mock/faults`: POST sets the plan, DELETE clears it, GET shows it with its counters.
pub(super) fn control(
    w: &mut impl Write,
    head: &Head,
    body: &[u8],
    provider: &str,
    faults: &Mutex<FaultState>,
) -> io::Result<()> {
    let mut state = lock(faults);
    match head.first.as_str() {
        "POST" => match serde_json::from_slice::<Faults>(body) {
            Ok(plan) => *state = FaultState { plan, seen: 0, faulted: 0 },
            Err(e) => {
                return write_response(w, 400, provider, &bad_request(&format!("mock: bad fault plan: {e}")));
            }
        },
        "DELETE" => *state = FaultState::default(),
        "GET" => {}
        _ => return write_response(w, 405, provider, &bad_request("mock: use GET, POST or DELETE")),
    }
    let out =
        json!({"provider": provider, "faults": state.plan, "seen": state.seen, "faulted": state.faulted});
    write_response(w, 200, provider, &out)
}

/// The error `type` a real provider gives a status (OpenAI's names; Anthropic's for the
/// overload OpenAI does not have).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

/// An error like the real provider's for `status` (429 and faults with `retry_after` carry
/// `retry-after`); the message says it came from the mock. `opening`: in a 200 event stream,
/// its only event.
pub(super) fn write_fault(
    w: &mut impl Write,
    status: u16,
    code: Option<&str>,
    retry_after: Option<u64>,
    provider: &str,
    opening: bool,
) -> io::Result<()> {
    let code = code.or(match status {
        429 => Some("rate_limit_exceeded"),
        500..=599 => Some("server_error"),
        _ => None,
    });
    let message = match status {
        429 => format!("mock {provider}: rate limit reached, retry later (status {status})"),
        500..=599 => {
            format!("mock {provider}: the server had an error processing your request (status {status})")
        }
        _ => format!("mock {provider}: request refused (status {status})"),
    };
    let body = reply::error(&message, error_type(status), None, code);
    if opening {
        let event = format!("data: {body}\n\n");
        write!(
            w,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-mock-provider: {provider}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n0\r\n\r\n",
            event.len()
        )?;
        return w.flush();
    }
    let retry = match (status, retry_after) {
        (_, Some(s)) => format!("retry-after: {s}\r\n"),
        (429, None) => "retry-after: 1\r\n".to_string(),
        _ => String::new(),
    };
    write_json(w, status, provider, &body, &retry)
}
