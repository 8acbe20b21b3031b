"""What a plan is of: the project, the environment and the commit of the manifests, and whether the
files it read differ from that commit (edited, added or deleted, not yet committed). The header of
every plan view says so: a plan of uncommitted edits must not pass for the plan of the commit it names.

The git processes are started before the reads and answered after them (`origin_soon`), so they add
nothing to the plan's time. No thread: the CLI ends with os._exit, which must not meet a thread inside
fork. Any failure (no git, not a repository) is "unknown", never an error.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from reconciler.model import DesiredState
from reconciler.render.document import Origin

_TIMEOUT_S = 10


def _start(folder: Path, *args: str) -> subprocess.Popen[str] | None:
    """`git ARGS` started in `folder`, or None when git cannot be started."""
    try:
        return subprocess.Popen(["git", *args], cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    except (OSError, subprocess.SubprocessError):
        return None


def _answer(proc: subprocess.Popen[str] | None) -> str | None:
    """What a started git printed, or None when it failed (or took over _TIMEOUT_S)."""
    if proc is None:
        return None
    try:
        out, _ = proc.communicate(timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    return out if proc.returncode == 0 else None


def _folder(paths: Sequence[str]) -> Path:
    first = Path(paths[0]) if paths else Path(".")
    return first if first.is_dir() else first.parent


def origin_soon(desired: DesiredState, paths: Sequence[str], root: str | None = None) -> Callable[[], Origin]:
    """Start the git calls; return what gives the Origin once they are needed (after the reads).

    The commit: GITHUB_SHA in GitHub Actions, else `git rev-parse HEAD` in the folder of the first
    path. Uncommitted: whether `git status` shows a change under the PATHs or the project root (where
    every file a manifest references lies): an edit, a new file not yet added, a deletion; files git
    ignores are not seen. Both None when git cannot say (no git, not a repository); without a known
    commit "uncommitted" says nothing either (there is nothing it differs from)."""
    folder = _folder(paths)
    sha = os.environ.get("GITHUB_SHA", "").strip()
    head = None if sha else _start(folder, "rev-parse", "HEAD")
    where = [str(Path(p).absolute()) for p in (*paths, *([root] if root else []))]
    status = _start(folder, "status", "--porcelain", "--untracked-files=all", "--", *where)
    project, environment = desired.project.name, desired.project.environment

    def result() -> Origin:
        commit = sha or (_answer(head) or "").strip() or None
        out = _answer(status)
        changed = None if out is None or commit is None else bool(out.strip())
        return Origin(project, environment, commit, changed)

    return result
