"""Detecting a concurrent run through the account, before writing.

The Telnyx API offers nothing to lock an account with: no lock resource, no conditional writes
(If-Match/ETags), and names are not unique, so a marker object cannot be created atomically either
(two runs would both create theirs, or, with one idempotency key, both be told they did). What the
account does show is other writers' work. So just before its first write, apply reads the listings
again (assistants, shared tools, MCP servers, and tests when the plan read them) and compares them
with what the plan was computed from: if anything appeared, went or changed, another run (or a
person) is writing, and apply stops before writing anything, saying so (exit 1; running it again
plans from the new state). Two runs that pass this check at the same moment send the same creates
with the same idempotency keys (idempotency.py), so the API creates each object once.
"""

from __future__ import annotations

from typing import Any

from reconciler.api import reads
from reconciler.api.client import ApiClient, gather_all
from reconciler.errors import ApplyError
from reconciler.live import fingerprints
from reconciler.model import LiveState


class ConcurrentRunError(ApplyError):
    """The account changed between the plan's reads and the first write: another writer is at work."""


def _listed(prints: dict[str, str]) -> dict[str, str]:
    """The fingerprints of the listings (`assistant/<id>`, `assistants/ids`), not of versions or canaries."""
    return {k: v for k, v in prints.items() if k.count("/") == 1}


async def check_quiet(client: ApiClient, live: LiveState) -> None:
    """Raise ConcurrentRunError if the listings the plan read have changed since."""

    async def none() -> list[dict[str, Any]]:
        return []

    assistants, tools, mcp_servers, tests = await gather_all(
        reads.list_assistants(client), reads.list_tools(client), reads.list_mcp_servers(client),
        reads.list_tests(client) if live.tests else none(),
    )
    now = _listed(fingerprints(LiveState(assistants=assistants, tools=tools, mcp_servers=mcp_servers,
                                         tests=tests)))
    before = _listed(live.fingerprints)
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k) and "/ids" not in k)
    if changed or before.keys() != now.keys():
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise ConcurrentRunError(
            f"the account changed while this apply was planning ({shown or 'listings'}): another run of "
            "reconciler, or a person, is writing to it. Nothing was written; run apply again to plan "
            "from the new state (in CI, a concurrency group per project and environment avoids this)")
