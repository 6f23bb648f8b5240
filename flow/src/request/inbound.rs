//! The answer to a client speaking the Responses API (`POST /v1/responses`) or Anthropic's
//! Messages API (`POST /v1/messages`): the request was routed as the chat body it translates
//! to, so every phase answers in chat shapes; this is the last step of each callback,
//! rewriting what reaches the client into its API's.
//!
//! A non-streamed answer is held whole (a chat completion is read only whole) and goes out as
//! one Response or Message object; a stream's chunks go out as the API's events as they come.
//! An answer with an error status is held and goes out in the API's error shape: a Responses
//! error as it came, its `param` naming the member the client sent (both APIs answer errors
//! alike), a Messages one as Anthropic's `{"type":"error",…}`. The body a phase holds or
//! drops (a failed attempt's, held while a fallback runs) is not the client's and is never
//! fed.

use model_router_scorer::protocol::inbound::answer::{self, Echo};
use model_router_scorer::protocol::inbound::events::Events;
use model_router_scorer::protocol::inbound_messages::{
    Shown, answer as message, events::Events as MessageEvents,
};

use super::{Phase, Request};
use crate::headers as h;
use crate::io::{Buffer, Effect, Event, Host, Map, Verdict};

/// The most of an answer held to be rewritten whole, 32 MiB: past it the rest passes as it
/// comes (a chat body, which the client's SDK will not read, rather than a filter holding
/// without bound). No chat answer comes near it: 128k output tokens are about 512 KiB.
const MAX_HELD: usize = 32 << 20;

/// The API a client spoke, where it is not chat's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    /// OpenAI's Responses API.
    Responses,
    /// Anthropic's Messages API.
    Messages,
}

impl Api {
    /// Its name in the access log's notes.
    pub(super) fn name(self) -> &'static str {
        match self {
            Api::Responses => "responses",
            Api::Messages => "messages",
        }
    }
}

/// How the answer to a Responses or Messages request is rewritten.
#[derive(Debug)]
pub(super) struct Inbound {
    api: Api,
    /// The request was made a chat body (a Messages error then names chat's members).
    translated: bool,
    /// How a Messages client's answer is shown: its thinking, the model it names.
    shown: Shown,
    shape: Shape,
    /// What its Response objects say they were asked, and where its chat tools stand in the
    /// request (for errors naming one), once the request is translated.
    echo: Echo,
    /// The status of the response being passed (set on its headers).
    status: u16,
    /// A non-2xx body, or a non-streamed answer, held until its end.
    held: Vec<u8>,
    /// Held past [`MAX_HELD`]: what comes passes as it is.
    gave_up: bool,
    /// The response body a phase read in this step and let pass unchanged: rewritten from
    /// here rather than read across the VM boundary again.
    passed: Option<Vec<u8>>,
}

#[derive(Debug)]
enum Shape {
    /// Not routed yet: what answers it now is the router's own error.
    Asked,
    /// A non-streamed answer.
    Whole,
    /// A streamed answer to a Responses request.
    Events(Box<Events>),
    /// A streamed answer to a Messages request.
    MessageEvents(Box<MessageEvents>),
}

impl Inbound {
    pub(super) fn asked(api: Api) -> Self {
        Inbound {
            api,
            translated: false,
            shown: Shown::default(),
            shape: Shape::Asked,
            echo: Echo::default(),
            status: 200,
            held: Vec::new(),
            gave_up: false,
            passed: None,
        }
    }

    pub(super) fn api(&self) -> Api {
        self.api
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Translated: what its answer echoes.
    pub(super) fn translated(&mut self, echo: Echo) {
        self.echo = echo;
        self.translated = true;
    }

    /// How a Messages request's answer is shown ([`Shown`]).
    pub(super) fn shown(&mut self, shown: Shown) {
        self.shown = shown;
    }

    /// The body of this step, which its phase read and lets pass unchanged.
    pub(super) fn pass(&mut self, body: Vec<u8>) {
        self.passed = Some(body);
    }

    /// Routed: `stream` says which way its answer comes; `id` is the chat id the router gives
    /// a translated answer (for a stream whose chunks carry none).
    pub(super) fn routed(&mut self, stream: bool, id: &str) {
        self.shape = match (stream, self.api) {
            (false, _) => Shape::Whole,
            (true, Api::Responses) => {
                Shape::Events(Box::new(Events::new(std::mem::take(&mut self.echo), id)))
            }
            (true, Api::Messages) => {
                Shape::MessageEvents(Box::new(MessageEvents::new(id).shown(self.shown.clone())))
            }
        };
    }

    /// What the answer echoes: the stream's translation holds it once routed as a stream.
    fn echo(&self) -> &Echo {
        match &self.shape {
            Shape::Events(events) => events.echo(),
            _ => &self.echo,
        }
    }

    /// This part of the answer as the client gets it; `end`: it is the last.
    fn rewrite(&mut self, bytes: &[u8], end: bool) -> Vec<u8> {
        if self.gave_up {
            return bytes.to_vec();
        }
        let whole = !self.ok() || matches!(self.shape, Shape::Whole);
        if whole || matches!(self.shape, Shape::Asked) {
            self.held.extend_from_slice(bytes);
            if self.held.len() > MAX_HELD {
                self.gave_up = true;
                return std::mem::take(&mut self.held);
            }
            if !end {
                return Vec::new();
            }
            let held = std::mem::take(&mut self.held);
            return self.whole(self.status, &held).unwrap_or(held);
        }
        match &mut self.shape {
            Shape::Events(events) => events.feed(bytes, end),
            Shape::MessageEvents(events) => events.feed(bytes, end),
            _ => bytes.to_vec(),
        }
    }

    /// The content type of an error answer with this status, where the rewrite makes it JSON
    /// whatever it was (a Messages client's: a proxy's HTML page becomes Anthropic's error).
    fn error_type(&self, status: u16) -> Option<&'static str> {
        (self.api == Api::Messages && !(200..300).contains(&status)).then_some("application/json")
    }

