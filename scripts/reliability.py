"""What the reliability tools share: scripts/soak.py, scripts/bench_overload.py and the end-to-end
tests of soak, overload and disconnects (tests/e2e/test_soak.py, test_overload.py,
test_disconnects.py), which import this file.

Standard library only. Every request goes over its own connection (http.client's response reader
on a plain socket), so that what happened to it is unambiguous: a status line, a body read to its
framed end, or a connection that was dropped before that.
"""
import http.client
import json
import math
import os
import re
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# -- the server process, from /proc ----------------------------------------------------------------


def process_sample(pid):
    """RSS (MiB, VmRSS), open file descriptors and threads of a live process."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return {"rss_mib": int(fields["VmRSS"].split()[0]) / 1024, "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "threads": int(fields["Threads"])}


def settled_sample(pid, timeout=10.0, interval=0.25):
    """A process sample once the fd and thread counts stop moving (the server closes its side of a
    connection after the client has gone): two equal readings in a row, or the last after
    `timeout`."""
    deadline = time.time() + timeout
    last = process_sample(pid)
    while time.time() < deadline:
        time.sleep(interval)
        now = process_sample(pid)
        if (now["fds"], now["threads"]) == (last["fds"], last["threads"]):
            return now
        last = now
    return last


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return os.path.exists(f"/proc/{pid}/status")


# -- starting a server ------------------------------------------------------------------------------

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LLM_NAME = "meta/llama-3.1-8b-instruct"
EMBEDDER_NAME = "nvidia/nv-embedqa-e5-v5"
RANKER_NAME = "nvidia/nv-rerankqa-mistral-4b-v3"
RANKER_PATH = os.path.join(REPO, "Tests/NimbusModelsTests/Fixtures/tiny-cross-encoder")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, models, names, log_path, env=None, timeout=180):
    """Starts `nimbus serve` on 127.0.0.1 and a free port serving `models` (paths) under `names`,
    with NIM_* overrides in `env`; waits for /v1/health/ready. Returns (process, base URL)."""
    port = free_port()
    full = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_MODEL_NAME=",".join(models),
                NIM_SERVED_MODEL_NAME=",".join(names), NIM_MAX_MODEL_LEN="2048", NIM_LOG_LEVEL="INFO")
    full.update(env or {})
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1"], env=full, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nimbus exited with {proc.returncode} before it was ready; see {log_path}")
        try:
            if get(base, "/v1/health/ready", timeout=2).status == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"nimbus was not ready within {timeout} s; see {log_path}")


def stop_server(proc, timeout=60):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def kv_cache_tokens_from_log(log_path):
    """kv_cache_tokens of the server log's "engine started" line, or None."""
    with open(log_path, errors="replace") as f:
        for line in f:
            if "engine started" in line:
                m = re.search(r"kv_cache_tokens=(\d+)", line)
                if m:
                    return int(m.group(1))
    return None


# -- HTTP on plain sockets ------------------------------------------------------------------------


@dataclass
class Reply:
    """How one request ended. `outcome` is one of
    ok         a 2xx whose body was read to its end (a stream through `data: [DONE]`)
    4xx, 5xx   the status class (the body is in `body`)
    dropped    the connection closed or reset before the response was whole
    unfinished a 2xx stream that ended without [DONE], or carried an error event; or a timeout
    """
    outcome: str
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    events: list = field(default_factory=list)   # parsed JSON of each SSE `data:` line but [DONE]
    ttft: float = None       # seconds from sending to the first SSE event
    latency: float = 0.0     # seconds from sending to the end
    error: str = None

    def json(self):
        return json.loads(self.body)


def _address(base):
    u = urlsplit(base)
    return u.hostname, u.port or 80


