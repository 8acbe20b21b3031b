"""Saved plans (`plan --out FILE`, `apply FILE`).

A saved plan holds the plan document, the resolved desired state with `${env:…}` references in place
of their values (so no secret is ever written to disk), the options it was made with, and a
fingerprint of every live object it read. `apply FILE` re-reads live state, refuses if any
fingerprint changed, re-plans from the saved desired state and checks that the result is the saved
plan, so that what runs is exactly what was reviewed.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, StalePlanError
from reconciler.kinds import BY_PREFIX
from reconciler.manifest import desired_from_dict, dump_desired
from reconciler.model import DesiredState, LiveState
from reconciler.planning.plan import Plan
from reconciler.render.document import Origin, plan_document

SAVED_KIND = "reconciler-saved-plan"


@dataclass
class SavedPlan:
    document: dict[str, Any]
    desired: DesiredState
    fingerprints: dict[str, str]
    prune: bool = False
    targets: list[str] = field(default_factory=list)
    origin: Origin | None = None  # what the plan is of: its project, environment and commit

    @property
    def environment(self) -> str | None:
        return self.desired.project.environment


def save(path: str | os.PathLike[str], plan: Plan, desired: DesiredState, live: LiveState, *,
         prune: bool, targets: list[str], origin: Origin | None = None) -> None:
    """Write the saved plan atomically (a reader never sees half a file). The environment it is for is
    the desired state's (`desired.project.environment`); `apply FILE --env OTHER` refuses it."""
    data = {
        "kind": SAVED_KIND,
        "format_version": "1",
        "plan": plan_document(plan),
        "desired": dump_desired(desired),
        "options": {"prune": prune, "targets": list(targets)},
        "fingerprints": live.fingerprints,
        "origin": None if origin is None else {
            "project": origin.project, "environment": origin.environment, "commit": origin.commit},
    }
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=".plan-", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot write the plan: {exc.strerror or exc}") from None


def is_saved_plan(path: str | os.PathLike[str]) -> bool:
    """True if `path` is a file holding a saved plan (rather than a manifest)."""
    p = Path(path)
    if not p.is_file() or p.suffix in (".yaml", ".yml"):
        return False
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == SAVED_KIND


def looks_like_saved_plan(path: str | os.PathLike[str]) -> bool:
    """What `apply FILE` treats as a saved plan: a saved plan, or a file that is no manifest
    (not .yaml/.yml) and so can only be meant as one; `load` then says what is wrong with it."""
    p = Path(path)
    return is_saved_plan(p) or (p.is_file() and p.suffix not in (".yaml", ".yml"))


def load(path: str | os.PathLike[str]) -> SavedPlan:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable saved plan ({exc})") from None
    if data.get("kind") != SAVED_KIND or data.get("format_version") != "1":
        raise ConfigError(f"{path}: not a saved plan of format version 1")
    options = data.get("options", {})
    about = data.get("origin")
    return SavedPlan(
        document=data["plan"],
        desired=desired_from_dict(data["desired"]),
        fingerprints=dict(data.get("fingerprints", {})),
        prune=bool(options.get("prune", False)),
        targets=list(options.get("targets", [])),
        origin=Origin(str(about.get("project")), about.get("environment"), about.get("commit"))
        if isinstance(about, dict) else None,
    )


def check_environment(saved: SavedPlan, environment: str | None, path: str) -> None:
    """A saved plan runs only in the environment it was made for (`--env` may repeat it, not change it)."""
    if environment is not None and environment != saved.environment:
        made = f"environment {saved.environment}" if saved.environment else "a project without environments"
        raise ConfigError(f"{path}: this plan was made for {made}, not for environment {environment}: "
                          f"refusing to apply it (plan again with --env {environment})")


def check_fresh(saved: SavedPlan, live: LiveState) -> None:
    """Refuse a plan whose live objects changed since it was made, naming them. Only the objects the
    plan touches count (those its changes and orphans name, with their versions and canary), and the
    sets of ids of each kind (an object appearing or going); a change to anything else that would alter
    the plan is caught when apply re-plans and compares (issue #11: another team's edit is not stale)."""
    now = live.fingerprints
    touched = {str(x["id"]) for x in [*saved.document.get("resource_changes", []), *saved.document.get("orphans", [])]
               if x.get("id")}

    def relevant(key: str) -> bool:
        _, _, rest = key.partition("/")
        object_id = rest.partition("/")[0]
        return object_id == "ids" or object_id in touched

    changed = sorted(k for k, v in saved.fingerprints.items() if relevant(k) and now.get(k) != v)
    appeared = sorted(k for k in now if k not in saved.fingerprints and relevant(k))
    if changed or appeared:
        names = [_describe(k, live) for k in changed] + [f"{_describe(k, live)} (new)" for k in appeared]
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise StalePlanError(f"the plan is stale: re-run plan (changed since it was made: {shown})")


def _describe(key: str, live: LiveState) -> str:
    """A fingerprint key (`assistant/<id>/versions`) as a reader knows it: kind, name and id."""
    kind, _, rest = key.partition("/")
    object_id, _, part = rest.partition("/")
    objects = {"assistant": live.assistants, "tool": live.tools, "mcp_server": live.mcp_servers,
               "assistant_test": live.tests}.get(kind, [])
    name_field = BY_PREFIX[kind].name_field if kind in BY_PREFIX else "name"
    id_field = BY_PREFIX[kind].id_field if kind in BY_PREFIX else "id"
    name = next((str(o.get(name_field)) for o in objects if str(o.get(id_field)) == object_id), None)
    if object_id == "ids":
        return f"the set of {kind.rstrip('s')}s"
    where = f"{kind} {name} ({object_id})" if name else f"{kind} {object_id} (deleted)"
    return f"{where} {part}".strip()
