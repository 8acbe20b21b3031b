"""What one round trip costs besides the injected latency: 2,000 reads (the versions and the canary of
1,000 assistants) through ApiClient at --parallelism 16 against the seeded emulator (its own process),
with no planning, at several injected latencies. Prints, per latency, the wall time against the bound
(requests / parallelism x latency), the client's CPU, and the time each request spent on the wire
(from building it to its body read: p10/p50/p90), whose excess over the latency no client CPU explains
once the client is mostly idle (at 200 ms it is busy ~16% of the time).

With `--callgrind K`, the client's user-space instructions per read instead (valgrind's callgrind, the
one figure other work on the machine does not move): a child process sends K of the reads (no latency)
under valgrind, another the same run without them, and the difference is divided by K.

Usage: python bench/roundtrip.py [--latency-ms 0 50 200] [--n 1000] [--callgrind 400]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from account import KEY, seeded_emulator  # type: ignore[import-not-found]  # bench/account.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.api import reads
from reconciler.api.client import ApiClient

PARALLELISM = 16


async def one_run(base_url: str, latency_ms: float) -> str:
    async with ApiClient(base_url, KEY, parallelism=PARALLELISM) as client:
        ids = [a["id"] for a in await reads.list_assistants(client)]
        wire: list[float] = []
        send = client._wire.send  # timed around the wire alone (the slot wait is not round-trip time)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await send(*args, **kwargs)
            finally:
                wire.append(time.perf_counter() - started)

        client._wire.send = timed  # type: ignore[method-assign]
        paths = [f"/ai/assistants/{i}/{what}" for i in ids for what in ("versions", "canary-deploys")]
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client.request("GET", p, not_found_ok=True) for p in paths))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    bound = math.ceil(len(paths) / PARALLELISM) * latency_ms / 1000  # whole round trips
    q = statistics.quantiles(wire, n=10)
    ratio = f"{wall / bound:.2f}x" if bound else "-"
    return (f"latency {latency_ms:g} ms: {len(paths)} reads {wall:.2f} s wall (bound {bound:.2f} s, {ratio}), "
            f"client CPU {cpu:.2f} s ({cpu / len(paths) * 1000:.2f} ms per read); on the wire p10/p50/p90 "
            f"{q[0] * 1000:.1f}/{q[4] * 1000:.1f}/{q[8] * 1000:.1f} ms")


async def reads_only(base_url: str, count: int) -> None:
    """The child of --callgrind: the listing, then `count` of the reads."""
    async with ApiClient(base_url, KEY, parallelism=PARALLELISM) as client:
        ids = [a["id"] for a in await reads.list_assistants(client)]
        paths = [f"/ai/assistants/{i}/{what}" for i in ids for what in ("versions", "canary-deploys")][:count]
        await asyncio.gather(*(client.request("GET", p, not_found_ok=True) for p in paths))


def instructions(base_url: str, count: int) -> int:
    """User-space instructions of one child process sending `count` reads, under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable, __file__,
                "--child", base_url, str(count)]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count from valgrind: {done.stderr[-300:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 50.0, 200.0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--callgrind", type=int, metavar="K", help="instructions per read over K reads")
    parser.add_argument("--child", nargs=2, metavar=("URL", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(reads_only(args.child[0], int(args.child[1])))
        return 0
    emulator = seeded_emulator(args.n)
    try:
        if args.callgrind:
            emulator.faults(latency_ms=0)
            count = min(args.callgrind, 2 * args.n)
            with_reads, without = instructions(emulator.base_url, count), instructions(emulator.base_url, 0)
            per_read = (with_reads - without) / count / 1000
            print(f"client instructions per read (callgrind, {count} reads): {per_read:,.0f}k "
                  f"({with_reads:,} with them, {without:,} without)", flush=True)
            return 0
        for latency in args.latency_ms:
            emulator.faults(latency_ms=latency)
            print(asyncio.run(one_run(emulator.base_url, latency)), flush=True)
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
