"""Bad input gets OpenAI's error body with a 4xx status, and the server keeps serving."""
import openai
import pytest
import requests


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) >= {"message", "type", "param", "code"}, body
    return body["error"]


def post(server, path, **kwargs):
    return requests.post(server + path, timeout=60, **kwargs)


def test_malformed_json(server):
    r = post(server, "/v1/chat/completions", data=b'{"model": "x", "messages": [', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert error_of(r)["type"] == "invalid_request_error"


def test_wrong_type(server, model):
    r = post(server, "/v1/chat/completions", json={"model": model, "messages": "hello"})
    assert r.status_code == 400
    assert error_of(r)["param"] == "messages"


def test_unknown_model(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["code"] == "model_not_found"


def test_empty_messages(server, model):
    r = post(server, "/v1/chat/completions", json={"model": model, "messages": []})
    assert r.status_code == 400
    assert error_of(r)["param"] == "messages"


@pytest.mark.parametrize("field,value", [("temperature", 2.5), ("top_p", 1.5), ("n", 0), ("max_tokens", 0),
                                         ("presence_penalty", -3), ("frequency_penalty", 9), ("top_logprobs", 50)])
def test_out_of_range(server, model, field, value):
    r = post(server, "/v1/chat/completions",
             json={"model": model, "messages": [{"role": "user", "content": "hi"}], field: value})
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["param"] == field
    assert str(value) in err["message"]


def test_prompt_plus_max_tokens_beyond_context(client, model):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=5000)
    message = e.value.body["message"]
    assert "2048" in message and "5000" in message


def test_prompt_longer_than_context(client, model):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=model, prompt="word " * 4000, max_tokens=1)
    assert "2047" in e.value.body["message"]


def test_unknown_route_and_method(server):
    r = requests.get(server + "/v1/nothing-here", timeout=10)
    assert r.status_code == 404
    error_of(r)


def test_server_still_serves_after_bad_input(client, model):
    for body in [b"", b"null", b"[]", b'{"model": 1}', b"\xff\xfe", b'{"model": "m", "messages": [{"role": "wizard", "content": "x"}]}']:
        r = requests.post(client.base_url.__str__().rstrip("/") + "/chat/completions", data=body, timeout=10)
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert r.choices[0].message.content is not None


def test_health(server):
    assert requests.get(server + "/v1/health/live", timeout=5).status_code == 200
    assert requests.get(server + "/v1/health/ready", timeout=5).status_code == 200
