"""The planner's diff kernel, and the only user of deepdiff: nothing else in the project sees its
output, only the project's own FieldChange.

Diff rules (manifest-format.md, issue #11): the whole desired object is compared with live cut to
what the manifest owns (both prepared by `planning.whole`), at every depth, lists position by
position as apply sends them, so removals show; the set-like lists (`tags`, `enabled_features`,
`shared_tools`, `allowed_tools`) compare as sets; numbers
compare by value (`1 == 1.0`, but `true` is not `1`).

Fast path: both sides are compared top-level key by key, and only the keys that differ are brought to
a canonical form; deepdiff runs only to explain a difference inside an object or a list (a changed
scalar is its own explanation), which keeps a plan of thousands of objects cheap.
"""

from __future__ import annotations

import json
import sys
from json.encoder import encode_basestring_ascii as _json_string
from typing import Any

from reconciler.kinds import SET_LIKE_KEYS
from reconciler.model import contains_sensitive
from reconciler.planning.plan import FieldChange
from reconciler.planning.secrets import header_value, holds_secret, mask_secrets, owner_key, secret_path
from reconciler.tree import at
from reconciler.tree import dotted as dotted_path

# isinstance() with tuples made once: `dict | list` in a call builds a union each time (~0.5 us).
_NESTED = (dict, list)
_SEQUENCES = (list, tuple)
_CONTAINERS = (dict, list, tuple)
_ABSENT = object()  # a key's value on the side that lacks it (never equal to a JSON value)
# deepdiff's default `threshold_to_diff_deeper` (8.0 on): two objects sharing fewer keys than this
# share of all their keys are reported as one change of the whole object, not key by key.
_DIFF_DEEPER = 0.33

# Lists of objects that compare as sets, keyed by what identifies an entry. The planner compares
# assistants in manifest form (MCP servers by name), so reviewers read names, not ids.
KEYED_SET_LISTS = {"mcp_servers": "server"}


def _sort_key(value: Any) -> str:
    if isinstance(value, str):
        return _json_string(value)  # what json.dumps writes for a string, without its Python layers
    return json.dumps(value, sort_keys=True, default=str)


def _is_set(key: str | None, parents: tuple[str, ...]) -> bool:
    """Whether the list under `key` (reached through `parents` from the spec's root) is a set. Only
    the positions the API gives set meaning: top-level keys, and an MCP reference's allowed_tools; a
    key of the same name deeper down (inside dynamic_variables, say) keeps its order."""
    return (not parents and key in SET_LIKE_KEYS) or (parents == ("mcp_servers",) and key == "allowed_tools")


def _keyed(key: str | None, parents: tuple[str, ...]) -> str | None:
    return KEYED_SET_LISTS.get(key or "") if not parents else None


