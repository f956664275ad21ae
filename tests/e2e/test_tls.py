"""HTTPS (NIM_SSL_MODE=TLS) and mutual TLS (MTLS) with certificates the test makes."""
import pytest
import requests

import server_util
import tls_certs
from conftest import SERVED_NAME


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("pki"))
    ca = tls_certs.make_ca(directory, "nimbus-test-ca")
    other_ca = tls_certs.make_ca(directory, "untrusted-ca")
    return {
        "ca": ca[0],
        "server": tls_certs.make_leaf(directory, "server", ca, server=True),
        "client": tls_certs.make_leaf(directory, "client", ca, server=False),
        "stranger": tls_certs.make_leaf(directory, "stranger", other_ca, server=False),
    }


def tls_env(pki, mode):
    cert, key = pki["server"]
    env = {"NIM_SSL_MODE": mode, "NIM_SSL_CERTS_PATH": cert, "NIM_SSL_KEY_PATH": key}
    if mode == "MTLS":
        env["NIM_SSL_CA_CERTS_PATH"] = pki["ca"]
    return env


def test_tls_handshake_and_request(pki):
    proc, base, log = server_util.start("e2e-tls.log", scheme="https", ready_kwargs={"verify": pki["ca"]},
                                        **tls_env(pki, "TLS"))
    try:
        r = requests.post(base + "/v1/completions", verify=pki["ca"], timeout=60,
                          json={"model": SERVED_NAME, "prompt": "One, two,", "max_tokens": 3})
        assert r.status_code == 200 and r.json()["usage"]["completion_tokens"] >= 1
        # The certificate really is checked: without the CA it is not trusted.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(base + "/v1/models", timeout=10)
        # Plain HTTP on the HTTPS port gets no answer.
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(base.replace("https://", "http://") + "/v1/models", timeout=10)
    finally:
        server_util.stop(proc, log)


def test_mtls_requires_a_trusted_client_certificate(pki):
    proc, base, log = server_util.start("e2e-mtls.log", scheme="https",
                                        ready_kwargs={"verify": pki["ca"], "cert": pki["client"]},
                                        **tls_env(pki, "MTLS"))
    try:
        r = requests.get(base + "/v1/models", verify=pki["ca"], cert=pki["client"], timeout=10)
        assert r.status_code == 200 and r.json()["data"][0]["id"] == SERVED_NAME
        for cert in [None, pki["stranger"]]:
            with pytest.raises(requests.exceptions.ConnectionError):  # SSLError is a ConnectionError
                requests.get(base + "/v1/models", verify=pki["ca"], cert=cert, timeout=10)
    finally:
        server_util.stop(proc, log)


def test_mismatched_key_is_refused_at_start(pki, tmp_path):
    cert, _ = pki["server"]
    _, other_key = pki["client"]
    code, output = server_util.start_failure(str(tmp_path / "mismatch.log"), NIM_SSL_MODE="TLS",
                                             NIM_SSL_CERTS_PATH=cert, NIM_SSL_KEY_PATH=other_key)
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "NIM_SSL_KEY_PATH" in lines[0], output
