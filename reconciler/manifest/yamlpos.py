"""YAML documents with the position of every node.

PyYAML's node graph (composed by yamlsafe.Loader, within the limits of limits.py) carries a start
mark for every key and value; we construct plain Python values from it ourselves and keep those marks
in two maps keyed by the node's path, so that every later check can report `FILE:LINE:COL`.

Choices that differ from `yaml.safe_load`, each on purpose:
- mapping keys are always strings, taken as written (`on:` or `1:` stay `"on"` / `"1"`): manifest
  keys are API field names, never booleans or numbers;
- timestamps stay strings: every value must be JSON-able for saved plans;
- a key repeated in one mapping is an error (PyYAML silently keeps the last one);
- only JSON's types: a tag other than PyYAML's own scalars, `!!map` and `!!seq` is an error, as are
  a value its tag cannot read (`!!int x`), numbers beyond a JSON double and control characters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ManifestProblem
from reconciler.manifest import yamlsafe
from reconciler.manifest.files import line_col
from reconciler.manifest.limits import MAX_BUILT_NODES, MAX_BUILT_NODES_TOTAL, MAX_DEPTH
from reconciler.manifest.yamlsafe import MAP, MERGE, SEQ, LimitExceeded

PathKey = str | int
Path = tuple[PathKey, ...]
Pos = tuple[int, int]  # 1-based line and column


Positions = tuple[dict[Path, Pos], dict[Path, Pos]]  # of every value, of every mapping key


class Document:
    """One YAML document of one file, with the position of every node by path.

    The positions may be found only when first asked for (`locate`, see yamlfast.py): a valid
    document never needs them, so they are not recorded while loading it."""

    def __init__(self, file: str, data: Any, start: Pos, values: dict[Path, Pos] | None = None,
                 keys: dict[Path, Pos] | None = None, *, locate: Callable[[], Positions] | None = None,
                 early: dict[Path, Pos] | None = None) -> None:
        self.file = file
        self.data = data
        self.start = start
        self.early = early or {}  # positions of some values known before the others are located
        # True when no key or value can hold a `$` (yamlsafe.dollar_free of its file's text): then
        # no `${env:…}` or `${var:…}` need be looked for in it. Never carried over by `replaced`.
        self.dollar_free = False
        # True when no mapping of `data` holds a null value (known from yamlfast's build), so that
        # schema.without_nulls need not walk it. Never carried over by `replaced` either.
        self.null_free = False
        # Paths whose value was refused (an unsupported tag or scalar, reported where it is) and read
        # as null: the schema's complaint about that null would be a second report of one mistake.
        self.refused: set[Path] = set()
        self._positions: Positions | None = None
        self._locate = locate
        if locate is None:
            self._positions = ({} if values is None else values, {} if keys is None else keys)

    def _located(self) -> Positions:
        if self._positions is None:
            assert self._locate is not None
            self._positions, self._locate = self._locate(), None
        return self._positions

    @property
    def values(self) -> dict[Path, Pos]:
        """Position of each value (mapping, list or scalar) by its path."""
        return self._located()[0]

    @property
    def keys(self) -> dict[Path, Pos]:
        """Position of each mapping key by the path of the value it introduces."""
        return self._located()[1]

    def replaced(self, *, data: Any = None, locate: Callable[[], Positions] | None = None) -> Document:
        """A copy with other data and/or positions found by `locate` (else this one's, shared)."""
        out = Document(self.file, self.data if data is None else data, self.start,
                       early=self.early if locate is None else None)  # other positions: `early` may be wrong
        out._positions, out._locate = (self._positions, self._locate) if locate is None else (None, locate)
        out.refused = self.refused
        return out

    def pos(self, path: Path) -> Pos:
        """Position of the value at `path`, or of its nearest ancestor that exists."""
        if path in self.early:
            return self.early[path]
        values = self.values
        for cut in range(len(path), -1, -1):
            found = values.get(path[:cut])
            if found is not None:
                return found
        return self.start

    def key_pos(self, path: Path) -> Pos:
        """Position of the key that introduces `path` (for "unknown key" errors), else of its value."""
        return self.keys.get(path) or self.pos(path)

    def problem(self, path: Path, message: str, *, at_key: bool = False) -> ManifestProblem:
        """A problem located at `path` in this document."""
        line, col = self.key_pos(path) if at_key else self.pos(path)
        return ManifestProblem(self.file, line, col, message)


class _TooLarge(Exception):
    """The build went over a limit at `path` (caught by load_documents, reported as one problem)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class Budget:
    """Values built across one run (MAX_BUILT_NODES_TOTAL), shared by every document's builder."""

    def __init__(self) -> None:
        self.built = 0


class _Builder:
    """Turns a node graph into Python values, recording positions and collecting problems.

    Every value built counts against the budgets, each expansion of an alias included, so that an
    alias bomb stops at the limit instead of at the end of memory; depth is bounded for the same
    reason (aliases can nest a document deeper than it is written)."""

    def __init__(self, doc: Document, problems: list[ManifestProblem], budget: Budget) -> None:
        self.doc = doc
        self.values, self.keys = doc.values, doc.keys  # bound once: written for every node
        self.problems = problems
        self.budget = budget
        self.built = 0
        self.depth = 0
        self.active: set[int] = set()  # collection nodes on the current path: catches alias loops

    def build(self, node: Node, path: Path) -> Any:
        mark = node.start_mark
        self.values[path] = (mark.line + 1, mark.column + 1)
        self.built += 1
        self.budget.built += 1
        if self.built > MAX_BUILT_NODES:
            raise _TooLarge(path, f"YAML document expands to more than {MAX_BUILT_NODES} values (aliases "
                            "included): an alias bomb?")
        if self.budget.built > MAX_BUILT_NODES_TOTAL:
            raise _TooLarge(path, f"the manifests expand to more than {MAX_BUILT_NODES_TOTAL} values")
        if isinstance(node, ScalarNode):
            value, problem = yamlsafe.scalar(node)
            if problem is not None:
                self.problems.append(self.doc.problem(path, problem))
                self.doc.refused.add(path)
            return value
        if id(node) in self.active:
            self.problems.append(self.doc.problem(path, "recursive YAML alias"))
            self.doc.refused.add(path)
            return None
        if node.tag not in (MAP, SEQ):
            self.problems.append(self.doc.problem(path, yamlsafe.unsupported(node.tag)))
            self.doc.refused.add(path)
            return None
        if self.depth >= MAX_DEPTH:
            raise _TooLarge(path, f"YAML nesting deeper than {MAX_DEPTH} levels (aliases included)")
        self.active.add(id(node))
        self.depth += 1
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
            self.depth -= 1
        self.problems.append(self.doc.problem(path, f"unsupported YAML node {node.tag}"))
        return None

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        merged = self._merged(node, path)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self.doc.problem(path, "mapping keys must be plain strings"))
                continue
            if key_node.tag not in KEY_TAGS:
                kmark = key_node.start_mark
                self.problems.append(ManifestProblem(self.doc.file, kmark.line + 1, kmark.column + 1,
                                                     yamlsafe.unsupported(key_node.tag)))
                continue
            key = str(key_node.value)
            child = (*path, key)
            kmark = key_node.start_mark
            if key in out:
                first = self.keys[child]
                self.problems.append(
                    ManifestProblem(
                        self.doc.file,
                        kmark.line + 1,
                        kmark.column + 1,
                        f"duplicate key '{key}' (first at line {first[0]})",
                    )
                )
                continue
            self.keys[child] = (kmark.line + 1, kmark.column + 1)
            out[key] = self.build(value_node, child)
        for key, value in merged.items():
            out.setdefault(key, value)  # keys written here override those merged in
        return out

    def _merged(self, node: MappingNode, path: Path) -> dict[str, Any]:
        """The mappings merged in with `<<: *anchor` (or `<<: [*a, *b]`, earlier ones first)."""
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                sources += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        merged: dict[str, Any] = {}
        own = self.values[path]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problems.append(self.doc.problem(path, "a << merge key needs a mapping"))
                continue
            # Built before this mapping's own keys, which then record their own (later) positions.
            for key, value in self.build(source, path).items():
                merged.setdefault(key, value)
        self.values[path] = own
        return merged


