"""The request log: the last /v2 requests the emulator answered (method, path, query, body, status), so
tests can check that what a client sent is what it meant to send. `GET /_emulator/requests` reads it,
`POST /_emulator/requests/clear` and `POST /_emulator/reset` clear it.

Recording is one small tuple appended under a lock per request (the raw body bytes, never parsed
here); rendering (query and body decoded) happens only on read. Request headers are never recorded,
so the log cannot hold the API key. Memory is bounded twice: by entries (`MAX_ENTRIES`) and by the
body bytes held (`MAX_BODY_BYTES`; a single body over `MAX_ONE_BODY` is noted by size only).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from reconciler.emulator.apierrors import Invalid
from reconciler.emulator.bodies import parse_json

MAX_ENTRIES = 10_000
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_ONE_BODY = 1024 * 1024

# (sequence number, method, percent-encoded path, raw query, raw body or its size when not kept, status)
_Entry = tuple[int, str, str, str, bytes | int, int]


class RequestLog:
    """A bounded, thread-safe log of answered /v2 requests."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[_Entry] = deque()
        self._max_entries = max_entries
        self._max_body_bytes = max_body_bytes
        self._body_bytes = 0
        self._seq = 0  # requests recorded since the last clear; numbers each entry

    def record(self, method: str, path: str, query: str, body: bytes, status: int) -> None:
        """Note one answered request (its body kept as sent, or only its size when over MAX_ONE_BODY)."""
        kept: bytes | int = body if len(body) <= MAX_ONE_BODY else len(body)
        size = len(kept) if isinstance(kept, bytes) else 0
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, method, path, query, kept, status))
            self._body_bytes += size
            while len(self._entries) > self._max_entries or self._body_bytes > self._max_body_bytes:
                old = self._entries.popleft()[4]
                self._body_bytes -= len(old) if isinstance(old, bytes) else 0

    def clear(self) -> None:
        """Forget every entry and restart the numbering."""
        with self._lock:
            self._entries.clear()
            self._body_bytes = 0
            self._seq = 0

    def to_json(self, since: int = 0) -> dict[str, Any]:
        """`{"data": [...], "total": n, "dropped": k}`: the entries numbered above `since`, oldest first;
        `total` counts every request recorded since the last clear, `dropped` those no longer held."""
        with self._lock:
            entries = [e for e in self._entries if e[0] > since] if since else list(self._entries)
            total = self._seq
            held = len(self._entries)
        return {"data": [_render(e) for e in entries], "total": total, "dropped": total - held}


def _render(entry: _Entry) -> dict[str, Any]:
    seq, method, path, query, body, status = entry
    out: dict[str, Any] = {"seq": seq, "method": method, "path": path,
                           "query": dict(parse_qsl(query, keep_blank_values=True)), "body": None, "status": status}
    if isinstance(body, int):
        out["body_omitted_bytes"] = body
        return out
    try:
        out["body"] = parse_json(body)
    except Invalid:
        # Not JSON (or nested too deep): shown as text, so the log still says what was sent.
        out["body_text"] = body.decode("utf-8", "replace")
    return out
