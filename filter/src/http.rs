//! The per-request context: classify on headers, route on the complete body, report on the
//! response headers, fail over to the next candidate when a provider fails before the first
//! response byte, and make sure a stream that ends early says so.

use std::rc::Rc;
use std::time::Duration;

use model_router_scorer::budget::{BudgetView, nano};
use model_router_scorer::embeddings::route_embeddings;
use model_router_scorer::health::Outcome;
use model_router_scorer::request::Layout;
use model_router_scorer::route::{Fallback, Memory, Target, Upstream};
use model_router_scorer::translate::{self, ResponseTranslation};
use model_router_scorer::usage::{self, StreamUsage, TAIL_BYTES, Usage, UsageTail, format_usd};
use model_router_scorer::{ApiError, Endpoint, Route, analyze, endpoint, models};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use crate::headers as h;
use crate::host::{self, HostError};
use crate::live;
use crate::root::Shared;
use crate::spend::{self, Reservation};

/// Where a request is in its life. Each phase carries only what it needs.
enum Phase {
    /// Not ours: every callback continues untouched.
    PassThrough,
    /// A body to route is still arriving; Envoy buffers it while we pause.
    Buffering(Endpoint),
    /// Sent to a provider, waiting for its response headers.
    Routed(Box<Flight>),
    /// A provider's 400 is buffered to see whether it is a context-length error, which a
    /// larger-window model may still answer.
    Checking(Box<Flight>),
    /// The failed response is held (never reaching the client) while a fallback attempt runs
    /// out of band; its answer replaces it.
    Failing(Box<Flight>),
    /// A successful response whose body is being buffered for translation (the flight's
    /// `translation`), its headers held for its cost.
    Translating(Box<Flight>, u16),
    /// A successful non-streamed response held whole (up to
    /// `resilience.max_held_response_bytes`), so its headers can carry its cost.
    Costing(Box<Flight>),
    /// A non-streamed response too large to hold, passing through: its usage is read from its
    /// end on the way, for the logs and budgets.
    Metering(Box<Meter>),
    /// A streamed answer flowing to the client: its usage chunk priced, its end checked.
    Streaming(Box<Watch>),
    /// Answered locally.
    Answered,
}

/// A routed request and its attempts.
struct Flight {
    /// The decision as reported to the client (tier, prefer, auto, ...), besides model and
    /// provider, which belong to the attempt that answers.
    report: Vec<(&'static str, String)>,
    /// The attempt in progress.
    to: Upstream,
    /// Candidates not tried yet, best first.
    fallbacks: Vec<Fallback>,
    /// The client's body, kept while a fallback may need it (empty otherwise).
    body: Vec<u8>,
    /// Where its members are: a fallback's body is spliced from it, not parsed again.
    layout: Layout,
    /// Attempts sent so far.
    attempts: u32,
    /// The attempts that failed, in order, for the final error and `Fallback-From`.
    failed: Vec<Failed>,
    /// The smallest `retry-after` (seconds) a rate-limited attempt was given.
    retry_after: Option<u64>,
    /// Every candidate's breaker was open: fallbacks are tried without asking them.
    fail_open: bool,
    /// When the current attempt was sent (host clock, ns).
    sent_ns: u64,
    /// The client asked for a stream.
    stream: bool,
    /// The client asked for the stream's usage.
    usage_requested: bool,
    /// How the response body is translated back (Titan embeddings).
    translation: Option<ResponseTranslation>,
}

impl Flight {
    /// The first attempt at `to`, sent at `sent_ns`, with nothing to fall back on.
    fn new(to: Upstream, sent_ns: u64) -> Flight {
        Flight {
            report: Vec::new(),
            to,
            fallbacks: Vec::new(),
            body: Vec::new(),
            layout: Layout::default(),
            attempts: 1,
            failed: Vec::new(),
            retry_after: None,
            fail_open: false,
            sent_ns,
            stream: false,
            usage_requested: false,
            translation: None,
        }
    }

    /// Headers telling the client what ran.
    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (h::MODEL, self.to.model.clone()),
            (h::PROVIDER, self.to.provider.clone()),
            (h::ATTEMPTS, self.attempts.to_string()),
        ];
        let from: Vec<&str> = self.failed.iter().filter(|x| x.sent).map(|x| x.who.as_str()).collect();
        if !from.is_empty() {
            v.push((h::FALLBACK_FROM, from.join(", ")));
        }
        v.extend(self.report.iter().cloned());
        v
    }

    /// Keeps the smallest `retry-after` a rate-limited attempt was given.
    fn note_retry_after(&mut self, value: Option<&str>) {
        if let Some(secs) = retry_secs(value) {
            self.retry_after = Some(self.retry_after.map_or(secs, |r| r.min(secs)));
        }
    }

    fn elapsed_ms(&self, now_ns: u64) -> f64 {
        now_ns.saturating_sub(self.sent_ns) as f64 / 1e6
    }
}

/// An attempt that failed.
struct Failed {
    /// `provider/model`.
    who: String,
    /// Its status (0: no response at all).
    status: u16,
    /// It reached the provider (false: its cluster could not be called).
    sent: bool,
}

impl Failed {
    fn describe(&self) -> String {
        match (self.sent, self.status) {
            (false, _) => format!("{} unreachable", self.who),
            (true, 0) => format!("{} no response", self.who),
            (true, 401 | 403) => format!("{} {} credentials rejected", self.who, self.status),
            (true, s) => format!("{} {s}", self.who),
        }
    }
}

/// A large non-streamed answer passing through unheld.
struct Meter {
    /// Who answered.
    to: Upstream,
    /// The answer's end so far.
    tail: UsageTail,
}

/// A streamed response being watched.
struct Watch {
    /// Who is streaming.
    to: Upstream,
    /// When the attempt was sent (ns).
    sent_ns: u64,
    /// The first body byte was seen (and its latency recorded).
    started: bool,
    /// Prices the usage chunk and checks the end.
    editor: StreamUsage,
}

