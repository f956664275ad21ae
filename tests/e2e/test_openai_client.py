"""The official `openai` client against the real server and model."""
import pytest

CHAT = [{"role": "user", "content": "What is the capital of France?"}]


def test_models_lists_the_served_models(client, model):
    models = client.models.list().data
    assert [m.id for m in models] == ["meta/llama-3.1-8b-instruct", "nvidia/nv-embedqa-e5-v5",
                                      "nvidia/nv-rerankqa-mistral-4b-v3"]
    assert all(m.object == "model" for m in models)


def test_chat_completion(client, model):
    r = client.chat.completions.create(model=model, messages=CHAT, max_tokens=24, temperature=0)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    choice = r.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content.strip() != ""
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 10
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert 1 <= r.usage.completion_tokens <= 24


def test_chat_stream_matches_non_stream(client, model):
    whole = client.chat.completions.create(model=model, messages=CHAT, max_tokens=32, temperature=0)
    stream = client.chat.completions.create(model=model, messages=CHAT, max_tokens=32, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens
    assert len({c.id for c in chunks}) == 1


def test_max_tokens_gives_length(client, model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count from 1 to 100."}],
                                       max_tokens=5, temperature=0)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 5


def test_completions(client, model):
    r = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert r.object == "text_completion"
    assert r.choices[0].text.strip() != ""
    assert r.usage.completion_tokens <= 8
    stream = list(client.completions.create(model=model, prompt="The capital of France is", max_tokens=8,
                                            temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in stream if c.choices) == r.choices[0].text


def test_completions_default_max_tokens_is_16(client, model):
    r = client.completions.create(model=model, prompt="Once upon a time", temperature=0, extra_body={"ignore_eos": True})
    assert r.usage.completion_tokens == 16
    assert r.choices[0].finish_reason == "length"


def test_completions_several_prompts_and_token_prompt(client, model):
    r = client.completions.create(model=model, prompt=["Hello", "One, two,"], max_tokens=4, temperature=0, n=2)
    assert sorted(c.index for c in r.choices) == [0, 1, 2, 3]
    # Greedy choices of one prompt agree.
    by_index = {c.index: c.text for c in r.choices}
    assert by_index[0] == by_index[1] and by_index[2] == by_index[3]
    tokens = client.completions.create(model=model, prompt=[504, 3575, 282, 4649, 314], max_tokens=4, temperature=0)
    assert tokens.usage.prompt_tokens == 5


def test_stop_string_is_cut_and_never_leaks(client, model):
    base = client.completions.create(model=model, prompt="1, 2, 3, 4,", max_tokens=16, temperature=0).choices[0].text
    assert " 7" in base, base
    stopped = client.completions.create(model=model, prompt="1, 2, 3, 4,", max_tokens=16, temperature=0, stop=[" 7"])
    assert stopped.choices[0].text == base[: base.index(" 7")]
    assert stopped.choices[0].finish_reason == "stop"
    pieces = [c.choices[0].text for c in client.completions.create(
        model=model, prompt="1, 2, 3, 4,", max_tokens=16, temperature=0, stop=[" 7"], stream=True) if c.choices]
    assert "".join(pieces) == stopped.choices[0].text


def test_seed_reproducible_and_n(client, model):
    args = dict(model=model, messages=[{"role": "user", "content": "Write a word."}], max_tokens=12,
                temperature=1.0, top_p=0.95, seed=1234, n=2)
    a = client.chat.completions.create(**args)
    b = client.chat.completions.create(**args)
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert len(a.choices) == 2 and [c.index for c in a.choices] == [0, 1]


def test_logprobs(client, model):
    r = client.chat.completions.create(model=model, messages=CHAT, max_tokens=6, temperature=0,
                                       logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        # Greedy: the chosen token is the most likely one.
        assert entry.top_logprobs[0].logprob == pytest.approx(entry.logprob, abs=1e-5)
    c = client.completions.create(model=model, prompt="The sky is", max_tokens=4, temperature=0, logprobs=2)
    assert len(c.choices[0].logprobs.tokens) == c.usage.completion_tokens
    assert all(len(t) <= 2 for t in c.choices[0].logprobs.top_logprobs)


def test_logit_bias_forces_a_token(client, model):
    # Token 1000 is an ordinary word piece, never the greedy choice after "Hello".
    plain = client.completions.create(model=model, prompt="Hello", max_tokens=3, temperature=0, logprobs=0)
    forced = client.completions.create(model=model, prompt="Hello", max_tokens=3, temperature=0, logprobs=0,
                                       logit_bias={"1000": 100}, extra_body={"ignore_eos": True})
    tokens = forced.choices[0].logprobs.tokens
    assert len(tokens) == 3 and len(set(tokens)) == 1
    assert tokens != plain.choices[0].logprobs.tokens
