"""Schemathesis against a real `nimbus serve` (the LLM, the embedder and the ranker in one process),
over every operation of the document the server publishes at GET /openapi.json.

Phases: examples, coverage (boundary and type-mutated values of every field), fuzzing and
stateful, in mode `all` (valid and invalid data). Checks: not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance (event streams
included, event by event), response_headers_conformance, negative_data_rejection (invalid data
must be a 400, 404 or 413), plus fuzz_hooks.py's `openai_error_body` (every 4xx/5xx is OpenAI's
error body) and `reaches_the_engine` (every model route answered 2xx at least once). A transport
error (a dropped connection, a read timeout) is an error of the run and fails it; nothing is
retried.

Cost: NIMBUS_FUZZ_CASES (default 300) test cases per operation in the fuzzing phase, seeded by
NIMBUS_FUZZ_SEED (default fixed, so CI is reproducible; `make fuzz` runs 2000 with a random one).
Generation stays short: the server caps output at 16 tokens (NIM_MAX_OUTPUT_LENGTH; a larger
max_tokens is a 400), prompts at 511 tokens (NIM_MAX_MODEL_LEN) and a request's KV cache at
~1000 tokens (NIM_KV_CACHE_SIZE; a larger n x max_tokens is a 400).
"""
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import start_server, stop_server

HERE = Path(__file__).resolve().parent
CASES = int(os.environ.get("NIMBUS_FUZZ_CASES", "300"))
SEED = int(os.environ.get("NIMBUS_FUZZ_SEED", "20261204"))
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
          "response_headers_conformance", "negative_data_rejection", "openai_error_body", "reaches_the_engine"]
