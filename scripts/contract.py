"""Contract run: the official OpenAI spec drives generated requests against the router.

Run by tests/tests/contract.rs (`make test`) against the demo stack (Envoy, the router, the mock
providers), with the `.venv` that `make sdks` fills (schemathesis, pinned in the Makefile):

    .venv/bin/python scripts/contract.py --spec ../shared/openai-openapi/openapi.yaml \
        --base-url http://127.0.0.1:10000/v1 [--seconds 75] [--seed 15]

schemathesis generates request bodies from the spec's request schemas (spec-valid ones, and
invalid ones in its negative mode) for `/chat/completions` (whole and streamed), `/responses`
(whole and streamed), `/embeddings` and `/models`. A share of them get a model the router can
route (`economy`, `auto`, `embed-small`, ...): a generated model name is almost never known, and
a 404 tests little. A share of the `/responses` bodies are also made servable (see
`servable`: what asks for stored state or hosted tools, and members the spec does not declare,
left out; an `input` where there is none), so that they reach a provider and the answer's
translation; the rest test the refusals.
Every response is checked:

- no 5xx, ever;
- a 2xx body is valid against the operation's response schema (`CreateChatCompletionResponse`,
  `Response`, `CreateEmbeddingResponse`, `ListModelsResponse`, `Model`); a chat stream's every
  `data:` chunk against `CreateChatCompletionStreamResponse`, and the stream ends with
  `data: [DONE]`; a Responses stream's every event against the member of `ResponseStreamEvent`
  its `type` names (an `event:` field, when there is one, names the same type), its
  `sequence_number`s strictly increasing from 0, and its last event, and only that one, is
  `response.completed`, `response.incomplete` or `response.failed` (with the response's status
  saying the same);
- a 4xx body is valid against `ErrorResponse`;
- chat: the router does not refuse a spec-valid request as malformed (`invalid_type`,
  `invalid_role`, `missing_required_parameter`, `invalid_body`): semantic refusals
  (`invalid_value`, unknown models, context, capability) are the router's to make;
- Responses: a spec-valid request gets no 400 at all, from the router or a provider, but for
  the refusals listed in `responses_refusals` (what the router does not store or run, named by
  the error's `param`), the model's name (which names exist is the router's to say), a
  member the spec does not declare (`unknown_parameter`, as OpenAI answers it), and the
  router's refusals listed in `RESPONSES_JUSTIFIED` (what the router or the chosen provider
  cannot give: an unpriced `service_tier`, a forced call with no tools, ..., each matched by
  code, param and what the request asks); a spec-valid request holding one of the refusals
  in `responses_refusals` must get it (a 2xx is a failure).

Two fixed lists per API go first, every run: spec-valid requests that must get a 200 and
requests that must be refused (for `/responses`, each refusal listed, with the `param` the
error must name). Generation is seeded and the run is bounded in time (examples left when time
is up are not sent). Exits 1 and prints each failing request when a check fails.

Spec notes: the spec carries 3.0-style `nullable`, made into `null` alternatives here; it types
an embedding as a list of floats only, while `encoding_format: "base64"` gets a base64 string
(as the real API answers), so such a string is checked by decoding it instead. `CreateResponse`
requires no member (not even `model` or `input`) and declares no `additionalProperties: false`,
so generated bodies carry members the spec does not name: OpenAI refuses those itself
(`unknown_parameter`), and so may the router.
"""

import argparse
import base64
import binascii
import copy
import json
import pathlib
import re
import sys
import time
import traceback

try:
    import hypothesis
    import hypothesis.errors
    import hypothesis.strategies as st
    import jsonschema_rs
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
except ImportError as missing:
    sys.exit(f"contract.py: {missing}: run `make sdks` (installs schemathesis into .venv)")

CHAT_MODELS = ["economy", "standard", "premium", "auto", "gpt-4.1", "claude-haiku-4-5", "gemini-2.5-flash"]
EMBEDDING_MODELS = ["embed-small", "embed-large", "embed-titan", "text-embedding-3-small"]
# Share of generated requests whose model is replaced by a routable one.
ROUTABLE_SHARE = 0.7
# Router error codes that say a request is malformed; a spec-valid request must not get them.
MALFORMED_CODES = {"invalid_type", "invalid_role", "missing_required_parameter", "invalid_body", "invalid_json"}

