"""GET /v1/metrics after a known set of requests: every counter and histogram holds exactly what
those requests imply (token counts taken from the responses' `usage`), every series carries
`model_name`, and the gauges follow the engine under load. Parsed with prometheus-client."""
import json
import threading

import pytest
import requests

from conftest import EMBEDDER_NAME, SERVED_NAME, start_server, stop_server
from metrics_util import buckets, open_stream, poll, scrape, total, value

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"


@pytest.fixture(scope="module")
def base():
    proc, url, log = start_server("e2e-server-metrics.log")
    yield url
    stop_server(proc, log)


def chat(base, content, **extra):
    body = {"model": SERVED_NAME, "messages": [{"role": "user", "content": content}], "temperature": 0, **extra}
    return requests.post(base + CHAT, json=body, timeout=120)


def streamed_completion(base, prompt, max_tokens):
    """A streamed completion with usage; returns (usage, finish reasons)."""
    body = {"model": SERVED_NAME, "prompt": prompt, "max_tokens": max_tokens, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    usage, reasons = None, []
    with requests.post(base + COMPLETIONS, json=body, stream=True, timeout=120) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            event = json.loads(line[6:])
            usage = event.get("usage") or usage
            reasons += [c["finish_reason"] for c in event["choices"] if c.get("finish_reason")]
    return usage, reasons


def test_counts_match_a_known_set_of_requests(base):
    before = scrape(base)
    assert value(before, "request_success_total", finish_reason="length") == 0
    # One engine request per entry: (prompt tokens, completion tokens per choice, finish reasons).
    generations = []
    for i in range(3):
        r = chat(base, f"Count to {i + 3}.", max_tokens=4, ignore_eos=True)
        assert r.status_code == 200
        u = r.json()["usage"]
        generations.append((u["prompt_tokens"], [u["completion_tokens"]], ["length"]))
    r = chat(base, "Say hi.", max_tokens=40)
    assert r.status_code == 200
    u, choice = r.json()["usage"], r.json()["choices"][0]
    generations.append((u["prompt_tokens"], [u["completion_tokens"]], [choice["finish_reason"]]))
    r = chat(base, "Two answers, please.", max_tokens=3, ignore_eos=True, n=2)
    assert r.status_code == 200
    u = r.json()["usage"]
    assert u["completion_tokens"] == 6
    generations.append((u["prompt_tokens"], [3, 3], ["length", "length"]))
    for prompt in ["Once upon a time", "The weather today"]:
        usage, reasons = streamed_completion(base, prompt, 6)
        assert reasons == ["length"]
        generations.append((usage["prompt_tokens"], [usage["completion_tokens"]], reasons))
    assert chat(base, "x", max_tokens=0).status_code == 400
    assert requests.post(base + CHAT, json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
                         timeout=30).status_code == 404

    s = scrape(base)
    # Every series is labelled with the served model.
    assert all(labels.get("model_name") == SERVED_NAME for _, labels, _ in s)

    # HTTP level: by endpoint and status; durations for every request.
    assert value(s, "nim_request_total", endpoint=CHAT, status=200) == 5
    assert value(s, "nim_request_total", endpoint=CHAT, status=400) == 1
    assert value(s, "nim_request_total", endpoint=CHAT, status=404) == 1
    assert value(s, "nim_request_total", endpoint=COMPLETIONS, status=200) == 2
    assert value(s, "nim_request_duration_seconds_count", endpoint=CHAT) == 7
    assert value(s, "nim_request_duration_seconds_count", endpoint=COMPLETIONS) == 2

    prompt_tokens = sum(g[0] for g in generations)
    completion_tokens = sum(sum(g[1]) for g in generations)
    assert value(s, "prompt_tokens_total") == prompt_tokens
    assert value(s, "generation_tokens_total") == completion_tokens
    assert value(s, "nim_tokens_generated_total") == completion_tokens

    reasons = [reason for g in generations for reason in g[2]]
    for reason in ("stop", "length"):
        assert value(s, "request_success_total", finish_reason=reason) == reasons.count(reason)
    assert value(s, "request_success_total", finish_reason="abort") == 0

    n = len(generations)
    for histogram in ("time_to_first_token_seconds", "e2e_request_latency_seconds", "request_queue_time_seconds",
                      "request_prompt_tokens", "request_generation_tokens"):
        assert value(s, histogram + "_count") == n, histogram
        assert buckets(s, histogram)[float("inf")] == n, histogram
    assert value(s, "request_prompt_tokens_sum") == prompt_tokens
    assert value(s, "request_generation_tokens_sum") == completion_tokens
    # Each bucket holds exactly the requests at or under its bound.
    per_request = [sum(g[1]) for g in generations]
    for bound, count in buckets(s, "request_generation_tokens").items():
        assert count == sum(1 for t in per_request if t <= bound), bound
    # Inter-token time needs two tokens in some choice.
    assert value(s, "time_per_output_token_seconds_count") == sum(1 for g in generations if max(g[1]) > 1)
    # Time to first token and queue time are parts of the whole latency.
    assert 0 < value(s, "request_queue_time_seconds_sum") < value(s, "time_to_first_token_seconds_sum")
    assert value(s, "time_to_first_token_seconds_sum") < value(s, "e2e_request_latency_seconds_sum")


def test_gauges_follow_the_engine(base):
    idle = scrape(base)
    for name in ("num_requests_running", "num_requests_waiting", "nim_queue_size", "nim_request_queue_size",
                 "nim_batch_size", "kv_cache_usage_perc", "nim_kv_cache_utilization"):
        assert value(idle, name) == 0, name
    used, available = value(idle, "nim_memory_used_bytes"), value(idle, "nim_memory_total_bytes")
    assert 50 << 20 < used < available  # the 98 MB model is mapped and touched

    done = []
    threads = [threading.Thread(target=lambda i=i: done.append(streamed_completion(base, f"Story {i}:", 200)))
               for i in range(4)]
    for t in threads:
        t.start()
    busy = poll(lambda: (lambda s: s if value(s, "num_requests_running") >= 2 else None)(scrape(base)))
    assert busy, "never saw two sequences running"
    assert value(busy, "nim_batch_size") == value(busy, "num_requests_running")
    assert 0 < value(busy, "kv_cache_usage_perc") == value(busy, "nim_kv_cache_utilization") <= 1
    assert poll(lambda: value(scrape(base), "nim_tokens_per_second") > 0)
    for t in threads:
        t.join(120)
    assert len(done) == 4
    after = poll(lambda: (lambda s: s if value(s, "num_requests_running") == 0 else None)(scrape(base)))
    assert after and value(after, "nim_queue_size") == 0


def test_a_client_that_hangs_up_counts_as_abort(base):
    before = value(scrape(base), "request_success_total", finish_reason="abort")
    sock = open_stream(base, COMPLETIONS, {"model": SERVED_NAME, "prompt": "A long tale:", "max_tokens": 1500,
                                           "ignore_eos": True})
    sock.close()
    assert poll(lambda: value(scrape(base), "request_success_total", finish_reason="abort") == before + 1)


def test_requests_are_labelled_with_the_model_they_name(base):
    before = scrape(base)
    r = requests.post(base + "/v1/embeddings", json={"model": EMBEDDER_NAME, "input": ["a", "b"]}, timeout=60)
    assert r.status_code == 200
    r = requests.post(base + "/v1/embeddings", json={"model": "no-such-model", "input": ["a"]}, timeout=60)
    assert r.status_code == 404
    after = scrape(base)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert delta("nim_request_total", model_name=EMBEDDER_NAME, endpoint="/v1/embeddings", status=200) == 1
    # An unknown name never becomes a label value: the request counts under the first model.
    assert delta("nim_request_total", model_name=SERVED_NAME, endpoint="/v1/embeddings", status=404) == 1
    assert not any(labels.get("model_name") == "no-such-model" for _, labels, _ in after)
    # Engine series exist for the language model only.
    assert {labels["model_name"] for name, labels, _ in after if name == "num_requests_running"} == {SERVED_NAME}


def test_metrics_can_be_turned_off():
    proc, url, log = start_server("e2e-server-nometrics.log", NIM_ENABLE_METRICS="false")
    try:
        r = requests.get(url + "/v1/metrics", timeout=10)
        assert r.status_code == 404
        assert "NIM_ENABLE_METRICS" in r.json()["error"]["message"]
    finally:
        stop_server(proc, log)
