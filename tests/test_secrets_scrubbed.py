"""Secrets never leave the process (issue 17): failing commands run with known secret values in
TELNYX_API_KEY, in `${env:}` variables and in a base URL's credentials, against a hostile API that
echoes whatever it is sent, and every output (stdout, stderr, files written, saved plans) is grepped
for the values: 0 occurrences."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler import scrub
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.paths import REPO

KEY = "tk-live-8d3f0c2a91e4-KEY"
SECRET = "S3cr3t-Gr33ting-71b9"
SECRET_QUOTE = 'pa"ss\\wörd-22f1'  # changes under JSON and repr escaping
PASSWORD = "hunter2-Basic-6e0d"
VERSION_SECRET = "v-name-from-env-4a2c"
SECRETS = (KEY, SECRET, SECRET_QUOTE, PASSWORD, VERSION_SECRET)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class EchoingApi(BaseHTTPRequestHandler):
    """A hostile API: empty listings, and every write refused with a 422 that echoes each string it
    was sent (whole, shortened and JSON-escaped) and the Authorization header, as a careless server
    might."""

    def do_GET(self) -> None:  # http.server's naming
        if self.path.startswith("/v2/ai/mcp_servers"):
            self._answer(200, [])
        elif self.path.startswith("/v2/ai/"):
            self._answer(200, {"data": [], "meta": {"total_pages": 1, "page_number": 1}})
        else:
            self._answer(404, {"errors": [{"title": "Not found", "detail": self.headers.get("Authorization")}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        detail = [{"loc": ["body", "voice_settings", "background_audio", "value"],
                   "msg": f"Input should be 'silence' or 'office', got '{text}' ('{text[:6]}...'), "
                          f"json {json.dumps(text)}, repr {text!r}", "type": "enum"}
                  for text in _strings(body)]
        detail.append({"loc": ["header"], "msg": f"token {self.headers.get('Authorization')}", "type": "x"})
        self._answer(422, {"detail": detail})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echoing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    write(folder, "a.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: leaky}
        spec:
          instructions: "Say ${env:GREETING_SECRET} and ${env:QUOTED_SECRET}"
          greeting: ${env:GREETING_SECRET}
        """)
    return folder


def run_cli(tmp_path: Path, *argv: str, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": base_url,
           "GREETING_SECRET": SECRET, "QUOTED_SECRET": SECRET_QUOTE, "VERSION_SECRET": VERSION_SECRET}
    return subprocess.run([sys.executable, "-m", "reconciler", *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def forms(secret: str) -> set[str]:
    """The secret as text could carry it, and its unsalted hash (a saved plan keeps only salted ones)."""
    return {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1], hashlib.sha256(secret.encode()).hexdigest()}


def assert_nowhere(tmp_path: Path, *outputs: str) -> None:
    """None of the secrets, in any form, in the outputs or in any file under tmp_path but the
    manifests (which hold only references)."""
    for secret in SECRETS:
        for form in forms(secret):
            for text in outputs:
                assert form not in text, (form, text)
            for file in tmp_path.rglob("*"):
                if file.is_file():
                    assert form.encode() not in file.read_bytes(), (form, file)


def test_a_failing_apply_against_an_echoing_api_shows_no_secret(tmp_path: Path, echoing_api: str) -> None:
    project(tmp_path)
    # (A base URL with credentials is refused before any request: test_connection_errors_... below.)
    creds = f"{echoing_api}/v2"
    runs = [run_cli(tmp_path, "apply", "proj", "--auto-approve", base_url=f"{echoing_api}/v2"),
            run_cli(tmp_path, "apply", "proj", "--auto-approve", "--format", "json", base_url=creds)]
    for fmt in ("text", "json", "markdown"):
        runs.append(run_cli(tmp_path, "plan", "proj", "--format", fmt, "--out", f"saved-{fmt}.plan",
                            base_url=creds))
    for done in runs[:2]:
        assert done.returncode == 1 and "Traceback" not in done.stderr
        # The refusal itself is still shown, with the references the user wrote in place of the values.
        assert "is not one of" in done.stdout + done.stderr or "Input should be" in done.stdout + done.stderr
        assert "${env:GREETING_SECRET}" in done.stdout + done.stderr
        assert "('(sensitive)')" in done.stdout + done.stderr  # the shortened echo of 'Say S3cr3t...'
    for done in runs[2:]:
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "saved-json.plan").exists()
    # It binds the values it sends, salted (checked below: no value nor unsalted hash in any file).
    assert sorted(json.loads((tmp_path / "saved-json.plan").read_text())["secrets"]) == [
        "GREETING_SECRET", "QUOTED_SECRET"]
    applied = run_cli(tmp_path, "apply", "saved-json.plan", "--auto-approve", base_url=creds)
    assert applied.returncode == 1
    runs.append(applied)
    assert_nowhere(tmp_path / "saved-json.plan", *(d.stdout + d.stderr for d in runs))
    assert_nowhere(tmp_path, *(d.stdout + d.stderr for d in runs))


