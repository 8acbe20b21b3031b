"""Manifest documents as YAML text, written the same way every time: block style, keys in a fixed
order (apiVersion, kind, metadata, spec; inside spec sorted, with `type`/`name`-like keys first,
so a version reads `name` then `spec`),
multi-line strings as literal blocks, no line folding, Unicode as is."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml when available (fast); the pure-Python dumper produces the same text for what we write.
_Base: type[Any] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Keys that name what an object is: shown first in every mapping, in this order.
LEADING_KEYS = ("apiVersion", "kind", "type", "name", "server", "version", "metadata", "spec")
# Never fold long lines: a folded scalar is valid YAML but makes noisy diffs.
WIDTH = 1_000_000


class _Dumper(_Base):  # type: ignore[misc]
    """SafeDumper with literal blocks for multi-line strings."""


def _str(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def ordered(value: Any) -> Any:
    """A copy with every mapping's keys in output order: leading keys first, then sorted."""
    if isinstance(value, dict):
        def rank(key: str) -> tuple[int, str]:
            return (LEADING_KEYS.index(key) if key in LEADING_KEYS else len(LEADING_KEYS), key)

        return {k: ordered(value[k]) for k in sorted(value, key=lambda k: rank(str(k)))}
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def dump_document(doc: dict[str, Any], notes: list[str] | None = None) -> str:
    """One manifest document as YAML, with `notes` as comment lines on top."""
    text: str = yaml.dump(ordered(doc), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                          allow_unicode=True, width=WIDTH, indent=2)
    header = "".join(f"# {line}\n" for note in notes or [] for line in note.splitlines())
    return header + text
