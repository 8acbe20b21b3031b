"""What `reconciler validate` refuses is what the API (the emulator) refuses, and nothing it takes: a
manifest that validates must not fail at apply after earlier writes. Each case is a real manifest
file through the CLI (one FILE:LINE:COL line, exit 1) and, where cheap, the same value sent to the
emulator."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator


def _file(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _validate(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[str]]:
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    return code, out.err.strip().splitlines()


def _refused(capsys: pytest.CaptureFixture[str], path: Path, where: str, message: str) -> None:
    """`validate` exits 1 with exactly one problem: `message` at `where` (LINE:COL) of `path`."""
    code, lines = _validate(capsys, path)
    assert code == 1, lines
    assert lines == [f"{path}:{where}: {message}", "1 error(s) in manifests"]


CANARY = """
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: canary-bot
spec:
  instructions: Be helpful.
  versions:
    - name: a
      spec: {greeting: Hi}
    - name: b
      spec: {greeting: Hello}
  canary:
    rules:
      - match: [{attribute: caller_number, operator: in, values: ["+15550001"]}]
        serve: {version: a}
      - serve:
          rollout: [{version: a, weight: WEIGHT}, {version: b, weight: 10}]
"""


def test_a_rollout_weight_of_zero_validates_and_applies(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The user trial's manifest: validate passed, then apply failed at the canary after the versions.
    path = _file(tmp_path, "bot.yaml", CANARY.replace("WEIGHT", "0"))
    assert _validate(capsys, path)[0] == 0
    code = main(["apply", "--auto-approve", str(path)])
    assert code == 0, capsys.readouterr()
    with emulator.api() as api:
        (bot,) = api.get("/ai/assistants").json()["data"]
        rules = api.get(f"/ai/assistants/{bot['id']}/canary-deploys").json()["rules"]
    assert [s["weight"] for s in rules[1]["serve"]["rollout"]] == [0, 10]


def test_a_negative_rollout_weight_is_refused_by_validate_and_the_api(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "bot.yaml", CANARY.replace("WEIGHT", "-1"))
    _refused(capsys, path, "17:42", "spec.canary.rules[1].serve.rollout[0].weight: -1 is below the minimum of 0")
    with emulator.api() as api:
        bot = api.post("/ai/assistants", json={"name": "b", "instructions": "x"}).json()
        draft = api.post(f"/ai/assistants/{bot['id']}", json={"promote_to_main": False}).json()["version_id"]
        answer = api.post(f"/ai/assistants/{bot['id']}/canary-deploys",
                          json={"rules": [{"serve": {"rollout": [{"version_id": draft, "weight": -1}]}}]})
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [["body", "rules", 0, "serve", "rollout", 0, "weight"]]


TEST = """
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: target
spec:
  instructions: Be helpful.
---
apiVersion: reconciler/v1
kind: AssistantTest
metadata:
  name: NAME
spec:
  assistant: target
  INSTRUCTIONS
  rubric:
    - {name: Accuracy, criteria: It is right.}
