"""Which account a plan runs against: an environment's plan refuses an account that holds another
environment's assistants (docs/manifests.md, "Environments"). Pure: reads the live listing only.

Each environment marks what it creates with its own owner tag. The live assistants of an account say
whose they are, so a plan for `staging` that finds an assistant carrying `production`'s mark is
running with production's key (or base URL): it stops before anything is planned, let alone written.
"""

from __future__ import annotations

from reconciler.errors import PlanError
from reconciler.model import DesiredState, EnvironmentSpec, LiveState


def check(desired: DesiredState, live: LiveState, command: str = "plan") -> None:
    """Raise PlanError when the account holds assistants marked as another environment's (`command`:
    what is refused, for the message)."""
    project = desired.project
    marks = project.foreign_marks()
    if not marks:
        return
    found: dict[str, list[str]] = {}
    for obj in live.assistants:
        for tag in obj.get("tags") or []:
            env = marks.get(str(tag))
            if env is not None:
                found.setdefault(env, []).append(f"{obj.get('name')} ({obj.get('id')})")
    if not found:
        return
    current = project.current
    key = current.api_key_env if current is not None else "TELNYX_API_KEY"
    whose = "; ".join(
        f"environment {env}: {len(names)} assistant(s) tagged {_tag(project.environments, env)!r}, e.g. "
        + ", ".join(names[:3]) for env, names in sorted(found.items()))
    raise PlanError(f"refusing to {command} environment {project.environment} of project {project.name}: this "
                    f"account holds another environment's assistants ({whose}). The API key ({key}) or the "
                    f"base URL is that environment's account; nothing was changed")


def _tag(environments: tuple[EnvironmentSpec, ...], env: str) -> str:
    return next(e.owner_tag for e in environments if e.name == env)
