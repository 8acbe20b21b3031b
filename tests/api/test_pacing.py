"""Pacing under a declared rate limit: the client spaces its requests from the `x-ratelimit-*`
headers instead of being refused, and holds back after a 429. Over the real emulator on loopback
and over scripted answers; times are only ever bounded from below (a loaded machine is only slower)."""

from __future__ import annotations

import asyncio
import time

from reconciler.api.client import ApiClient
from reconciler.api.pacing import HEADROOM, PROBE, Pacer
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


def test_starts_are_spaced_under_the_declared_rate() -> None:
    async def go() -> float:
        pacer = Pacer()
        pacer.observe(200, limit_headers(200, 200))
        pacer.finished()
        t0 = time.monotonic()
        for _ in range(21):
            await pacer.wait()
        return time.monotonic() - t0

    # 20 intervals of 1 / (200 x HEADROOM) s at the least.
    assert asyncio.run(go()) >= 20 / (200 * HEADROOM) * 0.99


def test_what_the_server_already_counted_takes_its_place() -> None:
    async def go() -> float:
        pacer = Pacer()
        pacer.observe(200, limit_headers(100, 60))  # 40 already used in this window
        pacer.finished()
        t0 = time.monotonic()
        await pacer.wait()
        return time.monotonic() - t0

    assert asyncio.run(go()) >= 40 / (100 * HEADROOM) * 0.99


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
