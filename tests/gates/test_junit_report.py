"""The JUnit file `reconciler test --junit` writes holds API text (run logs, criteria), so it keeps the
promise printed output keeps: no secret value and no API key in it, whatever the API echoes. Over real
loopback HTTP, read back with junitparser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
    emulator.control("test-outcomes", {"outcomes": [outcome], "timing": FAST})


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
