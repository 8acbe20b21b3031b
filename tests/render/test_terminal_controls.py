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


def test_a_live_name_cannot_forge_or_recolour_plan_lines() -> None:
    # A name holding a line break, a colour and markup: in the text plan (coloured, as on a terminal)
    # and the markdown comment it stays on its own line, inert.
    from reconciler.planning.plan import Orphan, Plan, ResourceChange
    from reconciler.render.document import plan_document
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    name = "x\n  + assistant.fake will be created\x1b[32m</code>`"
    doc = plan_document(Plan(
        resource_changes=[ResourceChange(f"assistant.{name}", "Assistant", name, ["delete"], id="a-1")],
        orphans=[Orphan(f"assistant.{name}#a-2", "Assistant", name, "a-2", "kept")], warnings=[f"about {name}"]))
    text = render_text(doc, color=True)
    assert "\n  + assistant.fake" not in text and "\x1b[32m" not in text  # a delete: no green of its own
    assert "x\\n  + assistant.fake will be created\\x1b[32m" in text
    md = render_markdown(doc)
    assert "\n  + assistant.fake" not in md and "\x1b" not in md
    assert "<code>assistant.x\\n  + assistant.fake will be created\\x1b[32m&lt;/code&gt;`</code>" in md


def test_the_comment_marker_is_not_ended_by_a_name() -> None:
    from reconciler.planning.plan import Plan
    from reconciler.render.document import Origin, plan_document
    from reconciler.render.markdown import render_markdown

    md = render_markdown(plan_document(Plan(), Origin(project="x --> <b>y</b>", environment=None, commit=None)))
    marker = md.rstrip("\n").rsplit("\n", 1)[1]
    assert marker == "<!-- reconciler-plan project=x --&gt; <b&gt;y</b&gt; environment=- -->"
    assert marker.count("-->") == 1
