"""`make bench`: run every benchmark, each in its own process, show what each prints, then a table of
the headline figures against their targets. Nothing here is a test: the figures are for reading.

Usage: python bench/run_all.py [--n 1000] [--runs 3] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def run(script: str, *args: str) -> str:
    print(f"\n$ python bench/{script} {' '.join(args)}", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          cwd=BENCH.parent)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stdout.write(done.stderr[-3000:])
        print(f"(exit {done.returncode})")
    print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="assistants in the scale benchmark")
    parser.add_argument("--skip-naive", action="store_true", help="skip the slow one-request-at-a-time SDK run")
    parser.add_argument("--runs", type=int, default=3, help="plan runs of the scale benchmark (median reported)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          "(other work on the machine slows every wall-time figure)")
    run("validate_bench.py")
    run("emulator_throughput.py")
    run("apply_bench.py")
    cpu = json.loads(run("plan_cpu.py", "--json").strip().splitlines()[-1])
    scale_args = ["--n", str(args.n), "--runs", str(args.runs), "--json"]
    scale_args += ["--skip-naive"] if args.skip_naive else []
    scale = json.loads(run("scale.py", *scale_args).strip().splitlines()[-1])
    limited = json.loads(run("ratelimit.py", "--json").strip().splitlines()[-1])
    curve = json.loads(run("plan_curve.py", "--runs", "1", "--json").strip().splitlines()[-1])

    runs = scale["plan_runs_s"]
    rows = [
        ("plan wall time", f"{scale['plan_s']:.2f} s (median; {runs[0]:.2f}-{runs[-1]:.2f})",
         f"bound {scale['plan_bound_s']:.2f} s", f"{scale['plan_vs_bound']:.2f}x bound", "<= 1.1x"),
        ("plan requests", str(scale["plan_requests"]), f"minimum {scale['plan_min_requests']}", "", "= minimum"),
        ("naive SDK script", f"{scale['naive_s']:.2f} s" if scale["naive_requests"] else "skipped",
         f"{scale['naive_requests']} requests", f"{scale['naive_vs_plan']}x slower" if scale["naive_vs_plan"] else "",
         ">= 15x slower"),
        ("apply 10% change", f"{scale['apply_s']:.2f} s", f"bound {scale['apply_bound_s']:.2f} s",
         f"{scale['apply_vs_bound']:.2f}x bound", "<= 1.2x"),
    ]
    for item in (limited["plan"], limited["apply"]):
        rows.append((f"{item['what']} at {limited['limit_per_s']} req/s, N={limited['n']}",
                     f"{item['s']:.2f} s, {item['requests']} sent, {item['refused_429']} x 429",
                     f"rate bound {item['rate_bound_s']:.2f} s", f"{item['vs_bound']:.2f}x bound, "
                     f"{100 * item['refused_share']:.1f}% 429", "<= 1.1x, <= 5% 429"))
    for item in cpu:
        rows.append((f"planning CPU, {item['n']} assistants", f"{item['total_s']:.2f} s",
                     f"peak {item['peak_mb']:.0f} MiB", "", "<= 2 s, <= 512 MiB" if item["n"] >= 5000 else ""))
    for point in curve["points"]:
        rows.append((f"plan curve N={point['n']}", f"{point['plan_s']:.2f} s", f"bound {point['bound_s']:.2f} s",
                     f"{point['plan_vs_bound']:.2f}x bound; naive {point['naive_s']:.0f} s"
                     f"{'' if point['naive_measured'] else ' (extrapolated)'}", ""))
    print(f"plot: {curve['png']}")
    print(f"\nSummary (N={scale['n']}, {scale['latency_ms']:.0f} ms latency, parallelism {scale['parallelism']}):")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