# Invalid data must be refused as invalid (400), as naming something not served (404: a model or
# adapter), or as too large (413); never served (2xx) nor failed (5xx).
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "413"]
"""


@pytest.fixture(scope="module")
def base():
    proc, url, log = start_server("e2e-fuzz.log", NIM_MAX_MODEL_LEN="512", NIM_MAX_OUTPUT_LENGTH="16",
                                  NIM_KV_CACHE_SIZE="24MiB", NIMBUS_ALLOW_RUNTIME_LORA_UPDATING="true")
    yield url
    assert proc.poll() is None, "nimbus exited during the fuzzing; see e2e-fuzz.log"
    stop_server(proc, log)


def served_models(base):
    """Path -> served names that can answer it, from GET /v1/models."""
    cards = requests.get(base + "/v1/models", timeout=30).json()["data"]

    def having(capability):
        names = [c["id"] for c in cards if capability in c.get("capabilities", [])]
        assert names, f"no served model has capability {capability}"
        return names

    return {"/v1/chat/completions": having("chat"), "/v1/completions": having("completions"),
            "/v1/embeddings": having("embeddings"), "/v1/ranking": having("ranking"), "/v1/rerank": having("ranking")}


def scenarios(ndjson):
    """(phase, operation) -> [cases, Counter of status codes] from the NDJSON event log."""
    out = collections.defaultdict(lambda: [0, collections.Counter()])
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished or not finished["recorder"].get("cases"):
            continue
        recorder = finished["recorder"]
        entry = out[(finished["phase"], recorder["label"])]
        entry[0] += len(recorder["cases"])
        for interaction in recorder.get("interactions", {}).values():
            entry[1][(interaction.get("response") or {}).get("status_code", "no response")] += 1
    return out


def test_schemathesis_finds_nothing(base):
    r = requests.get(base + "/openapi.json", timeout=30)
    assert r.status_code == 200, r.text[:500]
    fuzz(base, base + "/openapi.json", r.json())


def fuzz(base, location, document):
    """Runs `st run` on the document at `location` against the server at `base`; asserts it found nothing."""
    operations = {f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        (work / "schemathesis.toml").write_text(CONFIG)
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(work / "schemathesis.toml"), "--no-color",
                   "run", location, "--url", base,
                   "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all",
                   "--max-examples", str(CASES), "--seed", str(SEED),
                   "--checks", ",".join(CHECKS), "--continue-on-failure",
                   # One worker: the server batches anyway, the host has 2 cores, and Python 3.11.7's
                   # ast.parse is not thread-safe (Hypothesis calls it; cpython gh-106905).
                   "--workers", "1",
                   "--request-timeout", "120", "--request-retries", "0",
                   "--generation-database", "none",
                   "--report", "json,ndjson", "--report-dir", str(work / "report")]
        env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HERE / "fuzz_hooks.py"), NIMBUS_FUZZ_MODELS=json.dumps(served_models(base)))
        started = time.monotonic()
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, cwd=work)
        elapsed = time.monotonic() - started
        output = result.stdout + result.stderr
        reports = {p.suffix: p for p in (work / "report").glob("*")}
        assert ".json" in reports and ".ndjson" in reports, f"schemathesis wrote no report (exit {result.returncode}):\n{output[-6000:]}"
        report = json.loads(reports[".json"].read_text())
        per_scenario = scenarios(reports[".ndjson"])

    cases = report["test_cases"]
    print(f"\nschemathesis {report['schemathesis_version']}, seed {SEED}, up to {CASES} cases per operation, "
          f"{elapsed:.0f} s: {cases['generated']} cases, {cases['with_failures']} with failures "
          f"({cases['unique_failures']} unique), {cases['errored']} errored")
    for (phase, label), (n, statuses) in sorted(per_scenario.items()):
        print(f"  {phase:9} {label:32} {n:5} cases  {dict(sorted(statuses.items(), key=str))}")
    print("  phases: " + ", ".join(f"{name} {p['status']}" + (f" ({p['skip_reason']})" if p["skip_reason"] else "")
                                   for name, p in report["phases"].items()))
    print("  warnings: " + json.dumps({k: v for k, v in report["warnings"].items() if v}))

    failures = [f"{f['code']} {f['title']}: {f['count']} on {', '.join(f['operations'])}" for f in report["failures"]]
    errors = [f"{e['title']}: {e['count']}" for e in report["errors"]]
    marks = [output.find(mark) for mark in ("=== ERRORS", "=== FAILURES") if mark in output]
    detail = output[min(marks):] if marks else output
    assert not failures and not errors and cases["errored"] == 0 and result.returncode == 0, \
        f"failures: {failures}; errors: {errors} (reproduce with NIMBUS_FUZZ_SEED={SEED} NIMBUS_FUZZ_CASES={CASES}; " \
        f"each failure below has a curl command)\n{detail[:30000]}"

    # Nothing passed by not running: every operation and phase ran, with the cases asked for.
    assert report["complete"] and report["stop_reason"] == "completed", report["stop_reason"]
    # Schemathesis leaves out the operation that serves the document it loaded (GET /openapi.json,
    # checked by test_openapi.py instead); every other one must have run in every phase.
    fuzzed = operations - {"GET /openapi.json"}
    assert report["operations"]["tested"] == report["operations"]["total"] == len(fuzzed), report["operations"]
    phases = report["phases"]
    assert all(phases[name]["status"] == "success" for name in ("examples", "coverage", "fuzzing", "stateful")), phases
    for operation in fuzzed:
        assert ("coverage", operation) in per_scenario and ("fuzzing", operation) in per_scenario, operation
    for path, item in document["paths"].items():
        if "post" in item:  # every request body has an example, sent in the examples phase
            assert ("examples", f"POST {path}") in per_scenario, f"POST {path}: no example sent"
    # The stateful phase followed the document's links through real responses.
    n, statuses = per_scenario[("stateful", "Stateful tests")]
    assert n > 0 and any(200 <= s < 300 for s in statuses if isinstance(s, int)), (n, statuses)
    for path, item in document["paths"].items():
        if "post" in item:
            n, statuses = per_scenario[("fuzzing", f"POST {path}")]
            assert n >= CASES // 2, f"POST {path}: only {n} fuzzing cases of {CASES}"
