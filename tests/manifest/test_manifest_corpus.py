"""The corpus of invalid manifests: each file states, in `# expect: LINE:COL: message` comments,
exactly the problems `load` must report (`{file}` stands for the file's own path)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.manifest.schema import _number_hint

CORPUS = sorted((Path(__file__).parent / "invalid").glob("*.yaml"))


def expected(path: Path) -> list[tuple[int, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect: "):
            break
        row, col, message = line.removeprefix("# expect: ").split(":", 2)
        out.append((int(row), int(col), message.strip().replace("{file}", str(path))))
    return out


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_invalid_manifest(path: Path, problems_of: Any) -> None:
    want = expected(path)
    assert want, f"{path.name} has no '# expect:' lines"
    got = problems_of([path])
    assert [(line, col, message) for _, line, col, message in got] == want
    assert {file for file, *_ in got} == {str(path)}


@pytest.mark.parametrize("text", ["1e3", "1E-7", "-2.5e10", "1.5e300", "3e0", ".5e3", "7.e1", "1e23"])
@pytest.mark.parametrize("integer", [False, True])
def test_the_number_hint_is_a_number_to_yaml(text: str, integer: bool) -> None:
    # The hint's suggestion, pasted back in, must read as the number meant (PyYAML's own rules).
    assert isinstance(yaml.safe_load(text), str)
    hint = _number_hint(text, integer)
    suggested = hint.rsplit("write ", 1)[1].rstrip(")")
    read = yaml.safe_load(suggested)
    assert type(read) in (int, float) and read == (int(Decimal(text)) if type(read) is int else float(text))
    assert type(read) is int if integer and float(text).is_integer() else type(read) is float


def test_no_number_hint_for_other_strings() -> None:
    assert _number_hint("ten", False) == "" and _number_hint("0x1A", False) == "" and _number_hint(3, False) == ""
