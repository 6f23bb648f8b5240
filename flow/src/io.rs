//! The seam between the request's life and a host: the events a host feeds in, the effects it
//! applies, and the synchronous services it offers while a callback runs.
//!
//! Every change to the HTTP exchange (headers, bodies, a local answer, a call to another
//! cluster) is an [`Effect`] the host applies in order, after the machine has returned: the
//! machine never mutates the exchange itself, so a test reads what it decided as a value.
//! What the host holds and the machine may read (headers, buffered bodies, the clock, shared
//! data) and what it only records (metrics, logs, filter state) go through [`Host`], which a
//! proxy-wasm context, a native Envoy module or a test's fake implements.

use std::fmt;

/// What happened to the request, as the host saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The request headers arrived (`end_of_stream`: there is no body).
    RequestHeaders { end_of_stream: bool },
    /// `size` bytes of request body are buffered (`end_of_stream`: that is all of it).
    RequestBody { size: usize, end_of_stream: bool },
    /// Request trailers arrived: the body, however much is buffered, is complete.
    RequestTrailers,
    /// The upstream's response headers arrived.
    ResponseHeaders { end_of_stream: bool },
    /// `size` bytes of response body are buffered (this chunk, as the host delivers it).
    ResponseBody { size: usize, end_of_stream: bool },
    /// The host tried the [`Effect::Call`] the last step ended with: `sent` is false when the
    /// call could not be made at all (an unknown cluster, say).
    Dispatched { sent: bool },
    /// The answer to that call arrived: headers readable as [`Map::CallResponseHeaders`], a body
    /// of `body_size` bytes as [`Buffer::CallResponseBody`].
    CallResponse { body_size: usize },
    /// A request-side change the last step asked for could not be made: the host answers the
    /// client itself (a 500), and the request reaches no provider.
    Unsent,
    /// The request is over (access logging): settle and count it.
    Log,
}

/// What the host does with the callback once the effects are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let the exchange go on.
    Continue,
    /// Hold it here (the body keeps buffering; held headers wait for a later step).
    Pause,
}

/// A change to the exchange, applied by the host in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Remove a request header.
    RemoveRequestHeader(String),
    /// Set a request header (replacing any of that name).
    SetRequestHeader(&'static str, String),
    /// Replace the whole request header map. Changing request headers clears Envoy's route
    /// cache, so the router re-matches on the new cluster header.
    SetRequestHeaders(Vec<(String, String)>),
    /// Replace the `size` buffered request body bytes.
    ReplaceRequestBody { size: usize, bytes: Vec<u8> },
    /// Set a response header (replacing any of that name).
    SetResponseHeader(&'static str, String),
    /// Remove a response header.
    RemoveResponseHeader(String),
    /// Replace the `size` buffered bytes of this response body chunk.
    ReplaceResponseBody { size: usize, bytes: Vec<u8> },
    /// Answer the client from the router; the exchange ends there.
    Respond { status: u16, details: &'static str, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Call `cluster` out of band. Always a step's last effect: the host reports whether it
    /// went out with [`Event::Dispatched`], and its answer with [`Event::CallResponse`].
    Call { cluster: String, headers: Vec<(String, String)>, body: Vec<u8>, timeout_ms: u64 },
}

impl Effect {
    /// A request-side change: if the host cannot apply it, the request cannot go on as
    /// routed, and the host answers 500 instead of sending a half-rewritten request.
    pub fn is_request_change(&self) -> bool {
        matches!(
            self,
            Effect::RemoveRequestHeader(_) | Effect::SetRequestHeaders(_) | Effect::ReplaceRequestBody { .. }
        )
    }
}

/// What one event produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to do with the callback.
    pub verdict: Verdict,
    /// The changes to apply first, in order.
    pub effects: Vec<Effect>,
}

impl Step {
    /// A step that changes nothing.
    pub fn just(verdict: Verdict) -> Step {
        Step { verdict, effects: Vec::new() }
    }
}

/// A header map the machine may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// The request's headers.
    RequestHeaders,
    /// The response's headers.
    ResponseHeaders,
    /// The headers of a call's answer.
    CallResponseHeaders,
}

