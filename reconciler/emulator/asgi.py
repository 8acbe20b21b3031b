"""The emulator as an ASGI application: `EmulatorASGI(app)` reads a request within limits, hands it to
`app.dispatch`, waits the reply's latency with `asyncio.sleep` (so concurrent requests overlap; counted
from the request's arrival when the server noted it, timing.py) and sends it. uvicorn serves it over
loopback (`server.py`); `httpx.ASGITransport` mounts it in-process.

Hostile input never reaches the core: a body over `MAX_BODY` is a 413 (from its Content-Length before a
byte is read, or as soon as the chunks sent pass the limit) and a body that stops arriving a 408 after
`body_timeout_s`; both answers close the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from reconciler.emulator.apierrors import ApiFault
from reconciler.emulator.reply import Dispatcher, Reply, encode
from reconciler.emulator.timing import answer_at, sleep_until

# Bodies the emulator accepts. The API states no limit; the largest real body (an assistant with long
# instructions and many tools) is well under a megabyte. See docs/api-assumptions.md ("Emulator").
MAX_BODY = 16 * 1024 * 1024
BODY_TIMEOUT_S = 15.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _refusal(fault: ApiFault) -> _Refused:
    status, headers, body = encode(fault.status, fault.body(), [("connection", "close")])
    return _Refused(Reply(status, headers, body))


TOO_LARGE = ApiFault(413, "10015", "Request entity too large",
                     f"The request body is larger than {MAX_BODY} bytes")
TOO_SLOW = ApiFault(408, "10015", "Request timeout", "The request body did not arrive in time")
BAD_LENGTH = ApiFault(400, "10015", "Bad request", "Malformed Content-Length header")


class EmulatorASGI:
    """An ASGI 3 application serving one `Dispatcher` (an `EmulatorApp`)."""

    def __init__(self, app: Dispatcher, *, body_timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (`http`; `lifespan` is acknowledged and ignored)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await self._body(headers, receive)
        except _Refused as refused:
            await _send(send, refused.reply, head=False)
            return
        if body is None:
            return  # the client went away
        method: str = scope["method"]
        path = scope.get("raw_path") or scope["path"].encode()
        # raw_path keeps percent-encoding, so a tag such as "a/b" stays one path segment.
        path_text = path.decode("latin-1").partition("?")[0]
        query = scope.get("query_string", b"").decode("latin-1")
        args = (method, path_text, query, headers, body)
        dispatched = time.monotonic()
        if self.app.blocking_writes and method != "GET":
            # A write waits for its fsync before it is answered; do that off the event loop.
            reply = await asyncio.to_thread(self.app.dispatch, *args)
        else:
            reply = self.app.dispatch(*args)
        if reply.delay_s > 0:
            await sleep_until(answer_at(scope, dispatched, time.monotonic(), reply.delay_s))
        await _send(send, reply, head=method == "HEAD")

    async def _body(self, headers: dict[str, str], receive: Receive) -> bytes | None:
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _refusal(BAD_LENGTH)
            if int(declared) > MAX_BODY:
                raise _refusal(TOO_LARGE)
        if declared is None and "transfer-encoding" not in headers:
            # No body can follow: the one message is already there, so no timer is needed.
            message = await receive()
            return None if message["type"] == "http.disconnect" else bytes(message.get("body", b""))
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > MAX_BODY:
                        raise _refusal(TOO_LARGE)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise _refusal(TOO_SLOW) from None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _send(send: Send, reply: Reply, *, head: bool) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    raw.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if head else reply.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
