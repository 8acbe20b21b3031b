"""desired + live -> Plan. Pure: no I/O, deterministic, and the only place that decides what changes.

Assistants are compared in manifest form: live `tool_ids` and `mcp_servers[].id` are turned back into
names, so the plan shows `shared_tools: [order-lookup]` rather than ids. Bodies sent to the API use
ids, or a Ref for a resource the same plan creates. Apply order comes from each change's
`depends_on`, which the planner states explicitly for deletes and derives from Refs for the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from reconciler import canary as canary_rules
from reconciler.api import endpoints as api
from reconciler.errors import PlanError
from reconciler.kinds import KINDS, PROTECT_TAG, SERVER_DEFAULTED, SERVER_SET_PATHS
from reconciler.model import (
    DesiredResource,
    DesiredState,
    LiveState,
)
from reconciler.planning import accounts, assistant_tests, diff, pruning, rollout, whole
from reconciler.planning.context import Context
from reconciler.planning.plan import (
    ADOPT,
    CREATE,
    DELETE,
    KIND_CANARY,
    KIND_VERSION,
    NOOP,
    UPDATE,
    FieldChange,
    Operation,
    Orphan,
    Plan,
    Ref,
    ResourceChange,
)
from reconciler.planning.targets import select

# Manifest-only assistant keys, translated to API fields when a body is built.
REFERENCE_KEYS = ("shared_tools", "mcp_servers")
# Manifest keys whose API field has another name.
API_NAME = {"shared_tools": "tool_ids"}
# Server-set fields of a live MCP server that are never sent back.
MCP_READ_ONLY = ("id", "created_at")


def plan(
    desired: DesiredState, live: LiveState, *, prune: bool = False, targets: Sequence[str] = ()
) -> Plan:
    """Compute the plan. Raises PlanError listing every reason the plan cannot be carried out."""
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
            raise PlanError("the plan cannot be made:\n  " + "\n  ".join(sorted(impl.ctx.errors)))
        return select(result, targets) if targets else result


def strip_nulls(value: Any) -> Any:
    """A create sends no nulls: clearing a field of a resource that does not exist means omitting it."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def parse_path(dotted: str) -> list[str | int]:
    """`tools[0].webhook.url` -> ["tools", 0, "webhook", "url"] (the inverse of `tree.dotted`)."""
    parts: list[str | int] = []
    for piece in dotted.split("."):
        name, *indexes = piece.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i.rstrip("]")) for i in indexes)
    return parts


