"""A fast yes/no check of the JSON Schema subset our schemas use, compiled once into closures.

jsonschema explains errors well but takes milliseconds per assistant document (each `$ref` is a
registry lookup, each inline tool walks ten if/then branches). Most documents are valid, so the loader
asks this checker first and calls jsonschema only for documents it rejects; jsonschema stays the one
source of every message. A schema using a keyword not implemented here is not compiled at all
(`validators.fast_check` gives None) and everything then goes through jsonschema, so this can only ever
make validation faster, never more lenient. A property's schema is compiled when a value of that
property is first checked (a run uses a few of the API's hundreds of subschemas): one found
unsupported then raises Unsupported at each of its values, ending the whole check, and the caller
asks jsonschema (a "no" could be a "yes" under `if` or `oneOf`). Semantics follow
jsonschema for draft 2020-12, booleans are not numbers, `1 == 1.0`; `format` is asserted for the
formats the API asserts (schemas/formats.py: `uri`, `date-time`), as the jsonschema validator is told
to, and is an annotation otherwise.
This module decides which schema compiles to which check; the checks are in `fastkeywords.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.manifest.fastkeywords import (
    Check,
    all_of,
    any_of,
    array_check,
    enum_check,
    equal,
    every,
    number_check,
    object_check,
    one_of,
    scalar_checks,
    string_check,
    unique_items,
)
from reconciler.schemas.formats import FORMATS
from reconciler.tree import is_number

IGNORED = {"$comment", "$defs", "$id", "$schema", "default", "title", "description", "examples"}
SUPPORTED = IGNORED | {"format",
    "$ref", "type", "enum", "const", "properties", "additionalProperties", "required", "items",
    "minItems", "uniqueItems", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "pattern", "allOf", "anyOf", "oneOf", "if", "then", "else",
}  # fmt: skip


class Unsupported(Exception):
    """The schema uses a keyword this checker does not implement."""


_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": is_number,
    "integer": lambda x: (isinstance(x, int) and not isinstance(x, bool))
    or (isinstance(x, float) and x.is_integer()),
}


# The JSON types whose check is one isinstance() (not "number" or "integer": a bool is not one).
_PLAIN_TYPES: dict[Any, type] = {"string": str, "object": dict, "array": list, "boolean": bool}


def _inline_type(schema: Any) -> type | None:
    """The Python type of a schema that is only one of _PLAIN_TYPES (`{"type": "string"}`), else None."""
    if not isinstance(schema, dict) or set(schema) - IGNORED != {"type"} or not isinstance(schema["type"], str):
        return None
    return _PLAIN_TYPES.get(schema["type"])


class Compiler:
    """Compiles schemas of one `referencing` registry; `resolve(ref, ctx)` returns (contents, ctx)."""

    def __init__(self, resolve: Callable[[str, Any], tuple[Any, Any]], *, lazy: bool = True) -> None:
        self.resolve = resolve
        self.lazy = lazy  # False: every property at once (a test's way to find an unsupported one)
        self.cache: dict[int, list[Check]] = {}

    def compile_root(self, schema: Any, ctx: Any) -> Check:
        """`compile`, leaving the cache as it was if the schema proves unsupported: a check compiled
        meanwhile may hold a recursive reference to one that never came."""
        known = len(self.cache)
        try:
            return self.compile(schema, ctx)
        except Unsupported:
            for key in list(self.cache)[known:]:  # a dict keeps its order: what this call added
                del self.cache[key]
            raise

    def compile(self, schema: Any, ctx: Any) -> Check:
        if schema is True:
            return lambda x: True
        if schema is False:
            return lambda x: False
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        key = id(schema)
        cell = self.cache.get(key)
        if cell is None:
            cell = []
            self.cache[key] = cell  # before compiling: a recursive $ref finds the cell
            cell.append(self._compile(schema, ctx))
            return cell[0]
        return cell[0] if cell else lambda x: cell[0](x)  # the latter only inside a recursion

    def _compile(self, s: dict[str, Any], ctx: Any) -> Check:
        unknown = set(s) - SUPPORTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        fused = self._fused(s, ctx)
        if fused is not None:
            return fused
        checks: list[Check] = []
        if "$ref" in s:
            target, sub_ctx = self.resolve(s["$ref"], ctx)
            checks.append(self.compile(target, sub_ctx))
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            fns = [_TYPES[t] for t in types]
            checks.append(fns[0] if len(fns) == 1 else any_of(fns))
        if "enum" in s:
            checks.append(enum_check(list(s["enum"])))
        if "const" in s:
            const = s["const"]
            if type(const) is str:  # what equal() asks of a string, without the call
                checks.append(lambda x: isinstance(x, str) and x == const)
            else:
                checks.append(lambda x: equal(x, const))
        checks.extend(self._object(s, ctx))
        checks.extend(self._array(s, ctx))
        checks.extend(scalar_checks(s))
        if s.get("format") in FORMATS:  # (a string schema's is fused: string_check; none is inlined)
            check_format = FORMATS[s["format"]][0]
            checks.append(lambda x: not isinstance(x, str) or check_format(x))
        dispatch = self._dispatch(s.get("allOf"), ctx)
        if dispatch is not None:
            checks.append(dispatch)
        elif "allOf" in s:
            checks.append(all_of([self.compile(b, ctx) for b in s["allOf"]]))
        if "anyOf" in s:
            checks.append(any_of([self.compile(b, ctx) for b in s["anyOf"]]))
        if "oneOf" in s:
            checks.append(one_of([self.compile(b, ctx) for b in s["oneOf"]]))
        if "if" in s:
            cond = self.compile(s["if"], ctx)
            then = self.compile(s.get("then", True), ctx)
            other = self.compile(s.get("else", True), ctx)
            checks.append(lambda x: then(x) if cond(x) else other(x))
        return checks[0] if len(checks) == 1 else all_of(checks)

    def _dispatch(self, branches: Any, ctx: Any) -> Check | None:
        """`allOf` of `if {K: const V} then S` branches on one key K (a discriminator, as for inline
        tools) as one dictionary lookup instead of a walk through every branch."""
        if not isinstance(branches, list) or not branches:
            return None
        key: str | None = None
        table: dict[str, Check] = {}
        for b in branches:
            cond = b.get("if") if isinstance(b, dict) else None
            if not (isinstance(cond, dict) and set(b) == {"if", "then"} and set(cond) == {"properties", "required"}):
                return None
            props = cond["properties"]
            if not isinstance(props, dict) or len(props) != 1:
                return None
            k, sub = next(iter(props.items()))
            if cond["required"] != [k] or not isinstance(sub, dict) or set(sub) != {"const"}:
                return None
            if not isinstance(sub["const"], str) or key not in (None, k):
                return None
            key = k
            table[sub["const"]] = self.compile(b["then"], ctx)
        thens = list(table.values())

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return all(f(x) for f in thens)  # `if` holds vacuously for a non-object: every `then` applies
            value = x.get(key)
            f = table.get(value) if isinstance(value, str) else None
            return f is None or f(x)

        return check

    def _fused(self, s: dict[str, Any], ctx: Any) -> Check | None:
        """One function for the commonest shapes: an object, a string, a list or a number with only
        the keywords of its own type (most schemas of a manifest). The generic path calls a function
        for the type and one for each keyword; this asks the same questions in one frame."""
        kind = s.get("type")
        used = set(s) - IGNORED - {"type"}
        if kind == "object" and used <= _OBJECT_KEYS:
            props = self._properties(s, ctx)
            extra = s.get("additionalProperties", True)
            return object_check(props, None if extra is True else self.compile(extra, ctx),
                                 frozenset(s.get("required", ())))
        if kind == "string" and used <= _STRING_KEYS and all(isinstance(o, str) for o in s.get("enum", ())):
            return string_check(s)  # (an enum of other values compares by type too: see equal)
        if kind == "array" and used <= _ARRAY_KEYS:
            item = s.get("items", True)
            return array_check(self._inline(item, ctx) or self.compile(item, ctx), s.get("minItems", 0),
                                bool(s.get("uniqueItems")))
        if kind in ("number", "integer") and used <= _NUMBER_KEYS:
            return number_check(s, integer=kind == "integer")
        return None

    def _inline(self, schema: Any, ctx: Any) -> type | None:
        """The Python type of a schema that is only one of _PLAIN_TYPES, following `{"$ref": ...}`
        alone (most properties of the API's objects are `$ref`s to `{"type": "string"}`)."""
        for _ in range(8):  # a chain of refs longer than this (or a loop) is compiled as usual
            if not (isinstance(schema, dict) and "$ref" in schema and set(schema) - IGNORED == {"$ref"}):
                return _inline_type(schema)
            schema, ctx = self.resolve(schema["$ref"], ctx)
        return None

    def _properties(self, s: dict[str, Any], ctx: Any) -> dict[str, Check | type]:
        # A property whose schema is only a type that isinstance() decides alone ({"type": "string"},
        # most leaves) is checked inline, without a call for each value of each document.
        props: dict[str, Check | type] = {}
        for k, v in s.get("properties", {}).items():
            props[k] = self._inline(v, ctx) or (self._later(props, k, v, ctx) if self.lazy else self.compile(v, ctx))
        return props

    def _later(self, table: dict[str, Check | type], key: str, schema: Any, ctx: Any) -> Check:
        """A check that compiles `schema` when first called and puts the result in its place in
        `table` (a property's entry: later values call the compiled check directly)."""

        def first(x: Any) -> bool:
            try:
                check = self.compile_root(schema, ctx)
            except Unsupported:
                # Not False: under `if` or in a branch of `oneOf`, a false answer could let a
                # document through. Each value of this property ends the whole check instead, and
                # the caller asks jsonschema (schema.findings).
                check = _unsupported
            table[key] = check
            return check(x)

        return first

    def _object(self, s: dict[str, Any], ctx: Any) -> list[Check]:
        """The object keywords of a schema that also has others (a value of another type passes them)."""
        props = self._properties(s, ctx)
        extra = s.get("additionalProperties", True)
        extra_check = None if extra is True else self.compile(extra, ctx)
        needed = frozenset(s.get("required", ()))
        if not (props or extra_check is not None or needed):
            return []
        whole = object_check(props, extra_check, needed)
        return [lambda x: not isinstance(x, dict) or whole(x)]

    def _array(self, s: dict[str, Any], ctx: Any) -> list[Check]:
        out: list[Check] = []
        if "items" in s:
            item = self.compile(s["items"], ctx)
            out.append(lambda x: not isinstance(x, list) or every(item, x))
        if "minItems" in s:
            n = s["minItems"]
            out.append(lambda x: not isinstance(x, list) or len(x) >= n)
        if s.get("uniqueItems"):
            out.append(lambda x: not isinstance(x, list) or unique_items(x))
        return out


def _unsupported(x: Any) -> bool:
    raise Unsupported("a property whose schema uses a keyword this checker lacks")


_OBJECT_KEYS = {"properties", "additionalProperties", "required"}
_STRING_KEYS = {"minLength", "maxLength", "pattern", "enum", "format"}
_ARRAY_KEYS = {"items", "minItems", "uniqueItems"}
_NUMBER_KEYS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
