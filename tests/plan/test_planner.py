"""Table-driven tests of the pure planner: identity, references, diff rules, versions and canary,
ownership and deletion. Desired state comes from real YAML; live state is what the API returns."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PlanError
from reconciler.kinds import PROTECT_TAG
from reconciler.manifest import load
from reconciler.model import LiveState
from reconciler.planning.plan import Plan, Ref
from reconciler.planning.planner import plan
from reconciler.render.document import plan_document

OWNER = "managed-by:reconciler"


def desired(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Any:
    (tmp_path / "m.yaml").write_text(textwrap.dedent(text).lstrip())
    return load([tmp_path / "m.yaml"], environ=env or {})


def assistant_doc(name: str = "bot", spec: str = "", meta: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(spec).strip(), "  ") if spec.strip() else ""
    return (
        "apiVersion: reconciler/v1\nkind: Assistant\nmetadata:\n  name: " + name + "\n"
        + textwrap.indent(textwrap.dedent(meta).strip(), "  ") + ("\n" if meta.strip() else "")
        + "spec:\n  model: openai/gpt-4o\n  instructions: Be helpful.\n" + (body + "\n" if body else "")
    )


def tool_doc(name: str, url: str = "https://x.example/a") -> str:
    return (f"apiVersion: reconciler/v1\nkind: Tool\nmetadata:\n  name: {name}\nspec:\n  type: webhook\n"
            f"  webhook:\n    name: f\n    description: d\n    url: {url}\n")


def mcp_doc(name: str) -> str:
    return (f"apiVersion: reconciler/v1\nkind: McpServer\nmetadata:\n  name: {name}\n"
            f"spec:\n  type: http\n  url: https://mcp.example/{name}\n")


def live_assistant(aid: str = "assistant-1", name: str = "bot", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": aid, "name": name, "model": "openai/gpt-4o", "instructions": "Be helpful.",
        "created_at": "2026-01-01T00:00:00Z", "tags": [OWNER], "tool_ids": [], "mcp_servers": [],
        "version_id": f"{aid}-main", "version_name": "New assistant",
        "telephony_settings": {"default_texml_app_id": "texml-1", "time_limit_secs": 1800},
        "messaging_settings": {"default_messaging_profile_id": "mp-1"},
        "dynamic_variables_webhook_timeout_ms": 1500,
    }
    base.update(fields)
    return base


def live_tool(tid: str, name: str, url: str = "https://x.example/a") -> dict[str, Any]:
    return {"id": tid, "type": "webhook", "display_name": name, "timeout_ms": 5000, "created_at": "x",
            "tool_definition": {"type": "webhook", "webhook": {"name": "f", "description": "d", "url": url,
                                                               "method": "POST", "async": False}}}


def by_address(p: Plan) -> dict[str, Any]:
    return {rc.address: rc for rc in p.resource_changes}


def actions(p: Plan) -> dict[str, list[str]]:
    return {rc.address: rc.actions for rc in p.resource_changes}


# --- identity ----------------------------------------------------------------------------------------

IDENTITY_CASES = [
    pytest.param(assistant_doc(), [live_assistant()], {"assistant.bot": ["no-op"]}, id="same-name-matches"),
    pytest.param(assistant_doc(), [], {"assistant.bot": ["create"]}, id="absent-is-created"),
    pytest.param(assistant_doc(meta="id: assistant-2"),
                 [live_assistant("assistant-1"), live_assistant("assistant-2")],
                 {"assistant.bot": ["no-op"]}, id="pin-picks-one-of-duplicates"),
    pytest.param(assistant_doc("new-name", meta="previous_names: [bot]"), [live_assistant()],
                 {"assistant.new-name": ["update"]}, id="previous-name-is-a-rename"),
]


@pytest.mark.parametrize(("docs", "live", "expected"), IDENTITY_CASES)
def test_identity(tmp_path: Path, docs: str, live: list[dict[str, Any]], expected: dict[str, list[str]]) -> None:
    result = plan(desired(tmp_path, docs), LiveState(assistants=live))
    assert actions(result) == expected


def test_rename_changes_only_the_name(tmp_path: Path) -> None:
    result = plan(desired(tmp_path, assistant_doc("new-name", meta="previous_names: [bot]")),
                  LiveState(assistants=[live_assistant()]))
    rc = by_address(result)["assistant.new-name"]
    assert [(c.path, c.before, c.after) for c in rc.changes] == [("name", "bot", "new-name")]
    assert rc.operations[0].method == "POST" and rc.operations[0].path == "/ai/assistants/assistant-1"
    assert rc.operations[0].body == {"name": "new-name"}


@pytest.mark.parametrize(("docs", "live", "message"), [
    # Not both of this project's making (one lacks the owner tag): which to manage is the user's call.
    # (Duplicates that all carry it are repaired instead: tests/apply/test_concurrent_applies.py.)
    pytest.param(assistant_doc(), [live_assistant("assistant-1"), live_assistant("assistant-2", tags=["other"])],
                 "(ids assistant-1, assistant-2)", id="duplicate-live-names"),
    pytest.param(assistant_doc(meta="id: assistant-9"), [live_assistant()], "metadata.id assistant-9 matches no",
                 id="pin-to-missing-id"),
    pytest.param(assistant_doc(spec="shared_tools: [nowhere]"), [],
                 "shared_tools names 'nowhere', which is neither in the manifests nor live", id="dangling-tool"),
    pytest.param(assistant_doc(spec="mcp_servers: [{server: ghost}]"), [],
                 "mcp_servers[].server names 'ghost'", id="dangling-mcp-server"),
])
def test_plan_errors(tmp_path: Path, docs: str, live: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(PlanError) as exc:
        plan(desired(tmp_path, docs), LiveState(assistants=live))
    assert message in str(exc.value)


def test_plan_errors_lead_with_where_the_resource_is_declared(tmp_path: Path) -> None:
    # cli-contract: errors in manifests are FILE:LINE:COL: message. A name that resolves to nothing is
    # found only against live state, but it is still the manifest's error: the line says where (the
    # reference itself in the main spec; a version's entry for what the version holds).
    versions = "versions:\n  - name: v2\n    spec:\n      mcp_servers: [{server: ghost}]"
    docs = tool_doc("lookup") + "---\n" + assistant_doc(spec="shared_tools: [lookup, nowhere]\n" + versions)
    with pytest.raises(PlanError) as exc:
        plan(desired(tmp_path, docs), LiveState())
    file = str(tmp_path / "m.yaml")
    start = docs.split("---\n")[0].count("\n") + 2  # the assistant's document begins after the separator
    lines = str(exc.value).splitlines()[1:]
    assert [line.strip().split(": ", 2)[:2] for line in lines] == [
        [f"{file}:{start + 7}:26", "assistant.bot"],  # `nowhere` itself, in `shared_tools: [lookup, nowhere]`
        [f"{file}:{start + 9}:7", "assistant.bot.version.v2"],
        [f"{file}:{start + 9}:7", "assistant.bot.version.v2"],
    ]
    assert "mcp_servers[].server names 'ghost'" in lines[1]


def test_a_test_naming_no_assistant_is_located_at_its_assistant_key(tmp_path: Path) -> None:
    docs = ("apiVersion: reconciler/v1\nkind: AssistantTest\nmetadata:\n  name: t1\nspec:\n"
            "  assistant: ghost-bot\n  instructions: Say hello.\n  rubric:\n    - name: Greeting\n"
            "      criteria: It greets.\n")
    with pytest.raises(PlanError) as exc:
        plan(desired(tmp_path, docs), LiveState())
    line = str(exc.value).splitlines()[1].strip()
    assert line.startswith(f"{tmp_path / 'm.yaml'}:6:14: assistant_test.t1: assistant names 'ghost-bot'"), line


# --- references -----------------------------------------------------------------------------------------

def test_reference_to_a_tool_created_in_the_same_plan(tmp_path: Path) -> None:
    docs = tool_doc("lookup") + "---\n" + assistant_doc(spec="shared_tools: [lookup]")
    result = plan(desired(tmp_path, docs), LiveState())
    bot = by_address(result)["assistant.bot"]
    assert bot.operations[0].body["tool_ids"] == [Ref("tool.lookup")]
    assert bot.depends_on == ["tool.lookup"]
    assert [c.after for c in bot.changes if c.path == "shared_tools"] == [["lookup"]]


def test_reference_to_a_live_only_tool_and_mcp_server(tmp_path: Path) -> None:
    docs = assistant_doc(spec="shared_tools: [lookup]\nmcp_servers: [{server: crm, allowed_tools: [a]}]")
    live = LiveState(tools=[live_tool("t-1", "lookup")],
                     mcp_servers=[{"id": "m-1", "name": "crm", "type": "http", "url": "u", "created_at": "x"}])
    body = by_address(plan(desired(tmp_path, docs), live))["assistant.bot"].operations[0].body
    assert body["tool_ids"] == ["t-1"]
    assert body["mcp_servers"] == [{"id": "m-1", "allowed_tools": ["a"]}]


def test_live_attachments_compare_by_name(tmp_path: Path) -> None:
    docs = assistant_doc(spec="shared_tools: [lookup]")
    live = LiveState(assistants=[live_assistant(tool_ids=["t-1"])], tools=[live_tool("t-1", "lookup")])
    assert actions(plan(desired(tmp_path, docs), live))["assistant.bot"] == ["no-op"]


# --- diff rules -----------------------------------------------------------------------------------------

DIFF_CASES = [
    pytest.param("", {}, [], id="server-fields-and-defaults-are-not-changes"),
    pytest.param("greeting: Hi", {"greeting": "Hello"}, [("greeting", "Hello", "Hi")], id="scalar-update"),
    pytest.param("greeting: null", {"greeting": "Hello"}, [("greeting", "Hello", None)], id="null-clears"),
    pytest.param("greeting: null", {}, [], id="null-on-absent-is-no-change"),
    pytest.param("tags: [b, a]", {"tags": [OWNER, "a", "b"]}, [], id="tags-are-a-set"),
    pytest.param("enabled_features: [messaging, telephony]", {"enabled_features": ["telephony", "messaging"]}, [],
                 id="enabled-features-are-a-set"),
    pytest.param("telephony_settings: {time_limit_secs: 1800.0}", {}, [], id="numbers-by-value"),
    pytest.param("privacy_settings: {data_retention: true}", {"privacy_settings": {"data_retention": 1}},
                 [("privacy_settings.data_retention", 1, True)], id="bool-is-not-a-number"),
    pytest.param("telephony_settings: {time_limit_secs: 600}", {},
                 [("telephony_settings.time_limit_secs", 1800, 600)], id="nested-leaf"),

    pytest.param("tools: [{type: hangup, hangup: {}}]",
                 {"tools": [{"type": "hangup", "hangup": {"description": "This tool is used to hang up the call."}}]},
                 [], id="server-defaults-inside-list-entries"),
]


@pytest.mark.parametrize(("spec", "live_fields", "expected"), DIFF_CASES)
def test_diff_rules(tmp_path: Path, spec: str, live_fields: dict[str, Any],
                    expected: list[tuple[str, Any, Any]]) -> None:
    result = plan(desired(tmp_path, assistant_doc(spec=spec)), LiveState(assistants=[live_assistant(**live_fields)]))
    rc = by_address(result)["assistant.bot"]
    assert [(c.path, c.before, c.after) for c in rc.changes] == expected
    assert rc.actions == (["update"] if expected else ["no-op"])


def test_other_lists_compare_in_order(tmp_path: Path) -> None:
    spec = "tools: [{type: hangup, hangup: {}}, {type: skip_turn, skip_turn: {}}]"
    live = live_assistant(tools=[{"type": "skip_turn", "skip_turn": {}}, {"type": "hangup", "hangup": {}}])
    rc = by_address(plan(desired(tmp_path, assistant_doc(spec=spec)), LiveState(assistants=[live])))["assistant.bot"]
    types = [(c.path, c.before, c.after) for c in rc.changes if c.path.endswith(".type")]
    assert types == [("tools[0].type", "skip_turn", "hangup"), ("tools[1].type", "hangup", "skip_turn")]
    assert rc.operations[0].body is not None and rc.operations[0].body["tools"][0]["type"] == "hangup"


def test_nested_objects_are_sent_whole_with_defaults_keeping_server_fields(tmp_path: Path) -> None:
    result = plan(desired(tmp_path, assistant_doc(spec="telephony_settings: {time_limit_secs: 600}")),
                  LiveState(assistants=[live_assistant()]))
    body = by_address(result)["assistant.bot"].operations[0].body
    # The whole desired object: what the manifest says, the API's declared defaults for the rest,
    # and the id the server created.
    assert body == {"telephony_settings": {"default_texml_app_id": "texml-1", "time_limit_secs": 600,
                                           "user_idle_reply_secs": 10}}


def test_ignore_changes(tmp_path: Path) -> None:
    docs = assistant_doc(spec="greeting: Hi\ntelephony_settings: {time_limit_secs: 600}",
                         meta="ignore_changes: [greeting, telephony_settings.time_limit_secs]")
    result = plan(desired(tmp_path, docs), LiveState(assistants=[live_assistant(greeting="portal edit")]))
    assert actions(result)["assistant.bot"] == ["no-op"]


def test_owner_tag_on_create_not_forced_on_adoption(tmp_path: Path) -> None:
    created = by_address(plan(desired(tmp_path, assistant_doc()), LiveState()))["assistant.bot"]
    assert created.operations[0].body["tags"] == [OWNER]
    # Not ours (no owner tag): an explicit adoption that apply refuses (issue #11)...
    found = plan(desired(tmp_path, assistant_doc()), LiveState(assistants=[live_assistant(tags=["x"])]))
    assert actions(found)["assistant.bot"] == ["adopt"]
    assert "metadata.adopt: true" in found.warnings[0]
    # ... until confirmed: then its tags are kept (any may be another project's) and ours is not forced.
    confirmed = plan(desired(tmp_path, assistant_doc(meta="adopt: true")),
                     LiveState(assistants=[live_assistant(tags=["x"])]))
    assert actions(confirmed)["assistant.bot"] == ["no-op"]


def test_protect_is_recorded_as_a_tag(tmp_path: Path) -> None:
    rc = by_address(plan(desired(tmp_path, assistant_doc(meta="protect: true")),
                         LiveState(assistants=[live_assistant()])))["assistant.bot"]
    assert rc.operations[0].body == {"tags": sorted([OWNER, PROTECT_TAG])}


def test_sensitive_values_are_masked(tmp_path: Path) -> None:
    docs = assistant_doc(spec="greeting: 'Hi ${env:SECRET_GREETING}'")
    result = plan(desired(tmp_path, docs, env={"SECRET_GREETING": "hunter2"}),
                  LiveState(assistants=[live_assistant(greeting="old hunter1")]))
    rc = by_address(result)["assistant.bot"]
    assert rc.operations[0].body["greeting"] == "Hi hunter2"  # the API gets the value
    text = str(plan_document(result))
    assert "hunter" not in text and "(sensitive)" in text


# --- versions and canary ------------------------------------------------------------------------------------

VERSIONED = assistant_doc(spec="""
greeting: Hello
versions:
  - name: short
    spec: {greeting: Hi}
