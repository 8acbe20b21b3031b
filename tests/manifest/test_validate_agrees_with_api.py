"""What `reconciler validate` refuses is what the API (the emulator) refuses, and nothing it takes: a
manifest that validates must not fail at apply after earlier writes. Each case is a real manifest
file through the CLI (one FILE:LINE:COL line, exit 1) and, where cheap, the same value sent to the
emulator."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[str]]:
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    return code, out.err.strip().splitlines()


def _refused(capsys: pytest.CaptureFixture[str], path: Path, where: str, message: str) -> None:
    """`validate` exits 1 with exactly one problem: `message` at `where` (LINE:COL) of `path`."""
    code, lines = _validate(capsys, path)
    assert code == 1, lines
    assert lines == [f"{path}:{where}: {message}", "1 error(s) in manifests"]


CANARY = """
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: canary-bot
spec:
  instructions: Be helpful.
  versions:
    - name: a
      spec: {greeting: Hi}
    - name: b
      spec: {greeting: Hello}
  canary:
    rules:
      - match: [{attribute: caller_number, operator: in, values: ["+15550001"]}]
        serve: {version: a}
      - serve:
          rollout: [{version: a, weight: WEIGHT}, {version: b, weight: 10}]
"""


def test_a_rollout_weight_of_zero_validates_and_applies(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The user trial's manifest: validate passed, then apply failed at the canary after the versions.
    path = _file(tmp_path, "bot.yaml", CANARY.replace("WEIGHT", "0"))
    assert _validate(capsys, path)[0] == 0
    code = main(["apply", "--auto-approve", str(path)])
    assert code == 0, capsys.readouterr()
    with emulator.api() as api:
        (bot,) = api.get("/ai/assistants").json()["data"]
        rules = api.get(f"/ai/assistants/{bot['id']}/canary-deploys").json()["rules"]
    assert [s["weight"] for s in rules[1]["serve"]["rollout"]] == [0, 10]


def test_a_negative_rollout_weight_is_refused_by_validate_and_the_api(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "bot.yaml", CANARY.replace("WEIGHT", "-1"))
    _refused(capsys, path, "17:42", "spec.canary.rules[1].serve.rollout[0].weight: -1 is below the minimum of 0")
    with emulator.api() as api:
        bot = api.post("/ai/assistants", json={"name": "b", "instructions": "x"}).json()
        draft = api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}).json()["version_id"]
        answer = api.post(f"/ai/assistants/{bot['id']}/canary-deploys",
                          json={"rules": [{"serve": {"rollout": [{"version_id": draft, "weight": -1}]}}]})
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [["body", "rules", 0, "serve", "rollout", 0, "weight"]]