def _aligned(live: dict[str, Any], want: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides with an object that one side leaves out (it held only defaults) present as `{}` on
    that side, so that a change inside it shows leaf by leaf (`telephony_settings.time_limit_secs`)."""
    a, b = dict(live), dict(want)
    for key in set(a) | set(b):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            a[key], b[key] = _aligned(x, y)
        elif isinstance(x, dict) and key not in b:
            b[key] = {}
            a[key], b[key] = _aligned(x, {})
        elif isinstance(y, dict) and key not in a:
            a[key], b[key] = _aligned({}, y)
    return a, b


def _get_path(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _set_path(value: dict[str, Any], dotted: str, item: Any) -> None:
    """Set (or, for None, remove) a dotted key path inside `value`, creating objects on the way."""
    *parents, last = dotted.split(".")
    node = value
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            if item is None:
                return
            child = node[part] = {}
        node = child
    if item is None:
        node.pop(last, None)
    else:
        node[last] = item


def _top_fields(changes: list[FieldChange]) -> list[str]:
    tops = {c.path.split(".")[0].split("[")[0] for c in changes}
    return sorted(tops)


class _Planner:
    def __init__(self, desired: DesiredState, live: LiveState, prune: bool) -> None:
        self.ctx = Context(desired, live)
        self.desired = desired
        self.live = live
        self.prune = prune
        self._chunks: dict[str, list[ResourceChange]] = {}  # assistant address -> its changes
        self.orphans: list[Orphan] = []

    def _api_body(self, spec: dict[str, Any], user: str) -> dict[str, Any]:
        """A manifest-form assistant spec as an API body: names become ids or Refs."""
        body = {k: v for k, v in spec.items() if k not in REFERENCE_KEYS}
        if spec.get("shared_tools") is not None:
            body["tool_ids"] = [self.ctx.ref("Tool", n, user) for n in spec["shared_tools"]]
        if spec.get("mcp_servers") is not None:
            body["mcp_servers"] = [
                {"id": self.ctx.ref("McpServer", e["server"], user), **({k: v for k, v in e.items() if k != "server"})}
                for e in spec["mcp_servers"]
            ]
        return body

    def _manifest_form(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A live assistant (or version) in manifest form, for comparison."""
        out = dict(obj)
        tool_ids = out.pop("tool_ids", None)
        if tool_ids is not None:
            out["shared_tools"] = [self.ctx.names["Tool"].get(str(t), str(t)) for t in tool_ids]
        if isinstance(out.get("mcp_servers"), list):
            out["mcp_servers"] = [
                {"server": self.ctx.names["McpServer"].get(str(e.get("id")), str(e.get("id"))),
                 **{k: v for k, v in e.items() if k != "id"}}
                for e in out["mcp_servers"] if isinstance(e, dict)
            ]
        return out

    def _compare(self, kind: str, res: DesiredResource, have: dict[str, Any], want: dict[str, Any]
                 ) -> list[FieldChange]:
        """Field changes from `have` (live, manifest form) to `want` (the manifest's spec), both whole:
        undeclared fields are desired at their default (shown as such) or absent."""
        name_field = KINDS[kind].name_field
        # Identity fields outside the spec schema: the name, and main's version_name under main_version.
        names = (name_field, "version_name")
        keep = {k: have[k] for k in SERVER_DEFAULTED.get(kind, ()) if k in have and k not in want}
        live_c = whole.canonical(kind, {k: v for k, v in have.items() if k not in names}, live=True)
        want_c = whole.canonical(kind, {**keep, **{k: v for k, v in want.items() if k not in names}})
        for c in (live_c, want_c):
            for key in names:
                if key in want:
                    c[key] = have.get(key) if c is live_c else want[key]
            for path in res.metadata.ignore_changes:
                diff.drop_path(c, path)
        changes = diff.field_changes(*_aligned(live_c, want_c))
        out = []
        for change in changes:
            # A side left out because it equals its default is shown as that default.
            before, after = change.before, change.after
            if before is None:
                before = whole.default_at(kind, have, parse_path(change.path))
            if after is None:
                after = whole.default_at(kind, want, parse_path(change.path))
            if diff.equal({"v": before}, {"v": after}):
                continue
            out.append(FieldChange(change.path, before, after, change.sensitive))
        return out

    def _update_body(self, kind: str, res: DesiredResource, live: dict[str, Any], want: dict[str, Any],
                     changes: list[FieldChange], user: str) -> dict[str, Any]:
        """For each changed top-level field, its whole desired value (defaults filled in), or null to
        clear it; what the server created inside it, and ignored paths, as they are live."""
        body: dict[str, Any] = {}
        api_want = self._api_body({k: want[k] for k in REFERENCE_KEYS if k in want}, user)
        filled = whole.fill_defaults(kind, {k: v for k, v in want.items() if k not in REFERENCE_KEYS})
        for top in _top_fields(changes):
            if top in REFERENCE_KEYS:
                name = API_NAME.get(top, top)
                body[name] = api_want.get(name)  # absent means the manifest clears it: send null
                continue
            value = copy.deepcopy(filled.get(top))
            for parent, key in SERVER_SET_PATHS.get(kind, ()):
                held = live.get(parent)
                if parent == top and value is None and isinstance(held, dict) and key in held:
                    # Cleared: reset to its defaults, but the object the server created stays.
                    value = whole.fill_defaults(kind, {top: {}})[top]
                if parent == top and isinstance(value, dict) and isinstance(held, dict) and key in held:
                    value.setdefault(key, held[key])
            for path in res.metadata.ignore_changes:
                head, _, rest = path.partition(".")
                if head == top and rest and isinstance(value, dict):
                    _set_path(value, rest, _get_path(live.get(top), rest))
            body[top] = value
        return body

    # --- shared tools and MCP servers -----------------------------------------------------------------

    def _simple(self, kind: str) -> None:
        name_field = KINDS[kind].name_field
        for res in self.desired.of_kind(kind):
            if res.address not in self.ctx.matches[kind].live_for:
                continue  # matching failed (a pin to nothing, ambiguous names): already an error
            obj = self.ctx.matches[kind].live_for[res.address]
            want = {name_field: res.name, **res.spec}
            if obj is None:
                create = api.op_create_tool if kind == "Tool" else api.op_create_mcp_server
                body = strip_nulls({name_field: res.name, **res.spec})
                self.ctx.add(ResourceChange(res.address, kind, res.name, [CREATE], changes=diff.creation_changes(want),
                                         operations=[create(body, res.name)]))
                continue
            have = api.tool_spec(obj) if kind == "Tool" else {k: v for k, v in obj.items() if k not in MCP_READ_ONLY}
            have[name_field] = obj.get(name_field)
            changes = self._compare(kind, res, have, want)
            ops: list[Operation] = []
            if changes and kind == "Tool":
                body = self._update_body(kind, res, have, want, changes, res.address)
                ops = [api.op_update_tool(str(obj["id"]), body)]
            elif changes:
                # PUT may replace the whole object (U): send all of it, the whole desired object.
                ops = [api.op_update_mcp_server(str(obj["id"]), {name_field: res.name,
                                                                 **whole.fill_defaults(kind, res.spec)})]
            self.ctx.add(ResourceChange(res.address, kind, res.name, [UPDATE] if changes else [NOOP],
                                     id=str(obj["id"]), changes=changes, operations=ops))

    # --- assistants, versions, canary -------------------------------------------------------------------

    def _desired_tags(self, res: DesiredResource, live_tags: list[str] | None) -> list[str]:
        """The owner tag goes on what apply creates and stays where it is; it is not forced onto an
        adopted assistant, so exported manifests plan clean, and prune, which deletes only what
        carries the tag, never deletes an assistant that reconciler did not create."""
        owner = self.desired.project.owner_tag
        owned = live_tags is None or bool(self.desired.project.owner_tags & set(live_tags))
        system = ({owner} if owned else set()) | ({PROTECT_TAG} if res.metadata.protect else set())
        declared = set(res.spec.get("tags") or ())
        if not owned:
            # Not ours (an adoption, confirmed or not): any live tag may be another project's owner
            # tag, and a plan never disowns anything, so none is removed.
            return sorted(declared | (set(live_tags or ()) - {PROTECT_TAG}) | system)
        # Ours: the whole desired object, so undeclared tags are desired empty, like any other field. A
        # previous owner tag is replaced by the current one (ownership moves in one apply).
        return sorted(declared | system)

    def shared(self) -> None:
        self._simple("Tool")
        self._simple("McpServer")

    def assistant(self, res: DesiredResource) -> None:
        """Plan one assistant into its own chunk (assembled in manifest order by `build`)."""
        if res.address in self._chunks:
            return
        start = len(self.ctx.changes)
        self._assistant(res)
        self._chunks[res.address] = self.ctx.changes[start:]
        del self.ctx.changes[start:]

    def _assistant(self, res: DesiredResource) -> None:
        matches = self.ctx.matches["Assistant"]
        if res.address not in matches.live_for:
            return  # matching failed: already an error
        obj = matches.live_for[res.address]
        entry = res.main_entry()
        # With `main_version`, main is that version: the spec with its overlay, under its name.
        main = {k: v for k, v in (res.spec if entry is None else res.version_spec(entry)).items()}
        main["name"] = res.name
        if entry is not None:
            main["version_name"] = entry.name
        main["tags"] = self._desired_tags(res, obj.get("tags") if obj else None)
        want = main
        if obj is None:
            body = strip_nulls(self._api_body({k: v for k, v in main.items() if k != "version_name"}, res.address))
            ops = [api.op_create_assistant(body, res.name)]
            if entry is not None:  # create takes no version_name: name the new main right after
                ops.append(api.op_update_assistant(Ref(res.address), {"version_name": entry.name}))
            self.ctx.add(ResourceChange(res.address, "Assistant", res.name, [CREATE],
                                     changes=diff.creation_changes(want), operations=ops))
            assistant: str | Ref = Ref(res.address)
        elif rollout.promoting(res, obj):
            # The live main is about to become a named version: the version being promoted is
            # brought to the desired state instead (below), and the promotion makes it main.
            self.ctx.add(ResourceChange(res.address, "Assistant", res.name, [NOOP], id=str(obj["id"]),
                                        reason=f"main becomes version {res.main_version} by promotion"))
            assistant = str(obj["id"])
        else:
            have = self._manifest_form(obj)
            changes = self._compare("Assistant", res, have, want)
            confirmed = res.metadata.id is not None or res.metadata.adopt
            if not confirmed and not self.desired.project.owner_tags & set(obj.get("tags") or ()):
                self._adoption(res, obj, changes)
                return
            ops = [api.op_update_assistant(str(obj["id"]),
                                           self._update_body("Assistant", res, have, want, changes, res.address))
                   ] if changes else []
            self.ctx.add(ResourceChange(res.address, "Assistant", res.name, [UPDATE] if changes else [NOOP],
                                     id=str(obj["id"]), changes=changes, operations=ops))
            assistant = str(obj["id"])
        self._versions_and_canary(res, obj, assistant)

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

    def _versions_and_canary(self, res: DesiredResource, obj: dict[str, Any] | None, assistant: str | Ref) -> None:
        if res.versions is None and res.canary is None:
            return
        live_versions = self.live.versions.get(str(obj["id"]), []) if obj else []
        main_id = obj.get("version_id") if obj else None
        promoting = obj is not None and rollout.promoting(res, obj)
        # The live main's name, when a promotion turns it into a named version.
        demoted = str(obj.get("version_name")) if obj is not None and promoting else None
        by_name: dict[str, dict[str, Any]] = {}
        for v in live_versions:
            if main_id is not None and v.get("version_id") == main_id:
                continue
            vname = str(v.get("version_name"))
            if vname in by_name:
                self.ctx.errors.append(f"{res.address}: two live versions are named {vname!r} "
                                   f"({by_name[vname].get('version_id')}, {v.get('version_id')})")
            by_name[vname] = v
        canary_address = f"{res.address}.canary"
        version_ids: dict[str, str | Ref] = {n: str(v.get("version_id")) for n, v in by_name.items()}
        if demoted is not None and main_id is not None and demoted not in by_name:
            version_ids[demoted] = str(main_id)
        promotion = rollout.promotion_address(res)
        deletes: list[ResourceChange] = []
        for version in res.versions or ():
            if version.name == res.main_version and not promoting:
                continue  # it is main: planned as the assistant itself, above
            address = f"{res.address}.version.{version.name}"
            # A version starts as a copy of main: what its overlay clears (`null`) at the top level
            # must be cleared explicitly, and compared as cleared. (A nested null is merged away: the
            # nested object is sent whole without the key, and a cleared nested field may come back
            # as its server default, so it is not compared.)
            cleared = {k: None for k, v in version.overlay.items() if v is None and k != "tags"}
            full = {**{k: v for k, v in res.version_spec(version).items() if k != "tags"}, **cleared}
            want = full
            found = by_name.get(version.name)
            after_promotion = found is None and version.name == demoted
            if after_promotion:
                found = obj  # the live main, a named version once the promotion is done
            if found is None:
                body = strip_nulls(self._api_body(full, address))
                body.update({API_NAME.get(k, k): None for k in cleared})
                # Shown as what the overlay sets: the rest is the main version's, shown above it.
                shown = {k: want[k] for k in version.overlay if k in want and want[k] is not None}
                self.ctx.add(ResourceChange(address, KIND_VERSION, version.name, [CREATE],
                                         changes=diff.creation_changes(shown),
                                         operations=[api.op_create_version(assistant, body, version.name)]))
                version_ids[version.name] = Ref(address, "version_id")
                continue
            have = {k: v for k, v in self._manifest_form(found).items() if k != "tags"}
            changes = self._compare("Assistant", res, have, {k: v for k, v in want.items() if v is not None})
            vid = str(found.get("version_id"))
            ops = [api.op_update_version(str(assistant), vid,
                                         self._update_body("Assistant", res, have, want, changes, address))
                   ] if changes else []
            # The main version cannot be updated as a version: the old main waits for the promotion.
            self.ctx.add(ResourceChange(address, KIND_VERSION, version.name, [UPDATE] if changes else [NOOP],
                                     id=vid, changes=changes, operations=ops,
                                     depends_on=[promotion] if after_promotion and ops else []))
        if res.versions is not None:
            declared = {v.name for v in res.versions}
            gone = sorted(by_name.items())
            if demoted is not None and demoted not in declared and demoted not in by_name and obj is not None:
                gone.append((demoted, obj))
            for vname, v in gone:
                if vname not in declared and not self.prune:
                    # Nothing is deleted unless pruning is asked for, versions included.
                    self.orphans.append(Orphan(f"{res.address}.version.{vname}", KIND_VERSION, vname,
                                               str(v.get("version_id")), "a live version the manifest does not "
                                               "declare: kept; `--prune` deletes it"))
                elif vname not in declared:
                    vid = str(v.get("version_id"))
                    deletes.append(ResourceChange(
                        f"{res.address}.version.{vname}", KIND_VERSION, vname, [DELETE], id=vid,
                        changes=whole.removal_changes("Assistant", self._manifest_form(v)),
                        operations=[api.op_delete_version(str(assistant), vid)],
                        depends_on=[promotion] if vname == demoted else []))
        if promoting and obj is not None:
            self._promote(res, obj, assistant, by_name, version_ids)
        canary_changed = self._canary(res, obj, assistant, by_name, version_ids, promoting)
        live_rules = canary_rules.from_live(self.live.canaries.get(str(obj["id"])), {}) if obj else ()
        in_live_canary = {str(v) for v in canary_rules.served(live_rules)}  # every rule's versions, by id
        for change in deletes:
            if canary_changed:
                change.depends_on.append(canary_address)  # traffic leaves the version before it goes
            elif change.id in in_live_canary:
                self.ctx.errors.append(f"{change.address}: the live canary still routes traffic to it; "
                                   f"declare `canary` without it")
            self.ctx.add(change)

    def _live_rules(self, obj: dict[str, Any] | None, by_name: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """The live canary as rules naming versions (an unnamed version by its id)."""
        live_canary = self.live.canaries.get(str(obj["id"])) if obj else None
        id_to_name = {str(v.get("version_id")): n for n, v in by_name.items()}
        return list(canary_rules.from_live(live_canary, id_to_name))

    def _promote(self, res: DesiredResource, obj: dict[str, Any], assistant: str | Ref,
                 by_name: dict[str, dict[str, Any]], version_ids: dict[str, str | Ref]) -> None:
        """Gate (if the version has one) and promote `res.main_version`, once it is in place."""
        entry = res.main_entry()
        assert entry is not None
        live_rules = self._live_rules(obj, by_name)
        split = canary_rules.traffic_split(live_rules)
        version_id = version_ids.get(entry.name, Ref(f"{res.address}.version.{entry.name}", "version_id"))
        pending = {c.address for c in self.ctx.changes if c.operations}
        waits = [a for a in (f"{res.address}.version.{entry.name}",) if a in pending]
        gate = rollout.plan_gate(self.ctx, res, entry, version_id, assistant,
                                 rollout.traffic(split).get(entry.name, 0.0), rollout.MAIN_TRAFFIC)
        waits += [gate] if gate else []
        rollout.plan_promotion(self.ctx, res, assistant, version_id, str(obj.get("version_name")), live_rules, waits)

    def _canary(self, res: DesiredResource, obj: dict[str, Any] | None, assistant: str | Ref,
                by_name: dict[str, dict[str, Any]], version_ids: dict[str, str | Ref], promoting: bool = False
                ) -> bool:
        """The canary's rules, compared as rules naming versions (a changed clause is one changed field)."""
        if res.canary is None:
            return False
        address = f"{res.address}.canary"
        # A promotion deletes the canary configuration: after it, there is none to compare with.
        live_canary = self.live.canaries.get(str(obj["id"])) if obj and not promoting else None
        live_rules = self._live_rules(obj, by_name)
        before = [] if promoting else live_rules
        after = list(res.canary)
        changes = diff.field_changes({"rules": before}, {"rules": after})
        assistant_id = str(obj["id"]) if obj else None
        if not changes:
            if live_canary is not None or after:
                self.ctx.add(ResourceChange(address, KIND_CANARY, "canary", [NOOP], id=assistant_id))
            return False
        # Traffic moves only once what it moves to is in place: the versions its rules serve, and main
        # (a promotion: if main's update fails, the canary and the version it promoted must stay).
        pending = {c.address for c in self.ctx.changes if c.operations}
        waits = [a for a in (res.address, *(f"{res.address}.version.{n}" for n in canary_rules.served(after)),
                             rollout.promotion_address(res)) if a in pending]
        # Traffic to a gated version rises only after its suite passed against it.
        now = rollout.traffic(canary_rules.traffic_split(live_rules))
        then = rollout.traffic(canary_rules.traffic_split(after))
        for version in res.versions or ():
            if version.name in version_ids:  # not main: main_version is never in the canary
                gate = rollout.plan_gate(self.ctx, res, version, version_ids[version.name], assistant,
                                         now.get(version.name, 0.0), then.get(version.name, 0.0))
                waits += [gate] if gate else []
        if not after:
            self.ctx.add(ResourceChange(address, KIND_CANARY, "canary", [DELETE], id=assistant_id, changes=changes,
                                     operations=[api.op_delete_canary(str(assistant))], depends_on=waits))
            return True
        body = canary_rules.body(res.canary, version_ids)
        action = UPDATE if live_canary is not None else CREATE
        self.ctx.add(ResourceChange(address, KIND_CANARY, "canary", [action], id=assistant_id, changes=changes,
                                 operations=[api.op_put_canary(assistant, body, live_canary is not None)],
                                 depends_on=waits))
        return True

    def build(self) -> Plan:
        for res in self.desired.of_kind("Assistant"):
            self.assistant(res)
        for res in self.desired.of_kind("Assistant"):
            self.ctx.changes.extend(self._chunks.get(res.address, []))
        assistant_tests.plan(self.ctx)  # after the assistants: a test reads as a check of what is above it
        if self.prune:
            pruning.prune(self.ctx)
        self._orphaned_assistants()
        seen: set[str] = set()
        for change in self.ctx.changes:
            if change.address in seen:  # e.g. an assistant literally named "bot.canary" beside "bot"
                self.ctx.errors.append(f"{change.address}: two changes would share this address; rename one")
            seen.add(change.address)
        return Plan(resource_changes=self.ctx.changes, warnings=self.ctx.warnings,
                    orphans=sorted(self.orphans, key=lambda o: o.address))

    def _orphaned_assistants(self) -> None:
        """Live assistants carrying an owner tag of this project that no manifest declares and the
        plan does not delete (pruning off, or refused): reported, never silently in sync."""
        managed = self.ctx.matches["Assistant"].matched_ids()
        deleted = {c.id for c in self.ctx.changes if DELETE in c.actions}
        owners = self.desired.project.owner_tags
        for obj in self.live.assistants:
            aid = str(obj["id"])
            if aid in managed or aid in deleted or not owners & set(obj.get("tags") or ()):
                continue
            protected = PROTECT_TAG in (obj.get("tags") or ())
            note = ("owned by this project but declared by no manifest: kept, protected" if protected else
                    "owned by this project but declared by no manifest: kept; `--prune` deletes it")
            self.orphans.append(Orphan(f"assistant.{obj.get('name')}", "Assistant", str(obj.get("name")), aid, note))
