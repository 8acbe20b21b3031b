"""The API's declared defaults: filled into a spec for an update body (`fill_defaults`), and found at
one field's path for a field change (`default_at`); and which fields an API request accepts null for
(`nullable`) or an empty string (`empty_allowed`), the ways a partial update can clear one. The other
side of `planning.whole`, which leaves values at their declared default out of what it compares; both
read the project's JSON Schemas through `reconciler.export.schema`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

from reconciler.export.schema import Located, Schema, applicable, resolve, shape, spec_schema
from reconciler.planning.whole import MISSING, NESTED, located_props


def fill_defaults(kind: str, spec: dict[str, Any], keys: Iterable[str] | None = None) -> dict[str, Any]:
    """`spec` with the API's declared defaults filled in, for every object present (what an update
    body sends for a changed field, so the body says the whole value the plan shows). With `keys`,
    only those top-level keys are sure to be filled as they would be in the whole (the others may be
    left out): an update sends only its changed fields."""
    node, base = spec_schema(kind)
    if keys is not None:
        part = {k: spec[k] for k in keys if k in spec}
        # Each key is filled from its value and its schemas alone, so a part of the same top-level
        # shape fills those keys as the whole does (a shape decided by other keys: the whole).
        if shape(node, base, part) is shape(node, base, spec):
            spec = part
    filled: dict[str, Any] = _fill(copy.deepcopy(spec), node, base)
    return filled


def _default(subs: list[Located]) -> Any:
    for sub, sub_base in subs:
        resolved, _ = resolve(sub, sub_base)
        for candidate in (sub, resolved):
            if "default" in candidate:
                return candidate["default"]
    return MISSING


# The default of a property, by the identity of its list of schemas: a Shape's own (`located_props`), never
# modified, held here beside its default so that its id stays its own. An update body fills every
# property of each object it sends, and `_default` resolves each schema's `$ref` to find out.
_DEFAULTS: dict[int, tuple[list[Located], Any]] = {}


def _prop_default(subs: list[Located]) -> Any:
    """`_default(subs)` for a Shape's list of a property's schemas, memoised (`_DEFAULTS`)."""
    hit = _DEFAULTS.get(id(subs))
    if hit is not None and hit[0] is subs:
        return hit[1]
    default = _default(subs)
    if len(_DEFAULTS) > 10_000:  # shapes are a few hundred; a cleared shape memo makes new lists
        _DEFAULTS.clear()
    _DEFAULTS[id(subs)] = (subs, default)
    return default


def _fill(value: Any, node: dict[str, Any], base: str) -> Any:
    if isinstance(value, dict):
        props, _ = located_props(node, base, value)
        for key, subs in props.items():
            if key not in value:
                default = _prop_default(subs)
                if default is not MISSING and default is not None and default != [] and default != {}:
                    value[key] = copy.deepcopy(default)
            if isinstance(value.get(key), NESTED):
                for sub, sub_base in subs:
                    value[key] = _fill(value[key], sub, sub_base)
        return value
    if isinstance(value, list):
        items = shape(node, base, value).items
        return [_fill(v, *items) for v in value] if items else value
    return value


def default_at(kind: str, root: dict[str, Any], path: list[str | int]) -> Any:
    """The API's declared default of the field at `path` inside `root` (a spec), or None."""
    node, base = spec_schema(kind)
    subs: list[Located] = [(node, base)]
    value: Any = root
    for part in path:
        found: list[Located] = []
        for sub, sub_base in subs:
            if isinstance(part, int):
                for s, b in applicable(sub, sub_base, value):
                    if isinstance(s.get("items"), dict):
                        found.append((s["items"], b))
            else:
                found.extend(located_props(sub, sub_base, value)[0].get(part, []))
        subs = found
        value = value[part] if isinstance(value, dict) and isinstance(part, str) and part in value else (
            value[part] if isinstance(value, list) and isinstance(part, int) and part < len(value) else None)
        if not subs:
            return None
    default = _default(subs)
    return None if default is MISSING else default


def _accepts_null(prop: Schema, base: str) -> bool:
    node, base = resolve(prop, base)
    types = node.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    subs: list[Schema] = node.get("anyOf") or node.get("oneOf") or []
    return any(_accepts_null(sub, base) for sub in subs)


def _request_props(definition: str) -> tuple[dict[str, Schema], str]:
    node, base = resolve({"$ref": f"api/telnyx-ai.schema.json#/$defs/{definition}"}, "defaults")
    return node.get("properties", {}), base


@functools.cache
def nullable(definition: str) -> frozenset[str]:
    """The top-level fields of the API request `definition` (a `$defs` name of telnyx-ai.schema.json,
    generated from the SDK) that accept null: what an update can clear by sending null."""
    props, base = _request_props(definition)
    return frozenset(k for k, prop in props.items() if _accepts_null(prop, base))


@functools.cache
def empty_allowed(definition: str) -> frozenset[str]:
    """The top-level fields of the API request `definition` that are plain strings with no minimum
    length: an update can send "" for them (where it cannot send null, the only empty value)."""
    props, base = _request_props(definition)
    found = set()
    for key, prop in props.items():
        node, _ = resolve(prop, base)
        if node.get("type") == "string" and not node.get("minLength") and "enum" not in node:
            found.add(key)
    return frozenset(found)
