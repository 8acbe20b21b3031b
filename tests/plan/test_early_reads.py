"""Early reads (reconciler/early.py): the listings and the versions and canaries the manifests seem to
declare are read while the manifests load. The plan must be the same as without them, no read may be
sent twice, a wrong guess costs only reads, and bad manifests still write nothing and report only
their own errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import early
from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.paths import REPO

Capsys = pytest.CaptureFixture[str]


def assistant(name: str, *, versions: bool, greeting: str = "Hello") -> str:
    text = (f"apiVersion: reconciler/v1\nkind: Assistant\nmetadata:\n  name: {name}\nspec:\n"
            f"  model: openai/gpt-4o\n  instructions: Answer briefly.\n  greeting: {greeting}\n")
    if versions:
        text += ("  versions:\n    - name: short\n      spec:\n        greeting: Hi!\n"
                 "  canary:\n    - version: short\n      percentage: 10\n")
    return text


def project(folder: Path, greeting: str = "Hello") -> Path:
    write(folder, "a.yaml", assistant("bot-a", versions=True, greeting=greeting))
    write(folder, "b.yaml", assistant("bot-b", versions=True, greeting=greeting))
    # "versions:" inside a text block fools the quick look: two reads thrown away, nothing else.
    write(folder, "c.yaml", assistant("bot-c", versions=False, greeting=greeting)
          + "  description: |\n    versions: none here\n")
    return folder


def gets_and_writes(emulator: Emulator) -> tuple[dict[str, int], int]:
    routes: dict[str, int] = emulator.stats()["by_route"]
    writes = sum(n for route, n in routes.items() if not route.startswith("GET "))
    return routes, writes


def test_the_quick_look_finds_the_versioned_assistants(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path, ".hidden/d.yaml", assistant("bot-hidden", versions=True))
    write(tmp_path, "many.yml", "---\n" + assistant("bot-e", versions=True) + "---\n"
          + assistant("bot-f", versions=False))
    outside = write(tmp_path.parent / f"{tmp_path.name}-outside", "x.yaml", assistant("bot-link", versions=True))
    os.symlink(outside, tmp_path / "link.yaml")
    assert early.sniff([str(tmp_path)]) == frozenset({"bot-a", "bot-b", "bot-c", "bot-e"})
    assert early.sniff([str(tmp_path / "a.yaml")]) == frozenset({"bot-a"})


def test_the_quick_look_takes_linear_time_on_a_metadata_block_without_a_name(tmp_path: Path) -> None:
    # The loader reports the missing name; the quick look before it must not hang on the block (it
    # once took time exponential in its lines). A subprocess, so a hang is a failure, not a stuck suite.
    lines = "".join(f"    - spec.field_{i}\n" for i in range(60))
    write(tmp_path, "bot.yaml", f"kind: Assistant\nmetadata:\n  ignore_changes:\n{lines}spec:\n  versions: []\n")
    code = f"from reconciler import early; print(sorted(early.sniff([{str(tmp_path)!r}]) or []))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_no_early_read_when_an_environment_could_choose_the_connection(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path, "project.yaml", """\
        apiVersion: reconciler/v1
        kind: Project
        metadata:
          name: shop
        spec:
          environments:
            staging: {}
        """)
    assert early.sniff([str(tmp_path)]) is None


def test_plans_the_same_with_each_read_sent_once(emulator: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    folder = project(tmp_path / "m")
    assert main(["apply", "--auto-approve", str(folder)]) == 0
    project(folder, greeting="Changed")
    capsys.readouterr()
    emulator.control("reset", {"stats_only": True})
    assert main(["plan", "--format", "json", "--detailed-exitcode", str(folder)]) == 2
    doc = json.loads(capsys.readouterr().out)
    changed = {rc["address"] for rc in doc["resource_changes"] if rc["actions"] == ["update"]}
    assert changed == {"assistant.bot-a", "assistant.bot-b", "assistant.bot-c"}
    routes, writes = gets_and_writes(emulator)
    assert writes == 0
    assert routes["GET /v2/ai/assistants"] == 1
    # bot-a and bot-b need their versions and canary, read once each; bot-c's were started early on
    # a wrong guess (dropped once the plan is made, so perhaps before they were sent).
    assert routes["GET /v2/ai/assistants/{assistant_id}/versions"] in (2, 3)
    assert routes["GET /v2/ai/assistants/{assistant_id}/canary-deploys"] in (2, 3)


def test_bad_manifests_write_nothing_and_report_only_their_errors(
        emulator: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = project(tmp_path / "m")
    assert main(["apply", "--auto-approve", str(folder)]) == 0
    write(folder, "bad.yaml", "apiVersion: reconciler/v1\nkind: Assistant\nmetadata:\n  name: bad\nspec:\n"
          "  model: openai/gpt-4o\n  greeting: [\n")
    capsys.readouterr()
    emulator.control("reset", {"stats_only": True})
    for argv in (["plan", str(folder)], ["apply", "--auto-approve", str(folder)]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert "bad.yaml:8:1: YAML syntax error" in err and "Traceback" not in err
        assert out == ""
    assert gets_and_writes(emulator)[1] == 0
    # A key the API refuses: the manifests' errors are still the only ones shown.
    monkeypatch.setenv("TELNYX_API_KEY", "not-the-key")
    assert main(["plan", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "YAML syntax error" in err and "401" not in err and "error:" not in err.replace("syntax error", "")
