"""GET /openapi.json and GET /docs: the OpenAPI 3.1 document against the real server.

- The document is valid OpenAPI 3.1, is what `nimbus openapi` prints, and lists exactly the routes
  the server registers and answers.
- Drift check against the real parser: for every POST operation with a JSON body, each documented
  request field (top level and inside the objects it holds) is sent, alone on a minimal valid
  body, with valid values drawn from its schema (one per alternative, enum member and null) and
  must be accepted (200), and with a value of a JSON type the schema does not admit and must be a
  400 whose `param` is that field's path. Each required field, removed, is a 400 naming it too.
  Every body the test calls valid is first checked valid against the document (jsonschema), and
  every wrong one invalid, so the test also holds the document to its own cross-field rules.
- /docs is self-contained HTML embedding the document, and headless Chromium renders every
  operation with its field tables.
"""
import copy
import itertools
import json
import os
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import start_server, stop_server
from test_lora import write_adapter
from test_status_page import chromium

ROOT = Path(__file__).resolve().parents[2]
DOC_URI = "urn:nimbus:openapi"
# The body of each POST operation, and its schema; test_post_operations_are_all_checked keeps
# this list equal to the document's.
BODIES = {
    "/v1/chat/completions": "ChatCompletionRequest",
    "/v1/completions": "CompletionRequest",
    "/v1/embeddings": "EmbeddingRequest",
    "/v1/ranking": "RankingRequest",
    "/v1/rerank": "RerankRequest",
    "/v1/load_lora_adapter": "LoadLoRAAdapterRequest",
    "/v1/unload_lora_adapter": "UnloadLoRAAdapterRequest",
}
# Valid values the schema alone cannot give: they depend on the server's state (the model's
# vector length, a LoRA adapter on disk or loaded), or must compile (a GBNF grammar, a JSON
# Schema in a string). Keyed by field path; `None` marks the per-request values made in
# `state_values`. Every other field's valid values are drawn from its schema.
GRAMMAR = 'root ::= "a"'
OVERRIDES = {
    "guided_grammar": [GRAMMAR], "nvext.guided_grammar": [GRAMMAR], "structured_outputs.grammar": [GRAMMAR],
    "guided_json": [{"type": "object"}, True, '{"type": "object"}'],
    "nvext.guided_json": [{"type": "object"}, True, '{"type": "object"}'],
    "structured_outputs.json": [{"type": "object"}, True, '{"type": "object"}'],
    "dimensions": None,      # must equal the embedder's vector length (GET /v1/models)
    "lora_name": None,       # load: a name not served yet; unload: an adapter loaded just before
    "lora_path": None,       # a PEFT adapter folder written by this test
}
# Fields with no wrong JSON type (the document admits any JSON value there).
ANY_TYPE = {"response_format.json_schema.schema"}
# Fields that need other fields (the document's if/then rules): (path, predicate on the value) ->
# changes to the body. A body still invalid per the document after these fails the test.
TOOL = {"type": "function", "function": {"name": "a"}}
COMPANIONS = [
    ("stream_options", lambda v: isinstance(v, dict), lambda body: body.update(stream=True)),
    ("top_logprobs", lambda v: isinstance(v, int), lambda body: body.update(logprobs=True)),
    ("tool_choice", lambda v: v == "required" or isinstance(v, dict), lambda body: body.update(tools=[TOOL])),
    ("response_format.type", lambda v: v == "json_schema",
     lambda body: body["response_format"].update(json_schema={"schema": {"type": "object"}})),
]
ADAPTER_NAMES = (f"openapi-lora-{i}" for i in itertools.count())  # adapters stay loaded: a new name for every load
WRONG_VALUES = [("string", "wrong"), ("integer", 7), ("boolean", True), ("array", [7]), ("object", {"wrong": 7})]


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi-lora") / "tiny"
    write_adapter(folder, rank=1, seed=7, layers=1)
    return str(folder)


