//! `POST /v1/messages/count_tokens` (Claude Code's `/context`, the Anthropic SDKs'
//! `messages.count_tokens`): routed as the Messages request it would be, without spending,
//! remembering or sending anything else. A Claude on Anthropic's own API counts it there (free,
//! and exact); any other model's count is the router's own estimate, the one its budgets
//! reserve on. `X-Model-Router-Count` says which.

use model_router_scorer::catalog::Api as Wire;
use model_router_scorer::protocol::anthropic::count;
use model_router_scorer::protocol::inbound_messages;

use super::classify::analyze_turn;
use super::{Phase, Request};
use crate::headers as h;
use crate::io::{self, Buffer, Effect, Host, HostError, Level, Map, Verdict};
use crate::live;
use crate::shared::Shared;

impl Request {
    /// Counts a complete `count_tokens` body: sent to Anthropic's counting endpoint, or
    /// answered here.
    pub(super) fn count_tokens(
        &mut self,
        host: &dyn Host,
        shared: &Shared,
        body_size: usize,
    ) -> Result<Verdict, HostError> {
        let config = &shared.config;
        let body = host.body(Buffer::RequestBody, 0, body_size)?;
        let chat = match inbound_messages::request::to_chat(&body) {
            Ok(chat) => chat,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        // Refusals about the chat body it became name the members as the client wrote them.
        if let Some(inbound) = self.inbound.as_mut() {
            inbound.translated(Default::default());
        }
        let now = io::now_secs(host)?;
        let analysis = match analyze_turn(host, shared, &chat, now) {
            Ok(a) => a.counting(),
            Err(e) => return Ok(self.reject(host, &e)),
        };
        // Where the request would go now: its conversation's tier, the providers' health. Not
        // the budgets: counting spends nothing, and a spent limit refuses the request itself.
        let slot = analysis.sticky_slot(config, self.client.as_deref());
        let remembered = slot.map(|(key, _)| host.shared_get(&key)).transpose()?.and_then(|(v, _)| v);
        let snapshot = live::Snapshot::new(host);
        let ctx = model_router_scorer::Context {
            remembered: remembered.as_deref(),
            now,
            client: self.client.as_deref(),
            live: Some(&snapshot),
            budget: None,
            memo: None,
        };
        let route = match analysis.route(config, &ctx) {
            Ok(r) => r,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        let report =
            vec![(h::MODEL, route.target.to.model.clone()), (h::PROVIDER, route.target.to.provider.clone())];
        if self.writes_filter_state() {
            // The API the client spoke, for the logs and the local-reply mappers, which answer a
            // Messages client in its shapes.
            host.note("api", "messages");
            host.note("model", &route.target.to.model);
            host.note("provider", &route.target.to.provider);
        }
        if route.target.to.api != Wire::Messages {
            return Ok(self.count_estimate(report, route.estimate.input_tokens));
        }
        let mut target = route.target;
        target.body = match count::body(&target.body) {
            Ok(b) => b,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        target.to.path = count::path(&target.to.path);
        self.send(host, shared, target, body_size)?;
        // Anthropic answers in the client's own shapes: passed on as they come.
        self.inbound = None;
        self.phase = Phase::Counting(Box::new(Counting { report, estimate: route.estimate.input_tokens }));
        Ok(Verdict::Continue)
    }

    /// The counting endpoint's answer: passed on with the route's headers; or, when the
    /// gateway's key was refused, the provider was out or rate limited (nothing the client's
    /// request did), the estimate in its place, as for any other model.
    pub(super) fn on_count_headers(&mut self, host: &dyn Host, c: Counting) -> Verdict {
        let status = host.header(Map::ResponseHeaders, h::STATUS).ok().flatten();
        let status: u16 = status.and_then(|s| s.parse().ok()).unwrap_or(502);
        let Counting { mut report, estimate } = c;
        if !matches!(status, 401 | 403 | 404 | 408 | 429 | 500..) {
            // Its answer passes as it comes, less what is not the client's, as a generation's.
            let headers = host.headers(Map::ResponseHeaders).unwrap_or_default();
            super::attempt::remove_private(&headers, &mut self.effects);
            report.push((h::COUNT, "provider".to_string()));
            self.effects.extend(report.into_iter().map(|(k, v)| Effect::SetResponseHeader(k, v)));
            return Verdict::Continue;
        }
        let provider = report.iter().find(|(k, _)| *k == h::PROVIDER).map_or("", |(_, v)| v.as_str());
        // Once a minute a provider: a client's free counts past the provider's limit logged each.
        if crate::live::once_a_minute(host, &format!("model_router.count_logged.{provider}")) {
            host.log(
                Level::Warn,
                &format!("model-router: {provider} answered a token count {status}: counted by the estimate"),
            );
        }
        self.count_estimate(report, estimate)
    }

    /// Answers a count with the router's estimate, with the route's headers.
    fn count_estimate(&mut self, mut report: Vec<(&'static str, String)>, estimate: u64) -> Verdict {
        report.push((h::COUNT, "estimate".to_string()));
        let extra: Vec<(&str, &str)> = report.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.answer_with(200, format!(r#"{{"input_tokens":{estimate}}}"#), &extra)
    }
}

/// A token count out at its provider: the headers its answer gets, and the estimate that
/// answers in its place when the provider cannot.
pub(super) struct Counting {
    report: Vec<(&'static str, String)>,
    estimate: u64,
}
