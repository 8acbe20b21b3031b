"""User errors at the CLI edge: one clear line and exit 1, never a traceback, never exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.paths import EXAMPLES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["plan", "x", "--detailed-exitcode", "--format", "bogus"],
    ["plan", "x", "--bogus-flag"],
    ["plan", "x", "--parallelism", "abc"],
    ["apply", "x", "--format", "markdown"],
])
def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, err = run(capsys, *argv)
    assert code == 1 and "error:" in err


@pytest.mark.parametrize(("url", "message"), [
    ("http://127.0.0.1:99999/v2", "port 99999 is out of range"),
    ("ftp://127.0.0.1/v2", "expected an http:// or https:// URL"),
    ("http://[::1/v2", "base URL"),
    ("http://user:pw@127.0.0.1:9/v2", "credentials in the URL are not used"),
])
def test_bad_base_urls(emulator: Emulator, capsys: pytest.CaptureFixture[str], url: str, message: str) -> None:
    code, err = run(capsys, "plan", str(EXAMPLES), "--base-url", url)
    assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("key", ["key-123\n", " key-123", "key 123", "   "])
def test_a_key_with_whitespace_is_refused_before_any_request(
        emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", key)
    before = emulator.stats()
    code, err = run(capsys, "plan", str(EXAMPLES))
    assert code == 1 and err.strip().splitlines() == [
        "error: TELNYX_API_KEY contains whitespace or a control character (a pasted newline?): set it to the key alone"]
    assert emulator.stats() == before


@pytest.mark.parametrize("command", ["plan", "apply", "export"])
@pytest.mark.parametrize("key", ["SuperSecretKey-\u00fc42", "key-\U0001f511"])
def test_a_key_that_is_not_ascii_is_refused_before_any_request(
        emulator: Emulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        key: str, command: str) -> None:
    """httpx cannot send it as a header: one line naming the variable, never a character of the key."""
    monkeypatch.setenv("TELNYX_API_KEY", key)
    before = emulator.stats()
    argv = {"plan": ["plan", str(EXAMPLES)], "apply": ["apply", "--auto-approve", str(EXAMPLES)],
            "export": ["export", "--out", str(tmp_path / "out")]}[command]
    code, err = run(capsys, *argv)
    assert code == 1 and err.strip().splitlines() == [
        "error: TELNYX_API_KEY contains a character that is not ASCII (an HTTP header carries ASCII only): "
        "set it to the key alone"]
    assert emulator.stats() == before


def test_a_refused_key_is_one_line(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.app.api_key = "the-only-key"
    try:
        code, err = run(capsys, "plan", str(EXAMPLES))
    finally:
        emulator.app.api_key = None
    assert code == 1
    # The three listings all fail; one line says so (the others' failures are not dumped at exit).
    assert err.strip().splitlines() == [
        "error: list assistants: HTTP 401: Authentication failed - The API key is missing, malformed or not valid"]


def test_unwritable_outputs(emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run(capsys, "plan", str(EXAMPLES), "--out", str(tmp_path / "missing" / "dir" / "x.plan"))
    assert code == 1 and "cannot write the plan" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, err = run(capsys, "export", "--out", str(blocker / "sub"))
    assert code == 1 and "cannot write the export" in err


def test_env_values_are_schema_checked_and_stay_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: a}
        spec:
          instructions: hi
          telephony_settings:
            noise_suppression: ${env:QA_NS}
        """)
    monkeypatch.setenv("QA_NS", "krisp")
    assert run(capsys, "validate", str(tmp_path))[0] == 0
    # Values that JSON escaping or truncation would change must not slip past the masking either.
    for value in ("hunter2-value", 'pässwörd"hunter2', "hunter2-" + "x" * 80):
        monkeypatch.setenv("QA_NS", value)
        code, err = run(capsys, "validate", str(tmp_path))
        assert code == 1 and '"${env:QA_NS}" is not one of' in err
        assert "hunter2" not in err and "u00e4" not in err


def test_each_schema_problem_is_reported_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: c}
        spec:
          instructions: x
          tools: [{type: webhook, webhook: {name: w}}]
        """)
    code, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert err.count("missing required key 'description'") == 1 and err.count("missing required key 'url'") == 1


def test_instructions_null_beside_a_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("From the file.")
    write(tmp_path, "a.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: a}
        spec:
          instructions_file: p.md
          instructions: null
        """)
    code, err = run(capsys, "validate", str(tmp_path))
    assert code == 1 and "give instructions or instructions_file, not both" in err


def test_a_typo_whose_value_is_null_is_still_a_typo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: a, labels: null}
        spec:
          instructions: hi
          voice_setings: null
          greeting: null
          telephony_settings: {user_idle_timout_secs: null, time_limit_secs: null}
        """)
    code, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert "metadata: unknown key 'labels'" in err
    assert "spec: unknown key 'voice_setings'; did you mean 'voice_settings'?" in err
    assert "unknown key 'user_idle_timout_secs'" in err
    assert "greeting" not in err and "time_limit_secs'" not in err.replace("timout_secs'", "")
