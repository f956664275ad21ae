"""The other model families served end to end: Gemma 3 270M (gemma3, SentencePiece vocabulary,
no template in the file), Qwen2.5-Coder-1.5B (qwen2, its own ChatML template), the tiny Mixtral
(llama with experts) and the other tiny models (Fixtures/tiny, Qwen2/Qwen3-MoE included), in one
`nimbus serve`, through the official OpenAI client.

Greedy chat answers are compared with llama.cpp's greedy continuation of the same conversation
(Tests/NimbusModelsTests/Fixtures/family_*.json, recorded by gen_family_fixtures.py from the
jinja2 rendering of each model's template, prompt fed one token per step). The server prefills
the prompt in one batch, whose attention sums in another order, so the answer must be llama.cpp's
up to its first step whose top-2 gap is below twice llama.cpp's own layout spread
(`decisive_text`), or end its turn within that text.
"""
import json
import os
import struct

import openai
import pytest

import server_util

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
FIXTURES = os.path.join(ROOT, "Tests/NimbusModelsTests/Fixtures")
MODELS_DIR = os.path.dirname(os.environ.get("NIMBUS_MODEL_PATH", ""))
FAMILIES = {
    # served name: (file, fixture, architecture)
    "google/gemma-3-270m-it": ("gemma-3-270m-Q4_K_M.gguf", "family_gemma3.json", "gemma3"),
    "qwen/qwen2.5-coder-1.5b-instruct": ("qwen2.5-coder-1.5b-instruct-Q4_K_M.gguf", "family_qwen2.json", "qwen2"),
}
TINY_MOE = ("tiny/mixtral", os.path.join(FIXTURES, "tiny/mixtral.q8_0.gguf"))
# The tiny random-weight models of the architectures with no small real file: (name, file, arch).
TINY = [("tiny/qwen3", "qwen3.q4_k_m", "qwen3"), ("tiny/gemma2", "gemma2.q4_k_m", "gemma2"),
        ("tiny/phi3", "phi3.q4_k_m", "phi3"), ("tiny/llama-spm", "llama_spm.q4_k_m", "llama"),
        ("tiny/llama3", "llama3.q4_k_m", "llama"), ("tiny/gemma", "gemma.q4_k_m", "gemma"),
        ("tiny/qwen3moe", "qwen3moe.q4_k_m", "qwen3moe"), ("tiny/qwen2moe", "qwen2moe.q4_k_m", "qwen2moe"),
        ("tiny/llama-linear", "llama_linear.q4_k_m", "llama"), ("tiny/llama-yarn", "llama_yarn.q4_k_m", "llama"),
        ("tiny/phi3-longrope", "phi3_longrope.q4_k_m", "phi3"), ("tiny/mistral", "mistral.q4_k_m", "llama"),
        ("tiny/phi2", "phi2.q4_k_m", "phi2"), ("tiny/starcoder2", "starcoder2.q4_k_m", "starcoder2"),
        ("tiny/phi2-fused", "phi2_fused.q4_k_m", "phi2")]


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    paths = [os.path.join(MODELS_DIR, f) for f, _, _ in FAMILIES.values()]
    for path in paths:
        assert os.path.exists(path), f"{path} is missing (make family-models fetches it)"
    paths += [TINY_MOE[1]] + [os.path.join(FIXTURES, f"tiny/{file}.gguf") for _, file, _ in TINY]
    names = list(FAMILIES) + [TINY_MOE[0]] + [name for name, _, _ in TINY]
    log = str(tmp_path_factory.mktemp("families") / "families.log")
    proc, base, handle = server_util.start(log, NIM_MODEL_NAME=",".join(paths),
                                           NIM_SERVED_MODEL_NAME=",".join(names), NIMBUS_MATMUL_ORDER="ggml")
    yield base
    server_util.stop(proc, handle)


@pytest.fixture(scope="module")
def client(families):
    return openai.OpenAI(base_url=families + "/v1", api_key="unused", max_retries=0, timeout=300)


