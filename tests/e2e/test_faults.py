"""Faults the server and the model-cache commands must survive (issue 17, the reliability
contract): a port already taken, log forging through request ids, model names and bodies, the
served model file truncated or replaced on disk, and downloads or store copies cut short by a
full disk or kill -9."""
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

import server_util
from conftest import SERVED_NAME
from store_util import FileServer, fake_gguf

BINARY = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")
SIZE = 3 << 20
# A start-up or access log line of the text format: `2026-01-31T12:00:00+0000 info nimbus: ...`.
TEXT_RECORD = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d{4}|Z) "
                         rb"(trace|debug|info|notice|warning|error|critical) \S+: ")
ROUTINE_RECORD = re.compile(rb"^\S+ (trace|debug|info|notice|warning) \S+: ")
CRASH_WORDS = ("Fatal error", "Stack dump", "Backtrace", "backtrace", "Current stack trace", "SIGSEGV", "SIGBUS")


def nimbus(*args, env=None, **kwargs):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})), **kwargs)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def died(proc):
    """How a server process ended, for assertion messages."""
    code = proc.poll()
    if code is None:
        return "still running"
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"


# --- a. The port is taken ------------------------------------------------------------------------

def test_port_in_use_is_one_line_and_status_2(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        env = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_MODEL_NAME=os.environ["NIMBUS_MODEL_PATH"],
                   NIM_SERVED_MODEL_NAME=SERVED_NAME, NIM_MAX_MODEL_LEN="2048", NIM_LOG_LEVEL="INFO")
        started = time.monotonic()
        done = subprocess.run([BINARY, "serve", "--host", "127.0.0.1"], env=env, capture_output=True, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 2, f"exit status {done.returncode}; stderr:\n{stderr}"
    # Start-up lines (info, or a warning such as an ignored variable) may come first; the failure
    # itself is one line, no dump.
    problems = [line for line in done.stderr.splitlines() if line.strip() and not ROUTINE_RECORD.match(line)]
    assert len(problems) == 1, f"expected one error line, got {len(problems)}:\n{stderr}"
    line = problems[0].decode(errors="replace")
    assert str(port) in line and "in use" in line.lower(), line
    assert not any(word in stderr for word in CRASH_WORDS), stderr
    assert elapsed < 60, f"took {elapsed:.1f} s to give up"


# --- b. Log forging ------------------------------------------------------------------------------

FORGED_TEXT = "2026-01-01T00:00:00+0000 error nimbus: forged=1 [NimbusServer] FORGED-RECORD"
FORGED_JSON = '{"timestamp":"2026-01-01T00:00:00Z","level":"ERROR","logger":"nimbus","message":"FORGED-RECORD","forged":"1"}'
# Raw header values: C0 controls, DEL, a bare CR, obs-fold, and Unicode line breaks (NEL, U+2028).
HEADER_VALUES = [b"id\x1b[31mred", b"id\x00nul", b"id\x07bell", b"id\x7fdel", b"id\rFORGED-RECORD",
                 b"id\x0bvt", b"id\x0cff", b"id\tforged=1", b"id forged=1 status=500",
                 b"id\r\n FORGED-RECORD", b"id\nFORGED-RECORD: 1", b"id\xc2\x85FORGED-RECORD",
                 b"id\xe2\x80\xa8FORGED-RECORD", b"id\x85FORGED-RECORD"]
BAD_BYTES = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")


@pytest.fixture(scope="module", params=["text", "json"])
def logged(request, tmp_path_factory):
    """A server logging at DEBUG (so request bodies are logged too) in each log format."""
    log_path = str(tmp_path_factory.mktemp("logs") / f"forging-{request.param}.log")
    env = {"NIM_LOG_LEVEL": "DEBUG"}
    if request.param == "json":
        env["NIM_JSONL_LOGGING"] = "1"
    proc, base, log = server_util.start(log_path, **env)
    yield request.param, proc, base, log_path
    server_util.stop(proc, log)


def raw_request(base, head, body=b""):
    """Sends bytes as they are on a new connection; returns what came back (until close)."""
    host, port = base.replace("http://", "").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head + body)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


