"""The project's API schema (`schemas/api/telnyx-ai.schema.json`) as the emulator reads it: loaded once,
one `$defs` entry by name, `$ref` resolution, and a cached JSON Schema validator per definition, built
over the definition with its `$ref`s inlined."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.schemas import API_SCHEMA
from reconciler.schemas.formats import format_checker


@functools.cache
def root() -> dict[str, Any]:
    """The whole schema document (loaded once)."""
    with API_SCHEMA.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    _repair(loaded["$defs"])
    return loaded


def _repair(defs: dict[str, Any]) -> None:
    # The generator turned `allOf: [{$ref: TelnyxConversationChannel}]` with a default into an empty
    # closed object, which would reject every valid channel. Restore the snapshot's meaning here
    # (only when the slip is present, so a fixed schema file is used as is).
    prop = defs.get("CreateAssistantTestRequest", {}).get("properties", {})
    if prop.get("telnyx_conversation_channel", {}).get("properties") == {}:
        prop["telnyx_conversation_channel"] = {"$ref": "#/$defs/TelnyxConversationChannel",
                                               "default": "web_chat"}


def definition(def_name: str) -> dict[str, Any]:
    """The schema of one `$defs` entry."""
    found: dict[str, Any] = root()["$defs"][def_name]
    return found


def has(def_name: str) -> bool:
    """Whether the schema defines `def_name`."""
    return def_name in root()["$defs"]


# The formats the API validates (pydantic `datetime` and `AnyUrl` fields): the manifest checkers
# assert the same ones, with the same predicates (schemas/formats.py).
FORMATS = format_checker()


_INLINING: set[str] = set()  # definitions being inlined now: a `$ref` back to one of them is a cycle


@functools.cache
def inlined(def_name: str) -> dict[str, Any]:
    """`$defs[def_name]` with every `$ref` replaced by the definition it names (shared, not copied).

    jsonschema looks a `$ref` up afresh each time it validates one (a JSON pointer walk and a new
    validator), which was most of the cost of checking a small body; the schema has no cycles and no
    keyword beside a `$ref`, so inlining changes no error: `$ref` never appears in an error's paths.
    Any `$ref` left in place (a cycle, an unknown name) still resolves through the validator's `$defs`.
    """
    _INLINING.add(def_name)
    try:
        done: dict[str, Any] = _inline(definition(def_name))
    finally:
        _INLINING.discard(def_name)
    return done


def _inline(node: Any) -> Any:
    if isinstance(node, list):
        return [_inline(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) == 1 and ref.startswith("#/$defs/"):
        name = ref.rsplit("/", 1)[-1]
        return node if name in _INLINING or not has(name) else inlined(name)
    # Values (enum, const, default) are data, not schemas.
    return {key: value if key in ("enum", "const", "default") else _inline(value) for key, value in node.items()}


@functools.cache
def validator(def_name: str) -> Draft202012Validator:
    """A validator of `$defs[def_name]` that checks the `date-time` and `uri` formats."""
    # The root's `$defs` ride along for any `$ref` left in place (a cycle), so it still resolves.
    return Draft202012Validator({**inlined(def_name), "$defs": root()["$defs"]}, format_checker=FORMATS)


def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref`s to the schema they name."""
    while "$ref" in schema:
        schema = definition(str(schema["$ref"]).rsplit("/", 1)[-1])
    return schema


def variants(schema: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    """The resolved alternatives of a `oneOf`/`anyOf` schema."""
    for key in ("oneOf", "anyOf"):
        for sub in schema.get(key, []):
            yield resolve(sub)


def type_tags(schema: Mapping[str, Any]) -> list[Any]:
    """The values a schema's `type` property allows (the tag of a discriminated union's variant)."""
    prop = schema.get("properties", {}).get("type", {})
    return list(prop.get("enum", [prop["const"]] if "const" in prop else []))
