"""The bounds on what reading manifests may cost: one table, so that docs and tests name the same figures.

A manifest is untrusted input (CI plans every pull request), so every way a file can make the tool
use unbounded time or memory has a limit here, and going over it is an error at FILE:LINE:COL.
Each figure is far above what a real project needs (the largest realistic document, an assistant
with inline tools and JSON-schema parameters, has a few thousand nodes and a depth under 15).
"""

from __future__ import annotations

import sys

# A manifest file: read at most this many bytes (a 1,000-assistant project in one file is ~2 MiB).
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
# A file a manifest references (`instructions_file`). The API documents no length limit for an
# assistant's instructions (CreateAssistantRequest.instructions is a bare string in the 2026-04-29
# snapshot and the SDK); 1 MiB is far beyond any system prompt a model accepts. docs/api-assumptions.md.
MAX_REFERENCED_FILE_BYTES = 1024 * 1024
# All referenced files of one run together (each distinct file counted once).
MAX_REFERENCED_TOTAL_BYTES = 64 * 1024 * 1024
# Nodes PyYAML may compose for one document (each costs ~300 bytes while composing).
MAX_COMPOSED_NODES = 200_000
# Texts up to this size are composed by libyaml's C composer, which cannot count as it goes: every
# node takes at least 2 characters, so at most ~130,000 nodes (~40 MB) before the count is checked.
MAX_FAST_COMPOSE_CHARS = 256 * 1024
# Values built for one document, counting every expansion of an alias: the billion-laughs bound.
MAX_BUILT_NODES = 200_000
# Values built for all documents of one run together (a document's aliases cannot reach another's,
# so this bounds a project of many documents each just under MAX_BUILT_NODES).
MAX_BUILT_NODES_TOTAL = 5_000_000
# Nesting of mappings and lists, aliases included (recursion in the builder and the schema checks).
MAX_DEPTH = 48
# Digits of an integer: numbers must fit a JSON number as the API reads it (an IEEE double).
MAX_INT_DIGITS = 309
MAX_FLOAT = sys.float_info.max


def size_text(n: int) -> str:
    """`1048576` -> `1 MiB`, for messages and docs."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
