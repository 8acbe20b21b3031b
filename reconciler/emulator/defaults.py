"""Server-side defaults: fill the defaults the API schema declares into a stored object, the way a
server applying pydantic defaults does.

Each definition is compiled once into a `_Plan` that keeps only what can add a default (a property
with one, or a nested object, list or union that leads to one); filling then walks the object along
that plan, never the whole schema, so an update of an assistant costs microseconds, not a schema walk.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.apischema import definition, resolve, type_tags, variants

_NO_DEFAULT = object()
_IMMUTABLE = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class _Plan:
    """What filling one (resolved) schema does. `props`: (key, default or _NO_DEFAULT, plan of the value
    or None); `has_props`: the schema declares properties (else an object is matched to a union's variant
    by its `type` tag); `variants`: (tags, plan or None); `items`: the plan of each list item."""

    props: tuple[tuple[str, Any, _Plan | None], ...]
    has_props: bool
    variants: tuple[tuple[tuple[Any, ...], _Plan | None], ...]
    items: _Plan | None

    @property
    def empty(self) -> bool:
        """Filling with this plan never changes anything."""
        return not self.props and self.items is None and not any(p is not None for _, p in self.variants)


def apply_defaults(def_name: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults `$defs[def_name]` declares, in place, for `obj` and the nested objects it holds.

    Only objects that are present get their nested defaults (an absent `telephony_settings` stays
    absent), which is how a server applying pydantic defaults behaves.
    """
    plan = _plan_of(def_name)
    if plan is not None:
        _fill(plan, obj)
    return obj


@functools.cache
def _plan_of(def_name: str) -> _Plan | None:
    return _compile(definition(def_name), {})


def _compile(schema: Mapping[str, Any], memo: dict[int, _Plan | None]) -> _Plan | None:
    """The plan of `schema` (None when it fills nothing); `memo` shares the plans of shared sub-schemas."""
    schema = resolve(schema)
    key = id(schema)
    if key in memo:
        return memo[key]
    memo[key] = None  # a cycle (none in the schema today) fills nothing on its way back
    props: list[tuple[str, Any, _Plan | None]] = []
    declared: Mapping[str, Any] = schema.get("properties", {})
    for name, sub in declared.items():
        resolved = resolve(sub)
        default = sub.get("default", resolved.get("default", _NO_DEFAULT))
        child = _compile(resolved, memo)
        if default is not _NO_DEFAULT or child is not None:
            props.append((name, default, child))
    union = tuple((tuple(type_tags(v)), _compile(v, memo)) for v in variants(schema)) if not declared else ()
    items = _compile(schema["items"], memo) if isinstance(schema.get("items"), dict) else None
    plan = _Plan(tuple(props), bool(declared), union, items)
    memo[key] = None if plan.empty else plan
    return memo[key]


def _fill(plan: _Plan, value: Any) -> None:
    if isinstance(value, dict):
        if plan.has_props:
            for key, default, child in plan.props:
                if key not in value:
                    if default is _NO_DEFAULT:
                        continue
                    value[key] = default if isinstance(default, _IMMUTABLE) else copy.deepcopy(default)
                if child is not None:
                    _fill(child, value[key])
            return
        # A discriminated union: the variant whose `type` tag names this object's type.
        tag = value.get("type")
        for tags, variant in plan.variants:
            if tag in tags:
                if variant is not None:
                    _fill(variant, value)
                return
    elif isinstance(value, list) and plan.items is not None:
        for item in value:
            _fill(plan.items, item)