def post_head(path, body, extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))


def status_of(answer):
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else None


def log_after(log_path, offset, base, proc):
    """The log's lines written since `offset`, once a sentinel request's access line is in."""
    sentinel = f"sentinel-{time.monotonic_ns()}"
    r = requests.get(base + "/v1/models", headers={"X-Request-Id": sentinel}, timeout=30)
    assert r.status_code == 200
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(log_path, "rb") as f:
            f.seek(offset)
            data = f.read()
        if sentinel.encode() in data and data.endswith(b"\n"):
            return data[:-1].split(b"\n")
        time.sleep(0.05)
    pytest.fail(f"the sentinel request's access line never reached the log; server {died(proc)}")


def assert_one_record_per_line(fmt, lines):
    """Every line is one whole record; no raw control character or line break inside one."""
    assert lines
    for line in lines:
        if fmt == "json":
            try:
                record = json.loads(line)  # strict: raw control characters inside strings fail too
            except ValueError:
                pytest.fail(f"a log line is not one JSON object: {line!r}")
            assert isinstance(record, dict) and {"timestamp", "level", "logger", "message"} <= record.keys(), line
            assert "forged" not in record and record["message"] != "FORGED-RECORD", f"forged record: {line!r}"
            assert record["level"] not in ("ERROR", "CRITICAL"), f"an error line from a client's bytes: {line!r}"
            assert not BAD_BYTES.search(line), f"raw control or line-break character in {line!r}"
        else:
            assert TEXT_RECORD.match(line), f"a log line that is not a record of its own: {line!r}"
            assert not BAD_BYTES.search(line), f"raw control or line-break character in {line!r}"
            assert not line.startswith(b"2026-01-01T00:00:00"), f"forged record: {line!r}"
            assert b" error " not in line[:40] and b" critical " not in line[:40], f"an error line: {line!r}"


def access_records(fmt, lines, request_id):
    """The access lines of one request id (at most one expected)."""
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        return [r for r in records if r.get("request_id") == request_id and "status" in r]
    return [line for line in lines if f"request_id={request_id} ".encode() in line and b" status=" in line]


def test_control_characters_in_the_request_id_header(logged):
    fmt, proc, base, log_path = logged
    offset = os.path.getsize(log_path)
    answers = {}
    for value in HEADER_VALUES:
        body = json.dumps({"model": SERVED_NAME, "prompt": "Hi", "max_tokens": 1}).encode()
        answer = raw_request(base, post_head("/v1/completions", body, b"X-Request-Id: " + value + b"\r\n"), body)
        answers[value] = status_of(answer)
        assert proc.poll() is None, f"server {died(proc)} after X-Request-Id {value!r}"
    # The HTTP layer may refuse a value (400) or pass it; never a 5xx or no answer.
    assert all(s is not None and s < 500 for s in answers.values()), answers
    lines = log_after(log_path, offset, base, proc)
    assert_one_record_per_line(fmt, lines)
    # A forged field through a header (`X-Request-Id: id forged=1`): the id is replaced or
    # escaped, never split into fields. (JSON records are checked for a `forged` key above.)
    if fmt == "text":
        assert not any(re.search(rb"\sforged=1\b", line) for line in lines), lines


