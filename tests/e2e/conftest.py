"""Starts the real `nimbus serve` on the real model for the end-to-end tests.

The server binary and models come from NIMBUS_BIN, NIMBUS_MODEL_PATH and
NIMBUS_EMBEDDING_MODEL_PATH (the Makefile sets them). One process serves the LLM, the embedder
(all-MiniLM-L6-v2) and the tiny committed cross-encoder, each under a NIM reference model name
so that the reference's request bodies work verbatim.
"""
import os
import socket
import subprocess
import time

import openai
import pytest
import requests

SERVED_NAME = "meta/llama-3.1-8b-instruct"
EMBEDDER_NAME = "nvidia/nv-embedqa-e5-v5"
RANKER_NAME = "nvidia/nv-rerankqa-mistral-4b-v3"
RANKER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "../../Tests/NimbusModelsTests/Fixtures/tiny-cross-encoder")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_name, **extra_env):
    """Starts `nimbus serve` on a free port with NIM_* overrides; returns (process, base URL, log)."""
    binary = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")
    model = os.environ.get("NIMBUS_MODEL_PATH")
    assert model and os.path.exists(model), "NIMBUS_MODEL_PATH must point at the GGUF model (make test sets it)"
    embedder = os.environ.get("NIMBUS_EMBEDDING_MODEL_PATH")
    assert embedder and os.path.isdir(embedder), "NIMBUS_EMBEDDING_MODEL_PATH must point at all-MiniLM-L6-v2 (make test sets it)"
    port = free_port()
    env = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_MODEL_NAME=",".join([model, embedder, RANKER_PATH]),
               NIM_SERVED_MODEL_NAME=",".join([SERVED_NAME, EMBEDDER_NAME, RANKER_NAME]),
               NIM_MAX_MODEL_LEN="2048", NIM_LOG_LEVEL="INFO")
    env.update(extra_env)
    log = open(log_name, "w")
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, f"nimbus exited early with {proc.returncode}; see {log_name}"
        try:
            if requests.get(base + "/v1/health/ready", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("nimbus did not become ready within 120 s")
    return proc, base, log


def stop_server(proc, log):
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def server():
    proc, base, log = start_server("e2e-server.log")
    yield base
    stop_server(proc, log)


@pytest.fixture(scope="session")
def client(server):
    return openai.OpenAI(base_url=server + "/v1", api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="session")
def model(client):
    return client.models.list().data[0].id
