"""The corpus of invalid manifests: each file states, in `# expect: LINE:COL: message` comments,
exactly the problems `load` must report (`{file}` stands for the file's own path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

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
