"""`nimbus bench` against the real `nimbus serve` started by conftest.py."""
import json
import os
import subprocess

import pytest

BINARY = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")


def bench(*args, timeout=300):
    return subprocess.run([BINARY, "bench", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("endpoint", ["chat", "completions"])
def test_sweep_report(server, model, endpoint):
    run = bench("--url", server + "/v1", "--endpoint", endpoint, "--concurrency", "1,2", "--requests", "4",
                "--input-tokens", "32", "--output-tokens", "8", "--format", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["model"] == model  # from GET /v1/models
    assert report["endpoint"] == endpoint
    assert [level["concurrency"] for level in report["levels"]] == [1, 2]
    for level in report["levels"]:
        assert (level["requests"], level["completed"], level["failed"]) == (4, 4, 0)
        assert level["first_error"] is None
        assert level["output_token_source"] == "usage"
        assert level["mean_output_tokens"] == 8  # ignore_eos: every request runs to max_tokens
        assert level["output_token_throughput"] > 0 and level["request_throughput"] > 0
        assert level["input_token_throughput"] > 0
        if endpoint == "completions":
            # 32 words of one token each; the first word, without its leading space, may be two.
            assert 32 <= level["mean_prompt_tokens"] <= 33
        for stat in ("mean", "p50", "p90", "p99"):
            assert 0 < level["ttft_ms"][stat] <= level["e2e_latency_ms"][stat]
            assert level["itl_ms"][stat] > 0 and level["tpot_ms"][stat] > 0
    assert "concurrency 2:" in run.stderr  # progress


def test_table_and_json_file(server, tmp_path):
    path = tmp_path / "report.json"
    run = bench("--url", server, "--requests", "2", "--output-tokens", "4", "--warmup", "0", "--json", str(path))
    assert run.returncode == 0, run.stderr
    assert "output tok/s" in run.stdout and "TTFT" in run.stdout
    assert json.loads(path.read_text())["levels"][0]["completed"] == 2


def test_unknown_model_fails_in_warmup_with_one_line(server):
    run = bench("--url", server, "--model", "no-such-model", "--requests", "1")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1].startswith("nimbus bench: warm-up request failed: HTTP 404")


@pytest.mark.parametrize("args, message", [
    (["--concurrency", "1,0"], "--concurrency"),
    (["--requests", "0"], "--requests"),
    (["--timeout", "0"], "--timeout"),
    (["--url", "https://example.com/v1"], "https is not supported"),
])
def test_bad_flags_give_one_line(args, message):
    run = bench(*args)  # refused before any connection is made
    assert run.returncode == 2
    assert run.stderr.startswith("nimbus bench: ") and message in run.stderr
    assert run.stderr.count("\n") == 1


def test_unreachable_server_is_one_line():
    run = bench("--url", "http://127.0.0.1:1", timeout=60)
    assert run.returncode == 1
    assert run.stderr.startswith("nimbus bench: cannot connect: http://127.0.0.1:1")
    assert run.stderr.count("\n") == 1
