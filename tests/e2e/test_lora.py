"""LoRA adapters served per request, through the official OpenAI client, on the default model.

The adapters are random PEFT adapters written by this test (fixed seeds, r=8, all seven
projections) into a NIM_PEFT_SOURCE folder, next to folders that must be skipped: a rank above
NIM_MAX_LORA_RANK, an empty folder and a truncated weights file. One server (refreshing the
folder every second, one adapter kept in memory so others are read again on demand, runtime
loading on, traces exported to a loopback OTLP receiver) serves them all. Metrics, traces and
the status page name the adapter a request used. Also: a Hugging Face checkpoint folder (the tiny
committed Llama) served as a language model.
"""
import array
import concurrent.futures
import json
import os
import random
import secrets
import shutil
import struct
import time

import openai
import pytest
import requests

from conftest import SERVED_NAME, start_server, stop_server
from metrics_util import poll, scrape, value
from otlp_receiver import OTLPReceiver
from test_status_page import render

HERE = os.path.dirname(os.path.abspath(__file__))
HF_LLAMA = os.path.join(HERE, "../../Tests/NimbusModelsTests/Fixtures/hf/llama")
# SmolLM2-135M: 30 layers, width 576, 9 heads of 64 (3 KV heads), feed-forward 1536.
SHAPES = {"q_proj": ("self_attn", 576, 576), "k_proj": ("self_attn", 576, 192), "v_proj": ("self_attn", 576, 192),
          "o_proj": ("self_attn", 576, 576), "gate_proj": ("mlp", 576, 1536), "up_proj": ("mlp", 576, 1536),
          "down_proj": ("mlp", 1536, 576)}
PROMPT = [{"role": "user", "content": "Name three colors of the rainbow."}]


