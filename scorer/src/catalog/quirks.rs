//! What a model takes that its protocol does not say: its quirks, the reasoning efforts it
//! takes and what of a request its provider refuses, as the catalog lists them.

/// What a model takes that its protocol does not say (catalog `fixed_sampling`,
/// `adaptive_thinking`, `no_prefill`, `thought_signatures`, `no_effort_with_tools`, `indexless_calls`,
/// `reasoning_efforts`, `refuses`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Takes only its default sampling (a reasoning model): a request that tunes sampling is
    /// not sent to it, and over the chat API its output cap goes as `max_completion_tokens`.
    pub fixed_sampling: bool,
    /// Thinks adaptively (Claude Opus 4.7 only so, Opus 4.6 and Sonnet 4.6 as Anthropic
    /// recommends): `reasoning_effort` is sent as `thinking: {"type":"adaptive"}` with
    /// `output_config.effort`, never a token budget.
    pub adaptive_thinking: bool,
    /// Refuses a conversation that ends on an assistant turn, a prefill (Claude 4.6 and later
    /// answer it with a 400): such a request is not sent to it, and the next candidate takes it.
    pub no_prefill: bool,
    /// Answers a tool call in the history without its thought signature with a 400 (Gemini 3:
    /// "Function call is missing a thought_signature"): a call another model made (the tier
    /// changed, a failover) or one a client rebuilt has none. Such calls are sent with
    /// Google's stand-in signature, which skips the check.
    pub thought_signatures: bool,
    /// Refuses a reasoning effort other than `none` beside tools on the chat API (OpenAI's
    /// GPT-5.4: "Function tools with reasoning_effort are not supported for gpt-5.4 in
    /// /v1/chat/completions"): a request asking both is not sent to it, and a hinted effort
    /// is not sent to it with tools.
    pub no_effort_with_tools: bool,
    /// Streams its tool calls over the chat API without each delta's `index`, one call a chunk,
    /// and ends an answer that called tools with `finish_reason: "stop"` (Gemini's OpenAI
    /// layer): the OpenAI SDKs' stream helpers raise on the first and merge parallel calls into
    /// one, and agent loops stop at the second. The router numbers the calls by their ids and
    /// says `tool_calls` ([`crate::account::stream::StreamUsage::indexless_calls`]), in a whole
    /// answer too, and its own finish names as OpenAI's ([`crate::account::openai_finish`]).
    /// It marks Gemini's OpenAI layer, the one API sent Gemini's own `extra_body`.
    pub indexless_calls: bool,
    /// Not the catalog's: the configuration's `anthropic_auto_cache`, for a model of Anthropic's
    /// Messages API (see [`crate::Config::anthropic_auto_cache`]).
    pub auto_cache: bool,
    /// The largest request body holding an image it takes, bytes (0: no limit known): Groq
    /// answers one over 4 MB with a 413 ("Maximum allowed size for a request containing a
    /// base64 encoded image is 4MB"), which ended the request; such a request is not sent to it.
    pub image_request_bytes: u32,
    /// The most images a request may hold (0: no limit known): Groq's Llama 4 Scout is reported
    /// to take 5 and to answer more with a 400; a request holding more is not sent to it.
    pub max_images: u32,
    /// The `reasoning_effort` values it takes, as bits of [`effort_bit`] (0: not known, any
    /// is sent). OpenAI answers another with a 400 (`'minimal' is not supported with the
    /// 'gpt-5.1-codex' model`): a request asking for one is not sent to it.
    pub efforts: u8,
    /// The effort it thinks at when a request names none, a bit of [`effort_bit`] (0, or
    /// `none`'s: it thinks only when asked): OpenAI's reasoning models before GPT-5.1 think at medium, Gemini
    /// 2.5 at a budget of its own. A request that caps no output is held its thinking (o3 asked
    /// nothing was held gpt-4.1's 512 tokens, and wrote 20,000: a budget overrun 8 times).
    pub default_effort: u8,
    /// What of [`REFUSABLE`] it answers with a 400, as bits of [`refusable_bit`] (Groq's
    /// "will result in a 400 error": `logprobs`, `logit_bias`, `top_logprobs`,
    /// `messages[].name`, `n` other than 1): a request asking one is not sent to it.
    pub refuses: u16,
    /// What of a chat body its provider answers with a 400 though it changes nothing of the
    /// answer, as bits of [`droppable_bit`]: such members are taken out of the body sent to it.
    pub drops: u8,
    /// Takes tools that ask to be `strict` (Claude's structured outputs on Anthropic's API:
    /// its catalog entry's `structured_output`): such a tool reaches it strict, its schema
    /// closed as Claude's constrained decoding requires ([`crate::protocol::anthropic`]).
    pub strict_tools: bool,
}

