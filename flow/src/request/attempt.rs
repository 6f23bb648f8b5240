//! An attempt at a provider: its response headers (let through, failed over, or a 400 looked
//! at closer, in `checked`) and its health record.

use model_router_scorer::health::Outcome;
use model_router_scorer::protocol::native;
use model_router_scorer::usage::UsageTail;

use super::flight::{Clock, Failed, Flight, Meter, Opening, Origin, Retry, TIMEOUT_DETAILS, retryable};
use super::{Phase, Request};
use crate::headers as h;
use crate::io::{Effect, Host, Level, Map, Verdict};
use crate::live;
use crate::metrics as m;

/// Whether Envoy's `response.code_details` name a reply a filter after the router made (the
/// filters that answer requests themselves: authorization, JWT, external processing, rate
/// limits, RBAC, OAuth, CSRF, Lua), not one of the router filter's own (`via_upstream`,
/// `upstream_*`, `cluster_not_found`). (A fault filter's abort is left a failure: it stands
/// for the provider's, and a failover is what it tests.)
fn neighbours_reply(details: &str) -> bool {
    const PREFIXES: [&str; 10] = [
        "ext_authz",
        "jwt_authn",
        "ext_proc",
        "local_rate_limited",
        "request_rate_limited",
        "rate_limiter_error",
        "rbac_access_denied",
        "oauth",
        "csrf",
        "lua",
    ];
    PREFIXES.iter().any(|p| details.starts_with(p))
}

/// Logs, once a minute, an answer compressed though the router asked for none
/// (`accept-encoding: identity`): a filter after the router that asks for gzip, or a provider
/// (a CDN before it) that ignores the header. The router cannot read such an answer: its usage
/// is unread (charged the estimate), a native one untranslatable (a 502).
pub(super) fn compressed(host: &dyn Host, provider: &str, headers: &[(String, String)]) -> bool {
    let Some(encoding) = find(headers, h::CONTENT_ENCODING).filter(|e| encoded(e)) else {
        return false;
    };
    if live::once_a_minute(host, "model_router.compressed") {
        host.log(
            Level::Error,
            &format!(
                "model-router: {provider} answered compressed (content-encoding: {encoding}), which the router cannot read (its usage, a translation): no filter after the router may ask for compression (accept-encoding)"
            ),
        );
    }
    true
}

/// Whether a `content-encoding` value names a compression (anything but `identity`).
pub(super) fn encoded(content_encoding: &str) -> bool {
    !content_encoding.trim().eq_ignore_ascii_case("identity")
}

/// A header's value in `headers`.
pub(super) fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Envoy's own 503 for a cluster at its circuit-breaker limits: the attempt never reached the
/// provider. The route's attempt is told by Envoy's `response.code_details`
/// (`upstream_reset_before_response_started{overflow}`, `details`); a fallback's call, which has
/// none, by Envoy's mark `x-envoy-overloaded` on a reply no upstream sent (Envoy times every
/// answer an upstream sent, `x-envoy-upstream-service-time`). A provider's own 503 so marked (a
/// provider behind its own Envoy, overloaded) is the provider's.
pub(super) fn overflow(status: u16, details: Option<&str>, headers: &[(String, String)]) -> bool {
    status == 503
        && match details {
            Some(d) => d.ends_with("{overflow}"),
            None => find(headers, h::ENVOY_OVERLOADED).is_some() && find(headers, h::UPSTREAM_TIME).is_none(),
        }
}

/// What Envoy's own reply for an attempt says (its `response.code_details`): the provider may
/// never have seen the request.
struct EnvoysOwn {
    /// The route's timeout (or the connection manager's) cut an attempt the provider had.
    timed_out: bool,
    /// A filter after the router answered ([`neighbours_reply`]).
    neighbour: bool,
    /// Envoy's 413: the body made for this provider is over its buffer limit.
    too_large: bool,
    /// The provider never saw it: no cluster, no route, too large, its cluster full.
    unsent: bool,
}

