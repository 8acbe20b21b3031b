"""What the schemas say about an exported spec: which keys a manifest kind accepts, and which values
equal the API's declared defaults (so that `export` can leave them out).

Everything is read from the project's JSON Schemas (`schemas/<Kind>.schema.json`, which `$ref` into
`schemas/api/telnyx-ai.schema.json`): the defaults have one source of truth, shared with the manifest
checks and the emulator. Pure apart from reading those files once.
"""

from __future__ import annotations

import functools
import json
import posixpath
from dataclasses import dataclass
from typing import Any

from reconciler.schemas import SCHEMAS

Schema = dict[str, Any]
# A schema node together with the file its `$ref`s are relative to.
Located = tuple[Schema, str]

_MISSING = object()
_NESTED = (dict, list)  # made once: `dict | list` in an isinstance() call builds a union each time


@functools.cache
def _document(name: str) -> Schema:
    with (SCHEMAS / name).open(encoding="utf-8") as fh:
        loaded: Schema = json.load(fh)
    return loaded


def _pointer(doc: Schema, pointer: str) -> Schema:
    node: Any = doc
    for part in pointer.strip("/").split("/") if pointer.strip("/") else []:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"schema pointer {pointer} is not an object")
    return node


@functools.cache
def _target(ref: str, base: str) -> Located:
    file, _, pointer = ref.partition("#")
    if file:
        base = posixpath.normpath(posixpath.join(posixpath.dirname(base), file))
    return _pointer(_document(base), pointer), base


