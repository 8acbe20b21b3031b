"""Query parameters: typed checks that answer a 422 in FastAPI's shape (`int_parsing`, bounds), and the
`page[number]`/`page[size]` pagination every list operation shares."""

from __future__ import annotations

from collections.abc import Mapping
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
