//! What a request carries between callbacks, and the rules that read a provider's answer: a
//! routed request across its attempts (`Flight`: who is being tried, who is left, what
//! failed), a large answer being metered (`Meter`), a stream being watched (`Watch`), what the
//! request used (`Account`); retryable statuses, `retry-after`, a context-length error. No host
//! calls, and no import of the phase files: they act on what these say.

use std::cell::Cell;
use std::rc::Rc;

use model_router_scorer::Estimate;
use model_router_scorer::budget::nano;
use model_router_scorer::catalog::Api;
use model_router_scorer::protocol::native;
use model_router_scorer::protocol::reply::Meta;
use model_router_scorer::request::Layout;
use model_router_scorer::route::{Fallback, Memory, Upstream};
use model_router_scorer::stream::StreamUsage;
use model_router_scorer::translate::ResponseTranslation;
use model_router_scorer::usage::{Usage, UsageTail};

use crate::headers as h;
use crate::live::Probes;
use crate::spend::Reservation;

/// A routed request and its attempts.
pub(super) struct Flight {
    /// The decision as reported to the client (tier, prefer, auto, ...; not the answerer's).
    pub(super) report: Vec<(&'static str, String)>,
    /// The attempt in progress.
    pub(super) to: Upstream,
    /// Candidates not tried yet, best first.
    pub(super) fallbacks: Vec<Fallback>,
    /// The client's body, kept while a fallback may need it (empty otherwise).
    pub(super) body: Kept,
    /// Where its members are: a fallback's body is spliced from it, not parsed again.
    pub(super) layout: Layout,
    /// Attempts sent so far.
    pub(super) attempts: u32,
    /// The attempts that failed, in order, for the final error and `Fallback-From`.
    pub(super) failed: Vec<Failed>,
    /// The smallest `retry-after` (seconds) a rate-limited attempt was given.
    pub(super) retry_after: Option<u64>,
    /// Every candidate's breaker was open: fallbacks are tried without asking them.
    pub(super) fail_open: bool,
    /// When the current attempt was sent (host clock, ns).
    pub(super) sent_ns: u64,
    /// The client asked for a stream.
    pub(super) stream: bool,
    /// The client asked for the stream's usage.
    pub(super) usage_requested: bool,
    /// The choices the client asked for (`n`): a stream is whole once each finished.
    pub(super) choices: u64,
    /// How the response body is translated back (Titan embeddings).
    pub(super) translation: Option<ResponseTranslation>,
    /// The next attempt, asked of the host and not yet confirmed sent.
    pub(super) pending: Option<Box<Pending>>,
    /// The probe slots the attempt in flight took, given back if it never reports.
    pub(super) probes: Probes,
    /// What a translated answer says of itself (id, created, reasoning shown; `model` later).
    pub(super) meta: Meta,
    /// The tokens the route expected, which price each attempt's estimate (`None`: an
    /// embeddings request, whose reservation is its estimate).
    pub(super) estimate: Option<Estimate>,
    /// The request's own error (OpenAI's shape) a native stream opened with: the client's 400
    /// if no larger window answers.
    pub(super) refusal: Option<Vec<u8>>,
}

/// `tokens` of output at `to`'s price for `input` tokens of input (long inputs' rates), nano-USD.
pub(super) fn output_nano(to: &Upstream, input: u64, tokens: u64) -> u64 {
    nano(tokens as f64 * to.price().at(input).output / 1e6)
}

/// [`reported_input_nano`] of what a native stream's translator read (a `message_start`).
pub(super) fn told_input_nano(translator: Option<&native::Stream>, to: &Upstream) -> Option<u64> {
    reported_input_nano(&translator?.tokens()?.usage(), to)
}

/// The input part of reported counts, nano-USD at `to`'s price (cache reads and writes at theirs),
/// within its model's window (a cut stream that said 10^12 input tokens was charged $3,000,000).
pub(super) fn reported_input_nano(u: &Usage, to: &Upstream) -> Option<u64> {
    let input = Usage { output: 0, billed_ticks: None, ..*u };
    let input = input.beyond(to.context_window, to.max_output, None, 1, &to.price()).unwrap_or(input);
    (input.input > 0).then(|| nano(input.cost(&to.price())))
}

/// The output an answer passed on unheld is charged no less than: a token per four bytes of it,
/// up to `choices` answers of `to`'s output (128 choices' `logprobs` passed 524 KB for 512 tokens).
pub(super) fn passed_tokens(to: &Upstream, passed: u64, choices: u64) -> u64 {
    passed.div_ceil(4).min(to.most_output(choices))
}

/// The client's body kept for fallbacks, counted in the VM's ledger while it lives.
#[derive(Default)]
pub(super) struct Kept {
    bytes: Vec<u8>,
    ledger: Rc<Cell<usize>>,
}

impl Kept {
    /// Keeps `bytes` if the ledger has room for them under `limit`; `None` if not. A large
    /// body (over a sixteenth of the limit: an image or a document) may take only three
    /// quarters of it, so the last quarter is left to the requests most clients send (a few
    /// concurrent 8 MB images from one client took all of it, and every other client's
    /// request lost its fallback).
    pub(super) fn within(bytes: Vec<u8>, ledger: &Rc<Cell<usize>>, limit: u64) -> Option<Kept> {
        let total = ledger.get() + bytes.len();
        let large = bytes.len() as u64 > limit / 16;
        if total as u64 > if large { limit / 4 * 3 } else { limit } {
            return None;
        }
        ledger.set(total);
        Some(Kept { bytes, ledger: Rc::clone(ledger) })
    }
}

impl std::ops::Deref for Kept {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.ledger.set(self.ledger.get() - self.bytes.len());
    }
}

