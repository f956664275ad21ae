"""The request bodies of the NIM reference's examples work verbatim."""
import json

import requests

QUICK_START = {
    "model": "meta/llama-3.1-8b-instruct",
    "messages": [{"role": "user", "content": "Hello!"}],
    "max_tokens": 100,
}

# The "Request Parameters" example, with its `[...]` filled by the quick start's message.
PARAMETERS = {
    "model": "meta/llama-3.1-8b-instruct",
    "messages": [{"role": "user", "content": "Hello!"}],
    "temperature": 0.7,
    "top_p": 0.9,
    "top_k": 50,
    "max_tokens": 1024,
    "stop": ["\n\n"],
    "stream": True,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
    "n": 1,
    "seed": 42,
}

BENCHMARK = {
    "model": "meta/llama-3.1-8b-instruct",
    "messages": [{"role": "user", "content": "Hello!"}],
    "max_tokens": 50,
}


def test_quick_start_body(server):
    r = requests.post(server + "/v1/chat/completions", json=QUICK_START, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"]


def test_benchmark_body(server):
    r = requests.post(server + "/v1/chat/completions", json=BENCHMARK, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] <= 50


def test_request_parameters_body_streams(server):
    events = []
    with requests.post(server + "/v1/chat/completions", json=PARAMETERS, stream=True, timeout=120) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line:
                assert line.startswith(b"data: ")
                events.append(line[6:])
    assert events[-1] == b"[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "\n\n" not in text
    # The same seed gives the same stream again.
    again = []
    with requests.post(server + "/v1/chat/completions", json=PARAMETERS, stream=True, timeout=120) as r:
        for line in r.iter_lines():
            if line and line != b"data: [DONE]":
                c = json.loads(line[6:])
                if c["choices"]:
                    again.append(c["choices"][0]["delta"].get("content") or "")
    assert "".join(again) == text
