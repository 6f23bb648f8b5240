"""Anthropic's Python SDK against model-router (`POST /v1/messages`) in front of the mock providers.

Run by tests/tests/sdk.rs with BASE_URL set to the router's root, and RESPONSES_MODEL to today's
model reached through the Responses API; exits non-zero on failure.
"""
import os

import anthropic

responses_model = os.environ["RESPONSES_MODEL"]
client = anthropic.Anthropic(
    base_url=os.environ["BASE_URL"], api_key="sk-ant-client-key-never-forwarded", max_retries=0)
hello = [{"role": "user", "content": "hello"}]
cheap = {"prefer": "cheap"}
tools = [{"name": "get_weather", "description": "Weather in a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
ask = [{"role": "user", "content": "What is the weather in Paris? mock:tool"}]

# Routed as chat to every protocol the providers speak, answered as Messages: whole, streamed
# (the SDK's own accumulator rebuilds the message), and a two-turn tool loop.
for model, provider in (("economy", "aws-bedrock-runtime"), ("claude-sonnet-4-6", "anthropic"),
                        ("deepseek.v3.2", "aws-bedrock-runtime"), (responses_model, "openai")):
    raw = client.messages.with_raw_response.create(
        model=model, max_tokens=256, system="be brief", messages=hello, extra_body=cheap)
    msg = raw.parse()
    assert raw.headers["x-model-router-provider"] == provider, (model, dict(raw.headers))
    assert msg.type == "message" and msg.role == "assistant" and msg.id.startswith("msg_"), msg
    assert [b.type for b in msg.content] == ["text"], (model, msg)
    assert msg.content[0].text == f"mock reply from {provider}", (model, msg)
    assert msg.stop_reason == "end_turn", (model, msg)
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens == 4, (model, msg.usage)

    with client.messages.stream(model=model, max_tokens=256, messages=hello, extra_body=cheap) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == f"mock reply from {provider}" == final.content[0].text, (model, text, final)
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 4, (model, final)
    assert final.usage.input_tokens > 0, (model, final.usage)

    with client.messages.stream(model=model, max_tokens=256, tools=tools, messages=ask, extra_body=cheap) as s:
        first = s.get_final_message()
    uses = [b for b in first.content if b.type == "tool_use"]
    assert first.stop_reason == "tool_use", (model, first)
    assert [(u.name, u.input) for u in uses] == [("get_weather", {"city": "Paris"})], (model, first.content)
    whole = client.messages.create(model=model, max_tokens=256, tools=tools, messages=ask, extra_body=cheap)
    assert [(b.type, getattr(b, "input", None)) for b in whole.content if b.type == "tool_use"] == \
        [("tool_use", {"city": "Paris"})], (model, whole)
    second = client.messages.create(model=model, max_tokens=256, tools=tools, extra_body=cheap, messages=ask + [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id,
                                      "content": "18 degrees and sunny"}]}])
    assert second.content[0].text == f"mock reply from {provider} after tool get_weather", (model, second)

