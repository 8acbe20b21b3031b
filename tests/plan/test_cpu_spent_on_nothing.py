"""CPU `plan` spends on nothing: imports it never uses (httpx's own command line: click, pygments,
rich; what deepdiff would use for objects this project never hands it: numpy arrays, pydantic models),
each kept out only while httpx or deepdiff is imported, so importable again afterwards; and a repr of
the whole plan when the event loop closes."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from reconciler import waits
from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.paths import EXAMPLES, REPO

KEPT_OUT = ("click", "pygments", "rich", "numpy", "pydantic")

CODE = f"""
import importlib.util, sys
import reconciler.commands.plan
from reconciler.planning import diff
diff.preload()
import httpx
print(" ".join(n for n in {KEPT_OUT!r} if n in sys.modules))
assert callable(httpx.main) and callable(diff.field_changes)
print(" ".join(n for n in ("pydantic", "click") if importlib.util.find_spec(n) and __import__(n)))
"""


def test_plan_imports_neither_httpx_cli_nor_deepdiff_extras() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    imported, importable_after = done.stdout.split("\n")[:2]
    assert imported == ""
    # What is installed (the SDK brings pydantic, uvicorn click) can still be imported: nothing was
    # left blocked.
    installed = [n for n in ("pydantic", "click") if importlib.util.find_spec(n)]
    assert importable_after.split() == installed


def test_the_command_result_is_not_formatted_when_the_event_loop_closes() -> None:
    # asyncio.run formats the repr of its main task (so of that task's result) when it restores the
    # Ctrl-C handler: for a plan of 1,000 assistants ~0.1 s of CPU each time. waits.run keeps the
    # result out of it.
    formatted: list[int] = []

    class Big:
        def __repr__(self) -> str:
            formatted.append(1)
            return "Big()"

    async def work() -> Big:
        return Big()

    result = waits.run(work, deadline=None)
    assert isinstance(result, Big)
    assert formatted == []


PLAN_THEN_MODULES = """
import sys
from reconciler.cli import main
code = main(["plan", "--detailed-exitcode", *sys.argv[1:]])
print(code, "deepdiff" in sys.modules)
"""


def test_deepdiff_is_imported_only_by_a_change_that_needs_it(emulator: Emulator, tmp_path: Path) -> None:
    # A plan with no changes, or only changed scalars, never asks deepdiff; a changed list does.
    assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 0

    def plan(folder: Path) -> str:
        done = subprocess.run([sys.executable, "-c", PLAN_THEN_MODULES, str(folder)], capture_output=True,
                              text=True, timeout=120, cwd=REPO)
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]

    assert plan(EXAMPLES) == "0 False"
    support = "support-assistant.yaml"
    text = (EXAMPLES / support).read_text()
    for name, old, new, expected in (("scalar", "greeting: Hi,", "greeting: Hello,", "2 False"),
                                     ("nested", "voice_speed: 1.0", "voice_speed: 1.2", "2 True")):
        assert old in text, "the example this test edits has changed"
        changed = tmp_path / name
        shutil.copytree(EXAMPLES, changed)
        (changed / support).write_text(text.replace(old, new, 1))
        assert plan(changed) == expected, name
