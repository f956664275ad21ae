"""Continuous batching through HTTP: concurrent clients get what they would get alone, a client
that hangs up frees its KV blocks, shared prefixes are reused, and a full queue answers 429."""
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import requests

from conftest import SERVED_NAME, start_server, stop_server


def status(base):
    return requests.get(base + "/v1/status", timeout=10).json()


def wait_idle(base, timeout=30.0):
    """Polls /v1/status until nothing runs or waits and no KV block is held."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = status(base)
        if s["running_sequences"] == 0 and s["waiting_requests"] == 0 and s["kv_cache"]["used_blocks"] == 0:
            return s
        time.sleep(0.02)
    return status(base)


def stream_text(client, model, prompt, **kw):
    stream = client.completions.create(model=model, prompt=prompt, stream=True, **kw)
    return "".join(c.choices[0].text for c in stream if c.choices)


def test_concurrent_streams_match_each_alone(client, model, server):
    prompts = [f"Question {i}: what is {i} times {i + 3}? Answer:" for i in range(8)]
    eos = {"ignore_eos": True}
    settings = [dict(max_tokens=24, temperature=0, extra_body=eos), dict(max_tokens=24, temperature=0.8, seed=11, extra_body=eos)]
    alone = [[stream_text(client, model, p, **s) for s in settings] for p in prompts]
    with ThreadPoolExecutor(16) as pool:
        futures = [[pool.submit(stream_text, client, model, p, **s) for s in settings] for p in prompts]
        together = [[f.result() for f in row] for row in futures]
    assert together == alone
    assert all(len(t) > 0 for row in alone for t in row)
    wait_idle(server)


def raw_request(base, body):
    host, port = base.replace("http://", "").split(":")
    data = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    return sock


@pytest.mark.parametrize("stream", [True, False])
def test_client_that_hangs_up_frees_its_blocks(server, stream):
    wait_idle(server)
    # Without speculation, so 1500 tokens take 1500 steps (prompt lookup could accept most of a
    # repetitive answer at once) and the request is surely still running when it is looked at.
    sock = raw_request(server, {"model": SERVED_NAME, "prompt": "Tell me a long story.", "max_tokens": 1500,
                                "ignore_eos": True, "stream": stream, "speculative": False})
    deadline = time.time() + 30
    while status(server)["generated_tokens"] == 0 or status(server)["running_sequences"] == 0:
        assert time.time() < deadline, "the request never started"
        time.sleep(0.02)
    if stream:
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    held = status(server)
    assert held["running_sequences"] == 1 and held["kv_cache"]["used_blocks"] > 0
    sock.close()
    after = wait_idle(server)
    assert after["running_sequences"] == 0
    assert after["kv_cache"]["used_blocks"] == 0
    # Far fewer than the 1500 tokens asked for were generated: the request really stopped.
    assert after["generated_tokens"] - held["generated_tokens"] < 500


def test_shared_system_prompt_is_prefilled_once(client, model, server):
    system = "You are a meticulous assistant. " * 12
    before = status(server)["prefix_cache_hit_tokens"]
    for question in ["Name a colour.", "Name a fruit."]:
        client.chat.completions.create(model=model, max_tokens=4, temperature=0,
                                       messages=[{"role": "system", "content": system},
                                                 {"role": "user", "content": question}])
    hits = status(server)["prefix_cache_hit_tokens"] - before
    # The second request reuses every full 16-token block of the shared system prompt (~70 tokens).
    assert hits >= 64


@pytest.fixture(scope="module")
def tiny_queue_server():
    proc, base, log = start_server("e2e-server-queue.log", NIM_MAX_NUM_SEQS="1", NIM_MAX_QUEUE_SIZE="1")
    yield base
    stop_server(proc, log)


def test_full_queue_answers_429_and_loses_nothing(tiny_queue_server):
    base = tiny_queue_server
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120)
    results = {}

    def run(name, tokens):
        r = client.completions.create(model=SERVED_NAME, prompt=f"{name}:", max_tokens=tokens,
                                      extra_body={"ignore_eos": True, "speculative": False})
        results[name] = r.usage.completion_tokens

    # Long and without speculation (1000 steps), so a loaded host cannot let it end before the
    # queue is shown full; each wait below fails with what it saw rather than hanging.
    running = threading.Thread(target=run, args=("running", 1000))
    running.start()
    deadline = time.time() + 30
    while status(base)["running_sequences"] == 0:
        assert time.time() < deadline and "running" not in results, "the long request was never seen running"
        time.sleep(0.01)
    waiting = threading.Thread(target=run, args=("waiting", 5))
    waiting.start()
    while status(base)["waiting_requests"] == 0:
        assert time.time() < deadline and "running" not in results, f"the second request was never seen waiting: {results}"
        time.sleep(0.01)
    r = requests.post(base + "/v1/completions", json={"model": SERVED_NAME, "prompt": "x", "max_tokens": 2}, timeout=30)
    assert r.status_code == 429
    assert r.headers.get("Retry-After")
    error = r.json()["error"]
    assert error["type"] == "rate_limit_exceeded" and "NIM_MAX_QUEUE_SIZE" in error["message"]
    with pytest.raises(openai.RateLimitError):
        client.completions.create(model=SERVED_NAME, prompt="y", max_tokens=2)
    running.join(60)
    waiting.join(60)
    assert results == {"running": 1000, "waiting": 5}