/// What a request used and where it went, for settlement, metrics and logs (written when the
/// stream ends).
#[derive(Default)]
struct Account {
    /// The budget reservation to settle.
    reservation: Option<Reservation>,
    /// `tier`, `prefer`, `provider`, `model` of the attempt that answered.
    labels: Option<[String; 4]>,
    /// What the provider reported.
    usage: Option<Usage>,
    /// Its price, USD.
    cost: Option<f64>,
    /// The final status.
    status: u16,
}

/// Statuses another provider may answer: server errors, rate limits, Envoy's own 503/504 for
/// connection failures and timeouts, and 401/403 (the client sends no key, so these reject
/// the gateway's own credentials). `0` is an attempt that got no response at all. They count
/// against the provider's health, and never reach the client as the provider wrote them.
fn retryable(status: u16) -> bool {
    matches!(status, 0 | 401 | 403 | 429) || status >= 500
}

/// Seconds between two "credentials rejected" lines for one provider.
const AUTH_LOG_INTERVAL_SECS: u64 = 60;

/// Seconds in a `retry-after` value (the HTTP-date form is not read).
fn retry_secs(value: Option<&str>) -> Option<u64> {
    value?.trim().parse().ok()
}

/// A provider's 400 saying the request overflows the model's context window.
fn is_context_error(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    ["context_length_exceeded", "maximum context length", "context window", "too many tokens"]
        .iter()
        .any(|m| text.contains(m))
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Writes filter state `wasm.model_router.<key>` (see the access-log format in the configs).
fn note(key: &str, value: &str) {
    if let Err(e) = host::set_property(&format!("model_router.{key}"), value) {
        host::log(LogLevel::Debug, &format!("model-router: {e}"));
    }
}

/// Sets `ours` on the response headers, replacing any of the same name, and drops the
/// provider's content-length when the router will change the body's length (Envoy then frames
/// it itself). One call per header: measured in Envoy, cheaper than reading and rewriting the
/// whole map (BENCHMARKS.md, the instrumented build).
fn add_response_headers(ours: Vec<(&'static str, String)>, body_changes_length: bool) {
    let result = ours
        .iter()
        .try_for_each(|(name, value)| host::set_header(MapType::HttpResponseHeaders, name, value))
        .and_then(|()| {
            if body_changes_length {
                host::remove_header(MapType::HttpResponseHeaders, h::CONTENT_LENGTH)
            } else {
                Ok(())
            }
        });
    if let Err(e) = result {
        host::log(LogLevel::Warn, &format!("model-router: {e}"));
    }
}

/// Why the next attempt is needed.
#[derive(Clone, Copy)]
enum Retry {
    /// The provider failed: the next candidate.
    Failure,
    /// The request overflowed this context window: the next candidate with a larger one.
    Context(u64),
}

/// One HTTP request.
pub struct Http {
    shared: Option<Rc<Shared>>,
    phase: Phase,
    /// The caller, from the configured client header.
    client: Option<String>,
    /// The request headers as the client sent them (without a forged cluster header), read
    /// once.
    request_headers: Vec<(String, String)>,
    /// What the request used, settled at its end.
    account: Account,
}

impl Http {
    /// A context for one request; `shared` is `None` only if the plugin never configured.
    pub fn new(shared: Option<Rc<Shared>>) -> Self {
        Http {
            shared,
            phase: Phase::PassThrough,
            client: None,
            request_headers: Vec::new(),
            account: Account::default(),
        }
    }

    fn reject(&mut self, e: &ApiError) -> Action {
        match e.allow {
            Some(methods) => self.reject_with(e, &[(h::ALLOW, methods)]),
            None => self.reject_with(e, &[]),
        }
    }

    fn reject_with(&mut self, e: &ApiError, extra: &[(&str, &str)]) -> Action {
        self.account.status = e.status;
        if let Some(shared) = &self.shared {
            shared.metrics.count(&format!("rejected.code.{}", live::stat_segment(e.code)), 1);
        }
        self.answer_with(u32::from(e.status), &e.body(), extra)
    }

    fn answer(&mut self, status: u32, body: &str) -> Action {
        self.answer_with(status, body, &[])
    }

    fn answer_with(&mut self, status: u32, body: &str, extra: &[(&str, &str)]) -> Action {
        let mut headers = vec![(h::CONTENT_TYPE, "application/json")];
        headers.extend_from_slice(extra);
        self.send_local(status, "model_router", &headers, body.as_bytes());
        Action::Pause
    }

    /// Answers the request from the router (the only way a request ends up `Answered`). The
    /// request is marked first (see [`h::ANSWERED`]), so Envoy's `local_reply_config` leaves
    /// the router's (already JSON) answer alone.
    fn send_local(&mut self, status: u32, details: &str, headers: &[(&str, &str)], body: &[u8]) {
        self.phase = Phase::Answered;
        if let Err(e) = host::set_header(MapType::HttpRequestHeaders, h::ANSWERED, details) {
            host::log(LogLevel::Warn, &format!("model-router: {e}"));
        }
        if let Err(err) = host::send_response(status, details, headers, body) {
            host::log(LogLevel::Error, &format!("model-router: {err}"));
        }
    }

    fn host_failure(&mut self, e: HostError) -> Action {
        host::log(LogLevel::Error, &format!("model-router: {e}"));
        self.reject(&ApiError::server(
            500,
            "router_internal_error",
            "the router could not process this request",
        ))
    }

    /// Classifies the request. Returns the endpoint, or the error to answer with.
    fn classify(&mut self, shared: &Shared) -> Result<Result<Endpoint, ApiError>, HostError> {
        let config = &shared.config;
        // All request headers in one call: each call out of the VM costs more than the copy.
        let mut headers = host::headers(MapType::HttpRequestHeaders)?;
        // A client must never choose the cluster: drop any copy it sent, on every request.
        let forged =
            |k: &str| k.eq_ignore_ascii_case(&config.cluster_header) || k.eq_ignore_ascii_case(h::ANSWERED);
        if headers.iter().any(|(k, _)| forged(k)) {
            for name in [config.cluster_header.as_str(), h::ANSWERED] {
                host::remove_header(MapType::HttpRequestHeaders, name)?;
            }
            headers.retain(|(k, _)| !forged(k));
        }
        let get =
            |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let method = get(h::METHOD).unwrap_or_default();
        let path = get(h::PATH).unwrap_or_default();
        let ep = endpoint(&method, &path);
        if !matches!(ep, Ok(Endpoint::Chat | Endpoint::Embeddings | Endpoint::Models | Endpoint::Model)) {
            return Ok(ep);
        }
        if let Some(name) = &config.client_header {
            self.client = get(name);
        }
        // The body must be readable as sent: a compressed one would be routed on garbage.
        let encoding = get(h::CONTENT_ENCODING);
        let content_type = get(h::CONTENT_TYPE);
        self.request_headers = headers;
        if let Some(enc) = encoding.filter(|e| !e.trim().eq_ignore_ascii_case("identity")) {
            let e = ApiError::invalid(
                "unsupported_content_encoding",
                None,
                format!(
                    "content-encoding {} is not supported: send an uncompressed JSON body",
                    model_router_scorer::error::echo(&enc)
                ),
            )
            .with_status(415);
            return Ok(Err(e));
        }
        if matches!(ep, Ok(Endpoint::Chat | Endpoint::Embeddings)) && !is_json(content_type.as_deref()) {
            let e = ApiError::invalid(
                "unsupported_media_type",
                None,
                format!(
                    "content-type {} is not supported: send the body as application/json",
                    content_type.as_deref().map_or("(none)".to_string(), model_router_scorer::error::echo)
                ),
            )
            .with_status(415);
            return Ok(Err(e));
        }
        Ok(ep)
    }

    /// Points the request at its provider: new body, path, cluster and credentials. The
    /// client's own credentials never travel on.
    fn send(&mut self, shared: &Shared, t: &Target, body_size: usize) -> Result<u64, HostError> {
        crate::span!("replace_body", host::replace_buffer(BufferType::HttpRequestBody, body_size, &t.body))?;
        let cred = credential(shared, &t.to);
        let cluster_header = shared.config.cluster_header.as_str();
        let dropped = |k: &str| {
            h::CLIENT_CREDENTIALS.contains(&k)
                || k.starts_with(h::OWN_PREFIX)
                || k == cluster_header
                || cred.as_ref().is_some_and(|(name, _)| k.eq_ignore_ascii_case(name))
        };
        let mut headers: Vec<(String, String)> = Vec::with_capacity(self.request_headers.len() + 3);
        for (k, v) in &self.request_headers {
            match k.as_str() {
                h::PATH => headers.push((k.clone(), t.to.path.clone())),
                h::CONTENT_LENGTH => {}
                k if dropped(k) => {}
                _ => headers.push((k.clone(), v.clone())),
            }
        }
        headers.push((h::CONTENT_LENGTH.to_string(), t.body.len().to_string()));
        headers.extend(cred);
        // One write of the whole map. Changing request headers clears Envoy's route cache, so
        // the router filter re-matches and its `cluster_header` route sees the provider's
        // cluster.
        headers.push((cluster_header.to_string(), t.to.cluster.clone()));
        crate::span!("set_request_headers", host::set_headers(MapType::HttpRequestHeaders, &headers))?;
        host::now_nanos()
    }

    fn route_chat(&mut self, shared: &Shared, body_size: usize) -> Result<Action, HostError> {
        let config = &shared.config;
        let body = crate::span!("read_body", host::buffer(BufferType::HttpRequestBody, body_size))?;
        let snapshot = live::Snapshot::default();
        let analysis = match crate::span!("analyze", analyze(config, &body)) {
            Ok(a) => a,
            Err(e) => return Ok(self.reject(&e)),
        };
        // Stickiness: the scorer stays pure, so the remembered tier is read here and passed in.
        let remembered = match analysis.sticky_slot(config, self.client.as_deref()) {
            Some((key, _)) => host::shared_get(&key)?.0,
            None => None,
        };
        let now = host::now_secs()?;
        let scopes = config.budgets.scopes(self.client.as_deref());
        // Route on what the budgets have left, then reserve the estimate; a concurrent request
        // may take the room first, so look again (the ladder then steps down).
        let mut tries = 0;
        let (route, reservation) = loop {
            let view = if scopes.is_empty() { None } else { spend::view(&scopes, now)? };
            let ctx = model_router_scorer::Context {
                remembered: remembered.as_deref(),
                now,
                client: self.client.as_deref(),
                live: Some(&snapshot),
                budget: view.as_ref(),
            };
            let route = match crate::span!("route", analysis.route(config, &ctx)) {
                Ok(r) => r,
                Err(e) => return Ok(self.refuse(shared, &e, view.as_ref(), now)),
            };
            if scopes.is_empty() {
                break (route, None);
            }
            match spend::reserve(scopes.clone(), nano(route.estimate_usd), now)? {
                Some(r) => break (route, Some(r)),
                None if tries < 3 => tries += 1,
                None => return Ok(self.over_budget(shared, view.as_ref(), now)),
            }
        };
        self.account.reservation = reservation;
        if let Some(note) = &route.budget {
            let step = note.split(':').next().unwrap_or(note);
            shared.metrics.count(&format!("budget.step.{}", live::stat_segment(step)), 1);
        }
        if route.fail_open {
            shared.metrics.count("fail_open", 1);
        }
        if let Some(a) = &route.auto {
            // Score in thousandths: Envoy histograms take integers.
            shared.metrics.histogram("auto_score", (a.score * 1000.0).round() as u64);
        }
        if let Some(memory) = &route.memory {
            remember(memory)?;
        }
        let sent_ns = crate::span!("send", self.send(shared, &route.target, body_size))?;
        let failover = config.resilience.max_attempts > 1 && !route.fallbacks.is_empty();
        let report = chat_report(&route);
        self.phase = Phase::Routed(Box::new(Flight {
            report,
            stream: route.stream,
            fallbacks: route.fallbacks,
            body: if failover { body } else { Vec::new() },
            layout: route.layout,
            usage_requested: route.usage_requested,
            fail_open: route.fail_open,
            ..Flight::new(route.target.to, sent_ns)
        }));
        Ok(Action::Continue)
    }

    /// Refuses a request the router could not route; a spent budget says when it resets.
    fn refuse(&mut self, shared: &Shared, e: &ApiError, view: Option<&BudgetView>, now: u64) -> Action {
        if e.code != "budget_exceeded" {
            return self.reject(e);
        }
        shared.metrics.count("budget.step.exhausted", 1);
        let retry = view.map_or(60, |v| v.resets_at.saturating_sub(now)).to_string();
        self.reject_with(e, &[(h::BUDGET, "exhausted"), ("retry-after", &retry)])
    }

    /// Refuses a request whose reservation found a spend limit reached.
    fn over_budget(&mut self, shared: &Shared, view: Option<&BudgetView>, now: u64) -> Action {
        let e = view.map_or_else(
            || ApiError::server(429, "budget_exceeded", "the daily spend limit is reached"),
            |v| v.exhausted(now),
        );
        self.refuse(shared, &e, view, now)
    }

    /// Routes a complete embeddings body.
    fn route_embeddings(&mut self, shared: &Shared, body_size: usize) -> Result<Action, HostError> {
        let body = host::buffer(BufferType::HttpRequestBody, body_size)?;
        let ctx = model_router_scorer::Context {
            now: host::now_secs()?,
            client: self.client.as_deref(),
            ..Default::default()
        };
        let route = match route_embeddings(&shared.config, &body, &ctx) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(&e)),
        };
        // Embeddings count against the spend limits too. Their price is known only from the
        // answer's usage, so the reservation is a token nano-dollar: it refuses them once a
        // limit is spent, and their real cost is settled at the end.
        let scopes = shared.config.budgets.scopes(self.client.as_deref());
        if !scopes.is_empty() {
            match spend::reserve(scopes.clone(), 1, ctx.now)? {
                Some(r) => self.account.reservation = Some(r),
                None => {
                    let view = spend::view(&scopes, ctx.now)?;
                    return Ok(self.over_budget(shared, view.as_ref(), ctx.now));
                }
            }
        }
        let sent_ns = self.send(shared, &route.target, body_size)?;
        self.phase = Phase::Routed(Box::new(Flight {
            translation: route.translate,
            ..Flight::new(route.target.to, sent_ns)
        }));
        Ok(Action::Continue)
    }

    fn on_body_complete(&mut self, endpoint: Endpoint, body_size: usize) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.reject(&not_configured());
        };
        let routed = match endpoint {
            Endpoint::Embeddings => self.route_embeddings(&shared, body_size),
            _ => self.route_chat(&shared, body_size),
        };
        routed.unwrap_or_else(|e| self.host_failure(e))
    }
}