def test_control_characters_in_the_model_field(logged):
    fmt, proc, base, log_path = logged
    offset = os.path.getsize(log_path)
    names = ["m\n" + FORGED_TEXT, 'm"}\n' + FORGED_JSON, "m\r\x1b[2K" + FORGED_TEXT, "m\x00\x7f\x1b]0;title\x07",
             SERVED_NAME + "\n" + FORGED_TEXT, "m\u2028" + FORGED_TEXT, "m\u0085" + FORGED_TEXT]
    requests_sent = []
    for i, name in enumerate(names):
        for path, body in [("/v1/completions", {"model": name, "prompt": "Hi", "max_tokens": 1}),
                           ("/v1/chat/completions", {"model": name, "max_tokens": 1,
                                                     "messages": [{"role": "user", "content": "Hi"}]}),
                           ("/v1/embeddings", {"model": name, "input": "Hi"})]:
            request_id = f"forge-model-{i}{path.replace('/', '-')}"
            r = requests.post(base + path, json=body, headers={"X-Request-Id": request_id}, timeout=60)
            assert 400 <= r.status_code < 500, (name, path, r.status_code, r.text)
            assert "error" in r.json()
            requests_sent.append(request_id)
    lines = log_after(log_path, offset, base, proc)
    assert_one_record_per_line(fmt, lines)
    for request_id in requests_sent:
        found = access_records(fmt, lines, request_id)
        assert len(found) == 1, (request_id, found)
        if fmt == "json" and "model" in found[0]:
            assert found[0]["model"] in names or found[0]["model"] == SERVED_NAME, found[0]


def test_raw_control_bytes_in_a_logged_body(logged):
    """Bodies are logged at DEBUG: raw newlines (valid JSON whitespace) and raw control bytes
    (invalid JSON, logged before parsing) must come out escaped."""
    fmt, proc, base, log_path = logged
    offset = os.path.getsize(log_path)
    bodies = {
        "forge-body-whitespace": (b'{"model":\n"' + SERVED_NAME.encode() + b'",\r\n"prompt":\t"Hi",\n'
                             b'"max_tokens": 1}\n' + FORGED_TEXT.encode() + b"\n"),
        "forge-body-text": b'{"model": "m\n' + FORGED_TEXT.encode() + b'\x1b[31m\x00\r\x7f"}',
        "forge-body-json": b'{"model": "m"}\n' + FORGED_JSON.encode() + b"\n",
        "forge-body-unicode": b'{"model": "m\xe2\x80\xa8' + FORGED_TEXT.encode() + b'\xc2\x85"}',
    }
    for request_id, body in bodies.items():
        answer = raw_request(base, post_head("/v1/completions", body, f"X-Request-Id: {request_id}\r\n".encode()), body)
        status = status_of(answer)
        assert status is not None and status < 500, (request_id, answer[:300])
    lines = log_after(log_path, offset, base, proc)
    assert_one_record_per_line(fmt, lines)
    for request_id in bodies:
        assert len(access_records(fmt, lines, request_id)) == 1, request_id
    # The bodies were logged (DEBUG), each as one record: the attack reached the log.
    for request_id in bodies:
        assert any(request_id.encode() in line and b"FORGED-RECORD" in line for line in lines), request_id


# --- c. The model file changes under the server --------------------------------------------------

@pytest.fixture
def served_copy(tmp_path, request):
    """A server on a private copy of the model, after one successful generation; a test's
    `order` parameter, when it has one, sets NIMBUS_MATMUL_ORDER (ggml reads the GGUF's own
    weight bytes, blocked its interleaved copies)."""
    model = tmp_path / "model.gguf"
    shutil.copyfile(os.environ["NIMBUS_MODEL_PATH"], model)
    log_path = str(tmp_path / "served-copy.log")
    callspec = getattr(request.node, "callspec", None)
    order = callspec.params.get("order", "default") if callspec else "default"
    env = {"NIMBUS_MATMUL_ORDER": order} if order != "default" else {}
    proc, base, log = server_util.start(log_path, NIM_MODEL_NAME=str(model), **env)
    first = generate(base, "The capital of France is")
    assert first.status_code == 200, first.text
    yield model, proc, base, log_path
    server_util.stop(proc, log)


def generate(base, prompt, stream=False):
    body = {"model": SERVED_NAME, "prompt": prompt, "max_tokens": 8, "temperature": 0, "stream": stream}
    return requests.post(base + "/v1/completions", json=body, timeout=120)


