"""`--target`: the plan's own addresses, and the CLI contract's KIND/NAME, which names a resource by its
kind and its name (free text) and never by address grammar."""

from __future__ import annotations

import pytest

from reconciler.errors import ConfigError
from reconciler.planning.plan import Plan, ResourceChange
from reconciler.planning.targets import select


def change(address: str, kind: str, name: str) -> ResourceChange:
    return ResourceChange(address, kind, name, ["create"])


PLAN = Plan(resource_changes=[
    change("assistant.bot", "Assistant", "bot"),
    change("assistant.bot.version.short", "AssistantVersion", "short"),
    change("assistant.bot.canary", "Canary", "canary"),
    change("assistant.other", "Assistant", "other"),
    change("tool.lookup", "Tool", "lookup"),
    change("mcp_server.crm", "McpServer", "crm"),
])


@pytest.mark.parametrize(("target", "addresses"), [
    ("assistant.bot", ["assistant.bot", "assistant.bot.version.short", "assistant.bot.canary"]),
    ("Assistant/bot", ["assistant.bot", "assistant.bot.version.short", "assistant.bot.canary"]),
    ("assistant/other", ["assistant.other"]),
    ("assistant.bot.version.short", ["assistant.bot.version.short"]),
    ("Tool/lookup", ["tool.lookup"]),
    ("McpServer/crm", ["mcp_server.crm"]),
])
def test_targets_select_the_resource_and_its_parts(target: str, addresses: list[str]) -> None:
    assert [rc.address for rc in select(PLAN, [target]).resource_changes] == addresses


@pytest.mark.parametrize("target", ["Assistant/bot.version.short", "Assistant/nobody", "bot", "Version/short"])
def test_other_targets_are_refused(target: str) -> None:
    # An assistant *named* "bot.version.short" is not in the plan: KIND/NAME does not reach the version.
    with pytest.raises(ConfigError):
        select(PLAN, [target])


def test_what_a_manifest_names_comes_along_with_its_parts() -> None:
    plan = Plan(resource_changes=[*PLAN.resource_changes, change("assistant_test.t", "AssistantTest", "t")])
    named = {"assistant_test.t": {"assistant.bot"}, "assistant.bot": {"tool.lookup"}}
    assert sorted(rc.address for rc in select(plan, ["assistant_test.t"], named).resource_changes) == [
        "assistant.bot", "assistant.bot.canary", "assistant.bot.version.short", "assistant_test.t", "tool.lookup"]
    assert [rc.address for rc in select(plan, ["assistant.other"], named).resource_changes] == ["assistant.other"]