def test_connection_errors_and_bad_urls_show_no_credentials(tmp_path: Path) -> None:
    project(tmp_path)
    runs = [run_cli(tmp_path, "plan", "proj", base_url=f"http://admin:{PASSWORD}@127.0.0.1:9/v2"),
            run_cli(tmp_path, "plan", "proj", base_url=f"ftp://admin:{PASSWORD}@127.0.0.1/v2"),
            run_cli(tmp_path, "plan", "proj", "--base-url", f"http://admin:{PASSWORD}@[::1/v2",
                    base_url="http://127.0.0.1:9/v2")]
    for done in runs:
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "***@" in done.stderr
    assert "credentials in the URL are not used" in runs[0].stderr  # refused before any connection
    assert_nowhere(tmp_path, *(d.stdout + d.stderr for d in runs))


def test_a_credential_in_a_urls_query_is_never_shown(tmp_path: Path) -> None:
    project(tmp_path)
    runs = [run_cli(tmp_path, "plan", "proj", base_url=f"http://127.0.0.1:9/v2?token={PASSWORD}"),
            run_cli(tmp_path, "plan", "proj", "--base-url", f"http://127.0.0.1:9/v2?a=1&api_key={PASSWORD}#f",
                    base_url="http://127.0.0.1:9/v2")]
    for done in runs:
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "a base URL takes no query or fragment" in done.stderr and "=***" in done.stderr
    assert_nowhere(tmp_path, *(d.stdout + d.stderr for d in runs))
    assert scrub.scrub("GET https://h/x?a=1&Api_Key=k1&b=2&sig=s2#top failed") == \
        "GET https://h/x?a=1&Api_Key=***&b=2&sig=***#top failed"
    assert scrub.scrub("https://h/orders?id=7&page=2 token=t") == "https://h/orders?id=7&page=2 token=t"


def test_validate_shows_references_not_values(tmp_path: Path) -> None:
    write(tmp_path / "proj", "v.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: versioned}
        spec:
          instructions: hi
          versions:
            - {name: "${env:VERSION_SECRET}", spec: {greeting: a}}
            - {name: "${env:VERSION_SECRET}", spec: {greeting: b}}
          canary:
            - {version: "${env:VERSION_SECRET}", percentage: 10}
            - {version: "${env:VERSION_SECRET}", percentage: 10}
            - {version: other, percentage: 10}
          voice_settings:
            voice: Telnyx.KokoroTTS.af_heart
            background_audio: {type: predefined_media, value: "${env:GREETING_SECRET}"}
        """)
    done = run_cli(tmp_path, "validate", "proj", base_url="http://127.0.0.1:9/v2")
    assert done.returncode == 1
    assert "duplicate version name '${env:VERSION_SECRET}'" in done.stderr
    assert "version '${env:VERSION_SECRET}' is already in canary[0]" in done.stderr
    assert "(declared: ${env:VERSION_SECRET})" in done.stderr
    assert '"${env:GREETING_SECRET}" is not one of' in done.stderr
    assert_nowhere(tmp_path, done.stdout, done.stderr)


def test_the_scrubber_masks_every_form_and_shortened_echoes() -> None:
    scrub.forget_all()
    try:
        scrub.register_env("X", SECRET_QUOTE)
        scrub.register("line-one-secret\nline-two-secret", "(multi)")
        assert scrub.scrub(f"a {json.dumps(SECRET_QUOTE)} b {SECRET_QUOTE!r}") == 'a "${env:X}" b \'${env:X}\''
        assert scrub.scrub("got line-two-secret") == "got (multi)"
        assert scrub.scrub_echo("got 'pa\"ss\\wö...' there") == "got '(sensitive)' there"
        scrub.register_composite(f"Bearer {SECRET_QUOTE}")
        assert scrub.scrub_echo("got 'Bearer pa...' and 'pa\"s…'") == "got '(sensitive)' and '(sensitive)'"
        assert scrub.scrub_echo("'Bearer' and 'nothing...'") == "'Bearer' and 'nothing...'"
        assert scrub.scrub("see https://u:p@example.com/x") == "see https://***@example.com/x"
        assert scrub.scrub("abc") == "abc"  # nothing registered matches
    finally:
        scrub.forget_all()


def test_in_process_output_is_scrubbed_and_the_registry_forgotten(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.cli import main

    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("GREETING_SECRET", SECRET)
    monkeypatch.setenv("QUOTED_SECRET", SECRET_QUOTE)
    project(tmp_path)
    assert main(["plan", str(tmp_path / "proj"), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    for secret in (KEY, SECRET, SECRET_QUOTE):
        assert secret not in out + err
    assert scrub.scrub(SECRET) == SECRET  # each run forgets its secrets when it ends
