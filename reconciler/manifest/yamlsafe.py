"""PyYAML, bounded: a loader whose composer counts nodes and depth, and scalar construction that turns
every bad value into a message instead of an exception.

Why a composer of our own: libyaml's composer builds the whole node graph of a document in C before
any of our code runs, so a large document could take all memory first. PyYAML's Python composer,
fed by libyaml's C parser (events), lets every node be counted as it is made; the cost is about a
third more parse time. Alias *expansion* is bounded later, where it happens (yamlpos._Builder).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import Node, ScalarNode

from reconciler.manifest.limits import MAX_COMPOSED_NODES, MAX_DEPTH, MAX_FLOAT, MAX_INT_DIGITS

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAGS: dict[tuple[str, Any], str] = {}

_YAML_TAG = "tag:yaml.org,2002:"
STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
NULL = "tag:yaml.org,2002:null"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
# YAML's own rule for characters a stream may hold (PyYAML's Reader.NON_PRINTABLE).
NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_CONSTRUCT = SafeConstructor()


class LimitExceeded(yaml.MarkedYAMLError):
    """A document over one of the limits of limits.py, at the node where it went over."""


class Loader(Composer, _BaseLoader):  # type: ignore[misc]
    """libyaml's parser where available, PyYAML's composer with a node count and a depth bound.
    Implicit tag resolution (a regex walk in Python for every scalar) is memoised: manifests repeat
    the same keys and values thousands of times."""

    def __init__(self, stream: str) -> None:
        _BaseLoader.__init__(self, stream)
        Composer.__init__(self)
        self.composed = 0
        self.depth = 0

    def compose_document(self) -> Node | None:
        self.composed = 0
        node: Node | None = Composer.compose_document(self)
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if not self.check_event(AliasEvent):
            mark = self.peek_event().start_mark
            self.composed += 1
            if self.composed > MAX_COMPOSED_NODES:
                raise LimitExceeded(None, None, f"document has more than {MAX_COMPOSED_NODES} nodes", mark)
            if self.depth >= MAX_DEPTH:
                raise LimitExceeded(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
        self.depth += 1
        try:
            node: Node | None = Composer.compose_node(self, parent, index)
        finally:
            self.depth -= 1
        return node

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            if len(_TAGS) > 50_000:
                _TAGS.clear()
            tag = _TAGS[key] = super().resolve(kind, value, implicit)
        return tag


def first_non_printable(text: str) -> int | None:
    """Offset of the first character YAML forbids in a stream (control characters), or None."""
    found = NON_PRINTABLE.search(text)
    return found.start() if found else None


def describe_char(char: str) -> str:
    return f"U+{ord(char):04X}"


def tag_name(tag: str) -> str:
    """A tag as a YAML author writes it: `tag:yaml.org,2002:int` -> `!!int`."""
    return "!!" + tag.removeprefix(_YAML_TAG) if tag.startswith(_YAML_TAG) else tag


def _null(node: ScalarNode) -> Any:
    if node.value not in _NULLS:
        raise ValueError
    return None


def _number(node: ScalarNode, construct: Callable[[SafeConstructor, ScalarNode], Any]) -> Any:
    # Checked before converting: a 5,000-digit integer is refused by int() itself, and a long
    # sexagesimal one (`1:2:3:...`, YAML 1.1) costs quadratic time to convert.
    if len(node.value) > MAX_INT_DIGITS + 8:
        raise OverflowError
    value = construct(_CONSTRUCT, node)
    if isinstance(value, float) and not math.isfinite(value):
        raise OverflowError
    if isinstance(value, int) and abs(value) > MAX_FLOAT:
        raise OverflowError
    return value


_SCALARS: dict[str, Callable[[ScalarNode], Any]] = {
    NULL: _null,
    BOOL: lambda node: SafeConstructor.bool_values[node.value.lower()],
    INT: lambda node: _number(node, SafeConstructor.construct_yaml_int),
    FLOAT: lambda node: _number(node, SafeConstructor.construct_yaml_float),
}


def scalar(node: ScalarNode) -> tuple[Any, str | None]:
    """The value of a scalar node, or (None, the message saying why it has none)."""
    tag = node.tag
    if tag in (STR, TIMESTAMP):  # timestamps stay strings: every value must be JSON-able
        return node.value, None
    construct = _SCALARS.get(tag)
    if construct is None:
        return None, unsupported(tag)
    try:
        return construct(node), None
    except OverflowError:
        return None, ("number out of range: numbers must fit in a JSON number (at most about 1.8e308, "
                      "finite)")
    except (ValueError, KeyError, TypeError, ArithmeticError):
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        return None, f"{shown!r} is not a valid {tag_name(tag)}"


def unsupported(tag: str) -> str:
    return (f"unsupported YAML tag {tag_name(tag)}: only JSON's types are allowed (mappings, lists, strings, "
            "numbers, booleans, null)")
