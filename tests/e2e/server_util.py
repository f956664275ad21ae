"""Starts `nimbus serve` on the language model alone, over HTTP or HTTPS, for tests that need
their own server settings (API key, CORS, TLS, shutdown)."""
import os
import subprocess
import time

import pytest
import requests

from conftest import SERVED_NAME, free_port


def launch(log_name, **env_overrides):
    """Starts the server without waiting; returns (process, port, log file)."""
    binary = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")
    model = os.environ.get("NIMBUS_MODEL_PATH")
    assert model and os.path.exists(model), "NIMBUS_MODEL_PATH must point at the GGUF model (make test sets it)"
    port = free_port()
    env = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_MODEL_NAME=model, NIM_SERVED_MODEL_NAME=SERVED_NAME,
               NIM_MAX_MODEL_LEN="2048", NIM_LOG_LEVEL="INFO")
    env.update(env_overrides)
    log = open(log_name, "w")
    proc = subprocess.Popen([binary, "serve", "--host", "127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, port, log


def wait_ready(proc, base, log_name, **request_kwargs):
    """Polls /v1/health/ready like a Kubernetes probe until it answers 200."""
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, f"nimbus exited early with {proc.returncode}; see {log_name}"
        try:
            if requests.get(base + "/v1/health/ready", timeout=1, **request_kwargs).status_code == 200:
                return
        except requests.exceptions.ConnectionError:
            pass  # includes TLS errors while the listener is not up yet
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"nimbus did not become ready within 120 s; see {log_name}")


def start(log_name, scheme="http", ready_kwargs=None, **env_overrides):
    """Starts the server and waits for readiness; returns (process, base URL, log file)."""
    proc, port, log = launch(log_name, **env_overrides)
    base = f"{scheme}://127.0.0.1:{port}"
    wait_ready(proc, base, log_name, **(ready_kwargs or {}))
    return proc, base, log


def stop(proc, log):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()


def start_failure(log_name, **env_overrides):
    """Runs a server whose configuration must be refused; returns (exit code, output)."""
    proc, _, log = launch(log_name, **env_overrides)
    try:
        code = proc.wait(timeout=30)
    finally:
        log.close()
    with open(log_name) as f:
        return code, f.read()
