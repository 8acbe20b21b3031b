"""Review 3 (issue 16): a key starting with `__` inside a free-form object (`dynamic_variables`) is one
deepdiff ignores by default (`ignore_private_variables=True`), so the plan does not show its change,
while apply sends the whole `dynamic_variables` it sits in. Fails today: the promise says every value
apply sends is in the plan."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reconciler.emulator.app import EmulatorApp
from tests.support.manifests import write
from tests.support.project import apply_paths, client_for, plan_paths, snapshot

DOC = """apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: dv-bot
spec:
  model: openai/gpt-4o
  instructions: hi
  dynamic_variables:
    __tier: {tier}
    company: {company}
"""


def test_a_private_looking_key_change_is_shown(tmp_path: Path) -> None:
    app = EmulatorApp()
    write(tmp_path, "bot.yaml", DOC.format(tier="gold", company="Acme"))

    async def run() -> None:
        client = client_for(app)
        await apply_paths(client, [tmp_path])
        write(tmp_path, "bot.yaml", DOC.format(tier="platinum", company="Acme2"))
        plan = await plan_paths(client, [tmp_path])
        shown = [c.path for rc in plan.resource_changes for c in rc.changes]
        await apply_paths(client, [tmp_path])
        assert "platinum" in repr(snapshot(app)["assistants"])  # apply sent the new __tier...
        assert "dynamic_variables.__tier" in shown, shown  # ...which the plan did not show

    asyncio.run(run())