def normalize(value: Any, key: str | None = None, parents: tuple[str, ...] = ()) -> Any:
    """The canonical form: integral floats become ints, set-like lists are sorted."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    inner = parents if key is None else (*parents, key)
    if isinstance(value, dict):
        return {k: normalize(v, k, inner) for k, v in value.items()}
    if isinstance(value, _SEQUENCES):
        if all(type(v) is str for v in value) and _is_set(key, parents):
            # Plain strings (tags, shared_tools), each its own canonical form: equal ones are one
            # entry, sorted by their JSON text as below, without a call per string.
            return sorted(set(value), key=_json_string)
        items = [normalize(v, None, inner) for v in value]
        if _is_set(key, parents) or _keyed(key, parents):
            unique = {_sort_key(v): v for v in items}
            return [unique[k] for k in sorted(unique)]
        return items
    return value


def _differing(live: dict[str, Any], desired: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The top-level keys whose values differ under the diff rules, each side in canonical form and
    cut to those keys. Key by key is the same verdict as the whole object (`normalize` works key by
    key), but only the keys that differ are normalised: an unchanged object, or one changed field
    beside an unordered `tags`, costs a few C-speed `==`."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in (*live, *(k for k in desired if k not in live)):
        old, new = live.get(key, _ABSENT), desired.get(key, _ABSENT)
        # A string equal to the other side is no boolean, and has nothing inside: no call to tell.
        if old is new or (old == new and (type(old) is str or not _bool_for_number(old, new))):
            continue
        old = old if old is _ABSENT else normalize(old, key)
        new = new if new is _ABSENT else normalize(new, key)
        if old == new and not _bool_for_number(old, new):
            continue  # equal once integral floats are ints and sets are in order
        if old is not _ABSENT:
            before[key] = old
        if new is not _ABSENT:
            after[key] = new
    return before, after


def equal(live: dict[str, Any], desired: dict[str, Any]) -> bool:
    # Python's == (C-speed, no text built) is equality under every rule as long as no boolean
    # stands where the other side has a number (`True == 1` in Python, not in JSON); a NaN, which
    # only live data could hold (manifests refuse it), is unequal either way. Only when == fails
    # can a set's order or `1` vs `1.0` still make the two equal.
    if live == desired and not _bool_for_number(live, desired):
        return True
    before, after = _differing(live, desired)
    return not before and not after


def _bool_for_number(a: Any, b: Any) -> bool:
    """Whether, in two values that are == , a boolean on one side meets a number on the other."""
    if type(a) is bool or type(b) is bool:
        return type(a) is not type(b)
    # Plain loops, and no call but for a nested object or list: this runs on every compared object.
    if isinstance(a, dict):
        for key, mine in a.items():
            if type(mine) is str:
                continue
            theirs = b[key]
            if type(mine) is bool or type(theirs) is bool:
                if type(mine) is not type(theirs):
                    return True
            elif isinstance(mine, _CONTAINERS) and mine is not theirs and _bool_for_number(mine, theirs):
                return True
    elif isinstance(a, _SEQUENCES):
        for mine, theirs in zip(a, b, strict=True):
            if type(mine) is bool or type(theirs) is bool:
                if type(mine) is not type(theirs):
                    return True
            elif isinstance(mine, _CONTAINERS) and mine is not theirs and _bool_for_number(mine, theirs):
                return True
    return False


_KEPT_OUT = ("numpy", "pydantic")  # see preload


def preload() -> None:
    """Import deepdiff (~0.12 s of CPU, more on a busy machine), where a change first needs it.
    numpy and pydantic, which deepdiff imports whenever they are installed (for their arrays and
    models, which this project never hands it: another ~0.4 s and ~0.08 s of CPU), are kept out of
    that import."""
    if "deepdiff" in sys.modules:
        return
    blocked = [name for name in _KEPT_OUT if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # None: `import numpy` raises ImportError
    try:
        import deepdiff  # noqa: F401
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def field_changes(live: dict[str, Any], desired: dict[str, Any]) -> list[FieldChange]:
    """What differs between `live` and `desired`, field by field, under the diff rules."""
    if live == desired and not _bool_for_number(live, desired):
        return []
    changes: dict[str, FieldChange] = {}
    union = len(live.keys() | desired.keys())
    if union > 1 and len(live.keys() & desired.keys()) / union < _DIFF_DEEPER:
        # deepdiff calls two objects this different one change of the whole: its verdict, as it gives it.
        before, after = normalize(live), normalize(desired)
        _explain(changes, before, after, before, after)
        return [changes[k] for k in sorted(changes)]
    before, after = _differing(live, desired)
    nested: list[str] = []  # keys on both sides holding an object or list: deepdiff says where inside
    for key in (*before, *(k for k in after if k not in before)):
        old, new = before.get(key), after.get(key)
        if key in before and key in after and (isinstance(old, _NESTED) or isinstance(new, _NESTED)):
            nested.append(key)
        else:  # two scalars, or a key on one side only: the change is the key itself, as deepdiff reports it
            _record(changes, before, after, [key], old, new)
    if nested:
        # Every key on both sides: deepdiff's whole-object verdict (above) cannot apply to this part.
        _explain(changes, {k: before[k] for k in nested}, {k: after[k] for k in nested}, before, after)
    return [changes[k] for k in sorted(changes)]


def _explain(changes: dict[str, FieldChange], t1: dict[str, Any], t2: dict[str, Any], before: dict[str, Any],
             after: dict[str, Any]) -> None:
    """deepdiff's differences between `t1` and `t2` (parts of, or all of, `before` and `after`)."""
    preload()  # deepdiff is imported on first need: a plan of changed scalars never needs it
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    # Integral floats are already ints (normalize); deepdiff's own numeric leniency would also make
    # `true` equal `1`, so it stays off. Keys starting with `__` are data here (free-form objects such
    # as dynamic_variables hold them): deepdiff skips them by default, which hid their changes from
    # the plan while apply sent them.
    tree = DeepDiff(t1, t2, view="tree", ignore_private_variables=False)
    for levels in tree.values():
        for level in levels:
            _record(changes, before, after, level.path(output_format="list"),
                    None if level.t1 is notpresent else level.t1, None if level.t2 is notpresent else level.t2)


def _record(changes: dict[str, FieldChange], before: dict[str, Any], after: dict[str, Any], path: list[Any],
            old: Any, new: Any) -> None:
    """One difference at `path` (old/new None where absent) as the FieldChange a plan shows."""
    if old == new and type(old) is not bool and type(new) is not bool:
        return  # same value, other str subclass (a SensitiveStr): not a change
    # A set-like list changes as a whole: show both sets, not positions within them.
    for i, part in enumerate(path):
        keys = tuple(p for p in path[:i] if isinstance(p, str))
        if isinstance(part, str) and (_is_set(part, keys) or _keyed(part, keys)):
            path = path[: i + 1]
            old, new = at(before, path), at(after, path)
            break
    dotted = dotted_path(path)
    if isinstance(old, _NESTED) and old:
        # An object or list removed or replaced (a tool gone from `tools`) shows what it was, with
        # only its secret leaves masked: masking it whole hid which tool goes from the reviewer.
        old = mask_secrets(before, path, new)
        secret = contains_sensitive(old)
    else:
        key = owner_key(path)
        secret = secret_path(before, path) or holds_secret(old, key) or (old is not None and header_value(before, path))
    changes[dotted] = FieldChange(dotted, old, new, sensitive=contains_sensitive(new) or secret)




def creation_changes(desired: dict[str, Any]) -> list[FieldChange]:
    """A create shows every declared top-level field as a change from nothing."""
    return [
        FieldChange(key, None, value, sensitive=contains_sensitive(value))
        for key, value in sorted(normalize(desired).items())
        if value is not None
    ]


def drop_path(spec: dict[str, Any], dotted: str) -> None:
    """Remove a dotted path (`voice_settings.voice`) from a spec, in place (for ignore_changes). The
    objects it goes through are replaced by copies, never modified: canonical forms share objects
    (`whole._scalar_object`)."""
    parts = dotted.split(".")
    node: Any = spec
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return
        node[part] = node = dict(child)
    node.pop(parts[-1], None)
