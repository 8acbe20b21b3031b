"""Plan time against N, for reconciler, its lower bound and the naive SDK script; draws a PNG.

For each N an emulator (its own process, `--latency-ms`) is seeded with N assistants as in
bench/account.py, and the manifests describe them (with the 100 tools and 20 MCP servers), so a plan
reads the three listings plus N assistants' versions and canaries: 3 + 2N requests, the bound being
their round trips at `parallelism` in flight, the per-assistant reads after the listing, times the
latency (account.plan_bound). `reconciler plan` runs as a subprocess
(whole process) `--runs` times per N; the median is plotted, the spread printed.

The naive script (the official SDK, one request at a time) is run at the N given by `--naive-n`
only: beyond them its time is extrapolated from its measured cost per request, and the plot says so.

Usage: python bench/plan_curve.py [--n 100 500 1000 2000 5000] [--naive-n 100 500] [--runs 3]
                                  [--png docs/plan-time.png] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import account  # type: ignore[import-not-found]  # bench/account.py, next to this script
import scale  # type: ignore[import-not-found]  # bench/scale.py, next to this script

ROOT = Path(__file__).resolve().parent.parent


def draw(points: list[dict[str, Any]], naive_cost: float, png: Path, latency_ms: float, parallelism: int) -> None:
    """The plot; matplotlib comes with the `bench` extra (`pip install -e '.[bench]'`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [p["n"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    ax.plot(ns, [p["naive_s"] for p in points], "o--", color="tab:red", label="naive SDK script (dashed: extrapolated)")
    measured = [p for p in points if p["naive_measured"]]
    ax.plot([p["n"] for p in measured], [p["naive_s"] for p in measured], "o", color="tab:red", markersize=7)
    ax.plot(ns, [p["plan_s"] for p in points], "o-", color="tab:blue", label="reconciler plan (median)")
    ax.fill_between(ns, [p["plan_min_s"] for p in points], [p["plan_max_s"] for p in points], color="tab:blue",
                    alpha=0.2, linewidth=0)
    ax.plot(ns, [p["bound_s"] for p in points], "-", color="black", linewidth=1, label="lower bound (network)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("assistants (N)")
    ax.set_ylabel("plan wall time, s")
    ax.set_title(f"plan time against N ({latency_ms:.0f} ms latency, parallelism {parallelism})", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.annotate(f"naive: {naive_cost * 1000:.0f} ms per request, measured at N = "
                f"{', '.join(str(p['n']) for p in measured)}", xy=(0.02, 0.02), xycoords="axes fraction", fontsize=7)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 500, 1000, 2000, 5000])
    parser.add_argument("--naive-n", type=int, nargs="*", default=[100, 500])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "plan-time.png")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    points: list[dict[str, Any]] = []
    naive: dict[int, tuple[float, int]] = {}
    for n in sorted(args.n):
        emu = account.seeded_emulator(n)  # an account of exactly N: no listing larger than the manifests
        try:
            emu.faults(latency_ms=args.latency_ms)
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                account.write_manifests(folder, n)
                # The naive script, where measured, runs between the plans: both see the machine alike.
                runs = [scale.plan_cli(folder, emu, args.parallelism) for _ in range((args.runs + 1) // 2)]
                if n in args.naive_n:
                    naive[n] = scale.naive_sdk(emu)
                runs += [scale.plan_cli(folder, emu, args.parallelism) for _ in range(args.runs // 2)]
        finally:
            emu.stop()
        times = [r[0] for r in runs]
        points.append({"n": n, "plan_s": round(statistics.median(times), 3), "plan_min_s": round(min(times), 3),
                       "plan_max_s": round(max(times), 3),
                       "plan_cpu_s": round(statistics.median(r[3] for r in runs), 3),
                       "bound_s": round(account.plan_bound(n, args.parallelism, latency), 3),
                       "request_bound_s": round(account.request_bound(n, args.parallelism, latency), 3)})
        if not args.json:
            print(f"  N={n:5d}: plan {statistics.median(times):7.2f} s median of {len(times)} "
                  f"({min(times):.2f}-{max(times):.2f}), bound {points[-1]['bound_s']:.2f} s", flush=True)
    cost = sum(s for s, _ in naive.values()) / sum(r for _, r in naive.values()) if naive else latency
    for p in points:
        measured = naive.get(p["n"])
        p["naive_measured"] = measured is not None
        p["naive_s"] = round(measured[0] if measured else cost * account.plan_requests(p["n"]), 2)
        p["plan_vs_bound"] = round(p["plan_s"] / p["bound_s"], 3)
        p["plan_vs_request_bound"] = round(p["plan_s"] / p["request_bound_s"], 3)
        p["naive_vs_plan"] = round(p["naive_s"] / p["plan_s"], 1)
    draw(points, cost, args.png, args.latency_ms, args.parallelism)
    if args.json:
        print(json.dumps({"points": points, "naive_cost_s": round(cost, 4), "png": str(args.png)}))
        return 0
    for p in points:
        how = "measured" if p["naive_measured"] else "extrapolated"
        print(f"  N={p['n']:5d}: plan {p['plan_s']:.2f} s = {p['plan_vs_bound']:.2f}x bound; "
              f"naive {p['naive_s']:.1f} s ({how}) = {p['naive_vs_plan']:.1f}x the plan")
    print(f"  plot: {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
