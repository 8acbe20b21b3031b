"""`validate --allow-unset-env`: manifests checked where the secrets are absent (pre-commit, a fork's
pull request). References are still checked as written; only their values are not required."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main

DOC = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: bot
spec:
  instructions: Be helpful.
  greeting: Hi ${env:RECONCILER_UNSET_GREETING}
  transcription:
    model: ${env:RECONCILER_UNSET_MODEL}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("RECONCILER_UNSET_GREETING", "RECONCILER_UNSET_MODEL", "RECONCILER_SET_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_unset_references_are_errors_without_the_flag(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "bot.yaml").write_text(DOC, encoding="utf-8")
    assert main(["validate", "bot.yaml"]) == 1
    err = capsys.readouterr().err
    assert "environment variable RECONCILER_UNSET_GREETING is not set" in err
    assert "environment variable RECONCILER_UNSET_MODEL is not set" in err


def test_unset_references_pass_with_the_flag(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The model is an enum: an unset reference is not held against it (its value is unknown here).
    (folder / "bot.yaml").write_text(DOC, encoding="utf-8")
    assert main(["validate", "--allow-unset-env", "bot.yaml"]) == 0
    assert capsys.readouterr().out.startswith("OK: 1 resource in 1 file")


def test_the_flag_still_checks_everything_else(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_SET_MODEL", "deepgram/nova3")
    text = DOC + "  voice_setings: {voice: x}\n  description: ${env:bad-name}\n"
    (folder / "bot.yaml").write_text(text.replace("RECONCILER_UNSET_MODEL", "RECONCILER_SET_MODEL"), encoding="utf-8")
    assert main(["validate", "--allow-unset-env", "bot.yaml"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == "3 error(s) in manifests", lines
    joined = "\n".join(lines)
    assert "unknown key 'voice_setings'" in joined
    assert "bot.yaml:11:16: malformed ${env:…} reference" in joined
    # A variable that is set is checked by its value as usual; the message shows the reference.
    assert 'spec.transcription.model: "${env:RECONCILER_SET_MODEL}" is not one of' in joined
