"""Run assistant tests and wait for their verdicts: what `reconciler test` and a traffic gate share.

A run is started per suite (`POST .../test-suites/{suite}/runs`, one run per test, a bare array) or
per test (`POST .../tests/{id}/runs`), against main or a named version (`destination_version_id`),
then polled until it reaches a final status or the deadline passes (telnyx-ai-api.md §9). Polling
starts fast and slows down, so a quick emulator run is seen at once and a real one costs few requests.
A run passes only when its status is `passed` and no criterion of its `detail_status` failed.
Nothing here prints: progress goes to a callback.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.api.client import ApiClient, gather_all
from reconciler.api.endpoints import TESTS, fill_path
from reconciler.errors import ApiError

FINAL = frozenset({"passed", "failed", "error"})  # TestStatus values a run ends in
PASSED = "passed"
POLL_FIRST_S = 0.1
POLL_MAX_S = 5.0


@dataclass(frozen=True)
class Criterion:
    """One rubric item's verdict (`detail_status[]`)."""

    name: str
    status: str


@dataclass
class RunResult:
    """One test run as last seen. `timed_out`: the deadline passed before it finished."""

    test_id: str
    name: str
    run_id: str
    status: str
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    criteria: list[Criterion] = field(default_factory=list)
    logs: str | None = None
    timed_out: bool = False

    @property
    def done(self) -> bool:
        return self.status in FINAL

    @property
    def passed(self) -> bool:
        return self.status == PASSED and not self.timed_out and all(c.status == PASSED for c in self.criteria)

    @property
    def duration(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def failed_criteria(self) -> list[str]:
        return [c.name for c in self.criteria if c.status != PASSED]

    def verdict(self) -> str:
        """One line: why it failed, or that it passed."""
        if self.timed_out:
            return f"timed out while {self.status}"
        if self.passed:
            return "passed"
        failed = self.failed_criteria()
        if failed:
            return f"{self.status}: criteria not met: {', '.join(failed)}"
        return self.status

    def update(self, run: dict[str, Any]) -> bool:
        """Take a fresh read of the run; True when its status changed."""
        before = self.status
        self.status = str(run.get("status") or self.status)
        self.criteria = [Criterion(str(d.get("name")), str(d.get("status")))
                         for d in run.get("detail_status") or [] if isinstance(d, dict)]
        self.logs = run.get("logs") if isinstance(run.get("logs"), str) else self.logs
        if self.done and self.finished is None:
            self.finished = time.monotonic()
        return self.status != before


@dataclass
class Report:
    """Every run of one invocation: `label` names what ran (a suite, or tests), `target` against what
    (`main` or `version NAME`)."""

    label: str
    target: str
    results: list[RunResult] = field(default_factory=list)
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def failures(self) -> list[str]:
        """`test: why` for each run that did not pass."""
        return [f"{r.name}: {r.verdict()}" for r in self.results if not r.passed]


Progress = Callable[[RunResult], None]


def _runs_path(test_id: str) -> str:
    return fill_path(TESTS + "/{t}/runs", t=test_id)


def _body(version_id: str | None) -> dict[str, Any]:
    return {"destination_version_id": version_id} if version_id else {}


def suite_runs_path(suite: str) -> str:
    return fill_path(TESTS + "/test-suites/{s}/runs", s=suite)


async def start_suite(client: ApiClient, path: str, body: dict[str, Any] | None, what: str) -> list[dict[str, Any]]:
    """POST a suite's runs path; the runs it started (a bare array, or a `data` wrapper)."""
    # The key makes a retry after an uncertain outcome safe where the server honours it; where it does
    # not, a retry starts one more run of the suite, which changes nothing the user manages.
    answer = await client.request("POST", path, json=body or {}, what=what, idempotency_key=str(uuid.uuid4()),
                                  idempotent=True)
    runs = answer.get("data") if isinstance(answer, dict) else answer
    if not isinstance(runs, list):
        raise ApiError(f"{what}: unexpected answer {str(answer)[:120]!r}")
    return [r for r in runs if isinstance(r, dict)]


async def _trigger_test(client: ApiClient, test_id: str, name: str, version_id: str | None) -> dict[str, Any]:
    body = await client.request("POST", _runs_path(test_id), json=_body(version_id), what=f"run test {name}",
                                idempotency_key=str(uuid.uuid4()), idempotent=True)
    if not isinstance(body, dict) or not body.get("run_id"):
        raise ApiError(f"run test {name}: unexpected answer {str(body)[:120]!r}")
    return body


async def run(client: ApiClient, *, tests: Sequence[dict[str, Any]], suite: str | None = None,
              version_id: str | None = None, target: str = "main", timeout: float = 600.0,
              progress: Progress | None = None) -> Report:
    """Run `suite` (every test the API holds in it) or else each of `tests` (live test objects), and
    wait for every run to finish or for `timeout` seconds. `tests` names the runs by test id."""
    started = time.monotonic()
    names = {str(t.get("test_id")): str(t.get("name")) for t in tests}
    if suite is not None:
        runs = await start_suite(client, suite_runs_path(suite), _body(version_id), f"run test suite {suite}")
    else:
        runs = list(await gather_all(*(_trigger_test(client, str(t["test_id"]), str(t.get("name")), version_id)
                                       for t in tests)))
    label = f"suite {suite}" if suite is not None else "tests"
    return await wait(client, runs, names, label=label, target=target, timeout=timeout, progress=progress,
                      started=started)


async def wait(client: ApiClient, runs: Sequence[dict[str, Any]], names: dict[str, str], *, label: str,
               target: str, timeout: float, progress: Progress | None = None, started: float | None = None
               ) -> Report:
    """Poll `runs` (as the trigger answered them) until each is final or `timeout` seconds have passed
    since `started`; `names` maps test ids to the names reports show."""
    started = time.monotonic() if started is None else started
    deadline = started + timeout
    results: list[RunResult] = []
    for run_body in runs:
        tid = str(run_body.get("test_id"))
        result = RunResult(tid, names.get(tid, tid), str(run_body.get("run_id")), "pending", started=started)
        result.update(run_body)
        results.append(result)
        if progress is not None:
            progress(result)
    report = Report(label, target, results)
    interval = POLL_FIRST_S
    while True:
        waiting = [r for r in results if not r.done]
        if not waiting:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            for r in waiting:
                r.timed_out = True
                if progress is not None:
                    progress(r)
            break
        await asyncio.sleep(min(interval, left))
        interval = min(interval * 1.5, POLL_MAX_S)
        fresh = await gather_all(*(client.request("GET", f"{_runs_path(r.test_id)}/{r.run_id}",
                                                  what=f"read run of test {r.name}") for r in waiting))
        for r, body in zip(waiting, fresh, strict=True):
            if isinstance(body, dict) and r.update(body) and progress is not None:
                progress(r)
    report.duration = time.monotonic() - started
    return report
