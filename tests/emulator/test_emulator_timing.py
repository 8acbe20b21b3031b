"""When answers leave (emulator/timing.py): the latency counted from the request's arrival, never less,
and the precise loop's timers never firing early. Lower bounds only: a loaded machine can make an
answer late, never early."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.server import serve_in_thread
from reconciler.emulator.timing import ARRIVED, answer_at, precise_loop


def test_answer_at_counts_the_latency_from_arrival_when_the_server_noted_it() -> None:
    # dispatch was called 2 ms after the request arrived, took 1 ms, and asked for 47 ms more.
    assert answer_at({ARRIVED: 10.000}, 10.002, 10.003, 0.047) == 10.003 + 0.047 - 0.002
    assert answer_at({}, 10.002, 10.003, 0.047) == 10.003 + 0.047  # in-process: from dispatch, as before
    # An arrival after dispatch cannot be: ignored rather than delaying the answer.
    assert answer_at({ARRIVED: 10.005}, 10.002, 10.003, 0.047) == 10.003 + 0.047


def test_precise_loop_timers_never_fire_early_and_sockets_still_wake_it() -> None:
    async def main() -> tuple[list[float], float]:
        early = []
        for wait in (0.0003, 0.0012, 0.0049, 0.02):
            due = time.monotonic() + wait
            await asyncio.sleep(wait)
            early.append(due - time.monotonic())
        # A socket event ends a timed wait at once, as with plain epoll.
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        try:
            timer = loop.create_task(asyncio.sleep(5))
            loop.call_later(0.01, b.send, b"x")
            started = time.monotonic()
            assert await loop.sock_recv(a, 1) == b"x"
            waited = time.monotonic() - started
            timer.cancel()
        finally:
            a.close()
            b.close()
        return early, waited

    with asyncio.Runner(loop_factory=precise_loop) as runner:
        early, waited = runner.run(main())
    assert max(early) <= 0, early
    assert waited < 5


def test_answers_over_http_never_leave_before_the_latency() -> None:
    url, stop = serve_in_thread(EmulatorApp(latency_ms=30))
    try:
        with httpx.Client(base_url=url, headers={"Authorization": "Bearer k"}, timeout=10) as client:
            for _ in range(5):  # one keep-alive connection: each request's arrival is noted anew
                started = time.perf_counter()
                assert client.get("/v2/ai/assistants").status_code == 200
                assert time.perf_counter() - started >= 0.03
    finally:
        stop()
