// The official OpenAI Node SDK against model-router in front of the mock providers.
// Run by tests/tests/sdk.rs with BASE_URL set to the router's /v1, and RESPONSES_MODEL to today's
// model reached through the Responses API; exits non-zero on failure.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.BASE_URL, apiKey: "sk-client-key-never-forwarded", maxRetries: 0 });
const messages = [{ role: "user", content: "hello" }];

const { data: chat, response } = await client.chat.completions
  .create({ model: "economy", messages, prefer: "cheap" })
  .withResponse();
assert.equal(chat.choices[0].message.content, "mock reply from aws-bedrock-runtime");
assert.equal(response.headers.get("x-model-router-provider"), "aws-bedrock-runtime");

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

// Each native protocol through the router's translation: plain, streamed with usage, and a
// two-turn tool call whose streamed form the SDK's own accumulator rebuilds exactly.
const weather = [{ type: "function", function: {
  name: "get_weather", description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
for (const [model, provider] of [["deepseek.v3.2", "aws-bedrock-runtime"], ["claude-sonnet-4-6", "anthropic"], [process.env.RESPONSES_MODEL, "openai"]]) {
  const plain = await client.chat.completions.create({ model, messages });
  assert.equal(plain.choices[0].message.content, `mock reply from ${provider}`, model);
  assert.equal(plain.model, model);
  const s = await client.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
  let streamed = "";
  let u = null;
  for await (const chunk of s) {
    if (chunk.choices.length) streamed += chunk.choices[0].delta.content ?? "";
    if (chunk.usage) u = chunk.usage;
  }
  assert.equal(streamed, `mock reply from ${provider}`, model);
  assert.equal(u.completion_tokens, 4, model);
  const ask = [{ role: "user", content: "What is the weather in Paris? mock:tool" }];
  const first = await client.chat.completions.create({ model, messages: ask, tools: weather });
  const call = first.choices[0].message.tool_calls[0];
  assert.equal(first.choices[0].finish_reason, "tool_calls", model);
  assert.deepEqual([call.function.name, JSON.parse(call.function.arguments)], ["get_weather", { city: "Paris" }]);
  const runner = client.chat.completions.stream({ model, messages: ask, tools: weather });
  const done = await runner.finalChatCompletion();
  const scall = done.choices[0].message.tool_calls[0];
  assert.deepEqual([scall.function.name, JSON.parse(scall.function.arguments)], ["get_weather", { city: "Paris" }], model);
  const second = await client.chat.completions.create({ model, tools: weather, messages: [...ask,
    { role: "assistant", content: null, tool_calls: [call] },
    { role: "tool", tool_call_id: call.id, content: "18 degrees and sunny" }] });
  assert.equal(second.choices[0].message.content, `mock reply from ${provider} after tool get_weather`, model);
}

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
// The Responses API (what the AI SDK's openai(id) and the Agents SDK call): a Response object,
// and events the SDK's own stream helper assembles into the same answer.
for (const [model, provider] of [["standard", "aws-bedrock"], ["claude-sonnet-4-6", "anthropic"]]) {
  const r = await client.responses.create({ model, input: "hello" });
  assert.equal(r.output_text, `mock reply from ${provider}`, model);
  assert.equal(r.status, "completed");
  const s = client.responses.stream({ model, input: [{ role: "user", content: "hello" }] });
  let deltas = "";
  for await (const e of s) if (e.type === "response.output_text.delta") deltas += e.delta;
  const final = await s.finalResponse();
  assert.equal(deltas, `mock reply from ${provider}`, model);
  assert.equal(final.output_text, deltas);
  assert.ok(final.usage.output_tokens > 0, model);
}

console.log("node sdk: all checks passed");