# Spec-valid requests at the edges generation rarely reaches (Python never writes `16.0` for an
# integer), sent first, every run: each must be answered 200.
EDGE_CASES = [
    ("whole-number float token limit", "/chat/completions",
     {"model": "economy", "max_completion_tokens": 16.0, "messages": [{"role": "user", "content": "hi"}]}),
    ("whole-number float n", "/chat/completions",
     {"model": "standard", "n": 2.0, "messages": [{"role": "user", "content": "hi"}]}),
    ("function message with null content", "/chat/completions",
     {"model": "economy", "messages": [{"role": "user", "content": "hi"},
                                       {"role": "function", "name": "f", "content": None}]}),
    ("assistant tool call with null content", "/chat/completions",
     {"model": "standard", "messages": [
         {"role": "user", "content": "hi"},
         {"role": "assistant", "content": None,
          "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         {"role": "tool", "tool_call_id": "c1", "content": "ok"}]}),
    ("base64 embeddings", "/embeddings",
     {"model": "embed-small", "input": ["a", "b"], "encoding_format": "base64"}),
    ("token-array embeddings", "/embeddings", {"model": "embed-large", "input": [[1, 2, 3], [4]]}),
]


# Requests a provider or the router must refuse, sent first, every run: each answer must pass
# the usual checks (a 4xx in `ErrorResponse`'s shape, never a 5xx).
EDGE_REFUSALS = [
    ("empty input for Titan", "/embeddings", {"model": "embed-titan", "input": ""}),
    ("empty input", "/embeddings", {"model": "embed-small", "input": ""}),
    ("dimensions past any model", "/embeddings",
     {"model": "embed-large", "input": "x", "dimensions": 1000000000001}),
    ("dimensions Titan does not offer", "/embeddings", {"model": "embed-titan", "input": "x", "dimensions": 300}),
    ("n past 128", "/chat/completions",
     {"model": "economy", "n": 129, "messages": [{"role": "user", "content": "hi"}]}),
]


# `/responses`: spec-valid requests that must be answered 200 (whole, or streamed when the body
# says `stream: true`), sent first, every run.
USER_HI = {"role": "user", "content": "hi"}
FUNCTION_F = {"type": "function", "name": "f", "strict": False,
              "parameters": {"type": "object", "properties": {}}}
RESPONSES_EDGE_CASES = [
    ("string input", {"model": "economy", "input": "hi"}),
    ("string input, streamed", {"model": "standard", "input": "hi", "stream": True}),
    ("instructions and typed message parts",
     {"model": "standard", "instructions": "be brief",
      "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]}),
    ("a function call and its output",
     {"model": "economy", "tools": [FUNCTION_F], "tool_choice": "auto",
      "input": [USER_HI, {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"}]}),
    ("a function call and its output, streamed",
     {"model": "standard", "stream": True, "tools": [FUNCTION_F],
      "input": [USER_HI, {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"}]}),
    ("an earlier answer's items",
     {"model": "economy", "input": [
         USER_HI, {"type": "reasoning", "id": "rs_1", "summary": []},
         {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
          "content": [{"type": "output_text", "text": "hello", "annotations": [], "logprobs": []}]},
         {"role": "user", "content": "again"}]}),
    ("a reference to a reasoning item",
     {"model": "economy", "input": [{"type": "item_reference", "id": "rs_1"}, USER_HI]}),
    ("an image by URL and a file by its data",
     {"model": "premium", "input": [{"role": "user", "content": [
         {"type": "input_text", "text": "what is this"},
         {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"},
         {"type": "input_file", "filename": "a.txt", "file_data": "data:text/plain;base64,aGk="}]}]}),
    ("whole-number float token limit, and what asks nothing",
     {"model": "economy", "input": "hi", "max_output_tokens": 16.0, "store": False, "background": False,
      "previous_response_id": None, "conversation": None, "prompt": None, "truncation": "disabled",
      "metadata": {"k": "v"}, "reasoning": {"summary": "auto"}}),
    ("a token limit, streamed (ends response.incomplete)",
     {"model": "standard", "input": "hi", "max_output_tokens": 16, "stream": True}),
    ("a JSON schema format",
     {"model": "economy", "input": "hi", "text": {"format": {
         "type": "json_schema", "name": "answer", "strict": True,
         "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
                    "additionalProperties": False}}}}),
    ("log probabilities", {"model": "gpt-4.1", "input": "hi", "top_logprobs": 2,
                           "include": ["message.output_text.logprobs"]}),
    ("log probabilities, streamed", {"model": "gpt-4.1", "input": "hi", "top_logprobs": 2, "stream": True,
                                     "include": ["message.output_text.logprobs"]}),
    ("the Codex CLI's default tools: a namespace, and web search (the demo leaves it out)",
     {"model": "economy", "stream": True, "tool_choice": "auto", "parallel_tool_calls": True, "tools": [
         FUNCTION_F, {"type": "namespace", "name": "agents", "description": "sub-agents", "tools": [FUNCTION_F]},
         {"type": "web_search", "external_web_access": False}],
      "input": [USER_HI, {"type": "function_call", "call_id": "c1", "namespace": "agents", "name": "f",
                          "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"}]}),
    ("only web search, left out, with tool_choice auto",
     {"model": "economy", "input": "hi", "tools": [{"type": "web_search"}], "tool_choice": "auto"}),
]

# Hosted tool types the demo's configuration leaves out of a request (`responses.drop_tools`)
# rather than refusing it.
DROPPED_TOOLS = ("web_search",)
# A namespace's function as chat names it: `{namespace}__{name}`, in chat's characters and length.
NAMESPACE_NAME = re.compile(r"[A-Za-z0-9_-]+")
MAX_TOOL_NAME = 64
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

# `/responses`: spec-valid requests the router refuses on purpose (it stores nothing, and runs
# no hosted tool), sent first, every run: each must be a 400 whose error's `param` is the one
# given. `input_audio` is not a Responses part in the spec (it is chat's), so that one body is
# not spec-valid; the router refuses it by name all the same.
def _message(*parts):
    return {"model": "economy", "input": [{"role": "user", "content": list(parts)}]}


def _tool(tool):
    return {"model": "economy", "input": "hi", "tools": [FUNCTION_F, tool]}


def _item(item):
    return {"model": "economy", "input": [USER_HI, item]}


RESPONSES_EDGE_REFUSALS = [
    ("previous_response_id", {"model": "economy", "input": "hi", "previous_response_id": "resp_1"},
     "previous_response_id"),
    ("previous_response_id, streamed",
     {"model": "economy", "input": "hi", "previous_response_id": "resp_1", "stream": True},
     "previous_response_id"),
    ("conversation by id", {"model": "economy", "input": "hi", "conversation": "conv_1"}, "conversation"),
    ("conversation object", {"model": "economy", "input": "hi", "conversation": {"id": "conv_1"}},
     "conversation"),
    ("background", {"model": "economy", "input": "hi", "background": True}, "background"),
    ("stored prompt", {"model": "economy", "prompt": {"id": "pmpt_1"}}, "prompt"),
    ("context compaction", {"model": "economy", "input": "hi", "context_management": [{"type": "compaction"}]},
     "context_management"),
    ("web_search_preview tool", _tool({"type": "web_search_preview"}), "tools[1].type"),
    ("custom tool in a namespace",
     _tool({"type": "namespace", "name": "n", "description": "d", "tools": [{"type": "custom", "name": "c"}]}),
     "tools[1].tools[0].type"),
    ("file_search tool", _tool({"type": "file_search", "vector_store_ids": ["vs_1"]}), "tools[1].type"),
    ("code_interpreter tool", _tool({"type": "code_interpreter", "container": "cntr_1"}), "tools[1].type"),
    ("computer_use_preview tool",
     _tool({"type": "computer_use_preview", "environment": "browser",
            "display_width": 800, "display_height": 600}),
     "tools[1].type"),
    ("image_generation tool", _tool({"type": "image_generation"}), "tools[1].type"),
    ("mcp tool", _tool({"type": "mcp", "server_label": "s", "server_url": "https://example.com/mcp"}),
     "tools[1].type"),
    ("local_shell tool", _tool({"type": "local_shell"}), "tools[1].type"),
    ("client-run tool search", _tool({"type": "tool_search", "execution": "client"}), "tools[1].type"),
    ("hosted tool_choice", {"model": "economy", "input": "hi", "tool_choice": {"type": "web_search_preview"}},
     "tool_choice.type"),
    ("item_reference to a stored item", _item({"type": "item_reference", "id": "msg_1"}), "input[1].type"),
    ("file_search_call item",
     _item({"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"]}), "input[1].type"),
    ("local_shell_call_output item",
     _item({"type": "local_shell_call_output", "id": "lso_1", "call_id": "c1", "output": "ok"}), "input[1].type"),
    ("image by file_id", _message({"type": "input_image", "file_id": "file-1", "detail": "auto"}),
     "input[0].content[0].file_id"),
    ("file by file_id", _message({"type": "input_file", "file_id": "file-1"}), "input[0].content[0].file_id"),
    ("file by file_id in a function's output",
     {"model": "economy", "input": [
         USER_HI, {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
         {"type": "function_call_output", "call_id": "c1",
          "output": [{"type": "input_file", "file_id": "file-1"}]}]},
     "input[2].output[0].file_id"),
    ("file by URL", _message({"type": "input_file", "file_url": "https://example.com/a.pdf"}),
     "input[0].content[0].file_url"),
    ("input_audio (chat's part)",
     _message({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}),
     "input[0].content[0].type"),
]
RESPONSES_NOT_SPEC_VALID = {"input_audio (chat's part)"}

# The Responses events that end a stream, and the status each gives its response.
TERMINAL_EVENTS = {"response.completed": "completed", "response.incomplete": "incomplete",
                   "response.failed": "failed"}
# Input items the router serves (a message item may leave out its type); the others ask for
# stored items or hosted tools.
SERVED_ITEMS = {"message", "function_call", "function_call_output", "reasoning"}
# Members that ask for stored state or OpenAI-side work.
STATEFUL = ("previous_response_id", "conversation", "prompt", "background", "context_management")
# Share of generated `/responses` bodies made servable (see `servable`).
SERVABLE_SHARE = 0.6


def responses_refusals(body):
    """The refusals a Responses body holds that the router makes on purpose, each as `(param,
    label)`: `param` is what the 400's error must name. A spec-valid body that holds one must
    be refused naming one of them; a 400 naming none is a failure. Why each is justified:

    - `background: true`, `previous_response_id`, `conversation`, `prompt`: state the router
      does not keep (it stores nothing, and answers while the request is open);
    - `context_management` (compaction): OpenAI-side work on a conversation it keeps;
    - tools, and `tool_choice`s, of any type but `function` (or a `namespace` of functions):
      hosted tools run at OpenAI only (the types in `DROPPED_TOOLS` are left out instead);
    - input items but messages, function calls, their outputs and reasoning (a reference to a
      reasoning item, `rs_…`, stands for one): stored items, or hosted tools' calls;
    - image and file parts by `file_id` (the router stores no files) or a file by `file_url`
      (it fetches none), and `input_audio` parts;
    - no `input`, or none that makes a message (and no `instructions`): the spec leaves `input`
      out only for state the router does not keep (`prompt`, `previous_response_id`,
      `conversation`); reasoning items alone are dropped, leaving nothing to answer."""
    out = []
    if not isinstance(body, dict):
        return out
    if body.get("background") is True:
        out.append(("background", "background"))
    for key in ("previous_response_id", "conversation", "prompt"):
        if body.get(key) is not None:
            out.append((key, key))
    if body.get("context_management") not in (None, []):
        out.append(("context_management", "context_management"))
    tools = body.get("tools")
    for i, t in enumerate(tools if isinstance(tools, list) else []):
        if not isinstance(t, dict) or t.get("type") in ("function",) + DROPPED_TOOLS:
            continue
        if t.get("type") != "namespace":
            out.append((f"tools[{i}].type", "hosted tool"))
            continue
        inner = t.get("tools")
        for j, f in enumerate(inner if isinstance(inner, list) else []):
            if isinstance(f, dict) and f.get("type") != "function":
                out.append((f"tools[{i}].tools[{j}].type", "hosted tool in a namespace"))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        if choice.get("type") not in ("function", "allowed_tools"):
            out.append(("tool_choice.type", "hosted tool_choice"))
        elif choice.get("type") == "allowed_tools" and isinstance(choice.get("tools"), list):
            for i, t in enumerate(choice["tools"]):
                if isinstance(t, dict) and t.get("type") not in ("function", "namespace") + DROPPED_TOOLS:
                    out.append((f"tool_choice.tools[{i}].type", "hosted tool_choice"))
    items = body.get("input")
    for i, it in enumerate(items if isinstance(items, list) else []):
        if not isinstance(it, dict):
            continue
        kind = it.get("type")
        if kind is None:
            # Without a type: a message (it has a role), else a reference to an item.
            kind = "message" if "role" in it else "item_reference"
        if kind == "item_reference" and str(it.get("id", "")).startswith("rs_"):
            continue
        if kind not in SERVED_ITEMS:
            out.append((f"input[{i}].type", "stored or hosted-tool input item"))
            continue
        key = {"message": "content", "function_call_output": "output"}.get(kind)
        parts = it.get(key) if key else None
        for j, part in enumerate(parts if isinstance(parts, list) else []):
            if not isinstance(part, dict):
                continue
            at = f"input[{i}].{key}[{j}]"
            if part.get("type") == "input_image" and part.get("image_url") is None \
                    and part.get("file_id") is not None:
                out.append((f"{at}.file_id", "part by file_id"))
            if part.get("type") == "input_file" and "file_data" not in part:
                if part.get("file_id") is not None:
                    out.append((f"{at}.file_id", "part by file_id"))
                elif part.get("file_url") is not None:
                    out.append((f"{at}.file_url", "file by file_url"))
            if part.get("type") == "input_audio":
                out.append((f"{at}.type", "input_audio part"))
    if items is None:
        out.append(("input", "no input"))
    elif isinstance(items, list) and body.get("instructions") in (None, "") and not any(
            isinstance(it, dict) and (it.get("type") in SERVED_ITEMS - {"reasoning"}
                                      or (it.get("type") is None and "role" in it)) for it in items):
        out.append(("input", "no message in input"))
    return out


# `/responses`: 400s the router may answer a spec-valid request, beside the refusals above
# (which a request holding one must get): what the router, or the provider it chose, cannot
# give. Each is matched narrowly: the error's code, the member it names, and the request
# really asking the thing there. `(label, code, param pattern, test, why)`: `test(body, m,
# run)` gets the request, the pattern's match (its groups are the indexes in the param) and
# the run (the router's models, as `/models` lists them). Chat justifies these by its codes
# (`check_error`: a 400 other than `MALFORMED_CODES` is the router's to make); Responses lists
# each.
SERVICE_TIERS_PRICED = ("auto", "default", "flex")
# Catalog APIs that return no log probabilities.
NO_LOGPROBS_APIS = {"messages", "bedrock-converse", "bedrock-invoke"}
# Catalog APIs the router translates to: no OpenAI moderation model runs there, and their
# structured output takes a JSON Schema only.
TRANSLATED_APIS = {"messages", "bedrock-converse"}
TIERS = ("economy", "standard", "premium")


def _at(node, *steps):
    """The value `steps` (keys and indexes) lead to in `node`, or None."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or not 0 <= step < len(node):
                return None
            node = node[step]
        elif isinstance(node, dict):
            node = node.get(step)
        else:
            return None
    return node


def _item(body, i):
    """`input[i]` as a dict, or {}."""
    it = _at(body, "input", int(i))
    return it if isinstance(it, dict) else {}


def _part(body, i, key, j):
    """`input[i].<key>[j]` (a message's content part, or a function output's) as a dict, or {}."""
    part = _at(body, "input", int(i), key, int(j))
    return part if isinstance(part, dict) else {}


def _function_tool(body, i, j=None):
    tool = _at(body, "tools", int(i))
    if j is not None and isinstance(tool, dict) and tool.get("type") == "namespace":
        tool = _at(tool, "tools", int(j))
    return tool if isinstance(tool, dict) and tool.get("type") == "function" else {}


def _namespace(body, i):
    tool = _at(body, "tools", int(i))
    return tool if isinstance(tool, dict) and tool.get("type") == "namespace" else {}


def chat_tool_names(body):
    """The tools' names as chat sees them, `(name, joined)`: functions, and each namespace's
    functions as `namespace__name` (hosted tools are refused or left out)."""
    names = []
    tools = body.get("tools") if isinstance(body, dict) else None
    for t in tools if isinstance(tools, list) else []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "function":
            names.append((str(t.get("name")), False))
        elif t.get("type") == "namespace" and isinstance(t.get("tools"), list):
            names += [(f"{t.get('name')}__{f.get('name')}", True) for f in t["tools"]
                      if isinstance(f, dict) and f.get("type") == "function"]
    return names


def chat_names_collide(body):
    names = chat_tool_names(body)
    return any(n == m and (a or b) for i, (n, a) in enumerate(names) for (m, b) in names[:i])


def _is_message(it):
    return it.get("type") == "message" or (it.get("type") is None and "role" in it)


def _blank(text):
    """Empty or ASCII whitespace only: a provider reads it as no content."""
    return all(c in " \t\n\r\x0c" for c in text)


def asks_logprobs(body):
    n = body.get("top_logprobs")
    include = body.get("include")
    return (isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0) or (
        isinstance(include, list) and "message.output_text.logprobs" in include)


def has_user_content(body):
    """Whether the conversation has a user turn with content: a non-blank string `input`, a
    user message with a non-blank text or any other part, or a function's output (a user turn
    where a provider carries tool results)."""
    items = body.get("input")
    if isinstance(items, str):
        return not _blank(items)
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict):
            continue
        if it.get("type") == "function_call_output":
            return True
        if not (_is_message(it) and it.get("role") == "user"):
            continue
        content = it.get("content")
        if isinstance(content, str) and not _blank(content):
            return True
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and not (part.get("type") in ("input_text", "output_text")
                                               and _blank(str(part.get("text") or ""))):
                return True
    return False


def starts_with_assistant(body):
    """Whether the conversation's first turn after its system and developer messages is the
    assistant's (its words or a function call): the Messages API wants a user turn first."""
    items = body.get("input")
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict) or it.get("type") == "reasoning":
            continue
        if _is_message(it) and it.get("role") in ("system", "developer"):
            continue
        return it.get("type") == "function_call" or (_is_message(it) and it.get("role") == "assistant")
    return False


def forces_tool_call(choice):
    """`tool_choice` asking for a call: `required`, a function, or allowed tools in required mode."""
    if choice == "required":
        return True
    return isinstance(choice, dict) and (choice.get("type") == "function" or (
        choice.get("type") == "allowed_tools" and choice.get("mode") == "required"))


def past_output_limit(body, run):
    """`max_output_tokens` past the most the model asked for can produce, as the router's
    `/models` lists it (a tier: the most any model of it or a higher tier produces; `auto`: of
    the highest tier, where it may start), or past what the router reads as an integer (u64)."""
    n = body.get("max_output_tokens")
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        return False
    if n >= 2 ** 64:
        return True
    model = body.get("model")
    limits = run.output_limits
    if model in TIERS or model == "auto":
        tier = TIERS[-1] if model == "auto" else model
        reach = [limit for t, limit in limits.values() if t in TIERS[TIERS.index(tier):]]
        return bool(reach) and n > max(reach)
    return model in limits and n > limits[model][1]


def catalog_models():
    """The deployments of the router's built-in catalog (`scorer/catalog.json`), or none."""
    path = pathlib.Path(__file__).resolve().parents[1] / "scorer" / "catalog.json"
    try:
        return json.loads(path.read_text())["models"]
    except (OSError, ValueError, KeyError):
        return []


CATALOG_MODELS = catalog_models()


def catalog_apis():
    """Each catalog model's APIs."""
    apis = {}
    for m in CATALOG_MODELS:
        apis.setdefault(m.get("id"), set()).add(m.get("api") or "chat")
    return apis


CATALOG_APIS = catalog_apis()


def unmoderated_models():
    """Catalog models none of whose deployments runs OpenAI's moderation: translated APIs
    (`TRANSLATED_APIS`), or chat APIs that take out OpenAI's own members (`openai_only`)."""
    runs = {}
    for m in CATALOG_MODELS:
        none = (m.get("api") or "chat") in TRANSLATED_APIS or "openai_only" in (m.get("drops") or [])
        runs[m.get("id")] = runs.get(m.get("id"), False) or not none
    return {model for model, ran in runs.items() if not ran}


UNMODERATED = unmoderated_models()


def logprobs_refused():
    """Catalog models every deployment of which refuses log probabilities (`refuses` lists
    `logprobs`: Groq's, Gemini's)."""
    takes = {}
    for m in CATALOG_MODELS:
        takes[m.get("id")] = takes.get(m.get("id"), False) or "logprobs" not in (m.get("refuses") or [])
    return {model for model, took in takes.items() if not took}


LOGPROBS_REFUSED = logprobs_refused()


RESPONSES_JUSTIFIED = [
    ("service_tier not priced", "unsupported_value", r"service_tier",
     lambda b, m, run: isinstance(b.get("service_tier"), str) and b["service_tier"] not in SERVICE_TIERS_PRICED,
     "the router prices auto, default and flex only (chat refuses the same)"),
    ("tool call forced, no tools", "invalid_value", r"tool_choice",
     lambda b, m, run: forces_tool_call(b.get("tool_choice")) and not chat_tool_names(b),
     "no tool can be called when none is declared (chat refuses the same)"),
    ("max_output_tokens past the limit", "invalid_value", r"max_output_tokens",
     lambda b, m, run: past_output_limit(b, run),
     "no model the request may go to produces that many tokens (chat refuses the same)"),
    ("logprobs of a model without", "unsupported_for_provider", r"top_logprobs|include",
     lambda b, m, run: asks_logprobs(b) and bool(CATALOG_APIS.get(b.get("model")))
     and CATALOG_APIS[b["model"]] <= NO_LOGPROBS_APIS,
     "the model's API returns no log probabilities (chat refuses logprobs the same)"),
    ("logprobs of a provider that refuses them", "unsupported_for_model", r"top_logprobs|include",
     lambda b, m, run: asks_logprobs(b) and b.get("model") in LOGPROBS_REFUSED,
     "the model's provider answers log probabilities with a 400 (chat refuses logprobs the same)"),
    ("moderation where none runs", "unsupported_for_provider", r"moderation",
     lambda b, m, run: b.get("moderation") is not None and b.get("model") in UNMODERATED,
     "OpenAI's moderated answers: the model's API runs no moderation model (chat refuses the same)"),
    ("moderation where none runs", "unsupported_parameter", r"moderation",
     lambda b, m, run: b.get("moderation") is not None and b.get("model") in UNMODERATED,
     "OpenAI's moderated answers: the model's provider runs no moderation model (chat refuses the same)"),
    ("moderation on a tier none of whose models takes the whole request", "unsupported_for_provider|unsupported_parameter",
     r"moderation",
     lambda b, m, run: b.get("moderation") is not None and (b.get("model") in TIERS or b.get("model") == "auto"),
     "the tier's models that run OpenAI's moderation refused the request for another of its members, and "
     "the first candidate's refusal is the one told (chat refuses the same)"),
    ("json_object where only schemas go", "unsupported_for_provider", r"text\.format",
     lambda b, m, run: _at(b, "text", "format", "type") == "json_object" and bool(CATALOG_APIS.get(b.get("model")))
     and CATALOG_APIS[b["model"]] <= TRANSLATED_APIS,
     "Claude's and Converse's structured output takes a JSON Schema, not json_object (chat refuses the same)"),
    ("a call without its id", "missing_required_parameter", r"input\[(\d+)\]\.call_id",
     lambda b, m, run: _item(b, m[1]).get("call_id") == "",
     "a call's output is paired with its call by call_id: an empty one pairs with nothing (chat refuses the same)"),
    ("no user message with content", "unsupported_for_provider", r"input",
     lambda b, m, run: not has_user_content(b)
     and (b.get("model") not in CATALOG_APIS or "messages" in CATALOG_APIS[b["model"]]),
     "the provider's API needs a user message with content (chat refuses the same)"),
    ("conversation opened by the assistant", "unsupported_for_provider", r"input",
     lambda b, m, run: starts_with_assistant(b)
     and (b.get("model") not in CATALOG_APIS or "messages" in CATALOG_APIS[b["model"]]),
     "the Messages API wants the first turn to be the user's (chat refuses the same)"),
    ("namespace name chat cannot carry", "invalid_value", r"tools\[(\d+)\]\.name",
     lambda b, m, run: _namespace(b, m[1]).get("name") not in (None, "")
     and not NAMESPACE_NAME.fullmatch(str(_namespace(b, m[1])["name"])),
     "chat names a namespace's function namespace__name, in letters, digits, _ and - only"),
    ("namespaced name too long", "invalid_value", r"tools\[(\d+)\]\.tools\[(\d+)\]\.name",
     lambda b, m, run: len(str(_namespace(b, m[1]).get("name", ""))) + 2
     + len(str(_at(b, "tools", int(m[1]), "tools", int(m[2]), "name") or "")) > MAX_TOOL_NAME,
     "namespace__name must fit chat's 64-character tool names"),
    ("two tools of one chat name", "invalid_value", r"tools\[(\d+)\](\.tools\[(\d+)\])?\.name",
     lambda b, m, run: chat_names_collide(b),
     "a namespaced function and another tool would both be called by one name"),
    ("a call's namespace chat cannot carry", "invalid_value", r"input\[(\d+)\]\.namespace",
     lambda b, m, run: _item(b, m[1]).get("type") == "function_call"
     and isinstance(_item(b, m[1]).get("namespace"), str) and _item(b, m[1])["namespace"] != ""
     and (not NAMESPACE_NAME.fullmatch(_item(b, m[1])["namespace"])
          or len(_item(b, m[1])["namespace"]) + 2 + len(str(_item(b, m[1]).get("name", ""))) > MAX_TOOL_NAME),
     "chat names a namespace's function namespace__name, in letters, digits, _ and -, 64 at most"),
    ("allowed namespace not declared", "invalid_value", r"tool_choice\.tools\[(\d+)\]\.name",
     lambda b, m, run: _at(b, "tool_choice", "type") == "allowed_tools"
     and _at(b, "tool_choice", "tools", int(m[1]), "type") == "namespace"
     and not any(isinstance(t, dict) and t.get("type") == "namespace"
                 and t.get("name") == _at(b, "tool_choice", "tools", int(m[1]), "name")
                 for t in (b.get("tools") if isinstance(b.get("tools"), list) else [])),
     "a namespace the request does not declare has no functions to allow"),
    ("function chosen by a name several namespaces have", "invalid_value", r"tool_choice(\.tools\[(\d+)\])?\.name",
     lambda b, m, run: sum(1 for n, joined in chat_tool_names(b) if joined
                           and n.split("__", 1)[-1] == str(_at(b, "tool_choice", *(("tools", int(m[2])) if m[2] else ()), "name"))) > 1,
     "which namespace's function is meant is not the router's to guess"),
    ("function chosen in a namespace not declared", "invalid_value", r"tool_choice(\.tools\[(\d+)\])?\.name",
     lambda b, m, run: isinstance(_at(b, "tool_choice", *(("tools", int(m[2])) if m[2] else ()), "namespace"), str)
     and _at(b, "tool_choice", *(("tools", int(m[2])) if m[2] else ()), "namespace") != ""
     and f'{_at(b, "tool_choice", *(("tools", int(m[2])) if m[2] else ()), "namespace")}__'
         f'{_at(b, "tool_choice", *(("tools", int(m[2])) if m[2] else ()), "name")}'
     not in [n for n, _ in chat_tool_names(b)],
     "the choice names a namespace's function the request does not declare"),
    ("every allowed tool left out, a call required", "invalid_value", r"tool_choice\.tools",
     lambda b, m, run: _at(b, "tool_choice", "type") == "allowed_tools" and _at(b, "tool_choice", "mode") == "required"
     and isinstance(_at(b, "tool_choice", "tools"), list) and len(b["tool_choice"]["tools"]) > 0
     and all(isinstance(t, dict) and t.get("type") in DROPPED_TOOLS for t in b["tool_choice"]["tools"]),
     "no tool the choice allows is left to call"),
    ("namespace named ''", "missing_required_parameter", r"(tools|tool_choice\.tools)\[(\d+)\]\.name",
     lambda b, m, run: _at(b, *m[1].split("."), int(m[2]), "type") == "namespace"
     and _at(b, *m[1].split("."), int(m[2]), "name") == "",
     "a namespace with no name cannot name its functions"),
    ("function name outside the API's pattern", "invalid_value", r"tools\[(\d+)\](\.tools\[(\d+)\])?\.name",
     lambda b, m, run: isinstance(_function_tool(b, m[1], m[3]).get("name"), str)
     and _function_tool(b, m[1], m[3])["name"] != ""
     and not FUNCTION_NAME.fullmatch(_function_tool(b, m[1], m[3])["name"]),
     "OpenAI's API takes function names of letters, digits, _ and -, 64 at most, as chat's providers do"),
    ("function tool named ''", "missing_required_parameter", r"tools\[(\d+)\](\.tools\[(\d+)\])?\.name",
     lambda b, m, run: _function_tool(b, m[1], m[3]).get("name") == "",
     "a function with no name cannot be called"),
    ("tool_choice function named ''", "missing_required_parameter", r"tool_choice\.name",
     lambda b, m, run: _at(b, "tool_choice", "type") == "function" and _at(b, "tool_choice", "name") == "",
     "a function with no name cannot be called"),
    ("json_schema format named ''", "missing_required_parameter", r"text\.format\.name",
     lambda b, m, run: _at(b, "text", "format", "type") == "json_schema"
     and _at(b, "text", "format", "name") == "",
     "chat's json_schema format needs a non-empty name"),
    ("function_call with call_id ''", "missing_required_parameter", r"input\[(\d+)\]\.call_id",
     lambda b, m, run: _item(b, m[1]).get("type") == "function_call" and _item(b, m[1]).get("call_id") == "",
     "a call with no id cannot be answered"),
    ("function_call named ''", "missing_required_parameter", r"input\[(\d+)\]\.name",
     lambda b, m, run: _item(b, m[1]).get("type") == "function_call" and _item(b, m[1]).get("name") == "",
     "a call of a function with no name cannot be replayed"),
    ("allowed tool named ''", "missing_required_parameter", r"tool_choice\.tools\[(\d+)\]\.name",
     lambda b, m, run: _at(b, "tool_choice", "type") == "allowed_tools",
     "a function with no name cannot be allowed"),
    ("file in an assistant message", "unsupported_value", r"input\[(\d+)\]\.content\[(\d+)\]\.type",
     lambda b, m, run: _is_message(_item(b, m[1])) and _item(b, m[1]).get("role") == "assistant"
     and _part(b, m[1], "content", m[2]).get("type") == "input_file",
     "providers take files in user turns only"),
    ("function_call_output without call_id", "missing_required_parameter", r"input\[(\d+)\]\.call_id",
     lambda b, m, run: _item(b, m[1]).get("type") == "function_call_output"
     and _item(b, m[1]).get("call_id") is None,
     "chat cannot place a result that names no call"),
    ("image in an assistant message", "unsupported_value", r"input\[(\d+)\]\.content\[(\d+)\]\.type",
     lambda b, m, run: _is_message(_item(b, m[1])) and _item(b, m[1]).get("role") == "assistant"
     and _part(b, m[1], "content", m[2]).get("type") == "input_image",
     "providers take images in user turns only"),
    ("input_image without image_url", "missing_required_parameter",
     r"input\[(\d+)\]\.(content|output)\[(\d+)\]\.image_url",
     lambda b, m, run: _part(b, m[1], m[2], m[3]).get("type") == "input_image"
     and _part(b, m[1], m[2], m[3]).get("image_url") is None
     and _part(b, m[1], m[2], m[3]).get("file_id") is None,
     "an image part with no image has nothing to send"),
    ("input_file without content", "missing_required_parameter",
     r"input\[(\d+)\]\.(content|output)\[(\d+)\]\.file_data",
     lambda b, m, run: _part(b, m[1], m[2], m[3]).get("type") == "input_file"
     and all(_part(b, m[1], m[2], m[3]).get(k) is None for k in ("file_data", "file_id", "file_url")),
     "a file part with no file has nothing to send"),
    ("reasoning.mode not standard", "unsupported_parameter", r"reasoning\.mode",
     lambda b, m, run: _at(b, "reasoning", "mode") not in (None, "standard"),
     "other reasoning modes (pro) run at OpenAI only"),
    ("defer_loading: true", "unsupported_parameter", r"tools\[(\d+)\](\.tools\[(\d+)\])?\.defer_loading",
     lambda b, m, run: _function_tool(b, m[1], m[3]).get("defer_loading") is True,
     "tool search (deferred loading) runs at OpenAI only"),
    ("allowed_callers", "unsupported_parameter", r"tools\[(\d+)\](\.tools\[(\d+)\])?\.allowed_callers",
     lambda b, m, run: isinstance(_function_tool(b, m[1], m[3]).get("allowed_callers"), list)
     and len(_function_tool(b, m[1], m[3])["allowed_callers"]) > 0,
     "programmatic tool calling runs at OpenAI only"),
]


def param_paths(body, param):
    """The paths (keys and indexes) through `body` that the router's way of naming a member
    (`tools[0].name`, `text.format.strict`) writes as `param`: several when keys hold dots."""
    found, todo = [], [([], body, "")]
    while todo:
        steps, node, name = todo.pop()
        if steps and name == param:
            found.append(steps)
        if steps and not param.startswith(name):
            continue
        if isinstance(node, dict):
            todo += [(steps + [k], v, f"{name}.{k}" if steps else k) for k, v in node.items()]
        elif isinstance(node, list):
            todo += [(steps + [i], v, f"{name}[{i}]") for i, v in enumerate(node)]
    return found


class OutOfTime(Exception):
    """Ends a group's generation when its time share is used up."""


def nullable_to_null(node):
    """3.0-style `nullable: true` as a JSON Schema null alternative, recursively."""
    if isinstance(node, list):
        return [nullable_to_null(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: nullable_to_null(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def one_of_to_any_of(node):
    """`oneOf` read as `anyOf`, recursively. The spec's Responses unions overlap: an input
    message item `{"type": "message", "role": "user", "content": [parts]}` is both an
    `EasyInputMessage` and an `Item` (`InputMessage`), so under `oneOf` the commonest request
    would be invalid. The SDKs type these unions as plain unions (TypeScript `|`, Python
    `Union`): a request is spec-valid when it is one of the members. Used for judging
    Responses requests only; answers are checked against the spec as written."""
    if isinstance(node, list):
        return [one_of_to_any_of(x) for x in node]
    if not isinstance(node, dict):
        return node
    return {("anyOf" if k == "oneOf" else k): one_of_to_any_of(v) for k, v in node.items()}


class Schemas:
    """Validators for the spec's component schemas, references resolved inside the spec."""

    def __init__(self, raw):
        self.components = nullable_to_null(raw["components"])
        # For judging a Responses request: its unions as the SDKs type them (see `one_of_to_any_of`).
        self.request_components = one_of_to_any_of(self.components)
        self.cache = {}
        self.fit_cache = {}
        # `ResponseStreamEvent` is a union discriminated by `type` (no mapping given): each
        # member's `type` is an enum of its one name.
        self.events = {}
        for member in self.components["schemas"]["ResponseStreamEvent"]["anyOf"]:
            name = member["$ref"].rsplit("/", 1)[-1]
            for kind in self.components["schemas"][name]["properties"]["type"]["enum"]:
                self.events[kind] = name
        # The top-level members `CreateResponse` declares (its `allOf`, references followed).
        self.response_members = set()
        todo = [self.components["schemas"]["CreateResponse"]]
        while todo:
            node = todo.pop()
            if "$ref" in node:
                todo.append(self.components["schemas"][node["$ref"].rsplit("/", 1)[-1]])
            todo += node.get("allOf", [])
            self.response_members.update(node.get("properties", {}))

    def errors(self, name, instance, request=False):
        """`instance`'s errors against the component `name`; `request`: a Responses request's
        (its unions read as `anyOf`)."""
        if (name, request) not in self.cache:
            components = self.request_components if request else self.components
            schema = {"$ref": f"#/components/schemas/{name}", "components": components}
            self.cache[name, request] = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
        return [f"{e.instance_path}: {e.message}"[:300] for e in self.cache[name, request].iter_errors(instance)]

    def fits(self, node, instance):
        """Whether `instance` is valid against `node`, a schema inside the request components."""
        key = id(node)
        if key not in self.fit_cache:
            schema = dict(node, components=self.request_components)
            self.fit_cache[key] = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
        return self.fit_cache[key].is_valid(instance)

    def applicable(self, node, instance, depth=0):
        """The schemas that apply to `instance` at `node`: `node`, what it references, its
        `allOf`, and the `anyOf` branches `instance` is valid against."""
        if not isinstance(node, dict) or depth > 40:
            return []
        out = [node]
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            target = self.request_components["schemas"][ref.rsplit("/", 1)[-1]]
            out += self.applicable(target, instance, depth + 1)
        for sub in node.get("allOf", []):
            out += self.applicable(sub, instance, depth + 1)
        for sub in node.get("anyOf", []):
            if self.fits(sub, instance):
                out += self.applicable(sub, instance, depth + 1)
        return out

    def declared(self, name, instance, steps):
        """Whether the member that `steps` lead to in `instance` (valid against the component
        `name`) is one the spec declares there: a named property, or an entry of a map
        (`additionalProperties` given). None when the steps lead nowhere."""
        nodes = [self.request_components["schemas"][name]]
        for n, step in enumerate(steps):
            schemas = [a for node in nodes for a in self.applicable(node, instance)]
            if isinstance(step, int):
                if not isinstance(instance, list) or step >= len(instance):
                    return None
                nodes = [s["items"] for s in schemas if isinstance(s.get("items"), dict)]
            else:
                if not isinstance(instance, dict) or step not in instance:
                    return None
                nodes = [s["properties"][step] for s in schemas
                         if isinstance(s.get("properties"), dict) and step in s["properties"]]
                maps = [s["additionalProperties"] for s in schemas
                        if isinstance(s.get("additionalProperties"), dict)
                        or s.get("additionalProperties") is True]
                if n == len(steps) - 1:
                    return bool(nodes or maps)
                nodes += [m for m in maps if isinstance(m, dict)]
            instance = instance[step]
        return True


class Run:
    """Sends cases, checks answers, keeps counts and failures."""

    def __init__(self, base_url, schemas, deadline):
        self.base = base_url.rstrip("/")
        self.schemas = schemas
        self.deadline = deadline
        self.http = requests.Session()
        self.counts = {}
        self.failures = []
        # Spec-valid Responses requests refused on purpose: (group, what) -> how many.
        self.justified = {}
        # The chat models `/models` lists: id -> (tier, max_output); see `past_output_limit`.
        self.output_limits = {}

    def fail(self, group, request, response, problems):
        entry = {"group": group, "request": request, "status": response.status_code,
                 "problems": problems, "response": response.text[:1500]}
        self.failures.append(entry)

    def send(self, group, method, path, body, stream=False):
        if time.monotonic() > self.deadline:
            raise OutOfTime()
        try:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN stays NaN
        except (TypeError, ValueError):
            return None  # Not expressible as a request body: nothing to send.
        headers = {"content-type": "application/json"} if method == "POST" else {}
        try:
            r = self.http.request(method, self.base + path, data=data if method == "POST" else None,
                                  headers=headers, timeout=60, stream=stream)
        except requests.RequestException as e:
            self.failures.append({"group": group, "request": body, "status": 0,
                                  "problems": [f"no answer: {type(e).__name__}"], "response": str(e)[:500]})
            return None
        key = (group, r.status_code)
        self.counts[key] = self.counts.get(key, 0) + 1
        return r

    def check(self, group, request, r, ok_schema, spec_valid):
        """The checks every answer must pass; `ok_schema` is the 2xx body's schema."""
        if r is None:
            return
        problems = []
        if r.status_code >= 500:
            problems.append(f"server error {r.status_code}")
        elif 200 <= r.status_code < 300:
            problems += self.check_ok(request, r, ok_schema)
        elif r.status_code >= 400:
            problems += self.check_error(r, spec_valid)
        if problems:
            self.fail(group, request, r, problems)

    def check_ok(self, request, r, ok_schema):
        if ok_schema == "stream":
            return self.check_stream(r)
        body = parse_json(r.text)
        if body is None:
            return [f"2xx body is not JSON: {r.text[:200]!r}"]
        if ok_schema == "CreateEmbeddingResponse" and isinstance(request, dict) and isinstance(body, dict) \
                and request.get("encoding_format") == "base64":
            problems = base64_embeddings(body)
            if problems:
                return problems
        return self.schemas.errors(ok_schema, body)

    def check_stream(self, r):
        problems, done = [], False
        for line in r.text.splitlines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            chunk = parse_json(data)
            if chunk is None:
                problems.append(f"chunk is not JSON: {data[:200]!r}")
            elif "error" in chunk and "choices" not in chunk:
                problems += [f"error event: {e}" for e in self.schemas.errors("ErrorResponse", chunk)]
            else:
                problems += self.schemas.errors("CreateChatCompletionStreamResponse", chunk)
        if not done:
            problems.append("stream did not end with data: [DONE]")
        return problems[:10]

    def check_error(self, r, spec_valid):
        body = parse_json(r.text)
        if body is None:
            return [f"4xx body is not JSON: {r.text[:200]!r}"]
        problems = self.schemas.errors("ErrorResponse", body)
        if problems or not isinstance(body, dict):
            return problems or ["4xx body is not an object"]
        from_router = "x-mock-provider" not in r.headers
        code, param = body["error"]["code"], body["error"]["param"]
        # Which model names exist is the router's to say (an empty one is refused as missing).
        if spec_valid and from_router and r.status_code == 400 and code in MALFORMED_CODES \
                and param != "model":
            problems.append(f"the router refused a spec-valid request as malformed ({code})")
        return problems

    def check_responses(self, group, request, r, stream, spec_valid):
        """The checks every answer to `POST /responses` must pass."""
        if r is None:
            return
        problems = []
        if r.status_code >= 500:
            problems.append(f"server error {r.status_code}")
        elif 200 <= r.status_code < 300:
            problems += self.check_events(r) if stream else self.check_response(r)
            refusals = responses_refusals(request) if spec_valid else []
            if refusals:
                problems.append(f"answered {r.status_code}, not refused: the request holds "
                                + ", ".join(p for p, _ in refusals))
        elif r.status_code >= 400:
            problems += self.check_responses_error(group, request, r, spec_valid)
        if problems:
            self.fail(group, request, r, problems)

    def check_response(self, r):
        body = parse_json(r.text)
        if body is None:
            return [f"2xx body is not JSON: {r.text[:200]!r}"]
        return self.schemas.errors("Response", body)

    def check_events(self, r):
        """A Responses stream: each event against its type's schema, the sequence numbers, and
        one terminal event, last."""
        problems = []
        ctype = r.headers.get("content-type", "")
        if not ctype.startswith("text/event-stream"):
            problems.append(f"streamed 2xx answer with content-type {ctype!r}: {r.text[:200]!r}")
        events, unterminated = sse_events(r.text)
        if unterminated:
            problems.append("the last event is not ended by a blank line (a client drops it)")
        if not events:
            problems.append("no events")
        seqs, terminals = [], []
        for n, (name, data) in enumerate(events):
            event = parse_json(data)
            kind = event.get("type") if isinstance(event, dict) else None
            schema = self.schemas.events.get(kind) if isinstance(kind, str) else None
            if event is None:
                problems.append(f"event {n}: data is not JSON: {data[:200]!r}")
                continue
            if schema is None:
                problems.append(f"event {n}: no stream event has type {kind!r}")
                continue
            problems += [f"{kind}: {e}" for e in self.schemas.errors(schema, event)]
            if name is not None and name != kind:
                problems.append(f"event {n}: `event: {name}` with data of type {kind}")
            seqs.append(event.get("sequence_number"))
            if kind in TERMINAL_EVENTS:
                terminals.append(n)
                response = event.get("response")
                status = response.get("status") if isinstance(response, dict) else None
                if status != TERMINAL_EVENTS[kind]:
                    problems.append(f"{kind} with response.status {status!r}")
        if seqs and seqs[0] != 0:
            problems.append(f"the first sequence_number is {seqs[0]!r}, not 0")
        if not all(isinstance(a, int) and isinstance(b, int) and b > a for a, b in zip(seqs, seqs[1:])):
            problems.append(f"sequence_numbers not strictly increasing: {seqs[:40]}")
        if len(terminals) != 1:
            problems.append(f"{len(terminals)} terminal events (response.completed/incomplete/failed), not 1")
        elif events and terminals[0] != len(events) - 1:
            problems.append(f"{len(events) - 1 - terminals[0]} events after the terminal one")
        return problems[:10]

    def check_responses_error(self, group, request, r, spec_valid):
        body = parse_json(r.text)
        if body is None:
            return [f"4xx body is not JSON: {r.text[:200]!r}"]
        problems = self.schemas.errors("ErrorResponse", body)
        if problems or not isinstance(body, dict):
            return problems or ["4xx body is not an object"]
        if not spec_valid or r.status_code != 400:
            return []
        error = body["error"]
        code, param = error["code"], error["param"]
        said = f"({code}, param {param!r}): {error['message'][:200]}"
        if "x-mock-provider" in r.headers:
            return [f"a provider refused the translated spec-valid request {said}"]
        why = self.justified_refusal(request, code, param)
        if why is None:
            return [f"the router refused a spec-valid request {said}"]
        key = (group, why)
        self.justified[key] = self.justified.get(key, 0) + 1
        return []

    def justified_refusal(self, request, code, param):
        """What justifies the router's 400 for a spec-valid Responses request, or None."""
        # Which model names exist is the router's to say (an empty one, or none, is refused).
        if param == "model":
            return "model name"
        for named, what in responses_refusals(request):
            if param == named:
                return what
        if isinstance(request, dict) and isinstance(param, str):
            for label, named_code, pattern, test, _why in RESPONSES_JUSTIFIED:
                m = re.fullmatch(pattern, param)
                if re.fullmatch(named_code, code or "") and m and test(request, m, self):
                    return label
        # A member the spec does not declare: OpenAI refuses it so itself (`unknown_parameter`).
        if code == "unknown_parameter" and isinstance(param, str) and any(
                self.schemas.declared("CreateResponse", request, steps) is False
                for steps in param_paths(request, param)):
            return "undeclared member"
        return None


def kind_of(failure):
    """A failure's group, status and problems with indexes and quoted values blurred, so one
    bug seen many times is listed once."""
    problems = "; ".join(failure["problems"])
    problems = re.sub(r"\d+", "N", problems)
    problems = re.sub(r'"[^"]*"', '"…"', problems)
    return f"[{failure['group']}] {failure['status']}: {problems[:300]}"


def described_invalid(body):
    """Rules the spec states in a description, not in its schema: an assistant message's
    content is "required unless `tool_calls` or `function_call` is specified"."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return False
    return any(isinstance(m, dict) and m.get("role") == "assistant" and m.get("content") is None
               and m.get("tool_calls") is None and m.get("function_call") is None for m in messages)


def parse_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def sse_events(text):
    """A stream's events as `(event name or None, data)`, and whether the last is unterminated
    (no blank line after it: a client drops it). Comments (`: keep-alive`) are skipped."""
    events, name, data = [], None, []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data:
                events.append((name, "\n".join(data)))
            name, data = None, []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        events.append((name, "\n".join(data)))
    return events, bool(data)


def base64_embeddings(body):
    """Checks base64 embeddings decode to little-endian f32s, then lets the schema see floats."""
    problems = []
    for item in body.get("data") or []:
        if isinstance(item, dict) and isinstance(item.get("embedding"), str):
            try:
                raw = base64.b64decode(item["embedding"], validate=True)
            except binascii.Error as e:
                problems.append(f"embedding is not base64: {e}")
                continue
            if len(raw) % 4:
                problems.append(f"base64 embedding of {len(raw)} bytes is not a list of f32")
            item["embedding"] = []
    return problems


def steer(body, models, rnd):
    """Gives a share of the bodies a routable model; other fields stay as generated."""
    if isinstance(body, dict) and rnd.random() < ROUTABLE_SHARE:
        body = dict(body)
        body["model"] = rnd.choice(models)
    return body


def servable(body, schemas, rnd):
    """Gives a share of the `/responses` bodies what lets them reach a provider: the members
    that ask for stored state or OpenAI-side work left out, as are the hosted tools, a hosted
    `tool_choice` and the top-level members the spec does not declare; an `input` where there
    is none. What stays is as generated; the body stays spec-valid if it was."""
    if not isinstance(body, dict) or rnd.random() >= SERVABLE_SHARE:
        return body
    declared = schemas.response_members
    body = {k: v for k, v in body.items() if k in declared and k not in STATEFUL}
    if isinstance(body.get("tools"), list):
        body["tools"] = [t for t in body["tools"] if isinstance(t, dict) and t.get("type") == "function"]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") not in ("function", "allowed_tools"):
        del body["tool_choice"]
    if body.get("input") is None:
        body["input"] = rnd.choice(["hi", [{"role": "user", "content": "hi"}]])
    return body


# Exceptions raised while checking a case (the harness's own, or a request it could not make):
# reported as failures at the end. Raised inside hypothesis they would make it replay the case,
# and a replay past the group's deadline draws nothing and ends the run as a "flaky strategy".
CRASHES = []


def run_group(name, strategy, seconds, action):
    """Draws cases from `strategy` for `seconds`, seeded, without shrinking (failures are
    collected, not raised)."""
    deadline = time.monotonic() + seconds

    @hypothesis.seed(15)
    @settings(max_examples=100_000, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(case=strategy, rnd=st.randoms(use_true_random=False))
    def group(case, rnd):
        if time.monotonic() > deadline:
            raise OutOfTime()
        try:
            action(case, rnd)
        except Exception as e:
            CRASHES.append(f"{name}: {type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}")

    try:
        group()
    except OutOfTime:
        pass
    except hypothesis.errors.Flaky:
        # Past the deadline a case that hypothesis drew before (the same choices) stops before
        # `action` draws from `rnd`, and hypothesis calls the two runs inconsistent. Only the
        # deadline raises inside `group` (the checks' failures are collected), so this is the
        # group's end, not a finding; before the deadline it would be one.
        if time.monotonic() <= deadline:
            raise
    print(f"{name}: done in {seconds:.0f}s", flush=True)


def body_of(case):
    body = case.body
    if isinstance(body, (dict, list, str, int, float, bool)) or body is None:
        return copy.deepcopy(body)
    return bytes(body) if isinstance(body, (bytes, bytearray)) else body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--seconds", type=float, default=75)
    args = ap.parse_args()
    start = time.monotonic()
    schema = schemathesis.openapi.from_path(args.spec)
    schemas = Schemas(schema.raw_schema)
    run = Run(args.base_url, schemas, deadline=start + args.seconds + 30)
    print(f"spec loaded in {time.monotonic() - start:.1f}s", flush=True)

    chat_op = schema["/chat/completions"]["POST"]
    responses_op = schema["/responses"]["POST"]
    embed_op = schema["/embeddings"]["POST"]

    def is_valid(name, body):
        request = name == "CreateResponse"
        return isinstance(body, dict) and not schemas.errors(name, body, request) and not described_invalid(body)

    def chat(group, stream):
        def action(case, rnd):
            body = steer(body_of(case), CHAT_MODELS, rnd)
            if isinstance(body, dict):
                if stream:
                    body["stream"] = True
                elif body.get("stream") is True:
                    del body["stream"]
            valid = is_valid("CreateChatCompletionRequest", body)
            r = run.send(group, "POST", "/chat/completions", body, stream=stream)
            run.check(group, body, r, "stream" if stream else "CreateChatCompletionResponse", valid)
        return action

    def embeddings(group):
        def action(case, rnd):
            body = steer(body_of(case), EMBEDDING_MODELS, rnd)
            valid = is_valid("CreateEmbeddingRequest", body)
            r = run.send(group, "POST", "/embeddings", body)
            run.check(group, body, r, "CreateEmbeddingResponse", valid)
        return action

    def responses(group, stream, serve):
        def action(case, rnd):
            body = steer(body_of(case), CHAT_MODELS, rnd)
            if serve:
                body = servable(body, schemas, rnd)
            if isinstance(body, dict):
                if stream:
                    body["stream"] = True
                elif body.get("stream") is True:
                    del body["stream"]
            valid = is_valid("CreateResponse", body)
            r = run.send(group, "POST", "/responses", body, stream=stream)
            run.check_responses(group, body, r, stream, valid)
        return action

    def responses_edge_cases():
        for name, body in RESPONSES_EDGE_CASES:
            assert is_valid("CreateResponse", body), f"edge case {name!r} is not spec-valid"
            assert not responses_refusals(body), f"edge case {name!r} holds a refusal"
            stream = body.get("stream") is True
            r = run.send("responses-edge-cases", "POST", "/responses", body, stream=stream)
            if r is None or r.status_code == 200:
                run.check_responses("responses-edge-cases", body, r, stream, True)
            else:
                run.fail("responses-edge-cases", body, r, [f"{name}: spec-valid, answered {r.status_code}"])

    def responses_edge_refusals():
        for name, body, param in RESPONSES_EDGE_REFUSALS:
            valid = is_valid("CreateResponse", body)
            assert valid != (name in RESPONSES_NOT_SPEC_VALID), f"refusal {name!r}: spec-valid is {valid}"
            assert param in [p for p, _ in responses_refusals(body)], f"refusal {name!r} is not listed"
            stream = body.get("stream") is True
            r = run.send("responses-edge-refusals", "POST", "/responses", body, stream=stream)
            run.check_responses("responses-edge-refusals", body, r, stream, valid)
            if r is None:
                continue
            error = parse_json(r.text)
            error = error.get("error") if isinstance(error, dict) else None
            named = error.get("param") if isinstance(error, dict) else None
            if r.status_code != 400 or named != param or "x-mock-provider" in r.headers:
                got = f"got {r.status_code} naming {named!r}"
                run.fail("responses-edge-refusals", body, r,
                         [f"{name}: must be the router's 400 naming {param}, {got}"])

    def models():
        r = run.send("models", "GET", "/models", None)
        run.check("models", None, r, "ListModelsResponse", True)
        listed = parse_json(r.text) if r is not None and r.status_code == 200 else None
        for m in (listed.get("data") if isinstance(listed, dict) else None) or []:
            if isinstance(m, dict) and m.get("kind") == "chat" and isinstance(m.get("max_output"), int):
                run.output_limits[m.get("id")] = (m.get("tier"), m["max_output"])

    def edge_cases():
        for name, path, body in EDGE_CASES:
            op = "CreateChatCompletionRequest" if path == "/chat/completions" else "CreateEmbeddingRequest"
            assert is_valid(op, body), f"edge case {name!r} is not spec-valid"
            r = run.send("edge-cases", "POST", path, body)
            kind = "CreateChatCompletionResponse" if path == "/chat/completions" else "CreateEmbeddingResponse"
            if r is None or r.status_code == 200:
                run.check("edge-cases", body, r, kind, True)
            else:
                run.fail("edge-cases", body, r, [f"{name}: spec-valid, answered {r.status_code}"])

    def edge_refusals():
        for name, path, body in EDGE_REFUSALS:
            op = "CreateChatCompletionResponse" if path == "/chat/completions" else "CreateEmbeddingResponse"
            r = run.send("edge-refusals", "POST", path, body)
            run.check("edge-refusals", body, r, op, False)
            if r is not None and r.status_code < 400:
                run.fail("edge-refusals", body, r, [f"{name}: answered {r.status_code}, not refused"])

    positive, negative = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
    models()
    edge_cases()
    edge_refusals()
    responses_edge_cases()
    responses_edge_refusals()
    # The time left is the generated requests': the whole run stays within `--seconds`.
    budget = max(args.seconds - (time.monotonic() - start), 10)
    print(f"fixed lists sent at {time.monotonic() - start:.1f}s; {budget:.0f}s of generated requests", flush=True)
    groups = [
        ("chat", chat_op.as_strategy(positive), 0.20, chat("chat", False)),
        ("chat-stream", chat_op.as_strategy(positive), 0.16, chat("chat-stream", True)),
        ("chat-invalid", chat_op.as_strategy(negative), 0.07, chat("chat-invalid", False)),
        ("responses", responses_op.as_strategy(positive), 0.16, responses("responses", False, True)),
        ("responses-stream", responses_op.as_strategy(positive), 0.14, responses("responses-stream", True, True)),
        ("responses-invalid", responses_op.as_strategy(negative), 0.06,
         responses("responses-invalid", False, False)),
        ("embeddings", embed_op.as_strategy(positive), 0.15, embeddings("embeddings")),
        ("embeddings-invalid", embed_op.as_strategy(negative), 0.06, embeddings("embeddings-invalid")),
    ]
    for name, strategy, share, action in groups:
        run_group(name, strategy, budget * share, action)

    print("\nanswers by group and status:")
    for (group, status), n in sorted(run.counts.items()):
        print(f"  {group:24} {status}  {n}")
    if run.justified:
        print("\nspec-valid /responses requests refused on purpose (see responses_refusals, RESPONSES_JUSTIFIED):")
        for (group, why), n in sorted(run.justified.items()):
            print(f"  {group:24} {why:34} {n}")
    for crash in CRASHES[:5]:
        print(f"\ncheck crashed: {crash}")
    if CRASHES:
        print(f"\n{len(CRASHES)} cases crashed the checks (first five above)")
        return 1
    if run.failures:
        print(f"\n{len(run.failures)} FAILED CHECKS, by kind (two requests shown of each):")
        kinds = {}
        for f in run.failures:
            kinds.setdefault(kind_of(f), []).append(f)
        for kind, fs in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            print(f"\n{len(fs)} x {kind}")
            for f in fs[:2]:
                req = f["request"]
                shown = req.decode("utf-8", "replace") if isinstance(req, bytes) else json.dumps(req)
                print(f"  request:  {shown[:1500]}")
                print(f"  response: {f['status']} {f['response'][:600]}")
        return 1
    print(f"\ncontract: all checks passed ({sum(run.counts.values())} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
