"""Slow and oversized clients (issue 17, the reliability contract): a request head or body that
stops arriving is cut after NIM_HTTP_READ_TIMEOUT, oversized headers are refused, and a stream
whose reader stops reading is cancelled once NIMBUS_STREAM_BACKLOG events wait undelivered,
without slowing the other streams. Every check runs while other clients are being served."""
import fcntl
import json
import re
import socket
import termios
import time

import pytest
import requests

import server_util
from conftest import SERVED_NAME
from metrics_util import poll

READ_TIMEOUT = 2  # NIM_HTTP_READ_TIMEOUT, seconds
BACKLOG = 16  # NIMBUS_STREAM_BACKLOG, undelivered events per stream
CLOSE_WITHIN = 10  # generous: the timeout plus scheduling slack on a loaded 2-core runner


def serve(tmp_path_factory, read_timeout):
    log_path = str(tmp_path_factory.mktemp("slow-clients") / "slow-clients.log")
    proc, base, log = server_util.start(log_path, NIM_HTTP_READ_TIMEOUT=str(read_timeout),
                                        NIMBUS_STREAM_BACKLOG=str(BACKLOG), NIM_MAX_MODEL_LEN="4096",
                                        NIM_JSONL_LOGGING="1")
    return proc, base, log, log_path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, base, log, log_path = serve(tmp_path_factory, READ_TIMEOUT)
    yield proc, base, log_path
    server_util.stop(proc, log)


@pytest.fixture
def stream_server(tmp_path_factory):
    """The backlog alone must end an unread stream: a read/write timeout long past the test's."""
    proc, base, log, log_path = serve(tmp_path_factory, 120)
    yield proc, base, log_path
    server_util.stop(proc, log)


def connect(base, rcvbuf=None, maxseg=None):
    host, port = base.replace("http://", "").split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if maxseg:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    sock.settimeout(30)
    sock.connect((host, int(port)))
    return sock


def wait_closed(sock, seconds):
    """Reads until the server closes the connection; returns (seconds waited, bytes received),
    or (None, bytes) when it is still open after `seconds`."""
    start = time.monotonic()
    received = b""
    while True:
        left = seconds - (time.monotonic() - start)
        if left <= 0:
            return None, received
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start, received
        if not chunk:
            return time.monotonic() - start, received
        received += chunk


def status_of(answer):
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else None


def assert_refusal_or_nothing(answer):
    """What a cut connection may carry: nothing, or a 4xx (408, 400, 431...), never a 2xx or 5xx."""
    if answer:
        status = status_of(answer)
        assert status is not None and 400 <= status < 500, answer[:300]


def assert_serving(proc, base):
    """A normal client is served while the slow ones hang on."""
    assert proc.poll() is None, f"server exited with {proc.returncode}"
    r = requests.post(base + "/v1/completions", timeout=60, json={
        "model": SERVED_NAME, "prompt": "One, two,", "max_tokens": 4, "temperature": 0})
    assert r.status_code == 200, r.text
    assert requests.get(base + "/v1/health/live", timeout=10).status_code == 200


def post_head(length, path=b"/v1/completions", extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % length)


# --- a. Slowloris --------------------------------------------------------------------------------

def test_a_partial_request_head_is_cut_after_the_read_timeout(server):
    proc, base, _ = server
    socks = [connect(base) for _ in range(3)]
    try:
        for sock in socks:
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Ty")
        sent = time.monotonic()
        assert_serving(proc, base)
        for sock in socks:
            waited, answer = wait_closed(sock, CLOSE_WITHIN - (time.monotonic() - sent))
            assert waited is not None, f"a connection with half a request head was still open after {CLOSE_WITHIN} s"
            assert_refusal_or_nothing(answer)
        # Not cut at once either: a client gets about the timeout to finish its head.
        assert time.monotonic() - sent >= READ_TIMEOUT / 2
    finally:
        for sock in socks:
            sock.close()
    assert_serving(proc, base)


def test_a_trickling_request_head_is_cut_too(server):
    """One byte a second never lets a per-read timer expire; the head as a whole must be late."""
    proc, base, _ = server
    sock = connect(base)
    try:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Pad: ")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < CLOSE_WITHIN and not closed:
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            waited, answer = wait_closed(sock, 1.0)
            if waited is not None:
                assert_refusal_or_nothing(answer)
                closed = True
        assert closed, f"a request head arriving one byte a second was still being read after {CLOSE_WITHIN} s"
        assert_serving(proc, base)
    finally:
        sock.close()


# --- b. A body that stops halfway ----------------------------------------------------------------