/// Reads Envoy's reason for an attempt's `status`, and logs (once a minute) the causes that
/// are the gateway configuration's to mend.
fn envoys_own(
    host: &dyn Host,
    f: &Flight,
    cluster_header: &str,
    status: u16,
    headers: &[(String, String)],
) -> EnvoysOwn {
    let details = (status >= 300).then(|| host.response_details().ok().flatten()).flatten();
    let details = details.as_deref();
    let timed_out = status == 504 && details.is_some_and(|d| TIMEOUT_DETAILS.contains(&d));
    // A filter after the router answered (an `ext_authz` denying, a rate limit): the
    // gateway's answer, not the provider's, passed on as it is. Failed over, a denied request
    // was answered by a fallback (the router's own call, which no filter after it sees), and
    // each rate-limited one fed a healthy provider's breaker.
    let neighbour = details.is_some_and(neighbours_reply);
    if neighbour && live::once_a_minute(host, "model_router.neighbour_reply") {
        host.log(
            Level::Warn,
            &format!(
                "model-router: a filter after the router answered {status} ({}): passed on as the gateway's answer; put such filters before the router",
                details.unwrap_or_default()
            ),
        );
    }
    // Envoy's 404 for a cluster it does not have (the catalog's `clusters` naming one the Envoy
    // configuration lacks): the next candidate is tried without blaming the provider.
    let no_cluster = status == 404 && details == Some("cluster_not_found");
    if no_cluster && live::once_a_minute(host, &format!("model_router.no_cluster.{}", f.to.cluster)) {
        host.log(
            Level::Error,
            &format!(
                "model-router: Envoy found no cluster '{}' for provider {}: define it, or correct the configuration's `clusters`; if it is defined, the route does not read the configuration's cluster_header ({cluster_header}): make its `cluster_header` that name",
                f.to.cluster, f.to.provider
            ),
        );
    }
    // Envoy's 404 for no route, or a route's own answer (`direct_response`): the route cache
    // cleared by the router's headers, the route is chosen again on the provider's path
    // (`/v1beta/openai/...`, `/openai/v1/...`), which a route table narrower than `/` does not
    // match (nine of them opened Gemini's breaker).
    let no_route =
        (status == 404 && details == Some("route_not_found")) || details == Some("direct_response");
    if no_route && live::once_a_minute(host, "model_router.no_route") {
        host.log(
            Level::Error,
            &format!(
                "model-router: Envoy did not route {}'s path to its cluster once the router chose it ({}): the route that reads cluster_header ({cluster_header}) must match every provider's path (a prefix of /), ahead of any other route the providers' paths would match",
                f.to.provider,
                details.unwrap_or_default()
            ),
        );
    }
    // Envoy's 413: the body made for this provider (a translation grows one) is over the buffer
    // limit. Unsent too: the next candidate (its body made anew, as a call) is tried.
    let too_large = status == 413 && details == Some("request_payload_too_large");
    let unsent = no_cluster || no_route || too_large || overflow(status, details, headers);
    EnvoysOwn { timed_out, neighbour, too_large, unsent }
}

