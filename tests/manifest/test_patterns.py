"""A schema's `pattern` reads as ECMA-262 reads it (manifest/patterns.py): a trailing line break does
not slip past a `$`, in the fast checker, in jsonschema's explanation and at the command line, and
every pattern of the schemas agrees with regress, the ECMA-262 engine check-jsonschema uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.manifest import schema, validators
from reconciler.manifest.patterns import compiled, ecma_source
from reconciler.schemas import all_schemas

PROBES = ["", "a", "bot", "bot\n", "\nbot", "bot\n\n", "a.b", "a.b\n", "a..b", "FOO_1", "FOO\n", "1FOO",
          "assistant.x", "assistant.x\n", "tool.\n", "x\r", "caf\u00e9", "a\u0085", "a\tb", "a$", "$", "\u2028",
          "assistant.x\r", "tool.a\rb", "assistant.x\u2028", "tool.a\u2029b", "bot\u2028x", "\u0661", "A\u0661",
          "managed-by:x\n", "managed-by:reconciler/demo/staging"]


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_schema_pattern_matches_as_regress_does() -> None:
    regress = pytest.importorskip("regress", reason="regress comes with check-jsonschema (the dev extra)")
    patterns = sorted({p for _, contents in all_schemas() for p in _patterns(contents)})
    assert len(patterns) >= 4, patterns  # the name, path, variable-name and address patterns
    for pattern in patterns:
        for text in PROBES:
            ecma = regress.Regex(pattern).find(text) is not None
            assert (compiled(pattern).search(text) is not None) == ecma, (pattern, text)


def test_only_an_anchor_is_rewritten() -> None:
    assert ecma_source("^a$") == r"^a\Z"
    assert ecma_source(r"^a\$$") == r"^a\$\Z"  # an escaped dollar is a dollar sign
    assert ecma_source("^[$]x$") == r"^[$]x\Z"  # in a class too
    assert ecma_source(r"^[\]$]$") == r"^[\]$]\Z"
    assert compiled("^a$").search("a\n") is None and compiled("^a$").search("a") is not None
    assert ecma_source("^a.b$") == r"^a[^\n\r\u2028\u2029]b\Z" and ecma_source(r"^a\.[.]$") == r"^a\.[.]\Z"
    assert compiled(r"^\d+$").search("\u0661") is None  # ECMA's \d is ASCII
    for unsupported in (r"^\s$", r"x\S", "[]a]", "[^]"):
        with pytest.raises(re.error):
            ecma_source(unsupported)


def test_the_checkers_agree_on_a_name_ending_in_a_line_break() -> None:
    doc = {"apiVersion": "reconciler/v1", "kind": "Assistant", "metadata": {"name": "bot\n"},
           "spec": {"model": "openai/gpt-4o", "instructions": "hi"}}
    fast = validators.fast_check("Assistant")
    assert fast is not None and fast(doc) is False
    assert [f.path for f in schema.findings("Assistant", doc)] == [("metadata", "name")]


PROJECT = """\
apiVersion: reconciler/v1
kind: Project
metadata:
  name: demo
spec:
  environments:
    staging:
      api_key_env: "STAGING_KEY\\n"
      owner_tag: "managed-by:demo\\u2028staging"
---
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: "bot\\n"
  ignore_changes: ["greeting\\n"]
spec:
  instructions: Be helpful.
"""


def test_validate_refuses_each_trailing_line_break_at_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "all.yaml").write_text(PROJECT, encoding="utf-8")
    assert main(["validate", str(tmp_path / "all.yaml")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    where = [line.split(": ")[0].rsplit("/", 1)[-1] for line in lines[:-1]]
    assert where == ["all.yaml:8:20", "all.yaml:9:18", "all.yaml:14:9", "all.yaml:15:20"], lines
    assert "is not an environment variable's name" in lines[0]
    assert "a tag is one line of text" in lines[1]
    assert "holds a control character" in lines[2] and "a name is one line of text" in lines[2]
    assert "is not a dotted spec path" in lines[3]
    assert lines[-1] == "4 error(s) in manifests"


def test_environment_and_variable_names_ending_in_a_line_break_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked in code (manifest/environments.py) rather than by a schema: whole names, not a `$`."""
    (tmp_path / "p.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Project\nmetadata:\n  name: demo\nspec:\n"
        "  variables:\n    \"GREETING\\n\": hello\n"
        "  environments:\n    \"staging\\n\":\n      variables:\n        \"VOICE\\n\": x\n",
        encoding="utf-8")
    assert main(["validate", str(tmp_path / "p.yaml")]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].endswith("p.yaml:7:5: variable name 'GREETING\\n': use letters, digits and _, starting with "
                             "a letter or _")
    assert "p.yaml:9:5: spec.environments: environment name 'staging\\n' must be lower case" in lines[1]
