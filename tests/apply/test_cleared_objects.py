"""An object a manifest no longer holds (an assistant's `voice_settings.background_audio`): the plan
shows it as apply sends it, removed (`-> null`) or reset to its defaults, never `-> {}`; and the
next plan is clean. End to end: the CLI in-process against the real emulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.manifests import write


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def _plan(capsys: pytest.CaptureFixture[str], folder: Path) -> dict[str, Any]:
    code, out = _run(capsys, "plan", "--format", "json", str(folder))
    assert code == 0, out
    doc: dict[str, Any] = json.loads(out)
    return doc


def _writes(emulator: Emulator) -> list[tuple[str, str, Any, int]]:
    with httpx.Client(timeout=10) as http:
        log = http.get(f"{emulator.url}/_emulator/requests").json()["data"]
    return [(r["method"], r["path"], r["body"], r["status"]) for r in log if r["method"] != "GET"]


def _clear_log(emulator: Emulator) -> None:
    with httpx.Client(timeout=10) as http:
        http.post(f"{emulator.url}/_emulator/requests/clear")


def _changes(doc: dict[str, Any], address: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = next(rc["changes"] for rc in doc["resource_changes"] if rc["address"] == address)
    return found


VOICE = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bg-asst}
spec:
  instructions: hi
  voice_settings:
    voice: Telnyx.KokoroTTS.af
"""


def test_background_audio_removed_is_planned_as_null_and_left_out_of_the_body(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    audio = {"type": "predefined_media", "value": "silence"}
    write(tmp_path, "m.yaml", VOICE + f"    background_audio: {json.dumps(audio)}\n")
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "m.yaml", VOICE)

    doc = _plan(capsys, tmp_path)
    assert _changes(doc, "assistant.bg-asst") == [
        {"path": "voice_settings.background_audio", "before": audio, "after": None}]

    _clear_log(emulator)
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    [(method, _, body, status)] = _writes(emulator)
    assert (method, status) == ("POST", 200)
    assert "background_audio" not in body["voice_settings"]
    code, out = _run(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 0, out


def test_an_object_emptied_back_to_its_defaults_is_planned_leaf_by_leaf_as_sent(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = "apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: tel}\nspec:\n  instructions: hi\n"
    write(tmp_path, "m.yaml", manifest + "  telephony_settings: {time_limit_secs: 600, user_idle_reply_secs: 30}\n")
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "m.yaml", manifest)

    doc = _plan(capsys, tmp_path)
    assert _changes(doc, "assistant.tel") == [
        {"path": "telephony_settings.time_limit_secs", "before": 600, "after": 1800},
        {"path": "telephony_settings.user_idle_reply_secs", "before": 30, "after": 10},
    ]
    _clear_log(emulator)
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    [(_, _, body, _)] = _writes(emulator)
    assert {k: body["telephony_settings"][k] for k in ("time_limit_secs", "user_idle_reply_secs")} == {
        "time_limit_secs": 1800, "user_idle_reply_secs": 10}
    code, out = _run(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 0, out

