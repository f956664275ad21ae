"""Structured output (constrained decoding) against the real server and model.

Every JSON Schema under structured/schemas, with its prompts from structured/prompts.json, gives
output that parses and validates; so do the other spellings of a JSON constraint (vLLM's
guided_json, NIM's nvext, vLLM's structured_outputs, and /v1/completions), json_object mode,
regular expressions, choice lists and GBNF grammars; streaming, n, logprobs and max_tokens work
with a constraint; the official openai client's Pydantic helpers parse what comes back; and a
constraint that cannot be compiled is a 400 with OpenAI's error body naming the problem.
"""
import concurrent.futures
import copy
import enum
import json
import pathlib
import re
from typing import Annotated, Optional

import jsonschema
import pydantic
import pytest
import requests

HERE = pathlib.Path(__file__).parent / "structured"
SCHEMAS = {path.stem: json.loads(path.read_text()) for path in sorted((HERE / "schemas").glob("*.json"))}
PROMPTS = json.loads((HERE / "prompts.json").read_text())

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer with a JSON object."}
# Keywords the server refuses with a 400; the schema files must not use them.
REFUSED_KEYWORDS = {"uniqueItems", "minProperties", "maxProperties", "patternProperties", "if", "then", "else",
                    "not", "dependentRequired"}


# --- Helpers ---------------------------------------------------------------------------------------

def post(server, body, path="/v1/chat/completions"):
    return requests.post(server + path, json=body, timeout=300)


def chat_body(model, prompt, max_tokens=512, **fields):
    """A greedy chat request; `fields` adds the constraint and anything else."""
    return {"model": model, "messages": [SYSTEM, {"role": "user", "content": prompt}],
            "max_tokens": max_tokens, "temperature": 0, **fields}


def completion_body(model, prompt, max_tokens=512, **fields):
    return {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, **fields}


def generate(server, body, path="/v1/chat/completions"):
    """Posts a request that must succeed; returns (text, finish_reason) of its first choice."""
    response = post(server, body, path)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    text = choice["message"]["content"] if "message" in choice else choice["text"]
    return text, choice["finish_reason"]


def json_schema_format(name, schema):
    """OpenAI's response_format for a schema, strict as the openai client sends it."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def constraint(spelling, kind, value):
    """The request fields that carry one constraint (kind: json, regex, choice or grammar) in one of the
    spellings the server accepts: vLLM's top-level guided_*, NIM's nvext, or vLLM's structured_outputs."""
    if spelling == "guided":
        return {f"guided_{kind}": value}
    if spelling == "nvext":
        return {"nvext": {f"guided_{kind}": value}}
    assert spelling == "structured_outputs"
    return {"structured_outputs": {kind: value}}


SPELLINGS = ["guided", "nvext", "structured_outputs"]


def subschemas(schema):
    """The schema and every schema inside it, through the keywords the schema files use."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("properties", "$defs", "definitions"):
        for sub in schema.get(key, {}).values():
            yield from subschemas(sub)
    for key in ("items", "additionalProperties"):
        yield from subschemas(schema.get(key))
    for key in ("prefixItems", "anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from subschemas(sub)


def validator(schema):
    """A validator for the schema's declared draft (2020-12 when none) that checks formats too.

    The draft's own FORMAT_CHECKER, not a bare jsonschema.FormatChecker(): the bare one mixes all
    drafts, and its "time" is draft 3's HH:MM:SS, where 2020-12 means RFC 3339 (with an offset).
    `nullable: true` is OpenAPI 3.0, not JSON Schema: jsonschema ignores it and would refuse the null
    the server may rightly produce, so a copy with `type: [t, "null"]` is validated against instead."""
    schema = copy.deepcopy(schema)
    for sub in subschemas(schema):
        if sub.get("nullable") is True and isinstance(sub.get("type"), str):
            sub["type"] = [sub["type"], "null"]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def problem_with(text, finish_reason, schema):
    """Why `text` is not a finished, valid instance of `schema`; None when it is."""
    if finish_reason != "stop":
        return f"finish_reason {finish_reason!r}, expected 'stop'"
    try:
        instance = json.loads(text)
    except (TypeError, json.JSONDecodeError) as e:
        return f"not JSON: {e}"
    errors = sorted(validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    if errors:
        return "; ".join(f"at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors[:3])
    return None


def assert_valid(text, finish_reason, schema):
    problem = problem_with(text, finish_reason, schema)
    assert problem is None, f"{problem}\noutput: {text!r}"
    return json.loads(text)


# --- The schema files themselves (no server needed) ------------------------------------------------

def is_bounded(schema):
    """Whether a small model can end this subschema soon: arrays have maxItems <= 4 (or are closed
    tuples), free strings have maxLength <= 40; a pattern, format, enum or const bounds a string."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "array" in types and not (schema.get("maxItems", 99) <= 4 or schema.get("items") is False):
        return False
    if "string" in types and not {"pattern", "format", "enum", "const"} & set(schema):
        return schema.get("maxLength", 99) <= 40
    return True


