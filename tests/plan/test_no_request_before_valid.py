"""The CLI contract: a manifest error is reported at FILE:LINE:COL and makes no API call at all -- not a
write, not a read (a read would carry the API key, for a run that is going to fail anyway)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import API_KEY, CountingApp, serve
from tests.support.manifests import write

GOOD = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: bot-{i}
spec:
  model: openai/gpt-4o
  instructions: Answer briefly.
  versions:
    - name: short
      spec: {{greeting: Hi}}
"""


@pytest.mark.parametrize("command", [["plan"], ["plan", "--format", "json"], ["apply", "--auto-approve"]])
def test_a_bad_manifest_makes_no_request(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(200):  # enough files that loading them takes a while
        write(tmp_path, f"bot-{i:03d}.yaml", GOOD.format(i=i))
    write(tmp_path, "zz-bad.yaml", "apiVersion: reconciler/v1\nkind: Assistant\nmetadata:\n  name: bad\n"
                                   "spec:\n  greeting: [\n")
    app = CountingApp()
    with serve(app) as emulator:
        monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
        monkeypatch.setenv("TELNYX_BASE_URL", emulator.base_url)
        code = main([*command, str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "zz-bad.yaml:" in err and "Traceback" not in err, err
    assert app.dispatched == 0