impl Quirks {
    /// A model that takes what its protocol says.
    pub const NONE: Quirks = Quirks {
        fixed_sampling: false,
        adaptive_thinking: false,
        no_prefill: false,
        thought_signatures: false,
        no_effort_with_tools: false,
        indexless_calls: false,
        auto_cache: false,
        image_request_bytes: 0,
        max_images: 0,
        efforts: 0,
        default_effort: 0,
        refuses: 0,
        drops: 0,
        strict_tools: false,
    };
}

/// What the router takes out of a chat body for a provider that answers it with a 400:
/// `echoes`, an answer's own members sent back in the conversation (an OpenAI SDK client
/// appends the answer's message as it came: `refusal`, `annotations`, `audio`, another
/// provider's `reasoning_content`, Gemini's `extra_content` on a tool call), which Groq and
/// Cerebras refuse ("property 'reasoning_content' is unsupported"); `nulls`, members sent as
/// null (OpenAI's "not set"), which Gemini's OpenAI layer refuses ("Value is not a string:
/// null" for `refusal: null`, a 400 for `stop: null`); `openai_only`, OpenAI's top-level members
/// that change nothing of another provider's answer ([`OPENAI_ONLY`]), which Gemini's OpenAI
/// layer, Groq and Cerebras refuse as unknown ("Unknown name \"store\": Cannot find field",
/// "property 'prompt_cache_key' is unsupported"); `cache_marks`, Anthropic's prompt-cache
/// breakpoints (`cache_control` on a content part or a tool), which an Anthropic client's
/// request carries and no chat provider reads (their caches are automatic), while those that
/// validate a part refuse a member they do not know; `prediction`, a predicted output, which
/// only OpenAI's GPT-4o and GPT-4.1 take (its guide) and its other models answer with a 400
/// (it speeds an answer, it does not change it); `verbosity`, which OpenAI's models before
/// GPT-5 answer with a 400 for any value but the default `medium` ("'verbosity' does not
/// support 'low' with this model").
pub const DROPPABLE: [&str; 6] = ["echoes", "nulls", "openai_only", "cache_marks", "prediction", "verbosity"];
/// [`DROPPABLE`]'s bits, in its order.
pub const DROPS_ECHOES: u8 = 1;
pub const DROPS_NULLS: u8 = 2;
pub const DROPS_OPENAI_ONLY: u8 = 4;
pub const DROPS_CACHE_MARKS: u8 = 8;
pub const DROPS_PREDICTION: u8 = 16;
pub const DROPS_VERBOSITY: u8 = 32;
/// Not the catalog's to list: an assistant message's `thinking_blocks`, reasoning carried for
/// Anthropic's and the Responses API, which every chat body goes without.
pub const DROPS_THINKING: u8 = 64;
/// Not the catalog's to list: `reasoning_effort: "none"`, which a model that does not reason
/// goes without (OpenAI's non-reasoning models answer it with a 400); every such model drops it.
pub const DROPS_EFFORT_NONE: u8 = 128;
/// The drops taken out inside messages and tools (the others are top-level members; inside a
/// message `openai_only` takes out a part's [`OPENAI_CACHE_MARK`]).
pub const MESSAGE_DROPS: u8 =
    DROPS_ECHOES | DROPS_NULLS | DROPS_OPENAI_ONLY | DROPS_CACHE_MARKS | DROPS_THINKING;
