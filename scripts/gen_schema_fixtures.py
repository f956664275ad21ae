#!/usr/bin/env python3
"""Writes Tests/NimbusGrammarTests/Fixtures/schema_cases.json: schemas with candidate JSON texts
and Python `jsonschema`'s verdict on each (Draft 2020-12, formats checked).

The Swift test requires soundness (a text the grammar accepts is valid by jsonschema) for every
candidate, and acceptance of the candidates marked `natural` (ordinary compact or indented JSON
a model would write, within the compiler's documented narrowing: schema property order, no
extra members unless additionalProperties allows them, bounded whitespace and digits).
"""
import json
import os

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "../Tests/NimbusGrammarTests/Fixtures/schema_cases.json")

CASES = [
    ({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
      "required": ["name", "age"], "additionalProperties": False},
     {"natural": ['{"name": "Ada", "age": 36}', '{\n  "name": "Ada",\n  "age": 36\n}', '{"name":"A\\"da","age":-3}'],
      "other": ['{"age": 36, "name": "Ada"}', '{"name": "Ada"}', '{"name": "Ada", "age": 3.5}', '{"name": 1, "age": 2}',
                '{"name": "Ada", "age": 36, "x": 1}', '[1]', '{"name": "Ada", "age": 036}']}),
    ({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "boolean"}, "c": {"type": "null"}}},
     {"natural": ['{}', '{"a": "x"}', '{"b": true}', '{"a": "x", "c": null}', '{"a": "", "b": false, "c": null}'],
      "other": ['{"b": true, "a": "x"}', '{,}', '{"a": "x",}', '{"c": 0}']}),
    ({"type": "array", "items": {"type": "integer", "minimum": -5, "maximum": 12}, "minItems": 1, "maxItems": 3},
     {"natural": ['[0]', '[-5, 12]', '[1,2,3]', '[ 7 ]', '[10, -1, 11]'],
      "other": ['[]', '[1,2,3,4]', '[13]', '[-6]', '[1.0]', '[01]', '[-0]']}),
    ({"type": "number", "minimum": 0.5, "maximum": 3},
     {"natural": ['1', '2.75', '3', '3.0', '1.5'],
      "other": ['0.4', '3.1', '-1', '4', '0.6']}),
    ({"type": "number", "exclusiveMinimum": -2, "exclusiveMaximum": 100},
     {"natural": ['0', '-1', '99', '50.25'],
      "other": ['-2', '100', '100.5', '-3', '-1.5', '99.5']}),
    ({"type": "integer", "minimum": 100, "maximum": 20345},
     {"natural": ['100', '999', '1000', '20345', '19999', '20299'],
      "other": ['99', '20346', '30000', '0100', '-100']}),
    ({"type": "string", "enum": ["red", "green", "blue"]},
     {"natural": ['"red"', '"blue"'], "other": ['"Red"', '"yellow"', 'red']}),
    ({"enum": ["a", 1, None, True, {"k": [1, 2]}]},
     {"natural": ['"a"', '1', 'null', 'true', '{"k":[1,2]}'], "other": ['2', 'false', '"b"']}),
    ({"const": "fixed"}, {"natural": ['"fixed"'], "other": ['"fixe"', '"fixedd"']}),
    ({"type": "string", "minLength": 2, "maxLength": 4},
     {"natural": ['"ab"', '"abcd"', '"é€😀"', '"a\\nb"'], "other": ['"a"', '"abcde"', '""']}),
    ({"type": ["string", "null"]}, {"natural": ['"x"', 'null'], "other": ['1', 'true']}),
    ({"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}, "maxItems": 2}]},
     {"natural": ['5', '["a", "b"]', '[]'], "other": ['["a", "b", "c"]', '"a"']}),
    ({"type": "string", "format": "date"}, {"natural": ['"2024-02-28"', '"1999-12-31"'], "other": ['"2024-13-01"', '"2024-04-31"', '"24-01-01"']}),
    ({"type": "string", "format": "date-time"}, {"natural": ['"2024-05-06T07:08:09Z"', '"2024-05-06T07:08:09.123+02:00"'], "other": ['"2024-05-06 07:08:09"', '"2024-05-06T25:00:00Z"']}),
    ({"type": "string", "format": "uuid"}, {"natural": ['"123e4567-e89b-12d3-a456-426614174000"'], "other": ['"123e4567e89b12d3a456426614174000"', '"123e4567-e89b-12d3-a456-42661417400g"']}),
    ({"type": "string", "format": "email"}, {"natural": ['"ada.lovelace@example.com"'], "other": ['"ada.example.com"']}),
    ({"type": "string", "format": "ipv4"}, {"natural": ['"192.168.0.1"', '"8.8.8.8"'], "other": ['"256.1.1.1"', '"1.2.3"', '"01.2.3.4"']}),
    ({"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
                                                          "children": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
                         "required": ["value"], "additionalProperties": False}},
      "$ref": "#/$defs/node"},
     {"natural": ['{"value": 1}', '{"value": 1, "children": [{"value": 2}, {"value": 3, "children": []}]}'],
      "other": ['{"children": []}', '{"value": 1, "children": [{"value": 2}, {"value": 3}, {"value": 4}]}', '{"value": 1, "children": [{}]}']}),
    ({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}, "next": {"$ref": "#"}}, "required": ["name"]},
     {"natural": ['{"name": "a"}', '{"name": "a", "next": {"name": "b", "next": {"name": "c"}}}'],
      "other": ['{"name": "a", "next": {}}', '{"name": "abcdefghijk"}']}),
    ({"type": "object", "additionalProperties": {"type": "integer"}},
     {"natural": ['{}', '{"x": 1}', '{"x": 1, "y": -2}'], "other": ['{"x": "1"}', '{"x": 1.5}']}),
    ({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": {"type": "boolean"}},
     {"natural": ['{"id": 1}', '{"id": 1, "flag": true, "other": false}'], "other": ['{"id": 1, "flag": 1}', '{"flag": true}']}),
    ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
     {"natural": ['["a", 1]'], "other": ['["a"]', '["a", 1, 2]', '[1, "a"]']}),
    ({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 2}}, "required": ["tags"]},
     {"natural": ['{"tags": []}', '{"tags": ["a", "bb"]}'], "other": ['{"tags": ["a", "b", "c"]}', '{"tags": ["abcdef"]}']}),
    ({"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
     {"natural": ['"AB-123"'], "other": ['"ab-123"', '"AB-1234"', '"xAB-123"']}),
    ({"type": "string", "pattern": "[0-9]{3}"},
     {"natural": ['"abc123def"', '"123"'], "other": ['"12a3"', '"ab"']}),
    ({"type": "object", "properties": {"v": {"type": "number"}}, "required": ["v"]},
     {"natural": ['{"v": 1}', '{"v": -0.5}', '{"v": 1e5}', '{"v": 2.5E-3}'], "other": ['{"v": .5}', '{"v": 1.}', '{"v": +1}', '{"v": NaN}']}),
    ({"type": "object", "nullable": True, "properties": {"a": {"type": "integer"}}, "required": ["a"]},
     {"natural": ['{"a": 1}'], "other": ['{}', 'null']}),
    ({"allOf": [{"type": "boolean"}]}, {"natural": ['true', 'false'], "other": ['null']}),
    (True, {"natural": ['{"a": [1, "x", null, {"b": false}]}', '"s"', '12', '[]'], "other": ['{a: 1}', "'s'"]}),
]