canary:
  - version: short
    percentage: 10
""")


def test_versions_and_canary_created_in_order(tmp_path: Path) -> None:
    result = plan(desired(tmp_path, VERSIONED), LiveState())
    changes = by_address(result)
    version = changes["assistant.bot.version.short"]
    assert version.actions == ["create"]
    op = version.operations[0]
    assert op.body is not None and op.body["promote_to_main"] is False and op.body["version_name"] == "short"
    assert op.body["greeting"] == "Hi" and op.path_refs == {"a": Ref("assistant.bot")}
    canary = changes["assistant.bot.canary"]
    assert canary.operations[0].method == "POST"
    assert canary.operations[0].body == {"rules": [{"serve": {"rollout": [
        {"version_id": Ref("assistant.bot.version.short", "version_id"), "weight": 10}]}}]}
    assert set(canary.depends_on) == {"assistant.bot", "assistant.bot.version.short"}


def _versioned_live(greeting: str = "Hi", split: float = 10, extra: bool = False) -> LiveState:
    main = live_assistant(greeting="Hello")
    short = {**main, "greeting": greeting, "version_id": "v-short", "version_name": "short"}
    versions = [short, main] + ([{**main, "version_id": "v-old", "version_name": "old"}] if extra else [])
    split_entries = [{"version_id": "v-short", "percentage": split}]
    if extra:
        split_entries.append({"version_id": "v-old", "percentage": 5})
    canary = {"assistant_id": "assistant-1", "versions": split_entries, "created_at": "x", "updated_at": "x"}
    return LiveState(assistants=[main], versions={"assistant-1": versions}, canaries={"assistant-1": canary})


def test_versions_and_canary_in_sync(tmp_path: Path) -> None:
    result = plan(desired(tmp_path, VERSIONED), _versioned_live())
    assert all(a == ["no-op"] for a in actions(result).values()), actions(result)


def test_version_update_and_canary_replace(tmp_path: Path) -> None:
    changes = by_address(plan(desired(tmp_path, VERSIONED), _versioned_live(greeting="Hey", split=20)))
    version = changes["assistant.bot.version.short"]
    assert version.operations[0].path == "/ai/assistants/assistant-1/versions/v-short"
    assert version.operations[0].body == {"greeting": "Hi"}
    canary = changes["assistant.bot.canary"]
    assert canary.actions == ["update"] and canary.operations[0].method == "PUT"


def test_removed_version_goes_after_the_canary_stops_routing_to_it(tmp_path: Path) -> None:
    changes = by_address(plan(desired(tmp_path, VERSIONED), _versioned_live(extra=True), prune=True))
    old = changes["assistant.bot.version.old"]
    assert old.actions == ["delete"] and old.operations[0].method == "DELETE"
    assert old.depends_on == ["assistant.bot.canary"]
    assert changes["assistant.bot.canary"].actions == ["update"]


def test_promotion_is_a_normal_plan(tmp_path: Path) -> None:
    promoted = assistant_doc(spec="greeting: Hi\nversions: []\ncanary: []")
    changes = by_address(plan(desired(tmp_path, promoted), _versioned_live(), prune=True))
    assert changes["assistant.bot"].actions == ["update"]
    assert changes["assistant.bot.canary"].actions == ["delete"]
    assert changes["assistant.bot.version.short"].actions == ["delete"]
    assert changes["assistant.bot.version.short"].depends_on == ["assistant.bot.canary"]


# --- ownership and deletion -------------------------------------------------------------------------------------

def _account() -> LiveState:
    return LiveState(assistants=[
        live_assistant("assistant-1", "bot"),
        live_assistant("assistant-2", "gone", tool_ids=["t-1"]),
        live_assistant("assistant-3", "portal-made", tags=["hand-made"]),
    ], tools=[live_tool("t-1", "acme-lookup")])


PROJECT = """---
apiVersion: reconciler/v1
kind: Project
metadata:
  name: acme
