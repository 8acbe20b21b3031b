"""Where the time of a plan goes besides the network: interpreter start, imports, loading and validating
the manifests, the reads (client CPU per request, and the emulator's), planning and rendering.

One emulator process (bench/account.py, `--latency-ms`) holds N assistants. A child process, started
fresh for each run so that start-up and imports are its own, goes through `reconciler plan`'s steps
one at a time, timing each (wall and CPU, `time.process_time`):

- start: the interpreter up to the first line of the child (CPU of the process so far);
- imports: what `reconciler plan` imports (the CLI, the command, the pipeline, httpx);
- load: reading and validating the manifests, alone (no request in flight);
- reads: `compute`: every request, with planning as the reads arrive (in `waits.run`, as the command
  runs it);
- planning: `planner.plan` again over the live state just read (no network), for its CPU alone;
- render: the plan document as JSON, as `--format json` prints it;
- whole: load + `compute` + render as the command runs them, one after the other: no request is sent
  before the manifests are valid (the CLI contract);
- wire: the same requests again on the bare transport the client sends through (api/wire.py: httpx's
  own, the same parallelism), each answer's JSON decoded and nothing else done: the floor that the
  reads, with every layer above the transport and the planning, are measured against.

The emulator's CPU (from /proc) is read around the whole child, per request answered (the reads, whole
and wire phases send the same requests).

Usage: python bench/breakdown.py [--n 1000] [--latency-ms 50] [--parallelism 16] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("start", "imports", "load", "reads", "planning", "render", "whole", "wire")


def child(folder: Path, parallelism: int) -> None:
    """One run of the phases, printed as one JSON line of {phase: [wall, cpu]} (see the docstring)."""
    out: dict[str, Any] = {"start": [None, time.process_time()]}
    w0, c0 = time.perf_counter(), time.process_time()
    sys.path.insert(0, str(ROOT))
    from reconciler import waits
    from reconciler.cli import build_parser
    from reconciler.commands import plan as _plan_command  # noqa: F401  (its imports are the figure)
    from reconciler.manifest import load
    from reconciler.pipeline import client_for, compute
    from reconciler.planning import planner
    from reconciler.render.document import Origin, plan_document

    def lap(name: str) -> None:
        nonlocal w0, c0
        w, c = time.perf_counter(), time.process_time()
        out[name] = [round(w - w0, 4), round(c - c0, 4)]
        w0, c0 = w, c

    lap("imports")
    args = build_parser().parse_args(["plan", "--parallelism", str(parallelism), str(folder)])
    desired = load([folder])
    lap("load")

    async def reads() -> Any:
        async with client_for(args, project=desired.project) as client:
            return await compute(client, desired, prune=False, targets=[])

    plan, live = waits.run(reads, deadline=None)  # as the command runs it
    lap("reads")
    planner.plan(desired, live)
    lap("planning")
    text = json.dumps(plan_document(plan, Origin(desired.project.name, None, None)), indent=2)
    lap("render")

    async def whole() -> str:
        got = load([folder])
        async with client_for(args, project=got.project) as client:
            made, _ = await compute(client, got, prune=False, targets=[])
        return json.dumps(plan_document(made, Origin(got.project.name, None, None)), indent=2)

    same = waits.run(whole, deadline=None) == text
    lap("whole")
    out["same_plan"] = same
    asyncio.run(bare_reads(os.environ["TELNYX_BASE_URL"], parallelism))
    lap("wire")
    print(json.dumps(out))


async def bare_reads(base_url: str, parallelism: int) -> None:
    """The plan's requests (the three listings, then each assistant's versions and canary) on a bare
    Wire: bodies decoded as JSON, nothing else."""
    from reconciler.api.wire import Wire

    wire = Wire(base_url, os.environ["TELNYX_API_KEY"], parallelism=parallelism, transport=None, timeout=30.0,
                http2=False)
    try:
        page = {"page[size]": 100, "page[number]": 1}  # as the client asks for the tools and MCP servers
        assistants, *_ = await asyncio.gather(
            wire.send("GET", f"{base_url}/ai/assistants"),
            *(wire.send("GET", f"{base_url}/ai/{what}", params=page) for what in ("tools", "mcp_servers")))
        ids = [a["id"] for a in assistants.json()["data"]]
        urls = iter(f"{base_url}/ai/assistants/{i}/{what}" for i in ids for what in ("versions", "canary-deploys"))

        async def worker() -> None:
            for url in urls:
                (await wire.send("GET", url)).json()

        await asyncio.gather(*(worker() for _ in range(parallelism)))
    finally:
        await wire.aclose()


def measure(emu: Any, folder: Path, parallelism: int) -> dict[str, Any]:
    """One child run, with the emulator's requests and CPU during it (its `reads`, `whole` and `wire` phases)."""
    import account  # type: ignore[import-not-found]  # bench/account.py; not imported by the child

    env = {**os.environ, "TELNYX_API_KEY": account.KEY, "TELNYX_BASE_URL": emu.base_url}
    emu.reset_stats()
    cpu0 = emu.cpu_s()
    done = subprocess.run([sys.executable, __file__, "--child", str(folder), "--parallelism", str(parallelism)],
                          env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"breakdown child failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["emulator_cpu_s"] = round(emu.cpu_s() - cpu0, 3)
    figures["requests"] = emu.requests()  # the `reads`, `whole` and `wire` phases
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.parallelism)
        return 0
    import account

    emu = account.seeded_emulator(args.n)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            account.write_manifests(folder, args.n)
            emu.faults(latency_ms=args.latency_ms)
            runs = [measure(emu, folder, args.parallelism) for _ in range(args.runs)]
    finally:
        emu.stop()
    requests = account.plan_requests(args.n)
    bound = account.plan_bound(args.n, args.parallelism, args.latency_ms / 1000)
    phases = {p: {"wall_s": _median([r[p][0] for r in runs]), "cpu_s": _median([r[p][1] for r in runs]),
                  "wall_min_s": _least([r[p][0] for r in runs]), "wall_max_s": _most([r[p][0] for r in runs])}
              for p in PHASES}
    cpu = {p: float(statistics.median(r[p][1] for r in runs)) for p in PHASES}
    emulator_per_request = statistics.median(r["emulator_cpu_s"] / r["requests"] for r in runs)
    result = {
        "n": args.n, "latency_ms": args.latency_ms, "parallelism": args.parallelism, "runs": args.runs,
        "requests": requests, "bound_s": round(bound, 3),
        "request_bound_s": round(account.request_bound(args.n, args.parallelism, args.latency_ms / 1000), 3),
        "phases": phases,
        "client_cpu_per_request_ms": round(1000 * (cpu["reads"] - cpu["planning"]) / requests, 3),
        "emulator_cpu_per_request_ms": round(1000 * emulator_per_request, 3),
        "emulator_max_rps": round(1 / emulator_per_request) if emulator_per_request else None,
        "same_plan": all(r["same_plan"] for r in runs),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"plan breakdown: N={args.n}, {requests} requests, {args.latency_ms:.0f} ms, parallelism "
          f"{args.parallelism}; bound {bound:.2f} s; median of {args.runs} fresh processes (wall min-max)")
    for name in PHASES:
        p = phases[name]
        wall = "" if p["wall_s"] is None else f"{p['wall_s']:7.3f} s wall ({p['wall_min_s']:.2f}-{p['wall_max_s']:.2f})"
        print(f"  {name:<9}{wall:<32} {p['cpu_s']:7.3f} s CPU")
    print(f"  client CPU per request (reads minus planning): {result['client_cpu_per_request_ms']:.2f} ms; "
          f"emulator CPU per request: {result['emulator_cpu_per_request_ms']:.2f} ms "
          f"(at most ~{result['emulator_max_rps']} requests/s on one core)")
    serial = sum(phases[p]["wall_s"] or 0 for p in ("imports", "load", "reads", "render"))
    whole = phases["whole"]["wall_s"]
    print(f"  serial (imports + load + reads + render): {serial:.2f} s = {serial / bound:.2f}x bound; whole, "
          f"as the command runs them: {whole:.2f} s = {whole / bound:.2f}x bound (plus start); "
          f"same plan: {result['same_plan']}")
    wire = phases["wire"]["wall_s"]
    print(f"  the same requests on the bare transport: {wire:.2f} s = {wire / bound:.2f}x bound "
          "(the floor of the reads)")
    return 0


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 4) if known else None


def _least(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def _most(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


if __name__ == "__main__":
    raise SystemExit(main())
