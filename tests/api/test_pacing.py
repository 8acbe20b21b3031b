"""Pacing under a declared rate limit: the client spaces its requests from the `x-ratelimit-*`
headers instead of being refused, and holds back after a 429. Over the real emulator on loopback
and over scripted answers; times are only ever bounded from below (a loaded machine is only slower)."""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections import deque

import httpx

from reconciler.api.answers import server_wait
from reconciler.api.client import ApiClient
from reconciler.api.pacing import HEADROOM, PROBE, SPREAD, Pacer, reset_seconds
from tests.support.emulator import API_KEY, serve


def limit_headers(limit: int, remaining: int, reset: str = "1") -> dict[str, str]:
    return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining), "x-ratelimit-reset": reset}


def test_no_limit_declared_means_no_pacing() -> None:
    async def go() -> None:
        pacer = Pacer()
        pacer.observe(200, {})
        pacer.finished()
        for _ in range(100):
            await pacer.wait()
        assert pacer.interval == 0.0

    asyncio.run(go())


def test_without_remaining_starts_are_spaced_at_headroom() -> None:
    # A limit but no `remaining` (a gateway that sends only some of the headers): nothing guards the
    # budget, so starts are spaced evenly a little under the declared rate.
    async def go() -> float:
        pacer = Pacer()
        pacer.observe(200, {"x-ratelimit-limit": "200", "x-ratelimit-reset": "1"})
        pacer.finished()
        t0 = time.monotonic()
        for _ in range(21):
            await pacer.wait()
        return time.monotonic() - t0

    # 20 intervals of 1 / (200 x HEADROOM) s at the least.
    assert asyncio.run(go()) >= 20 / (200 * HEADROOM) * 0.99


def test_without_remaining_a_429_does_not_leave_the_pace_guarded_by_nothing() -> None:
    # The 429 is waited for by the client (block); afterwards the even pace goes on, several requests
    # in flight at once, not one at a time as if a budget of 0 had been declared.
    async def go() -> None:
        pacer = Pacer()
        pacer.observe(429, {"x-ratelimit-limit": "1000", "x-ratelimit-reset": "1"})
        pacer.finished()
        await asyncio.gather(*(pacer.wait() for _ in range(20)))  # none finishes meanwhile

    asyncio.run(asyncio.wait_for(go(), 10))  # ~20 ms paced; one a second (20 s) if guarded by nothing


def test_no_more_than_what_remains_starts_before_the_window_resets() -> None:
    async def go() -> float:
        pacer = Pacer()
        pacer.observe(200, limit_headers(10, 3, reset="1"))  # 7 already counted in this window
        pacer.finished()
        t0 = time.monotonic()
        for _ in range(3):
            pacer.finished(await pacer.wait())  # answered, but without headers: nothing more is known
        await pacer.wait()  # the fourth: only in the next window
        return time.monotonic() - t0

    assert asyncio.run(go()) >= 0.99


def test_a_429_or_an_exhausted_window_holds_every_start_until_the_reset() -> None:
    async def go(status: int, remaining: int) -> float:
        pacer = Pacer()
        pacer.finished()
        pacer.observe(status, limit_headers(1000, remaining, reset="0.3"))
        if status == 429:
            pacer.block(0.3)
        t0 = time.monotonic()
        await pacer.wait()
        return time.monotonic() - t0

    assert asyncio.run(go(429, 0)) >= 0.29
    assert asyncio.run(go(200, 0)) >= 0.29


def test_before_the_first_answer_only_a_probe_starts() -> None:
    async def go() -> tuple[int, int]:
        pacer = Pacer()
        started = 0

        async def one() -> None:
            nonlocal started
            await pacer.wait()
            started += 1

        tasks = [asyncio.create_task(one()) for _ in range(PROBE + 6)]
        await asyncio.sleep(0.05)
        before = started
        pacer.finished()
        await asyncio.gather(*tasks)
        return before, started

    assert asyncio.run(go()) == (PROBE, PROBE + 6)


def test_a_paced_client_is_not_refused_by_the_emulator() -> None:
    # 60 requests at up to 16 in flight under 50 requests/s: unpaced, most would be answered 429.
    with serve() as emu:
        emu.control("faults", {"rate_limit_per_s": 50})

        async def go() -> int:
            async with ApiClient(emu.base_url, API_KEY, parallelism=16) as client:
                await asyncio.gather(*(client.request("GET", "/ai/mcp_servers") for _ in range(60)))
                return client.requests_sent

        sent = asyncio.run(go())
        by_status = emu.stats()["by_status"]
    assert int(by_status.get("200", 0)) == 60
    # A stalled event loop can still push one start into a full window; never a flood of retries.
    assert sent <= 63, by_status


