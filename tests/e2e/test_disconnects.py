"""1,000 clients that hang up mid-stream leave nothing behind: no KV block in use, no more open
file descriptors or threads in the server than before, nothing running or waiting, and the server
answers normally afterwards.

Each client opens a streaming chat completion on a raw socket and hangs up: after its first
event, after the response head (often while the request still waits for a place in the batch), or
right after sending; half of them with RST (SO_LINGER 0), half with a plain close. They come in
waves of 50 at once, more than NIM_MAX_NUM_SEQS, so some hang up while queued."""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

import server_util
from conftest import SERVED_NAME

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
import reliability as rl  # noqa: E402

CLIENTS, WAVE = 1000, 50
MAX_TOKENS = 32
MARGIN = 2
# (read until, reset): the first event, the response head, nothing at all.
MODES = [(b"data:", True), (b"data:", False), (b"\r\n\r\n", True), (b"\r\n\r\n", False), (None, True), (None, False)]
TOPICS = ["rain", "salt", "owls", "maps", "tea", "glass", "kites"]


@pytest.fixture(scope="module")
def served():
    proc, base, log = server_util.start("e2e-server-disconnects.log", NIM_MAX_NUM_SEQS="16")
    yield proc.pid, base
    server_util.stop(proc, log)


def body(i):
    return {"model": SERVED_NAME, "max_tokens": MAX_TOKENS, "ignore_eos": True, "stream": True, "temperature": 0.7,
            "messages": [{"role": "user", "content": f"Say something about {TOPICS[i % len(TOPICS)]}, {i}."}]}


def hang_up(base, i):
    """Client i: returns (i, status of the response head or None, error or None)."""
    until, reset = MODES[i % len(MODES)]
    if until is None:
        sock = rl.connect(base, timeout=60)
        sock.sendall(rl.request_bytes("POST", "/v1/chat/completions", rl.encode(body(i))))
        rl.hang_up(sock, reset)
        return i, None, None
    status, _, error = rl.open_and_hang_up(base, "/v1/chat/completions", body(i), until=until, reset=reset, timeout=60)
    return i, status, error


def waves(base, start, count):
    """Clients start..start+count-1 in waves of WAVE at once; returns what each saw."""
    seen = []
    with ThreadPoolExecutor(WAVE) as pool:
        for first in range(start, start + count, WAVE):
            seen += pool.map(lambda i: hang_up(base, i), range(first, min(first + WAVE, start + count)))
    return seen


def normal_answers(base):
    reply = rl.post(base, "/v1/chat/completions", {"model": SERVED_NAME, "max_tokens": 8,
                                                   "messages": [{"role": "user", "content": "Name a colour."}]})
    assert reply.status == 200, reply.body
    assert reply.json()["choices"][0]["message"]["content"]
    streamed = rl.post(base, "/v1/chat/completions", dict(body(0), max_tokens=8), stream=True)
    assert streamed.outcome == "ok", (streamed.outcome, streamed.error)
    assert any(c.get("finish_reason") == "length" for e in streamed.events for c in e["choices"])


def test_clients_that_hang_up_mid_stream_leave_nothing_behind(served):
    pid, base = served
    # One wave first, so that whatever the server sets up lazily (threads, buffers) exists before
    # the baseline.
    waves(base, 0, WAVE)
    normal_answers(base)
    assert rl.is_idle(rl.wait_idle(base))
    before = rl.settled_sample(pid)
    tokens_before = rl.engine_status(base)["generated_tokens"]

    seen = waves(base, WAVE, CLIENTS)
    # Every client that waited for bytes got the 200 head (and, if it waited for it, an event)
    # before it hung up: nothing was refused or cut by the server.
    assert len(seen) == CLIENTS
    problems = [(i, s, e) for i, s, e in seen if MODES[i % len(MODES)][0] is not None and (s != 200 or e)]
    assert not problems, problems[:5]

    status = rl.wait_idle(base, timeout=60)
    assert status["kv_cache"]["used_blocks"] == 0, status["kv_cache"]
    assert (status["running_sequences"], status["waiting_requests"]) == (0, 0)
    after = rl.settled_sample(pid, timeout=20)
    # A leak per connection would show in hundreds; the margin absorbs a runtime thread (and its
    # descriptor) that comes and goes with idle time.
    assert after["fds"] <= before["fds"] + MARGIN, (before, after)
    assert after["threads"] <= before["threads"] + MARGIN, (before, after)
    # The server stopped generating for the clients that left: far fewer tokens than the
    # 1,000 x MAX_TOKENS they asked for.
    generated = status["generated_tokens"] - tokens_before
    print(f"before: {before}; after {CLIENTS} hang-ups: {after}; {generated} tokens generated for them")
    assert generated < CLIENTS * MAX_TOKENS / 2, generated
    normal_answers(base)
    assert rl.get(base, "/v1/health/ready").status == 200
