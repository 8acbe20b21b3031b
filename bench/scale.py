"""Plan and apply at scale, against the physical bound and the script a user would write (issue 7).

An emulator runs in its own process (so it never shares a GIL with the tool being measured) with
injected latency. It is seeded through plain HTTP requests, not through reconciler, with N assistants (each
with tags, two named versions and a canary), 100 shared tools and 20 MCP servers. Manifests that
describe all of it, with 10% of the assistants changed, are written to a temporary folder. Then:

- plan: wall time of `reconciler plan` (the real CLI, a subprocess) and its request count (from
  /_emulator/stats), next to the lower bound computed from the seeded state alone
  (account.plan_bound): the round trips of the fewest requests a correct plan needs, at most
  `parallelism` at a time and the per-assistant reads after the assistant listing, times the latency,
  where the fewest requests are one listing of assistants, of tools and of MCP servers (one page each
  at 100 per page) plus, for each managed assistant, its versions and its canary; and beside it the
  bound as issue 16 first wrote it, requests / parallelism x latency (account.request_bound);
- naive: the official SDK fetching the same live state one request at a time, as a user's script would;
- apply of the 10% change: wall time of the apply phase next to the bound of its dependency levels,
  sum over levels of ceil(width / parallelism) x latency; each run applies a 10% change, alternately
  to the changed manifests and back to the account as seeded.

The account (bench/account.py) is built by the same requests inside the emulator's process, before
it listens.

Usage: python bench/scale.py [--n 1000] [--latency-ms 50] [--parallelism 16] [--runs 3] [--skip-naive] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from account import (  # type: ignore[import-not-found]  # bench/account.py, next to this script
    KEY,
    MCPS,
    TOOLS,
    Emulator,
    plan_bound,
    plan_requests,
    request_bound,
    seeded_emulator,
    write_manifests,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def plan_cli(folder: Path, emu: Emulator, parallelism: int) -> tuple[float, int, int, float]:
    """Wall time, exit code, request count and CPU time of `reconciler plan --detailed-exitcode`."""
    emu.reset_stats()
    env = {**os.environ, "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": emu.base_url}
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode", "--format", "json",
                           "--parallelism", str(parallelism), str(folder)], env=env, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0  # the emulator, also a child, is counted only once it exits
    if done.returncode not in (0, 2):
        raise SystemExit(f"plan failed: {done.stderr.decode()[-2000:]}")
    return seconds, done.returncode, emu.requests(), cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def naive_sdk(emu: Emulator) -> tuple[float, int]:
    """The official SDK reading the same live state one request at a time."""
    import telnyx

    emu.reset_stats()
    client = telnyx.Telnyx(api_key=KEY, base_url=emu.base_url, max_retries=0, timeout=60)
    t0 = time.perf_counter()
    assistants = client.ai.assistants.list().data
    for a in assistants:
        client.ai.assistants.versions.list(a.id)
        client.ai.assistants.canary_deploys.retrieve(a.id)
    list(client.ai.tools.list())
    client.ai.mcp_servers.list()
    return time.perf_counter() - t0, emu.requests()


async def apply_change(folder: Path, emu: Emulator, parallelism: int, latency: float
                       ) -> tuple[float, float, int, float]:
    """Apply the changed assistants; return (apply wall time, level bound, changes applied, CPU)."""
    from reconciler import live
    from reconciler.api.client import ApiClient
    from reconciler.apply.applier import apply_plan
    from reconciler.manifest import load
    from reconciler.planning import ordering, planner

    desired = load([folder])
    async with ApiClient(emu.base_url, KEY, parallelism=parallelism) as client:
        plan = planner.plan(desired, await live.fetch_live(client, desired))
        levels = ordering.levels(ordering.graph(plan))
        bound = sum(math.ceil(len(level) / parallelism) for level in levels) * latency
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = await apply_plan(client, plan)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if not result.ok:
        raise SystemExit(f"apply failed: {[s.error for s in result.failed][:3]}")
    return seconds, bound, len(result.done), cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="plan and apply runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    t0 = time.perf_counter()
    emu = seeded_emulator(args.n)
    seed_s = time.perf_counter() - t0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_manifests(folder, args.n)
            emu.faults(latency_ms=args.latency_ms)
            minimum = plan_requests(args.n)
            bound = plan_bound(args.n, args.parallelism, latency)
            fractional = request_bound(args.n, args.parallelism, latency)
            # The naive script runs between the plans, so that both see the machine as it was.
            runs = [plan_cli(folder, emu, args.parallelism) for _ in range((args.runs + 1) // 2)]
            naive_s, naive_requests = (float("nan"), 0) if args.skip_naive else naive_sdk(emu)
            runs += [plan_cli(folder, emu, args.parallelism) for _ in range(args.runs // 2)]
            # Each apply is the 10% change: to the changed manifests, then back to the seeded ones.
            applies = []
            for r in range(args.runs):
                write_manifests(folder, args.n, 10 if r % 2 == 0 else None)
                applies.append(asyncio.run(apply_change(folder, emu, args.parallelism, latency)))
            _, after_code, _, _ = plan_cli(folder, emu, args.parallelism)
    finally:
        emu.stop()
    plan_times = sorted(r[0] for r in runs)
    plan_s = statistics.median(plan_times)
    _, code, requests, _ = runs[0]
    apply_times = sorted(a[0] for a in applies)
    apply_s, apply_bound, applied = statistics.median(apply_times), applies[0][1], applies[0][2]
    results = {
        "n": args.n, "latency_ms": args.latency_ms, "parallelism": args.parallelism, "seed_s": round(seed_s, 2),
        "plan_s": round(plan_s, 3), "plan_runs_s": [round(t, 3) for t in plan_times],
        "plan_cpu_s": round(statistics.median(r[3] for r in runs), 3),
        "plan_cpu_runs_s": sorted(round(r[3], 3) for r in runs), "plan_requests": requests,
        "plan_min_requests": minimum,
        "plan_bound_s": round(bound, 3), "plan_vs_bound": round(plan_s / bound, 3),
        "plan_request_bound_s": round(fractional, 3), "plan_vs_request_bound": round(plan_s / fractional, 3),
        "plan_exit": code, "naive_s": round(naive_s, 3), "naive_requests": naive_requests,
        "naive_vs_plan": round(naive_s / plan_s, 1) if naive_requests else None,
        "apply_s": round(apply_s, 3), "apply_runs_s": [round(t, 3) for t in apply_times],
        "apply_cpu_s": round(statistics.median(a[3] for a in applies), 3), "apply_bound_s": round(apply_bound, 3),
        "apply_vs_bound": round(apply_s / apply_bound, 3), "applied": applied, "replan_exit": after_code,
    }
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"scale benchmark: N={args.n} assistants (+{TOOLS} tools, {MCPS} MCP servers), "
          f"latency {args.latency_ms:.0f} ms, parallelism {args.parallelism} (seeded in {seed_s:.1f} s)")
    print(f"  plan   {plan_s:8.3f} s  median of {args.runs} ({plan_times[0]:.2f}-{plan_times[-1]:.2f}), "
          f"{requests} requests (minimum {minimum}); bound {bound:.3f} s -> {plan_s / bound:.3f}x the bound "
          f"({plan_s / fractional:.3f}x requests / parallelism x latency, {fractional:.3f} s); exit {code}; "
          f"CPU {results['plan_cpu_s']:.2f} s")
    if naive_requests:
        print(f"  naive  {naive_s:8.3f} s  {naive_requests} requests, one at a time -> plan is "
              f"{naive_s / plan_s:.1f}x faster")
    print(f"  apply  {apply_s:8.3f} s  median of {args.runs} ({apply_times[0]:.2f}-{apply_times[-1]:.2f}), "
          f"{applied} changes; level bound {apply_bound:.3f} s -> {apply_s / apply_bound:.2f}x the bound")
    print(f"  re-plan after apply: exit {after_code} ({'no changes' if after_code == 0 else 'changes left'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
