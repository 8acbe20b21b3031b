"""YAML documents with the position of every node.

PyYAML's node graph (built by the libyaml C composer when it is available) carries a start mark for
every key and value; we construct plain Python values from it ourselves and keep those marks in two
maps keyed by the node's path, so that every later check can report `FILE:LINE:COL`.

Choices that differ from `yaml.safe_load`, each on purpose:
- mapping keys are always strings, taken as written (`on:` or `1:` stay `"on"` / `"1"`): manifest
  keys are API field names, never booleans or numbers;
- timestamps stay strings: every value must be JSON-able for saved plans;
- a key repeated in one mapping is an error (PyYAML silently keeps the last one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ManifestProblem

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAGS: dict[tuple[str, Any], str] = {}


class Loader(_BaseLoader):  # type: ignore[misc]
    """The libyaml loader where available. Implicit tag resolution (a regex walk in Python for every
    scalar) is memoised: manifests repeat the same keys and values thousands of times."""

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

PathKey = str | int
Path = tuple[PathKey, ...]
Pos = tuple[int, int]  # 1-based line and column

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


# JSON's scalars only: everything must survive a round trip through a saved plan.
_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
}


@dataclass
class Document:
    """One YAML document of one file, with the position of every node by path."""

    file: str
    data: Any
    start: Pos
    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)

    def pos(self, path: Path) -> Pos:
        """Position of the value at `path`, or of its nearest ancestor that exists."""
        for cut in range(len(path), -1, -1):
            found = self.values.get(path[:cut])
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


class _Builder:
    """Turns a node graph into Python values, recording positions and collecting problems."""

    def __init__(self, doc: Document, problems: list[ManifestProblem]) -> None:
        self.doc = doc
        self.problems = problems
        self.constructor = SafeConstructor()
        self.scalars: dict[Any, Callable[[Any, ScalarNode], Any]] = _SCALARS
        self.active: set[int] = set()  # collection nodes on the current path: catches alias loops

    def build(self, node: Node, path: Path) -> Any:
        mark = node.start_mark
        self.doc.values[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            self.problems.append(self.doc.problem(path, "recursive YAML alias"))
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        self.problems.append(self.doc.problem(path, f"unsupported YAML node {node.tag}"))
        return None

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        tag = node.tag
        if tag in (_STR, _TIMESTAMP):
            return node.value
        construct = self.scalars.get(tag)
        if construct is None:
            self.problems.append(self.doc.problem(path, f"unsupported YAML tag {tag}"))
            return None
        return construct(self.constructor, node)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        merged = self._merged(node, path)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.append(self.doc.problem(path, "mapping keys must be plain strings"))
                continue
            key = str(key_node.value)
            child = (*path, key)
            kmark = key_node.start_mark
            if key in out:
                first = self.doc.keys[child]
                self.problems.append(
                    ManifestProblem(
                        self.doc.file,
                        kmark.line + 1,
                        kmark.column + 1,
                        f"duplicate key '{key}' (first at line {first[0]})",
                    )
                )
                continue
            self.doc.keys[child] = (kmark.line + 1, kmark.column + 1)
            out[key] = self.build(value_node, child)
        for key, value in merged.items():
            out.setdefault(key, value)  # keys written here override those merged in
        return out

    def _merged(self, node: MappingNode, path: Path) -> dict[str, Any]:
        """The mappings merged in with `<<: *anchor` (or `<<: [*a, *b]`, earlier ones first)."""
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources += value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        merged: dict[str, Any] = {}
        own = self.doc.values[path]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.problems.append(self.doc.problem(path, "a << merge key needs a mapping"))
                continue
            # Built before this mapping's own keys, which then record their own (later) positions.
            for key, value in self.build(source, path).items():
                merged.setdefault(key, value)
        self.doc.values[path] = own
        return merged


def load_documents(text: str, file: str) -> tuple[list[Document], list[ManifestProblem]]:
    """Parse every document of `text`. Empty documents are skipped; a syntax error ends the file."""
    problems: list[ManifestProblem] = []
    documents: list[Document] = []
    loader = Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            mark = node.start_mark
            doc = Document(file=file, data=None, start=(mark.line + 1, mark.column + 1))
            doc.data = _Builder(doc, problems).build(node, ())
            if doc.data is not None:
                documents.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            what += " (YAML cannot indent with tabs)"
        return [], [ManifestProblem(file, line, col, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:  # reader errors (for example a control character) have no mark
        return [], [ManifestProblem(file, 1, 1, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    return documents, problems
