"""Reads started while the manifests are still loading, so that the network wait overlaps loading and
validating them instead of following it (issue 16: at 1,000 assistants loading took longer than the
whole budget between a plan and its network bound).

Only reads, and only of what the plan will most likely need: the assistant, tool and MCP server
listings, then the versions and canary of each listed assistant whose manifest (by a quick look at
the text, `sniff`) declares versions or a canary. Nothing here writes, and nothing here decides
anything: `live.fetch_live` takes a read from here when it has one for the assistant it wants and
sends the read itself otherwise; what it does not take is cancelled or dropped. When the manifests
turn out to be invalid, every early read is cancelled and only the manifest errors are reported.

The look at the text is not a parser and need not be right: a name it misses is read later, a name
it wrongly finds costs two GETs that are thrown away. It reads only regular files (no symlink, FIFO
or device) under the paths given, none larger than the loader accepts, and nothing it finds leaves
the process: names are matched against the listing here, and requests name assistants by id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler.api import reads
from reconciler.api.client import ApiClient, gather_all
from reconciler.manifest.limits import MAX_MANIFEST_BYTES

SUFFIXES = (".yaml", ".yml")
MAX_SNIFF_BYTES = 64 * 1024 * 1024  # all files together; beyond it, no early per-assistant reads
_DOCUMENTS = re.compile(r"^---", re.MULTILINE)
_KIND = re.compile(r"^kind:[ \t]*[\"']?(\w+)[\"']?[ \t]*(?:#.*)?$", re.MULTILINE)
# The first `name:` of the block under a top-level `metadata:`, block style as manifests are written.
# Each line of the block can match one way only (`[ \t][^\n]*\n` or an empty line): with two ways per
# leading blank, a block without `name:` took time exponential in its lines before the loader could
# say what is wrong with it.
_NAME = re.compile(r"^metadata:[ \t]*\n(?:[ \t][^\n]*\n|\n)*?[ \t]+name:[ \t]*[\"']?([^\"'#\n]*?)[\"']?[ \t]*"
                   r"(?:#.*)?$", re.MULTILINE)
_VERSIONED = re.compile(r"^[ \t]+(?:versions|canary):", re.MULTILINE)
_ENVIRONMENTS = re.compile(r"^[ \t]+environments:", re.MULTILINE)

Listings = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
VersionsAndCanary = tuple[list[dict[str, Any]], dict[str, Any] | None]


def sniff(paths: Sequence[str]) -> frozenset[str] | None:
    """Names of the assistants the manifests under `paths` seem to give versions or a canary; None
    when no early read should be made: a Project that declares environments (its environment would
    choose the key and the base URL), or more text than is worth a look."""
    names: set[str] = set()
    total = 0
    for file in _files(paths):
        try:
            size = file.stat().st_size
            if size > MAX_MANIFEST_BYTES:
                continue  # the loader refuses it anyway
            total += size
            if total > MAX_SNIFF_BYTES:
                return None
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the loader says what is wrong with it
        for doc in _DOCUMENTS.split(text):
            kind = _KIND.search(doc)
            if kind is None:
                continue
            if kind.group(1) == "Project" and _ENVIRONMENTS.search(doc):
                return None
            if kind.group(1) != "Assistant" or not _VERSIONED.search(doc):
                continue
            name = _NAME.search(doc)
            if name is not None and name.group(1):
                names.add(name.group(1))
    return frozenset(names)


def _files(paths: Sequence[str]) -> list[Path]:
    """The regular files the loader would read (folders recursively, hidden entries skipped)."""
    out: list[Path] = []
    for label in paths:
        path = Path(label)
        if path.is_dir() and not path.is_symlink():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            found = [path]
        out += [p for p in found if not p.is_symlink() and p.is_file()]
    return out


class EarlyReads:
    """The early reads of one plan: the listings at once, then each sniffed assistant's versions and
    canary as soon as the listing names its id. `start()` on the event loop that will use them."""

    def __init__(self, client: ApiClient, names: frozenset[str]) -> None:
        self.client = client
        self.names = names
        self._listings: asyncio.Task[Listings] | None = None
        self._reads: dict[str, asyncio.Task[VersionsAndCanary]] = {}

    def start(self) -> None:
        """Send the listings now."""
        self._listings = asyncio.create_task(self._list(), name="early-listings")

    async def _list(self) -> Listings:
        assistants, tools, mcp_servers = await gather_all(
            reads.list_assistants(self.client), reads.list_tools(self.client), reads.list_mcp_servers(self.client))
        for obj in assistants:
            if obj.get("name") in self.names and obj.get("id"):
                aid = str(obj["id"])
                self._reads[aid] = asyncio.create_task(self._read(aid), name=f"early-read-{aid}")
        return assistants, tools, mcp_servers

    async def _read(self, assistant_id: str) -> VersionsAndCanary:
        versions, canary = await gather_all(reads.list_versions(self.client, assistant_id),
                                            reads.get_canary(self.client, assistant_id))
        return versions, canary

    async def listings(self) -> Listings:
        """The three listings (raises what reading them raised)."""
        assert self._listings is not None, "start() first"
        return await self._listings

    def take(self, assistant_id: str) -> asyncio.Task[VersionsAndCanary] | None:
        """The early read of this assistant's versions and canary, if one was started (once)."""
        return self._reads.pop(assistant_id, None)

    async def drop(self) -> None:
        """Cancel whatever was not taken, and wait for it, so that nothing outlives the command and no
        failure of a read nobody needed goes unretrieved."""
        pending: list[asyncio.Task[Any]] = list(self._reads.values())
        self._reads.clear()
        if self._listings is not None and not self._listings.done():
            pending.append(self._listings)
        for task in pending:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*pending, return_exceptions=True)
        if self._listings is not None and self._listings.done() and not self._listings.cancelled():
            self._listings.exception()  # retrieved: a failure here was reported, or is irrelevant


def allowed(env: str | None) -> bool:
    """Early reads need the connection to be known before the manifests are: no `--env` (whose
    environment may name another key and base URL) and TELNYX_API_KEY set (else the key's error is
    reported after the manifests', as before)."""
    return env is None and bool(os.environ.get("TELNYX_API_KEY"))