def test_a_stalled_body_is_cut_after_the_read_timeout(server):
    proc, base, _ = server
    body = json.dumps({"model": SERVED_NAME, "prompt": "x" * 900, "max_tokens": 1}).encode()
    sock = connect(base)
    try:
        sock.sendall(post_head(len(body)) + body[:len(body) // 2])
        sent = time.monotonic()
        assert_serving(proc, base)
        waited, answer = wait_closed(sock, CLOSE_WITHIN - (time.monotonic() - sent))
        assert waited is not None, f"a connection whose body stopped halfway was still open after {CLOSE_WITHIN} s"
        assert_refusal_or_nothing(answer)
        assert time.monotonic() - sent >= READ_TIMEOUT / 2
    finally:
        sock.close()
    assert_serving(proc, base)


# --- c. Huge headers -----------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    b"X-Big: " + b"a" * (100 << 10) + b"\r\n",
    b"".join(b"X-Header-%d: value-%d\r\n" % (i, i) for i in range(500)),
], ids=["one-100KiB-header", "500-headers"])
def test_huge_headers_are_refused(server, headers):
    proc, base, _ = server
    sock = connect(base)
    try:
        try:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while we were still sending: a refusal
        waited, answer = wait_closed(sock, 30)
        assert waited is not None, "no answer and no close within 30 s"
        status = status_of(answer)
        assert answer == b"" or (status is not None and 400 <= status < 500), \
            f"answered {status}: {answer[:200]!r} (expected 431/400 or a closed connection)"
    finally:
        sock.close()
    assert_serving(proc, base)


# --- d. A stream whose reader stops --------------------------------------------------------------

def stream_rate(base, max_tokens=150):
    """Tokens per second of one streamed completion read at full speed, first token to last."""
    body = {"model": SERVED_NAME, "prompt": "Write a long story about a lighthouse keeper.", "max_tokens": max_tokens,
            "temperature": 0, "ignore_eos": True, "stream": True, "speculative": False,
            "stream_options": {"include_usage": True}}
    first = last = tokens = None
    with requests.post(base + "/v1/completions", json=body, stream=True, timeout=300) as r:
        assert r.status_code == 200, r.text
        for line in r.iter_lines():
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[len(b"data: "):])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            if any(choice.get("text") for choice in chunk["choices"]):
                last = time.monotonic()
                first = first or last
    assert tokens == max_tokens and last > first
    return (tokens - 1) / (last - first)


def pending_bytes(sock):
    """Bytes received by the kernel and not yet read by us."""
    return int.from_bytes(fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")


# Both generation routes: chat reads its one engine stream; completions reads its prompts' streams
# through PromptStreams.merge, which must leave a single stream's backlog to the engine.
UNREAD_BODIES = {
    "/v1/chat/completions": {"logprobs": True, "top_logprobs": 20,
                             "messages": [{"role": "user", "content": "Count to three thousand."}]},
    "/v1/completions": {"logprobs": 5, "prompt": "Count to three thousand: 1, 2, 3,"},
}


@pytest.mark.parametrize("route", sorted(UNREAD_BODIES))
def test_a_stream_nobody_reads_is_cancelled_without_slowing_others(stream_server, route):
    proc, base, log_path = stream_server
    baseline = stream_rate(base)

    # A small receive buffer and small segments keep both ends' kernel buffers small, and top
    # logprobs make each event large (about 2 KB for chat's 20), so undelivered events pile up
    # in the server within a few hundred tokens. The client then reads nothing.
    body = json.dumps({"model": SERVED_NAME, "max_tokens": 3000, "ignore_eos": True, "stream": True,
                       **UNREAD_BODIES[route]}).encode()
    request_id = "e2e-unread-" + route.strip("/").replace("/", "-")
    slow = connect(base, rcvbuf=4096, maxseg=536)
    try:
        slow.sendall(post_head(len(body), route.encode(),
                               f"X-Request-Id: {request_id}\r\nConnection: close\r\n".encode()) + body)
        assert poll(lambda: pending_bytes(slow) > 0, timeout=60), "the slow stream never started"
        during = stream_rate(base)
        assert during >= 0.4 * baseline, \
            f"another stream ran at {during:.1f} tokens/s beside the stuck one, {baseline:.1f} before"

        def cancellation_logged():
            with open(log_path) as f:
                records = [json.loads(line) for line in f if line.startswith("{")]
            return [r for r in records if r.get("request_id") == request_id and "status" not in r
                    and re.search(r"backlog|slow|cancel|unread", r["message"], re.IGNORECASE)]
        logged = poll(cancellation_logged, timeout=30, interval=0.2)
        assert logged, "no log line with the stream's request_id says it was cancelled for its backlog"

        def kv_free():
            status = requests.get(base + "/v1/status", timeout=10).json()
            return status["running_sequences"] == 0 and status["kv_cache"]["used_blocks"] == 0
        assert poll(kv_free, timeout=30, interval=0.2), requests.get(base + "/v1/status", timeout=10).json()

        # Only now does the client read: the stream ends (closed), well short of its 3000 tokens.
        waited, received = wait_closed(slow, 30)
        assert waited is not None, "the cancelled stream's connection was still open"
        events = [line for line in received.split(b"\n") if line.startswith(b"data: {")]
        assert len(events) < 3000, f"{len(events)} events: the stream ran to its end"
    finally:
        slow.close()
    assert_serving(proc, base)
