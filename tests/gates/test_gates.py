"""Runs, gates and promotion over real loopback HTTP: `reconciler test` with JUnit XML read by
junitparser, a gated canary raise from 10 to 50 that moves traffic only when the suite passes, and
promotion and rollback through the API's promote endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gates.common import BOT as MAIN
from tests.gates.common import GREETS_MD, SUITE, run
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.paths import REPO

BOT = MAIN.rstrip("\n") + """
  main_version: stable
  versions:
    - name: stable
      spec: {}
    - name: candidate
      gate: {suite: smoke, timeout_seconds: 60}
      spec: {greeting: Hi!}
  canary:
    - version: candidate
      percentage: 10
"""

FAST = {"pending_s": 0.05, "running_s": 0.1}


def script(emulator: Emulator, *outcomes: dict[str, Any]) -> None:
    emulator.control("test-outcomes", {"outcomes": list(outcomes), "timing": FAST})


def writes(emulator: Emulator, fragment: str) -> int:
    return sum(n for route, n in emulator.stats()["by_route"].items()
               if not route.startswith("GET") and fragment in route)


@pytest.fixture
def project(emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The bot (main `stable`, `candidate` gated on suite smoke at 10%) and the suite, applied."""
    folder = tmp_path / "m"
    write(folder, "bot.yaml", BOT)
    write(folder, "tests.yaml", SUITE)
    (folder / "greets.md").write_text(GREETS_MD)
    script(emulator)
    code, out = run(capsys, "apply", "--auto-approve", str(folder))
    assert code == 0, out
    assert "candidate.gate: test suite passed" in out  # 0 -> 10% is a raise too
    assert run(capsys, "plan", "--detailed-exitcode", str(folder))[0] == 0
    return folder


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "bot.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_reconciler_test_writes_junit_that_junitparser_reads(
    project: Path, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junitparser = pytest.importorskip("junitparser")
    report = tmp_path / "out.xml"
    code, out = run(capsys, "test", str(project), "--suite", "smoke", "--junit", str(report))
    assert code == 0, out
    xml = junitparser.JUnitXml.fromfile(str(report))
    assert (xml.tests, xml.failures, xml.errors) == (2, 0, 0)

    script(emulator, {"test": "refunds", "version": "candidate", "status": "failed",
                      "criteria": {"Empathy": "failed"}})
    code, out = run(capsys, "test", str(project), "--suite", "smoke", "--junit", str(report))
    assert code == 0, out  # main is not scripted to fail
    code, out = run(capsys, "test", str(project), "--suite", "smoke", "--version", "candidate",
                    "--junit", str(report))
    assert code == 1, out
    assert "NOT Empathy: failed" in out and "ok  Accuracy: passed" in out
    assert "refunds: pending" in out and "refunds: failed" in out  # progress, on stderr, as runs move on
    xml = junitparser.JUnitXml.fromfile(str(report))
    assert (xml.tests, xml.failures, xml.errors) == (2, 1, 0)
    cases = {case.name: case for suite in xml for case in suite}
    assert cases["greets"].is_passed
    assert "Empathy" in cases["refunds"].result[0].message


