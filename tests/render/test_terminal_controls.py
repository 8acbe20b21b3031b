"""Text from elsewhere cannot drive the reviewer's terminal: a live name holding terminal controls
(concealed text, a carriage return) is shown escaped in the plan, in a real process, while the
plan's own colours stay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from reconciler.scrub import visible
from tests.support.emulator import API_KEY, Emulator
from tests.support.paths import REPO


def test_visible_escapes_controls_and_keeps_the_plans_colours() -> None:
    assert visible("a\x1b[31mred\x1b[0m\tb\n") == "a\x1b[31mred\x1b[0m\tb\n"
    assert visible("x\x1b[8mhidden\rover\x07\x7f\x9b") == "x\\x1b[8mhidden\\x0dover\\x07\\x7f\\x9b"
    assert visible("déjà vu\x85 ☎") == "déjà vu\\x85 ☎"  # a C1 control beside other non-ASCII text
    assert visible("déjà vu ☎\n") == "déjà vu ☎\n"


def test_a_live_name_with_terminal_controls_is_shown_escaped(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: bot}\n"
                                     "spec: {instructions: Be helpful.}\n")
    evil = "ghost\x1b[8m will be destroyed\r  # nothing to see"
    with emulator.api() as api:  # an owned assistant no manifest declares: listed as an orphan by name
        api.post("/ai/assistants", json={"name": evil, "instructions": "x", "tags": ["managed-by:reconciler"]})
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": API_KEY, "TELNYX_BASE_URL": emulator.base_url}
    done = subprocess.run([sys.executable, "-m", "reconciler", "plan", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ghost\\x1b[8m will be destroyed\\x0d  # nothing to see" in done.stdout
    assert "\x1b[8m" not in done.stdout and "\r" not in done.stdout
