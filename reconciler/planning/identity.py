"""Identity: which live object each desired resource is. Pure; shared by live.py (to know whose
versions and canary to read) and the planner.

Rules (manifest-format.md): a `metadata.id` pin wins; otherwise the live object whose name equals
`metadata.name`; otherwise one whose name is in `metadata.previous_names` (a rename). Two live
objects answering to one name are an error naming both ids, unless a pin picks one, or unless every
one of them is of the project's own making (`Repair`: an assistant carrying the owner tag, a tool or
MCP server whose name carries the project's reserved prefix), as overlapping runs could leave them:
then the one the rest references (most live assistants attach it; else the oldest) is matched, and
the others are `duplicates`, which the plan deletes with pruning and lists as orphans without
(planning/pruning.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds import KINDS, PROTECT_TAG
from reconciler.model import DesiredResource, ProjectSpec


@dataclass
class Matches:
    """address -> the matched live object (None: to be created); errors found while matching."""

    live_for: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    id_field: str = "id"
    # address -> live objects of the same name, of the project's own making, besides the one matched
    duplicates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def matched_ids(self) -> set[str]:
        """The live ids this project manages: those matched, and their duplicates (deleted with
        pruning, orphans without)."""
        ids = {str(obj[self.id_field]) for obj in self.live_for.values() if obj is not None}
        return ids | {str(obj[self.id_field]) for objs in self.duplicates.values() for obj in objs}


@dataclass(frozen=True)
class Repair:
    """How duplicates of one kind are told to be the project's own, and which one to keep."""

    owned: Callable[[dict[str, Any]], bool]
    users: Counter[str] = field(default_factory=Counter)  # live id -> live assistants attaching it


def repair(kind: str, project: ProjectSpec, assistants: list[dict[str, Any]]) -> Repair | None:
    """The duplicate rule of `kind` for this project (None: duplicates stay an error)."""
    if kind == "Assistant":
        return Repair(lambda o: project.owner_tag in (o.get("tags") or []))
    prefix = {"Tool": project.prune.tool_name_prefix, "McpServer": project.prune.mcp_server_name_prefix}.get(kind)
    if not prefix:
        return None
    users: Counter[str] = Counter()
    for a in assistants:
        if kind == "Tool":
            ids = list(a.get("tool_ids") or [])
        else:
            ids = [m.get("id") for m in a.get("mcp_servers") or [] if isinstance(m, dict)]
        users.update(str(i) for i in set(ids))
    name_field = KINDS[kind].name_field
    return Repair(lambda o: str(o.get(name_field, "")).startswith(prefix), users)


def index_by_name(objects: Iterable[dict[str, Any]], name_field: str) -> dict[str, list[dict[str, Any]]]:
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for obj in objects:
        by_name[str(obj.get(name_field, ""))].append(obj)
    return by_name


def _ids(objs: list[dict[str, Any]], id_field: str = "id") -> str:
    return ", ".join(str(o.get(id_field)) for o in objs)


def match(kind: str, desired: list[DesiredResource], live: list[dict[str, Any]],
          rule: Repair | None = None) -> Matches:
    """Match every desired resource of one kind to at most one live object of that kind."""
    name_field, id_field = KINDS[kind].name_field, KINDS[kind].id_field
    by_name = index_by_name(live, name_field)
    by_id = {str(obj.get(id_field)): obj for obj in live}
    result = Matches(id_field=id_field)
    claimed: dict[str, str] = {}  # live id -> address that claimed it
    for res in desired:
        meta = res.metadata
        found: dict[str, Any] | None = None
        if meta.id:
            found = by_id.get(meta.id)
            if found is None:
                result.errors.append(f"{res.address}: metadata.id {meta.id} matches no live {kind}")
                continue
        else:
            same = by_name.get(meta.name, [])
            if len(same) > 1 and rule is not None and all(rule.owned(o) for o in same):
                users = rule.users
                # Kept: the one most assistants attach, else the oldest, else the smallest id.
                keeper = sorted(same, key=lambda o: (-users[str(o.get(id_field))], str(o.get("created_at", "")),
                                                     str(o.get(id_field))))[0]
                others = [o for o in same if o is not keeper]
                if not any(PROTECT_TAG in (o.get("tags") or []) for o in others):
                    result.duplicates[res.address] = others
                    same = [keeper]
            if len(same) > 1:
                result.errors.append(
                    f"{res.address}: {len(same)} live {kind} objects are named {meta.name!r} "
                    f"(ids {_ids(same, id_field)}); pin one with metadata.id"
                )
                continue
            if same:
                found = same[0]
            else:
                old = [obj for prev in meta.previous_names for obj in by_name.get(prev, [])]
                if len(old) > 1:
                    result.errors.append(
                        f"{res.address}: several live {kind} objects match previous_names "
                        f"(ids {_ids(old, id_field)}); pin one with metadata.id"
                    )
                    continue
                found = old[0] if old else None
        if found is not None:
            live_id = str(found.get(id_field))
            if live_id in claimed:
                result.errors.append(
                    f"{res.address} and {claimed[live_id]} both match live {kind} {live_id}"
                )
                continue
            claimed[live_id] = res.address
        result.live_for[res.address] = found
    return result