/// A fallback call the host was asked to make.
pub(super) struct Pending {
    /// The candidate called.
    pub(super) next: Upstream,
    /// Why it is called.
    pub(super) why: Retry,
    /// Where the failure that led to it was seen: how the request ends when none is left.
    pub(super) origin: Origin,
    /// When it was asked for (host clock, ns).
    pub(super) now_ns: u64,
    /// The probe slots it took.
    pub(super) probes: Probes,
}

/// Where an attempt's failure was seen.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// In the routed attempt's response headers (a retryable status), or in its held body (no
    /// answer, or a key refused with a 400).
    Answering,
    /// In the routed attempt's 400 body (a context-length error).
    Checking,
    /// In a fallback's answer, with its status and body size.
    Fallback { status: u16, body_size: usize },
}

impl Flight {
    /// The first attempt at `to`, sent at `sent_ns`, with nothing to fall back on.
    pub(super) fn new(to: Upstream, sent_ns: u64) -> Flight {
        Flight {
            report: Vec::new(),
            to,
            fallbacks: Vec::new(),
            body: Kept::default(),
            layout: Layout::default(),
            attempts: 1,
            failed: Vec::new(),
            retry_after: None,
            fail_open: false,
            sent_ns,
            stream: false,
            usage_requested: false,
            choices: 1,
            translation: None,
            pending: None,
            probes: Probes::default(),
            meta: Meta::default(),
            estimate: None,
            refusal: None,
        }
    }

    /// Whether the attempt's outcome is its provider's health: a chat attempt's (embeddings,
    /// without [`Flight::estimate`], route past no breaker).
    pub(super) fn feeds_health(&self) -> bool {
        self.estimate.is_some()
    }

    /// The attempt asked for flex capacity: a chat or Responses body carries `service_tier` on.
    pub(super) fn flex_sent(&self) -> bool {
        self.layout.flex() && matches!(self.to.api, Api::Chat | Api::Responses)
    }

