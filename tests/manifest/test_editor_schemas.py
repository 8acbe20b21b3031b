"""The published schemas as editors and other tools see them: opened from their files, with no
registry of ours. check-jsonschema (a real, independent validator) resolves every relative `$ref`
from the file's own location, accepts the examples and names the mistakes of a broken manifest; the
any-kind schema agrees with the kind schemas and lists every kind."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from reconciler.kinds import MANIFEST_KINDS
from reconciler.schemas import MANIFEST_SCHEMA, SCHEMAS, all_schemas, uri
from tests.support.paths import EXAMPLES

pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the test extra: pip install -e '.[test]'")

BROKEN = """\
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: broken
spec:
  instructions: Be helpful.
  voice_setings:
    voice: Telnyx.KokoroTTS.af_heart
  transcription:
    model: deepgram/nova9
"""


def check_jsonschema(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}  # loopback only
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` served as it is over loopback HTTP, as a published copy of the schemas would be."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def one_file_per_document(folder: Path, out: Path) -> list[Path]:
    """The example files, a file holding several documents split into one file per document:
    check-jsonschema reads one document per file (its issue #222); editors read them all."""
    files: list[Path] = []
    for path in sorted(folder.glob("*.yaml")):
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        if len(documents) == 1:
            files.append(path)
            continue
        for i, doc in enumerate(documents):
            part = out / f"{path.stem}-{i}.yaml"
            part.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            files.append(part)
    return files


def test_the_schemas_are_valid_json_schemas() -> None:
    done = check_jsonschema("--check-metaschema", *sorted(SCHEMAS.glob("*.schema.json")),
                            SCHEMAS / "api" / "telnyx-ai.schema.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_kind_schema_resolves_its_refs_from_its_file() -> None:
    # The case that failed with absolute $ids ("Unresolvable: Project.schema.json").
    done = check_jsonschema("--schemafile", SCHEMAS / "Assistant.schema.json", EXAMPLES / "support-assistant.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_examples_pass_the_any_kind_schema(tmp_path: Path) -> None:
    files = one_file_per_document(EXAMPLES, tmp_path)
    assert len(files) > len(list(EXAMPLES.glob("*.yaml")))  # the multi-document file was split
    done = check_jsonschema("--schemafile", MANIFEST_SCHEMA, *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_a_broken_manifest_fails_naming_each_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    done = check_jsonschema("--schemafile", MANIFEST_SCHEMA, broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "$.spec: Additional properties are not allowed ('voice_setings' was unexpected)" in done.stdout
    assert "$.spec.transcription.model: 'deepgram/nova9' is not one of" in done.stdout
    wrong_kind = tmp_path / "kind.yaml"
    wrong_kind.write_text(BROKEN.replace("kind: Assistant", "kind: Assistent"), encoding="utf-8")
    done = check_jsonschema("--schemafile", MANIFEST_SCHEMA, wrong_kind)
    assert done.returncode == 1 and "$.kind: 'Assistent' is not one of" in done.stdout, done.stdout


def test_a_published_copy_resolves_from_its_web_address(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    with served(SCHEMAS) as base:
        schema = f"{base}/Manifest.schema.json"
        good = check_jsonschema("--no-cache", "--schemafile", schema, EXAMPLES / "support-assistant.yaml")
        bad = check_jsonschema("--no-cache", "--schemafile", schema, broken)
    assert good.returncode == 0, good.stdout + good.stderr
    assert bad.returncode == 1 and "'voice_setings' was unexpected" in bad.stdout, bad.stdout + bad.stderr


def _any_kind() -> Draft202012Validator:
    registry: Registry[object] = Registry().with_resources(
        (where, Resource.from_contents(contents)) for where, contents in all_schemas())
    return Draft202012Validator({"$ref": uri("Manifest.schema.json")}, registry=registry)


def test_the_any_kind_schema_knows_every_kind_and_checks_each_document() -> None:
    validator = _any_kind()
    kinds = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))["properties"]["kind"]["enum"]
    assert sorted(kinds) == sorted(MANIFEST_KINDS)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert list(validator.iter_errors(doc)) == [], path
    errors = sorted(e.message for e in validator.iter_errors(yaml.safe_load(BROKEN)))
    assert any("'voice_setings' was unexpected" in e for e in errors), errors