def assert_keeps_serving(proc, base, log_path):
    """Several requests after the change: each succeeds or gets a clean JSON error, and the process lives."""
    prompts = ["Once upon a time", "List three colours:", "Zebras are", "def fibonacci(n):"]
    for i, prompt in enumerate(prompts):
        try:
            r = generate(base, prompt, stream=(i % 2 == 1))
        except requests.exceptions.ConnectionError as e:
            time.sleep(0.5)
            tail = open(log_path, errors="replace").read()[-1500:]
            pytest.fail(f"request {i} failed at the connection ({e.__class__.__name__}); server {died(proc)}\n{tail}")
        if r.status_code != 200:
            assert 400 <= r.status_code < 600 and "error" in r.json(), (r.status_code, r.text)
        else:
            assert r.text
    chat = requests.post(base + "/v1/chat/completions", timeout=120, json={
        "model": SERVED_NAME, "max_tokens": 4, "messages": [{"role": "user", "content": "Say hello"}]})
    assert chat.status_code == 200 or "error" in chat.json(), chat.text
    assert proc.poll() is None, f"server {died(proc)}"
    assert requests.get(base + "/v1/health/live", timeout=10).status_code == 200
    assert proc.poll() is None, f"server {died(proc)}"


@pytest.mark.parametrize("fraction, order", [(0.5, "default"), (0.0, "default"), (0.5, "ggml")],
                         ids=["half", "zero", "half-ggml-order"])
def test_model_file_truncated_while_served(served_copy, fraction, order):
    model, proc, base, log_path = served_copy
    os.truncate(model, int(os.path.getsize(model) * fraction))
    assert_keeps_serving(proc, base, log_path)


@pytest.mark.parametrize("how", ["rename", "cp"])
def test_model_file_replaced_while_served(served_copy, how):
    """A new file renamed over the served one (the old inode lives on), or copied over it the way
    `cp` does (the served inode truncated to 0, then refilled with other bytes)."""
    model, proc, base, log_path = served_copy
    replacement = model.with_name("replacement.gguf")
    replacement.write_bytes(fake_gguf(1 << 20, seed=17))
    if how == "rename":
        os.replace(replacement, model)
    else:
        shutil.copyfile(replacement, model)
    assert_keeps_serving(proc, base, log_path)


# --- d. Downloads and store copies cut short -----------------------------------------------------

def listed_names(cache):
    listed = nimbus("list-models", "--cache-path", str(cache))
    assert listed.returncode == 0, listed.stderr
    return {line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()}


def resumed_from(ranges):
    """The start offset of a `Range: bytes=N-` header, or 0 for a whole-file GET."""
    assert ranges, "no GET at all"
    first = ranges[0]
    if first is None:
        return 0
    assert first.startswith("bytes=") and first.endswith("-"), first
    return int(first[len("bytes="):-1])


def test_full_disk_during_download_then_resume(tmp_path):
    body = fake_gguf(SIZE, seed=21)
    limit = 1 << 20

    def small_disk():
        # write() past `limit` fails with EFBIG instead of raising SIGXFSZ (ignored survives exec).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with FileServer({"m.gguf": body}) as server:
        url = f"{server.url}/m.gguf"
        failed = nimbus("download-to-cache", url, "--sha256", sha256(body), "--cache-path", str(tmp_path),
                        preexec_fn=small_disk)
        assert failed.returncode > 0, (failed.returncode, failed.stderr)
        assert not any(word in failed.stderr for word in CRASH_WORDS), failed.stderr
        errors = [line for line in failed.stderr.splitlines() if line.startswith("nimbus:")]
        assert len(errors) == 1 and "m.gguf" in errors[0], failed.stderr
        # Clear: the cause in words (strerror's "File too large", or "no space"), not a Foundation dump.
        assert re.search(r"too large|no space|EFBIG", errors[0], re.IGNORECASE), errors[0]
        assert "Error Domain=" not in errors[0], errors[0]
        assert not (tmp_path / "models" / "m.gguf").exists()
        assert "m.gguf" not in listed_names(tmp_path)

        rerun_resumes(server, url, body, tmp_path, saved_at_most=limit)


