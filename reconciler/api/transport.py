"""A lean HTTP/1.1 keep-alive transport for httpx on asyncio streams.

Why: httpcore's connection pool costs 2-3 ms of CPU per request under concurrency (it rescans every
connection on each request and retries assignments), which at 16 requests in flight is most of a
50 ms round trip and made a 2,000-request plan CPU-bound. This transport keeps a plain stack of idle
connections per origin and does one read of the head and one of the body: about a tenth of the cost.

Scope: what the Telnyx API needs. http and https (certifi's CA bundle, as httpx), Content-Length,
chunked and read-until-close bodies, keep-alive, and httpx's timeouts. No proxies: `default_transport()`
returns httpx's own transport when a proxy is configured in the environment. Content decoding stays
with httpx (it decodes the body of the Response this returns).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections import defaultdict
from typing import Any

import httpx

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MAX_HEAD = 64 * 1024
# Methods the transport itself may resend on a fresh connection (PATCH is not: whether repeating one
# is harmless is for the caller to say, through the client's `idempotent=`).
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

Origin = tuple[str, str, int]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class LeanAsyncTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive; one connection per request in flight, reused afterwards."""

    def __init__(self, *, max_idle_per_origin: int = 64, ssl_context: ssl.SSLContext | None = None) -> None:
        self._idle: dict[Origin, list[_Connection]] = defaultdict(list)
        self._max_idle = max_idle_per_origin
        self._ssl = ssl_context

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            import certifi

            self._ssl = ssl.create_default_context(cafile=certifi.where())
        return self._ssl

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=self._ssl_context() if scheme == "https" else None,
                                        server_hostname=host if scheme == "https" else None, limit=MAX_HEAD),
                timeout,
            )
        except TimeoutError as exc:  # before OSError, of which it is a subclass
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc.strerror or exc)) from exc
        return _Connection(reader, writer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; retry once on a fresh connection if a reused one turns out closed."""
        url = request.url
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        body = await request.aread()
        head = [f"{request.method} {url.raw_path.decode('ascii')} HTTP/1.1"]
        for name, value in request.headers.raw:
            if name.lower() == b"accept-encoding":
                continue  # bodies are small JSON: compression would cost more CPU than it saves here
            head.append(f"{name.decode('latin-1')}: {value.decode('latin-1')}")
        if body and "content-length" not in request.headers:
            head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (0, 1):
            idle = self._idle[origin]
            reused = bool(idle) and attempt == 0
            if attempt == 1:
                # One idle connection was closed by the server: the others idle as long probably are.
                for stale in idle:
                    stale.close()
                idle.clear()
            conn = idle.pop() if reused else await self._connect(origin, timeouts.get("connect"))
            try:
                return await self._exchange(conn, origin, request, data, timeouts)
            except _StaleConnection:
                conn.close()
                if attempt == 0 and reused and request.method in IDEMPOTENT:
                    # The server closed this idle connection before answering: resend at once. A POST
                    # might have landed, so it goes up instead, to the client's adopt-before-retry.
                    continue
                raise httpx.RemoteProtocolError("the server closed the connection without answering") from None
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    async def _exchange(self, conn: _Connection, origin: Origin, request: httpx.Request, data: bytes,
                        timeouts: dict[str, Any]) -> httpx.Response:
        try:
            conn.writer.write(data)
            await asyncio.wait_for(conn.writer.drain(), timeouts.get("write"))
        except TimeoutError as exc:  # before OSError, of which it is a subclass
            raise httpx.WriteTimeout("writing the request timed out") from exc
        except (ConnectionError, OSError) as exc:
            raise _StaleConnection from exc
        read_timeout = timeouts.get("read")
        while True:
            status, headers, http_version = await self._head(conn, read_timeout)
            # An interim answer (100 Continue, 103 Early Hints) is followed by the real one.
            if not 100 <= status < 200 or status == 101:
                break
        return await self._finish(conn, origin, request, status, headers, http_version, read_timeout)

    async def _head(self, conn: _Connection, read_timeout: float | None) -> tuple[int, list[tuple[str, str]], str]:
        try:
            raw_head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), read_timeout)
        except TimeoutError as exc:  # before OSError, of which it is a subclass
            raise httpx.ReadTimeout("reading the response timed out") from exc
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _StaleConnection from exc
            raise httpx.RemoteProtocolError("the server closed the connection mid-response") from exc
        except (ConnectionError, OSError) as exc:
            raise _StaleConnection from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("response head too large") from exc
        lines = raw_head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:80]!r}")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
        return int(parts[1]), headers, parts[0]

    async def _finish(self, conn: _Connection, origin: Origin, request: httpx.Request, status: int,
                      headers: list[tuple[str, str]], http_version: str, read_timeout: float | None
                      ) -> httpx.Response:
        fields = {k.lower(): v for k, v in headers}
        keep_alive = http_version == "HTTP/1.1" and fields.get("connection", "").lower() != "close"
        try:
            content = await asyncio.wait_for(self._body(conn, request.method, status, fields), read_timeout)
        except TimeoutError as exc:  # before OSError, of which it is a subclass
            raise httpx.ReadTimeout("reading the response timed out") from exc
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError("the server closed the connection mid-body") from exc
        except (ConnectionError, OSError) as exc:
            raise httpx.ReadError(f"reading the response failed: {exc}") from exc
        if "content-length" not in fields and "chunked" not in fields.get("transfer-encoding", "").lower():
            keep_alive = keep_alive and (status in (204, 304) or request.method == "HEAD" or 100 <= status < 200)
        if keep_alive and len(self._idle[origin]) < self._max_idle:
            self._idle[origin].append(conn)
        else:
            conn.close()
        # The body is complete: drop framing headers so httpx does not look for a stream to frame.
        headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        return httpx.Response(status, headers=headers, content=content, request=request)

    @staticmethod
    async def _body(conn: _Connection, method: str, status: int, fields: dict[str, str]) -> bytes:
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if "chunked" in fields.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = await conn.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await conn.reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers are ignored
                    return b"".join(chunks)
                chunks.append(await conn.reader.readexactly(size))
                await conn.reader.readexactly(2)
        if "content-length" in fields:
            return await conn.reader.readexactly(int(fields["content-length"]))
        return await conn.reader.read()  # until the server closes the connection

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()


class _StaleConnection(Exception):
    """The connection failed before any byte of the response arrived."""


def default_transport() -> httpx.AsyncBaseTransport | None:
    """The lean transport, unless a proxy is configured (then None: httpx's own, which honours it)."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return None
    return LeanAsyncTransport()
