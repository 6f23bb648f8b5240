"""The official OpenAI Python SDK against model-router in front of the mock providers.

Run by tests/tests/sdk.rs with BASE_URL set to the router's /v1, and RESPONSES_MODEL to today's
model reached through the Responses API; exits non-zero on failure.
"""
import json
import os
import sys

import openai

base_url = os.environ["BASE_URL"]
responses_model = os.environ["RESPONSES_MODEL"]
client = openai.OpenAI(base_url=base_url, api_key="sk-client-key-never-forwarded", max_retries=0)
msgs = [{"role": "user", "content": "hello"}]

# Chat, with the router's fields through extra_body; the raw response shows what ran.
raw = client.chat.completions.with_raw_response.create(
    model="economy", messages=msgs, extra_body={"prefer": "cheap"})
chat = raw.parse()
assert chat.choices[0].message.content == "mock reply from aws-bedrock-runtime", chat
assert raw.headers["x-model-router-provider"] == "aws-bedrock-runtime", dict(raw.headers)
assert chat.model == "nvidia.nemotron-nano-9b-v2", chat.model

auto = client.chat.completions.with_raw_response.create(
    model="auto", messages=msgs, extra_body={"tier": "premium", "prefer": "coding"})
assert auto.headers["x-model-router-tier"] == "premium", dict(auto.headers)
assert auto.headers["x-model-router-model"] == "claude-opus-4-7"
assert auto.headers["x-model-router-auto-tier"] == "economy"

# Streaming: chunks arrive as the SDK's typed events, usage at the end when asked for.
stream = client.chat.completions.create(
    model="standard", messages=msgs, stream=True, stream_options={"include_usage": True})
text, usage = "", None
for chunk in stream:
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
    if chunk.usage:
        usage = chunk.usage
assert text == "mock reply from aws-bedrock", text
assert usage is not None and usage.completion_tokens == 4, usage

