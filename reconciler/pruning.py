"""The deletion rules of manifest-format.md, as a part of the planner (mixed into it).

Nothing is deleted unless pruning was asked for. Assistants are deleted only when they carry the
owner tag and no manifest manages them, never when protected (the plan keeps them and says why). Tools and MCP
servers are deleted only when their name carries the project's reserved prefix and no assistant that
stays, in its main version or in any named version, still uses them; then the plan keeps them and
says why. A delete waits for the changes that stop each user from using what it deletes.
"""

from __future__ import annotations

from typing import Any

from reconciler import identity
from reconciler.api import resources as api
from reconciler.model import ADDRESS_PREFIX, NAME_FIELD, PROTECT_TAG, DesiredResource, DesiredState, LiveState
from reconciler.plan import DELETE, NOOP, Ref, ResourceChange


class Pruning:
    """Pruning methods; the planner state they use is declared here and set by the planner."""

    desired: DesiredState
    live: LiveState
    matches: dict[str, identity.Matches]
    changes: list[ResourceChange]
    warnings: list[str]
    errors: list[str]
    ids: dict[str, dict[str, str | Ref]]
    _managed: dict[str, DesiredResource]
    _pruned_address: dict[str, str]

    def _add(self, change: ResourceChange) -> ResourceChange:
        raise NotImplementedError  # the planner's

    def _prune_address(self, kind: str, name: str, obj_id: str, objects: list[dict[str, Any]]) -> str:
        """`assistant.NAME`, or `assistant.NAME#ID` when that name is taken (a duplicate live name,
        or a managed resource of that name): two changes must never share an address."""
        address = f"{ADDRESS_PREFIX[kind]}.{name}"
        name_field = NAME_FIELD[kind]
        taken = {c.address for c in self.changes}
        if address in taken or sum(1 for o in objects if str(o.get(name_field)) == name) > 1:
            address = f"{address}#{obj_id}"
        return address

    def _prune(self) -> None:
        policy = self.desired.project.prune
        owner = self.desired.project.owner_tag
        kept_assistants = {a["id"]: a for a in self.live.assistants}
        if "Assistant" in policy.kinds:
            managed = self.matches["Assistant"].matched_ids()
            for obj in self.live.assistants:
                tags = obj.get("tags") or []
                if obj["id"] in managed or owner not in tags:
                    continue
                address = self._prune_address("Assistant", str(obj.get("name")), str(obj["id"]), self.live.assistants)
                if PROTECT_TAG in tags:
                    # Refused, and said why; the rest of the plan goes ahead (one orphaned protected
                    # assistant must not block every prune of the project).
                    reason = f"not deleted: protected (tag {PROTECT_TAG!r}); remove the tag on purpose to delete it"
                    self.warnings.append(f"{address}: {reason}")
                    self._add(ResourceChange(address, "Assistant", str(obj.get("name")), [NOOP], id=str(obj["id"]),
                                             reason=reason))
                    continue
                del kept_assistants[obj["id"]]
                self._pruned_address[str(obj["id"])] = address
                self._add(ResourceChange(address, "Assistant", str(obj.get("name")), [DELETE], id=str(obj["id"]),
                                         operations=[api.op_delete_assistant(str(obj["id"]))]))
        for kind, objects, prefix, name_field in (
            ("Tool", self.live.tools, policy.tool_name_prefix, "display_name"),
            ("McpServer", self.live.mcp_servers, policy.mcp_server_name_prefix, "name"),
        ):
            if kind not in policy.kinds or not prefix:
                continue
            managed = self.matches[kind].matched_ids()
            for obj in objects:
                name = str(obj.get(name_field))
                if obj["id"] in managed or not name.startswith(prefix):
                    continue
                address = self._prune_address(kind, name, str(obj["id"]), objects)
                users, detaching = self._users(kind, str(obj["id"]), kept_assistants)
                if users:
                    reason = f"not deleted: still used by {', '.join(sorted(users))}"
                    self.warnings.append(f"{address}: {reason}")
                    self._add(ResourceChange(address, kind, name, [NOOP], id=str(obj["id"]), reason=reason))
                    continue
                delete = api.op_delete_tool if kind == "Tool" else api.op_delete_mcp_server
                self._add(ResourceChange(address, kind, name, [DELETE], id=str(obj["id"]),
                                         operations=[delete(str(obj["id"]))], depends_on=detaching))

    @staticmethod
    def _live_refs(kind: str, obj: dict[str, Any]) -> set[str]:
        if kind == "Tool":
            return {str(t) for t in obj.get("tool_ids") or []}
        return {str(e.get("id")) for e in obj.get("mcp_servers") or [] if isinstance(e, dict)}

    def _spec_refs(self, kind: str, spec: dict[str, Any]) -> set[str] | None:
        key = "shared_tools" if kind == "Tool" else "mcp_servers"
        if spec.get(key) is None:
            return None  # undeclared: the live attachments stay
        names = spec[key] if kind == "Tool" else [e["server"] for e in spec[key]]
        return {str(self.ids[kind].get(n)) for n in names}

    def _refs_before(self, kind: str, obj: dict[str, Any]) -> set[str]:
        """Every id the live assistant uses now: its main version and every named version read."""
        refs = self._live_refs(kind, obj)
        for version in self.live.versions.get(str(obj["id"]), []):
            refs |= self._live_refs(kind, version)
        return refs

    def _refs_after(self, kind: str, obj: dict[str, Any]) -> set[str]:
        """Every id a kept assistant uses once the plan is applied, named versions included."""
        res = self._managed.get(str(obj["id"]))
        if res is None:
            return self._refs_before(kind, obj)
        main = self._spec_refs(kind, res.spec)
        refs = main if main is not None else self._live_refs(kind, obj)
        if res.versions is None:
            for version in self.live.versions.get(str(obj["id"]), []):
                refs |= self._live_refs(kind, version)
            return refs
        live_versions = {str(v.get("version_name")): v for v in self.live.versions.get(str(obj["id"]), [])
                         if v.get("version_id") != obj.get("version_id")}
        for declared in res.versions:
            own = self._spec_refs(kind, res.version_spec(declared))
            if own is None:
                # Undeclared: the version keeps what it has live, or, when it is yet to be created
                # as a copy of main, what main will have.
                found = live_versions.get(declared.name)
                own = self._live_refs(kind, found) if found is not None else refs
            refs |= own
        return refs

    def _users(self, kind: str, obj_id: str, kept: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
        """Assistants that still use obj_id after the plan, and the changes that detach it first."""
        users: list[str] = []
        detaching: list[str] = []
        for a in self.live.assistants:
            aid = str(a["id"])
            if aid not in kept:  # deleted by this plan: its delete must run first
                if obj_id in self._refs_before(kind, a):
                    detaching.append(self._pruned_address[aid])
            elif obj_id in self._refs_after(kind, a):
                users.append(f"assistant {a.get('name')} ({aid})")
            elif obj_id in self._refs_before(kind, a):
                # The assistant, a version or the canary stops using it: all of those go first.
                address = self._address_of_assistant(aid, a)
                detaching += [c.address for c in self.changes
                              if c.address == address or c.address.startswith(address + ".")]
        # An assistant this plan creates uses what its manifest names, though nothing live shows it yet.
        matches = self.matches["Assistant"]
        for res in self.desired.of_kind("Assistant"):
            if res.address not in matches.live_for or matches.live_for[res.address] is not None:
                continue
            refs = self._spec_refs(kind, res.spec) or set()
            for version in res.versions or ():
                refs |= self._spec_refs(kind, res.version_spec(version)) or set()
            if obj_id in refs:
                users.append(f"assistant {res.name} (to be created)")
        return users, detaching

    def _address_of_assistant(self, aid: str, obj: dict[str, Any]) -> str:
        for address, matched in self.matches["Assistant"].live_for.items():
            if matched is not None and str(matched["id"]) == aid:
                return address
        return f"assistant.{obj.get('name')}"

