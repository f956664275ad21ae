"""Every rendered overlay is valid Kubernetes, and its objects refer to each other correctly.

Built-in kinds are validated strictly (unknown fields rejected, so a misspelt field fails) by
kubernetes-validate against the oldest and newest API schemas it bundles; custom resources,
which it has no schema for, get their essential fields checked in test_kubernetes_essentials.py.
"""
import kubernetes_validate
import pytest
from kubernetes_validate.utils import all_versions, latest_version

from manifests import all_containers, named, of_kind, one, pod_spec

# Custom resources the overlays may contain: the Prometheus Operator's scrape configuration.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
# The oldest bundled schema (autoscaling/v2 and policy/v1 are GA since 1.23 and 1.21) and the newest.
VERSIONS = sorted({all_versions()[0], latest_version()})


@pytest.mark.parametrize("version", VERSIONS)
def test_built_in_objects_match_the_api_schema_strictly(objects, version):
    checked = 0
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} is invalid for Kubernetes {version}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{obj['apiVersion']} {obj['kind']} is neither a built-in kind nor a known custom resource")
        checked += 1
    assert checked >= 6, "expected at least a Deployment, Service, Ingress, HPA, PVC and ConfigMap"


def test_all_objects_share_one_namespace(objects):
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert len(namespaces) == 1, f"objects spread over namespaces {namespaces}"
    declared = of_kind(objects, "Namespace")
    if declared:
        assert namespaces == {declared[0]["metadata"]["name"]}


def test_config_maps_and_claims_the_pod_uses_are_rendered(objects):
    deployment = one(objects, "Deployment")
    for c in all_containers(deployment):
        for source in c.get("envFrom", []):
            named(objects, "ConfigMap", source["configMapRef"]["name"])
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                assert ref["key"] in named(objects, "ConfigMap", ref["name"])["data"]
    for v in pod_spec(deployment).get("volumes", []):
        if "persistentVolumeClaim" in v:
            named(objects, "PersistentVolumeClaim", v["persistentVolumeClaim"]["claimName"])


def test_selectors_find_the_pods(objects):
    deployment = one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [deployment["spec"]["selector"]["matchLabels"], one(objects, "Service")["spec"]["selector"]]
    selectors += [pdb["spec"]["selector"]["matchLabels"] for pdb in of_kind(objects, "PodDisruptionBudget")]
    for selector in selectors:
        assert selector.items() <= pod_labels.items(), f"selector {selector} misses the pod labels {pod_labels}"


def test_ingress_routes_to_a_port_the_service_has(objects):
    service = one(objects, "Service")
    ports = {p["port"] for p in service["spec"]["ports"]} | {p.get("name") for p in service["spec"]["ports"]}
    for rule in one(objects, "Ingress")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == service["metadata"]["name"]
            assert backend["port"].get("number", backend["port"].get("name")) in ports


def test_autoscaler_targets_the_deployment_which_leaves_replicas_to_it(objects):
    deployment = one(objects, "Deployment")
    target = one(objects, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    expected = ("apps/v1", "Deployment", deployment["metadata"]["name"])
    assert (target["apiVersion"], target["kind"], target["name"]) == expected
    # A replicas field would reset the autoscaler's choice on every `kubectl apply`.
    assert "replicas" not in deployment["spec"]
