"""AssistantTest manifests -> changes (create, partial update, no-op). Pure: no I/O, over the Context.

A test is compared in manifest form: where the manifest says `assistant: NAME`, the live `destination`
(the assistant's id on web channels, docs/api-assumptions.md) is turned back into that name, so a
reviewer reads `assistant: support-bot`, never an id. Bodies carry the id, or a Ref to an assistant
the same plan creates (so the test is created after it). An update sends only the top-level fields
that changed (the API's PUT is partial, telnyx-ai-api.md §9.1), each whole; a field taken out is sent
as the value that clears it, since the update takes no null (`_cleared`), or, when there is none, the
test is replaced, and the plan says so.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from reconciler.kinds import ASSISTANT, ASSISTANT_TEST
from reconciler.model import DesiredResource
from reconciler.planning import defaults, diff, identity, whole, writes
from reconciler.planning.context import Context
from reconciler.planning.plan import CREATE, DELETE, NOOP, UPDATE, FieldChange, Ref, ResourceChange
from reconciler.planning.whole import MISSING

# Manifest-only: the Assistant a test talks to, by name; sent as `destination`.
ASSISTANT_KEY = "assistant"
# Fields of a live test that are the server's, never compared or sent.
READ_ONLY = ("test_id", "created_at", "updated_at")


def assistant_destination(ctx: Context, name: str, user: str) -> str | Ref:
    """The `destination` that `assistant: NAME` stands for: the id of the Assistant the manifests
    declare under that name (a Ref when the plan creates it), else of the one live assistant so named."""
    address = f"{ASSISTANT.address_prefix}.{name}"
    matches = ctx.matches["Assistant"]
    if address in matches.live_for:
        found = matches.live_for[address]
        return Ref(address) if found is None else str(found["id"])
    live = identity.index_by_name(ctx.live.assistants, ASSISTANT.name_field).get(name, [])
    if len(live) == 1:
        return str(live[0]["id"])
    if live:
        ids = ", ".join(str(a["id"]) for a in live)
        ctx.errors.append(f"{user}: assistant {name!r} matches {len(live)} live assistants ({ids}); "
                          f"declare it with a metadata.id pin, or give destination")
    else:
        error = f"{user}: assistant names {name!r}, which is neither in the manifests nor live"
        ctx.errors.append(error)
        ctx.reference_errors[error] = (user, ASSISTANT_KEY, name)  # located where the manifest names it
    return Ref(address)


def _assistant_names(ctx: Context) -> dict[str, str]:
    """live assistant id -> the name a manifest reads it by."""
    names = {str(a["id"]): str(a.get(ASSISTANT.name_field)) for a in ctx.live.assistants}
    for address, obj in ctx.matches["Assistant"].live_for.items():
        if obj is not None:
            names[str(obj["id"])] = address.split(".", 1)[1]
    return names


def _manifest_form(ctx: Context, obj: dict[str, Any], res: DesiredResource) -> dict[str, Any]:
    have = {k: v for k, v in obj.items() if k not in READ_ONLY}
    if ASSISTANT_KEY in res.spec:
        destination = have.pop("destination", None)
        have[ASSISTANT_KEY] = _assistant_names(ctx).get(str(destination), destination)
    return have


def _api_body(ctx: Context, res: DesiredResource, spec: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in spec.items() if k != ASSISTANT_KEY}
    if ASSISTANT_KEY in spec:
        body["destination"] = assistant_destination(ctx, str(spec[ASSISTANT_KEY]), res.address)
    return body


# The API's update request (telnyx 4.189.0 TestUpdateParams): every field optional, none nullable.
UPDATE_REQUEST = "UpdateAssistantTestRequest"


def _comparable(res: DesiredResource, spec: dict[str, Any]) -> dict[str, Any]:
    if not res.metadata.ignore_changes:
        return spec
    out = copy.deepcopy(spec)
    for path in res.metadata.ignore_changes:
        diff.drop_path(out, path)
    return out


def _without_empty(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` without the strings at "", the value that clears them (`_cleared`): an empty description
    is no description, whether the API stores "" or null, or the manifest says "" or nothing."""
    empty = defaults.empty_allowed(UPDATE_REQUEST)
    return {k: v for k, v in spec.items() if not (k in empty and v == "")}


