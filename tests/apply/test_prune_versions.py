"""Pruning never deletes a tool that a kept assistant still uses, in its main version or in any named
version (found while testing apply: the check once looked at main versions only)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconciler.emulator.app import EmulatorApp
from reconciler.planning.plan import Plan
from tests.support.project import apply_paths, client_for, pending, plan_paths


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
