"""Between manifest form and API form, and the field-by-field comparison of the two: what a live object
looks like in manifest form (ids back to names), what a manifest spec looks like as an API body (names
to ids, or Refs to what the same plan creates), the field changes between live and desired (both whole,
undeclared fields at their defaults), and the update body that carries exactly those changes. No I/O.
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler.kinds import API_NAME, KINDS, REFERENCE_KEYS, SERVER_DEFAULTED, SERVER_SET_PATHS
from reconciler.model import DesiredResource
from reconciler.planning import defaults, diff, whole
from reconciler.planning.context import Context
from reconciler.planning.plan import FieldChange
from reconciler.tree import at, dotted


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


def set_path(value: dict[str, Any], dotted: str, item: Any) -> None:
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


def top_fields(changes: list[FieldChange]) -> list[str]:
    """The top-level fields the changes are in (`tools[0].webhook.url` -> `tools`): what a body sends."""
    tops = {c.path.split(".")[0].split("[")[0] for c in changes}
    return sorted(tops)


def api_body(ctx: Context, spec: dict[str, Any], user: str) -> dict[str, Any]:
    """A manifest-form assistant spec as an API body: names become ids or Refs."""
    body = {k: v for k, v in spec.items() if k not in REFERENCE_KEYS}
    if spec.get("shared_tools") is not None:
        body["tool_ids"] = [ctx.ref("Tool", n, user) for n in spec["shared_tools"]]
    if spec.get("mcp_servers") is not None:
        body["mcp_servers"] = [
            {"id": ctx.ref("McpServer", e["server"], user), **({k: v for k, v in e.items() if k != "server"})}
            for e in spec["mcp_servers"]
        ]
    return body


def manifest_form(ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
    """A live assistant (or version) in manifest form, for comparison: a new dict, whose values are
    the live object's (not to be changed)."""
    out = dict(obj)
    tool_ids = out.pop("tool_ids", None)
    if tool_ids is not None:
        out["shared_tools"] = [ctx.names["Tool"].get(str(t), str(t)) for t in tool_ids]
    if isinstance(out.get("mcp_servers"), list):
        out["mcp_servers"] = [
            {"server": ctx.names["McpServer"].get(str(e.get("id")), str(e.get("id"))),
             **{k: v for k, v in e.items() if k != "id"}}
            for e in out["mcp_servers"] if isinstance(e, dict)
        ]
    return out


def compare(kind: str, res: DesiredResource, have: dict[str, Any], want: dict[str, Any],
            shared: whole.Shared | None = None) -> list[FieldChange]:
    """Field changes from `have` (live, manifest form) to `want` (the manifest's spec), both whole:
    undeclared fields are desired at their default (shown as such) or absent. `shared` holds the
    canonical forms of both sides' top-level values for the next compare of the same resource (its
    versions)."""
    name_field = KINDS[kind].name_field
    # Identity fields outside the spec schema: the name, and main's version_name under main_version.
    names = (name_field, "version_name")
    keep = {k: have[k] for k in SERVER_DEFAULTED.get(kind, ()) if k in have and k not in want}
    # `ignore_changes` paths are dropped below: such canonical forms are not shared.
    if res.metadata.ignore_changes:
        shared = None
    live_c = whole.canonical(kind, have, live=True, shared=shared, leave_out=names)
    want_c = whole.canonical(kind, {**keep, **want} if keep else want, shared=shared, leave_out=names)
    for c in (live_c, want_c):
        for key in names:
            if key in want:
                c[key] = have.get(key) if c is live_c else want[key]
        for path in res.metadata.ignore_changes:
            diff.drop_path(c, path)
    # Most objects are unchanged: equal canonical forms need no aligning and no field-by-field diff.
    changes = [] if diff.equal(live_c, want_c) else diff.field_changes(*_aligned(live_c, want_c))
    out = []
    for change in (part for whole_change in changes for part in _unaligned(kind, have, want, whole_change)):
        # A side left out because it equals its default is shown as that default.
        before, after = change.before, change.after
        if before is None:
            before = defaults.default_at(kind, have, parse_path(change.path))
        if after is None:
            after = defaults.default_at(kind, want, parse_path(change.path))
        if diff.equal({"v": before}, {"v": after}):
            continue
        out.append(FieldChange(change.path, before, after, change.sensitive))
    return out