def test_schema_files_are_valid_schemas_within_the_supported_subset():
    assert len(SCHEMAS) >= 30
    for name, schema in SCHEMAS.items():
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as e:
            pytest.fail(f"{name}.json is not a valid schema: {e.message}")
        used = {key for sub in subschemas(schema) for key in sub} & REFUSED_KEYWORDS
        assert not used, f"{name}.json uses keywords the server refuses: {sorted(used)}"
        assert PROMPTS.get(name), f"{name}.json has no prompts in prompts.json"
        for sub in subschemas(schema):
            assert is_bounded(sub), f"{name}.json: unbounded for a small model: {json.dumps(sub)[:120]}"
    assert set(PROMPTS) == set(SCHEMAS), "prompts.json names a schema file that does not exist"


def test_every_format_the_schemas_use_is_checked():
    """A format checker silently passes formats whose optional checker is not installed (date-time and
    time need rfc3339-validator): fail here instead of validating less than it seems."""
    for name, schema in SCHEMAS.items():
        used = {sub["format"] for sub in subschemas(schema) if "format" in sub}
        missing = used - set(validator(schema).format_checker.checkers)
        assert not missing, f"{name}.json: formats not checked: {sorted(missing)}"


# --- Every schema with every prompt ----------------------------------------------------------------

@pytest.fixture(scope="module")
def schema_results(server, model):
    """Sends every schema x prompt request, 8 at a time so the suite is quick; returns
    {schema name: [(prompt, output, problem or None), ...]}."""
    def run(name, prompt):
        # Room for a recursive schema's tree (nesting is bounded by the server, branching by the
        # schema): the OpenAI UI example fills ~1,200 tokens at four levels and two children.
        body = chat_body(model, prompt, max_tokens=1536, response_format=json_schema_format(name, SCHEMAS[name]))
        try:
            response = post(server, body)
        except requests.RequestException as e:
            return name, prompt, None, f"request failed: {e}"
        if response.status_code != 200:
            return name, prompt, response.text, f"HTTP {response.status_code}"
        choice = response.json()["choices"][0]
        text = choice["message"]["content"]
        return name, prompt, text, problem_with(text, choice["finish_reason"], SCHEMAS[name])

    jobs = [(name, prompt) for name in SCHEMAS for prompt in PROMPTS[name]]
    results = {name: [] for name in SCHEMAS}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for name, prompt, text, problem in pool.map(lambda job: run(*job), jobs):
            results[name].append((prompt, text, problem))
    return results


def test_every_schema_was_sent(schema_results):
    assert len(schema_results) == len(SCHEMAS) >= 30
    assert sum(map(len, schema_results.values())) >= 64


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_output_is_valid(schema_results, name):
    failures = [f"  schema {name}.json, prompt {prompt!r}:\n    {problem}\n    output: {text!r}"
                for prompt, text, problem in schema_results[name] if problem]
    assert not failures, f"{len(failures)} of {len(schema_results[name])} outputs invalid:\n" + "\n".join(failures)


# --- Other spellings of a JSON Schema constraint ---------------------------------------------------

