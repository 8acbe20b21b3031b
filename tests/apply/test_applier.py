"""The applier against the real emulator, in-process: convergence, Refs, owner tag, no duplicates after
lost responses, partial failure, parallelism."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.api.client import ApiClient
from reconciler.apply import applier
from reconciler.emulator.app import EmulatorApp, Reply
from reconciler.emulator.server import serve_in_thread
from reconciler.planning.plan import ADOPT, CREATE, Operation, Plan, ResourceChange
from tests.support.emulator import API_KEY
from tests.support.paths import EXAMPLES
from tests.support.project import (
    OWNER,
    LosingApp,
    Recorder,
    RefusingApp,
    apply_paths,
    client_for,
    foreign,
    generate_project,
    name_counts,
    pending,
    plan_paths,
    seed_foreign,
    snapshot,
    sync_client,
)


def test_examples_converge_and_every_created_assistant_is_owned(app: EmulatorApp) -> None:
    async def go() -> tuple[Plan, applier.ApplyResult, Plan]:
        async with client_for(app) as client:
            plan, result = await apply_paths(client, [EXAMPLES])
            return plan, result, await plan_paths(client, [EXAMPLES])

    _, result, after = asyncio.run(go())
    assert result.ok and len(result.done) == 6
    assert pending(after) == []
    for rec in app.state.assistants.values():
        assert OWNER in rec["versions"][rec["main"]]["tags"]
    # Every create carried an Idempotency-Key (the emulator remembers the answer under it).
    assert len(app.state.data["idempotency"]) == 6
    # The canary routes to the version created in the same run (a Ref resolved to its version_id).
    (support,) = [r for r in app.state.assistants.values() if r["versions"][r["main"]]["name"] == "acme-support"]
    (routed,) = support["canary"]["rules"][0]["serve"]["rollout"]  # the emulator stores the rules form
    assert support["versions"][routed["version_id"]]["version_name"] == "concise-greeting"


def test_lost_create_responses_are_adopted_not_duplicated() -> None:
    app = LosingApp()

    async def go() -> tuple[applier.ApplyResult, Plan]:
        async with client_for(app, backoff_base=0.01) as client:
            _, result = await apply_paths(client, [EXAMPLES])
            return result, await plan_paths(client, [EXAMPLES])

    result, after = asyncio.run(go())
    assert result.ok, [(s.address, s.error) for s in result.failed]
    # One lost answer per create route: tools, MCP servers, assistants, versions, canary.
    assert len(app.lost) == 5
    # Each lost create was adopted by a lookup, never sent again (the Idempotency-Key is a second line).
    routes = app.meter.stats()["by_route"]
    assert routes["POST /v2/ai/tools"] == 1 and routes["POST /v2/ai/mcp_servers"] == 1
    assert routes["POST /v2/ai/assistants"] == 2 and routes["POST /v2/ai/assistants/{assistant_id}"] == 1
    assert routes["POST /v2/ai/assistants/{assistant_id}/canary-deploys"] == 1
    counts = name_counts(app)
    assert all(n == 1 for kind in counts.values() for n in kind.values()), counts
    assert sum(counts["assistants"].values()) == 2 and sum(counts["versions"].values()) == 1
    assert pending(after) == []


def test_a_failure_skips_only_its_dependents_and_a_rerun_finishes(tmp_path: Path) -> None:
    app = RefusingApp()

    async def go() -> tuple[Recorder, applier.ApplyResult, Plan]:
        async with client_for(app) as client:
            recorder = Recorder()
            await apply_paths(client, [EXAMPLES], hooks=recorder)
            app.refuse = False
            _, second = await apply_paths(client, [EXAMPLES])
            return recorder, second, await plan_paths(client, [EXAMPLES])

    recorder, second, after = asyncio.run(go())
    first = recorder.result
    assert first is not None and not first.ok
    assert [s.address for s in first.failed] == ["mcp_server.crm"]
    assert "MCP servers are disabled" in str(first.failed[0].error)
    assert sorted(s.address for s in first.skipped) == [
        "assistant.acme-support", "assistant.acme-support.canary", "assistant.acme-support.version.concise-greeting"]
    assert all("mcp_server.crm, which failed" in str(s.error) for s in first.skipped)
    assert sorted(s.address for s in first.done) == ["assistant.acme-sms", "tool.order-lookup"]
    # Skipped steps were reported but never started.
    assert not any(e[0] == "start" and e[1].startswith("assistant.acme-support") for e in recorder.events)
    assert second.ok and len(second.done) == 4
    assert pending(after) == []


def test_an_assistant_create_without_the_owner_tag_is_refused(app: EmulatorApp) -> None:
    create = ResourceChange("assistant.x", "Assistant", "x", [CREATE], operations=[
        Operation("Assistant", CREATE, "POST", "/ai/assistants", {"name": "x", "instructions": "i", "tags": ["other"]},
                  lookup_name="x")])

    async def go() -> applier.ApplyResult:
        async with client_for(app) as client:
            return await applier.apply_plan(client, Plan([create]), owner_tag=OWNER)

    result = asyncio.run(go())
    assert "owner tag" in str(result.failed[0].error)
    assert app.state.assistants == {}


def test_independent_steps_run_in_parallel_up_to_the_client_limit(tmp_path: Path) -> None:
    app = EmulatorApp(latency_ms=50)
    generate_project(tmp_path, tools=40, mcp_servers=0, assistants=0)
    recorder = Recorder()

    async def go() -> None:
        async with client_for(app, parallelism=8) as client:
            plan = await plan_paths(client, [tmp_path])
            result = await applier.apply_plan(client, plan, recorder)
            assert result.ok

    asyncio.run(go())
    # 40 independent creates of 50 ms each: exactly 8 in flight at the peak, never more. (How long it
    # takes is a benchmark's business, bench/apply_bench.py, not a test's.)
    assert recorder.max_in_flight() == 8


def _drift(app: EmulatorApp) -> None:
    """Change live state behind reconciler's back, through the API."""
    assistants = {r["versions"][r["main"]]["name"]: r for r in app.state.assistants.values()}
    tools = {t["display_name"]: t["id"] for t in app.state.tools.values()}
    mcp = {m["name"]: m["id"] for m in app.state.mcp_servers.values()}
    with sync_client(app) as http:
        a0 = assistants["gen-assistant-000"]["id"]
        http.post(f"/ai/assistants/{a0}", json={"greeting": "edited in the portal"}).raise_for_status()
        a1 = assistants["gen-assistant-001"]
        http.delete(f"/ai/assistants/{a1['id']}/canary-deploys").raise_for_status()
        other = next(v for v in a1["versions"] if v != a1["main"])
        http.delete(f"/ai/assistants/{a1['id']}/versions/{other}").raise_for_status()
        http.delete(f"/ai/assistants/{assistants['gen-assistant-002']['id']}").raise_for_status()
        http.delete(f"/ai/assistants/{assistants['gen-assistant-003']['id']}/tags/{OWNER}").raise_for_status()
        a4 = assistants["gen-assistant-004"]["id"]
        http.put(f"/ai/assistants/{a4}/canary-deploys", json={"versions": []}).raise_for_status()
        http.delete(f"/ai/tools/{tools['gen-tool-005']}").raise_for_status()
        http.put(f"/ai/mcp_servers/{mcp['gen-mcp-006']}", json={"url": "https://elsewhere.example.com"}
                 ).raise_for_status()