/// The header carrying `to`'s credentials, from the VM environment. Without a key there,
/// Envoy's credential_injector (if configured on the cluster) supplies it upstream.
fn credential(shared: &Shared, to: &Upstream) -> Option<(String, String)> {
    let auth = to.auth.as_ref()?;
    let key = shared.keys.get(&auth.env)?;
    Some((auth.header.clone(), format!("{}{key}", auth.prefix)))
}

/// The response headers that tell the client how the decision was made.
fn chat_report(route: &Route) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (h::TIER, route.tier.as_str().to_string()),
        (h::PREFER, route.prefer.as_str().to_string()),
        (h::SELECTION, route.selection.as_str().to_string()),
    ];
    if let Some(b) = &route.budget {
        v.push((h::BUDGET, b.clone()));
    }
    if let Some(why) = route.escalated {
        v.push((h::ESCALATED, why.to_string()));
    }
    if let Some(a) = &route.auto {
        v.push((h::AUTO_TIER, a.tier.as_str().to_string()));
        v.push((h::AUTO_SCORE, format!("{:.3}", a.score)));
        v.push((h::AUTO_REASONS, a.reasons.join(",")));
        if a.sticky {
            v.push((h::AUTO_STICKY, "true".to_string()));
        }
    }
    v
}

/// Stores a conversation's tier with compare-and-swap, so a concurrent writer on another
/// worker is merged with, not overwritten (the higher tier wins).
fn remember(memory: &Memory) -> Result<(), HostError> {
    for _ in 0..3 {
        let (current, cas) = host::shared_get(&memory.key)?;
        let value = memory.value(current.as_deref());
        if host::shared_set(&memory.key, value.as_bytes(), cas)? == host::Swap::Done {
            return Ok(());
        }
    }
    // Lost three races in a row: stickiness for this turn is best effort, routing is not.
    host::log(LogLevel::Warn, "model-router: could not store the conversation tier (contention)");
    Ok(())
}

