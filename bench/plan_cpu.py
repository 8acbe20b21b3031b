"""Planning CPU with no latency: CPU time and peak memory of loading the manifests and planning, for
1,000 and 5,000 assistants (issue 16 target: 5,000 within 2 s of CPU and 512 MiB).

The account (each assistant with tags, two named versions and a canary; 100 tools, 20 MCP servers,
10% of the assistants changed) is seeded into an in-process emulator and its live state saved to a
file. A fresh child process then does only what `plan` does besides the network: load and validate
the manifests, and plan against that live state. Its peak RSS is the whole process's.

Usage: python bench/plan_cpu.py [--n 1000 5000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(folder: Path) -> None:
    from reconciler.manifest import load
    from reconciler.model import LiveState
    from reconciler.planning import planner

    live = LiveState(**json.loads((folder / "live.json").read_text()))
    t0, c0 = time.perf_counter(), time.process_time()
    desired = load([folder / "manifests"])
    c1 = time.process_time()
    plan = planner.plan(desired, live)
    t2, c2 = time.perf_counter(), time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # CPU (user+sys of this process) is the figure to read on a shared machine; wall is also given.
    print(json.dumps({"load_s": c1 - c0, "plan_s": c2 - c1, "total_s": c2 - c0, "wall_s": t2 - t0,
                      "peak_mb": peak_mb, "changes": plan.summary()}))


def prepare(folder: Path, n: int) -> None:
    import account  # type: ignore[import-not-found]  # bench/account.py, on sys.path when run as a script

    from reconciler import live
    from reconciler.api.client import ApiClient
    from reconciler.emulator.app import EmulatorApp
    from reconciler.manifest import load

    (folder / "manifests").mkdir()
    account.write_manifests(folder / "manifests", n)
    app = EmulatorApp()
    asyncio.run(account.seed("http://emulator/v2", n, transport=app.async_transport()))

    async def fetch() -> dict[str, object]:
        async with ApiClient("http://emulator/v2", account.KEY, transport=app.async_transport()) as client:
            state = await live.fetch_live(client, load([folder / "manifests"]))
        return dataclasses.asdict(state)

    (folder / "live.json").write_text(json.dumps(asyncio.run(fetch())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    results = []
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            prepare(Path(tmp), n)
            out = subprocess.run([sys.executable, __file__, "--child", tmp], capture_output=True, text=True,
                                 check=True, cwd=ROOT)
        figures = json.loads(out.stdout)
        figures["n"] = n
        results.append(figures)
        if not args.json:
            print(f"planning CPU, N={n}: load {figures['load_s']:.2f} s + plan {figures['plan_s']:.2f} s = "
                  f"{figures['total_s']:.2f} s of CPU (wall {figures['wall_s']:.2f} s); peak RSS "
                  f"{figures['peak_mb']:.0f} MiB; {figures['changes']}")
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
