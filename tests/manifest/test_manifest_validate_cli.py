"""`reconciler validate` end to end: through cli.main and through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.paths import EXAMPLES

GOOD = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: {name}
spec:
  instructions: Be helpful.
"""


def _three_mistakes(root: Path) -> None:
    (root / "m").mkdir()
    (root / "m" / "one.yaml").write_text(
        GOOD.format(name="bot") + "  voice_setings:\n    voice: Telnyx.KokoroTTS.af_heart\n", encoding="utf-8"
    )
    (root / "m" / "two.yaml").write_text(
        GOOD.format(name="other")
        + "  greeting: Hi ${env:RECONCILER_TEST_SURELY_UNSET}\n"
        + "  transcription:\n    model: deepgram/nova3\n",
        encoding="utf-8",
    )


EXPECTED = [
    "m/one.yaml:7:3: spec: unknown key 'voice_setings'; did you mean 'voice_settings'?",
    "m/two.yaml:7:13: environment variable RECONCILER_TEST_SURELY_UNSET is not set "
    "(referenced as ${env:RECONCILER_TEST_SURELY_UNSET})",
    "m/two.yaml:9:12: spec.transcription.model: \"deepgram/nova3\" is not one of",
]


def _check_errors(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 4, stderr
    for line, want in zip(lines, EXPECTED, strict=False):
        assert line.startswith(want), line
    assert lines[3] == "3 error(s) in manifests"


def test_three_mistakes_in_two_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _three_mistakes(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RECONCILER_TEST_SURELY_UNSET", raising=False)
    assert main(["validate", "m/two.yaml", "m/one.yaml"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    _check_errors(out.err)


def test_examples_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    assert capsys.readouterr().out == "OK: 4 resources in 4 files (2 Assistant, 1 Tool, 1 McpServer)\n"


def test_console_script_with_folder_argument(tmp_path: Path) -> None:
    _three_mistakes(tmp_path)
    script = Path(sys.executable).parent / "reconciler"
    if not script.exists():
        pytest.skip("console script not installed")
    env = {k: v for k, v in os.environ.items() if k != "RECONCILER_TEST_SURELY_UNSET"}
    done = subprocess.run([str(script), "validate", "m"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout == ""
    _check_errors(done.stderr)
    ok = subprocess.run([str(script), "validate", str(EXAMPLES)], capture_output=True, text=True, env=env)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith("OK: 4 resources in 4 files")


def test_a_duplicate_made_by_an_env_reference_is_one(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`${env:}` values are compared by value: a list that holds the same name twice once resolved is
    refused, as the same name written twice is (the fast checker decides alone when it says valid)."""
    monkeypatch.setenv("RECONCILER_TEST_TOOL", "order-lookup")
    (tmp_path / "tools.yaml").write_text((EXAMPLES / "shared.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(
        GOOD.format(name="bot") + '  shared_tools: ["${env:RECONCILER_TEST_TOOL}", order-lookup]\n', encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bot.yaml'}:7:17: spec.shared_tools: lists the same item more than once" in err, err
