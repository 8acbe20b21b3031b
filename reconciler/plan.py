"""The plan as data: types only. The planner builds a Plan, renderers read it, the applier runs
exactly the operations it holds. Nothing here does I/O or decides anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = "1"

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
NOOP = "no-op"

# ResourceChange.kind values: the manifest kinds plus the assistant's sub-resources.
KIND_VERSION = "AssistantVersion"
KIND_CANARY = "Canary"


def action_word(actions: Sequence[str]) -> str:
    """One word for what a change does: create, update, delete, replace or no-op."""
    if CREATE in actions and DELETE in actions:
        return "replace"
    for action in (CREATE, UPDATE, DELETE):
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
    """One API call. `path` is relative to the base URL and may hold `{…}` placeholders named in
    `path_refs`; `body` may hold Ref values anywhere. The applier substitutes both."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    path_refs: dict[str, Ref] = field(default_factory=dict)
    # For creates: how to find the resource by name if the outcome of the request is unknown.
    lookup_name: str | None = None


@dataclass
class ResourceChange:
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


@dataclass
class Plan:
    resource_changes: list[ResourceChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        add = change = destroy = 0
        for rc in self.resource_changes:
            if CREATE in rc.actions:
                add += 1
            if DELETE in rc.actions:
                destroy += 1
            if UPDATE in rc.actions:
                change += 1
        return {"add": add, "change": change, "destroy": destroy}

    @property
    def has_changes(self) -> bool:
        return any(not rc.is_noop for rc in self.resource_changes)

    def by_address(self) -> dict[str, ResourceChange]:
        return {rc.address: rc for rc in self.resource_changes}