fn not_configured() -> ApiError {
    ApiError::server(503, "router_not_configured", "the router has no valid configuration")
}

impl Context for Http {
    fn on_http_call_response(&mut self, _token: u32, _headers: usize, body_size: usize, _trailers: usize) {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Failing(f) => self.on_fallback_response(f, body_size),
            other => self.phase = other,
        }
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared.clone() else {
            return self.reject(&not_configured());
        };
        match self.classify(&shared) {
            Err(e) => self.host_failure(e),
            Ok(Err(e)) => self.reject(&e),
            Ok(Ok(Endpoint::NotRouted)) => Action::Continue,
            Ok(Ok(Endpoint::Models)) => {
                let now = match host::now_secs() {
                    Ok(n) => n,
                    Err(e) => return self.host_failure(e),
                };
                let policy = shared.config.policy_for(self.client.as_deref());
                self.answer(200, &models::list(&shared.config, policy, now))
            }
            Ok(Ok(Endpoint::Model)) => {
                let now = match host::now_secs() {
                    Ok(n) => n,
                    Err(e) => return self.host_failure(e),
                };
                let path = self.request_headers.iter().find(|(k, _)| k == h::PATH).map(|(_, v)| v.as_str());
                let id = model_router_scorer::route::model_id(path.unwrap_or_default()).unwrap_or_default();
                let policy = shared.config.policy_for(self.client.as_deref());
                match models::retrieve(&shared.config, policy, now, &id) {
                    Ok(body) => self.answer(200, &body),
                    Err(e) => self.reject(&e),
                }
            }
            Ok(Ok(ep)) if end_of_stream => self.on_body_complete(ep, 0),
            Ok(Ok(ep)) => {
                // Hold the headers: the cluster is only known once the whole body is here.
                // (Needs `allow_on_headers_stop_iteration: true` in Envoy's wasm config.)
                self.phase = Phase::Buffering(ep);
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.phase {
            Phase::Buffering(ep) if end_of_stream => self.on_body_complete(ep, body_size),
            // Pausing here asks Envoy to keep buffering (up to the listener's buffer limit).
            Phase::Buffering(_) => Action::Pause,
            _ => Action::Continue,
        }
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        // Trailers end the body without an end_of_stream body callback.
        if let Phase::Buffering(ep) = self.phase {
            let size = host::buffer(BufferType::HttpRequestBody, usize::MAX).map(|b| b.len());
            return match size {
                Ok(size) => self.on_body_complete(ep, size),
                Err(e) => self.host_failure(e),
            };
        }
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Routed(flight) => self.on_attempt_headers(flight, end_of_stream),
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match std::mem::replace(&mut self.phase, Phase::PassThrough) {
            Phase::Translating(f, status) => self.translate_body(f, status, body_size, end_of_stream),
            Phase::Metering(m) => self.meter(m, body_size, end_of_stream),
            Phase::Streaming(w) => self.watch_stream(w, body_size, end_of_stream),
            Phase::Checking(f) => self.check_client_error(f, body_size, end_of_stream),
            Phase::Costing(f) => self.cost_body(f, body_size, end_of_stream),
            // The failed response never reaches the client: its headers are held until the
            // fallback answers, and its body is dropped as it comes (however large it is).
            phase @ Phase::Failing(_) => {
                if body_size > 0
                    && let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, b"")
                {
                    host::log(LogLevel::Warn, &format!("model-router: {e}"));
                }
                self.phase = phase;
                Action::Pause
            }
            other => {
                self.phase = other;
                Action::Continue
            }
        }
    }

