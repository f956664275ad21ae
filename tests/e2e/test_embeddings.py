"""Embeddings, ranking and reranking against the real server, which also serves the LLM.

The embedder is all-MiniLM-L6-v2 served as the NIM reference's embedding model name; the ranker
is the tiny random cross-encoder (its scores mean nothing, only their shape is checked), so the
relevance order is checked on the embedder's cosine ranking.
"""
import base64
import concurrent.futures
import math
import struct

import openai
import pytest
import requests

from conftest import EMBEDDER_NAME, RANKER_NAME, SERVED_NAME

SENTENCES = ["What is machine learning?", "How do neural networks work?", "Café crème brûlée — 東京"]


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def test_embeddings_float(client):
    r = client.embeddings.create(model=EMBEDDER_NAME, input=SENTENCES, encoding_format="float")
    assert r.object == "list" and r.model == EMBEDDER_NAME
    assert [d.index for d in r.data] == [0, 1, 2]
    for d in r.data:
        assert d.object == "embedding" and len(d.embedding) == 384
        assert abs(norm(d.embedding) - 1) < 1e-4
    assert r.usage.prompt_tokens == r.usage.total_tokens > 3 * 2


def f32(values):
    """Python floats rounded to float32, as the server holds them (JSON carries the shortest
    decimal that rounds back to the same float32)."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def test_embeddings_base64_is_what_the_client_decodes(client, server):
    # The client asks for base64 when no format is given and decodes it itself.
    default = client.embeddings.create(model=EMBEDDER_NAME, input=SENTENCES[0])
    as_float = client.embeddings.create(model=EMBEDDER_NAME, input=SENTENCES[0], encoding_format="float")
    assert len(default.data[0].embedding) == 384
    assert f32(default.data[0].embedding) == f32(as_float.data[0].embedding)
    raw = requests.post(server + "/v1/embeddings", json={"model": EMBEDDER_NAME, "input": SENTENCES[0],
                                                          "encoding_format": "base64"}, timeout=60).json()
    packed = base64.b64decode(raw["data"][0]["embedding"])
    assert list(struct.unpack("<384f", packed)) == f32(as_float.data[0].embedding)


def test_reference_embedding_body(server):
    body = {"model": "nvidia/nv-embedqa-e5-v5", "input": ["What is machine learning?"], "input_type": "query"}
    r = requests.post(server + "/v1/embeddings", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert len(r.json()["data"][0]["embedding"]) == 384


def test_concurrent_requests_get_their_own_vectors(client):
    single = {s: client.embeddings.create(model=EMBEDDER_NAME, input=s, encoding_format="float").data[0].embedding
              for s in SENTENCES}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(client.embeddings.create, model=EMBEDDER_NAME, input=SENTENCES[i % 3], encoding_format="float")
                for i in range(24)]
        for i, job in enumerate(jobs):
            assert job.result().data[0].embedding == single[SENTENCES[i % 3]]


def test_ranking_puts_relevant_passages_first(server):
    passages = [
        "The weather today is sunny with a light breeze.",
        "Deep learning is a subset of machine learning based on neural networks with many layers.",
        "Bananas are a good source of potassium.",
        "Neural networks learn representations from data; deep networks stack many layers.",
        "The stock market closed higher on Friday.",
    ]
    body = {"model": EMBEDDER_NAME, "query": {"text": "What is deep learning?"},
            "passages": [{"text": p} for p in passages]}
    r = requests.post(server + "/v1/ranking", json=body, timeout=60)
    assert r.status_code == 200, r.text
    rankings = r.json()["rankings"]
    assert sorted(x["index"] for x in rankings) == list(range(5))
    assert {x["index"] for x in rankings[:2]} == {1, 3}
    assert [x["logit"] for x in rankings] == sorted((x["logit"] for x in rankings), reverse=True)


def test_reference_ranking_body_on_the_cross_encoder(server):
    body = {"model": "nvidia/nv-rerankqa-mistral-4b-v3", "query": {"text": "What is deep learning?"},
            "passages": [{"text": "Deep learning is a subset of machine learning..."},
                         {"text": "The weather today is sunny..."}]}
    r = requests.post(server + "/v1/ranking", json=body, timeout=60)
    assert r.status_code == 200, r.text
    rankings = r.json()["rankings"]
    assert sorted(x["index"] for x in rankings) == [0, 1]
    assert rankings[0]["logit"] >= rankings[1]["logit"]


def test_rerank_shape(server):
    body = {"model": RANKER_NAME, "query": "capital of france", "top_n": 2, "return_documents": True,
            "documents": ["bananas", {"text": "paris is the capital of france."}, "who wrote hamlet?"]}
    r = requests.post(server + "/v1/rerank", json=body, timeout=60)
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["results"]) == 2
    for result in out["results"]:
        assert set(result) == {"index", "relevance_score", "document"}
        assert 0 < result["relevance_score"] < 1
    assert out["usage"]["total_tokens"] > 0
    plain = requests.post(server + "/v1/rerank", json={"model": EMBEDDER_NAME, "query": "q", "documents": ["a", "b"]},
                          timeout=60).json()
    assert all("document" not in x for x in plain["results"]) and len(plain["results"]) == 2


def test_models_say_how_they_rank(client):
    models = {m.id: m for m in client.models.list().data}
    assert models[EMBEDDER_NAME].model_extra["ranking_method"] == "cosine_similarity"
    assert models[RANKER_NAME].model_extra["ranking_method"] == "cross_encoder"


@pytest.mark.parametrize("body,param", [
    ({"model": EMBEDDER_NAME, "input": ""}, "input"),
    ({"model": EMBEDDER_NAME, "input": []}, "input"),
    ({"model": EMBEDDER_NAME, "input": ["ok", ""]}, "input"),
    ({"model": EMBEDDER_NAME, "input": ["x"] * 2049}, "input"),
    ({"model": EMBEDDER_NAME, "input": 5}, "input"),
    ({"model": EMBEDDER_NAME, "input": [{"text": "x"}]}, "input"),
    ({"model": EMBEDDER_NAME, "input": "x", "dimensions": 64}, "dimensions"),
    ({"model": EMBEDDER_NAME, "input": "word " * 400}, "input"),
    ({"model": SERVED_NAME, "input": "x"}, "model"),
    ({"model": RANKER_NAME, "input": "x"}, "model"),
])
def test_bad_embedding_requests(server, body, param):
    r = requests.post(server + "/v1/embeddings", json=body, timeout=60)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param


def test_too_long_input_names_the_numbers(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model=EMBEDDER_NAME, input="word " * 400, encoding_format="float")
    assert "402" in e.value.body["message"] and "256" in e.value.body["message"]
    r = client.embeddings.create(model=EMBEDDER_NAME, input="word " * 400, encoding_format="float",
                                 extra_body={"truncate": "END"})
    assert r.usage.prompt_tokens == 256


def test_chat_on_an_encoder_is_refused(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=EMBEDDER_NAME, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["param"] == "model" and "embedding" in e.value.body["message"]


def test_non_utf8_and_huge_bodies(server):
    r = requests.post(server + "/v1/embeddings", data=b'{"model": "x", "input": "\xff\xfe"}', timeout=10)
    assert r.status_code == 400
    r = requests.post(server + "/v1/embeddings", data=b" " * (8 << 20 | 1), timeout=60)
    assert r.status_code == 413
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
