"""The pure half of export: live objects -> manifest files, with no API and no emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.export.dump import dump_document
from reconciler.export.exporter import export, overlay_diff
from reconciler.export.naming import short_id, slugify
from reconciler.export.schema import same_value, strip_spec
from reconciler.manifest import load
from reconciler.model import LiveState
from reconciler.tree import merge as merge_overlay


def assistant(aid: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"id": aid, "name": name, "created_at": "2026-01-01T00:00:00Z", "model": "openai/gpt-4o",
            "instructions": "Be helpful.", "version_id": f"v-{aid}", "version_name": "New assistant",
            "tool_ids": [], "tags": [], **fields}


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return tmp_path


@pytest.mark.parametrize(("base", "target"), [
    ({}, {}),
    ({"a": 1}, {"a": 1}),
    ({"a": 1, "b": 2}, {"a": 1}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}),
    ({"a": {"x": 1}}, {"a": {"x": 1, "z": {"deep": True}}}),
    ({"a": [1, 2]}, {"a": [2, 1]}),
    ({"a": {"x": 1}}, {"a": [1]}),
    ({"a": 1}, {"a": 1.5, "b": {"c": "d"}}),
    ({"a": True}, {"a": 1}),
])
def test_overlay_diff_is_the_inverse_of_merge_overlay(base: dict[str, Any], target: dict[str, Any]) -> None:
    overlay = overlay_diff(base, target)
    merged = merge_overlay(base, overlay)
    assert same_value(merged, target)
    if same_value(base, target):
        assert overlay == {}


@pytest.mark.parametrize(("name", "slug"), [
    ("Support Bot", "support-bot"),
    ("ops/../etc: Night Shift!", "ops-etc-night-shift"),
    ("  --weird__name--  ", "weird-name"),
    ("Ünïcode Bot", "n-code-bot"),
    ("!!!", ""),
    ("a" * 80, "a" * 60),
])
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_short_id() -> None:
    assert short_id("assistant-0646b839-f914-4ed2-8a7a-a00c6f537c38") == "0646b839"
    assert short_id("fc85d7d8-9a63") == "fc85d7d8"
    assert short_id("---") == "x"


def test_strip_spec_drops_defaults_and_nulls_but_keeps_required_and_non_defaults() -> None:
    spec = {
        "tags": [], "integrations": [], "dynamic_variables_webhook_timeout_ms": 1500, "greeting": None,
        "voice_settings": {"voice": "v", "voice_speed": 1.0, "use_speaker_boost": 1, "expressive_mode": False,
                           "background_audio": {"type": "predefined_media", "value": "silence"}},
        "external_llm": {"model": "m", "base_url": "https://x", "authentication_method": "token",
                         "forward_metadata": False},
        "tools": [{"type": "hangup", "hangup": {"description": "This tool is used to hang up the call."}},
                  {"type": "webhook", "webhook": {"name": "n", "description": "d", "url": "u", "method": "POST",
                                                  "async": False}}],
        "observability_settings": {"status": "disabled"},
    }
    assert strip_spec("Assistant", spec) == {
        # `use_speaker_boost: 1` is not the default `true`; `value` is required in its variant.
        "voice_settings": {"voice": "v", "use_speaker_boost": 1,
                           "background_audio": {"type": "predefined_media", "value": "silence"}},
        "external_llm": {"model": "m", "base_url": "https://x"},
        "tools": [{"type": "hangup", "hangup": {}},
                  {"type": "webhook", "webhook": {"name": "n", "description": "d", "url": "u"}}],
    }
    assert strip_spec("Tool", {"type": "webhook", "timeout_ms": 5000, "webhook": {"method": "POST", "url": "u"}}) == {
        "type": "webhook", "webhook": {"url": "u"}}


def test_dump_is_stable_and_reads_back() -> None:
    doc = {"spec": {"b": "multi\nline\n", "a": [{"x": 1, "type": "t"}], "c": "  lead"}, "kind": "Assistant",
           "metadata": {"name": "n"}, "apiVersion": "reconciler/v1"}
    text = dump_document(doc, ["a note"])
    assert text == dump_document(dict(reversed(list(doc.items()))), ["a note"])
    assert text.splitlines()[:3] == ["# a note", "apiVersion: reconciler/v1", "kind: Assistant"]
    assert "  b: |\n    multi\n    line\n" in text
    assert "- type: t\n    x: 1" in text
    assert yaml.safe_load(text) == doc


def test_names_that_cannot_be_identities_are_pinned(tmp_path: Path) -> None:
    live = LiveState(assistants=[assistant("assistant-a1", ""), assistant("assistant-b2", ""),
                                 assistant("assistant-c3", "x", created_at="2026-01-02"),
                                 assistant("assistant-d4", "x", created_at="2026-01-01")])
    result = export(live)
    docs = {rel: yaml.safe_load(text) for rel, text in result.files.items()}
    metas = sorted((d["metadata"] for d in docs.values()), key=lambda m: m["id"])
    assert metas == [
        {"name": "unnamed-a1", "id": "assistant-a1", "ignore_changes": ["name"]},
        {"name": "unnamed-b2", "id": "assistant-b2", "ignore_changes": ["name"]},
        {"name": "x-c3", "id": "assistant-c3", "ignore_changes": ["name"]},
        {"name": "x", "id": "assistant-d4"},  # the oldest keeps the name
    ]
    assert any("without a name" in w for w in result.warnings)
    assert any("2 live Assistant objects are named 'x'" in w for w in result.warnings)
    assert load([write(tmp_path, result.files)])


def test_instructions_placement(tmp_path: Path) -> None:
    live = LiveState(assistants=[
        assistant("assistant-1", "short", instructions="x" * 200),
        assistant("assistant-2", "long", instructions="x" * 201),
        assistant("assistant-3", "lines", instructions="one\ntwo\n"),
        assistant("assistant-4", "crlf", instructions="one\r\ntwo"),
    ])
    files = export(live).files
    assert sorted(f for f in files if f.startswith("prompts/")) == ["prompts/lines.md", "prompts/long.md"]
    assert files["prompts/lines.md"] == "one\ntwo\n"
    state = load([write(tmp_path, files)])
    got = {r.name: r.spec["instructions"] for r in state.resources}
    assert got == {"short": "x" * 200, "long": "x" * 201, "lines": "one\ntwo\n", "crlf": "one\r\ntwo"}


def test_what_has_no_manifest_form_is_left_out_with_a_warning(tmp_path: Path) -> None:
    # `future_tool`: a tool type newer than the pinned SDK; related_mission_ids and import_metadata are
    # read-only fields of the answer.
    live = LiveState(
        assistants=[
            assistant("assistant-1", "a", tools=[{"type": "future_tool", "future_tool": {}},
                                                 {"type": "hangup", "hangup": {}}],
                      related_mission_ids=["m1"], import_metadata={"import_provider": "vapi"},
                      greeting="Hi ${env:USER}", tool_ids=["gone"], mcp_servers=[{"id": "also-gone"}]),
        ],
        tools=[{"id": "t1", "type": "future_tool", "display_name": "cst", "tool_definition": {}}],
    )
    result = export(live)
    spec = yaml.safe_load(result.files["assistants/a.yaml"])["spec"]
    assert "tools" not in spec and "related_mission_ids" not in spec and "import_metadata" not in spec
    assert spec["shared_tools"] == ["gone"] and spec["mcp_servers"] == [{"server": "also-gone"}]
    assert "tools/cst.yaml" not in result.files
    text = "\n".join(result.warnings)
    for expected in ("inline tools of type future_tool", "fields related_mission_ids have", "${env:NAME}",
                     "refers to Tool gone", "refers to McpServer also-gone", "type 'future_tool'"):
        assert expected in text


def test_versions_and_canary_that_cannot_be_declared() -> None:
    main = assistant("assistant-1", "a")
    other = {**main, "version_id": "v2", "version_name": "beta", "greeting": "hey"}
    live = LiveState(assistants=[main], versions={"assistant-1": [main, other]},
                     canaries={"assistant-1": {"versions": [{"version_id": "nope", "percentage": 10}]}})
    result = export(live)
    spec = yaml.safe_load(result.files["assistants/a.yaml"])["spec"]
    assert spec["versions"] == [{"name": "beta", "spec": {"greeting": "hey"}}]
    assert "canary" not in spec
    assert any("canary names a version that is not a named version" in w for w in result.warnings)


def test_canary_in_the_rules_form_is_read_by_name() -> None:
    main = assistant("assistant-1", "a")
    other = {**main, "version_id": "v2", "version_name": "beta", "tags": ["ignored-in-versions"]}
    rules = [{"serve": {"rollout": [{"version_id": "v2", "weight": 20}]}}]
    live = LiveState(assistants=[main], versions={"assistant-1": [other, main]},
                     canaries={"assistant-1": {"rules": rules}})
    spec = yaml.safe_load(export(live).files["assistants/a.yaml"])["spec"]
    assert spec["versions"] == [{"name": "beta", "spec": {}}]
    assert spec["canary"] == [{"version": "beta", "percentage": 20}]


def test_kind_filter_keeps_references_by_name() -> None:
    live = LiveState(assistants=[assistant("assistant-1", "a", tool_ids=["t1", "t2"])],
                     tools=[{"id": "t1", "type": "webhook", "display_name": "dup", "tool_definition": {}},
                            {"id": "t2", "type": "webhook", "display_name": "dup", "tool_definition": {}}])
    result = export(live, ["Assistant"])
    assert list(result.files) == ["assistants/a.yaml"]
    assert yaml.safe_load(result.files["assistants/a.yaml"])["spec"]["shared_tools"] == ["dup", "dup-t2"]
    assert any("export Tool too" in w for w in result.warnings)
