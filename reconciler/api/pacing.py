"""Pacing under a declared rate limit: start requests only as the API's `x-ratelimit-*` headers allow,
spending each window's budget without being refused (telnyx-ai-api.md §1.4, docs/api-assumptions.md).

Every response may carry `x-ratelimit-limit` (requests per window), `x-ratelimit-remaining` and
`x-ratelimit-reset` (seconds until the window resets; a value that large is read as a Unix time).
Until a response has declared a limit nothing is paced, except that only `PROBE` requests start
before the first answer (a full `--parallelism` burst could overfill the first window).

The budget. Within a fixed window the server's count only grows, so the lowest `remaining` answered
in the current window, less the requests still in flight (any of them may be counted after it), is
never more than what really remains: a request starts only while that is at least one. Whatever
the window's shape (fixed, sliding, a token bucket), what remains only grows as time passes, so the
guard stays on the safe side; an answer to a request sent before the current window was known to
have begun is counted against it too, in case it landed there.

The window's phase. A request sent after another was answered arrived after it; if its answer shows
no less remaining, the two were counted in different windows, so a window began between the first
one's send and the second one's answer. A window whose `reset` has passed (its budget spent, as a
rule) ended after the send of its last request and by that reset: another such interval. Those,
intersected over the run (a window's length is the longest `reset` seen, at least one second), give
the phase. A `reset` of 0 says whole seconds are rounded down, not up: from then on the window may
last a second more than `reset` says. Once
the phase is known the budget is spent as it comes: when a window has surely begun, one request
finds out what remains and the rest of it starts at once. A window whose phase contradicts itself
twice is not a fixed one (a sliding window, a token bucket): the phase is then never used again.

While the phase is unknown, what remains of a window starts at once but for its last `SPREAD`
requests, which are spread over the time the window may still last, at most at the declared rate,
so that they cross the window's boundary and reveal the phase. (Spreading the whole budget left
unspent whatever part of it the window's unknown end cut off: half a window on average, so most of
a second lost whenever the phase is to be learnt, at the start and after a 429.) When the budget is spent and no answer
can say more, nothing starts until the last answer's `reset` has passed. Without `remaining`,
starts are spaced evenly at `HEADROOM` of the declared rate. A 429 holds back every start until its
wait has passed (ApiClient calls `block`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

HEADROOM = 0.95  # of the declared rate, when no `remaining` guards the pace: the margin for jitter
PROBE = 4  # requests that may start before the first answer says whether there is a limit
MAX_WAIT = 60.0  # a reset further away than this is not believed
UNIX_TIME = 1e9  # a reset at least this large is a Unix time (2001 onwards), not seconds from now
UNIX_TIME_MS = 1e12  # ... and at least this large, one in milliseconds
MISSES = 2  # phase contradictions after which the window is taken not to be a fixed one
SPREAD = 3  # the last requests of a window of unknown phase, spread so as to find where it ends


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 and math.isfinite(number) else None


def reset_seconds(value: str | None, wall: Callable[[], float] = time.time, date: str | None = None) -> float | None:
    """Seconds until the window resets from an `x-ratelimit-reset` value (see read_reset)."""
    read = read_reset(value, wall, date)
    return None if read is None else read[0]


def read_reset(value: str | None, wall: Callable[[], float] = time.time, date: str | None = None
               ) -> tuple[float, bool] | None:
    """(seconds until the window resets, whether the value was a point in time) from an
    `x-ratelimit-reset` value: seconds from now (Telnyx's documented form), or a Unix time in
    seconds or milliseconds (other gateways' forms), measured against the answer's own `Date` (the
    server's clock: ours may be off by minutes) when it has one; None if absent or unreadable."""
    if value is None:
        return None
    number = _number({"r": value}, "r")
    if number is None:
        return None
    if number < UNIX_TIME:
        return number, False
    if number >= UNIX_TIME_MS:
        number /= 1000.0
    now = wall()
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            now = parsedate_to_datetime(date).timestamp()
    return max(number - now, 0.0), True


class Pacer:
    """Decides when the next request may start. One per client; all of it runs on one event loop.
    `wait()` before each request (it returns the start time), `finished()` when it has ended,
    answered or not, then `observe(...)` with the answer's status, headers and that start time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._wall = wall
        self.limit: int | None = None  # requests per window, once declared
        self.window = 1.0  # seconds
        self.refused = 0  # 429s seen
        self.in_flight = 0
        self._started = 0
        self._answered = asyncio.Event()  # set once any request has finished
        self._news = asyncio.Event()  # set (and replaced) at every answer: waiters look again
        self._blocked_until = 0.0
        self._next = 0.0  # the earliest next start while pacing evenly
        self._last_start = -math.inf
        self._guarded = False  # answers carry `remaining`: the budget guard applies
        # The current window, as the answers tell it.
        self._epoch = -math.inf  # requests sent from then on are counted in it or in a later one
        self._remaining: float | None = None  # the lowest remaining answered in it (None: no answer yet)
        self._debt = 0  # answers to earlier requests that may have landed in it before its first answer
        self._low_answered = -math.inf  # when the answer holding `_remaining` came
        self._last_sent = -math.inf  # the latest start of a request known to be counted in it
        self._ends_by = math.inf  # it has surely ended by then (the last answer's reset)
        self.boundary: tuple[float, float] | None = None  # a window began in (lo, hi]; others k windows away
        self._misses = 0
        self._rounded_down = False  # a reset of 0 was seen: whole seconds rounded down, not up
        self._probe: float | None = None  # the start of the request finding out what a new window holds
        self._charged: float | None = None  # the start of the request just finished, until its answer

    @property
    def interval(self) -> float:
        """Seconds between request starts when pacing evenly (0 while no limit is known)."""
        if not self.limit:
            return 0.0
        return self.window / (self.limit * HEADROOM)

    @property
    def phased(self) -> bool:
        """Whether the window's phase is known, so that each window's budget is spent as it begins."""
        return self.boundary is not None and self._guarded

    async def wait(self) -> float:
        """Return when the next request may start (at once when no limit is known), with the time."""
        while True:
            now = self._clock()
            if self.limit is None:
                if self._answered.is_set() or self._started < PROBE:
                    break
                await self._answered.wait()
                continue
            if self._blocked_until > now:
                await asyncio.sleep(self._blocked_until - now)
                continue
            if not self._guarded:
                if self._next > now:
                    await asyncio.sleep(self._next - now)
                    continue
                self._next = now + self.interval
                break
            if now >= self._window_ends():
                self._new_window(now)
            allowed = self._allowed(now)
            ends = min(self._window_ends(), now + MAX_WAIT)
            if allowed < 1:
                if self._remaining is None and self._probe is not None:
                    ends = min(ends, self._probe + self.window)  # when another probe may go
                await self._news_or(ends - now)
                continue
            if not self.phased and allowed <= SPREAD:
                # Phase unknown: spread the last of the budget over the time the window may still last.
                gap = self.window / self.limit
                if self._ends_by < math.inf:
                    gap = max(gap, (ends - self._last_start) / (allowed + 1))
                if self._last_start + gap > now:
                    await asyncio.sleep(self._last_start + gap - now)
                    continue
            break
        self._last_start = now
        if self._guarded and self._remaining is None:
            self._probe = now
        self._started += 1
        self.in_flight += 1
        return now

    def finished(self, sent: float | None = None) -> None:
        """The request that started at `sent` has finished, answered or not: it is no longer in flight,
        and the first probe is over."""
        self.in_flight = max(0, self.in_flight - 1)
        if sent == self._probe:
            self._probe = None  # unanswered, say: another may find out what remains
        if sent is not None and self._guarded:
            # It may have been counted after the lowest answer: charged to the window until its own
            # answer (observe, which follows at once when there is one) says where it stands.
            self._charged = sent
            if self._remaining is None:
                self._debt += 1
            else:
                self._remaining -= 1
        self._answered.set()
        self._news.set()
        self._news = asyncio.Event()

    def observe(self, status: int, headers: Mapping[str, str], sent: float | None = None) -> None:
        """Learn the limit, the window, what remains and the phase from one answer to a request that
        started at `sent` (the value `wait()` returned; None: just now)."""
        declared = _number(headers, "x-ratelimit-limit")
        if status == 429:
            self.refused += 1
        # A limit counts requests: a fraction of one is no limit anyone can keep (and would make the
        # pace between starts unbounded), so it is taken as undeclared.
        limit = math.floor(declared) if declared is not None and declared >= 1 else None
        if not limit:
            return
        now = self._clock()
        if sent is not None and sent == self._charged and sent >= self._epoch:
            if self._remaining is None:  # its answer is here: the charge is replaced by what it says
                self._debt -= 1
            else:
                self._remaining += 1
        self._charged = None
        sent = now if sent is None else sent
        read = read_reset(headers.get("x-ratelimit-reset"), self._wall, headers.get("date"))
        reset, absolute = read if read is not None else (None, False)
        if reset == 0 and not absolute:
            self._rounded_down = True  # rounded up, a reset is never 0: the window may last a second more
        # A point in time, read against a clock of whole seconds, says when this window ends, not
        # how long windows are: it bounds the window's end only.
        if reset is not None and reset <= MAX_WAIT and not absolute:
            window = max(self.window, reset + (1.0 if self._rounded_down else 0.0))
            if window > self.window:
                self.window = window
                self.boundary = None  # learnt for a shorter window: learn it again
        self.limit = limit
        remaining = _number(headers, "x-ratelimit-remaining")
        if remaining is None:
            return  # nothing to guard the budget with: the even pace, and a 429's wait, do
        if status == 429:
            remaining = 0.0
        self._guarded = True
        if status == 429 and self.boundary is not None:
            self._contradiction(None)  # refused where the phase said there was room (or someone shares it)
        left = reset + (1.0 if self._rounded_down else 0.0) if reset is not None else self.window
        ends = now + min(left, MAX_WAIT)
        if sent < self._epoch:
            return  # sent before this window was known to have begun: it stays charged to it
        if self._remaining is None:
            self._remaining = remaining - self._debt
            self._low_answered, self._last_sent, self._ends_by = now, sent, ends
            return
        if remaining >= self._remaining and sent >= self._low_answered:
            # Arrived after the lowest answer, yet no less remains: a new window began in between.
            self._learn(self._last_sent, now)
            self._epoch, self._remaining, self._debt = now, remaining, 0
            self._low_answered, self._last_sent, self._ends_by = now, sent, ends
            return
        if remaining < self._remaining:
            self._remaining, self._low_answered = remaining, now
            self._last_sent = max(self._last_sent, sent)
        self._ends_by = min(self._ends_by, ends)

    def block(self, seconds: float) -> None:
        """No request starts for `seconds` (a 429's wait)."""
        self._blocked_until = max(self._blocked_until, self._clock() + min(max(seconds, 0.0), MAX_WAIT))

    async def _news_or(self, seconds: float) -> None:
        """Return at the next answer, or after `seconds`, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._news.wait(), max(seconds, 0.0))

    def _allowed(self, now: float) -> float:
        """Requests that may start now in the current window: one until it has answered, whatever is
        still in flight from before, and another if that one hangs for a window: a request that hangs
        must not hold back the next window."""
        if self._remaining is None:
            return 0.0 if self._probe is not None and now - self._probe < self.window else 1.0
        return self._remaining - self.in_flight

    def _window_ends(self) -> float:
        """When the current window has surely ended: the next boundary of the phase, else its reset."""
        if not self.phased or self.boundary is None or self._epoch == -math.inf:
            return self._ends_by
        _, hi = self.boundary
        # Each answer's reset bounds its window's end too: whichever comes first.
        return min(self._ends_by, hi + (math.floor((self._epoch - hi) / self.window) + 1) * self.window)

    def _new_window(self, now: float) -> None:
        # The current window has surely ended: what remains in the next one is unknown until answered.
        if not self.phased and self._remaining is not None and self._ends_by < math.inf:
            # Its spread requests did not reach the next one, yet the window ended after the last of
            # its own and by its reset: a boundary as good as a jump's (the burst left it narrow).
            self._learn(self._last_sent, self._ends_by)
        self._epoch, self._remaining, self._debt = now, None, 0
        self._low_answered, self._ends_by, self._probe = now, math.inf, None
        # With the phase known, `now` lies before the next boundary; after a reset it may not.
        self._last_sent = now if self.phased else -math.inf

    def _learn(self, lo: float, hi: float) -> None:
        """A window began in (lo, hi]: narrow the phase with it."""
        if self._misses >= MISSES or hi - lo >= self.window:
            return
        if self.boundary is None:
            self.boundary = (lo, hi)
            return
        old_lo, old_hi = self.boundary
        shift = round((lo - old_lo) / self.window) * self.window
        new = (max(lo, old_lo + shift), min(hi, old_hi + shift))
        if new[0] < new[1]:
            self.boundary = new
        else:
            self._contradiction((lo, hi))

    def _contradiction(self, latest: tuple[float, float] | None) -> None:
        self._misses += 1
        self.boundary = latest if self._misses < MISSES else None
