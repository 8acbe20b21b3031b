"""AssistantTest manifests -> changes (create, partial update, no-op). Pure: no I/O, over the Context.

A test is compared in manifest form: where the manifest says `assistant: NAME`, the live `destination`
(the assistant's id on web channels, docs/api-assumptions.md) is turned back into that name, so a
reviewer reads `assistant: support-bot`, never an id. Bodies carry the id, or a Ref to an assistant
the same plan creates (so the test is created after it). An update sends only the top-level fields
that changed (the API's PUT is partial, telnyx-ai-api.md §9.1), each whole.
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler.kinds import ASSISTANT, ASSISTANT_TEST
from reconciler.model import DesiredResource
from reconciler.planning import diff, identity, whole, writes
from reconciler.planning.context import Context
from reconciler.planning.plan import CREATE, NOOP, UPDATE, FieldChange, Ref, ResourceChange

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
        ctx.errors.append(f"{user}: assistant names {name!r}, which is neither in the manifests nor live")
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


def _comparable(res: DesiredResource, spec: dict[str, Any]) -> dict[str, Any]:
    if not res.metadata.ignore_changes:
        return spec
    out = copy.deepcopy(spec)
    for path in res.metadata.ignore_changes:
        diff.drop_path(out, path)
    return out


def _changes(res: DesiredResource, have: dict[str, Any], want: dict[str, Any]) -> list[FieldChange]:
    """Whole-object changes (planning.whole): undeclared fields are desired at their default."""
    name = ASSISTANT_TEST.name_field
    live_c = whole.canonical(ASSISTANT_TEST.kind, {k: v for k, v in have.items() if k != name}, live=True)
    want_c = whole.canonical(ASSISTANT_TEST.kind, {k: v for k, v in want.items() if k != name})
    for side, source in ((live_c, have), (want_c, want)):
        if name in source:
            side[name] = source[name]
        for path in res.metadata.ignore_changes:
            diff.drop_path(side, path)
    return diff.field_changes(live_c, want_c)


def plan(ctx: Context) -> None:
    """Add a change for every declared AssistantTest."""
    matches = ctx.matches[ASSISTANT_TEST.kind]
    for res in ctx.desired.of_kind(ASSISTANT_TEST.kind):
        if res.address not in matches.live_for:
            continue  # matching failed (a pin to nothing, ambiguous names): already an error
        obj = matches.live_for[res.address]
        want = _comparable(res, {ASSISTANT_TEST.name_field: res.name, **res.spec})
        if obj is None:
            body = {k: v for k, v in _api_body(ctx, res, {ASSISTANT_TEST.name_field: res.name, **res.spec}).items()
                    if v is not None}
            ctx.add(ResourceChange(res.address, ASSISTANT_TEST.kind, res.name, [CREATE],
                                   changes=diff.creation_changes(want),
                                   operations=[writes.op_create_test(body, res.name)]))
            continue
        test_id = str(obj[ASSISTANT_TEST.id_field])
        have = _manifest_form(ctx, obj, res)
        changes = _changes(res, have, want)
        ops = []
        if changes:
            tops = sorted({c.path.split(".")[0].split("[")[0] for c in changes})
            body = _api_body(ctx, res, {k: want.get(k) for k in tops})
            ops = [writes.op_update_test(test_id, body)]
        ctx.add(ResourceChange(res.address, ASSISTANT_TEST.kind, res.name, [UPDATE] if changes else [NOOP],
                               id=test_id, changes=changes, operations=ops))


def suite_members(ctx: Context, suite: str) -> list[str]:
    """Addresses of the declared tests of `suite` (what a gate on it waits for)."""
    return [r.address for r in ctx.desired.of_kind(ASSISTANT_TEST.kind) if r.spec.get("test_suite") == suite]