    /// A whole body with this status as the client gets it (`None`: as it is): an answer
    /// translated, an error in the API's shape.
    fn whole(&self, status: u16, body: &[u8]) -> Option<Vec<u8>> {
        let ok = (200..300).contains(&status);
        match self.api {
            Api::Responses => {
                let rewritten = match &self.shape {
                    Shape::Whole if ok => answer::to_response(body, &self.echo),
                    _ => None,
                };
                rewritten.or_else(|| answer::renamed_error(body, self.echo()))
            }
            Api::Messages if !ok => Some(message::to_error(status, body, self.translated)),
            Api::Messages => match &self.shape {
                Shape::Whole => message::to_message_shown(body, &self.shown),
                _ => None,
            },
        }
    }

    /// A whole answer the router sends itself (a fallback's, or its error): the body and
    /// whether it is now a stream of events.
    fn rewrite_reply(&self, status: u16, body: &[u8]) -> Option<(Vec<u8>, bool)> {
        match &self.shape {
            _ if !(200..300).contains(&status) => self.whole(status, body).map(|b| (b, false)),
            Shape::Asked => None,
            Shape::Whole => self.whole(status, body).map(|b| (b, false)),
            Shape::Events(events) => Some((events.fresh().feed(body, true), true)),
            Shape::MessageEvents(events) => Some((events.fresh().feed(body, true), true)),
        }
    }
}

impl Request {
    /// Rewrites this step's answer to a Responses or Messages request (nothing for any other
    /// request).
    pub(super) fn reshape_for_clients_api(&mut self, host: &dyn Host, event: &Event, verdict: Verdict) {
        let Some(inbound) = self.inbound.as_mut() else { return };
        let passed = inbound.passed.take();
        let mut replied = false;
        for effect in &mut self.effects {
            if let Effect::Respond { status, body, headers, .. } = effect {
                replied = true;
                if let Some((b, events)) = inbound.rewrite_reply(*status, body) {
                    *body = b;
                    let kind = if events { Some("text/event-stream") } else { inbound.error_type(*status) };
                    if let Some(kind) = kind {
                        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(h::CONTENT_TYPE));
                        headers.push((h::CONTENT_TYPE.into(), kind.into()));
                    }
                }
            }
        }
        // Answered here: what the step did to the provider's response never reaches the client.
        if replied {
            return;
        }
        match *event {
            Event::ResponseHeaders { .. } => {
                let status = host.header(Map::ResponseHeaders, h::STATUS).ok().flatten();
                inbound.status = status.and_then(|s| s.parse().ok()).unwrap_or(502);
                // Its length changes: the body goes out chunked. And a provider that ignored
                // `stream` answered JSON: the client gets events. (Before a fallback's call,
                // which is a step's last effect.)
                let mut changes = vec![Effect::RemoveResponseHeader(h::CONTENT_LENGTH.into())];
                if matches!(inbound.shape, Shape::Events(_) | Shape::MessageEvents(_)) && inbound.ok() {
                    changes.push(Effect::SetResponseHeader(h::CONTENT_TYPE, "text/event-stream".into()));
                }
                if let Some(kind) = inbound.error_type(inbound.status) {
                    changes.push(Effect::SetResponseHeader(h::CONTENT_TYPE, kind.into()));
                }
                let at = self.effects.iter().position(|e| matches!(e, Effect::Call { .. }));
                let at = at.unwrap_or(self.effects.len());
                self.effects.splice(at..at, changes);
            }
            Event::ResponseBody { size, end_of_stream } => {
                // An attempt not (yet) served: its body is held or dropped by its phase.
                if matches!(
                    self.phase,
                    Phase::Failing(_) | Phase::Checking(_) | Phase::Opening(_) | Phase::Routed(_)
                ) {
                    return;
                }
                let replaced = self.effects.iter_mut().find_map(|e| match e {
                    Effect::ReplaceResponseBody { bytes, .. } => Some(bytes),
                    _ => None,
                });
                match (replaced, verdict) {
                    (Some(bytes), _) => *bytes = inbound.rewrite(bytes, end_of_stream),
                    (None, Verdict::Continue) => {
                        let bytes = passed.map_or_else(|| host.body(Buffer::ResponseBody, 0, size), Ok);
                        let bytes = bytes.unwrap_or_else(|e| {
                            super::warn(host, &e);
                            Vec::new()
                        });
                        let bytes = inbound.rewrite(&bytes, end_of_stream);
                        self.effects.push(Effect::ReplaceResponseBody { size, bytes });
                    }
                    // Held by Envoy: read whole when its phase lets it go.
                    (None, Verdict::Pause) => {}
                }
            }
            _ => {}
        }
    }
}
