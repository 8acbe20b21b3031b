"""ApiClient on its real wire (httpx's default transport) against raw loopback servers that send what
the emulator never does: chunked and close-delimited bodies, interim 1xx answers, connections closed
while idle, answers that never come; and the routes the environment chooses (HTTP_PROXY, NO_PROXY)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest

from reconciler.api.client import ApiClient
from reconciler.errors import ApiError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
KEY = "wire-test-key"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


async def _serve(handler: Handler) -> tuple[str, list[int], asyncio.AbstractServer]:
    connections: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer, len(connections))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", connections, server


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))


async def _never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
    """Reads a request and answers nothing for longer than any timeout of these tests."""
    await _read_request(reader)
    await asyncio.sleep(5)


def _client(url: str, **kwargs: Any) -> ApiClient:
    return ApiClient(f"{url}/v2", KEY, backoff_base=0.01, seed=1, **kwargs)


async def _answer_forever(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
    while True:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
        await writer.drain()


def test_keep_alive_reuses_one_connection() -> None:
    async def go() -> None:
        url, connections, server = await _serve(_answer_forever)
        async with _client(url) as client:
            for _ in range(3):
                assert await client.request("POST", "/x", json={"a": 1}) == {}
        server.close()
        assert len(connections) == 1

    run(go())


def test_the_async_library_is_named_to_sniffio_only_while_a_request_is_on_the_wire() -> None:
    # api/wire.py names asyncio in sniffio's context variable around each request (so anyio and
    # httpcore need not detect it); nothing of it may outlive the request, even a failed one.
    sniffio = pytest.importorskip("sniffio", reason="sniffio comes with the telnyx SDK (dev extra)")

    async def go() -> None:
        url, _, server = await _serve(_answer_forever)
        async with _client(url) as client:
            assert await client.request("GET", "/x") == {}
            assert sniffio.current_async_library_cvar.get() is None
        server.close()
        async with _client(url, max_retries=0) as client:
            with pytest.raises(ApiError):
                await client.request("GET", "/x")
            assert sniffio.current_async_library_cvar.get() is None

    run(go())


def test_chunked_and_read_until_close_bodies() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        if n == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"4\r\n[1, \r\n2\r\n2]\r\n0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"closed\": true}")
        await writer.drain()

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with _client(url) as client:
            assert await client.request("GET", "/chunked") == [1, 2]
            assert await client.request("GET", "/close") == {"closed": True}
        server.close()

    run(go())


def test_an_interim_1xx_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        for body in (b'{"n": 1}', b'{"n": 2}'):
            await _read_request(reader)
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n" + body)
            await writer.drain()
        await reader.read()

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with _client(url) as client:
            assert await client.request("GET", "/1") == {"n": 1}
            assert await client.request("GET", "/2") == {"n": 2}  # answers are not crossed
        server.close()

    run(go())


def test_connections_closed_while_idle_are_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await asyncio.sleep(0.05)  # then an idle timeout closes it without saying so

    async def go() -> None:
        url, connections, server = await _serve(handler)
        async with _client(url) as client:
            await asyncio.gather(*(client.request("GET", f"/{i}") for i in range(3)))  # three idle connections
            await asyncio.sleep(0.3)
            assert await client.request("GET", "/again") == {}
            await asyncio.sleep(0.3)
            # A POST is never resent (it may have landed): so it must never go out on a stale one.
            assert await client.request("POST", "/create", json={}) == {}
        server.close()
        assert len(connections) == 5

    run(go())


def test_an_answer_that_never_comes_times_out_and_is_retried() -> None:
    async def go() -> None:
        url, connections, server = await _serve(_never_answers)
        async with _client(url, timeout=0.2, max_retries=2) as client:
            with pytest.raises(ApiError, match=r"GET /slow: timed out \(ReadTimeout\)"):
                await client.request("GET", "/slow")
        server.close()
        assert len(connections) == 3

    run(go())


def test_a_request_that_keeps_timing_out_is_tried_three_times_and_a_write_is_left_uncertain() -> None:
    async def go() -> None:
        url, connections, server = await _serve(_never_answers)
        async with _client(url, timeout=0.2) as client:  # the default retry budget: 8
            with pytest.raises(ApiError, match=r"after 3 tries \(request timeout 0.2 s") as read:
                await client.request("GET", "/slow")
            assert not read.value.uncertain  # a read changes nothing
            assert len(connections) == 3
            with pytest.raises(ApiError, match="timed out") as write:
                await client.request("PATCH", "/slow", json={"a": 1})
            assert write.value.uncertain  # it may have landed
        server.close()

    run(go())


def test_http_proxy_is_used_and_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            seen.append((await _read_request(reader)).split(b"\r\n")[0])
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"proxied\": 1}\n")
            await writer.drain()

    async def go() -> None:
        origin, direct, origin_server = await _serve(_answer_forever)
        proxy_url, _, proxy_server = await _serve(proxy)
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        async with _client(origin) as client:
            assert await client.request("GET", "/via") == {"proxied": 1}
        # Proxies see the absolute URL of the origin asked for.
        assert seen == [f"GET {origin}/v2/via HTTP/1.1".encode()]
        assert direct == []
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with _client(origin) as client:
            assert await client.request("GET", "/direct") == {}
        assert len(seen) == 1 and len(direct) == 1
        origin_server.close()
        proxy_server.close()

    run(go())


def test_the_wire_carries_what_httpx_client_sends_decodes_gzip_and_keeps_cookies() -> None:
    # ApiClient hands prebuilt requests to httpx's transport (api/wire.py), bodiless ones with prebuilt
    # headers: the bytes on the wire must be those httpx's own client sends, a gzip body must be
    # decoded, and a cookie sent back.
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            head = await _read_request(reader)
            heads.append(head)
            body = gzip.compress(b'{"zipped": true}')
            cookie = b"Set-Cookie: lb=abc; Path=/\r\n" if head.startswith(b"GET /v2/a") else b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n" + cookie +
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with _client(url) as client:
            assert await client.request("GET", "/c") == {"zipped": True}
            assert await client.request("DELETE", "/d") == {"zipped": True}
            assert await client.request("GET", "/a", params={"page[size]": 100}) == {"zipped": True}
            assert await client.request("POST", "/b", json={"x": [1, "é"]}, idempotency_key="k-1") == {"zipped": True}
            assert await client.request("GET", "/c") == {"zipped": True}  # with the cookie now
        headers = {"Authorization": f"Bearer {KEY}", "Accept": "application/json"}
        async with httpx.AsyncClient(headers=headers) as plain:
            await plain.get(f"{url}/v2/c")
            await plain.delete(f"{url}/v2/d")
            await plain.get(f"{url}/v2/a", params={"page[size]": 100})
            await plain.post(f"{url}/v2/b", json={"x": [1, "é"]}, headers={"Idempotency-Key": "k-1"})
            await plain.get(f"{url}/v2/c")
        server.close()
        assert len(heads) == 10
        assert heads[:5] == heads[5:]
        assert [b"\r\ncookie: lb=abc" in head.lower() for head in heads[:5]] == [False, False, False, True, True]

    run(go())
