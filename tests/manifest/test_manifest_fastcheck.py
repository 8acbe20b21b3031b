"""The fast yes/no checker must agree with jsonschema on every instance: it decides alone when a
document is valid, so a disagreement would let an invalid document through unexplained."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.kinds import MANIFEST_KINDS as KINDS
from reconciler.manifest.fastcheck import Compiler, Unsupported
from reconciler.manifest.validators import _lookup, fast_check, validator
from reconciler.manifest.yamlpos import load_documents
from reconciler.model import SensitiveStr
from reconciler.schemas import uri
from reconciler.schemas.formats import format_checker
from tests.support.paths import EXAMPLES

HERE = Path(__file__).parent

def _docs(paths: list[Path]) -> list[dict[str, Any]]:
    return [
        doc.data
        for path in sorted(paths)
        for doc in load_documents(path.read_text(encoding="utf-8"), str(path))[0]
        if isinstance(doc.data, dict) and doc.data.get("kind") in KINDS
    ]


EXAMPLE_DOCS = _docs(list(EXAMPLES.glob("*.yaml")))
CORPUS_DOCS = _docs(list((HERE / "invalid").glob("*.yaml")))
ODD = [None, True, 1.0, -1, "", "x" * 60, ["telephony", "telephony"], {"type": "hangup"}]


def mutations(data: Any, depth: int = 0) -> Iterator[Any]:
    """Copies of `data` with one node replaced by an odd value or one key removed."""
    if depth > 6:
        return
    if isinstance(data, dict):
        for key in data:
            for odd in ODD:
                yield {**data, key: odd}
            yield {k: v for k, v in data.items() if k != key}
            for sub in mutations(data[key], depth + 1):
                yield {**data, key: sub}
    elif isinstance(data, list):
        for i, item in enumerate(data):
            for odd in ODD[:3]:
                yield [*data[:i], odd, *data[i + 1 :]]
            for sub in mutations(item, depth + 1):
                yield [*data[:i], sub, *data[i + 1 :]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_compiles(kind: str) -> None:
    assert fast_check(kind) is not None
    assert fast_check(kind, "/$defs/Spec") is not None
    # Properties are compiled when first used: all of them at once, none may be unsupported (it
    # would send every document using it to jsonschema).
    target, ctx = _lookup(f"{uri(f'{kind}.schema.json')}#", "")
    Compiler(_lookup, lazy=False).compile(target, ctx)


def test_a_property_found_unsupported_when_first_used_sends_its_values_to_jsonschema() -> None:
    # odd is unsupported only after rec, which refers back to it, is compiled: rec must not stay
    # cached with a reference to a check of odd that never came.
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/odd"}, "c": {"$ref": "#/$defs/rec"}, "d": {"$ref": "#/$defs/fine"}},
        "$defs": {"odd": {"anyOf": [{"$ref": "#/$defs/rec"}, {"patternProperties": {}}]},
                  "rec": {"type": "array", "items": {"$ref": "#/$defs/odd"}},
                  "fine": {"type": "object", "properties": {"odd": {"$ref": "#/$defs/odd"}}}},
    }

    def resolve(ref: str, ctx: Any) -> tuple[Any, Any]:
        return schema["$defs"][ref.rsplit("/", 1)[1]], ctx

    quick = Compiler(resolve).compile(schema, None)
    assert quick({"d": {}}) and quick({})
    for _ in range(2):  # the second time from the compiled table
        for value in ({"a": 1}, {"c": [[1]]}, {"d": {"odd": 1}}):
            with pytest.raises(Unsupported):
                quick(value)


@pytest.mark.parametrize("schema", [
    {"if": {"properties": {"a": {"patternProperties": {}}}}, "then": {"required": ["b"]}},
    {"oneOf": [{"properties": {"a": {"patternProperties": {}}}}, {"required": ["a"]}]},
])
def test_a_property_found_unsupported_under_if_or_one_of_never_answers_valid(schema: dict[str, Any]) -> None:
    """jsonschema finds {"a": {}} invalid against each; a "no" from the unsupported property would
    have made the fast check say "valid" (review of the lazy compile)."""
    import jsonschema

    assert not jsonschema.Draft202012Validator(schema).is_valid({"a": {}})
    quick = Compiler(lambda ref, ctx: (None, ctx)).compile(schema, None)
    with pytest.raises(Unsupported):
        quick({"a": {}})


def test_findings_ask_jsonschema_when_the_fast_check_cannot_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.manifest import schema as schema_mod

    def undecided(instance: Any) -> bool:
        raise Unsupported("test")

    monkeypatch.setattr(schema_mod, "fast_check", lambda kind, fragment="": undecided)
    found = schema_mod.findings("Tool", {"apiVersion": "reconciler/v1", "kind": "Tool", "metadata": {"name": "t"},
                                         "spec": {"type": 5}})
    assert found and any("type" in ".".join(map(str, f.path)) for f in found)


def test_agrees_with_jsonschema_on_the_corpus_and_many_mutations() -> None:
    compared = 0
    for data in EXAMPLE_DOCS + CORPUS_DOCS:
        kind = data["kind"]
        quick, slow = fast_check(kind), validator(kind)
        assert quick is not None
        variants = mutations(copy.deepcopy(data)) if data in EXAMPLE_DOCS else iter(())
        for variant in [data, *variants]:
            assert quick(variant) == slow.is_valid(variant), variant
            compared += 1
    assert compared > 1200


# Each shape that fastcheck compiles into one function (an object, a string, a list, a number with
# only its own type's keywords), and its neighbours that take the generic path, against jsonschema.
SHAPES: list[dict[str, Any]] = [
    {"type": "object", "additionalProperties": False, "required": ["a"],
     "properties": {"a": {"type": "string"}, "b": {"$ref": "#/$defs/num"}, "c": {"$ref": "#/$defs/str"}}},
    {"type": "object", "additionalProperties": {"type": "integer"}},
    {"type": "object", "required": ["a"]},
    {"type": "string", "minLength": 2, "maxLength": 3},
    {"type": "string", "pattern": "^a+$"},
    {"type": "string", "enum": ["ab", "cd"]},
    {"type": "string", "enum": ["ab", None]},
    {"type": "string", "enum": ["ab", 1]},
    {"type": "array", "items": {"$ref": "#/$defs/str"}, "minItems": 1},
    {"type": "array", "items": {"type": "integer", "minimum": 0}, "uniqueItems": True},
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    {"type": "array", "uniqueItems": True},
    {"type": "array"},
    {"type": "number", "minimum": 1, "maximum": 2},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
    {"type": "integer", "minimum": 0, "maximum": 10},
    {"type": "integer"},
    {"const": "x"},
    {"const": 1},
    # The formats the API asserts (schemas/formats.py) are asserted by both; any other is an annotation.
    {"type": "string", "format": "uri"},
    {"format": "uri"},
    {"type": "string", "format": "date-time", "maxLength": 20},
    {"type": "string", "format": "email"},
]
INSTANCES: list[Any] = [
    None, True, False, 0, 1, 1.0, 1.5, 2, 2.0, 3, -1, 11, 0.0, "", "a", "aa", "ab", "abc", "abcd", "cd", "x",
    SensitiveStr("ab", "${env:X}"), SensitiveStr("x", "${env:X}"), [], [1], [1, 1], [1, True], ["a"], [1, "a"],
    [0, 0.0], ["a", "a"], ["x", SensitiveStr("x", "${env:X}")], [SensitiveStr("x", "${env:X}"), "x"],
    [SensitiveStr("x", "${env:X}"), "y"], [{"a": SensitiveStr("x", "${env:X}")}, {"a": "x"}],
    {}, {"a": "x"}, {"a": 1}, {"a": "x", "b": 1}, {"a": "x", "b": True}, {"a": "x", "c": 1},
    {"a": "x", "d": 1}, {"b": 1}, {"z": 1}, {"z": 1.0}, {"z": 1.5}, {"z": True},
    "https://example.com/hold.mp3", "not a uri", "mailto:x@example.com", "https://a b", "2026-05-01T09:30:00Z",
    "2026-13-01T00:00:00Z", SensitiveStr("https://example.com/x", "${env:X}"), SensitiveStr("x y", "${env:X}"),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_compiled_shape_agrees_with_jsonschema(shape: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = {**shape, "$defs": {"num": {"type": "number"}, "str": {"$ref": "#/$defs/str2"},
                                 "str2": {"type": "string", "description": "a $ref chain"}}}

    def resolve(ref: str, ctx: Any) -> tuple[Any, Any]:
        return schema["$defs"][ref.rsplit("/", 1)[1]], ctx

    quick = Compiler(resolve).compile(schema, None)
    slow = Draft202012Validator(schema, format_checker=format_checker())
    for instance in INSTANCES:
        assert quick(instance) == slow.is_valid(instance), (shape, instance)
