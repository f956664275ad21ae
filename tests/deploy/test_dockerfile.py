"""The Dockerfile, checked without a Docker daemon (none here, and no registry to pull the Swift
image from): its structure is parsed with dockerfile-parse, and the build context its
.dockerignore lets through is computed from the tracked files with Docker's matching rules."""
import fnmatch
import os
import re
import subprocess

import pytest
from dockerfile_parse import DockerfileParser

from conftest import REPO

CACHE_PATH = "/opt/nim/.cache"


@pytest.fixture(scope="module")
def dockerfile():
    parser = DockerfileParser(path=os.path.join(REPO, "Dockerfile"))
    return parser.structure


def stages(structure):
    """The instructions of each stage, in order (global ARGs before the first FROM left out)."""
    result = []
    for instruction in structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def values(stage, instruction):
    return [i["value"] for i in stage if i["instruction"] == instruction]


def test_builds_with_the_swift_toolchain_and_runs_on_a_slim_image(dockerfile):
    build, run = stages(dockerfile)
    assert re.match(r"swift:\$\{SWIFT_VERSION\}-\$\{UBUNTU_RELEASE\} AS build", values(build, "FROM")[0], re.I)
    compile_steps = [v for v in values(build, "RUN") if "swift build" in v]
    flags = ("-c release", "--product nimbus", "--static-swift-stdlib")
    assert compile_steps and all(flag in compile_steps[0] for flag in flags)
    # Same Ubuntu release in both stages: the binary runs on the glibc it was linked with.
    assert values(run, "FROM")[0].startswith("ubuntu:${UBUNTU_RELEASE}")
    assert any(v.startswith("--from=build ") and v.endswith(" /usr/local/bin/nimbus") for v in values(run, "COPY"))


def test_swift_image_is_at_least_the_packages_tools_version(dockerfile):
    image = [v for v in values(dockerfile, "ARG") if v.startswith("SWIFT_VERSION=")][0].split("=")[1]
    with open(os.path.join(REPO, "Package.swift")) as f:
        tools = re.search(r"swift-tools-version:\s*([\d.]+)", f.read()).group(1)
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(image)[:2] >= as_tuple(tools)[:2]


def test_runs_as_a_numeric_non_root_user(dockerfile):
    run = stages(dockerfile)[-1]
    user = values(run, "USER")[-1]
    uid = user.split(":")[0]
    # Kubernetes' runAsNonRoot can only check a numeric user.
    assert uid.isdigit() and int(uid) != 0


def test_serves_on_8000_with_the_cache_as_a_volume(dockerfile):
    run = stages(dockerfile)[-1]
    assert "8000" in values(run, "EXPOSE")[0].split()
    assert CACHE_PATH in values(run, "VOLUME")[0]
    assert f"NIM_CACHE_PATH={CACHE_PATH}" in " ".join(values(run, "ENV")).split()
    assert values(run, "ENTRYPOINT")[-1] == '["nimbus"]' and values(run, "CMD")[-1] == '["serve"]'


def test_healthcheck_runs_the_copied_ready_probe(dockerfile):
    run = stages(dockerfile)[-1]
    healthcheck = values(run, "HEALTHCHECK")[-1]
    command = re.search(r'CMD \["([^"]+)"\]', healthcheck).group(1)
    copies = [v.split() for v in values(run, "COPY")]
    sources = [c[0] for c in copies if c[-1] == f"/usr/local/bin/{command}"]
    assert sources, f"the HEALTHCHECK runs {command}, which no COPY puts in /usr/local/bin"
    script = os.path.join(REPO, sources[0])
    assert os.access(script, os.X_OK)
    with open(script) as f:
        assert "/v1/health/ready" in f.read()


def ignored(path, patterns):
    """Docker's .dockerignore rule: the last pattern matching the path or a parent folder wins."""
    parts = path.split("/")
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            # `**/x` also matches `x` at the top of the context.
            top_level = pattern.startswith("**/") and fnmatch.fnmatchcase(prefix, pattern[3:])
            if fnmatch.fnmatchcase(prefix, pattern) or top_level:
                excluded = not negated
                break
    return excluded


def test_build_context_holds_the_sources_and_no_models_or_builds(dockerfile):
    with open(os.path.join(REPO, ".dockerignore")) as f:
        patterns = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    # The repository's files (untracked ones included), plus things git ignores but a working copy
    # has, which the context must not take.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    candidates = listed + [".build/release/nimbus", "models/x.gguf", "Sources/x.gguf", "Sources/NimbusGGUF/.build/y"]
    context = [p for p in candidates if not ignored(p, patterns)]
    assert not [p for p in context if p.endswith(".gguf") or "/.build" in "/" + p or p.startswith("models/")]
    for stage in stages(dockerfile):
        for copy in values(stage, "COPY"):
            if copy.startswith("--from="):
                continue
            # A wildcard may match nothing (Package.resolved is not tracked) as long as the
            # instruction's other sources exist.
            for source in [s for s in copy.split()[:-1] if "*" not in s]:
                pattern = source.rstrip("/")
                assert any(fnmatch.fnmatchcase(p, pattern) or p.startswith(pattern + "/") for p in context), \
                    f"COPY {source}: nothing of it is in the build context"
    size = sum(os.path.getsize(os.path.join(REPO, p)) for p in context if os.path.exists(os.path.join(REPO, p)))
    assert size < 50 * 1024 * 1024, f"build context of {size} bytes"
