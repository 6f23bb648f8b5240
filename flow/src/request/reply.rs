//! The router's own answers: local replies, refusals (a spent budget says when it resets),
//! a host failure, and `/v1/models`.

use model_router_scorer::budget::BudgetView;
use model_router_scorer::{ApiError, Endpoint, models};

use super::{Phase, Request};
use crate::headers as h;
use crate::io::{self, Effect, Host, HostError, Level, Verdict};
use crate::metrics as m;
use crate::shared::Shared;

impl Request {
    pub(super) fn reject(&mut self, host: &dyn Host, e: &ApiError) -> Verdict {
        match (e.allow, e.retry_after) {
            (Some(methods), _) => self.reject_with(host, e, &[(h::ALLOW, methods)]),
            // A wait past a minute is not one for the client's SDK to sleep through.
            (None, Some(secs)) => {
                let later = if secs > 60 { "false" } else { "true" };
                self.reject_with(host, e, &[(h::RETRY_AFTER, &secs.to_string()), (h::SHOULD_RETRY, later)])
            }
            (None, None) => self.reject_with(host, e, &[]),
        }
    }

    fn reject_with(&mut self, host: &dyn Host, e: &ApiError, extra: &[(&str, &str)]) -> Verdict {
        self.account.status = e.status;
        if self.shared.is_some() {
            host.count(&m::labelled(m::REJECTED, &[("code", &m::stat_segment(e.code))]), 1);
        }
        // Whose request it was, as a routed one says (a spent budget's 429 logged no client).
        if let Some(client) = self.client.as_deref().filter(|_| self.writes_filter_state()) {
            host.note("client", client);
        }
        self.answer_with(e.status, e.body(), extra)
    }

    fn answer(&mut self, status: u16, body: String) -> Verdict {
        self.answer_with(status, body, &[])
    }

    pub(super) fn answer_with(&mut self, status: u16, body: String, extra: &[(&str, &str)]) -> Verdict {
        let mut headers = vec![(h::CONTENT_TYPE.to_string(), "application/json".to_string())];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.send_local(status, "model_router", headers, body.into_bytes());
        Verdict::Pause
    }

    /// Answers the request from the router (the only way a request ends up `Answered`). The
    /// request is marked first (see [`h::ANSWERED`]), so Envoy's `local_reply_config` leaves
    /// the router's (already JSON) answer alone.
    pub(super) fn send_local(
        &mut self,
        status: u16,
        details: &'static str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) {
        self.phase = Phase::Answered;
        self.effects.push(Effect::SetRequestHeader(h::ANSWERED, details.to_string()));
        self.effects.push(Effect::Respond { status, details, headers, body });
    }

    pub(super) fn host_failure(&mut self, host: &dyn Host, e: HostError) -> Verdict {
        host.log(Level::Error, &format!("model-router: {e}"));
        self.reject(
            host,
            &ApiError::server(500, "router_internal_error", "the router could not process this request"),
        )
    }

    /// Refuses a request the router could not route; a spent budget says when it resets (one
    /// over a whole limit, `over_limit`, that no wait helps).
    pub(super) fn refuse(
        &mut self,
        host: &dyn Host,
        e: &ApiError,
        view: Option<&BudgetView>,
        now: u64,
    ) -> Verdict {
        let step = match e.code {
            "budget_exceeded" => "exhausted",
            "request_over_budget" => "over_limit",
            _ => return self.reject(host, e),
        };
        host.count(&m::labelled(m::BUDGET, &[("step", step)]), 1);
        // The log says it as the header does (its `budget` was empty on these refusals).
        if self.writes_filter_state() {
            host.note("budget", step);
        }
        if step == "over_limit" {
            return self.reject_with(host, e, &[(h::BUDGET, step)]);
        }
        let retry = view.map_or(60, |v| v.retry_after(now));
        // A limit that resets hours away is not one for the client's SDK to wait out (Anthropic's
        // slept the seven hours its retry-after gave, to retry twice more).
        let later = if retry > 60 { "false" } else { "true" };
        let retry = retry.to_string();
        self.reject_with(host, e, &[(h::BUDGET, step), ("retry-after", &retry), (h::SHOULD_RETRY, later)])
    }

    /// Refuses a request whose reservation (of `usd`) found a spend limit reached.
    pub(super) fn over_budget(
        &mut self,
        host: &dyn Host,
        view: Option<&BudgetView>,
        now: u64,
        usd: f64,
    ) -> Verdict {
        let e = view.map_or_else(
            || ApiError::server(429, "budget_exceeded", "the daily spend limit is reached"),
            |v| v.refused(now, Some(usd)),
        );
        self.refuse(host, &e, view, now)
    }

    /// Answers `GET /v1/models` and `GET /v1/models/{id}` from the catalog, as the caller's
    /// policy shows it.
    pub(super) fn answer_models(&mut self, host: &dyn Host, shared: &Shared, ep: Endpoint) -> Verdict {
        let now = match io::now_secs(host) {
            Ok(n) => n,
            Err(e) => return self.host_failure(host, e),
        };
        let policy = shared.config.policy_for(self.client.as_deref());
        if matches!(ep, Endpoint::Models) {
            return self.answer(200, models::list(&shared.config, policy, now));
        }
        let path = self.request_headers.iter().find(|(k, _)| k == h::PATH).map(|(_, v)| v.as_str());
        let id = model_router_scorer::route::model_id(path.unwrap_or_default()).unwrap_or_default();
        match models::retrieve(&shared.config, policy, now, &id) {
            Ok(body) => self.answer(200, body),
            Err(e) => self.reject(host, &e),
        }
    }
}
