"""Plan and apply at scale, against the physical bound and the script a user would write (issue 7).

An emulator runs in its own process (so it never shares a GIL with the tool being measured) with
injected latency. It is seeded through plain HTTP requests, not through reconciler, with N assistants (each
with tags, two named versions and a canary), 100 shared tools and 20 MCP servers. Manifests that
describe all of it, with 10% of the assistants changed, are written to a temporary folder. Then:

- plan: wall time of `reconciler plan` (the real CLI, a subprocess) and its request count (from
  /_emulator/stats), next to the lower bound computed from the seeded state alone:
  (fewest requests a correct plan needs / parallelism) x latency, where the fewest requests are one
  listing of assistants, of tools and of MCP servers (one page each at 100 per page) plus, for each
  managed assistant, its versions and its canary;
- naive: the official SDK fetching the same live state one request at a time, as a user's script would;
- apply of the 10% change: wall time of the apply phase next to the bound of its dependency levels,
  sum over levels of ceil(width / parallelism) x latency.

The account is built by the same requests in-process and handed to the emulator process as its
--state-file (seeding 1,000 assistants over loopback took minutes on a busy machine).

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
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OWNER = "managed-by:reconciler"
KEY = "bench-key"
TOOLS, MCPS = 100, 20


class Emulator:
    """`reconciler emulator` in a subprocess on a free loopback port."""

    def __init__(self, state_file: Path | None = None) -> None:
        more = ["--state-file", str(state_file)] if state_file is not None else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "emulator", "--port", "0", *more],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "emulator listening on http://127.0.0.1:PORT (...)"
        self.url = line.split("listening on ")[1].split()[0]
        self.base_url = f"{self.url}/v2"

    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.url}/_emulator/faults", json=faults, timeout=10).raise_for_status()

    def reset_stats(self) -> None:
        httpx.post(f"{self.url}/_emulator/reset", json={"stats_only": True}, timeout=10).raise_for_status()

    def requests(self) -> int:
        return int(httpx.get(f"{self.url}/_emulator/stats", timeout=10).json()["total"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def assistant_spec(i: int, changed: bool = False) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o",
        "instructions": f"You are assistant {i}. Answer briefly and politely.",
        "greeting": f"Hello from assistant {i}" + (", now changed" if changed else ""),
        "voice_settings": {"voice": "Telnyx.KokoroTTS.af_heart"},
        "telephony_settings": {"time_limit_secs": 900},
        "tags": [f"team-{i % 7}", "bench"],
    }


VERSION_OVERLAYS = [("short", {"greeting": "Hi!"}), ("formal", {"greeting": "Good day."})]


async def seed(base_url: str, n: int, concurrency: int = 32,
               transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Create the account through plain HTTP, as someone would have built it by hand."""
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, transport=transport,
                                 timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        async def call(method: str, path: str, body: dict[str, Any]) -> Any:
            async with slots:
                r = await http.request(method, path, json=body)
            r.raise_for_status()
            return r.json()

        tools = await asyncio.gather(*(call("POST", "/ai/tools", {
            "type": "webhook", "display_name": f"tool-{t:03d}",
            "webhook": {"name": f"tool_{t}", "description": "Looks something up", "url": f"https://x.example/{t}"},
        }) for t in range(TOOLS)))
        mcps = await asyncio.gather(*(call("POST", "/ai/mcp_servers", {
            "name": f"mcp-{m:02d}", "type": "http", "url": f"https://mcp.example/{m}"}) for m in range(MCPS)))

        async def one(i: int) -> None:
            spec = assistant_spec(i)
            body = {**spec, "name": f"bot-{i:04d}", "tags": [*spec["tags"], OWNER],
                    "tool_ids": [tools[i % TOOLS]["id"]], "mcp_servers": [{"id": mcps[i % MCPS]["id"]}]}
            created = await call("POST", "/ai/assistants", body)
            vids = []
            for vname, overlay in VERSION_OVERLAYS:
                version = await call("POST", f"/ai/assistants/{created['id']}", {
                    **{k: v for k, v in body.items() if k not in ("name", "tags")}, **overlay,
                    "version_name": vname, "promote_to_main": False})
                vids.append(version["version_id"])
            await call("POST", f"/ai/assistants/{created['id']}/canary-deploys",
                       {"versions": [{"version_id": v, "percentage": 5} for v in vids]})

        await asyncio.gather(*(one(i) for i in range(n)))


def seeded_emulator(n: int, folder: Path) -> Emulator:
    """An emulator process whose account was seeded with `n` assistants by `seed`, through the same
    requests but in-process (a 5,000-assistant account takes minutes over loopback on a busy machine);
    the state reaches the process as its --state-file."""
    from reconciler.emulator.app import EmulatorApp

    app = EmulatorApp()
    asyncio.run(seed("http://emulator/v2", n, transport=app.async_transport()))
    state = folder / "emulator-state.json"
    state.write_bytes(app.state.snapshot())
    return Emulator(state)