/// OpenAI's own top-level members, for its stored completions, its dashboard, its prompt cache
/// and its abuse monitoring, GPT-5's answer length (`verbosity`, which the translations drop
/// too) and a predicted output: what `openai_only` takes out. (`store` and `metadata` no
/// provider is sent: a gateway does not leave its clients' conversations stored in its own
/// account, which they cannot read back through it.)
pub const OPENAI_ONLY: [&str; 8] = [
    "store",
    "metadata",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "safety_identifier",
    "verbosity",
    "prediction",
];
/// OpenAI's prompt-cache breakpoint on a content part (`{"mode": "explicit"}`), which
/// `openai_only` takes out too, as the translations do (Anthropic's four marks are no map of
/// OpenAI's latest four of up to 80).
pub const OPENAI_CACHE_MARK: &str = "prompt_cache_breakpoint";

/// A [`DROPPABLE`] entry's bit (`None`: not one of them).
pub fn droppable_bit(value: &str) -> Option<u8> {
    DROPPABLE.iter().position(|e| *e == value).map(|i| 1 << i)
}

/// What a request may ask that some providers refuse: token log probabilities (`logprobs`,
/// `top_logprobs`), a message's `name`, more than one choice (`n`), token biases
/// (`logit_bias`), repetition penalties (`presence_penalty`, `frequency_penalty` other than 0),
/// stop sequences (`stop`, which OpenAI's reasoning models answer with "Unsupported parameter:
/// 'stop' is not supported with this model"), audio in a message (an `input_audio` part, which
/// only OpenAI's audio models take over its chat API), files (a `file` part, a PDF) and tool
/// names other than 1 to 64 of letters, digits, `_` and `-` (an MCP client's dotted
/// `github.create_issue`, which OpenAI answers with a 400 and Gemini takes), and odd tool names,
/// other than a letter or `_` then up to 63 of letters, digits, `_`, `.`, `:` and `-` (Gemini's
/// `FunctionDeclaration.name`: longer, a leading digit, `/`, other scripts), and web search
/// (`web_search_options`), which only OpenAI's search models take over the chat API (Gemini's
/// OpenAI layer: "Unknown name \"web_search_options\""; OpenAI's other models: "Web search
/// options not supported with this model"); and of tools: OpenAI's free-form `custom` tools,
/// which the other chat APIs do not take, more than 128 of them (OpenAI's chat API: "A max of
/// 128 functions are supported"), and JSON output beside them (Gemini 2.5: "Function calling
/// with a response mime type: 'application/json' is unsupported"); and a system or tool
/// message's content as a list of parts (Groq: "'messages.0' : for 'role:system' the following
/// must be satisfied[('messages.0.content' : value must be a string)]", as its clients' issue
/// threads quote it): a list of texts is sent to such a provider as one string
/// ([`crate::parse::layout::Layout::joins`]: Claude Code's system prompt is such a list, its
/// cache marks dropped there), one holding another part is refused.
pub const REFUSABLE: [&str; 15] = [
    "logprobs",
    "name",
    "n",
    "logit_bias",
    "penalties",
    "stop",
    "input_audio",
    "file",
    "tool_names",
    "odd_tool_names",
    "web_search",
    "custom_tools",
    "many_tools",
    "json_with_tools",
    "part_lists",
];
/// [`REFUSABLE`]'s bits, in its order.
pub const ASKS_LOGPROBS: u16 = 1;
pub const ASKS_NAME: u16 = 2;
pub const ASKS_CHOICES: u16 = 4;
pub const ASKS_BIAS: u16 = 8;
pub const ASKS_PENALTY: u16 = 16;
pub const ASKS_STOP: u16 = 32;
pub const ASKS_AUDIO: u16 = 64;
pub const ASKS_FILE: u16 = 128;
pub const ASKS_TOOL_NAME: u16 = 256;
pub const ASKS_ODD_TOOL_NAME: u16 = 512;
pub const ASKS_WEB_SEARCH: u16 = 1024;
pub const ASKS_CUSTOM_TOOL: u16 = 2048;
pub const ASKS_MANY_TOOLS: u16 = 4096;
pub const ASKS_JSON_WITH_TOOLS: u16 = 8192;
pub const ASKS_PART_LISTS: u16 = 16384;
/// The smallest `max_output_tokens` the Responses API accepts (it answers
/// `integer_below_min_value` below it); smaller limits are raised to it, and a usage within
/// twice it is no runaway whatever the client's cap ([`crate::usage::Usage::beyond`]).
pub const MIN_OUTPUT_TOKENS: u64 = 16;
/// The most function tools OpenAI's chat API takes ([`ASKS_MANY_TOOLS`] above).
pub const MOST_TOOLS: u32 = 128;
/// The [`REFUSABLE`] bits a message asks (the others are top-level members).
pub const MESSAGE_ASKS: u16 = ASKS_NAME | ASKS_AUDIO | ASKS_FILE | ASKS_PART_LISTS;