def resolve(node: Schema, base: str) -> Located:
    """Follow `$ref`s (local or into another schema file); sibling keys of a `$ref` are kept."""
    seen = 0
    while "$ref" in node:
        target, base = _target(str(node["$ref"]), base)
        node = target if len(node) == 1 else {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
        if seen > 50:
            raise ValueError(f"schema $ref loop at {base}")
    return node, base


@functools.cache
def spec_schema(kind: str) -> Located:
    """The `spec` schema of a manifest kind (`Assistant`, `Tool`, `McpServer`)."""
    name = f"{kind}.schema.json"
    return resolve({"$ref": "#/$defs/Spec"}, name)


def spec_keys(kind: str) -> frozenset[str]:
    """The keys a kind's `spec` accepts (the manifest schemas close `spec`)."""
    node, _ = spec_schema(kind)
    return frozenset(node.get("properties", {}))


def type_enum(kind: str, *path: str) -> frozenset[str]:
    """The `type` values the manifest schema of `kind` allows at `path` inside `spec` (for example
    `type_enum("Assistant", "tools")` for inline tools, `type_enum("Tool")` for shared tools)."""
    node, base = spec_schema(kind)
    for key in path:
        node, base = resolve(node, base)
        node = node["properties"][key]
        node, base = resolve(node, base)
        if "items" in node:
            node = node["items"]
    node, base = resolve(node, base)
    prop, _ = resolve(node["properties"]["type"], base)
    return frozenset(prop.get("enum", []))


def _discriminates(variant: Schema, value: Any) -> bool | None:
    """True/False when `variant` names the `type` it is for and `value` does/does not have it; None
    when the variant does not discriminate by `type`."""
    prop = variant.get("properties", {}).get("type")
    if not isinstance(prop, dict):
        return None
    allowed = prop["enum"] if "enum" in prop else [prop["const"]] if "const" in prop else None
    if allowed is None:
        return None
    return isinstance(value, dict) and value.get("type") in allowed


def _if_holds(cond: Schema, value: Any) -> bool:
    """The simple `if` conditions the manifest schemas use: required keys and const/enum properties."""
    if not isinstance(value, dict):
        return False
    if any(key not in value for key in cond.get("required", [])):
        return False
    for key, prop in cond.get("properties", {}).items():
        if key not in value or not isinstance(prop, dict):
            continue
        if "const" in prop and value[key] != prop["const"]:
            return False
        if "enum" in prop and value[key] not in prop["enum"]:
            return False
    return True


def applicable(node: Schema, base: str, value: Any) -> list[Located]:
    """Every (resolved) schema that applies to `value`: the node itself, its `allOf` members, the
    `then` of each `if` that holds, and the `oneOf`/`anyOf` variant its `type` selects.

    Memoised: what applies depends on `value` only through the keys the conditions below `node`
    look at (`_looked_at`), so the planner, which asks this for every object of thousands of
    assistants, walks the schema once per shape instead of once per object."""
    return list(shape(node, base, value).schemas)


class _Memo:
    """What is known of one schema node: the keys its conditions look at, and the `Shape` of each
    combination of their values met so far. Holding `node` keeps its id its own."""

    __slots__ = ("base", "keys", "node", "shapes")

    def __init__(self, node: Schema, base: str) -> None:
        self.node, self.base, self.keys = node, base, _looked_at(node, base)
        self.shapes: dict[tuple[Any, ...], Shape] = {}


# Schema nodes by id: the nodes asked about are the schema files' own (loaded once), so a few hundred.
_MEMOS: dict[int, _Memo] = {}
_LOOKED_AT: dict[tuple[int, str], tuple[Schema, tuple[str, ...]]] = {}
_ABSENT = ("absent",)  # a key's place in a signature when the value lacks it (never equal to a JSON value)


def condition_keys(node: Schema, base: str) -> tuple[str, ...]:
    """The keys of a value whose values decide which schemas under `node` apply to it (and so its
    `Shape`): a value's shape is its shape whatever its other keys hold."""
    return _looked_at(node, base)


def _looked_at(node: Schema, base: str) -> tuple[str, ...]:
    """Every key that an `if` (its `required` and `properties`) or a `type` discriminator below
    `node` may read, following the same `allOf`/`then`/`oneOf`/`anyOf` steps as `_applicable`."""
    hit = _LOOKED_AT.get((id(node), base))
    if hit is not None and hit[0] is node:
        return hit[1]
    found: set[str] = set()
    held: list[Schema] = []  # the nodes met, kept alive so that their ids stay theirs during the walk
    seen: set[tuple[int, str]] = set()
    todo: list[Located] = [(node, base)]
    while todo:
        at, at_base = resolve(*todo.pop())
        if (id(at), at_base) in seen:
            continue
        seen.add((id(at), at_base))
        held.append(at)
        for sub in at.get("allOf", []):
            sub_node, sub_base = resolve(sub, at_base)
            if "if" in sub_node:
                cond = resolve(sub_node["if"], sub_base)[0]
                found.update(cond.get("required", []))
                found.update(cond.get("properties", {}))
                if "then" in sub_node:
                    todo.append((sub_node["then"], sub_base))
            else:
                todo.append((sub_node, sub_base))
        for key in ("oneOf", "anyOf"):
            for variant in at.get(key, []):
                found.add("type")
                todo.append(resolve(variant, at_base))
    keys = tuple(sorted(found))
    _LOOKED_AT[(id(node), base)] = (node, keys)
    return keys


def _applicable(node: Schema, base: str, value: Any) -> list[Located]:
    node, base = resolve(node, base)
    out: list[Located] = [(node, base)]
    for sub in node.get("allOf", []):
        sub_node, sub_base = resolve(sub, base)
        if "if" in sub_node:
            if _if_holds(resolve(sub_node["if"], sub_base)[0], value) and "then" in sub_node:
                out.extend(applicable(sub_node["then"], sub_base, value))
        else:
            out.extend(applicable(sub_node, sub_base, value))
    for key in ("oneOf", "anyOf"):
        for variant in node.get(key, []):
            v_node, v_base = resolve(variant, base)
            if _discriminates(v_node, value):
                out.extend(applicable(v_node, v_base, value))
    return out


def same_value(a: Any, b: Any) -> bool:
    """JSON equality as the planner sees it: numbers by value (`1 == 1.0`), but a boolean is never a
    number (`true != 1`)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _default(subs: list[Located]) -> Any:
    for node, base in subs:
        if "default" in node:
            return node["default"]
        resolved, _ = resolve(node, base)
        if "default" in resolved:
            return resolved["default"]
    return _MISSING


@dataclass(frozen=True)
class Shape:
    """What the schemas that apply to one value (`applicable`) say about its parts. Shared by
    every value of the same shape: never to be modified."""

    schemas: list[Located]
    props: dict[str, list[Located]]  # each key's schemas, in the order of `schemas`
    required: frozenset[str]
    declared: bool  # some applicable schema declares properties (else the object is free-form)
    items: Located | None  # the first applicable `items` schema, for a list
    defaults: dict[str, Any]  # each key's declared default, when it has one
    strippable: dict[str, Any]  # `defaults` of the keys that are not required: left out when at it
    deciding: tuple[str, ...]  # the keys whose values decide the shape (`condition_keys`)


def shape(node: Schema, base: str, value: Any) -> Shape:
    """The `Shape` of `value` under `node`. Memoised by node and by the values of the keys its
    conditions look at (`_looked_at`; nothing but "not an object" for anything else): that is all
    `_applicable` reads of `value`. A value whose looked-at keys hold something unhashable is
    worked out without the memo."""
    memo = _MEMOS.get(id(node))
    if memo is None or memo.node is not node or memo.base != base:
        if len(_MEMOS) > 10_000:  # a `$ref` with siblings resolves to a new node each time it is met
            _MEMOS.clear()
        memo = _MEMOS[id(node)] = _Memo(node, base)
    if isinstance(value, dict):
        signature: tuple[Any, ...] = (True, *[value.get(k, _ABSENT) for k in memo.keys]) if memo.keys else (True,)
    else:
        signature = ()
    try:
        found = memo.shapes.get(signature)
    except TypeError:
        return _shape(node, base, value)
    if found is None:
        if len(memo.shapes) > 1_000:  # looked-at keys with open-ended values: keep the memo bounded
            memo.shapes.clear()
        found = memo.shapes[signature] = _shape(node, base, value)
    return found


def _shape(node: Schema, base: str, value: Any) -> Shape:
    schemas = _applicable(node, base, value)
    props: dict[str, list[Located]] = {}
    required: set[str] = set()
    for s_node, s_base in schemas:
        for name, sub in s_node.get("properties", {}).items():
            props.setdefault(name, []).append((sub, s_base))
        required.update(s_node.get("required", []))
    defaults = {name: d for name, subs in props.items() if (d := _default(subs)) is not _MISSING}
    items = next(((s["items"], b) for s, b in schemas if isinstance(s.get("items"), dict)), None)
    strippable = {name: d for name, d in defaults.items() if name not in required}
    return Shape(schemas, props, frozenset(required), any("properties" in s for s, _ in schemas), items, defaults,
                 strippable, _looked_at(node, base))


def strip_defaults(value: Any, node: Schema, base: str) -> Any:
    """`value` without what the user did not say: nulls, values equal to the declared default of
    their field (recursively, through nested settings and tool variants), and objects that only held
    such values. A required key is always kept, whatever its value, so the result stays valid."""
    if isinstance(value, list) and not any(isinstance(v, _NESTED) for v in value):
        return list(value)  # scalars only: nothing inside to strip, whatever the items' schema
    if not isinstance(value, _NESTED):
        return value  # a scalar's own default was handled by its parent
    found = shape(node, base, value)
    if isinstance(value, dict):
        props, required, defaults = found.props, found.required, found.defaults
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            default = defaults.get(key, _MISSING)
            if default is not _MISSING and key not in required and same_value(item, default):
                continue
            if not isinstance(item, _NESTED):
                out[key] = item  # a scalar: its default was handled just above
                continue
            stripped = item
            for sub, sub_base in props.get(key, ()):
                stripped = strip_defaults(stripped, sub, sub_base)
            if isinstance(item, dict) and item and not stripped and key not in required:
                continue  # held nothing but defaults
            out[key] = stripped
        return out
    if found.items is None:
        return list(value)
    sub, sub_base = found.items
    return [strip_defaults(v, sub, sub_base) if isinstance(v, _NESTED) else v for v in value]


def strip_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`strip_defaults` for the `spec` of a manifest kind."""
    node, base = spec_schema(kind)
    stripped: dict[str, Any] = strip_defaults(spec, node, base)
    return stripped
