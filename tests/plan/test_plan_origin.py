"""A plan names the commit it is of, and says when the files it read are not that commit's (edited,
new, deleted; a referenced file outside the PATHs but inside --root too): in a real git repository,
through the CLI against the emulator, in text, markdown, JSON (checked against the plan schema) and
a saved plan's apply."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli import main
from tests.promise.support import PLAN_SCHEMA
from tests.support.emulator import Emulator

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git on PATH")

BOT = """apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions_file: ../prompts/bot.md
"""


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                          capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding manifests/bot.yaml and prompts/bot.md, committed."""
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # the runner's own git config plays no part
    (tmp_path / "manifests").mkdir()
    (tmp_path / "prompts").mkdir()
    (tmp_path / "manifests" / "bot.yaml").write_text(BOT)
    (tmp_path / "prompts" / "bot.md").write_text("Be kind.\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "manifests")
    return tmp_path


def _args(repo: Path) -> list[str]:
    """The manifests, in the root that holds the prompt they reference."""
    return ["--root", str(repo), str(repo / "manifests")]


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out


def _doc(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out = _plan(capsys, "--format", "json", *args)
    assert code == 0
    doc: dict[str, Any] = json.loads(out)
    jsonschema.validate(doc, json.loads(PLAN_SCHEMA.read_text()))
    return doc


def test_a_clean_checkout_names_its_commit(emulator: Emulator, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    doc = _doc(capsys, *_args(repo))
    assert (doc["commit"], doc["uncommitted"]) == (head, False)
    _, text = _plan(capsys, *_args(repo))
    assert text.splitlines()[0] == f"Plan for project default, environment (none), commit {head[:12]}."


@pytest.mark.parametrize("change", ["edited", "new file", "deleted", "referenced file"])
def test_uncommitted_changes_are_said(emulator: Emulator, repo: Path, capsys: pytest.CaptureFixture[str],
                                      change: str) -> None:
    manifests = repo / "manifests"
    if change == "edited":
        (manifests / "bot.yaml").write_text(BOT + "  greeting: Hi\n")
    elif change == "new file":
        (manifests / "other.yaml").write_text(BOT.replace("name: bot", "name: other"))
    elif change == "deleted":
        (manifests / "gone.yaml").write_text(BOT.replace("name: bot", "name: gone"))
        _git(repo, "add", ".")
        _git(repo, "commit", "-q", "-m", "one more")
        (manifests / "gone.yaml").unlink()
    else:  # outside the PATHs, inside the root every referenced file must be in
        (repo / "prompts" / "bot.md").write_text("Be brief.\n")
    args = _args(repo)
    head = _git(repo, "rev-parse", "HEAD")
    doc = _doc(capsys, *args)
    assert (doc["commit"], doc["uncommitted"]) == (head, True)
    _, text = _plan(capsys, *args)
    assert text.splitlines()[0] == (f"Plan for project default, environment (none), commit {head[:12]} "
                                    "plus uncommitted changes.")
    _, markdown = _plan(capsys, "--format", "markdown", *args)
    assert f"commit `{head[:12]}` plus uncommitted changes" in markdown.splitlines()[0]


def test_outside_a_repository_nothing_is_claimed(emulator: Emulator, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # no repository above tmp_path
    (tmp_path / "bot.yaml").write_text(BOT.replace("instructions_file: ../prompts/bot.md", "instructions: Hi"))
    doc = _doc(capsys, str(tmp_path))
    assert (doc["commit"], doc["uncommitted"]) == (None, None)
    _, text = _plan(capsys, str(tmp_path))
    assert text.splitlines()[0] == "Plan for project default, environment (none), commit (unknown)."


def test_a_saved_plan_keeps_what_it_was_of(emulator: Emulator, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "manifests" / "bot.yaml").write_text(BOT + "  greeting: Hi\n")
    saved = repo.parent / f"{repo.name}-plan.json"  # outside the repository: the plan file is no manifest
    code, _ = _plan(capsys, "--out", str(saved), *_args(repo))
    assert code == 0
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "later")  # committed after the plan was made: the plan still says so
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 0
    assert "plus uncommitted changes." in capsys.readouterr().out.splitlines()[0]
