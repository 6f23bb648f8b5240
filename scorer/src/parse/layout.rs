//! Where a chat body's bytes are: each top-level member, the `model` value, and the edits the
//! router makes (asking a stream for its usage). The parser records it; the splice rewrite
//! in `protocol::openai` reads it, so a body is never re-serialised.

/// A byte range `[start, end)` of the body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A top-level member of the body: from its key's opening quote to the end of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub(crate) span: Span,
    /// Owned by the router (`prefer`, `tier`): removed before the body goes upstream.
    pub(crate) router_only: bool,
    /// The [`crate::catalog::DROPPABLE`] bit of a member some providers refuse
    /// ([`crate::catalog::OPENAI_ONLY`]), or [`crate::catalog::DROPS_EFFORT_NONE`] on a
    /// `reasoning_effort` of `none`; 0 for any other.
    pub(crate) drops: u8,
    /// Gemini's own member, `extra_body` (its OpenAI layer reads it as Google's guide writes
    /// it, `{"extra_body": {"google": ...}}`): sent to no other provider, each of which
    /// answered it with a 400 ("Unrecognized request argument supplied: extra_body", OpenAI)
    /// that ended a tier's request its client could not foresee.
    pub(crate) gemini: bool,
}

/// Where the top-level members and the `model` value sit in a body, for splicing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    pub(crate) members: Vec<Member>,
    pub(crate) model_value: Span,
    /// Bytes replacing a span inside a member (asking a stream for its usage).
    pub(crate) edit: Option<(Span, &'static [u8])>,
    /// A member appended after the last one.
    pub(crate) append: Option<&'static [u8]>,
    /// Where each assistant tool call without an `extra_content` member ends (its closing
    /// brace): a model that wants its calls signed gets the stand-in signature there.
    pub(crate) unsigned_calls: Vec<usize>,
    /// How to take out the members inside messages that some providers refuse
    /// ([`crate::catalog::DROPPABLE`]): each removal, its separator included, with the drops
    /// it is for ([`Layout::drop_fields`]): in the low four bits the drops of its object a
    /// provider takes out, in the high four every drop its object has (a provider whose
    /// [`crate::catalog::Quirks::drops`], within those, are the low bits uses it).
    pub(crate) drops: Vec<(Span, u16)>,
    /// A system, developer or tool message's content given as a list of text parts: sent as
    /// one string to a provider that takes such content as a string only (the `part_lists` it
    /// refuses), joined there ([`crate::protocol::openai`]), not for every request.
    pub(crate) joins: Vec<Span>,
    /// `reasoning_effort` appended in place of a `reasoning` object that carried the effort
    /// (OpenRouter's form: the chat APIs know only `reasoning_effort`, and the object, passed
    /// on, was a 400).
    pub(crate) effort_member: Option<&'static [u8]>,
    /// The member of a `reasoning` object that asks what no chat API knows (OpenRouter's
    /// `max_tokens`, `enabled`, `exclude`), as `reasoning.<key>`: refused on the chat path, as
    /// the translations refuse it (the object, passed on, was the provider's 400: "Unrecognized
    /// request argument supplied: reasoning", OpenAI; "property 'reasoning' is unsupported",
    /// Groq; "Unknown name", Gemini).
    pub(crate) reasoning_asks: Option<String>,
    /// The raw spans (between the quotes) of the conversation's long texts that a translation
    /// carries without reading them, in body order (`protocol::stand_in`).
    pub(crate) texts: Vec<Span>,
    /// The first member asking for sampling other than a model's default (`temperature` or
    /// `top_p` other than 1, a penalty other than 0, `logit_bias`, `logprobs`,
    /// `top_logprobs`): what a model of fixed sampling cannot take.
    pub(crate) sampling: Option<&'static str>,
    /// A `moderation` member that is not null: OpenAI's moderated answers, refused where the
    /// provider takes none of OpenAI's own members (`openai_only`) and by the translations.
    pub(crate) moderation: bool,
    /// `service_tier: "flex"`: capacity the provider may not have (Groq's 498, OpenAI's 429),
    /// which says nothing of its health.
    pub(crate) flex: bool,
    /// The reasoning effort asked for (`reasoning_effort`, or `reasoning.effort`): its bit of
    /// [`crate::catalog::effort_bit`] and the member that asked. A value not known there is
    /// left to the provider.
    pub(crate) effort: Option<(u8, &'static str)>,
    /// The effort of `reasoning_effort_hint` (its [`crate::catalog::effort_bit`]), when the
    /// request names no effort itself: sent as a `reasoning_effort` to a model that takes
    /// efforts ([`Layout::hinted_effort`]), to no other. No model is left out for it.
    pub(crate) effort_hint: Option<u8>,
    /// Tools are declared: a model whose chat API refuses an effort beside them
    /// ([`crate::catalog::Quirks::no_effort_with_tools`]) is sent none.
    pub(crate) tools: bool,
    /// What it asks of [`crate::catalog::REFUSABLE`], as bits of [`crate::catalog::refusable_bit`],
    /// and the first member asking for log probabilities (`logprobs`, `top_logprobs`) and for
    /// a penalty (`presence_penalty`, `frequency_penalty`).
    pub(crate) asks: u16,
    pub(crate) token_level: Option<&'static str>,
    pub(crate) penalty: Option<&'static str>,
    /// The `max_tokens` key (its quotes included), and whether `max_completion_tokens` is
    /// sent too: models that take only the latter get the key renamed, or the member dropped.
    pub(crate) max_tokens_key: Option<Span>,
    pub(crate) max_completion_tokens: bool,
    /// Where a null `max_completion_tokens` member starts: dropped where `max_tokens` is
    /// renamed, or the body would carry the key twice.
    pub(crate) null_completion_member: Option<usize>,
    /// The values of `max_tokens` and `max_completion_tokens` when the cap is a ceiling
    /// (`max_tokens_ceiling`): each is lowered to a model's output limit where it is above.
    pub(crate) ceiling_values: Vec<(Span, u64)>,
}

/// A member of an object inside a message as the parser met it: where its key's opening quote
/// is, where its value ends, and the [`crate::catalog::DROPPABLE`] bits of the providers that
/// refuse it (0: none does).
pub(crate) type Field = (usize, usize, u8);

/// Texts shorter than this (raw bytes) are not carried: a translator reads them (emptiness
/// checks), and standing in for them would save little.
pub const MIN_TEXT: usize = 128;

/// The member that asks a provider for a stream's usage, when the client sent no
/// `stream_options`.
pub(crate) const STREAM_USAGE_MEMBER: &[u8] = br#""stream_options":{"include_usage":true}"#;

/// Google's stand-in thought signature for a tool call its model did not make ("skips the
/// validator"), as a last member of the call (`Layout::unsigned_calls`).
pub(crate) const STAND_IN_SIGNATURE: &[u8] =
    br#","extra_content":{"google":{"thought_signature":"skip_thought_signature_validator"}}"#;

/// `reasoning_effort` members, one per [`crate::catalog::EFFORTS`] value, in its order.
pub(crate) const EFFORT_MEMBERS: [&[u8]; 7] = [
    br#""reasoning_effort":"none""#,
    br#""reasoning_effort":"minimal""#,
    br#""reasoning_effort":"low""#,
    br#""reasoning_effort":"medium""#,
    br#""reasoning_effort":"high""#,
    br#""reasoning_effort":"xhigh""#,
    br#""reasoning_effort":"max""#,
];

impl Layout {
    /// Records a top-level member from its key's opening quote to the end of its value.
    pub fn member(&mut self, start: usize, end: usize, router_only: bool) {
        self.members.push(Member { span: Span { start, end }, router_only, drops: 0, gemini: false });
    }

    /// Records how to take out, for each provider's drops, the fields of one object it
    /// refuses ([`Layout::drops`]). A run of refused fields after a kept one goes from the end
    /// of that one's value (the comma before the run); a run at the object's start goes up to
    /// the next kept field's key (the comma after it). An object all of whose fields would go
    /// is left whole: it is no longer what the client meant, and the provider says why.
    pub(crate) fn drop_fields(&mut self, fields: &[Field]) {
        let any = fields.iter().fold(0, |bits, f| bits | f.2);
        // Each combination of the drops the object has, once: a provider's other drops take out
        // nothing here.
        for drops in (1..=any).filter(|d| d & !any == 0) {
            let goes = |f: &Field| f.2 & drops != 0;
            if fields.iter().all(goes) {
                continue;
            }
            // The end of the last kept field's value; where the current run's removal starts,
            // and where its last field ends.
            let mut kept_end = None;
            let mut run: Option<(usize, usize)> = None;
            for f in fields {
                if goes(f) {
                    let from = run.map_or(kept_end.unwrap_or(f.0), |(from, _)| from);
                    run = Some((from, f.1));
                    continue;
                }
                if let Some((from, last)) = run.take() {
                    // After a kept field: up to the run's end; at the start: up to this key.
                    let end = if kept_end.is_some() { last } else { f.0 };
                    self.drops.push((Span { start: from, end }, u16::from(any) << 8 | u16::from(drops)));
                }
                kept_end = Some(f.1);
            }
            if let Some((from, last)) = run {
                self.drops.push((Span { start: from, end: last }, u16::from(any) << 8 | u16::from(drops)));
            }
        }
    }

    /// Records where the `model` value is.
    pub fn model_at(&mut self, start: usize, end: usize) {
        self.model_value = Span { start, end };
    }

    /// The `reasoning` member no chat API takes ([`Layout::reasoning_asks`]'s field).
    pub fn reasoning_asks(&self) -> Option<&str> {
        self.reasoning_asks.as_deref()
    }

    /// It asks for `flex` capacity (`service_tier`).
    pub fn flex(&self) -> bool {
        self.flex
    }

    /// What the request asks that some providers refuse ([`crate::catalog::REFUSABLE`] bits).
    pub fn asks(&self) -> u16 {
        self.asks
    }

    /// The member that asks for `bit` of [`crate::catalog::REFUSABLE`], for an error's `param`.
    pub fn asked_by(&self, bit: u16) -> &'static str {
        use crate::catalog::{
            ASKS_AUDIO, ASKS_BIAS, ASKS_CHOICES, ASKS_CUSTOM_TOOL, ASKS_FILE, ASKS_JSON_WITH_TOOLS,
            ASKS_LOGPROBS, ASKS_MANY_TOOLS, ASKS_NAME, ASKS_ODD_TOOL_NAME, ASKS_PART_LISTS, ASKS_PENALTY,
            ASKS_STOP, ASKS_TOOL_NAME, ASKS_WEB_SEARCH,
        };
        match bit {
            ASKS_LOGPROBS => self.token_level.unwrap_or("logprobs"),
            ASKS_NAME => "messages[].name",
            ASKS_CHOICES => "n",
            ASKS_BIAS => "logit_bias",
            ASKS_PENALTY => self.penalty.unwrap_or("presence_penalty"),
            ASKS_STOP => "stop",
            ASKS_AUDIO => "messages[].content[].input_audio",
            ASKS_FILE => "messages[].content[].file",
            ASKS_TOOL_NAME | ASKS_ODD_TOOL_NAME => "tools[].function.name",
            ASKS_WEB_SEARCH => "web_search_options",
            ASKS_CUSTOM_TOOL => "tools[].type",
            ASKS_MANY_TOOLS => "tools",
            ASKS_JSON_WITH_TOOLS => "response_format",
            ASKS_PART_LISTS => "messages[].content",
            _ => "",
        }
    }

    /// The member that asks for non-default sampling, if any (see [`Layout::sampling`]).
    pub fn sampling(&self) -> Option<&'static str> {
        self.sampling
    }

    /// The reasoning effort asked for, if a known one (see [`Layout::effort`]).
    pub fn effort(&self) -> Option<(u8, &'static str)> {
        self.effort
    }

    /// The `reasoning_effort` member a hint ([`Layout::effort_hint`]) sends a model that takes
    /// the efforts of `mask` ([`crate::catalog::Quirks::efforts`]; 0: the catalog lists none,
    /// and the hint is not sent): the hinted effort if it takes it, else the highest it takes
    /// below, else the lowest above (Claude Code's `xhigh` is `high` on a model whose highest
    /// is `high`).
    pub fn hinted_effort(&self, mask: u8) -> Option<&'static [u8]> {
        let bit = crate::catalog::nearest_effort(self.effort_hint?, mask)?;
        EFFORT_MEMBERS.get(bit.trailing_zeros() as usize).copied()
    }

    /// Whether a model of `quirks` thinks not at all for this request: it thinks only when
    /// asked (its default effort `none`), and is sent no other effort, the client's or a
    /// hint's (a hint goes to no model that refuses an effort beside the request's tools).
    pub fn unthinking(&self, quirks: &crate::catalog::Quirks) -> bool {
        let none = crate::catalog::effort_bit("none");
        let hinted = (!(quirks.no_effort_with_tools && self.tools))
            .then(|| crate::catalog::nearest_effort(self.effort_hint?, quirks.efforts))
            .flatten();
        let sent = self.effort.map(|(bit, _)| bit).or(hinted);
        Some(quirks.default_effort) == none && sent.is_none_or(|bit| Some(bit) == none)
    }

    /// The first member asking for a penalty or a `logit_bias` (see [`Layout::sampling`]):
    /// what a model of fixed sampling refuses even where it does not think.
    pub fn penalized(&self) -> Option<&'static str> {
        let bias = self.asks & crate::catalog::ASKS_BIAS != 0;
        self.penalty.or(bias.then_some("logit_bias"))
    }

    /// The long texts a translation may stand in for (`protocol::stand_in`).
    pub fn texts(&self) -> &[Span] {
        &self.texts
    }
}
