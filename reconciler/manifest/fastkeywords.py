"""The checks a `fastcheck.Compiler` puts together, as closures: the fused ones (an object, a string,
a list or a number with only the keywords of its own type, each asked in one frame), one per other
keyword, the `allOf`/`anyOf`/`oneOf` combinators, and jsonschema's equality (`equal`) that `const`,
`enum` and `uniqueItems` use. They run for every value of every document the loader checks; which
schemas compile to which check, and what is not supported, is `fastcheck`'s part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.manifest.patterns import compiled
from reconciler.schemas.formats import FORMATS
from reconciler.tree import is_number

Check = Callable[[Any], bool]


def equal(a: Any, b: Any) -> bool:
    """jsonschema's equality: booleans differ from numbers, containers compare deeply, strings by
    value (a `${env:}` value is a str subclass: equal to the same text written out, for
    `uniqueItems` as for jsonschema)."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if is_number(a) and is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


def object_check(props: dict[str, Check | type], extra: Check | None, needed: frozenset[str]) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, dict) or not needed <= x.keys():
            return False
        for k, v in x.items():
            f = props.get(k)
            if f is not None:
                if not (isinstance(v, f) if type(f) is type else f(v)):
                    return False
            elif extra is not None and not extra(v):
                return False
        return True

    return check


def string_check(s: dict[str, Any]) -> Check:
    lo, hi = s.get("minLength", 0), s.get("maxLength")
    pattern = compiled(s["pattern"]) if "pattern" in s else None
    strings = set(s["enum"]) if "enum" in s else None
    known = FORMATS.get(s.get("format", ""))
    holds = known[0] if known is not None else None  # a format the API asserts (schemas/formats.py)

    def check(x: Any) -> bool:
        return (isinstance(x, str) and len(x) >= lo and (hi is None or len(x) <= hi)
                and (strings is None or x in strings) and (pattern is None or pattern.search(x) is not None)
                and (holds is None or holds(x)))

    return check


def array_check(item: Check | type, least: int, unique: bool) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, list) or len(x) < least or (unique and not unique_items(x)):
            return False
        if type(item) is type:
            for v in x:  # noqa: SIM110  (a plain loop: see every)
                if not isinstance(v, item):
                    return False
            return True
        for v in x:  # noqa: SIM110
            if not item(v):
                return False
        return True

    return check


def number_check(s: dict[str, Any], *, integer: bool) -> Check:
    lo, hi = s.get("minimum"), s.get("maximum")
    above, below = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")

    def check(x: Any) -> bool:
        # _TYPES' "number" or "integer", inline
        if isinstance(x, bool) or not (isinstance(x, int) or (isinstance(x, float) and not integer)
                                       or (isinstance(x, float) and x.is_integer())):
            return False
        return ((lo is None or x >= lo) and (hi is None or x <= hi) and (above is None or x > above)
                and (below is None or x < below))

    return check


def enum_check(options: list[Any]) -> Check:
    if all(isinstance(o, str) or o is None for o in options):
        strings = {o for o in options if isinstance(o, str)}
        allow_null = None in options
        return lambda x: (x is None and allow_null) or (isinstance(x, str) and x in strings)
    return lambda x: any(equal(x, o) for o in options)


def unique_items(items: list[Any]) -> bool:
    return all(not equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def scalar_checks(s: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    if "minLength" in s:
        lo = s["minLength"]
        out.append(lambda x: not isinstance(x, str) or len(x) >= lo)
    if "maxLength" in s:
        hi = s["maxLength"]
        out.append(lambda x: not isinstance(x, str) or len(x) <= hi)
    if "pattern" in s:
        pattern = compiled(s["pattern"])
        out.append(lambda x: not isinstance(x, str) or pattern.search(x) is not None)
    for key, ok in _BOUNDS:
        if key in s:
            out.append(_bound(ok, s[key]))
    return out


_BOUNDS: list[tuple[str, Callable[[Any, Any], bool]]] = [
    ("minimum", lambda x, b: x >= b),
    ("maximum", lambda x, b: x <= b),
    ("exclusiveMinimum", lambda x, b: x > b),
    ("exclusiveMaximum", lambda x, b: x < b),
]


def _bound(ok: Callable[[Any, Any], bool], bound: Any) -> Check:
    return lambda x: not is_number(x) or ok(x, bound)


# Plain loops rather than all()/any() over a generator: these run for every node of every document.
def every(f: Check, items: list[Any]) -> bool:
    for v in items:  # noqa: SIM110  (see above)
        if not f(v):
            return False
    return True


def all_of(fns: list[Check]) -> Check:
    if len(fns) == 2:
        first, second = fns
        return lambda x: first(x) and second(x)

    def check(x: Any) -> bool:
        for f in fns:  # noqa: SIM110
            if not f(x):
                return False
        return True

    return check


def any_of(fns: list[Check]) -> Check:
    def check(x: Any) -> bool:
        for f in fns:  # noqa: SIM110
            if f(x):
                return True
        return False

    return check


def one_of(fns: list[Check]) -> Check:
    return lambda x: sum(1 for f in fns if f(x)) == 1
