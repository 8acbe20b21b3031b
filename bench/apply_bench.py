"""Does parallelism pay? Apply 200 creates at 50 ms latency with --parallelism 16, and compare the
measured wall time with the bound set by the plan's dependency levels.

Setup: the emulator runs as its own process (`reconciler emulator --latency-ms 50`) on loopback, so
that it never competes with the applier for the interpreter; the project is the 200-resource one of
the apply tests (30 shared tools, 20 MCP servers, 50 assistants, each with a named version and a
canary routing to it), written as real YAML files.

The bound. The plan's graph has dependency levels (ordering.levels): level 0 holds what depends on
nothing (tools, MCP servers), level n what needs something in level n-1 (assistants, then their
versions, then the canaries). Run level by level, with at most P requests in flight, a level of width
W takes ceil(W / P) rounds of one request each, and a round takes one latency L. So

    bound = sum over levels of ceil(W_level / P) * L

Here: 4 levels of 50 -> 4 * ceil(50 / 16) * 50 ms = 16 * 50 ms = 0.80 s. The applier is not level-
synchronous (a step starts as soon as its own dependencies are done, longest chain first), so it
can come in slightly under this bound; nothing can beat max(levels * L, ceil(N / P) * L), the
critical path and the throughput limit, printed too. A serial apply would take N * L = 10 s.

Run: `.venv/bin/python bench/apply_bench.py [--latency-ms 50] [--parallelism 16]`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reconciler import live  # noqa: E402
from reconciler.api.client import ApiClient  # noqa: E402
from reconciler.apply import applier  # noqa: E402
from reconciler.manifest import load  # noqa: E402
from reconciler.planning import ordering, planner  # noqa: E402
from tests.support.project import generate_project  # noqa: E402  (the test suite's project generator)

API_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--port", str(port),
                             "--latency-ms", str(latency_ms)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/stats", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the emulator did not start")


async def apply_once(base_url: str, project: Path, parallelism: int) -> tuple[float, list[list[str]], int]:
    """Plan `project` onto the emulator, then apply it; returns (apply wall time, levels, steps)."""
    desired = load([str(project)])
    async with ApiClient(f"{base_url}/v2", API_KEY, parallelism=parallelism, timeout=30) as client:
        plan = planner.plan(desired, await live.fetch_live(client, desired))
        levels = ordering.levels(ordering.graph(plan))
        started = time.monotonic()
        result = await applier.apply_plan(client, plan, owner_tag=desired.project.owner_tag)
        elapsed = time.monotonic() - started
    if not result.ok:
        raise SystemExit(f"apply failed: {[(s.address, s.error) for s in result.failed][:5]}")
    return elapsed, levels, len(ordering.runnable(plan))


def report(times: list[float], levels: list[list[str]], n: int, parallelism: int, latency_s: float) -> None:
    rounds = [math.ceil(len(level) / parallelism) for level in levels]
    bound = sum(rounds) * latency_s
    floor = max(len(levels), math.ceil(n / parallelism)) * latency_s
    widths = " + ".join(f"ceil({len(level)}/{parallelism})" for level in levels)
    ms = latency_s * 1000
    median = statistics.median(times)
    print(f"creates: {n} in {len(levels)} dependency levels (widths {[len(level) for level in levels]}), "
          f"parallelism {parallelism}, latency {ms:.0f} ms")
    print(f"measured apply wall time: median {median:.3f} s, best {min(times):.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    print(f"level bound: ({widths}) x {ms:.0f} ms = {sum(rounds)} x {ms:.0f} ms = {bound:.3f} s")
    print(f"measured / bound: median {median / bound:.2f}, best {min(times) / bound:.2f}")
    print(f"absolute floor max(levels, ceil(N/P)) x latency = {floor:.3f} s; serial = {n * latency_s:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="measured runs, each onto an empty emulator")
    args = parser.parse_args()
    proc, url = start_emulator(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Warm-up on a small project of every kind: the emulator compiles its request schemas
            # on first use, and that one-off cost is not the applier's.
            generate_project(Path(tmp) / "warmup", tools=1, mcp_servers=1, assistants=1, prefix="warmup")
            asyncio.run(apply_once(url, Path(tmp) / "warmup", args.parallelism))
            project = Path(tmp) / "project"
            generate_project(project)
            times: list[float] = []
            for _ in range(args.repeat):
                httpx.post(f"{url}/_emulator/reset", json={}, timeout=10).raise_for_status()
                elapsed, levels, n = asyncio.run(apply_once(url, project, args.parallelism))
                times.append(elapsed)
            report(times, levels, n, args.parallelism, args.latency_ms / 1000)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
