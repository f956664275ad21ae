"""Schemathesis hooks and checks for test_fuzz_api.py, loaded by `st run` through SCHEMATHESIS_HOOKS.

- `map_case` puts a served model's name into most generated bodies, so that requests get past the
  model lookup (404) to the parser, the validation and the engine. NIMBUS_FUZZ_MODELS maps each
  path to the names that serve it (JSON); a non-empty string is always a valid `model` per the
  document, so the swap never turns a negative case positive. One body in eight keeps its random
  name, so unknown models (404) stay covered.
- `openai_error_body`: every 4xx/5xx answer is OpenAI's error body, exactly
  {"error": {"message": str, "type": str, "param": str|null, "code": str|null}}.
- `reaches_the_engine`: each model route answered 2xx at least once (the fuzzing reached the
  model, not only the validation), checked after the run.
"""
import json
import os
import zlib

import schemathesis

MODELS = json.loads(os.environ.get("NIMBUS_FUZZ_MODELS", "{}"))
# /v1/health/ready answers 503 with its HealthResponse (documented), not an error body.
NON_ERROR_BODIES = {("GET", "/v1/health/ready", 503)}


@schemathesis.hook
def map_case(context, case):
    names = MODELS.get(case.operation.path)
    body = case.body
    if names and isinstance(body, dict) and isinstance(body.get("model"), str) and body["model"]:
        digest = zlib.crc32(body["model"].encode("utf-8", "surrogatepass"))
        if digest % 8:
            body["model"] = names[digest % len(names)]
    return case


@schemathesis.check
def openai_error_body(ctx, response, case):
    status = response.status_code
    if status < 400 or (case.operation.method.upper(), case.operation.path, status) in NON_ERROR_BODIES:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if not content_type.startswith("application/json"):
        raise AssertionError(f"{status} answered with Content-Type {content_type!r}, not OpenAI's JSON error body")
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{status} body is not JSON ({e}): {response.content[:200]!r}") from None
    problems = []
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        problems.append("the body is not an object with exactly one key, error")
    else:
        error = body["error"]
        if set(error) != {"message", "type", "param", "code"}:
            problems.append(f"error has keys {sorted(error)}, not message, type, param, code")
        for key, allowed in (("message", (str,)), ("type", (str,)), ("param", (str, type(None))), ("code", (str, type(None)))):
            if key in error and not isinstance(error[key], allowed):
                problems.append(f"error.{key} is {type(error[key]).__name__}")
        if isinstance(error.get("message"), str) and not error["message"]:
            problems.append("error.message is empty")
    if problems:
        raise AssertionError(f"{status} is not OpenAI's error body: {'; '.join(problems)}: {response.content[:300]!r}")
    return None


@schemathesis.check
class reaches_the_engine:
    """Every operation in NIMBUS_FUZZ_MODELS answered 2xx at least once."""

    def __init__(self):
        self.tested, self.reached = set(), set()

    def after_response(self, ctx, response, case):
        if case.operation.path in MODELS:
            self.tested.add(case.operation.label)
            if 200 <= response.status_code < 300:
                self.reached.add(case.operation.label)

    def after_run(self, ctx):
        missing = self.tested - self.reached
        if missing:
            raise AssertionError("never answered 2xx (the fuzzing did not reach the model): " + ", ".join(sorted(missing)))
