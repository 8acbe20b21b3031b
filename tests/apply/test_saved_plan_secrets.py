"""A saved plan binds the secrets it was reviewed with (issue #11, case 7): per `${env:NAME}` that
what the plan sends uses, a salt made for that plan and scrypt(value, salt); never the value, never
an unsalted hash; and the fingerprints of the live objects it read, which hold those values too, are
keyed, so that none lets a value be guessed. `apply FILE` refuses, before any write, a value that
differs or is unset, naming the variable only. Old and unknown file formats are refused with a clear
message. Over loopback HTTP against the emulator."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import live
from reconciler.cli import main
from tests.promise.support import SECRET_HOOK, webhook_assistant
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.project import snapshot

Capsys = pytest.CaptureFixture[str]

HOOKED = SECRET_HOOK.replace("HOOK_TOKEN", "HOOK_SECRET").replace("secret-hook", "hooked")
# Referenced by an assistant the plan leaves alone: not part of what the plan sends.
QUIET = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: quiet}
spec: {instructions: "Say ${env:QUIET_SECRET}."}
"""
SECRET = "hook-secret-5d1e9a"
QUIET_VALUE = "quiet-value-77c2"


def _plan(tmp_path: Path, name: str = "plan.json") -> Path:
    saved = tmp_path / name
    assert main(["plan", "--out", str(saved), str(tmp_path / "m")]) == 0
    return saved


def test_the_saved_plan_holds_a_salted_hash_of_each_secret_it_sends(
        loopback: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/quiet.yaml", QUIET)
    monkeypatch.setenv("QUIET_SECRET", QUIET_VALUE)
    assert main(["apply", "--auto-approve", str(tmp_path / "m")]) == 0
    write(tmp_path, "m/hooked.yaml", HOOKED)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    first, second = _plan(tmp_path, "a.json"), _plan(tmp_path, "b.json")
    data = [json.loads(p.read_text()) for p in (first, second)]
    assert [d["format_version"] for d in data] == ["6", "6"]
    assert [sorted(d["secrets"]) for d in data] == [["HOOK_SECRET"], ["HOOK_SECRET"]]
    a, b = (d["secrets"]["HOOK_SECRET"] for d in data)
    # A deliberately slow hash (the file travels): scrypt with the parameters the README states.
    assert a["scrypt"] == hashlib.scrypt(SECRET.encode(), salt=bytes.fromhex(a["salt"]), n=2**14, r=8, p=1,
                                         dklen=32).hex()
    assert "sha256" not in a and a["salt"] != b["salt"] and a["scrypt"] != b["scrypt"]  # a salt per plan
    for text in (first.read_text(), second.read_text()):
        for value in (SECRET, QUIET_VALUE):
            assert value not in text
            assert hashlib.sha256(value.encode()).hexdigest() not in text
            assert hashlib.sha256(f"Bearer {value}".encode()).hexdigest() not in text
    assert main(["apply", "--auto-approve", str(first)]) == 0


def test_apply_refuses_an_unset_or_changed_secret_before_any_write(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/hooked.yaml", HOOKED)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    saved = _plan(tmp_path)
    before = snapshot(loopback.app)
    capsys.readouterr()
    monkeypatch.setenv("HOOK_SECRET", "not-the-reviewed-one")
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    out, err = capsys.readouterr()
    assert "HOOK_SECRET" in err and "differs" in err, err
    assert "not-the-reviewed-one" not in out + err and SECRET not in out + err
    assert len(err.strip().splitlines()) == 1, err
    monkeypatch.delenv("HOOK_SECRET")
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    out, err = capsys.readouterr()
    assert "HOOK_SECRET" in err and "not set" in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(loopback.app) == before
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    assert main(["apply", "--auto-approve", str(saved)]) == 0


@pytest.mark.parametrize(("version", "said"), [("1", "format version '1' is not supported"),
                                               ("99", "format version '99' is not supported"),
                                               (None, "format version None is not supported")])
def test_other_formats_are_refused_saying_so(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch,
        version: str | None, said: str) -> None:
    write(tmp_path, "m/hooked.yaml", HOOKED)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    saved = _plan(tmp_path)
    data = json.loads(saved.read_text())
    data["format_version"] = version
    saved.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    err = capsys.readouterr().err
    assert said in err and "plan --out" in err and "Traceback" not in err, err
    assert not loopback.app.state.assistants


def test_a_plan_whose_file_binds_no_value_for_a_secret_it_sends_is_refused(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/hooked.yaml", HOOKED)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    saved = _plan(tmp_path)
    data = json.loads(saved.read_text())
    data["secrets"] = {}  # edited by hand (or written by a buggy tool)
    saved.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    err = capsys.readouterr().err
    assert "HOOK_SECRET" in err and "does not record" in err and SECRET not in err, err
    assert not loopback.app.state.assistants


PIN = "4821"
PINNED = webhook_assistant("pinned", "Look up", "https://api.example.com/x", '{name: X-Pin, value: "${env:HOOK_PIN}"}')


def _listed(loopback: Emulator, name: str) -> dict[str, Any]:
    with loopback.api() as http:
        (found,) = [a for a in http.get("/ai/assistants").json()["data"] if a["name"] == name]
    return dict(found)


def test_no_fingerprint_in_the_file_lets_a_secret_be_guessed(
        loopback: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4-digit PIN in a header: with the live object's other fields known, every guess is tried
    against every fingerprint the file holds, as an attacker holding the file would. None matches,
    and two plans of the same state hold different values: a fingerprint is no function of the
    object alone (it is keyed, binding.py)."""
    write(tmp_path, "m/pinned.yaml", PINNED)
    monkeypatch.setenv("HOOK_PIN", PIN)
    assert main(["apply", "--auto-approve", str(tmp_path / "m")]) == 0
    first, second = _plan(tmp_path, "a.json"), _plan(tmp_path, "b.json")
    prints = [json.loads(p.read_text())["fingerprints"] for p in (first, second)]
    obj = _listed(loopback, "pinned")
    assert obj["tools"][0]["webhook"]["headers"][0]["value"] == PIN
    assert f"assistant/{obj['id']}" in prints[0]
    found = set(prints[0].values()) | set(prints[1].values())
    for guess in range(10_000):
        obj["tools"][0]["webhook"]["headers"][0]["value"] = f"{guess:04d}"
        assert live.fingerprint(obj) not in found, f"the PIN {guess:04d} was found from the saved plan"
    assert prints[0].keys() == prints[1].keys()
    assert not set(prints[0].values()) & set(prints[1].values())
    assert main(["apply", "--auto-approve", str(first)]) == 0


def test_a_live_change_of_a_secret_holding_field_still_makes_the_plan_stale(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "m/pinned.yaml", PINNED)
    monkeypatch.setenv("HOOK_PIN", PIN)
    assert main(["apply", "--auto-approve", str(tmp_path / "m")]) == 0
    write(tmp_path, "m/pinned.yaml", PINNED.replace("Be helpful.", "Be brief."))
    saved = _plan(tmp_path)
    obj = _listed(loopback, "pinned")
    tools = obj["tools"]
    tools[0]["webhook"]["headers"][0]["value"] = "9999"  # edited in the portal
    with loopback.api() as http:
        http.post(f"/ai/assistants/{obj['id']}", json={"tools": tools}).raise_for_status()
    before = snapshot(loopback.app)
    capsys.readouterr()
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    out, err = capsys.readouterr()
    assert "the plan is stale" in err and f"assistant pinned ({obj['id']})" in err, err
    assert PIN not in out + err and "9999" not in out + err
    assert snapshot(loopback.app) == before
