"""A stream cut at every byte offset, read with the official OpenAI Python SDK.

Run by tests/tests/edges.rs with BASE_URL (the router's /v1), MOCK_URL (the mock provider that
serves MODEL) and MODEL set. For each offset the mock ends its stream cleanly after that many
bytes (`cut_after`); until the answer is complete (its usage chunk, after its finish, got
through: the router then ends it with the `[DONE]` it lacks), the SDK must raise
`openai.APIError` (the router's `stream_truncated` event), never a JSON decoding error, and
from there on it must read the whole answer. Exits non-zero on failure.
"""
import json
import os
import sys
import urllib.request

import openai

base_url, mock_url, model = os.environ["BASE_URL"], os.environ["MOCK_URL"], os.environ["MODEL"]
client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
msgs = [{"role": "user", "content": "hello"}]


def plan(body):
    req = urllib.request.Request(mock_url + "/mock/faults", data=json.dumps(body).encode(),
                                 method="POST", headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()


def read(cut):
    """'ok' (a whole answer), 'error' (APIError) or the name of anything else raised."""
    plan({"cut_after": cut})
    try:
        text = ""
        for chunk in client.chat.completions.create(model=model, messages=msgs, stream=True):
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
        return "ok", text
    except openai.APIError as e:
        return "error", str(e)
    except Exception as e:  # noqa: BLE001 - what the client would see is the point
        return type(e).__name__, str(e)


# The whole stream's length, from an uncut request.
urllib.request.urlopen(urllib.request.Request(mock_url + "/mock/faults", method="DELETE")).read()
whole = ""
for chunk in client.chat.completions.create(model=model, messages=msgs, stream=True):
    if chunk.choices:
        whole += chunk.choices[0].delta.content or ""
assert whole, "the uncut stream has no text"

# Cut at every offset until the stream gets through whole (past its usage chunk). The mock's
# bytes are counted, not the client's (the router edits the usage chunk out).
bad, cut = [], 0
while cut < 100_000:
    kind, detail = read(cut)
    if kind == "ok":
        assert detail == whole, (cut, detail)
        break
    if kind != "error":
        bad.append((cut, kind, detail[:120]))
    cut += 1
urllib.request.urlopen(urllib.request.Request(mock_url + "/mock/faults", method="DELETE")).read()
assert cut > 200, f"the stream got through whole at a cut of {cut} bytes"
if bad:
    print(f"{len(bad)} of {cut} cuts were not an APIError:")
    for b in bad[:20]:
        print("  ", b)
    sys.exit(1)
print(f"{cut} cuts, each raised APIError; all checks passed")
