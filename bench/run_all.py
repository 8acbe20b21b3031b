"""`make bench`: run every benchmark, each in its own process, show what each prints, then a table of
the headline figures against their targets. Nothing here is a test: the figures are for reading.

Usage: python bench/run_all.py [--n 1000] [--skip-naive]
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
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    run("validate_bench.py")
    run("emulator_throughput.py")
    run("apply_bench.py")
    cpu = json.loads(run("plan_cpu.py", "--json").strip().splitlines()[-1])
    scale_args = ["--n", str(args.n), "--json"] + (["--skip-naive"] if args.skip_naive else [])
    scale = json.loads(run("scale.py", *scale_args).strip().splitlines()[-1])

    rows = [
        ("plan wall time", f"{scale['plan_s']:.2f} s", f"bound {scale['plan_bound_s']:.2f} s",
         f"{scale['plan_vs_bound']:.2f}x bound", "<= 1.25x"),
        ("plan requests", str(scale["plan_requests"]), f"minimum {scale['plan_min_requests']}", "", "= minimum"),
        ("naive SDK script", f"{scale['naive_s']:.2f} s" if scale["naive_requests"] else "skipped",
         f"{scale['naive_requests']} requests", f"{scale['naive_vs_plan']}x slower" if scale["naive_vs_plan"] else "",
         ">= 10x slower"),
        ("apply 10% change", f"{scale['apply_s']:.2f} s", f"bound {scale['apply_bound_s']:.2f} s",
         f"{scale['apply_vs_bound']:.2f}x bound", "<= 1.5x"),
    ]
    for item in cpu:
        rows.append((f"planning CPU, {item['n']} assistants", f"{item['total_s']:.2f} s",
                     f"peak {item['peak_mb']:.0f} MiB", "", "< 5 s, < 1 GiB" if item["n"] >= 5000 else ""))
    print(f"\nSummary (N={scale['n']}, {scale['latency_ms']:.0f} ms latency, parallelism {scale['parallelism']}):")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
