"""Limits that only the SDK's field docstrings state, for fields the OpenAPI snapshot does not know.

Only plain statements are read ("Must be between 1 and 10000 ms", "from 0.0 to 1.0", "Maximum 64
characters"), only onto a field of the matching type that has no limit yet, and each one is marked
with a `$comment` naming its source, so a reader can tell a docstring limit from a spec limit.
"""

from __future__ import annotations

import re
from typing import Any

from tools.sdkschema.types import Converter

Json = dict[str, Any]
NUMBER = r"(-?\d+(?:\.\d+)?)"
RANGE = re.compile(rf"\b(?:between|from)\s+{NUMBER}\s*(?:ms|s|seconds|milliseconds)?\s+(?:and|to)\s+{NUMBER}\b")
MAX_CHARS = re.compile(r"\bMaximum\s+(\d+)\s+characters\b")
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _num(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def apply_docstring_limits(conv: Converter, skip: set[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Add the limits field docstrings state; returns (def key, field, what) for the record.
    `skip` holds (def key, field) pairs that already got limits from the snapshot."""
    found: list[tuple[str, str, str]] = []
    for key, schema in conv.defs.items():
        props = schema.get("properties", {})
        for field, doc in conv.docs.get(key, {}).items():
            node = props.get(field)
            if not isinstance(node, dict) or (key, field) in skip:
                continue
            raw = node.get("type")
            kinds: list[Any] = raw if isinstance(raw, list) else [raw]
            if ({"integer", "number"} & set(kinds)) and not any(k in node for k in NUMERIC):
                match = RANGE.search(doc)
                if match:
                    low, high = _num(match.group(1)), _num(match.group(2))
                    if low < high:
                        node.update(minimum=low, maximum=high)
                        node["$comment"] = f"limits from the SDK docstring: {match.group(0)!r}"
                        found.append((key, field, f"{low}..{high}"))
            if "string" in kinds and "maxLength" not in node:
                match = MAX_CHARS.search(doc)
                if match:
                    node["maxLength"] = int(match.group(1))
                    node["$comment"] = f"limit from the SDK docstring: {match.group(0)!r}"
                    found.append((key, field, f"maxLength {match.group(1)}"))
    return found
