"""Reading /v1/metrics with prometheus-client's own parser (an implementation independent of
swift-prometheus), and small helpers the observability tests share."""
import json
import socket
import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def scrape(base):
    """Every sample of /v1/metrics as a list of (name, labels dict, value)."""
    response = requests.get(base + "/v1/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [(s.name, dict(s.labels), s.value)
            for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples, name, **labels):
    """The value of the one sample named `name` whose labels include `labels` (0 if none)."""
    found = [v for n, l, v in samples if n == name and all(l.get(k) == str(w) for k, w in labels.items())]
    assert len(found) <= 1, f"{name} {labels} matches {len(found)} series"
    return found[0] if found else 0


def total(samples, name, **labels):
    """Sum over every series named `name` whose labels include `labels`."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == str(w) for k, w in labels.items()))


def buckets(samples, name, **labels):
    """{upper bound: cumulative count} of a histogram."""
    return {float(l["le"]): v for n, l, v in samples
            if n == name + "_bucket" and all(l.get(k) == str(w) for k, w in labels.items())}


def poll(predicate, timeout=20.0, interval=0.05):
    """Calls `predicate` until it returns something truthy; returns that, or the last value."""
    deadline = time.time() + timeout
    result = predicate()
    while not result and time.time() < deadline:
        time.sleep(interval)
        result = predicate()
    return result


def open_stream(base, path, body):
    """Starts a streaming request on a raw socket and returns the socket once the response head
    and first event have arrived (so the request is running), for tests that hang up early."""
    host, port = base.replace("http://", "").split(":")
    data = json.dumps(dict(body, stream=True)).encode()
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    received = b""
    while b"data:" not in received:
        chunk = sock.recv(4096)
        assert chunk, "server closed the stream before its first event"
        received += chunk
    return sock
