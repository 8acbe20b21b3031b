"""SDK 4.189.0 (`AssistantTool.shared`): responses merge the attached shared tools into an assistant's
`tools` with `shared: true`, and inline tools carry `shared: false`. reconciler reads only the inline
ones as `tools` (the shared ones are `tool_ids`, the manifest's `shared_tools`): an emulator answering
that way, through the CLI over loopback HTTP, plans clean after apply, and exports what validates
and plans clean (a helper's proxy found every plan removing the shared tools, and export writing
them inline with an unknown key `shared`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.emulator.app import EmulatorApp, Reply
from tests.support.emulator import API_KEY, serve
from tests.support.paths import EXAMPLES


class SharedFlagApp(EmulatorApp):
    """The emulator, answering assistant and version reads with the shared tools merged into `tools`."""

    def _merged(self, obj: dict[str, Any]) -> dict[str, Any]:
        shared = []
        for tool_id in obj.get("tool_ids") or []:
            rec = self.state.tools[tool_id]
            shared.append({"type": rec["type"], **rec["payload"], "shared": True})
        return {**obj, "tools": [{**t, "shared": False} for t in obj.get("tools") or []] + shared}

    def dispatch(self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes) -> Reply:
        reply = super().dispatch(method, path, query, headers, body)
        parts = path.strip("/").split("/")  # v2 ai assistants [id [versions [vid]]]
        if method != "GET" or reply.status != 200 or parts[:3] != ["v2", "ai", "assistants"] or (
                len(parts) > 4 and parts[4] != "versions"):
            return reply
        data = json.loads(reply.body)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data["data"] = [self._merged(o) for o in data["data"]]
        elif isinstance(data, dict):
            data = self._merged(data)
        return Reply(reply.status, [(k, v) for k, v in reply.headers if k.lower() != "content-length"],
                     json.dumps(data).encode())


def test_shared_tools_merged_into_tools_are_read_as_attachments(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(SharedFlagApp()) as emulator:
        monkeypatch.setenv("TELNYX_API_KEY", API_KEY)
        monkeypatch.setenv("TELNYX_BASE_URL", emulator.base_url)
        assert main(["apply", "--auto-approve", str(EXAMPLES)]) == 0
        with emulator.api() as api:
            listed = api.get("/ai/assistants").json()
        # The example's assistants attach order-lookup: the answers do carry it merged, flagged.
        assert any(t.get("shared") is True for a in listed["data"] for t in a["tools"])
        capsys.readouterr()
        assert main(["plan", "--detailed-exitcode", str(EXAMPLES)]) == 0, capsys.readouterr().out
        out = tmp_path / "exported"
        assert main(["export", "--out", str(out)]) == 0
        text = "".join(p.read_text() for p in sorted(out.rglob("*.yaml")))
        assert "shared:" not in text.replace("shared_tools:", "")
        assert main(["validate", str(out)]) == 0
        capsys.readouterr()
        assert main(["plan", "--detailed-exitcode", str(out)]) == 0, capsys.readouterr().out
