"""A typo whose value is null in a version's or an environment's overlay is an unknown key, as it is in
a spec (found by a new-user trial: `{greeting: Good day, VoiceCo support speaking.}`, an unquoted
comma, made the key `VoiceCo support speaking.` with a null value, and validate passed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main

BOT = """apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be brief.
"""
PROJECT = """apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  environments:
    staging: {}
"""


def _validate(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["validate", str(folder)])
    return code, capsys.readouterr().err.splitlines()


def test_a_versions_null_typo_is_an_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bot.yaml").write_text(BOT + """  versions:
    - name: v2
      spec: {greeting: Good day, VoiceCo support speaking.}
    - name: v3
      spec: {greetng: null, description: null}
""")
    code, err = _validate(capsys, tmp_path)
    assert code == 1
    assert f"{tmp_path / 'bot.yaml'}:8:34: spec.versions[0].spec: unknown key 'VoiceCo support speaking.'" in err
    assert (f"{tmp_path / 'bot.yaml'}:10:14: spec.versions[1].spec: unknown key 'greetng'; "
            "did you mean 'greeting'?") in err
    assert len(err) == 3 and err[-1] == "2 error(s) in manifests"  # `description: null` removes a key: valid


def test_an_environments_null_typo_is_an_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.yaml").write_text(PROJECT)
    (tmp_path / "bot.yaml").write_text(BOT + "overlays:\n  staging: {greetng: null, description: null}\n")
    code, err = _validate(capsys, tmp_path)
    assert code == 1
    assert err[0].startswith(f"{tmp_path / 'bot.yaml'}:7:13: overlays.staging: unknown key 'greetng'; "
                             "did you mean 'greeting'?")
    assert len(err) == 2
