"""The plan JSON document (format_version 1): the contract from which every other view is built,
published as schemas/plan.schema.json. Sensitive values never reach it: they become `(sensitive)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.model import SensitiveStr
from reconciler.planning.plan import FORMAT_VERSION, FieldChange, Plan, Ref

SENSITIVE = "(sensitive)"


def mask(value: Any) -> Any:
    """A JSON-able copy of `value` in which every sensitive string reads `(sensitive)`."""
    if isinstance(value, SensitiveStr):
        return SENSITIVE
    if isinstance(value, dict):
        return {str(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    if isinstance(value, Ref):
        return f"(known after apply: {value.address})"
    return value


def _change(fc: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": fc.path, "before": mask(fc.before), "after": mask(fc.after)}
    if fc.sensitive:
        # The old value of a field that now holds a secret is most likely the old secret.
        out["before"] = SENSITIVE if fc.before is not None else None
        out["sensitive"] = True
    return out


@dataclass(frozen=True)
class Origin:
    """What a plan is of: the project, the environment (None without environments) and the commit of
    the manifests (None when unknown). Every view prints it, so two environments' plans are never
    confused; it is not part of what a saved plan compares."""

    project: str
    environment: str | None = None
    commit: str | None = None


ORIGIN_KEYS = ("project", "environment", "commit")


def plan_document(plan: Plan, origin: Origin | None = None) -> dict[str, Any]:
    """The versioned JSON plan; with `origin`, it says what it is of (ORIGIN_KEYS)."""
    changes = []
    for rc in plan.resource_changes:
        entry: dict[str, Any] = {
            "address": rc.address,
            "kind": rc.kind,
            "name": rc.name,
            "actions": list(rc.actions),
            "id": rc.id,
            "changes": [_change(fc) for fc in rc.changes],
        }
        if rc.depends_on:
            entry["depends_on"] = sorted(rc.depends_on)
        if rc.reason:
            entry["reason"] = rc.reason
        changes.append(entry)
    about = {} if origin is None else {
        "project": origin.project, "environment": origin.environment, "commit": origin.commit}
    return {
        "format_version": FORMAT_VERSION,
        **about,
        "summary": plan.summary(),
        "resource_changes": changes,
        "orphans": [{"address": o.address, "kind": o.kind, "name": o.name, "id": o.id, "note": o.note}
                    for o in plan.orphans],
        "warnings": list(plan.warnings),
    }
