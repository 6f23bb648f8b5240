"""Contract run: the official OpenAI spec drives generated requests against the router.

Run by tests/tests/contract.rs (`make test`) against the demo stack (Envoy, the router, the mock
providers), with the `.venv` that `make sdks` fills (schemathesis, pinned in the Makefile):

    .venv/bin/python scripts/contract.py --spec ../shared/openai-openapi/openapi.yaml \
        --base-url http://127.0.0.1:10000/v1 [--seconds 75] [--seed 15]

schemathesis generates request bodies from the spec's request schemas (spec-valid ones, and
invalid ones in its negative mode) for `/chat/completions` (whole and streamed), `/embeddings`
and `/models`. A share of them get a model the router can route (`economy`, `auto`,
`embed-small`, ...): a generated model name is almost never known, and a 404 tests little.
Every response is checked:

- no 5xx, ever;
- a 2xx body is valid against the operation's response schema (`CreateChatCompletionResponse`,
  `CreateEmbeddingResponse`, `ListModelsResponse`, `Model`); a stream's every `data:` chunk
  against `CreateChatCompletionStreamResponse`, and the stream ends with `data: [DONE]`;
- a 4xx body is valid against `ErrorResponse`;
- the router does not refuse a spec-valid request as malformed (`invalid_type`,
  `invalid_role`, `missing_required_parameter`, `invalid_body`): semantic refusals
  (`invalid_value`, unknown models, context, capability) are the router's to make.

Generation is seeded and the run is bounded in time (examples left when time is up are not
sent). Exits 1 and prints each failing request when a check fails.

Spec notes: the spec carries 3.0-style `nullable`, made into `null` alternatives here; it types
an embedding as a list of floats only, while `encoding_format: "base64"` gets a base64 string
(as the real API answers), so such a string is checked by decoding it instead.
"""

import argparse
import base64
import binascii
import copy
import json
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


class Schemas:
    """Validators for the spec's component schemas, references resolved inside the spec."""

    def __init__(self, raw):
        self.components = nullable_to_null(raw["components"])
        self.cache = {}

    def errors(self, name, instance):
        if name not in self.cache:
            schema = {"$ref": f"#/components/schemas/{name}", "components": self.components}
            self.cache[name] = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
        return [f"{e.instance_path}: {e.message}"[:300] for e in self.cache[name].iter_errors(instance)]


class Run:
    """Sends cases, checks answers, keeps counts and failures."""

    def __init__(self, base_url, schemas, deadline):
        self.base = base_url.rstrip("/")
        self.schemas = schemas
        self.deadline = deadline
        self.http = requests.Session()
        self.counts = {}
        self.failures = []

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
    budget = max(args.seconds - (time.monotonic() - start), 10)
    print(f"spec loaded in {time.monotonic() - start:.1f}s; {budget:.0f}s of requests", flush=True)

    chat_op = schema["/chat/completions"]["POST"]
    embed_op = schema["/embeddings"]["POST"]

    def is_valid(name, body):
        return isinstance(body, dict) and not schemas.errors(name, body) and not described_invalid(body)

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

    def models():
        r = run.send("models", "GET", "/models", None)
        run.check("models", None, r, "ListModelsResponse", True)

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
    groups = [
        ("chat", chat_op.as_strategy(positive), 0.30, chat("chat", False)),
        ("chat-stream", chat_op.as_strategy(positive), 0.25, chat("chat-stream", True)),
        ("chat-invalid", chat_op.as_strategy(negative), 0.10, chat("chat-invalid", False)),
        ("embeddings", embed_op.as_strategy(positive), 0.25, embeddings("embeddings")),
        ("embeddings-invalid", embed_op.as_strategy(negative), 0.10, embeddings("embeddings-invalid")),
    ]
    for name, strategy, share, action in groups:
        run_group(name, strategy, budget * share, action)

    print("\nanswers by group and status:")
    for (group, status), n in sorted(run.counts.items()):
        print(f"  {group:20} {status}  {n}")
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
