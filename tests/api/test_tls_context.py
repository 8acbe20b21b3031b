"""api/tls.py: the TLS context built in the background is the one httpx would build from the
environment, a build error is raised where the client asks for it, and each
`prepare()` builds afresh (a later command in the same process sees its own environment)."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import pytest
import trustme

from reconciler.api import tls
from reconciler.api.client import ApiClient
from reconciler.cli import main
from reconciler.errors import ConfigError
from tests.support.paths import EXAMPLES


def _subjects(ctx: ssl.SSLContext) -> list[str]:
    return sorted(str(c.get("subject")) for c in ctx.get_ca_certs())


def test_each_command_gets_a_context_built_for_its_own_environment(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = trustme.CA(), trustme.CA()
    for name, ca in (("first.pem", first), ("second.pem", second)):
        ca.cert_pem.write_to_path(str(tmp_path / name))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    seen = []
    for name in ("first.pem", "second.pem"):  # two commands in one process, as tests run them
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / name))
        tls.prepare()
        seen.append(_subjects(tls.context()))
    assert [len(s) for s in seen] == [1, 1] and seen[0] != seen[1]
    assert _subjects(tls.context()) == seen[1]  # no prepare: built on the spot, from the same environment


def test_a_bad_certificate_file_is_raised_where_the_client_is_made(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "bad.pem"))
    tls.prepare()  # the thread fails quietly ...
    message = f"cannot load the trusted certificates (SSL_CERT_FILE={tmp_path / 'bad.pem'})"
    with pytest.raises(ConfigError, match=re.escape(message)):  # ... and the client raises it
        ApiClient("https://127.0.0.1:1/v2", "key", parallelism=2)
    with pytest.raises(ConfigError, match=re.escape(message)):
        tls.context()


def test_a_missing_certificate_file_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("TELNYX_API_KEY", "key")
    assert main(["plan", "--base-url", "https://127.0.0.1:1/v2", str(EXAMPLES)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot load the trusted certificates (SSL_CERT_FILE=") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_bad_manifests_exit_1_while_the_context_is_still_being_built(tmp_path: Path) -> None:
    # A large trust store (a corporate bundle) is still loading in the background when the bad
    # manifests end the plan: the process exits 1 with its one-line errors, never crashing in the
    # interpreter's teardown (it did: SIGSEGV, exit 139, as the thread came back from OpenSSL).
    import subprocess
    import sys

    import certifi

    bundle = tmp_path / "bundle.pem"
    bundle.write_text(Path(certifi.where()).read_text() * 30)  # ~7 MB: OpenSSL takes ~1 s over it
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text("apiVersion: reconciler/v1\nkind: Tool\nmetadata: {name: x}\n"
                                           "spec: {bogus: 1}\n")
    env = {"PATH": "/usr/bin:/bin", "TELNYX_API_KEY": "k", "SSL_CERT_FILE": str(bundle)}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-m", "reconciler", "plan", "m"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert "m/a.yaml:4:8: spec: unknown key 'bogus'" in done.stderr
