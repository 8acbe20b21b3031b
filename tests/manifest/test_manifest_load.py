"""`load` on real files: the examples, folders and multi-document files, what ends up in each
DesiredResource, `${env:…}` sensitivity and the saved-plan round trip."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.kinds import DEFAULT_OWNER_TAG
from reconciler.manifest import desired_from_dict, dump_desired, load, read_manifests
from reconciler.model import (
    ProjectSpec,
    PrunePolicy,
    SensitiveStr,
    SourcePos,
)
from tests.support.paths import EXAMPLES

Write = Callable[[str, str], Path]
ProblemsOf = Callable[..., list[tuple[str, int, int, str]]]

ASSISTANT = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: {name}
spec:
  instructions: Be helpful.
"""


def test_examples_validate_and_load_the_expected_resources() -> None:
    result = read_manifests([EXAMPLES], environ={})
    state = result.state
    assert len(result.files) == 4
    assert sorted(r.address for r in state.resources) == [
        "assistant.acme-sms",
        "assistant.acme-support",
        "mcp_server.crm",
        "tool.order-lookup",
    ]
    assert state.project.name == "acme-support"
    assert state.project.owner_tag == DEFAULT_OWNER_TAG

    support = next(r for r in state.resources if r.name == "acme-support")
    # instructions_file replaced by the file's content; manifest-only keys kept in manifest form.
    assert "instructions_file" not in support.spec
    assert support.spec["instructions"] == (EXAMPLES / "prompts" / "support.md").read_text()
    assert support.spec["shared_tools"] == ["order-lookup"]
    assert support.spec["mcp_servers"] == [{"server": "crm", "allowed_tools": ["lookup_customer"]}]
    assert "versions" not in support.spec and "canary" not in support.spec
    assert support.versions is not None and [v.name for v in support.versions] == ["concise-greeting"]
    assert support.canary == ({"serve": {"rollout": [{"version": "concise-greeting", "weight": 10}]}},)
    assert {t["type"] for t in support.spec["tools"]} == {"hangup", "transfer", "webhook"}
    # Telnyx templates pass through untouched.
    header = support.spec["tools"][2]["webhook"]["headers"][0]["value"]
    assert header == "Bearer {{#integration_secret}}ticketing-api-token{{/integration_secret}}"
    assert not isinstance(header, SensitiveStr)
    # Server-populated fields are never declared by the examples.
    assert "default_texml_app_id" not in support.spec["telephony_settings"]

    sms = next(r for r in state.resources if r.name == "acme-sms")
    assert sms.spec["enabled_features"] == ["messaging"]
    assert sms.versions is None and sms.canary is None


def test_sources_point_at_documents_and_versions(write: Write) -> None:
    path = write(
        "a.yaml",
        """
        # a comment first
        apiVersion: reconciler/v1
        kind: Tool
        metadata: {name: t}
        spec: {type: function, function: {}}
        ---
        apiVersion: reconciler/v1
        kind: Assistant
        metadata:
          name: bot
        spec:
          instructions: Hi
          versions:
            - name: v1
              spec: {greeting: Hello}
          canary: []
        """,
    )
    state = load([path], environ={})
    tool, bot = state.resources
    assert tool.source == SourcePos(str(path), 2, 1)
    assert bot.source == SourcePos(str(path), 7, 1)
    assert bot.versions is not None and bot.versions[0].source == SourcePos(str(path), 14, 7)
    assert bot.versions[0].overlay == {"greeting": "Hello"}
    assert bot.canary == ()  # declared empty, not absent


