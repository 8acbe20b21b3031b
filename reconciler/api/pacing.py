"""Pacing under a declared rate limit: start requests no faster than the API's `x-ratelimit-*`
headers allow, instead of sending at full parallelism and being refused (telnyx-ai-api.md §1.4).

Every response may carry `x-ratelimit-limit` (requests per window), `x-ratelimit-remaining` and
`x-ratelimit-reset` (seconds until the window resets). Until a response has declared a limit nothing
is paced. Once one has, request starts are spaced evenly at `HEADROOM` of the declared rate:
  interval = window / (limit x HEADROOM)
where the window is the longest `reset` seen (at least one second: Telnyx sends whole seconds).
Even spacing keeps each fixed window a little under its limit whatever its phase, so that the jitter
of a busy client does not tip a window over. The requests the server had already counted when the
limit was first seen take their places in the schedule, so the first window is not overfilled either.
A 429, or a response saying nothing remains (someone else shares the limit), stops every start
until its `reset` has passed.

Before the first answer nobody knows whether there is a limit: only `PROBE` requests start until one
has finished, so that a full `--parallelism` burst cannot overfill the first window.

Without any rate-limit header, `wait` returns at once: an unlimited API is not slowed down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

HEADROOM = 0.95  # of the declared rate; the margin that absorbs jitter in when requests arrive
PROBE = 4  # requests that may start before the first answer says whether there is a limit
MAX_WAIT = 60.0  # a reset further away than this is not believed


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


class Pacer:
    """Decides when the next request may start. One per client; all of it runs on one event loop."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.limit: float | None = None  # requests per window, once declared
        self.window = 1.0  # seconds
        self.refused = 0  # 429s seen
        self._next = 0.0  # the earliest start of the next request
        self._blocked_until = 0.0
        self._started = 0
        self._answered = asyncio.Event()  # set once any request has finished

    @property
    def interval(self) -> float:
        """Seconds between request starts (0 while no limit is known)."""
        if not self.limit:
            return 0.0
        return self.window / (self.limit * HEADROOM)

    async def wait(self) -> None:
        """Return when the next request may start (at once when no limit is known)."""
        if not self._answered.is_set() and self._started >= PROBE:
            await self._answered.wait()
        self._started += 1
        while True:
            now = self._clock()
            if self._blocked_until > now:
                await asyncio.sleep(self._blocked_until - now)
                continue
            interval = self.interval
            if not interval:
                return
            start = max(now, self._next)
            self._next = start + interval
            if start <= now:
                return
            await asyncio.sleep(start - now)
            woke = self._clock()
            if self._blocked_until <= woke and woke - start <= interval:
                return
            # A 429 or an exhausted window arrived meanwhile (wait for its reset), or the event loop was
            # busy and this start is stale: sent now, it would land in the same window as the ones
            # scheduled after it. Either way, take a new place.

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn the limit, the window and what remains from one response's headers."""
        limit = _number(headers, "x-ratelimit-limit")
        remaining = _number(headers, "x-ratelimit-remaining")
        reset = _number(headers, "x-ratelimit-reset")
        now = self._clock()
        if limit:
            if reset is not None and reset <= MAX_WAIT:
                self.window = max(self.window, reset)
            if self.limit is None and remaining is not None:
                # What the server already counted in this window takes its place in the schedule.
                used = max(0.0, limit - remaining)
                self._next = max(self._next, now + used * self.window / (limit * HEADROOM))
            self.limit = limit
        if status == 429:
            self.refused += 1
        elif remaining == 0 and reset is not None:
            self.block(reset)

    def finished(self) -> None:
        """A request has finished, answered or not: the probe is over."""
        self._answered.set()

    def block(self, seconds: float) -> None:
        """No request starts for `seconds` (a 429's wait, or until an exhausted window resets)."""
        self._blocked_until = max(self._blocked_until, self._clock() + min(max(seconds, 0.0), MAX_WAIT))