KEY_TAGS = frozenset({yamlsafe.STR, yamlsafe.NULL, yamlsafe.BOOL, yamlsafe.INT, yamlsafe.FLOAT,
                       yamlsafe.TIMESTAMP})


def load_documents(text: str, file: str, budget: Budget | None = None
                   ) -> tuple[list[Document], list[ManifestProblem]]:
    """Parse every document of `text`. Empty documents are skipped; a syntax error or a limit
    (limits.py) ends the file. `budget` is shared by the files of one run."""
    bad = yamlsafe.first_non_printable(text)
    if bad is not None:
        line, col = line_col(text, bad)
        char = yamlsafe.describe_char(text[bad])
        return [], [ManifestProblem(file, line, col, f"control character {char} is not allowed in YAML; write "
                                    "it as an escape (such as \\x01) inside a double-quoted string")]
    budget = budget if budget is not None else Budget()
    problems: list[ManifestProblem] = []
    documents: list[Document] = []
    loader = yamlsafe.loader(text)
    try:
        for node in yamlsafe.document_nodes(loader):
            mark = node.start_mark
            doc = Document(file=file, data=None, start=(mark.line + 1, mark.column + 1))
            # Without aliases the graph is a tree: its size is what was composed and the builder
            # bounds its depth. With them, measure before building anything.
            blamed = yamlsafe.oversized(node, MAX_BUILT_NODES, MAX_DEPTH) if loader.aliases else None
            if blamed is not None:
                at = blamed[0].start_mark
                problems.append(ManifestProblem(file, at.line + 1, at.column + 1, blamed[1]))
                return documents, problems
            try:
                doc.data = _Builder(doc, problems, budget).build(node, ())
            except _TooLarge as exc:
                problems.append(doc.problem(exc.path, exc.message))
                return documents, problems
            if doc.data is not None:
                documents.append(doc)
    except LimitExceeded as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return [], [ManifestProblem(file, line, col, f"YAML {exc.problem}")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = _one_line(exc.problem or "invalid YAML")
        # Something never closed (a quote, a flow list) is found only at the end of the file: said
        # where it begins, which is where it is to be mended.
        opened = exc.context_mark is not None and exc.context is not None and "end of stream" in what
        if opened:
            mark = exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if exc.context:
            what = f"{_one_line(exc.context)}{' that begins here' if opened else ''}, {what}"
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            what += " (YAML cannot indent with tabs)"
        return [], [ManifestProblem(file, line, col, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:  # a reader error without a mark: the control characters are caught above
        return [], [ManifestProblem(file, 1, 1, f"YAML error: {_one_line(str(exc))}")]
    finally:
        loader.dispose()
    return documents, problems


def _one_line(text: str) -> str:
    return " ".join(text.split())