ERRORS = [
    ({"type": "strin"}, "strin"),
    ({"type": "array", "uniqueItems": True}, "uniqueItems"),
    ({"type": "object", "minProperties": 1}, "minProperties"),
    ({"$ref": "#/$defs/missing"}, "missing"),
    ({"$ref": "https://example.com/schema.json"}, "$ref"),
    ({"type": "integer", "minimum": 5, "maximum": 4}, "bounds"),
    ({"type": "string", "format": "color"}, "color"),
    ({"type": "string", "minLength": 5, "maxLength": 2}, "maxLength"),
    ({"enum": []}, "enum"),
    ({"not": {"type": "string"}}, "not"),
    (False, "false"),
    (3, "must be an object"),
]


def main():
    validator = jsonschema.Draft202012Validator
    cases = []
    for schema, texts in CASES:
        validator.check_schema(schema)
        checker = validator(schema, format_checker=jsonschema.FormatChecker())
        candidates = []
        for kind in ("natural", "other"):
            for text in texts[kind]:
                try:
                    valid = checker.is_valid(json.loads(text))
                except json.JSONDecodeError:
                    valid = False
                if kind == "natural":
                    assert valid, (schema, text)
                candidates.append({"text": text, "valid": valid, "natural": kind == "natural"})
        cases.append({"schema": json.dumps(schema), "candidates": candidates})
    errors = [{"schema": json.dumps(s), "mentions": m} for s, m in ERRORS]
    with open(OUT, "w") as f:
        json.dump({"cases": cases, "errors": errors}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(cases)} schemas, {sum(len(c['candidates']) for c in cases)} candidates, {len(errors)} error cases")


if __name__ == "__main__":
    main()