    fn on_log(&mut self) {
        self.finish();
    }
}

impl Http {
    /// The request is over: settle its budget reservation and count it.
    fn finish(&mut self) {
        let Some(shared) = self.shared.clone() else { return };
        let a = std::mem::take(&mut self.account);
        if let Some(r) = &a.reservation {
            // Answered without reported usage: charge the estimate; failed: nothing.
            let spent = match a.cost {
                Some(c) => nano(c),
                None if (200..400).contains(&a.status) => r.amount,
                None => 0,
            };
            for (scope, today) in spend::settle(r, spent) {
                let scope = match scope.label.strip_prefix("client ") {
                    Some(c) => format!("client.{}", live::stat_segment(c)),
                    None => "global".to_string(),
                };
                shared.metrics.gauge(&format!("budget_spent_nanousd.scope.{scope}"), today);
            }
        }
        let Some([tier, prefer, provider, model]) = &a.labels else { return };
        let outcome = match a.status {
            200..=399 => "ok",
            429 => "rate_limited",
            400..=499 => "client_error",
            _ => "upstream_error",
        };
        let label = |v: &str| if v.is_empty() { "none".to_string() } else { live::stat_segment(v) };
        let who = format!("provider.{}.model.{}", label(provider), label(model));
        let (tier, prefer) = (label(tier), label(prefer));
        shared.metrics.count(&format!("requests.tier.{tier}.prefer.{prefer}.{who}.outcome.{outcome}"), 1);
        if let Some(u) = a.usage {
            shared.metrics.count(&format!("tokens_in.{who}"), u.input);
            shared.metrics.count(&format!("tokens_out.{who}"), u.output);
        }
        if let Some(c) = a.cost {
            shared.metrics.count(&format!("cost_nanousd.{who}"), nano(c));
        }
    }

    fn shared_or_log(&self) -> Option<Rc<Shared>> {
        if self.shared.is_none() {
            host::log(LogLevel::Error, "model-router: response for a request routed without configuration");
        }
        self.shared.clone()
    }

