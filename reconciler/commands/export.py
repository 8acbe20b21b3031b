"""`reconciler export [--out DIR] [--kind KIND ...] [--env NAME --manifests PATH]`: write manifests
for the live resources (with `--env`, of that environment's account, its owner tag left out).

Reads the account concurrently (bounded by --parallelism), turns it into files with the pure
`reconciler.exporter`, and writes each file atomically. Files a previous export wrote that no longer
correspond to a live resource are removed; nothing else in the folder is touched (the list of files
export owns is kept in DIR/.reconciler-export).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from reconciler import waits
from reconciler.api import reads
from reconciler.api.client import ApiClient, gather_all
from reconciler.errors import ConfigError
from reconciler.export import exporter
from reconciler.kinds import DEFAULT_OWNER_TAG, RESOURCE_KINDS
from reconciler.manifest import read_manifests
from reconciler.manifest.limits import MAX_MANIFEST_BYTES
from reconciler.manifest.yamlfast import documents
from reconciler.model import DesiredState, LiveState, ProjectSpec
from reconciler.pipeline import api_key, base_url
from reconciler.planning import accounts

INDEX = ".reconciler-export"


async def fetch_account(client: ApiClient, kinds: Collection[str]) -> LiveState:
    """Everything `exporter.export` needs for `kinds`: assistants with every version and canary, and
    the tools and MCP servers they refer to by name."""

    async def nothing() -> list[dict[str, Any]]:
        return []

    want_assistants = "Assistant" in kinds
    want_tests = "AssistantTest" in kinds  # tests name their assistant: the listing gives the names
    assistants, tools, servers, tests = await gather_all(
        reads.list_assistants(client) if want_assistants or want_tests else nothing(),
        reads.list_tools(client) if want_assistants or "Tool" in kinds else nothing(),
        reads.list_mcp_servers(client) if want_assistants or "McpServer" in kinds else nothing(),
        reads.list_tests(client) if want_tests else nothing(),
    )
    live = LiveState(assistants=assistants, tools=tools, mcp_servers=servers, tests=tests)

    async def versions_of(assistant: dict[str, Any]) -> None:
        aid = str(assistant["id"])
        versions = await reads.list_versions(client, aid)
        live.versions[aid] = versions
        # A canary can only point at a non-main version: without one there is nothing to read.
        if any(v.get("version_id") != assistant.get("version_id") for v in versions):
            live.canaries[aid] = await reads.get_canary(client, aid)

    await gather_all(*(versions_of(a) for a in assistants if want_assistants))
    return live


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic(path: Path, text: str) -> bool:
    """Write `text` to `path` through a temporary file and a rename; False when it already held it."""
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; manifests are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _kind_of(relative: str) -> str | None:
    folder = relative.split("/", 1)[0]
    if folder == exporter.PROMPTS:
        return "Assistant"
    return next((k for k, f in exporter.FOLDERS.items() if f == folder), None)


def check_out(out: Path) -> None:
    """Refuse an `--out` that cannot become a folder: checked before the account is read, since
    otherwise a file there fails the export only after every request and every warning."""
    for path in (out, *out.parents):
        if path.exists():  # the nearest path that exists must be a folder to hold (or make) the export
            if path.is_dir():
                return
            raise ConfigError(f"--out {out}: exists and is not a folder" if path == out
                              else f"--out {out}: cannot write the export: {path} is not a folder")


def write_files(out: Path, files: dict[str, str], kinds: Collection[str]) -> tuple[int, list[str]]:
    """Write the export into `out`; remove what an earlier export of the same kinds wrote and this one
    did not. Returns (files changed, files removed)."""
    check_out(out)  # again: the folder may have changed while the account was read
    index = out / INDEX
    before = index.read_text(encoding="utf-8").split() if index.is_file() else []
    changed = sum(_write_atomic(out / rel, text) for rel, text in files.items())
    removed: list[str] = []
    kept: list[str] = []
    for rel in before:
        if rel in files:
            continue
        if _kind_of(rel) in kinds:
            stale = out / rel
            if stale.is_file() and out.resolve() in stale.resolve().parents:
                stale.unlink()
                removed.append(rel)
        else:
            kept.append(rel)  # another kind's file, not exported this time: still ours
    _write_atomic(index, "".join(f"{rel}\n" for rel in sorted({*kept, *files})))
    return changed, removed


def _declared(text: str, file: str) -> list[tuple[str, str]]:
    """(kind, name) of each document of a manifest text, read as `validate` reads it (bounded: a file
    beside the export may be anything); none where it cannot be read."""
    docs, _ = documents(text, file)
    return [(str(d["kind"]), str(d["metadata"]["name"])) for d in (doc.data for doc in docs)
            if isinstance(d, dict) and isinstance(d.get("metadata"), dict) and "name" in d["metadata"]
            and "kind" in d]


def duplicates_beside(out: Path, files: dict[str, str]) -> list[str]:
    """Manifests in `out` that export does not own and that declare a resource it wrote: `validate`
    refuses the folder then (the same resource twice). Files are only read, never changed."""
    exported = {d for rel, text in files.items() for d in _declared(text, rel)}
    found = []
    for path in sorted([*out.rglob("*.yaml"), *out.rglob("*.yml")]):
        rel = path.relative_to(out).as_posix()
        if rel in files or any(part.startswith(".") for part in path.relative_to(out).parts) or not path.is_file():
            continue
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                continue  # validate refuses it anyway
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            continue
        clash = sorted(f"{kind} {name}" for kind, name in set(_declared(text, str(path))) & exported)
        if clash:
            found.append(f"{out / rel} also declares {', '.join(clash[:3])}{' and more' if len(clash) > 3 else ''}: "
                         "the folder will not validate (the same resource twice); export into a folder of its own")
    return found


def _project(args: argparse.Namespace) -> ProjectSpec | None:
    """The Project of `--manifests` (for `--env`: its account, key and owner tag). Only the Project
    matters here, so secrets the manifests reference need not be set."""
    if args.env is not None and not args.manifests:
        raise ConfigError("export --env needs --manifests PATH: the manifests whose Project declares the environment")
    if not args.manifests:
        return None
    return read_manifests(args.manifests, allow_unset_env=True, environment=args.env).state.project


def run(args: argparse.Namespace) -> int:
    """Export the live resources of `args.kind` (all kinds when none is given) into `args.out`."""
    kinds = tuple(args.kind) if args.kind else RESOURCE_KINDS
    out = Path(args.out)
    check_out(out)
    project = _project(args)
    key = api_key(project)  # the environment's variable, else TELNYX_API_KEY: checked alike

    async def go() -> LiveState:
        async with waits.watch(ApiClient(base_url(args, project), key, parallelism=args.parallelism,
                                         timeout=args.request_timeout)) as client:
            return await fetch_account(client, kinds)

    live = waits.run(go, deadline=args.deadline, after="nothing was written")
    if project is not None:
        accounts.check(DesiredState(project=project), live, "export")  # another environment's account: write nothing
    result = exporter.export(live, kinds, project.owner_tag if project is not None else DEFAULT_OWNER_TAG)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        changed, removed = write_files(out, result.files, kinds)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write the export: {exc.strerror or exc}") from None
    counts = ", ".join(f"{result.counts.get(k, 0)} {k}" for k in RESOURCE_KINDS if k in kinds)
    print(f"Exported {counts} to {out}/ ({len(result.files)} files, {changed} changed, {len(removed)} removed)")
    for rel in removed:
        print(f"  removed {out / rel}")
    for warning in duplicates_beside(out, result.files):
        print(f"warning: {warning}", file=sys.stderr)
    return 0
