"""YAML documents fast: the values of a plain file without recording positions, which are found
again (by yamlpos, from the same text) only when a problem must be reported.

Recording the line and column of every node is half the cost of loading a valid file, and a valid
document never needs them. So a file is first built here, with exactly yamlpos's rules, but
without the position maps; anything this path does not handle the same way as yamlpos, or that
yamlpos would report (a duplicate key, an alias or merge key, a tag or value it refuses, a limit,
a syntax error, a control character) makes it give up on the whole file, which yamlpos then
loads as before. Either way the documents, values and every message are yamlpos's own.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ManifestProblem
from reconciler.manifest import yamlsafe
from reconciler.manifest.limits import MAX_BUILT_NODES, MAX_BUILT_NODES_TOTAL, MAX_DEPTH, MAX_FAST_COMPOSE_CHARS
from reconciler.manifest.yamlpos import KEY_TAGS, Budget, Document, Path, Pos, Positions, load_documents

_PLAIN = (yamlsafe.STR, yamlsafe.TIMESTAMP)  # scalars whose value is their text (yamlsafe.scalar)
_COLLECTIONS = (yamlsafe.MAP, yamlsafe.SEQ)  # either, on either kind of node, as yamlpos builds them


class _GiveUp(Exception):
    """This file is yamlpos's to load (it may hold something to report)."""


def documents(text: str, file: str, budget: Budget | None = None, early: tuple[Path, ...] = ()
              ) -> tuple[list[Document], list[ManifestProblem]]:
    """yamlpos.load_documents, with the positions found only when first asked for, except those of
    the items of the lists at the paths `early` (needed whatever the problems: a version's source)."""
    budget = budget if budget is not None else Budget()
    fast = _plain_documents(text, file, budget, early)
    return (fast, []) if fast is not None else load_documents(text, file, budget)


class _Source:
    """One file's text, loaded again with positions (once, for all its documents) when one of them
    is first asked where something is."""

    def __init__(self, text: str, file: str) -> None:
        self.text: str | None = text
        self.file = file
        self.found: list[Positions] = []

    def positions(self, index: int) -> Positions:
        if self.text is not None:
            docs, _ = load_documents(self.text, self.file)
            self.found = [(d.values, d.keys) for d in docs]
            self.text = None
        # The same text gives the same documents; the fallback is never expected to be used.
        return self.found[index] if index < len(self.found) else ({}, {})


def _plain_documents(text: str, file: str, budget: Budget, early: tuple[Path, ...]) -> list[Document] | None:
    """The documents of `text` with lazy positions, or None when yamlpos must load it."""
    if yamlsafe.first_non_printable(text) is not None or "<<" in text:
        return None
    pieces = _pieces(text)
    if pieces is None:
        return None
    source = _Source(text, file)
    out: list[Document] = []
    built = 0
    for piece, lines in pieces:
        loader = yamlsafe.loader(piece)
        try:
            for node in yamlsafe.document_nodes(loader):
                if loader.aliases:
                    return None  # yamlpos measures what aliases expand to before building
                counter = [1, 0]  # values built (the root: yamlpos counts every value, not keys), nulls
                data = _build(node, 0, counter)
                if counter[0] > MAX_BUILT_NODES:
                    return None
                built += counter[0]
                if budget.built + built > MAX_BUILT_NODES_TOTAL:
                    return None
                if data is not None:
                    mark = node.start_mark
                    doc = Document(file, data, (mark.line + 1 + lines, mark.column + 1),
                                   locate=partial(source.positions, len(out)), early=_items(node, early, lines))
                    doc.null_free = counter[1] == 0
                    out.append(doc)
        except (_GiveUp, yaml.YAMLError):
            return None
        finally:
            loader.dispose()
    budget.built += built
    return out


def document_starts(text: str) -> list[int]:
    """Where the lines that start a document begin, after the first character: libyaml's scanner
    reads `---` then a blank (or the end) at column 0 as one wherever it is (ending a plain or block
    scalar, an error inside a quoted one or a flow collection). `str.find` from one `\n---` to the
    next: a multiline regex tried at every character took 7 ms of a 1,000-assistant file's 0.3 s."""
    starts = []
    at = text.find("\n---")
    while at != -1:
        after = at + 4
        if after == len(text) or text[after] in " \t\n":
            starts.append(at + 1)
        at = text.find("\n---", after)
    return starts


