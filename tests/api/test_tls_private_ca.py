"""`reconciler plan` over https to a server whose certificate a private CA signed (as behind a
TLS-inspecting proxy): trusted through SSL_CERT_FILE or SSL_CERT_DIR, as the Telnyx SDK does, and
refused with one clear line when the CA is not trusted.

The TLS server is a relay on 127.0.0.1 that terminates TLS (Python's ssl, with a certificate from
`trustme`) and passes the bytes to the emulator's plain-HTTP port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.emulator import Emulator
from tests.support.paths import EXAMPLES, REPO

VARIABLES_TO_DROP = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


@contextlib.contextmanager
def tls_relay(ca: trustme.CA, target: str) -> Iterator[str]:
    """An https:// origin on 127.0.0.1 whose certificate `ca` signed, relaying to `target` (http)."""
    host, port = target.removeprefix("http://").split(":")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def start() -> None:
        server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=server_context)
        box["server"] = server
        box["port"] = server.sockets[0].getsockname()[1]
        ready.set()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"https://127.0.0.1:{box['port']}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def _plan(base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in VARIABLES_TO_DROP and not k.lower().endswith("_proxy")}
    clean.update(TELNYX_BASE_URL=base_url, **env)
    return subprocess.run([sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode", str(EXAMPLES)],
                          capture_output=True, text=True, env=clean, cwd=REPO, timeout=60)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_plan_over_https_with_the_ca_in_ssl_cert_file(emulator: Emulator, ca: trustme.CA, tmp_path: Path) -> None:
    bundle = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with tls_relay(ca, emulator.url) as origin:
        done = _plan(f"{origin}/v2", SSL_CERT_FILE=str(bundle))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "acme-support" in done.stdout


def test_plan_over_https_with_the_ca_in_ssl_cert_dir(emulator: Emulator, ca: trustme.CA, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (it names the hashed files of a CA folder)")
    folder = tmp_path / "certs"
    folder.mkdir()
    pem = folder / "private-ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    hashed = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(pem)],
                            capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    (folder / f"{hashed}.0").symlink_to(pem.name)
    with tls_relay(ca, emulator.url) as origin:
        done = _plan(f"{origin}/v2", SSL_CERT_DIR=str(folder))
    assert done.returncode == 2, done.stdout + done.stderr


def test_an_untrusted_ca_is_one_clear_error(emulator: Emulator, ca: trustme.CA) -> None:
    with tls_relay(ca, emulator.url) as origin:
        done = _plan(f"{origin}/v2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in lines[0] and f"{origin}/v2" in lines[0]
    assert lines[0].endswith("name its certificate in SSL_CERT_FILE)")
