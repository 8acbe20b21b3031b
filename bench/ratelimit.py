"""Plan and apply under a declared rate limit: requests sent, 429s, and time next to the rate bound.

The emulator (its own process) is seeded with N assistants as in bench/account.py (each with two named
versions and a canary, 100 shared tools, 20 MCP servers), then told to allow `--limit` requests per
one-second window and to answer with `--latency-ms`. Over it `reconciler plan` and then `reconciler
apply --auto-approve` of the 10% change run as subprocesses (whole process, start-up included),
`--runs` times each, the change applied alternately to the changed manifests and back.
For each: the requests the emulator answered, how many of them were 429, and the wall time next to
the rate bound, (requests answered other than 429) / limit: the time the limit itself imposes on
the requests the command needed.

Usage: python bench/ratelimit.py [--n 100] [--limit 20] [--latency-ms 50] [--parallelism 16] [--runs 3]
                                 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import account  # type: ignore[import-not-found]  # bench/account.py, next to this script
import httpx

ROOT = Path(__file__).resolve().parent.parent


def stats(emu: Any) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{emu.url}/_emulator/stats", timeout=10).json()
    return body


def run_cli(emu: Any, *argv: str) -> tuple[float, int, int, int, float]:
    """Wall time, exit code, requests answered, 429s and CPU (user + system) of one reconciler command."""
    emu.reset_stats()
    env = {**os.environ, "TELNYX_API_KEY": account.KEY, "TELNYX_BASE_URL": emu.base_url}
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reconciler", *argv], env=env, capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    if done.returncode not in (0, 2):
        raise SystemExit(f"reconciler {argv[0]} failed: {done.stderr.decode()[-2000:]}")
    figures = stats(emu)
    return seconds, done.returncode, int(figures["total"]), int(figures["by_status"].get("429", 0)), cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def figures(name: str, runs: list[tuple[float, int, int, int, float]], limit: int) -> dict[str, Any]:
    """The median run of one command (by wall time), with the spread of all."""
    ordered = sorted(runs)
    seconds, code, total, refused, cpu = ordered[len(ordered) // 2]
    needed = total - refused
    bound = needed / limit
    return {"what": name, "s": round(seconds, 3), "runs_s": [round(r[0], 3) for r in ordered],
            "cpu_s": round(cpu, 3), "exit": code, "requests": total, "refused_429": refused,
            "refused_429_max": max(r[3] for r in runs),
            "refused_share": round(refused / total, 4) if total else 0.0, "needed": needed,
            "rate_bound_s": round(bound, 3), "vs_bound": round(seconds / bound, 3) if bound else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--limit", type=int, default=20, help="requests per second the account allows")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="plan and apply runs; the median is reported")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    emu = account.Emulator()
    try:
        asyncio.run(account.seed(emu.base_url, args.n))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            account.write_manifests(folder, args.n)
            emu.faults(latency_ms=args.latency_ms, rate_limit_per_s=args.limit)
            common = ["--parallelism", str(args.parallelism), str(folder)]
            plans, applies = [], []
            for r in range(args.runs):
                # Plan then apply the 10% change: to the changed manifests, then back to the seeded ones.
                account.write_manifests(folder, args.n, 10 if r % 2 == 0 else None)
                plans.append(run_cli(emu, "plan", "--detailed-exitcode", "--format", "json", *common))
                applies.append(run_cli(emu, "apply", "--auto-approve", "--format", "json", *common))
            plan, apply = figures("plan", plans, args.limit), figures("apply", applies, args.limit)
            emu.faults(latency_ms=0, rate_limit_per_s=0)
            _, after, _, _, _ = run_cli(emu, "plan", "--detailed-exitcode", "--format", "json", *common)
    finally:
        emu.stop()
    results = {"n": args.n, "limit_per_s": args.limit, "latency_ms": args.latency_ms,
               "parallelism": args.parallelism, "plan": plan, "apply": apply, "replan_exit": after}
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"rate limit: N={args.n} assistants, {args.limit} requests/s allowed, latency {args.latency_ms:.0f} ms, "
          f"parallelism {args.parallelism}")
    for item in (plan, apply):
        print(f"  {item['what']:<6}{item['s']:7.2f} s (median of {args.runs}: {item['runs_s'][0]:.2f}-"
              f"{item['runs_s'][-1]:.2f}), CPU {item['cpu_s']:.2f} s, {item['requests']} requests sent, "
              f"{item['refused_429']} answered 429 ({100 * item['refused_share']:.1f}%); "
              f"rate bound {item['rate_bound_s']:.2f} s "
              f"({item['needed']} requests / {args.limit} per s) -> {item['vs_bound']:.2f}x the bound")
    print(f"  re-plan after apply: exit {after} ({'no changes' if after == 0 else 'changes left'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
