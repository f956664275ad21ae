"""Hardware profiles and NIM's variables at start-up: `nimbus list-profiles` tells compatible from
incompatible profiles by what this CPU has; NIM_MODEL_PROFILE picks one (its kernel path runs for
real); a bad profile or a GPU-only setting stops start-up with one line; ignored and unknown
variables get a warning each."""
import json
import os
import subprocess

import requests

from conftest import start_server, stop_server

BINARY = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    return set()


def list_profiles(**env):
    out = subprocess.run([BINARY, "list-profiles", "--json"], capture_output=True, text=True, timeout=60, check=True,
                         env={k: v for k, v in {**os.environ, **env}.items() if k != "NIM_MODEL_PROFILE" or env})
    return json.loads(out.stdout)


def test_list_profiles_marks_the_profile_serve_would_use():
    report = list_profiles(NIM_MODEL_PROFILE="cpu-generic-latency")
    assert [e["profile"]["name"] for e in report["profiles"] if e["default"]] == ["cpu-generic-latency"]


def test_list_profiles_says_what_this_cpu_can_run():
    text = subprocess.run([BINARY, "list-profiles"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert text.index("System") < text.index("Compatible profiles") < text.index("Incompatible profiles")
    compatible_part, incompatible_part = text.split("Incompatible profiles")
    report = list_profiles()
    by_name = {entry["profile"]["name"]: entry for entry in report["profiles"]}
    vnni = [name for name in by_name if "avx512vnni" in name]
    assert {"cpu-avx512vnni-throughput", "cpu-avx512vnni-latency"} <= set(vnni)
    has_vnni = {"avx512_vnni", "avx512f", "avx512bw", "avx512vl", "avx512dq"} <= cpu_flags()
    for name in vnni:
        assert by_name[name]["compatible"] == has_vnni, by_name[name]
        # The text report puts each profile in the section its compatibility says.
        assert (name in compatible_part.split("Compatible profiles")[1]) == has_vnni
        if not has_vnni:
            assert "AVX-512 VNNI" in by_name[name]["reason"] and name in incompatible_part
    # The generic path runs anywhere; exactly one profile is the automatic choice, a compatible one.
    assert by_name["cpu-generic-latency"]["compatible"] and by_name["cpu-generic-throughput"]["compatible"]
    defaults = [e for e in report["profiles"] if e["default"]]
    assert len(defaults) == 1 and defaults[0]["compatible"] and defaults[0]["profile"]["goal"] == "throughput"
    system = report["system"]
    assert system["logical_cores"] == os.cpu_count() or system["logical_cores"] == len(os.sched_getaffinity(0))
    assert system["gpus"] == [] or os.path.exists("/proc/driver/nvidia/gpus") or any(
        d.startswith("nvidia") for d in os.listdir("/dev"))
    if has_vnni:
        assert "avx512_vnni" in system["simd_features"] and "avx512vnni" in system["kernel_paths"]


def test_a_latency_profile_is_used_and_shown():
    report = list_profiles()
    # The lowest SIMD latency profile this CPU has: on an AVX-512 machine this lowers the kernels.
    wanted = "cpu-avx2-latency" if {"avx2", "fma", "f16c"} <= cpu_flags() else "cpu-generic-latency"
    profile = next(e["profile"] for e in report["profiles"] if e["profile"]["name"] == wanted)
    proc, base, log = start_server("e2e-server-profile.log", NIM_MODEL_PROFILE=wanted.upper(), NIM_JSONL_LOGGING="1",
                                   CUDA_VISIBLE_DEVICES="0", NIM_MAX_NUM_SEQ="3", NGC_API_KEY="nvapi-e2e-secret")
    try:
        status = requests.get(base + "/v1/status", timeout=10).json()
    finally:
        stop_server(proc, log)
    assert status["hardware"]["profile"] == wanted
    assert status["kernels"] == profile["kernel_path"]
    assert status["max_sequences"] == profile["max_num_seqs"]
    with open("e2e-server-profile.log") as f:
        text = f.read()
    records = [json.loads(line) for line in text.splitlines()]
    chosen = [r for r in records if r["message"].startswith("model profile ")]
    assert len(chosen) == 1 and wanted in chosen[0]["message"] and "NIM_MODEL_PROFILE" in chosen[0]["message"]
    assert chosen[0]["kernels"] == profile["kernel_path"]
    warnings = [r["message"] for r in records if r["level"] == "WARNING"]
    assert any(m.startswith("CUDA_VISIBLE_DEVICES=0 is ignored") for m in warnings), warnings
    assert any("NIM_MAX_NUM_SEQ " in m and "did you mean NIM_MAX_NUM_SEQS?" in m for m in warnings), warnings
    assert "nvapi-e2e-secret" not in text


def run_serve(**env):
    model = os.environ["NIMBUS_MODEL_PATH"]
    full = dict(os.environ, NIM_MODEL_NAME=model, NIM_SERVER_PORT="1", **env)
    return subprocess.run([BINARY, "serve", "--host", "127.0.0.1"], env=full, capture_output=True, text=True, timeout=60)


def test_an_unknown_profile_stops_start_up_with_one_line():
    result = run_serve(NIM_MODEL_PROFILE="cpu-warp-drive")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "NIM_MODEL_PROFILE" in lines[0] and "cpu-warp-drive" in lines[0] and "cpu-generic-latency" in lines[0]


def test_tensor_parallelism_without_a_gpu_stops_start_up():
    result = run_serve(NIM_TENSOR_PARALLEL_SIZE="2")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1 and "NIM_TENSOR_PARALLEL_SIZE" in lines[0], result.stderr
