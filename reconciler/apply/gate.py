"""Run a gate step of a plan: start its suite against the version, wait for every verdict, and fail
the step (so that the traffic change waiting for it is skipped) unless every run passed. The failure
names each test that did not pass and the rubric criteria it missed."""

from __future__ import annotations

from typing import Any

from reconciler.api import reads
from reconciler.api.client import ApiClient
from reconciler.errors import ApplyError
from reconciler.model import Gate
from reconciler.planning.plan import ResourceChange
from reconciler.testruns import runner


class GateFailed(ApplyError):
    """The suite of a gate did not pass: no traffic moved."""


async def run_gate(client: ApiClient, change: ResourceChange, path: str, body: dict[str, Any] | None,
                   wait_s: float | None) -> None:
    """Carry out one gate operation of `change` (a Gate change: its name is the suite)."""
    what = f"gate {change.address}"
    runs = await runner.start_suite(client, path, body, f"{what}: run test suite {change.name}")
    tests = await reads.list_tests(client, change.name)
    names = {str(t.get("test_id")): str(t.get("name")) for t in tests}
    report = await runner.wait(client, runs, names, label=f"suite {change.name}", target=change.address,
                               timeout=Gate.timeout_s if wait_s is None else wait_s)
    if not report.passed:
        why = "; ".join(report.failures()) or "the suite started no run"
        raise GateFailed(f"test suite {change.name} did not pass, so no traffic moved: {why}")
