"""Two applies of one project started together (issue 17): 0 duplicates, honest exit codes, and a
clean plan afterwards. The full 100-resource, 10-trial run is bench/concurrent_apply.py; here a
smaller project, a few trials, each apply a real CLI process against one emulator."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from reconciler import live
from reconciler.apply import applier
from reconciler.emulator.app import EmulatorApp
from reconciler.manifest import load
from reconciler.planning import planner
from tests.support.emulator import API_KEY, Emulator
from tests.support.paths import REPO
from tests.support.project import apply_paths, client_for, generate_project, name_counts, pending, plan_paths

STOPPED = "another run of reconciler, or a person, is writing to it. Nothing was written"


def cli(emulator: Emulator, *argv: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url}
    return subprocess.Popen([sys.executable, "-m", "reconciler", *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def test_two_applies_started_together_create_everything_once(emulator: Emulator, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    declared = generate_project(project, tools=4, mcp_servers=3, assistants=4, prefix="race")
    assert declared == 19
    for trial in range(3):
        emulator.reset()
        emulator.control("faults", {"latency_ms": 15})  # so that the two runs overlap
        runs = [cli(emulator, "apply", str(project), "--auto-approve") for _ in range(2)]
        results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
        emulator.control("faults", {"latency_ms": 0})
        for code, out, err in results:
            assert "Traceback" not in err, err
            # Honest: done, or stopped before writing because the other run was writing (and saying so).
            # (A run that started after the other had finished has nothing to do, and says so.)
            done = code == 0 and ("Apply complete!" in out or "No changes." in out)
            assert done or (code == 1 and STOPPED in err), (trial, code, out, err)
        assert 0 in [code for code, _, _ in results], results
        counts = name_counts(emulator.app)
        duplicates = {kind: {n: c for n, c in names.items() if c > 1} for kind, names in counts.items()}
        assert all(not d for d in duplicates.values()), (trial, duplicates)
        assert sum(len(names) for names in counts.values()) == 4 + 3 + 4 + 4  # and the 4 canaries below
        assert all(rec["canary"] for rec in emulator.app.state.assistants.values())
        after = cli(emulator, "plan", str(project), "--detailed-exitcode")
        code, out, err = after.wait(timeout=120), *after.communicate()
        assert code == 0, (trial, out, err)


def test_the_same_plan_applied_twice_at_once_creates_once(tmp_path: Path) -> None:
    """The idempotency keys alone (no concurrency check in apply_plan): two runs of one plan, their
    requests interleaved, create every object once and both report every step done."""
    app = EmulatorApp(latency_ms=5)
    project = tmp_path / "proj"
    generate_project(project, tools=5, mcp_servers=3, assistants=6, prefix="twin")

    async def go() -> None:
        async with client_for(app) as first, client_for(app) as second:
            desired = load([str(project)])
            plan = planner.plan(desired, await live.fetch_live(first, desired, prune=False), prune=False)
            results = await asyncio.gather(*(applier.apply_plan(c, plan, owner_tag=desired.project.owner_tag,
                                                                scope="twin/") for c in (first, second)))
            assert all(r.ok for r in results), [r.failed for r in results]
            assert pending(await plan_paths(first, [project])) == []

    asyncio.run(go())
    counts = name_counts(app)
    assert all(c == 1 for names in counts.values() for c in names.values()), counts
    assert len(counts["assistants"]) == 6 and len(counts["versions"]) == 6


def test_a_replay_of_a_create_whose_object_was_deleted_creates_it_again(tmp_path: Path) -> None:
    """Deterministic keys make the same change replay: after an assistant is deleted by hand, applying
    again must create it again, not adopt the replayed answer naming the deleted id."""
    app = EmulatorApp()
    project = tmp_path / "proj"
    generate_project(project, tools=1, mcp_servers=1, assistants=2, prefix="again")

    async def go() -> None:
        async with client_for(app) as client:
            _, first = await apply_paths(client, [project])
            assert first.ok
            gone = next(iter(app.state.assistants))
            await client.request("DELETE", f"/ai/assistants/{gone}")
            _, again = await apply_paths(client, [project])
            assert again.ok, again.failed
            assert gone not in app.state.assistants
            assert pending(await plan_paths(client, [project])) == []

    asyncio.run(go())
    assert all(c == 1 for names in name_counts(app).values() for c in names.values())


DUPLICATED = """\
apiVersion: reconciler/v1
kind: Project
metadata: {name: dup}
spec:
  prune: {kinds: [Assistant, Tool], tool_name_prefix: dup-}
---
apiVersion: reconciler/v1
kind: Tool
metadata: {name: dup-lookup}
spec:
  type: webhook
  webhook: {name: lookup, description: Look up, url: "https://example.com/x"}
---
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: dup-bot}
spec:
  instructions: Be helpful.
  shared_tools: [dup-lookup]
"""


def test_duplicates_of_the_projects_own_making_are_shown_and_repaired(tmp_path: Path) -> None:
    """Duplicates left by overlapping runs (before idempotency keys): plan lists each as an orphan, and
    with --prune as a delete, keeping the copy the rest references; one apply --prune repairs them."""
    app = EmulatorApp()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "all.yaml").write_text(DUPLICATED)

    async def go() -> None:
        async with client_for(app) as client:
            _, first = await apply_paths(client, [project])
            assert first.ok
            kept_tool = next(iter(app.state.tools))
            # What a race used to leave: a second tool and a second assistant of the same names.
            body = {"display_name": "dup-lookup", "type": "webhook",
                    "webhook": {"name": "lookup", "description": "Look up", "url": "https://example.com/x"}}
            await client.request("POST", "/ai/tools", json=body)
            await client.request("POST", "/ai/assistants", json={
                "name": "dup-bot", "instructions": "Be helpful.", "tags": ["managed-by:reconciler"]})
            # Nothing is deleted unless pruning is asked for: a copy made in the portal keeps the name
            # and the owner tag too, and only the reviewer can tell it from a run's leftover.
            kept = await plan_paths(client, [project])
            assert not [rc for rc in kept.resource_changes if "delete" in rc.actions]
            assert sorted(o.address.split("#")[0] for o in kept.orphans) == ["assistant.dup-bot", "tool.dup-lookup"]
            assert all("`--prune` deletes it" in o.note for o in kept.orphans)
            plan = await plan_paths(client, [project], prune=True)
            deletes = [rc for rc in plan.resource_changes if "delete" in rc.actions]
            assert sorted(rc.address.split("#")[0] for rc in deletes) == ["assistant.dup-bot", "tool.dup-lookup"]
            assert all(rc.reason and "the plan keeps" in rc.reason for rc in deletes)
            assert kept_tool not in {rc.id for rc in deletes}  # the one the assistant attaches stays
            # Each destroy shows what it takes away, as a prune's does.
            shown = {rc.kind: {c.path: c.before for c in rc.changes} for rc in deletes}
            assert shown["Assistant"]["instructions"] == "Be helpful." and shown["Assistant"]["name"] == "dup-bot"
            assert shown["Tool"]["webhook"]["url"] == "https://example.com/x"
            _, repaired = await apply_paths(client, [project], prune=True)
            assert repaired.ok, repaired.failed
            assert pending(await plan_paths(client, [project])) == []

    asyncio.run(go())
    counts = name_counts(app)
    assert counts["assistants"] == {"dup-bot": 1} and counts["tools"] == {"dup-lookup": 1}