spec:
  prune:
    kinds: [Assistant, Tool]
    tool_name_prefix: acme-
"""


def test_nothing_is_deleted_without_prune(tmp_path: Path) -> None:
    result = plan(desired(tmp_path, assistant_doc()), _account())
    assert "delete" not in str(actions(result))


def test_prune_deletes_only_what_the_owner_tag_proves(tmp_path: Path) -> None:
    changes = by_address(plan(desired(tmp_path, assistant_doc() + PROJECT), _account(), prune=True))
    assert changes["assistant.gone"].actions == ["delete"]
    assert "assistant.portal-made" not in changes
    # The tool only the deleted assistant used goes too, after that assistant.
    assert changes["tool.acme-lookup"].actions == ["delete"]
    assert changes["tool.acme-lookup"].depends_on == ["assistant.gone"]


def test_prune_keeps_a_tool_still_in_use(tmp_path: Path) -> None:
    live = _account()
    live.assistants[2]["tool_ids"] = ["t-1"]  # an assistant reconciler does not manage uses it
    result = plan(desired(tmp_path, assistant_doc() + PROJECT), live, prune=True)
    rc = by_address(result)["tool.acme-lookup"]
    assert rc.actions == ["no-op"] and "still used by assistant portal-made" in (rc.reason or "")
    assert any("still used" in w for w in result.warnings)


def test_prune_refuses_a_protected_assistant(tmp_path: Path) -> None:
    live = _account()
    live.assistants[1]["tags"] = [OWNER, PROTECT_TAG]
    result = plan(desired(tmp_path, assistant_doc() + PROJECT), live, prune=True)
    rc = by_address(result)["assistant.gone"]
    assert rc.actions == ["no-op"] and "not deleted: protected" in (rc.reason or "")
    assert any(w.startswith("assistant.gone: not deleted: protected") for w in result.warnings)


def test_target_selects_a_resource_and_its_dependencies(tmp_path: Path) -> None:
    docs = tool_doc("lookup") + "---\n" + mcp_doc("crm") + "---\n" + assistant_doc(spec="shared_tools: [lookup]")
    result = plan(desired(tmp_path, docs), LiveState(), targets=["assistant.bot"])
    assert sorted(actions(result)) == ["assistant.bot", "tool.lookup"]


def test_a_new_version_shows_every_top_level_field_its_create_sends_other_than_mains(tmp_path: Path) -> None:
    # A version starts as a copy of main: what its overlay clears is sent as null and must be in the plan.
    text = assistant_doc(spec="""
        greeting: Hello there
        versions:
          - name: quiet
            spec: {greeting: null, description: A quieter one}
    """)
    made = plan(desired(tmp_path, text), LiveState(assistants=[live_assistant(greeting="Hello there")]))
    version = made.by_address()["assistant.bot.version.quiet"]
    (op,) = version.operations
    shown = {c.path: (c.before, c.after) for c in version.changes}
    assert shown == {"description": (None, "A quieter one"), "greeting": ("Hello there", None)}
    assert op.body is not None and op.body["greeting"] is None and op.body["description"] == "A quieter one"


@pytest.mark.parametrize(("meta", "tags", "warned"), [
    pytest.param("id: assistant-1", ["managed-by:reconciler/other/prod"], True, id="pinned-other-project"),
    pytest.param("adopt: true", ["managed-by:crm-sync"], True, id="adopted-other-owner"),
    pytest.param("id: assistant-1", ["team-a"], False, id="pinned-unowned"),
    pytest.param("id: assistant-1", ["managed-by:reconciler"], False, id="pinned-own"),
])
def test_taking_over_another_owners_assistant_is_said(tmp_path: Path, meta: str, tags: list[str],
                                                      warned: bool) -> None:
    # A pin (or adopt: true) takes the live assistant over as it is: the reviewer is told whose it was.
    name = "bot-1" if "adopt" in meta else "stolen-bot"  # adopt matches by name; a pin by id (a rename)
    result = plan(desired(tmp_path, assistant_doc(name, meta=meta)),
                  LiveState(assistants=[live_assistant("assistant-1", name="bot-1", tags=tags)]))
    said = [w for w in result.warnings if "another owner's tag" in w]
    assert bool(said) == warned, result.warnings
    if warned:
        assert said[0].startswith(f"assistant.{name}: ") and repr(tags[0]) in said[0]