def test_folders_are_read_recursively_in_sorted_order_with_relative_names(
    tmp_path: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("m/b.yaml", ASSISTANT.format(name="b"))
    write("m/a/z.yml", ASSISTANT.format(name="z"))
    write("m/a/notes.txt", "not a manifest")
    write("m/empty.yaml", "# nothing here\n")
    monkeypatch.chdir(tmp_path)
    result = read_manifests(["m"], environ={})
    assert result.files == [os.path.join("m", *p) for p in (("a", "z.yml"), ("b.yaml",), ("empty.yaml",))]
    assert [r.name for r in result.state.resources] == ["z", "b"]
    assert result.state.project == ProjectSpec()
    # A file given twice (directly and through its folder) is read once.
    again = read_manifests(["m", "m/b.yaml"], environ={})
    assert [r.name for r in again.state.resources] == ["z", "b"]


def test_missing_paths_and_empty_lists_are_errors(tmp_path: Path, problems_of: ProblemsOf) -> None:
    (tmp_path / "empty").mkdir()
    assert problems_of([tmp_path / "nope.yaml"]) == [(str(tmp_path / "nope.yaml"), 1, 1, "no such file or folder")]
    assert problems_of([tmp_path / "empty"])[0][3] == "folder holds no *.yaml or *.yml files"
    with pytest.raises(ManifestError, match="no manifest paths given"):
        load([], environ={})


def test_a_file_without_documents_is_fine(write: Write) -> None:
    assert load([write("e.yaml", "---\n# only a comment\n---\n")], environ={}).resources == []


def test_problems_across_files_are_all_reported_and_sorted(write: Write, problems_of: ProblemsOf) -> None:
    b = write("b.yaml", ASSISTANT.format(name="same") + "  greeting: 1\n")
    a = write("a.yaml", ASSISTANT.format(name="same") + "  voice_setings: {}\n")
    got = problems_of([b, a])
    # b.yaml is read first (order given), so the duplicate is reported in a.yaml, naming b.yaml.
    assert [(Path(f).name, line) for f, line, _, _ in got] == [("a.yaml", 4), ("a.yaml", 7), ("b.yaml", 7)]
    assert got[0][3] == f"duplicate Assistant name 'same' (also defined at {b}:4:9)"


def test_project_maps_onto_prune_policy(write: Write) -> None:
    path = write(
        "p.yaml",
        """
        apiVersion: reconciler/v1
        kind: Project
        metadata: {name: acme}
        spec:
          owner_tag: team:acme
          prune:
            kinds: [Assistant, Tool, McpServer]
            enabled: true
            tool_name_prefix: acme-
            mcp_server_name_prefix: acme-mcp-
        """,
    )
    assert load([path], environ={}).project == ProjectSpec(
        name="acme",
        owner_tag="team:acme",
        prune=PrunePolicy(("Assistant", "Tool", "McpServer"), True, "acme-", "acme-mcp-"),
    )
    bare = write("q.yaml", "apiVersion: reconciler/v1\nkind: Project\nmetadata: {name: solo}\n")
    assert load([bare], environ={}).project == ProjectSpec(name="solo")


SECRET_MANIFEST = """
    apiVersion: reconciler/v1
    kind: Assistant
    metadata:
      name: bot
    spec:
      instructions_file: prompt.md
      tools:
        - type: webhook
          webhook:
            name: t
            description: d
            url: https://api.example.com/x
            headers:
              - {name: Authorization, value: "Bearer ${env:TOKEN}"}
      versions:
        - name: v
          spec: {greeting: "Hi ${env:WHO}, {{name}}"}
"""


def test_env_references_become_sensitive_and_dumps_keep_the_reference(write: Write) -> None:
    write("prompt.md", "You work for {{company}}.\n")
    path = write("s.yaml", SECRET_MANIFEST)
    env = {"TOKEN": "s3cr3t-value", "WHO": "Ada"}
    bot = load([path], environ=env).resources[0]
    header = bot.spec["tools"][0]["webhook"]["headers"][0]["value"]
    assert isinstance(header, SensitiveStr)
    assert header == "Bearer s3cr3t-value" and header.reference == "Bearer ${env:TOKEN}"
    assert "s3cr3t" not in repr(bot.spec)
    assert bot.spec["instructions"] == "You work for {{company}}.\n"
    assert bot.versions is not None
    greeting = bot.versions[0].overlay["greeting"]
    assert isinstance(greeting, SensitiveStr) and greeting == "Hi Ada, {{name}}"

    dumped = dump_desired(load([path], environ=env))
    text = json.dumps(dumped)
    assert "s3cr3t-value" not in text and "Ada" not in text
    assert "Bearer ${env:TOKEN}" in text and "Hi ${env:WHO}, {{name}}" in text

    back = desired_from_dict(json.loads(text), environ={"TOKEN": "rotated", "WHO": "Bob"})
    again = back.resources[0]
    value = again.spec["tools"][0]["webhook"]["headers"][0]["value"]
    assert isinstance(value, SensitiveStr) and value == "Bearer rotated"
    assert dump_desired(back) == dumped
    assert again.source == bot.source and again.versions is not None
    assert again.versions[0].source == bot.versions[0].source

    with pytest.raises(ManifestError) as exc:
        desired_from_dict(dumped, environ={"WHO": "Bob"})
    (problem,) = exc.value.problems
    assert (problem.file, problem.line) == (str(path), 1)
    assert "environment variable TOKEN is not set" in problem.message


def test_round_trip_of_the_examples_is_lossless() -> None:
    state = load([EXAMPLES], environ={})
    data = dump_desired(state)
    assert json.loads(json.dumps(data)) == data
    back = desired_from_dict(data, environ={})
    assert back == state


def test_unset_variable_is_reported_at_its_line(write: Write, problems_of: ProblemsOf) -> None:
    write("prompt.md", "Hi\n")
    path = write("s.yaml", SECRET_MANIFEST)
    got = problems_of([path], {"WHO": "x"})
    assert got == [(str(path), 14, 42, "environment variable TOKEN is not set (referenced as ${env:TOKEN})")]


def test_yaml_details(write: Write, problems_of: ProblemsOf) -> None:
    path = write(
        "y.yaml",
        """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: bot}
        spec:
          instructions: Hi
          dynamic_variables:
            on: yes
            opened: 2024-01-02
            base: &base {a: 1}
            copy: *base
        """,
    )
    bot = load([path], environ={}).resources[0]
    # Keys stay strings as written; timestamps stay strings; aliases work.
    assert bot.spec["dynamic_variables"] == {"on": True, "opened": "2024-01-02", "base": {"a": 1}, "copy": {"a": 1}}


def test_hidden_folders_are_skipped_and_a_bare_path_is_accepted(tmp_path: Path, write: Write) -> None:
    write("repo/.github/workflows/ci.yml", "on: push\njobs: {}\n")
    write("repo/manifests/a.yaml", ASSISTANT.format(name="a"))
    result = read_manifests(str(tmp_path / "repo"), environ={})
    assert [Path(f).name for f in result.files] == ["a.yaml"]


def test_byte_order_mark_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + ASSISTANT.format(name="w").replace("\n", "\r\n").encode())
    assert [r.name for r in load([path], environ={}).resources] == ["w"]


