//! Failover: the next candidate sent out of band while the failed response is held, the
//! fallback's answer sent in its place, and the one error that names every failed attempt.

use std::time::Duration;

use model_router_scorer::ApiError;
use model_router_scorer::route::Upstream;
use model_router_scorer::usage::{self, StreamUsage};
use proxy_wasm::traits::Context;
use proxy_wasm::types::{Action, BufferType, LogLevel, MapType};

use super::classify::credential;
use super::flight::{Failed, Flight, Retry, is_context_error, retryable};
use super::{Http, Phase};
use crate::headers as h;
use crate::host::{self, HostError};
use crate::live;
use crate::shared::Shared;

impl Http {
    /// Sends the next attempt out of band (Envoy's async client, to the candidate's cluster,
    /// with its model id, path and credentials). Returns false when no candidate is left.
    pub(super) fn fail_over(
        &mut self,
        shared: &Shared,
        f: &mut Flight,
        why: Retry,
    ) -> Result<bool, HostError> {
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
    pub(super) fn on_fallback_response(&mut self, mut f: Box<Flight>, body_size: usize) {
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

    /// A body chunk of the failed response while the fallback runs. The failed response never
    /// reaches the client: its headers are held until the fallback answers, and its body is
    /// dropped as it comes (however large it is).
    pub(super) fn drop_failed_body(&mut self, f: Box<Flight>, body_size: usize) -> Action {
        if body_size > 0
            && let Err(e) = host::replace_buffer(BufferType::HttpResponseBody, body_size, b"")
        {
            host::log(LogLevel::Warn, &format!("model-router: {e}"));
        }
        self.phase = Phase::Failing(f);
        Action::Pause
    }

    /// Every attempt failed: one error in the OpenAI shape naming them (never a provider's
    /// body): 429 `rate_limit_exceeded` with the smallest `retry-after` when all were rate
    /// limits, 502 `provider_auth_failed` when all rejected the gateway's credentials, else 502
    /// `upstream_failed`.
    pub(super) fn exhausted(&mut self, f: &Flight) {
        let sent: Vec<u16> = f.failed.iter().filter(|x| x.sent).map(|x| x.status).collect();
        let all = |p: fn(u16) -> bool| !sent.is_empty() && sent.iter().all(|s| p(*s));
        let summary = f.failed.iter().map(Failed::describe).collect::<Vec<_>>().join(", ");
        let attempts = f.attempts;
        let e = if all(|s| s == 429) {
            ApiError::rate_limited(format!(
                "every provider that can serve this request is rate limited ({summary}): retry after retry-after seconds"
            ))
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
}
