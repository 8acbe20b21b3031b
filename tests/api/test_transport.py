"""The lean HTTP/1.1 transport against raw loopback servers that send what the emulator never does:
chunked bodies, read-until-close bodies, stale keep-alive connections, slow answers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from reconciler.api.transport import LeanAsyncTransport, default_transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


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
        await handler(reader, writer, len(connections))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", connections, server


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 10))


def test_keep_alive_reuses_one_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
            await writer.drain()

    async def go() -> None:
        url, connections, server = await _serve(handler)
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url) as client:
            for _ in range(3):
                assert (await client.post("/x", json={"a": 1})).json() == {}
        server.close()
        assert len(connections) == 1

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
        if n > 1:
            writer.close()
        else:
            await reader.read()  # keep the connection until the client goes

    async def go() -> None:
        url, _, server = await _serve(handler)
        transport = LeanAsyncTransport()
        async with httpx.AsyncClient(transport=transport, base_url=url) as client:
            assert (await client.get("/chunked")).json() == [1, 2]
        # A fresh transport: the close-delimited body.
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url) as client:
            assert (await client.get("/close")).json() == {"closed": True}
        server.close()

    run(go())


def test_stale_idle_connection_is_retried_for_get_not_for_post() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()  # closes the kept-alive connection without saying so

    async def go() -> None:
        url, connections, server = await _serve(handler)
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url) as client:
            assert (await client.get("/a")).status_code == 200
            await asyncio.sleep(0.05)
            assert (await client.get("/b")).status_code == 200  # resent on a new connection
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/c", json={})  # may have landed: left to the caller to decide
        server.close()
        assert len(connections) == 2  # the POST was not resent

    run(go())


def test_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await _read_request(reader)
        await asyncio.sleep(2)

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url, timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/slow")
        server.close()

    run(go())


def test_connect_error() -> None:
    async def go() -> None:
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), timeout=2) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("http://127.0.0.1:9/")  # the discard port: nothing listens

    run(go())


def test_proxies_fall_back_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(default_transport(), LeanAsyncTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    assert default_transport() is None


def test_an_interim_1xx_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        for body in (b'{"n": 1}', b'{"n": 2}'):
            await _read_request(reader)
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n" + body)
            await writer.drain()

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url) as client:
            assert (await client.get("/1")).json() == {"n": 1}
            assert (await client.get("/2")).json() == {"n": 2}  # answers are not crossed
        server.close()

    run(go())


def test_after_a_stale_connection_the_retry_uses_a_fresh_one() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()  # an idle timeout: every kept-alive connection goes

    async def go() -> None:
        url, connections, server = await _serve(handler)
        async with httpx.AsyncClient(transport=LeanAsyncTransport(), base_url=url) as client:
            await asyncio.gather(*(client.get(f"/{i}") for i in range(3)))  # three idle connections
            await asyncio.sleep(0.3)
            assert (await client.get("/again")).status_code == 200  # not a second stale one
        server.close()
        assert len(connections) == 4

    run(go())
