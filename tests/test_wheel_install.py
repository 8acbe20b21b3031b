"""The package as a user gets it: a wheel built from a copy of the source, installed (not editable)
into a fresh virtual environment, whose own `reconciler` validates the examples, serves the emulator,
and plans and applies against it. Catches data files missing from the wheel (the schemas) and imports
that only work from the source tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import EXAMPLES, REPO

KEY = "wheel-test-key"


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv holding only the built wheel and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    # A copy, so that the build's own folders (build/, *.egg-info) never land in the checkout.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "reconciler", src / "reconciler", ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip"]
    built = _run([*pip, "wheel", "--no-deps", "-q", str(src), "-w", str(dist)])
    assert built.returncode == 0, built.stderr
    wheels = list(dist.glob("telnyx_reconciler-*.whl"))
    assert len(wheels) == 1, list(dist.iterdir())
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "reconciler/schemas/Assistant.schema.json" in names
    assert "reconciler/schemas/api/telnyx-ai.schema.json" in names
    venv = work / "venv"
    # Without its own pip (faster); this interpreter's pip installs into it through --python.
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    got = _run([*pip, "--python", str(python), "install", "-q", str(wheels[0])], timeout=300)
    assert got.returncode == 0, got.stderr
    return venv / "bin"


def _env(**extra: str) -> dict[str, str]:
    # PYTHONPATH and the like would let the source tree leak in; the cwd is a temporary folder too.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "TELNYX_", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


@pytest.fixture
def emulator_url(installed: Path, tmp_path: Path) -> Iterator[str]:
    proc = subprocess.Popen([str(installed / "reconciler"), "emulator", "--port", "0"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, f"no URL in {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.timeout(300)
def test_the_installed_package_is_not_the_source_tree(installed: Path, tmp_path: Path) -> None:
    where = _run([str(installed / "python"), "-c", "import reconciler, sys; print(reconciler.__file__)"],
                 cwd=tmp_path, env=_env())
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout and str(REPO / "reconciler") not in where.stdout


@pytest.mark.timeout(300)
def test_validate_plan_apply_from_the_wheel(installed: Path, emulator_url: str, tmp_path: Path) -> None:
    reconciler = str(installed / "reconciler")
    checked = _run([reconciler, "validate", str(EXAMPLES)], cwd=tmp_path, env=_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr

    env = _env(TELNYX_API_KEY=KEY, TELNYX_BASE_URL=f"{emulator_url}/v2")
    planned = _run([reconciler, "plan", "--detailed-exitcode", str(EXAMPLES)], cwd=tmp_path, env=env)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert "acme-support" in planned.stdout

    applied = _run([reconciler, "apply", "--auto-approve", str(EXAMPLES)], cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    again = _run([reconciler, "plan", "--detailed-exitcode", str(EXAMPLES)], cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
