#!/usr/bin/env python3
"""Builds scorer/catalog.json from the research facts in ../shared/catalog/catalog.json plus the
decisions recorded below (retirement dates, which API each model is reachable through, extra
providers of a model, numeric signals). Run from the repository root:

    python3 scripts/catalog.py ../shared/catalog/catalog.json > scorer/catalog.json

Signals: quality = (LMArena text style-control Elo - 1000) / 5; coding = SWE-bench Verified %;
speed = output tokens/s where a figure is given. Anything the facts mark unknown stays absent
(the router then counts it as the lowest known value in the tier).
"""
import json
import re
import sys

SRC = "shared/catalog/catalog.json"

# Providers: API host (the :authority of fallback attempts), OpenAI-compatible base path and the key the filter sends (from VM env vars).
PROVIDERS = {
    "openai": {"host": "api.openai.com", "base_path": "/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "OPENAI_API_KEY"}},
    "anthropic": {"host": "api.anthropic.com", "base_path": "/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "ANTHROPIC_API_KEY"}},
    "google-gemini": {"host": "generativelanguage.googleapis.com", "base_path": "/v1beta/openai", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "GEMINI_API_KEY"}},
    "xai": {"host": "api.x.ai", "base_path": "/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "XAI_API_KEY"}},
    "groq": {"host": "api.groq.com", "base_path": "/openai/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "GROQ_API_KEY"}},
    "cerebras": {"host": "api.cerebras.ai", "base_path": "/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "CEREBRAS_API_KEY"}},
    # Bedrock's OpenAI-compatible endpoint (Mantle, /v1) with a Bedrock API key as Bearer.
    "aws-bedrock": {"host": "bedrock-mantle.us-east-1.api.aws", "base_path": "/v1", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "AWS_BEARER_TOKEN_BEDROCK"}},
    # bedrock-runtime: Converse for the open-weight chat models and InvokeModel for Titan
    # embeddings, both translated by the router; the same key, or SigV4 signed by Envoy.
    "aws-bedrock-runtime": {"host": "bedrock-runtime.us-east-1.amazonaws.com", "base_path": "", "auth": {"header": "authorization", "prefix": "Bearer ", "env": "AWS_BEARER_TOKEN_BEDROCK"}},
}

# Retirement dates (the day from which a model is never routed to), from the lifecycle facts.
RETIRES = {
    "grok-3-mini-beta": "2026-05-15",
    "grok-3-beta": "2026-05-15",
    "llama3.1-8b": "2026-05-27",
    "qwen-3-235b-a22b-instruct-2507": "2026-05-27",
    "llama-3.3-70b-versatile": "2026-08-16",
    "gpt-5.3-chat-latest": "2026-08-10",
    "gpt-5.1-codex-mini": "2026-07-23",
    "o4-mini": "2026-10-23",
    "o3": "2026-12-11",
    "gpt-5.3-codex": "2027-04-01",
}

# Bedrock models reachable through the OpenAI-compatible Mantle endpoint, with their Mantle ids.
MANTLE = {
    "qwen.qwen3-32b-v1:0": "qwen.qwen3-32b",
    "openai.gpt-oss-120b-1:0": "openai.gpt-oss-120b",
    "qwen.qwen3-next-80b-a3b": "qwen.qwen3-next-80b-a3b-instruct",
    "qwen.qwen3-coder-480b-a35b-v1:0": "qwen.qwen3-coder-480b-a35b-instruct",
    "qwen.qwen3-235b-a22b-2507-v1:0": "qwen.qwen3-235b-a22b-2507",
}

# Catalog ids we rename: the shared id is Bedrock's, but the model is served by three providers.
RENAME = {"openai.gpt-oss-120b-1:0": "gpt-oss-120b"}

# Extra providers of a model: (catalog id, provider, upstream id, speed tok/s or None).
# Not gpt-5.4 on Bedrock, though the facts list it there: AWS's model card for it gives the
# Responses API only (no Chat Completions), a 272K window, and Mantle in us-east-2 and
# us-west-2, not the us-east-1 chat endpoint `aws-bedrock` is, so every request sent there
# failed (one asking tools and an effort went there first, OpenAI's chat refusing that pair).
EXTRA = [
    ("gpt-oss-120b", "groq", "openai/gpt-oss-120b", 500),
    ("gpt-oss-120b", "cerebras", "gpt-oss-120b", 3000),
]

# Structured outputs (response_format json_schema): the OpenAI-compatible paths we know of, and
# Anthropic's Messages API (`output_config.format`, generally available since Claude 4.5).
STRUCTURED_PROVIDERS = {"openai", "google-gemini", "anthropic"}

# Models that take only their default sampling (reasoning models: OpenAI answers a tuned
# temperature, or max_tokens, with a 400; Anthropic's Opus 4.7 likewise), and those sent
# adaptive thinking: Opus 4.7 thinks only so (a thinking budget is a 400), Opus 4.6's budget
# mode is deprecated, and Sonnet 4.6 takes both, Anthropic recommending adaptive (Anthropic's
# extended-thinking models page: "claude-opus-4-6 ... manual mode (type: enabled) deprecated",
# "claude-sonnet-4-6 ... supports both manual extended thinking with interleaved mode and
# adaptive thinking"); adaptive thinking interleaves, so a tool loop's later steps think too.
# From the providers' API references, as README "The catalog" records.
FIXED_SAMPLING = {"o4-mini", "gpt-5.3-codex", "gpt-5.1-codex-mini", "o3", "claude-opus-4-7", "gpt-5.4"}
ADAPTIVE_THINKING = {"claude-opus-4-7", "claude-opus-4-6", "claude-sonnet-4-6"}
# Models that refuse a conversation ending on an assistant turn (a prefill) with a 400: from
# Claude 4.6 on ("Prefilling assistant messages returns a 400 error on Claude 4.6 models",
# Anthropic's migration guide).
NO_PREFILL = {"claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-7"}
# Deployments whose chat API answers a reasoning effort other than none beside function tools
# with a 400 ("Function tools with reasoning_effort are not supported for gpt-5.4 in
# /v1/chat/completions. Please use /v1/responses instead.", OpenAI, March 2026 on): a request
# asking both goes to another candidate.
NO_EFFORT_WITH_TOOLS = {("openai", "gpt-5.4")}
# Models that answer a tool call in the history without its thought signature with a 400
# ("Function call is missing a thought_signature in functionCall parts", Gemini 3, through
# its OpenAI layer as well: the signature rides in the call's extra_content.google), which a
# call another model made never has; Google's thought-signatures guide gives a stand-in for
# such calls ("skip_thought_signature_validator").
THOUGHT_SIGNATURES = {"gemini-3.1-pro-preview"}
# Providers whose OpenAI layer streams tool calls without each delta's `index` and ends an
# answer that called tools with finish_reason "stop" (Gemini's: googleapis/python-genai#2868
# for the finish; the missing index as measured in THU-MAIC/OpenMAIC#1556 and
# AstrBotDevs/AstrBot#6661).
INDEXLESS_CALLS = {"google-gemini"}
# Audio input billed apart from text, USD per million tokens (LiteLLM 1.110.2
# `input_cost_per_audio_token`; Google's pricing page lists audio apart for 2.5 Flash only, Pro
# and 3.1 Pro at the text price).
AUDIO_PRICE = {"gemini-2.5-flash": 1.0}
# The largest request holding an image a model takes, bytes: Groq's vision page ("Maximum
# allowed size for a request containing a base64 encoded image is 4MB. Requests larger than
# this limit will return a 413 error"; read as 4,000,000, the smaller reading).
IMAGE_REQUEST_BYTES = {("groq", "meta-llama/llama-4-scout-17b-16e-instruct"): 4_000_000}
# The most images a request may hold: Groq's vision page's "Images per Request" for Llama 4
# Scout, 5 (as third-party guides quote it), more answered with a 400.
MAX_IMAGES = {("groq", "meta-llama/llama-4-scout-17b-16e-instruct"): 5}
# What a provider answers with a 400, by provider: Groq's OpenAI compatibility page ("The
# following fields are currently not supported and will result in a 400 error": logprobs,
# logit_bias, top_logprobs, messages[].name; "If N is supplied, it must be equal to 1");
# Cerebras's ("not supported and will result in a 400 error if they are supplied:
# frequency_penalty, logit_bias, presence_penalty"); Gemini's penalties ("Penalty is not
# enabled for models/gemini-2.5-flash", a 400 INVALID_ARGUMENT for any non-zero value, reported
# through its OpenAI layer by several client libraries).
# Groq's system and tool messages take a string only ("'messages.0' : for 'role:system' the
# following must be satisfied[('messages.0.content' : value must be a string)]", the same for
# 'role:tool': OpenHands#4643, livekit/agents#1790, cherry-studio#3307, powershai#39, 2024-25):
# a list of texts is sent joined into one string, one holding another part is refused.
# Gemini 2.5 and 3 answer logprobs with a 400 ("Logprobs is not enabled for
# models/gemini-2.5-flash": googleapis/python-genai#1921, langchain-google#1266;
# "Logprobs is not supported for this model": GoogleCloudPlatform/generative-ai#2947).
REFUSES = {
    "groq": ["logprobs", "logit_bias", "name", "n", "part_lists"],
    "cerebras": ["logit_bias", "penalties"],
    "google-gemini": ["penalties", "logit_bias", "logprobs"],
}
# Token biases name token ids of one vocabulary: Gemini's OpenAI layer does not take them
# (Google: no plans to support logit_bias, googleapis/python-aiplatform#3272), and on Bedrock's
# Qwen models the ids an OpenAI client wrote would bias other tokens, silently.
BIAS_REFUSED_MODELS = {"qwen.qwen3-32b-v1:0", "qwen.qwen3-next-80b-a3b", "qwen.qwen3-coder-480b-a35b-v1:0",
                       "qwen.qwen3-235b-a22b-2507-v1:0"}
# Web search over the chat API (web_search_options) is for OpenAI's search models only, none of
# them in this catalog: Gemini's OpenAI layer answers 'Unknown name "web_search_options"', OpenAI's
# other models "Web search options not supported with this model", the others do not know it.
# Every chat model here refuses it, so a request asking for it gets the router's 400 naming it.
# Tools some chat APIs refuse, so a tier moves on: OpenAI's free-form `custom` tools, which
# only OpenAI's own API describes (the others document function tools only); more than 128
# functions, which OpenAI's chat API answers with a 400 (its API reference: "A max of 128
# functions are supported"); and JSON output beside tools on Gemini 2.5 ("Function calling with
# a response mime type: 'application/json' is unsupported", googleapis/python-genai#867,
# openai/openai-agents-python#656; Gemini 3 takes both).
JSON_WITH_TOOLS_REFUSED = {"gemini-2.5-flash", "gemini-2.5-pro"}


def tool_refusals(provider, cid):
    """What of a chat request's tools this chat deployment's API refuses."""
    return (["custom_tools"] if provider != "openai" else ["many_tools"]) + (
        ["json_with_tools"] if cid in JSON_WITH_TOOLS_REFUSED else [])


# OpenAI members its own models differ on (scorer/src/catalog/quirks.rs DROPPABLE): a predicted
# output only GPT-4o and GPT-4.1 take (OpenAI's predicted outputs guide), verbosity only GPT-5
# and later (any value but medium is a 400 from the others: google-deepmind/concordia#164).
OPENAI_DROPS_MODEL = {
    "gpt-4.1": ["verbosity"], "gpt-4.1-mini": ["verbosity"],
    "o3": ["prediction", "verbosity"], "o4-mini": ["prediction", "verbosity"],
    "gpt-5.3-chat-latest": ["prediction"], "gpt-5.4": ["prediction"],
}
# What a model answers with a 400 beyond its provider's REFUSES: OpenAI's reasoning models refuse
# stop sequences ("Unsupported parameter: 'stop' is not supported with this model.", code
# unsupported_parameter: o3 and o4-mini in crewAI PR #4521's list, gpt-5, gpt-5-mini and gpt-5.2 in
# smolagents #1662/#1893; LiteLLM PR #28650 keeps gpt-5.4 among the gpt-5 models without it; the
# codex models are gpt-5 reasoning models of the same family).
REFUSES_MODEL = {cid: ["stop"] for cid in ["o3", "o4-mini", "gpt-5.3-codex", "gpt-5.1-codex-mini", "gpt-5.4"]}
# Audio and file parts (input_audio, file) over a chat API that does not take them: Groq's SDK
# types a user part as text, image_url or document only (groq-python), Cerebras's as text only
# (cerebras-cloud-sdk-python), xAI's chat API takes image attachments only (its files go through
# another API), AWS calls Bedrock's OpenAI-compatible chat text-focused (its models here are
# text models); OpenAI's chat API takes input_audio on its audio models only (its file-inputs
# guide: PDFs on vision models, which these are). Gemini's OpenAI layer takes audio; whether it
# takes file parts is not documented, so they are sent. The translators refuse what their
# protocols cannot carry themselves (Anthropic and Responses: audio; Converse: both).
MEDIA_REFUSED = {"groq": ["input_audio", "file"], "cerebras": ["input_audio", "file"],
                 "xai": ["input_audio", "file"], "aws-bedrock": ["input_audio", "file"]}
OPENAI_CHAT_REFUSES = ["input_audio"]
# Tool names other than 1 to 64 of letters, digits, _ and - (an MCP client's dotted names),
# which OpenAI's APIs answer with a 400 ("string does not match pattern ... ^[a-zA-Z0-9_-]+$";
# the chat API's function name: "a-z, A-Z, 0-9, or contain underscores and dashes, with a
# maximum length of 64"). Anthropic's and Converse's translations refuse them themselves.
TOOL_NAMES_REFUSED = {"openai"}
# Gemini's FunctionDeclaration.name: "Must start with a letter or an underscore. Must be a-z,
# A-Z, 0-9, or contain underscores, colons, dots, and dashes, with a maximum length of 64"
# (the Gemini API reference); dotted names pass, longer or odd ones are its 400.
ODD_TOOL_NAMES_REFUSED = {"google-gemini"}
# What a provider answers with a 400 though it changes nothing of the answer, which the router
# drops from the body (scorer/src/catalog/quirks.rs DROPPABLE): Groq and Cerebras validate each
# message against their own schema ("'messages.2' : for 'role:assistant' the following must be
# satisfied[('messages.2' : property 'reasoning_content' is unsupported)]", Groq;
# "messages.2.assistant.reasoning_content: property ... is unsupported", code wrong_api_format,
# Cerebras; groq-python's ChatCompletionAssistantMessageParam has no refusal, annotations or
# audio), so an answer's own members sent back are echoes they refuse; Gemini's OpenAI layer
# refuses members sent as null ("Value is not a string: null" for an assistant's
# "refusal": null, reported through github/copilot-sdk#2061 in July 2026; "stop": null,
# floneum/kalosm#354). OpenAI's own top-level members (store, metadata, prompt_cache_key,
# prompt_cache_retention, safety_identifier, verbosity) are unknown to the others, and those that
# validate the body refuse them: Gemini's OpenAI layer ('Invalid JSON payload received. Unknown
# name "store": Cannot find field.', also for metadata and prompt_cache_key: openhanako#394,
# cursor-byok#112), Groq ("property 'prompt_cache_key' is unsupported", zed#36215; metadata:
# "`metadata` is not supported with this model"), Cerebras (422 for store, metadata and
# prompt_cache_key: huggingface.js#2268, livekit/agents#1274), Bedrock's OpenAI-compatible
# endpoint (its deserializer's "unknown field", which does not list prompt_cache_key,
# safety_identifier or verbosity: litellm#14225). None changes another provider's answer.
# Anthropic's prompt-cache breakpoints (cache_control on a part or a tool, which every request
# of an Anthropic Messages client carries) mean nothing to a chat provider (their caches are
# automatic) and are unknown members to those that validate a part: every chat API drops them.
DROPS = {
    "groq": ["echoes", "openai_only", "cache_marks"],
    "cerebras": ["echoes", "openai_only", "cache_marks"],
    "google-gemini": ["nulls", "openai_only", "cache_marks"],
    "aws-bedrock": ["openai_only", "cache_marks"],
    "openai": ["cache_marks"],
    "xai": ["cache_marks"],
}
# The reasoning efforts a model takes, where its provider answers another with a 400 ("'none'
# is not supported with the 'gpt-5.1-codex' model. Supported values are: 'low', 'medium', and
# 'high'"): OpenAI's model pages (gpt-5.3-codex, gpt-5.4), its reasoning guide (o3, o4-mini),
# the gpt-oss model card (low, medium, high on every provider), xAI's reasoning guide
# (grok-3-mini: low, high), Codex's model metadata (gpt-5.1-codex-mini: medium, high).
# gpt-5.3-codex takes none as well: LiteLLM 1.110.2 (supports_none_reasoning_effort) and the
# OpenAI Agents SDK 0.24.0, whose default settings send it none (agents/models/default_models.py);
# refused, the Agents SDK pinned to it failed on its first request.
REASONING_EFFORTS = {
    "o3": ["low", "medium", "high"],
    "o4-mini": ["low", "medium", "high"],
    "gpt-oss-120b": ["low", "medium", "high"],
    "gpt-5.3-codex": ["none", "low", "medium", "high", "xhigh"],
    "gpt-5.1-codex-mini": ["medium", "high"],
    "gpt-5.4": ["none", "low", "medium", "high", "xhigh"],
    "grok-3-mini-beta": ["low", "high"],
    # Claude through the Messages translation: none/minimal (no thinking) to high as thinking
    # budgets; the adaptive ones take max as an effort too, and Opus 4.7 xhigh (Anthropic's
    # effort guide: max on Opus 4.6, Sonnet 4.6 and Opus 4.7; xhigh from Opus 4.7).
    "claude-haiku-4-5": ["none", "minimal", "low", "medium", "high"],
    "claude-sonnet-4-6": ["none", "minimal", "low", "medium", "high", "max"],
    "claude-opus-4-6": ["none", "minimal", "low", "medium", "high", "max"],
    "claude-opus-4-7": ["none", "minimal", "low", "medium", "high", "xhigh", "max"],
    # Gemini's OpenAI layer answers any other value with a 400 ("Invalid reasoning_effort:
    # minimal. Valid values are: high, low, medium, none", INVALID_ARGUMENT, reported on the
    # Gemini developer forum for the layer though its page maps minimal), and "none" only on
    # 2.5 models other than Pro ("Reasoning cannot be turned off for Gemini 2.5 Pro or 3
    # models"); Gemini 3.1 Pro takes no minimal level natively either (Gemini thinking guide).
    "gemini-2.5-flash": ["none", "low", "medium", "high"],
    "gemini-2.5-pro": ["low", "medium", "high"],
    "gemini-3.1-pro-preview": ["low", "medium", "high"],
}
# The effort a reasoning model thinks at when a request names none, where it is not medium (the
# default of OpenAI's reasoning models before GPT-5.1, of gpt-oss, and taken for the others,
# which think by default: Gemini 2.5 decides its own budget, the open-weight ones think unless
# told not to): GPT-5.1 and later default to none (OpenAI's reasoning_effort reference), Gemini
# 3.1 Pro to high (Gemini thinking guide). Claude thinks only when asked (none, by its API).
# The budgets hold its thinking for a request that caps no output.
DEFAULT_EFFORTS = {
    "gpt-5.4": "none",
    "gemini-3.1-pro-preview": "high",
}
# Instruct models the shared catalog marks as reasoning that do not think: Qwen's quickstart
# ("Qwen3-Instruct-2507 supports only non-thinking mode and does not generate <think></think>
# blocks"), the same for Qwen3-Coder-480B-A35B-Instruct (its model card). Routed a request
# asking for reasoning, they answered without it (the Cerebras copy of the 2507 weights is
# already marked so).
NOT_REASONING = {"qwen.qwen3-235b-a22b-2507-v1:0", "qwen.qwen3-coder-480b-a35b-v1:0"}

# Dearer rates above an input size: (tokens above which, USD/M in, USD/M out, source). A copy of a
# model on another provider (EXTRA) is priced as the catalog's, long context included.
LONG_CONTEXT = {
    "gemini-2.5-pro": (200000, 2.5, 15.0,
                       "Google AI pricing (LiteLLM input/output_cost_per_token_above_200k_tokens)"),
    "gemini-3.1-pro-preview": (200000, 4.0, 18.0, "OpenRouter listing (>200K ctx $4/$18)"),
    "gpt-5.4": (272000, 5.0, 22.5, "shared/catalog notes (input >272k priced $5/$22.5)"),
}

# USD per million input tokens read from the prompt cache, where the provider bills them apart
# (LiteLLM 1.109.1 model_prices_and_context_window_backup.json, cache_read_input_token_cost of
# the key the shared catalog cites; the same ratio to the input price holds above a long-context
# threshold there). Anthropic's is also its API's rule (a tenth). A model absent here is charged
# its input price for a cached token. A copy on another provider (EXTRA) takes only its own.
CACHE_READ = {
    "gemini-2.5-flash": 0.03, "gemini-2.5-pro": 0.125, "gemini-3.1-pro-preview": 0.2,
    "gpt-4.1-mini": 0.1, "gpt-4.1": 0.5, "o4-mini": 0.275, "o3": 0.5,
    "gpt-5.3-chat-latest": 0.175, "gpt-5.3-codex": 0.175, "gpt-5.1-codex-mini": 0.025, "gpt-5.4": 0.25,
    "claude-haiku-4-5": 0.1, "claude-sonnet-4-6": 0.3, "claude-opus-4-6": 0.5, "claude-opus-4-7": 0.5,
}
EXTRA_CACHE_READ = {("gpt-oss-120b", "groq"): (0.075, "groq/openai/gpt-oss-120b")}

# A provider's own price where it differs from the model's (input, output, source): Cerebras
# sells gpt-oss-120b dearer than Bedrock and Groq.
EXTRA_PRICE = {("gpt-oss-120b", "cerebras"): (0.35, 0.75, "LiteLLM 1.110.2 'cerebras/gpt-oss-120b'")}

ALIASES = {"text-embedding-3-small": "embed-small", "text-embedding-3-large": "embed-large",
           "amazon.titan-embed-text-v2:0": "embed-titan"}


def num(pattern, text):
    m = re.search(pattern, text or "")
    return float(m.group(1).replace(",", "")) if m else None


def api_of(m):
    style = m["api_style"]
    if m["tier"] == "embedding":
        return "embeddings" if style.startswith("openai-embeddings") else "bedrock-invoke"
    if "responses ONLY" in style:
        return "responses"
    if m["provider"] == "aws-bedrock":
        return "chat" if m["id"] in MANTLE else "bedrock-converse"
    if m["provider"] == "anthropic":
        # The native Messages API: prompt caching and thinking, which the compatibility layer
        # lacks (a deployment may still say "chat" to use that layer).
        return "messages"
    return "chat"


def main():
    facts = json.load(open(sys.argv[1] if len(sys.argv) > 1 else SRC))
    models = []
    for m in facts:
        cid = RENAME.get(m["id"], m["id"])
        api = api_of(m)
        elo = num(r"LMArena text \(style control\) (\d+) Elo", m["quality_signal"])
        # Converse and InvokeModel live on bedrock-runtime; Mantle serves only the OpenAI shapes.
        provider = "aws-bedrock-runtime" if api in ("bedrock-invoke", "bedrock-converse") else m["provider"]
        entry = {
            "id": cid,
            "tier": m["tier"] if m["tier"] != "embedding" else "embedding",
            "provider": provider,
            "api": api,
        }
        upstream = MANTLE.get(m["id"]) if m["provider"] == "aws-bedrock" else None
        if upstream:
            entry["upstream_id"] = upstream
        elif cid != m["id"]:
            entry["upstream_id"] = m["id"]
        entry["context_window"] = m["context_window"]
        dims = num(r"^(\d+)-dim vector", m["max_output"]) if isinstance(m["max_output"], str) else None
        if dims:
            entry["dimensions"] = int(dims)
        if isinstance(m["max_output"], int):
            entry["max_output"] = m["max_output"]
        entry["price_in"] = m["price_in_per_mtok"]
        entry["price_out"] = m["price_out_per_mtok"]
        if cid in CACHE_READ:
            entry["price_cache_read"] = CACHE_READ[cid]
        if cid in AUDIO_PRICE and m["provider"] == "google-gemini":
            entry["price_audio_in"] = AUDIO_PRICE[cid]
        if elo:
            entry["quality"] = round((elo - 1000) / 5, 1)
        coding = num(r"SWE-bench Verified (\d+(?:\.\d+)?)%", m["coding_signal"])
        if coding:
            entry["coding"] = coding
        speed_text = m["speed_tps"] if isinstance(m["speed_tps"], str) else ""
        speed = None if "conflicting" in speed_text else num(r"~([\d,]+)(?:-[\d,]+)? tok/s", speed_text)
        if speed:
            entry["speed_tps"] = speed
        entry["tools"] = m["tools"] is True
        entry["vision"] = m["vision"] is True
        entry["reasoning"] = m["reasoning"] is True and cid not in NOT_REASONING
        entry["structured_output"] = m["provider"] in STRUCTURED_PROVIDERS and m["tier"] != "embedding"
        if m["id"] in RETIRES:
            entry["retires"] = RETIRES[m["id"]]
        if m["id"] in ALIASES:
            entry["alias"] = ALIASES[m["id"]]
        if cid in FIXED_SAMPLING:
            entry["fixed_sampling"] = True
        if cid in ADAPTIVE_THINKING:
            entry["adaptive_thinking"] = True
        if cid in NO_PREFILL:
            entry["no_prefill"] = True
        if cid in THOUGHT_SIGNATURES:
            entry["thought_signatures"] = True
        if m["provider"] in INDEXLESS_CALLS and m["tier"] != "embedding" and api == "chat":
            entry["indexless_calls"] = True
        if (m["provider"], cid) in NO_EFFORT_WITH_TOOLS and api == "chat":
            entry["no_effort_with_tools"] = True
        if (m["provider"], cid) in IMAGE_REQUEST_BYTES:
            entry["max_image_request_bytes"] = IMAGE_REQUEST_BYTES[(m["provider"], cid)]
        if (m["provider"], cid) in MAX_IMAGES:
            entry["max_images"] = MAX_IMAGES[(m["provider"], cid)]
        if m["provider"] in REFUSES and m["tier"] != "embedding":
            entry["refuses"] = REFUSES[m["provider"]]
        if cid in REFUSES_MODEL:
            entry["refuses"] = entry.get("refuses", []) + REFUSES_MODEL[cid]
        if m["tier"] != "embedding" and api == "chat":
            media = MEDIA_REFUSED.get(provider, [])
            if provider == "openai" and not entry.get("audio_output"):
                media = OPENAI_CHAT_REFUSES
            if media:
                entry["refuses"] = entry.get("refuses", []) + media
        if m["provider"] in TOOL_NAMES_REFUSED and m["tier"] != "embedding" and api in ("chat", "responses"):
            entry["refuses"] = entry.get("refuses", []) + ["tool_names"]
        if m["provider"] in ODD_TOOL_NAMES_REFUSED and m["tier"] != "embedding" and api == "chat":
            entry["refuses"] = entry.get("refuses", []) + ["odd_tool_names"]
        if m["provider"] in DROPS and m["tier"] != "embedding" and api == "chat":
            entry["drops"] = DROPS[m["provider"]]
            if m["provider"] == "openai":
                entry["drops"] = entry["drops"] + OPENAI_DROPS_MODEL.get(cid, [])
        if cid in BIAS_REFUSED_MODELS:
            entry["refuses"] = entry.get("refuses", []) + ["logit_bias"]
        if m["tier"] != "embedding" and api == "chat":
            entry["refuses"] = entry.get("refuses", []) + ["web_search"] + tool_refusals(m["provider"], cid)
        if cid in REASONING_EFFORTS:
            entry["reasoning_efforts"] = REASONING_EFFORTS[cid]
        if cid in DEFAULT_EFFORTS:
            entry["default_reasoning_effort"] = DEFAULT_EFFORTS[cid]
        long = LONG_CONTEXT.get(cid)
        if long:
            entry["long_context"] = {"above": long[0], "price_in": long[1], "price_out": long[2]}
        cached = "cache read: LiteLLM 1.109.1 cache_read_input_token_cost" if cid in CACHE_READ else ""
        audio = "audio input: LiteLLM 1.110.2 input_cost_per_audio_token" if "price_audio_in" in entry else ""
        entry["source"] = "shared/catalog/catalog.json: " + "; ".join(
            s for s in [m["quality_signal"] if elo else "", m["coding_signal"] if coding else "",
                        m.get("lifecycle") or "", "long context: " + long[3] if long else "",
                        cached, audio] if s)
        models.append(entry)
    by_id = {e["id"]: e for e in models}
    for cid, provider, upstream, speed in EXTRA:
        base = dict(by_id[cid])
        base.update({"provider": provider, "upstream_id": upstream, "api": "chat"})
        base["structured_output"] = provider in STRUCTURED_PROVIDERS
        base.pop("refuses", None)
        if provider in REFUSES or cid in REFUSES_MODEL or provider in MEDIA_REFUSED:
            base["refuses"] = REFUSES.get(provider, []) + REFUSES_MODEL.get(cid, []) + MEDIA_REFUSED.get(provider, [])
        base["refuses"] = base.get("refuses", []) + ["web_search"] + tool_refusals(provider, cid)
        base.pop("no_effort_with_tools", None)
        if (provider, cid) in NO_EFFORT_WITH_TOOLS:
            base["no_effort_with_tools"] = True
        base.pop("drops", None)
        if provider in DROPS:
            base["drops"] = DROPS[provider]
        if speed:
            base["speed_tps"] = speed
        else:
            base.pop("speed_tps", None)
        base.pop("price_cache_read", None)
        price = EXTRA_PRICE.get((cid, provider))
        if price:
            base["price_in"], base["price_out"] = price[0], price[1]
            base["source"] += f"; also served by {provider} as {upstream} (price: {price[2]})"
        else:
            base["source"] += f"; also served by {provider} as {upstream} (price: the catalog's, "\
                              "no per-provider figure found)"
        cached = EXTRA_CACHE_READ.get((cid, provider))
        if cached:
            base["price_cache_read"] = cached[0]
            base["source"] += f"; its cache read: LiteLLM 1.109.1 '{cached[1]}'"
        models.append(base)
    out = {"providers": PROVIDERS, "models": models}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
