"""Starts the real `nimbus serve` on the real model for the end-to-end tests.

The server binary and models come from NIMBUS_BIN, NIMBUS_MODEL_PATH and
NIMBUS_EMBEDDING_MODEL_PATH (the Makefile sets them). One process serves the LLM, the embedder
(all-MiniLM-L6-v2) and the tiny committed cross-encoder, each under a NIM reference model name
so that the reference's request bodies work verbatim.
"""
import os
import socket

import openai
import pytest

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
    """Starts `nimbus serve` on a free port with the LLM, the embedder and the ranker, plus NIM_*
    overrides, and waits for readiness; returns (process, base URL, log)."""
    import server_util  # it imports this module's names, so not at the top

    embedder = os.environ.get("NIMBUS_EMBEDDING_MODEL_PATH")
    assert embedder and os.path.isdir(embedder), "NIMBUS_EMBEDDING_MODEL_PATH must point at all-MiniLM-L6-v2 (make test sets it)"
    model = os.environ.get("NIMBUS_MODEL_PATH", "")
    models = dict(NIM_MODEL_NAME=",".join([model, embedder, RANKER_PATH]),
                  NIM_SERVED_MODEL_NAME=",".join([SERVED_NAME, EMBEDDER_NAME, RANKER_NAME]))
    return server_util.start(log_name, **{**models, **extra_env})


def stop_server(proc, log):
    import server_util

    server_util.stop(proc, log)


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
