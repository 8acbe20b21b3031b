"""The whole desired object, and live state cut to what a manifest owns (issue #11).

For a resource the project owns, the manifest is the whole desired object: a field it does not
declare is desired at the API's declared default, or absent when the API declares none. Both sides
are compared in one canonical form, the one `export` writes: values equal to their declared default
left out, objects that held only defaults left out, nulls and empty containers left out. So a line
deleted from a manifest and a portal edit of an undeclared field both show as changes, while what the
server fills in (declared defaults) never does, and an exported manifest plans clean.

Never compared: live keys the kind's schema does not know (the server computes them: ids,
timestamps, response-only fields), the server-created ids of `SERVER_SET_PATHS`, and paths in
`ignore_changes`. Defaults come from the project's JSON Schemas (one source with export and the
emulator), reached through `reconciler.export.schema`.
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler.export.schema import Located, applicable, resolve, shape, spec_schema, strip_defaults
from reconciler.kinds import SERVER_SET_PATHS
from reconciler.planning.diff import holds_secret
from reconciler.planning.plan import FieldChange

_MISSING = object()


def _props(node: dict[str, Any], base: str, value: Any) -> tuple[dict[str, list[Located]], bool]:
    """Property schemas that apply to `value`, and whether any applicable schema declares properties."""
    found = shape(node, base, value)
    return found.props, found.declared


def _known(value: Any, node: dict[str, Any], base: str) -> Any:
    """`value` without the keys its schema does not know, at every depth (a free-form object, one
    whose schema declares no properties, keeps everything)."""
    if isinstance(value, dict):
        props, declared = _props(node, base, value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if declared and key not in props:
                continue
            for sub, sub_base in props.get(key, []):
                item = _known(item, sub, sub_base)
            out[key] = item
        return out
    if isinstance(value, list):
        items = shape(node, base, value).items
        return [_known(v, *items) for v in value] if items else list(value)
    return value


def _drop_empty(value: Any) -> Any:
    """Nulls and empty objects/lists left out of objects: a cleared field may read back as any of them."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _drop_empty(item)
            if item is None or item == [] or item == {}:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def drop_server_set(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` without the ids the server creates inside nested objects."""
    out = dict(spec)
    for parent, key in SERVER_SET_PATHS.get(kind, ()):
        if isinstance(out.get(parent), dict) and key in out[parent]:
            out[parent] = {k: v for k, v in out[parent].items() if k != key}
    return out


def canonical(kind: str, spec: dict[str, Any], *, live: bool = False) -> dict[str, Any]:
    """`spec` (manifest form) in the canonical form both sides are compared in."""
    node, base = spec_schema(kind)
    value = drop_server_set(kind, spec)
    if live:
        value = _known(value, node, base)
    stripped: dict[str, Any] = _drop_empty(strip_defaults(value, node, base))
    return stripped


def fill_defaults(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with the API's declared defaults filled in, for every object present (what an update
    body sends for a changed field, so the body says the whole value the plan shows)."""
    node, base = spec_schema(kind)
    filled: dict[str, Any] = _fill(copy.deepcopy(spec), node, base)
    return filled


def _default(subs: list[Located]) -> Any:
    for sub, sub_base in subs:
        resolved, _ = resolve(sub, sub_base)
        for candidate in (sub, resolved):
            if "default" in candidate:
                return candidate["default"]
    return _MISSING


def _fill(value: Any, node: dict[str, Any], base: str) -> Any:
    if isinstance(value, dict):
        props, _ = _props(node, base, value)
        for key, subs in props.items():
            if key not in value:
                default = _default(subs)
                if default is not _MISSING and default is not None and default != [] and default != {}:
                    value[key] = copy.deepcopy(default)
            if isinstance(value.get(key), dict | list):
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
                found.extend(_props(sub, sub_base, value)[0].get(part, []))
        subs = found
        value = value[part] if isinstance(value, dict) and isinstance(part, str) and part in value else (
            value[part] if isinstance(value, list) and isinstance(part, int) and part < len(value) else None)
        if not subs:
            return None
    default = _default(subs)
    return None if default is _MISSING else default


def removal_changes(kind: str, obj: dict[str, Any], name_field: str | None = None) -> list[FieldChange]:
    """What a destroy takes away, field by field (`path = value -> null`), so a reviewer reads what
    goes rather than "no field changes". Secret-looking values are marked sensitive."""
    shown = canonical(kind, obj, live=True)
    if name_field and obj.get(name_field) is not None:
        shown = {name_field: obj[name_field], **shown}
    return [FieldChange(k, v, None, sensitive=holds_secret(v, k)) for k, v in sorted(shown.items())]
