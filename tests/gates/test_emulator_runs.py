"""The emulator's test runs over real loopback HTTP, read through the official SDK: they move from
pending through running to their scripted outcome, with one verdict per rubric item."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.support.emulator import API_KEY, Emulator

RUBRIC = [{"name": "Accuracy", "criteria": "Right."}, {"name": "Empathy", "criteria": "Kind."}]


def test_runs_move_through_their_statuses_to_the_scripted_outcome(emulator: Emulator) -> None:
    telnyx = pytest.importorskip("telnyx")
    client = telnyx.Telnyx(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)

    def script(pending_s: float, running_s: float) -> None:
        emulator.control("test-outcomes", {"outcomes": [{"test": "refunds", "status": "failed",
                                                         "criteria": {"Empathy": "failed"}}],
                                           "timing": {"pending_s": pending_s, "running_s": running_s}})

    try:
        test = client.ai.assistants.tests.create(name="refunds", destination="+13125550100",
                                                 instructions="Ask for a refund.", rubric=RUBRIC)
        # Each status in turn, with windows no loaded machine can miss.
        script(60, 60)
        run = client.ai.assistants.tests.runs.trigger(test.test_id)
        again = client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=test.test_id)
        assert (run.status, again.status, again.detail_status) == ("pending", "pending", None)
        script(0, 60)
        run = client.ai.assistants.tests.runs.trigger(test.test_id)
        again = client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=test.test_id)
        assert (again.status, again.detail_status, again.completed_at) == ("running", None, None)
        # And one run through all of them, to the end.
        script(0.1, 0.2)
        run = client.ai.assistants.tests.runs.trigger(test.test_id)
        seen = [run.status]
        deadline = time.monotonic() + 30
        while run.status not in ("passed", "failed", "error") and time.monotonic() < deadline:
            time.sleep(0.05)
            run = client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=test.test_id)
            if run.status != seen[-1]:
                seen.append(run.status)
        assert seen[0] == "pending" and seen[-1] == "failed"
        assert set(seen) <= {"pending", "running", "failed"}
        assert [(d.name, d.status) for d in run.detail_status or []] == [("Accuracy", "passed"),
                                                                         ("Empathy", "failed")]
        assert run.completed_at is not None
        listed = {r.run_id: r.status for r in client.ai.assistants.tests.runs.list(test.test_id)}
        assert listed[run.run_id] == "failed" and len(listed) == 3
    finally:
        client.close()


def test_the_outcome_script_is_checked_and_reset(emulator: Emulator) -> None:
    with httpx.Client(timeout=10) as http:
        bad = http.post(f"{emulator.url}/_emulator/test-outcomes", json={"outcomes": [{"status": "maybe"}]})
        assert bad.status_code == 422
        good: dict[str, Any] = {"outcomes": [{"version": "main", "status": "error"}]}
        assert http.post(f"{emulator.url}/_emulator/test-outcomes", json=good).status_code == 200
        assert http.get(f"{emulator.url}/_emulator/test-outcomes").json()["outcomes"] == good["outcomes"]
        emulator.reset()
        assert http.get(f"{emulator.url}/_emulator/test-outcomes").json()["outcomes"] == []
