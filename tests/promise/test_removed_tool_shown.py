"""A tool removed from an assistant's inline `tools` is shown for what it is, with only its secret
leaves masked (README: "A removed tool or header still shows its url and header names, with each such
value (sensitive)"): a reviewer reads which tool goes (its name, its url) in the text, markdown and
JSON plans and in the saved plan, and the credential its header held is in none of them. The last
item removed is a `- tools[1]`; a middle one shifts the next into its place (`~ tools[1]`), and the
replaced tool shows just as much. reconciler runs in its own process against the real emulator over
loopback; the variable stays set, as it does when only the manifest was edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import API_KEY, Emulator
from tests.support.manifests import write
from tests.support.paths import REPO

SECRET = "tok-SECRET-2222"  # the header's secret, still in the environment as TOK
QUERY_SECRET = "qs-SECRET-3333"  # a credential in a query string, written in the manifest itself

HANGUP = """\
    - type: hangup
      hangup: {description: Hang up once the caller says goodbye.}
"""
TRANSFER = """\
    - type: transfer
      transfer:
        from: "+13125550100"
        description: Transfer to the desk.
        targets: [{name: Desk, to: "+13125550199"}]
"""


def _webhook(url: str) -> str:
    return f"""\
    - type: webhook
      timeout_ms: 3000
      webhook:
        name: w
        description: Open a ticket.
        url: "{url}"
        method: POST
        headers: [{{name: Authorization, value: "Bearer ${{env:TOK}}"}}]
"""


def _bot(*tools: str) -> str:
    return "apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: bot}\nspec:\n" \
           "  instructions: Be helpful.\n  tools:\n" + "".join(tools)


def _run(cwd: Path, emulator: Emulator, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url,
           "TOK": SECRET, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "reconciler", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def _removed_webhook(doc: dict[str, Any]) -> Any:
    """The old value of the webhook tool, from the one change whose old value is that tool."""
    found = [c for rc in doc["resource_changes"] for c in rc["changes"]
             if isinstance(c["before"], dict) and c["before"].get("type") == "webhook"]
    assert len(found) == 1 and found[0]["path"] == "tools[1]", doc
    return found[0]["before"]


@pytest.mark.parametrize("where", ["last", "middle"])
@pytest.mark.parametrize("url", ["https://api.example/x", f"https://api.example/x?api_key={QUERY_SECRET}"])
def test_a_removed_webhook_shows_its_name_and_url_and_masks_its_header(
        emulator: Emulator, tmp_path: Path, where: str, url: str) -> None:
    folder = tmp_path / "m"
    tools = [HANGUP, _webhook(url)] if where == "last" else [HANGUP, _webhook(url), TRANSFER]
    write(folder, "bot.yaml", _bot(*tools))
    first = _run(tmp_path, emulator, "apply", "--auto-approve", "m")
    assert first.returncode == 0, first.stdout + first.stderr
    write(folder, "bot.yaml", _bot(*(t for t in tools if "webhook" not in t)))

    runs = {fmt: _run(tmp_path, emulator, "plan", "--format", fmt, "m") for fmt in ("text", "markdown", "json")}
    runs["saved"] = _run(tmp_path, emulator, "plan", "--out", "saved.plan", "m")
    saved = (tmp_path / "saved.plan").read_text()
    credential_in_url = QUERY_SECRET in url
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stdout + done.stderr)
        shown = done.stdout + done.stderr
        assert SECRET not in shown and QUERY_SECRET not in shown, (name, shown)
    assert SECRET not in saved and QUERY_SECRET not in saved

    for name in ("text", "markdown", "json"):
        out = runs[name].stdout
        assert "Authorization" in out, (name, out)  # which header it sent, not what
        assert "(sensitive)" in out, (name, out)
        assert "Open a ticket." in out, (name, out)
        assert ("https://api.example/x" in out) is not credential_in_url, (name, out)

    doc = json.loads(runs["json"].stdout)
    before = _removed_webhook(doc)
    webhook = before["webhook"]
    assert webhook["name"] == "w" and before["timeout_ms"] == 3000
    assert webhook["url"] == ("(sensitive)" if credential_in_url else url)
    assert webhook["headers"] == [{"name": "Authorization", "value": "(sensitive)"}]
    paths = {c["path"]: c for rc in doc["resource_changes"] for c in rc["changes"]}
    if where == "last":
        assert paths["tools[1]"]["after"] is None
    else:  # the transfer moves into the webhook's place, and its old place goes
        assert paths["tools[1]"]["after"]["type"] == "transfer"
        assert paths["tools[2]"]["before"]["type"] == "transfer" and paths["tools[2]"]["after"] is None
    assert json.loads(saved)["plan"]["resource_changes"] == doc["resource_changes"]

    # What the plan shows is what apply does: the tool goes.
    done = _run(tmp_path, emulator, "apply", "--auto-approve", "saved.plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert _run(tmp_path, emulator, "plan", "--detailed-exitcode", "m").returncode == 0
