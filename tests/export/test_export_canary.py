"""An account whose canary splits traffic over several versions exports to manifests that plan clean:
the rollout is written in the order the API holds it, since the plan compares slots by position."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from tests.support.emulator import Emulator

# Slots deliberately not in name order: "warm-greeting" sorts after "fast".
SHORT = """\
  canary:
    - {version: warm-greeting, percentage: 30}
    - {version: fast, percentage: 5}
"""
RULES = """\
  canary:
    rules:
      - match: [{attribute: telnyx_end_user_target, operator: starts_with, values: ["+4420"]}]
        serve: {version: fast}
      - serve:
          rollout:
            - {version: warm-greeting, weight: 20}
            - {version: fast, weight: 3}
"""


def manifest(name: str, canary: str) -> str:
    return f"""\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: {name}
spec:
  model: openai/gpt-4o
  instructions: Be brief.
  greeting: Hello.
  versions:
    - name: warm-greeting
      spec: {{greeting: "Hi there, lovely to hear from you!"}}
    - name: fast
      spec: {{greeting: "Hi."}}
{canary}"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("canary", [SHORT, RULES], ids=["short-form", "rules-form"])
def test_a_canary_over_two_versions_exports_in_live_order_and_plans_clean(
    canary: str, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "greeter.yaml").write_text(manifest("greeter", canary), encoding="utf-8")
    code, said = run(capsys, "apply", "--auto-approve", str(mine), "--base-url", emulator.base_url)
    assert code == 0, said

    out = tmp_path / "exported"
    code, said = run(capsys, "export", "--out", str(out), "--base-url", emulator.base_url)
    assert code == 0, said
    code, said = run(capsys, "plan", "--detailed-exitcode", str(out), "--base-url", emulator.base_url)
    assert code == 0, said
    assert "No changes." in said

    # What was applied is what was exported, slot for slot.
    exported = yaml.safe_load((out / "assistants" / "greeter.yaml").read_text(encoding="utf-8"))
    assert exported["spec"]["canary"] == yaml.safe_load(canary)["canary"]
