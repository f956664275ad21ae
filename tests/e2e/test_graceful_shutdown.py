"""SIGTERM drains the server: readiness turns 503 at once, new requests get 503, every stream
in flight finishes whole, and the process exits 0; past the grace period streams are cut and the
process still exits 0."""
import json
import signal
import threading
import time

import requests

import server_util
from conftest import SERVED_NAME


class Stream(threading.Thread):
    """One streamed completion, read to its end; records its chunks and how it ended."""

    def __init__(self, base, max_tokens):
        super().__init__(daemon=True)
        self.base, self.max_tokens = base, max_tokens
        self.started = threading.Event()
        self.chunks, self.completion_tokens, self.finish_reason, self.done, self.error = 0, None, None, False, None

    def run(self):
        # Without speculation, so max_tokens is also the number of steps: prompt lookup could
        # accept most of a counting answer at once and end it before the test is ready for it.
        body = {"model": SERVED_NAME, "prompt": "Count slowly:", "max_tokens": self.max_tokens, "stream": True,
                "temperature": 0, "ignore_eos": True, "speculative": False, "stream_options": {"include_usage": True}}
        try:
            with requests.post(self.base + "/v1/completions", json=body, stream=True, timeout=300) as r:
                assert r.status_code == 200, r.text
                for line in r.iter_lines():
                    if not line.startswith(b"data: "):
                        continue
                    payload = line[len(b"data: "):]
                    if payload == b"[DONE]":
                        self.done = True
                        continue
                    chunk = json.loads(payload)
                    if chunk.get("usage"):
                        self.completion_tokens = chunk["usage"]["completion_tokens"]
                    for choice in chunk["choices"]:
                        self.finish_reason = choice.get("finish_reason") or self.finish_reason
                    self.chunks += 1
                    self.started.set()
        except Exception as e:  # a cut stream ends here; the test reads it from `error`
            self.error = e
        finally:
            self.started.set()


def start_streams(base, count, max_tokens):
    streams = [Stream(base, max_tokens) for _ in range(count)]
    for s in streams:
        s.start()
    for s in streams:
        assert s.started.wait(120), "a stream never produced its first token"
    return streams


def test_sigterm_drains_in_flight_streams(tmp_path):
    proc, base, log = server_util.start(str(tmp_path / "drain.log"), NIM_SHUTDOWN_GRACE_SECONDS="120")
    try:
        streams = start_streams(base, 4, max_tokens=400)
        assert all(s.error is None and not s.done for s in streams), "streams ended before SIGTERM"
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        while True:
            asked = time.monotonic() - sent
            r = requests.get(base + "/v1/health/ready", timeout=5)
            if r.status_code == 503:
                break
            # "At once": the flip itself is immediate; the bound leaves room for a busy 2-core CI machine.
            assert asked < 1.0, f"readiness still 200 when asked {asked * 1000:.0f} ms after SIGTERM"
            time.sleep(0.005)
        assert requests.get(base + "/v1/health/live", timeout=5).status_code == 200
        r = requests.post(base + "/v1/completions", json={"model": SERVED_NAME, "prompt": "Hi", "max_tokens": 2},
                          timeout=10)
        assert r.status_code == 503
        assert r.headers.get("Connection", "").lower() == "close" and r.headers.get("Retry-After") == "1"
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["code"] == "service_unavailable"
        assert proc.poll() is None, "the server exited while streams were running"
        for s in streams:
            s.join(180)
        for s in streams:
            assert s.error is None, f"a stream was cut: {s.error!r}"
            assert s.done and s.finish_reason == "length" and s.completion_tokens == 400, \
                (s.done, s.finish_reason, s.completion_tokens)
        assert proc.wait(timeout=30) == 0
    finally:
        server_util.stop(proc, log)


def test_streams_past_the_grace_period_are_cut_and_the_process_exits(tmp_path):
    proc, base, log = server_util.start(str(tmp_path / "cut.log"), NIM_SHUTDOWN_GRACE_SECONDS="1",
                                        NIM_MAX_MODEL_LEN="8192")
    try:
        # Far more tokens than this machine generates in the grace period.
        streams = start_streams(base, 2, max_tokens=4000)
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        assert proc.wait(timeout=30) == 0
        elapsed = time.monotonic() - sent
        assert 1.0 <= elapsed < 20, elapsed
        for s in streams:
            s.join(10)
            assert not s.done and s.completion_tokens is None and s.chunks < 4000, "a stream finished although it should have been cut"
    finally:
        server_util.stop(proc, log)
    with open(tmp_path / "cut.log") as f:
        assert "grace period over" in f.read()
