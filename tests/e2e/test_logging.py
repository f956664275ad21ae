"""NIM_JSONL_LOGGING=1: every line the server writes is one JSON object; each request gets one
access-log line with its id, status, token counts and latency; prompt text appears only at DEBUG."""
import json

import requests

from conftest import SERVED_NAME, start_server, stop_server

MARKER = "zebra-quartz-marmalade"


def run_server_and_read_log(level, name):
    """Serves one streamed and one whole chat (the prompt holds MARKER), stops, returns the lines."""
    proc, base, log = start_server(name, NIM_JSONL_LOGGING="1", NIM_LOG_LEVEL=level)
    try:
        whole = requests.post(base + "/v1/chat/completions", timeout=120, headers={"X-Request-Id": "e2e-whole-1"},
                              json={"model": SERVED_NAME, "max_tokens": 4, "ignore_eos": True,
                                    "messages": [{"role": "user", "content": f"Repeat {MARKER}"}]})
        assert whole.status_code == 200
        assert whole.headers["X-Request-Id"] == "e2e-whole-1"
        with requests.post(base + "/v1/completions", stream=True, timeout=120, headers={"X-Request-Id": "e2e-stream-2"},
                           json={"model": SERVED_NAME, "prompt": f"{MARKER}:", "max_tokens": 3, "ignore_eos": True,
                                 "stream": True}) as streamed:
            assert streamed.headers["X-Request-Id"] == "e2e-stream-2"
            assert [line for line in streamed.iter_lines() if line][-1] == b"data: [DONE]"
        generated = requests.get(base + "/v1/health/ready", timeout=10)
        assert len(generated.headers["X-Request-Id"]) == 32  # a fresh id when the client sends none
        bad = requests.post(base + "/v1/chat/completions", json={"model": SERVED_NAME}, timeout=10)
        assert bad.status_code == 400
    finally:
        stop_server(proc, log)
    with open(name) as f:
        lines = f.read().splitlines()
    return whole.json()["usage"], lines


def test_json_lines_with_one_access_line_per_request():
    usage, lines = run_server_and_read_log("INFO", "e2e-server-jsonl.log")
    records = [json.loads(line) for line in lines]  # every line parses, or this raises
    assert records and all({"timestamp", "level", "message", "logger"} <= r.keys() for r in records)
    assert {r["level"] for r in records} <= {"INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"}
    assert any(r["message"] == "model loaded" and r["model"] == SERVED_NAME for r in records)

    def access(request_id):
        found = [r for r in records if r.get("request_id") == request_id and "status" in r]
        assert len(found) == 1, found
        return found[0]
    whole = access("e2e-whole-1")
    assert whole["message"] == "POST /v1/chat/completions 200"
    assert whole["status"] == "200" and whole["model"] == SERVED_NAME
    assert int(whole["prompt_tokens"]) == usage["prompt_tokens"]
    assert int(whole["completion_tokens"]) == usage["completion_tokens"] == 4
    assert int(whole["latency_ms"]) >= 0
    streamed = access("e2e-stream-2")
    assert streamed["path"] == "/v1/completions" and int(streamed["completion_tokens"]) == 3
    # An error is one access line too (no tokens); probes are DEBUG lines, absent at INFO.
    errors = [r for r in records if r.get("status") == "400"]
    assert len(errors) == 1 and "completion_tokens" not in errors[0]
    assert not any(r.get("path") == "/v1/health/ready" for r in records)
    # Nothing of the prompt is logged at INFO.
    assert not any(MARKER in line for line in lines)


def test_prompts_are_logged_only_at_debug():
    _, lines = run_server_and_read_log("DEBUG", "e2e-server-jsonl-debug.log")
    records = [json.loads(line) for line in lines]
    bodies = [r for r in records if r["message"] == "request body" and MARKER in r.get("body", "")]
    assert {r["request_id"] for r in bodies} == {"e2e-whole-1", "e2e-stream-2"}
    assert all(r["level"] == "DEBUG" for r in bodies)
    assert any(r.get("path") == "/v1/health/ready" and r["level"] == "DEBUG" for r in records)