def test_reconciler_test_gives_up_at_the_deadline(
    project: Path, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junitparser = pytest.importorskip("junitparser")
    script(emulator, {"test": "greets", "status": "running"})
    report = tmp_path / "out.xml"
    code, out = run(capsys, "test", "--test", "greets", "--test", "refunds", "--timeout", "3",
                    "--junit", str(report))
    assert code == 1, out
    assert "FAIL greets (timed out while running" in out and "PASS refunds" in out
    xml = junitparser.JUnitXml.fromfile(str(report))
    assert (xml.tests, xml.failures) == (2, 1)


def test_gated_canary_raise_moves_traffic_only_when_the_suite_passes(
    project: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(project, "percentage: 10", "percentage: 50")
    code, out = run(capsys, "plan", "--format", "json", str(project))
    assert code == 0, out
    assert '"assistant.support-bot.version.candidate.gate"' in out  # the gate is a step of the plan

    script(emulator, {"test": "refunds", "version": "candidate", "status": "failed",
                      "criteria": {"Empathy": "failed"}})
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 1, out
    assert "test suite smoke did not pass, so no traffic moved: refunds: failed: criteria not met: Empathy" in out
    assert writes(emulator, "canary-deploys") == 0
    assert writes(emulator, "test-suites") == 1
    with emulator.api() as http:
        assistant = http.get("/ai/assistants").json()["data"][0]
        canary = http.get(f"/ai/assistants/{assistant['id']}/canary-deploys").json()
    assert [v["percentage"] for v in canary["versions"]] == [10]

    script(emulator)
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    assert writes(emulator, "canary-deploys") == 1
    assert run(capsys, "plan", "--detailed-exitcode", str(project))[0] == 0


def test_lowering_traffic_needs_no_gate(project: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    edit(project, "percentage: 10", "percentage: 5")
    script(emulator, {"status": "failed"})
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    assert ".gate" not in out


def test_promotion_and_rollback_are_one_manifest_change_each(
    project: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(project, "main_version: stable", "main_version: candidate")
    edit(project, "  canary:\n    - version: candidate\n      percentage: 10\n", "  canary: []\n")
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    assert "candidate.gate: test suite passed" in out and "promotion: promoted" in out
    assert writes(emulator, "/promote") == 1
    assert writes(emulator, "canary-deploys") == 0  # the promotion deleted the canary itself
    with emulator.api() as http:
        assistant = http.get("/ai/assistants").json()["data"][0]
        versions = http.get(f"/ai/assistants/{assistant['id']}/versions").json()["data"]
    assert (assistant["version_name"], assistant["greeting"]) == ("candidate", "Hi!")
    assert {v["version_name"] for v in versions} == {"stable", "candidate"}  # the old main is kept
    assert run(capsys, "plan", "--detailed-exitcode", str(project))[0] == 0
    exported = project.parent / "exported"
    assert run(capsys, "export", "--out", str(exported))[0] == 0
    assert "main_version: candidate" in (exported / "assistants" / "support-bot.yaml").read_text()
    assert run(capsys, "validate", str(exported))[0] == 0
    assert run(capsys, "plan", "--detailed-exitcode", str(exported))[0] == 0

    edit(project, "main_version: candidate", "main_version: stable")
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0, out
    with emulator.api() as http:
        assistant = http.get("/ai/assistants").json()["data"][0]
    assert (assistant["version_name"], assistant["greeting"]) == ("stable", "Hello")
    assert run(capsys, "plan", "--detailed-exitcode", str(project))[0] == 0


def test_a_failed_gate_blocks_a_promotion(project: Path, emulator: Emulator,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    edit(project, "main_version: stable", "main_version: candidate")
    script(emulator, {"version": "candidate", "status": "error"})
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "apply", "--auto-approve", str(project))
    assert code == 1, out
    assert writes(emulator, "/promote") == 0


def test_a_saved_plan_and_a_target_keep_the_gate(project: Path, emulator: Emulator, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    edit(project, "percentage: 10", "percentage: 50")
    saved = tmp_path / "plan.json"
    code, out = run(capsys, "plan", str(project), "--target", "assistant.support-bot.canary", "--out", str(saved))
    assert code == 0, out
    assert "candidate.gate" in out  # the canary depends on it: narrowing the plan cannot drop the gate
    script(emulator, {"version": "candidate", "status": "failed"})
    emulator.control("reset", {"stats_only": True})
    code, out = run(capsys, "apply", "--auto-approve", str(saved))
    assert code == 1, out
    assert "criteria not met: Politeness" in out
    assert writes(emulator, "canary-deploys") == 0


def test_the_rollout_example_applies_tests_and_plans_clean(emulator: Emulator, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    junitparser = pytest.importorskip("junitparser")
    example = str(REPO / "examples" / "rollout")
    script(emulator)
    code, out = run(capsys, "apply", "--auto-approve", example)
    assert code == 0, out
    report = tmp_path / "out.xml"
    code, out = run(capsys, "test", example, "--suite", "rollout-smoke", "--version", "candidate",
                    "--junit", str(report))
    assert code == 0, out
    assert junitparser.JUnitXml.fromfile(str(report)).tests == 2
    assert run(capsys, "plan", "--detailed-exitcode", example)[0] == 0
