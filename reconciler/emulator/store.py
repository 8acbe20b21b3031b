"""The emulator's state: plain JSON-able dicts, so persisting them is one `json.dumps`.

Not thread-safe by itself: `EmulatorApp` holds one lock around every handler that touches a `State`.

Layout of `State.data`:
- `assistants`: id -> {"id", "created_at", "main": version_id, "versions": {version_id: config},
  "canary": None | {"rules": [...], "created_at", "updated_at"}}. Each version config is a complete
  assistant object (same `id`, its own `version_id`); the main version is `versions[main]`. Dict order
  is creation order, so "newest first" is the reverse.
- `deleted`: id -> {"record": <an assistants record>, "events": {id: event}, "deleted_at",
  "permanently_deleted_at"} (soft-deleted, restorable).
- `tools`, `mcp_servers`, `tests`, `runs`, `events`: id -> stored object.
- `conversations`: "assistant|from|to" -> conversation id (chat/sms).
- `idempotency`: "key path" -> [status, body] of the first response.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Json = Any
COLLECTIONS = ("assistants", "deleted", "tools", "mcp_servers", "tests", "runs", "events", "conversations",
               "idempotency", "test_script")


def new_id() -> str:
    """A fresh uuid4 string (the id format of versions, tools, MCP servers, tests and runs)."""
    return str(uuid.uuid4())


def numeric_id() -> str:
    """A Telnyx-style numeric id (TeXML apps and messaging profiles use long digit strings)."""
    return str(uuid.uuid4().int % 10**19).rjust(19, "1")


def now_iso() -> str:
    """The current time as ISO 8601 in UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Call:
    """One API request as a handler sees it: path parameters, query, parsed JSON body, headers."""

    params: dict[str, str]
    query: dict[str, str]
    body: Json = None
    headers: dict[str, str] = field(default_factory=dict)


def _empty() -> dict[str, dict[str, Any]]:
    return {name: {} for name in COLLECTIONS}


class State:
    """All emulated resources. Mutate only under the app's lock."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = _empty()

    def reset(self) -> None:
        """Forget every resource."""
        self.data = _empty()

    @property
    def assistants(self) -> dict[str, Any]:
        """Assistant records by id."""
        return self.data["assistants"]

    @property
    def deleted(self) -> dict[str, Any]:
        """Soft-deleted assistants by id (the Recently Deleted list)."""
        return self.data["deleted"]

    @property
    def tools(self) -> dict[str, Any]:
        """Shared tools by id."""
        return self.data["tools"]

    @property
    def mcp_servers(self) -> dict[str, Any]:
        """MCP servers by id."""
        return self.data["mcp_servers"]

    @property
    def tests(self) -> dict[str, Any]:
        """Assistant tests by test_id."""
        return self.data["tests"]

    @property
    def runs(self) -> dict[str, Any]:
        """Test runs by run_id."""
        return self.data["runs"]

    @property
    def events(self) -> dict[str, Any]:
        """Scheduled events by scheduled_event_id."""
        return self.data["events"]

    @property
    def conversations(self) -> dict[str, Any]:
        """chat/sms conversation ids by "assistant|from|to"."""
        return self.data["conversations"]

    @property
    def idempotency(self) -> dict[str, Any]:
        """First responses of POSTs that carried an Idempotency-Key, by "key path"."""
        return self.data["idempotency"]

    def snapshot(self) -> bytes:
        """The whole state as JSON bytes (call under the lock; write the bytes outside it)."""
        return json.dumps(self.data, separators=(",", ":")).encode()

    def load(self, raw: bytes) -> None:
        """Replace the state with a snapshot made by `snapshot()`."""
        loaded = json.loads(raw)
        fresh = _empty()
        for name in COLLECTIONS:
            fresh[name] = dict(loaded.get(name, {}))
        for rec in fresh["assistants"].values():
            canary = rec.get("canary")
            if canary is not None and "rules" not in canary:
                # A state file from before the rules form: its split is one catch-all rollout.
                slots = [{"version_id": v["version_id"], "weight": v["percentage"]} for v in canary.pop("versions")]
                canary["rules"] = [{"serve": {"rollout": slots}}]
        self.data = fresh

    def main_config(self, assistant_id: str) -> dict[str, Any] | None:
        """The stored main version of an assistant, or None."""
        rec = self.assistants.get(assistant_id)
        if rec is None:
            return None
        main: dict[str, Any] = rec["versions"][rec["main"]]
        return main


def copied(obj: Json) -> Json:
    """A deep copy, so a response never aliases stored state."""
    return copy.deepcopy(obj)


class StateFile:
    """Durable, atomic persistence of a `State` to one JSON file.

    A mutation marks the state dirty under the app's lock; before the write is acknowledged, the app
    calls `flush()`, which takes one snapshot under the lock and writes it outside it: a temp file in the
    same folder, fsync, `os.replace`, fsync of the folder. So a reader or a crash never sees half a file,
    and kill -9 never loses an acknowledged write. Concurrent writers share the work: one that waits for
    the I/O lock finds its change already saved by the snapshot written meanwhile (a group commit).
    """

    def __init__(self, path: str | os.PathLike[str], state: State, lock: threading.Lock) -> None:
        self.path = Path(path)
        self._state = state
        self._state_lock = lock
        self._io_lock = threading.Lock()  # taken before the state lock, never after
        self._dirty = False

    def read(self) -> bytes | None:
        """The saved snapshot, or None when there is none yet."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def mark_dirty(self) -> None:
        """Note a change; call with the state lock held."""
        self._dirty = True

    def flush(self) -> None:
        """Write the state now if it changed since the last write. A failed write leaves the state
        dirty (the next change or flush tries again) and raises."""
        with self._io_lock:
            with self._state_lock:
                if not self._dirty:
                    return
                raw = self._state.snapshot()
                self._dirty = False
            try:
                self._write(raw)
            except OSError:
                with self._state_lock:
                    self._dirty = True
                raise

    def close(self) -> None:
        """Write any pending change."""
        self.flush()

    def _write(self, raw: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # The rename itself is durable only once the folder's entry is on disk.
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
