"""An object a manifest no longer holds (a shared tool's payload of its old type, an assistant's
`voice_settings.background_audio`): the plan shows it removed, `-> null`, never `-> {}`; apply sends
what the plan shows (the payload is left out of the PATCH, the API has no null for it); and the next
plan is clean. End to end: the CLI in-process against the real emulator over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.manifests import write

ASSISTANT = """
---
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: pt-asst}
spec:
  instructions: hi
  shared_tools: [pt-tool]
"""
WEBHOOK_TOOL = """
apiVersion: reconciler/v1
kind: Tool
metadata: {name: pt-tool}
spec:
  type: webhook
  webhook: {name: t, description: d, url: "https://example.com/t"}
"""
FUNCTION_TOOL = """
apiVersion: reconciler/v1
kind: Tool
metadata: {name: pt-tool}
spec:
  type: function
  function: {name: t, description: d, parameters: {type: object}}
"""


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


def test_a_tool_changing_type_plans_the_old_payload_removed_and_applies_as_planned(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path, "m.yaml", WEBHOOK_TOOL + ASSISTANT)
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "m.yaml", FUNCTION_TOOL + ASSISTANT)

    doc = _plan(capsys, tmp_path)
    assert _changes(doc, "tool.pt-tool") == [
        {"path": "function.description", "before": None, "after": "d"},
        {"path": "function.name", "before": None, "after": "t"},
        {"path": "function.parameters.type", "before": None, "after": "object"},
        {"path": "type", "before": "webhook", "after": "function"},
        {"path": "webhook", "before": {"name": "t", "description": "d", "url": "https://example.com/t"},
         "after": None},
    ]
    assert "- webhook = " in _run(capsys, "plan", str(tmp_path))[1]

    _clear_log(emulator)
    code, out = _run(capsys, "apply", "--auto-approve", str(tmp_path))
    assert code == 0, out
    [(method, path, body, status)] = _writes(emulator)
    # No `"webhook": null` (a payload is a dict in SDK 4.189.0's ToolUpdateParams: 422): the change
    # of type takes the webhook payload away, as the plan shows.
    assert (method, status) == ("PATCH", 200) and path.startswith("/v2/ai/tools/")
    assert body == {"function": {"name": "t", "description": "d", "parameters": {"type": "object"}},
                    "type": "function"}
    with emulator.api() as api:
        tool = api.get(path.removeprefix("/v2")).json()
    assert tool["tool_definition"] == {"type": "function", "function": body["function"]}

    code, out = _run(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 0, out


def test_a_tool_whose_api_keeps_the_old_payload_still_plans_clean(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Should the live API keep the old type's payload in `tool_definition`, it is not compared (no
    # manifest can hold it and no PATCH can clear it), and the plan warns of it.
    write(tmp_path, "m.yaml", FUNCTION_TOOL)
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    tool = next(iter(emulator.app.state.tools.values()))
    tool["payload"]["webhook"] = {"name": "t", "description": "d", "url": "https://example.com/t"}
    code, out = _run(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 0, out
    assert "tool.pt-tool: the live tool, of type 'function', also holds a 'webhook' payload" in out


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


def test_a_tools_own_optional_payload_removed_is_sent_as_an_empty_object(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # `vision` is the one type whose payload is optional; the API has no null for it either.
    manifest = "apiVersion: reconciler/v1\nkind: Tool\nmetadata: {name: eyes}\nspec:\n  type: vision\n"
    write(tmp_path, "m.yaml", manifest + "  vision: {max_frame_age_secs: 7}\n")
    assert _run(capsys, "apply", "--auto-approve", str(tmp_path))[0] == 0
    write(tmp_path, "m.yaml", manifest)

    doc = _plan(capsys, tmp_path)
    assert _changes(doc, "tool.eyes") == [{"path": "vision.max_frame_age_secs", "before": 7, "after": None}]
    _clear_log(emulator)
    code, out = _run(capsys, "apply", "--auto-approve", str(tmp_path))
    assert code == 0, out
    [(method, _, body, status)] = _writes(emulator)
    assert (method, body, status) == ("PATCH", {"vision": {}}, 200)
    code, out = _run(capsys, "plan", "--detailed-exitcode", str(tmp_path))
    assert code == 0, out
