"""Execute a Plan: exactly its operations, in dependency order, independent steps in parallel.

- Order comes from `ordering.graph(plan)`; a step starts once everything it depends on is done.
  At most `client.parallelism` steps run at once (the client bounds the requests themselves too), and
  among the ready steps the one with the longest chain of dependents starts first.
- Ids created during the run replace the plan's Refs, in bodies and in `{placeholders}` of paths.
- Creates cannot duplicate: each sends a deterministic `Idempotency-Key` (idempotency.py: the same
  for the same change, so two concurrent runs create once) and hands the client a lookup by name
  (`reads.adopter`) that it runs before retrying a create whose outcome is unknown. An answer about
  an object created before this apply began (a replay) is checked by name before it is trusted.
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
from datetime import UTC, datetime
from graphlib import TopologicalSorter
from typing import Any
from urllib.parse import quote

from reconciler.api import endpoints, reads
from reconciler.api.client import Adopt, ApiClient
from reconciler.apply import idempotency, settle
from reconciler.apply.gate import run_gate
from reconciler.apply.results import ApplyHooks, ApplyResult, NoHooks, Outcome, StepResult
from reconciler.errors import ApiError, ApplyError, ReconcilerError
from reconciler.kinds import KIND_GATE
from reconciler.planning import ordering
from reconciler.planning.plan import (
    CREATE,
    DELETE,
    KIND_CANARY,
    KIND_VERSION,
    Action,
    Operation,
    Plan,
    Ref,
    ResourceChange,
    action_word,
)

__all__ = ["ApplyHooks", "ApplyResult", "NoHooks", "Outcome", "StepResult", "apply_plan"]


def _stamp(response: Any) -> str:
    return str(response.get("created_at")) if isinstance(response, dict) else "none"


# Which Ref field a created resource's id answers to (plan.Ref docs).
def _id_field(kind: str) -> str:
    return "version_id" if kind == KIND_VERSION else "id"


class _Run:
    """The state of one apply: ids known so far, and the client to send operations through."""

    def __init__(self, client: ApiClient, plan: Plan, owner_tag: str | None, scope: str) -> None:
        self.client = client
        self.owner_tag = owner_tag
        self.scope = scope
        # An answer about an object stamped before this moment is an earlier create's replay, or the
        # work of another run: checked by name (docs/api-assumptions.md: the server's clock is taken
        # to agree with ours; skew only moves which answers get that one extra read).
        self.started = datetime.now(UTC)
        self.ids: dict[tuple[str, str], str] = {}  # created in this run
        self.plan = plan
        self._existing: dict[tuple[str, str], str] | None = None

    def existing(self) -> dict[tuple[str, str], str]:
        """The live ids of the plan's existing resources, which a Ref to one resolves to; built at the
        first Ref not created in this run (not walked for every apply before its first request)."""
        if self._existing is None:
            self._existing = {(rc.address, _id_field(rc.kind)): rc.id for rc in self.plan.resource_changes
                              if rc.id and rc.kind != KIND_CANARY and DELETE not in rc.actions}
        return self._existing

    def resolve(self, ref: Ref, user: str) -> str:
        key = (ref.address, ref.field)
        found = self.ids.get(key) or self.existing().get(key)
        if found is None:
            raise ApplyError(f"{user}: {ref.address} has no {ref.field}: it was not created in this run")
        return found

    def substitute(self, value: Any, user: str) -> Any:
        """A copy of a body with every Ref replaced by the id it stands for."""
        if isinstance(value, Ref):
            return self.resolve(value, user)
        if isinstance(value, dict):
            return {k: self.substitute(v, user) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v, user) for v in value]
        return value

    def path(self, op: Operation, user: str) -> str:
        path = op.path
        for key, ref in op.path_refs.items():
            path = path.replace("{" + key + "}", quote(self.resolve(ref, user), safe=""))
        return path

    async def step(self, change: ResourceChange, first: int = 0, current: str | None = None) -> str | None:
        """Run one change's operations in order (from `first`); return the resource's id afterwards.
        Raises settle.Uncertain when an operation may have landed and nothing could tell."""
        current = current or change.id
        for index, op in enumerate(change.operations[first:], start=first):
            try:
                current = await self.operation(change, op) or current
            except ApiError as exc:
                if settle.is_uncertain(exc) and op.kind != KIND_GATE:  # a gate's verdict is never guessed
                    raise settle.Uncertain(str(exc), index, current) from None
                raise
        if DELETE in change.actions and CREATE not in change.actions:
            return None
        return current

    def ours(self, change: ResourceChange, *, settling: bool) -> reads.Choose:
        """Which live object of the create's name can be the one it made (idempotency.chooser)."""
        return idempotency.chooser(change.kind, change.address, self.owner_tag, self.started, settling=settling)

    def lookup(self, change: ResourceChange, op: Operation) -> Adopt | None:
        """The read by name that tells whether create `op` landed (None: `op` is not a create)."""
        parent = self.resolve(op.parent, change.address) if isinstance(op.parent, Ref) else op.parent
        if op.lookup_name is not None:
            return reads.adopter(self.client, change.kind, op.lookup_name, parent, self.ours(change, settling=True))
        if op.kind == KIND_CANARY and op.action is Action.CREATE:
            return reads.adopter(self.client, KIND_CANARY, "canary", parent)
        return None

    async def read_back(self, change: ResourceChange, unsure: settle.Uncertain
                        ) -> tuple[Outcome, str | None, str | None]:
        """Read again to settle a step left unknown; (outcome, error or note, id). A create is looked up
        by name; an update or delete (a target state) is sent again; then the step's later operations run."""
        op = change.operations[unsure.index]
        what = f"{action_word(change.actions)} {change.address}"
        current = unsure.current
        lookup = self.lookup(change, op)
        try:
            if lookup is not None:
                found = await settle.read_again(lookup)
                if found is None:
                    return Outcome.FAILED, f"{what}: it did not land (absent when read back); run apply again", current
                if op.lookup_name is not None:
                    current = endpoints.created_id(change.kind, found)
                    if current is None:
                        raise ApplyError(f"{what}: the API answered without an id")
                    self.ids[(change.address, _id_field(change.kind))] = current
            else:
                await settle.read_again(lambda: self._resend(change, op))
            current = await self.step(change, unsure.index + 1, current)
        except settle.Uncertain as again:
            return Outcome.UNKNOWN, f"{again}; {settle.STILL_UNKNOWN}", again.current
        except ApiError as exc:
            if settle.is_uncertain(exc) or exc.retryable:
                return Outcome.UNKNOWN, f"{exc}; {settle.STILL_UNKNOWN}", current
            return Outcome.FAILED, str(exc), current
        except ReconcilerError as exc:
            return Outcome.FAILED, str(exc), current
        return Outcome.DONE, "settled by reading it back", current

    async def _resend(self, change: ResourceChange, op: Operation) -> None:
        try:
            await self.operation(change, op)
        except ApiError as exc:
            if not (op.method == "DELETE" and exc.status == 404):  # gone: the first delete landed
                raise

    async def operation(self, change: ResourceChange, op: Operation) -> str | None:
        user = change.address
        path = self.path(op, user)
        body = self.substitute(op.body, user) if op.body is not None else None
        what = f"{action_word(change.actions)} {change.address}"
        parent = self.resolve(op.parent, user) if isinstance(op.parent, Ref) else op.parent
        if op.kind == KIND_GATE:
            await run_gate(self.client, change, path, body, op.wait_s)
            return None
        if op.lookup_name is not None:
            return await self.create(change, op.lookup_name, op.method, path, body, parent, what)
        if op.kind == KIND_CANARY and op.action is Action.CREATE:
            # Creating a canary twice answers 409, so an uncertain attempt is settled by reading it.
            adopt = reads.adopter(self.client, KIND_CANARY, "canary", parent)
            key = idempotency.key(self.scope, user, op.method, path, body)
            answer = await self.client.request(op.method, path, json=body, what=what, idempotency_key=key,
                                               adopt=adopt)
            if idempotency.created_before(KIND_CANARY, answer, self.started) and await adopt() is None:
                # A replay of a canary deleted since: create it again, under a key of its own.
                await self.client.request(op.method, path, json=body, what=what, adopt=adopt,
                                          idempotency_key=idempotency.salted(key, _stamp(answer)))
            return None
        # Every other operation of a plan sets a resource to a target state (an update POST/PATCH/PUT,
        # or a DELETE), so sending it twice leaves the same result: safe to retry after a 5xx.
        await self.client.request(op.method, path, json=body, what=what, idempotent=True)
        return None

    async def create(self, change: ResourceChange, name: str, method: str, path: str, body: Any,
                     parent: str | None, what: str) -> str:
        if change.kind == "Assistant" and self.owner_tag is not None:
            tags = body.get("tags") if isinstance(body, dict) else None
            if not isinstance(tags, list) or self.owner_tag not in tags:
                # Pruning recognises our assistants by this tag: creating one without it would leak it.
                raise ApplyError(f"{what}: refused: the body lacks the owner tag {self.owner_tag!r}")
        adopt: Adopt = reads.adopter(self.client, change.kind, name, parent, self.ours(change, settling=False))
        key = idempotency.key(self.scope, change.address, method, path, body)
        response = await self.client.request(method, path, json=body, what=what, idempotency_key=key, adopt=adopt)
        if idempotency.created_before(change.kind, response, self.started):
            # A replay, or an object another run created meanwhile: trust what the account holds now.
            found = await adopt()
            if found is None:  # the replayed object is gone (deleted by hand since): create it again
                stale = endpoints.created_id(change.kind, response) or _stamp(response)
                response = await self.client.request(method, path, json=body, what=what, adopt=adopt,
                                                     idempotency_key=idempotency.salted(key, stale))
            else:
                response = found
        new_id = endpoints.created_id(change.kind, response)
        if change.kind == KIND_VERSION and (new_id is None or response.get("version_name") != name):
            # The version create is an assistant update: should its answer not be the new version
            # (it could be main, whose version_id a canary must never get), find the version by name.
            new_id = endpoints.created_id(change.kind, await adopt())
        if new_id is None:
            raise ApplyError(f"{what}: the API answered without an id")
        self.ids[(change.address, _id_field(change.kind))] = new_id
        return new_id


INTERRUPTED = "in flight when apply was interrupted (Ctrl-C or --deadline): run plan again to see whether it landed"


class _Schedule:
    """The steps of one apply: which are ready, running, held for an unknown step, or skipped."""

    def __init__(self, run: _Run, plan: Plan, report: ApplyHooks) -> None:
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
    schedule = _Schedule(_Run(client, plan, owner_tag, scope), plan, report)
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