WEATHER = SCHEMAS["openai_get_weather"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize("spelling", SPELLINGS + ["guided_json as a string"])
def test_json_schema_spellings(server, model, path, spelling):
    if spelling == "guided_json as a string":
        fields = {"guided_json": json.dumps(WEATHER)}  # vLLM also takes the schema serialised
    else:
        fields = constraint(spelling, "json", WEATHER)
    if path == "/v1/chat/completions":
        body = chat_body(model, "What is the weather like in Paris today?", **fields)
    else:
        body = completion_body(model, "A weather request for Paris, as JSON:\n", **fields)
    assert_valid(*generate(server, body, path), WEATHER)


def test_json_object_mode(server, model):
    # A prompt whose short greedy answer closes its object: "Describe a cat as a JSON object."
    # did so in the blocked order, but in ggml's (the default without AVX-512 VNNI) it repeats one
    # phrase inside a string until max_tokens, which shows nothing about the mode.
    body = chat_body(model, "Describe a cat as a JSON object with its name and age.", response_format={"type": "json_object"})
    text, finish = generate(server, body)
    assert finish == "stop", text
    assert isinstance(json.loads(text), dict), text


# --- Regular expressions, choices and grammars -----------------------------------------------------

REGEXES = {
    "phone": (r"\(\d{3}\) \d{3}-\d{4}", "What is the phone number of a pizza shop in New York?"),
    "iso date": (r"\d{4}-\d{2}-\d{2}", "When did the first man land on the moon?"),
    "email": (r"[a-z]{1,12}@[a-z]{1,12}\.(com|org|net)", "Write an email address for a bakery."),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("case", sorted(REGEXES))
def test_regex(server, model, spelling, case):
    pattern, prompt = REGEXES[case]
    text, finish = generate(server, chat_body(model, prompt, **constraint(spelling, "regex", pattern)))
    assert finish == "stop", text
    assert re.fullmatch(pattern, text, re.ASCII), text


def test_regex_on_completions(server, model):
    pattern, _ = REGEXES["iso date"]
    text, finish = generate(server, completion_body(model, "The first moon landing was on ", guided_regex=pattern),
                            "/v1/completions")
    assert finish == "stop" and re.fullmatch(pattern, text, re.ASCII), text


SENTIMENTS = ["positive", "negative", "neutral"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_choice(server, model, spelling):
    body = chat_body(model, "Classify the sentiment: 'I love this phone!'", **constraint(spelling, "choice", SENTIMENTS))
    text, finish = generate(server, body)
    assert finish == "stop" and text in SENTIMENTS, text


def test_choice_on_completions(server, model):
    text, finish = generate(server, completion_body(model, "Is the sky green? Answer: ", guided_choice=["yes", "no"]),
                            "/v1/completions")
    assert finish == "stop" and text in ("yes", "no"), text


YES_NO = 'root ::= "yes" | "no"'
# llama.cpp GBNF: comments, character classes, repetition and a recursive rule (parentheses).
ARITHMETIC = r"""
# An arithmetic expression over non-negative integers. Repetition is bounded, as it should be for
# a small model: an unbounded grammar lets it write "10 + 10 + ..." until max_tokens.
root   ::= expr
expr   ::= term (ws ("+" | "-") ws term){0,3}
term   ::= factor (ws ("*" | "/") ws factor){0,3}
factor ::= number | "(" ws expr ws ")"
number ::= [0-9]{1,6}
ws     ::= [ ]?
"""
FLAT_EXPRESSION = r"[0-9]+(?: ?[-+*/] ?[0-9]+)*"  # an expression without parentheses


def is_arithmetic(text):
    """The language of ARITHMETIC, checked with regular expressions: replace innermost parenthesised
    flat expressions by a number until none is left, then the rest must be a flat expression."""
    innermost = re.compile(r"\( ?" + FLAT_EXPRESSION + r" ?\)")
    while True:
        reduced = innermost.sub("0", text)
        if reduced == text:
            return re.fullmatch(FLAT_EXPRESSION, text) is not None
        text = reduced


def test_arithmetic_language_check():
    """The checker itself, so a failure below is about the server."""
    assert all(map(is_arithmetic, ["1", "2+3", "(1 + 2) * 3", "((4))", "7 / (2 - (1*1))"]))
    assert not any(map(is_arithmetic, ["", "1+", "(1", "1)", " 1", "a", "1 +  2", "()"]))


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_grammar_yes_no(server, model, spelling):
    body = chat_body(model, "Is Paris the capital of France?", **constraint(spelling, "grammar", YES_NO))
    text, finish = generate(server, body)
    assert finish == "stop" and text in ("yes", "no"), text


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_grammar_arithmetic(server, model, spelling):
    body = chat_body(model, "Write an arithmetic expression that equals 10.", **constraint(spelling, "grammar", ARITHMETIC))
    text, finish = generate(server, body)
    assert finish == "stop", text
    assert is_arithmetic(text), text


def test_grammar_on_completions(server, model):
    text, finish = generate(server, completion_body(model, "Two plus two, as an expression: ", guided_grammar=ARITHMETIC),
                            "/v1/completions")
    assert finish == "stop" and is_arithmetic(text), text


# --- Streaming, n, logprobs, max_tokens --------------------------------------------------------------

def test_streamed_output_validates_and_equals_the_greedy_output(client, model):
    schema = SCHEMAS["openai_calendar_event"]
    kwargs = dict(model=model, max_tokens=512, temperature=0,
                  messages=[SYSTEM, {"role": "user", "content": PROMPTS["openai_calendar_event"][0]}],
                  response_format=json_schema_format("openai_calendar_event", schema))
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert_valid(text, finishes[-1] if finishes else None, schema)
    assert text == whole.choices[0].message.content


def test_n_sampled_choices_all_validate(server, model):
    schema = SCHEMAS["support_ticket"]
    body = chat_body(model, PROMPTS["support_ticket"][0], n=3, temperature=0.8, seed=11,
                     response_format=json_schema_format("support_ticket", schema))
    response = post(server, body)
    assert response.status_code == 200, response.text
    choices = response.json()["choices"]
    assert sorted(c["index"] for c in choices) == [0, 1, 2]
    for c in choices:
        assert_valid(c["message"]["content"], c["finish_reason"], schema)


def test_logprobs_with_a_constraint(server, model):
    schema = SCHEMAS["sentiment"]
    body = chat_body(model, PROMPTS["sentiment"][0], logprobs=True, top_logprobs=3,
                     response_format=json_schema_format("sentiment", schema))
    response = post(server, body)
    assert response.status_code == 200, response.text
    choice = response.json()["choices"][0]
    assert_valid(choice["message"]["content"], choice["finish_reason"], schema)
    tokens = choice["logprobs"]["content"]
    assert tokens, choice
    for t in tokens:
        assert t["logprob"] <= 0, t
        assert 1 <= len(t["top_logprobs"]) <= 3, t
        assert all(alt["logprob"] <= 0 for alt in t["top_logprobs"]), t


def test_max_tokens_truncates_and_says_length(server, model):
    schema = SCHEMAS["github_issue"]
    body = chat_body(model, PROMPTS["github_issue"][0], max_tokens=5,
                     response_format=json_schema_format("github_issue", schema))
    response = post(server, body)
    assert response.status_code == 200, response.text
    r = response.json()
    assert r["choices"][0]["finish_reason"] == "length"
    assert r["usage"]["completion_tokens"] == 5
    # Five tokens cannot hold a whole issue: the output is a prefix, not a valid instance.
    with pytest.raises(json.JSONDecodeError):
        json.loads(r["choices"][0]["message"]["content"])


# --- The openai client's Pydantic helpers -------------------------------------------------------------

class Mood(str, enum.Enum):
    loved = "loved"
    liked = "liked"
    disliked = "disliked"


class MovieReview(pydantic.BaseModel):
    # Every string has a max_length so that a small model's output ends.
    title: str = pydantic.Field(max_length=30)
    stars: int = pydantic.Field(ge=1, le=5)
    mood: Mood
    highlights: list[Annotated[str, pydantic.Field(max_length=20)]] = pydantic.Field(max_length=3)
    reviewer: Optional[str] = pydantic.Field(default=None, max_length=20)


REVIEW_PROMPT = [{"role": "user", "content": "Review the movie Jurassic Park."}]


def helpers(client, name):
    """The client's `name` helper (parse or stream) wherever this openai version has it: on
    client.beta.chat.completions (openai >= 1.40) and/or client.chat.completions (newer)."""
    places = [getattr(getattr(getattr(client, "beta", None), "chat", None), "completions", None),
              client.chat.completions]
    found = [getattr(place, name) for place in places if hasattr(place, name)]
    if not found:
        pytest.skip(f"this openai version has no chat.completions.{name} helper")
    return found


def assert_review(review):
    assert isinstance(review, MovieReview), review
    assert 1 <= review.stars <= 5 and isinstance(review.mood, Mood)
    assert len(review.title) <= 30 and len(review.highlights) <= 3
    assert review.reviewer is None or len(review.reviewer) <= 20


def test_openai_client_parse(client, model):
    for parse in helpers(client, "parse"):
        completion = parse(model=model, messages=REVIEW_PROMPT, response_format=MovieReview, max_tokens=300,
                           temperature=0)
        assert completion.choices[0].finish_reason == "stop"
        assert_review(completion.choices[0].message.parsed)


def test_openai_client_stream_helper(client, model):
    for stream in helpers(client, "stream"):
        with stream(model=model, messages=REVIEW_PROMPT, response_format=MovieReview, max_tokens=300,
                    temperature=0) as events:
            for _ in events:
                pass
            final = events.get_final_completion()
        assert_review(final.choices[0].message.parsed)


# --- Constraints that cannot be compiled: 400 with OpenAI's error body ------------------------------

def schema_format(schema):
    return {"response_format": json_schema_format("bad", schema)}


# (request fields, words of which the error message must contain at least one, case-insensitively)
BAD = {
    "schema is not an object": (schema_format([1, 2]), ["schema"]),
    "unknown type": (schema_format({"type": "object", "properties": {"a": {"type": "strin"}}}), ["strin"]),
    "unsupported keyword": (schema_format({"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
                            ["uniqueItems"]),
    "unsupported keyword in guided_json": ({"guided_json": {"type": "object", "minProperties": 1}}, ["minProperties"]),
    "unresolvable $ref": (schema_format({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
                          ["#/$defs/missing"]),
    "regex does not compile": ({"guided_regex": "a(b"}, ["regex", "a(b", "parenthes"]),
    "grammar syntax error": ({"guided_grammar": 'root ::= "yes" | "no'}, ["grammar", "gbnf"]),
    "empty choice": ({"guided_choice": []}, ["choice"]),
    "two constraints": ({"guided_json": {"type": "object"}, "guided_regex": "[0-9]+"},
                        ["guided_json", "guided_regex", "only one", "more than one"]),
    "json_schema without json_schema": ({"response_format": {"type": "json_schema"}}, ["json_schema"]),
    "unknown response_format type": ({"response_format": {"type": "bogus"}}, ["bogus"]),
    "structured_outputs bad regex": ({"structured_outputs": {"regex": "(("}}, ["regex", "(("]),
    # 3 matches both alternatives, which oneOf forbids: refused rather than compiled as anyOf.
    "overlapping oneOf": (schema_format({"oneOf": [{"type": "number"}, {"type": "integer", "minimum": 0}]}), ["oneOf"]),
}


def assert_refused(response, words):
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) >= {"message", "type", "param", "code"}, body
    assert error["type"] == "invalid_request_error", body
    assert any(w.lower() in error["message"].lower() for w in words), f"message names none of {words}: {error}"


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_constraint_is_refused(server, model, case):
    fields, words = BAD[case]
    assert_refused(post(server, chat_body(model, "hi", max_tokens=8, **fields)), words)


def test_bad_constraint_is_refused_on_completions(server, model):
    body = completion_body(model, "hi", max_tokens=8, guided_json={"type": "array", "uniqueItems": True})
    assert_refused(post(server, body, "/v1/completions"), ["uniqueItems"])
