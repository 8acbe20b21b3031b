"""Helpers for the manifest tests: real files in tmp_path, problems as comparable tuples."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifest import load

Problem = tuple[str, int, int, str]
ProblemsOf = Callable[..., list[Problem]]


def _problems(paths: list[str | Path], environ: Mapping[str, str] | None = None) -> list[Problem]:
    try:
        load(paths, environ={} if environ is None else environ)
    except ManifestError as exc:
        return [(p.file, p.line, p.col, p.message) for p in exc.problems]
    return []


@pytest.fixture
def problems_of() -> ProblemsOf:
    """Every problem `load` reports, as (file, line, col, message); [] when the manifests are valid.
    The environment is empty unless given."""
    return _problems


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented manifest (or any file) under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