    /// The router's headers for its own JSON answer in place of the attempt's.
    pub(super) fn json_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> =
            self.headers().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        headers.push((h::CONTENT_TYPE.into(), "application/json".into()));
        headers
    }

    /// What the current attempt was expected to cost at its own prices, nano-USD (a fallback
    /// may be dearer than the first candidate, whose estimate was reserved).
    pub(super) fn estimate_nano(&self) -> Option<u64> {
        self.estimate_nano_at(&self.to)
    }

    /// What the current attempt is charged when it ends unanswered (its client left, it was
    /// lost), nano-USD: its estimate; but a non-streamed one that reserved its worst case (under
    /// an output ceiling its client set, a Messages `max_tokens`; or without a cap under
    /// `budgets.reserve_max_output`), what it reserved, as a cap that sizes the answer is
    /// charged. Its provider writes on an answer no one reads, up to the cap, where the
    /// estimate assumes the usual length: a client that left each request before its answer
    /// spent forty times its limit. (A stream's provider stops when the router hangs up; a
    /// fallback's `call`, which proxy-wasm cannot cancel, runs to its end, streamed or not.)
    pub(super) fn unanswered_nano(&self, call: bool) -> Option<u64> {
        match self.estimate?.worst_case {
            Some(_) if !self.stream || call => self.reserve_nano_at(&self.to),
            _ => self.estimate_nano(),
        }
    }

    /// `tier`, `prefer`, `provider`, `model` of its attempt, for the metrics.
    pub(super) fn labels(&self) -> [String; 4] {
        let field = |name: &str| self.report.iter().find(|(k, _)| *k == name).map_or("", |(_, v)| v.as_str());
        [
            field(h::TIER).to_string(),
            field(h::PREFER).to_string(),
            self.to.provider.clone(),
            self.to.model.clone(),
        ]
    }

    /// The request's estimate at `to`'s prices, nano-USD.
    pub(super) fn estimate_nano_at(&self, to: &Upstream) -> Option<u64> {
        let e = self.estimate?;
        let output = e.output_on(&to.quirks, to.max_output);
        Some(nano(Usage { input: e.input_tokens, output, ..Usage::default() }.cost(&to.price())))
    }

    /// What the budgets hold for this request at `to`, nano-USD: its estimate (its text outside
    /// ASCII held more), or with a worst case (`budgets.reserve_max_output`, no output cap asked)
    /// its choices each writing `to`'s whole `max_output`, as the route reserved at first.
    pub(super) fn reserve_nano_at(&self, to: &Upstream) -> Option<u64> {
        let e = self.estimate?;
        let (input, output) = (e.input_tokens + e.wide_input, e.reserved_output(to.max_output, &to.quirks));
        Some(nano(Usage { input, output, ..Usage::default() }.cost(&to.price())))
    }

    /// The input part of that estimate, nano-USD: what a stream that passed on some of its
    /// answer cost at the least besides the tokens it passed on.
    pub(super) fn input_estimate_nano(&self) -> u64 {
        nano(Usage { input: self.input_tokens(), ..Usage::default() }.cost(&self.to.price()))
    }

    /// The request's input tokens, as estimated (0 for an embeddings request).
    pub(super) fn input_tokens(&self) -> u64 {
        self.estimate.map_or(0, |e| e.input_tokens)
    }

    /// Headers telling the client what ran.
    pub(super) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![
            (h::MODEL, self.to.model.clone()),
            (h::PROVIDER, self.to.provider.clone()),
            (h::ATTEMPTS, self.attempts.to_string()),
        ];
        // Every candidate that failed, those never sent too (a call that could not be made, a
        // cluster Envoy does not have or holds at its limits): an operator sees each.
        let from: Vec<&str> = self.failed.iter().map(|x| x.who.as_str()).collect();
        if !from.is_empty() {
            v.push((h::FALLBACK_FROM, from.join(", ")));
        }
        v.extend(self.report.iter().cloned());
        v
    }

    /// The translated answer's description, for the attempt now in flight.
    pub(super) fn meta(&self) -> Meta {
        Meta { model: self.to.model.clone(), ..self.meta.clone() }
    }

    pub(super) fn elapsed_ms(&self, now_ns: u64) -> f64 {
        now_ns.saturating_sub(self.sent_ns) as f64 / 1e6
    }
}

/// What an attempt's time tells its health records ([`Request::record_attempt`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Clock {
    /// A stream's headers through the route: judged when the stream ends, its first byte a
    /// latency observation for `prefer: fast`.
    Stream,
    /// A whole answer's headers, its body still to come through the route: judged when the
    /// body ends (a provider cutting every answer mid-body was a success at each one's headers,
    /// which reset the failures its cut then counted), no latency observation.
    Body,
    /// A whole answer's, a fallback's (it comes whole) or an error's: no latency observation
    /// ([`Outcome::Answered`](model_router_scorer::health::Outcome::Answered)).
    Whole,
    /// The route's timeout ended a whole answer still generating: its deployment's failure.
    Cut,
    /// Envoy's own answer for a request that never left the gateway: its 503 for a cluster at its
    /// circuit-breaker limits (one tenant holding the cluster's connections opened the provider's
    /// breaker for every other), its 404 for a cluster it does not have. It tells nothing of the
    /// provider.
    Unsent,
}

