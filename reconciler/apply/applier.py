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
- Nothing here prints: progress goes to an `ApplyHooks` (see `reconciler.render.progress`).
"""

from __future__ import annotations

import asyncio
import heapq
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from graphlib import TopologicalSorter
from typing import Any, Protocol
from urllib.parse import quote

from reconciler.api import endpoints, reads
from reconciler.api.client import Adopt, ApiClient
from reconciler.apply import idempotency
from reconciler.apply.gate import run_gate
from reconciler.errors import ApplyError, ReconcilerError
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


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepResult:
    """How one resource change ended. `id` is the resource's id afterwards (None after a delete)."""

    change: ResourceChange
    outcome: Outcome
    duration: float
    error: str | None = None
    id: str | None = None

    @property
    def address(self) -> str:
        return self.change.address


@dataclass
class ApplyResult:
    """Every step's result, in the order the steps finished, and the wall time of the apply."""

    steps: list[StepResult] = field(default_factory=list)
    duration: float = 0.0

    def _with(self, outcome: Outcome) -> list[StepResult]:
        return [s for s in self.steps if s.outcome is outcome]

    @property
    def done(self) -> list[StepResult]:
        return self._with(Outcome.DONE)

    @property
    def failed(self) -> list[StepResult]:
        return self._with(Outcome.FAILED)

    @property
    def skipped(self) -> list[StepResult]:
        return self._with(Outcome.SKIPPED)

    @property
    def ok(self) -> bool:
        """True when every step was done."""
        return not self.failed and not self.skipped


class ApplyHooks(Protocol):
    """What the applier reports, as it happens (terraform's `hook.go`, reduced to what we need)."""

    def pre_apply(self, change: ResourceChange) -> None:
        """A step starts."""

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """A step ended (done or failed), or was skipped because something it needs failed
        (then `pre_apply` was never called and `error` says which step failed)."""

    def summary(self, result: ApplyResult) -> None:
        """The apply is over."""


class NoHooks:
    """Hooks that report nothing (for library use and tests that only look at the result)."""

    def pre_apply(self, change: ResourceChange) -> None:
        """Report nothing."""

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """Report nothing."""

    def summary(self, result: ApplyResult) -> None:
        """Report nothing."""


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
        self.ids: dict[tuple[str, str], str] = {}
        for rc in plan.resource_changes:
            # Existing resources: a Ref to them (should a plan hold one) resolves to the live id.
            if rc.id and rc.kind != KIND_CANARY and DELETE not in rc.actions:
                self.ids[(rc.address, _id_field(rc.kind))] = rc.id

    def resolve(self, ref: Ref, user: str) -> str:
        found = self.ids.get((ref.address, ref.field))
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

    async def step(self, change: ResourceChange) -> str | None:
        """Run one change's operations in order; return the resource's id afterwards."""
        current = change.id
        for op in change.operations:
            current = await self.operation(change, op) or current
        if DELETE in change.actions and CREATE not in change.actions:
            return None
        return current

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
        adopt: Adopt = reads.adopter(self.client, change.kind, name, parent)
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


async def _interrupted(running: dict[asyncio.Task[StepResult], str], starts: dict[str, float],
                       changes: dict[str, ResourceChange], result: ApplyResult, report: ApplyHooks) -> None:
    """Record the steps an interruption cut short (failed: outcome unknown) and those never started."""
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for address in running.values():
        change, duration = changes[address], time.monotonic() - starts.get(address, time.monotonic())
        error = "interrupted: its outcome is unknown (plan again to see)"
        result.steps.append(StepResult(change, Outcome.FAILED, duration, error, change.id))
        report.post_apply(change, Outcome.FAILED, duration, error)
    seen = {s.address for s in result.steps}
    for address, change in changes.items():
        if address not in seen:
            result.steps.append(StepResult(change, Outcome.SKIPPED, 0.0, "not started: apply was interrupted",
                                           change.id))


async def apply_plan(client: ApiClient, plan: Plan, hooks: ApplyHooks | None = None, *,
                     owner_tag: str | None = None, scope: str = "") -> ApplyResult:
    """Carry out `plan` through `client`, reporting to `hooks`; never raises for a failed step.

    `owner_tag`: when given, an assistant create whose body lacks it fails instead of running.
    `scope`: the project and environment, part of every create's idempotency key.
    """
    report: ApplyHooks = hooks if hooks is not None else NoHooks()
    deps = ordering.graph(plan)
    ordering.check_acyclic(deps)
    height = ordering.heights(deps)
    order = {rc.address: i for i, rc in enumerate(plan.resource_changes)}
    changes = {rc.address: rc for rc in ordering.runnable(plan)}
    run = _Run(client, plan, owner_tag, scope)
    result = ApplyResult()
    started = time.monotonic()
    sorter = TopologicalSorter(deps)
    sorter.prepare()
    ready: list[tuple[int, int, str]] = []  # heap: longest chain of dependents first, then plan order
    running: dict[asyncio.Task[StepResult], str] = {}
    skip_reason: dict[str, str] = {}
    starts: dict[str, float] = {}

    async def execute(change: ResourceChange) -> StepResult:
        report.pre_apply(change)
        t0 = starts[change.address] = time.monotonic()
        try:
            new_id = await run.step(change)
        except ReconcilerError as exc:
            return StepResult(change, Outcome.FAILED, time.monotonic() - t0, str(exc), change.id)
        except Exception as exc:  # a bug must not leave independent steps unfinished
            error = f"internal error: {type(exc).__name__}: {exc}"
            return StepResult(change, Outcome.FAILED, time.monotonic() - t0, error, change.id)
        return StepResult(change, Outcome.DONE, time.monotonic() - t0, None, new_id)

    try:
        while sorter.is_active():
            for address in sorter.get_ready():
                heapq.heappush(ready, (-height[address], order[address], address))
            while ready and len(running) < client.parallelism:
                address = heapq.heappop(ready)[2]
                change = changes[address]
                if address in skip_reason:
                    skipped = StepResult(change, Outcome.SKIPPED, 0.0, skip_reason[address], change.id)
                    result.steps.append(skipped)
                    report.post_apply(change, Outcome.SKIPPED, 0.0, skipped.error)
                    sorter.done(address)
                    continue
                running[asyncio.create_task(execute(change), name=address)] = address
            if not running:
                continue  # only skips were ready: the sorter has new ready steps now
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                address = running.pop(task)
                step = task.result()
                result.steps.append(step)
                report.post_apply(step.change, step.outcome, step.duration, step.error)
                if step.outcome is Outcome.FAILED:
                    for waiting in ordering.transitive_dependents(deps, address):
                        skip_reason.setdefault(waiting, f"depends on {address}, which failed")
                sorter.done(address)
    except asyncio.CancelledError:
        # Ctrl-C (asyncio.run cancels the main task): say what was done and what was in flight
        # before the interruption propagates, so the user knows where the re-run starts from.
        await _interrupted(running, starts, changes, result, report)
        result.duration = time.monotonic() - started
        report.summary(result)
        raise
    except BaseException:
        for task in running:  # a failing hook, say: leave no request running behind the error
            task.cancel()
        raise
    result.duration = time.monotonic() - started
    report.summary(result)
    return result
