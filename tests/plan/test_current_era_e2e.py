"""Today's API end to end, over real loopback HTTP against the emulator: the current-era manifests
(tests/manifest/current_era: every field and tool variant of telnyx 4.189.0, a canary with a
targeting rule) validate, apply, plan clean, export and plan clean again; and a canary rule edited in
the account through the official SDK shows in the plan as exactly that change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cli import main
from tests.support.emulator import API_KEY, Emulator
from tests.support.paths import REPO

CURRENT = REPO / "tests" / "manifest" / "current_era"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PBX_PASSWORD", "s3cret-pbx")
    folder = tmp_path / "current"
    shutil.copytree(CURRENT, folder)
    return folder


def test_current_era_manifests_validate_apply_plan_clean_export_plan_clean(
    emulator: Emulator, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = run(capsys, "validate", str(project))
    assert code == 0, out
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    code, out = run(capsys, "plan", "--detailed-exitcode", str(project))
    assert code == 0, out

    exported = tmp_path / "exported"
    code, out = run(capsys, "export", "--out", str(exported))
    assert code == 0, out
    spec = yaml.safe_load((exported / "assistants" / "current-voice.yaml").read_text())["spec"]
    assert spec["canary"] == {"rules": [
        {"match": [{"attribute": "telnyx_end_user_target", "operator": "starts_with", "values": ["+4420"]}],
         "serve": {"version": "uk-greeting"}},
        {"serve": {"rollout": [{"version": "concise", "weight": 10}]}}]}
    assert {t["type"] for t in spec["tools"]} >= {"client_side_tool", "function", "pay", "update_dynamic_variables",
                                                  "vision", "invite", "transfer", "webhook"}
    # Export writes the SIP password as a reference, never the value (issue #11); set it to plan.
    text = (exported / "assistants" / "current-voice.yaml").read_text()
    assert "s3cret-pbx" not in text and "${env:CURRENT_VOICE_PBX_SIP_AUTH_PASSWORD}" in text
    monkeypatch.setenv("CURRENT_VOICE_PBX_SIP_AUTH_PASSWORD", "s3cret-pbx")
    code, out = run(capsys, "validate", str(exported))
    assert code == 0, out
    code, out = run(capsys, "plan", "--detailed-exitcode", str(exported))
    assert code == 0, out


def test_a_canary_rule_edited_in_the_account_shows_as_exactly_that_change(
    emulator: Emulator, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    telnyx = pytest.importorskip("telnyx", reason="the official SDK is the independent client here")
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    with telnyx.Telnyx(api_key=API_KEY, base_url=emulator.base_url, max_retries=0) as client:
        (bot,) = [a for a in client.ai.assistants.list().data if a.name == "current-voice"]
        canary = client.ai.assistants.canary_deploys.retrieve(bot.id)
        rules: list[dict[str, Any]] = [r.model_dump(exclude_none=True) for r in canary.rules]
        rules[0]["match"][0]["values"] = ["+4420", "+4421"]  # someone widens the London rule by hand
        client.ai.assistants.canary_deploys.update(bot.id, rules=rules)
    code, out = run(capsys, "plan", "--detailed-exitcode", "--format", "json", str(project))
    assert code == 2, out
    doc = json.loads(out[out.index("{"):])
    changed = [(rc["address"], c["path"], c["before"], c["after"]) for rc in doc["resource_changes"]
               for c in rc["changes"]]
    assert changed == [("assistant.current-voice.canary", "rules[0].match[0].values[1]", "+4421", None)]
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    code, out = run(capsys, "plan", "--detailed-exitcode", str(project))
    assert code == 0, out
