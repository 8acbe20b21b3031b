"""A saved plan is bound to the account it was made against, as Terraform binds one to its backend:
applied against another base URL or with another API key, it is refused in one line, exit 1, before
any request. The file holds the base URL (no credentials) and a salted scrypt-based check of the key,
never the key or a fast hash of it. Two emulators over loopback HTTP stand for two accounts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reconciler.apply import binding
from reconciler.cli import main
from tests.support.emulator import API_KEY, Emulator, serve
from tests.support.manifests import write

Capsys = pytest.CaptureFixture[str]

BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec: {instructions: Be helpful.}
"""


def _saved(tmp_path: Path, capsys: Capsys) -> Path:
    write(tmp_path, "m/bot.yaml", BOT)
    saved = tmp_path / "p2.json"
    assert main(["plan", "--out", str(saved), str(tmp_path / "m")]) == 0  # a create-only plan
    capsys.readouterr()
    return saved


def test_the_file_records_the_base_url_and_a_slow_salted_check_of_the_key(
        loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    saved = _saved(tmp_path, capsys)
    text = saved.read_text()
    recorded = json.loads(text)["account"]
    assert recorded["base_url"] == loopback.base_url
    assert API_KEY not in text
    for digest in (hashlib.sha256(API_KEY.encode()).hexdigest(), hashlib.md5(API_KEY.encode()).hexdigest()):
        assert digest[:16] not in text
    salt = bytes.fromhex(recorded["api_key"]["salt"])
    # Keyed by scrypt(key, salt) at the bindings' cost: as slow to guess from as a secret's binding.
    material = hashlib.scrypt(API_KEY.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert recorded["api_key"]["check"] == binding._mac(material, "api key check")
    assert json.loads(_saved(tmp_path, capsys).read_text())["account"]["api_key"]["salt"] != salt.hex()


def test_a_saved_plan_applied_to_another_base_url_is_refused_before_any_request(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = _saved(tmp_path, capsys)
    with serve() as other:
        monkeypatch.setenv("TELNYX_API_KEY", "OTHER-account-key")
        monkeypatch.setenv("TELNYX_BASE_URL", other.base_url)
        assert main(["apply", "--auto-approve", str(saved)]) == 1
        out, err = capsys.readouterr()
        assert len(err.strip().splitlines()) == 1, err
        assert loopback.base_url in err and other.base_url in err and "refusing to apply" in err, err
        assert "OTHER-account-key" not in out + err
        assert other.stats()["total"] == 0  # refused before any request
        # The same with --base-url, and with a trailing slash on the reviewed one: the same account.
        monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
        assert main(["apply", "--auto-approve", "--base-url", other.base_url, str(saved)]) == 1
        assert other.base_url in capsys.readouterr().err
        monkeypatch.setenv("TELNYX_BASE_URL", loopback.base_url + "/")
        assert main(["apply", "--auto-approve", str(saved)]) == 0
    assert [r["versions"][r["main"]]["name"] for r in loopback.app.state.assistants.values()] == ["bot"]


def test_a_saved_plan_applied_with_another_api_key_is_refused_naming_the_variable(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Telnyx every account shares one base URL: only the key tells them apart."""
    saved = _saved(tmp_path, capsys)
    loopback.control("reset", {"stats_only": True})
    monkeypatch.setenv("TELNYX_API_KEY", "OTHER-account-key")
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    out, err = capsys.readouterr()
    assert "TELNYX_API_KEY is not the API key the plan was made with" in err, err
    assert len(err.strip().splitlines()) == 1 and "OTHER-account-key" not in out + err and API_KEY not in err
    assert not loopback.app.state.assistants
    assert loopback.stats()["total"] == 0  # refused before any request
    monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
    assert main(["apply", "--auto-approve", str(saved)]) == 0


def test_credentials_in_a_base_url_are_never_recorded() -> None:
    shown = binding.shown_base_url("HTTPS://user:pa55word@API.Example.com:8443/v2/?token=t0k3n#frag")
    assert shown == "https://api.example.com:8443/v2"

