"""The project's API schema (`schemas/api/telnyx-ai.schema.json`) as the emulator reads it: loaded once,
one `$defs` entry by name, `$ref` resolution, and a cached JSON Schema validator per definition."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from reconciler.schemas import API_SCHEMA


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


# The formats the API validates (pydantic `datetime` and `AnyUrl` fields). jsonschema checks these only
# with optional packages installed, so the two checks are stated here, each as pydantic accepts.
FORMATS = FormatChecker(formats=())


def _is_datetime(value: object) -> bool:
    if isinstance(value, str):
        datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    return True


def _is_uri(value: object) -> bool:
    if isinstance(value, str):
        parts = urlsplit(value)
        if not parts.scheme or not (parts.netloc or parts.path) or " " in value:
            raise ValueError("not an absolute URL")
    return True


FORMATS.checks("date-time", raises=ValueError)(_is_datetime)
FORMATS.checks("uri", raises=ValueError)(_is_uri)


@functools.cache
def validator(def_name: str) -> Draft202012Validator:
    """A validator of `$defs[def_name]` that checks the `date-time` and `uri` formats."""
    # Validate against a wrapper that shares the root's $defs, so `#/$defs/X` refs resolve.
    wrapper = {"$defs": root()["$defs"], "$ref": f"#/$defs/{def_name}"}
    return Draft202012Validator(wrapper, format_checker=FORMATS)


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