def _pieces(text: str) -> list[tuple[str, int]] | None:
    """`text` cut at document starts into pieces of at most MAX_FAST_COMPOSE_CHARS (libyaml's
    composer then builds one piece's graph at a time, as yamlsafe allows), each with the number of
    lines before it; None when that cannot be done exactly (a document over the size, a directive,
    which applies to the next document, or line breaks other than \\n, which the count would miss).
    A cut that was not a document boundary to libyaml leaves a piece it cannot parse: yamlpos then."""
    if len(text) <= MAX_FAST_COMPOSE_CHARS:
        return [(text, 0)]
    if text.startswith("%") or "\n%" in text or any(c in text for c in "\r\x85\u2028\u2029"):
        return None
    cuts = [*document_starts(text), len(text)]
    pieces: list[tuple[str, int]] = []
    start = line = 0
    previous = 0
    for i, cut in enumerate(cuts):
        if cut - previous > MAX_FAST_COMPOSE_CHARS:
            return None  # one document larger than libyaml's composer may build
        last = i == len(cuts) - 1
        if last or cuts[i + 1] - start > MAX_FAST_COMPOSE_CHARS:
            pieces.append((text[start:cut], line))
            line += text.count("\n", start, cut)
            start = cut
        previous = cut
    return pieces


def _build(node: Node, depth: int, counter: list[int]) -> Any:
    """yamlpos._Builder.build for a node graph without aliases or merge keys, giving up where that
    would record a problem. `counter` is [values built, null values of mappings]. A collection's
    scalars are read inline (most nodes are scalars: no call for each), their tags compared with
    `in` on a tuple (identity first: the resolver returns its own constant strings)."""
    if isinstance(node, ScalarNode):
        return node.value if node.tag in _PLAIN else _scalar(node)
    if node.tag not in _COLLECTIONS or depth >= MAX_DEPTH:
        raise _GiveUp
    items = node.value
    counter[0] += len(items)
    depth += 1
    if type(node) is SequenceNode:
        return [(item.value if item.tag in _PLAIN else _scalar(item)) if type(item) is ScalarNode
                else _build(item, depth, counter) for item in items]
    if type(node) is not MappingNode:
        raise _GiveUp
    out: dict[str, Any] = {}
    for key_node, value_node in items:
        if type(key_node) is not ScalarNode or key_node.tag not in KEY_TAGS:
            raise _GiveUp
        if type(value_node) is ScalarNode:
            value = value_node.value if value_node.tag in _PLAIN else _scalar(value_node)
            if value is None:
                counter[1] += 1
        else:
            value = _build(value_node, depth, counter)
        out[key_node.value] = value
    if len(out) != len(items):
        raise _GiveUp  # a duplicate key: reported at both places
    return out


# The value of a scalar other than a string, by tag and text: manifests repeat the same numbers,
# booleans and nulls thousands of times. Only values built without a problem are kept.
_VALUES: dict[tuple[str, str], Any] = {}
_MISSING = object()


def _scalar(node: ScalarNode) -> Any:
    key = (node.tag, node.value)
    value = _VALUES.get(key, _MISSING)
    if value is _MISSING:
        value, problem = yamlsafe.scalar(node)
        if problem is not None:
            raise _GiveUp
        if len(_VALUES) > 50_000:
            _VALUES.clear()
        _VALUES[key] = value
    return value


def _items(root: Node, lists: tuple[Path, ...], lines: int) -> dict[Path, Pos]:
    """The positions of the items of the lists at `lists` (paths of mapping keys from the root), in a
    piece that starts after `lines` lines."""
    out: dict[Path, Pos] = {}
    for path in lists:
        node: Node | None = root
        for key in path:
            node = next((v for k, v in node.value if k.value == key), None) if type(node) is MappingNode else None
        if type(node) is SequenceNode:
            for i, item in enumerate(node.value):
                out[(*path, i)] = (item.start_mark.line + 1 + lines, item.start_mark.column + 1)
    return out
