"""LoRA adapters served per request, through the official OpenAI client, on the default model.

The adapters are random PEFT adapters written by this test (fixed seeds, r=8, all seven
projections) into a NIM_PEFT_SOURCE folder, next to folders that must be skipped: a rank above
NIM_MAX_LORA_RANK, an empty folder and a truncated weights file. One server (refreshing the
folder every second, one adapter kept in memory so others are read again on demand, runtime
loading on) serves them all. Also: a Hugging Face checkpoint folder
(the tiny committed Llama) served as a language model.
"""
import array
import concurrent.futures
import json
import os
import random
import shutil
import struct
import time

import openai
import pytest
import requests

from conftest import SERVED_NAME, start_server, stop_server

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
def lora_server(source):
    proc, base, log = start_server("e2e-lora.log", NIM_PEFT_SOURCE=str(source), NIM_PEFT_REFRESH_INTERVAL="1",
                                   NIM_MAX_LORA_RANK="8", NIM_MAX_CPU_LORAS="1", NIMBUS_ALLOW_RUNTIME_LORA_UPDATING="true")
    yield base
    stop_server(proc, log)


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
