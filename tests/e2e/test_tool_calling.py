"""Tool calling and reasoning against the real `nimbus serve`, with the official openai client.

Qwen2.5-Coder-1.5B-Instruct (hermes-style tool template) runs the tool loop: `auto` lets it
choose, `required` and a named function decode under the call grammar so the arguments always
parse and validate (checked with Python `jsonschema`, not our code). The default model, whose
template cannot show tools, gets them described in a system turn and must still produce valid
calls under `required`.
"""
import json
import os

import jsonschema
import openai
import pytest
import requests

import server_util

QWEN_NAME = "qwen/qwen2.5-coder-1.5b-instruct"
QWEN_PATH = os.path.join(os.path.dirname(os.environ.get("NIMBUS_MODEL_PATH", "")), "qwen2.5-coder-1.5b-instruct-Q4_K_M.gguf")

WEATHER = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40},
                                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
           "required": ["city", "unit"], "additionalProperties": False}
TIME = {"type": "object", "properties": {"timezone": {"type": "string", "maxLength": 40}},
        "required": ["timezone"], "additionalProperties": False}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city.", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "description": "Current time in a time zone.", "parameters": TIME}},
]
SCHEMAS = {"get_weather": WEATHER, "get_time": TIME}


@pytest.fixture(scope="module")
def qwen(tmp_path_factory):
    assert os.path.exists(QWEN_PATH), f"{QWEN_PATH} is missing (make family-models fetches it)"
    log = str(tmp_path_factory.mktemp("tools") / "qwen.log")
    proc, base, handle = server_util.start(log, NIM_MODEL_NAME=QWEN_PATH, NIM_SERVED_MODEL_NAME=QWEN_NAME)
    yield openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=300)
    server_util.stop(proc, handle)


def check_calls(calls):
    """Every call names a declared tool and its arguments parse and validate."""
    assert calls, "no tool call"
    for call in calls:
        assert call.type == "function" and call.id.startswith("call_")
        arguments = json.loads(call.function.arguments)
        jsonschema.validate(arguments, SCHEMAS[call.function.name])


def streamed(client, **kwargs):
    """Runs a streamed request; returns (content, calls as [(id, name, arguments)], finish reason)."""
    content, calls, finish = "", {}, None
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        choice = chunk.choices[0]
        delta = choice.delta
        content += delta.content or ""
        for piece in delta.tool_calls or []:
            if piece.index not in calls:
                # The first fragment of a call carries its id and name.
                assert piece.id and piece.function.name, piece
                calls[piece.index] = [piece.id, piece.function.name, ""]
            calls[piece.index][2] += piece.function.arguments or ""
        finish = choice.finish_reason or finish
    return content, [tuple(calls[i]) for i in sorted(calls)], finish


WEATHER_QUESTION = [{"role": "user", "content": "What is the weather like in Paris right now, in celsius?"}]
# An agent's usual instruction; without it this 1.5B coder model answers a tool result by
# repeating the call (its template's example reads `{{"name": ...}}`, which it copies).
AGENT = [{"role": "system", "content": "You are a helpful assistant. When a tool result arrives, answer the user's question in one sentence using it."}]


