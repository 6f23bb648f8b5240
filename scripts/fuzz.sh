#!/usr/bin/env bash
# `make fuzz`: each target for FUZZ_SECONDS (default 60), corpus seeded from testdata/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
mkdir -p fuzz/corpus/route fuzz/corpus/config fuzz/corpus/responses fuzz/corpus/protocols
python3 - <<'PY'
import json, hashlib, pathlib
def put(target, data):
    d = pathlib.Path("fuzz/corpus") / target
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
for case in json.load(open("testdata/auto/golden.json"))["cases"]:
    put("route", json.dumps(case["request"]).encode())
for case in json.load(open("testdata/routing/builtin_catalog.json"))["cases"]:
    body = {"model": case["model"], "messages": [{"role": "user", "content": "hello"}]}
    if "prefer" in case: body["prefer"] = case["prefer"]
    put("route", json.dumps(body).encode())
put("route", b'{"model":"embed-titan","input":["x"],"dimensions":256}')
put("config", b'{}')
put("config", b'{"blocked_providers":["xai"],"client_header":"x","clients":{"a":{"only_providers":["openai"]}},"free":["cerebras/gpt-oss-120b"],"auto":{"standard_at":0.4},"sticky":{"slots":8}}')
put("responses", b'{"embedding":[0.5,-0.25],"inputTextTokenCount":3}')
# The translators' golden inputs, each behind the byte that picks its protocol.
for pick, name in ((0, "anthropic"), (1, "bedrock"), (2, "responses")):
    for f in sorted(pathlib.Path("testdata/protocol", name).rglob("*")):
        if f.is_file() and "expected" not in f.name and not f.name.endswith(".out"):
            put("protocols", bytes([pick]) + f.read_bytes())
PY
for target in route config responses protocols; do
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+ *DONE|stat::|==|SUMMARY|Done)" || true
  if [ -d "fuzz/artifacts/$target" ] && [ -n "$(ls -A "fuzz/artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz: $target found a crash: fuzz/artifacts/$target"; exit 1
  fi
done
echo "fuzz: no findings (${seconds}s per target)"
