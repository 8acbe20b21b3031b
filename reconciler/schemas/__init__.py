"""Where the package's data files are: the JSON Schemas ship inside the package (`reconciler/schemas/`)
and are found through `importlib.resources`, so a wheel install finds them as an editable one does."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SCHEMAS = Path(str(files("reconciler") / "schemas"))
API_SCHEMA = SCHEMAS / "api" / "telnyx-ai.schema.json"
