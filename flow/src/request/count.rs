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
use crate::io::{self, Buffer, Host, HostError, Verdict};
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
        let now = io::now_secs(host)?;
        let analysis = match analyze_turn(host, shared, &chat, now) {
            Ok(a) => a,
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
        let mut report =
            vec![(h::MODEL, route.target.to.model.clone()), (h::PROVIDER, route.target.to.provider.clone())];
        if self.writes_filter_state() {
            // The API the client spoke, for the logs and the local-reply mappers, which answer a
            // Messages client in its shapes.
            host.note("api", "messages");
            host.note("model", &route.target.to.model);
            host.note("provider", &route.target.to.provider);
        }
        if route.target.to.api != Wire::Messages {
            report.push((h::COUNT, "estimate".to_string()));
            let extra: Vec<(&str, &str)> = report.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let counted = format!(r#"{{"input_tokens":{}}}"#, route.estimate.input_tokens);
            return Ok(self.answer_with(200, counted, &extra));
        }
        let mut target = route.target;
        target.body = match count::body(&target.body) {
            Ok(b) => b,
            Err(e) => return Ok(self.reject(host, &e)),
        };
        target.to.path = count::path(&target.to.path);
        self.send(host, shared, target, body_size)?;
        report.push((h::COUNT, "provider".to_string()));
        // Anthropic answers in the client's own shapes, errors included: passed on as they come.
        self.inbound = None;
        self.phase = Phase::Counting(report);
        Ok(Verdict::Continue)
    }
}
