"""The fast yes/no checker must agree with jsonschema on every instance: it decides alone when a
document is valid, so a disagreement would let an invalid document through unexplained."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.kinds import MANIFEST_KINDS as KINDS
from reconciler.manifest.schema import fast_check, validator
from reconciler.manifest.yamlpos import load_documents
from tests.support.paths import EXAMPLES

HERE = Path(__file__).parent

def _docs(paths: list[Path]) -> list[dict[str, Any]]:
    return [
        doc.data
        for path in sorted(paths)
        for doc in load_documents(path.read_text(encoding="utf-8"), str(path))[0]
        if isinstance(doc.data, dict) and doc.data.get("kind") in KINDS
    ]


EXAMPLE_DOCS = _docs(list(EXAMPLES.glob("*.yaml")))
CORPUS_DOCS = _docs(list((HERE / "invalid").glob("*.yaml")))
ODD = [None, True, 1.0, -1, "", "x" * 60, ["telephony", "telephony"], {"type": "hangup"}]


def mutations(data: Any, depth: int = 0) -> Iterator[Any]:
    """Copies of `data` with one node replaced by an odd value or one key removed."""
    if depth > 6:
        return
    if isinstance(data, dict):
        for key in data:
            for odd in ODD:
                yield {**data, key: odd}
            yield {k: v for k, v in data.items() if k != key}
            for sub in mutations(data[key], depth + 1):
                yield {**data, key: sub}
    elif isinstance(data, list):
        for i, item in enumerate(data):
            for odd in ODD[:3]:
                yield [*data[:i], odd, *data[i + 1 :]]
            for sub in mutations(item, depth + 1):
                yield [*data[:i], sub, *data[i + 1 :]]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_compiles(kind: str) -> None:
    assert fast_check(kind) is not None
    assert fast_check(kind, "/$defs/Spec") is not None


def test_agrees_with_jsonschema_on_the_corpus_and_many_mutations() -> None:
    compared = 0
    for data in EXAMPLE_DOCS + CORPUS_DOCS:
        kind = data["kind"]
        quick, slow = fast_check(kind), validator(kind)
        assert quick is not None
        variants = mutations(copy.deepcopy(data)) if data in EXAMPLE_DOCS else iter(())
        for variant in [data, *variants]:
            assert quick(variant) == slow.is_valid(variant), variant
            compared += 1
    assert compared > 1200
