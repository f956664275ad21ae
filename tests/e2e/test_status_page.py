"""GET /: the live status page, rendered by headless Chromium (Debian's `chromium`): it shows the
model, kernels and hardware, loads nothing from outside, and its live numbers move under load."""
import os
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser

import pytest
import requests

from conftest import EMBEDDER_NAME, RANKER_NAME, SERVED_NAME, start_server, stop_server
from metrics_util import poll


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if os.environ.get("NIMBUS_REQUIRE_TOOLS") == "1":
        pytest.fail("chromium is not installed (apt-get install chromium); CI requires it")
    pytest.skip("chromium is not installed (apt-get install chromium)")


class ElementTexts(HTMLParser):
    """Text of every element with an id, plus the body's attributes."""

    def __init__(self):
        super().__init__()
        self.texts, self.body, self.stack = {}, {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        self.stack.append(attrs.get("id"))
        if attrs.get("id"):
            self.texts[attrs["id"]] = ""

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for element in self.stack:
            if element:
                self.texts[element] += data


def render(url):
    """The DOM after the page's script has run for three (virtual) seconds."""
    result = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--virtual-time-budget=3000", "--dump-dom", url],
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    page = ElementTexts()
    page.feed(result.stdout)
    return page


@pytest.fixture(scope="module")
def base():
    proc, url, log = start_server("e2e-server-status-page.log")
    yield url
    stop_server(proc, log)


def test_page_is_self_contained_html(base):
    r = requests.get(base + "/", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "/v1/status" in html
    # No external scripts, styles, fonts or images: nothing is fetched but /v1/status.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"<link\b|<script\s+src|@import|url\(", html)


def test_page_renders_the_server(base):
    status = requests.get(base + "/v1/status", timeout=10).json()
    page = render(base + "/")
    assert int(page.body["data-refreshes"]) >= 1
    t = page.texts
    assert t["model"] == SERVED_NAME
    assert t["served"] == f"{SERVED_NAME} (language), {EMBEDDER_NAME} (embedding), {RANKER_NAME} (ranking)"
    assert t["adapters"] == "none"
    assert t["kernels"] == status["kernels"] and t["kernels"] in ("scalar", "avx2", "avx512vnni")
    assert t["state"] == "serving"
    assert t["queue"] == "0" and t["running"] == "0"
    assert t["max-seqs"] == str(status["max_sequences"])
    assert t["cpu"] and t["cpu"] != "undefined"
    assert re.fullmatch(r"\d+ / \d+", t["cores"])
    assert t["profile"] == status["hardware"]["profile"] and t["profile"].startswith("cpu-")
    assert t["kv"] == "0.0 %"
    kv = status["kv_cache"]
    # SmolLM2 has no windowed layers: every block holds block_size positions of all layers.
    assert kv["capacity_tokens"] == kv["total_blocks"] * kv["block_size"]
    assert t["kv-blocks"] == (f"0 of {kv['total_blocks']} blocks of {kv['block_size']} positions; "
                              f"longest sequence {kv['capacity_tokens']} tokens")


def test_numbers_change_under_load(base):
    idle = render(base + "/")
    rendered = threading.Event()
    results = []

    def generate(i):
        body = {"model": SERVED_NAME, "prompt": f"Chapter {i}:", "max_tokens": 1000, "ignore_eos": True, "stream": True}
        with requests.post(base + "/v1/completions", json=body, stream=True, timeout=300) as r:
            # Hang up once the page has been rendered under this load (the server cancels).
            results.append(next((True for _ in r.iter_lines() if rendered.is_set()), False))

    threads = [threading.Thread(target=generate, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    try:
        assert poll(lambda: requests.get(base + "/v1/status", timeout=10).json()["running_sequences"] >= 2)
        busy = render(base + "/")
    finally:
        rendered.set()
        for t in threads:
            t.join(300)
    assert results == [True] * 6  # every stream was still running when the page was rendered
    assert int(busy.texts["running"]) >= 2
    assert float(busy.texts["tps"]) > 0
    assert busy.texts["kv"] != "0.0 %"
    assert int(busy.texts["generated"]) > int(idle.texts["generated"])
