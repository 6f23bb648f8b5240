// The official OpenAI Node SDK against model-router in front of the mock providers.
// Run by tests/tests/sdk.rs with BASE_URL set to the router's /v1; exits non-zero on failure.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: "sk-client-key-never-forwarded", maxRetries: 0 });
const messages = [{ role: "user", content: "hello" }];

const { data: chat, response } = await client.chat.completions
  .create({ model: "economy", messages, prefer: "cheap" })
  .withResponse();
assert.equal(chat.choices[0].message.content, "mock reply from groq");
assert.equal(response.headers.get("x-model-router-provider"), "groq");

const stream = await client.chat.completions.create({
  model: "standard", messages, stream: true, stream_options: { include_usage: true },
});
let text = "";
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length) text += chunk.choices[0].delta.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(text, "mock reply from aws-bedrock");
assert.equal(usage.completion_tokens, 4);

const emb = await client.embeddings.create({ model: "embed-large", input: ["a", "b", "c"], dimensions: 8 });
assert.equal(emb.data.length, 3);
assert.equal(emb.data[0].embedding.length, 8);

const ids = [];
for await (const m of client.models.list()) ids.push(m.id);
for (const want of ["auto", "premium", "embed-titan", "claude-sonnet-4-6"]) assert.ok(ids.includes(want), want);

async function expectError(cls, code, body, options) {
  try {
    await client.chat.completions.create({ messages, ...body }, options);
  } catch (e) {
    assert.ok(e instanceof cls, `${e.constructor.name} is not ${cls.name}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`no ${cls.name}`);
}
const bad = await expectError(OpenAI.BadRequestError, "invalid_tier", { model: "auto", tier: "gold" });
assert.match(bad.message, /use one of economy, standard, premium/);
await expectError(OpenAI.NotFoundError, "model_not_found", { model: "gpt-99" });
await expectError(OpenAI.PermissionDeniedError, "provider_blocked", { model: "claude-opus-4-7", provider: { only: ["openai"] } });
await expectError(OpenAI.RateLimitError, "rate_limit_exceeded", { model: "economy" }, { headers: { "x-mock-status": "429" } });
console.log("node sdk: all checks passed");
