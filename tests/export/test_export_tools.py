"""A shared tool whose live definition does not fit a Tool manifest is not exported broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator


def test_a_tool_that_would_not_validate_is_left_out_with_a_warning(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with emulator.api() as api:
        api.post("/ai/tools", json={"display_name": "partial", "type": "webhook",
                                    "webhook": {"url": "https://x.example"}}).raise_for_status()
        api.post("/ai/tools", json={"display_name": "two-payloads", "type": "webhook", "function": {"x": 1},
                                    "webhook": {"name": "w", "description": "d", "url": "https://x.example"}})
        api.post("/ai/tools", json={"display_name": "fine", "type": "webhook",
                                    "webhook": {"name": "w", "description": "d", "url": "https://x.example"}})
    out = tmp_path / "exported"
    assert main(["export", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "tool 'partial': not exported" in err and "tool 'two-payloads': not exported" in err
    assert sorted(p.name for p in (out / "tools").iterdir()) == ["fine.yaml"]
    assert main(["validate", str(out)]) == 0
