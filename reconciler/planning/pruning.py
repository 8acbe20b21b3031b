"""The deletion rules of manifest-format.md: plain functions over the planner's Context.

Nothing is deleted unless pruning was asked for. Assistants are deleted only when they carry the
owner tag and no manifest manages them, never when protected (the plan keeps them and says why). Tools and MCP
servers are deleted only when their name carries the project's reserved prefix and no assistant that
stays, in its main version or in any named version, still uses them; then the plan keeps them and
says why. A delete waits for the changes that stop each user from using what it deletes.
"""

from __future__ import annotations

from typing import Any

from reconciler.api import endpoints as api
from reconciler.kinds import KINDS, PROTECT_TAG
from reconciler.model import DesiredResource
from reconciler.planning import forms, whole, writes
from reconciler.planning.context import Context
from reconciler.planning.plan import DELETE, NOOP, Orphan, ResourceChange


def _prune_address(ctx: Context, kind: str, name: str, obj_id: str, objects: list[dict[str, Any]]) -> str:
    """`assistant.NAME`, or `assistant.NAME#ID` when that name is taken (a duplicate live name,
    or a managed resource of that name): two changes must never share an address."""
    address = f"{KINDS[kind].address_prefix}.{name}"
    name_field = KINDS[kind].name_field
    taken = {c.address for c in ctx.changes}
    if address in taken or sum(1 for o in objects if str(o.get(name_field)) == name) > 1:
        address = f"{address}#{obj_id}"
    return address

def prune(ctx: Context) -> None:
    """Plan the deletes `--prune` asks for (the module docstring's rules)."""
    policy = ctx.desired.project.prune
    kept_assistants = {a["id"]: a for a in ctx.live.assistants}
    if "Assistant" in policy.kinds:
        managed = ctx.matches["Assistant"].matched_ids()
        for obj in ctx.live.assistants:
            tags = obj.get("tags") or []
            if obj["id"] in managed or not ctx.desired.project.owner_tags & set(tags):
                continue
            address = _prune_address(ctx, "Assistant", str(obj.get("name")), str(obj["id"]), ctx.live.assistants)
            if PROTECT_TAG in tags:
                # Refused, and said why; the rest of the plan goes ahead (one orphaned protected
                # assistant must not block every prune of the project).
                reason = f"not deleted: protected (tag {PROTECT_TAG!r}); remove the tag on purpose to delete it"
                ctx.warnings.append(f"{address}: {reason}")
                ctx.add(ResourceChange(address, "Assistant", str(obj.get("name")), [NOOP], id=str(obj["id"]),
                                         reason=reason))
                continue
            del kept_assistants[obj["id"]]
            ctx.pruned_address[str(obj["id"])] = address
            ctx.add(_destroy(ctx, "Assistant", obj, address))
    for kind, objects, prefix in (
        ("Tool", ctx.live.tools, policy.tool_name_prefix),
        ("McpServer", ctx.live.mcp_servers, policy.mcp_server_name_prefix),
    ):
        name_field = KINDS[kind].name_field
        if kind not in policy.kinds or not prefix:
            continue
        managed = ctx.matches[kind].matched_ids()
        for obj in objects:
            name = str(obj.get(name_field))
            if obj["id"] in managed or not name.startswith(prefix):
                continue
            address = _prune_address(ctx, kind, name, str(obj["id"]), objects)
            users, detaching = _users(ctx, kind, str(obj["id"]), kept_assistants)
            if users:
                reason = f"not deleted: still used by {', '.join(sorted(users))}"
                ctx.warnings.append(f"{address}: {reason}")
                ctx.add(ResourceChange(address, kind, name, [NOOP], id=str(obj["id"]), reason=reason))
                continue
            ctx.add(_destroy(ctx, kind, obj, address, depends_on=detaching))
    _prune_tests(ctx)


