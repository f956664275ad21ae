"""The two-minute form of the soak (`make soak` runs thirty): scripts/soak.py drives a mixed load
(chat and completions, streaming and not, n = 2-3, embeddings, /v1/ranking, /v1/rerank, clients
hanging up mid-stream, bad requests) against one server holding the LLM, the embedder and the
ranker, sampling it every 10 s. Nothing may fail: no 5xx, no dropped connection, every request
finished, every 4xx with OpenAI's error body; afterwards every KV block is back, open fds are back
at their post-warm-up level, and RSS does not climb after the warm-up."""
import json
import os
import subprocess
import sys

import pytest
import requests

from conftest import start_server, stop_server

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts")
sys.path.insert(0, SCRIPTS)
import reliability as rl  # noqa: E402

MINUTES, INTERVAL, WARMUP = 2, 10, 30
# Generous: the short run's fit has nine points over 1.5 minutes. A leak of a few KiB per
# request is ~1 MiB/min here; the bound catches leaks of whole buffers or KV-sized memory.
MAX_RSS_SLOPE = 10.0
FD_MARGIN = 2


@pytest.fixture(scope="module")
def served():
    # A small KV cache, so its pages are all resident within the warm-up (see scripts/soak.py).
    proc, base, log = start_server("e2e-server-soak.log", NIM_KV_CACHE_SIZE="64MiB")
    yield proc, base
    stop_server(proc, log)


def test_two_minute_soak(served, tmp_path):
    proc, base = served
    report_path = tmp_path / "soak.json"
    run = subprocess.run([sys.executable, os.path.join(SCRIPTS, "soak.py"), "--url", base, "--pid", str(proc.pid),
                          "--minutes", str(MINUTES), "--sample-interval", str(INTERVAL), "--warmup", str(WARMUP),
                          "--workers", "4", "--max-rss-slope", str(MAX_RSS_SLOPE), "--max-fd-growth", str(FD_MARGIN),
                          "--report", str(report_path)],
                         capture_output=True, text=True, timeout=MINUTES * 60 + 300)
    print(run.stdout[-6000:])
    assert report_path.exists(), run.stderr[-3000:]
    report = json.loads(report_path.read_text())
    requests_ = report["requests"]

    # Every kind of request ran, enough times to mean something.
    kinds = requests_["by_kind"]
    assert set(kinds) == {"chat", "chat_stream", "completions_n", "completions_n_stream", "embeddings", "ranking",
                          "rerank", "cancel", "bad"}, kinds.keys()
    assert all(k["count"] >= 3 for k in kinds.values()), {name: k["count"] for name, k in kinds.items()}
    assert len(requests_["bad_cases"]) >= 5, requests_["bad_cases"]

    # No 5xx, dropped connection, unfinished stream or wrong body; every request finished.
    assert set(requests_["outcomes"]) <= {"ok", "4xx"}, (requests_["outcomes"], report["problems"])
    assert requests_["started"] == requests_["finished"] > 0
    # 4xx only where the request was bad, and always with OpenAI's error body.
    assert requests_["good_requests_4xx"] == 0, report["problems"]
    assert requests_["bad_requests_not_4xx"] == 0, report["problems"]
    assert requests_["4xx_without_error_body"] == 0, report["problems"]
    assert kinds["bad"]["outcome"] == {"4xx": kinds["bad"]["count"]}

    # After the load: every KV block is back, nothing runs or waits (asked again here).
    status = rl.wait_idle(base)
    assert status["kv_cache"]["used_blocks"] == 0, status["kv_cache"]
    assert (status["running_sequences"], status["waiting_requests"]) == (0, 0)
    # Open fds back at the post-warm-up level (measured idle, like now).
    warm = report["warm"]
    now = rl.settled_sample(proc.pid)
    assert now["fds"] <= warm["fds"] + FD_MARGIN, (warm, now)
    # RSS does not climb after the warm-up.
    assert report["rss_samples_after_warmup"] >= 6
    assert report["rss_slope_mib_per_min"] <= MAX_RSS_SLOPE, [s["rss_mib"] for s in report["samples"]]

    assert run.returncode == 0, report["problems"]
    assert requests.get(base + "/v1/health/ready", timeout=10).status_code == 200
