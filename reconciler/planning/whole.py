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
emulator), reached through `reconciler.export.schema`; filling them in is `planning.defaults`'s job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from math import copysign
from typing import Any

from reconciler.export.schema import Located, Shape, same_value, shape, spec_schema, strip_defaults
from reconciler.kinds import SERVER_SET_PATHS
from reconciler.planning.plan import FieldChange
from reconciler.planning.secrets import holds_secret, mask_header_values, owner_key, secret_path
from reconciler.tree import dotted

MISSING = object()
# isinstance() with a tuple made once: `dict | list` in a call builds a union each time (~0.5 us), and
# these checks run for every value of every compared object.
NESTED = (dict, list)
_PLAIN = frozenset({str, int, float, bool})  # scalar types whose == is JSON equality between two of a kind


def located_props(node: dict[str, Any], base: str, value: Any) -> tuple[dict[str, list[Located]], bool]:
    """Property schemas that apply to `value`, and whether any applicable schema declares properties."""
    found = shape(node, base, value)
    return found.props, found.declared


def _known(value: Any, node: dict[str, Any], base: str) -> Any:
    """`value` without the keys its schema does not know, at every depth (a free-form object, one
    whose schema declares no properties, keeps everything)."""
    if isinstance(value, dict):
        props, declared = located_props(node, base, value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if declared and key not in props:
                continue
            if isinstance(item, NESTED):  # a scalar has no keys to drop
                for sub, sub_base in props.get(key, []):
                    item = _known(item, sub, sub_base)
            out[key] = item
        return out
    if isinstance(value, list):
        if not any(isinstance(v, NESTED) for v in value):
            return list(value)
        items = shape(node, base, value).items
        return [_known(v, *items) for v in value] if items else list(value)
    return value


def _drop_empty(value: Any) -> Any:
    """Nulls and empty objects/lists left out of objects: a cleared field may read back as any of them."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, NESTED):
                item = _drop_empty(item)
                if not item:
                    continue
            elif item is None:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_drop_empty(v) if isinstance(v, NESTED) else v for v in value]
    return value


def drop_server_set(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of `spec` without the ids the server creates inside nested objects."""
    out = dict(spec)
    for parent, key in SERVER_SET_PATHS.get(kind, ()):
        held = out.get(parent)
        if isinstance(held, dict) and key in held:
            out[parent] = held = dict(held)  # a copy in C, then one key less: same order as a comprehension
            del held[key]
    return out


@dataclass
class Shared:
    """The canonical forms of one assistant's top-level objects and lists, kept by its first compare
    (main's) for the next ones (its versions'): each entry holds the value, its object's shape and its
    canonical form (MISSING when it reads as absent).

    `desired` is by key and the value's identity: a named version's spec is its main spec with an
    overlay merged on without copies, so most of its values are main's own objects. `live` is by key
    alone, taken when the value equals the one kept, type for type (`same_json`): each live version
    is its own JSON, which mostly repeats main's."""

    desired: dict[tuple[str, int], tuple[Any, Shape, Any]] = field(default_factory=dict)
    live: dict[str, tuple[Any, Shape, Any]] = field(default_factory=dict)


def same_json(a: Any, b: Any) -> bool:
    """Whether two JSON values are one value: equal, and of the same type at every depth (`==` alone
    takes `true` for `1`, `1` for `1.0` and `0.0` for `-0.0`, which the canonical form keeps apart),
    objects with their keys in the same order (the plan's JSON shows them in that order). Keys are
    compared by `==`: JSON's are strings."""
    kind = type(a)
    if kind is not type(b) or a != b:
        return False
    if kind is float:
        return a != 0 or copysign(1.0, a) == copysign(1.0, b)
    return (kind is not dict and kind is not list) or _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    """For two equal containers of the same type: whether each pair of values is one value (and, for
    objects, whether their keys come in the same order)."""
    if type(a) is dict:
        if list(a) != list(b):
            return False
        pairs = zip(a.values(), b.values(), strict=True)
    else:
        pairs = zip(a, b, strict=True)
    for mine, theirs in pairs:
        kind = type(mine)
        if kind is not type(theirs):
            return False
        if kind is float and mine == 0 and copysign(1.0, mine) != copysign(1.0, theirs):
            return False
        if (kind is dict or kind is list) and mine is not theirs and not _same_types(mine, theirs):
            return False
    return True


def _one_form(types: tuple[type, ...], values: Iterable[Any]) -> bool:
    """Whether values of these types (the values of an object or list of scalars) can share one
    canonical form with every value equal to them of the same types: plain JSON scalars, no zero
    float (`-0.0 == 0.0`, but JSON writes them apart)."""
    return _PLAIN_VALUES.issuperset(types) and (float not in types or all(v != 0 for v in values if type(v) is float))


def canonical(kind: str, spec: dict[str, Any], *, live: bool = False, shared: Shared | None = None,
              leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """`spec` (manifest form) without the keys in `leave_out`, in the canonical form both sides are
    compared in: by definition `_drop_empty(strip_defaults(_known(value) if live else value))` of
    `value` without the server-set ids, worked out in one walk (`_canonical`). With `shared`, the
    canonical forms of top-level objects and lists are taken from it or added to it: the caller
    keeps it for objects that do not change meanwhile, and does not change what it returns."""
    node, base = spec_schema(kind)
    value = drop_server_set(kind, spec)  # a copy: keys are left out of it without another walk
    for key in leave_out:
        value.pop(key, None)
    stripped: dict[str, Any] = _canonical(value, node, base, live, shared)
    return stripped


def _canonical(value: Any, node: dict[str, Any], base: str, live: bool, shared: Shared | None = None) -> Any:
    """`_drop_empty(strip_defaults(_known(value) if live else value, ...))` in one walk, one `shape`
    per object instead of three passes and two shapes: the planner canonicalises every live and
    desired object of every assistant and version. Where the one walk could differ from the three
    passes (a key that decides the shape is filtered out; a default or several schemas for an
    object), that part is done in the three passes."""
    if isinstance(value, list):
        if not any(isinstance(v, NESTED) for v in value):
            return list(value)
        items = shape(node, base, value).items
        if items is None:
            return [_drop_empty(v) if isinstance(v, NESTED) else v for v in value]
        # Objects of scalars (an MCP server's reference, say) through the memo, as under a key.
        return [_object(v, *items, live) if isinstance(v, dict) else _canonical(v, *items, live)
                if isinstance(v, list) else v for v in value]
    if not isinstance(value, dict):
        return value
    found = shape(node, base, value)
    props, strippable = found.props, found.strippable
    filtering = live and found.declared
    if filtering and found.deciding and any(k in value and (k not in props or isinstance(value[k], NESTED))
                                            for k in found.deciding):
        # `_known` would change a value that decides the shape `strip_defaults` sees: as defined.
        return _drop_empty(strip_defaults(_known(value, node, base), node, base))
    out: dict[str, Any] = {}
    # `in` rather than `.get()`, and a string told without isinstance(): no call for most keys.
    for key, item in value.items():
        if item is None:
            continue
        if filtering and key not in props:
            continue  # a key the schema does not know (`_known`)
        if type(item) is str or not isinstance(item, NESTED):
            if key not in strippable:
                out[key] = item
                continue
            default = strippable[key]
            if type(item) is type(default) and type(item) in _PLAIN:
                if item != default:  # same plain type: `same_value` is ==, without the call
                    out[key] = item
            elif not same_value(item, default):
                out[key] = item
            continue
        if not item:
            continue  # an empty object or list reads as absent, whatever its schema (`_nested`)
        if shared is None:
            made = _nested(key, item, found, live)
        elif live:
            seen = shared.live.get(key)
            if seen is not None and seen[1] is found and same_json(item, seen[0]):
                made = seen[2]
            else:
                made = _nested(key, item, found, live)
                if seen is None:
                    shared.live[key] = (item, found, made)
        else:
            hit = shared.desired.get((key, id(item)))
            if hit is not None and hit[0] is item and hit[1] is found:
                made = hit[2]
            else:
                made = _nested(key, item, found, live)
                shared.desired[(key, id(item))] = (item, found, made)
        if made is not MISSING:
            out[key] = made
    return out


def _nested(key: str, item: Any, found: Shape, live: bool) -> Any:
    """The canonical form of `item`, an object or list under `key` of an object of shape `found`
    (`_canonical`'s loop); MISSING when it reads as absent."""
    subs, strippable = found.props.get(key), found.strippable
    types = tuple(map(type, item)) if isinstance(item, list) else None
    # Plain JSON scalars are no object or list (of any subclass): no call per item to tell.
    if types is not None and (_PLAIN_VALUES.issuperset(types) or not any(isinstance(v, NESTED) for v in item)):
        # Scalars only: each pass copies the list as it is (`tags`, `enabled_features`...).
        if key in strippable and same_value(item, strippable[key]):
            return MISSING
        item = _scalar_list(item, types)
    elif subs is not None and len(subs) == 1 and key not in found.defaults:
        sub, sub_base = subs[0]
        item = _object(item, sub, sub_base, live) if isinstance(item, dict) else _canonical(item, sub, sub_base, live)
    else:  # compared with its default once known, or several schemas in turn: the three passes
        for sub, sub_base in subs or () if live else ():
            item = _known(item, sub, sub_base)
        if key in strippable and same_value(item, strippable[key]):
            return MISSING
        for sub, sub_base in subs or ():
            item = strip_defaults(item, sub, sub_base)
        item = _drop_empty(item)
    # An object or list left empty reads as absent (`_drop_empty`), required or not.
    return item if item else MISSING


def _object(item: dict[str, Any], node: dict[str, Any], base: str, live: bool) -> Any:
    """`_canonical(item, node, base, live)` of an object, through the memo of objects of scalars."""
    kept = _scalar_object(item, node, base, live)
    return _canonical(item, node, base, live) if kept is None else kept


# The canonical form of an object of scalars, by node and the object's keys, values and their types:
# thousands of assistants and versions hold the same settings objects (voice, telephony...). The
# keys kept depend on nothing else (a scalar is kept as it is, or left out). An object of plain JSON
# scalars gets the one form made for it (`_ONE`), so the same settings on the live and on the desired
# side are the same object, which the diff passes over by identity; no canonical form is modified
# in place (`diff.drop_path` copies what it goes through). An object holding another type (a
# SensitiveStr) gets its form built from its own values, so each such value stays itself.
_KEPT: dict[tuple[Any, ...], tuple[dict[str, Any], Any, bool]] = {}
_ONE: dict[tuple[Any, ...], Any] = {}  # canonical forms of plain scalars (objects, lists), by content and types
_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


def _scalar_object(item: dict[str, Any], node: dict[str, Any], base: str, live: bool) -> dict[str, Any] | None:
    """`_canonical(item, node, base, live)` for an object whose values are all scalars, memoised
    (`_KEPT`); None for an object holding an object or a list (its key cannot be hashed)."""
    types = tuple(map(type, item.values()))
    key = (id(node), base, live, tuple(item.items()), types)
    try:
        hit = _KEPT.get(key)
    except TypeError:
        return None
    if hit is not None and hit[0] is node:
        return hit[1] if hit[2] else {k: item[k] for k in hit[1]}
    out: dict[str, Any] = _canonical(item, node, base, live)
    if len(_KEPT) > 50_000:  # objects of unique values (URLs, names): keep the memos bounded
        _KEPT.clear()
        _ONE.clear()
    plain = _one_form(types, item.values()) and all(type(k) is str for k in item)
    if plain:
        out = _ONE.setdefault((tuple(out.items()), tuple(map(type, out.values()))), out)
    _KEPT[key] = (node, out if plain else tuple(out), plain)
    return out


def _scalar_list(item: list[Any], types: tuple[type, ...]) -> list[Any]:
    """A copy of a list of scalars (its canonical form; `types` those of its items); for plain JSON
    scalars, the one copy made for that content and those types (`_ONE`, as `_scalar_object`)."""
    if not _one_form(types, item):
        return list(item)
    if len(_ONE) > 100_000:  # lists of unique values (tags naming each assistant): keep it bounded
        _ONE.clear()
    one: list[Any] = _ONE.setdefault((list, tuple(item), types), list(item))
    return one


def removal_changes(kind: str, obj: dict[str, Any], name_field: str | None = None) -> list[FieldChange]:
    """What a destroy takes away, field by field (`path = value -> null`), so a reviewer reads what
    goes rather than "no field changes". Where a value holds a secret-looking part, its parts are
    shown one by one and only the ones holding it are marked sensitive (as an update marks them):
    a credential header must not hide the rest of the `tools` list it is in."""
    shown = canonical(kind, obj, live=True)
    if name_field and obj.get(name_field) is not None:
        shown = {name_field: obj[name_field], **shown}
    out: list[FieldChange] = []
    for key in sorted(shown):
        _removed(shown, [key], shown[key], out)
    return out


def _removed(root: dict[str, Any], path: list[Any], value: Any, out: list[FieldChange]) -> None:
    """`path = value -> null` onto `out`, or, for an object or list holding a probable secret, the
    same for each of its parts; a secret leaf is marked sensitive."""
    if not holds_secret(value, path[-1]) and not secret_path(root, path):
        # Header values, whatever their names, are never shown (secrets.header_value): a removed tool
        # still shows its url and the names of its headers.
        out.append(FieldChange(dotted(path), mask_header_values(value, owner_key(path)), None))
    elif isinstance(value, NESTED) and value:
        for part, item in value.items() if isinstance(value, dict) else enumerate(value):
            _removed(root, [*path, part], item, out)
    else:
        out.append(FieldChange(dotted(path), value, None, sensitive=True))
