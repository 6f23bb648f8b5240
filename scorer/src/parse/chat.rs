//! What routing needs from a chat request ([`ChatRequest`], borrowed from the body), the
//! fields the router owns, and the token estimate that prices it.

use std::borrow::Cow;

use crate::catalog::{Tier, thinking_tokens};
use crate::parse::features::{Features, Role};
use crate::parse::layout::Layout;
use crate::parse::prefix::Digest;
use crate::vocab::{Estimate, Policy, Prefer};

/// Message roles the router accepts.
pub const ROLES: [&str; 6] = ["system", "developer", "user", "assistant", "tool", "function"];

/// Top-level fields the router reads and removes: they mean nothing to a provider
/// (`thinking_budget` only to Claude's Messages API, which the translation writes it for).
pub const ROUTER_FIELDS: [&str; 7] = [
    "prefer",
    "tier",
    "provider",
    "max_price",
    "max_tokens_ceiling",
    "reasoning_effort_hint",
    "thinking_budget",
];

/// A request's price ceiling (OpenRouter's `max_price`), USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaxPrice {
    /// Highest input price.
    pub prompt: Option<f64>,
    /// Highest output price.
    pub completion: Option<f64>,
}

/// What routing needs from a chat request. Borrows from the body.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest<'a> {
    /// The `model` value as sent.
    pub model: Cow<'a, str>,
    /// `prefer`, when given.
    pub prefer: Option<Prefer>,
    /// `tier`, when given.
    pub tier: Option<Tier>,
    /// `stream: true`.
    pub stream: bool,
    /// `response_format` asks for JSON (`json_object`, or a `json_schema`): the answer's
    /// content must parse.
    pub json_output: bool,
    /// `max_completion_tokens`, else `max_tokens`.
    pub max_output_tokens: Option<u64>,
    /// `n`: how many choices the provider generates (each billed as output).
    pub choices: Option<u64>,
    /// The field `max_output_tokens` came from, for errors about it.
    pub max_output_param: &'static str,
    /// `max_tokens_ceiling: true`: the output cap is a ceiling (an Anthropic client's
    /// `max_tokens`, which that API requires), not a size the answer needs: a model with a
    /// smaller output limit stays a candidate and is sent its own limit, and the estimate is
    /// the usual output under the cap.
    pub output_ceiling: bool,
    /// `thinking_budget`: a client's own thinking budget (a Messages client's `budget_tokens`),
    /// which a Claude is sent in place of its effort's, and the estimate holds.
    pub thinking_budget: Option<u64>,
    /// `modalities` asks for audio output.
    pub audio_output: bool,
    /// Number of messages.
    pub messages: usize,
    /// Bytes of message text plus the raw size of other message fields and tool definitions.
    pub text_bytes: usize,
    /// Conversation features for `auto`.
    pub features: Features,
    /// The longest side, in pixels, of the images whose data URLs say their size (0: none
    /// does): the Messages and Converse APIs refuse some sizes.
    pub image_side: u32,
    /// The request's own `provider: {"only": [...], "ignore": [...]}`.
    pub provider_policy: Option<Policy>,
    /// The client asked for a stream's usage itself (`stream_options.include_usage`). The
    /// router always asks providers for it (to price the stream) and removes what the client
    /// did not ask for.
    pub usage_requested: bool,
    /// `max_price`, when given.
    pub max_price: Option<MaxPrice>,
    /// Each message's role, how many of [`parts`](Self::parts) are its texts, and its tool
    /// calls, in order, for the `auto` feature scan: scanning text is most of the cost of a
    /// pass, and only `model: "auto"` needs it.
    pub(crate) texts: Vec<(Role, usize, u32)>,
    /// The messages' texts in order, one list for all (not a vector per message: an agent's
    /// conversation has hundreds of messages, and each allocation is work in the VM).
    pub(crate) parts: Vec<&'a str>,
    /// Each message's raw bytes in the body, in order: what says a later turn repeats them.
    pub(crate) spans: Vec<(usize, usize)>,
    /// The digests of the messages `1..=k` for every k ([`crate::parse::prefix::chain`]): after
    /// a parse, those a worker's memo kept for the prefix it restored (the scan makes the
    /// others, and hands them all back here for the memo to keep).
    pub(crate) chain: Vec<Digest>,
    pub(crate) layout: Layout,
    /// What reading the PDFs of the request's `file` parts may still cost (one budget for all
    /// of them: a body of hundreds of PDFs had a budget each).
    pub(crate) pdf: crate::parse::pdf::ObjectStreams,
}

