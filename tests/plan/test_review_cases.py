"""Cases found in review: versions still receiving canary traffic, references held only by named
versions, and duplicate names under pinning and pruning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.live import _prune_candidates
from reconciler.model import LiveState
from reconciler.planning.planner import plan
from tests.plan.test_planner import assistant_doc, by_address, desired, live_assistant, live_tool, tool_doc
from tests.support.emulator import Emulator
from tests.support.manifests import write

PRUNE_TOOLS = """---
apiVersion: reconciler/v1
kind: Project
metadata: {name: p}
spec:
  prune: {kinds: [Assistant, Tool], tool_name_prefix: "p-"}
"""

TWO_VERSIONS = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be helpful.
  versions:
    - {name: v1, spec: {greeting: one}}
    - {name: v2, spec: {greeting: two}}
"""


def test_dropping_a_version_that_still_gets_canary_traffic_is_refused(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "bot.yaml", TWO_VERSIONS + "  canary: [{version: v1, percentage: 10}]\n")
    assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    # A promotion edit that forgets the canary: v1 goes, and the `canary` key with it.
    write(tmp_path, "bot.yaml", TWO_VERSIONS.replace("    - {name: v1, spec: {greeting: one}}\n", ""))
    capsys.readouterr()
    assert main(["plan", str(tmp_path)]) == 0  # without --prune, v1 is kept and reported as an orphan
    # The orphan's note says what --prune would do here: refuse, until the canary leaves v1.
    assert ("assistant.bot.version.v1 (id " in (out := capsys.readouterr().out)
            and "kept; the live canary routes traffic to it: declare `canary` without it, and `--prune` deletes it"
            in out)
    assert main(["plan", "--prune", str(tmp_path)]) == 1
    assert "the live canary still routes traffic to it" in capsys.readouterr().err
    # Declaring the canary without v1 moves the traffic off it first: then the note is plain.
    write(tmp_path, "bot.yaml", TWO_VERSIONS.replace("    - {name: v1, spec: {greeting: one}}\n", "")
          + "  canary: [{version: v2, percentage: 10}]\n")
    assert main(["plan", str(tmp_path)]) == 0
    assert "kept; `--prune` deletes it" in capsys.readouterr().out
    assert main(["plan", "--prune", str(tmp_path)]) == 0


def test_a_canary_added_behind_a_saved_plan_makes_it_stale(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "m/bot.yaml", TWO_VERSIONS)
    assert main(["apply", "--auto-approve", str(tmp_path / "m")]) == 0
    write(tmp_path, "m/bot.yaml", TWO_VERSIONS.replace("greeting: two", "greeting: deux"))
    saved = tmp_path / "plan.json"
    assert main(["plan", "--out", str(saved), str(tmp_path / "m")]) == 0
    with emulator.api() as api:
        aid = api.get("/ai/assistants").json()["data"][0]["id"]
        v1 = next(v["version_id"] for v in api.get(f"/ai/assistants/{aid}/versions").json()["data"]
                  if v["version_name"] == "v1")
        api.post(f"/ai/assistants/{aid}/canary-deploys", json={"versions": [{"version_id": v1, "percentage": 5}]})
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    assert "the plan is stale" in capsys.readouterr().err


def _bot_with_version_using(tool_id: str) -> LiveState:
    main_version = live_assistant(tool_ids=[])
    v1 = {**main_version, "version_id": "v-1", "version_name": "v1", "tool_ids": [tool_id]}
    return LiveState(assistants=[main_version], versions={"assistant-1": [v1, main_version]},
                     canaries={"assistant-1": None}, tools=[live_tool("t-1", "p-x")])


def test_prune_keeps_a_tool_that_only_a_declared_version_uses(tmp_path: Path) -> None:
    docs = assistant_doc(spec="versions: [{name: v1, spec: {greeting: hi, shared_tools: [p-x]}}]") + PRUNE_TOOLS
    live = _bot_with_version_using("t-1")
    live.versions["assistant-1"][0]["greeting"] = "hi"
    rc = by_address(plan(desired(tmp_path, docs), live, prune=True))["tool.p-x"]
    assert rc.actions == ["no-op"] and "still used by assistant bot" in (rc.reason or "")


