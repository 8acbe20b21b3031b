"""In-process httpx transports over an `EmulatorApp`: the reconciler's httpx client (sync or async) and
the official SDK can talk to the emulator with no sockets at all."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from reconciler.emulator.app import EmulatorApp, Reply


def _dispatch(app: EmulatorApp, request: httpx.Request, body: bytes) -> Reply:
    # raw_path keeps percent-encoding, so a tag such as "a/b" stays one path segment.
    path, _, query = request.url.raw_path.decode("ascii").partition("?")
    return app.dispatch(request.method, path, query, dict(request.headers), body)


def _response(reply: Reply, request: httpx.Request) -> httpx.Response:
    return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)


class EmulatorTransport(httpx.BaseTransport):
    """A sync transport: latency is a `time.sleep` in the calling thread, after the state lock is released."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request in-process."""
        reply = _dispatch(self.app, request, request.read())
        if reply.delay_s > 0:
            time.sleep(reply.delay_s)
        return _response(reply, request)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """An async transport: latency is an `await asyncio.sleep`, so concurrent requests overlap."""

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request in-process without blocking the event loop for the latency."""
        reply = _dispatch(self.app, request, await request.aread())
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        return _response(reply, request)
