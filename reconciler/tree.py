"""Small helpers over JSON-like trees (dicts, lists, scalars): the one overlay merge, the one way
to write a path as text, the value at a path, every string (as it is, or rewritten), and what counts
as a number.
Pure functions, no project imports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


def merge(base: Any, overlay: Any) -> Any:
    """Overlay merge (manifest-format.md): objects merge key by key, lists and scalars replace, and
    `null` removes the key. Used for version overlays and for the body of an update (live merged with
    desired, so a field the manifest does not declare is never wiped).

    The result shares the subtrees that the overlay does not touch with `base` (no deep copy: a plan
    of thousands of versions would spend most of its time copying). Treat it as read-only.
    """
    if not (isinstance(base, dict) and isinstance(overlay, dict)):
        return overlay
    out = dict(base)
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def dotted(path: Iterable[Any], empty: str = "") -> str:
    """`("spec", "tools", 0, "webhook")` -> `spec.tools[0].webhook`; `empty` for the empty path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or empty


def at(value: Any, path: Iterable[Any]) -> Any:
    """What `value` holds at `path` (keys of objects, indexes of lists); None where it holds nothing."""
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value


def is_number(value: Any) -> bool:
    """A JSON number: an int or float, but not a bool (Python's bool is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def map_strings(value: Any, rewrite: Callable[[str, tuple[Any, ...]], Any], path: tuple[Any, ...] = ()) -> Any:
    """A copy of `value` in which every string is `rewrite(string, its path)`; other leaves are kept."""
    if isinstance(value, str):
        return rewrite(value, path)
    if isinstance(value, dict):
        return {k: map_strings(v, rewrite, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, rewrite, (*path, i)) for i, v in enumerate(value)]
    return value


def strings(value: Any) -> Iterator[str]:
    """Every string in `value` at any depth (dict values, list and tuple items), in order; a str
    subclass (a SensitiveStr) as itself."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)