def test_200_resources_converge_from_empty_and_from_drift(app: EmulatorApp, tmp_path: Path) -> None:
    total = generate_project(tmp_path / "project")
    assert total == 200
    with sync_client(app) as http:
        seed_foreign(http)
    untouched = foreign(snapshot(app))

    async def go() -> dict[str, Any]:
        async with client_for(app, parallelism=16) as client:
            plan, result = await apply_paths(client, [tmp_path / "project"])
            out: dict[str, Any] = {"first": (len(plan.resource_changes), result.ok, len(result.done))}
            out["after_first"] = pending(await plan_paths(client, [tmp_path / "project"]))
            _drift(app)
            drifted = pending(await plan_paths(client, [tmp_path / "project"]))
            out["drifted"] = drifted
            _, result = await apply_paths(client, [tmp_path / "project"])
            out["second"] = (result.ok, [(s.address, s.error) for s in result.failed])
            out["after_second"] = pending(await plan_paths(client, [tmp_path / "project"]))
            return out

    out = asyncio.run(go())
    assert out["first"] == (200, True, 200)
    assert out["after_first"] == []
    assert len(out["drifted"]) >= 8, json.dumps(out["drifted"])
    assert out["second"] == (True, [])
    # The owner tag removed behind reconciler's back disowns that assistant: it is shown as an
    # adoption to confirm (issue #11), never silently taken back.
    assert out["after_second"] == [f"assistant.gen-assistant-003 {[ADOPT]}"]
    counts = name_counts(app)
    assert all(n == 1 for kind in counts.values() for n in kind.values())
    assert foreign(snapshot(app)) == untouched


