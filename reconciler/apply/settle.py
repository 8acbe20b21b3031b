"""Settling a step whose outcome is unknown, by reading again after the run's other steps.

A write whose answer was lost (a 5xx, a timeout or a dropped connection after it was sent), when
even the lookup that should settle it failed, leaves the step `unknown` (api/client.py raises an
ApiError with `uncertain`). The applier then carries on with everything that does not depend on it,
and afterwards calls `read_again` for each unknown step, with growing waits (the API was unwell a
moment ago): a create is looked up by name (found: done, its id used by the steps that wait for
it; absent: failed), an update or delete, which sets a target state, is sent again (answered:
done). When no read answers within `WAITS_S`, the step stays unknown and the user is told to plan
again (docs/api-assumptions.md: which answers are taken as "may have landed").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from reconciler.api.client import SETTLE_RETRIES, few_retries
from reconciler.errors import ApiError, ReconcilerError

T = TypeVar("T")

# Waits before each read-back round: ~16 s in all, each round a request tried SETTLE_RETRIES + 1 times.
WAITS_S = (0.1, 0.3, 0.5, 1.0, 2.0, 4.0, 8.0)
STILL_UNKNOWN = "outcome unknown: run plan again to see whether it landed"


class Uncertain(ReconcilerError):
    """A step's operation `index` was sent and its outcome is unknown; `current` is the resource's
    id as far as the step got (None before its create)."""

    def __init__(self, message: str, index: int, current: str | None) -> None:
        super().__init__(message)
        self.index = index
        self.current = current


def is_uncertain(exc: BaseException) -> bool:
    """Whether `exc` leaves a write's outcome unknown (rather than refused or failed)."""
    return isinstance(exc, ApiError) and exc.uncertain


async def read_again(read_back: Callable[[], Awaitable[T]], waits: tuple[float, ...] = WAITS_S) -> T:
    """`read_back()`'s answer, from the first round that gets one. Between rounds, the waits; within
    a round, few retries. An error that does not leave things uncertain (a 4xx) is raised at once;
    after the last round, the last uncertain one is."""
    last: ApiError | None = None
    for wait in waits:
        await asyncio.sleep(wait)
        try:
            with few_retries(SETTLE_RETRIES):
                return await read_back()
        except ApiError as exc:
            if not (exc.retryable or exc.uncertain):
                raise
            last = exc
    assert last is not None, "no read-back round was run"
    raise last
