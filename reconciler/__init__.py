"""reconciler: Telnyx AI Assistants managed as code."""

import sys

__version__ = "0.1.0"

# httpx's package imports its own command line (`httpx.main`: click, and pygments and rich when
# installed; uvicorn brings click) on every import, only to offer a CLI reconciler never runs: ~35 ms
# of CPU of every command's start (bench/notes.md). None in sys.modules makes that import fail as if
# they were not installed, which httpx expects. Nothing is blocked once httpx is already imported.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
