"""One apply's steps against the API: what each of a change's operations sends, with the plan's Refs
replaced by the ids known so far, and how a step left unknown is read back.

- Creates cannot duplicate: each sends a deterministic `Idempotency-Key` (idempotency.py: the same
  for the same change, so two concurrent runs create once) and hands the client a lookup by name
  (`reads.adopter`) that it runs before retrying a create whose outcome is unknown. An answer about
  an object created before this apply began (a replay) is checked by name before it is trusted.
- Every other operation sets a resource to a target state, so it is safe to send again.
The order the steps run in is applier.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reconciler.api import endpoints, reads
from reconciler.api.client import Adopt, ApiClient
from reconciler.apply import idempotency, settle
from reconciler.apply.gate import run_gate
from reconciler.apply.results import Outcome
from reconciler.errors import ApiError, ApplyError, ReconcilerError
from reconciler.kinds import KIND_GATE
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


def _stamp(response: Any) -> str:
    return str(response.get("created_at")) if isinstance(response, dict) else "none"


# Which Ref field a created resource's id answers to (plan.Ref docs).
def _id_field(kind: str) -> str:
    return "version_id" if kind == KIND_VERSION else "id"


class Run:
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
        """The operation's path with the ids its `Ref`s stand for filled in (as the planner filled the known ones)."""
        return endpoints.fill_path(op.path, **{key: self.resolve(ref, user) for key, ref in op.path_refs.items()})

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
