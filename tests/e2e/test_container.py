"""The container's pieces that run against a real server: the image's HEALTHCHECK script
(deploy/docker/healthcheck.sh) and the metric the Kubernetes autoscaler scales on."""
import http.server
import os
import socket
import subprocess
import threading
from urllib.parse import urlparse

import pytest
import requests
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
HEALTHCHECK = os.path.join(REPO, "deploy/docker/healthcheck.sh")


def healthcheck(port):
    env = dict(os.environ, NIM_SERVER_PORT=str(port), NIM_SSL_MODE="DISABLED")
    return subprocess.run([HEALTHCHECK], env=env, capture_output=True, text=True, timeout=30).returncode


@pytest.fixture
def unready_server():
    """A stand-in for a server still loading its model: every GET answers 503."""
    class NotReady(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    stub = http.server.HTTPServer(("127.0.0.1", 0), NotReady)
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    yield stub.server_address[1]
    stub.shutdown()
    stub.server_close()


def test_healthcheck_passes_on_a_ready_server(server):
    assert requests.get(server + "/v1/health/ready", timeout=5).status_code == 200
    assert healthcheck(urlparse(server).port) == 0


def test_healthcheck_fails_while_not_ready(unready_server):
    assert healthcheck(unready_server) != 0


def test_healthcheck_fails_when_nothing_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    assert healthcheck(closed_port) != 0


def test_autoscaler_metric_is_a_gauge_on_the_metrics_route(server):
    with open(os.path.join(REPO, "deploy/kubernetes/base/hpa.yaml")) as f:
        metric = yaml.safe_load(f)["spec"]["metrics"][0]["pods"]["metric"]["name"]
    body = requests.get(server + "/v1/metrics", timeout=10).text
    assert f"# TYPE {metric} gauge" in body
    samples = [line for line in body.splitlines() if line.startswith(metric + "{")]
    assert samples and all(float(line.rsplit(" ", 1)[1]) >= 0 for line in samples)