/// A [`REFUSABLE`] entry's bit (`None`: not one of them).
pub fn refusable_bit(value: &str) -> Option<u16> {
    REFUSABLE.iter().position(|e| *e == value).map(|i| 1 << i)
}

/// The `reasoning_effort` values a catalog may list for a model, least first.
pub const EFFORTS: [&str; 7] = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/// A `reasoning_effort` value's bit in [`Quirks::efforts`] (`None`: not one of [`EFFORTS`]).
pub fn effort_bit(value: &str) -> Option<u8> {
    EFFORTS.iter().position(|e| *e == value).map(|i| 1 << i)
}

/// The thinking budget for each `reasoning_effort` that thinks: what the Messages API is sent
/// as `budget_tokens`, and what the estimate of any request naming the effort adds to its
/// default output (a reasoning model's thinking is billed as output).
pub const THINKING_BUDGETS: [(&str, u64); 3] = [("low", 2_048), ("medium", 8_192), ("high", 16_384)];

/// The tokens an effort's thinking adds to an output estimate (of an [`effort_bit`]): its
/// [`THINKING_BUDGETS`] entry, twice the highest for `xhigh` and four times for `max`, none
/// for `none` and `minimal`.
pub fn thinking_tokens(bit: u8) -> u64 {
    let name = EFFORTS.iter().enumerate().find(|(i, _)| bit == 1 << i).map_or("", |(_, e)| *e);
    let highest = THINKING_BUDGETS.last().map_or(0, |&(_, t)| t);
    match THINKING_BUDGETS.iter().find(|(e, _)| *e == name) {
        Some(&(_, tokens)) => tokens,
        None if name == "xhigh" => 2 * highest,
        None if name == "max" => 4 * highest,
        None => 0,
    }
}

/// The effort of `mask` sent for a hinted one, `hint` (bits of [`effort_bit`]): the deepest
/// at or below it, else the shallowest above; `None` when the mask takes none.
pub fn nearest_effort(hint: u8, mask: u8) -> Option<u8> {
    let bits = (0..8).map(|i| 1u8 << i).filter(|b| mask & b != 0);
    bits.clone().filter(|b| *b <= hint).max().or_else(|| bits.filter(|b| *b > hint).min())
}

/// The values of an [`Quirks::efforts`] mask, least first.
pub fn efforts_of(mask: u8) -> Vec<&'static str> {
    EFFORTS.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, e)| *e).collect()
}

/// The values of an [`Quirks::efforts`] mask, for a message: `low, medium, high`.
pub fn effort_names(mask: u8) -> String {
    efforts_of(mask).join(", ")
}
