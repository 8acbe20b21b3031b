"""Where the package's data files are: the JSON Schemas ship inside the package (`reconciler/schemas/`)
and are found through `importlib.resources`, so a wheel install finds them as an editable one does.

The schemas carry no `$id`: each is known by where it lies, and its `$ref`s are relative to that
place. So the same files resolve when an editor or check-jsonschema opens them from a checkout, from
an installed package or from any web address that serves the folder as it is; reconciler itself
registers them under their own `file:` URIs (`uri()`), which is the same thing."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

SCHEMAS = Path(str(files("reconciler") / "schemas"))
API_SCHEMA = SCHEMAS / "api" / "telnyx-ai.schema.json"
# The schema that accepts a document of any kind (for files that hold several documents).
MANIFEST_SCHEMA = SCHEMAS / "Manifest.schema.json"


def uri(name: str) -> str:
    """The URI a schema file is known by: `uri("Assistant.schema.json")`, `uri("api/telnyx-ai.schema.json")`."""
    return (SCHEMAS / name).as_uri()


def all_schemas() -> list[tuple[str, Any]]:
    """Every schema file as `(uri, contents)`, for a `referencing` registry."""
    paths = sorted([*SCHEMAS.glob("*.schema.json"), *SCHEMAS.glob("api/*.schema.json")])
    return [(path.as_uri(), json.loads(path.read_text(encoding="utf-8"))) for path in paths]
