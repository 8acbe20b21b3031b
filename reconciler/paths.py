"""Where the project's data files are. The schemas live at the repository root (`schemas/`), which
an editable install keeps next to the package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
API_SCHEMA = SCHEMAS / "api" / "telnyx-ai.schema.json"
