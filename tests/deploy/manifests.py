"""Lookups in rendered Kubernetes objects, shared by the deploy tests."""


def of_kind(objects, kind):
    return [o for o in objects if o.get("kind") == kind]


def one(objects, kind):
    """The single object of a kind (each overlay renders one Deployment, Service, ...)."""
    found = of_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def named(objects, kind, name):
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert found, f"no {kind} named {name!r} in the rendered output"
    return found[0]


def pod_spec(deployment):
    return deployment["spec"]["template"]["spec"]


def container(deployment, name="nimbus"):
    containers = [c for c in pod_spec(deployment)["containers"] if c["name"] == name]
    assert containers, f"the Deployment has no container {name!r}"
    return containers[0]


def all_containers(deployment):
    spec = pod_spec(deployment)
    return spec.get("initContainers", []) + spec["containers"]


def container_port(container_spec, port):
    """A probe's or Service's port (a number or a port name) as the container's port number."""
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container_spec.get("ports", []) if p.get("name") == port]
    assert numbers, f"container {container_spec['name']!r} has no port named {port!r}"
    return numbers[0]


def env_var(container_spec, name):
    matches = [e for e in container_spec.get("env", []) if e["name"] == name]
    return matches[0] if matches else None


def config_map_values(objects, container_spec):
    """Everything the container's envFrom ConfigMaps set, merged in order."""
    values = {}
    for source in container_spec.get("envFrom", []):
        if "configMapRef" in source:
            values.update(named(objects, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    return values


def mount_path(container_spec, volume_name):
    paths = [m["mountPath"] for m in container_spec.get("volumeMounts", []) if m["name"] == volume_name]
    return paths[0] if paths else None


def volume(deployment, name):
    volumes = [v for v in pod_spec(deployment).get("volumes", []) if v["name"] == name]
    assert volumes, f"the pod has no volume {name!r}"
    return volumes[0]