impl Default for ChatRequest<'_> {
    /// Nothing read yet: the parser's starting point.
    fn default() -> Self {
        ChatRequest {
            model: Cow::Borrowed(""),
            prefer: None,
            tier: None,
            stream: false,
            json_output: false,
            max_output_tokens: None,
            choices: None,
            max_output_param: "max_tokens",
            output_ceiling: false,
            thinking_budget: None,
            audio_output: false,
            messages: 0,
            text_bytes: 0,
            features: Features::new(),
            image_side: 0,
            provider_policy: None,
            usage_requested: false,
            max_price: None,
            texts: Vec::new(),
            parts: Vec::new(),
            spans: Vec::new(),
            chain: Vec::new(),
            layout: Layout::default(),
            pdf: crate::parse::pdf::ObjectStreams::new(),
        }
    }
}

/// Tokens added per message for role and framing in [`ChatRequest::estimate`].
pub const TOKENS_PER_MESSAGE: u64 = 4;

/// Tokens an image part is assumed to cost: Anthropic's for an image at its largest standard
/// size (about 1.15 megapixels, width x height / 750); OpenAI's high-detail 1024 x 1024 is 765.
/// An image's bytes are not text (a data URL's base64 would count thousands), so each image
/// counts this much in the estimate and the context guard.
pub const IMAGE_TOKENS: u64 = 1_600;

/// Bytes of a `file` part's member (a PDF's base64, mostly) per token it is counted as: a PDF is
/// read as its text and an image of each page, some 1,000 to 1,500 tokens a page, and a page
/// of a text PDF runs 10 to 20 KB in base64 (a scanned one far more: it is over-counted less
/// than its bytes as text would be, four times over).
pub const FILE_BYTES_PER_TOKEN: u64 = 16;

/// Tokens each page of a PDF is counted as when its page objects can be counted in its base64
/// ([`super::pdf::pages`]): providers bill a PDF by its pages, each read as its text and an
/// image of it (Anthropic documents 1,500 to 3,000 tokens of text a page besides the image,
/// Gemini 258 to 560 a page, OpenAI a page's text and image), not by its bytes: a 10 KB PDF
/// of 100 blank pages was counted 850 tokens, and a client's limit let 3.2 times it through.
pub const PDF_PAGE_TOKENS: u64 = 1_500;

/// Bytes of an `input_audio` part's member per token it is counted as: Gemini counts 32 tokens
/// a second of audio, and a second of 16 kHz WAV is some 43 KB in base64, of MP3 at 128 kbit/s
/// some 21 KB.
pub const AUDIO_BYTES_PER_TOKEN: u64 = 512;

/// Bytes per token in [`ChatRequest::estimate`]: about right for English and code with
/// today's tokenizers, and it over-counts for most other scripts rather than under-counting.
pub const BYTES_PER_TOKEN: u64 = 4;

