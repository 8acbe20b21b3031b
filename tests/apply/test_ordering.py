"""Apply order on real plans: creates follow references forward, deletes run backwards because the
planner states their dependencies explicitly (reconciler/ordering.py docstring)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from reconciler.apply import applier
from reconciler.emulator.app import EmulatorApp
from reconciler.errors import PlanError
from reconciler.planning import ordering
from reconciler.planning.plan import CREATE, UPDATE, Operation, Plan, ResourceChange
from tests.support.paths import EXAMPLES
from tests.support.project import Recorder, apply_paths, client_for, pending, plan_paths


def test_creates_go_tools_then_assistants_then_versions_then_canary(app: EmulatorApp) -> None:
    async def go() -> Plan:
        async with client_for(app) as client:
            return await plan_paths(client, [EXAMPLES])

    deps = ordering.graph(asyncio.run(go()))
    assert ordering.levels(deps) == [
        ["mcp_server.crm", "tool.order-lookup"],
        ["assistant.acme-sms", "assistant.acme-support"],
        ["assistant.acme-support.version.concise-greeting"],
        ["assistant.acme-support.canary"],
    ]
    assert ordering.transitive_dependents(deps, "mcp_server.crm") == {
        "assistant.acme-support", "assistant.acme-support.version.concise-greeting", "assistant.acme-support.canary"}
    heights = ordering.heights(deps)
    assert heights["mcp_server.crm"] == 3 and heights["assistant.acme-sms"] == 0


def test_dropping_a_version_moves_traffic_off_it_before_deleting_it(app: EmulatorApp, tmp_path: Path) -> None:
    project = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, project)
    support = project / "support-assistant.yaml"

    async def go() -> tuple[Plan, Recorder, Plan]:
        async with client_for(app) as client:
            await apply_paths(client, [project])
            # Promotion: the overlay moves into the main spec; the version and its canary entry go.
            text = support.read_text()
            text = text.replace("greeting: Hi, this is {{company}} support. How can I help you today?",
                                "greeting: Hi, {{company}} support here. What can I do for you?")
            text = text[: text.index("  versions:")]
            support.write_text(text + "  versions: []\n  canary: []\n")
            recorder = Recorder()
            plan, result = await apply_paths(client, [project], hooks=recorder, prune=True)
            assert result.ok, result.failed
            return plan, recorder, await plan_paths(client, [project], prune=True)

    plan, recorder, after = asyncio.run(go())
    changes = plan.by_address()
    version = "assistant.acme-support.version.concise-greeting"
    canary = "assistant.acme-support.canary"
    assert changes[version].actions == ["delete"] and changes[canary].actions == ["delete"]
    assert canary in changes[version].depends_on
    # The emulator refuses to delete a version that still receives canary traffic, so success
    # alone proves the order; the events show it too.
    assert recorder.index("done", canary) < recorder.index("start", version)
    assert pending(after) == []


def test_pruned_tool_goes_after_the_assistant_that_used_it(app: EmulatorApp, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("""apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  prune: {kinds: [Assistant, Tool], tool_name_prefix: "own-"}
""")
    (tmp_path / "t.yaml").write_text("""apiVersion: reconciler/v1
kind: Tool
metadata: {name: own-lookup}
spec:
  type: webhook
  webhook: {name: lookup, description: Look up, url: "https://x.example.com/l", method: GET}
""")
    (tmp_path / "a.yaml").write_text("""apiVersion: reconciler/v1
kind: Assistant
metadata: {name: user}
spec:
  instructions: Use the tool.
  shared_tools: [own-lookup]
""")

    async def go() -> tuple[Plan, Recorder]:
        async with client_for(app) as client:
            _, first = await apply_paths(client, [tmp_path])
            assert first.ok
            (tmp_path / "t.yaml").unlink()
            (tmp_path / "a.yaml").unlink()
            recorder = Recorder()
            plan, result = await apply_paths(client, [tmp_path], prune=True, hooks=recorder)
            assert result.ok, result.failed
            assert pending(await plan_paths(client, [tmp_path], prune=True)) == []
            return plan, recorder

    plan, recorder = asyncio.run(go())
    changes = plan.by_address()
    assert changes["tool.own-lookup"].actions == ["delete"]
    assert changes["assistant.user"].actions == ["delete"]
    assert changes["tool.own-lookup"].depends_on == ["assistant.user"]
    assert recorder.index("done", "assistant.user") < recorder.index("start", "tool.own-lookup")
    assert app.state.tools == {} and app.state.assistants == {}


def test_a_cycle_is_refused_before_anything_runs(app: EmulatorApp) -> None:
    a = ResourceChange("tool.a", "Tool", "a", [CREATE], operations=[Operation("Tool", CREATE, "POST", "/ai/tools", {})],
                       depends_on=["tool.b"])
    b = ResourceChange("tool.b", "Tool", "b", [CREATE], operations=[Operation("Tool", CREATE, "POST", "/ai/tools", {})],
                       depends_on=["tool.a"])

    async def go() -> None:
        async with client_for(app) as client:
            await applier.apply_plan(client, Plan([a, b]))

    with pytest.raises(PlanError, match="cycle"):
        asyncio.run(go())
    assert app.meter.stats()["total"] == 0


def test_no_ops_and_outside_dependencies_do_not_block() -> None:
    noop = ResourceChange("tool.a", "Tool", "a", ["no-op"], id="t1")
    user = ResourceChange("assistant.x", "Assistant", "x", ["update"], id="a1",
                          operations=[Operation("Assistant", UPDATE, "POST", "/ai/assistants/a1", {})],
                          depends_on=["tool.a", "tool.not-in-plan"])
    assert ordering.graph(Plan([noop, user])) == {"assistant.x": set()}


def test_moving_the_canary_to_a_new_version_never_routes_to_a_missing_one(app: EmulatorApp, tmp_path: Path) -> None:
    def write(version: str) -> None:
        (tmp_path / "a.yaml").write_text(f"""apiVersion: reconciler/v1
kind: Assistant
metadata: {{name: swap}}
spec:
  instructions: Be brief.
  versions:
    - name: {version}
      spec: {{greeting: "{version}"}}
  canary:
    - version: {version}
      percentage: 20
""")

    async def go() -> tuple[Plan, Recorder, Plan]:
        async with client_for(app) as client:
            write("old")
            assert (await apply_paths(client, [tmp_path]))[1].ok
            write("new")
            recorder = Recorder()
            plan, result = await apply_paths(client, [tmp_path], hooks=recorder, prune=True)
            assert result.ok, result.failed
            return plan, recorder, await plan_paths(client, [tmp_path], prune=True)

    plan, recorder, after = asyncio.run(go())
    old, new, canary = "assistant.swap.version.old", "assistant.swap.version.new", "assistant.swap.canary"
    assert {a: plan.by_address()[a].actions for a in (old, new, canary)} == {
        old: ["delete"], new: ["create"], canary: ["update"]}
    # create the new version -> point the canary at it -> only then delete the old one
    assert recorder.index("done", new) < recorder.index("start", canary)
    assert recorder.index("done", canary) < recorder.index("start", old)
    assert pending(after) == []
