"""Where the suite's inputs are: the repository, its examples, and the team's shared reference data
beside the checkout (`../shared`), which tests read in place and never copy."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"
SHARED = REPO.parent / "shared"
OPENAPI_SNAPSHOT = SHARED / "reference" / "openapi" / "telnyx-ai-2026-04-29.json"


def shared_file(path: Path) -> Path:
    """`path` (under ../shared) if it exists; otherwise the calling test is skipped, saying why."""
    if not path.is_file():
        pytest.skip(f"needs {path} (the team's shared reference data, beside the checkout); it is absent")
    return path