_DELETE = {"Assistant": writes.op_delete_assistant, "Tool": writes.op_delete_tool,
           "McpServer": writes.op_delete_mcp_server}


def _destroy(ctx: Context, kind: str, obj: dict[str, Any], address: str, *, reason: str | None = None,
             depends_on: list[str] | None = None) -> ResourceChange:
    """The delete of the live `obj`, showing what it takes away field by field: an assistant in
    manifest form, as a version's destroy (shared tools and MCP servers by name: their ids are no
    field of the manifest's), a tool as its spec."""
    shown = forms.manifest_form(ctx, obj) if kind == "Assistant" else api.tool_spec(obj) if kind == "Tool" else obj
    name_field = KINDS[kind].name_field
    return ResourceChange(address, kind, str(obj.get(name_field)), [DELETE], id=str(obj["id"]),
                          changes=whole.removal_changes(kind, shown, name_field),
                          operations=[_DELETE[kind](str(obj["id"]))], reason=reason, depends_on=depends_on or [])


def duplicates(ctx: Context) -> None:
    """The duplicates of the project's own making (identity.py): with pruning, deleted after the
    updates of the assistants that attach them (which move to the one kept), each shown with what it
    holds; without, kept and listed as orphans. Overlapping runs leave such copies, but so does a copy
    made in the portal, which keeps the name and the owner tag: only the reviewer can tell which."""
    for kind in _DELETE:
        pruning = ctx.prune and kind in ctx.desired.project.prune.kinds
        for address, others in ctx.matches[kind].duplicates.items():
            kept = ctx.matches[kind].live_for[address]
            kept_id = str(kept["id"]) if kept is not None else "?"
            for obj in others:
                obj_id, name = str(obj["id"]), str(obj.get(KINDS[kind].name_field))
                why = (f"a second live {kind} named {name!r} of this project's making besides {kept_id}, "
                       "which the plan manages")
                if not pruning:
                    then = ("`--prune` deletes it" if kind in ctx.desired.project.prune.kinds else
                            f"`--prune` deletes it once the Project's prune.kinds lists {kind}")
                    ctx.orphans.append(Orphan(f"{address}#{obj_id}", kind, name, obj_id, f"{why}: kept; {then}"))
                    continue
                reason = f"{why} (left by overlapping runs, or a copy): the plan keeps {kept_id} and deletes this one"
                ctx.warnings.append(f"{address}#{obj_id}: {reason}")
                users = [ctx.managed[a["id"]].address for a in ctx.live.assistants
                         if kind != "Assistant" and a["id"] in ctx.managed and obj_id in _live_refs(kind, a)]
                ctx.add(_destroy(ctx, kind, obj, f"{address}#{obj_id}", reason=reason, depends_on=users))


def _prune_tests(ctx: Context) -> None:
    """Tests carry no tags: the project's reserved name prefix proves which ones it owns. Nothing uses
    a test (a gate runs a suite by name, and a suite's tests are declared), so none is kept for a user."""
    policy = ctx.desired.project.prune
    kind = KINDS["AssistantTest"]
    prefix = policy.test_name_prefix
    if kind.kind not in policy.kinds or not prefix:
        return
    managed = ctx.matches[kind.kind].matched_ids()
    for obj in ctx.live.tests:
        name, test_id = str(obj.get(kind.name_field)), str(obj.get(kind.id_field))
        if test_id in managed or not name.startswith(prefix):
            continue
        address = _prune_address(ctx, kind.kind, name, test_id, ctx.live.tests)
        ctx.add(ResourceChange(address, kind.kind, name, [DELETE], id=test_id,
                               operations=[writes.op_delete_test(test_id)]))

def _live_refs(kind: str, obj: dict[str, Any]) -> set[str]:
    if kind == "Tool":
        return {str(t) for t in obj.get("tool_ids") or []}
    return {str(e.get("id")) for e in obj.get("mcp_servers") or [] if isinstance(e, dict)}