/// An attempt that failed.
pub(super) struct Failed {
    /// `provider/model`.
    pub(super) who: String,
    /// Its status (0: no response at all).
    pub(super) status: u16,
    /// It reached the provider (false: its cluster could not be called).
    pub(super) sent: bool,
}

impl Failed {
    pub(super) fn describe(&self) -> String {
        match (self.sent, self.status) {
            (false, 413) => format!("{} too large to send", self.who),
            (false, _) => format!("{} unreachable", self.who),
            (true, 0) => format!("{} no response", self.who),
            (true, 401 | 403) => format!("{} {} credentials rejected", self.who, self.status),
            (true, s) => format!("{} {s}", self.who),
        }
    }
}

/// Statuses another provider may answer: server errors, rate limits, Envoy's own 503/504 for
/// connection failures and timeouts, 401/403 (the client sends no key, so these reject the
/// gateway's own credentials), 404 (the provider does not serve the catalog's model there: the
/// client named a tier or a catalog id, not a provider's), 408 and 424 (Bedrock's
/// ModelTimeoutException and ModelErrorException: the model failed, not the request), 413 (the
/// provider's own size limit, or Groq's tokens per minute: another may take it), 402 (the
/// gateway's account with the provider owes: Cerebras) and 498 (Groq's flex tier out of
/// capacity). `0` is
/// an attempt that got no response at all. Any other status below 400 but 200 is no answer
/// either: every provider answers chat and embeddings with a 200, and a redirect is an endpoint
/// misconfigured (passed on, its `location` reached the client and the estimate was charged).
/// They count against the provider's health, and never reach the client as the provider wrote
/// them.
pub(super) fn retryable(status: u16) -> bool {
    matches!(status, 0 | 201..=399 | 401 | 402 | 403 | 404 | 408 | 413 | 424 | 429 | 498) || status >= 500
}

/// Envoy's reasons (`response.code_details`) for a 504 of its own after the request went
/// upstream (the provider had it and may bill its work): the route's timeouts, and the
/// connection manager's `stream_idle_timeout` (under the route's, a cut charged nothing).
pub(super) const TIMEOUT_DETAILS: [&str; 4] = [
    "upstream_per_try_idle_timeout",
    "upstream_per_try_timeout",
    "upstream_response_timeout",
    "stream_idle_timeout",
];

/// Why the next attempt is needed.
#[derive(Clone, Copy)]
pub(super) enum Retry {
    /// The provider failed: the next candidate.
    Failure,
    /// The request overflowed this context window: the next candidate with a larger one.
    Context(u64),
}

/// A provider's 400 saying the request overflows the model's context window, in words the
/// client's body does not hold ([`native::echoes_client`]).
pub(super) fn is_context_error(api: Api, error: &[u8], client: &[u8]) -> bool {
    native::is_context_error(api, 400, error) && !native::echoes_client(error, client)
}

/// A large non-streamed answer passing through unheld.
pub(super) struct Meter {
    /// Who answered.
    pub(super) to: Upstream,
    /// The request's input tokens, as estimated ([`output_nano`]'s rates).
    pub(super) input: u64,
    /// The answer's end so far.
    pub(super) tail: UsageTail,
    /// Bytes of it passed on so far.
    pub(super) passed: u64,
}

/// A streamed response being watched.
pub(super) struct Watch {
    /// Who is streaming.
    pub(super) to: Upstream,
    /// When the attempt was sent (ns).
    pub(super) sent_ns: u64,
    /// Its first answer was seen (text, reasoning or a call), and its latency recorded.
    pub(super) started: bool,
    /// Its provider ended it with an error the request caused (a content filter): not its health's.
    pub(super) refused: bool,
    /// Prices the usage chunk and checks the end.
    pub(super) editor: StreamUsage,
    /// Turns a native stream into OpenAI chunks first (`None`: it is OpenAI's already).
    pub(super) translator: Option<native::Stream>,
    /// Bytes of the provider's stream passed on so far.
    pub(super) passed: u64,
}

impl Watch {
    /// Its answer passed whole (see [`StreamUsage::whole`]), a native one's translated to its
    /// last event or said by its provider to have ended ([`native::Stream::ended`]).
    pub(super) fn whole(&self) -> bool {
        let translator = self.translator.as_ref();
        (self.editor.whole() || translator.is_some_and(native::Stream::ended))
            && !translator.is_some_and(native::Stream::failed)
    }