def connect(base, timeout=300):
    sock = socket.create_connection(_address(base), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_bytes(method, path, body=None, headers=None):
    head = [f"{method} {path} HTTP/1.1", "Host: nimbus", "Accept: */*"]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


def encode(payload):
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def exchange(sock, method, path, body=None, stream=False, started=None, on_event=None):
    """Sends one request on a connected socket and reads its response to the end; closes the
    socket. `started` (time.monotonic()) defaults to now; `on_event(index, event)` is called for
    each SSE event as it arrives."""
    started = time.monotonic() if started is None else started
    reply = Reply("dropped")
    try:
        sock.sendall(request_bytes(method, path, body))
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        reply.status, reply.headers = response.status, {k.lower(): v for k, v in response.getheaders()}
        is_sse = reply.headers.get("content-type", "").startswith("text/event-stream")
        if 200 <= response.status < 300 and stream and is_sse:
            done, failed = False, None
            while True:
                line = response.readline()
                if not line:
                    break
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if reply.ttft is None:
                    reply.ttft = time.monotonic() - started
                if data == b"[DONE]":
                    done = True
                    continue
                event = json.loads(data)
                if isinstance(event, dict) and "error" in event:
                    failed = event["error"]
                reply.events.append(event)
                if on_event:
                    on_event(len(reply.events) - 1, event)
            # readline() returns b"" at the end of the chunked body and also when the connection
            # closes early: http.client raises IncompleteRead for the latter in most cases, and a
            # stream cut between chunks shows as no [DONE].
            if failed is not None:
                reply.outcome, reply.error = "unfinished", f"error event: {failed}"
            elif not done:
                reply.outcome, reply.error = "unfinished", "the stream ended without data: [DONE]"
            else:
                reply.outcome = "ok"
        else:
            reply.body = response.read()
            reply.outcome = "ok" if 200 <= response.status < 300 else "5xx" if response.status >= 500 else "4xx"
            if reply.outcome == "ok" and stream:
                reply.outcome, reply.error = "unfinished", f"a stream answered with {reply.headers.get('content-type')}"
    except socket.timeout as e:
        reply.outcome, reply.error = ("unfinished" if reply.status else "dropped"), f"timeout: {e}"
    except (http.client.HTTPException, ConnectionError, OSError) as e:
        # A truncated body (IncompleteRead) or a reset after the status line: the response was
        # not whole; before it, nothing came at all. Both are dropped connections.
        reply.outcome, reply.error = "dropped", f"{type(e).__name__}: {e}"
    finally:
        reply.latency = time.monotonic() - started
        sock.close()
    return reply


def call(base, method, path, payload=None, stream=False, timeout=300, on_event=None):
    """One request over a fresh connection (see `exchange`); a refused connection is `dropped`."""
    started = time.monotonic()
    try:
        sock = connect(base, timeout)
    except OSError as e:
        return Reply("dropped", error=f"connect: {e}", latency=time.monotonic() - started)
    return exchange(sock, method, path, None if payload is None else encode(payload), stream, started, on_event)


def get(base, path, timeout=30):
    return call(base, "GET", path, timeout=timeout)


def post(base, path, payload, stream=False, timeout=300, on_event=None):
    return call(base, "POST", path, payload, stream=stream, timeout=timeout, on_event=on_event)


def hang_up(sock, reset):
    """Closes a socket abruptly: with `reset`, SO_LINGER 0 makes close() send RST instead of FIN."""
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def open_and_hang_up(base, path, payload, until=b"data:", reset=False, timeout=120):
    """Starts a streaming request, reads until `until` appears in the bytes received (b"data:":
    the first event; b"" or a short prefix: the first bytes), then hangs up (RST with `reset`).
    Returns (status code or 0, seconds, error or None)."""
    started = time.monotonic()
    sock = connect(base, timeout)
    try:
        sock.sendall(request_bytes("POST", path, encode(payload)))
        received = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return _status(received), time.monotonic() - started, "closed by the server before the hang-up"
            received += chunk
            if until in received:
                break
            if received.startswith(b"HTTP/1.1 ") and not received.startswith(b"HTTP/1.1 200") and b"\r\n\r\n" in received:
                break  # a refusal: nothing to wait for
        return _status(received), time.monotonic() - started, None
    except OSError as e:
        return 0, time.monotonic() - started, f"{type(e).__name__}: {e}"
    finally:
        hang_up(sock, reset)


def _status(head):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(m.group(1)) if m else 0


def openai_error(body):
    """The `error` object of an OpenAI error body, or None when `body` is not one: exactly
    {"error": {"message": str, "type": str, "param": ..., "code": ...}}."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(parsed, dict) or set(parsed) != {"error"} or not isinstance(parsed["error"], dict):
        return None
    error = parsed["error"]
    if not {"message", "type", "param", "code"} <= set(error):
        return None
    if not isinstance(error["message"], str) or not error["message"] or not isinstance(error["type"], str):
        return None
    return error


# -- the engine's state ---------------------------------------------------------------------------


def engine_status(base):
    reply = get(base, "/v1/status")
    if reply.status != 200:
        raise RuntimeError(f"/v1/status answered {reply.status} ({reply.outcome}: {reply.error})")
    return reply.json()


def is_idle(status):
    return (status["running_sequences"] == 0 and status["waiting_requests"] == 0
            and status["kv_cache"]["used_blocks"] == 0)


def wait_idle(base, timeout=30.0):
    """Polls /v1/status until nothing runs or waits and no KV block is in use; returns the last
    status (idle unless `timeout` passed)."""
    deadline = time.time() + timeout
    status = engine_status(base)
    while not is_idle(status) and time.time() < deadline:
        time.sleep(0.05)
        status = engine_status(base)
    return status


# -- figures --------------------------------------------------------------------------------------


def percentile(values, p):
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def quantiles_ms(seconds):
    return {f"p{p}": (None if percentile(seconds, p) is None else round(percentile(seconds, p) * 1000, 1))
            for p in (50, 90, 99)}


def slope(xs, ys):
    """Least-squares slope of ys over xs (None with fewer than two distinct xs)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


# -- the KV budget ---------------------------------------------------------------------------------


def gguf_metadata(path, wanted):
    """The values of the `wanted` metadata keys of a GGUF file (a dict; missing keys absent)."""
    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    found = {}
    with open(path, "rb") as f:
        def read(fmt):
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]

        def string():
            return f.read(read("<Q")).decode("utf-8", "replace")

        def value(kind, keep):
            if kind == 8:
                return string()
            if kind == 9:
                item, count = read("<I"), read("<Q")
                if item in scalar and not keep:
                    f.seek(struct.calcsize(scalar[item]) * count, 1)
                    return None
                return [value(item, keep) for _ in range(count)]
            return read(scalar[kind])

        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        read("<I")  # version
        read("<Q")  # tensor count
        for _ in range(read("<Q")):
            key = string()
            v = value(read("<I"), key in wanted)
            if key in wanted:
                found[key] = v
    return found


def kv_bytes_per_token(gguf_path):
    """Bytes one cached token takes in Nimbus's KV cache (keys and values, fp16, every layer) for a
    GGUF language model: layers x KV heads x head size x 2 x 2 (PagedKVCache.bytesPerToken)."""
    arch = gguf_metadata(gguf_path, {"general.architecture"})["general.architecture"]
    keys = {f"{arch}.{k}" for k in ("block_count", "embedding_length", "attention.head_count",
                                    "attention.head_count_kv", "attention.key_length")}
    m = gguf_metadata(gguf_path, keys)
    layers = m[f"{arch}.block_count"]
    heads = m[f"{arch}.attention.head_count"]
    heads = max(heads) if isinstance(heads, list) else heads
    kv_heads = m.get(f"{arch}.attention.head_count_kv", heads)
    kv_heads = max(kv_heads) if isinstance(kv_heads, list) else kv_heads
    head_size = m.get(f"{arch}.attention.key_length") or m[f"{arch}.embedding_length"] // heads
    return layers * kv_heads * head_size * 2 * 2
