"""The emulator over real HTTP/1.1 on loopback: `http.server.ThreadingHTTPServer` with keep-alive, one
thread per connection, so latency sleeps in parallel and never serialises."""

from __future__ import annotations

import contextlib
import http
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reconciler.emulator.app import EmulatorApp


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive by default
    disable_nagle_algorithm = True  # small responses must not wait for delayed ACKs
    server: EmulatorServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        status, headers, out = self.server.app.handle(self.command, path, query, dict(self.headers.items()),
                                                      body)
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers),
                 f"Content-Length: {len(out)}", f"Server: {self.server_version}"]
        if self.close_connection:
            lines.append("Connection: close")
        # One write per response: headers and body in the same segment.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log (it would dominate the cost of a request)."""


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server bound to an `EmulatorApp`; `stop()` also closes open keep-alive sockets."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # 100+ clients connecting at once must not hit a full backlog

    def __init__(self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def base_url(self) -> str:
        """`http://host:port` (the API itself is under `/v2`)."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so `stop()` can close it."""
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget a finished connection."""
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        """Stop serving, close every open connection and the listening socket."""
        self.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()


def serve_in_thread(app: EmulatorApp | None = None, host: str = "127.0.0.1", port: int = 0,
                    **app_kwargs: Any) -> tuple[str, Callable[[], None]]:
    """Start a server in a daemon thread; returns `(base_url, stop)`. `app_kwargs` build a new app."""
    server = EmulatorServer(app if app is not None else EmulatorApp(**app_kwargs), host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="emulator-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.stop()
        thread.join(timeout=5)

    return server.base_url, stop