def test_an_interrupted_apply_reports_what_was_done_and_what_was_cut_short(tmp_path: Path) -> None:
    app = EmulatorApp(latency_ms=100)
    generate_project(tmp_path, tools=12, mcp_servers=0, assistants=0)
    recorder = Recorder()

    async def go() -> None:
        async with client_for(app, parallelism=4) as client:
            plan = await plan_paths(client, [tmp_path])
            task = asyncio.create_task(applier.apply_plan(client, plan, recorder))
            await asyncio.sleep(0.15)  # the first 4 are done, the next 4 in flight
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return
            raise AssertionError("the cancellation was swallowed")

    asyncio.run(go())
    result = recorder.result
    assert result is not None and not result.ok
    assert len(result.done) + len(result.unknown) + len(result.skipped) == 12 and not result.failed
    assert result.unknown and all("interrupted" in str(s.error) for s in result.unknown)
    assert result.skipped and all("not started" in str(s.error) for s in result.skipped)
    # Cut short means outcome unknown (never "failed"): each of those may or may not have landed.
    assert len(result.done) <= len(app.state.tools) <= len(result.done) + len(result.unknown)


class MainAnsweringApp(EmulatorApp):
    """The emulator, except that a version create answers with the main version (API shape uncertain)."""

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        if method == "POST" and b'"promote_to_main":false' in body and reply.status == 200:
            return super().dispatch("GET", path, "", headers, b"")
        return reply


def test_a_version_create_answering_main_is_resolved_by_name() -> None:
    app = MainAnsweringApp()

    async def go() -> applier.ApplyResult:
        async with client_for(app) as client:
            return (await apply_paths(client, [EXAMPLES]))[1]

    result = asyncio.run(go())
    assert result.ok, [(s.address, s.error) for s in result.failed]
    (support,) = [r for r in app.state.assistants.values() if r["versions"][r["main"]]["name"] == "acme-support"]
    (routed,) = support["canary"]["rules"][0]["serve"]["rollout"]  # the emulator stores the rules form
    assert routed["version_id"] != support["main"]
    assert support["versions"][routed["version_id"]]["version_name"] == "concise-greeting"


class SlowFirstCreateApp(EmulatorApp):
    """The emulator, except that the first assistant create lands at once but answers after 2 s."""

    slowed = False

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        if (method, path) == ("POST", "/v2/ai/assistants") and not self.slowed:
            self.slowed = True
            return Reply(reply.status, reply.headers, reply.body, delay_s=2.0)
        return reply


def test_a_create_that_timed_out_after_landing_is_adopted_over_http() -> None:
    app = SlowFirstCreateApp()
    url, stop = serve_in_thread(app)

    async def go() -> tuple[applier.ApplyResult, Plan]:
        async with ApiClient(f"{url}/v2", API_KEY, timeout=0.5, backoff_base=0.01) as client:
            _, result = await apply_paths(client, [EXAMPLES])
            return result, await plan_paths(client, [EXAMPLES])

    try:
        result, after = asyncio.run(go())
    finally:
        stop()
    assert app.slowed
    assert result.ok, [(s.address, s.error) for s in result.failed]
    routes = app.meter.stats()["by_route"]
    # Adopted by a lookup (live read, adoption, final plan), not re-sent: 2 creates for 2 assistants.
    assert routes["GET /v2/ai/assistants"] == 3 and routes["POST /v2/ai/assistants"] == 2
    assert sorted(name_counts(app)["assistants"].items()) == [("acme-sms", 1), ("acme-support", 1)]
    assert pending(after) == []
