//! The request's side: classifying it on its headers, routing a complete chat or embeddings
//! body, sending it to its provider (the router's own answers and refusals: `reply`).

use model_router_scorer::budget::nano;
use model_router_scorer::embeddings::route_embeddings;
use model_router_scorer::protocol::reply::Meta;
use model_router_scorer::protocol::{inbound, inbound_messages, native};
use model_router_scorer::route::{Target, Upstream};
use model_router_scorer::{
    Analysis, ApiError, Endpoint, Route, analyze_with_memo, endpoint, is_messages_api,
};

use super::flight::{Flight, Kept};
use super::inbound::{Api, Inbound};
use super::{Phase, Request, not_configured};
use crate::headers as h;
use crate::io::{self, Buffer, Effect, Host, HostError, Level, Map, Verdict};
use crate::live;
use crate::metrics as m;
use crate::shared::Shared;
use crate::spend;

/// The longest client id (`client_header` value) taken, bytes.
pub(super) const MAX_CLIENT_ID: usize = 256;

// Classifying on the headers, and sending upstream.
impl Request {
    /// Classifies the request. Returns the endpoint, or the error to answer with.
    pub(super) fn classify(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
    ) -> Result<Result<Endpoint, ApiError>, HostError> {
        let config = &shared.config;
        // All request headers in one call: each call out of the VM costs more than the copy.
        let mut headers = host.headers(Map::RequestHeaders)?;
        // A client must never choose the cluster: drop any copy it sent, on every request, under
        // the configured name and every name of the router's own. A route left reading the
        // default (`x-model-router-cluster`) beside a configuration naming another let a client
        // send any path, one the router answers nothing on, to any provider with the gateway's
        // key.
        // (A `client_header` of the router's prefix is the client's to send: kept, it is never a
        // provider's.)
        let own =
            |k: &str| k.get(..h::OWN_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(h::OWN_PREFIX));
        let client = |k: &str| config.client_header.as_deref().is_some_and(|c| k.eq_ignore_ascii_case(c));
        let forged = |k: &str| k.eq_ignore_ascii_case(&config.cluster_header) || (own(k) && !client(k));
        if headers.iter().any(|(k, _)| forged(k)) {
            let mut names = vec![config.cluster_header.clone(), h::ANSWERED.to_string()];
            for (k, _) in headers.iter().filter(|(k, _)| forged(k)) {
                let k = k.to_ascii_lowercase();
                if !names.contains(&k) {
                    names.push(k);
                }
            }
            self.effects.extend(names.into_iter().map(Effect::RemoveRequestHeader));
            headers.retain(|(k, _)| !forged(k));
        }
        let get =
            |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        let method = get(h::METHOD).unwrap_or_default();
        let path = get(h::PATH).unwrap_or_default();
        let ep = endpoint(&method, &path);
        // A Messages client gets its answers, errors included, in Anthropic's shapes.
        if is_messages_api(&path) {
            self.inbound = Some(Inbound::asked(Api::Messages));
        }
        if !matches!(
            ep,
            Ok(Endpoint::Chat
                | Endpoint::Responses
                | Endpoint::Messages
                | Endpoint::CountTokens
                | Endpoint::Embeddings
                | Endpoint::Models
                | Endpoint::Model)
        ) {
            return Ok(ep);
        }
        if ep == Ok(Endpoint::Responses) {
            self.inbound = Some(Inbound::asked(Api::Responses));
        }
        if let Some(name) = &config.client_header {
            // An empty value names no one.
            self.client = get(name).filter(|c| !c.trim().is_empty());
            // It names a spend record in shared data, kept until Envoy restarts, and labels. Sent
            // twice, the first copy would be the client: an authenticating filter in front that
            // appends its value instead of replacing the client's leaves the client's first.
            let why = if headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).count() > 1 {
                Some("is sent more than once: it names one client".to_string())
            } else if self.client.as_ref().is_some_and(|c| c.len() > MAX_CLIENT_ID) {
                Some(format!("is longer than {MAX_CLIENT_ID} bytes: it names a client"))
            } else {
                None
            };
            if let Some(why) = why {
                // Refused, it names no one in the log either (a forged first copy was logged as
                // the tenant it named; a 60 KB one, whole).
                self.client = None;
                return Ok(Err(ApiError::invalid(
                    "invalid_client_id",
                    None,
                    format!("the {name} header {why}"),
                )));
            }
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
        if matches!(
            ep,
            Ok(Endpoint::Chat
                | Endpoint::Responses
                | Endpoint::Messages
                | Endpoint::CountTokens
                | Endpoint::Embeddings)
        ) && !is_json(content_type.as_deref())
        {
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
    pub(super) fn send(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
        t: Target,
        body_size: usize,
    ) -> Result<u64, HostError> {
        let body_len = t.body.len();
        self.effects.push(Effect::ReplaceRequestBody { size: body_size, bytes: t.body });
        let cred = credential(shared, &t.to);
        let cluster_header = shared.config.cluster_header.as_str();
        let dropped = |k: &str| {
            h::CLIENT_CREDENTIALS.contains(&k)
                || h::not_for_providers(k)
                || k.starts_with(h::OWN_PREFIX)
                || k == cluster_header
                || shared.config.client_header.as_deref() == Some(k)
                || cred.as_ref().is_some_and(|(name, _)| k.eq_ignore_ascii_case(name))
                // The provider's own header, though the key is Envoy's to inject (a
                // `credential_injector` that keeps a header already there): as a fallback drops it.
                || t.to.auth.as_ref().is_some_and(|a| k.eq_ignore_ascii_case(&a.header))
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
        headers.push((h::CONTENT_LENGTH.to_string(), body_len.to_string()));
        let protocol = native::headers(t.to.api);
        headers.retain(|(k, _)| !protocol.iter().any(|(p, _)| p == k));
        headers.extend(protocol.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        headers.extend(cred);
        // One write of the whole map. Changing request headers clears Envoy's route cache, so
        // the router filter re-matches and its `cluster_header` route sees the provider's
        // cluster.
        headers.push((cluster_header.to_string(), t.to.cluster.clone()));
        self.effects.push(Effect::SetRequestHeaders(headers));
        host.now_ns()
    }
}

// Routing on the complete body.
impl Request {
    fn route_chat(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
        body_size: usize,
    ) -> Result<Verdict, HostError> {
        let config = &shared.config;
        let body = crate::io::span!(host, "read_body", host.body(Buffer::RequestBody, 0, body_size))?;
        // A Responses or Messages request is routed as the chat body it says.
        let drop_tools = &config.responses.drop_tools;
        let (body, dropped) = match self.inbound.as_mut() {
            Some(inbound) if inbound.api() == Api::Messages => {
                match inbound_messages::request::to_chat_shown(&body) {
                    Ok((chat, shown)) => {
                        inbound.translated(Default::default());
                        inbound.shown(shown);
                        (chat, Vec::new())
                    }
                    Err(e) => return Ok(self.reject(host, &e)),
                }
            }
            Some(inbound) => match inbound::request::to_chat(&body, drop_tools) {
                Ok(chat) => {
                    inbound.translated(chat.echo);
                    (chat.body, chat.dropped_tools)
                }
                Err(e) => return Ok(self.reject(host, &e)),
            },
            None => (body, Vec::new()),
        };
        let mut snapshot = live::Snapshot::new(host);
        let now = io::now_secs(host)?;
        let analysis = match crate::io::span!(host, "analyze", analyze_turn(host, shared, &body, now)) {
            Ok(a) => a,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        // Stickiness: the scorer stays pure, so the remembered tier is read here and passed in.
        let slot = analysis.sticky_slot(config, self.client.as_deref());
        let remembered = slot.map(|(key, _)| host.shared_get(&key)).transpose()?.and_then(|(v, _)| v);
        let scopes = config.budgets.scopes(self.client.as_deref());
        // Route on what the budgets have left, then reserve the estimate; a concurrent request
        // may take the room first, so look again (the ladder then steps down).
        let mut tries = 0;
        let (route, reservation, probes) = loop {
            let view = if scopes.is_empty() { None } else { spend::view(host, &scopes, now)? };
            let ctx = model_router_scorer::Context {
                remembered: remembered.as_deref(),
                now,
                client: self.client.as_deref(),
                live: Some(&snapshot),
                budget: view.as_ref(),
                memo: Some(&shared.memo),
            };
            let route = match crate::io::span!(host, "route", analysis.route(config, &ctx)) {
                Ok(r) => r,
                Err(e) => return Ok(self.refuse(host, &e, view.as_ref(), now)),
            };
            // A probe slot another worker took since the route read it: routed again, the
            // breakers read anew ([`live::claim`]).
            let Some(probes) = live::claim(host, &route, now, &config.resilience, tries < 3) else {
                tries += 1;
                snapshot = live::Snapshot::new(host);
                continue;
            };
            if scopes.is_empty() {
                break (route, None, probes);
            }
            let reserved = spend::reserve(host, scopes.clone(), nano(route.estimate_usd), now);
            // A slot claimed is given back whatever the reservation says, or it holds the
            // breaker half-open, unanswered, until the next cooldown.
            if let (Some(p), Err(_) | Ok(None)) = (probes, &reserved) {
                live::release(host, &route.target.to, p);
            }
            let reserved = reserved?;
            if reserved.is_some() {
                break (route, reserved, probes);
            }
            if tries == 3 {
                return Ok(self.over_budget(host, view.as_ref(), now, route.estimate_usd));
            }
            tries += 1;
        };
        self.account.reservation = reservation;
        self.account.choices = route.choices;
        self.account.output_cap = route.output_cap;
        if let Some(note) = &route.budget {
            let step = note.split(':').next().unwrap_or(note);
            host.count(&m::labelled(m::BUDGET, &[("step", &m::stat_segment(step))]), 1);
        }
        if route.fail_open {
            host.count(m::FAIL_OPEN, 1);
        }
        if let Some(a) = &route.auto {
            // Score in thousandths: Envoy histograms take integers.
            host.histogram(m::AUTO_SCORE, (a.score * 1000.0).round() as u64);
            host.count(&m::labelled(m::AUTO_TIER, &[("tier", a.tier.as_str())]), 1);
        }
        // Remembered once a provider answers (`served`): a turn whose client left, or that
        // every provider failed, stuck its conversation to a dearer tier all the same.
        self.account.memory = route.memory.clone();
        remember_scan(host, &analysis);
        let failover = config.resilience.max_attempts > 1 && !route.fallbacks.is_empty();
        let mut report = chat_report(&route);
        if !dropped.is_empty() {
            report.push((h::DROPPED_TOOLS, dropped.join(",")));
        }
        let Route {
            target,
            stream,
            fallbacks,
            layout,
            usage_requested,
            choices,
            fail_open,
            reasoning,
            structured,
            estimate,
            ..
        } = route;
        let to = target.to.clone();
        let sent_ns = match crate::io::span!(host, "send", self.send(host, shared, target, body_size)) {
            Ok(ns) => ns,
            Err(e) => {
                // Never sent: its probe slots are given back.
                live::release(host, &to, probes.unwrap_or_default());
                return Err(e);
            }
        };
        // What a translated answer calls itself: OpenAI ids are per completion, so the
        // request's own id (Envoy's x-request-id) or, without one, the clock.
        let request_id =
            self.request_headers.iter().find(|(k, _)| k == "x-request-id").map(|(_, v)| v.clone());
        let meta = Meta {
            id: format!("chatcmpl-{}", request_id.unwrap_or_else(|| format!("{sent_ns:x}"))),
            model: String::new(),
            created: sent_ns / 1_000_000_000,
            reasoning,
            structured,
        };
        if let Some(inbound) = self.inbound.as_mut() {
            inbound.routed(stream, &meta.id);
        }
        self.phase = Phase::Routed(Box::new(Flight {
            report,
            stream,
            fallbacks,
            body: if failover { keep(host, shared, body) } else { Kept::default() },
            layout,
            usage_requested,
            choices,
            fail_open,
            meta,
            estimate: Some(estimate),
            probes: probes.unwrap_or_default(),
            ..Flight::new(to, sent_ns)
        }));
        Ok(Verdict::Continue)
    }

    /// Routes a complete embeddings body.
    fn route_embeddings(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
        body_size: usize,
    ) -> Result<Verdict, HostError> {
        let body = host.body(Buffer::RequestBody, 0, body_size)?;
        let ctx = model_router_scorer::Context {
            now: io::now_secs(host)?,
            client: self.client.as_deref(),
            ..Default::default()
        };
        let route = match route_embeddings(&shared.config, &body, &ctx) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        // Embeddings count against the spend limits too: the reservation is the input's
        // estimate (a priced one at least a nano-dollar, so a spent limit refuses it; a free
        // model's nothing, as on chat), and their real cost is settled at the end.
        let scopes = shared.config.budgets.scopes(self.client.as_deref());
        if !scopes.is_empty() {
            let hold = if route.estimate_usd > 0.0 { nano(route.estimate_usd).max(1) } else { 0 };
            match spend::reserve(host, scopes.clone(), hold, ctx.now)? {
                Some(r) => self.account.reservation = Some(r),
                None => {
                    let view = spend::view(host, &scopes, ctx.now)?;
                    return Ok(self.over_budget(host, view.as_ref(), ctx.now, route.estimate_usd));
                }
            }
        }
        let to = route.target.to.clone();
        let sent_ns = self.send(host, shared, route.target, body_size)?;
        self.phase =
            Phase::Routed(Box::new(Flight { translation: route.translate, ..Flight::new(to, sent_ns) }));
        Ok(Verdict::Continue)
    }

    pub(super) fn on_body_complete(
        &mut self,
        host: &dyn Host,
        endpoint: Endpoint,
        body_size: usize,
    ) -> Verdict {
        let Some(shared) = self.shared.clone() else {
            return self.reject(host, &not_configured());
        };
        // The GenAI conventions' gen_ai.operation.name, refused or routed (a count is none).
        if self.writes_filter_state() && endpoint != Endpoint::CountTokens {
            host.note("operation", if endpoint == Endpoint::Embeddings { "embeddings" } else { "chat" });
        }
        let routed = match endpoint {
            Endpoint::Embeddings => self.route_embeddings(host, &shared, body_size),
            Endpoint::CountTokens => self.count_tokens(host, &shared, body_size),
            _ => self.route_chat(host, &shared, body_size),
        };
        if let (Ok(_), Phase::Routed(f)) = (&routed, &self.phase) {
            self.note_flight(host, f);
        }
        routed.unwrap_or_else(|err| {
            // Nothing must go out half-rewritten: drop what this step was changing.
            self.effects.retain(|e| !e.is_request_change());
            self.host_failure(host, err)
        })
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// The header carrying `to`'s credentials, from the VM environment. Without a key there,
/// Envoy's credential_injector (if configured on the cluster) supplies it upstream.
pub(super) fn credential(shared: &Shared, to: &Upstream) -> Option<(String, String)> {
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
    if let Some(alias) = &route.alias {
        v.push((h::ALIAS, alias.clone()));
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

/// The client's body kept for fallbacks, if the VM's `failover_body_bytes` has room for it;
/// counted in `failover_unkept` if not.
fn keep(host: &dyn Host, shared: &Shared, body: Vec<u8>) -> Kept {
    let limit = shared.config.resilience.failover_body_bytes;
    Kept::within(body, &shared.kept, limit).unwrap_or_else(|| {
        host.count(m::FAILOVER_UNKEPT, 1);
        Kept::default()
    })
}

/// Parses and scores a chat body; auto resumes its scan from an earlier turn remembered in
/// shared data. A slot that cannot be read is a miss: a whole scan, nothing else.
pub(super) fn analyze_turn<'a>(
    host: &dyn Host,
    shared: &Shared,
    body: &'a [u8],
    now: u64,
) -> Result<Analysis<'a>, ApiError> {
    let mut read = |key: &str| host.shared_get(key).ok().and_then(|(value, _)| value);
    analyze_with_memo(&shared.config, body, Some(&mut read), now, Some(&shared.memo))
}

/// Writes the scan's state after this request's messages for the next turn to resume from,
/// and counts whether this one resumed (only conversations large enough to use the cache).
fn remember_scan(host: &dyn Host, analysis: &Analysis<'_>) {
    let outcome = match (analysis.resumed(), analysis.prefix_memory()) {
        (Some(_), _) => "hit",
        (None, Some(_)) => "miss",
        (None, None) => return,
    };
    host.count(&m::labelled(m::AUTO_PREFIX, &[("outcome", outcome)]), 1);
    if let Some(p) = analysis.prefix_memory() {
        // Unconditional: any writer's state for these messages is the same state.
        if host.shared_set(&p.key, &p.value, 0).is_err() {
            host.log(Level::Warn, "model-router: could not remember the conversation's scan");
        }
    }
}
