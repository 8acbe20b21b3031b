"""The fast YAML path is PyYAML, exactly: over a real corpus (every manifest in examples/, the
tests' fixtures, the benchmarks' documents) and generated tricky documents, the node graphs its loaders
compose (PyYAML's resolver behind a C memo, C no-ops as the path hooks) are those of PyYAML's own
safe loaders, the values it builds are those of PyYAML's SafeConstructor (with this project's
documented choices: keys and timestamps as written), and its documents, positions and messages are
yamlpos's, which reports every problem."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifest import yamlsafe
from reconciler.manifest.yamlfast import documents
from reconciler.manifest.yamlpos import Budget, load_documents
from tests.manifest.test_yamlfast import TEXTS
from tests.support.paths import REPO


def _bench(name: str) -> Any:
    """A module of bench/ (scripts, not a package), read where it is."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


account = _bench("account")  # the plan benchmarks' manifests
validate_bench = _bench("validate_bench")  # the validate benchmark's documents

SCALARS = [
    "017", "0o17", "0x1F", "0b101", "1e3", "1.0e3", "-.5", ".5", "+1", "1_000", "12:30", "190:20:30.15",
    "1:2:3:4:5:6:7:8:9", "~", "null", "Null", "NULL", "nULL", "", "yes", "Yes", "YES", "no", "No", "on",
    "On", "ON", "off", "Off", "OFF", "y", "n", "true", "True", "TRUE", "tRUE", "false", ".inf", "-.Inf",
    ".nan", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "=", "<<",
    "1e400", "-1e400", "9" * 400, "0.", "-0", "-0.0", "00", "08", "0.1.2", "1,000", "$x", "#not", "a #b",
    "plain text", "t", "f", "o", "N", "ok", "nope", "trueish", "0o", "0x", "_1", "1__0",
]  # fmt: skip
TRICKY = {
    **{f"scalar {s!r}": f"a: {s}\nb: [{s}]\n{s or 'k'}: x\n" for s in SCALARS if s not in ("#not", "a #b")},
    **{f"quoted {s!r}": f"a: '{s}'\nb: \"{s}\"\n'{s}': x\n" for s in SCALARS},
    "anchors and aliases": "a: &x {b: 1, c: [1, 2]}\nd: *x\ne: &y text\nf: *y\n",
    "merge keys": "base: &b {x: 1, y: 2}\nmore: &m {z: 3}\nthis:\n  <<: [*b, *m]\n  y: 9\n",
    "merge key of one": "base: &b {x: 1}\nthis: {<<: *b, x: 2}\n",
    "duplicate keys": "a: 1\nb: {c: 1, c: 2}\n",
    "duplicate keys written differently": "1: a\n'1': b\n",
    "tags": "a: !!str 1\nb: !!int '2'\nc: !!float '3'\nd: !!bool 'yes'\ne: !!null ''\nf: !!timestamp 2001-01-01\n",
    "non-specific tags": "a: ! 1\nb: ! [1]\nc: ! {d: 1}\n",
    "collection tags": "a: !!map {b: 1}\nc: !!seq [1]\nd: !!omap [{e: 1}]\nf: !!set {g: null}\n",
    "custom tags": "a: !x 1\nb: !x [1]\nc: !x {d: 1}\n",
    "tag directive": "%TAG !e! tag:yaml.org,2002:\n---\na: !e!int '5'\n",
    "yaml directive": "%YAML 1.1\n---\na: 1\n",
    "multi-docs": "a: 1\n---\nb: 2\n...\n---\n- 3\n--- 4\n---\n",
    "empty docs": "---\n---\n...\n---\n",
    "bom": "\ufeffa: 1\n",
    "bom and documents": "\ufeff---\na: 1\n---\nb: 2\n",
    "tabs in values": "a: \"x\ty\"\nb: 'x\ty'\nc: x\ty\n",
    "tab indent": "a:\n\tb: 1\n",
    "block scalars": "a: |\n  017\n  yes\nb: >-\n  1e3\n  on\nc: |+\n  ~\n\n",
    "flow": "{a: [1, yes, ~, {b: 0o17}], c: 12:30}\n",
    "complex key": "? [a]\n: 1\n",
    "null key and value": "~:\nnull: ~\n'': x\n",
    "numeric keys": "1: a\n2.5: b\n0x1F: c\nyes: d\n2001-01-01: e\n",
    "value key": "=: x\n",
    "crlf": "a: 1\r\nb: [yes, no]\r\n",
    "unicode": "a: héllo\nb: \"\\u00e9\"\nc: 日本\n",
    "deep": "a: " + "[" * 40 + "1" + "]" * 40 + "\n",
    "syntax error": "a: [1, 2\n",
    "undefined alias": "a: *nope\n",
    "control character": "a: \x07\n",
}


