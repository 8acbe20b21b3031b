"""Server-side defaults: fill the defaults the API schema declares into a stored object, the way a
server applying pydantic defaults does."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.apischema import definition, resolve, type_tags, variants


def apply_defaults(def_name: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults `$defs[def_name]` declares, in place, for `obj` and the nested objects it holds.

    Only objects that are present get their nested defaults (an absent `telephony_settings` stays
    absent), which is how a server applying pydantic defaults behaves.
    """
    _fill(definition(def_name), obj)
    return obj


def _fill(schema: Mapping[str, Any], value: Any) -> None:
    schema = resolve(schema)
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        if not props:
            # A discriminated union: pick the variant whose `type` tag names this object's type.
            for variant in variants(schema):
                if value.get("type") in type_tags(variant):
                    _fill(variant, value)
                    return
            return
        for key, sub in props.items():
            resolved = resolve(sub)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            elif key not in value and "default" in resolved:
                value[key] = copy.deepcopy(resolved["default"])
            if key in value:
                _fill(resolved, value[key])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _fill(schema["items"], item)