# Claude Code's own shape: system blocks with cache breakpoints, adaptive thinking and its effort,
# a system turn among the messages, a deferred tool, and max_tokens at a model's whole output.
# Routed on the tier as any request is: the cap a ceiling (no model produces a million tokens),
# the effort no reasoning requirement.
code = dict(
    model="economy", max_tokens=1000000,
    system=[{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1"},
            {"type": "text", "text": "You are an agent.", "cache_control": {"type": "ephemeral"}}],
    messages=[{"role": "user", "content": [{"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}]},
              {"role": "system", "content": "# Environment"}],
    tools=tools + [{"name": "WebFetch", "description": "fetch", "input_schema": {"type": "object"},
                    "defer_loading": True}],
    extra_body={"prefer": "cheap", "thinking": {"type": "adaptive", "display": "omitted"},
                "output_config": {"effort": "xhigh"}, "context_management": {"edits": []},
                "metadata": {"user_id": "u"}})
with client.messages.stream(**code) as s:
    assert s.get_final_message().stop_reason == "end_turn"
# (The SDK itself refuses to wait for that many tokens unstreamed.)
raw = client.messages.with_raw_response.create(**dict(code, max_tokens=20000))
assert raw.headers["x-model-router-tier"] == "economy", dict(raw.headers)
assert raw.parse().content[0].text.startswith("mock reply from"), raw.parse()

# The same request pinned to a Claude thinks as it asked: adaptive thinking at its effort on
# Opus 4.7 and Sonnet 4.6, streamed and whole. Claude's thinking comes back first,
# signed as Anthropic signed it (the signature bound to the model that wrote it), its text kept
# when the client asked it omitted (as Claude Code does: Anthropic refuses a signed block sent
# back changed). Sent back in a tool loop's next turn, it keeps Claude thinking there (Claude's
# API takes thinking on that turn only after its signed thinking; the mock checks the
# signature).
for model in ("claude-opus-4-7", "claude-sonnet-4-6"):
    pinned = dict(code, model=model, max_tokens=20000)
    shown = dict(pinned, extra_body=dict(code["extra_body"], thinking={"type": "adaptive", "display": "summarized"}))
    signature = f"model-router:claude:{model}:bW9jay1zaWduYXR1cmU="
    for asked in (shown, pinned):
        whole = client.messages.with_raw_response.create(**asked)
        content = whole.parse().content
        assert [b.type for b in content] == ["thinking", "text"], (model, content)
        assert (content[0].thinking, content[0].signature) == ("mock thinking from anthropic", signature), \
            (model, content)
        # The provider thought either way: its thinking was billed.
        assert int(whole.headers["x-model-router-tokens-out"]) == 8, dict(whole.headers)
        with client.messages.stream(**asked) as s:
            streamed = s.get_final_message().content
        assert [(b.type, getattr(b, "thinking", None), getattr(b, "signature", None)) for b in streamed] == \
            [(b.type, getattr(b, "thinking", None), getattr(b, "signature", None)) for b in content], (model, streamed)
        for turn in ("whole", "streamed"):
            if turn == "whole":
                first = client.messages.create(**dict(asked, tools=tools, messages=ask))
            else:
                with client.messages.stream(**dict(asked, tools=tools, messages=ask)) as s:
                    first = s.get_final_message()
            uses = [b for b in first.content if b.type == "tool_use"]
            assert first.stop_reason == "tool_use" and uses and first.content[0].type == "thinking", (model, first)
            second = client.messages.create(**dict(asked, tools=tools, messages=ask + [
                {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": "sunny"}]}]))
            assert second.stop_reason == "end_turn", (model, second)
            assert [b.type for b in second.content] == ["thinking", "text"], (model, turn, second.content)

# Claude Code's own default model name, which the catalog does not have: the demo's
# configuration serves it with the catalog's Claude of its family, and says so in its headers;
# the message names the model asked for (Claude Code keeps a turn's thinking only then).
for asked, served in (("claude-opus-5-5", "claude-opus-4-7"), ("claude-3-5-haiku-20241022", "claude-haiku-4-5"),
                      ("claude-fable-5-2", "claude-sonnet-4-6")):
    raw = client.messages.with_raw_response.create(model=asked, max_tokens=64, messages=hello)
    assert (raw.headers["x-model-router-model"], raw.headers["x-model-router-alias"]) == (served, asked), \
        dict(raw.headers)
    assert raw.parse().model == asked, raw.parse()

# Errors arrive in Anthropic's shape, as the SDK's typed exceptions, with the router's message.
try:
    client.messages.create(model="no-such-model", max_tokens=10, messages=hello)
    raise AssertionError("an unknown model was served")
except anthropic.NotFoundError as e:
    assert e.body["type"] == "error" and e.body["error"]["type"] == "not_found_error", e.body
    assert "no-such-model" in e.body["error"]["message"], e.body
try:
    client.messages.create(model="auto", max_tokens=10, messages=hello,
                           extra_body={"mcp_servers": [{"type": "url", "url": "https://mcp.example", "name": "x"}]})
    raise AssertionError("mcp_servers was not refused")
except anthropic.BadRequestError as e:
    assert e.body["error"]["type"] == "invalid_request_error", e.body
    assert "mcp_servers" in e.body["error"]["message"], e.body
try:
    with client.messages.stream(model="no-such-model", max_tokens=10, messages=hello) as s:
        s.get_final_message()
    raise AssertionError("an unknown model was streamed")
except anthropic.NotFoundError as e:
    assert e.body["error"]["type"] == "not_found_error", e.body

# Structured output on a pinned Claude: the SDK's own schema (objects closed) reaches Anthropic as
# output_config.format, and the SDK parses the JSON text it gets back.
import pydantic


class Place(pydantic.BaseModel):
    city: str


parsed = client.messages.parse(model="claude-haiku-4-5", max_tokens=256, messages=hello, output_format=Place)
assert parsed.parsed_output == Place(city="Paris"), parsed
# A schema Claude cannot decode (a numeric bound) is refused naming where it stands.
try:
    client.messages.create(model="claude-haiku-4-5", max_tokens=256, messages=hello, extra_body={"output_config": {
        "format": {"type": "json_schema", "schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}}}})
    raise AssertionError("a bound Claude cannot decode was sent")
except anthropic.BadRequestError as e:
    assert "output_config.format.schema.properties.n.minimum" in e.body["error"]["message"], e.body
# The same format on an OpenAI model: a schema with an optional member, which Anthropic takes and
# OpenAI's strict mode refuses, goes unstrict (the mock refuses it strict, as OpenAI does).
optional = {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
            "required": ["city"], "additionalProperties": False}
done = client.messages.create(model="gpt-4.1", max_tokens=256, messages=hello,
                              extra_body={"output_config": {"format": {"type": "json_schema", "schema": optional}}})
assert done.content[0].type == "text", done
# A strict tool with that schema likewise (the mock refuses a strict function OpenAI would).
done = client.messages.create(model="gpt-4.1", max_tokens=256, messages=hello,
                              tools=[{"name": "locate", "strict": True, "input_schema": optional}])
assert done.content, done

# Token counting: Anthropic counts a Claude's request, the router estimates any other model's.
counted = client.messages.with_raw_response.count_tokens(model="claude-sonnet-4-6", messages=hello, tools=tools)
assert counted.headers["x-model-router-count"] == "provider", dict(counted.headers)
assert counted.parse().input_tokens > 0, counted.parse()
counted = client.messages.with_raw_response.count_tokens(model="gpt-4.1", messages=hello)
assert counted.headers["x-model-router-count"] == "estimate", dict(counted.headers)
assert counted.parse().input_tokens > 0, counted.parse()

print("all checks passed")