    /// The routed attempt's response headers: record its health, then let it through, fail
    /// over, or look closer at a 400.
    fn on_attempt_headers(&mut self, mut f: Box<Flight>, end_of_stream: bool) -> Action {
        let Some(shared) = self.shared_or_log() else { return Action::Continue };
        let status = crate::span!("get_status", host::header(MapType::HttpResponseHeaders, h::STATUS))
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let now_ns = host::now_nanos().unwrap_or(f.sent_ns);
        if status == 429 {
            let after = host::header(MapType::HttpResponseHeaders, h::RETRY_AFTER).ok().flatten();
            f.note_retry_after(after.as_deref());
        }
        crate::span!("record_attempt", self.record_attempt(&shared, &mut f, status, now_ns));
        if retryable(status) {
            match self.fail_over(&shared, &mut f, Retry::Failure) {
                Ok(true) => {
                    self.phase = Phase::Failing(f);
                    return Action::Pause;
                }
                Ok(false) => {}
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: failover: {e}")),
            }
            // Nothing else can answer: the router's own error, never the provider's body.
            self.exhausted(&f);
            return Action::Pause;
        }
        // A translated body or an edited stream changes length; a translation is JSON.
        // (A translated provider's errors are translated too: one error shape for clients.)
        let translated = f.translation.is_some() && !end_of_stream;
        let edited_stream = status == 200 && f.translation.is_none() && f.stream && !end_of_stream;
        let mut ours = f.headers();
        if translated {
            ours.push((h::CONTENT_TYPE, "application/json".to_string()));
        }
        crate::span!("add_response_headers", add_response_headers(ours, translated || edited_stream));
        if status == 400 && !end_of_stream && f.attempts < shared.config.resilience.max_attempts {
            let window = f.to.context_window;
            if !f.body.is_empty() && f.fallbacks.iter().any(|u| u.context_window > window) {
                self.phase = Phase::Checking(f);
                return Action::Pause;
            }
        }
        crate::span!("served", self.served(&f, status));
        if translated {
            // Hold the headers until the body is translated, so they can carry its cost.
            self.phase = Phase::Translating(f, status);
            return Action::Pause;
        }
        if status == 200 && !end_of_stream {
            if edited_stream {
                // Cost added, usage chunk removed, an error event appended.
                let editor = StreamUsage::new((f.to.price_in, f.to.price_out), f.usage_requested);
                let Flight { to, sent_ns, .. } = *f;
                self.phase = Phase::Streaming(Box::new(Watch { to, sent_ns, started: false, editor }));
            } else {
                // Hold the headers until the body is here (if it is small), so they can carry
                // its cost.
                self.phase = Phase::Costing(f);
                return Action::Pause;
            }
        }
        Action::Continue
    }

