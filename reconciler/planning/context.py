"""The state one planning run shares between its parts (the planner and the deletion rules): the
desired and live state, how live objects were matched to manifests, the id of every name, and the
changes, warnings and errors found so far. No I/O."""

from __future__ import annotations

from typing import Any

from reconciler.kinds import KINDS
from reconciler.model import DesiredResource, DesiredState, LiveState
from reconciler.planning import identity
from reconciler.planning.plan import Orphan, Ref, ResourceChange


def refs_in(value: Any) -> list[str]:
    """Addresses of every Ref inside a body: what must be created before it can be sent."""
    if isinstance(value, Ref):
        return [value.address]
    if isinstance(value, dict):
        return [a for v in value.values() for a in refs_in(v)]
    if isinstance(value, list):
        return [a for v in value for a in refs_in(v)]
    return []


class Context:
    """One planning run's shared state. `managed` maps a live assistant id to the manifest that manages
    it; `ids` maps a Tool/McpServer name to its live id (or a Ref when the plan creates it); `names`
    maps a live id back to the name to show; `pruned_address` maps the id of an assistant the plan
    deletes to its address; `orphans` are what the plan keeps though no manifest declares it."""

    def __init__(self, desired: DesiredState, live: LiveState, *, prune: bool = False) -> None:
        self.desired = desired
        self.live = live
        self.prune = prune  # delete what is owned and undeclared (otherwise it is reported as an orphan)
        self.orphans: list[Orphan] = []
        self.errors: list[str] = []
        # error -> (address, `shared_tools`, `mcp_servers` or a test's `assistant`, name): a reference
        # that names nothing, for the error to be led by where the manifest writes it (planner.finish).
        self.reference_errors: dict[str, tuple[str, str, str]] = {}
        self.changes: list[ResourceChange] = []
        self.pruned_address: dict[str, str] = {}  # live id of an assistant the plan deletes -> its address
        self.warnings: list[str] = []
        self.matches = {
            kind: identity.match(kind, desired.of_kind(kind), objects,
                                 identity.repair(kind, desired.project, live.assistants))
            for kind, objects in (
                ("Tool", live.tools),
                ("McpServer", live.mcp_servers),
                ("Assistant", live.assistants),
                ("AssistantTest", live.tests),
            )
        }
        for m in self.matches.values():
            self.errors.extend(m.errors)
        # live assistant id -> the manifest that manages it
        self.managed: dict[str, DesiredResource] = {
            str(obj["id"]): res for res in desired.of_kind("Assistant")
            if (obj := self.matches["Assistant"].live_for.get(res.address)) is not None
        }
        # name -> id (or Ref when the plan creates it), for references by name.
        self.ids: dict[str, dict[str, str | Ref]] = {"Tool": {}, "McpServer": {}}
        self.names: dict[str, dict[str, str]] = {"Tool": {}, "McpServer": {}}  # live id -> name to show
        self.ambiguous: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for kind, objects in (("Tool", live.tools), ("McpServer", live.mcp_servers)):
            by_name = identity.index_by_name(objects, KINDS[kind].name_field)
            for name, objs in by_name.items():
                if len(objs) == 1:
                    self.ids[kind][name] = str(objs[0]["id"])
                    # Only an unambiguous name stands for an id; duplicates show as raw ids (unless a
                    # pin below names one), so an attachment to the wrong duplicate shows as a change.
                    self.names[kind][str(objs[0]["id"])] = name
            self.ambiguous[kind] = {n: objs for n, objs in by_name.items() if len(objs) > 1}
            for res in desired.of_kind(kind):
                matched = self.matches[kind].live_for.get(res.address)
                if matched is None:
                    self.ids[kind][res.name] = Ref(res.address)
                else:
                    self.ids[kind][res.name] = str(matched["id"])
                    self.names[kind][str(matched["id"])] = res.name

    def ref(self, kind: str, name: str, user: str) -> str | Ref:
        """The id (or Ref) that a reference by name in `user` stands for; an error when there is none."""
        found = self.ids[kind].get(name)
        if found is not None:
            return found
        label = "shared_tools" if kind == "Tool" else "mcp_servers[].server"
        dupes = self.ambiguous[kind].get(name)
        if dupes:
            ids = ", ".join(str(o["id"]) for o in dupes)
            error = f"{user}: {label} {name!r} matches {len(dupes)} live {kind} objects ({ids})"
        else:
            error = f"{user}: {label} names {name!r}, which is neither in the manifests nor live"
        self.errors.append(error)
        self.reference_errors[error] = (user, "shared_tools" if kind == "Tool" else "mcp_servers", name)
        return Ref(f"{KINDS[kind].address_prefix}.{name}")

    def add(self, change: ResourceChange) -> ResourceChange:
        """Record a change, depending on whatever its operations reference."""
        for op in change.operations:
            for address in [*refs_in(op.body), *(r.address for r in op.path_refs.values())]:
                if address not in change.depends_on and address != change.address:
                    change.depends_on.append(address)
        self.changes.append(change)
        return change