def _changes(res: DesiredResource, have: dict[str, Any], want: dict[str, Any]) -> list[FieldChange]:
    """Whole-object changes (planning.whole): undeclared fields are desired at their default."""
    name = ASSISTANT_TEST.name_field
    have, want = _without_empty(have), _without_empty(want)
    live_c = whole.canonical(ASSISTANT_TEST.kind, {k: v for k, v in have.items() if k != name}, live=True)
    want_c = whole.canonical(ASSISTANT_TEST.kind, {k: v for k, v in want.items() if k != name})
    for side, source in ((live_c, have), (want_c, want)):
        if name in source:
            side[name] = source[name]
        for path in res.metadata.ignore_changes:
            diff.drop_path(side, path)
    return diff.field_changes(live_c, want_c)


def _cleared(key: str, want: dict[str, Any]) -> Any:
    """What a (partial) update sends to take top-level `key` out of the test: its declared default, or
    "" for a string the update takes empty; MISSING when the update has no such value (an integer
    such as `max_duration_seconds`, 1..3600, whose "system default" only a create can give)."""
    default = defaults.default_at(ASSISTANT_TEST.kind, want, [key])
    if default is not None:
        return default
    return "" if key in defaults.empty_allowed(UPDATE_REQUEST) else MISSING


def _create_body(ctx: Context, res: DesiredResource, spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in _api_body(ctx, res, spec).items() if v is not None}


def _replacement(ctx: Context, res: DesiredResource, test_id: str, have: dict[str, Any],
                 changes: list[FieldChange], stuck: list[str]) -> ResourceChange:
    """Delete the test and create it again: the only way to take out a field no update can clear."""
    fields = ", ".join(stuck)
    if res.metadata.protect:
        ctx.errors.append(f"{res.address}: {fields} cannot be cleared by an update, and `protect: true` "
                          f"forbids replacing the test; declare a value instead")
    spec = {ASSISTANT_TEST.name_field: res.name, **res.spec}
    for path in res.metadata.ignore_changes:
        # Left to the portal: the new test keeps the live value (a test has no nested object but its
        # rubric list, so the whole top-level value).
        head = path.split(".", 1)[0]
        spec[head] = have.get(head)
    reason = (f"replace: {fields} cannot be cleared by an update (the API's update takes no null and no "
              f"empty value for it), so the test is deleted and created again without it, its other "
              f"fields as they are; its run history goes with the old test")
    ctx.warnings.append(f"{res.address}: {reason}")  # the text view shows a change's reason as a warning
    return ResourceChange(res.address, ASSISTANT_TEST.kind, res.name, [DELETE, CREATE], id=test_id,
                          changes=changes, reason=reason,
                          operations=[writes.op_delete_test(test_id),
                                      writes.op_create_test(_create_body(ctx, res, spec), res.name)])


def plan(ctx: Context) -> None:
    """Add a change for every declared AssistantTest."""
    matches = ctx.matches[ASSISTANT_TEST.kind]
    for res in ctx.desired.of_kind(ASSISTANT_TEST.kind):
        if res.address not in matches.live_for:
            continue  # matching failed (a pin to nothing, ambiguous names): already an error
        obj = matches.live_for[res.address]
        spec = {ASSISTANT_TEST.name_field: res.name, **res.spec}
        if obj is None:
            # A create sends ignored fields too (there is nothing live to leave them to): shown.
            body = _create_body(ctx, res, spec)
            ctx.add(ResourceChange(res.address, ASSISTANT_TEST.kind, res.name, [CREATE],
                                   changes=diff.creation_changes(spec),
                                   operations=[writes.op_create_test(body, res.name)]))
            continue
        want = _comparable(res, spec)
        test_id = str(obj[ASSISTANT_TEST.id_field])
        have = _manifest_form(ctx, obj, res)
        changes = _changes(res, have, want)
        tops = sorted({c.path.split(".")[0].split("[")[0] for c in changes})
        sent = {k: want[k] if want.get(k) is not None else _cleared(k, want) for k in tops}
        stuck = [k for k, v in sent.items() if v is MISSING]
        if stuck:
            ctx.add(_replacement(ctx, res, test_id, have, changes, stuck))
            continue
        # A top-level field taken out is shown as the value sent to clear it.
        changes = [c if c.path not in sent or c.after is not None else replace(c, after=sent[c.path])
                   for c in changes]
        ops = [writes.op_update_test(test_id, _api_body(ctx, res, sent))] if changes else []
        ctx.add(ResourceChange(res.address, ASSISTANT_TEST.kind, res.name, [UPDATE] if changes else [NOOP],
                               id=test_id, changes=changes, operations=ops))


def suite_members(ctx: Context, suite: str) -> list[str]:
    """Addresses of the declared tests of `suite` (what a gate on it waits for)."""
    return [r.address for r in ctx.desired.of_kind(ASSISTANT_TEST.kind) if r.spec.get("test_suite") == suite]
