"""A header value that came from `${env:}` and stops doing so (changed to a literal, its header or its
tool removed, its assistant pruned) is not shown as it is live, the old secret, in any output: plan
text, JSON and markdown, the saved plan file, and apply's text and JSON output; and the plan still
shows that it changes. reconciler runs as a user runs it, in its own process, against the real
emulator over loopback; the variable stays set, as it does when only the manifest was edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.emulator import API_KEY, Emulator
from tests.support.manifests import write
from tests.support.paths import REPO

OLD = "tok-SECRET-1111"  # the secret the header held, still in the environment as TOK

BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be helpful.
  tools:
    - type: webhook
      webhook:
        name: h
        description: d
        url: "https://api.example.com/x"
        headers: [{name: X-Custom, value: "${env:TOK}"}, {name: Content-Type, value: application/json}]
"""
TOOL = """
apiVersion: reconciler/v1
kind: Tool
metadata: {name: hook}
spec:
  type: webhook
  webhook:
    name: hook
    description: d
    url: "https://api.example.com/y"
    headers: [{name: X-Request-Source, value: "${env:TOK}"}]
"""
KEEP = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: keep}
spec: {instructions: Stay.}
"""


def _literal(folder: Path) -> str:
    _edit(folder / "bot.yaml", '"${env:TOK}"', "plain-now")
    return "tools[0].webhook.headers[0].value"


def _header_removed(folder: Path) -> str:
    _edit(folder / "bot.yaml", '{name: X-Custom, value: "${env:TOK}"}, ', "")
    return "tools[0].webhook.headers[0].value"  # lists compare by position: entry 0 is Content-Type now


def _tool_removed(folder: Path) -> str:
    text = (folder / "bot.yaml").read_text()
    (folder / "bot.yaml").write_text(text[: text.index("  tools:")])
    return "tools"


def _pruned(folder: Path) -> str:
    (folder / "bot.yaml").unlink()
    return "tools"


def _tool_literal(folder: Path) -> str:
    _edit(folder / "hook.yaml", '"${env:TOK}"', "plain-now")
    return "webhook.headers[0].value"


def _tool_header_removed(folder: Path) -> str:
    _edit(folder / "hook.yaml", '[{name: X-Request-Source, value: "${env:TOK}"}]', "[]")
    return "webhook.headers"  # no header is the default: the list goes


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _run(cwd: Path, emulator: Emulator, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url,
           "TOK": OLD, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "reconciler", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("apply_format", ["text", "json"])
@pytest.mark.parametrize("edit", [_literal, _header_removed, _tool_removed, _pruned, _tool_literal,
                                  _tool_header_removed])
def test_a_former_secret_header_value_is_shown_nowhere(
    emulator: Emulator, tmp_path: Path, edit: Callable[[Path], str], apply_format: str,
) -> None:
    folder = tmp_path / "m"
    write(folder, "bot.yaml", BOT)
    write(folder, "hook.yaml", TOOL)
    write(folder, "keep.yaml", KEEP)
    first = _run(tmp_path, emulator, "apply", "--auto-approve", "m")
    assert first.returncode == 0, first.stdout + first.stderr
    path = edit(folder)
    prune = ["--prune"] if edit is _pruned else []
    runs = {fmt: _run(tmp_path, emulator, "plan", *prune, "--format", fmt, "m") for fmt in ("text", "json", "markdown")}
    runs["saved"] = _run(tmp_path, emulator, "plan", *prune, "--out", "saved.plan", "m")
    runs["apply"] = _run(tmp_path, emulator, "apply", "--auto-approve", "--format", apply_format, "saved.plan")
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stdout + done.stderr)
        assert OLD not in done.stdout + done.stderr, (name, done.stdout)
        assert "(sensitive)" in done.stdout, (name, done.stdout)  # masked, not left out
    saved = (tmp_path / "saved.plan").read_text()
    assert OLD not in saved
    # The whole truth: the field that held the secret is among the changes, its old value masked.
    doc = json.loads(runs["json"].stdout)
    changes = [c for rc in doc["resource_changes"] for c in rc["changes"] if c["path"] == path]
    assert len(changes) == 1 and "(sensitive)" in json.dumps(changes[0]["before"]), doc
    assert json.loads(saved)["plan"]["resource_changes"] == doc["resource_changes"]
    # What is not a secret stays readable: the standard header beside it, and the rest of the tool.
    if edit in (_header_removed, _tool_removed, _pruned):
        assert "application/json" in runs["text"].stdout
    if edit in (_tool_removed, _pruned):
        assert "https://api.example.com/x" in runs["text"].stdout and "X-Custom" in runs["text"].stdout
    assert _run(tmp_path, emulator, "plan", *prune, "--detailed-exitcode", "m").returncode == 0  # it was applied
