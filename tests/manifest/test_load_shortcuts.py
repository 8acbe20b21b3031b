"""The shortcuts loading takes on a valid run must change nothing but its speed: a document known to
hold no null skips the walk that strips nulls, a document whose text holds no `$` is not copied to
look for `${env:}` (an instructions file it names still is searched), and the fast schema check
finds each `$ref` where `referencing` does without importing it, nor anything else only an error
needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.manifest import read_manifests
from reconciler.manifest.schema import without_nulls
from reconciler.manifest.validators import _lookup, _registry
from reconciler.manifest.yamlfast import documents
from reconciler.model import SensitiveStr
from reconciler.schemas import all_schemas
from tests.manifest.test_manifest_load import ASSISTANT
from tests.manifest.test_yaml_bounds import ProblemsOf, Write
from tests.manifest.test_yamlfast import FILES, TEXTS
from tests.support.paths import EXAMPLES, REPO

NULLS = {
    "a null value": "a: 1\nb: null\n",
    "a null deep in a list": "a: [1, {b: [{c: ~}]}]\n",
    "a null list item only": "a: [1, null]\n",
    "an empty value": "a:\nb: 2\n",
    "a null key": "~: 1\n",
}


@pytest.mark.parametrize("text", [*TEXTS.values(), *NULLS.values()] + [p.read_text(encoding="utf-8") for p in FILES])
def test_a_document_is_null_free_exactly_when_stripping_nulls_changes_nothing(text: str) -> None:
    for doc in documents(text, "f.yaml")[0]:
        if doc.null_free:  # False is always safe (the walk then runs); True must be right
            assert without_nulls(doc.data) is doc.data


def test_the_documents_of_a_plain_file_without_nulls_are_known_null_free() -> None:
    text = "a: 1\nb: [x, null]\n---\nc: {d: e}\n---\nf: {g: null}\n"
    assert [doc.null_free for doc in documents(text, "f.yaml")[0]] == [True, True, False]


def test_null_is_still_stripped_for_the_schema_in_a_file_without_dollars(write: Write,
                                                                          problems_of: ProblemsOf) -> None:
    nulls = "  greeting: null\n  telephony_settings: {time_limit_secs: ~}\n"
    ok = write("ok.yaml", ASSISTANT.format(name="ok") + nulls)
    assert problems_of([ok]) == []
    bad = write("bad.yaml", ASSISTANT.format(name="bad") + "  voice_settings: {voice: null}\n")
    assert problems_of([bad])  # a required key set to null is missing


def test_an_instructions_file_is_searched_for_env_references_when_the_manifest_has_no_dollar(write: Write) -> None:
    write("prompts/p.md", "Greet ${env:COMPANY} callers.\n")
    manifest = write("a.yaml", ASSISTANT.format(name="a").replace("instructions: Be helpful.",
                                                                  "instructions_file: prompts/p.md")
                     + "  dynamic_variables: {region: eu}\n  tags: [x]\n")
    assert "$" not in manifest.read_text(encoding="utf-8")
    (resource,) = read_manifests([manifest], environ={"COMPANY": "Acme"}).state.resources
    assert resource.spec["instructions"] == "Greet Acme callers.\n"
    assert isinstance(resource.spec["instructions"], SensitiveStr)
    assert resource.spec["dynamic_variables"] == {"region": "eu"} and resource.spec["tags"] == ["x"]
    with pytest.raises(Exception, match="environment variable COMPANY is not set"):
        read_manifests([manifest], environ={})



def test_the_versions_of_a_file_without_dollars_are_resolved_where_an_overlay_names_a_file(write: Write) -> None:
    write("prompts/p.md", "Be brief.\n")
    plain = "    - {name: plain, spec: {greeting: Hi, telephony_settings: {time_limit_secs: 60}}}\n"
    from_file = "    - {name: from-file, spec: {instructions_file: prompts/p.md}}\n"
    written = {"greeting": "Hi", "telephony_settings": {"time_limit_secs": 60}}
    for text, overlays in [(plain + from_file, [written, {"instructions": "Be brief.\n"}]), (plain, [written])]:
        manifest = write("v.yaml", ASSISTANT.format(name="v") + "  versions:\n" + text)
        assert "$" not in manifest.read_text(encoding="utf-8")
        (resource,) = read_manifests([manifest], environ={}).state.resources
        assert [v.overlay for v in resource.versions or ()] == overlays
        assert "versions" not in resource.spec


def _refs(node: Any, base: str) -> list[tuple[str, str]]:
    if isinstance(node, dict):
        own = [(node["$ref"], base)] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value, base)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value, base)]
    return []


def test_every_ref_is_found_where_referencing_finds_it() -> None:
    registry = _registry()
    refs = [r for where, contents in all_schemas() for r in _refs(contents, where)]
    assert len(refs) > 100
    for ref, base in refs:
        found = registry.resolver(base).lookup(ref)
        contents, where = _lookup(ref, base)
        assert contents is found.contents, (ref, base)
        # The next hop is resolved from the same place (relative $refs inside the target).
        assert registry.resolver(where).lookup("#").contents is found.resolver.lookup("#").contents


def test_a_valid_validate_imports_nothing_only_an_error_needs(tmp_path: Path) -> None:
    probe = ("import json, sys\nfrom reconciler.cli import main\ncode = main(['validate', sys.argv[1]])\n"
             "print(json.dumps([code, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", probe, str(EXAMPLES)], capture_output=True, text=True, cwd=REPO,
                          timeout=60, check=False)
    code, modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 0, done.stderr
    for unneeded in ("jsonschema", "referencing", "difflib", "importlib.resources", "httpx", "deepdiff"):
        assert unneeded not in modules