def _unaligned(kind: str, have: dict[str, Any], want: dict[str, Any], change: FieldChange) -> list[FieldChange]:
    """A change from or to `{}`, which only `_aligned` puts in (canonical forms hold no empty object),
    as what that side holds instead. Where it holds the object at its defaults (live, an object the
    server keeps at them; an update, one it sends filled with them), each leaf at its declared
    default, else null; where it holds no object (live has none; the update leaves it out of the body,
    or sends null), the whole object, `null`. Never `{}`, which no side holds."""
    before, after = change.before, change.after
    if before == {} and isinstance(after, dict) and after:
        held, emptied_before = after, True
    elif after == {} and isinstance(before, dict) and before:
        held, emptied_before = before, False
    else:
        return [change]
    path = parse_path(change.path)
    if not isinstance(at(have, path) if emptied_before else _sent(kind, have, want, path), dict):
        return [FieldChange(change.path, None if emptied_before else before, after if emptied_before else None,
                            change.sensitive)]
    leaves: list[tuple[list[str | int], Any]] = []
    _leaves(held, path, leaves)
    root = have if emptied_before else want
    out = []
    for leaf, value in leaves:
        default = defaults.default_at(kind, root, leaf)
        out.append(FieldChange(dotted(leaf), default if emptied_before else value, value if emptied_before else default,
                               change.sensitive))
    return out


def _sent(kind: str, have: dict[str, Any], want: dict[str, Any], path: list[str | int]) -> Any:
    """What an update body sends at `path` (`update_body`): the desired value with its defaults, or,
    for a server-created object cleared, that object reset to its defaults."""
    if len(path) == 1 and any(parent == path[0] and isinstance(have.get(parent), dict) and key in have[parent]
                              for parent, key in SERVER_SET_PATHS.get(kind, ())):
        return {}
    return at(defaults.fill_defaults(kind, {k: v for k, v in want.items() if k not in REFERENCE_KEYS}), path)


def _leaves(value: Any, path: list[str | int], out: list[tuple[list[str | int], Any]]) -> None:
    """Each non-object value inside the object `value` (at `path`), with its path, onto `out`."""
    for key, item in value.items():
        if isinstance(item, dict) and item:
            _leaves(item, [*path, key], out)
        else:
            out.append(([*path, key], item))


def update_body(ctx: Context, kind: str, res: DesiredResource, live: dict[str, Any], want: dict[str, Any],
                changes: list[FieldChange], user: str) -> dict[str, Any]:
    """For each changed top-level field, its whole desired value (defaults filled in), or null to
    clear it; what the server created inside it, and ignored paths, as they are live."""
    body: dict[str, Any] = {}
    api_want = api_body(ctx, {k: want[k] for k in REFERENCE_KEYS if k in want}, user)
    tops = top_fields(changes)
    filled = defaults.fill_defaults(kind, {k: v for k, v in want.items() if k not in REFERENCE_KEYS}, tops)
    for top in tops:
        if top in REFERENCE_KEYS:
            name = API_NAME.get(top, top)
            body[name] = api_want.get(name)  # absent means the manifest clears it: send null
            continue
        value = copy.deepcopy(filled.get(top))
        for parent, key in SERVER_SET_PATHS.get(kind, ()):
            held = live.get(parent)
            if parent == top and value is None and isinstance(held, dict) and key in held:
                # Cleared: reset to its defaults, but the object the server created stays.
                value = defaults.fill_defaults(kind, {top: {}})[top]
            if parent == top and isinstance(value, dict) and isinstance(held, dict) and key in held:
                value.setdefault(key, held[key])
        for path in res.metadata.ignore_changes:
            head, _, rest = path.partition(".")
            if head == top and rest and isinstance(value, dict):
                set_path(value, rest, at(live.get(top), rest.split(".")))
        body[top] = value
    return body


def tool_update_body(body: dict[str, Any], kind: Any) -> dict[str, Any]:
    """A shared tool's PATCH body (`update_body`'s) without nulls: the API takes no null for a payload
    (SDK 4.189.0 `ToolUpdateParams` types each one a dict). Another type's payload, which the
    manifest cannot hold, is left out: the PATCH that changes `type` to `kind` makes a definition of
    that type without it (docs/api-assumptions.md). The tool's own payload left out (optional for
    `vision` alone) is sent as `{}`, the payload at its defaults, which reads back as absent."""
    return {key: {} if value is None else value for key, value in body.items() if value is not None or key == kind}
