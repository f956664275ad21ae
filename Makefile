# Nimbus: `make serve` serves the default model on port 8000; `make test` runs everything CI runs.
SHELL := /bin/bash
NIM_CACHE_PATH ?= $(HOME)/.cache/nimbus
PYTHON ?= python3
SWIFT_BUILD_FLAGS ?= -c release
BIN := .build/release/nimbus
MODEL := $(NIM_CACHE_PATH)/models/SmolLM2-135M-Instruct.Q4_1.gguf
export NIM_CACHE_PATH

.PHONY: serve test build model python-deps unit-test e2e-test e2e-run bench bench-serving fixtures clean

serve: model build
	$(BIN) serve --model $(MODEL)

build:
	swift build $(SWIFT_BUILD_FLAGS) --product nimbus

model: $(MODEL)

$(MODEL):
	$(PYTHON) scripts/fetch_model.py --cache $(NIM_CACHE_PATH)

python-deps:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

# Unit and integration tests run on the release build: the engine tests run a real model.
unit-test: model
	NIMBUS_MODEL_PATH=$(MODEL) NIMBUS_REQUIRE_MODELS=1 swift test $(SWIFT_BUILD_FLAGS)

e2e-test: model build python-deps e2e-run

e2e-run:
	NIMBUS_BIN=$(BIN) NIMBUS_MODEL_PATH=$(MODEL) $(PYTHON) -m pytest -q tests/e2e

# `swift test` also builds the nimbus executable (with testing enabled), so the end-to-end tests
# drive that binary instead of paying for a second release build of every dependency.
test: python-deps unit-test
	$(MAKE) e2e-run

# Single-stream prefill/decode tokens/s of Nimbus, and of llama.cpp when llama-cpp-python is installed.
bench: model build
	$(BIN) bench-engine --model $(MODEL)
	-$(PYTHON) scripts/bench_llama_cpp.py $(MODEL)

# `nimbus bench` sweep (1/4/8/16 streams, 128 output tokens) against nimbus serve, then against
# llama-cpp-python's server on the same model; JSON reports in .build/bench-results/.
bench-serving: model build
	scripts/bench_serving.sh $(MODEL)

# Regenerates the committed reference fixtures (needs llama-cpp-python, gguf, jinja2).
fixtures: model
	$(PYTHON) scripts/fixtures/gen_fidelity_fixtures.py $(MODEL)

clean:
	rm -rf .build
