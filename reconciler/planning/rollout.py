"""Rollouts: traffic gates and promotion, as plan steps. Pure, over the Context.

A gate (`versions[].gate: {suite}`) is a step of its own, `assistant.NAME.version.VNAME.gate`: when a
plan raises the traffic a gated version receives (it enters the canary, its percentage grows, or it is
promoted to main), the gate runs the suite against that version after the version is in place, and the
change that moves the traffic depends on it. A failed gate therefore skips the traffic change: no
traffic moves. A plan that lowers or keeps a version's traffic has no gate.

Promotion (`spec.main_version: VNAME`) is the step `assistant.NAME.promotion`: the API's promote
endpoint makes the version main, keeps the old main as a named version and deletes the canary
configuration (telnyx-ai-api.md §3.1), so going back is one more change of `main_version`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.kinds import KIND_GATE, KIND_PROMOTION
from reconciler.model import DesiredResource, VersionSpec
from reconciler.planning import assistant_tests, writes
from reconciler.planning.context import Context
from reconciler.planning.plan import CREATE, UPDATE, FieldChange, Ref, ResourceChange

MAIN_TRAFFIC = 100.0


def traffic(split: Iterable[dict[str, Any]]) -> dict[str, float]:
    """version name -> the percentage of traffic it receives, from `[{version, percentage}]`."""
    out: dict[str, float] = {}
    for entry in split:
        pct = entry.get("percentage")
        if isinstance(pct, int | float):
            out[str(entry.get("version"))] = out.get(str(entry.get("version")), 0.0) + float(pct)
    return out


def promoting(res: DesiredResource, live: dict[str, Any]) -> bool:
    """Whether the plan promotes: `main_version` names a version other than the live main's."""
    return res.main_version is not None and live.get("version_name") != res.main_version


def gate_address(res: DesiredResource, version: str) -> str:
    return f"{res.address}.version.{version}.gate"


def plan_gate(ctx: Context, res: DesiredResource, version: VersionSpec, version_id: str | Ref,
              assistant: str | Ref, before: float, after: float) -> str | None:
    """Add the gate of `version` when its traffic rises from `before` to `after` percent; return the
    gate's address (for the traffic change to depend on), or None when there is nothing to gate."""
    if version.gate is None or after <= before:
        return None
    address = gate_address(res, version.name)
    suite = version.gate.suite
    waits = [f"{res.address}.version.{version.name}", *assistant_tests.suite_members(ctx, suite)]
    ctx.add(ResourceChange(
        address, KIND_GATE, suite, [CREATE],
        changes=[FieldChange("suite", None, suite), FieldChange("version", None, version.name),
                 FieldChange("traffic_before", None, before), FieldChange("traffic_after", None, after)],
        operations=[writes.op_run_gate(suite, version_id, assistant, version.gate.timeout_s)],
        depends_on=waits,
        reason=f"traffic to version {version.name} rises from {before:g}% to {after:g}%: test suite {suite} "
               f"must pass against it first, or no traffic moves"))
    return address


def promotion_address(res: DesiredResource) -> str:
    return f"{res.address}.promotion"


def plan_promotion(ctx: Context, res: DesiredResource, assistant: str | Ref, version_id: str | Ref,
                   old_main: str, live_split: list[dict[str, Any]], waits: list[str]) -> str:
    """Add the promotion of `res.main_version` (the live main is `old_main`); `live_split` is the live
    canary by version name, which the promotion deletes."""
    assert res.main_version is not None
    changes = [FieldChange("main_version", old_main, res.main_version)]
    if live_split:
        changes.append(FieldChange("canary", live_split, []))  # promote deletes the canary configuration
    address = promotion_address(res)
    ctx.add(ResourceChange(
        address, KIND_PROMOTION, res.main_version, [UPDATE], changes=changes,
        operations=[writes.op_promote(assistant, version_id)], depends_on=list(waits),
        reason=f"version {res.main_version} becomes main; {old_main} stays as a named version"))
    return address
