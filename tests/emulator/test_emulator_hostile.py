"""Hostile HTTP over real loopback sockets: every answer a clean 4xx or a closed connection, and the log
free of tracebacks. The server runs with a 1 s timeout so stalled clients are dropped quickly."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.asgi import MAX_BODY
from reconciler.emulator.bodies import MAX_DEPTH
from reconciler.emulator.server import serve_in_thread

HEAD = b"POST /v2/ai/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n"
WAIT_S = 15.0  # far above the server's 1 s timeout: how long a test waits before calling the server stuck


@pytest.fixture
def hostile(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[tuple[str, int]]:
    """An emulator with 1 s timeouts; after the test, neither its log records nor stderr hold a traceback."""
    caplog.set_level(logging.DEBUG)
    url, stop = serve_in_thread(EmulatorApp(), timeout_s=1.0)
    host, port = url.removeprefix("http://").split(":")
    try:
        yield host, int(port)
    finally:
        stop()
    logged = "\n".join(r.getMessage() + (str(r.exc_info) if r.exc_info else "") for r in caplog.records)
    err = capfd.readouterr().err
    assert "Traceback" not in logged and not any(r.exc_info for r in caplog.records), logged
    assert "Traceback" not in err, err


def exchange(addr: tuple[str, int], *parts: bytes, pause_s: float = 0.0) -> tuple[bytes, float]:
    """Send `parts`, then read until the server closes; returns what it sent and how long that took."""
    started = time.monotonic()
    with socket.create_connection(addr, timeout=WAIT_S) as conn:
        for part in parts:
            try:
                conn.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before taking everything: fine
            if pause_s:
                time.sleep(pause_s)
        chunks = []
        try:
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    return b"".join(chunks), time.monotonic() - started


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


def test_a_huge_content_length_is_413_before_any_body_is_read(hostile: tuple[str, int]) -> None:
    reply, _ = exchange(hostile, HEAD + b"Content-Length: 1000000000000\r\n\r\n", b"{" * 1000)
    assert status(reply) == 413
    assert json.loads(reply.partition(b"\r\n\r\n")[2])["errors"][0]["title"] == "Request entity too large"


def test_a_huge_chunk_is_413_once_the_body_passes_the_limit(hostile: tuple[str, int]) -> None:
    piece = b"x" * (1024 * 1024)
    parts = [HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % 10**12]
    parts += [piece] * (MAX_BODY // len(piece) + 2)
    reply, _ = exchange(hostile, *parts)
    assert status(reply) == 413


def test_a_chunk_size_beyond_64_bits_is_400(hostile: tuple[str, int]) -> None:
    reply, _ = exchange(hostile, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"F" * 40 + b"\r\nxx\r\n")
    assert status(reply) == 400


def test_json_nested_beyond_the_limit_is_422(hostile: tuple[str, int]) -> None:
    for body in (b"[" * 10_000 + b"]" * 10_000, b'{"name": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001,
                 b"[" * 10_000):
        reply, _ = exchange(hostile, HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body), body)
        assert status(reply) == 422, reply[:200]
        (problem,) = json.loads(reply.partition(b"\r\n\r\n")[2])["detail"]
        assert problem["type"] == "json_invalid" and str(MAX_DEPTH) in problem["ctx"]["error"]
    # Nesting up to the limit is decoded (and then judged by the schema like any body).
    ok = b'{"name": "n", "instructions": "i", "dynamic_variables": {"v": ' + b"[" * 90 + b"]" * 90 + b"}}"
    reply, _ = exchange(hostile, HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(ok), ok)
    assert status(reply) in (200, 422) and b"json_invalid" not in reply


def test_a_body_shorter_than_its_content_length_times_out_with_408(hostile: tuple[str, int]) -> None:
    reply, took = exchange(hostile, HEAD + b"Content-Length: 100\r\n\r\n" + b'{"name": "n"')
    assert status(reply) == 408 and took < WAIT_S


@pytest.mark.parametrize("parts", [(), (b"GET /v2/ai/tools HTTP/1.1\r\nHost: x\r\n",),
                                   (b"GE",)], ids=["idle", "stalled-head", "stalled-line"])
def test_an_idle_or_stalled_client_is_disconnected(hostile: tuple[str, int], parts: tuple[bytes, ...]) -> None:
    reply, took = exchange(hostile, *parts)
    assert reply == b"" and took < WAIT_S


def test_a_slow_drip_of_header_bytes_is_cut_off(hostile: tuple[str, int]) -> None:
    drip = [b"GET /v2/ai/tools HTTP/1.1\r\n"] + [b"X-A: b\r\n"] * 40
    reply, took = exchange(hostile, *drip, pause_s=0.1)
    assert reply == b"" and took < WAIT_S


def test_an_oversized_request_head_is_400(hostile: tuple[str, int]) -> None:
    reply, _ = exchange(hostile, b"GET /v2/ai/tools HTTP/1.1\r\nHost: x\r\n", b"X-Big: " + b"a" * 200_000)
    assert status(reply) == 400


def test_the_server_still_serves_after_all_that(hostile: tuple[str, int], make_client: Callable[..., Any]) -> None:
    for _ in range(3):
        exchange(hostile, HEAD + b"Content-Length: 1000000000000\r\n\r\n")
    api = make_client(f"http://{hostile[0]}:{hostile[1]}/v2")
    assert api.post("/ai/assistants", json={"name": "n", "instructions": "i"}).status_code == 200