def test_tabs_and_non_json_tags_are_explained(write: Write, problems_of: ProblemsOf) -> None:
    tabs = write("t.yaml", "apiVersion: reconciler/v1\nkind: Tool\nspec:\n\ttype: webhook\n")
    ((_, line, col, message),) = problems_of([tabs])
    assert (line, col) == (4, 1) and message.endswith("(YAML cannot indent with tabs)")
    binary = write("b.yaml", ASSISTANT.format(name="b") + "  dynamic_variables: {blob: !!binary aGVsbG8=}\n")
    assert problems_of([binary]) == [(str(binary), 7, 29, "unsupported YAML tag !!binary: only JSON's types are "
                                      "allowed (mappings, lists, strings, numbers, booleans, null)")]
    # A refused value reads as null: where null is itself a mistake (a model, a required key), the one
    # report is still the tag's.
    for name, extra in (("m", "  model: !!binary aGk=\n"), ("v", "  voice_settings: {voice: !!binary aGk=}\n")):
        refused = write(f"{name}.yaml", ASSISTANT.format(name=name) + extra)
        assert [message for *_, message in problems_of([refused])] == [
            "unsupported YAML tag !!binary: only JSON's types are allowed (mappings, lists, strings, numbers, "
            "booleans, null)"]


def test_null_clears_an_optional_field_but_not_a_required_one(write: Write, problems_of: ProblemsOf) -> None:
    extra = "  greeting: null\n  telephony_settings: {time_limit_secs: null}\n"
    ok = write("n.yaml", ASSISTANT.format(name="n") + extra)
    spec = load([ok], environ={}).resources[0].spec
    assert spec["greeting"] is None and spec["telephony_settings"] == {"time_limit_secs": None}
    bad = write("r.yaml", ASSISTANT.format(name="r") + "  voice_settings: {voice: null}\n")
    assert problems_of([bad]) == [(str(bad), 7, 20, "spec.voice_settings.voice: cannot be null: it is required")]


def test_a_malformed_saved_state_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="malformed desired state in saved plan"):
        desired_from_dict({"resources": [{"kind": "Assistant"}]}, environ={})


def test_merge_keys_let_local_keys_override(write: Write) -> None:
    path = write(
        "merge.yaml",
        """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: bot}
        spec:
          instructions: Hi
          dynamic_variables:
            defaults: &defaults {company: Acme, region: eu}
            mine:
              <<: *defaults
              region: us
        """,
    )
    variables = load([path], environ={}).resources[0].spec["dynamic_variables"]
    assert variables["mine"] == {"region": "us", "company": "Acme"}