def rerun_resumes(server, url, body, cache, saved_at_most):
    """A second download-to-cache resumes from the kept partial file and completes the model."""
    before = len(server.requests)
    done = nimbus("download-to-cache", url, "--sha256", sha256(body), "--cache-path", str(cache))
    assert done.returncode == 0, done.stderr
    start = resumed_from([r for (path, r) in server.requests[before:] if path == "m.gguf"])
    assert 0 < start <= saved_at_most, f"the rerun fetched from byte {start}, not from the saved part (at most {saved_at_most})"
    assert file_sha256(cache / "models" / "m.gguf") == sha256(body)
    assert "m.gguf" in listed_names(cache)


def test_kill_during_download_then_resume(tmp_path):
    body = fake_gguf(SIZE, seed=22)
    with FileServer({"m.gguf": body}, rate=512 << 10) as server:
        url = f"{server.url}/m.gguf"
        proc = subprocess.Popen([BINARY, "download-to-cache", url, "--sha256", sha256(body),
                                 "--cache-path", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while server.sent.get("m.gguf", 0) < (1 << 20) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # let it write what it has received
        assert proc.poll() is None, f"the download ended ({proc.returncode}) before it could be killed"
        proc.kill()
        proc.wait(timeout=30)
        sent = server.sent["m.gguf"]
        assert sent < SIZE, "the whole file went out before the kill"
        assert not (tmp_path / "models" / "m.gguf").exists()
        assert "m.gguf" not in listed_names(tmp_path)

        server.rate = None
        rerun_resumes(server, url, body, tmp_path, saved_at_most=sent)


def test_kill_during_create_model_store_then_rerun(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    small = source / "a.gguf"
    small.write_bytes(fake_gguf(1 << 20, seed=23))
    big = source / "b.gguf"  # sparse: cheap to make, slow enough to copy and hash to be caught mid-way
    with open(big, "wb") as f:
        f.write(b"GGUF" + b"\x03\x00\x00\x00")
        f.truncate(64 << 20)
    sources = {"a.gguf": small, "b.gguf": big}
    digests = {name: file_sha256(path) for name, path in sources.items()}
    store = tmp_path / "store"
    args = [BINARY, "create-model-store", "--model", str(small), "--model", str(big), "--model-store", str(store),
            "--cache-path", str(tmp_path / "cache")]

    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def copying_big():
        for folder, _, names in os.walk(store):
            for name in names:
                try:
                    if "b.gguf" in name and os.path.getsize(os.path.join(folder, name)) > 0:
                        return True
                except FileNotFoundError:  # renamed meanwhile
                    return True
        return False
    deadline = time.time() + 120
    while not copying_big() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.001)
    assert proc.poll() is None, f"create-model-store finished ({proc.returncode}) before it could be killed"
    proc.kill()
    proc.wait(timeout=30)

    # Whatever is there looks complete only if it is: files under their final names and the
    # manifest's entries hold the whole model.
    manifest_path = store / "manifest.json"
    entries = json.loads(manifest_path.read_text())["models"] if manifest_path.exists() else []
    for entry in entries:
        path = store / "models" / entry["name"]
        assert path.exists() and file_sha256(path) == entry["sha256"] == digests[entry["name"]], entry
    models = store / "models"
    visible = [n for n in os.listdir(models) if not n.startswith(".")] if models.exists() else []
    for name in visible:
        assert name in digests and file_sha256(models / name) == digests[name], f"half-copied {name} looks like a model"
    if store.exists():
        for name in listed_names(store):
            assert name in digests and file_sha256(models / name) == digests[name], name

    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, f"the rerun failed ({again.returncode}): {again.stderr}"
    entries = {e["name"]: e for e in json.loads(manifest_path.read_text())["models"]}
    assert set(entries) == set(digests)
    for name, digest in digests.items():
        assert entries[name]["sha256"] == digest and file_sha256(models / name) == digest
        assert entries[name]["size_bytes"] == os.path.getsize(sources[name])
    leftovers = [os.path.join(folder, n) for folder, _, names in os.walk(store) for n in names if "partial" in n]
    assert not leftovers, leftovers
    assert listed_names(store) == set(digests)
