"""The official OpenAI Python SDK against model-router in front of the mock providers.

Run by tests/tests/sdk.rs with BASE_URL set to the router's /v1; exits non-zero on failure.
"""
import os
import sys

import openai

base_url = os.environ["BASE_URL"]
client = openai.OpenAI(base_url=base_url, api_key="sk-client-key-never-forwarded", max_retries=0)
msgs = [{"role": "user", "content": "hello"}]

# Chat, with the router's fields through extra_body; the raw response shows what ran.
raw = client.chat.completions.with_raw_response.create(
    model="economy", messages=msgs, extra_body={"prefer": "cheap"})
chat = raw.parse()
assert chat.choices[0].message.content == "mock reply from groq", chat
assert raw.headers["x-model-router-provider"] == "groq", dict(raw.headers)
assert chat.model == "meta-llama/llama-4-scout-17b-16e-instruct", chat.model

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
print("python sdk: all checks passed")
