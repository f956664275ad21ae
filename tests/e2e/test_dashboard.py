"""The Grafana dashboard in deploy/grafana has the NIM reference's four panels plus TTFT and KV
cache, and its PromQL only names metrics that /v1/metrics exposes."""
import pytest
import requests

from conftest import SERVED_NAME, start_server, stop_server
from dashboard_util import PROMETHEUS_CONFIG, dashboard, expressions, metric_names
from metrics_util import scrape


@pytest.fixture(scope="module")
def exposed():
    """Names /v1/metrics exposes after one request (so labelled series exist), with histogram
    series names (`_bucket`, `_sum`, `_count`) as Prometheus stores them."""
    proc, base, log = start_server("e2e-server-dashboard.log")
    try:
        requests.post(base + "/v1/completions", json={"model": SERVED_NAME, "prompt": "Hi", "max_tokens": 2},
                      timeout=60).raise_for_status()
        return {name for name, _, _ in scrape(base)}
    finally:
        stop_server(proc, log)


def test_metric_name_extraction():
    assert metric_names('histogram_quantile(0.99, sum(rate(a_bucket{x=~"$m", le!="1"}[5m])) by (le))') == {"a_bucket"}
    assert metric_names("b / c * 100") == {"b", "c"}
    assert metric_names("label_values(d, model_name)") == {"d"}
    assert metric_names('sum(rate(e{k="by (x)"}[1m])) by (status, endpoint)') == {"e"}


def test_reference_panels_are_there():
    titles = {p["title"] for p in dashboard()["panels"]}
    # The reference's four (its "GPU Memory Usage" is CPU memory here), plus TTFT and KV cache.
    assert {"Request Latency (p99)", "Tokens per Second", "Memory Usage", "Queue Depth",
            "Time to First Token", "KV Cache Usage"} <= titles
    exprs = {}
    for title, expr in expressions():
        exprs[title] = exprs.get(title, "") + expr + "\n"
    assert "nim_request_duration_seconds_bucket" in exprs["Request Latency (p99)"]
    assert "nim_tokens_generated_total" in exprs["Tokens per Second"]
    assert "nim_memory_used_bytes" in exprs["Memory Usage"] and "gpu" not in exprs["Memory Usage"]
    assert "nim_queue_size" in exprs["Queue Depth"]


def test_every_expression_names_exposed_metrics(exposed):
    for title, expr in expressions():
        names = metric_names(expr)
        assert names, f"{title}: no metric in {expr}"
        assert names <= exposed, f"{title}: {names - exposed} not in /v1/metrics"


def test_scrape_config_points_at_v1_metrics():
    text = PROMETHEUS_CONFIG.read_text()
    assert "metrics_path: /v1/metrics" in text