    /// The usage its provider reported: the usage chunk's, or what a native stream's
    /// translator read before that chunk was written.
    pub(super) fn usage(&self) -> Option<model_router_scorer::usage::Usage> {
        let read = || self.translator.as_ref().and_then(native::Stream::tokens).map(|t| t.usage());
        self.editor.usage.or_else(read)
    }
}

/// Bytes of an answer passed on past which the route's timeout may be its client's doing: a client
/// that stops reading stops Envoy reading from the provider only once the connection's write
/// buffer passes the listener's `per_connection_buffer_limit_bytes` (8 MiB in the shipped configs
/// and the README's listener). Below it (and a MiB the sockets hold), the provider stalled.
pub(super) const STALL_BYTES: u64 = 9 * 1024 * 1024;

/// A stream whose headers are held until its answer begins (`Phase::Opening`).
pub(super) struct Opening {
    /// The attempt.
    pub(super) flight: Box<Flight>,
    /// Its translator (a native stream's), fed what has come so far.
    pub(super) translator: Option<native::Stream>,
    /// Bytes of the held body already fed.
    pub(super) fed: usize,
    /// What the translator made of them (or them).
    pub(super) out: Vec<u8>,
    /// Of `out`, the whole events read that opened nothing (`stream::first_event_from`).
    pub(super) scanned: usize,
}

/// What a request used and where it went, for settlement, metrics and logs (at its end).
#[derive(Default)]
pub(super) struct Account {
    /// The conversation's tier to remember once a provider answers.
    pub(super) memory: Option<Memory>,
    /// The choices asked for (`n`; 0 before routing): each bills its own output.
    pub(super) choices: u64,
    /// Each choice's output cap, as the client set it (`Route::output_cap`).
    pub(super) output_cap: Option<u64>,
    /// The attempt whose answer began and is not judged yet (`Request::answer_ended`), with the
    /// probe slots it holds.
    pub(super) opened: Option<(Upstream, Probes)>,
    /// The budget reservation to settle.
    pub(super) reservation: Option<Reservation>,
    /// What dearer fallbacks reserved beside it, given back when it is settled.
    pub(super) more: Vec<Reservation>,
    /// `tier`, `prefer`, `provider`, `model` of the attempt that answered.
    pub(super) labels: Option<[String; 4]>,
    /// What the provider reported.
    pub(super) usage: Option<Usage>,
    /// Its price, USD.
    pub(super) cost: Option<f64>,
    /// The final status.
    pub(super) status: u16,
    /// The provider answered but its answer could not be translated, so the client got the
    /// router's 502: charged as an answer (the provider bills it), counted as a failure.
    pub(super) unreadable: bool,
    /// The estimates (nano-USD, each at its attempt's prices) of the attempts a provider had and
    /// never answered (Envoy's timeout, a fallback call that timed out or was reset): charged,
    /// since the provider may still bill its work.
    pub(super) lost_nano: u64,
    /// The estimate of the attempt that answered, at its prices (nano-USD): what an answer
    /// without usage is charged.
    pub(super) answered_estimate: Option<u64>,
    /// The usage is a failed stream's last counts, which may stop short of what the provider
    /// billed: charged at least the estimate.
    pub(super) at_least_estimate: bool,
    /// The least a stream that ended without its usage cost (`StreamUsage::streamed_floor`),
    /// nano-USD: charged when it is above the estimate.
    pub(super) floor: u64,
    /// The input part of the answering attempt's estimate, nano-USD, added to a stream's
    /// floor: the provider billed the input of a stream that passed on any of its answer.
    pub(super) input_estimate: u64,
    /// Its provider ended the stream with an error event, or before its last event: the
    /// request's outcome is `upstream_error`, though its status was a 200.
    pub(super) stream_failed: bool,
}

/// The translated chunks carry some of the answer: text, reasoning, a tool call or a finish
/// (the role chunk's empty content is none of these).
pub(super) fn answer_begun(out: &[u8]) -> bool {
    let has = |needle: &[u8]| out.windows(needle.len()).any(|w| w == needle);
    let content = b"\"content\":\"";
    has(b"\"tool_calls\"")
        || has(b"\"reasoning_content\"")
        || has(b"\"finish_reason\":\"")
        || out
            .windows(content.len() + 1)
            .any(|w| w.starts_with(content) && w.get(content.len()) != Some(&b'"'))
}
