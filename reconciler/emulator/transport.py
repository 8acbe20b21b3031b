"""In-process httpx transports for fast tests (no sockets): `AsyncEmulatorTransport` mounts the ASGI app
through httpx's own `ASGITransport`; `EmulatorTransport` is the sync twin, which httpx does not provide
for ASGI, calling `dispatch` directly."""

from __future__ import annotations

import time

import httpx

from reconciler.emulator.asgi import EmulatorASGI
from reconciler.emulator.reply import Dispatcher


class EmulatorTransport(httpx.BaseTransport):
    """A sync transport: latency is a `time.sleep` in the calling thread, after the state lock is released."""

    def __init__(self, app: Dispatcher) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve one request in-process."""
        # raw_path keeps percent-encoding, so a tag such as "a/b" stays one path segment.
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        reply = self.app.dispatch(request.method, path, query, dict(request.headers), request.read())
        if reply.delay_s > 0:
            time.sleep(reply.delay_s)
        return httpx.Response(reply.status, headers=reply.headers, content=reply.body, request=request)


class AsyncEmulatorTransport(httpx.ASGITransport):
    """httpx's ASGI transport over `EmulatorASGI(app)`: latency is an `asyncio.sleep`, so requests overlap."""

    def __init__(self, app: Dispatcher) -> None:
        super().__init__(app=EmulatorASGI(app))
