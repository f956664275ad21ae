"""Speculative decoding through the official OpenAI client: with prompt lookup (on by default) and
with a draft model, greedy and seeded output is the same with and without it (the request field
`speculative: false`), also streamed; drafts show up in vLLM's Prometheus counters and on
/v1/status; a draft model of another vocabulary stops start-up with one line."""
import os

import openai
import requests

import server_util
from metrics_util import poll, scrape, value
from conftest import SERVED_NAME

PASSAGE = ("The lighthouse at Point Reyes was built in 1870 and stands on a cliff above the Pacific. "
           "Its first-order Fresnel lens, made in France, has 24 panels and weighs more than two tons. "
           "Keepers climbed 308 steps every night to wind the clockwork that turned the lens.")
COPY = [{"role": "user", "content": f"Repeat this text exactly, word for word.\n\n{PASSAGE}"}]


def chat(client, model, speculative, **kw):
    return client.chat.completions.create(model=model, messages=COPY, max_tokens=80,
                                          extra_body={"speculative": speculative, "ignore_eos": True}, **kw)


def streamed(client, model, speculative, **kw):
    stream = client.chat.completions.create(model=model, messages=COPY, max_tokens=80, stream=True,
                                            extra_body={"speculative": speculative, "ignore_eos": True}, **kw)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def speculation(server):
    return requests.get(server + "/v1/status", timeout=10).json()["speculation"]


def test_output_is_the_same_with_and_without_speculation(client, model, server):
    before = speculation(server)
    assert before["method"] == "ngram"
    plain = chat(client, model, False, temperature=0)
    fast = chat(client, model, True, temperature=0)
    assert fast.choices[0].message.content == plain.choices[0].message.content
    assert fast.usage.completion_tokens == plain.usage.completion_tokens == 80
    assert streamed(client, model, True, temperature=0) == plain.choices[0].message.content
    seeded = dict(temperature=0.7, top_p=0.9, seed=5)
    assert chat(client, model, True, **seeded).choices[0].message.content == \
        chat(client, model, False, **seeded).choices[0].message.content
    with_logprobs = dict(temperature=0, logprobs=True, top_logprobs=2)
    a = chat(client, model, True, **with_logprobs).choices[0].logprobs.content
    b = chat(client, model, False, **with_logprobs).choices[0].logprobs.content
    assert [(t.token, t.logprob, [x.token for x in t.top_logprobs]) for t in a] == \
        [(t.token, t.logprob, [x.token for x in t.top_logprobs]) for t in b]
    after = poll(lambda: (s := speculation(server))["accepted_tokens"] > before["accepted_tokens"] and s)
    # The copying prompt must actually have been drafted and accepted, or nothing was compared.
    assert after and after["drafts"] > before["drafts"]
    assert 0 < after["acceptance_rate"] <= 1
    # Measured from the engine's own step times (StepCost), within its clamp.
    assert 0.01 <= after["row_cost"] <= 4, after


def test_drafts_are_counted_under_vllms_metric_names(client, model, server):
    chat(client, model, True, temperature=0)
    samples = poll(lambda: (s := scrape(server)) and value(s, "spec_decode_num_accepted_tokens_total",
                                                           model_name=SERVED_NAME) > 0 and s)
    assert samples, "no accepted draft tokens counted"
    drafts = value(samples, "spec_decode_num_drafts_total", model_name=SERVED_NAME)
    proposed = value(samples, "spec_decode_num_draft_tokens_total", model_name=SERVED_NAME)
    accepted = value(samples, "spec_decode_num_accepted_tokens_total", model_name=SERVED_NAME)
    assert 0 < drafts <= proposed and 0 < accepted <= proposed
    rate = value(samples, "spec_decode_draft_acceptance_rate", model_name=SERVED_NAME)
    assert 0 < rate <= 1


def test_a_non_boolean_speculative_field_is_refused(server, model):
    body = {"model": model, "messages": COPY, "max_tokens": 4, "speculative": "no"}
    response = requests.post(server + "/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "speculative" in error["message"] and error["type"] == "invalid_request_error"


TINY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../Tests/NimbusModelsTests/Fixtures/tiny")


def test_a_draft_model_drafts_and_changes_nothing(tmp_path):
    """The served model loaded again as its own draft: greedy drafts are exactly what it decodes,
    so every draft token is accepted, and the text is what plain decoding gives."""
    model_path = os.environ["NIMBUS_MODEL_PATH"]
    proc, base, log = server_util.start(str(tmp_path / "draft.log"), NIM_DRAFT_MODEL_PATH=model_path,
                                        NIM_SPECDEC_ARGS='{"num_speculative_tokens": 4}')
    try:
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120)
        assert speculation(base)["method"] == "draft_model"
        plain = chat(client, SERVED_NAME, False, temperature=0)
        fast = chat(client, SERVED_NAME, True, temperature=0)
        assert fast.choices[0].message.content == plain.choices[0].message.content
        assert streamed(client, SERVED_NAME, True, temperature=0) == plain.choices[0].message.content
        s = poll(lambda: (s := speculation(base))["draft_tokens"] > 0 and s)
        assert s and s["accepted_tokens"] == s["draft_tokens"] and s["acceptance_rate"] == 1
    finally:
        server_util.stop(proc, log)


def test_a_draft_model_of_another_vocabulary_stops_start_up(tmp_path):
    draft = os.path.abspath(os.path.join(TINY, "llama3.q4_k_m.gguf"))
    code, output = server_util.start_failure(str(tmp_path / "bad-draft.log"), NIM_DRAFT_MODEL_PATH=draft)
    assert code != 0
    lines = [l for l in output.splitlines() if "share one vocabulary" in l]
    assert len(lines) == 1, output
    assert draft in lines[0] and os.environ["NIMBUS_MODEL_PATH"] in lines[0]
