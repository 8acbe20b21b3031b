"""Review 3 (issue 16): api/wire.py on a real loopback server -- a request cancelled while its body is
coming, a body cut off, a corrupt gzip body: the connection slot comes back, the next request works,
and a corrupt body is an ApiError (not a traceback)."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from reconciler.errors import ApiError
from tests.api.test_client_wire import KEY, _client, _read_request, _serve, run


def test_cancelled_mid_body_then_next_request_works() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await _read_request(reader)
            if n == 1:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")  # 8 bytes never come
                await writer.drain()
                await asyncio.sleep(30)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def go() -> None:
        url, connections, server = await _serve(handler)
        async with _client(url, parallelism=1) as client:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.request("GET", "/slow"), 0.5)
            assert client._wire._free == [0]  # the one connection slot came back
            assert await asyncio.wait_for(client.request("GET", "/next"), 5) == {}
        server.close()
        assert len(connections) == 2  # the half-read connection was not reused

    run(go())


def test_corrupt_gzip_body_is_an_api_error_and_the_key_stays_out() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            await _read_request(reader)
            body = gzip.compress(b'{"a": 1}')[:-6] + b"garbage"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    async def go() -> None:
        url, _, server = await _serve(handler)
        async with _client(url, parallelism=1, max_retries=1) as client:
            with pytest.raises(ApiError) as info:
                await asyncio.wait_for(client.request("GET", "/z"), 10)
            assert KEY not in str(info.value)
            assert client._wire._free == [0]
        server.close()

    run(go())
