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
    emulator.control("test-outcomes", {"outcomes": [{"test": "refunds", "status": "failed",
                                                     "criteria": {"Empathy": "failed"}}],
                                       "timing": {"pending_s": 0.2, "running_s": 0.2}})
    client = telnyx.Telnyx(api_key=API_KEY, base_url=emulator.base_url, max_retries=0)
    try:
        test = client.ai.assistants.tests.create(name="refunds", destination="+13125550100",
                                                 instructions="Ask for a refund.", rubric=RUBRIC)
        run = client.ai.assistants.tests.runs.trigger(test.test_id)
        assert run.status == "pending" and run.detail_status is None
        seen = [run.status]
        deadline = time.monotonic() + 30
        while run.status not in ("passed", "failed", "error") and time.monotonic() < deadline:
            time.sleep(0.05)
            run = client.ai.assistants.tests.runs.retrieve(run.run_id, test_id=test.test_id)
            if run.status != seen[-1]:
                seen.append(run.status)
        assert seen == ["pending", "running", "failed"]
        assert [(d.name, d.status) for d in run.detail_status or []] == [("Accuracy", "passed"),
                                                                         ("Empathy", "failed")]
        assert run.completed_at is not None
        listed = list(client.ai.assistants.tests.runs.list(test.test_id))
        assert [r.status for r in listed] == ["failed"]
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
