"""The fast loader (values first, positions on demand) must give exactly yamlpos's documents: the same
values, the same positions once asked for, the same problems, on every file it takes or gives up."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from reconciler.manifest import read_manifests
from reconciler.manifest.limits import MAX_DEPTH, MAX_FAST_COMPOSE_CHARS
from reconciler.manifest.yamlfast import document_starts, documents
from reconciler.manifest.yamlpos import Budget, Document, load_documents
from tests.manifest.test_manifest_load import ASSISTANT
from tests.manifest.test_yaml_bounds import ProblemsOf, Write
from tests.support.paths import EXAMPLES

HERE = Path(__file__).parent

TEXTS = {
    "plain": "a: 1\nb: [x, 2.5, true, null, ~]\nc: {d: 2021-01-01, on: yes, 1: one}\n",
    "several documents": "a: 1\n---\n---\nnull\n---\n- x\n- {y: z}\n",
    "empty": "",
    "comment only": "# nothing\n",
    "scalar document": "just text\n",
    "alias": "a: &x {b: 1}\nc: *x\n",
    "merge key": "base: &b {x: 1}\nthis:\n  <<: *b\n  y: 2\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "bad tag": "a: !custom x\n",
    "bad int": "a: !!int x\n",
    "huge number": "a: 1e400\n",
    "complex key": "? [a, b]\n: 1\n",
    "binary": "a: !!binary aGk=\n",
    "seq tag on a mapping": "a: !!seq {b: 1}\n",
    "syntax error late": "a: 1\n---\nb: [unclosed\n",
    "tab indent": "a:\n\tb: 1\n",
    "control character": "a: \x01\n",
    "deep": "a: " + "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2) + "\n",
    "quoted keys and values": "'a': \"1\"\n\"b\": '2021-01-01'\n",
    "star in a string": "a: '*not an alias*'\n",
    "null key": "~: 1\nnull: 2\n",
}


def _same(fast: list[Document], slow: list[Document]) -> None:
    assert [(d.file, d.data, d.start) for d in fast] == [(d.file, d.data, d.start) for d in slow]
    assert [(d.values, d.keys) for d in fast] == [(d.values, d.keys) for d in slow]


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_same_documents_as_yamlpos(name: str) -> None:
    text = TEXTS[name]
    fast_budget, slow_budget = Budget(), Budget()
    fast, fast_problems = documents(text, "f.yaml", fast_budget)
    slow, slow_problems = load_documents(text, "f.yaml", slow_budget)
    assert fast_problems == slow_problems
    assert fast_budget.built == slow_budget.built
    _same(fast, slow)


FILES = sorted([*EXAMPLES.glob("*.yaml"), *(HERE / "invalid").glob("*.yaml"), *(HERE / "current_era").glob("*.yaml")])


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_same_documents_on_the_project_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, fast_problems = documents(text, str(path))
    slow, slow_problems = load_documents(text, str(path))
    assert fast_problems == slow_problems
    _same(fast, slow)


def _large(docs: int) -> str:
    return "".join(f"---\nkind: Assistant\nmetadata: {{name: a{i}}}\nspec:\n"
                   "  versions:\n    - {name: v, spec: {}}\n"
                   f"  greeting: |\n    line one\n    --- not a document start\n  note: '{'x' * 200}'\n"
                   for i in range(docs))


LARGE = {
    "many documents": _large(2_000),
    "many documents, no marker first": "kind: first\n" + _large(2_000),
    "one document too large to compose at once": "a:\n" + "".join(f"  k{i}: {'v' * 100}\n" for i in range(3_000)),
    "a directive": _large(1_500) + "%YAML 1.1\n---\na: 1\n",
    "a marker inside a quoted string": _large(1_500) + "a: 'x\n--- y'\n",
    "windows line breaks": _large(1_500).replace("\n", "\r\n"),
}


@pytest.mark.parametrize("name", sorted(LARGE))
def test_same_documents_as_yamlpos_in_large_files(name: str) -> None:
    text = LARGE[name]
    assert len(text) > MAX_FAST_COMPOSE_CHARS  # read in pieces, or by yamlpos
    fast, fast_problems = documents(text, "f.yaml", early=(("spec", "versions"),))
    slow, slow_problems = load_documents(text, "f.yaml")
    assert fast_problems == slow_problems
    _same(fast, slow)
    for fast_doc, slow_doc in zip(fast, slow, strict=True):
        assert fast_doc.early == {p: slow_doc.values[p] for p in fast_doc.early}
    if name.startswith("many"):
        assert fast[-1].early  # the fast path took it (yamlpos records no early positions)


def test_positions_asked_for_later_are_each_documents_own() -> None:
    text = "a: 1\n---\nb:\n  c: [x, y]\n"
    fast, _ = documents(text, "f.yaml")
    assert fast[1].pos(("b", "c", 1)) == (4, 10)
    assert fast[0].key_pos(("a",)) == (1, 1)
    assert fast[0].pos(("b",)) == (1, 1)  # not of this document: its start


@pytest.mark.parametrize("escape", ["\\x24", "\\u0024", "\\U00000024"])
def test_a_reference_written_with_an_escaped_dollar_is_still_one(write: Write, problems_of: ProblemsOf,
                                                                 escape: str) -> None:
    # Files without a `$` skip the search for ${env:} and ${var:}; an escape can still make one.
    def spec_line(dollar: str) -> str:
        return ASSISTANT.format(name="a") + f'  enabled_features: ["{dollar}{{env:FEATURE}}"]\n'

    escaped, plain = write("e/a.yaml", spec_line(escape)), write("p/a.yaml", spec_line("$"))
    for environ in ({}, {"FEATURE": "telephony"}, {"FEATURE": "fax"}):
        found = [(line, col, message) for _, line, col, message in problems_of([escaped], environ)]
        assert found == [(line, col, message) for _, line, col, message in problems_of([plain], environ)]
        assert found or environ == {"FEATURE": "telephony"}
    assert read_manifests([escaped], environ={}, allow_unset_env=True).files == [str(escaped)]


# What a line starting a document is, as a regex: `document_starts` must find exactly its matches
# (but the one at the very start of the text).
_START = re.compile(r"^---(?=[ \t\n]|\Z)", re.MULTILINE)


def test_document_starts_are_the_lines_a_document_starts_at() -> None:
    rng = random.Random(7)
    texts = [*LARGE.values(), "", "---", "\n---", "\n----\n---", "\n---\n---", "a\n--- \n---\t\n--x\n---"]
    texts += ["".join(rng.choice(["\n", "-", "---", " ", "\t", "a", "\n---"]) for _ in range(60)) for _ in range(2_000)]
    for text in texts:
        assert document_starts(text) == [m.start() for m in _START.finditer(text) if m.start()], repr(text)
