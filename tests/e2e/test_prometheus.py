"""A real Prometheus server (Debian's `prometheus`) scrapes Nimbus with the example configuration
from deploy/prometheus, and queries over the scraped data return what a known set of requests
implies; every expression of the Grafana dashboard evaluates to data."""
import os
import shutil
import subprocess
import time

import pytest
import requests

from conftest import SERVED_NAME, free_port, start_server, stop_server
from dashboard_util import PROMETHEUS_CONFIG, expressions
from metrics_util import poll


def prometheus_binary():
    if path := shutil.which("prometheus"):
        return path
    if os.environ.get("NIMBUS_REQUIRE_TOOLS") == "1":
        pytest.fail("prometheus is not installed (apt-get install prometheus); CI requires it")
    pytest.skip("prometheus is not installed (apt-get install prometheus)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    binary = prometheus_binary()
    proc, base, log = start_server("e2e-server-prometheus.log")
    directory = tmp_path_factory.mktemp("prometheus")
    example = PROMETHEUS_CONFIG.read_text()
    config = example.replace("localhost:8000", base.removeprefix("http://")).replace("scrape_interval: 15s",
                                                                                       "scrape_interval: 1s")
    assert config.count(base.removeprefix("http://")) == 1 and "scrape_interval: 1s" in config
    (directory / "prometheus.yml").write_text(config)
    port = free_port()
    prometheus_log = open("e2e-prometheus.log", "w")
    prometheus = subprocess.Popen([binary, f"--config.file={directory / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={directory / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                  stdout=prometheus_log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        def ready():
            assert prometheus.poll() is None, "prometheus exited; see e2e-prometheus.log"
            try:
                return requests.get(url + "/-/ready", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False
        assert poll(ready, timeout=60), "prometheus did not become ready"
        yield base, url
    finally:
        prometheus.terminate()
        prometheus.wait(30)
        prometheus_log.close()
        stop_server(proc, log)


def query(prometheus, expr):
    r = requests.get(prometheus + "/api/v1/query", params={"query": expr}, timeout=10)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", (expr, body)
    return body["data"]["result"]


def scalar(prometheus, expr):
    """The single value of `expr`, or None while there is no data."""
    result = query(prometheus, expr)
    return float(result[0]["value"][1]) if len(result) == 1 else None


def test_queries_over_scraped_data(stack):
    base, prometheus = stack
    assert poll(lambda: scalar(prometheus, 'up{job="nimbus"}') == 1, timeout=30), "target never up"
    prompt_tokens = completion_tokens = 0
    for i in range(3):
        r = requests.post(base + "/v1/chat/completions", timeout=120,
                          json={"model": SERVED_NAME, "messages": [{"role": "user", "content": f"Number {i}?"}],
                                "max_tokens": 5, "ignore_eos": True})
        assert r.status_code == 200
        prompt_tokens += r.json()["usage"]["prompt_tokens"]
        completion_tokens += r.json()["usage"]["completion_tokens"]
    r = requests.post(base + "/v1/completions", timeout=120,
                      json={"model": SERVED_NAME, "prompt": "Hello", "max_tokens": 7, "ignore_eos": True})
    prompt_tokens += r.json()["usage"]["prompt_tokens"]
    completion_tokens += r.json()["usage"]["completion_tokens"]
    assert completion_tokens == 3 * 5 + 7

    chat_ok = 'sum(nim_request_total{job="nimbus", endpoint="/v1/chat/completions", status="200"})'
    assert poll(lambda: scalar(prometheus, chat_ok) == 3, timeout=30), query(prometheus, chat_ok)
    # Scrapes run every second; wait until one was taken after the last request finished.
    assert poll(lambda: scalar(prometheus, 'sum(e2e_request_latency_seconds_count{job="nimbus"})') == 4, timeout=30)
    assert scalar(prometheus, 'sum(nim_request_total{endpoint="/v1/completions", status="200"})') == 1
    assert scalar(prometheus, "sum(generation_tokens_total)") == completion_tokens
    assert scalar(prometheus, "sum(nim_tokens_generated_total)") == completion_tokens
    assert scalar(prometheus, "sum(prompt_tokens_total)") == prompt_tokens
    assert scalar(prometheus, 'sum(request_success_total{finish_reason="length"})') == 4
    assert scalar(prometheus, 'sum(request_generation_tokens_bucket{le="5.0"})') == 3
    # The HorizontalPodAutoscaler's metric, labelled with the model.
    queue = query(prometheus, "nim_request_queue_size")
    assert len(queue) == 1 and queue[0]["metric"]["model_name"] == SERVED_NAME and queue[0]["value"][1] == "0"
    assert scalar(prometheus, "nim_memory_used_bytes / nim_memory_total_bytes") > 0


def test_every_dashboard_expression_has_data(stack):
    base, prometheus = stack
    requests.post(base + "/v1/completions", timeout=120,
                  json={"model": SERVED_NAME, "prompt": "Hi", "max_tokens": 3}).raise_for_status()
    time.sleep(2.5)  # two more scrapes, so rate() has points on both sides of the request
    for title, expr in expressions():
        if expr.startswith("label_values("):
            metric = expr[len("label_values("):].split(",")[0]
            values = {s["metric"].get("model_name") for s in query(prometheus, metric)}
            assert values == {SERVED_NAME}, title
            continue
        promql = expr.replace("$model", ".*")
        assert poll(lambda: query(prometheus, promql), timeout=15), f"{title}: no data for {promql}"