def write_manifests(folder: Path, n: int, changed_every: int = 10) -> None:
    """The manifests describing the seeded account, every `changed_every`-th assistant changed."""
    import yaml

    docs: list[dict[str, Any]] = []
    docs += [{"apiVersion": "reconciler/v1", "kind": "Tool", "metadata": {"name": f"tool-{t:03d}"},
              "spec": {"type": "webhook", "webhook": {"name": f"tool_{t}", "description": "Looks something up",
                                                      "url": f"https://x.example/{t}"}}} for t in range(TOOLS)]
    docs += [{"apiVersion": "reconciler/v1", "kind": "McpServer", "metadata": {"name": f"mcp-{m:02d}"},
              "spec": {"type": "http", "url": f"https://mcp.example/{m}"}} for m in range(MCPS)]
    for i in range(n):
        spec = assistant_spec(i, changed=i % changed_every == 0)
        spec["shared_tools"] = [f"tool-{i % TOOLS:03d}"]
        spec["mcp_servers"] = [{"server": f"mcp-{i % MCPS:02d}"}]
        spec["versions"] = [{"name": v, "spec": o} for v, o in VERSION_OVERLAYS]
        spec["canary"] = [{"version": v, "percentage": 5} for v, _ in VERSION_OVERLAYS]
        docs.append({"apiVersion": "reconciler/v1", "kind": "Assistant", "metadata": {"name": f"bot-{i:04d}"},
                     "spec": spec})
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    (folder / "all.yaml").write_text(yaml.dump_all(docs, Dumper=dumper, sort_keys=False))


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


async def apply_change(folder: Path, emu: Emulator, parallelism: int, latency: float) -> tuple[float, float, int]:
    """Apply the changed assistants; return (apply wall time, level bound, changes applied)."""
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
        t0 = time.perf_counter()
        result = await apply_plan(client, plan)
        seconds = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"apply failed: {[s.error for s in result.failed][:3]}")
    return seconds, bound, len(result.done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="plan runs; the median is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    state = tempfile.TemporaryDirectory()
    t0 = time.perf_counter()
    emu = seeded_emulator(args.n, Path(state.name))
    seed_s = time.perf_counter() - t0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_manifests(folder, args.n)
            emu.faults(latency_ms=args.latency_ms)
            minimum = 1 + math.ceil(TOOLS / 100) + math.ceil(MCPS / 100) + 2 * args.n
            plan_bound = minimum / args.parallelism * latency
            runs = [plan_cli(folder, emu, args.parallelism) for _ in range(args.runs)]
            plan_times = sorted(r[0] for r in runs)
            plan_s = statistics.median(plan_times)
            _, code, plan_requests, _ = runs[0]
            plan_cpu = statistics.median(r[3] for r in runs)
            naive_s, naive_requests = (float("nan"), 0) if args.skip_naive else naive_sdk(emu)
            apply_s, apply_bound, applied = asyncio.run(apply_change(folder, emu, args.parallelism, latency))
            _, after_code, _, _ = plan_cli(folder, emu, args.parallelism)
    finally:
        emu.stop()
        state.cleanup()
    results = {
        "n": args.n, "latency_ms": args.latency_ms, "parallelism": args.parallelism, "seed_s": round(seed_s, 2),
        "plan_s": round(plan_s, 3), "plan_runs_s": [round(t, 3) for t in plan_times],
        "plan_cpu_s": round(plan_cpu, 3), "plan_requests": plan_requests,
        "plan_min_requests": minimum,
        "plan_bound_s": round(plan_bound, 3), "plan_vs_bound": round(plan_s / plan_bound, 3),
        "plan_exit": code, "naive_s": round(naive_s, 3), "naive_requests": naive_requests,
        "naive_vs_plan": round(naive_s / plan_s, 1) if naive_requests else None,
        "apply_s": round(apply_s, 3), "apply_bound_s": round(apply_bound, 3),
        "apply_vs_bound": round(apply_s / apply_bound, 3), "applied": applied, "replan_exit": after_code,
    }
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"scale benchmark: N={args.n} assistants (+{TOOLS} tools, {MCPS} MCP servers), "
          f"latency {args.latency_ms:.0f} ms, parallelism {args.parallelism} (seeded in {seed_s:.1f} s)")
    print(f"  plan   {plan_s:8.3f} s  median of {args.runs} ({plan_times[0]:.2f}-{plan_times[-1]:.2f}), "
          f"{plan_requests} requests (minimum {minimum}); "
          f"bound {plan_bound:.3f} s -> {plan_s / plan_bound:.2f}x the bound; exit {code}; CPU {plan_cpu:.2f} s")
    if naive_requests:
        print(f"  naive  {naive_s:8.3f} s  {naive_requests} requests, one at a time -> plan is "
              f"{naive_s / plan_s:.1f}x faster")
    print(f"  apply  {apply_s:8.3f} s  {applied} changes; level bound {apply_bound:.3f} s -> "
          f"{apply_s / apply_bound:.2f}x the bound")
    print(f"  re-plan after apply: exit {after_code} ({'no changes' if after_code == 0 else 'changes left'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