def _spec_refs(ctx: Context, kind: str, res: DesiredResource, spec: dict[str, Any]) -> tuple[set[str], bool]:
    """The ids `spec` attaches, and whether the manifest ignores the key (`ignore_changes`), where
    what is attached live stays too. A key left out is desired at its default, none: the update
    clears it (forms.update_body sends null), so what it attached is detached before the delete."""
    key = "shared_tools" if kind == "Tool" else "mcp_servers"
    declared = spec.get(key) or []
    names = declared if kind == "Tool" else [e["server"] for e in declared]
    return {str(ctx.ids[kind].get(n)) for n in names}, key in res.metadata.ignore_changes

def _refs_before(ctx: Context, kind: str, obj: dict[str, Any]) -> set[str]:
    """Every id the live assistant uses now: its main version and every named version read."""
    refs = _live_refs(kind, obj)
    for version in ctx.live.versions.get(str(obj["id"]), []):
        refs |= _live_refs(kind, version)
    return refs

def _refs_after(ctx: Context, kind: str, obj: dict[str, Any]) -> set[str]:
    """Every id a kept assistant uses once the plan is applied, named versions included."""
    res = ctx.managed.get(str(obj["id"]))
    if res is None:
        return _refs_before(ctx, kind, obj)
    refs, ignored = _spec_refs(ctx, kind, res, res.spec)
    if ignored:
        refs |= _live_refs(kind, obj)
    # The versions listing holds main too (docs/api-assumptions.md), whose refs are `refs` now.
    named = [v for v in ctx.live.versions.get(str(obj["id"]), []) if v.get("version_id") != obj.get("version_id")]
    if res.versions is None:  # undeclared: the named versions stay as they are live
        for version in named:
            refs |= _live_refs(kind, version)
        return refs
    live_versions = {str(v.get("version_name")): v for v in named}
    for declared in res.versions:
        own, ignored = _spec_refs(ctx, kind, res, res.version_spec(declared))
        if ignored:
            # The version keeps what it has live, or, when it is yet to be created, gets what main
            # has live (versions._main_at_ignored), which `refs` holds.
            found = live_versions.get(declared.name)
            own |= _live_refs(kind, found) if found is not None else refs
        refs |= own
    return refs

def _users(ctx: Context, kind: str, obj_id: str, kept: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Assistants that still use obj_id after the plan, and the changes that detach it first."""
    users: list[str] = []
    detaching: list[str] = []
    for a in ctx.live.assistants:
        aid = str(a["id"])
        if aid not in kept:  # deleted by this plan: its delete must run first
            if obj_id in _refs_before(ctx, kind, a):
                detaching.append(ctx.pruned_address[aid])
        elif obj_id in _refs_after(ctx, kind, a):
            users.append(f"assistant {a.get('name')} ({aid})")
        elif obj_id in _refs_before(ctx, kind, a):
            # The assistant, a version or the canary stops using it: all of those go first.
            address = _address_of_assistant(ctx, aid, a)
            detaching += [c.address for c in ctx.changes
                          if c.address == address or c.address.startswith(address + ".")]
    # An assistant this plan creates uses what its manifest names, though nothing live shows it yet.
    matches = ctx.matches["Assistant"]
    for res in ctx.desired.of_kind("Assistant"):
        if res.address not in matches.live_for or matches.live_for[res.address] is not None:
            continue
        refs = _spec_refs(ctx, kind, res, res.spec)[0]
        for version in res.versions or ():
            refs |= _spec_refs(ctx, kind, res, res.version_spec(version))[0]
        if obj_id in refs:
            users.append(f"assistant {res.name} (to be created)")
    return users, detaching

def _address_of_assistant(ctx: Context, aid: str, obj: dict[str, Any]) -> str:
    for address, matched in ctx.matches["Assistant"].live_for.items():
        if matched is not None and str(matched["id"]) == aid:
            return address
    return f"assistant.{obj.get('name')}"