def write_adapter(folder, rank, seed, layers=30):
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    header, blobs, offset = {}, [], 0
    for layer in range(layers):
        for name, (block, inputs, outputs) in SHAPES.items():
            prefix = f"base_model.model.model.layers.{layer}.{block}.{name}."
            for suffix, shape, std in (("lora_A.weight", (rank, inputs), inputs ** -0.5), ("lora_B.weight", (outputs, rank), 0.05)):
                values = array.array("f", (rng.gauss(0, std) for _ in range(shape[0] * shape[1])))
                data = values.tobytes()
                header[prefix + suffix] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
                offset += len(data)
                blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(folder, "adapter_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank, "target_modules": sorted(SHAPES)}, f)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("peft")
    write_adapter(root / "green", 8, seed=1)
    write_adapter(root / "violet", 8, seed=2)
    write_adapter(root / "too-big", 16, seed=3, layers=1)
    os.makedirs(root / "empty")
    write_adapter(root / "truncated", 8, seed=4, layers=1)
    weights = root / "truncated" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    return root


@pytest.fixture(scope="module")
def traced_lora_server(source):
    with OTLPReceiver() as receiver:
        proc, base, log = start_server("e2e-lora.log", NIM_PEFT_SOURCE=str(source), NIM_PEFT_REFRESH_INTERVAL="1",
                                       NIM_MAX_LORA_RANK="8", NIM_MAX_CPU_LORAS="1", NIMBUS_ALLOW_RUNTIME_LORA_UPDATING="true",
                                       NIM_ENABLE_TRACING="true", OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
                                       OTEL_BSP_SCHEDULE_DELAY="100")
        yield base, receiver
        stop_server(proc, log)


@pytest.fixture(scope="module")
def lora_server(traced_lora_server):
    return traced_lora_server[0]


@pytest.fixture(scope="module")
def lora_client(lora_server):
    return openai.OpenAI(base_url=lora_server + "/v1", api_key="unused", max_retries=0, timeout=120)


def chat(client, model, max_tokens=24):
    response = client.chat.completions.create(model=model, messages=PROMPT, max_tokens=max_tokens, temperature=0)
    assert response.model == model
    return response.choices[0].message.content


def listed(client):
    return {m.id: m for m in client.models.list().data}


def test_adapters_are_listed_with_their_parent_and_unusable_ones_skipped(lora_client, source):
    models = listed(lora_client)
    assert {"green", "violet"} <= set(models)
    for name in ("green", "violet"):
        card = models[name].model_dump()
        assert card["parent"] == SERVED_NAME
        assert card["root"] == str(source / name)
    assert not {"too-big", "empty", "truncated"} & set(models)
    time.sleep(2.5)  # two rescans: each bad folder is still warned about once
    log = open("e2e-lora.log").read()
    for folder, reason in (("too-big", "exceeds NIM_MAX_LORA_RANK=8"), ("empty", "neither adapter_config.json"),
                           ("truncated", "adapter_model.safetensors")):
        lines = [line for line in log.splitlines() if "LoRA adapter skipped" in line and f"{source / folder}:" in line]
        assert len(lines) == 1, (folder, lines)
        assert reason in lines[0]


def test_each_adapter_changes_the_answer_deterministically(lora_client):
    base = chat(lora_client, SERVED_NAME)
    green, violet = chat(lora_client, "green"), chat(lora_client, "violet")
    assert len({base, green, violet}) == 3, (base, green, violet)
    assert chat(lora_client, "green") == green


def test_mixed_adapters_in_one_batch_answer_as_alone(lora_client):
    names = [SERVED_NAME, "green", "violet"]
    alone = {name: chat(lora_client, name) for name in names}
    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        together = list(pool.map(lambda i: (names[i % 3], chat(lora_client, names[i % 3])), range(9)))
    for name, text in together:
        assert text == alone[name], name


def test_streaming_with_an_adapter(lora_client):
    whole = chat(lora_client, "violet")
    stream = lora_client.chat.completions.create(model="violet", messages=PROMPT, max_tokens=24, temperature=0, stream=True)
    pieces, models = [], set()
    for chunk in stream:
        models.add(chunk.model)
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert models == {"violet"}
    assert "".join(pieces) == whole


def test_unknown_model_is_not_found(lora_client):
    with pytest.raises(openai.NotFoundError) as caught:
        chat(lora_client, "no-such-adapter")
    assert caught.value.body["code"] == "model_not_found"


def test_refresh_serves_new_folders_and_drops_removed_ones(lora_client, source):
    shutil.copytree(source / "green", source / "late")
    deadline = time.time() + 15
    while "late" not in listed(lora_client) and time.time() < deadline:
        time.sleep(0.2)
    assert "late" in listed(lora_client)
    assert chat(lora_client, "late") == chat(lora_client, "green")
    shutil.rmtree(source / "late")
    deadline = time.time() + 15
    while "late" in listed(lora_client) and time.time() < deadline:
        time.sleep(0.2)
    assert "late" not in listed(lora_client)


def test_runtime_load_and_unload(lora_server, lora_client, source):
    load = requests.post(lora_server + "/v1/load_lora_adapter", json={"lora_name": "runtime", "lora_path": str(source / "violet")})
    assert load.status_code == 200, load.text
    assert "runtime" in listed(lora_client)
    assert chat(lora_client, "runtime") == chat(lora_client, "violet")
    again = requests.post(lora_server + "/v1/load_lora_adapter", json={"lora_name": "runtime", "lora_path": str(source / "violet")})
    assert again.status_code == 400 and again.json()["error"]["param"] == "lora_name"
    bad = requests.post(lora_server + "/v1/load_lora_adapter", json={"lora_name": "bad", "lora_path": str(source / "empty")})
    assert bad.status_code == 400 and "neither adapter_config.json" in bad.json()["error"]["message"]
    assert requests.post(lora_server + "/v1/unload_lora_adapter", json={"lora_name": "runtime"}).status_code == 200
    assert "runtime" not in listed(lora_client)
    with pytest.raises(openai.NotFoundError):
        chat(lora_client, "runtime")
    missing = requests.post(lora_server + "/v1/unload_lora_adapter", json={"lora_name": "runtime"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_metrics_traces_and_status_name_the_adapter(traced_lora_server, lora_client):
    base, receiver = traced_lora_server
    before = scrape(base)
    requests_before = value(before, "request_success_total", model_name="violet", finish_reason="length")
    http_before = value(before, "nim_request_total", model_name="violet", endpoint="/v1/chat/completions", status="200")
    base_before = value(before, "request_success_total", model_name=SERVED_NAME, finish_reason="length")
    trace_id = secrets.token_hex(16)
    response = requests.post(base + "/v1/chat/completions", timeout=120,
                             headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
                             json={"model": "violet", "messages": PROMPT, "max_tokens": 6, "ignore_eos": True, "temperature": 0})
    assert response.status_code == 200 and response.json()["model"] == "violet"

    # Per-request series carry the adapter's id; the engine's gauges stay the base model's.
    after = poll(lambda: (lambda s: s if value(s, "nim_request_total", model_name="violet", endpoint="/v1/chat/completions",
                                               status="200") > http_before else None)(scrape(base)))
    assert after, "nim_request_total never counted the adapter request"
    assert value(after, "request_success_total", model_name="violet", finish_reason="length") == requests_before + 1
    assert value(after, "request_success_total", model_name=SERVED_NAME, finish_reason="length") == base_before
    assert value(after, "time_to_first_token_seconds_count", model_name="violet") >= 1
    assert value(after, "generation_tokens_total", model_name="violet") >= 6
    running = [l["model_name"] for n, l, _ in after if n == "num_requests_running"]
    assert running == [SERVED_NAME], running
    # Labels never name what the server does not serve, and a removed adapter's series go.
    assert not [l for _, l, _ in after if l.get("model_name") in ("no-such-adapter", "too-big")]

    spans = poll(lambda: (lambda t: t if len(t) >= 5 else None)(receiver.trace(trace_id)), timeout=30)
    assert spans, "the adapter request's spans never arrived"
    generation = {s.name: s for s in spans}["chat violet"]
    assert generation.attributes["gen_ai.request.model"] == "violet"
    assert generation.attributes["gen_ai.response.model"] == "violet"

    status = requests.get(base + "/v1/status", timeout=10).json()
    adapters = {m["name"]: m for m in status["models"] if m["kind"] == "lora"}
    assert {"green", "violet"} <= set(adapters)
    assert all(m["parent"] == SERVED_NAME for m in adapters.values())
    # NIM_MAX_CPU_LORAS=1: only the adapter used last is in memory.
    assert adapters["violet"]["loaded"] is True and adapters["violet"]["rank"] == 8
    assert adapters["green"]["loaded"] is False and "rank" not in adapters["green"]
    page = render(base + "/")
    assert "violet (on " + SERVED_NAME + ", rank 8, in memory)" in page.texts["adapters"]
    assert "green (on " + SERVED_NAME + ", read at next use)" in page.texts["adapters"]


def test_a_removed_adapters_series_leave_the_metrics(lora_server, lora_client, source):
    shutil.copytree(source / "green", source / "brief")
    assert poll(lambda: "brief" in listed(lora_client), timeout=15)
    response = requests.post(lora_server + "/v1/chat/completions", timeout=120,
                             json={"model": "brief", "messages": PROMPT, "max_tokens": 4, "ignore_eos": True, "temperature": 0})
    assert response.status_code == 200
    assert poll(lambda: value(scrape(lora_server), "request_success_total", model_name="brief", finish_reason="length") == 1)
    shutil.rmtree(source / "brief")
    assert poll(lambda: "brief" not in listed(lora_client), timeout=15)
    assert not [n for n, l, _ in scrape(lora_server) if l.get("model_name") == "brief"]


def test_runtime_updates_are_off_by_default(server):
    response = requests.post(server + "/v1/load_lora_adapter", json={"lora_name": "x", "lora_path": "/tmp"})
    assert response.status_code == 404
    assert "NIMBUS_ALLOW_RUNTIME_LORA_UPDATING" in response.json()["error"]["message"]


def test_a_hugging_face_checkpoint_folder_serves_chat():
    proc, base, log = start_server("e2e-hf-checkpoint.log", NIM_MODEL_NAME=HF_LLAMA, NIM_SERVED_MODEL_NAME="tiny-llama")
    try:
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=60)
        card = listed(client)["tiny-llama"].model_dump()
        assert card["architecture"] == "llama" and card["weight_types"] == {"BF16": 20}
        response = client.chat.completions.create(model="tiny-llama", messages=PROMPT, max_tokens=8, temperature=0)
        assert response.usage.completion_tokens == 8 and response.choices[0].finish_reason == "length"
    finally:
        stop_server(proc, log)
