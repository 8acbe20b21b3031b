"""Execute a Plan: exactly its operations, in dependency order, independent steps in parallel.

- Order comes from `ordering.graph(plan)`; a step starts once everything it depends on is done.
  At most `client.parallelism` steps run at once (the client bounds the requests themselves too), and
  among the ready steps the one with the longest chain of dependents starts first.
- Ids created during the run replace the plan's Refs, in bodies and in `{placeholders}` of paths.
- What each step sends, and how creates are kept from duplicating, is steps.py's.
- A failed step marks everything that depends on it, transitively, as skipped; independent work goes
  on. The result lists what was done, what failed and why, and what was skipped.
- A step whose write may have landed, when no read could tell, is `unknown` (results.py), not failed:
  what depends on it waits; after the other steps it is settled by reading again (settle.py), and
  the steps that waited for it run once it is found done.
- Nothing here prints: progress goes to an `ApplyHooks` (see `reconciler.render.progress`).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from graphlib import TopologicalSorter

from reconciler.api.client import ApiClient
from reconciler.apply import settle
from reconciler.apply.results import ApplyHooks, ApplyResult, NoHooks, Outcome, StepResult
from reconciler.apply.steps import Run
from reconciler.errors import ReconcilerError
from reconciler.planning import ordering
from reconciler.planning.plan import Plan, ResourceChange

__all__ = ["ApplyHooks", "ApplyResult", "NoHooks", "Outcome", "StepResult", "apply_plan"]


INTERRUPTED = ("in flight when apply was interrupted (Ctrl-C, SIGTERM or --deadline): run plan again to see "
               "whether it landed")


class _Schedule:
    """The steps of one apply: which are ready, running, held for an unknown step, or skipped."""

    def __init__(self, run: Run, plan: Plan, report: ApplyHooks) -> None:
        self.run = run
        self.report = report
        self.deps = ordering.graph(plan)
        self.height = ordering.heights(self.deps)  # raises PlanError on a cycle
        self.changes = {rc.address: rc for rc in ordering.runnable(plan)}
        self.order = {address: i for i, address in enumerate(self.changes)}  # plan order
        self.waiting_for: dict[str, set[str]] | None = None  # the reverse graph, once a step fails
        self.result = ApplyResult()
        self.running: dict[asyncio.Task[StepResult], str] = {}
        self.skip_reason: dict[str, str] = {}
        self.held: dict[str, set[str]] = {}  # address -> the unknown steps it waits for
        self.unsure: dict[str, settle.Uncertain] = {}  # unknown steps not yet settled
        self.starts: dict[str, float] = {}
        self.finished: list[asyncio.Task[StepResult]] = []  # in the order they ended, not yet handled
        self.wake = asyncio.Event()  # set when a step ends

    async def execute(self, change: ResourceChange) -> StepResult:
        self.report.pre_apply(change)
        t0 = self.starts[change.address] = time.monotonic()
        try:
            new_id = await self.run.step(change)
        except settle.Uncertain as exc:
            self.unsure[change.address] = exc
            error = f"{exc}; reading it again after the other steps"
            return StepResult(change, Outcome.UNKNOWN, time.monotonic() - t0, error, exc.current or change.id)
        except ReconcilerError as exc:
            return StepResult(change, Outcome.FAILED, time.monotonic() - t0, str(exc), change.id)
        except Exception as exc:  # a bug must not leave independent steps unfinished
            error = f"internal error: {type(exc).__name__}: {exc}"
            return StepResult(change, Outcome.FAILED, time.monotonic() - t0, error, change.id)
        return StepResult(change, Outcome.DONE, time.monotonic() - t0, None, new_id)

    def _ended(self, step: StepResult) -> None:
        """Report a step's end and mark what waits for it."""
        self.report.post_apply(step.change, step.outcome, step.duration, step.error)
        if step.outcome is Outcome.FAILED:
            for address in self._waiting(step.address):
                self.skip_reason.setdefault(address, f"depends on {step.address}, which failed")
        elif step.outcome is Outcome.UNKNOWN:
            for address in self._waiting(step.address):
                self.held.setdefault(address, set()).add(step.address)

    def _waiting(self, address: str) -> set[str]:
        """What waits for `address`, directly or not (the reverse graph built once, at the first need)."""
        if self.waiting_for is None:
            self.waiting_for = ordering.dependents(self.deps)
        return ordering.reachable(self.waiting_for, address)

    def _skip(self, address: str, reason: str) -> None:
        change = self.changes[address]
        skipped = StepResult(change, Outcome.SKIPPED, 0.0, reason, change.id)
        self.result.steps.append(skipped)
        self.report.post_apply(change, Outcome.SKIPPED, 0.0, reason)

    async def drive(self, addresses: set[str]) -> None:
        """Run the steps `addresses` (their other dependencies are done), in dependency order."""
        sorter = TopologicalSorter({a: self.deps[a] & addresses for a in addresses})
        sorter.prepare()
        ready: list[tuple[int, int, str]] = []  # heap: longest chain of dependents first, then plan order
        while sorter.is_active():
            for address in sorter.get_ready():
                heapq.heappush(ready, (-self.height[address], self.order[address], address))
            while ready and len(self.running) < self.run.client.parallelism:
                address = heapq.heappop(ready)[2]
                if address in self.skip_reason:
                    self._skip(address, self.skip_reason[address])
                    sorter.done(address)
                elif self.held.get(address):
                    sorter.done(address)  # runs (or is skipped) once what it waits for is settled
                else:
                    task = asyncio.create_task(self.execute(self.changes[address]), name=address)
                    task.add_done_callback(self._step_ended)
                    self.running[task] = address
            if not self.running:
                continue  # only skips were ready: the sorter has new ready steps now
            # Woken by the steps' callbacks: asyncio.wait hooks and unhooks every running step each time.
            while not self.finished:
                self.wake.clear()
                await self.wake.wait()
            finished, self.finished = self.finished, []
            for task in finished:
                address = self.running.pop(task)
                step = task.result()
                self.result.steps.append(step)
                self._ended(step)
                sorter.done(address)

    def _step_ended(self, task: asyncio.Task[StepResult]) -> None:
        self.finished.append(task)
        self.wake.set()

    async def settle_unknown(self) -> set[str]:
        """Settle every unknown step by reading again; return the held steps now free to run."""
        unsure, self.unsure = self.unsure, {}

        async def one(address: str, exc: settle.Uncertain) -> StepResult:
            change = self.changes[address]
            outcome, error, new_id = await self.run.read_back(change, exc)
            return StepResult(change, outcome, time.monotonic() - self.starts[address], error, new_id)

        try:
            settled = await asyncio.gather(*(one(a, e) for a, e in unsure.items()))
        except asyncio.CancelledError:
            self.unsure.update(unsure)  # still unknown: interrupted() says so
            raise
        for step in settled:
            self.result.replace(step)
            self._ended(step)
        outcome = {s.address: s.outcome for s in self.result.steps}
        free = {a for a, blockers in self.held.items()
                if a not in self.skip_reason and all(outcome.get(b) is Outcome.DONE for b in blockers)}
        for address in free:
            del self.held[address]
        return free

    def skip_held(self) -> None:
        """Skip what still waits for a step whose outcome stayed unknown."""
        for address in sorted(self.held, key=self.order.__getitem__):
            unknown = ", ".join(sorted(self.held[address]))
            self._skip(address, self.skip_reason.get(address, f"depends on {unknown}, whose outcome is unknown"))

    async def interrupted(self) -> None:
        """Record the steps an interruption cut short (unknown) and those never started (skipped)."""
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        for address in self.running.values():
            change, now = self.changes[address], time.monotonic()
            step = StepResult(change, Outcome.UNKNOWN, now - self.starts.get(address, now), INTERRUPTED, change.id)
            self.result.steps.append(step)
            self.report.post_apply(change, Outcome.UNKNOWN, step.duration, INTERRUPTED)
        self.running.clear()
        for address in self.unsure:
            old = next(s for s in self.result.steps if s.address == address)
            self.result.replace(StepResult(old.change, Outcome.UNKNOWN, old.duration,
                                           f"{self.unsure[address]}; {settle.STILL_UNKNOWN}", old.id))
        seen = {s.address for s in self.result.steps}
        for address, change in self.changes.items():
            if address not in seen:
                self.result.steps.append(StepResult(change, Outcome.SKIPPED, 0.0, "not started: apply was "
                                                    "interrupted", change.id))