/// Input tokens the budgets hold for `body`'s text outside ASCII beyond the estimate's quarter
/// token a byte, by the length of each character's UTF-8: a two-byte one (Cyrillic, Greek,
/// Arabic) a token, a three-byte one (CJK, Devanagari, Thai) two, a four-byte one (emoji, rarer
/// scripts) four, a byte each, as a tokenizer falls back to bytes for characters outside its
/// vocabulary (100,000 hieroglyphs, 400 KB, were billed 400,004 tokens where a quarter of that
/// was held, and eight such requests at once spent 3.6 times a limit; CJK text runs 1.3 to 2
/// times the quarter). A `\u` escape of a character outside ASCII holds two. Held, settled at
/// what the provider billed, and charged only where a request is charged what it held (a worst
/// case left unanswered); the estimate's price and the count stay as they were.
pub fn wide_tokens(body: &[u8]) -> u64 {
    let (mut held, mut counted) = (0u64, 0u64);
    for b in body.iter().filter(|b| **b >= 0x80) {
        counted += 1;
        held += match b {
            0xC0..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF7 => 4,
            _ => 0,
        };
    }
    // An escape, not an escaped backslash before a `u` (`\\usepackage`), of a code past
    // ASCII (not `\u003c`).
    let escape = |at: usize| {
        let backslashes = body.get(..=at).map_or(0, |b| b.iter().rev().take_while(|c| **c == b'\\').count());
        let code =
            body.get(at + 2..at + 6).and_then(|h| u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        backslashes % 2 == 1 && code.is_some_and(|c| c >= 0x80)
    };
    let escapes = memchr::memmem::find_iter(body, b"\\u").filter(|at| escape(*at)).count() as u64;
    held.saturating_sub(counted / 4).saturating_add(escapes.saturating_mul(2))
}

impl ChatRequest<'_> {
    /// Token estimate for pricing: `ceil(text_bytes / 4) + 4 per message` and
    /// [`IMAGE_TOKENS`] per image; output is the request's limit or `default_output` (and the
    /// thinking of a named effort; a hinted one's, or a model's default, by
    /// [`Estimate::thinking`]), once per choice (`n`: each is generated, and billed).
    pub fn estimate(&self, default_output: u64) -> Estimate {
        let text = (self.text_bytes as u64).div_ceil(BYTES_PER_TOKEN);
        // Without a limit, the thinking of an effort the request names is output too, or of
        // the client's own budget where that is more (a Claude is sent it in its place).
        let budget = self.thinking_budget.unwrap_or(0);
        let thinking = self.layout.effort().map_or(0, |(bit, _)| thinking_tokens(bit).max(budget));
        let usual = default_output.saturating_add(thinking);
        let per_choice = match self.max_output_tokens {
            Some(cap) if self.output_ceiling => cap.min(usual),
            Some(cap) => cap,
            None => usual,
        };
        let choices = self.choices.unwrap_or(1).max(1);
        // Without a named effort or a cap, each model thinks as a hint or its default has it.
        let thinking = match (self.max_output_tokens, self.layout.effort()) {
            (None, None) => Some((self.layout.effort_hint.unwrap_or(0), choices)),
            _ => None,
        };
        Estimate {
            input_tokens: text
                + TOKENS_PER_MESSAGE * self.messages as u64
                + IMAGE_TOKENS * u64::from(self.features.images),
            output_tokens: per_choice.saturating_mul(choices),
            thinking,
            audio: self.layout.asks() & crate::catalog::ASKS_AUDIO != 0,
            worst_case: None,
            wide_input: 0,
        }
    }

    /// Scans the conversation's text features from message `first` on, in message order: the
    /// features must already hold the scan's state after the messages before it (none for
    /// `first` 0). Scanning text is most of the cost of a pass, and only `auto` needs it.
    pub(crate) fn scan_from(&mut self, first: usize) {
        let (texts, parts) = (std::mem::take(&mut self.texts), std::mem::take(&mut self.parts));
        let skipped: usize = texts.iter().take(first).map(|&(_, n, _)| n).sum();
        let mut parts = parts.into_iter().skip(skipped);
        for (role, n, tool_calls) in texts.into_iter().skip(first) {
            self.features.begin_message(role);
            for text in parts.by_ref().take(n) {
                self.features.add_text(role, text);
            }
            self.features.end_message(role, tool_calls);
        }
    }

    /// Where the body's members are: enough to rewrite it again for another model without
    /// parsing it again.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The client asked for reasoning (an effort, a `reasoning` object, or a hint), other than
    /// `none`: a translated answer shows the model's thinking.
    pub fn asks_reasoning(&self) -> bool {
        let none = crate::catalog::effort_bit("none");
        self.features.reasoning_param || self.layout.effort_hint.is_some_and(|b| Some(b) != none)
    }
}