def test_prune_deletes_a_tool_after_the_declared_version_that_stops_using_it(tmp_path: Path) -> None:
    # Neither main nor the overlay names it: the version is desired with none, its update clears it.
    docs = assistant_doc(spec="versions: [{name: v1, spec: {greeting: hi}}]") + PRUNE_TOOLS
    live = _bot_with_version_using("t-1")
    live.versions["assistant-1"][0]["greeting"] = "hi"
    changes = by_address(plan(desired(tmp_path, docs), live, prune=True))
    assert [(c.path, c.after) for c in changes["assistant.bot.version.v1"].changes] == [("shared_tools", None)]
    assert changes["tool.p-x"].actions == ["delete"]
    assert "assistant.bot.version.v1" in changes["tool.p-x"].depends_on


def test_an_unpinned_duplicate_of_a_managed_tool_is_a_prune_candidate(tmp_path: Path) -> None:
    tool = ("apiVersion: reconciler/v1\nkind: Tool\nmetadata: {name: p-x, id: t-1}\nspec:\n  type: webhook\n"
            "  webhook: {name: f, description: d, url: 'https://x.example/a'}\n")
    state = desired(tmp_path, tool + PRUNE_TOOLS)
    live = LiveState(tools=[live_tool("t-1", "p-x"), live_tool("t-2", "p-x")])
    assert _prune_candidates(state, live)  # so the versions of every assistant are read first


def test_an_attachment_to_the_other_duplicate_is_a_change(tmp_path: Path) -> None:
    tool = ("apiVersion: reconciler/v1\nkind: Tool\nmetadata: {name: dup, id: t-1}\nspec:\n  type: webhook\n"
            "  webhook: {name: f, description: d, url: 'https://x.example/a'}\n---\n")
    docs = tool + assistant_doc(spec="shared_tools: [dup]")
    live = LiveState(assistants=[live_assistant(tool_ids=["t-2"])],
                     tools=[live_tool("t-1", "dup"), live_tool("t-2", "dup")])
    rc = by_address(plan(desired(tmp_path, docs), live))["assistant.bot"]
    assert [(c.path, c.before, c.after) for c in rc.changes] == [("shared_tools", ["t-2"], ["dup"])]
    assert rc.operations[0].body == {"tool_ids": ["t-1"]}




def test_a_pruned_duplicate_gets_its_own_address(tmp_path: Path) -> None:
    docs = assistant_doc(spec="greeting: Hi", meta="id: assistant-1")
    live = LiveState(assistants=[live_assistant("assistant-1"), live_assistant("assistant-2")])
    result = plan(desired(tmp_path, docs), live, prune=True)
    assert [(rc.address, rc.actions) for rc in result.resource_changes] == [
        ("assistant.bot", ["update"]), ("assistant.bot#assistant-2", ["delete"])]


def test_target_does_not_take_a_resource_whose_name_extends_the_target(tmp_path: Path) -> None:
    docs = assistant_doc("bot") + "---\n" + assistant_doc("bot.staging")
    result = plan(desired(tmp_path, docs), LiveState(), targets=["assistant.bot"])
    assert [rc.address for rc in result.resource_changes] == ["assistant.bot"]


HOOK = """
apiVersion: reconciler/v1
kind: Tool
metadata: {name: hook}
spec:
  type: webhook
  webhook:
    name: hook
    description: Calls the hook
    url: https://hooks.example.com/x
    headers:
      - {name: Content-Type, value: application/json}
      - {name: Authorization, value: "Bearer ${env:HOOK_TOKEN}"}
"""


@pytest.mark.parametrize("edit", [
    lambda text: text.replace('"Bearer ${env:HOOK_TOKEN}"', '"Bearer literal-now"'),
    lambda text: text.replace('      - {name: Authorization, value: "Bearer ${env:HOOK_TOKEN}"}\n', ""),
])
def test_the_old_value_of_a_former_secret_is_not_shown(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    edit: Any,
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "SUPERSECRET-42")
    write(tmp_path, "hook.yaml", HOOK)
    assert main(["apply", "--auto-approve", str(tmp_path)]) == 0
    (tmp_path / "hook.yaml").write_text(edit((tmp_path / "hook.yaml").read_text()))
    capsys.readouterr()
    for fmt in ("text", "json", "markdown"):
        assert main(["plan", "--detailed-exitcode", "--format", fmt, str(tmp_path)]) == 2
        out = capsys.readouterr().out
        assert "SUPERSECRET" not in out and "(sensitive)" in out