async def apply_plan(client: ApiClient, plan: Plan, hooks: ApplyHooks | None = None, *,
                     owner_tag: str | None = None, scope: str = "") -> ApplyResult:
    """Carry out `plan` through `client`, reporting to `hooks`; never raises for a failed step.

    `owner_tag`: when given, an assistant create whose body lacks it fails instead of running.
    `scope`: the project and environment, part of every create's idempotency key.
    """
    report: ApplyHooks = hooks if hooks is not None else NoHooks()
    schedule = _Schedule(Run(client, plan, owner_tag, scope), plan, report)
    started = time.monotonic()
    try:
        todo = set(schedule.changes)
        while todo:
            await schedule.drive(todo)
            todo = await schedule.settle_unknown()
        schedule.skip_held()
    except asyncio.CancelledError:
        # Ctrl-C (asyncio.run cancels the main task) or the deadline: say what was done and what was
        # in flight before the interruption propagates, so the user knows where the re-run starts from.
        await schedule.interrupted()
        schedule.result.duration = time.monotonic() - started
        report.summary(schedule.result)
        raise
    except BaseException:
        for task in schedule.running:  # a failing hook, say: leave no request running behind the error
            task.cancel()
        raise
    schedule.result.duration = time.monotonic() - started
    report.summary(schedule.result)
    return schedule.result
