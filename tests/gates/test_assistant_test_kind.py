"""The AssistantTest kind end to end over real loopback HTTP: a suite of two tests declared, applied,
listed through the official SDK, updated in place, exported round trip, and pruned by its prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gates.common import BOT, GREETS_MD, SUITE, run
from tests.support.emulator import API_KEY, Emulator
from tests.support.manifests import write


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "m"
    write(folder, "bot.yaml", BOT)
    write(folder, "tests.yaml", SUITE)
    (folder / "greets.md").write_text(GREETS_MD)
    return folder


def test_suite_declared_applied_listed_by_the_sdk_and_exported_round_trip(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    telnyx = pytest.importorskip("telnyx")
    folder = project(tmp_path)
    code, out = run(capsys, "validate", str(folder))
    assert code == 0, out
    assert "1 Assistant, 2 AssistantTest" in out
    code, out = run(capsys, "apply", "--auto-approve", str(folder))
    assert code == 0, out
    assert "assistant_test.greets" in out and "assistant_test.refunds" in out

    client = telnyx.Telnyx(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)
    try:
        bot = next(a for a in client.ai.assistants.list().data if a.name == "support-bot")
        listed = {t.name: t for t in client.ai.assistants.tests.list(test_suite="smoke")}
        suites = client.ai.assistants.tests.test_suites.list().data
    finally:
        client.close()
    assert sorted(listed) == ["greets", "refunds"]
    assert suites == ["smoke"]
    # `assistant: support-bot` is sent as the assistant's id; the file's text as the instructions.
    assert {t.destination for t in listed.values()} == {bot.id}
    assert listed["greets"].instructions == GREETS_MD
    assert listed["greets"].telnyx_conversation_channel == "web_chat"
    assert [r.name for r in listed["refunds"].rubric] == ["Accuracy", "Empathy"]
    assert listed["refunds"].max_duration_seconds == 120

    code, out = run(capsys, "plan", "--detailed-exitcode", str(folder))
    assert code == 0, out

    exported = tmp_path / "exported"
    code, out = run(capsys, "export", "--out", str(exported))
    assert code == 0, out
    assert "2 AssistantTest" in out
    text = (exported / "tests" / "refunds.yaml").read_text()
    assert "assistant: support-bot" in text and "destination" not in text
    code, out = run(capsys, "validate", str(exported))
    assert code == 0, out
    code, out = run(capsys, "plan", "--detailed-exitcode", str(exported))
    assert code == 0, out
    assert "No changes." in out


def test_a_changed_rubric_is_one_partial_put(emulator: Emulator, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path)
    assert run(capsys, "apply", "--auto-approve", str(folder))[0] == 0
    text = (folder / "tests.yaml").read_text().replace("It apologises.", "It apologises once.")
    (folder / "tests.yaml").write_text(text)
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "plan", "--format", "json", str(folder))
    assert code == 0, out
    assert '"address":"assistant_test.refunds"' in out.replace(" ", "")
    code, out = run(capsys, "apply", "--auto-approve", str(folder))
    assert code == 0, out
    writes = {k: v for k, v in emulator.stats()["by_route"].items() if not k.startswith("GET")}
    assert writes == {"PUT /v2/ai/assistants/tests/{test_id}": 1}, writes
    with emulator.api() as http:
        tests = {t["name"]: t for t in http.get("/ai/assistants/tests").json()["data"]}
    assert tests["refunds"]["rubric"][1]["criteria"] == "It apologises once."
    assert run(capsys, "plan", "--detailed-exitcode", str(folder))[0] == 0


def test_prune_deletes_only_tests_with_the_reserved_prefix(emulator: Emulator, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path)
    write(folder, "project.yaml", """
        apiVersion: reconciler/v1
        kind: Project
        metadata: {name: acme}
        spec:
          prune: {kinds: [Assistant, AssistantTest], test_name_prefix: acme-}
    """)
    rubric = [{"name": "Accuracy", "criteria": "Right."}]
    with emulator.api() as http:
        for name in ("acme-orphan", "someone-elses"):
            made = http.post("/ai/assistants/tests", json={"name": name, "destination": "+13125550100",
                                                           "instructions": "Hi", "rubric": rubric})
            assert made.status_code == 201, made.text
    code, out = run(capsys, "plan", "--prune", str(folder))
    assert code == 0, out
    assert "assistant_test.acme-orphan will be destroyed" in out
    assert "someone-elses" not in out
    assert run(capsys, "apply", "--auto-approve", "--prune", str(folder))[0] == 0
    with emulator.api() as http:
        names = sorted(t["name"] for t in http.get("/ai/assistants/tests").json()["data"])
    assert names == ["greets", "refunds", "someone-elses"]
