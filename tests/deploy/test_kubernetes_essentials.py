"""What an operator relies on in every rendered overlay: the NIM reference's probes, the cache
volume, the API key from a Secret, scaling on a metric nimbus really exports, and scraping."""
import glob
import os
import re

from conftest import REPO, read_yaml
from manifests import (config_map_values, container, container_port, env_var, mount_path, of_kind, one,
                       pod_spec, volume)

CACHE_PATH = "/opt/nim/.cache"
PORT = 8000


def sources_text():
    text = ""
    for path in glob.glob(os.path.join(REPO, "Sources/**/*.swift"), recursive=True):
        with open(path) as f:
            text += f.read()
    return text


def readme():
    with open(os.path.join(REPO, "README.md")) as f:
        return f.read()


def test_probes_are_the_nim_references(objects):
    server = container(one(objects, "Deployment"))
    expected = {"livenessProbe": "/v1/health/live", "readinessProbe": "/v1/health/ready",
                "startupProbe": "/v1/health/ready"}
    for probe, path in expected.items():
        get = server[probe]["httpGet"]
        assert get["path"] == path, probe
        assert container_port(server, get["port"]) == PORT, probe
    # The reference's periods; the startup probe must allow minutes for a first model load.
    assert server["livenessProbe"]["periodSeconds"] == 10
    assert server["readinessProbe"]["periodSeconds"] == 5
    startup = server["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


def test_service_exposes_port_8000(objects):
    server = container(one(objects, "Deployment"))
    ports = one(objects, "Service")["spec"]["ports"]
    assert [p["port"] for p in ports] == [PORT]
    assert container_port(server, ports[0]["targetPort"]) == PORT


def test_cache_volume_is_the_claim_at_nim_cache_path(objects):
    deployment = one(objects, "Deployment")
    claim = volume(deployment, "cache")["persistentVolumeClaim"]["claimName"]
    assert claim in [p["metadata"]["name"] for p in of_kind(objects, "PersistentVolumeClaim")]
    init = pod_spec(deployment)["initContainers"]
    for c in [container(deployment)] + init:
        assert mount_path(c, "cache") == CACHE_PATH, c["name"]
        cache_env = env_var(c, "NIM_CACHE_PATH") or {"value": config_map_values(objects, c).get("NIM_CACHE_PATH")}
        assert cache_env["value"] == CACHE_PATH, c["name"]
    # The model download runs before the server, into the same cache.
    assert any("download-to-cache" in c.get("args", []) for c in init)


def test_variables_in_commands_are_defined(objects):
    # Kubernetes passes an undefined $(NAME) on literally: the download would fetch "$(NAME)".
    deployment = one(objects, "Deployment")
    for c in pod_spec(deployment).get("initContainers", []) + pod_spec(deployment)["containers"]:
        defined = {e["name"] for e in c.get("env", [])} | set(config_map_values(objects, c))
        for word in c.get("command", []) + c.get("args", []):
            for name in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", word):
                assert name in defined, f"{c['name']}: $({name}) is not in its environment"


def test_shared_memory_is_in_memory(objects):
    deployment = one(objects, "Deployment")
    assert volume(deployment, "shm")["emptyDir"]["medium"] == "Memory"
    assert mount_path(container(deployment), "shm") == "/dev/shm"


def test_api_key_comes_from_the_secret_the_readme_creates(objects):
    ref = env_var(container(one(objects, "Deployment")), "NIM_API_KEY")["valueFrom"]["secretKeyRef"]
    command = f"kubectl create secret generic {ref['name']} --from-literal={ref['key']}="
    assert command in readme(), f"README does not show `{command}...`"
    assert not of_kind(objects, "Secret"), "a key must never be committed; the operator creates the Secret"
    for monitor in of_kind(objects, "ServiceMonitor"):
        credentials = monitor["spec"]["endpoints"][0]["authorization"]["credentials"]
        assert (credentials["name"], credentials["key"]) == (ref["name"], ref["key"])


def test_pods_run_as_the_images_non_root_user(objects):
    deployment = one(objects, "Deployment")
    with open(os.path.join(REPO, "Dockerfile")) as f:
        image_user = re.findall(r"^USER\s+(\d+)", f.read(), re.MULTILINE)[-1]
    security = pod_spec(deployment)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert str(security["runAsUser"]) == image_user
    assert security["fsGroup"] > 0, "the cache volume must be writable by the non-root user"
    for c in pod_spec(deployment)["initContainers"] + pod_spec(deployment)["containers"]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, c["name"]


def test_threads_follow_the_cpu_limit(objects):
    server = container(one(objects, "Deployment"))
    assert env_var(server, "NIM_NUM_THREADS")["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"
    assert "cpu" in server["resources"]["limits"] and "memory" in server["resources"]["limits"]


def test_settings_are_variables_nimbus_reads(objects):
    server = container(one(objects, "Deployment"))
    settings = config_map_values(objects, server)
    code = sources_text()
    for name in settings:
        if name.startswith("NIM_"):
            assert f'"{name}"' in code, f"{name} is not a variable nimbus reads (misspelt?)"


def test_autoscaler_metric_is_exported_and_served_by_the_adapter(objects):
    metric = one(objects, "HorizontalPodAutoscaler")["spec"]["metrics"][0]
    assert metric["type"] == "Pods"
    name = metric["pods"]["metric"]["name"]
    assert re.search(r'gauge\("' + re.escape(name) + '"', sources_text()), f"nimbus exports no gauge {name}"
    rules = read_yaml("deploy/kubernetes/prometheus-adapter/values.yaml")["rules"]["custom"]
    rule = [r for r in rules if r["name"]["as"] == name]
    assert rule, f"no Prometheus Adapter rule serves {name}"
    assert rule[0]["seriesQuery"].startswith(name + "{")
    assert re.fullmatch(rule[0]["name"]["matches"], name)
    assert set(rule[0]["resources"]["overrides"]) == {"namespace", "pod"}


def test_ingress_keeps_streams_open(objects):
    annotations = one(objects, "Ingress")["metadata"]["annotations"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 600
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"


def test_service_monitor_scrapes_the_metrics_route():
    from conftest import render
    objects = render("production")
    monitor = one(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    service = one(objects, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] in [p["name"] for p in service["spec"]["ports"]]
    assert endpoint["path"] == "/v1/metrics"
