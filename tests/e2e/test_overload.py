"""Overload: a burst of at most NIM_MAX_NUM_SEQS + NIM_MAX_QUEUE_SIZE requests is admitted in
full; beyond that, requests get 429 with Retry-After and OpenAI's error body. Every admitted
request completes, and afterwards no KV block is in use."""
import os
import sys
import threading
import time

import pytest

import server_util
from conftest import SERVED_NAME

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
import reliability as rl  # noqa: E402

SEQS, QUEUE = 4, 4
CAPACITY = SEQS + QUEUE
# Long enough that no stream of a burst ends before its last request is sent (checked below): 64
# tokens take several hundred milliseconds even on a fast machine, the sends a few.
MAX_TOKENS = 64


@pytest.fixture(scope="module")
def base():
    proc, url, log = server_util.start("e2e-server-overload.log", NIM_MAX_NUM_SEQS=str(SEQS), NIM_MAX_QUEUE_SIZE=str(QUEUE))
    yield url
    server_util.stop(proc, log)


def burst(base, size, streaming=lambda i: True):
    """`size` requests sent at once, chat completions and completions in turn: every connection is
    opened first, then a barrier releases the sends together. Returns [(seconds at the send, Reply,
    stream?, path)] in request order."""
    barrier = threading.Barrier(size)
    results = [None] * size

    def one(i):
        stream = streaming(i)
        prompt = f"Request {i} of a burst: count from one to a hundred."
        body = {"model": SERVED_NAME, "max_tokens": MAX_TOKENS, "temperature": 0, "ignore_eos": True, "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if i % 2:
            path, body["messages"] = "/v1/chat/completions", [{"role": "user", "content": prompt}]
        else:
            path, body["prompt"] = "/v1/completions", prompt
        sock = rl.connect(base, timeout=300)
        barrier.wait()
        sent = time.monotonic()
        results[i] = (sent, rl.exchange(sock, "POST", path, rl.encode(body), stream=stream, started=sent), stream, path)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert all(r is not None for r in results), "a request of the burst never returned"
    return results


def completion_tokens(reply, stream):
    if stream:
        usage = [e["usage"] for e in reply.events if e.get("usage")]
        return usage[-1]["completion_tokens"] if usage else None
    return reply.json()["usage"]["completion_tokens"]


def check_admitted(results):
    """Every 200 completed whole with all its tokens; returns how many there were."""
    admitted = [(r, stream, path) for _, r, stream, path in results if r.status == 200]
    for reply, stream, path in admitted:
        assert reply.outcome == "ok", (path, "stream" if stream else "not streamed", reply.outcome, reply.error)
        assert completion_tokens(reply, stream) == MAX_TOKENS
    return len(admitted)


def check_refused(results):
    """Everything not admitted is 429 with Retry-After and OpenAI's error body; returns the count."""
    refused = [r for _, r, _, _ in results if r.status != 200]
    for reply in refused:
        assert reply.status == 429, (reply.status, reply.outcome, reply.error, reply.body[:300])
        retry_after = reply.headers.get("retry-after", "")
        assert retry_after.isdigit(), f"Retry-After {retry_after!r}"
        error = rl.openai_error(reply.body)
        assert error is not None, reply.body
        assert error["type"] == "rate_limit_exceeded" and error["code"] == "rate_limit_exceeded", error
    return len(refused)


def arrived_before_any_finished(results):
    """Whether every request was sent before the first admitted one ended (the premise of a
    burst: nothing could have made room for a late arrival)."""
    last_sent = max(sent for sent, _, _, _ in results)
    first_done = min((sent + r.latency for sent, r, _, _ in results if r.status == 200 and r.outcome == "ok"),
                     default=float("inf"))
    return last_sent < first_done, round(first_done - last_sent, 3)


def check_idle(base):
    status = rl.wait_idle(base, timeout=30)
    assert status["kv_cache"]["used_blocks"] == 0, status["kv_cache"]
    assert (status["running_sequences"], status["waiting_requests"]) == (0, 0)


def test_burst_of_capacity_is_admitted_in_full(base):
    check_idle(base)
    results = burst(base, CAPACITY)
    assert [r.status for _, r, _, _ in results] == [200] * CAPACITY, [(r.status, r.body[:200]) for _, r, _, _ in results]
    assert check_admitted(results) == CAPACITY
    # Meaningful only if all of it was there at once: no stream ended before the last send.
    premise, margin = arrived_before_any_finished(results)
    print(f"burst of {CAPACITY}: the first stream ended {margin} s after the last send")
    assert premise, f"a stream ended {-margin} s before the last request of the burst was sent"
    check_idle(base)


def test_burst_beyond_capacity_refuses_the_rest_with_429(base):
    check_idle(base)
    size = 20
    # Streaming and not, on both routes: a refusal is the same 429 in every case (a stream is
    # refused before its 200 head, never with an error event inside a 200 stream).
    results = burst(base, size, streaming=lambda i: i % 4 < 2)
    admitted, refused = check_admitted(results), check_refused(results)
    assert admitted + refused == size
    premise, margin = arrived_before_any_finished(results)
    print(f"burst of {size}: {admitted} admitted, {refused} refused; the first stream ended {margin} s after the last send")
    if premise:
        assert admitted == CAPACITY, f"{admitted} admitted of a burst of {size} (NIM_MAX_NUM_SEQS + NIM_MAX_QUEUE_SIZE = {CAPACITY})"
    else:
        # A stream ended before the last send (a very slow client machine): that request may
        # legitimately have taken the freed place, but never fewer than the capacity are admitted.
        assert CAPACITY <= admitted < size, admitted
    check_idle(base)
    # The server serves normally after the overload.
    reply = rl.post(base, "/v1/chat/completions", {"model": SERVED_NAME, "max_tokens": 4,
                                                   "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status == 200 and reply.json()["choices"][0]["message"]["content"] is not None
