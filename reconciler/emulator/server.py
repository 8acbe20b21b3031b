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

MAX_LINE = 65536
MAX_HEADERS = 100


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive. Request parsing is done here rather than by `parse_request`, whose
    email-package header parser cost about a fifth of a whole request."""

    protocol_version = "HTTP/1.1"  # keep-alive by default
    disable_nagle_algorithm = True  # small responses must not wait for delayed ACKs
    server: EmulatorServer

    def handle_one_request(self) -> None:
        """Read one request, answer it, and decide whether the connection stays open."""
        try:
            line = self.rfile.readline(MAX_LINE + 1)
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True
            return
        if not line:
            self.close_connection = True
            return
        parts = line.decode("latin-1").split()
        headers = self._read_headers()
        if len(parts) != 3 or headers is None or len(line) > MAX_LINE:
            self._bad_request()
            return
        method, target, version = parts
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        try:
            body = self._read_body(headers)
        except ValueError:  # a non-numeric Content-Length or chunk size
            self._bad_request()
            return
        path, _, query = target.partition("?")
        status, out_headers, out = self.server.app.handle(method, path, query, headers, body)
        self._write(status, out_headers, b"" if method == "HEAD" else out, close=self.close_connection)

    def _read_headers(self) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            raw = self.rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                return headers
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                return None
            headers[name.strip().lower()] = value.strip()
        return None

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline(MAX_LINE).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are ignored
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE)
        length = int(headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _bad_request(self) -> None:
        self._write(400, [("content-type", "application/json")], b'{"errors":[{"code":"10015",'
                    b'"title":"Bad request","detail":"Malformed HTTP request"}]}', close=True)

    def _write(self, status: int, headers: list[tuple[str, str]], out: bytes, *, close: bool) -> None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers),
                 f"Content-Length: {len(out)}", "Server: reconciler-emulator"]
        if close:
            lines.append("Connection: close")
            self.close_connection = True
        # One write per response: headers and body in the same segment.
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + out)

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

    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.stop()
        thread.join(timeout=5)
        server.app.flush()  # a restart on the same state file sees every change acknowledged so far

    return server.base_url, stop
