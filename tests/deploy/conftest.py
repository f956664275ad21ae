"""Renders the Kubernetes overlays in deploy/kubernetes with `kubectl kustomize`.

kubectl comes from $KUBECTL or PATH (Debian's `kubernetes-client`, which .ci/run installs).
Without it the rendering tests skip, or fail when NIMBUS_REQUIRE_TOOLS=1 (as in CI).
"""
import functools
import os
import shutil
import subprocess

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
KUBERNETES_DIR = os.path.join(REPO, "deploy/kubernetes")
OVERLAYS = sorted(os.listdir(os.path.join(KUBERNETES_DIR, "overlays")))


def kubectl():
    """The kubectl binary, or a skip (a failure under NIMBUS_REQUIRE_TOOLS=1) without one."""
    binary = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if binary:
        return binary
    message = "kubectl not installed (Debian package kubernetes-client)"
    if os.environ.get("NIMBUS_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@functools.lru_cache(maxsize=None)
def _render(path):
    result = subprocess.run([kubectl(), "kustomize", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render(overlay):
    """The objects `kubectl kustomize deploy/kubernetes/overlays/<overlay>` prints."""
    return _render(os.path.join(KUBERNETES_DIR, "overlays", overlay))


def read_yaml(relative_path):
    with open(os.path.join(REPO, relative_path)) as f:
        return yaml.safe_load(f)


@pytest.fixture(params=OVERLAYS)
def objects(request):
    """The rendered objects of each overlay in turn."""
    return render(request.param)