def test_an_ordinary_header_stays_readable(tmp_path: Path) -> None:
    docs = ("apiVersion: reconciler/v1\nkind: Tool\nmetadata: {name: t}\nspec:\n  type: webhook\n"
            "  webhook:\n    name: f\n    description: d\n    url: 'https://x.example/a'\n"
            "    headers: [{name: Content-Type, value: text/plain}]\n")
    tool = live_tool("t-1", "t")
    tool["tool_definition"]["webhook"]["headers"] = [{"name": "Content-Type", "value": "application/json"}]
    rc = by_address(plan(desired(tmp_path, docs), LiveState(tools=[tool])))["tool.t"]
    assert [(c.path, c.before, c.after, c.sensitive) for c in rc.changes] == [
        ("webhook.headers[0].value", "application/json", "text/plain", False)]


def test_traffic_moves_only_after_the_versions_it_routes_to_are_updated(tmp_path: Path) -> None:
    from tests.plan.test_planner import VERSIONED, _versioned_live

    changes = by_address(plan(desired(tmp_path, VERSIONED), _versioned_live(greeting="Hey", split=20)))
    assert changes["assistant.bot.version.short"].actions == ["update"]
    assert "assistant.bot.version.short" in changes["assistant.bot.canary"].depends_on


def test_a_promotion_moves_traffic_only_after_main_is_updated(tmp_path: Path) -> None:
    from tests.plan.test_planner import _versioned_live

    promoted = assistant_doc(spec="greeting: Hi\nversions: []\ncanary: []")
    changes = by_address(plan(desired(tmp_path, promoted), _versioned_live(), prune=True))
    # main -> canary -> version: if main's update fails, traffic and the version stay.
    assert changes["assistant.bot.canary"].depends_on == ["assistant.bot"]
    assert changes["assistant.bot.version.short"].depends_on == ["assistant.bot.canary"]


def test_prune_keeps_a_tool_that_an_assistant_being_created_will_use(tmp_path: Path) -> None:
    docs = assistant_doc(spec="shared_tools: [p-x]") + PRUNE_TOOLS
    rc = by_address(plan(desired(tmp_path, docs), LiveState(tools=[live_tool("t-1", "p-x")]), prune=True))["tool.p-x"]
    assert rc.actions == ["no-op"] and "assistant bot (to be created)" in (rc.reason or "")


def test_only_schema_sets_compare_as_sets(tmp_path: Path) -> None:
    docs = assistant_doc(spec="dynamic_variables: {tags: [first, second]}")
    live = LiveState(assistants=[live_assistant(dynamic_variables={"tags": ["second", "first"]})])
    rc = by_address(plan(desired(tmp_path, docs), live))["assistant.bot"]
    assert rc.actions == ["update"]  # a list inside dynamic_variables keeps its order


@pytest.mark.parametrize(("kinds", "note"), [
    ("[Assistant, Tool]", None),  # pruned: a delete, no orphan
    ("[Assistant]", "kept; `--prune` deletes it once the Project's prune.kinds lists Tool"),
])
def test_a_duplicate_kept_under_prune_says_what_would_delete_it(tmp_path: Path, kinds: str, note: str | None) -> None:
    project = PRUNE_TOOLS.replace("kinds: [Assistant, Tool]", f"kinds: {kinds}")
    docs = project + "---\n" + tool_doc("p-tool")
    result = plan(desired(tmp_path, docs), LiveState(tools=[live_tool("t-1", "p-tool"), live_tool("t-2", "p-tool")]),
                  prune=True)
    deleted = [rc.address for rc in result.resource_changes if "delete" in rc.actions]
    if note is None:
        assert deleted == ["tool.p-tool#t-2"] and not result.orphans
    else:
        assert not deleted and [o.note.split(": kept; ")[1] for o in result.orphans] == [note.removeprefix("kept; ")]
