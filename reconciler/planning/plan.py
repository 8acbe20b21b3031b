"""The plan as data: types only. The planner builds a Plan, renderers read it, the applier runs
exactly the operations it holds. Nothing here does I/O or decides anything.

An Operation says what it does (`kind`, `action`, `parent`) as well as how (`method`, `path`, `body`),
so the applier never reads meaning out of a URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.kinds import KIND_CANARY, KIND_VERSION

__all__ = [
    "ADOPT",
    "CREATE",
    "DELETE",
    "FORMAT_VERSION",
    "KIND_CANARY",
    "KIND_VERSION",
    "NOOP",
    "UPDATE",
    "Action",
    "FieldChange",
    "Operation",
    "Orphan",
    "Plan",
    "Ref",
    "ResourceChange",
    "action_word",
]

# 2: the `adopt` action and the `orphans` list (issue #11); a reader of format 1 would take an
# adoption for nothing to do and miss the orphans, so the change is incompatible.
FORMAT_VERSION = "2"


class Action(StrEnum):
    """What a change (or one operation of it) does; the values are the plan JSON's `actions` words."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"
    # A live resource matched by name that this project does not own: its field changes are shown,
    # and apply refuses to make them until the manifest pins its id (the confirmation).
    ADOPT = "adopt"


CREATE = Action.CREATE
UPDATE = Action.UPDATE
DELETE = Action.DELETE
NOOP = Action.NOOP
ADOPT = Action.ADOPT


def action_word(actions: Sequence[str]) -> str:
    """One word for what a change does: create, update, delete, replace or no-op."""
    if CREATE in actions and DELETE in actions:
        return "replace"
    for action in (ADOPT, CREATE, UPDATE, DELETE):
        if action in actions:
            return action
    return NOOP


@dataclass(frozen=True)
class Ref:
    """An id known only after apply: the id of the resource at `address` once it is created.

    `field` is "id" for assistants, tools and MCP servers and "version_id" for versions.
    """

    address: str
    field: str = "id"


@dataclass(frozen=True)
class FieldChange:
    """One changed field. `path` is dotted (`voice_settings.voice`, `tools[0].webhook.url`)."""

    path: str
    before: Any
    after: Any
    sensitive: bool = False


@dataclass
class Operation:
    """One API call. `kind` and `action` say what it does to which kind of resource (a ResourceChange
    kind: Assistant, AssistantVersion, Canary, Tool, McpServer); `parent` is the assistant a version or
    canary belongs to. `path` is relative to the base URL and may hold `{…}` placeholders named in
    `path_refs`; `body` and `parent` may hold Ref values. The applier substitutes them."""

    kind: str
    action: Action
    method: str
    path: str
    body: dict[str, Any] | None = None
    path_refs: dict[str, Ref] = field(default_factory=dict)
    # For creates: how to find the resource by name if the outcome of the request is unknown.
    lookup_name: str | None = None
    parent: str | Ref | None = None
    # A gate: how long apply waits for the verdict of the runs this request starts.
    wait_s: float | None = None


@dataclass
class ResourceChange:
    """What the plan does to one resource (or sub-resource): its actions, the field changes a reviewer
    reads, and the operations apply sends."""

    address: str  # assistant.NAME, assistant.NAME.version.VNAME, assistant.NAME.canary, tool.NAME, …
    kind: str  # Assistant | AssistantVersion | Canary | Tool | McpServer
    name: str
    actions: list[str]
    id: str | None = None  # the live id (a version's version_id); None for a create
    changes: list[FieldChange] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    # Addresses whose operations must finish before this one's start (apply order).
    depends_on: list[str] = field(default_factory=list)
    # Why something that would be deleted is kept, or a note a reviewer should read.
    reason: str | None = None

    @property
    def is_noop(self) -> bool:
        return self.actions == [NOOP]


@dataclass(frozen=True)
class Orphan:
    """A live resource this project owns that no manifest declares (an assistant carrying the owner
    tag, a version of a managed assistant) and that the plan does not delete. Reported in every plan
    and counted as a change, so drift checks see it; `note` says what `--prune` would do."""

    address: str
    kind: str
    name: str
    id: str | None
    note: str


@dataclass
class Plan:
    """Every resource change, in manifest order, the orphans, and the warnings a reviewer should read."""

    resource_changes: list[ResourceChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """The plan JSON's `summary`: how many changes add, change and destroy something."""
        add = change = destroy = 0
        for rc in self.resource_changes:
            if CREATE in rc.actions:
                add += 1
            if DELETE in rc.actions:
                destroy += 1
            if UPDATE in rc.actions or ADOPT in rc.actions:
                change += 1
        return {"add": add, "change": change, "destroy": destroy}

    @property
    def has_changes(self) -> bool:
        return bool(self.orphans) or any(not rc.is_noop for rc in self.resource_changes)

    @property
    def has_work(self) -> bool:
        """Whether apply has anything to do (orphans are reported, never acted on without --prune)."""
        return any(not rc.is_noop for rc in self.resource_changes)

    @property
    def adoptions(self) -> list[ResourceChange]:
        """The changes apply refuses to carry out until confirmed (a `metadata.id` pin)."""
        return [rc for rc in self.resource_changes if ADOPT in rc.actions]

    def by_address(self) -> dict[str, ResourceChange]:
        """The changes keyed by address."""
        return {rc.address: rc for rc in self.resource_changes}
