"""Memory a command need not manage: `paused_gc()`, no cyclic garbage collection during a burst of
allocation that makes no cycles; and `keep_until_exit()`, objects a command is done with that the
process, which ends at once after it (`cli.entry`), never frees one by one.

Loading manifests and planning build hundreds of thousands of small dicts, lists and tuples that
live until the end of the step. CPython's collector runs a pass each time 700 more objects exist
than were freed, and each older-generation pass walks every live object again: a third of the CPU
of validating 1,000 documents went to passes that found nothing to free. Reference counting frees
everything as before; only cycles wait for a later full pass (the limits of manifest/limits.py bound
what a step can allocate at all).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Set by `cli.entry()`, which ends the process with os._exit once the command returns. Unset (tests
# calling `cli.main`, library use), nothing is kept: each call's objects are freed as usual.
ends_at_once = False
_kept: list[Any] = []


@contextmanager
def paused_gc() -> Iterator[None]:
    """Collection off inside the block (as it was before, after it; nesting is harmless)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            # What the block made moves to the oldest generation in one step (freeze, then unfreeze:
            # two list splices), instead of the next young pass walking all of it again. A full
            # pass, which runs once enough new objects exist, still frees any cycle among them.
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def keep_until_exit(*objects: Any) -> None:
    """Hold `objects` until the process ends, if it ends at once after the command (`ends_at_once`).

    Freeing the desired and live state and the plan of 1,000 assistants, as the command returns,
    took 50-100 ms after its output was written (issue 16): time the user waits for nothing.
    """
    if ends_at_once:
        _kept.extend(objects)
