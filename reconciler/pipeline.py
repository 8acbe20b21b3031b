"""The shared front half of `plan` and `apply`: connect to the API, read what the plan needs, and plan
as the reads arrive. Commands call `compute`; nothing here prints."""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from reconciler import live as live_state
from reconciler import waits
from reconciler.api import DEFAULT_BASE_URL
from reconciler.api.client import ApiClient
from reconciler.errors import ConfigError
from reconciler.gcpause import paused_gc
from reconciler.model import DesiredState, LiveState, ProjectSpec
from reconciler.planning import planner
from reconciler.planning.plan import Plan


def api_key_name(project: ProjectSpec | None = None) -> str:
    """The variable the API key is read from: TELNYX_API_KEY, or the environment's `api_key_env`."""
    current = project.current if project is not None else None
    return current.api_key_env if current is not None else "TELNYX_API_KEY"


def api_key(project: ProjectSpec | None = None) -> str:
    """The API key (never a flag, never printed): from TELNYX_API_KEY, or from the variable the
    environment being run names in `api_key_env`."""
    current = project.current if project is not None else None
    name = api_key_name(project)
    key = os.environ.get(name, "")
    if not key:
        where = f" of environment {current.name}" if current is not None else ""
        raise ConfigError(f"{name} is not set: export it to call the API{where}")
    if key != key.strip() or any(c.isspace() or not c.isprintable() for c in key):
        # Pasted with its newline, say: the request could not even be sent, and the error would point
        # at the network. The value itself is never shown.
        raise ConfigError(f"{name} contains whitespace or a control character (a pasted newline?): "
                          f"set it to the key alone")
    if not key.isascii():
        # httpx would fail to encode the header, in a traceback naming one of the key's characters.
        raise ConfigError(f"{name} contains a character that is not ASCII (an HTTP header carries ASCII "
                          f"only): set it to the key alone")
    return key


def base_url(args: argparse.Namespace, project: ProjectSpec | None = None) -> str:
    """The base URL: --base-url, else the environment's `base_url`, else TELNYX_BASE_URL, else Telnyx's."""
    current = project.current if project is not None else None
    given: str | None = getattr(args, "base_url", None)
    return (given or (current.base_url if current is not None else None)
            or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL)


def client_for(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None = None, *,
               project: ProjectSpec | None = None) -> ApiClient:
    """The API client for a command's connection options and the environment being run."""
    client = ApiClient(base_url(args, project), api_key(project), parallelism=args.parallelism,
                       transport=transport, timeout=args.request_timeout)
    return waits.watch(client)  # its slow requests are reported, and named when the deadline passes


class _PlanAsReadsArrive:
    """Plans each assistant as soon as its versions and canary have arrived, so that planning CPU
    overlaps the reads still in flight instead of following them (same plan as `planner.plan`)."""

    def __init__(self, desired: DesiredState, prune: bool) -> None:
        self.desired = desired
        self.prune = prune
        self.planner: planner.Planner | None = None

    def listed(self, live: LiveState) -> None:
        self.planner = planner.Planner(self.desired, live, prune=self.prune)
        for res in self.desired.of_kind("Assistant"):
            if res.versions is None and res.canary is None:
                self.planner.assistant(res)  # needs no further reads

    def assistant_read(self, assistant_id: str) -> None:
        assert self.planner is not None
        res = self.planner.managed(assistant_id)
        if res is not None:
            self.planner.assistant(res)


async def compute(client: ApiClient, desired: DesiredState, *, prune: bool, targets: list[str],
                  fingerprint: bool = True) -> tuple[Plan, LiveState]:
    """Fetch what the plan needs and plan: the shared first half of `plan` and `apply`. Without
    `fingerprint`, the live state has no fingerprints (live.fetch_live): a plan that is only shown."""
    incremental = _PlanAsReadsArrive(desired, prune)
    # The diff library is imported where a change first needs it (planning/diff.py), not in a thread
    # while the reads are in flight: that import took 0.12-0.2 s of CPU from the event loop's GIL on
    # every plan, and a plan of no changes, or of changed scalars, never needs it (bench/notes.md).
    # The reads build the live state and the planning its canonical forms: no cycles among them,
    # and with collection on, each older-generation pass walks all of both (bench/notes.md).
    with paused_gc():
        live = await live_state.fetch_live(client, desired, prune=prune, listener=incremental,
                                           fingerprint=fingerprint)
        assert incremental.planner is not None
        plan = incremental.planner.finish(targets)
    return plan, live


def use_color(args: argparse.Namespace) -> bool:
    """Colour only on a terminal that can show it, unless turned off (--no-color, or NO_COLOR set to
    anything non-empty, as no-color.org says)."""
    return (not getattr(args, "no_color", False) and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")