"""


def _test_manifest(folder: Path, *, name: str = "long-test", instructions: str = "instructions: Ask.") -> Path:
    return _file(folder, "test.yaml", TEST.replace("NAME", name).replace("INSTRUCTIONS", instructions))


@pytest.mark.parametrize("size", [5000, 5001])
def test_a_test_instructions_file_is_held_to_the_inline_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int
) -> None:
    (tmp_path / "script.md").write_text("x" * size, encoding="utf-8")
    path = _test_manifest(tmp_path, instructions="instructions_file: script.md")
    if size <= 5000:
        assert _validate(capsys, path)[0] == 0
    else:
        _refused(capsys, path, "14:22", "spec.instructions_file: the text of 'script.md' is 5001 characters long; "
                                        "at most 5000 are allowed (as for instructions written inline)")


def test_an_empty_test_instructions_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "script.md").write_text("", encoding="utf-8")
    path = _test_manifest(tmp_path, instructions="instructions_file: script.md")
    _refused(capsys, path, "14:22", "spec.instructions_file: the text of 'script.md' must not be empty "
                                    "(as for instructions written inline)")


def test_the_file_counts_after_its_variables_are_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4,984 characters as written, 5,050 once ${env:} is replaced; the value is never shown.
    monkeypatch.setenv("RECONCILER_TEST_SCRIPT_TAIL", "y" * 100)
    (tmp_path / "script.md").write_text("x" * 4950 + "${env:RECONCILER_TEST_SCRIPT_TAIL}", encoding="utf-8")
    path = _test_manifest(tmp_path, instructions="instructions_file: script.md")
    _refused(capsys, path, "14:22", "spec.instructions_file: the text of 'script.md' is 5050 characters long; "
                                    "at most 5000 are allowed (as for instructions written inline)")


def test_the_api_refuses_test_instructions_over_5000_characters(emulator: Emulator) -> None:
    with emulator.api() as api:
        answer = api.post("/ai/assistants/tests", json={
            "name": "t", "destination": "+15550001", "instructions": "x" * 5001,
            "rubric": [{"name": "Accuracy", "criteria": "It is right."}]})
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [["body", "instructions"]]


def test_an_assistant_instructions_file_has_no_length_limit_but_the_file_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The API states no limit for an assistant's instructions (docs/api-assumptions.md): none is invented.
    (tmp_path / "prompt.md").write_text("x" * 50_000, encoding="utf-8")
    path = _file(tmp_path, "bot.yaml", """
        apiVersion: reconciler/v1
        kind: Assistant
        metadata: {name: bot}
        spec:
          instructions_file: prompt.md
          versions:
            - name: short
              spec: {instructions_file: prompt.md}
        """)
    assert _validate(capsys, path)[0] == 0


@pytest.mark.parametrize("size", [255, 256])
def test_a_test_name_is_held_to_the_api_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int) -> None:
    path = _test_manifest(tmp_path, name="n" * size)
    if size <= 255:
        assert _validate(capsys, path)[0] == 0
    else:
        _refused(capsys, path, "11:9", "metadata.name: is 256 characters long; at most 255 are allowed "
                                       "(the API's limit on assistant test names)")


def test_a_previous_test_name_is_held_to_the_api_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _test_manifest(tmp_path, name=f"renamed\n  previous_names: [{'n' * 256}]")
    _refused(capsys, path, "12:20", "metadata.previous_names[0]: is 256 characters long; at most 255 are allowed "
                                    "(the API's limit on assistant test names)")


def test_the_api_refuses_a_test_name_over_255_characters(emulator: Emulator) -> None:
    with emulator.api() as api:
        answer = api.post("/ai/assistants/tests", json={
            "name": "n" * 256, "destination": "+15550001", "instructions": "Ask.",
            "rubric": [{"name": "Accuracy", "criteria": "It is right."}]})
    assert answer.status_code == 422
    assert [d["loc"] for d in answer.json()["detail"]] == [["body", "name"]]


AUDIO = """
apiVersion: reconciler/v1
kind: Assistant
metadata:
  name: bg-bot
spec:
  instructions: Be helpful.
  voice_settings:
    voice: Telnyx.KokoroTTS.af_heart
    background_audio: {type: media_url, value: "VALUE"}
"""


def test_a_background_audio_url_that_is_no_url_is_refused_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "bot.yaml", AUDIO.replace("VALUE", "not a uri"))
    _refused(capsys, path, "9:48", 'spec.voice_settings.background_audio.value: "not a uri" is not a valid URL: '
                                   "write an absolute URL such as https://example.com/hold-music.mp3")


@pytest.mark.parametrize("value", ["not a uri", "https://example.com/hold.mp3", "http://", "https://a b.mp3",
                                   "/hold.mp3", "hold.mp3", "s3://bucket/hold.mp3", ""])
def test_validate_and_the_emulator_agree_on_a_url(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    path = _file(tmp_path, "bot.yaml", AUDIO.replace("VALUE", value))
    valid = _validate(capsys, path)[0] == 0
    with emulator.api() as api:
        answer = api.post("/ai/assistants", json={"name": "bg-bot", "instructions": "Be helpful.", "voice_settings": {
            "voice": "Telnyx.KokoroTTS.af_heart", "background_audio": {"type": "media_url", "value": value}}})
    assert answer.status_code == (200 if valid else 422), answer.text
    if not valid:
        assert [d["loc"] for d in answer.json()["detail"]] == [
            ["body", "voice_settings", "background_audio", "value"]]


def _urlsplit_check(value: str) -> bool:
    """The emulator's URL check as it was first written, which the fast path of is_uri must keep."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


@pytest.mark.parametrize("value", [
    "https://example.com/hold.mp3", "http://example.com", "https://example.com:8443/a?b=c#d", "https://user:pw@h/x",
    "http://", "https://", "http:///path", "https://[::1]/x", "https://[bad/x", "https://exa mple.com", "https://a\tb",
    "https://é.example/x", "https://\u2100.example", "https://example.com/é", "HTTPS://EXAMPLE.COM", "mailto:x@y",
    "s3://b/k", "not a uri", "", "//example.com/x", "https:example.com", "http://a b", "https://x/\u00a0y",
    " https://example.com", "https://example.com ", "https://example.com/\n",
])
def test_the_fast_url_check_is_the_full_one(value: str) -> None:
    from reconciler.schemas.formats import is_uri

    assert is_uri(value) == _urlsplit_check(value)
