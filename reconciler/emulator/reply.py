"""What the emulator answers: the `Reply` type every front-end sends, the `Dispatcher` protocol the
front-ends (`asgi.py`, `transport.py`) serve, and the helpers that encode a JSON answer with its headers."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Headers = list[tuple[str, str]]
JSON_TYPE = ("content-type", "application/json")


@dataclass(frozen=True)
class Reply:
    """One response, plus how long the front-end should wait before sending it."""

    status: int
    headers: Headers
    body: bytes
    delay_s: float = 0.0


class Dispatcher(Protocol):
    """What a front-end serves: `EmulatorApp`, or a test's subclass of it."""

    @property
    def blocking_writes(self) -> bool:
        """True when a write waits for the disk (a state file) before it is answered."""

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request without sleeping its latency."""


# One encoder for every answer: `json.dumps` with any non-default argument builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def dumps(body: Any) -> bytes:
    """Compact JSON bytes (what `json.dumps(body, separators=(",", ":"))` gives)."""
    return _ENCODER.encode(body).encode()


def with_headers(status: int, out: bytes | None, extra: Sequence[tuple[str, str]] = ()) -> tuple[
        int, Headers, bytes]:
    """`(status, headers, body)` with a request id, and a JSON content type when there is a body."""
    # 128 random bits are as unique as a uuid4 for tracing; not a secret, so no urandom syscall per reply.
    headers: Headers = [("x-request-id", f"{random.getrandbits(128):032x}"), *extra]
    if out is None:
        return status, headers, b""
    return status, [JSON_TYPE, *headers], out


def encode(status: int, body: Any, extra: Sequence[tuple[str, str]] = ()) -> tuple[int, Headers, bytes]:
    """`with_headers` for a JSON-able body (none for 204 or None)."""
    return with_headers(status, None if status == 204 or body is None else dumps(body), extra)


@dataclass(frozen=True)
class Raw:
    """A handler result sent as is, not as JSON (SSE chat streams, `text/plain` instructions)."""

    content_type: str
    body: bytes
