"""The committed API model (`schemas/api/`) against the installed official SDK, the one pyproject's test
extra pins: every request field, enum value and required flag of every operation the SDK has under
/ai/assistants, /ai/tools and /ai/mcp_servers must be in the schema. When Telnyx ships a new SDK and
the pin moves, this fails naming what the schema lacks, until `make schemas` regenerates it.

The SDK's types are walked here with a few lines of `typing` of our own, not with the generator's
converter, so a slip in the generator cannot hide itself."""

from __future__ import annotations

import collections.abc
import inspect
import json
import types
import typing
from typing import Any

import pytest

telnyx = pytest.importorskip("telnyx", reason="the telnyx SDK is not installed (pip install -e '.[test]')")
typing_extensions = pytest.importorskip("typing_extensions")

from tests.support.paths import REPO  # noqa: E402
from tools.sdkschema.operations import operations  # noqa: E402  (needs the SDK)

API = REPO / "reconciler" / "schemas" / "api"
Facts = set[str]  # "Def.path.to.field", "Def.path.to.field=enum value", "Def.path.to.field!" (required)


def _strip(tp: Any) -> tuple[Any, str | None, bool | None]:
    """(type, wire alias, required flag) with Annotated / Required / NotRequired taken off."""
    alias, required = None, None
    while True:
        origin = typing_extensions.get_origin(tp)
        if origin is typing_extensions.Required:
            required = True
        elif origin is typing_extensions.NotRequired:
            required = False
        elif origin is typing_extensions.Annotated:
            alias = alias or next((m.alias for m in tp.__metadata__ if getattr(m, "alias", None)), None)
        else:
            return tp, alias, required
        tp = typing_extensions.get_args(tp)[0]


def sdk_facts(tp: Any, at: str, out: Facts) -> None:
    """The facts of one annotation, prefixed with `at`."""
    out.update(at + fact for fact in _relative(tp, ()))


def _relative(tp: Any, busy: tuple[Any, ...]) -> frozenset[str]:
    # Computed once per type (the tool variants recur under create, update and version update).
    key = repr(tp)
    if key in _CACHE:
        return _CACHE[key]
    tp, _, _ = _strip(tp)
    origin = typing_extensions.get_origin(tp)
    args = typing_extensions.get_args(tp)
    out: set[str] = set()
    if tp in busy:  # a recursive type: its fields are listed where it first appears
        return frozenset()
    if origin in (typing.Literal, typing_extensions.Literal):
        out.update(f"={a}" for a in args)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            out |= _relative(arg, busy)
    elif origin in (list, collections.abc.Iterable, collections.abc.Sequence) or (
            origin is not None and getattr(origin, "__name__", "") == "SequenceNotStr"):
        out.update("[]" + fact for fact in _relative(args[0], busy))
    elif isinstance(tp, type) and typing_extensions.is_typeddict(tp):
        for name, hint in typing_extensions.get_type_hints(tp, include_extras=True).items():
            _, alias, required = _strip(hint)
            if required is None:
                owner = next(b for b in tp.__mro__ if name in inspect.get_annotations(b))
                required = bool(getattr(owner, "__total__", True))
            field = f".{alias or name}"
            out.add(field)
            if required:
                out.add(field + "!")
            out.update(field + fact for fact in _relative(hint, (*busy, tp)))
    _CACHE[key] = frozenset(out)
    return _CACHE[key]


_CACHE: dict[str, frozenset[str]] = {}


def schema_facts(node: Any, at: str, defs: dict[str, Any], out: Facts, depth: int = 0) -> None:
    if not isinstance(node, dict) or depth > 30:
        return
    if "$ref" in node:
        schema_facts(defs[node["$ref"].rsplit("/", 1)[-1]], at, defs, out, depth + 1)
    out.update(f"{at}={v}" for v in node.get("enum", []))
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, []):
            schema_facts(branch, at, defs, out, depth + 1)
    for name, sub in node.get("properties", {}).items():
        out.add(f"{at}.{name}")
        schema_facts(sub, f"{at}.{name}", defs, out, depth + 1)
    out.update(f"{at}.{name}!" for name in node.get("required", []))
    if isinstance(node.get("items"), dict):
        schema_facts(node["items"], f"{at}[]", defs, out, depth + 1)


def test_the_schema_has_every_request_field_of_the_pinned_sdk() -> None:
    defs = json.loads((API / "telnyx-ai.schema.json").read_text(encoding="utf-8"))["$defs"]
    table = json.loads((API / "telnyx-ai.operations.json").read_text(encoding="utf-8"))["operations"]
    body_of = {(op["method"], op["path"]): op.get("body") for op in table}
    lacking: list[str] = []
    walked = 0
    for op in operations():
        if op.body_class is None:
            continue
        name = body_of.get((op.method, op.path))
        if name is None:
            lacking.append(f"{op.method} {op.path}: no request body in telnyx-ai.operations.json")
            continue
        hints = typing_extensions.get_type_hints(op.body_class, include_extras=True)
        mine: Facts = set()
        for key in op.body_keys:
            _, alias, _ = _strip(hints[key])
            wire = alias or key
            mine.add(f"{name}.{wire}")
            sdk_facts(hints[key], f"{name}.{wire}", mine)
        theirs: Facts = set()
        schema_facts(defs[name], name, defs, theirs)
        lacking += sorted(f for f in mine - theirs if f not in lacking)
        walked += len(mine)
    assert walked > 1000  # really walked the nested settings, tool variants and enums
    assert not lacking, (f"the API model lacks {len(lacking)} field(s), enum value(s) or required flag(s) of "
                         f"telnyx {telnyx.__version__}; run `make schemas`:\n" + "\n".join(lacking))


def test_the_schema_was_generated_from_the_pinned_sdk() -> None:
    doc = json.loads((API / "telnyx-ai.schema.json").read_text(encoding="utf-8"))
    assert doc["x-sdk-version"] == telnyx.__version__, "run `make schemas` after moving the SDK pin"