def test_models_lists_each_family_with_its_metadata(client):
    cards = {m.id: m.model_dump() for m in client.models.list().data}
    for name, (_, _, arch) in FAMILIES.items():
        card = cards[name]
        assert card["architecture"] == arch
        assert card["context_length"] == 32768 and card["max_model_len"] > 0
        assert sum(card["weight_types"].values()) > 100 and "Q4_K" in card["weight_types"]
    assert 250e6 < cards["google/gemma-3-270m-it"]["parameters"] < 300e6
    # Every tensor counted, as llama.cpp does: this file's separate output head makes it 1.78B.
    assert 1.7e9 < cards["qwen/qwen2.5-coder-1.5b-instruct"]["parameters"] < 1.8e9
    assert cards[TINY_MOE[0]]["architecture"] == "llama"


@pytest.mark.parametrize("name", list(FAMILIES))
def test_greedy_chat_is_llama_cpps_and_streams_the_same(client, name):
    _, fixture_file, _ = FAMILIES[name]
    with open(os.path.join(FIXTURES, fixture_file), encoding="utf-8") as f:
        fixture = json.load(f)
    cases = {c["name"]: c for c in fixture["cases"]}
    checked = 0
    for chat in fixture["chats"]:
        case = cases[chat["name"]]
        answer = client.chat.completions.create(model=name, messages=chat["messages"], temperature=0,
                                                max_tokens=fixture["steps"])
        text = answer.choices[0].message.content
        assert answer.usage.prompt_tokens == len(case["prompt"])
        checked += len(case["decisive_text"])
        if answer.choices[0].finish_reason == "stop":
            assert text and (text.startswith(case["decisive_text"]) or case["decisive_text"].startswith(text)), chat["name"]
        else:
            assert answer.choices[0].finish_reason == "length" and text.startswith(case["decisive_text"]), chat["name"]
        stream = client.chat.completions.create(model=name, messages=chat["messages"], temperature=0,
                                                max_tokens=fixture["steps"], stream=True)
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == answer.choices[0].finish_reason
    assert checked > 0  # some answer text was held to llama.cpp's


@pytest.mark.parametrize("name, arch", [(TINY_MOE[0], "llama")] + [(name, arch) for name, _, arch in TINY])
def test_every_architecture_chats_and_streams(client, name, arch):
    """Each tiny model (Mixtral's experts included) answers through its own chat template, and
    the stream carries the same text as the whole answer."""
    cards = {m.id: m.model_dump() for m in client.models.list().data}
    assert cards[name]["architecture"] == arch
    messages = [{"role": "user", "content": "Hello, who are you?"}]
    answer = client.chat.completions.create(model=name, messages=messages, max_tokens=8, temperature=0)
    assert answer.usage.completion_tokens > 0 and answer.usage.prompt_tokens > 3
    chunks = list(client.chat.completions.create(model=name, messages=messages, max_tokens=8, temperature=0,
                                                 stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == answer.choices[0].message.content


def gguf_bytes(metadata):
    """A GGUF v3 file with string metadata and no tensors."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)))
    for key, value in metadata.items():
        out += struct.pack("<Q", len(key.encode())) + key.encode()
        out += struct.pack("<I", 8) + struct.pack("<Q", len(value.encode())) + value.encode()
    return bytes(out)


def test_unsupported_architecture_is_one_line(tmp_path):
    path = tmp_path / "mamba.gguf"
    path.write_bytes(gguf_bytes({"general.architecture": "mamba"}))
    code, output = server_util.start_failure(str(tmp_path / "bad.log"), NIM_MODEL_NAME=str(path))
    lines = [line for line in output.splitlines() if "cannot load model" in line]
    assert code != 0 and len(lines) == 1, output
    assert str(path) in lines[0] and "'mamba'" in lines[0] and "gemma3" in lines[0] and "qwen2" in lines[0]


def test_missing_tensor_is_one_line_naming_it(tmp_path):
    with open(os.path.join(FIXTURES, "tiny/qwen3.q4_k_m.gguf"), "rb") as f:
        data = f.read()
    name = b"blk.1.attn_k_norm.weight"
    assert data.count(name) == 1
    path = tmp_path / "broken.gguf"
    path.write_bytes(data.replace(name, b"blk.1.attn_k_nrrm.weight"))
    code, output = server_util.start_failure(str(tmp_path / "broken.log"), NIM_MODEL_NAME=str(path))
    lines = [line for line in output.splitlines() if "cannot load model" in line]
    assert code != 0 and len(lines) == 1, output
    assert "blk.1.attn_k_norm.weight" in lines[0]
    # The server names the file that failed (ModelLoadFailure), not only the tensor.
    assert f"cannot load model {path}:" in lines[0], lines[0]
