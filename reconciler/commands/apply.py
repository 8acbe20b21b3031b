"""`reconciler apply PATH...` and `reconciler apply FILE` (a saved plan).

From manifests: load, read live state, plan, show the plan, confirm, apply, report.
From a saved plan: refuse if a secret it sends has another value than when it was planned (it keeps
a salted hash, savedplan.py) or if the account (base URL, API key) is not the one it was made against
(binding.py), re-read every live object the plan read and refuse if any changed ("the
plan is stale"), re-plan from the saved desired state and refuse unless that gives the saved plan again (so
what runs is exactly what was reviewed), then confirm, apply and report like the above.

Confirmation: `--auto-approve` skips it; on a terminal the user must type `yes`; without a terminal
and without `--auto-approve` apply refuses (a CI job must say it means it). The check comes after the
plan is shown, so a refused apply still tells what it would have done, and a plan with no changes
never needs approval. Exit status: 0 when every step was done (or nothing had to be), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from reconciler import waits
from reconciler.api import tls
from reconciler.api.client import check_base_url
from reconciler.apply import applier, binding, concurrency, savedplan
from reconciler.errors import ApplyError, ConfigError, StalePlanError
from reconciler.manifest import load
from reconciler.model import DesiredState, LiveState
from reconciler.pipeline import api_key, api_key_name, base_url, client_for, compute, use_color
from reconciler.planning.plan import Plan
from reconciler.provenance import origin_soon
from reconciler.render.document import Origin, plan_document
from reconciler.render.progress import JsonProgress, TextProgress
from reconciler.render.text import render_text

CONFIRM_WORD = "yes"


class _Source:
    """What to apply: desired state and options, and the saved plan they came from, if any."""

    def __init__(self, desired: DesiredState, prune: bool, targets: list[str], origin: Callable[[], Origin],
                 saved: savedplan.SavedPlan | None = None, saved_path: str | None = None) -> None:
        self.desired = desired
        self.origin = origin  # asked for once the plan is made (the git calls run during the reads)
        self.prune = prune
        self.targets = targets
        self.saved = saved
        self.saved_path = saved_path


def _source(args: argparse.Namespace) -> _Source:
    paths: list[str] = list(args.paths)
    if len(paths) > 1 and any(savedplan.is_saved_plan(p) for p in paths):
        raise ConfigError("a saved plan must be the only argument of apply")
    if len(paths) == 1 and savedplan.looks_like_saved_plan(paths[0]):
        if args.prune or args.target:
            raise ConfigError("--prune and --target cannot be combined with a saved plan: "
                              "they were fixed when the plan was made")
        saved = savedplan.load(paths[0])  # refuses a secret that is not the reviewed one, before any write
        savedplan.check_environment(saved, args.env, paths[0])
        # Before any request: another account (base URL or key) than the plan was made against would
        # receive what was reviewed for this one.
        project = saved.desired.project
        savedplan.check_account(saved, check_base_url(base_url(args, project)), api_key(project),
                                api_key_name(project), paths[0])
        about = saved.origin or Origin(saved.desired.project.name, saved.environment)
        return _Source(saved.desired, saved.prune, saved.targets, lambda: about, saved, paths[0])
    # Manifests are read before any network access: bad manifests make no API call.
    desired = load(paths, environment=args.env, root=args.root)
    return _Source(desired, args.prune, list(args.target), origin_soon(desired, paths, args.root))


def _emit_json(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _show(args: argparse.Namespace, plan: Plan, about: Origin) -> None:
    doc = plan_document(plan, about)
    if args.format == "json":
        _emit_json({"type": "plan", "plan": doc})
    else:
        sys.stdout.write(render_text(doc, color=use_color(args)))
        sys.stdout.flush()


def confirm(args: argparse.Namespace) -> bool:
    """Whether the user approved. Raises ConfigError when approval is needed but cannot be asked."""
    if args.auto_approve:
        return True
    if not sys.stdin.isatty():
        raise ConfigError("apply needs confirmation, but stdin is not a terminal: "
                          "run it in a terminal, or pass --auto-approve (for CI)")
    # The question goes to stderr so that stdout stays machine-readable with --format json.
    sys.stderr.write(f"\nDo you want to perform these actions? Only '{CONFIRM_WORD}' will be accepted: ")
    sys.stderr.flush()
    try:
        with waits.not_counted():
            answer = input()
    except EOFError:
        answer = ""
    return answer.strip() == CONFIRM_WORD


def _normal(doc: dict[str, Any]) -> Any:
    """A plan document as it reads back from a file (tuples become lists, keys sorted)."""
    return json.loads(json.dumps(doc, sort_keys=True, default=str))


def _check_saved(source: _Source, plan: Plan, live: LiveState) -> None:
    """The re-made plan must be the saved one, or what runs would not be what was reviewed."""
    assert source.saved is not None
    if _normal(plan_document(plan)) != _normal(source.saved.document):
        raise StalePlanError(f"the plan is stale: re-run plan ({source.saved_path}: planning again from its "
                             f"manifests gives a different plan)")
    # The plan document names shared tools, MCP servers and a test's assistant by name: what is sent
    # must name the very objects (ids) the reviewed plan's bodies did.
    if binding.references(plan, live) != source.saved.references:
        raise StalePlanError(f"the plan is stale: re-run plan ({source.saved_path}: what it would send names other "
                             f"live objects (by id) than the reviewed plan did)")
    unbound = savedplan.secret_names(plan) - set(source.saved.secrets)
    if unbound:  # what would be sent holds a secret whose reviewed value the file does not bind
        raise StalePlanError(f"the plan is stale: re-run plan ({source.saved_path}: it would send "
                             f"{', '.join(sorted(unbound))}, whose reviewed value it does not record)")


def run(args: argparse.Namespace) -> int:
    """Apply manifests or a saved plan; return 0 when everything was done, 1 otherwise."""
    tls.prepare()  # certificate files only, while the manifests or the saved plan load (api/tls.py)
    source = _source(args)
    hooks: applier.ApplyHooks = (JsonProgress(sys.stdout) if args.format == "json"
                                 else TextProgress(sys.stdout, color=use_color(args)))

    async def go() -> int:
        # The gates' declared waits come on top of the default deadline: a rollout told to wait for
        # its test runs is not cut short by it.
        waits.allow(sum(v.gate.timeout_s for a in source.desired.of_kind("Assistant") for v in a.versions or ()
                        if v.gate is not None))
        async with client_for(args, project=source.desired.project) as client:
            plan, live = await compute(client, source.desired, prune=source.prune, targets=source.targets)
            if source.saved is not None:
                savedplan.check_fresh(source.saved, live)
                _check_saved(source, plan, live)
            _show(args, plan, source.origin())  # long done: a few ms of git against the reads
            if plan.adoptions:
                # Never taken over behind the reviewer's back: the manifest must say so (a pin).
                raise ConfigError("apply refused: " + "; ".join(
                    f"{rc.address} is not this project's (see the plan's warning): set metadata.adopt: true "
                    f"(or pin metadata.id: {rc.id}) to adopt it" for rc in plan.adoptions) + "; nothing was changed")
            if not plan.has_work:
                if args.format == "json":
                    hooks.summary(applier.ApplyResult())
                return 0
            if not confirm(args):
                if args.format == "json":
                    _emit_json({"type": "apply_cancelled"})
                else:
                    print("Apply cancelled: nothing was changed.")
                return 1
            if args.format == "text":
                print()
            # No lock exists in the API: stop if another writer shows in the account (concurrency.py).
            await concurrency.check_quiet(client, live)
            project = source.desired.project
            result = await applier.apply_plan(client, plan, hooks, owner_tag=project.owner_tag,
                                              scope=f"{project.name}/{project.environment or ''}")
            if result.unknown:
                # May have landed: "failed" would be a lie, and "run it again" needs a plan first.
                raise ApplyError(f"apply finished with {len(result.unknown)} step(s) whose outcome is unknown"
                                 f" ({', '.join(s.address for s in result.unknown)}), {len(result.failed)} failed "
                                 f"and {len(result.skipped)} skipped: run plan again to see whether they landed")
            if not result.ok:
                # The hooks have reported every step; this one line on stderr is for CI logs.
                raise ApplyError(f"apply finished with {len(result.failed)} failed and {len(result.skipped)} "
                                 f"skipped step(s); run it again once the failures are fixed")
            return 0

    return waits.run(go, deadline=args.deadline,
                     after="steps in flight are reported unknown: run plan to see where the account stands")