# Each native protocol, through the router's translation: Bedrock Converse, Anthropic
# Messages, the Responses API. Plain, streamed with usage, and a two-turn tool call whose
# streamed form the SDK's own accumulator must rebuild exactly.
weather = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
for model, provider in (("deepseek.v3.2", "aws-bedrock-runtime"), ("claude-sonnet-4-6", "anthropic"),
                        (responses_model, "openai")):
    raw = client.chat.completions.with_raw_response.create(model=model, messages=msgs)
    plain = raw.parse()
    assert raw.headers["x-model-router-provider"] == provider, (model, dict(raw.headers))
    assert plain.choices[0].message.content == f"mock reply from {provider}", (model, plain)
    assert plain.choices[0].finish_reason == "stop" and plain.model == model, (model, plain)
    assert plain.usage.prompt_tokens > 0 and plain.usage.completion_tokens == 4, (model, plain.usage)
    assert float(raw.headers["x-model-router-cost"]) > 0, dict(raw.headers)

    stream = client.chat.completions.create(
        model=model, messages=msgs, stream=True, stream_options={"include_usage": True})
    text, usage, ids = "", None, set()
    for chunk in stream:
        ids.add(chunk.id)
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == f"mock reply from {provider}", (model, text)
    assert usage is not None and usage.completion_tokens == 4 and len(ids) == 1, (model, usage, ids)

    ask = [{"role": "user", "content": "What is the weather in Paris? mock:tool"}]
    first = client.chat.completions.create(model=model, messages=ask, tools=weather)
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls", (model, first)
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}, call
    with client.chat.completions.stream(model=model, messages=ask, tools=weather) as s:
        for _ in s:
            pass
        streamed = s.get_final_completion()
    scall = streamed.choices[0].message.tool_calls[0]
    assert streamed.choices[0].finish_reason == "tool_calls", (model, streamed)
    assert (scall.function.name, json.loads(scall.function.arguments)) == ("get_weather", {"city": "Paris"}), scall
    second = client.chat.completions.create(model=model, tools=weather, messages=ask + [
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"}])
    assert second.choices[0].message.content == f"mock reply from {provider} after tool get_weather", second

# The Responses API, as the Codex CLI, the AI SDK and the Agents SDK speak it: routed as chat,
# answered as Response objects and Responses events, whatever protocol the provider speaks.
for model, provider in (("economy", "aws-bedrock-runtime"), ("claude-sonnet-4-6", "anthropic"),
                        ("deepseek.v3.2", "aws-bedrock-runtime"), (responses_model, "openai")):
    raw = client.responses.with_raw_response.create(
        model=model, instructions="be brief", input="hello", extra_body={"prefer": "cheap"})
    resp = raw.parse()
    assert raw.headers["x-model-router-provider"] == provider, (model, dict(raw.headers))
    assert resp.object == "response" and resp.status == "completed", resp
    assert resp.output_text == f"mock reply from {provider}", (model, resp)
    assert resp.usage.input_tokens > 0 and resp.usage.output_tokens == 4, (model, resp.usage)

    cheap = {"prefer": "cheap"}
    with client.responses.stream(model=model, input=[{"role": "user", "content": "hello"}], extra_body=cheap) as s:
        deltas = "".join(e.delta for e in s if e.type == "response.output_text.delta")
        final = s.get_final_response()
    assert deltas == f"mock reply from {provider}" == final.output_text, (model, deltas, final)
    assert final.usage.output_tokens == 4, (model, final.usage)

    tools = [{"type": "function", "name": "get_weather", "description": "Weather in a city",
              "parameters": weather[0]["function"]["parameters"]}]
    ask = [{"role": "user", "content": "What is the weather in Paris? mock:tool"}]
    with client.responses.stream(model=model, input=ask, tools=tools, extra_body=cheap) as s:
        for _ in s:
            pass
        first = s.get_final_response()
    calls = [o for o in first.output if o.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather", (model, first.output)
    assert json.loads(calls[0].arguments) == {"city": "Paris"}, calls[0]
    second = client.responses.create(model=model, tools=tools, extra_body=cheap, input=ask + [
        {"type": "function_call", "call_id": calls[0].call_id, "name": "get_weather",
         "arguments": calls[0].arguments},
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18 degrees and sunny"}])
    assert second.output_text == f"mock reply from {provider} after tool get_weather", (model, second)

# The Codex CLI's default tools: a namespace's function is called under its namespace (the
# provider knows it as namespace__name), and the hosted web search the demo's configuration
# leaves out is named in a header.
codex_tools = [{"type": "namespace", "name": "weather", "description": "Weather tools", "tools": tools},
               {"type": "web_search", "external_web_access": False}]
raw = client.responses.with_raw_response.create(model="economy", input=ask, tools=codex_tools, extra_body=cheap)
first = raw.parse()
assert raw.headers["x-model-router-dropped-tools"] == "web_search", dict(raw.headers)
calls = [o for o in first.output if o.type == "function_call"]
assert [(c.namespace, c.name) for c in calls] == [("weather", "get_weather")], first.output
second = client.responses.create(model="economy", tools=codex_tools, extra_body=cheap, input=ask + [
    {"type": "function_call", "call_id": calls[0].call_id, "namespace": "weather", "name": "get_weather",
     "arguments": calls[0].arguments},
    {"type": "function_call_output", "call_id": calls[0].call_id, "output": "18 degrees and sunny"}])
provider = raw.headers["x-model-router-provider"]
assert second.output_text == f"mock reply from {provider} after tool weather__get_weather", second

try:
    client.responses.create(model="economy", input="hi", previous_response_id="resp_1")
    raise AssertionError("previous_response_id was not refused")
except openai.BadRequestError as e:
    assert e.param == "previous_response_id" and "input" in e.message, (e.code, e.message)

# Embeddings, by alias, with dimensions; Titan through the router's translation.
emb = client.embeddings.create(model="embed-small", input=["a", "b"], dimensions=16)
assert len(emb.data) == 2 and len(emb.data[0].embedding) == 16, emb
titan = client.embeddings.create(model="embed-titan", input="one text", dimensions=256)
assert len(titan.data[0].embedding) == 256 and titan.model == "amazon.titan-embed-text-v2:0", titan

# The model list.
ids = [m.id for m in client.models.list()]
for want in ("auto", "economy", "embed-small", "gpt-4.1"):
    assert want in ids, (want, ids)

# Errors surface as the SDK's typed errors, with the router's message.
def expect(cls, code, **kwargs):
    try:
        client.chat.completions.create(messages=msgs, **kwargs)
    except cls as e:
        assert e.code == code, (e.code, e.message)
        assert e.message, e.body
        return e
    raise AssertionError(f"no {cls.__name__} for {kwargs}")

e = expect(openai.BadRequestError, "invalid_prefer", model="economy", extra_body={"prefer": "fastest"})
assert "use one of cheap, fast, balanced, quality, coding" in e.message, e.message
expect(openai.NotFoundError, "model_not_found", model="gpt-99")
expect(openai.PermissionDeniedError, "provider_blocked", model="claude-opus-4-7",
       extra_body={"provider": {"only": ["openai"]}})
expect(openai.RateLimitError, "rate_limit_exceeded", model="economy",
       extra_headers={"x-mock-status": "429"})
# Reasoning asked as a summary comes as the reasoning item's summary, whole and streamed (what the
# AI SDK, LangChain and the Agents SDK show), from a Responses model and from a translated one.
for model in (responses_model, "deepseek.v3.2"):
    asked = dict(model=model, input="mock:reasoning hello", reasoning={"effort": "low", "summary": "auto"})
    item = client.responses.create(**asked).output[0]
    assert item.type == "reasoning" and [s.text for s in item.summary] == [item.summary[0].text], item
    assert item.summary[0].text.startswith("mock reasoning from"), item
    with client.responses.stream(**asked) as s:
        said = "".join(e.delta for e in s if e.type == "response.reasoning_summary_text.delta")
        final = s.get_final_response()
    assert said == final.output[0].summary[0].text == item.summary[0].text, (said, final.output[0])

# Structured output parsed by the SDK from a pinned Claude (Anthropic's output_config.format).
import pydantic


class Place(pydantic.BaseModel):
    city: str


done = client.chat.completions.parse(model="claude-haiku-4-5", messages=[{"role": "user", "content": "where?"}],
                                     response_format=Place)
assert done.choices[0].message.parsed == Place(city="Paris"), done
print("python sdk: all checks passed")