impl Request {
    /// The routed attempt's response headers: record its health, then let it through, fail
    /// over, or look closer at a 400.
    pub(super) fn on_attempt_headers(
        &mut self,
        host: &dyn Host,
        mut f: Box<Flight>,
        end_of_stream: bool,
    ) -> Verdict {
        let Some(shared) = self.shared_or_log(host) else {
            return Verdict::Continue;
        };
        // Read once: the status, and the few headers looked at below.
        let headers =
            crate::io::span!(host, "get_headers", host.headers(Map::ResponseHeaders)).unwrap_or_default();
        let status = match find(&headers, h::STATUS).and_then(|s| s.parse::<u16>().ok()) {
            // A 200 that ends at its headers holds no answer: the provider's failure, as a 502
            // (passed on, a stream's client read an answer of nothing, with no error).
            Some(200) if end_of_stream => {
                host.log(
                    Level::Warn,
                    &format!("model-router: {} answered 200 without a body", f.to.provider),
                );
                502
            }
            status => status.unwrap_or(0),
        };
        let now_ns = host.now_ns().unwrap_or(f.sent_ns);
        f.note_retry_after(status, find(&headers, h::RETRY_AFTER), now_ns);
        let encoded = compressed(host, &f.to.provider, &headers);
        let own = envoys_own(host, &f, &shared.config.cluster_header, status, &headers);
        let EnvoysOwn { timed_out, neighbour, too_large, unsent } = own;
        if timed_out {
            // Envoy's own timeout, not the provider's answer: the provider had the request.
            self.lost(host, &f);
        }
        if neighbour {
            // The gateway's reply, passed on as it is: no attempt at the provider (its probe
            // slot freed, nothing recorded against it, no fallback named), nothing to charge
            // (a filter's 302 was charged the estimate, as a 3xx answer without usage is), and
            // none of the router's headers naming a model that never answered.
            live::release(host, &f.to, std::mem::take(&mut f.probes));
            remove_private(&headers, &mut self.effects);
            self.served(host, &f, status);
            self.account.answered_estimate = Some(0);
            return Verdict::Continue;
        }
        // A native answer (Anthropic, Bedrock, Responses) is translated whole, or as a
        // stream; Titan's likewise. Either changes the body's length, and a translation is
        // JSON or SSE. (A translated provider's errors are translated too: one error shape.)
        let native = native::translated(f.to.api);
        // Compressed, though the router asked for none: an answer the router must translate (a
        // native API's, or for a Messages or Responses client) it cannot read, and it is the
        // provider's failure, charged as lost; a chat client of an OpenAI-compatible provider
        // gets it as it came, unread (it was judged a stream that never opened, its provider's
        // breaker fed, or passed to a Messages client as a chat completion).
        if encoded && status == 200 && (native || self.inbound.is_some()) {
            self.lost(host, &f);
            self.record_attempt(host, &mut f, 502, now_ns, Clock::Whole);
            return self.fail_over_or(host, f, Retry::Failure, Origin::Answering);
        }
        let native_stream = native && status == 200 && f.stream && !end_of_stream;
        // An OpenAI-compatible provider that answers a stream request with one JSON body (it
        // ignored `stream`) is held and priced as a whole answer, not read as a stream that
        // never ends its events.
        let sse = f.stream && !native && find(&headers, h::CONTENT_TYPE).is_some_and(native::is_event_stream);
        // A stream the router reads on its way (native or not): its headers are held until it
        // opens (`open_stream`).
        let edited_stream = status == 200
            && f.translation.is_none()
            && f.stream
            && (native || sse)
            && !end_of_stream
            && !encoded;
        // A 400 is held and read (`check_client_error`): a context-length error another
        // candidate could answer, or the gateway's key refused with a 400 (Gemini's), which is
        // the gateway's failure whether or not another candidate is left. (Not a translated
        // answer's: its errors are translated whole.)
        let check = !native && status == 400 && !end_of_stream && f.translation.is_none();
        // A translated 400 is read whole too (`translate_body`): the gateway's account refused.
        let translated_400 = status == 400 && !end_of_stream && (native || f.translation.is_some());
        // A stream's attempt is recorded once it opens (`open_stream`), a held 400's once it is
        // read.
        if !edited_stream && !check && !translated_400 {
            // A whole answer the timeout ended was still generating: its model's time, which
            // the request's length decides, not its provider's health (one client's long
            // answers opened the provider's breaker for every client and every model of it).
            let clock = match (f.stream, timed_out, end_of_stream) {
                _ if unsent => Clock::Unsent,
                (true, _, _) => Clock::Stream,
                (false, true, _) => Clock::Cut,
                (false, false, false) => Clock::Body,
                (false, false, true) => Clock::Whole,
            };
            crate::io::span!(
                host,
                "record_attempt",
                self.record_attempt(host, &mut f, status, now_ns, clock)
            );
        }
        if retryable(status) || too_large {
            return self.fail_over_or(host, f, Retry::Failure, Origin::Answering);
        }
        let translated = (f.translation.is_some() || native) && !native_stream && !end_of_stream;
        remove_private(&headers, &mut self.effects);
        let mut ours = f.headers();
        if translated {
            ours.push((h::CONTENT_TYPE, "application/json".to_string()));
        } else if native_stream {
            ours.push((h::CONTENT_TYPE, native::EVENT_STREAM.to_string()));
        }
        crate::io::span!(
            host,
            "add_response_headers",
            self.add_response_headers(ours, translated || edited_stream)
        );
        if edited_stream {
            // Held until the stream shows whether it opens with an error or with its answer.
            let translator = native::Stream::new(f.to.api, f.meta());
            self.phase = Phase::Opening(Box::new(Opening {
                flight: f,
                translator,
                fed: 0,
                out: Vec::new(),
                scanned: 0,
            }));
            return Verdict::Pause;
        }
        if check {
            self.phase = Phase::Checking(f);
            return Verdict::Pause;
        }
        crate::io::span!(host, "served", self.served(host, &f, status));
        if translated {
            // Hold the headers until the body is translated, so they can carry its cost.
            self.phase = Phase::Translating(f, status);
            return Verdict::Pause;
        }
        if status == 200 && !end_of_stream {
            if encoded
                || find(&headers, h::CONTENT_LENGTH)
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > self.hold_limit())
            {
                // Declared too large to hold: metered on its way from the start. Holding its
                // first chunk would let Envoy buffer one more upstream read on top before the
                // next callback, and past the listener's limit that read is a 500.
                let input = f.input_tokens();
                let Flight { to, .. } = *f;
                self.phase =
                    Phase::Metering(Box::new(Meter { to, input, tail: UsageTail::default(), passed: 0 }));
            } else {
                // Hold the headers until the body is here (if it is small), so they can carry
                // its cost.
                self.phase = Phase::Costing(f);
                return Verdict::Pause;
            }
        }
        Verdict::Continue
    }

    /// Records how an attempt went, for health and metrics; `clock` says what its time tells.
    pub(super) fn record_attempt(
        &mut self,
        host: &dyn Host,
        f: &mut Flight,
        status: u16,
        now_ns: u64,
        clock: Clock,
    ) {
        let Some(shared) = self.shared.clone() else { return };
        let probes = std::mem::take(&mut f.probes); // Its outcome's to settle, or its answer's end's.
        if clock == Clock::Unsent {
            f.attempts = f.attempts.saturating_sub(1); // Never sent: no attempt.
            live::release(host, &f.to, probes);
            f.failed.push(Failed { who: format!("{}/{}", f.to.provider, f.to.model), status, sent: false });
            return;
        }
        // Nothing to write until it ends: no shared-data update at its headers.
        if matches!(clock, Clock::Stream | Clock::Body) && status < 400 && !retryable(status) {
            if f.feeds_health() {
                self.account.opened = Some((f.to.clone(), probes));
            }
            return;
        }
        let outcome = if retryable(status) { Outcome::Failed } else { Outcome::Answered };
        let now = now_ns / 1_000_000_000;
        let model_only =
            matches!(status, 404 | 408 | 424) || (matches!(status, 0 | 504) && clock == Clock::Cut);
        match f.feeds_health() {
            // Flex capacity used up (Groq's 498, a 429 to flex sent on) is not its health, nor
            // a provider's 413, its limit on this request's size (five over-size requests opened
            // the model's breaker there, and moved every client's small ones elsewhere).
            true if matches!(status, 413 | 498) || (status == 429 && f.flex_sent()) => {
                live::release(host, &f.to, probes)
            }
            true if model_only => {
                live::record_model(host, &f.to, Outcome::Answered, probes, now, &shared.config.resilience)
            }
            true => live::record(host, &f.to, outcome, probes, now, &shared.config.resilience),
            false => {}
        }
        if retryable(status) {
            f.failed.push(Failed { who: format!("{}/{}", f.to.provider, f.to.model), status, sent: true });
        }
        // The gateway's key, or its account (402: its credit, quota or model access), refused.
        if matches!(status, 401..=403) {
            host.count(&m::labelled(m::AUTH_FAILED, &[("provider", &m::stat_segment(&f.to.provider))]), 1);
            let key = format!("model_router.auth_logged.{}", f.to.provider);
            if live::once_a_minute(host, &key) {
                let p = &f.to.provider;
                let what = if status == 402 {
                    format!("the gateway's account refused by {p} (its credit, quota or model access)")
                } else {
                    format!("credentials rejected by {p} ({status}): check the key the gateway sends it")
                };
                host.log(Level::Error, &format!("model-router: {what}"));
            }
        }
    }
}

/// Takes out of an answer the headers that are not the client's. Those under the router's own
/// prefix are the router's word: a provider's (another router upstream, as a chained gateway
/// has) would pass for this one's, beside it or where this one sets none (a stream has no cost
/// header). Those naming the gateway's account with the provider, or setting its cookies, are
/// not the client's either (a fallback's answer passes on only a few named ones).
pub(super) fn remove_private(headers: &[(String, String)], effects: &mut Vec<Effect>) {
    let private = |k: &str| k.starts_with(h::OWN_PREFIX) || h::PROVIDER_PRIVATE.contains(&k);
    for (name, _) in headers.iter().filter(|(k, _)| private(k)) {
        effects.push(Effect::RemoveResponseHeader(name.clone()));
    }
}
