"""API key, CORS and the request size limit on the real server, over the wire."""
import json
import secrets

import openai
import pytest
import requests

import server_util
from conftest import SERVED_NAME

ORIGIN = "https://app.example.com"
KEY = "sk-" + secrets.token_hex(16)


@pytest.fixture(scope="module")
def secured():
    proc, base, log = server_util.start("e2e-security.log", NIM_API_KEY=KEY, NIM_CORS_ALLOW_ORIGINS=ORIGIN,
                                        NIM_MAX_REQUEST_SIZE="4KiB")
    yield base
    server_util.stop(proc, log)


def auth(key=KEY):
    return {"Authorization": f"Bearer {key}"}


def assert_openai_error(r, status, code):
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    return error


def test_routes_need_the_key(secured):
    for path in ["/v1/models", "/v1/metrics", "/v1/status", "/"]:
        r = requests.get(secured + path, timeout=10)
        assert_openai_error(r, 401, "invalid_api_key")
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert_openai_error(requests.get(secured + path, headers=auth("sk-wrong"), timeout=10), 401, "invalid_api_key")
        assert requests.get(secured + path, headers=auth(), timeout=10).status_code == 200, path
    body = {"model": SERVED_NAME, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
    assert_openai_error(requests.post(secured + "/v1/chat/completions", json=body, timeout=60), 401, "invalid_api_key")


def test_health_probes_are_open(secured):
    for path in ["/v1/health/live", "/v1/health/ready"]:
        assert requests.get(secured + path, timeout=10).status_code == 200


def test_openai_client_with_and_without_the_key(secured):
    good = openai.OpenAI(base_url=secured + "/v1", api_key=KEY, max_retries=0, timeout=60)
    reply = good.chat.completions.create(model=SERVED_NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
    assert reply.choices[0].finish_reason in ("stop", "length")
    bad = openai.OpenAI(base_url=secured + "/v1", api_key="sk-not-it", max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.status_code == 401 and e.value.body["code"] == "invalid_api_key"


def test_cors_preflight_needs_no_key(secured):
    r = requests.options(secured + "/v1/chat/completions", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "Origin" in r.headers.get("Vary", "")


def test_cors_other_origins_are_refused(secured):
    r = requests.options(secured + "/v1/chat/completions", timeout=10, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.get(secured + "/v1/models", headers={"Origin": "https://evil.example", **auth()}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_cors_headers_on_answers_and_errors(secured):
    r = requests.get(secured + "/v1/models", headers={"Origin": ORIGIN, **auth()}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "x-request-id" in r.headers["Access-Control-Expose-Headers"].lower()
    # A browser script can read why it was refused.
    r = requests.get(secured + "/v1/models", headers={"Origin": ORIGIN}, timeout=10)
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_request_size_limit(secured):
    small = {"model": SERVED_NAME, "prompt": "One, two,", "max_tokens": 2}
    padded = json.dumps(small | {"user": "x" * (4000 - len(json.dumps(small)))}).encode()
    assert len(padded) <= 4096
    r = requests.post(secured + "/v1/completions", data=padded, headers={"Content-Type": "application/json", **auth()},
                      timeout=60)
    assert r.status_code == 200, r.text
    big = json.dumps(small | {"user": "x" * 5000}).encode()
    r = requests.post(secured + "/v1/completions", data=big, headers={"Content-Type": "application/json", **auth()},
                      timeout=60)
    error = assert_openai_error(r, 413, "request_too_large")
    assert "4096" in error["message"]


@pytest.mark.parametrize("env, variable", [
    ({"NIM_SSL_MODE": "SSLv3"}, "NIM_SSL_MODE"),
    ({"NIM_SSL_MODE": "TLS"}, "NIM_SSL_KEY_PATH"),
    ({"NIM_CORS_ALLOW_ORIGINS": "app.example.com"}, "NIM_CORS_ALLOW_ORIGINS"),
    ({"NIM_MAX_REQUEST_SIZE": "huge"}, "NIM_MAX_REQUEST_SIZE"),
])
def test_bad_settings_stop_start_up_with_one_line(tmp_path, env, variable):
    code, output = server_util.start_failure(str(tmp_path / "bad.log"), **env)
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and variable in lines[0], output
