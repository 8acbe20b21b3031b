"""The wire under ApiClient: httpx's own transports (httpcore's connection pools), fed prebuilt
requests.

Why not `AsyncClient.request`: at 16 requests in flight, building each request (merging the URL, the
headers, the cookies and the query with the client's) and the layers of `send` (auth, redirects,
cookies, the bound response stream) cost about as much client CPU as the transport itself
(bench/notes.md). None of them does anything for us: the URL is always absolute, the headers are the
same on every request, there is no auth flow and redirects are never followed. So each request is an
`httpx.Request` built from the shard's own merged headers and timeout, handed to the transport that
the shard's client chooses for the base URL (`_transport_for_url`: the environment's proxies,
`NO_PROXY`, as httpx decides them), and its body read in full, as `send` would (through httpx's
decoders when it is content-encoded). Cookies a server sets are kept and sent back as httpx's client
does (one jar for the whole client rather than one per shard).

The shards: one httpx client, so one httpcore pool, per connection allowed in flight, rather than one
pool of `parallelism` connections (or pools of 4, as before). httpcore's pool checks every one of its
connections each time a request starts or ends (idle? expired? closed by the server: a getpeername
and a poll each), so a pool's cost per request grows with its size. Each shard is a plain httpx
client with the same settings; one TLS context serves them all (built as httpx builds it:
`SSL_CERT_FILE`, `SSL_CERT_DIR`, else certifi).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import httpx

from reconciler.api import tls

try:
    from sniffio import current_async_library_cvar
except ImportError:  # sniffio is optional for anyio and httpcore: they then assume asyncio
    current_async_library_cvar = ContextVar("no_sniffio", default=None)

POOL_SIZE = 1  # connections per httpx pool (see the module docstring)
_SIZED = frozenset({"POST", "PUT", "PATCH"})  # methods httpx gives a Content-Length even without a body
_EMPTY = httpx.ByteStream(b"")  # the body httpx gives a request without one (it can be sent any number of times)


class Wire:
    """Sends one request at a time per free connection; `send` returns the response, body read."""

    def __init__(self, base_url: str, api_key: str, *, parallelism: int, transport: httpx.AsyncBaseTransport | None,
                 timeout: float, http2: bool) -> None:
        # A given transport (tests, the in-process emulator) is one pool already.
        sizes = [parallelism] if transport is not None else [POOL_SIZE] * parallelism
        verify = tls.context() if transport is None else True  # started while the manifests loaded
        self.shards = [
            httpx.AsyncClient(
                headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                # None: httpx's default transport, and its proxies from the environment (a transport
                # given here would make httpx ignore those).
                transport=transport,
                verify=verify,
                trust_env=True,
                http2=http2,  # off: measured slower than HTTP/1.1 with these shards (bench/http2.py)
            )
            for size in sizes
        ]
        # Every URL this client sends to has the base URL's scheme, host and port, so the route
        # httpx's client would choose (a proxy mount, or its own pool) is the same for every request.
        # `_transport_for_url` is private, but it is how every httpx since 0.18 routes a request;
        # tests/api/test_client_wire.py checks the routes (HTTP_PROXY, NO_PROXY) on the real wire.
        url = httpx.URL(base_url)
        self._routes = [shard._transport_for_url(url) for shard in self.shards]
        # The headers httpx's client would send (its defaults merged with ours), and its timeout.
        self._headers = self.shards[0].headers
        self._timeout = self.shards[0].timeout.as_dict()
        # A request without a body, query or headers of its own (every read, every DELETE) carries
        # exactly these headers: what `httpx.Request` adds to the client's for one (a Host header
        # first; no Content-Length but for POST, PUT and PATCH), built once. Every URL shares the
        # base URL's netloc.
        self._bodiless = httpx.Headers([(b"Host", url.netloc), *self._headers.raw])
        self.cookies = httpx.Cookies()
        # One entry per connection: a request takes a shard with a free connection, so that no
        # request ever queues inside a pool. The caller bounds the requests in flight to `parallelism`.
        self._free = [i for i, size in enumerate(sizes) for _ in range(size)]

    async def send(self, method: str, url: str, *, json: Any = None, params: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        """Send one request to the absolute `url` and read its whole body (a transport error is
        raised as httpx raises it, httpx.TransportError and its kinds)."""
        extensions = {"timeout": self._timeout}
        if json is None and params is None and not headers and method not in _SIZED and not self.cookies.jar:
            # httpx.Request's documented `stream=` form adds no headers: the prebuilt ones are the
            # same as it would work out per request (tests/api/test_client_wire.py compares the bytes).
            request = httpx.Request(method, url, headers=self._bodiless, stream=_EMPTY, extensions=extensions)
        else:
            merged = self._headers
            if headers:
                merged = self._headers.copy()
                merged.update(headers)
            request = httpx.Request(method, url, json=json, params=params, headers=merged,
                                    cookies=self.cookies if self.cookies.jar else None, extensions=extensions)
        shard = self._free.pop()
        # anyio and httpcore ask sniffio which async library runs about 14 times per request; sniffio
        # finds asyncio by elimination (a thread-local, this context variable, then asyncio's current
        # task) unless the variable says it, which is what anyio.run sets for its own loop.
        library = current_async_library_cvar.set("asyncio")
        try:
            response = await self._routes[shard].handle_async_request(request)
            try:
                if "content-encoding" in response.headers or not isinstance(response.stream, httpx.AsyncByteStream):
                    await response.aread()  # httpx's own decoders (gzip, deflate, and br or zstd if installed)
                else:
                    # The body as it came: `aread` would pass it through an identity decoder and two
                    # re-chunking layers first (~4% of the client's CPU per request).
                    response._content = b"".join([chunk async for chunk in response.stream])
            finally:
                await response.aclose()  # the connection goes back to its pool (a no-op after aread)
        finally:
            current_async_library_cvar.reset(library)
            self._free.append(shard)
        response.request = request
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response

    async def aclose(self) -> None:
        """Close every pool's connections."""
        for shard in self.shards:
            await shard.aclose()
