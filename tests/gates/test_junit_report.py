"""The JUnit file `reconciler test --junit` writes holds API text (run logs, criteria), so it keeps the
promise printed output keeps: no secret value and no API key in it, whatever the API echoes; and it is
well-formed XML 1.0 whatever characters that text holds, so CI reporters can read it. Over real
loopback HTTP, read back with the standard library's strict parser (expat) and junitparser."""

from __future__ import annotations

import json
import xml.dom.minidom
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.testruns import junit
from reconciler.testruns.runner import Criterion, Report, RunResult
from tests.gates.common import BOT, run
from tests.support.emulator import Emulator
from tests.support.manifests import write

SECRET = "pin-SECRETTESTVAL77"
KEY = "KEY0123456789abcdefLONG"
FAST = {"pending_s": 0.05, "running_s": 0.1}

SUITE = """
apiVersion: reconciler/v1
kind: AssistantTest
metadata:
  name: greets
spec:
  assistant: support-bot
  test_suite: smoke
  instructions: "Say hello, account pin ${env:TEST_SECRET}."
  rubric:
    - name: "Says ${env:TEST_SECRET} back"
      criteria: The assistant repeats the pin.
"""


def _applied(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_SECRET", SECRET)
    monkeypatch.setenv("TELNYX_API_KEY", KEY)  # the emulator takes any key
    folder = tmp_path / "m"
    write(folder, "bot.yaml", BOT)
    write(folder, "tests.yaml", SUITE)
    code, out = run(capsys, "apply", "--auto-approve", str(folder))
    assert code == 0, out
    return folder


def _failing_run(emulator: Emulator, logs: str) -> None:
    outcome: dict[str, Any] = {"test": "greets", "status": "failed", "criteria": {f"Says {SECRET} back": "failed"},
                               "logs": logs}
    # As JSON text with ASCII escapes: the way an API can send a lone surrogate (`\ud800`).
    body = json.dumps({"outcomes": [outcome], "timing": FAST})
    httpx.post(f"{emulator.url}/_emulator/test-outcomes", content=body,
               headers={"content-type": "application/json"}, timeout=10).raise_for_status()


def test_the_junit_file_shows_no_secret_and_no_api_key(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    junitparser = pytest.importorskip("junitparser")
    folder = _applied(tmp_path, capsys, monkeypatch)
    # A log echoing the pin whole, JSON-escaped, shortened in quotes, and the key.
    _failing_run(emulator, f"caller said {SECRET} ({json.dumps(SECRET)}), '{SECRET[:9]}...' and key {KEY}")
    report = tmp_path / "out.xml"
    code, out = run(capsys, "test", str(folder), "--suite", "smoke", "--junit", str(report))
    assert code == 1, out
    data = report.read_bytes()
    for leaked in (SECRET, SECRET[:9], KEY):
        assert leaked.encode() not in data, data.decode()
        assert leaked not in out
    case = next(case for suite in junitparser.JUnitXml.fromfile(str(report)) for case in suite)
    failure = case.result[0]
    # Masked as on the terminal: the reference the user wrote, the key's placeholder.
    assert "caller said ${env:TEST_SECRET}" in failure.text and "'(sensitive)'" in failure.text
    assert "key (TELNYX_API_KEY)" in failure.text
    assert failure.message == "failed: criteria not met: Says ${env:TEST_SECRET} back"


def test_the_junit_file_is_well_formed_whatever_the_logs_hold(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    junitparser = pytest.importorskip("junitparser")
    folder = _applied(tmp_path, capsys, monkeypatch)
    # C0 controls, a terminal escape, a lone surrogate (JSON allows one) and a noncharacter: none of
    # them XML 1.0, not even as a character reference. Tab and line breaks are.
    _failing_run(emulator, "start\x01bell\x07 \x1b[31mred\x1b[0m lone \ud800 non \ufffe\ttab\nend")
    report = tmp_path / "out.xml"
    code, out = run(capsys, "test", str(folder), "--suite", "smoke", "--junit", str(report))
    assert code == 1, out
    xml.dom.minidom.parse(str(report))  # expat: refuses a file that is not well-formed
    case = next(case for suite in junitparser.JUnitXml.fromfile(str(report)) for case in suite)
    text = case.result[0].text
    assert "start\\x01bell\\x07 \\x1b[31mred\\x1b[0m lone \\ud800 non \\ufffe\ttab\nend" in text


def test_attributes_are_well_formed_too(tmp_path: Path) -> None:
    # A test name and criterion come from the API as they are: the attributes they fill are cleaned.
    result = RunResult(test_id="t1", name="odd\x00name", run_id="r1", status="failed",
                       criteria=[Criterion("ask\x0bing", "failed")], logs="x\x1fy", finished=None)
    path = tmp_path / "report.xml"
    junit.write(Report(label="suite s", target="main", results=[result]), path)
    dom = xml.dom.minidom.parse(str(path))
    case = dom.getElementsByTagName("testcase")[0]
    assert case.getAttribute("name") == "odd\\x00name"
    failure = dom.getElementsByTagName("failure")[0]
    assert failure.getAttribute("message") == "failed: criteria not met: ask\\x0bing"
    assert "x\\x1fy" in failure.firstChild.data  # type: ignore[union-attr]
