"""The benchmarks' account and the emulator process that serves it.

The account: N assistants (each with tags, a shared tool, an MCP server, two named versions and a
canary splitting 5% + 5%), 100 shared tools and 20 MCP servers, created through plain HTTP requests
as someone would have built it by hand (`seed`). `write_manifests` writes the manifests describing
it, every tenth assistant changed.

`Emulator` runs the emulator in its own process, so it never shares an interpreter lock with the
tool measured. `seeded_emulator(n)` starts one whose account is seeded inside that process, before
it listens (over loopback a 5,000-assistant account takes minutes on a busy machine). Not through
`--state-file`: that option saves the whole state, fsynced, before answering each write, which made
every update of the apply benchmarks cost the emulator a multi-megabyte save (100 updates: 16-27 s).

    python bench/account.py --serve N   (the child that `seeded_emulator` starts)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OWNER = "managed-by:reconciler"
KEY = "bench-key"
TOOLS, MCPS = 100, 20
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Emulator:
    """The emulator in a subprocess on a free loopback port: `reconciler emulator`, or with `seed_n`
    this module's `--serve` child holding a seeded account."""

    def __init__(self, seed_n: int | None = None) -> None:
        if seed_n is None:
            argv = [sys.executable, "-m", "reconciler", "emulator", "--port", "0"]
        else:
            argv = [sys.executable, str(Path(__file__).resolve()), "--serve", str(seed_n)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "emulator listening on http://127.0.0.1:PORT (...)"
        if "listening on " not in line:
            raise SystemExit(f"the emulator did not start (exit {self.proc.wait()})")
        self.url = line.split("listening on ")[1].split()[0]
        self.base_url = f"{self.url}/v2"

    def faults(self, **faults: Any) -> None:
        httpx.post(f"{self.url}/_emulator/faults", json=faults, timeout=10).raise_for_status()

    def reset_stats(self) -> None:
        httpx.post(f"{self.url}/_emulator/reset", json={"stats_only": True}, timeout=10).raise_for_status()

    def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/_emulator/stats", timeout=10).json()
        return body

    def requests(self) -> int:
        return int(self.stats()["total"])

    def cpu_s(self) -> float:
        """CPU time (user + system) the emulator process has used so far, from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)

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


def plan_requests(n: int) -> int:
    """The fewest requests a correct plan of this account needs: one listing each of assistants,
    tools and MCP servers (one page each at 100 per page), and each managed assistant's versions and
    canary."""
    return 1 + math.ceil(TOOLS / 100) + math.ceil(MCPS / 100) + 2 * n


def plan_bound(n: int, parallelism: int, latency_s: float) -> float:
    """The plan's lower bound: whole round trips, at most `parallelism` in flight, and the
    per-assistant reads after the assistant listing that names them (a plan keeps no state, so it
    knows no id before listing). Each request takes at least one latency and a connection carries one
    at a time, so R requests take at least ceil(R / P) round trips; and the 2N reads start a round
    trip in, after the listing: at least 1 + ceil(2N / P). Whole round trips per dependency level, as
    the apply's level bound counts them."""
    rounds = max(math.ceil(plan_requests(n) / parallelism), 1 + math.ceil(2 * n / parallelism))
    return rounds * latency_s


def request_bound(n: int, parallelism: int, latency_s: float) -> float:
    """The bound as first written (issue 16): the requests over the parallelism times the latency, a
    fraction of a round trip included and the listing's own round trip left out. Reported beside
    `plan_bound` so that figures stay comparable with earlier runs."""
    return plan_requests(n) / parallelism * latency_s


def seeded_emulator(n: int) -> Emulator:
    """An emulator process whose account was seeded with `n` assistants by `seed`, in-process."""
    return Emulator(seed_n=n)


def write_manifests(folder: Path, n: int, changed_every: int | None = 10) -> None:
    """The manifests describing the seeded account, every `changed_every`-th assistant changed (None:
    the account as seeded)."""
    import yaml

    docs: list[dict[str, Any]] = []
    docs += [{"apiVersion": "reconciler/v1", "kind": "Tool", "metadata": {"name": f"tool-{t:03d}"},
              "spec": {"type": "webhook", "webhook": {"name": f"tool_{t}", "description": "Looks something up",
                                                      "url": f"https://x.example/{t}"}}} for t in range(TOOLS)]
    docs += [{"apiVersion": "reconciler/v1", "kind": "McpServer", "metadata": {"name": f"mcp-{m:02d}"},
              "spec": {"type": "http", "url": f"https://mcp.example/{m}"}} for m in range(MCPS)]
    for i in range(n):
        spec = assistant_spec(i, changed=changed_every is not None and i % changed_every == 0)
        spec["shared_tools"] = [f"tool-{i % TOOLS:03d}"]
        spec["mcp_servers"] = [{"server": f"mcp-{i % MCPS:02d}"}]
        spec["versions"] = [{"name": v, "spec": o} for v, o in VERSION_OVERLAYS]
        spec["canary"] = [{"version": v, "percentage": 5} for v, _ in VERSION_OVERLAYS]
        docs.append({"apiVersion": "reconciler/v1", "kind": "Assistant", "metadata": {"name": f"bot-{i:04d}"},
                     "spec": spec})
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    (folder / "all.yaml").write_text(yaml.dump_all(docs, Dumper=dumper, sort_keys=False))


def _serve(n: int) -> None:
    """The child of `seeded_emulator`: seed in-process, serve until stdin closes or SIGTERM."""
    from reconciler.emulator.app import EmulatorApp
    from reconciler.emulator.server import serve_in_thread

    app = EmulatorApp()
    asyncio.run(seed("http://emulator/v2", n, transport=app.async_transport()))
    url, stop = serve_in_thread(app)
    print(f"emulator listening on {url} (seeded with {n} assistants)", flush=True)
    try:
        sys.stdin.read()
    finally:
        stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, required=True, metavar="N")
    _serve(parser.parse_args().serve)