@pytest.fixture(scope="module")
def base():
    proc, url, log = start_server("e2e-openapi.log", NIMBUS_ALLOW_RUNTIME_LORA_UPDATING="true", NIM_MAX_MODEL_LEN="512")
    yield url
    stop_server(proc, log)


@pytest.fixture(scope="module")
def raw_document(base):
    r = requests.get(base + "/openapi.json", timeout=30)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].split(";")[0] == "application/json"
    return r.content


@pytest.fixture(scope="module")
def document(raw_document):
    return json.loads(raw_document)


@pytest.fixture(scope="module")
def models(base):
    cards = requests.get(base + "/v1/models", timeout=30).json()["data"]

    def first(capability):
        for card in cards:
            if capability in card.get("capabilities", []):
                return card
        pytest.fail(f"no model in GET /v1/models has capability {capability}: {cards}")

    return {"chat": first("chat"), "completions": first("completions"), "embeddings": first("embeddings"),
            "ranking": first("ranking")}


# MARK: The document as a whole

def test_document_is_valid_openapi_3_1(document):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, "\n".join(errors[:20])
    assert document["openapi"].startswith("3.1.")


def test_document_equals_the_cli_output(raw_document):
    binary = os.environ.get("NIMBUS_BIN", ".build/release/nimbus")
    result = subprocess.run([binary, "openapi"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    if result.stdout != raw_document:
        common = next((i for i, (a, b) in enumerate(zip(result.stdout, raw_document)) if a != b),
                      min(len(result.stdout), len(raw_document)))
        pytest.fail(f"`nimbus openapi` ({len(result.stdout)} bytes) differs from GET /openapi.json ({len(raw_document)} "
                    f"bytes) at byte {common}: CLI {result.stdout[common:common + 40]!r}, "
                    f"server {raw_document[common:common + 40]!r}")


def registered_routes():
    """(method, path) of every `router.<method>("<path>")` in the server's sources."""
    routes = set()
    for source in (ROOT / "Sources").rglob("*.swift"):
        for method, path in re.findall(r'\brouter\.(get|post|put|patch|delete|head|on)\("([^"]*)"', source.read_text()):
            routes.add((method, path))
    assert len(routes) >= 10, routes
    return routes


def documented_routes(document):
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {(m, path) for path, item in document["paths"].items() for m in item if m in methods}


def test_document_lists_exactly_the_registered_routes(document):
    registered, documented = registered_routes(), documented_routes(document)
    assert documented == registered, (f"registered but not documented: {sorted(registered - documented)}; "
                                      f"documented but not registered: {sorted(documented - registered)}")


def test_documented_routes_answer_and_others_do_not(base, document):
    for method, path in sorted(documented_routes(document)):
        kwargs = {"json": {}} if method == "post" else {}
        r = requests.request(method.upper(), base + path, timeout=60, **kwargs)
        assert r.status_code not in (404, 405), f"{method.upper()} {path} answered {r.status_code}: {r.text[:300]}"
        assert str(r.status_code) in document["paths"][path][method]["responses"], \
            f"{method.upper()} {path} answered {r.status_code}, which its operation does not document"
    for path in ["/v1/nothing", "/openapi.yaml", "/v1/openapi.json", "/doc", "/v1/chat", "/v1/completions/x",
                 "/v1/health", "/v1/models/x"]:
        r = requests.get(base + path, timeout=30)
        assert r.status_code == 404, f"undocumented GET {path} answered {r.status_code}: {r.text[:300]}"
        assert set(r.json()) == {"error"}
    # An undocumented method on a documented path is refused, never served.
    for method, path in [("DELETE", "/v1/models"), ("PUT", "/v1/chat/completions"), ("POST", "/v1/status"), ("GET", "/v1/embeddings")]:
        r = requests.request(method, base + path, timeout=30)
        assert r.status_code in (404, 405), f"undocumented {method} {path} answered {r.status_code}: {r.text[:300]}"


# MARK: Drift check against the parser

class Schemas:
    """The document's schemas, addressed by JSON pointer, with jsonschema validation."""

    def __init__(self, document):
        self.document = document
        self.registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self.validators = {}

    def at(self, pointer):
        node = self.document
        for part in pointer.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def resolve(self, pointer):
        """(pointer, schema) after following $ref (descriptions next to it are dropped)."""
        schema = self.at(pointer)
        while "$ref" in schema:
            pointer = schema["$ref"].lstrip("#")
            schema = self.at(pointer)
        return pointer, schema

    def errors(self, pointer, value):
        if pointer not in self.validators:
            self.validators[pointer] = Draft202012Validator({"$ref": DOC_URI + "#" + pointer}, registry=self.registry)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
                for e in self.validators[pointer].iter_errors(value)]

    def branches(self, pointer):
        """The non-null alternatives of a schema: (pointer, schema) of each anyOf branch, or itself."""
        pointer, schema = self.resolve(pointer)
        if "anyOf" in schema:
            out = []
            for i, branch in enumerate(schema["anyOf"]):
                if branch != {"type": "null"}:
                    out += self.branches(f"{pointer}/anyOf/{i}")
            return out
        return [(pointer, schema)]

    def admits_null(self, pointer):
        pointer, schema = self.resolve(pointer)
        if "anyOf" in schema:
            return any(b == {"type": "null"} or self.admits_null(f"{pointer}/anyOf/{i}") for i, b in enumerate(schema["anyOf"]))
        types = schema.get("type")
        return types == "null" or (isinstance(types, list) and "null" in types)

    def types(self, pointer):
        """JSON types the schema admits at its top level (all of them when it says nothing)."""
        every = {"string", "integer", "number", "boolean", "array", "object", "null"}
        found = set()
        for branch_pointer, schema in self.branches(pointer):
            if "const" in schema or "enum" in schema:
                values = [schema["const"]] if "const" in schema else schema["enum"]
                found |= {json_type(v) for v in values}
            elif "type" in schema:
                found |= set([schema["type"]] if isinstance(schema["type"], str) else schema["type"])
            else:
                return every
        if "number" in found:
            found.add("integer")
        return found | ({"null"} if self.admits_null(pointer) else set())

    def examples(self, pointer):
        """Simple valid values: one per alternative and type, every enum member."""
        out = []
        for branch_pointer, schema in self.branches(pointer):
            if "const" in schema:
                out.append(schema["const"])
                continue
            if "enum" in schema:
                out += [v for v in schema["enum"] if v is not None]
                continue
            types = schema.get("type", "object")
            for t in ([types] if isinstance(types, str) else types):
                if t != "null":
                    out.append(self.example_of(branch_pointer, schema, t))
        return out

    def example(self, pointer):
        return self.examples(pointer)[0]

    def example_of(self, pointer, schema, json_type_name):
        if json_type_name == "string":
            if schema.get("maxLength") == 0:
                return ""
            value = "a" * max(1, schema.get("minLength", 1))
            if "pattern" in schema:
                assert re.search(schema["pattern"], value), f"{pointer}: pick a value matching {schema['pattern']}"
            return value
        if json_type_name in ("integer", "number"):
            value = 1 if json_type_name == "integer" else 0.5
            if "minimum" in schema:
                value = max(value, schema["minimum"])
            if "maximum" in schema:
                value = min(value, schema["maximum"])
            return value
        if json_type_name == "boolean":
            return True
        if json_type_name == "array":
            item = self.example(pointer + "/items")
            return [item] * max(1, schema.get("minItems", 1))
        if json_type_name == "object":
            value = {name: self.example(f"{pointer}/properties/{name}") for name in schema.get("required", [])}
            if not schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
                value["0"] = self.example(pointer + "/additionalProperties")  # "0": a key LogitBias admits
            return value
        raise AssertionError(f"{pointer}: no example for type {json_type_name}")


def json_type(value):
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def path_text(path):
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def get_in(body, path):
    for part in path:
        body = body[part]
    return body


def set_in(body, path, value):
    body = copy.deepcopy(body)
    get_in(body, path[:-1])[path[-1]] = value
    return body


def del_in(body, path):
    body = copy.deepcopy(body)
    del get_in(body, path[:-1])[path[-1]]
    return body


class Field:
    def __init__(self, path, pointer, base, required, union):
        self.path, self.pointer, self.base, self.required, self.union = path, pointer, base, required, union
        self.name = path_text(path)


def fields(schemas, pointer, base, path=(), union=None):
    """Every property of the object at `path` in `base` (schema at `pointer`), then, for those whose
    alternatives hold objects, their properties inside a valid example of that object. `union`:
    the path of the innermost value that has several alternative shapes."""
    _, schema = schemas.resolve(pointer)
    for name in sorted(schema.get("properties", {})):
        field_pointer = f"{schemas.resolve(pointer)[0]}/properties/{name}"
        field = Field(path + (name,), field_pointer, base, name in schema.get("required", []), union)
        yield field
        branches = schemas.branches(field_pointer)
        for branch_pointer, branch in branches:
            current = get_in(base, field.path) if name in get_in(base, path) else None
            if "properties" in branch:
                inner = current if isinstance(current, dict) else schemas.example(branch_pointer)
                yield from fields(schemas, branch_pointer, with_companions(set_in(base, field.path, inner), field.name, inner),
                                  field.path, field.path if len(branches) > 1 else union)
            elif "array" in ([branch.get("type")] if isinstance(branch.get("type"), str) else branch.get("type", [])):
                item_pointer, item = schemas.resolve(branch_pointer + "/items")
                item_branches = schemas.branches(item_pointer)
                for item_branch_pointer, item_branch in item_branches:
                    if "properties" not in item_branch:
                        continue
                    inner = current[0] if isinstance(current, list) and current and isinstance(current[0], dict) \
                        else schemas.example(item_branch_pointer)
                    body = with_companions(set_in(base, field.path, [inner]), field.name, [inner])
                    inner_union = field.path + (0,) if len(item_branches) > 1 else field.path if len(branches) > 1 else union
                    yield from fields(schemas, item_branch_pointer, body, field.path + (0,), inner_union)


def with_companions(body, name, value):
    body = copy.deepcopy(body)
    for path, applies, change in COMPANIONS:
        if path == name and applies(value):
            change(body)
    return body


class Checker:
    def __init__(self, base, path, schemas, state_values):
        self.base, self.path, self.schemas, self.state_values = base, path, schemas, state_values
        self.pointer = f"/components/schemas/{BODIES[path]}"
        self.failures, self.sent = [], 0

    def post(self, body):
        self.sent += 1
        r = requests.post(self.base + self.path, json=body, timeout=120)
        r.content  # a stream is read to its end
        return r

    def fail(self, what, body, response=None):
        answer = f" -> {response.status_code} {response.text[:300]}" if response is not None else ""
        self.failures.append(f"{what}\n    curl -s {self.base}{self.path} -H 'Content-Type: application/json' -d '{json.dumps(body)}'{answer}")

    def valid_values(self, field):
        if field.name in OVERRIDES:
            values = OVERRIDES[field.name]
            return self.state_values(field) if values is None else values
        return self.schemas.examples(field.pointer)

    def check_valid(self, field):
        for value in self.valid_values(field):
            body = with_companions(set_in(field.base, field.path, value), field.name, value)
            errors = self.schemas.errors(self.pointer, body)
            if errors:
                self.fail(f"{field.name}={json.dumps(value)}: the test's valid body is invalid per the document: {errors}", body)
                continue
            r = self.post(body)
            if r.status_code != 200:
                self.fail(f"{field.name}={json.dumps(value)} (valid per the document) was not accepted", body, r)

    def check_null(self, field):
        """Optional fields admit null; where a rule of the document forbids it (content of a
        non-assistant message), null must be refused instead."""
        if field.required or not self.schemas.admits_null(field.pointer):
            return
        body = set_in(field.base, field.path, None)
        if self.schemas.errors(self.pointer, body):
            self.expect_400(f"{field.name}=null (refused by the document's rules)", body, field)
            return
        r = self.post(body)
        if r.status_code != 200:
            self.fail(f"{field.name}=null (valid per the document) was not accepted", body, r)

    def check_wrong_type(self, field):
        if field.name in ANY_TYPE:
            assert self.schemas.types(field.pointer) >= {"string", "object", "array"}, field.name
            return
        admitted = self.schemas.types(field.pointer)
        wrong = next(((t, v) for t, v in WRONG_VALUES if t not in admitted), None)
        if wrong is None:
            self.fail(f"{field.name}: every JSON type is admitted; add it to ANY_TYPE if that is meant", field.base)
            return
        body = set_in(field.base, field.path, wrong[1])
        if not self.schemas.errors(self.pointer, body):
            self.fail(f"{field.name}={json.dumps(wrong[1])}: the document accepts the wrong-type body", body)
            return
        self.expect_400(f"{field.name}={json.dumps(wrong[1])} ({wrong[0]}, not {'/'.join(sorted(admitted))})", body, field)

    def check_missing(self, field):
        body = del_in(field.base, field.path)
        assert self.schemas.errors(self.pointer, body), f"{field.name}: the document does not require it"
        self.expect_400(f"{field.name} missing", body, field)

    def expect_400(self, what, body, field):
        """400 whose param is the field's path, or the path of the value holding it when that value
        is one of several shapes (a rerank document: a string or an object with text)."""
        r = self.post(body)
        try:
            error = r.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = None
        params = {field.name} | ({path_text(field.union)} if field.union else set())
        if r.status_code != 400 or not isinstance(error, dict):
            self.fail(f"{what}: expected 400 with an error body", body, r)
        elif error.get("param") not in params:
            self.fail(f"{what}: expected param {' or '.join(map(repr, sorted(params)))}, got {error.get('param')!r}", body, r)


def minimal_bodies(models):
    """Required fields only (plus max_tokens 1 for generation), with served model names."""
    return {
        "/v1/chat/completions": {"model": models["chat"]["id"], "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1},
        "/v1/completions": {"model": models["completions"]["id"], "prompt": "hi", "max_tokens": 1},
        "/v1/embeddings": {"model": models["embeddings"]["id"], "input": "hi"},
        "/v1/ranking": {"model": models["ranking"]["id"], "query": {"text": "hi"}, "passages": [{"text": "hi"}]},
        "/v1/rerank": {"model": models["ranking"]["id"], "query": "hi", "documents": ["hi"]},
    }


def test_post_operations_are_all_checked(document):
    with_body = {path for path, item in document["paths"].items() for method, op in item.items()
                 if method == "post" and "application/json" in op.get("requestBody", {}).get("content", {})}
    assert with_body == set(BODIES)
    for path, schema in BODIES.items():
        assert document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"] == \
            {"$ref": f"#/components/schemas/{schema}"}


@pytest.mark.parametrize("path", list(BODIES))
def test_documented_fields_are_read_as_documented(base, document, models, adapter_dir, path):
    schemas = Schemas(document)
    names = ADAPTER_NAMES

    def load_adapter():
        name = next(names)
        r = requests.post(base + "/v1/load_lora_adapter", json={"lora_name": name, "lora_path": adapter_dir}, timeout=120)
        assert r.status_code == 200, f"loading the test adapter failed: {r.status_code} {r.text}"
        return name

    def state_values(field):
        if field.name == "dimensions":
            return [models["embeddings"]["embedding_dimensions"]]
        if field.name == "lora_path":
            return [adapter_dir]
        if field.name == "lora_name":
            return [next(names)] if path.endswith("/load_lora_adapter") else [load_adapter()]
        raise AssertionError(field.name)

    if path.endswith("/load_lora_adapter"):
        minimal = {"lora_name": next(names), "lora_path": adapter_dir}
    elif path.endswith("/unload_lora_adapter"):
        minimal = {"lora_name": load_adapter()}
    else:
        minimal = minimal_bodies(models)[path]
    checker = Checker(base, path, schemas, state_values)
    pointer = checker.pointer
    _, schema = schemas.resolve(pointer)
    assert set(minimal) - {"max_tokens"} == set(schema["required"]), "the minimal body must hold exactly the required fields"
    assert not schemas.errors(pointer, minimal), schemas.errors(pointer, minimal)
    r = checker.post(minimal)
    assert r.status_code == 200, f"the minimal body was refused: {r.status_code} {r.text[:500]}"

    checked = []
    for field in fields(schemas, pointer, minimal):
        if path.endswith("/load_lora_adapter"):
            field.base = {**field.base, "lora_name": next(names)}  # every load needs a new name
        if not field.required:
            checker.check_valid(field)
        elif field.name in OVERRIDES or len(schemas.branches(field.pointer)) > 1 or "enum" in schemas.resolve(field.pointer)[1]:
            checker.check_valid(field)  # a required field's other alternatives (token ids, text parts, roles)
        checker.check_null(field)
        checker.check_wrong_type(field)
        if field.required:
            checker.check_missing(field)
        checked.append(field.name)
    print(f"\n{path}: {len(checked)} fields, {checker.sent} requests: {', '.join(checked)}")
    assert len(checked) >= len(schema["properties"])
    assert not checker.failures, f"{len(checker.failures)} discrepancies:\n" + "\n".join(checker.failures)


# MARK: /docs

class PageScan(HTMLParser):
    """External asset references, the embedded document, and the text of each operation section."""

    ASSET_TAGS = {"script", "link", "img", "iframe", "embed", "object", "source", "video", "audio", "track", "input"}

    def __init__(self):
        super().__init__()
        self.external, self.embedded, self.sections, self.schema_sections = [], None, {}, set()
        self.in_embedded, self.stack = False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href", "srcset", "data", "poster"):
            value = (attrs.get(key) or "").strip()
            if tag in self.ASSET_TAGS and re.match(r"(https?:)?//", value, re.I):
                self.external.append(f"<{tag} {key}={value}>")
        if tag == "script" and attrs.get("id") == "openapi":
            self.in_embedded, self.embedded = True, ""
        if tag == "section" and "op" in (attrs.get("class") or "").split():
            self.stack.append((attrs.get("data-method"), attrs.get("data-path")))
            self.sections[self.stack[-1]] = ""
        elif tag == "section":
            self.stack.append(None)
            if (attrs.get("id") or "").startswith("schema-"):
                self.schema_sections.add(attrs["id"][len("schema-"):])

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_embedded = False
        if tag == "section" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_embedded:
            self.embedded += data
        for key in self.stack:
            if key:
                self.sections[key] += data


def test_docs_page_is_self_contained_and_embeds_the_document(base, document):
    r = requests.get(base + "/docs", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = PageScan()
    page.feed(r.text)
    assert not page.external, page.external
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", r.text, re.I)
    assert page.embedded is not None, "no <script type=application/json id=openapi>"
    assert json.loads(page.embedded) == document


def test_docs_page_renders_every_operation(base, document):
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                 f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", base + "/docs"],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    page = PageScan()
    page.feed(result.stdout)
    schemas = Schemas(document)
    rendered = set(page.sections)
    documented = {(m, p) for m, p in documented_routes(document)}
    assert rendered == documented, f"missing: {sorted(documented - rendered)}; extra: {sorted(rendered - documented)}"
    for (method, path), text in page.sections.items():
        assert path in text, (method, path)
        op = document["paths"][path][method]
        # The script's tables: every status code, and every request body field.
        assert "Responses" in text, f"{method} {path}: the script did not render its tables"
        for code in op["responses"]:
            assert code in text, (method, path, code)
        if "requestBody" in op:
            _, body = schemas.resolve(op["requestBody"]["content"]["application/json"]["schema"]["$ref"].lstrip("#"))
            missing = [name for name in body["properties"] if name not in text]
            assert not missing, f"{method} {path}: fields not rendered: {missing}"
    assert page.schema_sections == set(document["components"]["schemas"])
    assert "need JavaScript" not in result.stdout
