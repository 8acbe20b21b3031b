"""A generator of large projects written as real YAML files, in-process clients of the real emulator,
helpers that plan and apply through the real modules, and emulator variants that lose or refuse
answers (for the apply tests and the benchmarks)."""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from reconciler import live
from reconciler.api.client import ApiClient
from reconciler.apply import applier
from reconciler.emulator.app import EmulatorApp, Reply
from reconciler.kinds import DEFAULT_OWNER_TAG
from reconciler.manifest import load
from reconciler.planning import planner
from reconciler.planning.plan import Plan, ResourceChange
from tests.support.emulator import API_KEY

IN_PROCESS_URL = "http://emulator.invalid/v2"  # never resolved: the in-process transport answers
OWNER = DEFAULT_OWNER_TAG


def client_for(app: EmulatorApp, **kwargs: Any) -> ApiClient:
    """A real ApiClient talking to `app` in-process (every request bounded by a 10 s timeout)."""
    kwargs.setdefault("timeout", 10.0)
    return ApiClient(IN_PROCESS_URL, API_KEY, transport=app.async_transport(), **kwargs)


async def plan_paths(client: ApiClient, paths: list[Path], *, prune: bool = False) -> Plan:
    """Load manifests, read live state and plan, as `reconciler plan` does."""
    desired = load([str(p) for p in paths])
    return planner.plan(desired, await live.fetch_live(client, desired, prune=prune), prune=prune)


async def apply_paths(client: ApiClient, paths: list[Path], *, prune: bool = False,
                      hooks: applier.ApplyHooks | None = None) -> tuple[Plan, applier.ApplyResult]:
    """Plan and apply without confirmation; returns the plan and the result."""
    desired = load([str(p) for p in paths])
    plan = planner.plan(desired, await live.fetch_live(client, desired, prune=prune), prune=prune)
    result = await applier.apply_plan(client, plan, hooks, owner_tag=desired.project.owner_tag)
    return plan, result


def pending(plan: Plan) -> list[str]:
    """`address [actions]` of every change a plan still holds (empty when converged)."""
    return [f"{rc.address} {rc.actions}" for rc in plan.resource_changes if not rc.is_noop]


# --- a generated project -------------------------------------------------------------------------


def generate_project(folder: Path, *, tools: int = 30, mcp_servers: int = 20, assistants: int = 50,
                     prefix: str = "gen") -> int:
    """Write a project of every kind into `folder`: shared tools, MCP servers, assistants using them,
    one named version per assistant and a canary routing to it. Returns the number of resources
    (plan changes) it declares: tools + mcp_servers + 3 * assistants (200 with the defaults)."""
    folder.mkdir(parents=True, exist_ok=True)
    docs: list[str] = []
    for i in range(tools):
        docs.append(f"""apiVersion: reconciler/v1
kind: Tool
metadata:
  name: {prefix}-tool-{i:03d}
spec:
  type: webhook
  timeout_ms: {3000 + i}
  webhook:
    name: lookup_{i}
    description: Look item {i} up
    url: https://api.example.com/items/{i}/{{item_id}}
    method: GET
    path_parameters:
      type: object
      properties:
        item_id: {{type: string}}
      required: [item_id]
""")
    for i in range(mcp_servers):
        docs.append(f"""apiVersion: reconciler/v1
kind: McpServer
metadata:
  name: {prefix}-mcp-{i:03d}
spec:
  type: http
  url: https://mcp.example.com/{prefix}/{i}
  allowed_tools: [tool_a, tool_b]
""")
    (folder / "shared.yaml").write_text("---\n".join(docs))
    docs = []
    for i in range(assistants):
        docs.append(f"""apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: {prefix}-assistant-{i:03d}
spec:
  model: openai/gpt-4o
  instructions: You are assistant number {i}.
  greeting: Hello from {i}
  tags: [generated, batch-{i % 5}]
  dynamic_variables: {{slot: "{i}"}}
  shared_tools: [{prefix}-tool-{i % tools:03d}]
  mcp_servers:
    - server: {prefix}-mcp-{i % mcp_servers:03d}
      allowed_tools: [tool_a]
  versions:
    - name: short-greeting
      spec:
        greeting: Hi ({i})
  canary:
    - version: short-greeting
      percentage: {5 + i % 20}
""")
    (folder / "assistants.yaml").write_text("---\n".join(docs))
    return tools + mcp_servers + 3 * assistants


# --- looking at the emulator's state directly ------------------------------------------------------


