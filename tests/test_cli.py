from __future__ import annotations

import pytest

from reconciler.cli import build_parser, main


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert "reconciler" in capsys.readouterr().out


def test_every_contract_command_parses() -> None:
    parser = build_parser()
    for argv in (
        ["validate", "x"],
        ["plan", "x", "--format", "json", "--detailed-exitcode", "--prune", "--target", "assistant.a"],
        ["apply", "x", "--auto-approve"],
        ["export", "--out", "d", "--kind", "Assistant"],
        ["emulator", "--port", "1", "--latency-ms", "5", "--state-file", "s", "--api-key", "k"],
    ):
        assert parser.parse_args(argv).command == argv[0]
