"""Query parameters: typed checks (integers with bounds, booleans, date-times, enums) that answer a 422
in FastAPI's shape, and the `page[number]`/`page[size]` pagination every list operation shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.emulator.apierrors import Invalid

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """`page[number]` (≥ 1, default 1) and `page[size]` (1..100, default 20), or a 422."""
    number = int_param(query, "page[number]", 1, low=1, high=None)
    size = int_param(query, "page[size]", DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    return number, size


def int_param(query: Mapping[str, str], name: str, default: int, *, low: int, high: int | None) -> int:
    """An integer query parameter within bounds, `default` when absent, else a 422."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid.one(
            ["query", name], "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        ) from None
    if value < low:
        raise Invalid.one(["query", name], f"Input should be greater than or equal to {low}",
                          "greater_than_equal")
    if high is not None and value > high:
        raise Invalid.one(["query", name], f"Input should be less than or equal to {high}", "less_than_equal")
    return value


def paginate(items: list[Any], number: int, size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of `items` and the standard `meta` object."""
    total = len(items)
    pages = (total + size - 1) // size
    start = (number - 1) * size
    meta = {"page_number": number, "page_size": size, "total_pages": pages, "total_results": total}
    return items[start : start + size], meta


_TRUE = {"1", "on", "t", "true", "y", "yes"}
_FALSE = {"0", "off", "f", "false", "n", "no"}


def bool_param(query: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean query parameter read as pydantic reads one (`true`/`1`/`yes`/`on`...), else a 422."""
    raw = query.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid([{"type": "bool_parsing", "loc": ["query", name], "input": raw,
                    "msg": "Input should be a valid boolean, unable to interpret input"}])


def parse_datetime(raw: str) -> datetime:
    """An ISO 8601 date-time (a trailing `Z` is UTC), or ValueError."""
    value = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def datetime_param(query: Mapping[str, str], name: str) -> datetime | None:
    """An ISO 8601 date-time query parameter, None when absent, else a 422."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        raise Invalid([{"type": "datetime_from_date_parsing", "loc": ["query", name], "input": raw,
                        "msg": "Input should be a valid datetime or date"}]) from None


def enum_param(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    """A query parameter limited to `allowed`, None when absent, else a 422."""
    raw = query.get(name)
    if raw is None or raw in allowed:
        return raw
    expected = " or ".join(repr(a) for a in allowed)
    raise Invalid([{"type": "enum", "loc": ["query", name], "input": raw, "msg": f"Input should be {expected}",
                    "ctx": {"expected": expected}}])
