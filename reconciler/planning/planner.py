"""desired + live -> Plan. Pure: no I/O, deterministic, and the only place that decides what changes.

Assistants are compared in manifest form: live `tool_ids` and `mcp_servers[].id` are turned back into
names, so the plan shows `shared_tools: [order-lookup]` rather than ids. Bodies sent to the API use
ids, or a Ref for a resource the same plan creates. Apply order comes from each change's
`depends_on`, which the planner states explicitly for deletes and derives from Refs for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.api import endpoints as api
from reconciler.errors import PlanError
from reconciler.gcpause import paused_gc
from reconciler.kinds import DEFAULT_OWNER_TAG, KINDS, PROTECT_TAG, SERVER_FIELDS, TOOL_PAYLOAD_KEYS
from reconciler.model import (
    DesiredResource,
    DesiredState,
    LiveState,
    SourcePos,
)
from reconciler.planning import (
    accounts,
    assistant_tests,
    defaults,
    diff,
    forms,
    pruning,
    rollout,
    versions,
    whole,
    writes,
)
from reconciler.planning.context import Context
from reconciler.planning.plan import (
    ADOPT,
    CREATE,
    DELETE,
    NOOP,
    UPDATE,
    FieldChange,
    Operation,
    Orphan,
    Plan,
    Ref,
    ResourceChange,
)
from reconciler.planning.targets import select, uses

# The form of an owner tag: the default's prefix (`managed-by:`), which environments' and most
# projects' own tags keep; a live tag of that form that is not this project's is another owner's.
OWNER_TAG_FORM = DEFAULT_OWNER_TAG.partition(":")[0] + ":"


def plan(
    desired: DesiredState, live: LiveState, *, prune: bool = False, targets: Sequence[str] = ()
) -> Plan:
    """Compute the plan. Raises PlanError listing every reason the plan cannot be carried out."""
    with paused_gc():  # canonical forms and changes make no cycles; a pass would walk both states
        return Planner(desired, live, prune=prune).finish(targets)


class Planner:
    """`plan()` in steps, so that a caller reading live state can plan each assistant as soon as its
    versions and canary have arrived, while other reads are still in flight. Whatever the order of
    the steps, `finish()` returns the same plan as `plan(desired, live)`: changes are assembled in
    manifest order and errors sorted.

    Construct it once the listings (assistants, tools, MCP servers) are in `live`; call
    `assistant(res)` for any managed assistant whose reads are complete; then `finish()`.
    """

    def __init__(self, desired: DesiredState, live: LiveState, *, prune: bool = False) -> None:
        accounts.check(desired, live)  # the wrong account for this environment: stop before planning
        self._impl = _Planner(desired, live, prune or desired.project.prune.enabled)
        self._impl.shared()

    def assistant(self, res: DesiredResource) -> None:
        """Plan one assistant (with its versions and canary): its live reads must be complete."""
        self._impl.assistant(res)

    def managed(self, assistant_id: str) -> DesiredResource | None:
        """The manifest that manages this live assistant, if any."""
        return self._impl.ctx.managed.get(assistant_id)

    def finish(self, targets: Sequence[str] = ()) -> Plan:
        """Plan what is left, prune, and return the plan (or raise PlanError)."""
        impl = self._impl
        result = impl.build()
        if impl.ctx.errors:
            where = _sources(impl.desired)
            by_address = {res.address: res for res in impl.desired.resources}
            refs = impl.ctx.reference_errors
            lines = [text for _, text in sorted(_located(error, where, by_address, refs.get(error))
                                                for error in impl.ctx.errors)]
            raise PlanError("the plan cannot be made:\n  " + "\n  ".join(lines))
        return select(result, targets, uses(impl.desired)) if targets else result


def _own_payload(address: str, spec: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """A live tool's spec with the payloads of other types than its own left out, with a warning: a
    manifest can hold no such payload (manifest checks) and no update can clear one (the API takes no
    null for a payload), so comparing it would make a change no apply could carry out. The emulator
    drops them on a change of type; an API that kept them would show here (docs/api-assumptions.md)."""
    kind = spec.get("type")
    foreign = [k for k in TOOL_PAYLOAD_KEYS if k != kind and k in spec] if kind in TOOL_PAYLOAD_KEYS else []
    if not foreign:
        return spec
    warnings.append(f"{address}: the live tool, of type {kind!r}, also holds a {', '.join(map(repr, foreign))} "
                    f"payload; no update can clear it (the API takes no null for a payload), so it is not "
                    f"compared and stays; to be rid of it, delete the tool and create it again")
    return {k: v for k, v in spec.items() if k not in foreign}


def _sources(desired: DesiredState) -> dict[str, SourcePos]:
    """address -> where the manifests declare it, versions by their own entries."""
    where: dict[str, SourcePos] = {}
    for res in desired.resources:
        if res.source is not None:
            where[res.address] = res.source
        for version in res.versions or ():
            if version.source is not None:
                where[f"{res.address}.version.{version.name}"] = version.source
    return where


def _located(error: str, where: dict[str, SourcePos], desired: dict[str, DesiredResource],
             reference: tuple[str, str, str] | None = None) -> tuple[tuple[str, int, int], str]:
    """A planning error (`ADDRESS: message`) led by where its resource is declared, as manifest errors
    are (cli-contract: FILE:LINE:COL), with a key that sorts it by file and line: for a reference that
    names nothing, where the manifest writes it; else the nearest declared address the error's
    address lies in (a canary's is its assistant's). An error about nothing declared stays as it is,
    and sorts first."""
    pos = None
    if reference is not None:
        address, key, name = reference
        res = desired.get(address)
        pos = res.reference_source(key, name) if res is not None else None
    if pos is not None:
        return (pos.file, pos.line, pos.col), f"{pos}: {error}"
    address = error.split(": ", 1)[0].split("#", 1)[0]
    while address:
        pos = where.get(address)
        if pos is not None:
            return (pos.file, pos.line, pos.col), f"{pos}: {error}"
        address = address.rpartition(".")[0] if address.count(".") > 1 else ""
    return ("", 0, 0), error


def _mcp_update_body(res: DesiredResource) -> dict[str, Any]:
    """The whole desired MCP server, with null for each nullable field the manifest leaves out. Whether
    the PUT replaces the object or only the fields sent is (U); the emulator keeps what is not sent,
    as the SDK's all-optional UpdateMCPServerRequest suggests. Either way an explicit null (which that
    request accepts for `api_key_ref` and `allowed_tools`) clears the field, as the plan shows it."""
    body = {KINDS["McpServer"].name_field: res.name, **defaults.fill_defaults("McpServer", res.spec)}
    for key in sorted(defaults.nullable("UpdateMCPServerRequest") - body.keys()):
        body[key] = None
    return body


class _Planner:
    def __init__(self, desired: DesiredState, live: LiveState, prune: bool) -> None:
        self.ctx = Context(desired, live, prune=prune)
        self.desired = desired
        self._chunks: dict[str, list[ResourceChange]] = {}  # assistant address -> its changes

    # --- shared tools and MCP servers -----------------------------------------------------------------

    def _simple(self, kind: str) -> None:
        name_field = KINDS[kind].name_field
        for res in self.desired.of_kind(kind):
            if res.address not in self.ctx.matches[kind].live_for:
                continue  # matching failed (a pin to nothing, ambiguous names): already an error
            obj = self.ctx.matches[kind].live_for[res.address]
            want = {name_field: res.name, **res.spec}
            if obj is None:
                create = writes.op_create_tool if kind == "Tool" else writes.op_create_mcp_server
                body = forms.strip_nulls({name_field: res.name, **res.spec})
                self.ctx.add(ResourceChange(res.address, kind, res.name, [CREATE], changes=diff.creation_changes(want),
                                         operations=[create(body, res.name)]))
                continue
            server = SERVER_FIELDS.get(kind, frozenset())
            have = (_own_payload(res.address, api.tool_spec(obj), self.ctx.warnings) if kind == "Tool"
                    else {k: v for k, v in obj.items() if k not in server})
            have[name_field] = obj.get(name_field)
            changes = forms.compare(kind, res, have, want)
            ops: list[Operation] = []
            if changes and kind == "Tool":
                body = forms.update_body(self.ctx, kind, res, have, want, changes, res.address)
                ops = [writes.op_update_tool(str(obj["id"]), forms.tool_update_body(body, res.spec.get("type")))]
            elif changes:
                ops = [writes.op_update_mcp_server(str(obj["id"]), _mcp_update_body(res))]
            self.ctx.add(ResourceChange(res.address, kind, res.name, [UPDATE] if changes else [NOOP],
                                     id=str(obj["id"]), changes=changes, operations=ops))

    # --- assistants, versions, canary -------------------------------------------------------------------

    def _desired_tags(self, res: DesiredResource, live_tags: list[str] | None) -> list[str]:
        """The owner tag goes on what apply creates and stays where it is; it is not forced onto an
        adopted assistant, so exported manifests plan clean, and prune, which deletes only what
        carries the tag, never deletes an assistant that reconciler did not create. The protect tag
        goes on with `protect: true` and is never removed by a plan (issue #11): a manifest that
        drops `protect` leaves it on, with a warning saying how to lift it by hand."""
        owner = self.desired.project.owner_tag
        owned = live_tags is None or bool(self.desired.project.owner_tags & set(live_tags))
        protected_live = PROTECT_TAG in (live_tags or ())
        if protected_live and not res.metadata.protect:
            self.ctx.warnings.append(
                f"{res.address}: protected live (tag {PROTECT_TAG!r}) but its manifest does not say "
                f"`protect: true`: a plan never removes protection; to lift it, remove the tag from the "
                f"assistant by hand (in the portal, or through the API), then plan")
        system = ({owner} if owned else set()) | ({PROTECT_TAG} if res.metadata.protect or protected_live else set())
        declared = set(res.spec.get("tags") or ())
        if not owned:
            # Not ours (an adoption, confirmed or not): any live tag may be another project's owner
            # tag, and a plan never disowns anything, so none is removed.
            return sorted(declared | set(live_tags or ()) | system)
        # Ours: the whole desired object, so undeclared tags are desired empty, like any other field. A
        # previous owner tag is replaced by the current one (ownership moves in one apply).
        return sorted(declared | system)

    def shared(self) -> None:
        self._simple("Tool")
        self._simple("McpServer")

    def assistant(self, res: DesiredResource) -> None:
        """Plan one assistant into its own chunk (assembled in manifest order by `build`)."""
        address = res.address  # a property that builds its string each time: once per assistant
        if address in self._chunks:
            return
        start = len(self.ctx.changes)
        self._assistant(res, address)
        self._chunks[address] = self.ctx.changes[start:]
        del self.ctx.changes[start:]

    def _assistant(self, res: DesiredResource, address: str) -> None:
        matches = self.ctx.matches["Assistant"]
        if address not in matches.live_for:
            return  # matching failed: already an error
        obj = matches.live_for[address]
        entry = res.main_entry()
        # With `main_version`, main is that version: the spec with its overlay, under its name.
        main = {k: v for k, v in (res.spec if entry is None else res.version_spec(entry)).items()}
        main["name"] = res.name
        if entry is not None:
            main["version_name"] = entry.name
        main["tags"] = self._desired_tags(res, obj.get("tags") if obj else None)
        want = main
        shared = whole.Shared()  # main's canonical forms, reused by its versions
        if obj is None:
            spec = {k: v for k, v in main.items() if k != "version_name"}
            body = forms.strip_nulls(forms.api_body(self.ctx, spec, address))
            ops = [writes.op_create_assistant(body, res.name)]
            if entry is not None:  # create takes no version_name: name the new main right after
                ops.append(writes.op_update_assistant(Ref(address), {"version_name": entry.name}))
            self.ctx.add(ResourceChange(address, "Assistant", res.name, [CREATE],
                                     changes=diff.creation_changes(want), operations=ops))
            assistant: str | Ref = Ref(address)
        elif rollout.promoting(res, obj):
            # The live main is about to become a named version: the version being promoted is
            # brought to the desired state instead (below), and the promotion makes it main.
            self.ctx.add(ResourceChange(address, "Assistant", res.name, [NOOP], id=str(obj["id"]),
                                        reason=f"main becomes version {res.main_version} by promotion"))
            assistant = str(obj["id"])
        else:
            have = forms.manifest_form(self.ctx, obj)
            changes = forms.compare("Assistant", res, have, want, shared)
            confirmed = res.metadata.id is not None or res.metadata.adopt
            owned = bool(self.desired.project.owner_tags & set(obj.get("tags") or ()))
            if not confirmed and not owned:
                self._adoption(res, obj, changes)
                return
            if not owned:
                self._taken_over(res, obj)
            ops = []
            if changes:
                body = forms.update_body(self.ctx, "Assistant", res, have, want, changes, address)
                ops = [writes.op_update_assistant(str(obj["id"]), body)]
            self.ctx.add(ResourceChange(address, "Assistant", res.name, [UPDATE] if changes else [NOOP],
                                     id=str(obj["id"]), changes=changes, operations=ops))
            assistant = str(obj["id"])
        versions.versions_and_canary(self.ctx, res, obj, assistant, shared)

    def _taken_over(self, res: DesiredResource, obj: dict[str, Any]) -> None:
        """A pin or `adopt: true` takes over a live assistant without this project's owner tag as it
        is, even one that another project manages: said where it carries another owner's mark (a
        `managed-by:` tag, the form owner tags take), so the reviewer sees whose it was."""
        others = sorted(str(t) for t in obj.get("tags") or () if str(t).startswith(OWNER_TAG_FORM))
        if others:
            how = "pinned by metadata.id" if res.metadata.id is not None else "adopted (metadata.adopt)"
            self.ctx.warnings.append(
                f"{res.address}: {how}: live assistant {obj['id']} carries {', '.join(map(repr, others))}, "
                f"another owner's tag, not this project's {self.desired.project.owner_tag!r}: the plan "
                f"changes it as this manifest says")

    def _adoption(self, res: DesiredResource, obj: dict[str, Any], changes: list[FieldChange]) -> None:
        """A live assistant matched by name that this project does not own: an explicit adoption,
        shown with the changes it would bring, and never carried out until the manifest pins its id
        (its versions and canary wait for that too)."""
        project = self.desired.project
        tags = ", ".join(sorted(obj.get("tags") or ())) or "none"
        reason = (f"adopt: live assistant {obj['id']} is named {res.name!r} but does not carry this project's "
                  f"owner tag {project.owner_tag!r} (its tags: {tags}); apply will not touch it. To take it over, "
                  f"set `metadata.adopt: true` (or pin `metadata.id: {obj['id']}`); if the project's owner_tag "
                  f"changed, list the old one in the Project's previous_owner_tags instead")
        self.ctx.warnings.append(f"{res.address}: {reason}")
        self.ctx.add(ResourceChange(res.address, "Assistant", res.name, [ADOPT], id=str(obj["id"]),
                                    changes=changes, reason=reason))

    def build(self) -> Plan:
        for res in self.desired.of_kind("Assistant"):
            self.assistant(res)
        for res in self.desired.of_kind("Assistant"):
            self.ctx.changes.extend(self._chunks.get(res.address, []))
        assistant_tests.plan(self.ctx)  # after the assistants: a test reads as a check of what is above it
        pruning.duplicates(self.ctx)  # deleted with pruning, else orphans
        if self.ctx.prune:
            pruning.prune(self.ctx)
        self._orphaned_assistants()
        seen: set[str] = set()
        for change in self.ctx.changes:
            if change.address in seen:  # e.g. an assistant literally named "bot.canary" beside "bot"
                self.ctx.errors.append(f"{change.address}: two changes would share this address; rename one")
            seen.add(change.address)
        return Plan(resource_changes=self.ctx.changes, warnings=self.ctx.warnings,
                    orphans=sorted(self.ctx.orphans, key=lambda o: o.address))

    def _orphaned_assistants(self) -> None:
        """Live assistants carrying an owner tag of this project that no manifest declares and the
        plan does not delete (pruning off, or refused): reported, never silently in sync."""
        managed = self.ctx.matches["Assistant"].matched_ids()
        deleted = {c.id for c in self.ctx.changes if DELETE in c.actions}
        owners = self.desired.project.owner_tags
        for obj in self.ctx.live.assistants:
            aid = str(obj["id"])
            if aid in managed or aid in deleted or not owners & set(obj.get("tags") or ()):
                continue
            protected = PROTECT_TAG in (obj.get("tags") or ())
            note = ("owned by this project but declared by no manifest: kept, protected" if protected else
                    "owned by this project but declared by no manifest: kept; `--prune` deletes it")
            name = str(obj.get("name"))
            self.ctx.orphans.append(Orphan(f"assistant.{name}", "Assistant", name, aid, note))
