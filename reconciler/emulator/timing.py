"""When the emulator's answers leave: the injected latency counted from the request's arrival, and an
event loop whose timers fire when due rather than up to a millisecond later.

Two things made every round trip over loopback take longer than the latency asked for (bench/notes.md,
"round trip"): the latency was counted from `dispatch`, after uvicorn had parsed the request and its
task had waited for its turn on the loop (0.1-0.3 ms), and asyncio's epoll selector rounds every wait
up to whole milliseconds (epoll_wait takes milliseconds), so each answer's timer fired 0-1 ms late,
0.5 ms on average. The server (`server.py`) notes when the last bytes of a request arrived (`ARRIVED`
in its ASGI scope) and `answer_at` counts the latency from there; `precise_loop` waits with select()
on the epoll descriptor, which takes microseconds, then collects the events from epoll. An answer
still never leaves before its latency has passed since its request arrived.
"""

from __future__ import annotations

import asyncio
import select
import selectors
import time
from collections.abc import Mapping
from typing import Any

# The ASGI scope key holding time.monotonic() when the request's last bytes arrived (server.py).
ARRIVED = "reconciler.arrived"


def answer_at(scope: Mapping[str, Any], dispatched: float, returned: float, delay_s: float) -> float:
    """When (time.monotonic()) to send an answer that `dispatch`, called at `dispatched` and returned at
    `returned`, said to send `delay_s` later: counted from the request's arrival when the server noted
    it (the time before dispatch is part of the latency too), else from dispatch as before."""
    arrived = scope.get(ARRIVED)
    due = returned + delay_s
    if isinstance(arrived, float) and arrived <= dispatched:
        due -= dispatched - arrived
    return due


async def sleep_until(due: float) -> None:
    """Wait until time.monotonic() reaches `due` (not at all if it has)."""
    wait = due - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


if hasattr(selectors, "EpollSelector"):

    class _PreciseSelector(selectors.EpollSelector):
        """epoll, except that a timed wait that finds nothing ready is a select() on the epoll
        descriptor (readable once any registered descriptor has an event), whose timeout is in
        microseconds, before collecting the events with a non-blocking epoll_wait. An untimed or
        zero wait is epoll's own."""

        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is not None and timeout > 0:
                # Busy, something is usually ready: one syscall, as before. select() costs more
                # than epoll_wait, so it is only the wait itself.
                ready = super().select(0)
                if ready:
                    return ready
                try:
                    select.select([self.fileno()], [], [], timeout)
                    timeout = 0
                except ValueError:  # a descriptor number past FD_SETSIZE: epoll's millisecond wait
                    pass
            return super().select(timeout)

    def precise_loop() -> asyncio.AbstractEventLoop:
        """An asyncio event loop whose timed waits end within microseconds of the next timer."""
        return asyncio.SelectorEventLoop(_PreciseSelector())

else:  # no epoll (macOS, Windows): the default loop, as before

    def precise_loop() -> asyncio.AbstractEventLoop:
        """The default event loop."""
        return asyncio.new_event_loop()