def test_the_budget_of_each_window_is_spent_without_a_429() -> None:
    # The emulator's fixed one-second windows: the pacer learns their phase from when `remaining`
    # jumps back up, then spends each window's budget as it begins.
    with serve() as emu:
        emu.control("faults", {"rate_limit_per_s": 40, "latency_ms": 20})

        async def go() -> tuple[int, bool]:
            async with ApiClient(emu.base_url, API_KEY, parallelism=16) as client:
                await asyncio.gather(*(client.request("GET", "/ai/mcp_servers") for _ in range(100)))
                return client.requests_sent, client.pacer.phased

        sent, phased = asyncio.run(go())
        by_status = emu.stats()["by_status"]
    assert by_status == {"200": 100} and sent == 100
    assert phased


def sliding_window_api(limit: int, window: float) -> httpx.MockTransport:
    """An API whose limit is a sliding window (a log of the last `window` seconds), not a fixed one:
    what remains comes back a request at a time as the oldest age out."""
    arrivals: deque[float] = deque()

    async def handler(request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        while arrivals and arrivals[0] <= now - window:
            arrivals.popleft()
        refused = len(arrivals) >= limit
        if not refused:
            arrivals.append(now)
        reset = str(max(1, round(arrivals[0] + window - now))) if arrivals else "1"
        headers = limit_headers(limit, limit - len(arrivals), reset)
        await asyncio.sleep(0.02)
        if refused:
            return httpx.Response(429, headers=headers, json={"errors": [{"code": "10011", "title": "Too many"}]})
        return httpx.Response(200, headers=headers, json={"data": []})

    return httpx.MockTransport(handler)


def test_a_sliding_window_is_not_taken_for_a_fixed_one() -> None:
    async def go() -> tuple[int, int, int]:
        async with ApiClient("http://api.test/v2", API_KEY, parallelism=16,
                             transport=sliding_window_api(40, 1.0)) as client:
            await asyncio.gather(*(client.request("GET", "/ai/mcp_servers") for _ in range(100)))
            return client.requests_sent, client.pacer.refused, client.pacer._misses

    sent, refused, misses = asyncio.run(go())
    # A phase that contradicts itself is dropped, and dropped for good the second time: at most a
    # probe per contradiction is refused, never a flood.
    assert refused <= 5 and sent == 100 + refused, (sent, refused)
    # On a quiet machine the phase contradicts itself twice within these 100 requests; on a busy one
    # the answers come slower and it may have done so only once (a phase still on trial, as designed),
    # which the bound on refusals above covers. It is never used after the second time.
    assert misses >= 1, "a sliding window was never seen to contradict a fixed phase"


def fixed_window_api(limit: int, window: float) -> httpx.MockTransport:
    """An API with fixed windows whose `reset` is whole seconds rounded down (0 in the last second),
    where the emulator rounds up."""
    current = {"window": -1, "count": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        index = math.floor(now / window)
        if index != current["window"]:
            current.update(window=index, count=0)
        refused = current["count"] >= limit
        current["count"] += 0 if refused else 1
        reset = str(math.floor((index + 1) * window - now))
        await asyncio.sleep(0.02)
        return httpx.Response(429 if refused else 200, headers=limit_headers(limit, limit - current["count"], reset),
                              json={"data": []})

    return httpx.MockTransport(handler)


def test_a_reset_rounded_down_is_not_taken_for_the_end_of_the_window() -> None:
    async def go() -> tuple[int, int]:
        async with ApiClient("http://api.test/v2", API_KEY, parallelism=16,
                             transport=fixed_window_api(30, 1.0)) as client:
            await asyncio.gather(*(client.request("GET", "/ai/mcp_servers") for _ in range(90)))
            return client.requests_sent, client.pacer.refused

    sent, refused = asyncio.run(go())
    assert refused <= 1 and sent == 90 + refused, (sent, refused)


def test_the_phase_is_learnt_from_when_remaining_jumps_back_up() -> None:
    now = [0.0]
    pacer = Pacer(clock=lambda: now[0])

    def answer(sent: float, answered: float, remaining: int) -> None:
        now[0] = answered
        pacer.observe(200, limit_headers(10, remaining), sent)

    answer(0.10, 0.15, 9)
    answer(0.40, 0.45, 8)
    answer(0.90, 0.95, 7)  # the last one counted in the first window
    assert pacer.boundary is None
    answer(1.02, 1.07, 9)  # sent after 0.95 was answered, yet more remains: a window began in between
    assert pacer.boundary == (0.90, 1.07) and pacer.phased
    answer(1.50, 1.55, 8)
    answer(1.96, 2.01, 9)  # the next jump: a window began in (1.50, 2.01], i.e. in (0.50, 1.01] one earlier
    assert pacer.boundary is not None
    lo, hi = pacer.boundary
    assert abs(lo - 1.90) < 1e-9 and abs(hi - 2.01) < 1e-9  # narrowed to (0.90, 1.01], kept a window on


def test_a_reset_may_be_seconds_from_now_or_a_unix_time() -> None:
    wall = 1_767_225_600.0  # 2026-01-01
    assert reset_seconds("2", lambda: wall) == 2.0
    assert reset_seconds("0.5", lambda: wall) == 0.5
    assert reset_seconds(str(int(wall) + 3), lambda: wall) == 3.0
    assert reset_seconds(str(int(wall) - 3), lambda: wall) == 0.0  # already past
    assert reset_seconds(None) is None and reset_seconds("soon") is None and reset_seconds("-1") is None
    # A Unix time is not taken for a window of fifty years, nor waited for a minute after a 429.
    pacer = Pacer(wall=lambda: wall)
    pacer.observe(200, limit_headers(10, 5, reset=str(int(wall) + 1)))
    assert pacer.window == 1.0
    unix_reset = str(int(time.time()) + 2)
    wait = server_wait(httpx.Response(429, headers=limit_headers(10, 0, reset=unix_reset)))
    assert wait is not None and wait <= 2.0


def test_a_limit_under_one_request_is_taken_as_undeclared() -> None:
    # `x-ratelimit-limit: 0.001` would space starts 1,000 s apart (and 1e-9 never): a limit counts
    # requests, so a fraction of one is no limit at all, and 2.5 is 2.
    async def go() -> float:
        pacer = Pacer()
        for limit in ("0.001", "1e-9"):
            pacer.observe(200, {"x-ratelimit-limit": limit, "x-ratelimit-reset": "1"})
        pacer.finished()
        t0 = time.monotonic()
        for _ in range(20):
            await asyncio.wait_for(pacer.wait(), 5)
        return time.monotonic() - t0

    assert asyncio.run(go()) < 5
    pacer = Pacer()
    pacer.observe(200, {"x-ratelimit-limit": "2.5", "x-ratelimit-reset": "1"})
    assert pacer.limit == 2


def test_a_unix_time_reset_is_read_against_the_answers_own_clock() -> None:
    # Our clock 30 s behind the server's: measured against ours the reset would be 31 s away. The
    # answer's Date header is the server's clock; milliseconds are a Unix time too.
    server = 1_800_000_000.0
    date = email.utils.formatdate(server, usegmt=True)
    behind = lambda: server - 30  # noqa: E731
    assert reset_seconds(str(int(server) + 1), behind, date) == 1.0
    assert reset_seconds(str(int(server * 1000) + 1000), behind, date) == 1.0
    assert reset_seconds(str(int(server) + 1), behind) == 31.0  # no Date: our clock is all there is
    assert reset_seconds(str(int(server) + 1), behind, "not a date") == 31.0
    # Nor does a point in time stretch the window the pace is spread over.
    pacer = Pacer(wall=behind)
    pacer.observe(200, limit_headers(10, 5, reset=str(int(server) + 1)))
    assert pacer.window == 1.0


def test_a_window_of_unknown_phase_is_spent_at_once_but_for_its_last_requests() -> None:
    # Spreading the whole budget over the time the window may still last left unspent what its
    # unknown end cut off: half a window on average. Only the last SPREAD requests are spread now.
    now = [10.0]
    pacer = Pacer(clock=lambda: now[0])

    async def go() -> int:
        await asyncio.wait_for(pacer.wait(), 0.1)  # the probe: whether there is a limit
        pacer.finished(10.0)
        pacer.observe(200, limit_headers(20, 19, "1"), 10.0)
        starts = 0
        for _ in range(19):
            try:
                await asyncio.wait_for(pacer.wait(), 0.05)
            except TimeoutError:
                break  # held back: the rest is spread
            starts += 1
        return starts

    assert asyncio.run(go()) == 19 - SPREAD


def test_a_window_spent_before_its_end_was_seen_still_gives_the_phase() -> None:
    # Its last request was counted in it, and its reset says by when it surely ended.
    now = [0.0]
    pacer = Pacer(clock=lambda: now[0])
    now[0] = 0.35
    pacer.observe(200, limit_headers(10, 1, "1"), 0.30)  # window ends by 1.35 at the latest
    now[0] = 0.80
    pacer.observe(200, limit_headers(10, 0, "1"), 0.75)  # ... and by 1.80: spent, sent at 0.75
    assert pacer.boundary is None
    now[0] = 1.40
    asyncio.run(asyncio.wait_for(pacer.wait(), 0.1))  # the next window's probe: the last one surely ended
    assert pacer.boundary == (0.75, 1.35) and pacer.phased
