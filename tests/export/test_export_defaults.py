"""A version that holds an API default where main holds another value exports as that value."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator


def test_version_holding_defaults_round_trips(emulator: Emulator, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with emulator.api() as api:
        aid = api.post("/ai/assistants", json={
            "name": "bot", "instructions": "hi", "dynamic_variables_webhook_timeout_ms": 3000,
            "telephony_settings": {"time_limit_secs": 600}}).json()["id"]
        api.post(f"/ai/assistants/{aid}", json={
            "promote_to_main": False, "version_name": "v1", "dynamic_variables_webhook_timeout_ms": 1500,
            "telephony_settings": {"time_limit_secs": 1800}}).raise_for_status()
    out = tmp_path / "exported"
    assert main(["export", "--out", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    capsys.readouterr()
    assert main(["plan", "--detailed-exitcode", str(out)]) == 0, capsys.readouterr().out
    text = (out / "assistants" / "bot.yaml").read_text()
    assert "dynamic_variables_webhook_timeout_ms: 1500" in text and "time_limit_secs: 1800" in text