def snapshot(app: EmulatorApp) -> dict[str, Any]:
    """A deep copy of every assistant, tool and MCP server record (to prove what was not touched)."""
    return copy.deepcopy({k: app.state.data[k] for k in ("assistants", "tools", "mcp_servers")})


def name_counts(app: EmulatorApp) -> dict[str, Counter[str]]:
    """How many live objects carry each name, per kind (every name must be there exactly once)."""
    state = app.state
    versions: Counter[str] = Counter()
    for rec in state.assistants.values():
        main = rec["versions"][rec["main"]]
        for vid, v in rec["versions"].items():
            if vid != rec["main"]:
                versions[f"{main['name']}/{v['version_name']}"] += 1
    return {
        "assistants": Counter(r["versions"][r["main"]]["name"] for r in state.assistants.values()),
        "tools": Counter(t["display_name"] for t in state.tools.values()),
        "mcp_servers": Counter(m["name"] for m in state.mcp_servers.values()),
        "versions": versions,
    }


def seed_foreign(http: httpx.Client) -> None:
    """Resources created outside reconciler: apply must never touch them."""
    http.post("/ai/assistants", json={"name": "hand-made", "instructions": "made in the portal",
                                      "model": "openai/gpt-4o", "tags": ["portal"]}).raise_for_status()
    http.post("/ai/tools", json={"type": "webhook", "display_name": "hand-made-tool",
                                 "webhook": {"name": "x", "description": "d", "url": "https://x.example.com",
                                             "method": "GET"}}).raise_for_status()
    http.post("/ai/mcp_servers", json={"name": "hand-made-mcp", "type": "http",
                                       "url": "https://mcp.example.com/hand"}).raise_for_status()


def foreign(snap: dict[str, Any]) -> dict[str, Any]:
    """The part of a snapshot made outside reconciler (by `seed_foreign`)."""
    return {
        "assistants": {k: v for k, v in snap["assistants"].items()
                       if v["versions"][v["main"]]["name"] == "hand-made"},
        "tools": {k: v for k, v in snap["tools"].items() if v["display_name"] == "hand-made-tool"},
        "mcp_servers": {k: v for k, v in snap["mcp_servers"].items() if v["name"] == "hand-made-mcp"},
    }


def sync_client(app: EmulatorApp) -> httpx.Client:
    """A plain sync client of the in-process emulator, for changes behind reconciler's back."""
    return httpx.Client(base_url=IN_PROCESS_URL, transport=app.transport(),
                        headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)


class Recorder:
    """ApplyHooks that remember every event, with the time it happened (to check order and overlap)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, float, str | None]] = []  # (event, address, time, error)
        self.result: applier.ApplyResult | None = None

    def pre_apply(self, change: ResourceChange) -> None:
        self.events.append(("start", change.address, time.monotonic(), None))

    def post_apply(self, change: ResourceChange, outcome: applier.Outcome, duration: float,
                   error: str | None) -> None:
        self.events.append((str(outcome), change.address, time.monotonic(), error))

    def summary(self, result: applier.ApplyResult) -> None:
        self.result = result

    def index(self, event: str, address: str) -> int:
        return next(i for i, e in enumerate(self.events) if e[0] == event and e[1] == address)

    def max_in_flight(self) -> int:
        running = peak = 0
        for event, *_ in self.events:
            if event == "start":
                running += 1
                peak = max(peak, running)
            elif event in ("done", "failed"):
                running -= 1
        return peak


class LosingApp(EmulatorApp):
    """The emulator, except that the first response of each create route is lost after the create
    landed (a 503 instead of the answer): what a dropped connection after a commit looks like."""

    def __init__(self) -> None:
        super().__init__()
        self.lost: list[str] = []

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        parts = path.split("/")
        key = "/".join(parts[:4]) + (" version" if b'"promote_to_main":false' in body else "")
        key += " canary" if path.endswith("/canary-deploys") else ""
        if method == "POST" and reply.status < 300 and key not in self.lost and not path.endswith("/tags"):
            self.lost.append(key)
            return Reply(503, [("content-type", "application/json")], b'{"errors":[{"title":"lost"}]}')
        return reply


class RefusingApp(EmulatorApp):
    """The emulator, except that it refuses to create MCP servers while `refuse` is set."""

    refuse = True

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        if self.refuse and method == "POST" and path == "/v2/ai/mcp_servers":
            return Reply(400, [("content-type", "application/json")],
                         b'{"errors":[{"title":"Bad request","detail":"MCP servers are disabled"}]}')
        return super().dispatch(method, path, query, headers, body)
