"""The diff kernel's equality (planning/diff.equal) under the diff rules: numbers by value, a boolean
never a number, set-like lists as sets, every other list in order, at every depth."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model import SensitiveStr
from reconciler.planning.diff import equal

CASES: list[tuple[Any, Any, bool]] = [
    ({"a": 1}, {"a": 1.0}, True),
    ({"a": True}, {"a": 1}, False),
    ({"a": 0}, {"a": False}, False),
    ({"a": {"b": [1, {"c": True}]}}, {"a": {"b": [1.0, {"c": 1}]}}, False),
    ({"a": {"b": [1, {"c": True}]}}, {"a": {"b": [1.0, {"c": True}]}}, True),
    ({"tags": ["x", "y"]}, {"tags": ["y", "x"]}, True),
    ({"tags": [True]}, {"tags": [1]}, False),
    ({"greeting": ["x", "y"]}, {"greeting": ["y", "x"]}, False),
    ({"a": -0.0}, {"a": 0}, True),
    ({"a": 0.5}, {"a": 0.5}, True),
    ({"a": float("nan")}, {"a": 1.0}, False),
    ({"a": None}, {}, False),
    ({"b": 1, "a": 2}, {"a": 2, "b": 1}, True),
    # Beside a set in another order (key by key): equal strings pass without a call, a boolean
    # against a number after them is still told, and a string is never its number.
    ({"tags": ["x", "y"], "g": "hi", "n": True}, {"tags": ["y", "x"], "g": "hi", "n": 1}, False),
    ({"tags": ["x", "y"], "g": "hi", "n": 1}, {"tags": ["y", "x"], "g": SensitiveStr("hi", "$G"), "n": 1.0}, True),
    ({"tags": ["x", "y"], "g": "1"}, {"tags": ["y", "x"], "g": 1}, False),
]


@pytest.mark.parametrize(("live", "desired", "same"), CASES)
def test_equal_follows_the_diff_rules(live: dict[str, Any], desired: dict[str, Any], same: bool) -> None:
    assert equal(live, desired) is same
    assert equal(desired, live) is same
