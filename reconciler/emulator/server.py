"""The emulator over real HTTP on loopback: uvicorn (with the httptools parser) serving `EmulatorASGI`
from a background thread. `EmulatorServer(app, host, port)` binds at once (so a busy port fails in the
constructor), `serve_forever()` runs it, `stop()` ends it; `serve_in_thread` does all three for tests.

uvicorn times out a keep-alive connection between requests but not a client that never finishes its
request head; `_Protocol` and `_Server` add that deadline and a cap on the head's size, so an idle or
stalled client is disconnected and never holds memory. A stalled body is the ASGI app's to time out
(`asgi.py`). `_Protocol` also notes when each request's last bytes arrived, from which the injected
latency is counted, and the server runs on `timing.precise_loop`, whose timers fire when due (timing.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.asgi import EmulatorASGI
from reconciler.emulator.timing import ARRIVED, precise_loop

MAX_HEAD = 64 * 1024  # request line plus headers; real clients send well under 2 KiB
TIMEOUT_S = 15.0  # request head, request body, and idle keep-alive; longer than httpx's 5 s pool expiry
BACKLOG = 1024  # 100+ clients connecting at once must not hit a full backlog


class _HeadWithBody:
    """The transport as a response sees it: the head is held until the first body write, so the two go
    out in one segment. uvicorn writes them separately, which wakes the client twice per response and
    doubled the emulator's CPU cost per request."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        """Hold the head, send it with what follows."""
        if self._head is None and data.startswith(b"HTTP/") and data.endswith(b"\r\n\r\n"):
            self._head = data
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)

    def close(self) -> None:
        """Send anything held, then close."""
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a size cap on each request head, a note of since when it has
    been waiting for one (`head_since`), which `_Server` sweeps to drop idle and stalled clients, and
    one of when each request's last bytes arrived (`ARRIVED` in its scope)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_since: float | None = None
        self._head_bytes = 0
        self._data_at = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start waiting for the first head."""
        super().connection_made(transport)
        self.head_since = self.loop.time()

    def data_received(self, data: bytes) -> None:
        """Count the bytes of a head still incomplete after parsing them; refuse one over MAX_HEAD."""
        waiting = self.head_since is not None
        self._data_at = time.monotonic()  # before parsing: a request completed by these bytes arrived now
        super().data_received(data)
        if waiting and self.head_since is not None:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD and not self.transport.is_closing():
                self.head_since = None
                self.send_400_response("Request head too large")

    def on_headers_complete(self) -> None:
        """The head arrived in time; its response is written through `_HeadWithBody`."""
        self.head_since = None
        self._head_bytes = 0
        super().on_headers_complete()
        if self.cycle is not None:
            self.cycle.transport = _HeadWithBody(self.transport)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        """The request is all here: its latency runs from when these bytes arrived."""
        super().on_message_complete()
        if self.cycle is not None:
            self.cycle.scope[ARRIVED] = self._data_at  # type: ignore[literal-required]

    def on_response_complete(self) -> None:
        """Start waiting for the next head (unless a pipelined request is already waiting)."""
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        if not pipelined:
            self.head_since = self.loop.time()

    def expire(self, now: float, timeout_s: float) -> None:
        """Close the connection if it has waited for a request head longer than `timeout_s`."""
        if self.head_since is not None and now - self.head_since > timeout_s and not self.transport.is_closing():
            self.transport.close()


class _Server(uvicorn.Server):
    """A uvicorn server whose main loop wakes at once when asked to stop (not on its 0.1 s tick) and sweeps
    the connections once a second for heads that did not arrive in time (one timer for all, rather than
    one per request)."""

    def __init__(self, config: uvicorn.Config, timeout_s: float) -> None:
        super().__init__(config)
        self._timeout_s = timeout_s
        self._stop_requested: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        """Wait for `request_stop`."""
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        await self.on_tick(0)
        while not self.should_exit:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), timeout=min(1.0, self._timeout_s / 2))
            now = self._loop.time()
            for conn in list(self.server_state.connections):
                if isinstance(conn, _Protocol):
                    conn.expire(now, self._timeout_s)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's graceful shutdown, polling every 5 ms rather than sleeping 0.1 s steps (tests start
        and stop hundreds of servers): stop accepting, close idle connections, let answers in flight
        finish (5 s at most), then cancel what is left."""
        loop = asyncio.get_running_loop()
        for server in self.servers:
            server.close()
        for conn in list(self.server_state.connections):
            conn.shutdown()
        deadline = loop.time() + 5
        while (self.server_state.connections or self.server_state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in list(self.server_state.tasks):
            task.cancel()
        for conn in list(self.server_state.connections):
            if isinstance(conn, _Protocol) and not conn.transport.is_closing():
                conn.transport.close()
        await self.lifespan.shutdown()

    def request_stop(self) -> None:
        """Ask the server to stop, from any thread."""
        self.should_exit = True
        if self._loop is not None and self._stop_requested is not None:
            self._loop.call_soon_threadsafe(self._stop_requested.set)


class EmulatorServer:
    """uvicorn serving an `EmulatorApp` on `host:port` (0: any free port), bound on construction."""

    def __init__(self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0, *,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.app = app
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
        # it every response (head and body written separately) waits ~40 ms for a delayed ACK.
        self._sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
            self._sock.listen(BACKLOG)
        except OSError:
            self._sock.close()
            raise
        self.server_address: tuple[Any, ...] = self._sock.getsockname()
        # loop="none": serve_forever brings its own.
        config = uvicorn.Config(
            EmulatorASGI(app, body_timeout_s=timeout_s), http=_Protocol, loop="none", lifespan="off",
            access_log=False, proxy_headers=False, log_config=None, log_level="warning",
            timeout_keep_alive=math.ceil(timeout_s), timeout_graceful_shutdown=5, backlog=BACKLOG,
            server_header=False, date_header=False, headers=[("server", "reconciler-emulator")])
        self._server = _Server(config, timeout_s)

    @property
    def base_url(self) -> str:
        """`http://host:port` (the API itself is under `/v2`)."""
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in str(host) else f"http://{host}:{port}"

    def serve_forever(self) -> None:
        """Serve until `stop()` (or, in the main thread, SIGINT/SIGTERM); blocks."""
        # What uvicorn's `Server.run` does, on the precise loop (its `loop` setting means a loop
        # factory only since uvicorn 0.36, a policy setup before).
        with asyncio.Runner(loop_factory=precise_loop) as runner:
            runner.run(self._server.serve(sockets=[self._sock]))

    def wait_started(self, timeout: float = 10.0) -> bool:
        """Whether the server accepts connections within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.002)
        return self._server.started

    def stop(self) -> None:
        """Stop serving and close every open connection and the listening socket."""
        self._server.request_stop()


def serve_in_thread(app: EmulatorApp | None = None, host: str = "127.0.0.1", port: int = 0, *,
                    timeout_s: float = TIMEOUT_S, **app_kwargs: Any) -> tuple[str, Callable[[], None]]:
    """Start a server in a daemon thread; returns `(base_url, stop)`. `app_kwargs` build a new app."""
    server = EmulatorServer(app if app is not None else EmulatorApp(**app_kwargs), host, port, timeout_s=timeout_s)
    thread = threading.Thread(target=server.serve_forever, name="emulator-server", daemon=True)
    thread.start()
    if not server.wait_started():
        raise RuntimeError("the emulator server did not start within 10 s")
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.stop()
        thread.join(timeout=10)
        server.app.flush()  # a restart on the same state file sees every change acknowledged so far

    return server.base_url, stop