@pytest.mark.parametrize("stream", [False, True])
def test_auto_tool_loop(qwen, stream):
    """Call, tool result, final answer, with tool_choice auto."""
    args = dict(model=QWEN_NAME, messages=AGENT + WEATHER_QUESTION, tools=TOOLS, tool_choice="auto", max_tokens=200, temperature=0)
    if stream:
        _, calls, finish = streamed(qwen, **args)
        assert finish == "tool_calls" and calls
        call_id, name, arguments = calls[0]
    else:
        reply = qwen.chat.completions.create(**args)
        assert reply.choices[0].finish_reason == "tool_calls"
        check_calls(reply.choices[0].message.tool_calls)
        call = reply.choices[0].message.tool_calls[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
    assert name == "get_weather"
    assert "paris" in json.loads(arguments)["city"].lower()
    history = AGENT + WEATHER_QUESTION + [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": json.dumps({"temperature_c": 18, "sky": "sunny"})},
    ]
    final = qwen.chat.completions.create(model=QWEN_NAME, messages=history, tools=TOOLS, tool_choice="auto",
                                         max_tokens=120, temperature=0)
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "stop", message
    assert not message.tool_calls
    assert "18" in message.content


@pytest.mark.parametrize("stream", [False, True])
def test_required_always_calls_with_valid_arguments(qwen, stream):
    args = dict(model=QWEN_NAME, messages=[{"role": "user", "content": "Hello! How are you?"}], tools=TOOLS,
                tool_choice="required", max_tokens=200, temperature=0)
    if stream:
        content, calls, finish = streamed(qwen, **args)
        assert finish == "tool_calls" and calls and not content.strip()
        for _, name, arguments in calls:
            jsonschema.validate(json.loads(arguments), SCHEMAS[name])
    else:
        reply = qwen.chat.completions.create(**args)
        assert reply.choices[0].finish_reason == "tool_calls"
        check_calls(reply.choices[0].message.tool_calls)


def test_a_named_function_is_the_one_called(qwen):
    reply = qwen.chat.completions.create(model=QWEN_NAME, messages=WEATHER_QUESTION, tools=TOOLS, max_tokens=200, temperature=0,
                                         tool_choice={"type": "function", "function": {"name": "get_time"}})
    calls = reply.choices[0].message.tool_calls
    check_calls(calls)
    assert [c.function.name for c in calls] == ["get_time"]


def test_none_answers_in_text(qwen):
    reply = qwen.chat.completions.create(model=QWEN_NAME, messages=WEATHER_QUESTION, tools=TOOLS, tool_choice="none",
                                         max_tokens=60, temperature=0)
    assert not reply.choices[0].message.tool_calls
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason in ("stop", "length")


def test_the_default_model_calls_under_required(client, model):
    """SmolLM2's template cannot show tools: they are described in a system turn, and the call
    grammar still makes every call valid."""
    for stream in (False, True):
        args = dict(model=model, messages=WEATHER_QUESTION, tools=TOOLS, tool_choice="required", max_tokens=200, temperature=0)
        if stream:
            _, calls, finish = streamed(client, **args)
            assert finish == "tool_calls" and calls
            for _, name, arguments in calls:
                jsonschema.validate(json.loads(arguments), SCHEMAS[name])
        else:
            reply = client.chat.completions.create(**args)
            assert reply.choices[0].finish_reason == "tool_calls"
            check_calls(reply.choices[0].message.tool_calls)


def test_bad_tool_definitions_are_400(server, model):
    def post(**fields):
        body = dict(model=model, messages=WEATHER_QUESTION, max_tokens=5, **fields)
        return requests.post(server + "/v1/chat/completions", json=body, timeout=60)
    bad_schema = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "minProperties": 1}}}]
    response = post(tools=bad_schema, tool_choice="required")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "tools[0].function.parameters" and "minProperties" in error["message"]
    response = post(tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}})
    assert response.status_code == 400 and response.json()["error"]["param"] == "tool_choice"


@pytest.fixture(scope="module")
def reasoning_server(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("reasoning") / "reasoning.log")
    proc, base, handle = server_util.start(log, NIM_REASONING_PARSER="deepseek_r1")
    yield base
    server_util.stop(proc, handle)


# The grammar opens a think block, so the answer starts with reasoning; inside it the reasoning
# parser leaves the text free (constraints apply after the block), and this small model never
# closes it within max_tokens: the whole answer is reasoning.
THINKING = r'''root ::= "<think>\n" [a-z ]{3,30} "\n</think>\n\n" ("yes" | "no")'''


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_is_split_from_the_answer(reasoning_server, server, stream):
    body = dict(messages=[{"role": "user", "content": "Is the sky blue?"}], max_tokens=40, temperature=0, guided_grammar=THINKING)
    client = openai.OpenAI(base_url=reasoning_server + "/v1", api_key="unused", max_retries=0, timeout=120)
    model = client.models.list().data[0].id
    if stream:
        reasoning, content = "", ""
        for chunk in client.chat.completions.create(stream=True, model=model, extra_body={"guided_grammar": THINKING},
                                                    **{k: v for k, v in body.items() if k != "guided_grammar"}):
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            content += delta.content or ""
    else:
        reply = requests.post(reasoning_server + "/v1/chat/completions", json=dict(model=model, **body), timeout=120).json()
        message = reply["choices"][0]["message"]
        reasoning, content = message.get("reasoning_content") or "", message["content"] or ""
    assert reasoning.strip() and "<think>" not in reasoning and "</think>" not in reasoning
    assert content == ""
    # Without the parser, the same answer is content, think tag included.
    plain = requests.post(server + "/v1/chat/completions", json=dict(model=model, **body), timeout=120).json()
    plain_content = plain["choices"][0]["message"]["content"]
    assert plain_content.startswith("<think>") and "reasoning_content" not in plain["choices"][0]["message"]
