"""Pruning never deletes a tool that a kept assistant still uses, in its main version or in any named
version (found while testing apply: the check once looked at main versions only), and deletes one in
the same apply when its last users drop it (it once took two: a `shared_tools` key left out was read
as "keep what is live", while the update clears it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.planning.plan import Plan
from tests.support.project import apply_paths, client_for, name_counts, pending, plan_paths


def test_prune_keeps_a_tool_that_a_kept_version_still_uses(app: EmulatorApp, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("""apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  prune: {kinds: [Assistant, Tool], tool_name_prefix: "own-"}
""")
    (tmp_path / "t.yaml").write_text("""apiVersion: reconciler/v1
kind: Tool
metadata: {name: own-refund}
spec:
  type: webhook
  webhook: {name: refund, description: Refund, url: "https://x.example.com/r", method: POST}
""")
    (tmp_path / "a.yaml").write_text("""apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be kind.
  shared_tools: []
  versions:
    - name: with-refunds
      spec: {shared_tools: [own-refund]}
""")

    async def go() -> tuple[Plan, Plan]:
        async with client_for(app) as client:
            assert (await apply_paths(client, [tmp_path], prune=True))[1].ok
            # The Tool's manifest goes, but the version still names it (it stays live: used).
            (tmp_path / "t.yaml").unlink()
            plan, result = await apply_paths(client, [tmp_path], prune=True)
            assert result.ok
            return plan, await plan_paths(client, [tmp_path], prune=True)  # PlanError today

    plan, after = asyncio.run(go())
    assert plan.by_address()["tool.own-refund"].actions == ["no-op"]  # kept: "still used by …"
    assert pending(after) == []


_PROJECT = """apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  prune: {kinds: [Assistant, Tool, McpServer], tool_name_prefix: "own-", mcp_server_name_prefix: "own-"}
"""
_SHARED = """apiVersion: reconciler/v1
kind: Tool
metadata: {name: own-refund}
spec:
  type: webhook
  webhook: {name: refund, description: Refund, url: "https://x.example.com/r", method: POST}
---
apiVersion: reconciler/v1
kind: McpServer
metadata: {name: own-crm}
spec: {type: http, url: "https://mcp.example.com/crm"}
"""
_USES = """  shared_tools: [own-refund]
  mcp_servers: [{server: own-crm}]
"""


def _bot(body: str, *, ignore: str = "", versions: bool = True) -> str:
    meta = f"{{name: bot, ignore_changes: [{ignore}]}}" if ignore else "{name: bot}"
    tail = "  versions:\n    - name: v2\n      spec: {description: second}\n" if versions else ""
    head = f"apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {meta}\n"
    return f"{head}spec:\n  instructions: Be kind.\n{body}{tail}"


@pytest.mark.parametrize("versions", [True, False], ids=["with-a-named-version", "main-only"])
def test_prune_deletes_in_one_apply_what_its_last_user_stops_naming(app: EmulatorApp, tmp_path: Path,
                                                                     versions: bool) -> None:
    (tmp_path / "p.yaml").write_text(_PROJECT)
    (tmp_path / "s.yaml").write_text(_SHARED)
    (tmp_path / "a.yaml").write_text(_bot(_USES, versions=versions))

    async def go() -> tuple[Plan, Plan]:
        async with client_for(app) as client:
            assert (await apply_paths(client, [tmp_path], prune=True))[1].ok
            # Both manifests go, and the assistant leaves its keys out: desired, none attached (the
            # named version, made as a copy of main, inherits that and is updated too).
            (tmp_path / "s.yaml").unlink()
            (tmp_path / "a.yaml").write_text(_bot("", versions=versions))
            plan, result = await apply_paths(client, [tmp_path], prune=True)
            assert result.ok
            return plan, await plan_paths(client, [tmp_path], prune=True)

    plan, after = asyncio.run(go())
    changes = plan.by_address()
    for address in ("tool.own-refund", "mcp_server.own-crm"):
        assert changes[address].actions == ["delete"]
        assert "assistant.bot" in changes[address].depends_on  # detached before it goes
    assert pending(after) == []
    assert not app.state.tools and not app.state.mcp_servers


def test_prune_keeps_what_an_undeclared_named_version_still_uses(app: EmulatorApp, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(_PROJECT)
    (tmp_path / "s.yaml").write_text(_SHARED)
    (tmp_path / "a.yaml").write_text(_bot(_USES))

    async def go() -> Plan:
        async with client_for(app) as client:
            assert (await apply_paths(client, [tmp_path], prune=True))[1].ok
            (tmp_path / "s.yaml").unlink()
            (tmp_path / "a.yaml").write_text(_bot("", versions=False))  # v2 stays live as it is
            return await plan_paths(client, [tmp_path], prune=True)

    changes = asyncio.run(go()).by_address()
    for address in ("tool.own-refund", "mcp_server.own-crm"):
        assert changes[address].actions == ["no-op"]
        assert "still used by assistant bot" in str(changes[address].reason)


@pytest.mark.parametrize("ignore", ["shared_tools", "mcp_servers"])
def test_prune_keeps_what_an_ignored_key_keeps_attached(app: EmulatorApp, tmp_path: Path, ignore: str) -> None:
    (tmp_path / "p.yaml").write_text(_PROJECT)
    (tmp_path / "s.yaml").write_text(_SHARED)
    (tmp_path / "a.yaml").write_text(_bot(_USES, versions=False))

    async def go() -> Plan:
        async with client_for(app) as client:
            assert (await apply_paths(client, [tmp_path], prune=True))[1].ok
            (tmp_path / "s.yaml").unlink()
            (tmp_path / "a.yaml").write_text(_bot("", ignore=ignore, versions=False))
            return await plan_paths(client, [tmp_path], prune=True)

    changes = asyncio.run(go()).by_address()
    kept, gone = ("tool.own-refund", "mcp_server.own-crm")[:: 1 if ignore == "shared_tools" else -1]
    assert changes[kept].actions == ["no-op"] and "still used by assistant bot" in str(changes[kept].reason)
    assert changes[gone].actions == ["delete"]


_ROLLOUT = """apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be kind.
  main_version: MAIN
  versions:
    - {name: stable, spec: {}}
    - {name: concise, spec: {greeting: Hi!}}
"""


def test_promote_and_drop_a_version_the_live_canary_serves_in_one_apply(app: EmulatorApp, tmp_path: Path) -> None:
    # The promotion deletes the canary configuration, so the version's delete waits for it (a
    # new-user trial found the plan refused: "the live canary still routes traffic to it").
    (tmp_path / "p.yaml").write_text(_PROJECT)
    third = "    - {name: formal, spec: {greeting: Good day.}}\n"
    canary = "  canary: [{version: concise, percentage: 10}, {version: formal, percentage: 5}]\n"
    (tmp_path / "a.yaml").write_text(_ROLLOUT.replace("MAIN", "stable") + third + canary)

    async def go() -> tuple[Plan, Plan]:
        async with client_for(app) as client:
            assert (await apply_paths(client, [tmp_path], prune=True))[1].ok
            (tmp_path / "a.yaml").write_text(_ROLLOUT.replace("MAIN", "concise") + "  canary: []\n")
            plan, result = await apply_paths(client, [tmp_path], prune=True)
            assert result.ok
            return plan, await plan_paths(client, [tmp_path], prune=True)

    plan, after = asyncio.run(go())
    formal = plan.by_address()["assistant.bot.version.formal"]
    assert formal.actions == ["delete"] and "assistant.bot.promotion" in formal.depends_on
    assert pending(after) == []
    assert sorted(name_counts(app)["versions"]) == ["bot/stable"]