    /// Notes the attempt that answered, for metrics and logs (filter state).
    fn served(&mut self, f: &Flight, status: u16) {
        self.account.status = status;
        let field = |name: &str| f.report.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v.as_str());
        let attempts = f.attempts.to_string();
        for (key, value) in [
            ("model", f.to.model.as_str()),
            ("provider", f.to.provider.as_str()),
            ("tier", field(h::TIER)),
            ("prefer", field(h::PREFER)),
            ("selection", field(h::SELECTION)),
            ("auto_score", field(h::AUTO_SCORE)),
            ("budget", field(h::BUDGET)),
            ("attempts", attempts.as_str()),
        ] {
            if !value.is_empty() {
                note(key, value);
            }
        }
        self.account.labels = Some([
            field(h::TIER).to_string(),
            field(h::PREFER).to_string(),
            f.to.provider.clone(),
            f.to.model.clone(),
        ]);
    }

    /// Notes what the answer used: filter state, and what settles the budget at the end.
    /// Returns the cost and token headers.
    fn used(&mut self, to: &Upstream, usage: Option<Usage>) -> Vec<(&'static str, String)> {
        let Some(u) = usage else { return Vec::new() };
        let cost = u.cost(to.price_in, to.price_out);
        self.account.usage = Some(u);
        self.account.cost = Some(cost);
        let out = vec![
            (h::COST, format_usd(cost)),
            (h::TOKENS_IN, u.input.to_string()),
            (h::TOKENS_OUT, u.output.to_string()),
        ];
        for (key, (_, value)) in ["cost", "tokens_in", "tokens_out"].into_iter().zip(&out) {
            note(key, value);
        }
        out
    }

    /// A held non-streamed answer: price it, put the price in its headers, let it go. One that
    /// outgrows `max_held_response_bytes` is let go unheld and priced from its end instead:
    /// holding it up to Envoy's buffer limit would turn the provider's success into a 500.
    fn cost_body(&mut self, f: Box<Flight>, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            if body_size as u64 > self.hold_limit() {
                let mut m = Box::new(Meter { to: f.to, tail: UsageTail::default() });
                read_tail(&mut m.tail, body_size);
                self.phase = Phase::Metering(m);
                return Action::Continue;
            }
            self.phase = Phase::Costing(f);
            return Action::Pause;
        }
        let usage = crate::span!(
            "read_response_body",
            host::buffer(BufferType::HttpResponseBody, body_size).ok().and_then(|b| usage::of_response(&b))
        );
        let used = crate::span!("used", self.used(&f.to, usage));
        crate::span!("cost_headers", add_response_headers(used, false));
        Action::Continue
    }

    /// A large answer on its way: its end is kept until the last chunk names its usage.
    fn meter(&mut self, mut m: Box<Meter>, body_size: usize, end_of_stream: bool) -> Action {
        read_tail(&mut m.tail, body_size);
        if end_of_stream {
            let usage = m.tail.usage();
            self.used(&m.to, usage);
        } else {
            self.phase = Phase::Metering(m);
        }
        Action::Continue
    }

    /// `resilience.max_held_response_bytes`.
    fn hold_limit(&self) -> u64 {
        self.shared.as_ref().map_or(u64::MAX, |s| s.config.resilience.max_held_response_bytes)
    }

    /// Records how an attempt went, for health and metrics.
    fn record_attempt(&self, shared: &Shared, f: &mut Flight, status: u16, now_ns: u64) {
        let outcome = if retryable(status) { Outcome::Failed } else { Outcome::Ok(f.elapsed_ms(now_ns)) };
        let now = now_ns / 1_000_000_000;
        live::record(&f.to, outcome, now, &shared.config.resilience, &shared.metrics);
        if retryable(status) {
            f.failed.push(Failed { who: format!("{}/{}", f.to.provider, f.to.model), status, sent: true });
        }
        if matches!(status, 401 | 403) {
            shared.metrics.count(&format!("auth_failed.provider.{}", live::stat_segment(&f.to.provider)), 1);
            let key = format!("model_router.auth_logged.{}", f.to.provider);
            if live::first_in(&key, AUTH_LOG_INTERVAL_SECS, now) {
                host::log(
                    LogLevel::Error,
                    &format!(
                        "model-router: credentials rejected by {} ({status}): check the key the gateway sends it",
                        f.to.provider
                    ),
                );
            }
        }
    }

    /// Sends the next attempt out of band (Envoy's async client, to the candidate's cluster,
    /// with its model id, path and credentials). Returns false when no candidate is left.
    fn fail_over(&mut self, shared: &Shared, f: &mut Flight, why: Retry) -> Result<bool, HostError> {
        let cfg = &shared.config.resilience;
        while f.attempts < cfg.max_attempts && !f.body.is_empty() {
            let next = match why {
                Retry::Failure => (!f.fallbacks.is_empty()).then_some(0),
                Retry::Context(window) => f.fallbacks.iter().position(|u| u.context_window > window),
            };
            let Some(i) = next else { return Ok(false) };
            // The flight's configuration is the one it was routed with (`shared` is held).
            let Some(next) = f.fallbacks.remove(i).upstream(&shared.config) else { continue };
            let now_ns = host::now_nanos()?;
            if !f.fail_open && !live::admit(&next, now_ns / 1_000_000_000, cfg)? {
                continue;
            }
            let body = f.layout.rewrite(&f.body, &next.upstream_model);
            let headers = self.attempt_headers(shared, &next, body.len())?;
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let timeout = Duration::from_millis(cfg.fallback_timeout_ms);
            match self.dispatch_http_call(&next.cluster, pairs, Some(&body), vec![], timeout) {
                Ok(_) => {
                    shared
                        .metrics
                        .count(&format!("failover.provider.{}", live::stat_segment(&f.to.provider)), 1);
                    f.to = next;
                    f.attempts += 1;
                    f.sent_ns = now_ns;
                    return Ok(true);
                }
                Err(status) => {
                    host::log(
                        LogLevel::Warn,
                        &format!("model-router: cannot call cluster {}: {status:?}", next.cluster),
                    );
                    f.failed.push(Failed {
                        who: format!("{}/{}", next.provider, next.model),
                        status: 0,
                        sent: false,
                    });
                }
            }
        }
        Ok(false)
    }

    /// The client's request headers for an attempt at `to`: its path, host and credentials;
    /// never the client's credentials, the cluster header or framing headers.
    fn attempt_headers(
        &self,
        shared: &Shared,
        to: &Upstream,
        body_len: usize,
    ) -> Result<Vec<(String, String)>, HostError> {
        let cred = credential(shared, to);
        let own = |k: &str| {
            k.starts_with(':')
                || h::NOT_FORWARDED.contains(&k)
                || h::CLIENT_CREDENTIALS.contains(&k)
                || k.starts_with(h::OWN_PREFIX)
                || k == shared.config.cluster_header
                || to.auth.as_ref().is_some_and(|a| a.header == k)
        };
        let mut out: Vec<(String, String)> = vec![
            (":method".into(), "POST".into()),
            (h::PATH.into(), to.path.clone()),
            (":authority".into(), to.host.clone()),
            (h::CONTENT_LENGTH.into(), body_len.to_string()),
        ];
        out.extend(self.request_headers.iter().filter(|(k, _)| !own(k)).cloned());
        out.extend(cred);
        Ok(out)
    }

    /// A fallback attempt's answer.
    fn on_fallback_response(&mut self, mut f: Box<Flight>, body_size: usize) {
        let Some(shared) = self.shared_or_log() else { return };
        let headers = host::headers(MapType::HttpCallResponseHeaders).unwrap_or_default();
        let status = headers
            .iter()
            .find(|(k, _)| k == h::STATUS)
            .and_then(|(_, v)| v.parse::<u16>().ok())
            .unwrap_or(0);
        let now_ns = host::now_nanos().unwrap_or(f.sent_ns);
        if status == 429 {
            let after = headers.iter().find(|(k, _)| k == h::RETRY_AFTER).map(|(_, v)| v.as_str());
            f.note_retry_after(after);
        }
        self.record_attempt(&shared, &mut f, status, now_ns);
        let body = host::buffer(BufferType::HttpCallResponseBody, body_size).unwrap_or_default();
        let again = if retryable(status) {
            Some(Retry::Failure)
        } else if status == 400 && is_context_error(&body) {
            Some(Retry::Context(f.to.context_window))
        } else {
            None
        };
        if let Some(why) = again {
            match self.fail_over(&shared, &mut f, why) {
                Ok(true) => {
                    self.phase = Phase::Failing(f);
                    return;
                }
                Ok(false) => {}
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: failover: {e}")),
            }
            if retryable(status) {
                return self.exhausted(&f);
            }
        }
        let mut body = body;
        let event_stream =
            headers.iter().any(|(k, v)| k == h::CONTENT_TYPE && v.starts_with("text/event-stream"));
        let usage = if status != 200 {
            None
        } else if event_stream {
            let mut editor = StreamUsage::new((f.to.price_in, f.to.price_out), f.usage_requested);
            if let Some(out) = editor.feed(&body, true) {
                body = out;
            }
            if !editor.done {
                shared.metrics.count("stream_truncated", 1);
            }
            editor.usage
        } else {
            usage::of_response(&body)
        };
        self.served(&f, status);
        let cost_headers = self.used(&f.to, usage);
        let mut reply: Vec<(String, String)> =
            f.headers().into_iter().chain(cost_headers).map(|(k, v)| (k.to_string(), v)).collect();
        reply.extend(headers.into_iter().filter(|(k, _)| {
            matches!(k.as_str(), "content-type" | "retry-after" | "x-request-id")
                || k.starts_with("x-ratelimit-")
        }));
        let pairs: Vec<(&str, &str)> = reply.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.send_local(u32::from(status), "model_router_fallback", &pairs, &body);
    }

    /// Every attempt failed: one error in the OpenAI shape naming them (never a provider's
    /// body): 429 `rate_limit_exceeded` with the smallest `retry-after` when all were rate
    /// limits, 502 `provider_auth_failed` when all rejected the gateway's credentials, else 502
    /// `upstream_failed`.
    fn exhausted(&mut self, f: &Flight) {
        let sent: Vec<u16> = f.failed.iter().filter(|x| x.sent).map(|x| x.status).collect();
        let all = |p: fn(u16) -> bool| !sent.is_empty() && sent.iter().all(|s| p(*s));
        let summary = f.failed.iter().map(Failed::describe).collect::<Vec<_>>().join(", ");
        let attempts = f.attempts;
        let e = if all(|s| s == 429) {
            let mut e = ApiError::server(
                429,
                "rate_limit_exceeded",
                format!(
                    "every provider that can serve this request is rate limited ({summary}): retry after retry-after seconds"
                ),
            );
            e.kind = "rate_limit_error";
            e
        } else if all(|s| s == 401 || s == 403) {
            ApiError::server(
                502,
                "provider_auth_failed",
                format!(
                    "the providers rejected the gateway's credentials ({summary}): the gateway's operator must fix its provider keys"
                ),
            )
        } else {
            ApiError::server(
                502,
                "upstream_failed",
                format!("all {attempts} attempts failed ({summary}): retry later"),
            )
        };
        self.account.status = e.status;
        let retry = f.retry_after.unwrap_or(1).to_string();
        let headers = f.headers();
        let mut pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push((h::CONTENT_TYPE, "application/json"));
        if e.status == 429 {
            pairs.push((h::RETRY_AFTER, &retry));
        }
        self.send_local(u32::from(e.status), "model_router_exhausted", &pairs, e.body().as_bytes());
    }

    /// A provider's 400, buffered: a context-length error moves to a larger window.
    fn check_client_error(&mut self, mut f: Box<Flight>, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream {
            // An error body this large is no context-length error: let it go.
            if body_size as u64 <= self.hold_limit() {
                self.phase = Phase::Checking(f);
                return Action::Pause;
            }
            return Action::Continue;
        }
        let Some(shared) = self.shared_or_log() else { return Action::Continue };
        let body = host::buffer(BufferType::HttpResponseBody, body_size).unwrap_or_default();
        if is_context_error(&body) {
            let why = Retry::Context(f.to.context_window);
            match self.fail_over(&shared, &mut f, why) {
                Ok(true) => {
                    self.phase = Phase::Failing(f);
                    return Action::Pause;
                }
                Ok(false) => {}
                Err(e) => host::log(LogLevel::Warn, &format!("model-router: failover: {e}")),
            }
        }
        Action::Continue
    }

    /// Watches a stream: its first byte's latency, its usage chunk (priced, or removed when
    /// the client did not ask for it), and its end.
    fn watch_stream(&mut self, mut w: Box<Watch>, body_size: usize, end_of_stream: bool) -> Action {
        if body_size > 0 && !w.started {
            w.started = true;
            if let Ok(now_ns) = host::now_nanos() {
                let ms = now_ns.saturating_sub(w.sent_ns) as f64 / 1e6;
                live::record_first_byte(&w.to, ms, now_ns / 1_000_000_000);
            }
        }
        match host::buffer(BufferType::HttpResponseBody, body_size) {
            Ok(chunk) => {
                if let Some(out) = w.editor.feed(&chunk, end_of_stream)
                    && let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, &out)
                {
                    host::log(LogLevel::Error, &format!("model-router: {e}"));
                }
            }
            Err(e) => host::log(LogLevel::Error, &format!("model-router: {e}")),
        }
        if !end_of_stream {
            self.phase = Phase::Streaming(w);
            return Action::Continue;
        }
        if !w.editor.done {
            if let Some(shared) = &self.shared {
                shared.metrics.count("stream_truncated", 1);
            }
            host::log(
                LogLevel::Warn,
                &format!("model-router: stream from {} ended without [DONE]", w.to.provider),
            );
        }
        let usage = w.editor.usage;
        self.used(&w.to, usage);
        Action::Continue
    }

    /// A translated answer (Titan embeddings), held whole: translated, priced, let go.
    fn translate_body(
        &mut self,
        mut f: Box<Flight>,
        status: u16,
        body_size: usize,
        end_of_stream: bool,
    ) -> Action {
        if !end_of_stream {
            // Buffer the whole (small: one embedding) provider response before rewriting it.
            self.phase = Phase::Translating(f, status);
            return Action::Pause;
        }
        let Some(t) = f.translation.take() else { return Action::Continue };
        let out = host::buffer(BufferType::HttpResponseBody, body_size).map(|body| match status {
            200 => translate::response(&t, &body),
            _ => Ok(translate::error_response(status, &body)),
        });
        let replacement = match out {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(why)) => {
                host::log(LogLevel::Warn, &format!("model-router: {why}"));
                // The headers are still held: the status can say what the body says.
                if let Err(e) = host::set_header(MapType::HttpResponseHeaders, h::STATUS, "502") {
                    host::log(LogLevel::Warn, &format!("model-router: {e}"));
                }
                ApiError::server(
                    502,
                    "bad_upstream_response",
                    "the provider's response could not be translated",
                )
                .body()
                .into_bytes()
            }
            Err(e) => {
                host::log(LogLevel::Error, &format!("model-router: {e}"));
                return Action::Continue;
            }
        };
        let used = self.used(&f.to, usage::of_response(&replacement));
        add_response_headers(used, false);
        if let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, &replacement) {
            host::log(LogLevel::Error, &format!("model-router: {e}"));
        }
        Action::Continue
    }
}

/// Feeds the end of the `body_size` bytes of response body now in Envoy's buffer to `tail`:
/// only what the tail keeps crosses into the VM.
fn read_tail(tail: &mut UsageTail, body_size: usize) {
    let start = body_size.saturating_sub(TAIL_BYTES);
    match host::buffer_range(BufferType::HttpResponseBody, start, body_size - start) {
        Ok(bytes) => tail.feed(&bytes),
        Err(e) => host::log(LogLevel::Warn, &format!("model-router: {e}")),
    }
}
