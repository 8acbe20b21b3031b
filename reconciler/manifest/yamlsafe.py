"""PyYAML, bounded: a loader whose composer counts nodes and depth, and scalar construction that turns
every bad value into a message instead of an exception.

Why a composer of our own: libyaml's composer builds the whole node graph of a document in C before
any of our code runs, so a large text could take all memory first (~300 bytes a node). Small texts
(all real manifest files) keep libyaml's fast composer; larger ones get PyYAML's Python composer,
fed by libyaml's parser (events), which counts every node as it is made (about twice the parse time).
Alias *expansion* is measured on the node graph before anything is built (`oversized`), and bounded
again while building (yamlpos._Builder). Both loaders resolve tags with PyYAML's own resolver, called
through C (`_hook`): the composer's per-node calls back into Python were most of its cost.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifest.limits import (
    MAX_COMPOSED_NODES,
    MAX_DEPTH,
    MAX_FAST_COMPOSE_CHARS,
    MAX_FLOAT,
    MAX_INT_DIGITS,
)

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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


# Implicit tag resolution, memoised in C. libyaml's composer calls `resolve` once for every node,
# and `descend_resolver` / `ascend_resolver` around it; PyYAML's own versions are Python functions
# (a regex walk for each scalar, two no-ops for a loader without path resolvers, which the safe
# loader never has). Given as instance attributes, C callables take their place, so that a
# manifest's thousands of repeated keys and values cost no Python frame: PyYAML's own `resolve`
# (a pure function of its arguments when there are no path resolvers) behind functools' C
# lru_cache, and builtins that accept the hooks' arguments and do nothing with them.
RESOLVER = _BaseLoader("")  # PyYAML's resolver with the safe loader's table
resolve = functools.lru_cache(maxsize=None)(RESOLVER.resolve)  # unbounded is cheaper: emptied in loader()
_MEMO_SIZE = 1 << 16
HOOKS = not _BaseLoader.yaml_path_resolvers  # else PyYAML's own hooks, which then do something
_NO_OP_2: Callable[[Any, Any], Any] = operator.is_  # descend_resolver(parent, index): compares, nothing else
_NO_OP_0: Callable[[], Any] = tuple  # ascend_resolver(): the empty tuple, nothing else


def _hook(loader: Any) -> None:
    if HOOKS:
        loader.resolve = resolve
        loader.descend_resolver = _NO_OP_2
        loader.ascend_resolver = _NO_OP_0


class FastLoader(_BaseLoader):  # type: ignore[misc]
    """libyaml's own composer, for texts small enough that their whole node graph is harmless."""

    def __init__(self, stream: str) -> None:
        _BaseLoader.__init__(self, stream)
        _hook(self)
        self.aliases = 1 if "*" in stream else 0  # no `*` anywhere: certainly no alias


class BoundedLoader(Composer, _BaseLoader):  # type: ignore[misc]
    """libyaml's parser where available, PyYAML's composer with a node count and a depth bound."""

    def __init__(self, stream: str) -> None:
        _BaseLoader.__init__(self, stream)
        Composer.__init__(self)
        _hook(self)
        self.composed = 0
        self.depth = 0
        self.aliases = 0

    def compose_document(self) -> Node | None:
        self.composed = 0
        self.aliases = 0
        node: Node | None = Composer.compose_document(self)
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.aliases += 1
        else:
            self.composed += 1
            if self.composed > MAX_COMPOSED_NODES:
                raise LimitExceeded(None, None, f"document has more than {MAX_COMPOSED_NODES:,} nodes",
                                    event.start_mark)
            if self.depth >= MAX_DEPTH:
                raise LimitExceeded(None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
        self.depth += 1
        try:
            node: Node | None = Composer.compose_node(self, parent, index)
        finally:
            self.depth -= 1
        return node


def loader(text: str) -> FastLoader | BoundedLoader:
    """The loader for `text`: libyaml's composer when the text is small (MAX_FAST_COMPOSE_CHARS, so
    at most ~130,000 nodes), else the bounded one. Both build the same node graph."""
    if resolve.cache_info().currsize > _MEMO_SIZE:
        resolve.cache_clear()
    return FastLoader(text) if len(text) <= MAX_FAST_COMPOSE_CHARS else BoundedLoader(text)


def document_nodes(loader: FastLoader | BoundedLoader) -> Iterator[Node]:
    """The root node of each document of the stream (YAML errors raised as the loader meets them)."""
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node


def oversized(root: Node, max_values: int, max_depth: int) -> tuple[Node, str] | None:
    """The node to blame when `root` would build more than `max_values` values or nest deeper than
    `max_depth` once its aliases are expanded; None when it is within both.

    Measured on the node graph, where an alias is a shared node, with every node's expanded size and
    height computed once (an iterative walk: alias chains can be longer than Python's stack is
    deep). So a billion-laughs document is refused in microseconds, before anything is built. The
    node blamed is the deepest one still over the limit: for an alias bomb, the anchor that explodes.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size.get(id(k), 1) for k in kids)
            height[key] = 1 + max((height.get(id(k), 1) for k in kids), default=0)
            continue
        if key in size or key in on_path:
            continue  # measured already, or a recursive alias (reported by the builder)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node))
    if size[id(root)] <= max_values and height[id(root)] <= max_depth:
        return None
    blamed = root
    while True:
        worse = next((k for k in _children(blamed)
                      if size.get(id(k), 1) > max_values or height.get(id(k), 1) > max_depth), None)
        if worse is None or worse is blamed:
            break
        blamed = worse
    if size[id(root)] > max_values:
        return blamed, (f"YAML document expands to {size[id(root)]:,} nodes (keys and aliases included); at most "
                        f"{max_values:,} are allowed: an alias bomb?")
    return blamed, f"YAML nesting deeper than {max_depth} levels (aliases included)"


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def dollar_free(text: str) -> bool:
    """Whether no scalar of `text` can hold a `$`: none is written, and no double-quoted escape
    (`\\x24`, `\\u0024`, `\\U00000024`, YAML's only ways to write one otherwise) makes one."""
    return "$" not in text and "\\x24" not in text and "\\u0024" not in text and "\\U00000024" not in text


# The ASCII characters NON_PRINTABLE allows: an ASCII text holding only these (the common case) is
# known clean from one C pass (bytes.translate), ten times faster than the regex's walk.
_ASCII_ALLOWED = bytes(c for c in range(128) if not NON_PRINTABLE.match(chr(c)))


def first_non_printable(text: str) -> int | None:
    """Offset of the first character YAML forbids in a stream (control characters), or None."""
    if text.isascii() and not text.encode("ascii").translate(None, _ASCII_ALLOWED):
        return None
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
    except (ValueError, LookupError, TypeError, ArithmeticError):  # `!!int ""` is an IndexError
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        return None, f"{shown!r} is not a valid {tag_name(tag)}"


def unsupported(tag: str) -> str:
    return (f"unsupported YAML tag {tag_name(tag)}: only JSON's types are allowed (mappings, lists, strings, "
            "numbers, booleans, null)")
