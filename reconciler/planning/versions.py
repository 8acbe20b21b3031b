"""An assistant's named versions and its canary rules: each version created, updated or (only with
pruning) deleted as the manifest says, a promotion of `main_version`, and the canary's rules planned as
rule changes whose traffic moves only once what it routes to is in place (and its gate passed). Plain
functions over the planning Context. No I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler import canary as canary_rules
from reconciler.kinds import API_NAME, REFERENCE_KEYS
from reconciler.model import DesiredResource, contains_sensitive
from reconciler.planning import diff, forms, rollout, whole, writes
from reconciler.planning.context import Context
from reconciler.planning.plan import (
    CREATE,
    DELETE,
    KIND_CANARY,
    KIND_VERSION,
    NOOP,
    UPDATE,
    FieldChange,
    Orphan,
    Ref,
    ResourceChange,
)
from reconciler.tree import at


def versions_and_canary(ctx: Context, res: DesiredResource, obj: dict[str, Any] | None, assistant: str | Ref,
                        shared: whole.Shared | None = None) -> None:
    """Plan the named versions, the promotion and the canary of one assistant (`obj` its live object, None
    when the plan creates it; `assistant` its id or the Ref to its creation; `shared` the canonical
    forms of its spec's values, as `forms.compare` keeps them)."""
    if res.versions is None and res.canary is None:
        return
    own = res.address  # a property that builds its string each time
    live_versions = ctx.live.versions.get(str(obj["id"]), []) if obj else []
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
            ctx.errors.append(f"{own}: two live versions are named {vname!r} "
                               f"({by_name[vname].get('version_id')}, {v.get('version_id')})")
        by_name[vname] = v
    canary_address = f"{own}.canary"
    version_ids: dict[str, str | Ref] = {n: str(v.get("version_id")) for n, v in by_name.items()}
    if demoted is not None and main_id is not None and demoted not in by_name:
        version_ids[demoted] = str(main_id)
    promotion = rollout.promotion_address(res)
    deletes: list[ResourceChange] = []
    for version in res.versions or ():
        if version.name == res.main_version and not promoting:
            continue  # it is main: planned as the assistant itself, above
        address = f"{own}.version.{version.name}"
        # A version starts as a copy of main: what its overlay clears (`null`) at the top level
        # must be cleared explicitly, and compared as cleared. (A nested null is merged away: the
        # nested object is sent whole without the key, and a cleared nested field may come back
        # as its server default, so it is not compared.)
        cleared = {k: None for k, v in version.overlay.items() if v is None and k != "tags"}
        full = res.version_spec(version)  # a new dict (the overlay merged on): changed in place
        full.pop("tags", None)
        full.update(cleared)
        want = full
        found = by_name.get(version.name)
        after_promotion = found is None and version.name == demoted
        if after_promotion:
            found = obj  # the live main, a named version once the promotion is done
        if found is None:
            kept = _main_at_ignored(ctx, res, version.overlay, full, obj)
            body = forms.strip_nulls(forms.api_body(ctx, full, address))
            body.update({API_NAME.get(k, k): None for k in cleared})
            body.update(kept)
            # Shown as what the overlay sets: the rest is the main version's, shown above it. What it
            # clears is sent as null, so it is shown going from main's value to null.
            shown = {k: want[k] for k in version.overlay if k in want and want[k] is not None}
            lost = [FieldChange(k, res.spec.get(k), None, sensitive=contains_sensitive(res.spec.get(k)))
                    for k in cleared]
            changes = sorted([*diff.creation_changes(shown), *lost], key=lambda c: c.path)
            ctx.add(ResourceChange(address, KIND_VERSION, version.name, [CREATE], changes=changes,
                                     operations=[writes.op_create_version(assistant, body, version.name)]))
            version_ids[version.name] = Ref(address, "version_id")
            continue
        have = forms.manifest_form(ctx, found)  # a new dict
        have.pop("tags", None)
        changes = forms.compare("Assistant", res, have, {k: v for k, v in want.items() if v is not None}, shared)
        vid = str(found.get("version_id"))
        ops = [writes.op_update_version(str(assistant), vid,
                                     forms.update_body(ctx, "Assistant", res, have, want, changes, address))
               ] if changes else []
        # The main version cannot be updated as a version: the old main waits for the promotion.
        ctx.add(ResourceChange(address, KIND_VERSION, version.name, [UPDATE] if changes else [NOOP],
                                 id=vid, changes=changes, operations=ops,
                                 depends_on=[promotion] if after_promotion and ops else []))
    if res.versions is not None:
        declared = {v.name for v in res.versions}
        gone = sorted(by_name.items())
        if demoted is not None and demoted not in declared and demoted not in by_name and obj is not None:
            gone.append((demoted, obj))
        routed: set[str] | None = None  # the version ids the live canary routes to, once needed
        for vname, v in gone:
            if vname not in declared and not ctx.prune:
                # Nothing is deleted unless pruning is asked for, versions included.
                if routed is None:
                    rules = canary_rules.from_live(ctx.live.canaries.get(str(obj["id"])), {}) if obj else ()
                    routed = {str(i) for i in canary_rules.served(rules)}
                vid = str(v.get("version_id"))
                # Said as it is: `--prune` refuses a version the live canary routes to while the
                # manifest leaves the canary alone (declares none); declaring one moves it off first.
                then = ("the live canary routes traffic to it: declare `canary` without it, and `--prune` "
                        "deletes it" if vid in routed and res.canary is None else "`--prune` deletes it")
                ctx.orphans.append(Orphan(f"{own}.version.{vname}", KIND_VERSION, vname, vid,
                                          f"a live version the manifest does not declare: kept; {then}"))
            elif vname not in declared:
                vid = str(v.get("version_id"))
                deletes.append(ResourceChange(
                    f"{own}.version.{vname}", KIND_VERSION, vname, [DELETE], id=vid,
                    changes=whole.removal_changes("Assistant", forms.manifest_form(ctx, v)),
                    operations=[writes.op_delete_version(str(assistant), vid)],
                    depends_on=[promotion] if vname == demoted else []))
    if promoting and obj is not None:
        _promote(ctx, res, obj, assistant, by_name, version_ids)
    canary_changed = _canary(ctx, res, obj, assistant, by_name, version_ids, promoting)
    if not deletes:
        return
    live_rules = canary_rules.from_live(ctx.live.canaries.get(str(obj["id"])), {}) if obj else ()
    in_live_canary = {str(v) for v in canary_rules.served(live_rules)}  # every rule's versions, by id
    for change in deletes:
        if canary_changed:
            change.depends_on.append(canary_address)  # traffic leaves the version before it goes
        elif promoting and change.id in in_live_canary:
            # The promotion deletes the canary configuration (docs/api-assumptions.md): after it,
            # nothing routes to the version.
            change.depends_on.append(rollout.promotion_address(res))
        elif change.id in in_live_canary:
            ctx.errors.append(f"{change.address}: the live canary still routes traffic to it; "
                               f"declare `canary` without it")
        ctx.add(change)


def _main_at_ignored(ctx: Context, res: DesiredResource, overlay: dict[str, Any], full: dict[str, Any],
                     obj: dict[str, Any] | None) -> dict[str, Any]:
    """Set in `full` (a new version's spec) the live main's value at each `ignore_changes` path its
    overlay does not set, and return the API-form values for ignored reference keys (`shared_tools`:
    `tool_ids` as they are live). A new version is shown as its overlay, "the rest is the main
    version's"; at an ignored path main keeps its live value (the portal's), so that is the value the
    version must get, and the body sends it, not the manifest's. With no live main (the plan creates
    it) main's value is the manifest's, which `full` already holds."""
    kept: dict[str, Any] = {}
    if obj is None or not res.metadata.ignore_changes:
        return kept
    live = forms.manifest_form(ctx, obj)
    for path in res.metadata.ignore_changes:
        if _sets(overlay, path):
            continue  # the overlay's own value: shown with it, and sent
        head, _, rest = path.partition(".")
        if head == "tags":
            continue  # a version carries no tags of its own (popped from `full`)
        if head in REFERENCE_KEYS:
            if not rest:
                full.pop(head, None)
                name = API_NAME.get(head, head)
                if obj.get(name) is not None:
                    kept[name] = copy.deepcopy(obj[name])
            continue
        if rest:
            if not isinstance(full.get(head), dict):
                if at(live, path.split(".")) is None:
                    continue
                full[head] = {}
            full[head] = copy.deepcopy(full[head])  # `full` shares nested objects with the spec
        forms.set_path(full, path, copy.deepcopy(at(live, path.split("."))))
    return kept


def _sets(overlay: dict[str, Any], dotted: str) -> bool:
    """Whether a version's overlay sets the dotted path (or an object above it, whole or null)."""
    node: Any = overlay
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True
    return True


def _live_rules(ctx: Context, obj: dict[str, Any] | None, by_name: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The live canary as rules naming versions (an unnamed version by its id)."""
    live_canary = ctx.live.canaries.get(str(obj["id"])) if obj else None
    id_to_name = {str(v.get("version_id")): n for n, v in by_name.items()}
    return list(canary_rules.from_live(live_canary, id_to_name))


def _promote(ctx: Context, res: DesiredResource, obj: dict[str, Any], assistant: str | Ref,
             by_name: dict[str, dict[str, Any]], version_ids: dict[str, str | Ref]) -> None:
    """Gate (if the version has one) and promote `res.main_version`, once it is in place."""
    entry = res.main_entry()
    assert entry is not None
    live_rules = _live_rules(ctx, obj, by_name)
    split = canary_rules.traffic_split(live_rules)
    version_id = version_ids.get(entry.name, Ref(f"{res.address}.version.{entry.name}", "version_id"))
    pending = {c.address for c in ctx.changes if c.operations}
    waits = [a for a in (f"{res.address}.version.{entry.name}",) if a in pending]
    gate = rollout.plan_gate(ctx, res, entry, version_id, assistant,
                             rollout.traffic(split).get(entry.name, 0.0), rollout.MAIN_TRAFFIC)
    waits += [gate] if gate else []
    rollout.plan_promotion(ctx, res, assistant, version_id, str(obj.get("version_name")), live_rules, waits)


def _canary(ctx: Context, res: DesiredResource, obj: dict[str, Any] | None, assistant: str | Ref,
            by_name: dict[str, dict[str, Any]], version_ids: dict[str, str | Ref], promoting: bool = False
            ) -> bool:
    """The canary's rules, compared as rules naming versions (a changed clause is one changed field)."""
    if res.canary is None:
        return False
    address = f"{res.address}.canary"
    # A promotion deletes the canary configuration: after it, there is none to compare with.
    live_canary = ctx.live.canaries.get(str(obj["id"])) if obj and not promoting else None
    live_rules = _live_rules(ctx, obj, by_name)
    before = [] if promoting else live_rules
    after = list(res.canary)
    changes = diff.field_changes({"rules": before}, {"rules": after})
    assistant_id = str(obj["id"]) if obj else None
    if not changes:
        if live_canary is not None or after:
            ctx.add(ResourceChange(address, KIND_CANARY, "canary", [NOOP], id=assistant_id))
        return False
    # Traffic moves only once what it moves to is in place: the versions its rules serve, and main
    # (a promotion: if main's update fails, the canary and the version it promoted must stay).
    pending = {c.address for c in ctx.changes if c.operations}
    waits = [a for a in (res.address, *(f"{res.address}.version.{n}" for n in canary_rules.served(after)),
                         rollout.promotion_address(res)) if a in pending]
    # Traffic to a gated version rises only after its suite passed against it.
    now = rollout.traffic(canary_rules.traffic_split(live_rules))
    then = rollout.traffic(canary_rules.traffic_split(after))
    for version in res.versions or ():
        if version.name in version_ids:  # not main: main_version is never in the canary
            gate = rollout.plan_gate(ctx, res, version, version_ids[version.name], assistant,
                                     now.get(version.name, 0.0), then.get(version.name, 0.0))
            waits += [gate] if gate else []
    if not after:
        ctx.add(ResourceChange(address, KIND_CANARY, "canary", [DELETE], id=assistant_id, changes=changes,
                                 operations=[writes.op_delete_canary(str(assistant))], depends_on=waits))
        return True
    body = canary_rules.body(res.canary, version_ids)
    action = UPDATE if live_canary is not None else CREATE
    ctx.add(ResourceChange(address, KIND_CANARY, "canary", [action], id=assistant_id, changes=changes,
                             operations=[writes.op_put_canary(assistant, body, live_canary is not None)],
                             depends_on=waits))
    return True
