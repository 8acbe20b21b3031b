"""The shared front half of `plan` and `apply`: connect to the API, read what the plan needs, and plan
as the reads arrive. Commands call `compute`; nothing here prints."""

from __future__ import annotations

import argparse
import os
import sys

import httpx

from reconciler import live as live_state
from reconciler.api.client import ApiClient
from reconciler.errors import ConfigError
from reconciler.model import DesiredState, LiveState
from reconciler.planning import planner
from reconciler.planning.plan import Plan


def api_key() -> str:
    """The API key from TELNYX_API_KEY (never a flag, never printed)."""
    key = os.environ.get("TELNYX_API_KEY", "")
    if not key:
        raise ConfigError("TELNYX_API_KEY is not set: export it to call the API")
    return key


def client_for(args: argparse.Namespace, transport: httpx.AsyncBaseTransport | None = None) -> ApiClient:
    """The API client for a command's connection options."""
    return ApiClient(args.base_url, api_key(), parallelism=args.parallelism, transport=transport)


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


async def compute(client: ApiClient, desired: DesiredState, *, prune: bool, targets: list[str]
                  ) -> tuple[Plan, LiveState]:
    """Fetch what the plan needs and plan: the shared first half of `plan` and `apply`."""
    incremental = _PlanAsReadsArrive(desired, prune)
    live = await live_state.fetch_live(client, desired, prune=prune, listener=incremental)
    assert incremental.planner is not None
    return incremental.planner.finish(targets), live


def use_color(args: argparse.Namespace) -> bool:
    """Colour only on a terminal that can show it, unless turned off (--no-color, or NO_COLOR set to
    anything non-empty, as no-color.org says)."""
    return (not getattr(args, "no_color", False) and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")