def _corpus() -> dict[str, str]:
    texts = {f"text {k}": v for k, v in TEXTS.items()} | {f"tricky {k}": v for k, v in TRICKY.items()}
    for path in sorted([*REPO.glob("examples/**/*.y*ml"), *REPO.glob("tests/**/*.y*ml")]):
        texts[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    texts["validate bench"] = yaml.safe_dump_all([validate_bench.assistant(i) for i in range(10)], sort_keys=False)
    return texts


CORPUS = _corpus()
# yamlpos (unchanged by the fast path, which hands such files to it) builds a mapping tagged !!seq
# as the mapping, where PyYAML's constructor refuses it.
ACCEPTED_BEYOND_PYYAML = {"text seq tag on a mapping"}


def _walk(node: Node) -> Iterator[Node]:
    seen: set[int] = set()
    stack = [node]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)


def _graphs(make: Any, text: str) -> list[Node] | str:
    try:
        loader = make(text)
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        return list(yamlsafe.document_nodes(loader))
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        loader.dispose()


def _shape(node: Node) -> Any:
    """Everything of a node graph: kinds, tags, texts, styles and marks."""
    def one(n: Node) -> Any:
        mark = (n.start_mark.line, n.start_mark.column, n.end_mark.line, n.end_mark.column)
        if isinstance(n, ScalarNode):
            return ("scalar", n.tag, n.value, n.style or None, mark)  # plain: None in Python, "" in C
        return ("seq" if isinstance(n, SequenceNode) else "map", n.tag, mark)
    return [one(n) for n in _walk(node)]


_STOCK: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML's own, as the project used it


class _StockComposed(Composer, _STOCK):  # type: ignore[misc]
    """PyYAML's own Python composer over the same parser: BoundedLoader without its bounds and hooks."""

    def __init__(self, stream: str) -> None:
        _STOCK.__init__(self, stream)
        Composer.__init__(self)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_tags_are_pyyamls_own(name: str) -> None:
    """The hooked loaders (PyYAML's resolver behind a C memo, C no-ops for the path hooks) compose
    exactly the graph of PyYAML's own safe loader (same parser), and their tags are those of PyYAML's
    pure-Python SafeLoader wherever its scanner reads the text too."""
    text = CORPUS[name]
    python = _graphs(yaml.SafeLoader, text)
    for make, reference in ((yamlsafe.FastLoader, _STOCK), (yamlsafe.BoundedLoader, _StockComposed)):
        mine, stock = _graphs(make, text), _graphs(reference, text)
        if isinstance(stock, str) or isinstance(mine, str):
            # Both refuse the text, or only the bounded loader does, at its depth bound.
            assert mine == stock or (make is yamlsafe.BoundedLoader and str(mine).startswith("LimitExceeded"))
            continue
        assert [_shape(n) for n in mine] == [_shape(n) for n in stock]
        if not isinstance(python, str):
            assert [[s[:4] for s in _shape(n)] for n in mine] == [[s[:4] for s in _shape(n)] for n in python]


class _Reference(_STOCK):  # type: ignore[misc]
    """PyYAML's own safe loader and constructor, with this project's documented choices
    (yamlpos): mapping keys are their text, timestamps stay strings."""


def _mapping(loader: _Reference, node: MappingNode, deep: bool = False) -> dict[str, Any]:
    loader.flatten_mapping(node)  # merge keys, PyYAML's way
    return {str(k.value): loader.construct_object(v, deep=True) for k, v in node.value}


_Reference.add_constructor("tag:yaml.org,2002:map", _mapping)
_Reference.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)


def _typed(value: Any) -> Any:
    """`value` with every scalar's type beside it (True == 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_values_are_pyyamls_own(name: str) -> None:
    text = CORPUS[name]
    found, problems = documents(text, "f.yaml")
    if problems:
        return  # refused: messages are compared with yamlpos's below
    if name in ACCEPTED_BEYOND_PYYAML:
        with pytest.raises(yaml.YAMLError):
            list(yaml.load_all(text, Loader=_Reference))
        return
    reference = [d for d in yaml.load_all(text, Loader=_Reference) if d is not None]
    assert [_typed(d.data) for d in found] == [_typed(d) for d in reference]


@pytest.mark.parametrize("name", sorted(CORPUS))  # large files: test_yamlfast.py
def test_documents_positions_and_messages_are_yamlposs(name: str) -> None:
    text = CORPUS[name]
    fast_budget, slow_budget = Budget(), Budget()
    fast, fast_problems = documents(text, "f.yaml", fast_budget, early=(("spec", "versions"),))
    slow, slow_problems = load_documents(text, "f.yaml", slow_budget)
    assert [str(p) for p in fast_problems] == [str(p) for p in slow_problems]
    assert fast_budget.built == slow_budget.built
    assert [(d.file, _typed(d.data), d.start) for d in fast] == [(d.file, _typed(d.data), d.start) for d in slow]
    assert [(d.values, d.keys) for d in fast] == [(d.values, d.keys) for d in slow]
    for fast_doc, slow_doc in zip(fast, slow, strict=True):
        assert fast_doc.early == {p: slow_doc.values[p] for p in fast_doc.early}


def test_the_plan_benchmarks_manifests(tmp_path: Path) -> None:
    account.write_manifests(tmp_path, 60)
    for path in sorted(tmp_path.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        found, problems = documents(text, str(path))
        assert problems == []
        reference = [d for d in yaml.load_all(text, Loader=_Reference) if d is not None]
        assert [_typed(d.data) for d in found] == [_typed(d) for d in reference]
