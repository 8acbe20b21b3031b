"""Where the package's data files are: the JSON Schemas ship inside the package (`reconciler/schemas/`,
this module's own folder), so a wheel install finds them as an editable one does. Found from
`__file__` rather than through `importlib.resources` (~7 ms of imports for every command): the
schemas are read as plain files either way (a `Path`), which needs an unzipped install.

The schemas carry no `$id`: each is known by where it lies, and its `$ref`s are relative to that
place. So the same files resolve when an editor or check-jsonschema opens them from a checkout, from
an installed package or from any web address that serves the folder as it is; reconciler itself
registers them under their own `file:` URIs (`uri()`), which is the same thing."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(os.path.abspath(os.path.dirname(__file__)))
API_SCHEMA = SCHEMAS / "api" / "telnyx-ai.schema.json"
# The schema that accepts a document of any kind (for files that hold several documents).
MANIFEST_SCHEMA = SCHEMAS / "Manifest.schema.json"


def uri(name: str) -> str:
    """The URI a schema file is known by: `uri("Assistant.schema.json")`, `uri("api/telnyx-ai.schema.json")`."""
    return (SCHEMAS / name).as_uri()


@cache
def _paths() -> dict[str, Path]:
    paths = sorted([*SCHEMAS.glob("*.schema.json"), *SCHEMAS.glob("api/*.schema.json")])
    return {path.as_uri(): path for path in paths}


@cache
def contents(where: str) -> Any:
    """The parsed schema file known by the URI `where` (KeyError for any other URI), read once."""
    return json.loads(_paths()[where].read_text(encoding="utf-8"))


def all_schemas() -> list[tuple[str, Any]]:
    """Every schema file as `(uri, contents)`, for a `referencing` registry."""
    return [(where, contents(where)) for where in _paths()]