/// A buffered body the machine may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffer {
    /// The request body buffered so far.
    RequestBody,
    /// The response body chunk being delivered.
    ResponseBody,
    /// The body of a call's answer.
    CallResponseBody,
}

/// How bad a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// A normal event.
    Info,
    /// Something worth a look.
    Warn,
    /// Something failed.
    Error,
}

/// The outcome of a compare-and-swap write of shared data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// Written.
    Done,
    /// Another writer came first: read again and retry.
    Conflict,
}

/// The compare-and-swap token `shared_get` gives for an absent key. Envoy writes an absent key
/// whatever the token, and an existing one only if the token is its own or 0 (proxy-wasm-cpp-host
/// `SharedData::set`); its tokens count up from 1 across every key. So this token creates a key
/// that is still absent and fails on one another worker created meanwhile (unless that write drew
/// this very token, once in 2^32 writes), where 0 would write over that worker's record.
pub const ABSENT: u32 = u32::MAX;

/// A host service that failed: which one, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError {
    /// Which call.
    pub call: &'static str,
    /// What the host returned.
    pub detail: String,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.call, self.detail)
    }
}

/// The host's synchronous services during a callback. Reads return `Result`: every one of them
/// can fail in a real host, and the machine decides what a failure means.
pub trait Host {
    /// The host clock, nanoseconds since the Unix epoch.
    fn now_ns(&self) -> Result<u64, HostError>;
    /// Every pair of a header map, in order (one call: each call out of a VM costs more than
    /// the copy).
    fn headers(&self, map: Map) -> Result<Vec<(String, String)>, HostError>;
    /// One header's value.
    fn header(&self, map: Map, name: &str) -> Result<Option<String>, HostError>;
    /// `len` bytes of a buffered body from `start` (fewer when it is shorter).
    fn body(&self, buffer: Buffer, start: usize, len: usize) -> Result<Vec<u8>, HostError>;
    /// A shared-data value (seen by every worker) and its compare-and-swap token ([`ABSENT`] when
    /// there is none).
    fn shared_get(&self, key: &str) -> Result<(Option<Vec<u8>>, u32), HostError>;
    /// Writes a shared-data value if `cas` is still current (0: unconditionally).
    fn shared_set(&self, key: &str, value: &[u8], cas: u32) -> Result<Swap, HostError>;
    /// Adds to a counter (`wasmcustom.model_router.<name>` in Envoy).
    fn count(&self, name: &str, by: u64);
    /// Sets a gauge.
    fn gauge(&self, name: &str, value: u64);
    /// Records a histogram value.
    fn histogram(&self, name: &str, value: u64);
    /// Writes filter state `model_router.<key>` for the access log.
    fn note(&self, key: &str, value: &str);
    /// Logs a line.
    fn log(&self, level: Level, message: &str);
    /// Envoy's reason for the response's status (the `response.code_details` property), which
    /// tells its own timeout from a provider's 504. `None` where the host keeps none.
    fn response_details(&self) -> Result<Option<String>, HostError> {
        Ok(None)
    }
    /// The instrumented build's span timings (`--features timing`); nothing otherwise.
    fn timing(&self, _name: &'static str, _ns: u64) {}
}

/// Seconds, from the host clock.
pub(crate) fn now_secs(host: &dyn Host) -> Result<u64, HostError> {
    host.now_ns().map(|ns| ns / 1_000_000_000)
}

/// Times a block as a span in the instrumented build (`--features timing`), reporting it
/// through [`Host::timing`]; nothing otherwise.
macro_rules! span {
    ($host:expr, $name:literal, $body:expr) => {{
        #[cfg(feature = "timing")]
        let start = $host.now_ns().unwrap_or(0);
        let out = $body;
        #[cfg(feature = "timing")]
        $host.timing(concat!("span.", $name), $host.now_ns().unwrap_or(start).saturating_sub(start));
        out
    }};
}
pub(crate) use span;
